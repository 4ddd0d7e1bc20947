//! A pure model of the browsers' CORS algorithm (the Fetch standard as Chromium 156 ships
//! it, with Firefox's and WebKit's differences as data in `browsers`): given the request a
//! page passes to `fetch()` and the responses the servers gave, it says whether a preflight
//! is needed and what it carries, whether the browser blocks the exchange, with the
//! engine's error name, failed parameter and exact console lines, what script may read,
//! and a concrete fix. It does no I/O, reads no clock (time is an input) and never refers
//! to crate items outside `crate::browser`.
//!
//! Where Chromium and the spec differ, Chromium wins; each difference is recorded at the
//! rule that implements it and pinned by a test in `tests/chromium_differences.rs`.
//!
//! Files, leaves first; each imports only files named before it: `url`, `cors_error` and
//! `browsers` (the three engines and the behaviour that differs between them, as data; no
//! imports from the model), `site` (schemeful sites by the Public Suffix List),
//! `cookie_model` (the cookie parts of the data), `model` (the data), `no_response` (an exchange without a response), `request` (request-side rules), `words` (Firefox's and WebKit's console lines for a failure), `secure_context` (mixed content),
//! `cookies` (cookie verdicts: Set-Cookie stored, held cookies sent),
//! `catalogue` (error text and fix templates), `check` (response-side checks), `advice`
//! (fixes and notes filled in for one exchange), `cache` (the preflight cache), `har`
//! (HAR import), `render` (text layout), `engine` (the order of the algorithm's steps), `drive` (an exchange answered step by step),
//! then this file, which ties them into [`evaluate`] and the server-side judges. The unit tests under `tests/` may use any of them.
//!
//! ```
//! use sandbox::browser::{evaluate, FixContext, Scenario};
//!
//! let scenario: Scenario = serde_json::from_str(r#"{
//!   "request": {"url": "http://api.test:3000/api/payment", "origin": "http://frontend.test:8080",
//!               "method": "PUT", "headers": {"X-PKR-Auth": "token123"}, "credentials": "include"},
//!   "preflight_response": {"status": 204, "headers": {
//!       "Access-Control-Allow-Origin": "http://frontend.test:8080",
//!       "Access-Control-Allow-Credentials": "true",
//!       "Access-Control-Allow-Methods": "PUT"}}
//! }"#).unwrap();
//! let ctx = FixContext::Sandbox { policy_file: "cors.toml".into(), exact_mode: false };
//! let verdict = evaluate(&scenario, &ctx);
//! assert!(!verdict.is_allowed());
//! assert_eq!(verdict.cors_error.unwrap().name(), "HeaderDisallowedByPreflightResponse");
//! assert_eq!(verdict.failed_parameter.as_deref(), Some("x-pkr-auth"));
//! assert_eq!(verdict.message.as_deref(), Some(
//!     "Access to fetch at 'http://api.test:3000/api/payment' from origin \
//!      'http://frontend.test:8080' has been blocked by CORS policy: Request header field \
//!      x-pkr-auth is not allowed by Access-Control-Allow-Headers in preflight response."));
//! assert_eq!(verdict.fix.as_deref(), Some("add \"X-PKR-Auth\" to allowed_headers in cors.toml"));
//! let preflight = verdict.preflight_request.unwrap();
//! assert_eq!(preflight.headers.get("Access-Control-Request-Headers").as_deref(), Some("x-pkr-auth"));
//! ```

#![deny(missing_docs)]

mod advice;
mod browsers;
mod cache;
mod catalogue;
mod check;
mod cookie_model;
mod cookies;
mod cors_error;
mod drive;
mod engine;
mod har;
mod model;
mod no_response;
mod render;
mod request;
mod secure_context;
mod site;
mod url;
mod words;

#[cfg(test)]
mod tests;

