//! Turns a HAR file (DevTools "Save all as HAR", or a Firefox, Safari, Fiddler, Charles or
//! Insomnia export) into scenarios: one per cross-origin request, with its OPTIONS
//! preflight paired to it and redirect hops attached. It reconstructs what the page passed
//! to fetch() and keeps what the HAR cannot tell (was credentials mode `include`? did the
//! load fail?) beside the scenario; it judges nothing.
//!
//! A HAR records what went on the wire, not what the page asked for, so the header list
//! is rebuilt: with a preflight, the names in `Access-Control-Request-Headers` plus the
//! safelisted headers; without one, only safelisted headers (DevTools adds `Pragma` and
//! `Cache-Control` when "Disable cache" is on, and those would fake a preflight).
//!
//! The format promises no order (Chrome lists an actual request before its preflight,
//! which the network service starts later), so entries are taken in `startedDateTime`
//! order and a preflight is paired with the request for its URL, method and origin nearest
//! to it in time.

mod entry;

use std::collections::BTreeMap;

use serde_json::Value;
use thiserror::Error;

pub use entry::{RecordedBody, Recorder};

use super::model::{Credentials, HeaderList, Initiator, Mode, RedirectHop, Request, Scenario};
use super::request::{
    is_cors_safelisted_request_header, is_forbidden_request_header, normalize_method,
};
use super::url::Url;
use entry::{parse_entry, recorder, Entry, Load};

/// Why a JSON document could not be read as a HAR.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HarError {
    /// The document lacks the `log.entries` array; the text says which part is missing.
    #[error("not a HAR document: {0}")]
    NotAHar(&'static str),
    /// One entry lacks a part every request needs.
    #[error("HAR entry {index}: {reason}")]
    BadEntry {
        /// The entry's position in `log.entries`, from 0.
        index: usize,
        /// Which part is missing, e.g. "request.url missing".
        reason: String,
    },
}

/// Whether the HAR tells the request's credentials mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsEvidence {
    /// A `Cookie` was sent, so the page asked for `include`.
    CookieSent,
    /// Nothing tells (exports drop cookies by default); `hint` when a response carried
    /// `Access-Control-Allow-Credentials: true`, which servers send for credentialed pages.
    Unknown {
        /// A response allowed credentials.
        hint: bool,
    },
}

/// A load the browser recorded as failed: the HAR holds no response for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedLoad {
    /// The `net::` error recorded (`_error`), `net::ERR_FAILED` when none was.
    pub net_error: String,
    /// Whether it was the preflight that failed (else the actual request).
    pub preflight: bool,
}

/// One cross-origin request of the HAR, as a scenario plus what the HAR could not say.
#[derive(Debug, Clone, PartialEq)]
pub struct HarItem {
    /// The exchange; credentials are `include` only when a cookie was sent.
    pub scenario: Scenario,
    /// The entry (index in `log.entries`) of the actual request, if recorded.
    pub actual_entry: Option<usize>,
    /// The entry of its preflight, if recorded.
    pub preflight_entry: Option<usize>,
    /// How the credentials mode is known.
    pub credentials: CredentialsEvidence,
    /// Set when the load was recorded as failed.
    pub failed: Option<FailedLoad>,
    /// `startedDateTime` of the first entry, as written.
    pub started: Option<String>,
    /// The request body (`postData.text`), if recorded.
    pub request_body: Option<String>,
    /// The actual response's body, as recorded.
    pub response_body: RecordedBody,
}

/// What a HAR holds for CORS.
#[derive(Debug, Clone, PartialEq)]
pub struct HarImport {
    /// How many entries `log.entries` has.
    pub entries: usize,
    /// How many of them went cross-origin (preflights included).
    pub cross_origin_entries: usize,
    /// Who wrote the file, from `log.browser` or `log.creator`.
    pub recorder: Option<Recorder>,
    /// The cross-origin requests, in time order.
    pub items: Vec<HarItem>,
    /// The cross-origin loads left out because they are not CORS requests the model
    /// judges.
    pub skipped: SkippedLoads,
}

