//! Plain-text rendering of a scenario and its verdict for `sandbox explain` without
//! `--json`: the request line, the preflight the browser sends, the verdict, the console
//! message, the fix, readable headers and notes. Layout only; it must not re-judge.

use std::fmt::Write;

use super::browsers::Browser;
use super::cookie_model::{CookieAction, CookieOutcome};
use super::model::{Credentials, Mode, Outcome, Scenario, Verdict};
use super::request::normalize_method;

const PAD: &str = "           ";

/// The scenario and its verdict as the plain text `sandbox explain` prints: request,
/// preflight, verdict, console message, fix, readable headers and notes, one per line.
pub fn render_text(s: &Scenario, v: &Verdict) -> String {
    let mut out = String::new();
    if let Some(id) = &v.id {
        let _ = writeln!(out, "scenario:  {id}");
    }
    let r = &s.request;
    let mut extras = vec![format!("origin {}", r.origin)];
    if r.credentials != Credentials::SameOrigin {
        extras.push(format!("credentials {}", r.credentials.as_str()));
    }
    if r.mode != Mode::Cors {
        extras.push(format!("mode {}", r.mode.as_str()));
    }
    let _ = writeln!(
        out,
        "request:   {} {}  ({})",
        normalize_method(&r.method),
        r.url,
        extras.join(", ")
    );
    for (name, value) in r.headers.lines() {
        let _ = writeln!(out, "{PAD}{name}: {value}");
    }
    match &v.preflight_request {
        Some(p) => {
            let _ = writeln!(out, "preflight: {} {}", p.method, p.url);
            for (name, value) in p.headers.lines() {
                let _ = writeln!(out, "{PAD}{name}: {value}");
            }
            if !v.preflight_sent {
                let _ = writeln!(out, "{PAD}(not sent: answered from the preflight cache)");
            }
        }
        None => {
            let _ = writeln!(out, "preflight: none needed");
        }
    }
    if v.browser != Browser::Chromium {
        let _ = writeln!(out, "browser:   {}", v.browser.display_name());
    }
    let _ = writeln!(out, "verdict:   {}", verdict_word(v));
    if let Some(m) = &v.message {
        let _ = writeln!(out, "message:   {m}");
    }
    // The engine's further console lines for the request, after the first.
    for m in v
        .messages
        .iter()
        .skip_while(|m| Some(*m) != v.message.as_ref())
        .skip(1)
    {
        let _ = writeln!(out, "{PAD}{m}");
    }
    if v.message.is_none() {
        for (i, m) in v.messages.iter().enumerate() {
            let label = if i == 0 { "console:   " } else { PAD };
            let _ = writeln!(out, "{label}{m}");
        }
    }
    if let Some(e) = &v.js_error {
        if v.message.as_deref() != e.strip_prefix("TypeError: ") {
            let _ = writeln!(out, "script:    fetch() rejects with {e}");
        }
    }
    if let Some(f) = &v.fix {
        let _ = writeln!(out, "fix:       {f}");
    }
    if v.outcome == Outcome::Allowed {
        let readable = if v.readable_headers.is_empty() {
            "(none)".to_owned()
        } else {
            v.readable_headers.join(", ")
        };
        let _ = writeln!(out, "readable:  {readable}");
    }
    for (i, c) in v.cookies.iter().enumerate() {
        let label = if i == 0 { "cookies:   " } else { PAD };
        let action = match c.action {
            CookieAction::Send => "send",
            CookieAction::Store => "store",
        };
        let outcome = match c.outcome {
            CookieOutcome::Stored => "STORED",
            CookieOutcome::StoredPartitioned => "STORED (partitioned)",
            CookieOutcome::Deleted => "DELETED",
            CookieOutcome::Rejected => "REJECTED",
            CookieOutcome::Sent => "SENT",
            CookieOutcome::NotSent => "NOT SENT",
        };
        let devtools = if c.blocked_reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.blocked_reasons.join(", "))
        };
        let _ = writeln!(out, "{label}{action} {}: {outcome}{devtools}", c.name);
        let _ = writeln!(out, "{PAD}  {}", c.reason);
        if let Some(f) = &c.fix {
            let _ = writeln!(out, "{PAD}  fix: {f}");
        }
    }
    for (i, note) in v.notes.iter().enumerate() {
        let label = if i == 0 { "notes:     " } else { PAD };
        let _ = writeln!(out, "{label}- {note}");
    }
    out
}

/// "ALLOWED", or "BLOCKED" with the engine's reason (Chromium's `CorsError` and failed
/// parameter, Firefox's reason name; WebKit names none).
fn verdict_word(v: &Verdict) -> String {
    if v.outcome == Outcome::Allowed {
        return "ALLOWED".to_owned();
    }
    match (v.browser, &v.engine_error, &v.failed_parameter) {
        (Browser::Chromium, Some(e), Some(p)) => format!("BLOCKED ({e}, failed parameter '{p}')"),
        (_, Some(e), _) => format!("BLOCKED ({e})"),
        (Browser::WebKit, None, _) if v.cors_error.is_some() => "BLOCKED".to_owned(),
        (_, None, _) => "BLOCKED (not a CORS error)".to_owned(),
    }
}