pub use browsers::{Browser, CachedWildcard, Quirks};
pub use cache::{CacheKey, Lookup, PreflightCache};
pub use catalogue::{
    console_message, console_reason, encode_hint, CatalogueEntry, MessageContext, CATALOGUE,
};
pub use check::{
    check_access, check_preflight_response, parse_expose_headers, parse_max_age,
    readable_headers_basic, readable_headers_cors, Failure, PreflightResult, MAX_MAX_AGE,
    SAFELISTED_RESPONSE_HEADERS,
};
pub use cookie_model::{
    CookieAction, CookieOutcome, CookieVerdict, HeldCookie, SameSite, ThirdPartyCookies,
};
pub use cookies::{
    devtools_lists_mismatch, judge_cookies, CookieJar, SetCookie, DEVTOOLS_COOKIE_REASONS,
};
pub use cors_error::CorsError;
pub use har::{
    import_har, scenarios_from_har, CredentialsEvidence, FailedLoad, HarError, HarImport, HarItem,
    RecordedBody, Recorder, SkippedLoads,
};
pub use model::{
    Credentials, FixContext, HeaderList, Initiator, Mode, Outcome, PreflightRequest, PriorExchange,
    RedirectHop, Request, Response, Scenario, Verdict,
};
pub use no_response::{NoResponse, FETCH_NETWORK_ERROR};
pub use render::{render_engines, render_text};
pub use request::{
    access_control_request_headers, cors_unsafe_header_names_as_written,
    cors_unsafe_request_header_names, is_cors_safelisted_method, is_cors_safelisted_request_header,
    is_forbidden_method, is_forbidden_request_header, is_preflight, is_token, needs_preflight,
    needs_preflight_received, normalize_method, Refusal,
};
pub use secure_context::{is_loopback_host, is_mixed_content, potentially_trustworthy};
pub use site::{registrable_domain, Site};
pub use url::{Origin, Url};

pub use drive::{Drive, Next};
pub use engine::WireRequest;
use engine::{run, Exchange, Missing};

/// Judges a scenario as Chromium does: replays `prior` exchanges (oldest first, each at
/// `-seconds_before`) into a fresh preflight cache, then the request itself at time 0.
pub fn evaluate(s: &Scenario, ctx: &FixContext) -> Verdict {
    evaluate_in(s, ctx, Browser::Chromium)
}

/// [`evaluate`] as `browser` does: its behaviour where it differs, its words.
pub fn evaluate_in(s: &Scenario, ctx: &FixContext, browser: Browser) -> Verdict {
    let mut cache = replay_prior(s, ctx, browser);
    let ex = Exchange {
        request: &s.request,
        preflight: s.preflight_response.as_ref(),
        actual: s.actual_response.as_ref(),
        redirects: &s.redirects,
        missing: Missing::Note,
        next_hop_preflight: None,
        browser,
    };
    with_cookies(s, run(s.id.clone(), &ex, &mut cache, 0.0, ctx))
}

/// `v` with the scenario's cookie verdicts and notes added.
fn with_cookies(s: &Scenario, mut v: Verdict) -> Verdict {
    let (cookies, notes) = judge_cookies(s, v.browser);
    v.cookies = cookies;
    v.notes.extend(notes);
    v
}

/// A preflight cache holding what the scenario's `prior` exchanges left in it.
fn replay_prior(s: &Scenario, ctx: &FixContext, browser: Browser) -> PreflightCache {
    let mut cache = PreflightCache::new();
    for prior in &s.prior {
        let ex = Exchange {
            request: &prior.request,
            preflight: prior.preflight_response.as_ref(),
            actual: prior.actual_response.as_ref(),
            redirects: &[],
            missing: Missing::Note,
            next_hop_preflight: None,
            browser,
        };
        run(None, &ex, &mut cache, -prior.seconds_before, ctx);
    }
    cache
}

/// The request side and any preflight of `s`, as [`evaluate`] judges them, for an exchange
/// whose actual response is not there to judge.
fn judge_up_to_the_actual_response(s: &Scenario, ctx: &FixContext, browser: Browser) -> Verdict {
    let mut cache = replay_prior(s, ctx, browser);
    let ex = Exchange {
        request: &s.request,
        preflight: s.preflight_response.as_ref(),
        actual: None,
        redirects: &[],
        missing: Missing::PreflightOnly,
        next_hop_preflight: None,
        browser,
    };
    run(s.id.clone(), &ex, &mut cache, 0.0, ctx)
}

