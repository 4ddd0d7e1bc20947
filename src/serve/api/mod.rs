//! The mock API's handler: finds the route for a request in the routes snapshot the request
//! came in with and answers it. Unmatched requests go to a `[[resource]]`, then to the
//! `upstream`, and otherwise get a 404 whose JSON names the closest routes.
//!
//! The parts live beside it: `route_reply` renders a route's answer, `faults` carries out
//! delays and injected faults, `upstream` proxies to a real server.

mod faults;
mod record;
mod route_reply;
mod upstream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::json;

use crate::routes::{resources, Routes};
use crate::state::{status_time, ApiOrigin, Event, FileStatus, SharedState, Versioned};
use faults::{faulty, slow};
pub use faults::{ConnFd, InjectedFault};
use route_reply::Reply;
pub use upstream::{forward, upstream_cors, ProxyError};

/// Which API origin a worker serves.
pub struct ApiCtx {
    pub state: SharedState,
    pub index: usize,
}

/// Request bodies above this get 413: a mock API has no reason to accept uploads of any size.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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

/// The routes snapshot that answers this request: the one `upstream_cors` took as the request
/// came in (one load per request, as for the policy), or a fresh one where that step did
/// not run.
#[derive(Clone)]
pub struct RoutesSnapshot(pub Arc<Versioned<Routes>>);

fn routes_of(req: &HttpRequest, ctx: &ApiCtx) -> Arc<Versioned<Routes>> {
    match req.extensions().get::<RoutesSnapshot>() {
        Some(s) => Arc::clone(&s.0),
        None => ctx.state.apis[ctx.index].routes.load(),
    }
}

/// Answers from the first route that matches; otherwise from a `[[resource]]`, the
/// `upstream`, or with a 404 naming the closest routes.
pub async fn handle(req: HttpRequest, body: web::Bytes, ctx: web::Data<ApiCtx>) -> HttpResponse {
    let api = &ctx.state.apis[ctx.index];
    let snapshot = routes_of(&req, &ctx);
    let routes = &snapshot.value;
    let (method, path) = (req.method().as_str(), req.path());

    if method == "POST" && !routes.resources.is_empty() {
        if let Some(rest) = path.strip_prefix(resources::RESET_PREFIX) {
            return reset(routes, &api.resources, rest);
        }
    }
    if let Some(m) = routes.find(method, path) {
        if let Some(check) = &m.route.validation {
            if let Some((res, why)) = route_reply::invalid(&req, &body, check, &m.params) {
                ctx.state.log.warning(&format!(
                    "{method} {path}: 422, {} requires otherwise: {why}",
                    check.operation
                ));
                return res;
            }
        }
        let faults = &m.route.faults;
        if let Some(r) = faulty(&req, faults).await {
            return r;
        }
        return match (&routes.upstream, m.route.proxy) {
            (Some(up), true) => slow(
                record::keep(forward(up, &req, &body).await, &req, &ctx).await,
                faults,
            ),
            _ => match route_reply::reply(&req, &body, routes, m) {
                Reply::Body(res) => slow(res, faults),
                Reply::Final(res) => res,
            },
        };
    }
    let faults = &routes.defaults;
    let res = if let Some((spec, id)) = routes.find_resource(path) {
        if let Some(r) = faulty(&req, faults).await {
            return r;
        }
        resource_reply(&req, &body, &ctx.state, api, spec, id.as_deref())
    } else if let Some(up) = &routes.upstream {
        if let Some(r) = faulty(&req, faults).await {
            return r;
        }
        record::keep(forward(up, &req, &body).await, &req, &ctx).await
    } else {
        return not_found(&snapshot, method, path);
    };
    slow(res, faults)
}

/// A saved state that could not be used: the terminal gets the whole story, the status board
/// and the pages' overlay the same without folder names.
fn warn_state_unused(state: &SharedState, origin: &str, w: &resources::StateWarning) {
    let message = w.for_pages();
    // The board first: whoever sees the warning line and then asks the board finds it.
    let (at, at_ms) = status_time();
    state.record_status(FileStatus {
        origin: origin.to_string(),
        file: w.file.clone(),
        generation: 0,
        ok: false,
        error: Some(message.clone()),
        line: None,
        column: None,
        at,
        at_ms,
    });
    state.log.warning(&w.to_string());
    state.publish(Event::ReloadFailed {
        origin: origin.to_string(),
        file: w.file.clone(),
        line: None,
        column: None,
        message,
    });
}

