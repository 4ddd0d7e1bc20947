//! An options object as JavaScript source: `cors({ origin: '…', credentials: true })`, with a
//! `/…/` string written as the regular-expression literal it stands for.

use serde_json::Value;

/// One value as a JavaScript literal.
fn literal(v: &Value) -> String {
    match v {
        Value::String(s) if s.starts_with('/') && s.len() > 1 => s.clone(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", inner.join(", "))
        }
        other => other.to_string(),
    }
}

/// `cors({ name: value, … })` on one line (or `cors()` for no options).
pub fn options_js(options: &[(&str, Value)]) -> String {
    if options.is_empty() {
        return "cors()".to_string();
    }
    let fields: Vec<String> = options
        .iter()
        .map(|(k, v)| format!("{k}: {}", literal(v)))
        .collect();
    format!("cors({{ {} }})", fields.join(", "))
}