/// Judges a scenario whose actual request got no response (`kind`, ended by `cause`): the
/// request side and any preflight as [`evaluate`] judges them, then the network error the page
/// sees instead of a CORS check. `fix` is what to change for an answer.
pub fn evaluate_unanswered(
    s: &Scenario,
    ctx: &FixContext,
    kind: NoResponse,
    cause: &str,
    fix: Option<String>,
    browser: Browser,
) -> Verdict {
    let v = judge_up_to_the_actual_response(s, ctx, browser);
    if v.is_allowed() {
        v.with_no_response(kind, cause, fix)
    } else {
        // The preflight failed first: the actual request was never sent.
        v
    }
}

/// Judges a HAR item whose load the browser recorded as failed (`failed`): no response
/// is in the file, so never ALLOWED. A preflight that fails, or a request refused before
/// anything is sent, is the cause and is reported as such; otherwise the verdict names the
/// likely cause and `probe` (the command line that asks the live server) as the fix.
pub fn evaluate_recorded_failure(
    s: &Scenario,
    ctx: &FixContext,
    failed: &FailedLoad,
    probe: Option<String>,
    browser: Browser,
) -> Verdict {
    let mut v = judge_up_to_the_actual_response(s, ctx, browser);
    if failed.preflight && v.preflight_required {
        // The engine's notes speak of a scenario lacking a preflight response; here the
        // recording says why.
        v.notes.clear();
        let likely = "the preflight (OPTIONS) got no response the HAR kept: the server may \
                      not answer OPTIONS for this URL, or could not be reached"
            .to_owned();
        return v.with_recorded_failure(&failed.net_error, likely, probe);
    }
    if !v.is_allowed() {
        v.notes.push(format!(
            "the browser recorded the load as failed ({}); the verdict above is why",
            failed.net_error
        ));
        return v;
    }
    let likely = likely_cause(s, &v);
    v.with_recorded_failure(&failed.net_error, likely, probe)
}

/// What a failed load with no recorded response most likely met, from what the request
/// and its preflight show.
fn likely_cause(s: &Scenario, v: &Verdict) -> String {
    let creds = if s.request.credentials == Credentials::Include {
        " (or, with credentials, `Access-Control-Allow-Credentials: true`)"
    } else {
        ""
    };
    let origin = &s.request.origin;
    if v.preflight_required && s.preflight_response.is_some() {
        format!(
            "the preflight passed, so the actual response most likely lacks \
             `Access-Control-Allow-Origin: {origin}`{creds}; a server error answered \
             without CORS headers looks the same"
        )
    } else if v.preflight_required {
        format!(
            "a preflight was needed and the HAR holds none (older exports leave preflights \
             out): the preflight or the actual response most likely lacks the CORS headers \
             for `{origin}`{creds}"
        )
    } else {
        format!(
            "no preflight was needed, so the response most likely lacks \
             `Access-Control-Allow-Origin: {origin}`{creds}; an unreachable server fails \
             the same way"
        )
    }
}

fn header_pairs(names: &[String]) -> Vec<(String, String)> {
    // A name in Access-Control-Request-Headers was unsafe for the browser, so the exact
    // value no longer matters; a non-safelisted placeholder keeps it unsafe.
    names
        .iter()
        .map(|n| (n.clone(), "\u{1}".to_owned()))
        .collect()
}

/// What a preflight the mock API received asked for.
#[derive(Debug, Clone, Copy)]
pub struct PreflightAsked<'a> {
    /// Its `Origin`.
    pub origin: &'a str,
    /// The URL it was sent to.
    pub url: &'a str,
    /// `Access-Control-Request-Method`.
    pub method: &'a str,
    /// The names from `Access-Control-Request-Headers`.
    pub headers: &'a [String],
}

/// For the mock API: the verdict on one preflight it answered, as `browser` would judge it.
pub fn judge_preflight(
    asked: PreflightAsked,
    credentials: Credentials,
    response: &Response,
    ctx: &FixContext,
    browser: Browser,
) -> Verdict {
    let PreflightAsked {
        origin,
        url,
        method: requested_method,
        headers: requested_headers,
    } = asked;
    let mut request = Request::new(url, origin);
    request.method = requested_method.to_owned();
    request.credentials = credentials;
    let pairs = header_pairs(requested_headers);
    for (n, v) in &pairs {
        request.headers.push(n.clone(), v.clone());
    }
    let mut v = evaluate_preflight_only(&request, response, ctx, browser);
    // The ACRH the browser sent is what the server saw; echo it verbatim.
    if let Some(p) = v.preflight_request.as_mut() {
        let mut headers = HeaderList::new();
        headers.push("Origin", origin);
        headers.push("Access-Control-Request-Method", requested_method);
        if !requested_headers.is_empty() {
            headers.push(
                "Access-Control-Request-Headers",
                requested_headers.join(","),
            );
        }
        p.headers = headers;
    }
    v
}

