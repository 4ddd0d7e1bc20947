//! The response-side checks, one function per Chromium routine: the CORS check
//! (`CheckAccess`), the preflight access check and its parsing of
//! `Access-Control-Allow-Methods/-Headers/-Max-Age` (`PreflightResult`), the method and
//! header matching, and which response headers script may read. Inputs are values, not
//! scenarios; sequencing (redirects, cache, which hop) belongs to the engine.
//!
//! Sources read: services/network/public/cpp/cors/cors.cc (CheckAccess),
//! services/network/cors/preflight_controller.cc (CheckPreflightAccess: the CORS check
//! runs before the status check), services/network/cors/preflight_result.cc,
//! third_party/blink/renderer/platform/loader/cors/cors.cc (expose-headers parsing).

use std::collections::BTreeSet;

use super::browsers::CachedWildcard;
use super::cors_error::CorsError;
use super::model::{Credentials, HeaderList, Response};
use super::request::{cors_unsafe_request_header_names, is_cors_safelisted_method, is_token};
use super::url::gurl_is_valid;

/// An error with the failed parameter Chromium reports (None where it sets none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error Chromium reports.
    pub error: CorsError,
    /// The failed parameter (the offending header value, method or header name).
    pub param: Option<String>,
}

impl Failure {
    /// A failure for an error that takes no parameter.
    pub fn new(error: CorsError) -> Self {
        Failure { error, param: None }
    }

    /// A failure whose `failedParameter` is `param`.
    pub fn with(error: CorsError, param: &str) -> Self {
        Failure {
            error,
            param: Some(param.to_owned()),
        }
    }
}

/// Chromium's CheckAccess. `origin` is the serialized origin the check compares against
/// ("null" once a redirect tainted the request). The comparison is byte for byte: the
/// spec's "null" is matched by an `Access-Control-Allow-Origin: null` (Chromium keeps the
/// old CORS spec's behaviour here).
pub fn check_access(
    response_is_http: bool,
    headers: &HeaderList,
    credentials: Credentials,
    origin: &str,
) -> Result<(), Failure> {
    let allow_origin = headers.get("access-control-allow-origin");
    match allow_origin.as_deref() {
        Some("*") => {
            if credentials != Credentials::Include || !response_is_http {
                return Ok(());
            }
            return Err(Failure::new(CorsError::WildcardOriginNotAllowed));
        }
        None => return Err(Failure::new(CorsError::MissingAllowOriginHeader)),
        Some(value) if value != origin => {
            if value.contains([' ', ',']) {
                return Err(Failure::with(CorsError::MultipleAllowOriginValues, value));
            }
            if value == "null" {
                return Err(Failure::with(CorsError::AllowOriginMismatch, value));
            }
            if !gurl_is_valid(value) {
                return Err(Failure::with(CorsError::InvalidAllowOriginValue, value));
            }
            return Err(Failure::with(CorsError::AllowOriginMismatch, value));
        }
        Some(_) => {}
    }
    if credentials == Credentials::Include {
        let allow_credentials = headers.get("access-control-allow-credentials");
        if allow_credentials.as_deref() != Some("true") {
            return Err(Failure::with(
                CorsError::InvalidAllowCredentials,
                allow_credentials.as_deref().unwrap_or(""),
            ));
        }
    }
    Ok(())
}

/// Seconds Chromium keeps a preflight in its cache when `Access-Control-Max-Age` is
/// absent or not an integer.
pub const DEFAULT_MAX_AGE: i64 = 5;

/// Chromium's cap on how long a preflight stays cached, in seconds (two hours, from
/// services/network/cors/preflight_result.cc): a larger `Access-Control-Max-Age` counts
/// as this much. The crate's one definition of the cap, exported as
/// `crate::browser::MAX_MAX_AGE`.
pub const MAX_MAX_AGE: i64 = 7200;

/// How long Chromium caches a preflight, in seconds, given its `Access-Control-Max-Age`
/// value as [`HeaderList::get`] returns it (each line trimmed, several joined with ", ").
/// Absent, empty, not all digits after one optional sign (so also a list) or too large
/// for an `i64`: 5 (`DEFAULT_MAX_AGE`). Negative: 0, "do not cache". Otherwise at most
/// [`MAX_MAX_AGE`].
///
/// ```
/// use sandbox::browser::{parse_max_age, MAX_MAX_AGE};
///
/// assert_eq!(parse_max_age(Some("600")), 600);
/// assert_eq!(parse_max_age(Some("86400")), MAX_MAX_AGE);
/// assert_eq!(parse_max_age(Some("-1")), 0);
/// assert_eq!(parse_max_age(Some("ten")), 5);
/// assert_eq!(parse_max_age(None), 5);
/// ```
pub fn parse_max_age(value: Option<&str>) -> i64 {
    parse_max_age_uncapped(value).min(MAX_MAX_AGE)
}

