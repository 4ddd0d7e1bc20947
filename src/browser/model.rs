//! The data the browser model reads and writes: scenarios (a page's request plus the
//! responses the servers gave), ordered header lists, and the verdict. This file owns the
//! JSON shape other layers and users rely on; it holds no CORS rule and must not grow one.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::browsers::Browser;
use super::cookie_model::{CookieVerdict, HeldCookie, ThirdPartyCookies};
use super::cors_error::CorsError;

/// Header lines in the order they were given. One entry per name as first spelled; a
/// name with several values stands for several header lines (JSON: an array).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderList(pub Vec<(String, Vec<String>)>);

impl HeaderList {
    /// An empty list, to which lines are pushed in order.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one header line, grouping it with earlier lines of the same name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some((_, values)) => values.push(value),
            None => self.0.push((name, vec![value])),
        }
    }

    /// Builder form of [`HeaderList::push`], handy in tests and examples.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.push(name, value);
        self
    }

    /// Every line's value for `name` (case-insensitive), in order.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.iter().map(String::as_str))
            .collect()
    }

    /// The value as Chromium's `GetNormalizedHeader` sees it: each line trimmed of
    /// whitespace, several lines joined with ", ". This is why two
    /// `Access-Control-Allow-Origin` lines fail as "multiple values".
    pub fn get(&self, name: &str) -> Option<String> {
        let all = self.get_all(name);
        if all.is_empty() {
            return None;
        }
        let trimmed: Vec<&str> = all.iter().map(|v| v.trim_matches(is_lws)).collect();
        Some(trimmed.join(", "))
    }

    /// First line only: for non-coalescing headers such as `Location`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.get_all(name).first().copied()
    }

    /// Whether at least one line has this name (case-insensitive).
    pub fn contains(&self, name: &str) -> bool {
        !self.get_all(name).is_empty()
    }

    /// Every (name, value) line in order.
    pub fn lines(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .flat_map(|(n, vs)| vs.iter().map(move |v| (n.as_str(), v.as_str())))
    }

    /// Whether no header line is present (a name kept with no values counts as none).
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, v)| v.is_empty())
    }
}

fn is_lws(c: char) -> bool {
    c == ' ' || c == '\t'
}

impl Serialize for HeaderList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            if values.len() == 1 {
                map.serialize_entry(name, &values[0])?;
            } else {
                map.serialize_entry(name, values)?;
            }
        }
        map.end()
    }
}

/// One JSON header value: a string (one line) or an array (several lines). Numbers and
/// booleans are accepted as their text because hand-written scenarios use them
/// (`"Access-Control-Max-Age": 600`).
struct Lines(Vec<String>);