/// Cross-origin loads an import leaves out, counted by kind for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkippedLoads {
    /// Loads CORS does not check: a plain `<img>` or classic `<script>`, a stylesheet, a
    /// navigation, a WebSocket. The browser never blocks these for CORS.
    pub not_cors: BTreeMap<&'static str, usize>,
    /// CORS-mode loads of a kind the model does not speak for (a `crossorigin`
    /// stylesheet, media, a worker).
    pub unmodelled: BTreeMap<&'static str, usize>,
}

impl SkippedLoads {
    /// "left out 4 cross-origin loads that CORS does not check (3 image, 1 WebSocket)",
    /// or `None` when nothing was left out.
    pub fn summary(&self) -> Option<String> {
        let part = |counts: &BTreeMap<&'static str, usize>, what: &str| {
            let total: usize = counts.values().sum();
            (total > 0).then(|| {
                let kinds: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
                let s = if total == 1 { "" } else { "s" };
                format!("{total} cross-origin load{s} {what} ({})", kinds.join(", "))
            })
        };
        let parts: Vec<String> = [
            part(&self.not_cors, "that CORS does not check"),
            part(
                &self.unmodelled,
                "in CORS mode of a kind the model does not judge (check those in the browser)",
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| format!("left out {}", parts.join("; and ")))
    }
}

impl HarImport {
    /// "recorded by Firefox 140: judged by Chromium's rules" for a file another browser (or
    /// a proxy) wrote; `None` for a Chromium recording.
    pub fn recorder_note(&self) -> Option<String> {
        let r = self.recorder.as_ref()?;
        if r.chromium {
            return None;
        }
        Some(if r.is_browser {
            format!(
                "recorded by {}: judged by Chromium's rules, which may differ from that browser's",
                r.label
            )
        } else {
            format!(
                "recorded by {} (the browser is not named): judged by Chromium's rules",
                r.label
            )
        })
    }
}

/// Every cross-origin request in the HAR as a scenario, in time order.
pub fn scenarios_from_har(json: &Value) -> Result<Vec<Scenario>, HarError> {
    Ok(import_har(json)?
        .items
        .into_iter()
        .map(|i| i.scenario)
        .collect())
}

/// Reads a HAR: its cross-origin requests with preflights paired, and counts for a report
/// on a file with none.
pub fn import_har(json: &Value) -> Result<HarImport, HarError> {
    let mut parsed = parse_entries(json)?;
    let entries = parsed.len();
    // Time order when every entry says when it started; file order otherwise.
    if parsed.iter().all(|e| e.started.is_some()) {
        parsed.sort_by_key(|e| e.started_ms());
    }
    let loads: Vec<Load> = parsed.iter().map(Entry::load).collect();
    let mut skipped = SkippedLoads::default();
    let origins: Vec<Option<String>> = parsed
        .iter()
        .zip(&loads)
        .map(|(e, load)| {
            let origin = match load {
                Load::Cors(_) => e.cross_origin_from(),
                _ => e.cross_origin_or_referer(),
            }?;
            match load {
                Load::NotCors(kind) => *skipped.not_cors.entry(kind).or_default() += 1,
                Load::Unmodelled(kind) => *skipped.unmodelled.entry(kind).or_default() += 1,
                Load::Cors(_) | Load::NoCorsFetch => return Some(origin),
            }
            None
        })
        .collect();
    let cross_origin_entries = origins.iter().filter(|o| o.is_some()).count();
    let pairs = pair_preflights(&parsed, &origins);
    let mut used = vec![false; parsed.len()];
    let mut items = Vec::new();
    for i in 0..parsed.len() {
        let Some(origin) = origins[i].as_deref() else {
            continue;
        };
        if used[i] {
            continue;
        }
        let (preflight, actual) = if parsed[i].is_preflight() {
            (Some(i), pairs[i])
        } else {
            (pairs[i], Some(i))
        };
        for j in preflight.iter().chain(actual.iter()) {
            used[*j] = true;
        }
        // A preflight alone was made by fetch() (elements are never preflighted).
        let load = actual.map_or(Load::Cors(Initiator::Fetch), |j| loads[j]);
        items.push(item_from(
            &parsed,
            &mut used,
            (preflight, actual),
            load,
            origin,
        ));
    }
    Ok(HarImport {
        entries,
        cross_origin_entries,
        recorder: recorder(json),
        items,
        skipped,
    })
}