/// [`parse_max_age`] without Chromium's cap.
pub fn parse_max_age_uncapped(value: Option<&str>) -> i64 {
    let Some(v) = value else {
        return DEFAULT_MAX_AGE;
    };
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return DEFAULT_MAX_AGE;
    }
    match v.parse::<i64>() {
        Ok(n) if n < 0 => 0,
        Ok(n) => n,
        // base::StringToInt64 reports failure on overflow, so the default applies.
        Err(_) => DEFAULT_MAX_AGE,
    }
}

/// A parsed, successful preflight response (what Chromium caches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightResult {
    /// Whether it was made for a credentialed request: `*` is then literal.
    pub credentials: bool,
    /// Methods as sent (case kept: matching is case-sensitive).
    pub methods: BTreeSet<String>,
    /// Header names lower-cased (matching is case-insensitive).
    pub headers: BTreeSet<String>,
    /// Seconds the result may be cached, from [`parse_max_age`] (Chromium's cap); the
    /// engine applies its own cap to [`PreflightResult::raw_max_age`].
    pub max_age: i64,
    /// `Access-Control-Max-Age` as parsed before any engine's cap (the default 5 when
    /// absent or unparseable, 0 when negative).
    pub raw_max_age: i64,
    /// The header names (lower-case) the preflight asked for, which is all a cached `*`
    /// covers in Firefox.
    pub requested_headers: BTreeSet<String>,
}

/// `net::HttpUtil::ValuesIterator` with empty items skipped, then `IsToken` per item.
fn parse_allow_list(value: Option<&str>, lower: bool) -> Option<BTreeSet<String>> {
    let mut set = BTreeSet::new();
    let Some(value) = value else {
        return Some(set);
    };
    for item in value.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return None;
        }
        set.insert(if lower {
            item.to_ascii_lowercase()
        } else {
            item.to_owned()
        });
    }
    Some(set)
}

/// Status and access checks of a preflight response, then parsing. The order is
/// Chromium's: the CORS check first (so a 404 without `Access-Control-Allow-Origin` is
/// reported as a missing header, not a bad status), then ok status, then methods, then
/// headers. Redirects are handled by the caller before this.
pub fn check_preflight_response(
    response: &Response,
    credentials: Credentials,
    origin: &str,
) -> Result<PreflightResult, Failure> {
    check_access(true, &response.headers, credentials, origin).map_err(|f| Failure {
        error: f.error.to_preflight(),
        param: f.param,
    })?;
    if !(200..300).contains(&response.status) {
        return Err(Failure::new(CorsError::PreflightInvalidStatus));
    }
    let h = &response.headers;
    let methods = parse_allow_list(h.get("access-control-allow-methods").as_deref(), false).ok_or(
        Failure::new(CorsError::InvalidAllowMethodsPreflightResponse),
    )?;
    let headers = parse_allow_list(h.get("access-control-allow-headers").as_deref(), true).ok_or(
        Failure::new(CorsError::InvalidAllowHeadersPreflightResponse),
    )?;
    let raw_max_age = parse_max_age_uncapped(h.get("access-control-max-age").as_deref());
    Ok(PreflightResult {
        credentials: credentials == Credentials::Include,
        methods,
        headers,
        max_age: raw_max_age.min(MAX_MAX_AGE),
        raw_max_age,
        requested_headers: BTreeSet::new(),
    })
}

impl PreflightResult {
    /// Chromium's `acam_preflight_spec_conformant` path (the default): the method as
    /// the page sent it must appear exactly; safelisted methods always pass; `*` counts
    /// only for requests without credentials.
    pub fn check_method(&self, method: &str) -> Result<(), Failure> {
        if self.methods.contains(method) || is_cors_safelisted_method(method) {
            return Ok(());
        }
        if !self.credentials && self.methods.contains("*") {
            return Ok(());
        }
        Err(Failure::with(
            CorsError::MethodDisallowedByPreflightResponse,
            method,
        ))
    }

