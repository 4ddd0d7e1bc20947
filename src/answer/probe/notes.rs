//! What a probe adds to the model's verdict from the real answers: the facts a user needs
//! and the page never sees (the status behind a `TypeError`, a preflight's refusal text,
//! headers script cannot read).

use crate::browser::{CorsError, Response, Verdict};

use super::Exchanged;

/// A preflight's body is quoted when it is short text; longer or binary bodies are not
/// worth a line.
const QUOTE_LIMIT: usize = 200;

/// Response headers that no CORS setting makes readable.
const NEVER_READABLE: &[&str] = &["set-cookie", "set-cookie2"];

/// Headers nobody reads from script: naming them as hidden would bury the ones that matter.
const NOT_WORTH_NAMING: &[&str] = &[
    "date",
    "server",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "vary",
    "x-powered-by",
];

pub(super) fn add(v: &mut Verdict, exchanged: &[Exchanged]) {
    let preflight = exchanged.iter().rev().find(|e| e.preflight);
    let last = exchanged.iter().rev().find(|e| !e.preflight);
    if let (Some(CorsError::PreflightInvalidStatus), Some(p)) = (v.cors_error, preflight) {
        v.notes.extend(preflight_refusal(p));
    }
    if let Some(last) = last {
        v.notes
            .extend(error_without_cors(v, &last.answer.response, preflight));
        if v.is_allowed() {
            v.notes.extend(hidden_headers(v, &last.answer.response));
        }
    }
}

fn preflight_refusal(p: &Exchanged) -> Option<String> {
    let status = p.answer.response.status;
    let text = short_text(&p.answer.body, &p.answer.response)?;
    Some(format!(
        "the preflight was answered {status} with “{text}”: the server's CORS layer refused \
         the method or headers asked for — allow them in its CORS configuration (letting \
         OPTIONS through to the routes would not help)"
    ))
}

fn short_text(body: &[u8], response: &Response) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let textual = response
        .headers
        .get("content-type")
        .is_none_or(|ct| ct.starts_with("text/") || ct.contains("json"));
    let printable = text.chars().all(|c| !c.is_control() || c == '\n');
    (textual && printable && !text.is_empty() && text.len() <= QUOTE_LIMIT)
        .then(|| text.replace('\n', " "))
}

fn error_without_cors(v: &Verdict, last: &Response, pre: Option<&Exchanged>) -> Option<String> {
    if v.cors_error != Some(CorsError::MissingAllowOriginHeader) || last.status < 400 {
        return None;
    }
    let preflight_had = pre.is_some_and(|p| {
        p.answer
            .response
            .headers
            .get("access-control-allow-origin")
            .is_some()
    });
    let contrast = if preflight_had {
        " although the preflight's answer carried them"
    } else {
        ""
    };
    Some(format!(
        "the server answered {} and that error response carries no CORS headers{contrast}: \
         error responses need them too (nginx's add_header without `always` is the classic \
         cause). The page only ever sees TypeError, so the status {} is the real news",
        last.status, last.status
    ))
}

fn hidden_headers(v: &Verdict, last: &Response) -> Option<String> {
    let mut hidden: Vec<String> = Vec::new();
    for (name, _) in last.headers.lines() {
        let n = name.to_ascii_lowercase();
        let noise = NOT_WORTH_NAMING.contains(&n.as_str()) || n.starts_with("access-control-");
        if !noise && !v.readable_headers.contains(&n) && !hidden.contains(&n) {
            hidden.push(n);
        }
    }
    let never: Vec<&String> = hidden
        .iter()
        .filter(|n| NEVER_READABLE.contains(&n.as_str()))
        .collect();
    let exposable: Vec<&String> = hidden
        .iter()
        .filter(|n| !NEVER_READABLE.contains(&n.as_str()))
        .collect();
    let mut parts = Vec::new();
    if !exposable.is_empty() {
        let list: Vec<&str> = exposable.iter().map(|s| s.as_str()).collect();
        parts.push(format!(
            "sent but hidden from script: {} — list them in Access-Control-Expose-Headers to \
             read them",
            list.join(", ")
        ));
    }
    if !never.is_empty() {
        parts.push(
            "Set-Cookie is never readable by script (the browser stores it, if it may)".to_owned(),
        );
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
