//! One answer of a route: its status, headers, body and content type, from the route's own
//! keys or from one `[[route.response]]`.
//!
//! Owns the rules an answer must follow: at most one of `json`, `body` and `file`, and no
//! header that could corrupt the response. It must not choose between answers (`Route::choose`
//! does) nor know about methods, paths or faults.

use std::ops::Range;

use toml::Spanned;

use super::body_file::read_body_file;
use super::model::{Entry, ResponseEntry};
use super::templates::{file_template, json_template, template, toml_to_json};
use super::{within, Loader, STATUSES, STATUS_RANGE};
use crate::routes::template::Template;
use crate::routes::{
    header_problem, Body, DynamicBody, HeaderProblem, JsonTemplate, RouteResponse,
};
use crate::source_file::{LoadError, Source};

/// The body-related fields a route and a `[[route.response]]` share.
pub(super) struct BodyFields<'a> {
    span: Range<usize>,
    status: &'a Option<Spanned<u16>>,
    headers: &'a Option<Spanned<toml::Table>>,
    json: &'a Option<Spanned<toml::Value>>,
    body: &'a Option<Spanned<String>>,
    file: &'a Option<Spanned<String>>,
    content_type: &'a Option<Spanned<String>>,
}

impl<'a> BodyFields<'a> {
    /// A route's own answer keys.
    pub(super) fn of_route(entry: &'a Spanned<Entry>) -> Self {
        let e = entry.get_ref();
        BodyFields {
            span: entry.span(),
            status: &e.status,
            headers: &e.headers,
            json: &e.json,
            body: &e.body,
            file: &e.file,
            content_type: &e.content_type,
        }
    }

    /// The keys of one `[[route.response]]`.
    pub(super) fn of_response(r: &'a Spanned<ResponseEntry>) -> Self {
        let re = r.get_ref();
        BodyFields {
            span: r.span(),
            status: &re.status,
            headers: &re.headers,
            json: &re.json,
            body: &re.body,
            file: &re.file,
            content_type: &re.content_type,
        }
    }

    pub(super) fn any(&self) -> bool {
        self.status.is_some()
            || self.headers.is_some()
            || self.json.is_some()
            || self.body.is_some()
            || self.file.is_some()
            || self.content_type.is_some()
    }
}

impl Loader<'_> {
    pub(super) fn response(
        &mut self,
        e: &BodyFields<'_>,
        params: &[String],
    ) -> Result<RouteResponse, LoadError> {
        let src = self.src;
        let status = match e.status {
            None => 200,
            Some(s) => within(src, s, |v| STATUSES.contains(v), STATUS_RANGE)?,
        };
        let headers = headers(src, e, params)?;
        let (mut body, dynamic) = self.body(e, params)?;
        if let Some(ct) = e.content_type {
            check_header(src, "content-type", ct.get_ref(), ct.span())?;
            body.content_type = ct.get_ref().clone();
        }
        Ok(RouteResponse {
            when: Vec::new(),
            status,
            headers,
            body,
            dynamic,
        })
    }

    /// The body from `json`, `body` or `file` (at most one), with its placeholders if any.
    fn body(
        &mut self,
        e: &BodyFields<'_>,
        params: &[String],
    ) -> Result<(Body, Option<DynamicBody>), LoadError> {
        let src = self.src;
        let bodies = [e.json.is_some(), e.body.is_some(), e.file.is_some()];
        if bodies.iter().filter(|b| **b).count() > 1 {
            return Err(src.error_at(
                Some(e.span.clone()),
                "a route has at most one of `json`, `body` and `file`",
                "this route",
                None,
            ));
        }
        let mut dynamic = None;
        let body = if let Some(j) = e.json {
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
        Ok((body, dynamic))
    }
}

/// Header values are strings (integers are written out); each may hold placeholders.
fn headers(
    src: &Source,
    e: &BodyFields<'_>,
    params: &[String],
) -> Result<Vec<(String, Template)>, LoadError> {
    let mut headers = Vec::new();
    let no_headers = toml::Table::new();
    let header_span = e.headers.as_ref().map_or(e.span.clone(), |h| h.span());
    for (name, value) in e.headers.as_ref().map_or(&no_headers, |h| h.get_ref()) {
        let span = header_span.clone();
        // An array is several lines of one name: two `Set-Cookie` lines, say.
        let values: Vec<String> = match value {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Integer(i) => vec![i.to_string()],
            toml::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| not_a_string(src, name, &span))?,
            _ => return Err(not_a_string(src, name, &span)),
        };
        for value in values {
            check_header(src, name, &value, span.clone())?;
            let t = template(src, &span, &value, params)?;
            headers.push((name.clone(), t));
        }
    }
    Ok(headers)
}

fn not_a_string(src: &Source, name: &str, span: &Range<usize>) -> LoadError {
    src.error_at(
        Some(span.clone()),
        &format!("header `{name}` must be a string, or an array of strings for several lines"),
        "in these headers",
        None,
    )
}

/// Refuses what would let a routes file corrupt the response: bad names, CR/LF/NUL in values
/// (response splitting), and headers the server must own.
fn check_header(
    src: &Source,
    name: &str,
    value: &str,
    span: Range<usize>,
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
