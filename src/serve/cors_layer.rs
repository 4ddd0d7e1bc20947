//! The API origin's CORS layer: a real `actix_cors::Cors`, rebuilt when the policy changes.
//!
//! actix-cors freezes its settings per worker when the middleware is built, and `Cors` is
//! neither `Clone` nor `Send`, so it cannot simply be swapped. Instead each worker keeps the
//! inner service in an `Rc`, loads the policy store once per request, and when the `Arc`
//! pointer differs from the one it built for, builds a fresh `Cors` over a forwarding service
//! that shares that `Rc` (`new_transform` completes at once). Cost per request: one atomic load
//! and a pointer comparison; one rebuild per worker per policy change.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::FutureExt;

use super::api::RoutesSnapshot;
use crate::policy::{ActixCorsPolicy, AnyOr, Policy, PolicyRules};
use crate::state::{Store, Versioned};

/// The policy snapshot a request was served under, left in its extensions for the journal;
/// absent when a route answered CORS itself (`cors = "route"`).
#[derive(Clone)]
pub struct PolicySnapshot(pub Arc<Versioned<Policy>>);

/// Builds the actix-cors middleware for a validated policy. The loader has already refused
/// everything actix-cors would refuse, so the builder's silent error slot stays empty.
pub fn to_actix(p: &ActixCorsPolicy) -> Cors {
    let mut cors = Cors::default();
    cors = match &p.allowed_origins {
        AnyOr::Any => cors.allow_any_origin(),
        AnyOr::List(list) => list.iter().fold(cors, |c, o| c.allowed_origin(o)),
    };
    cors = match &p.allowed_methods {
        AnyOr::Any => cors.allow_any_method(),
        AnyOr::List(list) => cors.allowed_methods(list.iter().map(String::as_str)),
    };
    cors = match &p.allowed_headers {
        AnyOr::Any => cors.allow_any_header(),
        AnyOr::List(list) if list.is_empty() => cors,
        AnyOr::List(list) => cors.allowed_headers(list.iter().map(String::as_str)),
    };
    cors = match &p.expose_headers {
        AnyOr::Any => cors.expose_any_header(),
        AnyOr::List(list) if list.is_empty() => cors,
        AnyOr::List(list) => cors.expose_headers(list.iter().map(String::as_str)),
    };
    if p.supports_credentials {
        cors = cors.supports_credentials();
    }
    if p.send_wildcard {
        cors = cors.send_wildcard();
    }
    if !p.vary {
        cors = cors.disable_vary_header();
    }
    if !p.preflight {
        cors = cors.disable_preflight();
    }
    cors.max_age(p.max_age.map(|m| m as usize))
        .block_on_origin_mismatch(p.block_on_origin_mismatch)
}

/// Whether the route this request is bound for answers CORS itself (`cors = "route"`): then
/// neither actix-cors nor the exact rules touch it. Decided on the routes snapshot the request
/// will be answered from, taken by the step outside this one.
fn route_answers_cors(req: &ServiceRequest) -> bool {
    req.extensions()
        .get::<RoutesSnapshot>()
        .is_some_and(|r| r.0.value.answers_cors(req.method().as_str(), req.path()))
}

/// Middleware factory: `App::wrap(HotCors::new(store))`.
pub struct HotCors {
    store: Store<Policy>,
}

impl HotCors {
    pub fn new(store: Store<Policy>) -> Self {
        HotCors { store }
    }
}

impl<S, B> Transform<S, ServiceRequest> for HotCors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type InitError = ();
    type Transform = HotCorsService<S, B>;
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(HotCorsService {
            inner: Rc::new(service),
            store: self.store.clone(),
            built: RefCell::new(None),
            _body: PhantomData,
        }))
    }
}

/// Forwards to the shared inner service, so each rebuilt `Cors` wraps the same routes.
pub struct Shared<S>(Rc<S>);

impl<S, B> Service<ServiceRequest> for Shared<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = S::Future;

    fn poll_ready(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        self.0.call(req)
    }
}

type Built<S> = <Cors as Transform<Shared<S>, ServiceRequest>>::Transform;

/// The per-worker service [`HotCors`] builds. Hidden from the docs: rustdoc 1.95 crashes
/// (an ICE in its auto-trait finder) on the projection in `built`, and nothing outside this
/// file names the type.
#[doc(hidden)]
pub struct HotCorsService<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    inner: Rc<S>,
    store: Store<Policy>,
    /// The actix-cors middleware built for one policy version. A worker is single-threaded, so
    /// a `RefCell` is enough; the `Arc` is compared by pointer, never by value.
    #[allow(clippy::type_complexity)]
    built: RefCell<Option<(Arc<Versioned<Policy>>, Rc<Built<S>>)>>,
    _body: PhantomData<B>,
}

impl<S, B> Service<ServiceRequest> for HotCorsService<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Error>>;

    actix_web::dev::forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if route_answers_cors(&req) {
            // No snapshot either: the policy did not answer, so the verdict's fix must not be
            // phrased as an edit of it.
            let inner = Rc::clone(&self.inner);
            return Box::pin(async move { inner.call(req).await.map(|r| r.map_into_boxed_body()) });
        }
        // The one load of the policy for this request.
        let snapshot = self.store.load();
        req.extensions_mut()
            .insert(PolicySnapshot(Arc::clone(&snapshot)));
        let rules = match &snapshot.value.rules {
            PolicyRules::ActixCors(rules) => rules,
            PolicyRules::Exact(_) => {
                return super::exact_layer::call(&self.inner, snapshot, req);
            }
            PolicyRules::Express(_) => {
                return super::express_layer::call(&self.inner, snapshot, req);
            }
        };
        let cached = match &*self.built.borrow() {
            Some((p, mw)) if Arc::ptr_eq(p, &snapshot) => Some(Rc::clone(mw)),
            _ => None,
        };
        let mw = match cached {
            Some(mw) => mw,
            None => {
                let built = to_actix(rules)
                    .new_transform(Shared(Rc::clone(&self.inner)))
                    .now_or_never();
                match built {
                    Some(Ok(mw)) => {
                        let mw = Rc::new(mw);
                        *self.built.borrow_mut() = Some((snapshot, Rc::clone(&mw)));
                        mw
                    }
                    _ => {
                        // Unreachable for validated policies; answer rather than panic.
                        let res = HttpResponse::InternalServerError()
                            .body("sandbox: actix-cors refused this policy; see the terminal");
                        return Box::pin(async move { Ok(req.into_response(res)) });
                    }
                }
            }
        };
        Box::pin(async move { mw.call(req).await.map(|r| r.map_into_boxed_body()) })
    }
}
