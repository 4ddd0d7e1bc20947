//! The actix-web servers: one `HttpServer` per origin, all in one actix system.
//!
//! Owns the order of the steps every request goes through, in one place:
//! access log (outermost, so refusals are logged too) → Host allowlist → for API origins the
//! hot CORS layer → routes; for static origins `/__sandbox/*` → files. Servers take listeners
//! that are already bound (so `up` can report every port problem before anything starts, and
//! tests can pass port-0 sockets) and stop when the shutdown flag flips.

pub mod api;
pub mod beneath;
pub mod body_deadline;
pub mod cors_layer;
pub mod embedded;
pub mod exact_layer;
pub mod file_cache;
pub mod frontend;
pub mod guard;
pub mod inject;
pub mod livereload;
pub mod sandbox_json;
pub mod verdict;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, Error, HttpMessage, HttpResponse, HttpServer};

use crate::config::HostAllowlist;
use crate::journal::RequestRecord;
use crate::state::SharedState;

/// What a listener serves.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Static(usize),
    Api(usize),
}

/// Per-origin facts every middleware of that origin needs.
#[derive(Clone)]
struct OriginCtx {
    name: String,
    /// The API origin's index, for per-request verdicts; `None` on static origins.
    api: Option<usize>,
    hosts: HostAllowlist,
    state: SharedState,
}

/// Slow clients get this long to send their request head (slowloris).
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Open event streams end on shutdown; this bounds anything else still running.
const SHUTDOWN_TIMEOUT_SECS: u64 = 1;

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let ctx = req.app_data::<web::Data<OriginCtx>>().cloned();
    let method = req.method().to_string();
    let path = req.path().to_string();
    let origin = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let preflight = req.method() == actix_web::http::Method::OPTIONS
        && req
            .headers()
            .contains_key(actix_web::http::header::ACCESS_CONTROL_REQUEST_METHOD);
    let res = next.call(req).await?;
    if let Some(ctx) = ctx {
        // Only cross-origin requests to an API get a verdict. The response still holds the
        // request, so the verdict reads both where they are and copies nothing unless the
        // exchange is new to this worker.
        let (verdicts, generation) = {
            let extensions = res.request().extensions();
            let snapshot = extensions
                .get::<cors_layer::PolicySnapshot>()
                .map(|s| s.0.as_ref());
            let verdicts = match ctx.api {
                Some(i) if origin.is_some() && !ctx.state.bench.no_verdict => verdict::verdicts(
                    res.request(),
                    &ctx.state.apis[i].url,
                    res.status().as_u16(),
                    res.headers(),
                    snapshot,
                ),
                _ => None,
            };
            (verdicts, snapshot.map(|s| s.generation))
        };
        if let (Some(v), Some(i)) = (&verdicts, ctx.api) {
            if preflight && v.verdict.outcome == crate::browser::Outcome::Allowed {
                let max_age = res
                    .headers()
                    .get(actix_web::http::header::ACCESS_CONTROL_MAX_AGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(5)
                    .min(7200);
                ctx.state.apis[i].note_preflight_cached(max_age);
            }
        }
        let (verdict, verdict_if_credentialed) = match verdicts {
            Some(v) => (Some(v.verdict), v.if_credentialed),
            None => (None, None),
        };
        let record = RequestRecord {
            origin_name: ctx.name.clone(),
            method,
            path,
            status: res.status().as_u16(),
            origin,
            preflight,
            duration_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
            verdict,
            verdict_if_credentialed,
        };
        ctx.state.log.request(&record);
        if ctx.api.is_some() && !ctx.state.bench.no_verdict {
            // The inspector's feed: API requests only (a static origin's own page loads and
            // event streams would drown them).
            // Only pages with an open event stream want a copy; an unwatched sandbox pays for
            // none.
            let listening = ctx.state.events.receiver_count() > 0;
            let (_, copy) = ctx.state.journal.record(record, listening, |e| {
                e.at = crate::state::unix_now_f64();
                let query = res.request().query_string();
                match (&mut e.query, query.is_empty()) {
                    (_, true) => e.query = None,
                    (Some(q), false) => {
                        q.clear();
                        q.push_str(query);
                    }
                    (None, false) => e.query = Some(query.to_string()),
                }
                let request = res.request().headers().iter();
                e.request_headers
                    .refill(request.map(|(n, v)| (n.as_str(), v.as_bytes())));
                let response = res.headers().iter();
                e.response_headers
                    .refill(response.map(|(n, v)| (n.as_str(), v.as_bytes())));
                e.policy_generation = generation;
            });
            if let Some(entry) = copy {
                ctx.state.publish(crate::state::Event::Request {
                    entry: Box::new(entry),
                });
            }
        }
    }
    Ok(res)
}

