//! The CorsError catalogue: each error Chromium can report (named exactly as
//! `network::mojom::CorsError`, which is what DevTools shows as `corsError`), its console
//! message template, and the fix in three phrasings (sandbox policy fields, exact-mode
//! header lines, generic server terms). It renders text only and makes no decision about
//! whether a request is allowed.
//!
//! Message text was read from third_party/blink/renderer/platform/loader/cors/
//! cors_error_string.cc (`GetErrorStringForConsoleMessage`) and checked against the
//! strings compiled into the Chromium 156 binary installed here. Chromium 156 no longer
//! appends "If an opaque response serves your needs, set the request's mode to
//! 'no-cors' to fetch the resource with CORS disabled." to any message; for fetch() it
//! appends " Have the server send the header with a valid value." to the three
//! "bad value" origin errors instead.
//!
//! Placeholders: {param} failed parameter (hint-encoded), {origin} the origin the server
//! must allow (the serialized page origin, or "null" after a tainting redirect), {file}
//! policy file, {method}, {header} (the page's spelling), {url}, {status}, {location}.

use super::cors_error::CorsError;
use super::model::{FixContext, Initiator};

/// When Chromium appends an extra sentence to the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suffix {
    /// Nothing is appended.
    None,
    /// " Have the server send the header with a valid value." for fetch().
    ValidValueForFetch,
    /// The withCredentials sentence for XMLHttpRequest.
    WithCredentialsForXhr,
}

/// One row of the catalogue: how Chromium words an error and how the fix is phrased for
/// each audience.
pub struct CatalogueEntry {
    /// The error this row describes.
    pub error: CorsError,
    /// The error's name as DevTools shows it in `corsError`.
    pub name: &'static str,
    /// Whether Chromium prefixes "Response to preflight request doesn't pass access
    /// control check: " (only the eight errors in its `IsPreflightError`).
    pub preflight_prefix: bool,
    /// The console message after "blocked by CORS policy: " (and the preflight prefix),
    /// with `{param}` standing for the hint-encoded failed parameter.
    pub body: &'static str,
    /// The sentence Chromium appends for some initiators.
    pub suffix: Suffix,
    /// The fix in terms of the sandbox's actix-cors policy fields.
    pub fix_sandbox: &'static str,
    /// The fix as literal header lines, for an exact-mode policy.
    pub fix_exact: &'static str,
    /// The fix in terms any server's configuration can follow.
    pub fix_generic: &'static str,
}

const WILDCARD_BODY: &str = "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.";
const MISSING_BODY: &str =
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.";
const MULTIPLE_BODY: &str = "The 'Access-Control-Allow-Origin' header contains multiple values '{param}', but only one is allowed.";
const INVALID_BODY: &str =
    "The 'Access-Control-Allow-Origin' header contains the invalid value '{param}'.";
const MISMATCH_BODY: &str = "The 'Access-Control-Allow-Origin' header has a value '{param}' that is not equal to the supplied origin.";
const CREDENTIALS_BODY: &str = "The value of the 'Access-Control-Allow-Credentials' header in the response is '{param}' which must be 'true' when the request's credentials mode is 'include'.";

