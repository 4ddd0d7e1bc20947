//! Plays browser requests against an API origin in-process: the real actix-web app (real
//! actix-cors, real routes, the exact-mode emitter) called without a socket, with the requests
//! the browser model says Chromium would send, and the verdict on what came back.
//!
//! Used by `sandbox check` and `sandbox fixtures verify`, so both judge exactly what `up`
//! would serve. Owns the request/response plumbing only; every CORS decision is the
//! `browser` model's.

use actix_web::body::MessageBody;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::test;

use crate::browser::{
    self, evaluate_in, evaluate_unanswered, is_forbidden_request_header, normalize_method, Browser,
    Drive, FixContext, HeaderList, Next, PriorExchange, Scenario, Verdict,
};
use crate::config::HostAllowlist;
use crate::journal::FAULT_CAUSE;
use crate::policy::Policy;
use crate::routes::Fault;
use crate::serve::api::InjectedFault;
use crate::serve::api_app;
use crate::state::SharedState;

/// Redirects followed within the sandbox before giving up (Chromium allows 20).
const MAX_HOPS: usize = 5;

/// The sandbox's API apps by origin: a redirect into another API origin of the sandbox is
/// followed there, as the browser would reach it; one off the sandbox ends the walk.
struct Apps<S> {
    /// In the order of the state's `apis` (an origin is `None` if its URL does not parse),
    /// each with the fix context of its own policy file.
    apps: Vec<(Option<url::Origin>, S, FixContext)>,
}

impl<S> Apps<S> {
    /// The app at `url`'s origin, and the fix context of its policy.
    fn at(&self, url: &str) -> Option<(&S, &FixContext)> {
        let origin = url::Url::parse(url).ok()?.origin();
        self.apps
            .iter()
            .find(|(o, ..)| o.as_ref() == Some(&origin))
            .map(|(_, s, ctx)| (s, ctx))
    }
}

/// One request as played: the exchange the browser would have had, and its verdict.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Played {
    pub scenario: Scenario,
    pub verdict: Verdict,
}

/// A request as sent on the wire.
struct Wire<'a> {
    method: &'a str,
    url: &'a str,
    headers: &'a HeaderList,
}

/// The path and query of a URL, and its `host[:port]` for the Host header.
fn split_url(url: &str) -> (String, String) {
    match url::Url::parse(url) {
        Ok(u) => {
            let host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or("localhost")),
                None => u.host_str().unwrap_or("localhost").to_string(),
            };
            let mut path = u.path().to_string();
            if let Some(q) = u.query() {
                path.push('?');
                path.push_str(q);
            }
            (path, host)
        }
        Err(_) => (url.to_string(), "localhost".into()),
    }
}

