//! `sandbox explain FILE|-`: verdicts for recorded exchanges — one scenario, a JSON array of
//! scenarios, or a HAR file exported from a browser or a proxy (every cross-origin request
//! in it).

use std::io::Read;

use super::har::{judge_import_in, nothing_to_judge};
use super::{AnswerError, Output, Report};
use crate::browser::{evaluate_in, import_har, FixContext, HarImport, Scenario};
use crate::source_file::explain_toml_message;

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
    let out = out.with_stack(false)?;
    let text = read_text(path)?;
    let name = if path == "-" { "standard input" } else { path };
    let recorded = parse(&text).map_err(|reason| AnswerError::Parse {
        path: name.into(),
        reason,
    })?;
    match recorded {
        Recorded::Scenarios { scenarios, single } => {
            let engines = out.engines.list();
            let items: Vec<_> = scenarios
                .into_iter()
                .flat_map(|s| {
                    engines
                        .iter()
                        .map(|&b| (s.clone(), evaluate_in(&s, &FixContext::Generic, b)))
                        .collect::<Vec<_>>()
                })
                .collect();
            Ok(out.finish(&items, single))
        }
        Recorded::Har(import) => {
            let items = judge_import_in(&import, &FixContext::Generic, &out.engines.list());
            let mut report = out.finish(&items, false);
            if items.is_empty() {
                report.notes.push(nothing_to_judge(&import));
            } else if let Some(left_out) = import.skipped.summary() {
                report.notes.push(format!("{left_out}."));
            }
            Ok(report)
        }
    }
}

/// A scenario object, an array of them, or a HAR (a document with `log`). Scenario JSON is
/// read strictly: an unknown key is an error (a misspelt `actual_responce` would otherwise
/// be judged as no response at all), and every error names its JSON path and line:column.
pub fn parse(text: &str) -> Result<Recorded, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    if value.get("log").is_some() {
        return import_har(&value)
            .map(Recorded::Har)
            .map_err(|e| e.to_string());
    }
    if value.is_array() {
        return Ok(Recorded::Scenarios {
            scenarios: strict(text)?,
            single: false,
        });
    }
    Ok(Recorded::Scenarios {
        scenarios: vec![strict(text)?],
        single: true,
    })
}

/// `text` as a `T`, or "line L, column C: at `prior[0].request.url`: unknown key `x`
/// (did you mean `y`?)".
fn strict<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let raw = inner.to_string();
        // serde_json appends " at line L column C"; the position leads instead.
        let raw = raw
            .rfind(" at line ")
            .map_or(raw.as_str(), |i| &raw[..i])
            .to_owned();
        let (what, help) = explain_toml_message(&raw);
        let at = if path.is_empty() || path == "." {
            String::new()
        } else {
            format!("at `{path}`: ")
        };
        let help = help.map(|h| format!(" ({h})")).unwrap_or_default();
        format!(
            "line {}, column {}: {at}{what}{help}",
            inner.line(),
            inner.column()
        )
    })
}
