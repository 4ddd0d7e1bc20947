//! `mode = "exact"`: the literal status and header lines a broken server sends, so fixtures
//! can reproduce what actix-cors refuses to emit (`*` with credentials, two
//! `Access-Control-Allow-Origin` lines, a 401 or a redirect in answer to a preflight…).
//!
//! Owns the file's shape, its validation (with file/line/column) and request matching. It is
//! pure: it never builds a response; `serve::exact_layer` does that. The header lines are kept
//! in file order with duplicates, because the order and the duplicates are often the bug.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::browser::is_token;
use crate::source_file::{LoadError, Source};
use crate::vocab::{header_problem, HeaderProblem, PathPattern};

/// A validated exact-mode policy: rules in file order, first match wins.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactPolicy {
    pub rules: Vec<ExactRule>,
}

/// Which requests a rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    Preflight,
    /// Anything else.
    Actual,
    Any,
}

/// How a rule matches the request path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathMatch {
    /// `*` alone.
    Any,
    /// A routes-style pattern with `{name}` segments, or a literal path.
    Pattern(PathPattern),
    /// A glob where `*` matches any run of characters, slashes included.
    Glob(String),
}

impl PathMatch {
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Any => true,
            PathMatch::Pattern(p) => p.matches(path).is_some(),
            PathMatch::Glob(g) => glob_matches(g, path),
        }
    }
}

/// One `[[rule]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactRule {
    pub request: RequestKind,
    pub path: PathMatch,
    /// For a preflight this is compared with `Access-Control-Request-Method`.
    pub method: Option<String>,
    /// Compared byte for byte with the request's `Origin`.
    pub origin: Option<String>,
    /// The status of a preflight answered by this rule (default 204).
    pub status: u16,
    /// Header lines in order; `{origin}` in a value stands for the request's `Origin`.
    pub headers: Vec<(String, String)>,
    /// Answer with a redirect to this location instead (status 301, 302, 307 or 308).
    pub redirect: Option<String>,
    /// `false` mimics nginx `add_header` without `always`: the lines are only added to
    /// 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 responses.
    pub always: bool,
    /// Body of a preflight answered by this rule (e.g. an auth layer's error text).
    pub body: Option<String>,
}

impl ExactRule {
    /// Whether this rule answers a request. `method` is the method being asked about (the
    /// preflight's `Access-Control-Request-Method`, else the request's own).
    pub fn matches(&self, preflight: bool, method: &str, path: &str, origin: Option<&str>) -> bool {
        let kind_ok = match self.request {
            RequestKind::Any => true,
            RequestKind::Preflight => preflight,
            RequestKind::Actual => !preflight,
        };
        kind_ok
            && self.method.as_deref().is_none_or(|m| m == method)
            && self.origin.as_deref().is_none_or(|o| Some(o) == origin)
            && self.path.matches(path)
    }
}

impl ExactPolicy {
    /// The first rule that answers the request.
    pub fn find(
        &self,
        preflight: bool,
        method: &str,
        path: &str,
        origin: Option<&str>,
    ) -> Option<&ExactRule> {
        self.rules
            .iter()
            .find(|r| r.matches(preflight, method, path, origin))
    }

    /// A short description of what differs, for the reload line.
    pub fn describe_change(&self, other: &Self) -> String {
        if self.rules.len() != other.rules.len() {
            return format!("rules: {} → {}", self.rules.len(), other.rules.len());
        }
        let changed: Vec<String> = self
            .rules
            .iter()
            .zip(&other.rules)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| format!("rule {}", i + 1))
            .collect();
        changed.join(", ")
    }
}

/// Statuses nginx's `add_header` applies to when `always` is not given.
pub const NGINX_ADD_HEADER_STATUSES: &[u16] = &[200, 201, 204, 206, 301, 302, 303, 304, 307, 308];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    mode: Option<String>,
    #[serde(default)]
    rule: Vec<Spanned<RuleEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    request: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    method: Option<Spanned<String>>,
    origin: Option<Spanned<String>>,
    status: Option<Spanned<i64>>,
    #[serde(default)]
    headers: Vec<Spanned<String>>,
    redirect: Option<Spanned<String>>,
    always: Option<bool>,
    body: Option<Spanned<String>>,
}

const KINDS: &[&str] = &["preflight", "actual", "any"];

pub(super) fn load(src: &Source) -> Result<(ExactPolicy, Vec<String>), LoadError> {
    let f: File = src.parse()?;
    let mut warnings = Vec::new();
    if f.rule.is_empty() {
        warnings.push(
            "no [[rule]]: preflights reach the routes and no response carries CORS headers"
                .to_string(),
        );
    }
    let mut rules = Vec::with_capacity(f.rule.len());
    for (i, entry) in f.rule.into_iter().enumerate() {
        let n = i + 1;
        let span = entry.span();
        let rule = load_rule(src, entry.into_inner(), span)?;
        lint(&rule, n, &mut warnings);
        rules.push(rule);
    }
    Ok((ExactPolicy { rules }, warnings))
}

