//! One HAR entry as the import needs it, read leniently: the tools that write HARs (Chrome,
//! Firefox, Safari, Fiddler, Charles, Insomnia, converters) each leave out different optional
//! parts, so only the request's URL is required.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::HarError;
use crate::browser::model::{HeaderList, Initiator, Response};
use crate::browser::url::{Origin, Url};

/// A response body as recorded (`response.content`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedBody {
    /// `content.mimeType`, when given.
    pub mime: Option<String>,
    /// `content.text`, when the tool kept it.
    pub text: Option<String>,
    /// Whether `text` is base64 (`content.encoding`), so not the body itself.
    pub base64: bool,
    /// `content.size` (or the text's length), in bytes.
    pub size: Option<u64>,
}

pub(super) struct Entry {
    pub index: usize,
    pub method: String,
    pub url: String,
    pub request_headers: HeaderList,
    pub status: u16,
    pub response_headers: HeaderList,
    pub redirect_url: Option<String>,
    pub resource_type: Option<String>,
    /// Chrome's `_error` (e.g. `net::ERR_FAILED`) for a load it recorded as failed.
    pub error: Option<String>,
    /// `startedDateTime`, as written and in milliseconds since the epoch.
    pub started: Option<(String, i128)>,
    /// The origin of the script that made the request (`_initiator`), for exports whose
    /// request headers lack `Origin` (provisional headers).
    pub initiator_origin: Option<String>,
    pub post_data: Option<String>,
    pub body: RecordedBody,
}

/// Header lines of `v.headers`. An identical line (same name, ignoring case, and value)
/// counts once: converters write a request's provisional and ExtraInfo copies, and a real
/// server rarely repeats a line exactly.
fn headers_of(v: &Value) -> HeaderList {
    let mut list = HeaderList::new();
    let Some(items) = v.get("headers").and_then(Value::as_array) else {
        return list;
    };
    for h in items {
        let name = h.get("name").and_then(Value::as_str);
        let value = h.get("value").and_then(text_of);
        let (Some(n), Some(val)) = (name, value) else {
            continue;
        };
        // HTTP/2 pseudo-headers are not header lines.
        if n.starts_with(':') {
            continue;
        }
        if list.get_all(n).iter().any(|seen| *seen == val) {
            continue;
        }
        list.push(n, val);
    }
    list
}

/// A string, or a number written where a string belongs (some tools do).
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn status_of(res: Option<&Value>) -> u16 {
    let Some(v) = res.and_then(|r| r.get("status")) else {
        return 0;
    };
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    // HAR writes -1 or 0 for "no status"; anything past 999 is not a status either.
    n.and_then(|n| u16::try_from(n).ok())
        .filter(|n| (100..1000).contains(n))
        .unwrap_or(0)
}

fn millis(text: &str) -> Option<i128> {
    let t = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() / 1_000_000)
}

/// The origin of the first script frame (or URL) Chrome names as the initiator.
fn initiator_origin(e: &Value) -> Option<String> {
    let init = e.get("_initiator")?;
    let url = init.get("url").and_then(Value::as_str).or_else(|| {
        init.pointer("/stack/callFrames/0/url")
            .and_then(Value::as_str)
    })?;
    let parsed = Url::parse(url)?;
    Some(parsed.origin().serialize())
}

fn body_of(res: Option<&Value>) -> RecordedBody {
    let Some(c) = res.and_then(|r| r.get("content")) else {
        return RecordedBody::default();
    };
    let text = c.get("text").and_then(Value::as_str).map(str::to_owned);
    RecordedBody {
        mime: c
            .get("mimeType")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        base64: c
            .get("encoding")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("base64")),
        size: c
            .get("size")
            .and_then(Value::as_u64)
            .or_else(|| text.as_ref().map(|t| t.len() as u64)),
        text,
    }
}