/// A `[[resource]]`'s answer to a REST request.
fn resource_reply(
    req: &HttpRequest,
    body: &[u8],
    state: &SharedState,
    api: &ApiOrigin,
    spec: &resources::ResourceSpec,
    id: Option<&str>,
) -> HttpResponse {
    let method = req.method().as_str();
    let query = route_reply::query_pairs(req);
    let mut random = random_u64;
    let reply = api
        .resources
        .handle(spec, method, id, &query, body, &mut random);
    if let Some(w) = &reply.warning {
        warn_state_unused(state, &api.name, w);
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    for (n, v) in reply.headers {
        res.append_header((n, v));
    }
    match reply.body {
        Some(v) if method != "HEAD" => res.json(v),
        _ => res.finish(),
    }
}

/// The 404 bodies a worker has written for one routes snapshot, by method and path: a page
/// that keeps asking for a missing route (polling, retries, every reload) gets its
/// suggestions scored once. The `Weak` keeps the snapshot's allocation, so no later
/// snapshot can take its address while the memo names it.
struct MissMemo {
    routes: std::sync::Weak<Versioned<Routes>>,
    bodies: std::collections::HashMap<(String, String), web::Bytes>,
}

impl MissMemo {
    fn is_for(&self, snapshot: &Arc<Versioned<Routes>>) -> bool {
        std::ptr::eq(self.routes.as_ptr(), Arc::as_ptr(snapshot))
    }
}

/// Bodies kept per worker before the memo starts over; paths longer than the suggestions
/// look at are not kept (a client chooses them, up to 64 KiB).
const MISS_MEMO_ENTRIES: usize = 256;

thread_local! {
    static MISSES: std::cell::RefCell<Option<MissMemo>> = const { std::cell::RefCell::new(None) };
}

fn not_found(snapshot: &Arc<Versioned<Routes>>, method: &str, path: &str) -> HttpResponse {
    let reply = |body: web::Bytes| {
        HttpResponse::NotFound()
            .content_type("application/json")
            .body(body)
    };
    let keep = path.len() <= crate::routes::CLOSEST_PREFIX_BYTES;
    let key = (method.to_owned(), path.to_owned());
    if keep {
        let hit = MISSES.with_borrow(|m| {
            m.as_ref()
                .filter(|m| m.is_for(snapshot))
                .and_then(|m| m.bodies.get(&key).cloned())
        });
        if let Some(body) = hit {
            return reply(body);
        }
    }
    let routes = &snapshot.value;
    let closest: Vec<_> = routes
        .closest(method, path)
        .into_iter()
        .map(|(m, p)| json!({"method": m, "path": p}))
        .collect();
    let body = web::Bytes::from(
        json!({
            "error": format!("no route matches {method} {path}"),
            "closest": closest,
            "routes_file": routes.file_name,
        })
        .to_string(),
    );
    if keep {
        MISSES.with_borrow_mut(|m| {
            let usable = m
                .as_ref()
                .is_some_and(|m| m.is_for(snapshot) && m.bodies.len() < MISS_MEMO_ENTRIES);
            if !usable {
                *m = Some(MissMemo {
                    routes: Arc::downgrade(snapshot),
                    bodies: Default::default(),
                });
            }
            if let Some(m) = m {
                m.bodies.insert(key, body.clone());
            }
        });
    }
    reply(body)
}

/// `POST /api/__reset` (every resource) or `POST /api/__reset/<name>`.
fn reset(routes: &Routes, store: &resources::ResourceStore, rest: &str) -> HttpResponse {
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
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return HttpResponse::build(status)
                .json(json!({"error": format!("reset in memory, but not saved: {e}")}));
        }
    }
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    HttpResponse::Ok().json(json!({ "reset": names }))
}
