//! A minimal HTTP/1.1 client for `probe`: writes one request, reads the response head exactly
//! as sent (header lines in order, duplicates kept, odd values untouched), which an ordinary
//! client library would normalise away. Plain `http://` only.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::browser::{HeaderList, Response};

/// Response heads larger than this are refused; real ones are a few KiB.
const MAX_HEAD: usize = 64 * 1024;

/// Why no response could be read; each says what happened in a sentence.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("`{url}` is not a URL: {reason}")]
    NotAUrl {
        url: String,
        reason: url::ParseError,
    },
    #[error("only http:// URLs can be probed (got {0}://); probe the server's plain-HTTP port")]
    UnsupportedScheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("the host name did not resolve")]
    Unresolved,
    #[error("header {0} contains a line break")]
    LineBreakInHeader(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the response head is larger than 64 KiB")]
    HeadTooLarge,
    #[error("the server closed the connection without a complete response")]
    Incomplete,
    #[error("not an HTTP response: `{0}`")]
    NotHttp(String),
}

pub fn send(
    method: &str,
    url: &str,
    headers: &HeaderList,
    timeout: Duration,
) -> Result<Response, ClientError> {
    let u = url::Url::parse(url).map_err(|reason| ClientError::NotAUrl {
        url: url.to_string(),
        reason,
    })?;
    if u.scheme() != "http" {
        return Err(ClientError::UnsupportedScheme(u.scheme().to_string()));
    }
    let host = u.host_str().ok_or(ClientError::NoHost)?.to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    // Chromium resolves every *.localhost name to loopback; do the same so probes of the
    // tutorial's host names reach the same server the browser would.
    let connect_host = if host == "localhost" || host.ends_with(".localhost") {
        "127.0.0.1".to_string()
    } else {
        host.clone()
    };
    let addr = (connect_host.as_str(), port)
        .to_socket_addrs()?
        .next()
        .ok_or(ClientError::Unresolved)?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target.push('?');
        target.push_str(q);
    }
    let host_header = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\nUser-Agent: sandbox-probe\r\n");
    for (n, v) in headers.lines() {
        if v.contains(['\r', '\n']) {
            return Err(ClientError::LineBreakInHeader(n.to_string()));
        }
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if matches!(method, "POST" | "PUT" | "PATCH" | "patch") {
        req.push_str("Content-Length: 0\r\n");
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    read_head(&mut stream)
}

fn read_head(stream: &mut impl Read) -> Result<Response, ClientError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(ClientError::HeadTooLarge);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ClientError::Incomplete);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    parse_head(&String::from_utf8_lossy(&buf[..end]))
}

/// Status line and header lines of a response head.
pub fn parse_head(head: &str) -> Result<Response, ClientError> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| ClientError::NotHttp(status_line.to_string()))?;
    let mut headers = HeaderList::new();
    for line in lines {
        if let Some((n, v)) = line.split_once(':') {
            headers.push(n.trim(), v.trim());
        }
    }
    Ok(Response { status, headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_keeps_duplicates_in_order() {
        let r = parse_head("HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nVary: Origin\r\naccess-control-allow-origin: http://a").unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(
            r.headers.get_all("access-control-allow-origin"),
            vec!["*", "http://a"]
        );
        assert!(parse_head("garbage").is_err());
    }

    #[test]
    fn only_http_is_probed() {
        let e = send(
            "GET",
            "https://example.test/",
            &HeaderList::new(),
            Duration::from_millis(10),
        )
        .unwrap_err();
        assert!(e.to_string().contains("only http://"), "{e}");
    }
}