impl<'de> Deserialize<'de> for Lines {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LinesVisitor;
        impl<'de> Visitor<'de> for LinesVisitor {
            type Value = Lines;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a header value: a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lines, E> {
                Ok(Lines(vec![v.to_owned()]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lines, E> {
                Ok(Lines(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lines, E> {
                Ok(Lines(vec![v.to_string()]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lines, E> {
                Ok(Lines(vec![v.to_string()]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Lines, E> {
                Ok(Lines(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lines, A::Error> {
                let mut out = Vec::new();
                while let Some(Lines(mut one)) = seq.next_element::<Lines>()? {
                    out.append(&mut one);
                }
                Ok(Lines(out))
            }
        }
        deserializer.deserialize_any(LinesVisitor)
    }
}

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = HeaderList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of header names to values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<HeaderList, E> {
                Ok(HeaderList::new())
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<HeaderList, M::Error> {
                let mut list = HeaderList::new();
                while let Some((name, Lines(values))) = map.next_entry::<String, Lines>()? {
                    if values.is_empty() {
                        // An empty array still names the header; keep it visible.
                        list.0.push((name.clone(), Vec::new()));
                    }
                    for v in values {
                        list.push(name.clone(), v);
                    }
                }
                Ok(list)
            }
        }
        deserializer.deserialize_any(ListVisitor)
    }
}

/// `credentials` as passed to `fetch()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credentials {
    /// Never send cookies or HTTP authentication.
    Omit,
    /// Send credentials to the page's own origin only (the default).
    #[default]
    SameOrigin,
    /// Send credentials cross-origin too; the response must then allow them explicitly.
    Include,
}

impl Credentials {
    /// The spelling `fetch()` takes, e.g. "same-origin".
    pub fn as_str(self) -> &'static str {
        match self {
            Credentials::Omit => "omit",
            Credentials::SameOrigin => "same-origin",
            Credentials::Include => "include",
        }
    }
}

/// `mode` as passed to `fetch()`; `navigate` is accepted but outside the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Cross-origin requests are CORS-checked (the default).
    #[default]
    Cors,
    /// Cross-origin requests go out with safelisted parts only; script gets an opaque
    /// response.
    NoCors,
    /// Cross-origin URLs are refused before anything is sent.
    SameOrigin,
    /// A document navigation; modelled as `no-cors`.
    Navigate,
}

impl Mode {
    /// The spelling `fetch()` takes, e.g. "no-cors".
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Cors => "cors",
            Mode::NoCors => "no-cors",
            Mode::SameOrigin => "same-origin",
            Mode::Navigate => "navigate",
        }
    }
}

/// Which API issued the request: it changes the console wording ("fetch" vs
/// "XMLHttpRequest") and the extra sentences Chromium appends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Initiator {
    /// `fetch()` (the default).
    #[default]
    #[serde(rename = "fetch")]
    Fetch,
    /// `XMLHttpRequest`; JSON accepts "xmlhttprequest", "xhr" or "XMLHttpRequest".
    #[serde(rename = "xmlhttprequest", alias = "xhr", alias = "XMLHttpRequest")]
    XmlHttpRequest,
    /// A font a stylesheet's `@font-face` loads: always CORS mode, credentials same-origin.
    #[serde(rename = "font")]
    Font,
    /// `<script type="module">` (or a `crossorigin` classic script).
    #[serde(rename = "script")]
    Script,
    /// `<img crossorigin>` (`anonymous`; `use-credentials` is credentials `include`).
    #[serde(rename = "image", alias = "img")]
    Image,
    /// `<link rel="preload" as="font" crossorigin>`.
    #[serde(rename = "preload")]
    Preload,
    /// `new EventSource(url, {withCredentials})` (`withCredentials: true` is credentials
    /// `include`).
    #[serde(rename = "eventsource", alias = "EventSource")]
    EventSource,
}

impl Initiator {
    /// Whether an element or `EventSource` loads the resource, not script's own request:
    /// always a GET with no headers of the page's choosing, so never preflighted, and script
    /// learns of a refusal only from an `error` event.
    pub fn is_element(self) -> bool {
        !matches!(self, Initiator::Fetch | Initiator::XmlHttpRequest)
    }

    /// What Chromium calls the load in "Access to … at": measured in Chromium 156 (a
    /// preload names what it is `as`, here a font; an `EventSource` is a "resource").
    pub fn chromium_word(self) -> &'static str {
        match self {
            Initiator::Fetch => "fetch",
            Initiator::XmlHttpRequest => "XMLHttpRequest",
            Initiator::Font | Initiator::Preload => "font",
            Initiator::Script => "script",
            Initiator::Image => "image",
            Initiator::EventSource => "resource",
        }
    }

    /// How the page would write this load, for notes and text output.
    pub fn element_text(self) -> &'static str {
        match self {
            Initiator::Fetch => "fetch()",
            Initiator::XmlHttpRequest => "XMLHttpRequest",
            Initiator::Font => "@font-face",
            Initiator::Script => "<script type=\"module\">",
            Initiator::Image => "<img crossorigin>",
            Initiator::Preload => "<link rel=\"preload\" as=\"font\" crossorigin>",
            Initiator::EventSource => "EventSource",
        }
    }
}

fn default_method() -> String {
    "GET".to_owned()
}

fn default_status() -> u16 {
    200
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// The request as the page passes it to `fetch()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The absolute URL passed to `fetch()`.
    pub url: String,
    /// The page's origin (serialized), or "null" for an opaque origin.
    pub origin: String,
    /// The method as the page wrote it (GET when absent); `fetch()` normalises it.
    #[serde(default = "default_method")]
    pub method: String,
    /// The headers the page set, before `fetch()` drops the forbidden ones.
    #[serde(default, skip_serializing_if = "HeaderList::is_empty")]
    pub headers: HeaderList,
    /// The `credentials` option.
    #[serde(default, skip_serializing_if = "is_default")]
    pub credentials: Credentials,
    /// The `mode` option.
    #[serde(default, skip_serializing_if = "is_default")]
    pub mode: Mode,
    /// Which API made the request.
    #[serde(default, skip_serializing_if = "is_default")]
    pub initiator: Initiator,
    /// The page's URL, which Firefox names when it refuses a request; the origin's root
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// Stand-in for Chromium's network isolation key (top-frame site); defaults to the
    /// origin, which is right for a top-level page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_isolation_key: Option<String>,
}

impl Request {
    /// A GET from the page at `origin` to `url`, with no headers and default options.
    pub fn new(url: &str, origin: &str) -> Self {
        Request {
            url: url.to_owned(),
            origin: origin.to_owned(),
            method: default_method(),
            headers: HeaderList::new(),
            credentials: Credentials::default(),
            mode: Mode::default(),
            initiator: Initiator::default(),
            page_url: None,
            network_isolation_key: None,
        }
    }
}

/// A response as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// The HTTP status code (200 when absent in JSON).
    #[serde(default = "default_status")]
    pub status: u16,
    /// The header lines as sent, in order.
    #[serde(default)]
    pub headers: HeaderList,
}

impl Response {
    /// A response with this status and no headers.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: HeaderList::new(),
        }
    }

