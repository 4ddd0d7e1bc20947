//! Request validation against an operation of the document (`validate = true`): its path,
//! query and header parameters and its JSON body, each checked by a JSON Schema validator
//! (the `jsonschema` crate) built once when the routes file loads.
//!
//! Schemas are read where they are in the documents, so a `$ref` to another file or to
//! itself resolves as the document says: every file is served to the validator from memory
//! (never from disk or the network) under a made-up base URL. It must not answer requests
//! (`serve::api` does). Pure once built.

use std::collections::BTreeMap;
use std::sync::Arc;

use jsonschema::{Draft, Retrieve, Uri, Validator};
use serde_json::{json, Value};

use super::doc::{Docs, Version};
use super::example::json_schema;
use super::OpenApiError;

/// The base every document file is known to the validator under.
const BASE: &str = "https://openapi.sandbox.invalid/";

/// What a file name or JSON pointer keeps as it is inside a URI; the rest is escaped.
const URI_SAFE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'~')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
    Header,
}

impl In {
    fn name(self) -> &'static str {
        match self {
            In::Path => "path",
            In::Query => "query",
            In::Header => "header",
        }
    }
}

struct Param {
    name: String,
    at: In,
    required: bool,
    /// Whether the value is a list (`?id=1&id=2`).
    array: bool,
    /// The JSON types the string from the request is read as, in order of preference.
    types: Vec<String>,
    validator: Validator,
}

/// The checks of one operation.
pub struct RequestCheck {
    /// `POST /pets`, as the document names it.
    pub operation: String,
    params: Vec<Param>,
    body: Option<(bool, Validator)>,
}

impl std::fmt::Debug for RequestCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestCheck({})", self.operation)
    }
}

impl PartialEq for RequestCheck {
    fn eq(&self, other: &Self) -> bool {
        self.operation == other.operation
    }
}

/// What a request carried, as the check reads it. Header names lower-cased; path parameters
/// under the route's names (which `path_param_name` derives from the document's).
pub struct RequestParts<'a> {
    pub path: &'a [(String, String)],
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// One broken rule: `body.pet.name` `required`, `query.limit` `maximum`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    pub field: String,
    pub rule: String,
    pub message: String,
}

/// Serves the documents' files to the validator, converted to JSON Schema.
#[derive(Clone)]
struct Files(Arc<BTreeMap<String, Value>>);

impl Retrieve for Files {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let s = uri.as_str();
        let key = s.split('#').next().unwrap_or(s).strip_prefix(BASE);
        let key = key.map(|k| percent_encoding::percent_decode_str(k).decode_utf8_lossy());
        key.and_then(|k| self.0.get(k.as_ref()))
            .cloned()
            .ok_or_else(|| format!("{s} is not a file of the document").into())
    }
}

/// A route parameter name for a document's (`student-id` → `student_id`).
pub fn path_param_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if clean.is_empty() {
        "param".into()
    } else {
        clean
    }
}

/// A JSON pointer segment (`/pets/{id}` → `~1pets~1{id}`).
fn escape(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

struct Builder<'a> {
    docs: &'a Docs,
    files: Files,
}

impl Builder<'_> {
    /// A validator for the schema at `pointer` in `file`, read in that file's context.
    fn validator(&self, file: &str, pointer: &str) -> Result<Validator, OpenApiError> {
        let draft = match self.docs.version {
            Version::OpenApi31 => Draft::Draft202012,
            _ => Draft::Draft4,
        };
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URI_SAFE).to_string();
        let schema = json!({"$ref": format!("{BASE}{}#{}", enc(file), enc(pointer))});
        jsonschema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .with_retriever(self.files.clone())
            .build(&schema)
            .map_err(|e| OpenApiError::BadRef(format!("{file}#{pointer}: {e}")))
    }

    /// Follows `$ref`s from the value at `pointer` in `file` to where it really is.
    fn deref(&self, file: &str, pointer: &str) -> Option<(String, String, &Value)> {
        let (mut file, mut pointer) = (file.to_string(), pointer.to_string());
        for _ in 0..16 {
            let v = self.docs.files.get(&file)?.pointer(&pointer)?;
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                return Some((file, pointer, v));
            };
            let (target, _) = self.docs.resolve(&file, r).ok()?;
            pointer = r.split_once('#').map_or(String::new(), |(_, p)| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            });
            file = target.to_string();
        }
        None
    }
}