/// The answer to one request, or `Err` with the routes file's `fault` when the real app ended
/// the connection without one.
async fn send<S: ApiService<B>, B: MessageBody>(
    app: &S,
    w: Wire<'_>,
) -> Result<browser::Response, Fault> {
    let (path, host) = split_url(w.url);
    let method = actix_web::http::Method::from_bytes(w.method.as_bytes())
        .unwrap_or(actix_web::http::Method::GET);
    let mut req = test::TestRequest::default()
        .method(method)
        .uri(&path)
        .insert_header(("host", host));
    for (name, value) in w.headers.lines() {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            req = req.append_header((n, v));
        }
    }
    let res = test::call_service(app, req.to_request()).await;
    if let Some(InjectedFault(fault)) = res.response().extensions().get::<InjectedFault>() {
        return Err(*fault);
    }
    let mut headers = HeaderList::new();
    for (name, value) in res.headers() {
        headers.push(
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    // On a socket the HTTP server frames a sized body with Content-Length, which script may
    // read (a safelisted response header); called in-process, nothing framed it yet.
    let status = res.status().as_u16();
    if let actix_web::body::BodySize::Sized(n) = res.response().body().size() {
        let bodiless = matches!(status, 100..=199 | 204 | 304);
        if !bodiless && !res.headers().contains_key("content-length") {
            headers.push("content-length", n.to_string());
        }
    }
    Ok(browser::Response { status, headers })
}

/// The headers the browser puts on the actual request: the page's own (minus those fetch
/// drops) plus `Origin`.
fn actual_headers(r: &browser::Request, origin: &str, browser: Browser) -> HeaderList {
    let mut h = HeaderList::new();
    let sends_ua = browser.quirks().sends_script_user_agent;
    for (name, value) in r.headers.lines() {
        let ua = sends_ua && name.eq_ignore_ascii_case("user-agent");
        if ua || !is_forbidden_request_header(name, value) {
            h.push(name, value);
        }
    }
    h.push("Origin", origin);
    h
}

/// The policy's own reason for a refusal, with the header names as the page wrote them.
fn refine_fix(p: &mut Played, policy: &Policy) {
    let r = &p.scenario.request;
    let sends_ua = p.verdict.browser.quirks().sends_script_user_agent;
    let pairs: Vec<(String, String)> = r
        .headers
        .lines()
        .filter(|(n, _)| sends_ua || !n.eq_ignore_ascii_case("user-agent"))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let headers = browser::cors_unsafe_header_names_as_written(&pairs);
    let method = normalize_method(&r.method);
    let preflight = p
        .verdict
        .preflight_request
        .as_ref()
        .map(|_| (method.as_str(), headers.as_slice()));
    let blocked_by_cors = !p.verdict.is_allowed() && p.verdict.cors_error.is_some();
    if let Some(fix) = policy.refusal_fix(blocked_by_cors, &r.origin, preflight) {
        p.verdict.fix = Some(fix);
    }
}

/// The app `play` calls: the API origin's service, in-process.
trait ApiService<B>:
    actix_web::dev::Service<
    actix_http::Request,
    Response = actix_web::dev::ServiceResponse<B>,
    Error = actix_web::Error,
>
{
}

impl<S, B> ApiService<B> for S where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >
{
}

/// One request of a page's timeline: how long after the previous one began it is made, and
/// a policy deployed just before it (the file's text with it).
#[derive(Debug, Clone)]
pub struct Step {
    pub request: browser::Request,
    pub after_seconds: u64,
    pub deploy: Option<(Policy, String)>,
}

impl From<browser::Request> for Step {
    fn from(request: browser::Request) -> Step {
        Step {
            request,
            after_seconds: 0,
            deploy: None,
        }
    }
}

/// One request at second `now` of the page's timeline, after those already `played` on the
/// same page (each with the second it began at): its preflight when the
/// browser would send one (a failed preflight ends it there), the actual request, and the
/// redirects it follows within the API origin.
async fn play_one<S: ApiService<B>, B: MessageBody>(
    apps: &Apps<S>,
    app: &S,
    request: &browser::Request,
    played: &[(Played, u64)],
    now: u64,
    ctx: &FixContext,
    browser: Browser,
) -> Played {
    let mut scenario = Scenario::new(request.clone());
    scenario.prior = played
        .iter()
        .map(|(p, began)| PriorExchange {
            seconds_before: (now - began) as f64,
            request: p.scenario.request.clone(),
            preflight_response: p.scenario.preflight_response.clone(),
            actual_response: p.scenario.actual_response.clone(),
        })
        .collect();
    let first = evaluate_in(&scenario, ctx, browser);
    if let (true, Some(pre)) = (first.preflight_sent, &first.preflight_request) {
        let wire = Wire {
            method: &pre.method,
            url: &pre.url,
            headers: &pre.headers,
        };
        match send(app, wire).await {
            Ok(res) => scenario.preflight_response = Some(res),
            Err(fault) => {
                // `preflight = false` let the OPTIONS reach a route that drops it.
                let mut verdict = Verdict::empty(first.id.clone());
                // In the engine's own words, like every other verdict here.
                verdict.browser = browser;
                verdict.preflight_required = first.preflight_required;
                verdict.preflight_sent = true;
                verdict.preflight_request = first.preflight_request.clone();
                let cause = format!("{FAULT_CAUSE} (on the preflight)");
                let verdict =
                    verdict.with_no_response(fault.no_response(), &cause, Some(fault.fix()));
                return Played { scenario, verdict };
            }
        }
        // A preflight that fails stops the browser before the actual request.
        let verdict = evaluate_in(&scenario, ctx, browser);
        if !verdict.is_allowed() {
            return Played { scenario, verdict };
        }
    }
    let method = normalize_method(&request.method);
    let headers = actual_headers(request, &request.origin, browser);
    let wire = Wire {
        method: &method,
        url: &request.url,
        headers: &headers,
    };
    let res = match send(app, wire).await {
        Ok(res) => res,
        Err(fault) => {
            let verdict = evaluate_unanswered(
                &scenario,
                ctx,
                fault.no_response(),
                FAULT_CAUSE,
                Some(fault.fix()),
                browser,
            );
            return Played { scenario, verdict };
        }
    };
    let redirected = res.redirect_location().is_some();
    scenario.actual_response = Some(res);
    let (dropped, driven) = if redirected {
        follow_redirects(apps, &mut scenario, ctx, browser).await
    } else {
        (None, None)
    };
    let verdict = driven.unwrap_or_else(|| evaluate_in(&scenario, ctx, browser));
    let verdict = match dropped {
        // The browser followed the redirects this far and then got nothing.
        Some(fault) if verdict.is_allowed() => {
            verdict.with_no_response(fault.no_response(), FAULT_CAUSE, Some(fault.fix()))
        }
        _ => verdict,
    };
    Played { scenario, verdict }
}

/// Follows the redirect hops the browser would, sending exactly what the model says it sends
/// next (a new preflight, `Origin: null` after a cross-origin hop, a 303's GET), into any API
/// origin of the sandbox; another server's answer is unknown here, so a hop off the sandbox
/// ends the walk (the verdict then says what it needs). Returns the fault of a hop that got
/// no response, and the verdict when the browser finished within the sandbox (it may have
/// stopped at a hop's preflight, which the scenario has no place for).
async fn follow_redirects<S: ApiService<B>, B: MessageBody>(
    apps: &Apps<S>,
    scenario: &mut Scenario,
    ctx: &FixContext,
    browser: Browser,
) -> (Option<Fault>, Option<Verdict>) {
    let mut drive = Drive::resume(scenario.clone(), ctx.clone(), browser);
    let mut sent = 0;
    let outcome = loop {
        let wire = match drive.next() {
            Next::Done(v) => break (None, Some(*v)),
            Next::Send(w) => w,
        };
        // Hop 0 is answered already: the model asking for it again means it has nothing
        // more to follow.
        if wire.hop == 0 || wire.hop > MAX_HOPS || sent > 2 * MAX_HOPS {
            break (None, None);
        }
        let Some((app, its_ctx)) = apps.at(&wire.url) else {
            break (None, None);
        };
        // A hop into another API origin of the sandbox: a fix there is to its policy file
        // (a route's or upstream's own CORS keeps the caller's generic words).
        if matches!(ctx, FixContext::Sandbox { .. }) {
            drive.set_context(its_ctx.clone());
        }
        let on_wire = Wire {
            method: &wire.method,
            url: &wire.url,
            headers: &wire.headers,
        };
        sent += 1;
        match send(app, on_wire).await {
            Ok(res) => drive.answer(&wire, res),
            Err(fault) => break (Some(fault), None),
        }
    };
    *scenario = drive.scenario().clone();
    outcome
}

/// Who answers a request's CORS when it is not the sandbox's policy: the fix then belongs
/// there, in header terms, and the note says why.
fn own_cors_note(
    routes: &crate::routes::Routes,
    request: &browser::Request,
) -> Option<&'static str> {
    let url = url::Url::parse(&request.url).ok()?;
    let (method, path) = (normalize_method(&request.method), url.path());
    if routes.upstream_answers_cors(&method, path) {
        Some("the upstream answered CORS itself (cors = \"upstream\" in the routes file): the sandbox's policy file is not in force here, so the fix is for the upstream server")
    } else if routes.answers_cors(&method, path) {
        Some("the route answers CORS itself (cors = \"route\" in the routes file): the policy file is not in force here, so the fix is for the headers the route sends")
    } else {
        None
    }
}

