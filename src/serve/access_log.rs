//! Recording what happened once an answer is known: the log line, the browser's verdict for
//! cross-origin API requests, the preflight-cache note the watcher warns with, and the
//! inspector's journal entry.
//!
//! Part of the outermost step (`front`), so refusals by the Host guard are logged too. It
//! only assembles: the verdict is `verdict`'s, the wording the journal's.

use std::time::Instant;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{ACCESS_CONTROL_MAX_AGE, ORIGIN};
use actix_web::{web, HttpMessage};

use super::{api, cookie_notes, cors_layer, verdict, OriginCtx};
use crate::browser::{
    is_preflight, needs_preflight_received, parse_max_age, Browser, Outcome, Verdict,
};
use crate::journal::{EngineVerdicts, Entry, RequestRecord, VerdictSummary, FAULT_CAUSE};
use crate::routes::Fault;
use crate::state::{unix_now_f64, Event};

/// What the log needs of the request, taken before the handler consumes it.
struct RequestFacts {
    started: Instant,
    method: String,
    path: String,
    origin: Option<String>,
    preflight: bool,
    preflight_required: bool,
}

impl RequestFacts {
    /// `api`: only API requests go to the journal, so only they are asked whether a browser
    /// needs a preflight for them.
    fn of(req: &ServiceRequest, api: bool) -> RequestFacts {
        let started = Instant::now();
        let method = req.method().as_str();
        let headers = req.headers();
        let preflight = is_preflight(method, |n| headers.contains_key(n));
        let origin = headers
            .get(ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        // A value that is not text is never safelisted; NUL stands in for it, since it is
        // not either.
        let lines = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or("\0")));
        let preflight_required =
            preflight || (api && origin.is_some() && needs_preflight_received(method, lines));
        RequestFacts {
            started,
            method: method.to_string(),
            path: req.path().to_string(),
            origin,
            preflight,
            preflight_required,
        }
    }
}

/// What the log has taken of a request before the inner steps consume it; `finish` records
/// the exchange once the answer is known.
pub(super) struct Pending {
    ctx: web::Data<OriginCtx>,
    asked: RequestFacts,
}

impl Pending {
    pub(super) fn start(req: &ServiceRequest, ctx: web::Data<OriginCtx>) -> Pending {
        let asked = RequestFacts::of(req, ctx.api.is_some());
        Pending { ctx, asked }
    }

    /// The origin the request came to.
    pub(super) fn origin(&self) -> &OriginCtx {
        &self.ctx
    }

