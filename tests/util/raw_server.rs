//! A tiny HTTP/1.1 server that writes raw response bytes.
//!
//! [`RawServer`] listens on `127.0.0.1:0`, reads one request per connection, asks a handler
//! for a [`RawResponse`] and writes exactly its status line and header lines (in the given
//! order, duplicates and odd casing kept), then closes the connection. Every request is
//! recorded for assertions.
//!
//! [`ScenarioHost`] builds on it for the CORS differential tests: three origins (the page,
//! the API and a second API), a page for each scenario, and API answers looked up by
//! scenario, exchange and redirect hop, with preflights told apart from actual requests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as received.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// The local address it arrived on (tells origins apart when one handler serves several).
    pub local: SocketAddr,
    pub method: String,
    /// The request target as sent (path and query).
    pub path: String,
    /// Header lines in arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A CORS preflight: `OPTIONS` with `Access-Control-Request-Method`.
    pub fn is_preflight(&self) -> bool {
        self.method == "OPTIONS" && self.header("access-control-request-method").is_some()
    }

    /// The path without the query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// A response written byte for byte.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    /// Reason phrase; `None` picks the usual one.
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Append `Content-Length` and `Connection: close` unless the headers already have them.
    pub framing: bool,
    /// Close the connection without answering at all (the client sees an empty response).
    pub hang_up: bool,
}

impl RawResponse {
    pub fn new(status: u16) -> RawResponse {
        RawResponse {
            status,
            reason: None,
            headers: Vec::new(),
            body: Vec::new(),
            framing: true,
            hang_up: false,
        }
    }