fn load_rule(src: &Source, e: RuleEntry, span: Range<usize>) -> Result<ExactRule, LoadError> {
    let request = request_kind(src, &e.request)?;
    let path = match &e.path {
        None => PathMatch::Any,
        Some(p) => parse_path(p.get_ref())
            .map_err(|msg| src.error_at(Some(p.span()), &msg, "this path", None))?,
    };
    let method = method(src, &e.method)?;
    let origin = match &e.origin {
        None => None,
        Some(o) => {
            check_value(src, o.get_ref(), o.span())?;
            if o.get_ref() == super::STATIC_ORIGINS {
                return Err(src.error_at(
                    Some(o.span()),
                    &format!("\"{}\" works only in allowed_origins of mode = \"actix-cors\"", super::STATIC_ORIGINS),
                    "here",
                    Some("an exact rule matches one Origin exactly: write that origin, or leave `origin` out and send `Access-Control-Allow-Origin: {origin}`".into()),
                ));
            }
            Some(o.get_ref().clone())
        }
    };
    let redirect = redirect(src, &e.redirect)?;
    let status = status(src, &e.status, request, redirect.is_some())?;
    if let (Some(b), RequestKind::Actual) = (&e.body, request) {
        return Err(src.error_at(
            Some(b.span()),
            "`body` does not apply to actual requests",
            "here",
            Some("an actual request's body comes from its route in the routes file".into()),
        ));
    }
    let mut headers = Vec::with_capacity(e.headers.len());
    for line in &e.headers {
        headers.push(parse_header_line(src, line.get_ref(), line.span())?);
    }
    let _ = span;
    Ok(ExactRule {
        request,
        path,
        method,
        origin,
        status,
        headers,
        redirect,
        always: e.always.unwrap_or(true),
        body: e.body.map(|b| b.into_inner()),
    })
}

fn request_kind(src: &Source, r: &Option<Spanned<String>>) -> Result<RequestKind, LoadError> {
    Ok(match r {
        None => RequestKind::Any,
        Some(r) => match r.get_ref().as_str() {
            "preflight" => RequestKind::Preflight,
            "actual" => RequestKind::Actual,
            "any" => RequestKind::Any,
            other => {
                let help = match crate::source_file::did_you_mean(other, KINDS) {
                    Some(b) => format!("did you mean `{b}`?"),
                    None => "one of: preflight, actual, any".into(),
                };
                return Err(src.error_at(
                    Some(r.span()),
                    &format!("unknown request kind `{other}`"),
                    "here",
                    Some(help),
                ));
            }
        },
    })
}

/// `None` matches any method (`*` or no `method`).
fn method(src: &Source, m: &Option<Spanned<String>>) -> Result<Option<String>, LoadError> {
    Ok(match m {
        None => None,
        Some(m) if m.get_ref() == "*" => None,
        Some(m) => {
            if !is_token(m.get_ref()) {
                return Err(src.error_at(
                    Some(m.span()),
                    &format!("`{}` is not a valid method", m.get_ref()),
                    "here",
                    Some("use e.g. \"PUT\", or leave `method` out to match any".into()),
                ));
            }
            Some(crate::browser::normalize_method(m.get_ref()))
        }
    })
}

fn redirect(src: &Source, r: &Option<Spanned<String>>) -> Result<Option<String>, LoadError> {
    let Some(r) = r else { return Ok(None) };
    if r.get_ref().trim().is_empty() {
        return Err(src.error_at(
            Some(r.span()),
            "redirect needs a location",
            "here",
            Some("e.g. redirect = \"/api/payment/\" or \"https://lahore-api.localhost:3000/api/payment\"".into()),
        ));
    }
    check_value(src, r.get_ref(), r.span())?;
    Ok(Some(r.get_ref().clone()))
}