/// The entries of `log.entries`; a document without them, or an entry lacking its
/// request or URL, is an error.
fn parse_entries(json: &Value) -> Result<Vec<Entry>, HarError> {
    let entries = json
        .get("log")
        .ok_or(HarError::NotAHar("no \"log\" object"))?
        .get("entries")
        .and_then(Value::as_array)
        .ok_or(HarError::NotAHar("no \"log.entries\" array"))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| parse_entry(i, e))
        .collect()
}

fn same_url(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Some(x), Some(y)) => x.without_fragment() == y.without_fragment(),
        _ => a == b,
    }
}

/// For each entry, its partner: a preflight's actual request and an actual request's
/// preflight. A preflight takes the unpaired request for the same URL, origin and method
/// (its `Access-Control-Request-Method`) nearest in time; without times, the next one in the
/// file, else the nearest before it.
fn pair_preflights(parsed: &[Entry], origins: &[Option<String>]) -> Vec<Option<usize>> {
    let mut partner = vec![None; parsed.len()];
    for p in 0..parsed.len() {
        if !parsed[p].is_preflight() || origins[p].is_none() {
            continue;
        }
        let method = parsed[p]
            .request_headers
            .get("access-control-request-method")
            .map(|m| normalize_method(m.trim()));
        let fits = |j: usize| {
            let e = &parsed[j];
            j != p
                && partner[j].is_none()
                && !e.is_preflight()
                && origins[j] == origins[p]
                && same_url(&e.url, &parsed[p].url)
                && method.as_deref() == Some(normalize_method(&e.method).as_str())
        };
        let distance = |j: usize| match (parsed[p].started_ms(), parsed[j].started_ms()) {
            (Some(a), Some(b)) => ((a - b).abs(), j < p),
            // Later entries first, then the nearest earlier one.
            _ => ((j as i128 - p as i128).abs(), j < p),
        };
        if let Some(j) = (0..parsed.len())
            .filter(|&j| fits(j))
            .min_by_key(|&j| distance(j))
        {
            partner[p] = Some(j);
            partner[j] = Some(p);
        }
    }
    partner
}

