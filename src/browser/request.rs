//! The request side of CORS as Chromium ships it: method normalisation, forbidden request
//! headers, CORS-safelisted request headers and their value rules, and whether a request
//! needs a preflight (with the exact `Access-Control-Request-Headers` value). It decides
//! nothing about responses and must not look at one.
//!
//! Sources read: services/network/public/cpp/cors/cors.cc (`IsCorsSafelistedHeader`,
//! `IsCorsSafelistedLowerCaseContentType`), services/network/cors/cors_util.cc
//! (`CorsUnsafeNotForbiddenRequestHeaderNames`), services/network/cors/preflight_controller.cc
//! (`CreateAccessControlRequestHeadersHeader`), net/http/http_util.cc (`IsSafeHeader`,
//! `ParseRangeHeader`, `IsTokenChar`), net/base/mime_util.cc (`ExtractMimeTypeFromMediaType`).

use std::fmt;

use super::browsers::{Browser, Quirks};
use super::model::{HeaderList, Mode};

/// A header value is safelisted only up to this many bytes (spec and Chromium agree).
pub const SAFELISTED_VALUE_MAX: usize = 128;
/// Total bytes of safelisted values before they all count as unsafe.
pub const SAFELISTED_TOTAL_MAX: usize = 1024;

/// Methods `fetch()` upper-cases; every other method is sent exactly as written.
const NORMALIZED_METHODS: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// The method as `fetch()` sends it: DELETE, GET, HEAD, OPTIONS, POST and PUT are
/// upper-cased whatever their case, any other method is kept exactly (so `patch` is sent
/// as `patch`).
pub fn normalize_method(method: &str) -> String {
    let upper = method.to_ascii_uppercase();
    if NORMALIZED_METHODS.contains(&upper.as_str()) {
        upper
    } else {
        method.to_owned()
    }
}

/// Whether the method is CORS-safelisted (GET, HEAD or POST), so needs no preflight.
/// Chromium compares upper-cased, so `post` would pass; after normalisation it is moot.
pub fn is_cors_safelisted_method(method: &str) -> bool {
    matches!(
        method.to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "POST"
    )
}

/// Whether `fetch()` refuses the method outright (CONNECT, TRACE or TRACK, in any case).
pub fn is_forbidden_method(method: &str) -> bool {
    matches!(
        method.to_ascii_uppercase().as_str(),
        "CONNECT" | "TRACE" | "TRACK"
    )
}

/// RFC 7230 tchar, as net::HttpUtil::IsTokenChar.
pub fn is_token_char(b: u8) -> bool {
    !(b >= 0x7f
        || b <= 0x20
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b'@'
                | b','
                | b';'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'='
                | b'{'
                | b'}'
        ))
}

/// Whether `s` is a non-empty HTTP token (RFC 7230 tchar only): what a method or header
/// name must be.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// Chromium's forbidden list (net::HttpUtil::IsSafeHeader). Differs from the spec:
/// it still forbids `User-Agent` (crbug.com/571722) and adds
/// `Access-Control-Request-Private-Network`.
const FORBIDDEN_HEADERS: [&str; 23] = [
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "access-control-request-private-network",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "via",
];

/// Whether `fetch()` silently drops this header (it never reaches CORS).
pub fn is_forbidden_request_header(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("proxy-") || lower.starts_with("sec-") {
        return true;
    }
    if FORBIDDEN_HEADERS.contains(&lower.as_str()) {
        return true;
    }
    if matches!(
        lower.as_str(),
        "x-http-method" | "x-http-method-override" | "x-method-override"
    ) {
        return value
            .split(',')
            .map(|m| m.trim_matches([' ', '\t']))
            .any(is_forbidden_method);
    }
    false
}

/// https://fetch.spec.whatwg.org/#cors-unsafe-request-header-byte
pub fn is_cors_unsafe_request_header_byte(b: u8) -> bool {
    (b < 0x20 && b != 0x09)
        || matches!(
            b,
            b'"' | b'('
                | b')'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'{'
                | b'}'
                | 0x7f
        )
}

/// Chromium's parser: text up to the first `;`, split on `/` into exactly two parts,
/// leading whitespace trimmed from the type and trailing from the subtype, both tokens.
/// Parameters are never examined (beyond the unsafe-byte check), as in the MIME
/// sniffing parser, which skips invalid parameters rather than failing.
pub fn content_type_essence(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let head = match lower.find(';') {
        Some(i) => &lower[..i],
        None => &lower[..],
    };
    let mut parts = head.split('/');
    let (ty, sub) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
    let ty = ty.trim_start_matches(ws);
    let sub = sub.trim_end_matches(ws);
    if is_token(ty) && is_token(sub) {
        Some(format!("{ty}/{sub}"))
    } else {
        None
    }
}

