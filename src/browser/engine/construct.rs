//! What `fetch()` checks before anything goes out, apart from the steps that follow.

use super::super::model::{Mode, Outcome, Request, Verdict};
use super::super::request::{prepare, Prepared};
use super::super::url::{Origin, Url};

/// What `new Request()` and `fetch()` check before anything is sent (Fetch "Request
/// constructor" and "fetch method"): the page origin and URL parse, the URL carries no
/// credentials, the method and headers are valid. On failure `v` is complete (the
/// TypeError Chromium throws) and the result is `None`.
pub(super) fn construct_request(
    request: &Request,
    v: &mut Verdict,
) -> Option<(Origin, Url, Prepared)> {
    let fetch_error = |v: &mut Verdict, text: String| {
        v.outcome = Outcome::Blocked;
        v.message = Some(format!("Failed to execute 'fetch' on 'Window': {text}"));
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
        fetch_error(v, format!("Failed to parse URL from {}", request.url));
        return None;
    };
    if url.has_credentials() {
        fetch_error(
            v,
            format!(
                "Request cannot be constructed from a URL that includes credentials: {}",
                request.url
            ),
        );
        return None;
    }
    let prepared = match prepare(&request.method, &request.headers, request.mode) {
        Ok(p) => p,
        Err(text) => {
            fetch_error(v, text);
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
