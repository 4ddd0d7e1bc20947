//! Plain-text rendering of a scenario and its verdict for `sandbox explain` without
//! `--json`: the request line, the preflight the browser sends, the verdict, the console
//! message, the fix, readable headers and notes. Layout only; it must not re-judge.

use std::fmt::Write;

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
    let verdict = match (v.outcome, v.cors_error) {
        (Outcome::Allowed, _) => "ALLOWED".to_owned(),
        (Outcome::Blocked, Some(e)) => match &v.failed_parameter {
            Some(p) => format!("BLOCKED ({e}, failed parameter '{p}')"),
            None => format!("BLOCKED ({e})"),
        },
        (Outcome::Blocked, None) => "BLOCKED (not a CORS error)".to_owned(),
    };
    let _ = writeln!(out, "verdict:   {verdict}");
    if let Some(m) = &v.message {
        let _ = writeln!(out, "message:   {m}");
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
