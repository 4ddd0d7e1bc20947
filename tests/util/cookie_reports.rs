//! What Chromium says it did with the cookies of each request, read from the DevTools
//! protocol: `Network.requestWillBeSentExtraInfo`'s `associatedCookies` (each cookie it held
//! for the URL, with the reasons it was not sent) and `Network.responseReceivedExtraInfo`'s
//! `blockedCookies` (each `Set-Cookie` line it refused, with its reasons).
#![allow(dead_code)]

use std::collections::HashMap;

use serde_json::Value;

use super::chromium::Event;

/// One request's cookie report.
#[derive(Debug, Default, Clone)]
pub struct CookieReport {
    /// Cookie name → DevTools' `blockedReasons` (empty: sent).
    pub associated: HashMap<String, Vec<String>>,
    /// Refused `Set-Cookie` lines, as written, with their reasons.
    pub blocked: Vec<(String, Vec<String>)>,
}

impl CookieReport {
    /// Refused lines by the cookie name they set.
    pub fn blocked_by_name(&self) -> HashMap<String, Vec<String>> {
        self.blocked
            .iter()
            .map(|(line, r)| {
                let name = line.split('=').next().unwrap_or("").trim().to_string();
                (name, r.clone())
            })
            .collect()
    }

    /// Refused lines by the whole line.
    pub fn blocked_by_line(&self) -> HashMap<String, Vec<String>> {
        self.blocked.iter().cloned().collect()
    }
}

/// A JSON array of reason names (`blockedReasons`, or a fixture's `blocked_reasons`).
pub fn reasons(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect()
}

/// The reports of the actual (not preflight) requests whose URL `wanted` accepts, in the order
/// they were sent; `None` for one whose two ExtraInfo events have not both arrived yet.
pub fn cookie_reports(
    events: &[Event],
    wanted: impl Fn(&str) -> bool,
) -> Vec<Option<CookieReport>> {
    let ids: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e.method == "Network.requestWillBeSent"
                && e.params["type"] != "Preflight"
                && e.params["initiator"]["type"] != "preflight"
                && e.params["request"]["url"].as_str().is_some_and(&wanted)
        })
        .map(|e| &e.params["requestId"])
        .collect();
    ids.into_iter()
        .map(|id| {
            let get = |m: &str| {
                events
                    .iter()
                    .find(|e| e.method == m && &e.params["requestId"] == id)
                    .map(|e| &e.params)
            };
            let sent = get("Network.requestWillBeSentExtraInfo")?;
            let received = get("Network.responseReceivedExtraInfo")?;
            Some(CookieReport {
                associated: sent["associatedCookies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        let name = a["cookie"]["name"].as_str().unwrap_or("").to_string();
                        (name, reasons(&a["blockedReasons"]))
                    })
                    .collect(),
                blocked: received["blockedCookies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|b| {
                        let line = b["cookieLine"].as_str().unwrap_or("").to_string();
                        (line, reasons(&b["blockedReasons"]))
                    })
                    .collect(),
            })
        })
        .collect()
}
