//! Reading an express-mode `cors.toml`: the option names as the npm `cors` package spells
//! them, their types, and the lints a reviewer of `cors({...})` would raise.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::value::JsValue;
use super::{ExpressOrigin, ExpressPolicy, JsRegex, OriginMatch, DEFAULT_METHODS};
use crate::browser::is_token;
use crate::source_file::{LoadError, Source};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    #[allow(dead_code)]
    mode: Option<String>,
    origin: Option<Spanned<JsValue>>,
    methods: Option<Spanned<JsValue>>,
    allowed_headers: Option<Spanned<JsValue>>,
    exposed_headers: Option<Spanned<JsValue>>,
    credentials: Option<Spanned<bool>>,
    max_age: Option<Spanned<i64>>,
    preflight_continue: Option<bool>,
    options_success_status: Option<Spanned<i64>>,
}

pub(in crate::policy) fn load(src: &Source) -> Result<(ExpressPolicy, Vec<String>), LoadError> {
    let f: File = src.parse()?;
    let mut warnings = Vec::new();
    let origin = match &f.origin {
        None => ExpressOrigin::Any,
        Some(o) => origin(src, o.get_ref(), o.span())?,
    };
    let credentials = f.credentials.as_ref().is_some_and(|c| *c.get_ref());
    let policy = ExpressPolicy {
        origin,
        methods: match &f.methods {
            None => DEFAULT_METHODS.to_string(),
            Some(m) => joined(src, m, "methods", "a method")?,
        },
        // `''` is falsy to the middleware: it reflects, as if the option were not there; an
        // empty list is truthy and joins to nothing, so nothing is sent.
        allowed_headers: match &f.allowed_headers {
            None => None,
            Some(h) if matches!(h.get_ref(), JsValue::Str(s) if s.is_empty()) => None,
            Some(h) => Some(joined(src, h, "allowedHeaders", "a header name")?),
        },
        exposed_headers: match &f.exposed_headers {
            None => String::new(),
            Some(h) => joined(src, h, "exposedHeaders", "a header name")?,
        },
        credentials,
        max_age: f.max_age.as_ref().map(|m| *m.get_ref()),
        preflight_continue: f.preflight_continue.unwrap_or(false),
        options_success_status: status(src, &f.options_success_status)?,
        options: Vec::new(),
    };
    lint(&policy, f.origin.is_none(), &mut warnings);
    Ok((
        ExpressPolicy {
            options: options_json(&f),
            ..policy
        },
        warnings,
    ))
}

fn origin(src: &Source, v: &JsValue, span: Range<usize>) -> Result<ExpressOrigin, LoadError> {
    Ok(match v {
        JsValue::Bool(false) => ExpressOrigin::Off,
        JsValue::Bool(true) => ExpressOrigin::Reflect,
        JsValue::Str(s) if s == "*" => ExpressOrigin::Any,
        JsValue::Str(s) if s.starts_with('/') => {
            ExpressOrigin::Match(vec![OriginMatch::Pattern(regex(src, s, span)?)])
        }
        JsValue::Str(s) => ExpressOrigin::Fixed(origin_string(src, s, span)?),
        JsValue::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (item, span) in items {
                out.push(if item.starts_with('/') {
                    OriginMatch::Pattern(regex(src, item, span.clone())?)
                } else {
                    OriginMatch::Exact(origin_string(src, item, span.clone())?)
                });
            }
            ExpressOrigin::Match(out)
        }
    })
}

fn origin_string(src: &Source, s: &str, span: Range<usize>) -> Result<String, LoadError> {
    if s.is_empty() {
        return Err(src.error_at(
            Some(span),
            "origin is an empty string",
            "here",
            Some("cors() treats '' as false and does nothing: write origin = false to turn CORS off, or the frontend's origin, e.g. \"http://localhost:8080\"".into()),
        ));
    }
    if s == crate::policy::STATIC_ORIGINS {
        return Err(src.error_at(
            Some(span),
            &format!("\"{s}\" works only in allowed_origins of mode = \"actix-cors\""),
            "here",
            Some(
                "write the frontend's origin as the page sends it, e.g. \"http://localhost:8080\""
                    .into(),
            ),
        ));
    }
    check_line(src, s, span)?;
    Ok(s.to_string())
}

