//! The serde shape of a routes file and its validation into [`super::Routes`].

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{normalize_method, Body, PathPattern, Route, Routes, FRAMING_HEADERS};
use crate::source_file::{LoadError, Source, MAX_FILE_BYTES};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    route: Vec<Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    method: Option<Spanned<String>>,
    path: Spanned<String>,
    status: Option<Spanned<u16>>,
    headers: Option<Spanned<toml::Table>>,
    json: Option<Spanned<toml::Value>>,
    body: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    content_type: Option<Spanned<String>>,
    delay_ms: Option<Spanned<u64>>,
}

/// Long enough to simulate a slow backend; short enough that a typo cannot hang a test run.
const MAX_DELAY_MS: u64 = 60_000;

pub(super) fn load(src: &Source, file_name: &str, dir: &Path) -> Result<Routes, LoadError> {
    let f: File = src.parse()?;
    let mut routes = Vec::with_capacity(f.route.len());
    let mut body_files = Vec::new();
    for entry in f.route {
        let entry_span = entry.span();
        let e = entry.into_inner();
        let method = match &e.method {
            None => "GET".to_string(),
            Some(m) if m.get_ref() == "*" => "*".to_string(),
            Some(m) => {
                let v = m.get_ref();
                if v.is_empty()
                    || !v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
                {
                    return Err(src.error_at(
                        Some(m.span()),
                        &format!("`{v}` is not a valid method"),
                        "here",
                        Some("use e.g. \"GET\", \"PUT\" or \"*\" for any".into()),
                    ));
                }
                normalize_method(v)
            }
        };
        let path = PathPattern::parse(e.path.get_ref())
            .map_err(|msg| src.error_at(Some(e.path.span()), &msg, "this path", None))?;
        let status = match &e.status {
            None => 200,
            Some(s) => {
                let v = *s.get_ref();
                if !(100..=999).contains(&v) {
                    return Err(src.error_at(
                        Some(s.span()),
                        "status must be between 100 and 999",
                        "here",
                        None,
                    ));
                }
                v
            }
        };
        let mut headers = Vec::new();
        let no_headers = toml::Table::new();
        let header_span = e.headers.as_ref().map_or(entry_span.clone(), |h| h.span());
        for (name, value) in e.headers.as_ref().map_or(&no_headers, |h| h.get_ref()) {
            let span = header_span.clone();
            let value = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                _ => {
                    return Err(src.error_at(
                        Some(span),
                        &format!("header `{name}` must be a string"),
                        "in these headers",
                        None,
                    ))
                }
            };
            check_header(src, name, &value, span)?;
            headers.push((name.clone(), value));
        }
        let bodies = [e.json.is_some(), e.body.is_some(), e.file.is_some()];
        if bodies.iter().filter(|b| **b).count() > 1 {
            return Err(src.error_at(
                Some(entry_span),
                "a route has at most one of `json`, `body` and `file`",
                "this route",
                None,
            ));
        }
        let mut body = if let Some(j) = &e.json {
            let json = serde_json::to_vec(&toml_to_json(j.get_ref()))
                .map_err(|err| src.error_at(Some(j.span()), &err.to_string(), "here", None))?;
            Body {
                content_type: "application/json".into(),
                bytes: json.into(),
            }
        } else if let Some(b) = &e.body {
            Body {
                content_type: "text/plain; charset=utf-8".into(),
                bytes: b.get_ref().clone().into_bytes().into(),
            }
        } else if let Some(fref) = &e.file {
            let (path, bytes) = read_body_file(src, dir, fref)?;
            let ct = mime_guess::from_path(&path)
                .first_or_octet_stream()
                .essence_str()
                .to_string();
            body_files.push(path);
            Body {
                content_type: ct,
                bytes: bytes.into(),
            }
        } else {
            Body {
                content_type: "text/plain; charset=utf-8".into(),
                bytes: bytes::Bytes::new(),
            }
        };
        if let Some(ct) = &e.content_type {
            check_header(src, "content-type", ct.get_ref(), ct.span())?;
            body.content_type = ct.get_ref().clone();
        }
        let delay_ms = match &e.delay_ms {
            None => 0,
            Some(d) if *d.get_ref() > MAX_DELAY_MS => {
                return Err(src.error_at(
                    Some(d.span()),
                    &format!("delay_ms is at most {MAX_DELAY_MS}"),
                    "here",
                    None,
                ))
            }
            Some(d) => *d.get_ref(),
        };
        routes.push(Route {
            method,
            path,
            status,
            headers,
            body,
            delay_ms,
        });
    }
    Ok(Routes {
        file_name: file_name.to_string(),
        routes,
        body_files,
    })
}

/// Refuses what would let a routes file corrupt the response: bad names, CR/LF/NUL in values
/// (response splitting), and headers the server must own.
fn check_header(
    src: &Source,
    name: &str,
    value: &str,
    span: std::ops::Range<usize>,
) -> Result<(), LoadError> {
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid_name {
        return Err(src.error_at(
            Some(span),
            &format!("`{name}` is not a valid header name"),
            "in these headers",
            None,
        ));
    }
    if FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(src.error_at(
            Some(span),
            &format!("`{name}` is set by the server itself"),
            "in these headers",
            Some("remove it: the server frames the body".into()),
        ));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(src.error_at(
            Some(span),
            &format!("the value of `{name}` contains CR, LF or NUL"),
            "in these headers",
            Some("header values are a single line".into()),
        ));
    }
    Ok(())
}

/// Resolves `file = …` inside the routes file's folder: symlinks and `..` may not escape it.
fn read_body_file(
    src: &Source,
    dir: &Path,
    fref: &Spanned<String>,
) -> Result<(std::path::PathBuf, Vec<u8>), LoadError> {
    let rel = fref.get_ref();
    let err = |msg: String| {
        src.error_at(
            Some(fref.span()),
            &msg,
            "this file",
            Some("body files live in the routes file's folder or below it".into()),
        )
    };
    let base = dir
        .canonicalize()
        .map_err(|e| err(format!("cannot resolve {}: {e}", dir.display())))?;
    let full = base
        .join(rel)
        .canonicalize()
        .map_err(|e| err(format!("`{rel}`: {e}")))?;
    if !full.starts_with(&base) {
        return Err(err(format!("`{rel}` is outside {}", base.display())));
    }
    let meta = std::fs::metadata(&full).map_err(|e| err(format!("`{rel}`: {e}")))?;
    if !meta.is_file() {
        return Err(err(format!("`{rel}` is not a regular file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(format!(
            "`{rel}` is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let bytes = std::fs::read(&full).map_err(|e| err(format!("`{rel}`: {e}")))?;
    Ok((full, bytes))
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
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
