//! What real Chromium does with one `fetch()`: run from a page the caller has navigated,
//! it reports whether script got the response, the `corsErrorStatus` and `errorText` of
//! `Network.loadingFailed`, and the console line Chromium printed for the block.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::chromium::{console_lines, Page};

/// The fetch runner a test page must define as `window.__run`.
pub const RUNNER: &str = r#"
window.__run = async function (spec) {
  let response;
  try {
    response = await fetch(spec.url, { method: spec.method, headers: spec.headers,
      credentials: spec.credentials, mode: 'cors', body: spec.body });
  } catch (e) {
    return { ok: false, error: String(e) };
  }
  let body = null;
  try { body = await response.text(); } catch (e) { body = null; }
  return { ok: true, status: response.status, headers: [...response.headers.keys()], body: body };
};
"#;

/// An HTML page that defines the runner.
pub fn runner_page() -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>fetch oracle</title><script>{RUNNER}</script>"
    )
}

/// What Chromium did.
#[derive(Debug, Clone, Default)]
pub struct Saw {
    pub allowed: bool,
    pub status: Option<u64>,
    pub readable: Vec<String>,
    pub cors_error: Option<String>,
    pub net_error: Option<String>,
    /// The console line that says why the fetch was blocked (CORS), if one was printed.
    pub message: Option<String>,
    pub script_error: Option<String>,
}

const WAIT: Duration = Duration::from_secs(5);

/// Runs `fetch(url, {method, headers, credentials})` in `page` and reads Chromium's reports.
pub async fn fetch(
    page: &Page,
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    credentials: &str,
    body: Option<&str>,
) -> Saw {
    let spec = json!({
        "url": url, "method": method, "credentials": credentials, "body": body,
        "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
    });
    let mark = page.cdp.mark();
    let result = page
        .evaluate(&format!("window.__run({spec})"))
        .await
        .unwrap_or_else(|e| json!({"ok": false, "error": format!("evaluate: {e}")}));
    let mut saw = Saw {
        allowed: result["ok"].as_bool().unwrap_or(false),
        ..Saw::default()
    };
    if saw.allowed {
        saw.status = result["status"].as_u64();
        saw.readable = result["headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        return saw;
    }
    saw.script_error = result["error"].as_str().map(str::to_string);
    // The failure is reported asynchronously: wait (bounded) for the failed load and, for a
    // CORS block, its console line.
    let deadline = Instant::now() + WAIT;
    page.wait_until(mark, deadline, |events| {
        let failed = events.iter().find(|e| e.method == "Network.loadingFailed");
        match failed {
            Some(f) if f.params.get("corsErrorStatus").is_some() => console_lines(events)
                .iter()
                .any(|l| l.text.contains("blocked by CORS policy")),
            Some(_) => true,
            // Mixed content is blocked in the renderer: a console line, no network request.
            None => console_lines(events)
                .iter()
                .any(|l| l.text.starts_with("Mixed Content:")),
        }
    })
    .await;
    let events = page.events_since(mark);
    if let Some(f) = events.iter().find(|e| e.method == "Network.loadingFailed") {
        saw.net_error = f.params["errorText"].as_str().map(str::to_string);
        saw.cors_error = f.params["corsErrorStatus"]["corsError"]
            .as_str()
            .map(str::to_string);
    }
    saw.message = console_lines(&events)
        .into_iter()
        .find(|l| l.text.contains("blocked by CORS policy") || l.text.starts_with("Mixed Content:"))
        .map(|l| l.text);
    saw
}
