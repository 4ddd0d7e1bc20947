//! What the page needs the server to allow, from the exchange and its verdict: the stack-
//! independent half of a fix.

use super::settings::comma_list;
use crate::browser::{CorsError, Credentials, Scenario, Verdict};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The page's origin, to be allowed by name.
    pub origin: String,
    /// The request carries credentials, so `*` will not do and
    /// `Access-Control-Allow-Credentials: true` must be sent.
    pub credentials: bool,
    /// A method the preflight must allow (not GET, HEAD or POST).
    pub method: Option<String>,
    /// Request headers the preflight must allow (lower-case, as the browser lists them).
    pub headers: Vec<String>,
    /// Response headers the page reads but cannot.
    pub expose: Vec<String>,
    /// An error answer (4xx, 5xx) arrived without Access-Control-Allow-Origin: the CORS
    /// layer may not run on the error path.
    pub on_errors: bool,
}

impl Needs {
    pub fn of(s: &Scenario, v: &Verdict, read_headers: &[String]) -> Needs {
        let preflight = v.preflight_request.as_ref();
        let method = preflight
            .and_then(|p| p.headers.first("access-control-request-method"))
            .map(str::to_owned);
        let headers = preflight
            .and_then(|p| p.headers.first("access-control-request-headers"))
            .map(|list| comma_list(&list.to_ascii_lowercase()))
            .unwrap_or_default();
        let expose = read_headers
            .iter()
            .filter(|h| {
                !v.readable_headers
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(h.as_str()))
            })
            .cloned()
            .collect();
        let final_status = s
            .redirects
            .last()
            .map(|h| h.response.status)
            .or(s.actual_response.as_ref().map(|r| r.status));
        // An error status with no Access-Control-Allow-Origin at all is most often the
        // error path skipping the CORS layer, even when the server's successes carry it.
        let on_errors = v.cors_error == Some(CorsError::MissingAllowOriginHeader)
            && final_status.is_some_and(|st| st >= 400);
        Needs {
            origin: s.request.origin.clone(),
            credentials: s.request.credentials == Credentials::Include,
            method,
            headers,
            expose,
            on_errors,
        }
    }
}
