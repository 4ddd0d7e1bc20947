//! The exact-mode emitter: answers a request the way an exact-mode policy says a (possibly
//! broken) server would, header line for header line.
//!
//! Owns turning the first matching rule into a response: a preflight or a redirect is answered
//! here without reaching the routes; an actual request goes to the routes (the shared inner
//! service) and the rule's lines are appended to that response. It makes no CORS decision and
//! never "repairs" what the policy says: duplicates, `*` with credentials and odd statuses are
//! sent as written. Matching and validation live in `policy::exact_mode`.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use actix_web::http::StatusCode;
use actix_web::{Error, HttpResponse};
use futures_util::future::LocalBoxFuture;

use crate::policy::{ExactRule, Policy, PolicyRules, NGINX_ADD_HEADER_STATUSES};
use crate::state::Versioned;

/// What the rules need to know about a request.
struct Asked {
    preflight: bool,
    /// `Access-Control-Request-Method` for a preflight, else the request's method.
    method: String,
    origin: Option<String>,
}

fn asked(req: &ServiceRequest) -> Asked {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let origin = header("origin");
    let acrm = header("access-control-request-method");
    let preflight =
        crate::browser::is_preflight(req.method().as_str(), |n| req.headers().contains_key(n));
    let method = match (preflight, acrm) {
        (true, Some(m)) => crate::browser::normalize_method(&m),
        _ => req.method().as_str().to_string(),
    };
    Asked {
        preflight,
        method,
        origin,
    }
}

fn rule_of(snapshot: &Versioned<Policy>, index: Option<usize>) -> Option<&ExactRule> {
    match (&snapshot.value.rules, index) {
        (PolicyRules::Exact(p), Some(i)) => p.rules.get(i),
        _ => None,
    }
}

/// Appends a rule's header lines, `{origin}` replaced. A line that needs an Origin the request
/// did not send is left out, as a server echoing an absent header would send nothing.
fn append_lines(headers: &mut HeaderMap, rule: &ExactRule, origin: Option<&str>) {
    for (name, value) in &rule.headers {
        let value = if value.contains("{origin}") {
            match origin {
                Some(o) => value.replace("{origin}", o),
                None => continue,
            }
        } else {
            value.clone()
        };
        // Validated at load; the request's Origin could still be unprintable, so skip quietly.
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
}

/// A response made here from the rule alone: a preflight answer or a redirect.
fn own_response(rule: &ExactRule, origin: Option<&str>) -> HttpResponse {
    let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::NO_CONTENT);
    let mut res = HttpResponse::new(status);
    if let Some(loc) = &rule.redirect {
        if let Ok(v) = HeaderValue::from_str(loc) {
            res.headers_mut().insert(LOCATION, v);
        }
    }
    append_lines(res.headers_mut(), rule, origin);
    match &rule.body {
        Some(body) => {
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            res.set_body(BoxBody::new(body.clone()))
        }
        None => res,
    }
}

/// Serves one request under an exact-mode snapshot (the one loaded for this request).
pub fn call<S, B>(
    inner: &Rc<S>,
    snapshot: Arc<Versioned<Policy>>,
    req: ServiceRequest,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    let a = asked(&req);
    let index = match &snapshot.value.rules {
        PolicyRules::Exact(p) => p
            .rules
            .iter()
            .position(|r| r.matches(a.preflight, &a.method, req.path(), a.origin.as_deref())),
        PolicyRules::ActixCors(_) | PolicyRules::Express(_) => None,
    };
    if let Some(rule) = rule_of(&snapshot, index) {
        if a.preflight || rule.redirect.is_some() {
            let res = own_response(rule, a.origin.as_deref());
            return Box::pin(async move { Ok(req.into_response(res)) });
        }
    }
    // No rule for a preflight: it reaches the routes, as on a server without CORS support.
    let inner = Rc::clone(inner);
    Box::pin(async move {
        let mut res = inner.call(req).await?.map_into_boxed_body();
        if let Some(rule) = rule_of(&snapshot, index) {
            let status = res.status().as_u16();
            if rule.always || NGINX_ADD_HEADER_STATUSES.contains(&status) {
                append_lines(res.headers_mut(), rule, a.origin.as_deref());
            }
        }
        Ok(res)
    })
}
