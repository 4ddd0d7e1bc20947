//! The calls the scaffold's page makes against a generated API: the document's first GET
//! (a simple request) and its first write with a JSON body (preflighted: the page sends
//! `Content-Type: application/json`), with path parameters and the body filled in from the
//! schemas. Pure.

use serde::Serialize;
use serde_json::Value;

use super::example::Gen;
use super::validate::path_param_name;
use super::{convert_path, Docs, Options, METHODS};

/// One call of the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    pub what: String,
    pub method: String,
    pub url: String,
    /// The JSON body of a write.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// The first GET and the first write with a JSON request body, in document order.
pub fn page_calls(docs: &Docs, options: &Options) -> Vec<Call> {
    let doc = docs.main_doc();
    let base = super::operation::base_path(doc, options.base_path.as_deref());
    let mut gen = Gen::new(docs, options.gen);
    let (mut read, mut write) = (None, None);
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    for (path, item) in paths {
        let Some(ours) = convert_path(path) else {
            continue;
        };
        for m in METHODS {
            let Some(op) = item.get(*m) else { continue };
            let method = m.to_ascii_uppercase();
            if method == "GET" && read.is_none() {
                let url = format!("{base}{}", fill(&mut gen, docs, item, op, &ours));
                read = Some(Call {
                    what: format!("GET {url} (simple request)"),
                    method,
                    url,
                    body: None,
                });
            } else if ["POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str())
                && write.is_none()
            {
                let Some(body) = request_body(&mut gen, docs, op) else {
                    continue;
                };
                let url = format!("{base}{}", fill(&mut gen, docs, item, op, &ours));
                write = Some(Call {
                    what: format!("{method} {url} with a JSON body (preflighted)"),
                    method,
                    url,
                    body: Some(body),
                });
            }
        }
    }
    read.into_iter().chain(write).collect()
}

/// `/pets/{petId}` with a value from the parameter's schema (`1` when it has none).
fn fill<'a>(
    gen: &mut Gen<'a>,
    docs: &'a Docs,
    item: &'a Value,
    op: &'a Value,
    ours: &str,
) -> String {
    let params: Vec<&'a Value> = [op, item]
        .iter()
        .filter_map(|v| v.get("parameters").and_then(Value::as_array))
        .flatten()
        .map(|p| match p.get("$ref").and_then(Value::as_str) {
            Some(r) => docs.resolve(&docs.main, r).map_or(p, |(_, v)| v),
            None => p,
        })
        .collect();
    let mut out = ours.to_string();
    for p in params {
        let (Some(name), Some("path")) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        let schema = p.get("schema").unwrap_or(p);
        let value = match gen.value(&docs.main, schema) {
            Value::String(s) => s,
            v => v.to_string(),
        };
        let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        out = out.replace(&format!("{{{}}}", path_param_name(name)), &value);
    }
    // A parameter the document does not describe.
    let mut filled = String::new();
    for seg in out.split('/').skip(1) {
        filled.push('/');
        filled.push_str(if seg.starts_with('{') { "1" } else { seg });
    }
    filled
}

/// A body for the operation's JSON request schema (OpenAPI 3 `requestBody` or a Swagger 2.0
/// `in: body` parameter).
fn request_body<'a>(gen: &mut Gen<'a>, docs: &'a Docs, op: &'a Value) -> Option<Value> {
    let rb = op
        .get("requestBody")
        .map(|rb| match rb.get("$ref").and_then(Value::as_str) {
            Some(r) => docs.resolve(&docs.main, r).map_or(rb, |(_, v)| v),
            None => rb,
        });
    let schema = match rb {
        Some(rb) => rb
            .get("content")?
            .as_object()?
            .iter()
            .find(|(ct, _)| ct.contains("json"))?
            .1
            .get("schema")?,
        None => op
            .get("parameters")?
            .as_array()?
            .iter()
            .find(|p| p.get("in").and_then(Value::as_str) == Some("body"))?
            .get("schema")?,
    };
    Some(gen.value(&docs.main, schema))
}