async fn host_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let allowed = req.app_data::<web::Data<OriginCtx>>().is_some_and(|ctx| {
        // Exactly one Host (RFC 9112 §3.2): with two, a proxy and this check could each
        // believe a different one.
        let mut hosts = req.headers().get_all("host");
        let host = hosts.next().and_then(|h| h.to_str().ok());
        hosts.next().is_none() && ctx.hosts.allows(host)
    });
    if !allowed {
        let res = HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("sandbox: this Host is not allowed (DNS rebinding protection); use localhost, *.localhost or a configured hostname");
        return Ok(req.into_response(res).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The API origin's application: what `up` serves and what `simulate` calls in-process.
pub fn api_app(
    state: SharedState,
    index: usize,
    hosts: HostAllowlist,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let ctx = OriginCtx {
        name: state.apis[index].name.clone(),
        api: Some(index),
        hosts,
        state: state.clone(),
    };
    let store = state.apis[index].policy.clone();
    let bare = state.bench.no_cors;
    App::new()
        .app_data(web::Data::new(ctx))
        .app_data(web::Data::new(api::ApiCtx { state, index }))
        .app_data(web::PayloadConfig::new(api::MAX_BODY_BYTES))
        .wrap(from_fn(body_deadline::read_api_body))
        .wrap(actix_web::middleware::Condition::new(
            !bare,
            cors_layer::HotCors::new(store),
        ))
        // Outside the CORS layer: `cors = "upstream"` lets the upstream answer CORS itself.
        .wrap(from_fn(api::upstream_cors))
        .wrap(from_fn(host_guard))
        .wrap(from_fn(access_log))
        .default_service(web::to(api::handle))
}

/// Builds and runs every server until `state.shutdown` flips; returns once all have stopped.
pub async fn run(
    listeners: Vec<(Role, TcpListener)>,
    state: SharedState,
    hosts: HostAllowlist,
) -> std::io::Result<()> {
    let mut handles = Vec::new();
    let mut servers = Vec::new();
    for (role, listener) in listeners {
        let name = match role {
            Role::Static(i) => state.statics[i].name.clone(),
            Role::Api(i) => state.apis[i].name.clone(),
        };
        let ctx = OriginCtx {
            name,
            api: None,
            hosts: hosts.clone(),
            state: state.clone(),
        };
        // Both kinds get the same server settings; a macro because the two `HttpServer`s have
        // different (unnameable) factory types.
        macro_rules! start {
            ($server:expr) => {
                $server
                    // Files are written as a head and then body chunks; with Nagle's algorithm
                    // on, the second write waits for the client's delayed ACK (~20-40 ms per
                    // keep-alive request).
                    .on_connect(|conn, ext| {
                        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                            let _ = tcp.set_nodelay(true);
                            // For `fault = "reset"` (api.rs): the socket, to set SO_LINGER.
                            use std::os::fd::AsRawFd;
                            ext.insert(api::ConnFd(tcp.as_raw_fd()));
                        }
                    })
                    .listen(listener)?
                    .workers(workers())
                    .disable_signals()
                    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
                    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
                    .run()
            };
        }
        let server = match role {
            Role::Static(index) => {
                let st = web::Data::new(frontend::StaticCtx::new(state.clone(), index));
                start!(HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(ctx.clone()))
                        .app_data(st.clone())
                        // Per worker, created here: a hit takes no lock.
                        .app_data(web::Data::new(file_cache::FileCache::default()))
                        .wrap(from_fn(host_guard))
                        .wrap(from_fn(access_log))
                        .configure(livereload::register)
                        .default_service(web::to(frontend::handle))
                }))
            }
            Role::Api(index) => {
                let (state, hosts) = (state.clone(), hosts.clone());
                start!(HttpServer::new(move || api_app(
                    state.clone(),
                    index,
                    hosts.clone()
                )))
            }
        };
        handles.push(server.handle());
        servers.push(server);
    }
    let mut shutdown = state.shutdown.clone();
    actix_web::rt::spawn(async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
        for h in handles {
            h.stop(true).await;
        }
    });
    for r in futures_util::future::join_all(servers).await {
        r?;
    }
    Ok(())
}
