//! A deadline for reading a request body on API origins.
//!
//! actix-http's `client_request_timeout` only covers the request head. A client that sends
//! `Content-Length: 100` and then ten bytes (a "slow POST") would otherwise hold the
//! connection and a handler for as long as it likes, because the handler waits for the
//! whole body. This middleware reads the body first, within [`BODY_READ_TIMEOUT`] in total (a
//! per-chunk idle timer would let a client drip one byte at a time forever), and hands the
//! handler the buffered bytes. Bodies over the limit are refused with 413 as soon as that is
//! known, without reading the rest: from `Content-Length`, from a chunk size the connection's
//! [`BodyWatch`] saw announced, or from the bytes that arrived. A request whose body is the rest of the connection
//! (`CONNECT`, a WebSocket upgrade) is answered at once as one without a body.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_LENGTH, UPGRADE};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use bytes::BytesMut;
use futures_util::StreamExt;

use std::rc::Rc;

use super::api::MAX_BODY_BYTES;
use super::conn_watch::BodyWatch;

/// The whole body must arrive within this; the same budget the request head gets.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The middleware for API origins: their bodies are limited to [`MAX_BODY_BYTES`].
pub async fn read_api_body(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    read_body_in_time(req, next, MAX_BODY_BYTES).await
}

/// Reads the body within the deadline and at most `limit` bytes, then calls the handler.
pub async fn read_body_in_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    limit: usize,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(refuse(req, too_large(limit)));
    }
    let mut payload = req.take_payload();
    if body_is_the_connection(&req) {
        // Nothing to wait for; the unread-body step closes the connection after the answer.
        payload = actix_web::dev::Payload::None;
    }
    if matches!(payload, actix_web::dev::Payload::None) {
        // No body (most requests, and the requests above): no deadline to arm, nothing to
        // buffer.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let watch = req.conn_data::<Rc<BodyWatch>>().cloned();
    let deadline = tokio::time::Instant::now() + BODY_READ_TIMEOUT;
    let mut body = BytesMut::new();
    loop {
        let next_chunk = tokio::time::timeout_at(deadline, payload.next());
        let next_chunk = match &watch {
            None => next_chunk.await,
            // A chunk size announcing more than the limit is answered now, not once that much
            // has arrived.
            Some(watch) => tokio::select! {
                biased;
                () = watch.oversized() => return Ok(refuse(req, too_large(limit))),
                next = next_chunk => next,
            },
        };
        match next_chunk {
            Err(_) => {
                let res = HttpResponse::RequestTimeout()
                    .content_type("text/plain; charset=utf-8")
                    .body(format!(
                        "sandbox: the request body did not arrive within {} s",
                        BODY_READ_TIMEOUT.as_secs()
                    ));
                return Ok(refuse(req, res));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > limit {
                    return Ok(refuse(req, too_large(limit)));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    req.set_payload(actix_web::dev::Payload::from(body.freeze()));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// `CONNECT`, and `Upgrade: websocket` without chunked framing: actix-http then takes the rest
/// of the connection as the body, which ends only when the client closes it. The API upgrades
/// nothing, so such a request is answered as one without a body.
fn body_is_the_connection(req: &ServiceRequest) -> bool {
    let chunked = req.chunked().unwrap_or(false);
    let websocket = req.headers().get_all(UPGRADE).any(|v| {
        v.to_str()
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
    });
    let connect = req.method() == Method::CONNECT && !req.headers().contains_key(CONTENT_LENGTH);
    !chunked && (websocket || connect)
}

fn too_large(limit: usize) -> HttpResponse {
    HttpResponse::PayloadTooLarge()
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "sandbox: request bodies are limited to {limit} bytes"
        ))
}

/// Answers without reading the rest of the body; the connection is closed after the answer
/// so leftover body bytes can never be read as a next request.
fn refuse<B>(req: ServiceRequest, mut res: HttpResponse) -> ServiceResponse<EitherBody<B>> {
    res.head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    req.into_response(res).map_into_right_body()
}