/// Every [`CorsError`] with its Chromium wording and fixes, one entry each.
#[rustfmt::skip]
pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry { error: CorsError::DisallowedByMode, name: "DisallowedByMode", preflight_prefix: false,
        body: "Cross origin requests are not allowed by request mode.", suffix: Suffix::None,
        fix_sandbox: "the page asked for mode 'same-origin': drop mode (the default 'cors' is what a cross-origin call needs) or call a same-origin URL",
        fix_exact: "the page asked for mode 'same-origin': drop mode (the default 'cors' is what a cross-origin call needs) or call a same-origin URL",
        fix_generic: "the page asked for mode 'same-origin': drop mode (the default 'cors' is what a cross-origin call needs) or call a same-origin URL" },
    CatalogueEntry { error: CorsError::InvalidResponse, name: "InvalidResponse", preflight_prefix: false,
        body: "The response is invalid.", suffix: Suffix::None,
        fix_sandbox: "make the API origin answer {url} with an HTTP response (is the sandbox running and the port right?)",
        fix_exact: "make the API origin answer {url} with an HTTP response (is the sandbox running and the port right?)",
        fix_generic: "make the server answer {url} with an HTTP response" },
    CatalogueEntry { error: CorsError::WildcardOriginNotAllowed, name: "WildcardOriginNotAllowed", preflight_prefix: false,
        body: WILDCARD_BODY, suffix: Suffix::WithCredentialsForXhr,
        fix_sandbox: "set send_wildcard = false in {file} and list \"{origin}\" in allowed_origins so the origin is echoed (credentials need an exact origin); or drop credentials: 'include' from the fetch() call if no cookies are needed",
        fix_exact: "send Access-Control-Allow-Origin: {origin} instead of *, with Access-Control-Allow-Credentials: true; or drop credentials: 'include' from the fetch() call if no cookies are needed",
        fix_generic: "send Access-Control-Allow-Origin: {origin} instead of * (credentials need an exact origin); or drop credentials: 'include' from the fetch() call" },
    CatalogueEntry { error: CorsError::MissingAllowOriginHeader, name: "MissingAllowOriginHeader", preflight_prefix: false,
        body: MISSING_BODY, suffix: Suffix::None,
        fix_sandbox: "add \"{origin}\" to allowed_origins in {file}",
        fix_exact: "send Access-Control-Allow-Origin: {origin} on the {status} response",
        fix_generic: "send Access-Control-Allow-Origin: {origin}" },
    CatalogueEntry { error: CorsError::MultipleAllowOriginValues, name: "MultipleAllowOriginValues", preflight_prefix: false,
        body: MULTIPLE_BODY, suffix: Suffix::ValidValueForFetch,
        fix_sandbox: "send a single origin: remove the extra Access-Control-Allow-Origin the route adds (actix-cors already sends one), so only \"{origin}\" is sent",
        fix_exact: "send exactly one line Access-Control-Allow-Origin: {origin} (lines with the same name are combined with \", \")",
        fix_generic: "send exactly one Access-Control-Allow-Origin: {origin} (echo the request's Origin; a list is not allowed, and two header lines count as a list)" },
    CatalogueEntry { error: CorsError::InvalidAllowOriginValue, name: "InvalidAllowOriginValue", preflight_prefix: false,
        body: INVALID_BODY, suffix: Suffix::ValidValueForFetch,
        fix_sandbox: "list the serialized origin \"{origin}\" in allowed_origins in {file} (scheme://host:port, no path, no pattern)",
        fix_exact: "send Access-Control-Allow-Origin: {origin} (a serialized origin, '*' or 'null'; not '{param}')",
        fix_generic: "send Access-Control-Allow-Origin: {origin} (a serialized origin: scheme://host:port, no path)" },
    CatalogueEntry { error: CorsError::AllowOriginMismatch, name: "AllowOriginMismatch", preflight_prefix: false,
        body: MISMATCH_BODY, suffix: Suffix::ValidValueForFetch,
        fix_sandbox: "add \"{origin}\" to allowed_origins in {file} (the server sent '{param}', which is compared byte for byte)",
        fix_exact: "send Access-Control-Allow-Origin: {origin} (not '{param}'; the comparison is byte for byte)",
        fix_generic: "send Access-Control-Allow-Origin: {origin} (not '{param}'; echo the request's Origin byte for byte)" },
    CatalogueEntry { error: CorsError::InvalidAllowCredentials, name: "InvalidAllowCredentials", preflight_prefix: false,
        body: CREDENTIALS_BODY, suffix: Suffix::WithCredentialsForXhr,
        fix_sandbox: "set supports_credentials = true in {file}; or drop credentials: 'include' from the fetch() call if no cookies are needed",
        fix_exact: "send Access-Control-Allow-Credentials: true (exactly, lower-case); or drop credentials: 'include' from the fetch() call",
        fix_generic: "send Access-Control-Allow-Credentials: true (exactly, lower-case); or drop credentials: 'include' from the fetch() call" },
    CatalogueEntry { error: CorsError::CorsDisabledScheme, name: "CorsDisabledScheme", preflight_prefix: false,
        body: "Cross origin requests are only supported for protocol schemes: {param}.", suffix: Suffix::None,
        fix_sandbox: "call the API over http: or https:",
        fix_exact: "call the API over http: or https:",
        fix_generic: "call the server over http: or https:" },
    CatalogueEntry { error: CorsError::PreflightInvalidStatus, name: "PreflightInvalidStatus", preflight_prefix: true,
        body: "It does not have HTTP ok status.", suffix: Suffix::None,
        fix_sandbox: "answer the OPTIONS preflight with 2xx (it got {status}): actix-cors answers 400 when it rejects a preflight, so check that {method} is in allowed_methods and the requested headers are in allowed_headers in {file}",
        fix_exact: "answer the OPTIONS preflight with 204 (it got {status})",
        fix_generic: "answer the OPTIONS preflight with 204 (it got {status}); make sure auth and routing let OPTIONS through" },
    CatalogueEntry { error: CorsError::PreflightDisallowedRedirect, name: "PreflightDisallowedRedirect", preflight_prefix: true,
        body: "Redirect is not allowed for a preflight request.", suffix: Suffix::None,
        fix_sandbox: "answer OPTIONS {url} directly instead of redirecting to {location}, or call {location} from the page",
        fix_exact: "answer OPTIONS {url} with 204 and the CORS headers instead of redirecting to {location}",
        fix_generic: "answer OPTIONS {url} directly instead of redirecting (or call {location} from the page)" },
    CatalogueEntry { error: CorsError::PreflightWildcardOriginNotAllowed, name: "PreflightWildcardOriginNotAllowed", preflight_prefix: true,
        body: WILDCARD_BODY, suffix: Suffix::WithCredentialsForXhr,
        fix_sandbox: "set send_wildcard = false in {file} and list \"{origin}\" in allowed_origins (credentials need an exact origin); or drop credentials: 'include' from the fetch() call",
        fix_exact: "send Access-Control-Allow-Origin: {origin} on the preflight instead of *; or drop credentials: 'include' from the fetch() call",
        fix_generic: "send Access-Control-Allow-Origin: {origin} on the OPTIONS response instead of *; or drop credentials: 'include' from the fetch() call" },
    CatalogueEntry { error: CorsError::PreflightMissingAllowOriginHeader, name: "PreflightMissingAllowOriginHeader", preflight_prefix: true,
        body: MISSING_BODY, suffix: Suffix::None,
        fix_sandbox: "add \"{origin}\" to allowed_origins in {file}",
        fix_exact: "send Access-Control-Allow-Origin: {origin} on the preflight response",
        fix_generic: "send Access-Control-Allow-Origin: {origin} on the OPTIONS response (status 2xx)" },
    CatalogueEntry { error: CorsError::PreflightMultipleAllowOriginValues, name: "PreflightMultipleAllowOriginValues", preflight_prefix: true,
        body: MULTIPLE_BODY, suffix: Suffix::ValidValueForFetch,
        fix_sandbox: "send a single origin on the preflight: remove the extra Access-Control-Allow-Origin so only \"{origin}\" is sent",
        fix_exact: "send exactly one line Access-Control-Allow-Origin: {origin} on the preflight response",
        fix_generic: "send exactly one Access-Control-Allow-Origin: {origin} on the OPTIONS response" },
    CatalogueEntry { error: CorsError::PreflightInvalidAllowOriginValue, name: "PreflightInvalidAllowOriginValue", preflight_prefix: true,
        body: INVALID_BODY, suffix: Suffix::ValidValueForFetch,
        fix_sandbox: "list the serialized origin \"{origin}\" in allowed_origins in {file}",
        fix_exact: "send Access-Control-Allow-Origin: {origin} on the preflight response (not '{param}')",
        fix_generic: "send Access-Control-Allow-Origin: {origin} on the OPTIONS response (a serialized origin)" },
    CatalogueEntry { error: CorsError::PreflightAllowOriginMismatch, name: "PreflightAllowOriginMismatch", preflight_prefix: true,
        body: MISMATCH_BODY, suffix: Suffix::ValidValueForFetch,
        fix_sandbox: "add \"{origin}\" to allowed_origins in {file} (the preflight got '{param}')",
        fix_exact: "send Access-Control-Allow-Origin: {origin} on the preflight response (not '{param}')",
        fix_generic: "send Access-Control-Allow-Origin: {origin} on the OPTIONS response (not '{param}')" },
    CatalogueEntry { error: CorsError::PreflightInvalidAllowCredentials, name: "PreflightInvalidAllowCredentials", preflight_prefix: true,
        body: CREDENTIALS_BODY, suffix: Suffix::WithCredentialsForXhr,
        fix_sandbox: "set supports_credentials = true in {file}; or drop credentials: 'include' from the fetch() call",
        fix_exact: "send Access-Control-Allow-Credentials: true on the preflight response; or drop credentials: 'include' from the fetch() call",
        fix_generic: "send Access-Control-Allow-Credentials: true on the OPTIONS response; or drop credentials: 'include' from the fetch() call" },
    CatalogueEntry { error: CorsError::InvalidAllowMethodsPreflightResponse, name: "InvalidAllowMethodsPreflightResponse", preflight_prefix: false,
        body: "Cannot parse Access-Control-Allow-Methods response header field in preflight response.", suffix: Suffix::None,
        fix_sandbox: "make every allowed_methods entry in {file} a bare method token such as \"{method}\"",
        fix_exact: "send Access-Control-Allow-Methods as comma-separated method tokens, e.g. Access-Control-Allow-Methods: {method}",
        fix_generic: "send Access-Control-Allow-Methods as comma-separated method tokens, e.g. Access-Control-Allow-Methods: {method}" },
    CatalogueEntry { error: CorsError::InvalidAllowHeadersPreflightResponse, name: "InvalidAllowHeadersPreflightResponse", preflight_prefix: false,
        body: "Cannot parse Access-Control-Allow-Headers response header field in preflight response.", suffix: Suffix::None,
        fix_sandbox: "make every allowed_headers entry in {file} a bare header name such as \"{header}\"",
        fix_exact: "send Access-Control-Allow-Headers as comma-separated header names, e.g. Access-Control-Allow-Headers: {header}",
        fix_generic: "send Access-Control-Allow-Headers as comma-separated header names, e.g. Access-Control-Allow-Headers: {header}" },
    CatalogueEntry { error: CorsError::MethodDisallowedByPreflightResponse, name: "MethodDisallowedByPreflightResponse", preflight_prefix: false,
        body: "Method {param} is not allowed by Access-Control-Allow-Methods in preflight response.", suffix: Suffix::None,
        fix_sandbox: "add \"{param}\" to allowed_methods in {file}",
        fix_exact: "send Access-Control-Allow-Methods: {param} on the preflight response",
        fix_generic: "send Access-Control-Allow-Methods: {param} on the OPTIONS response" },
    CatalogueEntry { error: CorsError::HeaderDisallowedByPreflightResponse, name: "HeaderDisallowedByPreflightResponse", preflight_prefix: false,
        body: "Request header field {param} is not allowed by Access-Control-Allow-Headers in preflight response.", suffix: Suffix::None,
        fix_sandbox: "add \"{header}\" to allowed_headers in {file}",
        fix_exact: "send Access-Control-Allow-Headers: {header} on the preflight response",
        fix_generic: "send Access-Control-Allow-Headers: {header} on the OPTIONS response" },
    CatalogueEntry { error: CorsError::RedirectContainsCredentials, name: "RedirectContainsCredentials", preflight_prefix: false,
        body: "Redirect location '{param}' contains a username and password, which is disallowed for cross-origin requests.", suffix: Suffix::None,
        fix_sandbox: "remove the user:password@ part from the Location the route sends ({location})",
        fix_exact: "remove the user:password@ part from the Location header ({location})",
        fix_generic: "remove the user:password@ part from the redirect Location ({location})" },
];

