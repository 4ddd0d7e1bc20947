//! Differential test: the `browser` model against real headless Chromium.
//!
//! Every scenario in `tests/cors_scenarios.json` is replayed in Chromium: the page is served
//! from the scenario's origin, the API origins answer with the scenario's exact bytes, and
//! the page calls `fetch()`. What Chromium did (allowed or blocked, whether a preflight
//! reached the server, `corsErrorStatus` from `Network.loadingFailed`, the console message,
//! the response header names script can read) is compared with
//! `sandbox::browser::evaluate` on the same scenario. Every disagreement is reported in one
//! table.
//!
//! Symbolic origins in the corpus are rewritten to loopback ones Chromium can reach:
//! `http://frontend.test:8080` -> `http://frontend.localhost:<p1>`, `http://api.test:3000`
//! -> `http://api.localhost:<p2>`, `http://other.test:3001` -> `http://other.localhost:<p3>`
//! (`*.localhost` always resolves to loopback in Chromium). URL paths get a `/s/<n>` prefix
//! so each scenario has its own URLs (and its own preflight-cache entries).
//!
//! Environment:
//! - `SANDBOX_SKIP_BROWSER=1`: skip when Chromium is absent (otherwise that is a failure).
//! - `SANDBOX_CORS_CORPUS=<file>`: use another corpus file.
//! - `SANDBOX_DIFF_ONLY=<id>[,<id>..]`: run only these scenarios.
//! - `SANDBOX_DIFF_OBSERVED=<file>`: also write what Chromium did, per scenario, as JSON.
//! - `SANDBOX_DIFF_PARALLEL=<n>`: scenarios in flight at once (default 4).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::util::chromium::{self, console_lines, Browser, Event, Page};
use crate::util::raw_server::{Phase, ScenarioHost, Seen};

const CORPUS: &str = include_str!("cors_scenarios.json");

const FRONTEND: (&str, &str) = ("frontend", "8080");
const API: (&str, &str) = ("api", "3000");
const OTHER: (&str, &str) = ("other", "3001");

/// How long to wait for Chromium's network/console reports after a fetch settles.
const REPORT_WAIT: Duration = Duration::from_secs(5);

/// The fetch runner, shared by the normal page and the sandboxed iframe. It never uses a
/// double quote so it can sit in a `srcdoc` attribute after `&` escaping.
const RUNNER: &str = r#"
async function run(spec) {
  // Distinct names go to fetch() itself as pairs, as a page passes an object, so a bad name
  // is fetch()'s own TypeError. Repeated names are appended to a Headers object first, as a
  // page must do to repeat one: Firefox judges a list of pairs' values one by one but a
  // Headers object's combined, so the two spellings are not the same request there.
  const names = spec.headers.map((pair) => pair[0].toLowerCase());
  let headers = spec.headers;
  if (new Set(names).size !== names.length) {
    headers = new Headers();
    try {
      for (const pair of spec.headers) { headers.append(pair[0], pair[1]); }
    } catch (e) {
      return { ok: false, stage: 'headers', error: String(e) };
    }
  }
  const init = { method: spec.method, headers: headers, credentials: spec.credentials, mode: spec.mode };
  let response;
  try {
    response = await fetch(spec.url, init);
  } catch (e) {
    return { ok: false, stage: 'fetch', error: String(e) };
  }
  let body = null;
  try { body = await response.text(); } catch (e) { body = 'body error: ' + String(e); }
  return { ok: true, status: response.status, type: response.type, redirected: response.redirected,
           url: response.url, headers: [...response.headers.keys()], body: body };
}
"#;

pub(crate) fn page_html() -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>cors differential</title>\n<script>{RUNNER}\nwindow.__run = run;</script>\n"
    )
}

