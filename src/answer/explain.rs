//! `sandbox explain FILE|-`: verdicts for recorded exchanges — one scenario, a JSON array of
//! scenarios, or a HAR file exported from DevTools (every cross-origin request in it).

use std::io::Read;

use super::{AnswerError, Output, Report};
use crate::browser::{evaluate, scenarios_from_har, FixContext, Scenario};

/// Reads `path` (`-` = standard input) and judges what it holds.
pub fn explain(path: &str, out: Output) -> Result<Report, AnswerError> {
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| AnswerError::Read {
                path: "standard input".into(),
                reason: e.to_string(),
            })?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| AnswerError::Read {
            path: path.into(),
            reason: e.to_string(),
        })?
    };
    let name = if path == "-" { "standard input" } else { path };
    let (scenarios, single) = parse(&text).map_err(|reason| AnswerError::Parse {
        path: name.into(),
        reason,
    })?;
    let items: Vec<_> = scenarios
        .into_iter()
        .map(|s| {
            let v = evaluate(&s, &FixContext::Generic);
            (s, v)
        })
        .collect();
    Ok(out.finish(&items, single))
}

/// A scenario object, an array of them, or a HAR. The bool says "a single object".
pub fn parse(text: &str) -> Result<(Vec<Scenario>, bool), String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    if value.get("log").is_some() {
        let s = scenarios_from_har(&value).map_err(|e| e.to_string())?;
        return Ok((s, false));
    }
    match &value {
        serde_json::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let s: Scenario = serde_json::from_value(item.clone())
                    .map_err(|e| format!("scenario {i}: {e}"))?;
                out.push(s);
            }
            Ok((out, false))
        }
        _ => {
            let s: Scenario = serde_json::from_value(value).map_err(|e| e.to_string())?;
            Ok((vec![s], true))
        }
    }
}