/// One scenario as several engines judge it (`verdicts` in the order chromium, firefox,
/// webkit): the request, a line per engine side by side, where they disagree, then each
/// engine's own words and the fixes.
pub fn render_engines(s: &Scenario, verdicts: &[Verdict]) -> String {
    let Some(first) = verdicts.first() else {
        return String::new();
    };
    let full = render_text(s, first);
    // The request part is the same for every engine: up to the preflight line.
    let mut out: String = full
        .lines()
        .take_while(|l| !l.starts_with("preflight:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let width = verdicts
        .iter()
        .map(|v| v.browser.display_name().len())
        .max()
        .unwrap_or(0);
    for (i, v) in verdicts.iter().enumerate() {
        let label = if i == 0 { "engines:   " } else { PAD };
        let preflight = match (&v.preflight_request, v.preflight_sent) {
            (None, _) => "no preflight",
            (Some(_), true) => "preflight sent",
            (Some(_), false) => "preflight from cache",
        };
        let _ = writeln!(
            out,
            "{label}{:<width$}  {:<8} {preflight:<20} {}",
            v.browser.display_name(),
            if v.is_allowed() { "allowed" } else { "blocked" },
            verdict_word(v)
                .strip_prefix("BLOCKED")
                .map(|r| r.trim().trim_matches(['(', ')']).to_owned())
                .unwrap_or_default(),
        );
    }
    for line in disagreements(verdicts) {
        let _ = writeln!(out, "DIFFERS:   {line}");
    }
    for v in verdicts {
        let _ = writeln!(out, "--- {} ---", v.browser.display_name());
        let text = render_text(s, v);
        for line in text.lines().skip_while(|l| !l.starts_with("preflight:")) {
            if !line.starts_with("browser:") {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// Plain sentences for where the engines part ways: the outcome, the preflight.
fn disagreements(verdicts: &[Verdict]) -> Vec<String> {
    let names = |pick: &dyn Fn(&Verdict) -> bool| -> String {
        let list: Vec<&str> = verdicts
            .iter()
            .filter(|v| pick(v))
            .map(|v| v.browser.display_name())
            .collect();
        list.join(" and ")
    };
    let mut out = Vec::new();
    let allowed = verdicts.iter().filter(|v| v.is_allowed()).count();
    if allowed != 0 && allowed != verdicts.len() {
        out.push(format!(
            "{} allow{} it; {} block{} it",
            names(&|v| v.is_allowed()),
            if allowed == 1 { "s" } else { "" },
            names(&|v| !v.is_allowed()),
            if verdicts.len() - allowed == 1 {
                "s"
            } else {
                ""
            },
        ));
    }
    let sent = verdicts.iter().filter(|v| v.preflight_sent).count();
    if sent != 0 && sent != verdicts.len() {
        out.push(format!(
            "{} send{} a preflight; {} do{} not",
            names(&|v| v.preflight_sent),
            if sent == 1 { "s" } else { "" },
            names(&|v| !v.preflight_sent),
            if verdicts.len() - sent == 1 { "es" } else { "" },
        ));
    }
    let origins: Vec<Option<String>> = verdicts
        .iter()
        .map(|v| {
            v.preflight_request
                .as_ref()
                .and_then(|p| p.headers.get("origin"))
        })
        .collect();
    // Among the engines that need a preflight: one that needs none has no Origin to differ.
    let mut sent_origins = origins.iter().flatten();
    let first = sent_origins.next();
    if sent_origins.any(|o| Some(o) != first) {
        let list: Vec<String> = verdicts
            .iter()
            .zip(&origins)
            .filter_map(|(v, o)| {
                o.as_ref()
                    .map(|o| format!("{} {o}", v.browser.display_name()))
            })
            .collect();
        out.push(format!(
            "the preflight's Origin differs: {}",
            list.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::{evaluate_in, Browser, FixContext, Scenario};

    /// A script-set User-Agent: only Firefox and WebKit send it, so only they preflight. Both
    /// preflights carry the page's Origin; Chromium's absent one is no difference.
    #[test]
    fn engines_differ_only_where_they_do() {
        let s: Scenario = serde_json::from_value(serde_json::json!({
            "request": {"url": "http://api.test:3000/x", "origin": "http://page.test:8080",
                        "headers": {"User-Agent": "app/1.0"}},
            "preflight_response": {"status": 400, "headers": {}},
            "actual_response": {"status": 200, "headers": {
                "Access-Control-Allow-Origin": "http://page.test:8080"}}
        }))
        .unwrap();
        let verdicts: Vec<_> = Browser::ALL
            .iter()
            .map(|b| evaluate_in(&s, &FixContext::Generic, *b))
            .collect();
        let lines = disagreements(&verdicts);
        assert_eq!(
            lines,
            vec![
                "Chromium allows it; Firefox and Safari (WebKit) block it".to_string(),
                "Firefox and Safari (WebKit) send a preflight; Chromium does not".to_string(),
            ]
        );
    }
}