pub(crate) fn sandboxed_page_html() -> String {
    let inner = format!(
        "<script>{RUNNER}\naddEventListener('message', async function (e) {{ const r = await run(e.data); parent.postMessage(r, '*'); }});\nparent.postMessage({{ ready: true }}, '*');</script>"
    );
    let escaped = inner.replace('&', "&amp;").replace('"', "&quot;");
    format!(
        r#"<!doctype html><meta charset=utf-8><title>cors differential (opaque origin)</title>
<script>
const frameReady = new Promise(function (resolve) {{
  addEventListener('message', function h(e) {{
    if (e.data && e.data.ready) {{ removeEventListener('message', h); resolve(); }}
  }});
}});
window.__run = async function (spec) {{
  await frameReady;
  return new Promise(function (resolve) {{
    addEventListener('message', function h(e) {{
      if (e.data && !e.data.ready) {{ removeEventListener('message', h); resolve(e.data); }}
    }});
    document.getElementById('f').contentWindow.postMessage(spec, '*');
  }});
}};
</script>
<iframe id=f sandbox="allow-scripts" srcdoc="{escaped}"></iframe>
"#
    )
}

// -------------------------------------------------------------------------------------
// Rewriting symbolic origins
// -------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
pub(crate) struct Ports {
    pub(crate) frontend: u16,
    pub(crate) api: u16,
    pub(crate) other: u16,
}

impl Ports {
    fn real_port(&self, label: &str) -> u16 {
        match label {
            "frontend" => self.frontend,
            "api" => self.api,
            _ => self.other,
        }
    }
}

