//! The actix-web servers: one `HttpServer` per origin, all in one actix system.
//!
//! Owns the order of the steps every request goes through, in one place: the unread-body
//! step (outermost, so every answer closes a connection whose body is unfinished) → access
//! log (so refusals are logged too) → Host allowlist → for API origins the hot CORS layer →
//! routes; for static origins `/__sandbox/*` → files. Servers take listeners
//! that are already bound (so `up` can report every port problem before anything starts, and
//! tests can pass port-0 sockets) and stop when the shutdown flag flips.

mod access_log;
pub mod api;
pub mod beneath;
pub mod body_deadline;
pub mod cors_layer;
pub mod embedded;
pub mod exact_layer;
pub mod express_layer;
pub mod file_cache;
pub mod frontend;
pub mod guard;
pub mod inject;
pub mod key_gate;
pub mod livereload;
pub mod sandbox_json;
pub mod unread_body;
pub mod verdict;

use std::net::TcpListener;

/// An HTTPS connection as actix-web hands it to `on_connect`.
type TlsStream = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, Error, HttpResponse, HttpServer};

use crate::config::HostAllowlist;
use crate::state::SharedState;

/// What a listener serves.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Static(usize),
    Api(usize),
}

/// Per-origin facts every middleware of that origin needs.
#[derive(Clone)]
pub(crate) struct OriginCtx {
    name: String,
    /// The API origin's index, for per-request verdicts; `None` on static origins.
    api: Option<usize>,
    hosts: HostAllowlist,
    state: SharedState,
}

/// Slow clients get this long to send their request head (slowloris).
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// A connection closed for an unfinished request body reads (and drops) what still arrives for
/// this long before the close, so the client can read the answer instead of getting a reset.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Open event streams end on shutdown; this bounds anything else still running.
const SHUTDOWN_TIMEOUT_SECS: u64 = 1;

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

async fn host_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    authority_as_host(&mut req);
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

/// HTTP/2 carries the host in `:authority`, not in a Host header: copy it into one so every
/// later check (this guard, the same-origin rules, the key gate) reads the host one way.
fn authority_as_host(req: &mut ServiceRequest) {
    if req.version() != actix_web::http::Version::HTTP_2 || req.headers().contains_key("host") {
        return;
    }
    let authority = req.uri().authority().map(|a| a.as_str().to_owned());
    if let Some(value) =
        authority.and_then(|a| actix_web::http::header::HeaderValue::from_str(&a).ok())
    {
        req.headers_mut()
            .insert(actix_web::http::header::HOST, value);
    }
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
        .wrap(from_fn(access_log::access_log))
        .wrap(from_fn(unread_body::close_when_unread))
        .default_service(web::to(api::handle))
}

/// A static origin's application, built once per worker.
fn static_app(
    ctx: OriginCtx,
    st: web::Data<frontend::StaticCtx>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(ctx))
        .app_data(st)
        // Per worker, created here: a hit takes no lock.
        .app_data(web::Data::new(file_cache::FileCache::default()))
        .wrap(from_fn(key_gate::door))
        .wrap(from_fn(host_guard))
        .wrap(from_fn(access_log::access_log))
        .wrap(from_fn(unread_body::close_when_unread))
        .configure(livereload::register)
        .default_service(web::to(frontend::handle))
}

/// Builds and runs every server until `state.shutdown` flips; returns once all have stopped.
pub async fn run(
    listeners: Vec<(Role, TcpListener, Option<rustls::ServerConfig>)>,
    state: SharedState,
    hosts: HostAllowlist,
) -> std::io::Result<()> {
    let mut handles = Vec::new();
    let mut servers = Vec::new();
    for (role, listener, tls) in listeners {
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
            ($server:expr) => {{
                let server = $server
                    // Files are written as a head and then body chunks; with Nagle's algorithm
                    // on, the second write waits for the client's delayed ACK (~20-40 ms per
                    // keep-alive request).
                    .on_connect(|conn, ext| {
                        let tcp = conn
                            .downcast_ref::<actix_web::rt::net::TcpStream>()
                            .or_else(|| conn.downcast_ref::<TlsStream>().map(|t| t.get_ref().0));
                        if let Some(tcp) = tcp {
                            let _ = tcp.set_nodelay(true);
                            // For `fault = "reset"` (api.rs): the socket, to set SO_LINGER.
                            use std::os::fd::AsRawFd;
                            ext.insert(api::ConnFd(tcp.as_raw_fd()));
                        }
                    });
                let server = match tls.clone() {
                    Some(cfg) => server.listen_rustls_0_23(listener, cfg)?,
                    None => server.listen(listener)?,
                };
                server
                    .workers(workers())
                    .disable_signals()
                    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
                    .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
                    .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
                    .run()
            }};
        }
        let server = match role {
            Role::Static(index) => {
                let st = web::Data::new(frontend::StaticCtx::new(state.clone(), index));
                start!(HttpServer::new(move || static_app(ctx.clone(), st.clone())))
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
