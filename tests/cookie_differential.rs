//! Differential test: the cookie verdicts of `sandbox::browser::evaluate` against what real
//! headless Chromium stores and sends.
//!
//! Every scenario in `tests/cookie_scenarios.json` is replayed: the browser's jar is cleared
//! and filled with the scenario's held cookies (`Network.setCookie`), the page is loaded from
//! the scenario's origin and calls `fetch()` on the API URL, which answers with the
//! scenario's `Set-Cookie` lines (and CORS headers allowing the page with credentials).
//! Chromium's own account is then read: `Network.requestWillBeSentExtraInfo`'s
//! `associatedCookies` (each held cookie with its `blockedReasons`),
//! `Network.responseReceivedExtraInfo`'s `blockedCookies`, and `Storage.getCookies` for what
//! was stored (and whether partitioned). Every cookie the model judges is compared, and all
//! disagreements are reported in one table.
//!
//! Host names: `*.localhost` reach loopback by themselves; `*.example.com`, `*.other.com`
//! and `*.org` are mapped to 127.0.0.1 with `--host-resolver-rules`, so they stay plain-http
//! names that are not potentially trustworthy. Scenarios with `"third_party_cookies":
//! "allowed"` run in a second Chromium whose profile allows third-party cookies
//! (`profile.cookie_controls_mode = 0`, Chrome's default outside Incognito).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandbox::browser::{
    devtools_lists_mismatch, evaluate, CookieAction, CookieOutcome, FixContext, Scenario,
    ThirdPartyCookies,
};
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::util::chromium::{self, Browser, Event, Page};
use crate::util::cookie_reports::cookie_reports;
use crate::util::raw_server::{RawRequest, RawResponse, RawServer};

const CORPUS: &str = include_str!("cookie_scenarios.json");

const RESOLVER_RULES: &str =
    "--host-resolver-rules=MAP *.example.com 127.0.0.1, MAP *.other.com 127.0.0.1, MAP *.org 127.0.0.1";

const PAGE: &str = "<!doctype html><meta charset=utf-8><title>cookies</title><script>\
window.__run = async function (url, credentials) {\
  try { const r = await fetch(url, { credentials: credentials }); await r.text(); return 'ok'; }\
  catch (e) { return String(e); } };</script>";

/// How long Chromium may take to report an exchange's cookies.
const REPORT_WAIT: Duration = Duration::from_secs(10);

type Answers = Arc<Mutex<HashMap<String, Vec<(String, String)>>>>;

fn answer(req: &RawRequest, answers: &Answers) -> RawResponse {
    if req.path_only() == "/page" {
        return RawResponse::new(200)
            .header("Content-Type", "text/html")
            .body(PAGE);
    }
    let case = req.path.split("case=").nth(1).unwrap_or("").to_string();
    let mut resp = RawResponse::new(200).header("Content-Type", "text/plain");
    for (n, v) in answers
        .lock()
        .unwrap()
        .get(&case)
        .cloned()
        .unwrap_or_default()
    {
        resp = resp.header(&n, &v);
    }
    resp.body("ok")
}

/// The scenario with the real port, a per-scenario query, and the CORS headers the server
/// adds (so the model judges exactly what Chromium got).
fn prepare(raw: &Value, n: usize, port: u16) -> Scenario {
    let text = raw.to_string().replace("{port}", &port.to_string());
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let url = format!("{}?case={n}", v["request"]["url"].as_str().unwrap());
    v["request"]["url"] = json!(url);
    let origin = v["request"]["origin"].clone();
    let headers = &mut v["actual_response"]["headers"];
    headers["Access-Control-Allow-Origin"] = origin;
    headers["Access-Control-Allow-Credentials"] = json!("true");
    serde_json::from_value(v).unwrap()
}

fn origin_site(s: &Scenario) -> String {
    let o = sandbox::browser::Origin::parse(&s.request.origin).unwrap();
    sandbox::browser::Site::of_origin(&o).unwrap().0
}

/// `Network.setCookie` parameters for one held cookie.
fn set_cookie_params(s: &Scenario, c: &sandbox::browser::HeldCookie) -> Value {
    let url = sandbox::browser::Url::parse(&s.request.url).unwrap();
    let port = url.effective_port();
    let mut p = json!({"name": c.name, "value": c.value, "path": c.path, "secure": c.secure,
                       "httpOnly": c.http_only});
    match c.domain.as_deref() {
        Some(d) if d.starts_with('.') => p["domain"] = json!(d),
        Some(host) => p["url"] = json!(format!("{}://{host}:{port}/", url.scheme)),
        None => p["url"] = json!(format!("{}://{}:{port}/", url.scheme, url.host)),
    }
    if let Some(ss) = c.same_site {
        p["sameSite"] = json!(ss.as_str());
    }
    if c.partitioned {
        let page_site = origin_site(s);
        let cross = sandbox::browser::Site::of_url(&url).0 != page_site;
        let top = c.partition_site.clone().unwrap_or(page_site);
        p["partitionKey"] = json!({"topLevelSite": top, "hasCrossSiteAncestor": cross});
    }
    p
}