/// Rewrites `<label>.test[:port]` host names (any case) inside `text`: the canonical port
/// becomes the real one, any other port (or none) is kept, so mismatches stay mismatches.
/// Returns the text and whether anything was rewritten.
fn rewrite_hosts(text: &str, ports: Ports) -> (String, bool) {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    let mut changed = false;
    'scan: while i < text.len() {
        for (label, canonical) in [FRONTEND, API, OTHER] {
            let needle = format!("{label}.test");
            if !lower[i..].starts_with(&needle) {
                continue;
            }
            let boundary_before = i == 0
                || !lower.as_bytes()[i - 1].is_ascii_alphanumeric()
                    && lower.as_bytes()[i - 1] != b'.'
                    && lower.as_bytes()[i - 1] != b'-';
            let after = i + needle.len();
            let boundary_after = lower[after..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'));
            if !(boundary_before && boundary_after) {
                continue;
            }
            let written_label = &text[i..i + label.len()];
            let tld = &text[i + label.len() + 1..after];
            let localhost = if tld.chars().all(|c| c.is_ascii_uppercase()) {
                "LOCALHOST"
            } else {
                "localhost"
            };
            out.push_str(written_label);
            out.push('.');
            out.push_str(localhost);
            let mut j = after;
            if lower[j..].starts_with(':') {
                let digits: String = lower[j + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if digits == canonical {
                    out.push_str(&format!(":{}", ports.real_port(label)));
                    j += 1 + digits.len();
                }
            }
            i = j;
            changed = true;
            continue 'scan;
        }
        let c = text[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    (out, changed)
}

/// Rewrites an absolute URL on one of the symbolic hosts and puts `/s/<n>` before its path;
/// a path-absolute URL (`/next`) just gets the prefix. Anything else is left alone.
fn rewrite_url(url: &str, n: usize, ports: Ports) -> String {
    let lower = url.to_ascii_lowercase();
    if url.starts_with('/') && !url.starts_with("//") {
        return format!("/s/{n}{url}");
    }
    let scheme_end = if lower.starts_with("http://") {
        7
    } else if lower.starts_with("https://") {
        8
    } else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let (host, changed) = rewrite_hosts(host, ports);
    if !changed {
        return url.to_string();
    }
    let tail = if tail.starts_with('/') {
        tail.to_string()
    } else {
        format!("/{tail}")
    };
    format!("{}{userinfo}{host}/s/{n}{tail}", &url[..scheme_end])
}

fn rewrite_request(request: &mut Value, n: usize, ports: Ports) {
    if let Some(url) = request["url"].as_str() {
        request["url"] = json!(rewrite_url(url, n, ports));
    }
    if let Some(origin) = request["origin"].as_str() {
        request["origin"] = json!(rewrite_hosts(origin, ports).0);
    }
}

fn rewrite_response(response: &mut Value, n: usize, ports: Ports) {
    let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, value) in headers.iter_mut() {
        let location = name.eq_ignore_ascii_case("location");
        let fix = |s: &str| {
            if location {
                rewrite_url(s, n, ports)
            } else {
                rewrite_hosts(s, ports).0
            }
        };
        match value {
            Value::String(s) => *s = fix(s),
            Value::Array(items) => {
                for item in items {
                    if let Value::String(s) = item {
                        *s = fix(s);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The scenario with every symbolic URL and origin made real.
pub(crate) fn rewrite_scenario(scenario: &Value, n: usize, ports: Ports) -> Value {
    let mut s = scenario.clone();
    rewrite_request(&mut s["request"], n, ports);
    for key in ["preflight_response", "actual_response"] {
        if !s[key].is_null() {
            rewrite_response(&mut s[key], n, ports);
        }
    }
    if let Some(redirects) = s.get_mut("redirects").and_then(Value::as_array_mut) {
        for r in redirects {
            if let Some(url) = r["url"].as_str() {
                r["url"] = json!(rewrite_url(url, n, ports));
            }
            for key in ["preflight_response", "response"] {
                if !r[key].is_null() {
                    rewrite_response(&mut r[key], n, ports);
                }
            }
        }
    }
    if let Some(priors) = s.get_mut("prior").and_then(Value::as_array_mut) {
        for p in priors {
            rewrite_request(&mut p["request"], n, ports);
            for key in ["preflight_response", "actual_response"] {
                if !p[key].is_null() {
                    rewrite_response(&mut p[key], n, ports);
                }
            }
        }
    }
    s
}

// -------------------------------------------------------------------------------------
// Running one scenario in Chromium
// -------------------------------------------------------------------------------------

/// What Chromium did with one scenario.
#[derive(Debug, Clone, Default)]
struct Observed {
    id: String,
    outcome: String,
    preflight_sent: bool,
    preflights: usize,
    preflight_request: Value,
    cors_error: Option<String>,
    failed_parameter: Option<String>,
    message: Option<String>,
    readable_headers: Option<Vec<String>>,
    status: Option<u64>,
    script_error: Option<String>,
    net_errors: Vec<String>,
    console: Vec<String>,
    requests: Vec<String>,
    /// Header lines of the first actual (non-preflight) request of the main exchange.
    sent_headers: Vec<String>,
    prior: Vec<Value>,
}

impl Observed {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "outcome": self.outcome,
            "preflight_sent": self.preflight_sent,
            "preflights": self.preflights,
            "preflight_request": self.preflight_request,
            "cors_error": self.cors_error,
            "failed_parameter": self.failed_parameter,
            "message": self.message,
            "readable_headers": self.readable_headers,
            "status": self.status,
            "script_error": self.script_error,
            "net_errors": self.net_errors,
            "console": self.console,
            "requests": self.requests,
            "sent_headers": self.sent_headers,
            "prior": self.prior,
        })
    }
}

pub(crate) fn fetch_spec(request: &Value) -> Value {
    let headers: Vec<Value> = request["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .flat_map(|(name, value)| match value {
                    Value::Array(items) => items
                        .iter()
                        .map(|v| json!([name, v.as_str().unwrap_or_default()]))
                        .collect::<Vec<_>>(),
                    Value::String(s) => vec![json!([name, s])],
                    other => vec![json!([name, other.to_string()])],
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "url": request["url"],
        "method": request["method"].as_str().unwrap_or("GET"),
        "headers": headers,
        "credentials": request["credentials"].as_str().unwrap_or("same-origin"),
        "mode": request["mode"].as_str().unwrap_or("cors"),
    })
}

pub(crate) fn describe(seen: &Seen) -> String {
    let phase = match seen.phase {
        Some(Phase::Prior(i)) => format!("prior{i}"),
        Some(Phase::Main) => "main".into(),
        None => "page".into(),
    };
    let kind = if seen.preflight { " (preflight)" } else { "" };
    format!(
        "{phase} hop{} {:?} {} {}{kind}",
        seen.hop, seen.site, seen.request.method, seen.request.path
    )
}

const CORS_CONSOLE_MARK: &str = "has been blocked by CORS policy";

/// Whether a console line is the one Chromium prints for a blocked fetch (a CORS failure,
/// or a mode violation such as `same-origin` to another origin).
fn is_block_message(text: &str) -> bool {
    text.contains(CORS_CONSOLE_MARK) || text.starts_with("Fetch API cannot load")
}

async fn run_fetch(page: &Page, request: &Value) -> Result<Value, String> {
    let expr = format!("window.__run({})", fetch_spec(request));
    page.evaluate(&expr).await.map_err(|e| e.to_string())
}

async fn run_scenario(
    browser: &Browser,
    host: &ScenarioHost,
    n: usize,
    scenario: &Value,
) -> Result<Observed, String> {
    let id = scenario["id"].as_str().unwrap_or("?").to_string();
    host.register(n, scenario);
    let page = browser
        .new_isolated_page()
        .await
        .map_err(|e| format!("open page: {e}"))?;
    let result = drive(&page, host, n, scenario, id).await;
    let closed = page.close().await;
    let observed = result?;
    closed.map_err(|e| format!("close page: {e}"))?;
    Ok(observed)
}

/// The page scenario `n` runs in: its (rewritten) origin's, or for an opaque origin the
/// frontend's sandboxed variant.
pub(crate) fn page_url(scenario: &Value, n: usize, frontend_port: u16) -> String {
    match scenario["request"]["origin"].as_str().unwrap_or("null") {
        "null" => format!("http://frontend.localhost:{frontend_port}/s/{n}/page?sandboxed"),
        origin => format!("{origin}/s/{n}/page"),
    }
}

async fn drive(
    page: &Page,
    host: &ScenarioHost,
    n: usize,
    scenario: &Value,
    id: String,
) -> Result<Observed, String> {
    let page_url = page_url(scenario, n, host.frontend.port());
    page.navigate(&page_url)
        .await
        .map_err(|e| format!("navigate {page_url}: {e}"))?;

    let mut observed = Observed {
        id,
        ..Observed::default()
    };

    // Earlier exchanges, timed so the main request comes `seconds_before` after each.
    let priors = scenario["prior"].as_array().cloned().unwrap_or_default();
    let span = priors
        .iter()
        .map(|p| p["seconds_before"].as_f64().unwrap_or(0.0))
        .fold(0.0_f64, f64::max);
    let start = Instant::now();
    for (i, prior) in priors.iter().enumerate() {
        let before = prior["seconds_before"].as_f64().unwrap_or(0.0);
        // Deliberate passage of time (preflight-cache ages), not synchronisation.
        tokio::time::sleep_until(start + Duration::from_secs_f64((span - before).max(0.0))).await;
        host.set_phase(n, Phase::Prior(i));
        let result = run_fetch(page, &prior["request"]).await?;
        observed.prior.push(result);
    }
    tokio::time::sleep_until(start + Duration::from_secs_f64(span)).await;

    host.set_phase(n, Phase::Main);
    let mark = page.cdp.mark();
    let seen_before = host.seen(n).len();
    let result = run_fetch(page, &scenario["request"]).await?;
    let allowed = result["ok"].as_bool().unwrap_or(false);
    observed.outcome = if allowed { "allowed" } else { "blocked" }.into();
    if allowed {
        observed.status = result["status"].as_u64();
        let mut names: Vec<String> = result["headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        observed.readable_headers = Some(names);
    } else {
        observed.script_error = result["error"].as_str().map(str::to_string);
        // A network-level failure is reported asynchronously: wait for both the failed load
        // and its console line (bounded; a script-level TypeError produces neither).
        if result["stage"] == "fetch" {
            let deadline = Instant::now() + REPORT_WAIT;
            page.wait_until(mark, deadline, |events| {
                let failed = events.iter().any(|e| e.method == "Network.loadingFailed");
                console_lines(events).iter().any(|l| {
                    l.text.contains(CORS_CONSOLE_MARK) && failed
                        || l.text.starts_with("Fetch API cannot load")
                })
            })
            .await;
        }
    }
    let events: Vec<Event> = page.events_since(mark);
    for e in events
        .iter()
        .filter(|e| e.method == "Network.loadingFailed")
    {
        let p = &e.params;
        observed.net_errors.push(format!(
            "{}{}",
            p["errorText"].as_str().unwrap_or("?"),
            p["blockedReason"]
                .as_str()
                .map(|r| format!(" blockedReason={r}"))
                .unwrap_or_default()
        ));
        if observed.cors_error.is_none() {
            if let Some(status) = p.get("corsErrorStatus") {
                observed.cors_error = status["corsError"].as_str().map(str::to_string);
                observed.failed_parameter = status["failedParameter"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
            }
        }
    }
    let lines = console_lines(&events);
    observed.message = lines
        .iter()
        .find(|l| is_block_message(&l.text))
        .map(|l| l.text.clone());
    // A fetch() that throws before any network activity (forbidden method, no-cors with a
    // non-safelisted method, a bad header) prints nothing of its own: what the developer
    // sees is the rejection, so that message stands in for the console line.
    if observed.message.is_none() {
        if let Some(err) = observed.script_error.as_deref() {
            if err != "TypeError: Failed to fetch" {
                observed.message = Some(err.strip_prefix("TypeError: ").unwrap_or(err).to_string());
            }
        }
    }
    observed.console = lines
        .iter()
        .map(|l| format!("[{}/{}] {}", l.source, l.level, l.text))
        .collect();

    let seen = host.seen(n);
    let main: Vec<&Seen> = seen[seen_before..]
        .iter()
        .filter(|s| s.phase == Some(Phase::Main))
        .collect();
    observed.preflights = main.iter().filter(|s| s.preflight).count();
    observed.preflight_sent = observed.preflights > 0;
    if let Some(p) = main.iter().find(|s| s.preflight) {
        observed.preflight_request = json!({
            "method": p.request.header("access-control-request-method"),
            "headers": p.request.header("access-control-request-headers"),
        });
    }
    if let Some(first) = main.iter().find(|s| !s.preflight) {
        observed.sent_headers = first
            .request
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
    }
    observed.requests = seen.iter().map(describe).collect();
    Ok(observed)
}

// -------------------------------------------------------------------------------------
// Comparing with the model
// -------------------------------------------------------------------------------------

/// One field on which Chromium and the model differ.
struct Disagreement {
    id: String,
    field: &'static str,
    chromium: String,
    model: String,
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn normalise_outcome(v: &Value) -> String {
    show(v).to_ascii_lowercase()
}

fn sorted_lower(v: &Value) -> Value {
    let mut names: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_ascii_lowercase))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.dedup();
    json!(names)
}

fn compare(observed: &Observed, verdict: &Value) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let mut check = |field: &'static str, chromium: Value, model: Value| {
        if chromium != model {
            out.push(Disagreement {
                id: observed.id.clone(),
                field,
                chromium: show(&chromium),
                model: show(&model),
            });
        }
    };
    check(
        "outcome",
        json!(observed.outcome),
        json!(normalise_outcome(&verdict["outcome"])),
    );
    check(
        "preflight_sent",
        json!(observed.preflight_sent),
        verdict["preflight_sent"].clone(),
    );
    check(
        "cors_error",
        json!(observed.cors_error),
        verdict["cors_error"].clone(),
    );
    if observed.cors_error.is_some() {
        let model_param = match &verdict["failed_parameter"] {
            Value::String(s) if s.is_empty() => Value::Null,
            other => other.clone(),
        };
        check(
            "failed_parameter",
            json!(observed.failed_parameter),
            model_param,
        );
    }
    check(
        "message",
        json!(observed.message),
        verdict["message"].clone(),
    );
    // What the preflight asked for, when both sides agree one went out.
    let model_preflight = &verdict["preflight_request"];
    if observed.preflight_sent && model_preflight.is_object() {
        let header = |name: &str| {
            model_preflight["headers"]
                .as_object()
                .and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.clone())
                })
                .unwrap_or(Value::Null)
        };
        check(
            "preflight_request",
            observed.preflight_request.clone(),
            json!({
                "method": header("access-control-request-method"),
                "headers": header("access-control-request-headers"),
            }),
        );
    }
    if let Some(readable) = &observed.readable_headers {
        check(
            "readable_headers",
            json!(readable),
            sorted_lower(&verdict["readable_headers"]),
        );
    }
    out
}