/// Whether a `Content-Type` value keeps the request simple: no CORS-unsafe byte and the
/// essence `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`.
pub fn is_safelisted_content_type(value: &str) -> bool {
    if value.bytes().any(is_cors_unsafe_request_header_byte) {
        return false;
    }
    matches!(
        content_type_essence(value).as_deref(),
        Some("application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain")
    )
}

/// Chromium's simple-range test: no whitespace or comma, then `bytes=`, one range, not a
/// suffix range, start <= end. The unit is case-sensitive: cors.cc as read lower-cases the
/// value first, but Chromium 156 sends a preflight for `Range: Bytes=0-` (observed in a
/// headless run), which matches the spec, so the observed behaviour is modelled.
pub fn is_simple_range(value: &str) -> bool {
    if value.bytes().any(|b| b == b' ' || b == b'\t' || b == b',') {
        return false;
    }
    let Some(spec) = value.strip_prefix("bytes=") else {
        return false;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return false;
    };
    let Some(start) = parse_int64(first) else {
        return false;
    };
    if last.is_empty() {
        return start >= 0;
    }
    match parse_int64(last) {
        Some(end) => start >= 0 && end >= start,
        None => false,
    }
}

/// base::StringToInt64: optional sign, digits only, no surrounding whitespace.
fn parse_int64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    let body = digits.strip_prefix('-').unwrap_or(digits);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn is_double_like(v: &str) -> bool {
    match v.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()),
    }
}

fn is_int_like(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit())
}

/// Whether one header is CORS-safelisted in Chromium. Beyond the spec's five names,
/// Chromium safelists `Intervention` (any value) and legacy client hints (`DPR`, `Width`,
/// `Viewport-Width`, `Device-Memory`, `RTT`, `Downlink`, `ECT`, `Save-Data`) with value
/// rules; the `Sec-CH-*` hints are on its list too but are forbidden to script anyway.
pub fn is_cors_safelisted_request_header(name: &str, value: &str) -> bool {
    if value.len() > SAFELISTED_VALUE_MAX {
        return false;
    }
    match name.to_ascii_lowercase().as_str() {
        "accept" => !value.bytes().any(is_cors_unsafe_request_header_byte),
        "accept-language" | "content-language" => value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b' ' | b'*' | b',' | b'-' | b'.' | b';' | b'=')
        }),
        "content-type" => is_safelisted_content_type(value),
        "range" => is_simple_range(value),
        "intervention" => true,
        "device-memory" | "dpr" | "downlink" => is_double_like(value),
        "width" | "viewport-width" | "rtt" => is_int_like(value),
        "ect" => matches!(value, "slow-2g" | "2g" | "3g" | "4g"),
        "save-data" => value.eq_ignore_ascii_case("on"),
        _ => false,
    }
}

/// The subset `no-cors` requests may carry (the Headers guard drops the rest).
pub fn is_no_cors_safelisted_request_header(name: &str, value: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "accept" | "accept-language" | "content-language" | "content-type"
    ) && is_cors_safelisted_request_header(name, value)
}

/// Lower-cased names of the headers that make a request need a preflight, in request
/// order. Forbidden headers are skipped, except `User-Agent`: whether it is sent at all is
/// the engine's (`prepare` drops it for Chromium), so one in the list counts. When
/// safelisted values total more than 1024 bytes, the safelisted ones count as unsafe too.
pub fn cors_unsafe_request_header_names(headers: &[(String, String)]) -> Vec<String> {
    unsafe_header_indices(headers)
        .map(|i| headers[i].0.to_ascii_lowercase())
        .collect()
}

/// The same headers as [`cors_unsafe_request_header_names`], spelled as the page wrote
/// them: what a fix should name ("add \"X-PKR-Auth\" …"), since the user will search their
/// code for that spelling.
pub fn cors_unsafe_header_names_as_written(headers: &[(String, String)]) -> Vec<String> {
    unsafe_header_indices(headers)
        .map(|i| headers[i].0.clone())
        .collect()
}

/// Which of `headers` need the preflight's permission: the non-safelisted ones, and every
/// safelisted one too once their values together exceed Chromium's 1024 bytes.
fn unsafe_header_indices(headers: &[(String, String)]) -> impl Iterator<Item = usize> {
    let mut unsafe_at = Vec::new();
    let mut safelisted_at = Vec::new();
    let mut total = 0usize;
    for (i, (name, value)) in headers.iter().enumerate() {
        // `User-Agent` is here only when the engine sends it ([`prepare`] decides): then it
        // is not safelisted, like any other name.
        if is_forbidden_request_header(name, value) && !name.eq_ignore_ascii_case("user-agent") {
            continue;
        }
        if is_cors_safelisted_request_header(&name.to_ascii_lowercase(), value) {
            total += value.len();
            safelisted_at.push(i);
        } else {
            unsafe_at.push(i);
        }
    }
    if total > SAFELISTED_TOTAL_MAX {
        unsafe_at.extend(safelisted_at);
    }
    unsafe_at.into_iter()
}

