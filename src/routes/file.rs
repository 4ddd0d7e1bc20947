//! The serde shape of a routes file and its validation into [`super::Routes`].

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use super::template::{Expr, Template};
use super::{
    header_problem, normalize_method, resources, Body, Counter, DynamicBody, Fault, Faults,
    HeaderProblem, JsonTemplate, PathPattern, Pick, Response, Route, Routes, Segment, Upstream,
};
use crate::source_file::{LoadError, Source, MAX_FILE_BYTES};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    route: Vec<Spanned<Entry>>,
    defaults: Option<Spanned<FaultEntry>>,
    #[serde(default)]
    resource: Vec<Spanned<ResourceEntry>>,
    upstream: Option<Spanned<String>>,
    cors: Option<Spanned<String>>,
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
    delay_ms: Option<Spanned<toml::Value>>,
    error_rate: Option<Spanned<f64>>,
    error_status: Option<Spanned<u16>>,
    fault: Option<Spanned<String>>,
    slow_body_ms: Option<Spanned<u64>>,
    response: Option<Vec<Spanned<ResponseEntry>>>,
    pick: Option<Spanned<String>>,
    proxy: Option<Spanned<bool>>,
}

/// `[[route.response]]`: one possible answer, with its `when`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseEntry {
    when: Option<Spanned<toml::Table>>,
    status: Option<Spanned<u16>>,
    headers: Option<Spanned<toml::Table>>,
    json: Option<Spanned<toml::Value>>,
    body: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    content_type: Option<Spanned<String>>,
}

/// `[defaults]`: latency and faults for every route, resource and proxied request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultEntry {
    delay_ms: Option<Spanned<toml::Value>>,
    error_rate: Option<Spanned<f64>>,
    error_status: Option<Spanned<u16>>,
    fault: Option<Spanned<String>>,
    slow_body_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceEntry {
    name: Spanned<String>,
    seed: Spanned<String>,
}

/// Long enough to simulate a slow backend; short enough that a typo cannot hang a test run.
const MAX_DELAY_MS: u64 = 60_000;

/// The body-related fields a route and a `[[route.response]]` share.
struct BodyFields<'a> {
    span: Range<usize>,
    status: &'a Option<Spanned<u16>>,
    headers: &'a Option<Spanned<toml::Table>>,
    json: &'a Option<Spanned<toml::Value>>,
    body: &'a Option<Spanned<String>>,
    file: &'a Option<Spanned<String>>,
    content_type: &'a Option<Spanned<String>>,
}

impl BodyFields<'_> {
    fn any(&self) -> bool {
        self.status.is_some()
            || self.headers.is_some()
            || self.json.is_some()
            || self.body.is_some()
            || self.file.is_some()
            || self.content_type.is_some()
    }
}

/// Everything `load` builds up across entries.
struct Loader<'a> {
    src: &'a Source,
    dir: &'a Path,
    body_files: Vec<PathBuf>,
}

pub(super) fn load(src: &Source, file_name: &str, dir: &Path) -> Result<Routes, LoadError> {
    let f: File = src.parse()?;
    let mut ld = Loader {
        src,
        dir,
        body_files: Vec::new(),
    };
    let defaults = match &f.defaults {
        Some(d) => {
            let d = d.get_ref();
            faults(
                src,
                &Faults {
                    error_status: 500,
                    ..Faults::default()
                },
                &d.delay_ms,
                &d.error_rate,
                &d.error_status,
                &d.fault,
                &d.slow_body_ms,
            )?
        }
        None => Faults {
            error_status: 500,
            ..Faults::default()
        },
    };
    let upstream = match &f.upstream {
        None => {
            if let Some(c) = &f.cors {
                return Err(src.error_at(
                    Some(c.span()),
                    "`cors` only applies to an `upstream`",
                    "here",
                    Some("add `upstream = \"http://127.0.0.1:5000\"`".into()),
                ));
            }
            None
        }
        Some(u) => {
            let pass_cors = match f.cors.as_ref().map(|c| (c.get_ref().as_str(), c.span())) {
                None | Some(("sandbox", _)) => false,
                Some(("upstream", _)) => true,
                Some((other, span)) => {
                    return Err(src.error_at(
                        Some(span),
                        &format!("`cors = \"{other}\"`: use \"sandbox\" or \"upstream\""),
                        "here",
                        None,
                    ))
                }
            };
            Some(upstream(src, u, pass_cors)?)
        }
    };
    let mut routes = Vec::with_capacity(f.route.len());
    for entry in &f.route {
        routes.push(ld.route(entry, &defaults, upstream.is_some())?);
    }
    let mut resources = Vec::new();
    for r in &f.resource {
        let spec = ld.resource(r.get_ref())?;
        if resources
            .iter()
            .any(|x: &resources::ResourceSpec| x.name == spec.name)
        {
            return Err(src.error_at(
                Some(r.get_ref().name.span()),
                &format!("resource `{}` is declared twice", spec.name),
                "here",
                None,
            ));
        }
        resources.push(spec);
    }
    Ok(Routes {
        file_name: file_name.to_string(),
        routes,
        body_files: ld.body_files,
        resources,
        upstream,
        defaults,
    })
}