/// `/source/flags` → a compiled pattern with JavaScript's `test` semantics (unanchored).
fn regex(src: &Source, written: &str, span: Range<usize>) -> Result<JsRegex, LoadError> {
    let bad = |message: String, help: &str| {
        src.error_at(Some(span.clone()), &message, "here", Some(help.to_string()))
    };
    let end = written.rfind('/').filter(|&i| i > 0).ok_or_else(|| {
        bad(
            format!("`{written}` starts like a regular expression but has no closing `/`"),
            "write a regular expression as '/^https?:\\/\\/.*\\.localhost(:\\d+)?$/' (single quotes keep the backslashes), or an origin without a leading `/`",
        )
    })?;
    let (body, flags) = (&written[1..end], &written[end + 1..]);
    let mut inline = String::new();
    for f in flags.chars() {
        match f {
            'i' | 'm' | 's' if !inline.contains(f) => inline.push(f),
            'g' | 'y' => {
                return Err(bad(
                    format!("flag `{f}` makes RegExp.test remember where it stopped"),
                    "cors() would then allow an origin only every other time; drop the flag",
                ))
            }
            _ => {
                return Err(bad(
                    format!("unsupported regular expression flag `{f}`"),
                    "the flags the sandbox understands are i, m and s",
                ))
            }
        }
    }
    let mut pattern = String::new();
    if !inline.is_empty() {
        pattern = format!("(?{inline})");
    }
    pattern.push_str(&unescape_slashes(body));
    let compiled = regex_lite::Regex::new(&pattern).map_err(|e| {
        bad(
            format!("this regular expression does not compile: {e}"),
            "the sandbox runs the pattern with a JavaScript-compatible subset (no lookaround or backreferences)",
        )
    })?;
    Ok(JsRegex {
        written: written.to_string(),
        regex: compiled,
    })
}

