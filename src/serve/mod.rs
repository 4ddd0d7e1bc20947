//! The actix-web servers: one server per origin (`listen`), all in one actix system.
//!
//! Owns the order of the steps every request goes through, in one place: `front` (the
//! request body lent out, so every answer closes a connection whose body is unfinished; the
//! access log, so refusals are logged too; the Host allowlist) → for API origins the hot CORS
//! layer → routes; for static origins `/__sandbox/*` → files. Servers take listeners
//! that are already bound (so `up` can report every port problem before anything starts, and
//! tests can pass port-0 sockets) and stop when the shutdown flag flips.

mod access_log;
pub mod api;
pub mod beneath;
pub mod body_deadline;
pub mod conn_watch;
pub mod cookie_notes;
pub mod cors_layer;
pub mod embedded;
pub mod exact_layer;
pub mod express_layer;
pub mod file_cache;
mod framing;
mod front;
pub mod frontend;
pub mod guard;
pub mod inject;
pub mod key_gate;
pub mod listen;
pub mod livereload;
pub mod sandbox_json;
pub mod unread_body;
pub mod verdict;

use std::net::TcpListener;

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, Error};

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

/// Every origin's server settings.
fn settings() -> listen::Settings {
    listen::Settings {
        workers: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4)),
        client_request_timeout: Duration::from_secs(5),
        client_disconnect_timeout: Duration::from_secs(1),
        tls_handshake_timeout: Duration::from_secs(3),
        shutdown_timeout_secs: 1,
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
        .wrap(from_fn(front::front))
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
        .wrap(from_fn(front::front))
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
        let server = match role {
            Role::Static(index) => {
                let st = web::Data::new(frontend::StaticCtx::new(state.clone(), index));
                // Static origins read no bodies: nothing to watch.
                listen::serve(listener, tls, None, settings(), move || {
                    static_app(ctx.clone(), st.clone())
                })?
            }
            Role::Api(index) => {
                let (state, hosts) = (state.clone(), hosts.clone());
                listen::serve(
                    listener,
                    tls,
                    Some(api::MAX_BODY_BYTES),
                    settings(),
                    move || api_app(state.clone(), index, hosts.clone()),
                )?
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
