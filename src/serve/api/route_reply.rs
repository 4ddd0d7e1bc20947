//! A matched route's answer: its response chosen by `when`, headers and body rendered from
//! the request (templates were parsed when the routes loaded, so rendering cannot fail).

use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use serde_json::json;

use super::random_u64;
use crate::routes::openapi::validate::{RequestCheck, RequestParts};
use crate::routes::template::{Helpers, RequestData};
use crate::routes::{DynamicBody, Match, Routes};

/// What a route answered.
pub enum Reply {
    /// A response whose body `slow_body_ms` may trickle out.
    Body(HttpResponse),
    /// A response sent as it is: no body (204, 304), or no response of the route applies.
    Final(HttpResponse),
}

pub fn reply(req: &HttpRequest, body: &[u8], routes: &Routes, m: Match<'_>) -> Reply {
    let route = m.route;
    let (method, path) = (req.method().as_str(), req.path());
    let seq = route.counter.next();
    let reads = route.reads_request();
    let data = if reads {
        request_data(req, body, m.params)
    } else {
        RequestData::default()
    };
    let mut random = random_u64;
    let Some(resp) = route.choose(&data, seq, &mut random) else {
        return Reply::Final(HttpResponse::NotFound().json(json!({
                "error": format!("{method} {path} matches the route `{}`, but none of its responses' `when` holds", route.path.text),
                "routes_file": routes.file_name,
            })));
    };
    let mut h = Helpers {
        seq,
        // Read only by placeholders, and formatting the time showed in profiles.
        now: if reads { now_rfc3339() } else { String::new() },
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
        return Reply::Final(res.finish());
    }
    let bytes: Bytes = match &resp.dynamic {
        None => resp.body.bytes.clone(),
        Some(DynamicBody::Text(t)) => t.render(&data, &mut h).into_bytes().into(),
        Some(DynamicBody::Json(t)) => serde_json::to_vec(&t.render(&data, &mut h))
            .unwrap_or_default()
            .into(),
    };
    Reply::Body(res.body(bytes))
}

/// A 422 naming every rule the request breaks, when the route validates (`validate = true`)
/// and the request fails its operation's schemas. The CORS layer in front adds its headers
/// to this answer as to any other, so validation never changes what the browser allows.
pub fn invalid(
    req: &HttpRequest,
    body: &[u8],
    check: &RequestCheck,
    params: &[(String, String)],
) -> Option<(HttpResponse, String)> {
    let data = request_data(req, body, Vec::new());
    let violations = check.check(&RequestParts {
        path: params,
        query: &data.query,
        headers: &data.headers,
        body,
    });
    if violations.is_empty() {
        return None;
    }
    let summary: Vec<String> = violations
        .iter()
        .map(|v| format!("{} ({})", v.field, v.rule))
        .collect();
    let summary = summary.join(", ");
    // The journal keeps response headers: the inspector shows why beside the status.
    let header: String = summary
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { ' ' })
        .collect();
    let res = HttpResponse::UnprocessableEntity()
        .insert_header(("X-Sandbox-Invalid", header))
        .json(json!({
            "error": format!("the request does not match the operation {}", check.operation),
            "operation": check.operation,
            "violations": violations,
        }));
    Some((res, summary))
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
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