pub(super) fn parse_entry(index: usize, e: &Value) -> Result<Entry, HarError> {
    let bad = |reason: &str| HarError::BadEntry {
        index,
        reason: reason.to_owned(),
    };
    let req = e.get("request").ok_or_else(|| bad("no request"))?;
    let res = e.get("response").filter(|r| r.is_object());
    let url = req
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("request.url missing"))?;
    let started = e
        .get("startedDateTime")
        .and_then(Value::as_str)
        .and_then(|s| millis(s).map(|ms| (s.to_owned(), ms)));
    let error = e
        .get("_error")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned);
    Ok(Entry {
        index,
        method: req
            .get("method")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or("GET")
            .to_owned(),
        url: url.to_owned(),
        request_headers: headers_of(req),
        status: status_of(res),
        response_headers: res.map(headers_of).unwrap_or_default(),
        redirect_url: res
            .and_then(|r| r.get("redirectURL"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        resource_type: e
            .get("_resourceType")
            .and_then(Value::as_str)
            .map(str::to_owned),
        error,
        started,
        initiator_origin: initiator_origin(e),
        post_data: req
            .pointer("/postData/text")
            .and_then(Value::as_str)
            .map(str::to_owned),
        body: body_of(res),
    })
}

impl Entry {
    pub fn is_preflight(&self) -> bool {
        self.method.eq_ignore_ascii_case("OPTIONS")
            && self
                .request_headers
                .contains("access-control-request-method")
    }

    /// Whether the HAR holds no response for this load: no status (0), as browsers record
    /// a load that failed (a CORS error among them).
    pub fn failed(&self) -> bool {
        self.status == 0
    }

    /// The `net::` error the browser recorded, or the one Chromium reports for a blocked load.
    pub fn net_error(&self) -> String {
        self.error
            .clone()
            .unwrap_or_else(|| "net::ERR_FAILED".to_owned())
    }

    pub fn response(&self) -> Option<Response> {
        (!self.failed()).then(|| Response {
            status: self.status,
            headers: self.response_headers.clone(),
        })
    }

    pub fn started_ms(&self) -> Option<i128> {
        self.started.as_ref().map(|(_, ms)| *ms)
    }

    pub fn redirect_target(&self) -> Option<String> {
        let location = self
            .redirect_url
            .clone()
            .or_else(|| self.response_headers.first("location").map(str::to_owned))?;
        if !matches!(self.status, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        Some(
            Url::parse(&self.url)
                .and_then(|u| u.join(&location))
                .map(|u| u.serialize())
                .unwrap_or(location),
        )
    }

    /// The page's origin when the request went to another origin: its `Origin` header, or
    /// (for exports that kept only provisional headers) the initiating script's origin.
    pub fn cross_origin_from(&self) -> Option<String> {
        self.cross_origin_by(false)
    }

    /// [`Entry::cross_origin_from`], else the origin of the `Referer`: for loads the
    /// browser sends without `Origin` (a no-cors fetch, a plain `<img>`) in exports with no
    /// `_initiator`. Never for a request that may be CORS: a referrer names the page, not
    /// whether the request was cross-origin in CORS's sense.
    pub fn cross_origin_or_referer(&self) -> Option<String> {
        self.cross_origin_by(true)
    }

    fn cross_origin_by(&self, referer: bool) -> Option<String> {
        let url = Url::parse(&self.url)?;
        let from_referer = || {
            let r = self.request_headers.get("referer")?;
            Some(Url::parse(r.trim())?.origin().serialize())
        };
        let origin = self
            .request_headers
            .get("origin")
            .or_else(|| self.initiator_origin.clone())
            .or_else(|| referer.then(from_referer).flatten())?;
        match Origin::parse(&origin) {
            Some(o) if o.same_origin_with(&url) => None,
            _ => Some(origin),
        }
    }
}

/// What kind of load an entry records, as far as the HAR tells: a HAR holds every load of
/// the page, and most cross-origin ones (a plain `<img>`, a classic `<script>`, a
/// stylesheet, a navigation, a WebSocket) are not CORS requests at all, so judging them as
/// fetches would report blocks the browser never made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Load {
    /// A CORS-mode request made by this API.
    Cors(Initiator),
    /// `fetch(url, {mode: "no-cors"})`: sent, and script gets an opaque response.
    NoCorsFetch,
    /// A load CORS does not check, named for the report ("image", "WebSocket").
    NotCors(&'static str),
    /// A CORS-mode load of a kind the model does not speak for (a `crossorigin`
    /// stylesheet, media, a worker), named for the report.
    Unmodelled(&'static str),
}

/// The report's name for a `Sec-Fetch-Dest` or `_resourceType` value.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "image" | "imageset" => "image",
        "script" => "script",
        "style" | "stylesheet" => "stylesheet",
        "audio" | "video" | "track" | "texttrack" | "media" => "media",
        "document" | "iframe" | "frame" | "navigate" => "navigation",
        "worker" | "sharedworker" | "serviceworker" => "worker",
        "manifest" => "manifest",
        "object" | "embed" => "plugin",
        _ => "other",
    }
}

impl Entry {
    /// How the browser made the request. `Sec-Fetch-Mode`/`Sec-Fetch-Dest` say it exactly
    /// when the export kept the real request headers (Chromium, Firefox and Safari send
    /// them); Chrome's `_resourceType` stands in when only provisional headers were kept.
    /// Without either, a request is taken as a `fetch()`: the `Origin` header (or the
    /// initiator) already said it went cross-origin.
    pub fn load(&self) -> Load {
        if self.is_preflight() {
            return Load::Cors(Initiator::Fetch);
        }
        // Only HTTP(S) fetches are CORS-checked (a `chrome-extension:` or `ws:` URL is not).
        if Url::parse(&self.url).is_some_and(|u| !matches!(u.scheme.as_str(), "http" | "https")) {
            return Load::NotCors(if self.url.starts_with("ws") {
                "WebSocket"
            } else {
                "non-HTTP URL"
            });
        }
        let header = |name: &str| {
            self.request_headers
                .get(name)
                .map(|v| v.trim().to_ascii_lowercase())
        };
        let resource = self.resource_type.as_deref().map(str::to_ascii_lowercase);
        let resource = resource.as_deref();
        let mode = header("sec-fetch-mode");
        let dest = header("sec-fetch-dest");
        if header("upgrade").as_deref() == Some("websocket")
            || mode.as_deref() == Some("websocket")
            || resource == Some("websocket")
        {
            return Load::NotCors("WebSocket");
        }
        let from_script = || match resource {
            Some("xhr") => Initiator::XmlHttpRequest,
            Some("eventsource") => Initiator::EventSource,
            _ => Initiator::Fetch,
        };
        match mode.as_deref() {
            Some("navigate") => return Load::NotCors("navigation"),
            Some("no-cors") => {
                return match dest.as_deref() {
                    None | Some("empty") if resource.is_none_or(|r| r == "fetch") => {
                        Load::NoCorsFetch
                    }
                    Some(d) => Load::NotCors(kind_label(d)),
                    None => Load::NotCors(kind_label(resource.unwrap_or("other"))),
                };
            }
            Some("cors") => {
                return match dest.as_deref() {
                    None | Some("empty") => Load::Cors(from_script()),
                    Some("font") => Load::Cors(Initiator::Font),
                    Some("script") => Load::Cors(Initiator::Script),
                    Some("image") => Load::Cors(Initiator::Image),
                    Some(d) => Load::Unmodelled(kind_label(d)),
                };
            }
            _ => {}
        }
        // Provisional headers: a CORS-mode element load carries `Origin`, a no-cors one
        // does not.
        let has_origin = self.request_headers.contains("origin");
        // No fetch metadata at all (an older Safari, a proxy): a browser asks for HTML first
        // only when it navigates (a form POST carries `Origin` too); fetch() asks for `*/*`.
        let navigates = header("accept").is_some_and(|a| a.starts_with("text/html"));
        if resource.is_none() && mode.is_none() && navigates {
            return Load::NotCors("navigation");
        }
        match resource {
            None | Some("fetch" | "xhr" | "eventsource" | "preflight" | "ping" | "other") => {
                Load::Cors(from_script())
            }
            Some("font") => Load::Cors(Initiator::Font),
            Some("document") => Load::NotCors("navigation"),
            Some("image") if has_origin => Load::Cors(Initiator::Image),
            Some("script") if has_origin => Load::Cors(Initiator::Script),
            Some(r) if has_origin => Load::Unmodelled(kind_label(r)),
            Some(r) => Load::NotCors(kind_label(r)),
        }
    }
}

/// Who recorded the file: `log.browser` (name version) when given, else `log.creator`.
pub(super) fn recorder(json: &Value) -> Option<Recorder> {
    let log = json.get("log")?;
    let named = |key: &str| {
        let v = log.get(key)?;
        let name = v.get("name").and_then(Value::as_str)?.trim();
        if name.is_empty() {
            return None;
        }
        let version = v
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        Some(if version.is_empty() {
            name.to_owned()
        } else {
            format!("{name} {version}")
        })
    };
    let browser = named("browser");
    let creator = named("creator");
    let label = browser.clone().or(creator)?;
    Some(Recorder {
        chromium: is_chromium(&label),
        label,
        is_browser: browser.is_some(),
    })
}

/// The browser or tool that wrote a HAR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorder {
    /// E.g. "Firefox 140.0" or "Fiddler 5.0.20204".
    pub label: String,
    /// Whether it is a Chromium browser (Chrome, Edge, Opera, Brave, Chromium itself, or
    /// Chrome's DevTools as `log.creator` "WebInspector").
    pub chromium: bool,
    /// Whether `log.browser` named it (else `log.creator`: maybe a proxy, not a browser).
    pub is_browser: bool,
}

fn is_chromium(label: &str) -> bool {
    let l = label.to_ascii_lowercase();
    [
        "chrome",
        "chromium",
        "webinspector",
        "edge",
        "opera",
        "brave",
    ]
    .iter()
    .any(|n| l.contains(n))
}
