//! The wire for `probe`: reqwest (hyper over rustls, HTTP/2 when the server offers it by
//! ALPN) with redirects off, so every hop is the model's to decide. What the judgement needs
//! survives the client: each response header line (duplicates, order within a name), the
//! status, the value bytes. A request that gets no judgeable answer is a [`NetError`] named
//! the way Chromium's console names it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::browser::{HeaderList, Response};

/// Bodies are kept up to this size: enough to quote an error text, never a download.
const MAX_BODY: usize = 64 * 1024;

/// How the client is set up; bad input here is the user's to fix (exit 2).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Bounds each whole answer, from connecting to the last body byte.
    pub timeout: Duration,
    /// A PEM file of extra trusted roots (mkcert's, a company CA).
    pub cacert: Option<PathBuf>,
    /// Skip certificate verification (said in the output).
    pub insecure: bool,
}

/// The client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read --cacert {path}: {reason}")]
    CaCert { path: String, reason: String },
    #[error("cannot set up the HTTP client: {0}")]
    Build(String),
}

/// One answer as received.
#[derive(Debug, Clone)]
pub struct Answer {
    pub response: Response,
    /// "HTTP/1.1" or "HTTP/2".
    pub version: &'static str,
    /// The first 64 KiB of the body.
    pub body: Vec<u8>,
}

/// Why a request got no answer the browser would judge: the `net::` error Chromium's
/// console prints, and what happened in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{sentence}")]
pub struct NetError {
    pub net_error: &'static str,
    pub sentence: String,
}

impl NetError {
    fn new(net_error: &'static str, sentence: impl Into<String>) -> Self {
        NetError {
            net_error,
            sentence: sentence.into(),
        }
    }
}

/// Chromium answers `localhost` and every `*.localhost` name with loopback itself, on both
/// address families (a Node 17+ dev server often listens on `::1` only); other names go to
/// the system resolver.
struct BrowserResolver;

impl Resolve for BrowserResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let host = host.trim_end_matches('.');
            if host == "localhost" || host.ends_with(".localhost") {
                let addrs: Addrs = Box::new(
                    [
                        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
                        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                    ]
                    .into_iter(),
                );
                return Ok(addrs);
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// A configured client; one per probe.
pub struct Client {
    inner: reqwest::blocking::Client,
}

impl Client {
    pub fn new(opts: &ClientOptions) -> Result<Client, ClientError> {
        let mut b = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout)
            .dns_resolver(Arc::new(BrowserResolver))
            .http1_allow_obsolete_multiline_headers_in_responses(true)
            .user_agent(concat!("sandbox-probe/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .pool_max_idle_per_host(0);
        if let Some(path) = &opts.cacert {
            for cert in read_cacert(path)? {
                b = b.add_root_certificate(cert);
            }
        }
        if opts.insecure {
            b = b.danger_accept_invalid_certs(true);
        }
        let inner = b.build().map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(Client { inner })
    }

    /// Sends one request exactly as given (no redirects followed) and reads the answer.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &HeaderList,
        body: Option<&[u8]>,
    ) -> Result<Answer, NetError> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| NetError::new("net::ERR_INVALID_ARGUMENT", "invalid method"))?;
        let mut req = self.inner.request(method, url);
        for (n, v) in headers.lines() {
            req = req.header(n, v);
        }
        if let Some(body) = body {
            req = req.body(body.to_vec());
        }
        let res = req.send().map_err(|e| classify(&e))?;
        let status = res.status().as_u16();
        let version = match res.version() {
            reqwest::Version::HTTP_2 => "HTTP/2",
            reqwest::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        };
        let mut list = HeaderList::new();
        for (name, value) in res.headers() {
            list.push(name.as_str(), header_text(value.as_bytes()));
        }
        let body = read_body(res)?;
        Ok(Answer {
            response: Response {
                status,
                headers: list,
            },
            version,
            body,
        })
    }
}

