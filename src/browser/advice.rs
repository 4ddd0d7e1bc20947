//! The advice the engine adds to a verdict beyond Chromium's own message: the fix for a
//! failure (the catalogue's template filled in for this exchange, plus the remarks that
//! depend on it: wildcards, method case, a tainting redirect) and the notes about
//! preflight caching and a missing `Vary: Origin`. It decides nothing: the engine calls
//! it once a step's outcome is known.

use super::catalogue::{fix_text, FixDetails};
use super::check::{Failure, MAX_MAX_AGE};
use super::cors_error::CorsError;
use super::model::{Credentials, FixContext, Response};
use super::request::access_control_request_headers;

/// The exchange a fix is phrased for, as it stands when the failure happens.
pub(super) struct FixSubject<'a> {
    /// Who applies the fix.
    pub ctx: &'a FixContext,
    /// The request headers as fetch() built them (the page's spelling).
    pub headers: &'a [(String, String)],
    /// The method after normalisation and any redirect's change to GET.
    pub method: &'a str,
    /// The origin the server must allow: the page's, or "null" once tainted.
    pub origin: String,
    /// The URL of the hop that failed.
    pub url: String,
    /// The credentials mode the page asked for.
    pub credentials: Credentials,
    /// Whether a cross-origin redirect made the browser send `Origin: null`.
    pub tainted: bool,
}

/// The fix for `failure`, found on `response` (None when no response was involved).
pub(super) fn fix_for(s: &FixSubject, failure: &Failure, response: Option<&Response>) -> String {
    let param = failure.param.clone().unwrap_or_default();
    let header = s
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&param))
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| {
            s.headers
                .iter()
                .find(|(n, v)| access_control_request_headers(&[(n.clone(), v.clone())]).is_some())
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| "Content-Type".to_owned())
        });
    let details = FixDetails {
        param: param.clone(),
        origin: s.origin.clone(),
        method: s.method.to_owned(),
        header,
        url: s.url.clone(),
        status: response.map(|r| r.status.to_string()).unwrap_or_default(),
        location: response
            .and_then(|r| r.headers.first("location"))
            .unwrap_or("")
            .to_owned(),
    };
    let mut text = fix_text(failure.error, s.ctx, &details);
    let allow_headers = response
        .and_then(|r| r.headers.get("access-control-allow-headers"))
        .unwrap_or_default();
    let allow_methods = response
        .and_then(|r| r.headers.get("access-control-allow-methods"))
        .unwrap_or_default();
    let credentialed = s.credentials == Credentials::Include;
    match failure.error {
        CorsError::HeaderDisallowedByPreflightResponse if allow_headers.contains('*') => {
            if credentialed {
                text.push_str(" ('*' is literal for requests with credentials)");
            } else {
                text.push_str(" ('*' never covers Authorization: list it by name)");
            }
        }
        CorsError::MethodDisallowedByPreflightResponse => {
            let upper = param.to_ascii_uppercase();
            if upper != param {
                text.push_str(&format!(
                    "; or write the method as '{upper}' in fetch(): only DELETE, GET, HEAD, \
                     OPTIONS, POST and PUT are upper-cased for you, and methods match \
                     case-sensitively"
                ));
            } else if credentialed && allow_methods.contains('*') {
                text.push_str(" ('*' is literal for requests with credentials)");
            }
        }
        _ => {}
    }
    if s.tainted && failure.error != CorsError::RedirectContainsCredentials {
        text.push_str(
            " (a cross-origin redirect tainted the request, so the browser sends \
             Origin: null; allowing `null` would let every sandboxed iframe and data: page \
             in too, so avoiding that redirect is the safer fix)",
        );
    }
    text
}

/// Notes on a preflight about to be cached: a max-age above Chromium's cap, and how long
/// a change to the policy stays unseen by the page.
pub(super) fn max_age_notes(response: &Response, max_age: i64) -> Vec<String> {
    let mut notes = Vec::new();
    let raw = response.headers.get("access-control-max-age");
    if let Some(raw) = &raw {
        if raw
            .trim()
            .parse::<i64>()
            .map(|n| n > MAX_MAX_AGE)
            .unwrap_or(false)
        {
            notes.push(format!(
                "Access-Control-Max-Age: {raw} is capped by Chromium at {MAX_MAX_AGE} s"
            ));
        }
    }
    if max_age > 5 {
        notes.push(format!(
            "Chromium reuses this preflight for {max_age} s: changes to allowed methods or \
             headers are not seen by this page for this URL until it expires"
        ));
    }
    notes
}

/// A lint on an allowed actual response: a specific origin echoed without
/// `Vary: Origin`, which lets a shared cache serve it to another origin.
pub(super) fn missing_vary_note(response: &Response) -> Option<String> {
    let acao = response.headers.get("access-control-allow-origin");
    if let Some(acao) = acao {
        if acao != "*" {
            let vary = response
                .headers
                .get("vary")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !vary
                .split(',')
                .any(|v| v.trim() == "origin" || v.trim() == "*")
            {
                return Some(
                    "the response echoes a specific origin without Vary: Origin: a shared \
                     cache could serve it to another origin"
                        .to_owned(),
                );
            }
        }
    }
    None
}
