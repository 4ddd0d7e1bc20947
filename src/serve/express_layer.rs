//! The express-mode emitter: answers a request the way the npm `cors` middleware would under
//! the policy's options, header line for header line.
//!
//! Owns sending what `policy::express_mode` decided: a preflight the middleware answers itself
//! is answered here with its status and lines (the routes never see it); anything else goes to
//! the routes, and the lines are set on their response unless the route set that header itself
//! (in Express the route runs after the middleware, so its `setHeader` wins). With
//! `preflightContinue` an `OPTIONS` request reaches the routes the same way.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{Error, HttpResponse};
use futures_util::future::LocalBoxFuture;

use crate::policy::{ExpressAnswer, Policy, PolicyRules};
use crate::state::Versioned;

/// Sets each line unless the response already has that header (`res.setHeader` order).
fn set_lines(headers: &mut HeaderMap, lines: &[(&'static str, String)]) {
    for (name, value) in lines {
        // The reflected Origin could be unprintable; a line that cannot be sent is left out.
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(*name), HeaderValue::from_str(value)) {
            if !headers.contains_key(&n) {
                headers.insert(n, v);
            }
        }
    }
}

/// Serves one request under an express-mode snapshot (the one loaded for this request).
pub fn call<S, B>(
    inner: &Rc<S>,
    snapshot: Arc<Versioned<Policy>>,
    req: ServiceRequest,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let answer = match &snapshot.value.rules {
        PolicyRules::Express(p) => p.answer(
            req.method().as_str(),
            header("origin"),
            header("access-control-request-headers"),
        ),
        _ => ExpressAnswer::Continue(Vec::new()),
    };
    match answer {
        ExpressAnswer::Preflight(status, lines) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
            let mut res = HttpResponse::new(status);
            set_lines(res.headers_mut(), &lines);
            Box::pin(async move { Ok(req.into_response(res)) })
        }
        ExpressAnswer::Continue(lines) => {
            let inner = Rc::clone(inner);
            Box::pin(async move {
                let mut res = inner.call(req).await?.map_into_boxed_body();
                set_lines(res.headers_mut(), &lines);
                Ok(res)
            })
        }
    }
}
