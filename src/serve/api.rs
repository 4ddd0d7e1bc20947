//! The mock API's handler: finds the route for a request in the current routes snapshot and
//! answers it. Unmatched requests go to a `[[resource]]`, then to the `upstream`, and otherwise
//! get a 404 whose JSON names the closest routes.
//!
//! Also where latency and faults happen (delays, injected error statuses, a connection closed
//! or reset without a response, a body trickled out slowly) and where templates are rendered:
//! the routes module parsed them at load time, so rendering cannot fail here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{BodyStream, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpRequest, HttpResponse};
use bytes::Bytes;
use serde_json::json;

use crate::routes::template::{Helpers, RequestData};
use crate::routes::{resources, DynamicBody, Fault, Faults, Routes, Upstream};
use crate::state::SharedState;

/// Which API origin a worker serves.
pub struct ApiCtx {
    pub state: SharedState,
    pub index: usize,
}

/// The connection's socket, left in its extensions by the server's `on_connect`, so a
/// `fault = "reset"` can ask the kernel for an RST.
#[derive(Clone, Copy, Debug)]
pub struct ConnFd(pub std::os::fd::RawFd);

/// Request bodies above this get 413: a mock API has no reason to accept uploads of any size.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A status no real server sends (nginx's "closed without response"): what the log shows for a
/// `fault`, whose client sees no status at all.
const NO_RESPONSE: u16 = 444;

/// A fast, non-cryptographic random source (splitmix64 over a shared counter): good enough for
/// jitter, error rates and ids in a mock, and needs no dependency.
pub fn random_u64() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut s = STATE.load(Ordering::Relaxed);
    if s == 0 {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        let _ = STATE.compare_exchange(0, seed | 1, Ordering::Relaxed, Ordering::Relaxed);
    }
    s = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let mut z = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub async fn handle(req: HttpRequest, body: web::Bytes, ctx: web::Data<ApiCtx>) -> HttpResponse {
    let api = &ctx.state.apis[ctx.index];
    let routes = api.routes.load();
    let routes = &routes.value;
    let method = req.method().as_str();
    let path = req.path();

    if method == "POST" && !routes.resources.is_empty() {
        if let Some(rest) = path.strip_prefix(resources::RESET_PREFIX) {
            return reset(routes, &api.resources, rest);
        }
    }
    if let Some(m) = routes.find(method, path) {
        let route = m.route;
        if route.proxy {
            if let Some(up) = &routes.upstream {
                let res = faulty(&req, &route.faults).await;
                return match res {
                    Some(r) => r,
                    None => slow(forward(up, &req, &body).await, &route.faults),
                };
            }
        }
        if let Some(r) = faulty(&req, &route.faults).await {
            return r;
        }
        let seq = route.counter.next();
        let data = request_data(&req, &body, m.params);
        let mut random = random_u64;
        let Some(resp) = route.choose(&data, seq, &mut random) else {
            return HttpResponse::NotFound().json(json!({
                "error": format!("{method} {path} matches the route `{}`, but none of its responses' `when` holds", route.path.text),
                "routes_file": routes.file_name,
            }));
        };
        let mut h = Helpers {
            seq,
            now: now_rfc3339(),
            random: &mut random,
        };
        let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
        let mut res = HttpResponse::build(status);
        if !resp.body.bytes.is_empty() || status != StatusCode::NO_CONTENT {
            res.insert_header((CONTENT_TYPE, resp.body.content_type.as_str()));
        }
        for (name, value) in &resp.headers {
            let value = value.render(&data, &mut h);
            // A request value may carry CR/LF (a JSON body field); never let it split the
            // response. Names and literal parts were validated at load.
            let value: String = value
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(&value),
            ) {
                res.append_header((n, v));
            }
        }
        if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            return res.finish();
        }
        let bytes: Bytes = match &resp.dynamic {
            None => resp.body.bytes.clone(),
            Some(DynamicBody::Text(t)) => t.render(&data, &mut h).into_bytes().into(),
            Some(DynamicBody::Json(t)) => serde_json::to_vec(&t.render(&data, &mut h))
                .unwrap_or_default()
                .into(),
        };
        return slow(res.body(bytes), &route.faults);
    }
    if let Some((spec, id)) = routes.find_resource(path) {
        if let Some(r) = faulty(&req, &routes.defaults).await {
            return r;
        }
        let query = query_pairs(&req);
        let mut random = random_u64;
        let reply = api
            .resources
            .handle(spec, method, id.as_deref(), &query, &body, &mut random);
        let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
        let mut res = HttpResponse::build(status);
        for (n, v) in reply.headers {
            res.append_header((n, v));
        }
        let res = match reply.body {
            Some(v) if method != "HEAD" => res.json(v),
            _ => res.finish(),
        };
        return slow(res, &routes.defaults);
    }
    if let Some(up) = &routes.upstream {
        if let Some(r) = faulty(&req, &routes.defaults).await {
            return r;
        }
        return slow(forward(up, &req, &body).await, &routes.defaults);
    }
    let closest: Vec<_> = routes
        .closest(method, path)
        .into_iter()
        .map(|(m, p)| json!({"method": m, "path": p}))
        .collect();
    HttpResponse::NotFound().json(json!({
        "error": format!("no route matches {method} {path}"),
        "closest": closest,
        "routes_file": routes.file_name,
    }))
}