/// What Chromium reported for one exchange.
struct Seen {
    /// held cookie name → blockedReasons, for every cookie DevTools associated.
    associated: HashMap<String, Vec<String>>,
    /// Set-Cookie line → blockedReasons.
    blocked: HashMap<String, Vec<String>>,
    /// name → partitioned, for every cookie in the jar afterwards.
    jar: HashMap<String, bool>,
}

async fn replay(browser: &Browser, page: &Page, s: &Scenario) -> Result<Seen, String> {
    browser
        .cdp
        .call(None, "Storage.clearCookies", json!({}))
        .await
        .map_err(|e| format!("clear cookies: {e}"))?;
    for c in &s.cookies {
        let params = set_cookie_params(s, c);
        let r = page
            .call("Network.setCookie", params.clone())
            .await
            .map_err(|e| format!("setCookie {params}: {e}"))?;
        if r["success"] != true {
            return Err(format!("Chromium refused Network.setCookie {params}"));
        }
    }
    page.navigate(&format!("{}/page", s.request.origin))
        .await
        .map_err(|e| format!("load page: {e}"))?;
    let mark = page.cdp.mark();
    let expr = format!(
        "window.__run({}, {})",
        json!(s.request.url),
        json!(s.request.credentials.as_str())
    );
    let outcome = page.evaluate(&expr).await.map_err(|e| e.to_string())?;
    if outcome != "ok" {
        return Err(format!("fetch failed: {outcome}"));
    }
    let url = s.request.url.as_str();
    let first = |evs: &[Event]| {
        cookie_reports(evs, |u| u == url)
            .into_iter()
            .next()
            .flatten()
    };
    let deadline = Instant::now() + REPORT_WAIT;
    page.wait_until(mark, deadline, |evs| first(evs).is_some())
        .await;
    let report = first(&page.events_since(mark))
        .ok_or("Chromium reported no ExtraInfo events for the fetch")?;
    let (associated, blocked) = (report.associated.clone(), report.blocked_by_line());
    let all = browser
        .cdp
        .call(None, "Storage.getCookies", json!({}))
        .await
        .map_err(|e| format!("getCookies: {e}"))?;
    let jar = all["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c.get("partitionKey").is_some_and(|k| !k.is_null()),
            )
        })
        .collect();
    Ok(Seen {
        associated,
        blocked,
        jar,
    })
}

/// Compares the model's cookie verdicts for `s` with what Chromium did; one line per
/// disagreement, and the number of cookies compared.
fn compare(s: &Scenario, seen: &Seen) -> (Vec<String>, usize) {
    let v = evaluate(s, &FixContext::Generic);
    let mut bad = Vec::new();
    let lines: Vec<&str> = s
        .actual_response
        .as_ref()
        .map(|r| r.headers.get_all("set-cookie"))
        .unwrap_or_default();
    let sends: Vec<_> = v
        .cookies
        .iter()
        .filter(|c| c.action == CookieAction::Send)
        .collect();
    let stores: Vec<_> = v
        .cookies
        .iter()
        .filter(|c| c.action == CookieAction::Store)
        .collect();
    let host = sandbox::browser::Url::parse(&s.request.url).unwrap().host;
    if sends.is_empty() && stores.is_empty() {
        // Credentials not included: nothing goes, nothing is kept.
        for (name, r) in &seen.associated {
            if r.is_empty() {
                bad.push(format!(
                    "held {name}: Chromium sent it, the model sends nothing"
                ));
            }
        }
        for line in &lines {
            let name = line.split(['=', ';']).next().unwrap_or("").trim();
            if seen.jar.contains_key(name) {
                bad.push(format!(
                    "`{line}`: Chromium stored it, the model stores nothing"
                ));
            }
        }
        return (bad, s.cookies.len() + lines.len());
    }
    for (held, verdict) in s.cookies.iter().zip(&sends) {
        let got = seen.associated.get(&held.name);
        let listed = match (verdict.outcome, verdict.blocked_reasons.as_slice()) {
            (CookieOutcome::NotSent, []) => false,
            (CookieOutcome::NotSent, r) if r.iter().any(|x| x == "DomainMismatch") => {
                devtools_lists_mismatch(held.domain.as_deref().unwrap_or(&host), &host)
            }
            _ => true,
        };
        let want = listed.then(|| verdict.blocked_reasons.clone());
        if got != want.as_ref() {
            bad.push(format!(
                "held {}: model {:?} {:?}, Chromium {:?}",
                held.name, verdict.outcome, want, got
            ));
        }
    }
    for (line, verdict) in lines.iter().zip(&stores) {
        let name = &verdict.name;
        let blocked = seen.blocked.get(*line);
        let stored = seen.jar.get(name.as_str());
        let ok = match verdict.outcome {
            CookieOutcome::Stored => blocked.is_none() && stored == Some(&false),
            CookieOutcome::StoredPartitioned => blocked.is_none() && stored == Some(&true),
            CookieOutcome::Deleted => blocked.is_none() && stored.is_none(),
            CookieOutcome::Rejected if verdict.blocked_reasons.is_empty() => {
                blocked.is_none() && stored.is_none()
            }
            CookieOutcome::Rejected => {
                blocked == Some(&verdict.blocked_reasons) && stored.is_none()
            }
            other => {
                bad.push(format!("`{line}`: a store verdict with outcome {other:?}"));
                continue;
            }
        };
        if !ok {
            bad.push(format!(
                "`{line}`: model {:?} {:?}; Chromium blocked {:?}, stored (partitioned?) {:?}",
                verdict.outcome, verdict.blocked_reasons, blocked, stored
            ));
        }
    }
    if sends.len() != s.cookies.len() || stores.len() != lines.len() {
        bad.push(format!(
            "the model judged {} held cookies of {} and {} lines of {}",
            sends.len(),
            s.cookies.len(),
            stores.len(),
            lines.len()
        ));
    }
    (bad, sends.len() + stores.len())
}