fn table(rows: &[Disagreement]) -> String {
    let w_id = rows.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let w_field = rows.iter().map(|r| r.field.len()).max().unwrap_or(5).max(5);
    let mut s = format!(
        "{:<w_id$} | {:<w_field$} | chromium\n{:<w_id$} | {:<w_field$} | model\n",
        "id", "field", "", ""
    );
    s.push_str(&format!("{}\n", "-".repeat(w_id + w_field + 20)));
    for r in rows {
        s.push_str(&format!(
            "{:<w_id$} | {:<w_field$} | chromium: {}\n{:<w_id$} | {:<w_field$} | model:    {}\n",
            r.id, r.field, r.chromium, "", "", r.model
        ));
    }
    s
}

pub(crate) fn load_corpus() -> Vec<Value> {
    let text = match std::env::var("SANDBOX_CORS_CORPUS") {
        Ok(path) => std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("SANDBOX_CORS_CORPUS={path}: {e}")),
        Err(_) => CORPUS.to_string(),
    };
    let corpus: Value = serde_json::from_str(&text).expect("cors_scenarios.json is valid JSON");
    corpus
        .as_array()
        .expect("cors_scenarios.json is a JSON array")
        .clone()
}

#[test]
fn corpus_is_well_formed() {
    let corpus = load_corpus();
    let mut ids = std::collections::HashSet::new();
    for s in &corpus {
        let id = s["id"].as_str().expect("every scenario has an id");
        assert!(ids.insert(id.to_string()), "duplicate scenario id {id}");
        assert!(s["request"]["url"].is_string(), "{id}: request.url");
        assert!(s["actual_response"].is_object(), "{id}: actual_response");
        let parsed: Result<sandbox::browser::Scenario, _> = serde_json::from_value(s.clone());
        assert!(
            parsed.is_ok(),
            "{id}: the model rejects it: {:?}",
            parsed.err()
        );
    }
    if std::env::var("SANDBOX_CORS_CORPUS").is_err() {
        assert!(corpus.len() >= 110, "only {} scenarios", corpus.len());
    }
}