/// A preflight's (or a redirect's) status: 204 by default, 301 for a redirect.
fn status(
    src: &Source,
    s: &Option<Spanned<i64>>,
    request: RequestKind,
    redirect: bool,
) -> Result<u16, LoadError> {
    let Some(s) = s else {
        return Ok(if redirect { 301 } else { 204 });
    };
    let v = *s.get_ref();
    // A 1xx is an interim answer: sent as the final one, the client reads what follows as
    // a second response and the connection desyncs.
    if !(200..=599).contains(&v) {
        return Err(src.error_at(
            Some(s.span()),
            "status must be between 200 and 599: a 1xx is an interim answer, never a final one",
            "here",
            None,
        ));
    }
    if request == RequestKind::Actual && !redirect {
        return Err(src.error_at(
            Some(s.span()),
            "`status` does not apply to actual requests",
            "here",
            Some("an actual request's status comes from its route in the routes file; `status` sets a preflight's status (or a redirect's)".into()),
        ));
    }
    if redirect && !matches!(v, 301 | 302 | 307 | 308) {
        return Err(src.error_at(
            Some(s.span()),
            "a redirect's status is 301, 302, 307 or 308",
            "here",
            None,
        ));
    }
    Ok(v as u16)
}

/// `Name: value` → (name, trimmed value), refusing what would corrupt the response.
fn parse_header_line(
    src: &Source,
    line: &str,
    span: Range<usize>,
) -> Result<(String, String), LoadError> {
    let Some((name, value)) = line.split_once(':') else {
        return Err(src.error_at(
            Some(span),
            &format!("`{line}` is not a header line"),
            "here",
            Some("write \"Name: value\", e.g. \"Access-Control-Allow-Origin: {origin}\"".into()),
        ));
    };
    let bad = |message: String, hint: &str| {
        Err(src.error_at(Some(span.clone()), &message, "here", Some(hint.into())))
    };
    match header_problem(name, value) {
        None => {}
        Some(HeaderProblem::BadName) => {
            return bad(
                format!("`{name}` is not a valid header name"),
                "a header name is letters, digits and -, with no spaces before the colon",
            )
        }
        Some(HeaderProblem::Framing) => {
            return bad(
                format!("`{name}` is owned by the server"),
                "framing headers (Content-Length, Transfer-Encoding, Connection, …) are set by the server; a policy setting them would corrupt the response",
            )
        }
        Some(HeaderProblem::LineBreak) => {
            return bad(
                "the value contains CR, LF or NUL".into(),
                "a header value is a single line",
            )
        }
    }
    let value = value.trim_matches([' ', '\t']);
    let rest = value.replace("{origin}", "");
    if rest.contains('{') {
        return Err(src.error_at(
            Some(span),
            "unknown placeholder in a header value",
            "here",
            Some("the only placeholder is {origin}, the request's Origin".into()),
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

pub(super) fn check_value(src: &Source, v: &str, span: Range<usize>) -> Result<(), LoadError> {
    if v.contains(['\r', '\n', '\0']) {
        return Err(src.error_at(
            Some(span),
            "the value contains CR, LF or NUL",
            "here",
            Some("a header value is a single line".into()),
        ));
    }
    Ok(())
}

fn parse_path(text: &str) -> Result<PathMatch, String> {
    if text == "*" {
        return Ok(PathMatch::Any);
    }
    if text.contains('*') {
        if text.contains(['{', '}']) {
            return Err(
                "a path is either a glob with `*` or a pattern with `{name}`, not both".into(),
            );
        }
        if !text.starts_with('/') {
            return Err(format!("a path starts with `/`, e.g. `/{text}`"));
        }
        return Ok(PathMatch::Glob(text.to_string()));
    }
    PathPattern::parse(text).map(PathMatch::Pattern)
}

/// `*` matches any run of characters (slashes too); everything else is literal.
fn glob_matches(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(x) => x,
        None => return text.is_empty(),
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Legal but dangerous or surprising rules; fixtures rely on these words being said.
fn lint(rule: &ExactRule, n: usize, warnings: &mut Vec<String>) {
    let values = |name: &str| -> Vec<&str> {
        rule.headers
            .iter()
            .filter(|(h, _)| h.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let acao = values("access-control-allow-origin");
    let credentials = values("access-control-allow-credentials").contains(&"true");
    if credentials && rule.origin.is_none() && acao.contains(&"{origin}") {
        warnings.push(format!(
            "rule {n} reflects any Origin with Access-Control-Allow-Credentials: true: any website your users visit can read these responses with their cookies; match `origin` or send a fixed list of trusted origins"
        ));
    }
    if credentials && acao.contains(&"*") {
        warnings.push(format!(
            "rule {n} sends Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true: browsers block every credentialed request it answers"
        ));
    }
    if acao.len() > 1 {
        warnings.push(format!(
            "rule {n} sends Access-Control-Allow-Origin {} times; browsers refuse more than one value",
            acao.len()
        ));
    }
    for v in values("access-control-max-age") {
        if let Ok(m) = v.trim().parse::<i64>() {
            let what = format!("rule {n}: Access-Control-Max-Age: {v}");
            warnings.extend(super::max_age_warning(&what, m));
        }
    }
}

#[cfg(test)]
mod tests;
