//! The `upstream` proxy: requests no route answers go to a real server on loopback, and
//! `cors = "upstream"` lets that server's own CORS answers through unchanged. Every forwarded
//! request names this run in a `Via` entry; one that comes back carrying it is answered 508
//! instead of going around again.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest, HttpResponse};
use serde_json::json;

use super::faults::{faulty, slow};
use super::{ApiCtx, RoutesSnapshot};
use crate::routes::Upstream;

/// Request headers never forwarded: the connection's own, and the Host (the upstream's is set).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "expect",
];

/// The most an upstream answer may be: a dev API, not a file server.
const MAX_UPSTREAM_BYTES: usize = 16 * 1024 * 1024;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// Forwards a request to the upstream (HTTP/1.1, one connection per request, read to EOF) and
/// turns its answer into ours. Unless `cors = "upstream"`, the upstream's own
/// `Access-Control-*` headers are dropped so the sandbox's policy alone decides.
pub async fn forward(up: &Upstream, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    let failed = |mut res: HttpResponse| {
        // The proxy's own answer, not the upstream's: `--record` must not keep it.
        res.extensions_mut().insert(super::record::ProxyFailed);
        res
    };
    if came_back(req) {
        return failed(HttpResponse::build(StatusCode::LOOP_DETECTED).json(json!({
            "error": format!(
                "proxy loop detected: this request was already forwarded by this sandbox (`Via: {}`), so upstream {} leads back here",
                hop(),
                up.url
            ),
        })));
    }
    match actix_web::rt::time::timeout(UPSTREAM_TIMEOUT, exchange(up, req, body)).await {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => failed(HttpResponse::BadGateway().json(json!({
            "error": format!("upstream {}: {e}", up.url),
        }))),
        Err(_) => failed(HttpResponse::GatewayTimeout().json(json!({
            "error": format!("upstream {} did not answer within {} s", up.url, UPSTREAM_TIMEOUT.as_secs()),
        }))),
    }
}

/// This run's name in the `Via` header of every request it forwards (`1.1 sandbox-<id>`): a
/// request that arrives carrying it has gone around a loop of upstreams. Random per run, so
/// a sandbox may still forward to another one.
fn hop() -> &'static str {
    static HOP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOP.get_or_init(|| format!("1.1 sandbox-{:016x}", super::random_u64()))
}

/// Whether one of the request's `Via` entries is this run's.
fn came_back(req: &HttpRequest) -> bool {
    let ours = hop();
    req.headers()
        .get_all("via")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|entry| entry.trim() == ours)
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the answer is larger than {MAX_UPSTREAM_BYTES} bytes")]
    TooLarge,
    #[error("the answer is not HTTP/1.x: {0}")]
    Malformed(&'static str),
}

async fn exchange(
    up: &Upstream,
    req: &HttpRequest,
    body: &[u8],
) -> Result<HttpResponse, ProxyError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = format!("{}:{}", up.host, up.port);
    let mut stream = tokio::net::TcpStream::connect(&addr).await?;
    let target = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        req.method(),
        up.url.trim_start_matches("http://"),
        body.len()
    );
    for (n, v) in req.headers() {
        if HOP_BY_HOP.contains(&n.as_str()) {
            continue;
        }
        if let Ok(v) = v.to_str() {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    head.push_str(&format!("Via: {}\r\n\r\n", hop()));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    // Read straight into the answer's buffer, one byte past the cap so an oversized answer is
    // told from one exactly at it. No read buffer lives in this future: `handle` and
    // `upstream_cors` await it inline, and a 16 KiB array here made every API request's future
    // that much larger, copied by each middleware's box (40 % of a JSON request's instructions).
    let mut buf = Vec::new();
    (&mut stream)
        .take(MAX_UPSTREAM_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .await?;
    if buf.len() > MAX_UPSTREAM_BYTES {
        return Err(ProxyError::TooLarge);
    }
    parse_answer(
        &buf,
        req.method() == actix_web::http::Method::HEAD,
        up.pass_cors,
    )
}

fn parse_answer(buf: &[u8], head_only: bool, pass_cors: bool) -> Result<HttpResponse, ProxyError> {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(ProxyError::Malformed("no end of head"))?;
    let head =
        std::str::from_utf8(&buf[..end]).map_err(|_| ProxyError::Malformed("head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next().unwrap_or("").starts_with("HTTP/1.") {
        return Err(ProxyError::Malformed("no HTTP/1.x status line"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(ProxyError::Malformed("bad status"))?;
    let mut res = HttpResponse::build(status);
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((n, v)) = line.split_once(':') else {
            continue;
        };
        let (n, v) = (n.trim().to_ascii_lowercase(), v.trim());
        match n.as_str() {
            "transfer-encoding" => chunked = v.to_ascii_lowercase().contains("chunked"),
            "content-length" => length = v.parse::<usize>().ok(),
            _ => {}
        }
        if crate::vocab::FRAMING_HEADERS.contains(&n.as_str()) {
            continue;
        }
        if !pass_cors && n.starts_with("access-control-") {
            continue;
        }
        if let (Ok(hn), Ok(hv)) = (HeaderName::try_from(n.as_str()), HeaderValue::from_str(v)) {
            res.append_header((hn, hv));
        }
    }
    let rest = &buf[end + 4..];
    if head_only || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Ok(res.finish());
    }
    let body = if chunked {
        dechunk(rest).ok_or(ProxyError::Malformed("bad chunked body"))?
    } else if let Some(len) = length {
        rest.get(..len)
            .ok_or(ProxyError::Malformed(
                "body shorter than its Content-Length",
            ))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(res.body(body))
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// `cors = "upstream"`: requests bound for the upstream skip the sandbox's CORS layer (this
/// middleware sits outside it), so the upstream's own preflight answers and CORS headers reach
/// the browser as they are; that is how a CORS bug in a real backend is reproduced.
pub async fn upstream_cors(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, Error> {
    let routes = req
        .app_data::<web::Data<ApiCtx>>()
        .map(|ctx| ctx.state.apis[ctx.index].routes.load());
    let target = routes.as_ref().and_then(|routes| {
        let r = &routes.value;
        let up = r.upstream.as_ref().filter(|u| u.pass_cors)?;
        let faults = r.proxied(req.method().as_str(), req.path())?;
        Some((up.clone(), faults.clone()))
    });
    if let Some(routes) = routes {
        req.extensions_mut()
            .insert(RoutesSnapshot(Arc::clone(&routes)));
    }
    let Some((up, faults)) = target else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let body = req.extract::<web::Bytes>().await?;
    let (http_req, _) = req.into_parts();
    let res = match faulty(&http_req, &faults).await {
        Some(r) => r,
        None => slow(forward(&up, &http_req, &body).await, &faults),
    };
    Ok(ServiceResponse::new(http_req, res).map_into_right_body())
}
