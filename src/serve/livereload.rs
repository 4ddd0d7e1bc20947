//! `/__sandbox/*` on static origins: the event stream (Server-Sent Events), the reload script,
//! and small same-origin JSON endpoints (`config.json`: the URLs of this sandbox's origins;
//! `status`: generations and the last reload result of every file), and the request inspector
//! page at `/__sandbox/`, and the CORS lab at `/__sandbox/lab/` on every static origin, whatever
//! its root serves.
//!
//! The browser-side files are compiled in from `static/.sandbox/`, the sandbox's own assets
//! (never part of a served root: see `embedded`):
//! - `reload.js`, `fixture.js`, `dom.js`: served at `/__sandbox/<name>`.
//! - `inspector/`: the inspector's page, script and stylesheet (`/__sandbox/`,
//!   `/__sandbox/inspector.js`, `/__sandbox/inspector.css`).
//! - the lab (`static/` itself, through `embedded`): `/__sandbox/lab/`, with its files beside
//!   it, so the page's relative links work here as they do at `/` of an embedded root.
//!
//! Every endpoint here is same-origin only and never sends Access-Control-Allow-Origin: a page
//! on another site must not be able to watch a developer's reloads. Same-origin is not enough
//! for the journal's machine endpoints (`requests`, `in-force`, `status`, and the `request`
//! events of the stream): any local program can send a plain GET without `Origin`, so those
//! also need this run's key, which only the terminal shows (`key_gate`).

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;

use super::frontend::StaticCtx;
use super::guard::same_origin;
use super::{embedded, key_gate, sandbox_json};
use crate::state::{Event, State};

/// A file of `static/.sandbox/`, compiled in.
macro_rules! asset {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/static/.sandbox/",
            $name
        ))
    };
}

pub const RELOAD_JS: &str = asset!("reload.js");
/// The fixture runner, after the pages' shared helpers it uses (`SandboxDom.currentEngine`):
/// fixture pages load one script, and pages written before the helpers existed still work.
/// Strict as a whole, as `fixture.js` was on its own.
const FIXTURE_JS: &str = concat!(
    "\"use strict\";\n",
    asset!("dom.js"),
    "\n",
    asset!("fixture.js")
);
const DOM_JS: &str = asset!("dom.js");
const INSPECTOR_HTML: &str = asset!("inspector/inspector.html");
const INSPECTOR_JS: &str = asset!("inspector/inspector.js");
const INSPECTOR_CSS: &str = asset!("inspector/inspector.css");

/// The inspector renders header values a cross-origin page could influence; it only ever uses
/// `textContent`, and this policy makes sure nothing but its own files could run or be loaded
/// even if that slipped. `frame-ancestors 'none'`: no other site may frame it.
const INSPECTOR_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// A comment line this often keeps proxies and idle timers from closing the stream.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// Registers every `/__sandbox` endpoint in one scope behind one same-origin guard, so no
/// endpoint can forget the check; unknown paths under it are 404, never a static file.
pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/__sandbox")
            .wrap(from_fn(same_origin_only))
            .route("", web::get().to(inspector_redirect))
            .route("/", web::get().to(inspector_html))
            .route("/events", web::get().to(events))
            .route("/reload.js", web::get().to(|| script(RELOAD_JS)))
            .route("/fixture.js", web::get().to(|| script(FIXTURE_JS)))
            .route("/dom.js", web::get().to(|| script(DOM_JS)))
            .route("/config.json", web::get().to(config_json))
            .route("/status", web::get().to(status))
            .route("/requests", web::get().to(requests))
            .route("/in-force", web::get().to(in_force))
            .route("/inspector.js", web::get().to(inspector_js))
            .route("/inspector.css", web::get().to(inspector_css))
            .route("/lab", web::get().to(lab_redirect))
            .route("/lab/", web::get().to(lab_page))
            .route("/lab/{file}", web::get().to(lab_file)),
    );
}

