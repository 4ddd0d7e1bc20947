//! Turns a HAR file (DevTools "Save all as HAR") into scenarios: one per cross-origin
//! request (an `Origin` request header and a URL of another origin), with an OPTIONS
//! preflight paired to the actual request that follows it for the same URL, and redirect
//! hops attached. It reconstructs what the page passed to fetch(); it judges nothing.
//!
//! A HAR records what went on the wire, not what the page asked for, so the header list
//! is rebuilt: with a preflight, the names in `Access-Control-Request-Headers` plus the
//! safelisted headers; without one, only safelisted headers (DevTools adds `Pragma` and
//! `Cache-Control` when "Disable cache" is on, and those would fake a preflight).

use serde_json::Value;
use thiserror::Error;

use super::model::{Credentials, HeaderList, Initiator, RedirectHop, Request, Response, Scenario};
use super::request::{is_cors_safelisted_request_header, is_forbidden_request_header};
use super::url::{Origin, Url};

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

struct Entry {
    method: String,
    url: String,
    request_headers: HeaderList,
    status: u16,
    response_headers: HeaderList,
    redirect_url: Option<String>,
    resource_type: Option<String>,
}

fn headers_of(v: &Value) -> HeaderList {
    let mut list = HeaderList::new();
    if let Some(items) = v.get("headers").and_then(Value::as_array) {
        for h in items {
            let name = h.get("name").and_then(Value::as_str);
            let value = h.get("value").and_then(Value::as_str);
            if let (Some(n), Some(val)) = (name, value) {
                // HTTP/2 pseudo-headers are not header lines.
                if !n.starts_with(':') {
                    list.push(n, val);
                }
            }
        }
    }
    list
}

fn parse_entry(index: usize, e: &Value) -> Result<Entry, HarError> {
    let bad = |reason: &str| HarError::BadEntry {
        index,
        reason: reason.to_owned(),
    };
    let req = e.get("request").ok_or_else(|| bad("no request"))?;
    let res = e.get("response").ok_or_else(|| bad("no response"))?;
    let method = req
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("request.method missing"))?;
    let url = req
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("request.url missing"))?;
    let status = res.get("status").and_then(Value::as_u64).unwrap_or(0);
    Ok(Entry {
        method: method.to_owned(),
        url: url.to_owned(),
        request_headers: headers_of(req),
        status: u16::try_from(status).unwrap_or(0),
        response_headers: headers_of(res),
        redirect_url: res
            .get("redirectURL")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        resource_type: e
            .get("_resourceType")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

impl Entry {
    fn is_preflight(&self) -> bool {
        self.method.eq_ignore_ascii_case("OPTIONS")
            && self
                .request_headers
                .contains("access-control-request-method")
    }

    fn response(&self) -> Option<Response> {
        (self.status != 0).then(|| Response {
            status: self.status,
            headers: self.response_headers.clone(),
        })
    }

    fn redirect_target(&self) -> Option<String> {
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
}

fn same_url(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Some(x), Some(y)) => x.serialize() == y.serialize(),
        _ => a == b,
    }
}

fn is_cross_origin(e: &Entry) -> Option<String> {
    let origin = e.request_headers.get("origin")?;
    let url = Url::parse(&e.url)?;
    match Origin::parse(&origin) {
        Some(o) if o.same_origin_with(&url) => None,
        _ => Some(origin),
    }
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

/// Every cross-origin request in the HAR as a scenario, in log order.
pub fn scenarios_from_har(json: &Value) -> Result<Vec<Scenario>, HarError> {
    let parsed = parse_entries(json)?;
    let mut used = vec![false; parsed.len()];
    let mut out = Vec::new();
    for i in 0..parsed.len() {
        if used[i] {
            continue;
        }
        let Some(origin) = is_cross_origin(&parsed[i]) else {
            continue;
        };
        used[i] = true;
        out.push(scenario_from(&parsed, &mut used, i, &origin));
    }
    Ok(out)
}

/// The entries of `log.entries`; a document without them, or an entry lacking its
/// request, response, method or URL, is an error.
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

/// The scenario that starts at entry `i` (cross-origin, from `origin`): a preflight is
/// paired with the next actual request for its URL, the page's request is rebuilt, and
/// the redirect hops that follow are attached. Entries it takes are marked `used`.
fn scenario_from(parsed: &[Entry], used: &mut [bool], i: usize, origin: &str) -> Scenario {
    let (preflight, actual_index) = if parsed[i].is_preflight() {
        let found = find_next(parsed, used, i, &parsed[i].url, false);
        if let Some(j) = found {
            used[j] = true;
        }
        (Some(&parsed[i]), found)
    } else {
        (None, Some(i))
    };
    let actual = actual_index.map(|j| &parsed[j]);
    let request = page_request(actual, preflight, &parsed[i].url, origin);
    let id = format!("har#{i} {} {}", request.method, request.url);
    let mut scenario = Scenario::new(request);
    scenario.id = Some(id);
    scenario.preflight_response = preflight.and_then(Entry::response);
    scenario.actual_response = actual.and_then(Entry::response);
    scenario.redirects = redirect_hops(parsed, used, actual_index);
    scenario
}

/// What the page passed to fetch(), rebuilt from the actual request and its preflight:
/// the method (the preflight's `Access-Control-Request-Method` if no actual request was
/// logged), the URL, the headers, credentials `include` when a Cookie was sent, and
/// XMLHttpRequest as initiator when DevTools logged the resource type `xhr`.
fn page_request(
    actual: Option<&Entry>,
    preflight: Option<&Entry>,
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
    let cookie = actual.is_some_and(|a| a.request_headers.contains("cookie"));
    if cookie {
        request.credentials = Credentials::Include;
    }
    if actual
        .and_then(|a| a.resource_type.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("xhr"))
    {
        request.initiator = Initiator::XmlHttpRequest;
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