/// Rebuilds the page's header list from the actual request (and its preflight).
fn page_headers(actual: Option<&Entry>, preflight: Option<&Entry>) -> HeaderList {
    let mut out = HeaderList::new();
    let requested: Vec<String> = preflight
        .and_then(|p| p.request_headers.get("access-control-request-headers"))
        .map(|v| {
            v.split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(a) = actual {
        for (name, value) in a.request_headers.lines() {
            let lower = name.to_ascii_lowercase();
            if is_forbidden_request_header(name, value) {
                continue;
            }
            if requested.contains(&lower) || is_cors_safelisted_request_header(name, value) {
                out.push(name, value);
            }
        }
    }
    for name in &requested {
        if !out.contains(name) {
            // The actual request never happened (or was not recorded): keep the name with
            // a value that stays non-safelisted.
            out.push(name.clone(), "?");
        }
    }
    out
}

/// The item for a preflight and/or actual request (positions in `parsed`), with the
/// redirect hops that follow the actual request. Entries it takes are marked `used`.
/// `load` is what [`Entry::load`] says of the actual request.
fn item_from(
    parsed: &[Entry],
    used: &mut [bool],
    (preflight, actual): (Option<usize>, Option<usize>),
    load: Load,
    origin: &str,
) -> HarItem {
    let p = preflight.map(|j| &parsed[j]);
    let a = actual.map(|j| &parsed[j]);
    let first = p.or(a).map_or("", |e| e.url.as_str());
    let request = page_request(a, p, load, first, origin);
    let index = a.or(p).map_or(0, |e| e.index);
    let mut scenario = Scenario::new(request);
    scenario.id = Some(format!(
        "har#{index} {} {}",
        scenario.request.method, scenario.request.url
    ));
    scenario.preflight_response = p.and_then(Entry::response);
    scenario.actual_response = a.and_then(Entry::response);
    scenario.redirects = redirect_hops(parsed, used, actual);
    let failed = match (p, a) {
        (Some(p), _) if p.failed() => Some(FailedLoad {
            net_error: p.net_error(),
            preflight: true,
        }),
        (_, Some(a)) if a.failed() => Some(FailedLoad {
            net_error: a.net_error(),
            preflight: false,
        }),
        _ => None,
    };
    let credentials = if a.is_some_and(|a| a.request_headers.contains("cookie")) {
        CredentialsEvidence::CookieSent
    } else {
        let allows = |e: &Entry| {
            e.response_headers
                .get("access-control-allow-credentials")
                .is_some_and(|v| v.trim() == "true")
        };
        CredentialsEvidence::Unknown {
            hint: p.is_some_and(allows) || a.is_some_and(allows),
        }
    };
    HarItem {
        scenario,
        actual_entry: a.map(|e| e.index),
        preflight_entry: p.map(|e| e.index),
        credentials,
        failed,
        started: p
            .or(a)
            .and_then(|e| e.started.as_ref().map(|(s, _)| s.clone())),
        request_body: a.and_then(|e| e.post_data.clone()),
        response_body: a.map(|e| e.body.clone()).unwrap_or_default(),
    }
}

/// What the page passed to fetch(), rebuilt from the actual request and its preflight:
/// the method (the preflight's `Access-Control-Request-Method` if no actual request was
/// logged), the URL, the headers, credentials `include` when a Cookie was sent, and the
/// API or element that made it (see [`Entry::load`]).
fn page_request(
    actual: Option<&Entry>,
    preflight: Option<&Entry>,
    load: Load,
    first_url: &str,
    origin: &str,
) -> Request {
    let method = match (actual, preflight) {
        (Some(a), _) => a.method.clone(),
        (None, Some(p)) => p
            .request_headers
            .get("access-control-request-method")
            .unwrap_or_else(|| "GET".to_owned()),
        (None, None) => "GET".to_owned(),
    };
    let url = actual.map_or(first_url, |a| a.url.as_str());
    let mut request = Request::new(url, origin);
    request.method = method;
    request.headers = page_headers(actual, preflight);
    if actual.is_some_and(|a| a.request_headers.contains("cookie")) {
        request.credentials = Credentials::Include;
    }
    match load {
        Load::Cors(initiator) => request.initiator = initiator,
        Load::NoCorsFetch => request.mode = Mode::NoCors,
        // Left out of the import before it gets here.
        Load::NotCors(_) | Load::Unmodelled(_) => {}
    }
    request
}

/// The hops after the entry at `last`: each redirect's target is the next unused entry
/// for that URL, with the preflight logged for it (if any) before it.
fn redirect_hops(parsed: &[Entry], used: &mut [bool], mut last: Option<usize>) -> Vec<RedirectHop> {
    let mut hops = Vec::new();
    while let Some(target) = last.and_then(|j| parsed[j].redirect_target()) {
        let from = last.unwrap_or(0);
        let hop_preflight = find_next(parsed, used, from, &target, true);
        if let Some(p) = hop_preflight {
            used[p] = true;
        }
        let Some(next) = find_next(parsed, used, from, &target, false) else {
            break;
        };
        used[next] = true;
        if let Some(response) = parsed[next].response() {
            hops.push(RedirectHop {
                url: Some(target.clone()),
                preflight_response: hop_preflight.and_then(|p| parsed[p].response()),
                response,
            });
        }
        last = Some(next);
    }
    hops
}

/// The next unused entry after `after` for `url`: a preflight when `want_preflight`,
/// otherwise a non-preflight request.
fn find_next(
    entries: &[Entry],
    used: &[bool],
    after: usize,
    url: &str,
    want_preflight: bool,
) -> Option<usize> {
    (after + 1..entries.len()).find(|&j| {
        !used[j] && same_url(&entries[j].url, url) && entries[j].is_preflight() == want_preflight
    })
}
