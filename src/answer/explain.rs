//! `sandbox explain FILE|-`: verdicts for recorded exchanges — one scenario, a JSON array of
//! scenarios, or a HAR file exported from a browser or a proxy (every cross-origin request
//! in it).

use std::io::Read;

use super::har::{judge_import, nothing_to_judge};
use super::{AnswerError, Output, Report};
use crate::browser::{evaluate, import_har, FixContext, HarImport, Scenario};

/// What an explained file holds.
pub enum Recorded {
    /// Scenario JSON; `single` for one object rather than an array.
    Scenarios {
        scenarios: Vec<Scenario>,
        single: bool,
    },
    /// A HAR.
    Har(HarImport),
}

/// Reads `path` (`-` = standard input) as text, without a UTF-8 byte-order mark (Fiddler
/// writes one).
pub fn read_text(path: &str) -> Result<String, AnswerError> {
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
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Reads `path` (`-` = standard input) and judges what it holds.
pub fn explain(path: &str, out: Output) -> Result<Report, AnswerError> {
    let text = read_text(path)?;
    let name = if path == "-" { "standard input" } else { path };
    let recorded = parse(&text).map_err(|reason| AnswerError::Parse {
        path: name.into(),
        reason,
    })?;
    match recorded {
        Recorded::Scenarios { scenarios, single } => {
            let items: Vec<_> = scenarios
                .into_iter()
                .map(|s| {
                    let v = evaluate(&s, &FixContext::Generic);
                    (s, v)
                })
                .collect();
            Ok(out.finish(&items, single))
        }
        Recorded::Har(import) => {
            let items = judge_import(&import, &FixContext::Generic);
            let mut report = out.finish(&items, false);
            if items.is_empty() {
                report.notes.push(nothing_to_judge(&import));
            }
            Ok(report)
        }
    }
}

/// A scenario object, an array of them, or a HAR (a document with `log`).
pub fn parse(text: &str) -> Result<Recorded, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    if value.get("log").is_some() {
        return import_har(&value)
            .map(Recorded::Har)
            .map_err(|e| e.to_string());
    }
    match &value {
        serde_json::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let s: Scenario = serde_json::from_value(item.clone())
                    .map_err(|e| format!("scenario {i}: {e}"))?;
                out.push(s);
            }
            Ok(Recorded::Scenarios {
                scenarios: out,
                single: false,
            })
        }
        _ => {
            let s: Scenario = serde_json::from_value(value).map_err(|e| e.to_string())?;
            Ok(Recorded::Scenarios {
                scenarios: vec![s],
                single: true,
            })
        }
    }
}