/// The `Access-Control-Request-Headers` value Chromium sends: lower-cased names,
/// sorted bytewise, de-duplicated, joined with "," and no space (the spec's
/// "combine" would give the same bytes; Chromium uses base::JoinString with ",").
pub fn access_control_request_headers(headers: &[(String, String)]) -> Option<String> {
    let mut names = cors_unsafe_request_header_names(headers);
    if names.is_empty() {
        return None;
    }
    names.sort();
    names.dedup();
    Some(names.join(","))
}

/// Whether a CORS preflight goes before this (normalised, `prepare`d) request: its method
/// is not GET, HEAD or POST, or a header in the list needs permission.
pub fn needs_preflight(method: &str, headers: &[(String, String)]) -> bool {
    !is_cors_safelisted_method(method) || !cors_unsafe_request_header_names(headers).is_empty()
}

/// [`needs_preflight`] for the header lines a server received (names in lower case, as
/// HTTP/2 and actix hand them over), without copying them.
pub fn needs_preflight_received<'a>(
    method: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> bool {
    if !is_cors_safelisted_method(method) {
        return true;
    }
    let mut safelisted_total = 0usize;
    for (name, value) in headers {
        if is_forbidden_request_header(name, value) {
            continue;
        }
        if !is_cors_safelisted_request_header(name, value) {
            return true;
        }
        safelisted_total += value.len();
    }
    safelisted_total > SAFELISTED_TOTAL_MAX
}

/// Whether a request a server received is a CORS preflight. `has_header` answers for a
/// lower-case header name whether the request carries it, so each server layer passes its
/// own header map and none repeats which headers count.
///
/// What Chromium sends: `OPTIONS` (those exact upper-case bytes), always with `Origin` and
/// `Access-Control-Request-Method`, plus `Access-Control-Request-Headers` only when some
/// header needs permission (so that one is not part of the test). The test asks for all
/// three parts because a server also sees requests no browser's CORS code made:
/// - the method is compared case-sensitively, as HTTP methods are (RFC 9110 §9.1): a
///   preflight is never sent as `options`;
/// - without `Origin` it is not a CORS request at all (Fetch: a CORS request is one that
///   includes `Origin`), e.g. `curl -X OPTIONS` with the header copied, and there is no
///   page origin to judge it against;
/// - without `Access-Control-Request-Method` it is a page's own `OPTIONS` request (from
///   `fetch(url, {method: "OPTIONS"})`, preflighted itself since OPTIONS is not
///   safelisted), whose response gets the ordinary CORS check.
///
/// actix-cors 0.7 is looser: it takes any `OPTIONS` with a parseable
/// `Access-Control-Request-Method` for a preflight and rejects it when `Origin` is
/// missing, so such a request is answered by actix-cors but is no preflight here.
///
/// ```
/// use sandbox::browser::{is_preflight, HeaderList};
///
/// let sent = HeaderList::new()
///     .with("Origin", "http://frontend.test:8080")
///     .with("Access-Control-Request-Method", "PUT");
/// assert!(is_preflight("OPTIONS", |name| sent.contains(name)));
/// assert!(!is_preflight("GET", |name| sent.contains(name)));
/// ```
pub fn is_preflight(method: &str, has_header: impl Fn(&str) -> bool) -> bool {
    method == "OPTIONS" && has_header("origin") && has_header("access-control-request-method")
}

/// HTTP whitespace trimmed from both ends, as the Headers object normalises values.
pub fn normalize_header_value(v: &str) -> &str {
    v.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// The request after `fetch()` has built it: normalised method, header list with
/// forbidden headers dropped and repeated names combined with ", ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The method as sent ([`normalize_method`]).
    pub method: String,
    /// The header lines as sent, one per name, in the page's order and spelling.
    pub headers: Vec<(String, String)>,
    /// What `fetch()` dropped silently, for the verdict's notes.
    pub notes: Vec<String>,
}

/// Why `fetch()` throws before anything is sent: each engine words it its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The method is not a token.
    InvalidMethod(String),
    /// CONNECT, TRACE or TRACK.
    ForbiddenMethod(String),
    /// A method other than GET, HEAD or POST in mode `no-cors` (normalised).
    NoCorsMethod(String),
    /// A header name that is not a token.
    InvalidHeaderName(String),
    /// A header value with NUL, CR or LF (normalised).
    InvalidHeaderValue(String),
}

