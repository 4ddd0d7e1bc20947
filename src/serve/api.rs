//! The mock API's handler: finds the route for a request in the current routes snapshot and
//! answers it. Unmatched requests get a 404 whose JSON names the closest routes.

use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::state::SharedState;

/// Which API origin a worker serves.
pub struct ApiCtx {
    pub state: SharedState,
    pub index: usize,
}

/// Request bodies above this get 413: a mock API has no reason to accept uploads of any size.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub async fn handle(req: HttpRequest, _body: web::Bytes, ctx: web::Data<ApiCtx>) -> HttpResponse {
    let api = &ctx.state.apis[ctx.index];
    let routes = api.routes.load();
    let method = req.method().as_str();
    let path = req.path();
    let Some(m) = routes.value.find(method, path) else {
        let closest: Vec<_> = routes
            .value
            .closest(method, path)
            .into_iter()
            .map(|(m, p)| json!({"method": m, "path": p}))
            .collect();
        return HttpResponse::NotFound().json(json!({
            "error": format!("no route matches {method} {path}"),
            "closest": closest,
            "routes_file": routes.value.file_name,
        }));
    };
    let route = m.route;
    if route.delay_ms > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(route.delay_ms)).await;
    }
    let status = StatusCode::from_u16(route.status).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if !route.body.bytes.is_empty() || status != StatusCode::NO_CONTENT {
        res.insert_header((CONTENT_TYPE, route.body.content_type.as_str()));
    }
    for (name, value) in &route.headers {
        // Validated at load; a failure here would be a loader bug, so skip rather than panic.
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            res.append_header((n, v));
        }
    }
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return res.finish();
    }
    res.body(route.body.bytes.clone())
}