impl Builder<'_> {
    /// One path, query or header parameter (cookies and form fields are not checked).
    fn param(&self, file: &str, pointer: &str) -> Result<Option<Param>, OpenApiError> {
        let Some((file, pointer, p)) = self.deref(file, pointer) else {
            return Ok(None);
        };
        let at = match p.get("in").and_then(Value::as_str) {
            Some("path") => In::Path,
            Some("query") => In::Query,
            Some("header") => In::Header,
            _ => return Ok(None),
        };
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            return Ok(None);
        };
        let required = at == In::Path || p.get("required").and_then(Value::as_bool) == Some(true);
        let (validator, schema) = if self.docs.version == Version::Swagger2 {
            // Swagger 2.0 writes the schema keywords on the parameter itself, beside `in`
            // and a boolean `required` that no schema draft accepts.
            let mut schema = p.clone();
            if let Some(o) = schema.as_object_mut() {
                for k in ["name", "in", "required", "description", "collectionFormat"] {
                    o.remove(k);
                }
            }
            let v = jsonschema::options()
                .with_draft(Draft::Draft4)
                .build(&schema)
                .map_err(|e| OpenApiError::BadRef(format!("{file}#{pointer}: {e}")))?;
            (v, schema)
        } else {
            let Some((sfile, sptr, schema)) = self.deref(&file, &format!("{pointer}/schema"))
            else {
                return Ok(None);
            };
            (self.validator(&sfile, &sptr)?, schema.clone())
        };
        let array = type_names(&schema).iter().any(|t| t == "array");
        let types = if array {
            schema.get("items").map(type_names).unwrap_or_default()
        } else {
            type_names(&schema)
        };
        Ok(Some(Param {
            name: name.to_string(),
            at,
            required,
            array,
            types,
            validator,
        }))
    }

    /// The JSON request body's schema and whether a body is required.
    fn body(&self, file: &str, op: &str) -> Result<Option<(bool, Validator)>, OpenApiError> {
        if self.docs.version == Version::Swagger2 {
            let params = self.docs.files[file].pointer(&format!("{op}/parameters"));
            let count = params.and_then(Value::as_array).map_or(0, Vec::len);
            for i in 0..count {
                let Some((pfile, pptr, p)) = self.deref(file, &format!("{op}/parameters/{i}"))
                else {
                    continue;
                };
                if p.get("in").and_then(Value::as_str) == Some("body") {
                    let required = p.get("required").and_then(Value::as_bool) == Some(true);
                    let v = self.validator(&pfile, &format!("{pptr}/schema"))?;
                    return Ok(Some((required, v)));
                }
            }
            return Ok(None);
        }
        let Some((bfile, bptr, body)) = self.deref(file, &format!("{op}/requestBody")) else {
            return Ok(None);
        };
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return Ok(None);
        };
        let Some((ct, _)) = content.iter().find(|(ct, m)| {
            let essence = ct.split(';').next().unwrap_or("").trim();
            (essence == "application/json" || essence.ends_with("+json"))
                && m.get("schema").is_some()
        }) else {
            return Ok(None);
        };
        let required = body.get("required").and_then(Value::as_bool) == Some(true);
        let v = self.validator(&bfile, &format!("{bptr}/content/{}/schema", escape(ct)))?;
        Ok(Some((required, v)))
    }
}

