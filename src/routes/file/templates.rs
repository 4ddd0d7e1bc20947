//! Placeholders in bodies and header values: parsing them at load time, with a mistake
//! located in the routes file (or in the body file that holds it), and turning TOML values
//! into the JSON a `json = …` body is sent as.
//!
//! Owns the choice of what is a template: a `json = …` value string by string, a `body = …`
//! as text, a `file = …` only when it is UTF-8 and contains `{{`. It must not render anything:
//! `template` and `serve::api` do that per request.

use std::ops::Range;
use std::path::Path;

use serde_json::Value;

use crate::routes::template::Template;
use crate::routes::{DynamicBody, JsonTemplate};
use crate::source_file::{LoadError, Source};

/// Parses a template, pointing a mistake at its line and column in the file: the value's text
/// is looked up inside `span` (exact when the TOML string has no escapes; otherwise the error
/// points at the whole value).
pub(super) fn template(
    src: &Source,
    span: &Range<usize>,
    text: &str,
    params: &[String],
) -> Result<Template, LoadError> {
    Template::parse(text, params).map_err(|e| {
        let region = src.text.get(span.clone()).unwrap_or("");
        let at = match region.find(text) {
            Some(i) if !text.is_empty() => {
                let start = span.start + i + e.offset;
                start..start + 2
            }
            _ => span.clone(),
        };
        src.error_at(
            Some(at),
            &format!("template: {}", e.message),
            "here",
            Some("placeholders are {{params.NAME}}, {{query.NAME}}, {{headers.NAME}}, {{cookies.NAME}}, {{body.PATH}}, {{uuid}}, {{now}}, {{seq}}, {{random_int MIN MAX}}".into()),
        )
    })
}

pub(super) fn json_template(
    src: &Source,
    span: &Range<usize>,
    v: &Value,
    params: &[String],
) -> Result<JsonTemplate, LoadError> {
    Ok(match v {
        Value::String(s) => {
            let t = template(src, span, s, params)?;
            if t.is_dynamic() {
                JsonTemplate::Text(t)
            } else {
                JsonTemplate::Literal(v.clone())
            }
        }
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| json_template(src, span, x, params))
                .collect::<Result<Vec<_>, _>>()?;
            if items.iter().all(|i| matches!(i, JsonTemplate::Literal(_))) {
                JsonTemplate::Literal(v.clone())
            } else {
                JsonTemplate::Array(items)
            }
        }
        Value::Object(o) => {
            let items = o
                .iter()
                .map(|(k, x)| Ok((k.clone(), json_template(src, span, x, params)?)))
                .collect::<Result<Vec<_>, LoadError>>()?;
            if items
                .iter()
                .all(|(_, i)| matches!(i, JsonTemplate::Literal(_)))
            {
                JsonTemplate::Literal(v.clone())
            } else {
                JsonTemplate::Object(items)
            }
        }
        other => JsonTemplate::Literal(other.clone()),
    })
}

/// Placeholders in a `file = …` body. Only UTF-8 files that contain `{{` are templates, so
/// binary files and plain data are served byte for byte. A JSON file is rendered value by
/// value (so request data can never break its syntax); anything else as text. Errors point
/// into the body file itself.
pub(super) fn file_template(
    path: &Path,
    bytes: &[u8],
    params: &[String],
) -> Result<Option<DynamicBody>, LoadError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(None);
    };
    if !text.contains("{{") {
        return Ok(None);
    }
    let fsrc = Source {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    let whole = 0..text.len();
    let is_json = path.extension().is_some_and(|e| e == "json");
    if let (true, Ok(v)) = (is_json, serde_json::from_str::<Value>(text)) {
        let jt = json_template(&fsrc, &whole, &v, params)?;
        return Ok((!matches!(jt, JsonTemplate::Literal(_))).then_some(DynamicBody::Json(jt)));
    }
    let t = template(&fsrc, &whole, text, params)?;
    Ok(t.is_dynamic().then_some(DynamicBody::Text(t)))
}

pub(super) fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}
