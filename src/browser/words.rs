//! What Firefox and WebKit print for a CORS failure the algorithm found: their console
//! lines, in order, and Firefox's reason key. Chromium's wording lives in `catalogue`; the
//! failure itself (which check failed, on which response) is the same for every engine, so
//! each engine's words are a function of it and of the response it was found on.
//!
//! Every format here was read off the real engine's console (Firefox 153 ESR's browser
//! console, WebKitGTK 2.50's web-process stderr) and is pinned by the engine differential
//! (`tests/engine_observe.rs`); `../shared/research/engines.md` lists them. Firefox quotes
//! with typographic quotes (‘ ’), WebKit with none.

use super::browsers::Browser;
use super::cors_error::CorsError;
use super::model::{Initiator, Response};
use super::request::is_token;

/// Where in the exchange a failure was found: what the engines quote from it.
pub(crate) struct Scene<'a> {
    /// The URL of the hop whose response failed (before any redirect it asked for).
    pub url: &'a str,
    /// The origin the check compared with (`null` once tainted); WebKit names it.
    pub origin: &'a str,
    /// The response the failure was found on, when there was one.
    pub response: Option<&'a Response>,
    /// Whether the failure is the preflight's.
    pub at_preflight: bool,
    /// For a failure on a redirect response: where it redirected to (resolved, as the
    /// engine would have followed it). WebKit names it; Firefox adds a line for it.
    pub redirect_to: Option<String>,
    /// The request's headers as the page wrote them (WebKit quotes a refused name so).
    pub headers: &'a [(String, String)],
    /// What made the request: an element's loader adds or replaces lines.
    pub initiator: Initiator,
}

/// An engine's words for one failure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Said {
    /// Every console line, in the order the engine prints them.
    pub lines: Vec<String>,
    /// The engine's own name for the reason, where it has one (Firefox's
    /// `security.properties` key without its trailing digit, as MDN names it).
    pub reason: Option<String>,
}

/// What `browser` prints for `error` (with Chromium's failed parameter `param`) found at
/// `scene`. For Chromium the caller uses the catalogue; this returns nothing for it.
pub(crate) fn said(browser: Browser, error: CorsError, param: Option<&str>, scene: &Scene) -> Said {
    match browser {
        Browser::Chromium => Said::default(),
        Browser::Firefox => {
            let mut said = firefox(error, param, scene);
            said.lines
                .extend(firefox_loader_line(scene.initiator, scene.url));
            said
        }
        // WebKit prints nothing for a font it refuses.
        Browser::WebKit if scene.initiator == Initiator::Font => Said::default(),
        Browser::WebKit => webkit(error, param, scene),
    }
}

/// Firefox's line for a preflight (or request) that got no answer at all.
pub(crate) fn firefox_did_not_succeed(url: &str) -> String {
    firefox_line(url, "CORS request did not succeed", Some("(null)"))
}

/// WebKit's closing line for every fetch it refused for access control.
pub(crate) fn webkit_cannot_load(url: &str) -> String {
    format!("Fetch API cannot load {url} due to access control checks.")
}

/// The line the loader of an element adds after Firefox's CORS line (measured in Firefox 153;
/// see `tests/element_loads.rs`): a module script's and an `EventSource`'s; none for the
/// others, nor for `fetch()`.
fn firefox_loader_line(initiator: Initiator, url: &str) -> Option<String> {
    match initiator {
        Initiator::Script => Some(format!(
            "Module source URI is not allowed in this document: “{url}”."
        )),
        Initiator::EventSource => Some(format!(
            "Firefox can’t establish a connection to the server at {url}."
        )),
        _ => None,
    }
}

/// WebKit's closing line for a load it refused for access control (measured in WebKitGTK
/// 2.50): "Fetch API cannot load" for `fetch()`, the loader's own for an image or an
/// `EventSource`, none for a module script or a preload. (A font prints nothing at all.)
fn webkit_closing_line(initiator: Initiator, url: &str) -> Option<String> {
    match initiator {
        Initiator::Fetch | Initiator::XmlHttpRequest => Some(webkit_cannot_load(url)),
        Initiator::Image => Some(format!(
            "Cannot load image {url} due to access control checks."
        )),
        Initiator::EventSource => Some(format!(
            "EventSource cannot load {url} due to access control checks."
        )),
        Initiator::Script | Initiator::Preload | Initiator::Font => None,
    }
}