fn upstream(src: &Source, u: &Spanned<String>, pass_cors: bool) -> Result<Upstream, LoadError> {
    let err = |msg: &str| {
        src.error_at(
            Some(u.span()),
            msg,
            "this upstream",
            Some("e.g. upstream = \"http://127.0.0.1:5000\"".into()),
        )
    };
    let url = url::Url::parse(u.get_ref()).map_err(|e| err(&format!("not a URL: {e}")))?;
    if url.scheme() != "http" {
        return Err(err(
            "the upstream is plain http:// (it is your API on this machine)",
        ));
    }
    let host = match url.host() {
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => ip.to_string(),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => format!("[{ip}]"),
        Some(url::Host::Domain(d)) if d == "localhost" || d.ends_with(".localhost") => {
            "127.0.0.1".to_string()
        }
        _ => return Err(err("the upstream must be on this machine (loopback)")),
    };
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(err(
            "the upstream is an origin only: no path, query or user",
        ));
    }
    Ok(Upstream {
        url: url.as_str().trim_end_matches('/').to_string(),
        host,
        port: url.port_or_known_default().unwrap_or(80),
        pass_cors,
    })
}

/// Merges a route's (or `[defaults]`') fault keys over `base`.
fn faults(
    src: &Source,
    base: &Faults,
    delay_ms: &Option<Spanned<toml::Value>>,
    error_rate: &Option<Spanned<f64>>,
    error_status: &Option<Spanned<u16>>,
    fault: &Option<Spanned<String>>,
    slow_body_ms: &Option<Spanned<u64>>,
) -> Result<Faults, LoadError> {
    let mut f = base.clone();
    if let Some(d) = delay_ms {
        let bad = || {
            src.error_at(
                Some(d.span()),
                &format!("delay_ms is at most {MAX_DELAY_MS}: a number, or [min, max] for a random delay"),
                "here",
                None,
            )
        };
        let ms = |v: &toml::Value| {
            v.as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .filter(|i| *i <= MAX_DELAY_MS)
        };
        f.delay_ms = match d.get_ref() {
            toml::Value::Array(a) if a.len() == 2 => match (ms(&a[0]), ms(&a[1])) {
                (Some(lo), Some(hi)) if lo <= hi => (lo, hi),
                _ => return Err(bad()),
            },
            v => {
                let m = ms(v).ok_or_else(bad)?;
                (m, m)
            }
        };
    }
    if let Some(r) = error_rate {
        f.error_rate = within(
            src,
            r,
            |v| (0.0..=1.0).contains(v),
            "error_rate is a probability from 0 to 1, e.g. 0.1",
        )?;
    }
    if let Some(s) = error_status {
        f.error_status = within(src, s, |v| STATUSES.contains(v), STATUS_RANGE)?;
    }
    if let Some(x) = fault {
        f.fault = match x.get_ref().as_str() {
            "close" => Some(Fault::Close),
            "reset" => Some(Fault::Reset),
            "none" => None,
            other => {
                return Err(src.error_at(
                    Some(x.span()),
                    &format!("`fault = \"{other}\"`: use \"close\", \"reset\" or \"none\""),
                    "here",
                    None,
                ))
            }
        };
    }
    if let Some(s) = slow_body_ms {
        f.slow_body_ms = within(
            src,
            s,
            |v| *v <= MAX_DELAY_MS,
            &format!("slow_body_ms is at most {MAX_DELAY_MS}"),
        )?;
    }
    Ok(f)
}

