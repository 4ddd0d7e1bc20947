//! `sandbox up --record`: an upstream's answer to an exchange not seen before (method, path,
//! status) becomes a route in the recorded-routes file beside the routes file
//! (`api.recorded.toml`), its body a file under `recorded/`. The loader merges that file after
//! the routes file and the watcher reloads it, so the next request is answered from the
//! recording, and replay needs no upstream. Secrets never land on disk: `Set-Cookie` values
//! and credential headers are replaced, and JSON fields named like secrets are masked.

use std::path::Path;

use actix_web::body::{self, BoxBody};
use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::ApiCtx;
use crate::config::FileRef;
use crate::journal::{secret_name, Redactor};
use crate::source_file::write_atomically;
use crate::state::load::recorded_routes_path;

/// Marks a response the proxy made itself (the upstream failed): nothing to record.
#[derive(Debug, Clone, Copy)]
pub struct ProxyFailed;

/// What replaces a secret.
const REDACTED: &str = "<redacted by sandbox up --record>";

/// The response, unchanged, after recording it when recording is on and it is new.
pub async fn keep(res: HttpResponse, req: &HttpRequest, ctx: &ApiCtx) -> HttpResponse {
    let api = &ctx.state.apis[ctx.index];
    if !api.recorder.is_on() || res.extensions().get::<ProxyFailed>().is_some() {
        return res;
    }
    let (_, routes) = ctx.state.api_files(ctx.index);
    let FileRef::Path(routes_file) = routes else {
        return res;
    };
    let (head, body) = res.into_parts();
    let Ok(bytes) = body::to_bytes(body).await else {
        return head.set_body(BoxBody::new(()));
    };
    let exchange = Exchange {
        method: req.method().as_str(),
        path: req.path(),
        status: head.status().as_u16(),
        headers: head.headers(),
        body: &bytes,
    };
    let redactor = ctx.state.journal.redactor();
    match record(&routes_file, &exchange, &api.recorder.writing, redactor) {
        Ok(Some((route, file))) => ctx.state.log.recorded(&api.name, &route, &file),
        Ok(None) => {}
        Err(why) => ctx.state.log.warning(&format!(
            "{}: could not record {} {}: {why}",
            api.name, exchange.method, exchange.path
        )),
    }
    head.set_body(BoxBody::new(bytes))
}

/// One proxied exchange as the upstream answered it.
struct Exchange<'a> {
    method: &'a str,
    path: &'a str,
    status: u16,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl Exchange<'_> {
    /// What makes an exchange new: method, path and status.
    fn key(&self) -> String {
        format!("{} {} {}", self.method, self.path, self.status)
    }
}

/// Appends `ex` as a route to the recorded file of `routes_file` unless recorded already;
/// `Some((route, file))` when it did.
fn record(
    routes_file: &Path,
    ex: &Exchange,
    lock: &std::sync::Mutex<()>,
    redactor: &Redactor,
) -> Result<Option<(String, String)>, String> {
    if ex.path.contains(['{', '}']) {
        return Err("its path holds braces, which a route pattern reads as parameters".into());
    }
    let _held = lock
        .lock()
        .map_err(|_| "the recorder's lock is poisoned".to_string())?;
    let recorded = recorded_routes_path(routes_file);
    let before = match std::fs::read_to_string(&recorded) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => header_comment(),
        Err(e) => return Err(format!("{}: {e}", recorded.display())),
    };
    let marker = format!("# recorded: {}\n", ex.key());
    if before.contains(&marker) {
        return Ok(None);
    }
    let dir = recorded.parent().unwrap_or(Path::new("."));
    let content_type = ex
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body_file = if ex.body.is_empty() {
        None
    } else {
        let rel = body_file_name(ex, content_type.as_deref());
        let bytes = redact_body(ex.body, content_type.as_deref());
        write_new(&dir.join(&rel), &bytes)?;
        Some(rel)
    };
    let mut text = before;
    text.push_str(&route_toml(
        ex,
        &marker,
        content_type.as_deref(),
        body_file.as_deref(),
        redactor,
    ));
    write_new(&recorded, text.as_bytes())?;
    let file = recorded
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(Some((ex.key(), file)))
}

fn header_comment() -> String {
    "# Routes recorded by `sandbox up --record` from the upstream's answers, merged after the\n\
     # routes file: its own routes answer first. Edit or delete freely; secrets were redacted.\n"
        .to_owned()
}

/// `recorded/GET_api_users_42_200.json`: readable, and one file per recorded key.
fn body_file_name(ex: &Exchange, content_type: Option<&str>) -> String {
    let slug: String = ex
        .path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let slug = if slug.is_empty() {
        "root".to_owned()
    } else {
        slug
    };
    let ext = match content_type.unwrap_or("") {
        t if t.contains("json") => "json",
        t if t.starts_with("text/html") => "html",
        t if t.starts_with("text/") => "txt",
        _ => "bin",
    };
    format!("recorded/{}_{slug}_{}.{ext}", ex.method, ex.status)
}