/// The text-facing half of [`CorsError`] (the enum itself is in `cors_error.rs`, which
/// the catalogue depends on and not the other way round).
impl CorsError {
    /// The catalogue row for this error.
    pub fn entry(self) -> &'static CatalogueEntry {
        CATALOGUE
            .iter()
            .find(|e| e.error == self)
            .expect("every CorsError has a catalogue entry")
    }

    /// The Chromium/DevTools name, e.g. "PreflightInvalidStatus".
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// Whether Chromium reports this as a failed preflight (its message then starts
    /// "Response to preflight request doesn't pass access control check").
    pub fn is_preflight_error(self) -> bool {
        self.entry().preflight_prefix
    }
}

impl std::fmt::Display for CorsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Chromium's `EncodeHint`: printable ASCII kept, every other byte as `\u00XX`.
pub fn encode_hint(hint: &str) -> String {
    let mut out = String::new();
    for b in hint.bytes() {
        if (0x20..0x7f).contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\u{b:04X}"));
        }
    }
    out
}

/// What the console message needs besides the error.
pub struct MessageContext<'a> {
    /// The URL the page fetched.
    pub initial_url: &'a str,
    /// The URL of the hop that failed; when it differs from `initial_url` the message
    /// says "(redirected from ...)".
    pub last_url: &'a str,
    /// The page's origin as Chromium prints it (never the tainted "null").
    pub page_origin: &'a str,
    /// Which API made the request: it picks "fetch" or "XMLHttpRequest" and the suffix.
    pub initiator: Initiator,
}