/// The types a schema names (`type: integer`, `type: [integer, "null"]`).
fn type_names(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

impl RequestCheck {
    /// The checks of `method` `path` (as the document writes them).
    pub fn build(docs: &Docs, method: &str, path: &str) -> Result<RequestCheck, OpenApiError> {
        let operation = format!("{} {path}", method.to_ascii_uppercase());
        let files = docs
            .files
            .iter()
            .map(|(k, v)| (k.clone(), json_schema(docs.version, v)))
            .collect();
        let b = Builder {
            docs,
            files: Files(Arc::new(files)),
        };
        let item_ptr = format!("/paths/{}", escape(path));
        let op_ptr = format!("{item_ptr}/{}", method.to_ascii_lowercase());
        let main = docs.main.as_str();
        if docs.main_doc().pointer(&op_ptr).is_none() {
            return Err(OpenApiError::NoOperation(operation));
        }
        let mut params: Vec<Param> = Vec::new();
        // The operation's own parameters override the path item's of the same name and place.
        for base in [&op_ptr, &item_ptr] {
            let count = docs
                .main_doc()
                .pointer(&format!("{base}/parameters"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                let Some(p) = b.param(main, &format!("{base}/parameters/{i}"))? else {
                    continue;
                };
                if !params.iter().any(|q| q.name == p.name && q.at == p.at) {
                    params.push(p);
                }
            }
        }
        let body = b.body(main, &op_ptr)?;
        Ok(RequestCheck {
            operation,
            params,
            body,
        })
    }

    /// Every rule the request breaks; empty when it is valid.
    pub fn check(&self, req: &RequestParts<'_>) -> Vec<Violation> {
        let mut out = Vec::new();
        for p in &self.params {
            let values: Vec<&str> = match p.at {
                In::Path => find(req.path, &path_param_name(&p.name), false),
                In::Query => find(req.query, &p.name, false),
                In::Header => find(req.headers, &p.name, true),
            };
            let field = format!("{}.{}", p.at.name(), p.name);
            if values.is_empty() {
                if p.required {
                    out.push(Violation {
                        field,
                        rule: "required".into(),
                        message: format!("the {} parameter `{}` is missing", p.at.name(), p.name),
                    });
                }
                continue;
            }
            let value = if p.array {
                Value::Array(values.iter().map(|v| typed(v, &p.types)).collect())
            } else {
                typed(values[0], &p.types)
            };
            violations(&p.validator, &value, &field, &mut out);
        }
        if let Some((required, v)) = &self.body {
            match (
                req.body.is_empty(),
                serde_json::from_slice::<Value>(req.body),
            ) {
                (true, _) if *required => out.push(Violation {
                    field: "body".into(),
                    rule: "required".into(),
                    message: "the request body is missing".into(),
                }),
                (true, _) => {}
                (false, Err(e)) => out.push(Violation {
                    field: "body".into(),
                    rule: "json".into(),
                    message: format!("the body is not JSON: {e}"),
                }),
                (false, Ok(body)) => violations(v, &body, "body", &mut out),
            }
        }
        out
    }
}

fn find<'a>(pairs: &'a [(String, String)], name: &str, fold: bool) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| {
            if fold {
                k.eq_ignore_ascii_case(name)
            } else {
                k == name
            }
        })
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A request string as the first JSON type it reads as, else the string itself (which the
/// validator then refuses with the type it wanted).
fn typed(raw: &str, types: &[String]) -> Value {
    for t in types {
        let v = match t.as_str() {
            "integer" => raw.parse::<i64>().ok().map(Value::from),
            "number" => raw.parse::<f64>().ok().map(|n| json!(n)),
            "boolean" => raw.parse::<bool>().ok().map(Value::from),
            "null" if raw.is_empty() => Some(Value::Null),
            _ => None,
        };
        if let Some(v) = v {
            return v;
        }
    }
    Value::String(raw.to_string())
}

fn violations(v: &Validator, value: &Value, root: &str, out: &mut Vec<Violation>) {
    for e in v.iter_errors(value) {
        let mut field = root.to_string();
        for seg in e
            .instance_path()
            .as_str()
            .split('/')
            .filter(|s| !s.is_empty())
        {
            field.push('.');
            field.push_str(&seg.replace("~1", "/").replace("~0", "~"));
        }
        if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
            field.push('.');
            field.push_str(property.as_str().unwrap_or_default());
        }
        out.push(Violation {
            field,
            rule: e.kind().keyword().to_string(),
            message: e.to_string(),
        });
    }
}

#[cfg(test)]
mod tests;