/// Headers a recorded route replays: not the framing or hop-by-hop ones (the sandbox frames
/// its own answer), not `Access-Control-*` (the sandbox's policy answers CORS), not
/// `Content-Type` (a field of its own), and secrets replaced.
fn replayed_headers(headers: &HeaderMap, redactor: &Redactor) -> Vec<(String, String)> {
    const SKIP: [&str; 13] = [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-type",
        "te",
        "trailer",
        "upgrade",
        "date",
        "server",
        "via",
        "proxy-authenticate",
        "content-encoding",
    ];
    let mut out = Vec::new();
    for (n, v) in headers {
        let name = n.as_str();
        if SKIP.contains(&name) || name.starts_with("access-control-") {
            continue;
        }
        let Ok(value) = v.to_str() else { continue };
        if value.contains("{{") {
            // A template marker in a recorded value would be rendered, not replayed.
            continue;
        }
        // The journal's rule for credential headers (a `Set-Cookie` keeps its name and
        // attributes), then the shared rule for names that look like secrets.
        let value = match redactor.redact(name, value.as_bytes()) {
            Some(hidden) => hidden,
            None if secret_name(name) => REDACTED.to_owned(),
            None => value.to_owned(),
        };
        out.push((name.to_owned(), value));
    }
    out
}

/// The body as recorded: JSON fields named like secrets masked, anything else as it came.
fn redact_body(body: &[u8], content_type: Option<&str>) -> Vec<u8> {
    if !content_type.is_some_and(|t| t.contains("json")) {
        return body.to_vec();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            mask(&mut v);
            serde_json::to_vec_pretty(&v).unwrap_or_else(|_| body.to_vec())
        }
        Err(_) => body.to_vec(),
    }
}

fn mask(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if secret_name(k) && (x.is_string() || x.is_number()) {
                    *x = Value::String(REDACTED.to_owned());
                } else {
                    mask(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask),
        _ => {}
    }
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The `[[route]]` for `ex`, after its marker line.
fn route_toml(
    ex: &Exchange,
    marker: &str,
    content_type: Option<&str>,
    file: Option<&str>,
    redactor: &Redactor,
) -> String {
    let mut out = format!(
        "\n{marker}[[route]]\nmethod = {}\npath = {}\nstatus = {}\n",
        q(ex.method),
        q(ex.path),
        ex.status
    );
    if let Some(t) = content_type {
        out.push_str(&format!("content_type = {}\n", q(t)));
    }
    let headers = replayed_headers(ex.headers, redactor);
    if !headers.is_empty() {
        // Several lines of one name stay several lines (an array).
        let mut names: Vec<&str> = Vec::new();
        for (n, _) in &headers {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
        let parts: Vec<String> = names
            .iter()
            .map(|n| {
                let values: Vec<String> = headers
                    .iter()
                    .filter(|(m, _)| m == n)
                    .map(|(_, v)| q(v))
                    .collect();
                match values.as_slice() {
                    [one] => format!("{} = {one}", q(n)),
                    many => format!("{} = [{}]", q(n), many.join(", ")),
                }
            })
            .collect();
        out.push_str(&format!("headers = {{ {} }}\n", parts.join(", ")));
    }
    match file {
        Some(f) => out.push_str(&format!("file = {}\n", q(f))),
        None => out.push_str("body = \"\"\n"),
    }
    out
}

/// Writes one recorded file whole (its folder made first), as every file the sandbox writes.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    write_atomically(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_route_replays_status_type_and_headers_without_secrets_or_cors() {
        let h = headers(&[
            ("content-type", "application/json"),
            ("x-total-count", "3"),
            ("set-cookie", "sid=s3cr3t; Path=/; HttpOnly"),
            ("set-cookie", "theme=dark"),
            ("access-control-allow-origin", "*"),
            ("content-length", "12"),
        ]);
        let ex = Exchange {
            method: "GET",
            path: "/api/users/42",
            status: 200,
            headers: &h,
            body: b"{}",
        };
        let text = route_toml(
            &ex,
            "# recorded: GET /api/users/42 200\n",
            Some("application/json"),
            Some("recorded/x.json"),
            &Redactor::new([7; 32]),
        );
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(!text.contains("access-control"), "{text}");
        assert!(!text.contains("content-length"), "{text}");
        assert!(text.contains("\"x-total-count\" = \"3\""), "{text}");
        assert!(text.contains("\"set-cookie\" = ["), "{text}");
        let table: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(table["route"][0]["status"].as_integer(), Some(200));
        assert_eq!(
            body_file_name(&ex, Some("application/json")),
            "recorded/GET_api_users_42_200.json"
        );
    }

    #[test]
    fn json_fields_named_like_secrets_are_masked_at_any_depth() {
        let body = br#"{"user": {"name": "Ahmad", "access_token": "abc", "Password": 12}, "items": [{"api-key": "k"}]}"#;
        let out = String::from_utf8(redact_body(body, Some("application/json"))).unwrap();
        assert!(out.contains("Ahmad"));
        for secret in ["\"abc\"", "12", "\"k\""] {
            assert!(!out.contains(secret), "{out}");
        }
        assert_eq!(redact_body(b"token=abc", Some("text/plain")), b"token=abc");
    }
}