/// The exact console line Chromium 156 prints for a CORS failure.
pub fn console_message(error: CorsError, param: Option<&str>, cx: &MessageContext) -> String {
    let kind = cx.initiator.chromium_word();
    let mut s = format!("Access to {kind} at '{}' ", cx.last_url);
    if cx.initial_url != cx.last_url {
        s.push_str(&format!("(redirected from '{}') ", cx.initial_url));
    }
    s.push_str(&format!(
        "from origin '{}' has been blocked by CORS policy: ",
        cx.page_origin
    ));
    s.push_str(&console_reason(error, param, cx.initiator));
    s
}

/// What Chromium's console line says after "has been blocked by CORS policy: ".
pub fn console_reason(error: CorsError, param: Option<&str>, initiator: Initiator) -> String {
    let entry = error.entry();
    let mut s = String::new();
    if entry.preflight_prefix {
        s.push_str("Response to preflight request doesn't pass access control check: ");
    }
    let hint = match error {
        // The scheme list comes from SchemeRegistry, not the failed parameter.
        CorsError::CorsDisabledScheme => param.unwrap_or("").to_owned(),
        _ => encode_hint(param.unwrap_or("")),
    };
    s.push_str(&entry.body.replace("{param}", &hint));
    match (entry.suffix, initiator) {
        (Suffix::ValidValueForFetch, Initiator::Fetch) => {
            s.push_str(" Have the server send the header with a valid value.")
        }
        (Suffix::WithCredentialsForXhr, Initiator::XmlHttpRequest) => s.push_str(
            " The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.",
        ),
        _ => {}
    }
    s
}

/// Values substituted into a fix template.
#[derive(Debug, Default, Clone)]
pub struct FixDetails {
    pub param: String,
    pub origin: String,
    pub method: String,
    pub header: String,
    pub url: String,
    pub status: String,
    pub location: String,
}

/// Picks the phrasing for the audience and fills the template.
pub fn fix_text(error: CorsError, ctx: &FixContext, d: &FixDetails) -> String {
    let entry = error.entry();
    let (template, file) = match ctx {
        FixContext::Sandbox {
            policy_file,
            exact_mode: false,
        } => (entry.fix_sandbox, policy_file.as_str()),
        FixContext::Sandbox {
            policy_file,
            exact_mode: true,
        } => (entry.fix_exact, policy_file.as_str()),
        FixContext::Generic => (entry.fix_generic, ""),
    };
    template
        .replace("{file}", file)
        .replace("{param}", &d.param)
        .replace("{origin}", &d.origin)
        .replace("{method}", &d.method)
        .replace("{header}", &d.header)
        .replace("{url}", &d.url)
        .replace("{status}", &d.status)
        .replace("{location}", &d.location)
}