    /// Builder form of adding one header line.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.headers.push(name, value);
        self
    }

    /// A redirect in net's sense: one of the five redirect codes with a `Location`.
    /// Any other 3xx is an ordinary (non-ok) response.
    pub fn redirect_location(&self) -> Option<&str> {
        if matches!(self.status, 301 | 302 | 303 | 307 | 308) {
            self.headers.first("location").map(|l| l.trim())
        } else {
            None
        }
    }
}

/// The next hop after a redirect: its response, and the preflight answer if one is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectHop {
    /// Where the scenario expects the redirect to lead; when the `Location` resolves
    /// elsewhere the `Location` wins and a note says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The answer to the preflight sent before this hop, if one is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight_response: Option<Response>,
    /// The response at this hop (itself possibly a redirect).
    pub response: Response,
}

/// An earlier exchange that may have left an entry in the preflight cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorExchange {
    /// How long before the judged request this exchange happened, in seconds.
    #[serde(default)]
    pub seconds_before: f64,
    /// The earlier request.
    pub request: Request,
    /// The answer its preflight got, if one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight_response: Option<Response>,
    /// The answer the request itself got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_response: Option<Response>,
}

/// One recorded or hypothetical cross-origin exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A label copied into the verdict, such as a HAR entry or fixture name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The request being judged.
    pub request: Request,
    /// The answer to the preflight, if the browser sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight_response: Option<Response>,
    /// The answer to the request itself (for a redirect, the first hop's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_response: Option<Response>,
    /// The hops that follow a redirect, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<RedirectHop>,
    /// Earlier exchanges, replayed first so their preflights can be in the cache.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prior: Vec<PriorExchange>,
    /// Cookies the browser holds before the request; judged for sending when the request
    /// carries credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<HeldCookie>,
    /// The browser's third-party cookie setting; when absent, what each engine's fresh
    /// profile does (Chromium and WebKit block them, Firefox partitions them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party_cookies: Option<ThirdPartyCookies>,
}

impl Scenario {
    /// A scenario with only the request: no responses, redirects or earlier exchanges.
    pub fn new(request: Request) -> Self {
        Scenario {
            id: None,
            request,
            preflight_response: None,
            actual_response: None,
            redirects: Vec::new(),
            prior: Vec::new(),
            cookies: Vec::new(),
            third_party_cookies: None,
        }
    }
}

/// Who will apply the fix, so it can be phrased in their terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FixContext {
    /// The server is the sandbox's mock API; `exact_mode` says the policy file lists
    /// literal header lines instead of actix-cors fields.
    Sandbox {
        /// The policy file the fix names.
        policy_file: String,
        /// Whether that file lists literal header lines rather than actix-cors fields.
        exact_mode: bool,
    },
    /// Any server: the fix names headers and values, not configuration fields.
    #[default]
    Generic,
}