#[test]
fn symbolic_origins_are_rewritten() {
    let ports = Ports {
        frontend: 1111,
        api: 2222,
        other: 3333,
    };
    assert_eq!(
        rewrite_url("http://api.test:3000/api/x?q=1", 7, ports),
        "http://api.localhost:2222/s/7/api/x?q=1"
    );
    assert_eq!(
        rewrite_url("http://u:p@other.test:3001", 2, ports),
        "http://u:p@other.localhost:3333/s/2/"
    );
    assert_eq!(rewrite_url("/relative", 2, ports), "/s/2/relative");
    assert_eq!(rewrite_url("other/x", 2, ports), "other/x");
    assert_eq!(
        rewrite_hosts("http://Frontend.TEST:8080/", ports).0,
        "http://Frontend.LOCALHOST:1111/"
    );
    assert_eq!(
        rewrite_hosts("http://frontend.test:8081", ports).0,
        "http://frontend.localhost:8081"
    );
    assert_eq!(
        rewrite_hosts("http://frontend.test", ports).0,
        "http://frontend.localhost"
    );
    assert_eq!(
        rewrite_hosts("http://evil-frontend.test:8080", ports).0,
        "http://evil-frontend.test:8080"
    );
}

#[test]
fn chromium_agrees_with_the_model() {
    if !chromium::require_chromium("browser_differential") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(differential());
}