/// `Cross-Origin Request Blocked: … at U. (Reason: R). Status code: N.`
fn firefox_line(url: &str, reason: &str, status: Option<&str>) -> String {
    let mut line = format!(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote \
         resource at {url}. (Reason: {reason})."
    );
    if let Some(status) = status {
        line.push_str(&format!(" Status code: {status}."));
    }
    line
}

/// The `Access-Control-Allow-Origin` lines of `response`, each trimmed.
fn acao_lines(response: Option<&Response>) -> Vec<String> {
    response
        .map(|r| {
            r.headers
                .lines()
                .filter(|(n, _)| n.eq_ignore_ascii_case("access-control-allow-origin"))
                .map(|(_, v)| v.trim_matches([' ', '\t']).to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn status_text(response: Option<&Response>) -> String {
    response.map_or_else(|| "(null)".to_owned(), |r| r.status.to_string())
}

/// The first item of a comma list that is not a token: the one Firefox quotes.
fn first_bad_token(value: &str) -> String {
    value
        .split(',')
        .map(|i| i.trim_matches([' ', '\t']))
        .find(|i| !i.is_empty() && !is_token(i))
        .unwrap_or(value)
        .to_owned()
}

fn header_value(response: Option<&Response>, name: &str) -> String {
    response
        .and_then(|r| r.headers.get(name))
        .unwrap_or_default()
}

fn firefox(error: CorsError, param: Option<&str>, scene: &Scene) -> Said {
    use CorsError::*;
    let url = scene.url;
    let status = status_text(scene.response);
    let mut lines = Vec::new();
    let key: &str = match error {
        MissingAllowOriginHeader | PreflightMissingAllowOriginHeader => {
            let reason = "CORS header ‘Access-Control-Allow-Origin’ missing";
            lines.push(firefox_line(url, reason, Some(&status)));
            "CORSMissingAllowOrigin"
        }
        MultipleAllowOriginValues | PreflightMultipleAllowOriginValues
            if acao_lines(scene.response).len() > 1 =>
        {
            let reason = "Multiple CORS header ‘Access-Control-Allow-Origin’ not allowed";
            lines.push(firefox_line(url, reason, None));
            "CORSMultipleAllowOriginNotAllowed"
        }
        // Firefox compares the one line as a whole: a list, an invalid value and another
        // origin all "do not match".
        MultipleAllowOriginValues
        | PreflightMultipleAllowOriginValues
        | InvalidAllowOriginValue
        | PreflightInvalidAllowOriginValue
        | AllowOriginMismatch
        | PreflightAllowOriginMismatch => {
            let value = acao_lines(scene.response).pop().unwrap_or_default();
            let reason =
                format!("CORS header ‘Access-Control-Allow-Origin’ does not match ‘{value}’");
            lines.push(firefox_line(url, &reason, None));
            "CORSAllowOriginNotMatchingOrigin"
        }
        WildcardOriginNotAllowed | PreflightWildcardOriginNotAllowed => {
            // The one message that quotes the URL.
            let quoted = format!("‘{url}’");
            let reason =
                "Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’";
            lines.push(firefox_line(&quoted, reason, None));
            "CORSNotSupportingCredentials"
        }
        InvalidAllowCredentials | PreflightInvalidAllowCredentials => {
            let reason = "expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’";
            lines.push(firefox_line(url, reason, None));
            "CORSMissingAllowCredentials"
        }
        PreflightInvalidStatus => {
            let reason = "CORS preflight response did not succeed";
            lines.push(firefox_line(url, reason, Some(&status)));
            "CORSPreflightDidNotSucceed"
        }
        PreflightDisallowedRedirect => {
            lines.push(firefox_line(
                url,
                "CORS request external redirect not allowed",
                None,
            ));
            let reason = "CORS preflight response did not succeed";
            lines.push(firefox_line(url, reason, Some(&status)));
            "CORSExternalRedirectNotAllowed"
        }
        InvalidAllowMethodsPreflightResponse | InvalidAllowHeadersPreflightResponse => {
            let (header, key) = if error == InvalidAllowMethodsPreflightResponse {
                ("Access-Control-Allow-Methods", "CORSInvalidAllowMethod")
            } else {
                ("Access-Control-Allow-Headers", "CORSInvalidAllowHeader")
            };
            let token = first_bad_token(&header_value(scene.response, header));
            let reason = format!("invalid token ‘{token}’ in CORS header ‘{header}’");
            lines.push(firefox_line(url, &reason, None));
            key
        }
        MethodDisallowedByPreflightResponse => {
            let reason = "Did not find method in CORS header ‘Access-Control-Allow-Methods’";
            lines.push(firefox_line(url, reason, None));
            "CORSMethodNotFound"
        }
        HeaderDisallowedByPreflightResponse => {
            let header = param.unwrap_or_default().to_ascii_lowercase();
            let reason = format!(
                "header ‘{header}’ is not allowed according to header \
                 ‘Access-Control-Allow-Headers’ from CORS preflight response"
            );
            lines.push(firefox_line(url, &reason, None));
            "CORSMissingAllowHeaderFromPreflight"
        }
        // Doubt: not yet seen in the real engine (the differential cannot serve another
        // scheme); the text is Firefox's `CORSRequestNotHttp` string.
        CorsDisabledScheme => {
            lines.push(firefox_line(url, "CORS request not HTTP", None));
            "CORSRequestNotHttp"
        }
        // Firefox refuses the redirect without a reason of its own: only the closing line.
        RedirectContainsCredentials | InvalidResponse => {
            lines.push(firefox_did_not_succeed(url));
            return Said {
                lines,
                reason: Some("CORSDidNotSucceed".to_owned()),
            };
        }
        // Handled where it is found (a "Security Error" line naming the page).
        DisallowedByMode => "SOP",
    };
    // A failed preflight, or a refused redirect, ends the request: Firefox says so too.
    if scene.at_preflight || scene.redirect_to.is_some() {
        lines.push(firefox_did_not_succeed(url));
    }
    Said {
        lines,
        reason: Some(key.to_owned()),
    }
}

fn webkit(error: CorsError, param: Option<&str>, scene: &Scene) -> Said {
    use CorsError::*;
    let status = status_text(scene.response);
    let more_than_one = "Access-Control-Allow-Origin cannot contain more than one origin.";
    let detail = match error {
        MissingAllowOriginHeader
        | PreflightMissingAllowOriginHeader
        | MultipleAllowOriginValues
        | PreflightMultipleAllowOriginValues
        | InvalidAllowOriginValue
        | PreflightInvalidAllowOriginValue
        | AllowOriginMismatch
        | PreflightAllowOriginMismatch => {
            // WebKit reads the lines joined with ", " and counts origins by the comma.
            if acao_lines(scene.response).join(", ").contains(',') {
                more_than_one.to_owned()
            } else {
                format!(
                    "Origin {} is not allowed by Access-Control-Allow-Origin. Status code: {status}",
                    scene.origin
                )
            }
        }
        WildcardOriginNotAllowed | PreflightWildcardOriginNotAllowed => {
            "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
                .to_owned()
        }
        InvalidAllowCredentials | PreflightInvalidAllowCredentials => {
            "Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\"."
                .to_owned()
        }
        PreflightInvalidStatus | PreflightDisallowedRedirect => {
            format!("Preflight response is not successful. Status code: {status}")
        }
        InvalidAllowMethodsPreflightResponse => format!(
            "Header Access-Control-Allow-Methods has an invalid value: {}",
            header_value(scene.response, "access-control-allow-methods")
        ),
        InvalidAllowHeadersPreflightResponse => format!(
            "Header Access-Control-Allow-Headers has an invalid value: {}",
            header_value(scene.response, "access-control-allow-headers")
        ),
        MethodDisallowedByPreflightResponse => format!(
            "Method {} is not allowed by Access-Control-Allow-Methods.",
            param.unwrap_or_default()
        ),
        HeaderDisallowedByPreflightResponse => format!(
            "Request header field {} is not allowed by Access-Control-Allow-Headers.",
            webkit_header_name(param.unwrap_or_default(), scene.headers)
        ),
        RedirectContainsCredentials => {
            let to = scene.redirect_to.clone().unwrap_or_default();
            format!("redirection URL {to} has credentials")
        }
        // Doubt: not yet seen in the real engine; WebKit's long-standing text.
        CorsDisabledScheme => "Cross origin requests are only supported for HTTP.".to_owned(),
        InvalidResponse => "Connection terminated unexpectedly".to_owned(),
        DisallowedByMode => String::new(),
    };
    let first = match (&scene.redirect_to, error) {
        (Some(to), RedirectContainsCredentials) => format!(
            "Cross-origin redirection to {} denied by Cross-Origin Resource Sharing policy: {detail}",
            strip_credentials(to)
        ),
        (Some(to), _) => format!(
            "Cross-origin redirection to {to} denied by Cross-Origin Resource Sharing policy: {detail}"
        ),
        (None, _) => detail,
    };
    let mut lines = vec![first];
    lines.extend(webkit_closing_line(scene.initiator, scene.url));
    Said {
        lines,
        reason: None,
    }
}

/// `scheme://user:pass@rest` without the `user:pass@`.
fn strip_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// WebKit spells a header name it knows (its `HTTPHeaderName` table) in the standard
/// casing, and any other as the page wrote it (in `written`).
fn webkit_header_name(lower: &str, written: &[(String, String)]) -> String {
    if let Some(k) = KNOWN_HEADER_NAMES
        .iter()
        .find(|k| k.eq_ignore_ascii_case(lower))
    {
        return (*k).to_owned();
    }
    written
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(lower))
        .map_or_else(|| lower.to_owned(), |(name, _)| name.clone())
}

/// The request header names WebKit knows by name that a page can send cross-origin (the
/// others are forbidden and never reach the CORS check).
const KNOWN_HEADER_NAMES: &[&str] = &[
    "Accept",
    "Accept-Language",
    "Authorization",
    "Cache-Control",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Location",
    "Content-Range",
    "Content-Type",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Last-Event-ID",
    "Link",
    "Pragma",
    "Purpose",
    "Range",
    "Upgrade-Insecure-Requests",
    "User-Agent",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::model::HeaderList;

    fn response(status: u16, lines: &[(&str, &str)]) -> Response {
        let mut headers = HeaderList::new();
        for (n, v) in lines {
            headers.push(*n, *v);
        }
        Response { status, headers }
    }

    #[test]
    fn firefox_tells_several_lines_from_a_list_in_one() {
        let two_lines = response(
            200,
            &[
                ("Access-Control-Allow-Origin", "http://a.test"),
                ("Access-Control-Allow-Origin", "http://a.test"),
            ],
        );
        let one_line = response(
            200,
            &[(
                "Access-Control-Allow-Origin",
                "http://a.test, http://b.test",
            )],
        );
        let scene = |r| Scene {
            url: "http://api.test/x",
            origin: "http://a.test",
            response: Some(r),
            at_preflight: false,
            redirect_to: None,
            headers: &[],
            initiator: Initiator::Fetch,
        };
        let e = CorsError::MultipleAllowOriginValues;
        assert_eq!(
            firefox(e, None, &scene(&two_lines)).reason.as_deref(),
            Some("CORSMultipleAllowOriginNotAllowed")
        );
        let said = firefox(e, None, &scene(&one_line));
        assert_eq!(
            said.reason.as_deref(),
            Some("CORSAllowOriginNotMatchingOrigin")
        );
        assert!(said.lines[0].ends_with(
            "(Reason: CORS header ‘Access-Control-Allow-Origin’ does not match ‘http://a.test, http://b.test’)."
        ));
        // WebKit says the same of both.
        assert_eq!(
            webkit(e, None, &scene(&one_line)).lines,
            webkit(e, None, &scene(&two_lines)).lines
        );
    }

    #[test]
    fn webkit_names_known_headers_in_their_casing_and_others_as_written() {
        let written = [
            ("X-PKR-Auth".to_owned(), "t".to_owned()),
            ("content-type".to_owned(), "text/x".to_owned()),
        ];
        assert_eq!(webkit_header_name("content-type", &written), "Content-Type");
        assert_eq!(webkit_header_name("x-pkr-auth", &written), "X-PKR-Auth");
        assert_eq!(
            strip_credentials("http://u:p@h.test/a@b"),
            "http://h.test/a@b"
        );
        assert_eq!(first_bad_token("PUT, /bad"), "/bad");
    }
}