fn evaluate_preflight_only(
    request: &Request,
    response: &Response,
    ctx: &FixContext,
    browser: Browser,
) -> Verdict {
    let mut cache = PreflightCache::new();
    let ex = Exchange {
        request,
        preflight: Some(response),
        actual: None,
        redirects: &[],
        missing: Missing::PreflightOnly,
        next_hop_preflight: None,
        browser,
    };
    let mut v = run(None, &ex, &mut cache, 0.0, ctx);
    if !v.preflight_required {
        v.notes.push(format!(
            "this request needs no preflight in {}; the OPTIONS was not sent by a browser",
            browser.display_name()
        ));
    }
    v
}

/// What an actual (non-preflight) request the mock API received was.
#[derive(Debug, Clone, Copy)]
pub struct ActualAsked<'a> {
    /// Its `Origin`.
    pub origin: &'a str,
    /// The URL it was sent to.
    pub url: &'a str,
    /// Its method.
    pub method: &'a str,
    /// The credentials mode it is judged under.
    pub credentials: Credentials,
    /// What made it: `fetch()` unless the request says it is an element's
    /// ([`initiator_of_request`]).
    pub initiator: Initiator,
}

/// What made a request, as far as its headers say: `Sec-Fetch-Dest` names an element's load
/// (`font`, `script`, `image`; a preload names what it is `as`), and an `EventSource` asks
/// for `text/event-stream` with destination `empty`. Anything else is judged as `fetch()`.
pub fn initiator_of_request(sec_fetch_dest: Option<&str>, accept: Option<&str>) -> Initiator {
    match sec_fetch_dest.map(str::trim) {
        Some(d) if d.eq_ignore_ascii_case("font") => Initiator::Font,
        Some(d) if d.eq_ignore_ascii_case("script") => Initiator::Script,
        Some(d) if d.eq_ignore_ascii_case("image") => Initiator::Image,
        Some(d)
            if d.eq_ignore_ascii_case("empty")
                && accept.is_some_and(|a| a.trim().eq_ignore_ascii_case("text/event-stream")) =>
        {
            Initiator::EventSource
        }
        _ => Initiator::Fetch,
    }
}

/// For the mock API: the verdict on one actual (non-preflight) response it sent.
pub fn judge_actual(
    asked: ActualAsked,
    response: &Response,
    ctx: &FixContext,
    browser: Browser,
) -> Verdict {
    let ActualAsked {
        origin,
        url,
        method,
        credentials,
        initiator,
    } = asked;
    let mut request = Request::new(url, origin);
    request.method = method.to_owned();
    request.credentials = credentials;
    // An element's load is a GET with no headers of the page's choosing; a request that
    // claims a destination but is not one is judged as the fetch it is.
    if initiator.is_element() && method.eq_ignore_ascii_case("GET") {
        request.initiator = initiator;
    }
    let mut cache = PreflightCache::new();
    let ex = Exchange {
        request: &request,
        preflight: None,
        actual: Some(response),
        redirects: &[],
        missing: Missing::Note,
        next_hop_preflight: None,
        browser,
    };
    let mut v = run(None, &ex, &mut cache, 0.0, ctx);
    if v.preflight_required && v.cors_error.is_none() && !v.is_allowed() {
        // The missing preflight is not what the server asked about: judge the response.
        let mut get = request.clone();
        get.method = "GET".to_owned();
        let ex = Exchange {
            request: &get,
            preflight: None,
            actual: Some(response),
            redirects: &[],
            missing: Missing::Note,
            next_hop_preflight: None,
            browser,
        };
        let mut again = run(None, &ex, &mut PreflightCache::new(), 0.0, ctx);
        again.preflight_required = true;
        again.notes.push(format!(
            "a {method} request needs a preflight first; this verdict covers the response only"
        ));
        v = again;
    }
    v
}