/// `\/` is how a JavaScript literal writes `/`; every other escape is kept as written.
fn unescape_slashes(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('/') => out.push('/'),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A string as written, or a list joined with `,` as the middleware joins it; list items must
/// be tokens (a method or a header name).
fn joined(
    src: &Source,
    v: &Spanned<JsValue>,
    option: &str,
    what: &str,
) -> Result<String, LoadError> {
    match v.get_ref() {
        JsValue::Str(s) => {
            check_line(src, s, v.span())?;
            Ok(s.clone())
        }
        JsValue::List(items) => {
            for (item, span) in items {
                if !is_token(item) {
                    return Err(src.error_at(
                        Some(span.clone()),
                        &format!("`{item}` is not {what}"),
                        "here",
                        Some(format!("each item of {option} is one name without spaces or commas, e.g. \"Content-Type\"")),
                    ));
                }
            }
            let names: Vec<&str> = items.iter().map(|(s, _)| s.as_str()).collect();
            Ok(names.join(","))
        }
        JsValue::Bool(_) => Err(src.error_at(
            Some(v.span()),
            &format!("{option} is a string or a list of strings"),
            "here",
            Some(format!("e.g. {option} = [\"GET\", \"POST\"]")),
        )),
    }
}

/// A header value is one line: the rule exact mode's values follow too.
use super::super::exact_mode::check_value as check_line;

fn status(src: &Source, s: &Option<Spanned<i64>>) -> Result<u16, LoadError> {
    let Some(s) = s else { return Ok(204) };
    let v = *s.get_ref();
    // A 1xx is an interim answer: sent as the final one, the connection desyncs.
    if !(200..=599).contains(&v) {
        return Err(src.error_at(
            Some(s.span()),
            "optionsSuccessStatus must be between 200 and 599",
            "here",
            Some("cors() uses it as the preflight's status: 204 (the default) or 200 for old browsers".into()),
        ));
    }
    Ok(v as u16)
}

/// Legal options a reviewer would flag; the tutorial fixtures rely on these words.
fn lint(p: &ExpressPolicy, origin_unset: bool, warnings: &mut Vec<String>) {
    if p.credentials && p.origin == ExpressOrigin::Any {
        warnings.push(format!(
            "origin '*'{} with credentials: true sends Access-Control-Allow-Origin: * and Access-Control-Allow-Credentials: true: browsers block every credentialed request it answers; name the frontend's origin instead",
            if origin_unset { " (the cors() default, as origin is not set)" } else { "" }
        ));
    }
    if p.credentials && p.origin == ExpressOrigin::Reflect {
        warnings.push("origin: true with credentials: true reflects any Origin with Access-Control-Allow-Credentials: true: any website your users visit can read these responses with their cookies; list the trusted origins".to_string());
    }
    if let ExpressOrigin::Match(items) = &p.origin {
        for i in items {
            match i {
                OriginMatch::Exact(o) if o == "*" => warnings.push("origin lists '*': in a list it is compared with the Origin like any string, so it matches no browser; write origin = \"*\" on its own".to_string()),
                OriginMatch::Exact(o) if o == "null" => warnings.push("origin lists \"null\": sandboxed iframes and file: pages from any site share that origin".to_string()),
                OriginMatch::Pattern(r) if !anchored(&r.written) => warnings.push(format!(
                    "origin {} is not anchored with ^ and $: it also matches origins that merely contain it (e.g. http://evil.example/?x or a look-alike host)",
                    r.written
                )),
                _ => {}
            }
        }
    }
    if let ExpressOrigin::Fixed(o) = &p.origin {
        if o.ends_with('/') {
            warnings.push(format!("origin \"{o}\" ends with `/`: a browser's Origin never does, so Chromium will refuse the response; drop the slash"));
        }
    }
    if let Some(m) = p.max_age {
        warnings.extend(crate::policy::max_age_warning(&format!("maxAge {m}"), m));
    }
    if !(200..300).contains(&p.options_success_status) {
        warnings.push(format!(
            "optionsSuccessStatus {} is not 2xx: Chromium fails every preflight it answers",
            p.options_success_status
        ));
    }
}

/// Whether a `/…/flags` pattern starts with `^` and ends with `$`.
fn anchored(written: &str) -> bool {
    let body = written
        .rfind('/')
        .filter(|&i| i > 0)
        .map_or("", |end| &written[1..end]);
    body.starts_with('^') && body.ends_with('$')
}

/// The options object as the file wrote it, in the order `cors()` documents them.
fn options_json(f: &File) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::{json, Value};
    let js = |v: &Spanned<JsValue>| match v.get_ref() {
        JsValue::Bool(b) => json!(b),
        JsValue::Str(s) => json!(s),
        JsValue::List(items) => Value::Array(items.iter().map(|(s, _)| json!(s)).collect()),
    };
    let mut out = Vec::new();
    let mut put = |name: &'static str, v: Option<Value>| {
        if let Some(v) = v {
            out.push((name, v));
        }
    };
    put("origin", f.origin.as_ref().map(js));
    put("methods", f.methods.as_ref().map(js));
    put("allowedHeaders", f.allowed_headers.as_ref().map(js));
    put("exposedHeaders", f.exposed_headers.as_ref().map(js));
    put(
        "credentials",
        f.credentials.as_ref().map(|c| json!(c.get_ref())),
    );
    put("maxAge", f.max_age.as_ref().map(|m| json!(m.get_ref())));
    put("preflightContinue", f.preflight_continue.map(|b| json!(b)));
    put(
        "optionsSuccessStatus",
        f.options_success_status
            .as_ref()
            .map(|s| json!(s.get_ref())),
    );
    out
}