async fn same_origin_only(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !same_origin(req.headers()) {
        return Ok(req.into_response(forbidden()).map_into_right_body());
    }
    if key_gate::needs_key(req.path()) && !presents_key(req.request()) {
        return Ok(req.into_response(key_gate::refused()).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// JSON that must never be cached: it describes the live state of the sandbox.
fn live_json(value: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(value)
}

async fn inspector_redirect() -> HttpResponse {
    // The page's relative links resolve against `/__sandbox/`.
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, "/__sandbox/"))
        .finish()
}

/// `/__sandbox/lab` → `/__sandbox/lab/`, keeping the query: the lab's whole form lives in it.
async fn lab_redirect(req: actix_web::HttpRequest) -> HttpResponse {
    let location = match req.query_string() {
        "" => "/__sandbox/lab/".to_string(),
        q => format!("/__sandbox/lab/?{q}"),
    };
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn lab_page(req: actix_web::HttpRequest) -> HttpResponse {
    lab_answer(&req, "index.html")
}

async fn lab_file(req: actix_web::HttpRequest, file: web::Path<String>) -> HttpResponse {
    lab_answer(&req, &file)
}

/// A file of the embedded lab (its top level only: `embedded` never holds `.sandbox/`), with
/// the headers the static origin gives its files.
fn lab_answer(req: &actix_web::HttpRequest, file: &str) -> HttpResponse {
    let mut res = match embedded::answer(std::path::Path::new(file)) {
        Some(answer) if !file.contains('/') => answer.respond(req),
        _ => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("sandbox: the lab has no such file"),
    };
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

fn inspector_file(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, INSPECTOR_CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

async fn inspector_html() -> HttpResponse {
    inspector_file("text/html; charset=utf-8", INSPECTOR_HTML)
}

async fn inspector_js() -> HttpResponse {
    inspector_file("text/javascript; charset=utf-8", INSPECTOR_JS)
}

async fn inspector_css() -> HttpResponse {
    inspector_file("text/css; charset=utf-8", INSPECTOR_CSS)
}

fn forbidden() -> HttpResponse {
    HttpResponse::Forbidden().body("sandbox endpoints are same-origin only")
}

/// The scripts pages load from here: the reload script (injected into every HTML page), the
/// runner every fixture page loads (see `fixtures::page`) and the DOM helpers of the lab and
/// the inspector.
async fn script(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn config_json(ctx: web::Data<StaticCtx>) -> HttpResponse {
    live_json(sandbox_json::config_json(&ctx.state, ctx.index))
}

async fn status(ctx: web::Data<StaticCtx>) -> HttpResponse {
    live_json(sandbox_json::status_json(&ctx.state))
}

/// Recent API requests with headers and verdicts, oldest first (the inspector's table).
async fn requests(ctx: web::Data<StaticCtx>) -> HttpResponse {
    live_json(ctx.state.journal.recent())
}

/// The policy and routes in force for every API origin (their text and generation) and the
/// recent reload attempts.
async fn in_force(ctx: web::Data<StaticCtx>) -> HttpResponse {
    live_json(sandbox_json::in_force_json(&ctx.state))
}

fn presents_key(req: &actix_web::HttpRequest) -> bool {
    req.app_data::<web::Data<StaticCtx>>()
        .is_some_and(|ctx| key_gate::has_key(req.headers(), req.query_string(), &ctx.state.key))
}

/// Whether an event concerns pages of static origin `name`; requests only streams opened
/// with the key (`keyed`).
fn concerns(e: &Event, name: &str, keyed: bool) -> bool {
    match e {
        Event::StaticChanged { origin, .. } => origin == name,
        Event::Request { .. } => keyed,
        _ => true,
    }
}

/// What a stream sends first: the greeting, then every file whose last reload failed, as the
/// `reload-failed` event it missed, so a page opened after a bad save shows the overlay
/// without asking the (keyed) status board.
fn opening(state: &State) -> std::collections::VecDeque<Bytes> {
    let mut frames =
        std::collections::VecDeque::from([Bytes::from_static(b"retry: 1000\n: connected\n\n")]);
    let board = state.status.lock().map(|b| b.clone()).unwrap_or_default();
    for f in board.into_iter().filter(|f| !f.ok) {
        frames.push_back(frame(&Event::ReloadFailed {
            origin: f.origin,
            file: f.file,
            line: f.line,
            column: f.column,
            message: f.error.unwrap_or_else(|| "did not load".into()),
        }));
    }
    frames
}

fn frame(e: &Event) -> Bytes {
    let data = serde_json::to_string(e).unwrap_or_default();
    Bytes::from(format!("data: {data}\n\n"))
}

async fn events(req: actix_web::HttpRequest, ctx: web::Data<StaticCtx>) -> HttpResponse {
    // Subscribed before the opening is read, so no failure falls between the two.
    let rx = ctx.state.events.subscribe();
    let shutdown = ctx.state.shutdown.clone();
    let name = ctx.state.statics[ctx.index].name.clone();
    let keyed = presents_key(&req);
    // State: (receiver, shutdown watch, frames still to send first). The stream ends on
    // shutdown so the server can stop without waiting for its timeout.
    let body = stream::unfold(
        (rx, shutdown, opening(&ctx.state)),
        move |(mut rx, mut shutdown, mut first)| {
            let name = name.clone();
            async move {
                if let Some(f) = first.pop_front() {
                    return Some((Ok::<_, actix_web::Error>(f), (rx, shutdown, first)));
                }
                loop {
                    if *shutdown.borrow() {
                        return None;
                    }
                    tokio::select! {
                        r = rx.recv() => match r {
                            Ok(e) if concerns(&e, &name, keyed) => return Some((Ok(frame(&e)), (rx, shutdown, first))),
                            Ok(_) | Err(RecvError::Lagged(_)) => continue,
                            Err(RecvError::Closed) => return None,
                        },
                        _ = shutdown.changed() => return None,
                        _ = tokio::time::sleep(KEEPALIVE) => {
                            return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (rx, shutdown, first)));
                        }
                    }
                }
            }
        },
    );
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}