/// Plays `steps` in order against API origin `index` (earlier ones may fill the preflight
/// cache for later ones, as on one page; a step's `deploy` is swapped in before it, as a
/// save would be). The routes' latency and random errors are left out (the verdict is about
/// the answer a route gives); a `fault` is played, since the page then gets no answer at all.
pub fn play(
    state: SharedState,
    index: usize,
    hosts: HostAllowlist,
    steps: &[Step],
    ctx: &FixContext,
    browser: Browser,
) -> Vec<Played> {
    let routes = state.apis[index].routes.load();
    let stripped = routes.value.has_timing();
    if stripped {
        state.apis[index]
            .routes
            .swap(routes.value.without_timing(), routes.source.clone());
    }
    actix_web::rt::System::new().block_on(async move {
        let mut apps = Vec::new();
        for (i, api) in state.apis.iter().enumerate() {
            let origin = url::Url::parse(&api.url).ok().map(|u| u.origin());
            let app = test::init_service(api_app(state.clone(), i, hosts.clone())).await;
            let its = api.policy.load();
            let its_ctx = FixContext::Sandbox {
                policy_file: its.value.fix_target(),
                exact_mode: its.value.is_exact(),
            };
            apps.push((origin, app, its_ctx));
        }
        let apps = Apps { apps };
        let app = &apps.apps[index].1;
        // Each played request with the second of the timeline it began at.
        let mut played: Vec<(Played, u64)> = Vec::new();
        let mut own_cors = Vec::new();
        let mut in_force = Vec::new();
        let mut now = 0;
        for step in steps {
            now += step.after_seconds;
            if let Some((p, text)) = &step.deploy {
                state.apis[index].policy.swap(p.clone(), text.clone());
            }
            in_force.push(state.apis[index].policy.load());
            let request = &step.request;
            let note = own_cors_note(&routes.value, request);
            let here = if note.is_some() { &FixContext::Generic } else { ctx };
            let p = play_one(&apps, app, request, &played, now, here, browser).await;
            played.push((p, now));
            own_cors.push(note);
        }
        let mut played: Vec<Played> = played.into_iter().map(|(p, _)| p).collect();
        for ((p, note), policy) in played.iter_mut().zip(own_cors).zip(in_force) {
            match note {
                Some(note) => p.verdict.notes.push(note.into()),
                None => refine_fix(p, &policy.value),
            }
            if stripped {
                p.verdict.notes.push(
                    "delays, slow bodies and random errors (error_rate) in the routes file were not applied here (`sandbox up` applies them)".into(),
                );
            }
        }
        played
    })
}