    /// No response: the connection is closed as soon as the request has been read.
    pub fn hang_up() -> RawResponse {
        RawResponse {
            hang_up: true,
            ..RawResponse::new(0)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> RawResponse {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> RawResponse {
        self.body = body.into();
        self
    }

    /// The exact bytes put on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let reason = self
            .reason
            .clone()
            .unwrap_or_else(|| reason_phrase(self.status).to_string());
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason).into_bytes();
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let mut lines = self.headers.clone();
        if self.framing {
            let bodyless = self.status == 204 || self.status == 304 || self.status < 200;
            if !has("content-length") && !has("transfer-encoding") && !bodyless {
                lines.push(("Content-Length".into(), self.body.len().to_string()));
            }
            if !has("connection") {
                lines.push(("Connection".into(), "close".into()));
            }
        }
        for (name, value) in &lines {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        let bodyless = self.status == 204 || self.status == 304 || self.status < 200;
        if !bodyless {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// The customary reason phrase for a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

pub type Handler = Arc<dyn Fn(&RawRequest) -> RawResponse + Send + Sync>;

/// A listening raw server. Dropping it stops accepting.
pub struct RawServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<RawRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    /// Binds `127.0.0.1:0` and serves with `handler` (must be called inside a tokio runtime).
    pub async fn start(handler: Handler) -> std::io::Result<RawServer> {
        let requests = Arc::new(Mutex::new(Vec::new()));
        Self::start_recording(handler, requests).await
    }

    /// Like [`RawServer::start`] but records into a log shared with other servers.
    pub async fn start_recording(
        handler: Handler,
        requests: Arc<Mutex<Vec<RawRequest>>>,
    ) -> std::io::Result<RawServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let log = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let handler = handler.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve_one(stream, addr, handler, log).await;
                });
            }
        });
        Ok(RawServer {
            addr,
            requests,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A snapshot of every request received so far.
    pub fn received(&self) -> Vec<RawRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const MAX_HEAD: usize = 64 * 1024;

async fn serve_one(
    mut stream: TcpStream,
    local: SocketAddr,
    handler: Handler,
    log: Arc<Mutex<Vec<RawRequest>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let read_timeout = Duration::from_secs(30);
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Ok(());
        }
        let n = tokio::time::timeout(read_timeout, stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = tokio::time::timeout(read_timeout, stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let request = RawRequest {
        local,
        method,
        path,
        headers,
        body,
    };
    let response = handler(&request);
    log.lock().unwrap().push(request);
    if response.hang_up {
        return Ok(());
    }
    stream.write_all(&response.to_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await?;
    // Let the peer close first so our close never turns into a reset that eats the response.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------
// Scenario host
// ---------------------------------------------------------------------------------------

/// Which origin a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Site {
    Frontend,
    Api,
    Other,
}

/// Which exchange of a scenario the browser is currently performing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `prior[i]`.
    Prior(usize),
    /// The scenario's own request (and its redirects).
    Main,
}

/// A request the scenario host saw, with where it was routed.
#[derive(Debug, Clone)]
pub struct Seen {
    pub site: Site,
    pub scenario: Option<usize>,
    pub phase: Option<Phase>,
    /// Which hop of the exchange answered (0 = the first URL, i = `redirects[i-1]`).
    pub hop: usize,
    pub preflight: bool,
    pub request: RawRequest,
}

struct Hop {
    preflight: Option<RawResponse>,
    actual: RawResponse,
}

struct Script {
    /// hops for `prior[i]`, then hops for the main exchange last.
    priors: Vec<Vec<Hop>>,
    main: Vec<Hop>,
    phase: Phase,
    hop: usize,
}

#[derive(Default)]
struct HostState {
    scripts: HashMap<usize, Script>,
    seen: Vec<Seen>,
}

/// Three loopback origins answering CORS scenarios. Each serves the harness page at
/// `/s/<n>/page` (`?sandboxed` for the opaque-origin variant); any other path looks like
/// `/s/<n>/...`: `<n>` picks the scenario, and within it the current [`Phase`] and the hop
/// counter pick the response.
pub struct ScenarioHost {
    pub frontend: RawServer,
    pub api: RawServer,
    pub other: RawServer,
    state: Arc<Mutex<HostState>>,
}

/// The body of every actual API response.
pub const API_BODY: &str = "{\"ok\":true}";

impl ScenarioHost {
    /// Starts the three servers. `page` is the HTML served for `/s/<n>/page`, and
    /// `sandboxed_page` for `/s/<n>/page?sandboxed`.
    pub async fn start(page: String, sandboxed_page: String) -> std::io::Result<ScenarioHost> {
        let state = Arc::new(Mutex::new(HostState::default()));
        let pages = Arc::new((page, sandboxed_page));
        let serve = |site: Site| {
            let scripted = api_handler(state.clone(), site);
            let st = state.clone();
            let pages = pages.clone();
            let handler: Handler = Arc::new(move |req: &RawRequest| {
                if !(req.method == "GET" && req.path_only().ends_with("/page")) {
                    return scripted(req);
                }
                st.lock().unwrap().seen.push(Seen {
                    site,
                    scenario: scenario_of(req.path_only()),
                    phase: None,
                    hop: 0,
                    preflight: false,
                    request: req.clone(),
                });
                let html = if req.path.contains("sandboxed") {
                    pages.1.as_str()
                } else {
                    pages.0.as_str()
                };
                RawResponse::new(200)
                    .header("Content-Type", "text/html; charset=utf-8")
                    .header("Cache-Control", "no-store")
                    .body(html.as_bytes().to_vec())
            });
            handler
        };
        let frontend = RawServer::start(serve(Site::Frontend)).await?;
        let api = RawServer::start(serve(Site::Api)).await?;
        let other = RawServer::start(serve(Site::Other)).await?;
        Ok(ScenarioHost {
            frontend,
            api,
            other,
            state,
        })
    }

    /// Registers scenario `n` (its URLs already rewritten to the real ports).
    pub fn register(&self, n: usize, scenario: &Value) {
        let priors = scenario["prior"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| vec![hop_of(&p["preflight_response"], &p["actual_response"])])
                    .collect()
            })
            .unwrap_or_default();
        let mut main = vec![hop_of(
            &scenario["preflight_response"],
            &scenario["actual_response"],
        )];
        if let Some(redirects) = scenario["redirects"].as_array() {
            for r in redirects {
                main.push(hop_of(&r["preflight_response"], &r["response"]));
            }
        }
        self.state.lock().unwrap().scripts.insert(
            n,
            Script {
                priors,
                main,
                phase: Phase::Main,
                hop: 0,
            },
        );
    }

    /// Switches scenario `n` to `phase`, restarting at its first hop.
    pub fn set_phase(&self, n: usize, phase: Phase) {
        if let Some(s) = self.state.lock().unwrap().scripts.get_mut(&n) {
            s.phase = phase;
            s.hop = 0;
        }
    }

    /// Every request routed to scenario `n` so far.
    pub fn seen(&self, n: usize) -> Vec<Seen> {
        self.state
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.scenario == Some(n))
            .cloned()
            .collect()
    }

    /// Every request any of the three origins received.
    pub fn all_seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

fn scenario_of(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("/s/")?;
    rest.split('/').next()?.parse().ok()
}

fn hop_of(preflight: &Value, actual: &Value) -> Hop {
    Hop {
        preflight: (!preflight.is_null()).then(|| response_of(preflight, false)),
        actual: response_of(actual, true),
    }
}

/// A scenario response (`{"status": .., "headers": {name: value | [values]}}`) as raw bytes.
/// Header lines keep the map's order; an array value becomes one line per element. Nothing
/// is added: the body (if any) is delimited by closing the connection, so the browser sees
/// exactly the scenario's header lines.
pub fn response_of(spec: &Value, with_body: bool) -> RawResponse {
    let status = spec["status"].as_u64().unwrap_or(200) as u16;
    let mut response = RawResponse::new(status);
    response.framing = false;
    if let Some(headers) = spec["headers"].as_object() {
        for (name, value) in headers {
            match value {
                Value::Array(values) => {
                    for v in values {
                        response = response.header(name, v.as_str().unwrap_or_default());
                    }
                }
                Value::String(v) => response = response.header(name, v),
                other => response = response.header(name, &other.to_string()),
            }
        }
    }
    if with_body && !(300..400).contains(&status) {
        response = response.body(API_BODY.as_bytes().to_vec());
    }
    response
}

fn api_handler(state: Arc<Mutex<HostState>>, site: Site) -> Handler {
    Arc::new(move |req: &RawRequest| {
        let scenario = scenario_of(req.path_only());
        let preflight = req.is_preflight();
        let mut st = state.lock().unwrap();
        let mut phase = None;
        let mut hop_index = 0;
        let response = match scenario.and_then(|n| st.scripts.get_mut(&n)) {
            None => RawResponse::new(404).header("Content-Type", "text/plain"),
            Some(script) => {
                phase = Some(script.phase);
                hop_index = script.hop;
                let hops = match script.phase {
                    Phase::Prior(i) => &script.priors[i],
                    Phase::Main => &script.main,
                };
                match hops.get(script.hop) {
                    // Ran off the end of the script: the browser did something unplanned.
                    None => RawResponse::new(500)
                        .header("Content-Type", "text/plain")
                        .body("no scripted hop left"),
                    Some(hop) if preflight => match &hop.preflight {
                        Some(p) => p.clone(),
                        // A preflight the scenario says gets no response (`null`).
                        None => RawResponse::hang_up(),
                    },
                    Some(hop) => {
                        let r = hop.actual.clone();
                        let redirects = (300..400).contains(&r.status)
                            && r.headers
                                .iter()
                                .any(|(n, _)| n.eq_ignore_ascii_case("location"));
                        if redirects {
                            script.hop += 1;
                        }
                        r
                    }
                }
            }
        };
        st.seen.push(Seen {
            site,
            scenario,
            phase,
            hop: hop_index,
            preflight,
            request: req.clone(),
        });
        response
    })
}