async fn differential() {
    let corpus = load_corpus();
    let only: Option<Vec<String>> = std::env::var("SANDBOX_DIFF_ONLY")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let parallel: usize = std::env::var("SANDBOX_DIFF_PARALLEL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
        .max(1);

    let host = Arc::new(
        ScenarioHost::start(page_html(), sandboxed_page_html())
            .await
            .expect("start loopback servers"),
    );
    let ports = Ports {
        frontend: host.frontend.port(),
        api: host.api.port(),
        other: host.other.port(),
    };
    let browser = Arc::new(Browser::launch().await.expect("launch chromium"));
    eprintln!("differential: {}", browser.version);

    let selected: Vec<(usize, Value)> = corpus
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            only.as_ref()
                .is_none_or(|ids| ids.iter().any(|i| s["id"].as_str() == Some(i)))
        })
        .map(|(n, s)| (n, rewrite_scenario(s, n, ports)))
        .collect();
    assert!(!selected.is_empty(), "no scenario selected");

    let results: Vec<(usize, Value, Result<Observed, String>)> =
        futures_util::stream::iter(selected.into_iter().map(|(n, scenario)| {
            let browser = browser.clone();
            let host = host.clone();
            async move {
                let observed = run_scenario(&browser, &host, n, &scenario).await;
                (n, scenario, observed)
            }
        }))
        .buffer_unordered(parallel)
        .collect()
        .await;
    let mut results = results;
    results.sort_by_key(|(n, _, _)| *n);
    if let Ok(browser) = Arc::try_unwrap(browser) {
        browser.close().await;
    }

    let mut disagreements = Vec::new();
    let mut observed_json = Vec::new();
    let mut agree = 0;
    for (_, scenario, observed) in &results {
        let id = scenario["id"].as_str().unwrap_or("?").to_string();
        let observed = match observed {
            Ok(o) => o,
            Err(e) => {
                disagreements.push(Disagreement {
                    id,
                    field: "harness",
                    chromium: e.clone(),
                    model: "-".into(),
                });
                continue;
            }
        };
        let verdict = model_verdict(scenario);
        let mut record = observed.to_json();
        record["request"] = scenario["request"].clone();
        record["model"] = verdict.clone();
        observed_json.push(record);
        let rows = compare(observed, &verdict);
        if rows.is_empty() {
            agree += 1;
        }
        disagreements.extend(rows);
    }

    if let Ok(path) = std::env::var("SANDBOX_DIFF_OBSERVED") {
        let text = serde_json::to_string_pretty(&Value::Array(observed_json)).unwrap();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
        eprintln!("differential: wrote {path}");
    }
    print_summary(&results);
    println!("differential: {} scenarios, {agree} agree", results.len());
    assert!(
        disagreements.is_empty(),
        "Chromium and the model disagree ({} of {} scenarios):\n{}",
        results.len() - agree,
        results.len(),
        table(&disagreements)
    );
}

