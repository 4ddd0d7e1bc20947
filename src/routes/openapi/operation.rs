//! One operation's documented success answer: its status, content type, headers and a body
//! (the documented example, else one built from the schema). OpenAPI 3 keeps these under
//! `content`; Swagger 2.0 beside the response (`schema`, `examples`) and in `produces`.
//!
//! Owns which response stands for the operation: the lowest documented 2xx, then `2XX`,
//! then `default`. It must not write TOML (`emit` does). Pure.

use serde_json::Value;

use super::doc::{Docs, Version};
use super::example::Gen;

/// What an operation answers, ready to be written as a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Option<Value>,
    /// A body that is text, not JSON (`text/plain` with a string).
    pub text: Option<String>,
    pub headers: Vec<(String, String)>,
}

/// The response that stands for the operation, with its status.
fn pick(op: &Value) -> Option<(u16, &Value)> {
    let responses = op.get("responses")?.as_object()?;
    let mut candidates: Vec<(u16, u16, &Value)> = responses
        .iter()
        .filter_map(|(code, r)| {
            // The rank puts documented statuses before the ranges and `default`.
            let (rank, status) = match code.as_str() {
                "2XX" | "2xx" => (1, 200),
                "default" => (2, 200),
                c => (0, c.parse::<u16>().ok()?),
            };
            (200..300).contains(&status).then_some((rank, status, r))
        })
        .collect();
    candidates.sort_by_key(|(rank, s, _)| (*rank, *s));
    candidates.first().map(|(_, s, r)| (*s, *r))
}

/// Follows `$ref`s until a value that is not one (response and example objects may be refs).
fn deref<'a>(docs: &'a Docs, file: &'a str, v: &'a Value) -> (&'a str, &'a Value) {
    let (mut file, mut v) = (file, v);
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => match docs.resolve(file, r) {
                Ok(found) => (file, v) = found,
                Err(_) => break,
            },
            None => break,
        }
    }
    (file, v)
}

/// The operation's answer; notes go to `gen`.
pub fn answer<'a>(gen: &mut Gen<'a>, docs: &'a Docs, op: &'a Value, what: &str) -> Answer {
    let mut a = Answer {
        status: 200,
        content_type: None,
        body: None,
        text: None,
        headers: Vec::new(),
    };
    let Some((status, response)) = pick(op) else {
        gen.notes.push(format!(
            "{what}: no success response documented; answers 200"
        ));
        return a;
    };
    a.status = status;
    let (file, response) = deref(docs, &docs.main, response);
    a.headers = headers(gen, docs, file, response, what);
    if status == 204 || status == 205 {
        return a;
    }
    let (ct, example, schema) = match docs.version {
        Version::Swagger2 => swagger_media(docs, op, response),
        _ => match media(response) {
            Some((ct, m)) => (
                Some(ct.to_string()),
                media_example(docs, file, m),
                m.get("schema"),
            ),
            None => (None, None, None),
        },
    };
    let value = example.or_else(|| schema.map(|s| gen.value(file, s)));
    match (ct, value) {
        (Some(ct), Some(v)) if is_json(&ct) => {
            a.content_type = (ct != "application/json").then_some(ct);
            a.body = Some(v);
        }
        (Some(ct), Some(Value::String(s))) => {
            a.content_type = Some(ct);
            a.text = Some(s);
        }
        (Some(ct), _) => {
            gen.notes.push(format!(
                "{what}: no {ct} body can be built from the document; answers an empty body"
            ));
            a.content_type = Some(ct);
        }
        (None, _) => {}
    }
    a
}