impl Refusal {
    /// The `TypeError` message `browser` throws, without the "TypeError: " prefix. Pinned
    /// by the differential scenarios (`invalid-*-throws`, `forbidden-method-*`,
    /// `no-cors-put-rejected`), except a bad header value's, which a page cannot hand to
    /// the harness: those three texts are read from the engines' sources, not measured.
    pub fn text(&self, browser: Browser) -> String {
        match (browser, self) {
            (Browser::Chromium, _) => format!("Failed to execute 'fetch' on 'Window': {self}"),
            (
                Browser::Firefox,
                Refusal::InvalidMethod(m) | Refusal::ForbiddenMethod(m) | Refusal::NoCorsMethod(m),
            ) => format!("Window.fetch: Invalid request method {m}."),
            // Firefox lower-cases the name it quotes.
            (Browser::Firefox, Refusal::InvalidHeaderName(n)) => format!(
                "Window.fetch: {} is an invalid header name.",
                n.to_ascii_lowercase()
            ),
            (Browser::Firefox, Refusal::InvalidHeaderValue(v)) => {
                format!("Window.fetch: {v} is an invalid header value.")
            }
            (Browser::WebKit, Refusal::InvalidMethod(_)) => {
                "Method is not a valid HTTP token.".to_owned()
            }
            (Browser::WebKit, Refusal::ForbiddenMethod(_)) => "Method is forbidden.".to_owned(),
            (Browser::WebKit, Refusal::NoCorsMethod(_)) => {
                "Method must be GET, POST or HEAD in no-cors mode.".to_owned()
            }
            (Browser::WebKit, Refusal::InvalidHeaderName(n)) => {
                format!("Invalid header name: '{n}'")
            }
            (Browser::WebKit, Refusal::InvalidHeaderValue(v)) => {
                format!("Header value is not valid: '{v}'")
            }
        }
    }
}

/// Chromium's words (after "Failed to execute 'fetch' on 'Window': ").
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::InvalidMethod(m) => write!(f, "'{m}' is not a valid HTTP method."),
            Refusal::ForbiddenMethod(m) => write!(f, "'{m}' HTTP method is unsupported."),
            Refusal::NoCorsMethod(m) => write!(f, "'{m}' is unsupported in no-cors mode."),
            // Chromium's Headers code names neither the header nor the value.
            Refusal::InvalidHeaderName(_) => f.write_str("Invalid name"),
            Refusal::InvalidHeaderValue(_) => f.write_str("Invalid value"),
        }
    }
}

/// Applies what `fetch()`/`new Request()` do before anything is sent, as the engine with
/// these `quirks` does (Chromium drops a `User-Agent` script sets, the others send it).
pub fn prepare(
    method: &str,
    headers: &HeaderList,
    mode: Mode,
    quirks: &Quirks,
) -> Result<Prepared, Refusal> {
    if !is_token(method) {
        return Err(Refusal::InvalidMethod(method.to_owned()));
    }
    if is_forbidden_method(method) {
        return Err(Refusal::ForbiddenMethod(method.to_owned()));
    }
    let method = normalize_method(method);
    if mode == Mode::NoCors && !is_cors_safelisted_method(&method) {
        return Err(Refusal::NoCorsMethod(method));
    }
    let mut notes = Vec::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in headers.lines() {
        if !is_token(name) {
            return Err(Refusal::InvalidHeaderName(name.to_owned()));
        }
        let value = normalize_header_value(value);
        if value.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
            return Err(Refusal::InvalidHeaderValue(value.to_owned()));
        }
        let sent_anyway = quirks.sends_script_user_agent && name.eq_ignore_ascii_case("user-agent");
        if is_forbidden_request_header(name, value) && !sent_anyway {
            notes.push(format!(
                "request header '{name}' is forbidden: fetch() drops it silently, so it is \
                 never sent and never causes a preflight"
            ));
            continue;
        }
        match out.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            None => out.push((name.to_owned(), value.to_owned())),
        }
    }
    if mode == Mode::NoCors {
        out.retain(|(name, value)| {
            let keep = is_no_cors_safelisted_request_header(name, value);
            if !keep {
                notes.push(format!(
                    "request header '{name}' is dropped in no-cors mode (only safelisted \
                     Accept, Accept-Language, Content-Language and Content-Type survive)"
                ));
            }
            keep
        });
    }
    Ok(Prepared {
        method,
        headers: out,
        notes,
    })
}