async fn run_all(
    browser: Browser,
    cases: Vec<(String, Scenario)>,
    answers: Answers,
) -> Vec<String> {
    let mut report = Vec::new();
    let page = match browser.new_page().await {
        Ok(p) => p,
        Err(e) => return vec![format!("open page: {e}")],
    };
    let mut compared = 0;
    for (key, s) in &cases {
        let id = s.id.clone().unwrap_or_default();
        let lines: Vec<(String, String)> = s
            .actual_response
            .as_ref()
            .map(|r| {
                r.headers
                    .lines()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        answers.lock().unwrap().insert(key.clone(), lines);
        match replay(&browser, &page, s).await {
            Ok(seen) => {
                let (bad, n) = compare(s, &seen);
                compared += n;
                report.extend(bad.into_iter().map(|b| format!("{id}: {b}")));
            }
            Err(e) => report.push(format!("{id}: {e}")),
        }
    }
    eprintln!(
        "cookie differential ({}): {} scenarios, {compared} cookies compared",
        browser.version,
        cases.len()
    );
    browser.close().await;
    report
}

#[test]
fn chromium_stores_and_sends_cookies_as_the_model_says() {
    if !chromium::require_chromium("cookie_differential") {
        return;
    }
    let runtime = crate::lab_browser::runtime();
    runtime.block_on(async {
        let answers: Answers = Arc::default();
        let a2 = answers.clone();
        let server = RawServer::start(Arc::new(move |r: &RawRequest| answer(r, &a2)))
            .await
            .expect("start loopback server");
        let corpus: Vec<Value> = serde_json::from_str(CORPUS).expect("cookie corpus");
        let (mut blocked, mut allowed) = (Vec::new(), Vec::new());
        for (n, raw) in corpus.iter().enumerate() {
            let s = prepare(raw, n, server.port());
            // Absent: Chromium's fresh profile, which blocks them.
            match s.third_party_cookies.unwrap_or(ThirdPartyCookies::Blocked) {
                ThirdPartyCookies::Blocked => blocked.push((n.to_string(), s)),
                ThirdPartyCookies::Allowed => allowed.push((n.to_string(), s)),
                ThirdPartyCookies::Partitioned => {
                    panic!("scenario {n}: Chromium has no partitioned-by-default setting")
                }
            }
        }
        assert!(
            !blocked.is_empty() && !allowed.is_empty(),
            "both settings are covered"
        );
        let default_browser = Browser::launch_with_args(&[RESOLVER_RULES])
            .await
            .expect("launch chromium");
        let allowing = Browser::launch_with_prefs(
            &[RESOLVER_RULES],
            &json!({"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": false}}),
        )
        .await
        .expect("launch chromium allowing third-party cookies");
        let (a, b) = tokio::join!(
            run_all(default_browser, blocked, answers.clone()),
            run_all(allowing, allowed, answers.clone())
        );
        let report: Vec<String> = a.into_iter().chain(b).collect();
        drop(server);
        assert!(
            report.is_empty(),
            "{} disagreements between the cookie model and Chromium:\n{}",
            report.len(),
            report.join("\n")
        );
    });
}