fn is_json(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json") || essence == "*/*"
}

/// OpenAPI 3's `content`: a JSON media type when there is one, else the first.
fn media(response: &Value) -> Option<(&str, &Value)> {
    let content = response.get("content")?.as_object()?;
    content
        .iter()
        .find(|(ct, _)| is_json(ct))
        .or_else(|| content.iter().next())
        .map(|(ct, m)| (ct.as_str(), m))
}

fn media_example(docs: &Docs, file: &str, m: &Value) -> Option<Value> {
    if let Some(v) = m.get("example") {
        return Some(v.clone());
    }
    let first = m.get("examples")?.as_object()?.values().next()?;
    let (_, ex) = deref(docs, file, first);
    ex.get("value").cloned()
}

/// Swagger 2.0: the type from `produces` (the operation's, else the document's), the example
/// from `examples`, the schema beside them.
fn swagger_media<'a>(
    docs: &'a Docs,
    op: &'a Value,
    response: &'a Value,
) -> (Option<String>, Option<Value>, Option<&'a Value>) {
    let produces = op
        .get("produces")
        .or_else(|| docs.main_doc().get("produces"))
        .and_then(Value::as_array)
        .and_then(|p| {
            let mut types = p.iter().filter_map(Value::as_str);
            let first = types.clone().next();
            types.find(|t| is_json(t)).or(first)
        })
        .unwrap_or("application/json")
        .to_string();
    let example = response
        .get("examples")
        .and_then(|e| e.get(&produces))
        .cloned();
    let schema = response.get("schema");
    if schema.is_none() && example.is_none() {
        return (None, None, None);
    }
    (Some(produces), example, schema)
}

/// Declared response headers with their example or a value from their schema. The server
/// frames bodies itself, so `Content-Length` and the like are left out with a note.
fn headers<'a>(
    gen: &mut Gen<'a>,
    docs: &'a Docs,
    file: &'a str,
    response: &'a Value,
    what: &str,
) -> Vec<(String, String)> {
    let Some(hs) = response.get("headers").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, h) in hs {
        let lower = name.to_ascii_lowercase();
        if [
            "content-type",
            "content-length",
            "transfer-encoding",
            "connection",
        ]
        .contains(&lower.as_str())
        {
            gen.notes.push(format!(
                "{what}: header {name} is the server's own; left out"
            ));
            continue;
        }
        let (hfile, h) = deref(docs, file, h);
        let value = h
            .get("example")
            .cloned()
            .or_else(|| media_example(docs, hfile, h))
            // Swagger 2.0 headers are schemas themselves.
            .unwrap_or_else(|| gen.value(hfile, h.get("schema").unwrap_or(h)));
        let text = match value {
            Value::String(s) => s,
            v => v.to_string(),
        };
        out.push((name.clone(), text));
    }
    out
}

/// The path every route is put under: `--base-path`, else the path of the first `servers`
/// URL (its variables at their defaults), else Swagger 2.0's `basePath`. Never ends in `/`.
pub fn base_path(doc: &Value, overridden: Option<&str>) -> String {
    let raw = match overridden {
        Some(b) => b.to_string(),
        None => match doc.pointer("/servers/0") {
            Some(server) => server_path(server),
            None => doc
                .get("basePath")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        },
    };
    let trimmed = raw.trim_end_matches('/');
    match trimmed {
        "" => String::new(),
        t if t.starts_with('/') => t.to_string(),
        t => format!("/{t}"),
    }
}

fn server_path(server: &Value) -> String {
    let mut url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(vars) = server.get("variables").and_then(Value::as_object) {
        for (name, var) in vars {
            let default = var.get("default").and_then(Value::as_str).unwrap_or("");
            url = url.replace(&format!("{{{name}}}"), default);
        }
    }
    let after_scheme = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => &url,
    };
    after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_base_path_comes_from_servers_basepath_or_the_flag() {
        let doc = json!({"servers": [{"url": "https://{host}/api/{v}/", "variables": {"host": {"default": "x.io"}, "v": {"default": "v2"}}}]});
        assert_eq!(base_path(&doc, None), "/api/v2");
        assert_eq!(
            base_path(&json!({"servers": [{"url": "/v1"}]}), None),
            "/v1"
        );
        assert_eq!(
            base_path(&json!({"servers": [{"url": "http://h.io"}]}), None),
            ""
        );
        assert_eq!(base_path(&json!({"basePath": "/v3"}), None), "/v3");
        assert_eq!(base_path(&doc, Some("/")), "");
        assert_eq!(base_path(&doc, Some("mine")), "/mine");
    }
}