impl Loader<'_> {
    fn route(
        &mut self,
        entry: &Spanned<Entry>,
        defaults: &Faults,
        has_upstream: bool,
    ) -> Result<Route, LoadError> {
        let src = self.src;
        let entry_span = entry.span();
        let e = entry.get_ref();
        let method = match &e.method {
            None => "GET".to_string(),
            Some(m) if m.get_ref() == "*" => "*".to_string(),
            Some(m) => {
                let v = m.get_ref();
                if !crate::browser::is_token(v) {
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
        let params: Vec<String> = path
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::Param(p) => Some(p.clone()),
                Segment::Literal(_) => None,
            })
            .collect();
        let proxy = e.proxy.as_ref().is_some_and(|p| *p.get_ref());
        if proxy && !has_upstream {
            let span = e.proxy.as_ref().map(|p| p.span());
            return Err(src.error_at(
                span,
                "`proxy = true` needs an `upstream` at the top of the file",
                "here",
                Some("add `upstream = \"http://127.0.0.1:5000\"`".into()),
            ));
        }
        let own = BodyFields {
            span: entry_span.clone(),
            status: &e.status,
            headers: &e.headers,
            json: &e.json,
            body: &e.body,
            file: &e.file,
            content_type: &e.content_type,
        };
        let mut responses = Vec::new();
        for r in e.response.iter().flatten() {
            let re = r.get_ref();
            let fields = BodyFields {
                span: r.span(),
                status: &re.status,
                headers: &re.headers,
                json: &re.json,
                body: &re.body,
                file: &re.file,
                content_type: &re.content_type,
            };
            let mut resp = self.response(&fields, &params)?;
            if let Some(w) = &re.when {
                resp.when = when(src, w, &params)?;
            }
            responses.push(resp);
        }
        // The route's own answer is the fallback after its `[[route.response]]`s (or the only
        // answer when there are none).
        if own.any() || responses.is_empty() {
            responses.push(self.response(&own, &params)?);
        }
        let pick = match &e.pick {
            None => Pick::First,
            Some(p) => match p.get_ref().as_str() {
                "first" => Pick::First,
                "sequence" => Pick::Sequence,
                "random" => Pick::Random,
                other => {
                    return Err(src.error_at(
                        Some(p.span()),
                        &format!("`pick = \"{other}\"`: use \"first\", \"sequence\" or \"random\""),
                        "here",
                        None,
                    ))
                }
            },
        };
        let faults = faults(
            src,
            defaults,
            &e.delay_ms,
            &e.error_rate,
            &e.error_status,
            &e.fault,
            &e.slow_body_ms,
        )?;
        Ok(Route {
            method,
            path,
            responses,
            pick,
            faults,
            proxy,
            counter: Counter::default(),
        })
    }

    fn response(&mut self, e: &BodyFields<'_>, params: &[String]) -> Result<Response, LoadError> {
        let src = self.src;
        let entry_span = e.span.clone();
        let status = match e.status {
            None => 200,
            Some(s) => within(src, s, |v| STATUSES.contains(v), STATUS_RANGE)?,
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
            check_header(src, name, &value, span.clone())?;
            let t = template(src, &span, &value, params)?;
            headers.push((name.clone(), t));
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
        let mut dynamic = None;
        let mut body = if let Some(j) = e.json {
            let jt = json_template(src, &j.span(), &toml_to_json(j.get_ref()), params)?;
            if !matches!(jt, JsonTemplate::Literal(_)) {
                dynamic = Some(DynamicBody::Json(jt));
            }
            let json = serde_json::to_vec(&toml_to_json(j.get_ref()))
                .map_err(|err| src.error_at(Some(j.span()), &err.to_string(), "here", None))?;
            Body {
                content_type: "application/json".into(),
                bytes: json.into(),
            }
        } else if let Some(b) = e.body {
            let t = template(src, &b.span(), b.get_ref(), params)?;
            if t.is_dynamic() {
                dynamic = Some(DynamicBody::Text(t));
            }
            Body {
                content_type: "text/plain; charset=utf-8".into(),
                bytes: b.get_ref().clone().into_bytes().into(),
            }
        } else if let Some(fref) = e.file {
            let (path, bytes) = read_body_file(src, self.dir, fref)?;
            dynamic = file_template(&path, &bytes, params)?;
            let ct = mime_guess::from_path(&path)
                .first_or_octet_stream()
                .essence_str()
                .to_string();
            self.body_files.push(path);
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
        if let Some(ct) = e.content_type {
            check_header(src, "content-type", ct.get_ref(), ct.span())?;
            body.content_type = ct.get_ref().clone();
        }
        Ok(Response {
            when: Vec::new(),
            status,
            headers,
            body,
            dynamic,
        })
    }

    fn resource(&mut self, r: &ResourceEntry) -> Result<resources::ResourceSpec, LoadError> {
        let src = self.src;
        let name = r.name.get_ref();
        let valid = !name.is_empty()
            && !name.starts_with("__")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(src.error_at(
                Some(r.name.span()),
                &format!("`{name}` is not a resource name: letters, digits, `-` and `_`"),
                "here",
                Some(format!("it is served at {}NAME", resources::PREFIX)),
            ));
        }
        let (path, bytes) = read_body_file(src, self.dir, &r.seed)?;
        let seed = resources::parse_seed(&bytes).map_err(|e| {
            src.error_at(
                Some(r.seed.span()),
                &format!("`{}`: {e}", r.seed.get_ref()),
                "this seed",
                Some("a seed is a JSON array of objects, each with a unique `id`".into()),
            )
        })?;
        self.body_files.push(path.clone());
        Ok(resources::ResourceSpec {
            name: name.clone(),
            seed_path: path,
            seed: std::sync::Arc::new(seed),
            seed_hash: resources::digest(&bytes),
        })
    }
}

/// Parses a template, pointing a mistake at its line and column in the file: the value's text
/// is looked up inside `span` (exact when the TOML string has no escapes; otherwise the error
/// points at the whole value).
fn template(
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

fn json_template(
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
fn file_template(
    path: &std::path::Path,
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

/// `when = { query.page = "2", headers.x-user = "sana", body.kind = "a" }`: TOML's dotted keys
/// arrive as nested tables, flattened here into conditions.
fn when(
    src: &Source,
    w: &Spanned<toml::Table>,
    params: &[String],
) -> Result<Vec<(Expr, Value)>, LoadError> {
    let err = |msg: String| {
        src.error_at(
            Some(w.span()),
            &msg,
            "in this `when`",
            Some(
                "e.g. when = { query.page = \"2\", headers.x-user = \"sana\", body.kind = \"a\" }"
                    .into(),
            ),
        )
    };
    let mut out = Vec::new();
    fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(inner) => flatten(&key, inner, out),
                other => out.push((key, other.clone())),
            }
        }
    }
    let mut leaves = Vec::new();
    flatten("", w.get_ref(), &mut leaves);
    for (key, value) in leaves {
        let expr = Template::parse(&format!("{{{{{key}}}}}"), params)
            .ok()
            .and_then(|t| t.only_expr().cloned())
            .filter(|e| {
                matches!(
                    e,
                    Expr::Param(_) | Expr::Query(_) | Expr::Header(_) | Expr::Cookie(_) | Expr::Body(_)
                )
            })
            .ok_or_else(|| {
                err(format!(
                    "`when` key `{key}`: use params.NAME, query.NAME, headers.NAME, cookies.NAME or body.PATH"
                ))
            })?;
        if matches!(value, toml::Value::Array(_) | toml::Value::Datetime(_)) {
            return Err(err(format!(
                "`when` key `{key}`: compare with a string, number or boolean"
            )));
        }
        out.push((expr, toml_to_json(&value)));
    }
    Ok(out)
}

/// Refuses what would let a routes file corrupt the response: bad names, CR/LF/NUL in values
/// (response splitting), and headers the server must own.
fn check_header(
    src: &Source,
    name: &str,
    value: &str,
    span: std::ops::Range<usize>,
) -> Result<(), LoadError> {
    let (message, hint) = match header_problem(name, value) {
        None => return Ok(()),
        Some(HeaderProblem::BadName) => (format!("`{name}` is not a valid header name"), None),
        Some(HeaderProblem::Framing) => (
            format!("`{name}` is set by the server itself"),
            Some("remove it: the server frames the body".into()),
        ),
        Some(HeaderProblem::LineBreak) => (
            format!("the value of `{name}` contains CR, LF or NUL"),
            Some("header values are a single line".into()),
        ),
    };
    Err(src.error_at(Some(span), &message, "in these headers", hint))
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

/// The statuses a route may answer with.
const STATUSES: std::ops::RangeInclusive<u16> = 100..=999;
const STATUS_RANGE: &str = "status must be between 100 and 999";

/// A value from the file when `ok` holds for it; otherwise an error at its place saying what
/// is allowed.
fn within<T: Copy>(
    src: &Source,
    v: &Spanned<T>,
    ok: impl Fn(&T) -> bool,
    allowed: &str,
) -> Result<T, LoadError> {
    let x = *v.get_ref();
    if ok(&x) {
        Ok(x)
    } else {
        Err(src.error_at(Some(v.span()), allowed, "here", None))
    }
}

#[cfg(test)]
mod tests;