/// Whether script gets the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The browser hands the response to script.
    Allowed,
    /// The browser refuses it: `fetch()` rejects with a TypeError.
    Blocked,
}

/// The preflight the browser sends (or would send).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightRequest {
    /// Always "OPTIONS".
    pub method: String,
    /// The URL of the hop it precedes, as Chromium prints it.
    pub url: String,
    /// `Origin`, `Access-Control-Request-Method` and, when a header needs permission,
    /// `Access-Control-Request-Headers`.
    pub headers: HeaderList,
}

/// What the browser concludes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The scenario's `id`.
    pub id: Option<String>,
    /// Whether Chromium needs a preflight for this request (at any hop).
    pub preflight_required: bool,
    /// Whether it sent one rather than answering from its preflight cache.
    pub preflight_sent: bool,
    /// The preflight that is needed, whether sent or answered from the cache.
    pub preflight_request: Option<PreflightRequest>,
    /// Whether script gets the response.
    pub outcome: Outcome,
    /// The engine the verdict speaks for.
    pub browser: Browser,
    /// Which check failed, named as Chromium's `network::mojom::CorsError` whatever the
    /// engine (fixes and notes key on it); `None` when blocked for a reason that is not a
    /// CORS error (a TypeError from `fetch()`, a network error). The JSON's `cors_error`
    /// is [`Verdict::engine_error`] instead.
    #[serde(skip)]
    pub cors_error: Option<CorsError>,
    /// The engine's own name for the failure, the JSON's `cors_error`: Chromium's
    /// `CorsError`, Firefox's reason as MDN names it (`CORSMissingAllowOrigin`), `None`
    /// for WebKit, which names none.
    #[serde(rename = "cors_error")]
    pub engine_error: Option<String>,
    /// What Chromium reports as `failedParameter`; `None` where Chromium leaves it empty
    /// because the error takes none.
    pub failed_parameter: Option<String>,
    /// The console line the engine prints first, or the TypeError text for a failure
    /// before CORS applies.
    pub message: Option<String>,
    /// Every console line the engine prints for the request, in order (Firefox follows a
    /// failed preflight with "CORS request did not succeed", WebKit every refusal with
    /// "Fetch API cannot load … due to access control checks.").
    pub messages: Vec<String>,
    /// The `TypeError` script sees (`fetch()` rejects with it), when it fails.
    pub js_error: Option<String>,
    /// The part of a CORS `message` after "has been blocked by CORS policy: ": Chromium's
    /// reason without the URLs, for one-line logs. Not part of the JSON verdict.
    #[serde(skip)]
    pub reason: Option<String>,
    /// What to change so the exchange passes, phrased for the [`FixContext`].
    pub fix: Option<String>,
    /// Response header names script can read (lower-case, sorted, as `headers.keys()`).
    pub readable_headers: Vec<String>,
    /// Remarks that change no outcome: cache behaviour, lints, parts of the scenario not
    /// judged.
    pub notes: Vec<String>,
    /// The `net::` error Chromium's console shows when the request never got a response it
    /// could judge (connection refused, a certificate it does not trust, a malformed answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_error: Option<String>,
    /// Why the browser blocked the request before CORS was asked, as DevTools'
    /// `Network.loadingFailed` names it (`blockedReason`): `mixed-content`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// For a credentialed request: each held cookie sent or not, each `Set-Cookie` line of
    /// the response stored or not. Judged apart from CORS: a blocked response's cookies are
    /// still stored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<CookieVerdict>,
}

impl Verdict {
    pub(crate) fn empty(id: Option<String>) -> Self {
        Verdict {
            id,
            preflight_required: false,
            preflight_sent: false,
            preflight_request: None,
            outcome: Outcome::Allowed,
            browser: Browser::Chromium,
            cors_error: None,
            engine_error: None,
            failed_parameter: None,
            message: None,
            messages: Vec::new(),
            js_error: None,
            reason: None,
            fix: None,
            readable_headers: Vec::new(),
            notes: Vec::new(),
            net_error: None,
            blocked_reason: None,
            cookies: Vec::new(),
        }
    }

    /// Whether the outcome is [`Outcome::Allowed`].
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }
}
