//! What `fetch()` checks before anything goes out, apart from the steps that follow.

use super::super::browsers::Browser;
use super::super::model::{Credentials, Initiator, Mode, Outcome, Request, Verdict};
use super::super::request::{prepare, Prepared};
use super::super::url::{Origin, Url};

/// What `new Request()` and `fetch()` check before anything is sent (Fetch "Request
/// constructor" and "fetch method"): the page origin and URL parse, the URL carries no
/// credentials, the method and headers are valid. On failure `v` is complete (the
/// TypeError the engine throws, which prints no console line of its own) and the result
/// is `None`.
pub(super) fn construct_request(
    request: &Request,
    browser: Browser,
    v: &mut Verdict,
) -> Option<(Origin, Url, Prepared)> {
    let thrown = |v: &mut Verdict, text: String| {
        v.outcome = Outcome::Blocked;
        v.js_error = Some(format!("TypeError: {text}"));
        v.message = Some(text);
    };
    let Some(page_origin) = Origin::parse(&request.origin) else {
        v.outcome = Outcome::Blocked;
        v.message = Some(format!(
            "invalid scenario: request.origin '{}' is not a serialized origin",
            request.origin
        ));
        return None;
    };
    let Some(url) = Url::parse(&request.url) else {
        let text = match browser {
            Browser::Chromium => format!(
                "Failed to execute 'fetch' on 'Window': Failed to parse URL from {}",
                request.url
            ),
            // Doubt: Firefox's and WebKit's DOM strings, not pinned by a scenario (the
            // differential cannot serve an unparseable URL).
            Browser::Firefox => format!("Window.fetch: {} is not a valid URL.", request.url),
            Browser::WebKit => "URL is not valid or contains user credentials.".to_owned(),
        };
        thrown(v, text);
        return None;
    };
    if url.has_credentials() {
        let text = match browser {
            Browser::Chromium => format!(
                "Failed to execute 'fetch' on 'Window': Request cannot be constructed from a URL \
                 that includes credentials: {}",
                request.url
            ),
            Browser::Firefox => format!(
                "Window.fetch: {} is an url with embedded credentials.",
                request.url
            ),
            Browser::WebKit => "URL is not valid or contains user credentials.".to_owned(),
        };
        thrown(v, text);
        return None;
    }
    if let Some(problem) = element_problem(request) {
        v.outcome = Outcome::Blocked;
        v.message = Some(format!("invalid scenario: {problem}"));
        return None;
    }
    let prepared = match prepare(
        &request.method,
        &request.headers,
        request.mode,
        browser.quirks(),
    ) {
        Ok(p) => p,
        Err(refusal) => {
            thrown(v, refusal.text(browser));
            return None;
        }
    };
    v.notes.extend(prepared.notes.iter().cloned());
    if request.mode == Mode::Navigate {
        v.notes
            .push("mode 'navigate' is outside this model; treated as no-cors".to_owned());
    }
    Some((page_origin, url, prepared))
}

/// What a scenario asks of an element load that no page can: an element (or `EventSource`)
/// sends a GET in CORS mode with no headers of the page's choosing, and a font never sends
/// credentials.
fn element_problem(request: &Request) -> Option<String> {
    let i = request.initiator;
    if !i.is_element() {
        return None;
    }
    let what = i.element_text();
    if !request.method.eq_ignore_ascii_case("GET") {
        return Some(format!(
            "{what} loads with GET, not {}: remove request.method",
            request.method
        ));
    }
    if !request.headers.is_empty() {
        return Some(format!(
            "{what} sends no headers of the page's choosing: remove request.headers"
        ));
    }
    if request.mode != Mode::Cors {
        return Some(format!(
            "{what} with crossorigin loads in mode cors: remove request.mode"
        ));
    }
    if i == Initiator::Font && request.credentials == Credentials::Include {
        return Some(
            "@font-face never sends credentials (credentials mode same-origin): remove request.credentials"
                .to_owned(),
        );
    }
    None
}
