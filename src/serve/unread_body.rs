//! Closing a connection whose request body is still unfinished once its answer is out.
//!
//! actix-http treats a chunked request body that nobody reads any more as something to drain:
//! it keeps reading it, for as long as the client keeps the body open, before it looks at the
//! next request or closes, and that holds even after a `Connection: close` answer. A body that
//! never ends therefore kept its socket (and a descriptor) forever, on every origin and for
//! every early answer: a refusal, a 408 or 413, a preflight, a file that ignores the body.
//!
//! actix-http does close the connection (after reading and discarding for at most the client
//! disconnect timeout, so the client can read the answer before the close) when the body's
//! reader is still alive at the end of the response and the body still unfinished. So the
//! outermost step of every origin (`front`) takes the request's body here, lends the inner
//! steps a reader of it, and keeps the body itself alive inside the response until the
//! response is written. A
//! body read to its end, or none at all, changes nothing: keep-alive works as before.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use bytes::Bytes;
use futures_util::Stream;

use super::conn_watch::BodyWatch;

/// The request's body, shared by the reader the inner steps get and the response that keeps
/// it alive.
type Shared = Rc<RefCell<Payload>>;

/// What the inner steps read the body through.
struct Reader(Shared);

impl Stream for Reader {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Only this task polls, and never re-entrantly, so the borrow cannot clash.
        let mut payload = self.0.borrow_mut();
        Pin::new(&mut *payload).poll_next(cx)
    }
}

/// A response body that keeps the request's body alive until it is dropped, which actix-http
/// does once the response has been written.
pub struct Holding<B> {
    body: Pin<Box<B>>,
    _request_body: Shared,
}

impl<B: MessageBody> MessageBody for Holding<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.body.as_mut().poll_next(cx)
    }
}

/// The request's body, lent to the inner steps while `Held` keeps it alive.
pub(super) struct Held(Option<Shared>);

/// Takes the request's body and gives the inner steps a reader of it. A request without a
/// body (most of them) is left untouched: nothing to keep alive, no allocation.
pub(super) fn lend(req: &mut ServiceRequest) -> Held {
    // The outermost step sees every request first: it numbers them for the body watch.
    if let Some(watch) = req.conn_data::<Rc<BodyWatch>>() {
        watch.begin_request();
    }
    match req.take_payload() {
        Payload::None => Held(None),
        payload => {
            let shared = Rc::new(RefCell::new(payload));
            let reader: actix_http::BoxedPayloadStream = Box::pin(Reader(shared.clone()));
            req.set_payload(Payload::from(reader));
            Held(Some(shared))
        }
    }
}

impl Held {
    /// The answer, now keeping the request's body alive until it has been written.
    pub(super) fn hold<B: MessageBody + 'static>(
        self,
        res: ServiceResponse<B>,
    ) -> ServiceResponse<EitherBody<B, Holding<B>>> {
        match self.0 {
            None => res.map_into_left_body(),
            Some(shared) => res.map_body(|_, body| {
                EitherBody::right(Holding {
                    body: Box::pin(body),
                    _request_body: shared,
                })
            }),
        }
    }

    /// An inner step's error; its response keeps the body alive like any other answer.
    pub(super) fn hold_error(self, error: Error) -> Error {
        match self.0 {
            None => error,
            Some(shared) => HoldingError { error, shared }.into(),
        }
    }
}

/// An inner step's error, whose response keeps the request's body alive like any other.
struct HoldingError {
    error: Error,
    shared: Shared,
}

impl std::fmt::Debug for HoldingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.error, f)
    }
}

impl std::fmt::Display for HoldingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.error, f)
    }
}

impl ResponseError for HoldingError {
    fn status_code(&self) -> StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let shared = self.shared.clone();
        self.error.error_response().map_body(|_, body| {
            BoxBody::new(Holding {
                body: Box::pin(body),
                _request_body: shared,
            })
        })
    }
}