    /// Logs the exchange, judges it and keeps it in the journal.
    pub(super) fn finish<B>(self, res: &ServiceResponse<B>) {
        let Pending { ctx, asked } = self;
        let fault = res
            .response()
            .extensions()
            .get::<api::InjectedFault>()
            .map(|f| f.0);
        let (verdicts, generation) = match fault {
            // Nothing reached the browser, so there are no headers to judge.
            Some(f) => (no_response_verdict(&ctx, &asked, f), None),
            None => judge(&ctx, &asked, res),
        };
        if let (Some(v), Some(i)) = (&verdicts, ctx.api) {
            if asked.preflight && v.verdict.outcome == Outcome::Allowed {
                let max_age = res
                    .headers()
                    .get(ACCESS_CONTROL_MAX_AGE)
                    .and_then(|v| v.to_str().ok());
                ctx.state.apis[i].note_preflight_cached(parse_max_age(max_age).max(0) as u64);
            }
        }
        let (verdict, verdict_if_credentialed, engines, engines_if_credentialed) = match verdicts {
            Some(v) => (
                Some(v.verdict),
                v.if_credentialed,
                Some(v.engines),
                v.engines_if_credentialed,
            ),
            None => (None, None, None, None),
        };
        let cookies = match (ctx.api, fault) {
            (Some(i), None) if !ctx.state.bench.no_verdict => cookie_notes::cookie_notes(
                &ctx.state.cookies,
                res.request(),
                &ctx.state.apis[i].url,
                res.status().as_u16(),
                res.headers(),
                asked.preflight,
            ),
            _ => Default::default(),
        };
        let record = RequestRecord {
            origin_name: ctx.name.clone(),
            method: asked.method,
            path: asked.path,
            status: fault.is_none().then(|| res.status().as_u16()),
            no_response: fault.map(Fault::no_response),
            origin: asked.origin,
            preflight: asked.preflight,
            preflight_required: asked.preflight_required,
            duration_ms: (asked.started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
            verdict,
            verdict_if_credentialed,
            verdicts: engines,
            verdicts_if_credentialed: engines_if_credentialed,
            cookies: cookies.chromium,
            cookies_in: cookies.elsewhere,
            carried_cookies: cookies.carried,
        };
        ctx.state.log.request(&record);
        // The inspector's feed: API requests only (a static origin's own page loads and event
        // streams would drown them).
        if ctx.api.is_some() && !ctx.state.bench.no_verdict {
            journal(&ctx, record, res, generation, fault.is_some());
        }
    }
}

/// The browser's verdicts, for cross-origin requests to an API only, and the policy
/// generation that answered. The response still holds the request, so the verdict reads
/// both where they are and copies nothing unless the exchange is new to this worker.
fn judge<B>(
    ctx: &OriginCtx,
    asked: &RequestFacts,
    res: &ServiceResponse<B>,
) -> (Option<verdict::Verdicts>, Option<u64>) {
    let extensions = res.request().extensions();
    let snapshot = extensions
        .get::<cors_layer::PolicySnapshot>()
        .map(|s| s.0.as_ref());
    let verdicts = match ctx.api {
        Some(i) if asked.origin.is_some() && !ctx.state.bench.no_verdict => verdict::verdicts(
            res.request(),
            &ctx.state.apis[i].url,
            res.status().as_u16(),
            res.headers(),
            snapshot,
        ),
        _ => None,
    };
    (verdicts, snapshot.map(|s| s.generation))
}

/// The verdict for a cross-origin API request the routes file's `fault` left without a
/// response: a network error, the same with or without credentials.
fn no_response_verdict(
    ctx: &OriginCtx,
    asked: &RequestFacts,
    fault: Fault,
) -> Option<verdict::Verdicts> {
    if ctx.api.is_none() || asked.origin.is_none() || ctx.state.bench.no_verdict {
        return None;
    }
    let judged = |b: Browser| {
        let mut v = Verdict::empty(None);
        v.browser = b;
        v.with_no_response(fault.no_response(), FAULT_CAUSE, Some(fault.fix()))
    };
    let (chromium, engines) = EngineVerdicts::judged(judged);
    Some(verdict::Verdicts {
        verdict: std::sync::Arc::new(VerdictSummary::from_verdict(&chromium).finish()),
        if_credentialed: None,
        engines: std::sync::Arc::new(engines),
        engines_if_credentialed: None,
    })
}

/// Records the exchange in the journal's ring, reusing the buffers of the entry it evicts,
/// and publishes a copy when a page has an event stream open (an unwatched sandbox pays for
/// none).
fn journal<B>(
    ctx: &OriginCtx,
    record: RequestRecord,
    res: &ServiceResponse<B>,
    generation: Option<u64>,
    unanswered: bool,
) {
    let listening = ctx.state.events.receiver_count() > 0;
    let (_, copy) = ctx.state.journal.record(record, listening, |e| {
        fill(ctx, e, res, generation, unanswered)
    });
    if let Some(entry) = copy {
        ctx.state.publish(Event::Request {
            entry: Box::new(entry),
        });
    }
}

/// `unanswered`: no response left the sandbox, so no response headers are shown.
fn fill<B>(
    ctx: &OriginCtx,
    e: &mut Entry,
    res: &ServiceResponse<B>,
    generation: Option<u64>,
    unanswered: bool,
) {
    e.at = unix_now_f64();
    let query = res.request().query_string();
    match (&mut e.query, query.is_empty()) {
        (_, true) => e.query = None,
        (Some(q), false) => {
            q.clear();
            q.push_str(query);
        }
        (None, false) => e.query = Some(query.to_string()),
    }
    // The verdicts were judged from the real headers; only what is kept is redacted.
    let redactor = ctx.state.journal.redactor();
    let request = res.request().headers().iter();
    e.request_headers
        .refill(redactor, request.map(|(n, v)| (n.as_str(), v.as_bytes())));
    let response = res.headers().iter().filter(|_| !unanswered);
    e.response_headers
        .refill(redactor, response.map(|(n, v)| (n.as_str(), v.as_bytes())));
    e.policy_generation = generation;
}