fn read_cacert(path: &Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let err = |reason: String| ClientError::CaCert {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err(
            "no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    Ok(certs)
}

fn read_body(mut res: reqwest::blocking::Response) -> Result<Vec<u8>, NetError> {
    use std::io::Read as _;
    let mut body = Vec::new();
    let mut limited = (&mut res).take(MAX_BODY as u64);
    match limited.read_to_end(&mut body) {
        Ok(_) => Ok(body),
        Err(e) => {
            let found = classify(&e);
            Err(if found.net_error == "net::ERR_FAILED" {
                NetError::new(
                    "net::ERR_CONNECTION_CLOSED",
                    format!("the response body did not arrive whole: {e}"),
                )
            } else {
                found
            })
        }
    }
}

/// A header value as text: UTF-8 when it is, otherwise byte by byte (Latin-1), so no byte
/// is lost or merged; an obs-folded value's line breaks become the single space Chromium
/// joins continuation lines with.
fn header_text(bytes: &[u8]) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    if !text.contains(['\r', '\n']) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' || c == '\n' {
            while matches!(chars.peek(), Some('\r' | '\n' | ' ' | '\t')) {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Chromium's name for what went wrong, read off the error chain.
fn classify(e: &(dyn std::error::Error + 'static)) -> NetError {
    let causes = causes(e);
    let timed_out = causes.iter().any(|c| {
        c.downcast_ref::<reqwest::Error>()
            .is_some_and(|r| r.is_timeout())
    });
    if timed_out {
        return NetError::new("net::ERR_TIMED_OUT", "no complete answer within --timeout");
    }
    if let Some(tls) = causes
        .iter()
        .find_map(|c| c.downcast_ref::<rustls::Error>())
    {
        return classify_tls(tls);
    }
    for c in &causes {
        if let Some(found) = c.downcast_ref::<std::io::Error>().and_then(classify_io) {
            return found;
        }
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_status() {
                return NetError::new(
                    "net::ERR_INVALID_HTTP_RESPONSE",
                    format!("the answer is not valid HTTP ({h})"),
                );
            }
            if h.is_incomplete_message() {
                return NetError::new(
                    "net::ERR_EMPTY_RESPONSE",
                    "the server closed the connection without a complete response",
                );
            }
        }
    }
    let connect = causes.iter().any(|c| {
        c.downcast_ref::<reqwest::Error>()
            .is_some_and(|r| r.is_connect())
    });
    if connect {
        return NetError::new(
            "net::ERR_CONNECTION_FAILED",
            format!("cannot connect: {}", chain(e)),
        );
    }
    NetError::new("net::ERR_FAILED", chain(e))
}

/// Every error in the chain. `io::Error::source` skips the error it wraps (it returns that
/// error's own source), so wrapped errors are reached through `get_ref` as well.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut todo = vec![e];
    while let Some(c) = todo.pop() {
        if out.len() > 32 {
            break;
        }
        out.push(c);
        if let Some(inner) = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            todo.push(inner as &(dyn std::error::Error + 'static));
        }
        if let Some(next) = c.source() {
            todo.push(next);
        }
    }
    out
}

fn classify_io(io: &std::io::Error) -> Option<NetError> {
    use std::io::ErrorKind;
    let (name, what) = match io.kind() {
        ErrorKind::ConnectionRefused => ("net::ERR_CONNECTION_REFUSED", "connection refused"),
        ErrorKind::ConnectionReset => ("net::ERR_CONNECTION_RESET", "connection reset"),
        ErrorKind::ConnectionAborted => ("net::ERR_CONNECTION_ABORTED", "connection aborted"),
        ErrorKind::TimedOut => ("net::ERR_TIMED_OUT", "timed out"),
        ErrorKind::UnexpectedEof => (
            "net::ERR_EMPTY_RESPONSE",
            "the server closed the connection without a complete response",
        ),
        _ if io.to_string().contains("failed to lookup") => (
            "net::ERR_NAME_NOT_RESOLVED",
            "the host name did not resolve",
        ),
        _ => return None,
    };
    Some(NetError::new(name, what))
}

/// Certificate failures as Chromium names them on its interstitial and console.
fn classify_tls(e: &rustls::Error) -> NetError {
    use rustls::CertificateError as C;
    let name = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer | C::BadSignature => "net::ERR_CERT_AUTHORITY_INVALID",
            C::Expired | C::NotValidYet => "net::ERR_CERT_DATE_INVALID",
            C::NotValidForName => "net::ERR_CERT_COMMON_NAME_INVALID",
            C::Revoked => "net::ERR_CERT_REVOKED",
            _ if format!("{c:?}").contains("NotValidForName") => {
                "net::ERR_CERT_COMMON_NAME_INVALID"
            }
            _ if format!("{c:?}").contains("Expired") => "net::ERR_CERT_DATE_INVALID",
            _ => "net::ERR_CERT_INVALID",
        },
        _ => "net::ERR_SSL_PROTOCOL_ERROR",
    };
    NetError::new(
        name,
        format!("TLS failed: {e} (the request never reaches CORS)"),
    )
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_and_non_utf8_values_keep_their_bytes() {
        assert_eq!(header_text(b"a,\r\n  b"), "a, b");
        assert_eq!(header_text(b"a\n\tb"), "a b");
        assert_eq!(header_text(&[b'x', 0xe9]), "x\u{e9}");
        assert_eq!(header_text("é".as_bytes()), "é");
    }

    #[test]
    fn a_missing_cacert_is_input_error() {
        let opts = ClientOptions {
            timeout: Duration::from_secs(1),
            cacert: Some(PathBuf::from("/nonexistent/ca.pem")),
            insecure: false,
        };
        let e = Client::new(&opts).err().unwrap();
        assert!(e.to_string().contains("--cacert"), "{e}");
    }
}