    /// Header names that need permission, matched case-insensitively. `*` covers every
    /// name only without credentials. Whether it also covers `Authorization` is
    /// `non_wildcard == false`: the spec says never; Chromium 156 lets a fresh
    /// preflight's `*` cover it (observed: the request goes through), but its preflight
    /// cache always applies the spec rule.
    pub fn check_headers(
        &self,
        headers: &[(String, String)],
        non_wildcard: bool,
    ) -> Result<(), Failure> {
        let names = cors_unsafe_request_header_names(headers);
        self.check_header_names(&names, non_wildcard)
    }

    /// The same check given only the requested names (what a server sees in
    /// `Access-Control-Request-Headers`).
    pub fn check_header_names(&self, names: &[String], non_wildcard: bool) -> Result<(), Failure> {
        if !self.credentials && self.headers.contains("*") {
            let has_authorization = names
                .iter()
                .any(|n| n.eq_ignore_ascii_case("authorization"));
            if non_wildcard && has_authorization && !self.headers.contains("authorization") {
                return Err(Failure::with(
                    CorsError::HeaderDisallowedByPreflightResponse,
                    "authorization",
                ));
            }
            return Ok(());
        }
        for name in names {
            let lower = name.to_ascii_lowercase();
            if !self.headers.contains(&lower) {
                return Err(Failure::with(
                    CorsError::HeaderDisallowedByPreflightResponse,
                    &lower,
                ));
            }
        }
        Ok(())
    }

    /// Whether only `*` (not `Authorization` by name) lets an Authorization header
    /// through: Chromium allows that, the spec, Firefox and Safari do not.
    pub fn authorization_only_by_wildcard(&self, headers: &[(String, String)]) -> bool {
        !self.credentials
            && self.headers.contains("*")
            && !self.headers.contains("authorization")
            && cors_unsafe_request_header_names(headers)
                .iter()
                .any(|n| n == "authorization")
    }

    /// What the preflight cache asks before reusing an entry; `wildcard` is what the
    /// engine lets a cached `Access-Control-Allow-Headers: *` cover (Chromium's
    /// `EnsureAllowedRequest` applies the non-wildcard rule for Authorization).
    pub fn allows(
        &self,
        credentials: Credentials,
        method: &str,
        headers: &[(String, String)],
        wildcard: CachedWildcard,
    ) -> bool {
        if !self.credentials && credentials == Credentials::Include {
            return false;
        }
        if self.check_method(method).is_err() {
            return false;
        }
        match wildcard {
            CachedWildcard::AllButAuthorization => self.check_headers(headers, true).is_ok(),
            CachedWildcard::Everything => self.check_headers(headers, false).is_ok(),
            CachedWildcard::OnlyRequested => cors_unsafe_request_header_names(headers)
                .iter()
                .all(|n| self.headers.contains(n) || self.requested_headers.contains(n)),
        }
    }
}

/// Response header names that are always readable cross-origin.
pub const SAFELISTED_RESPONSE_HEADERS: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// Blink's Access-Control-Expose-Headers parser: a token list with empty items allowed;
/// any syntax error makes the whole list empty.
pub fn parse_expose_headers(value: Option<&str>) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    let Some(value) = value else {
        return set;
    };
    for item in value.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return BTreeSet::new();
        }
        set.insert(item.to_ascii_lowercase());
    }
    set
}

fn is_forbidden_response_header(lower: &str) -> bool {
    lower == "set-cookie" || lower == "set-cookie2"
}

/// Names script can read from a CORS response (`response.headers.keys()`): safelisted
/// ones plus exposed ones; `*` exposes all only without credentials; never Set-Cookie.
pub fn readable_headers_cors(headers: &HeaderList, credentials: Credentials) -> Vec<String> {
    let exposed = parse_expose_headers(headers.get("access-control-expose-headers").as_deref());
    let all = credentials != Credentials::Include && exposed.contains("*");
    let mut out = BTreeSet::new();
    for (name, _) in headers.lines() {
        let lower = name.to_ascii_lowercase();
        if is_forbidden_response_header(&lower) {
            continue;
        }
        if all || SAFELISTED_RESPONSE_HEADERS.contains(&lower.as_str()) || exposed.contains(&lower)
        {
            out.insert(lower);
        }
    }
    out.into_iter().collect()
}

/// Names script can read from a same-origin (basic) response: all but Set-Cookie.
pub fn readable_headers_basic(headers: &HeaderList) -> Vec<String> {
    let mut out = BTreeSet::new();
    for (name, _) in headers.lines() {
        let lower = name.to_ascii_lowercase();
        if !is_forbidden_response_header(&lower) {
            out.insert(lower);
        }
    }
    out.into_iter().collect()
}