/// `sandbox::browser::evaluate` on a (rewritten) scenario, as JSON; a scenario the model
/// rejects or panics on gives `{"error": ..}`, reported with the rest, not instead of them.
pub(crate) fn model_verdict(scenario: &Value) -> Value {
    model_verdict_in(scenario, sandbox::browser::Browser::Chromium)
}

/// [`model_verdict`] for `browser`.
pub(crate) fn model_verdict_in(scenario: &Value, browser: sandbox::browser::Browser) -> Value {
    match serde_json::from_value::<sandbox::browser::Scenario>(scenario.clone()) {
        Ok(parsed) => {
            let evaluated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let ctx = sandbox::browser::FixContext::Generic;
                sandbox::browser::evaluate_in(&parsed, &ctx, browser)
            }));
            match evaluated {
                Ok(v) => serde_json::to_value(&v).expect("verdict serialises"),
                Err(_) => json!({"error": "the model panicked on this scenario"}),
            }
        }
        Err(e) => json!({"error": format!("model rejects scenario: {e}")}),
    }
}

/// One line per scenario: what Chromium did (shown with `--nocapture`).
fn print_summary(results: &[(usize, Value, Result<Observed, String>)]) {
    let mut by_error: BTreeMap<String, usize> = BTreeMap::new();
    for (_, scenario, observed) in results {
        let id = scenario["id"].as_str().unwrap_or("?");
        match observed {
            Ok(o) => {
                *by_error
                    .entry(o.cors_error.clone().unwrap_or_else(|| o.outcome.clone()))
                    .or_default() += 1;
                println!(
                    "{id:<48} {:<8} preflight={:<5} {}",
                    o.outcome,
                    o.preflight_sent,
                    o.cors_error.as_deref().unwrap_or("-"),
                );
            }
            Err(e) => println!("{id:<48} harness error: {e}"),
        }
    }
    for (k, v) in by_error {
        println!("  {v:>4}  {k}");
    }
}