/// `POST /api/__reset` (every resource) or `POST /api/__reset/<name>`.
fn reset(routes: &Routes, store: &resources::Store, rest: &str) -> HttpResponse {
    let name = rest.strip_prefix('/').unwrap_or(rest);
    let specs: Vec<_> = routes
        .resources
        .iter()
        .filter(|r| name.is_empty() || r.name == name)
        .collect();
    if specs.is_empty() {
        return HttpResponse::NotFound().json(json!({"error": format!("no resource `{name}`")}));
    }
    for s in &specs {
        if let Err(e) = store.reset(s) {
            return HttpResponse::InternalServerError()
                .json(json!({"error": format!("reset in memory, but not saved: {e}")}));
        }
    }
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    HttpResponse::Ok().json(json!({ "reset": names }))
}

/// Waits the configured delay, then answers with a fault or an injected error when one is due;
/// `None` means "answer normally".
async fn faulty(req: &HttpRequest, f: &Faults) -> Option<HttpResponse> {
    let (lo, hi) = f.delay_ms;
    let ms = if hi > lo {
        lo + random_u64() % (hi - lo + 1)
    } else {
        lo
    };
    if ms > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(fault) = f.fault {
        return Some(drop_connection(req, fault));
    }
    // 53 random bits give a uniform float in [0, 1).
    if f.error_rate > 0.0 && ((random_u64() >> 11) as f64 / (1u64 << 53) as f64) < f.error_rate {
        let status =
            StatusCode::from_u16(f.error_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(HttpResponse::build(status).json(json!({
            "error": format!("injected by the sandbox (error_rate {})", f.error_rate)
        })));
    }
    None
}

/// A response whose body fails before its first byte: actix-http then drops the connection
/// without writing the head. For a reset, SO_LINGER 0 first makes that close an RST; for a
/// close, shutting the socket down first makes sure the client sees a FIN at once.
fn drop_connection(req: &HttpRequest, fault: Fault) -> HttpResponse {
    if let Some(ConnFd(fd)) = req.conn_data::<ConnFd>().copied() {
        // SAFETY: `fd` is this request's own open socket (the connection outlives its
        // requests); we only change its options or shut it down, never close it.
        unsafe {
            match fault {
                Fault::Reset => {
                    let linger = libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    };
                    libc::setsockopt(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        &linger as *const libc::linger as *const libc::c_void,
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    );
                }
                Fault::Close => {
                    libc::shutdown(fd, libc::SHUT_RDWR);
                }
            }
        }
    }
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("sandbox: injected fault"))
    });
    HttpResponse::build(StatusCode::from_u16(NO_RESPONSE).unwrap_or(StatusCode::BAD_GATEWAY))
        .body(BodyStream::new(failing))
}

/// Re-sends a response's body in up to 16 chunks spread over `slow_body_ms` (an empty body
/// is sent at once).
fn slow(res: HttpResponse, f: &Faults) -> HttpResponse {
    if f.slow_body_ms == 0 {
        return res;
    }
    let (head, body) = res.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(b) => b,
        Err(body) => return head.set_body(body),
    };
    const CHUNKS: usize = 16;
    let size = bytes.len().div_ceil(CHUNKS).max(1);
    let chunks: Vec<Bytes> = (0..bytes.len())
        .step_by(size)
        .map(|i| bytes.slice(i..(i + size).min(bytes.len())))
        .collect();
    // The first chunk goes at once; the pauses between the rest add up to `slow_body_ms`.
    let gaps = chunks.len().saturating_sub(1).max(1) as u64;
    let pause = Duration::from_millis(f.slow_body_ms / gaps);
    let stream = futures_util::stream::unfold(
        (chunks.into_iter(), true),
        move |(mut it, first)| async move {
            let chunk = it.next()?;
            if !first {
                actix_web::rt::time::sleep(pause).await;
            }
            Some((Ok::<Bytes, std::io::Error>(chunk), (it, false)))
        },
    );
    head.set_body(BodyStream::new(stream)).map_into_boxed_body()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// What templates and `when` rules may read from a request.
fn request_data(req: &HttpRequest, body: &[u8], params: Vec<(String, String)>) -> RequestData {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let cookies = req
        .headers()
        .get_all("cookie")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    RequestData {
        params,
        query: query_pairs(req),
        headers,
        cookies,
        body: serde_json::from_slice(body).ok(),
    }
}

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
    match actix_web::rt::time::timeout(UPSTREAM_TIMEOUT, exchange(up, req, body)).await {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => HttpResponse::BadGateway().json(json!({
            "error": format!("upstream {}: {e}", up.url),
        })),
        Err(_) => HttpResponse::GatewayTimeout().json(json!({
            "error": format!("upstream {} did not answer within {} s", up.url, UPSTREAM_TIMEOUT.as_secs()),
        })),
    }
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
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_UPSTREAM_BYTES {
            return Err(ProxyError::TooLarge);
        }
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
    let target = req.app_data::<web::Data<ApiCtx>>().and_then(|ctx| {
        let routes = ctx.state.apis[ctx.index].routes.load();
        let r = &routes.value;
        let up = r.upstream.as_ref().filter(|u| u.pass_cors)?;
        let (method, path) = (req.method().as_str(), req.path());
        let proxied = match r.find(method, path) {
            Some(m) => m.route.proxy.then(|| m.route.faults.clone()),
            None if r.find_resource(path).is_some() => None,
            None => Some(r.defaults.clone()),
        };
        proxied.map(|f| (up.clone(), f))
    });
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
