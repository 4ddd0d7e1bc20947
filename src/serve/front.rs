//! The outermost step of every origin, in one: it lends the inner steps the request's body
//! (`unread_body`), takes what the log needs of the request (`access_log`), refuses a Host
//! off the allowlist, and after the answer records the exchange and keeps the body alive
//! until the answer is written.
//!
//! One step rather than three: each `from_fn` step boxes its future and calls the next
//! through a pointer on every request, and the three showed as separate costs in profiles of
//! the JSON route. The order inside is the order they had as steps: the body is taken
//! first, so every answer (a refusal too) closes a connection whose body is unfinished; the
//! log sees refusals.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, HOST};
use actix_web::http::Version;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use super::access_log::Pending;
use super::unread_body::{self, Holding};
use super::OriginCtx;

/// What the step answers with: the inner answer or the Host refusal, either one possibly
/// holding the request's body.
type Answer<B> = EitherBody<EitherBody<B>, Holding<EitherBody<B>>>;

pub(super) async fn front<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<Answer<B>>, Error> {
    let held = unread_body::lend(&mut req);
    let log = req
        .app_data::<web::Data<OriginCtx>>()
        .cloned()
        .map(|c| Pending::start(&req, c));
    authority_as_host(&mut req);
    let res = if allowed(&req, log.as_ref().map(Pending::origin)) {
        match next.call(req).await {
            Ok(res) => res.map_into_left_body(),
            // Unlogged, as an inner error always was: actix answers it after this step.
            Err(e) => return Err(held.hold_error(e)),
        }
    } else {
        let refusal = HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("sandbox: this Host is not allowed (DNS rebinding protection); use localhost, *.localhost or a configured hostname");
        req.into_response(refusal).map_into_right_body()
    };
    if let Some(log) = log {
        log.finish(&res);
    }
    Ok(held.hold(res))
}

/// The DNS-rebinding guard: the request names exactly one Host, and the allowlist has it.
fn allowed(req: &ServiceRequest, ctx: Option<&OriginCtx>) -> bool {
    ctx.is_some_and(|ctx| {
        // Exactly one Host (RFC 9112 §3.2): with two, a proxy and this check could each
        // believe a different one.
        let mut hosts = req.headers().get_all(HOST);
        let host = hosts.next().and_then(|h| h.to_str().ok());
        hosts.next().is_none() && ctx.hosts.allows(host)
    })
}

/// HTTP/2 carries the host in `:authority`, not in a Host header: copy it into one so every
/// later check (this guard, the same-origin rules, the key gate) reads the host one way.
fn authority_as_host(req: &mut ServiceRequest) {
    if req.version() != Version::HTTP_2 || req.headers().contains_key(HOST) {
        return;
    }
    let authority = req.uri().authority().map(|a| a.as_str().to_owned());
    if let Some(value) = authority.and_then(|a| HeaderValue::from_str(&a).ok()) {
        req.headers_mut().insert(HOST, value);
    }
}
