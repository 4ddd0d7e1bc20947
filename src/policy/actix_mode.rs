//! `mode = "actix-cors"`: fields that mirror the actix-cors builder, checked the way a browser
//! will judge what they produce.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::list::{AnyOr, SpannedList};
use crate::browser::{is_cors_safelisted_method, is_forbidden_method, is_token, normalize_method};
use crate::source_file::{LoadError, Source};

/// A validated actix-cors policy. Lists keep the user's spelling and order.
#[derive(Debug, Clone, PartialEq)]
pub struct ActixCorsPolicy {
    pub allowed_origins: AnyOr<String>,
    pub allowed_methods: AnyOr<String>,
    pub allowed_headers: AnyOr<String>,
    pub expose_headers: AnyOr<String>,
    pub supports_credentials: bool,
    pub max_age: Option<u32>,
    pub send_wildcard: bool,
    pub vary: bool,
    pub block_on_origin_mismatch: bool,
    pub preflight: bool,
}

impl ActixCorsPolicy {
    /// Why actix-cors refuses a request under this policy, as a change to `file`; `None` when
    /// it does not. actix-cors answers a refused preflight with a bare 400, which the browser
    /// reports as a missing Access-Control-Allow-Origin even when the origin is allowed and a
    /// header or method is the real cause, so the fix has to come from the policy itself.
    pub fn refusal(
        &self,
        file: &str,
        origin: &str,
        preflight: Option<(&str, &[String])>,
    ) -> Option<String> {
        if let AnyOr::List(list) = &self.allowed_origins {
            if !list.iter().any(|o| o == origin) {
                return Some(format!("add \"{origin}\" to allowed_origins in {file}"));
            }
        }
        let (method, headers) = preflight?;
        if !self.preflight {
            return Some(format!(
                "set preflight = true in {file}: OPTIONS requests now go to the routes"
            ));
        }
        if let AnyOr::List(list) = &self.allowed_methods {
            if !list.iter().any(|m| m.eq_ignore_ascii_case(method)) {
                return Some(format!("add \"{method}\" to allowed_methods in {file}"));
            }
        }
        if let AnyOr::List(list) = &self.allowed_headers {
            let missing: Vec<String> = headers
                .iter()
                .filter(|h| !list.iter().any(|a| a.eq_ignore_ascii_case(h)))
                .map(|h| format!("\"{h}\""))
                .collect();
            if !missing.is_empty() {
                return Some(format!(
                    "add {} to allowed_headers in {file}",
                    missing.join(", ")
                ));
            }
        }
        None
    }

    /// Names of the fields that differ, in file order.
    pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |name, differs: bool| {
            if differs {
                out.push(name);
            }
        };
        check(
            "allowed_origins",
            self.allowed_origins != other.allowed_origins,
        );
        check(
            "allowed_methods",
            self.allowed_methods != other.allowed_methods,
        );
        check(
            "allowed_headers",
            self.allowed_headers != other.allowed_headers,
        );
        check(
            "expose_headers",
            self.expose_headers != other.expose_headers,
        );
        check(
            "supports_credentials",
            self.supports_credentials != other.supports_credentials,
        );
        check("max_age", self.max_age != other.max_age);
        check("send_wildcard", self.send_wildcard != other.send_wildcard);
        check("vary", self.vary != other.vary);
        check(
            "block_on_origin_mismatch",
            self.block_on_origin_mismatch != other.block_on_origin_mismatch,
        );
        check("preflight", self.preflight != other.preflight);
        out
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    mode: Option<String>,
    allowed_origins: Option<Spanned<SpannedList>>,
    allowed_methods: Option<Spanned<SpannedList>>,
    allowed_headers: Option<Spanned<SpannedList>>,
    expose_headers: Option<Spanned<SpannedList>>,
    #[serde(default)]
    supports_credentials: Option<Spanned<bool>>,
    max_age: Option<Spanned<i64>>,
    #[serde(default)]
    send_wildcard: bool,
    vary: Option<bool>,
    #[serde(default)]
    block_on_origin_mismatch: bool,
    preflight: Option<bool>,
}

pub(super) fn load(src: &Source) -> Result<(ActixCorsPolicy, Vec<String>), LoadError> {
    let f: File = src.parse()?;
    let mut warnings = Vec::new();
    let credentials = f
        .supports_credentials
        .as_ref()
        .is_some_and(|c| *c.get_ref());

    let origins = origins(src, &f, credentials, &mut warnings)?;
    let methods = token_list(src, &f.allowed_methods, "method")?;
    if let Some(AnyOr::List(list)) = &methods {
        warnings.extend(list.iter().filter_map(|m| method_lint(m, list)));
    }
    let headers = token_list(src, &f.allowed_headers, "header")?;
    let expose = token_list(src, &f.expose_headers, "header")?;
    let max_age = max_age(src, &f.max_age, &mut warnings)?;
    if f.send_wildcard && !origins.is_any() {
        warnings.push("send_wildcard has no effect unless allowed_origins = \"*\"".to_string());
    }
    if let AnyOr::List(list) = &origins {
        if list.iter().any(|o| o == "null") {
            warnings.push("allowed_origins contains \"null\": sandboxed iframes and file: pages from any site share that origin".to_string());
        }
    }
    Ok((
        ActixCorsPolicy {
            allowed_origins: origins,
            allowed_methods: methods
                .unwrap_or_else(|| AnyOr::List(["GET", "POST", "HEAD"].map(String::from).to_vec())),
            allowed_headers: headers.unwrap_or(AnyOr::List(vec![])),
            expose_headers: expose.unwrap_or(AnyOr::List(vec![])),
            supports_credentials: credentials,
            max_age,
            send_wildcard: f.send_wildcard,
            vary: f.vary.unwrap_or(true),
            block_on_origin_mismatch: f.block_on_origin_mismatch,
            preflight: f.preflight.unwrap_or(true),
        },
        warnings,
    ))
}

/// `allowed_origins`: `"*"` (never with credentials) or a list of browser-serialized origins.
fn origins(
    src: &Source,
    f: &File,
    credentials: bool,
    warnings: &mut Vec<String>,
) -> Result<AnyOr<String>, LoadError> {
    Ok(match &f.allowed_origins {
        None => {
            warnings
                .push("no allowed_origins: every cross-origin request will be blocked".to_string());
            AnyOr::List(vec![])
        }
        Some(o) => match o.get_ref() {
            SpannedList::Any => {
                if credentials {
                    let span = f.supports_credentials.as_ref().map(|c| c.span());
                    return Err(src.error_at(
                        Some(o.span()),
                        "allowed_origins = \"*\" cannot be combined with supports_credentials = true",
                        "any origin",
                        Some(format!(
                            "browsers refuse `Access-Control-Allow-Origin: *` on credentialed requests, and reflecting every origin with credentials lets any site read your users' data; list the frontend origins instead, e.g. allowed_origins = [\"http://localhost:8080\"]{}",
                            if span.is_some() { ", or set supports_credentials = false" } else { "" }
                        )),
                    ));
                }
                AnyOr::Any
            }
            SpannedList::List(items) => {
                let mut out = Vec::new();
                for (v, span) in items {
                    check_origin(src, v, span.clone())?;
                    out.push(v.clone());
                }
                AnyOr::List(out)
            }
        },
    })
}

fn max_age(
    src: &Source,
    m: &Option<Spanned<i64>>,
    warnings: &mut Vec<String>,
) -> Result<Option<u32>, LoadError> {
    Ok(match m {
        None => None,
        Some(m) => {
            let v = *m.get_ref();
            if !(0..=i64::from(u32::MAX)).contains(&v) {
                return Err(src.error_at(
                    Some(m.span()),
                    "max_age must be a number of seconds, 0 or more",
                    "here",
                    None,
                ));
            }
            warnings.extend(super::max_age_warning(&format!("max_age = {v}"), v));
            Some(v as u32)
        }
    })
}

/// A `sandbox:…` origin that is not [`super::STATIC_ORIGINS`]: refused, naming the one that is.
fn unknown_placeholder(
    src: &Source,
    v: &str,
    name: &str,
    span: Range<usize>,
) -> Result<(), LoadError> {
    let spelling = if crate::source_file::did_you_mean(name, &["static"]).is_some() {
        ": check its spelling"
    } else {
        ""
    };
    Err(src.error_at(
        Some(span),
        &format!("`{v}` is not a placeholder this sandbox knows"),
        "this origin",
        Some(format!(
            "the one placeholder is \"{}\" (every static origin of this sandbox, as served){spelling}",
            super::STATIC_ORIGINS
        )),
    ))
}

/// An origin as a browser serializes it: `scheme://host[:port]`, lower case, no default port,
/// no path. actix-cors accepts anything that parses as a URI and then silently never matches.
fn check_origin(src: &Source, v: &str, span: Range<usize>) -> Result<(), LoadError> {
    let bad = |msg: &str, help: String| {
        Err(src.error_at(Some(span.clone()), msg, "this origin", Some(help)))
    };
    if v == "null" || v == super::STATIC_ORIGINS {
        return Ok(());
    }
    if let Some(name) = v.strip_prefix("sandbox:") {
        return unknown_placeholder(src, v, name, span);
    }
    if v == "*" {
        return bad(
            "\"*\" inside a list is not a wildcard",
            "write allowed_origins = \"*\" (without brackets) to allow any origin".into(),
        );
    }
    let Some((scheme, rest)) = v.split_once("://") else {
        return bad(
            &format!("`{v}` is not an origin: it has no scheme"),
            format!("browsers send origins like `http://{v}`"),
        );
    };
    if rest.is_empty() {
        return bad(
            &format!("`{v}` has no host"),
            "write e.g. `http://localhost:8080`".into(),
        );
    }
    if let Some(idx) = rest.find(['/', '?', '#']) {
        let trimmed = format!("{scheme}://{}", &rest[..idx]);
        let what = if &rest[idx..] == "/" {
            "a trailing slash"
        } else {
            "a path"
        };
        return bad(
            &format!(
                "`{v}` has {what}; a browser's Origin header never does, so this would never match"
            ),
            format!("write `{trimmed}`"),
        );
    }
    if rest.contains('@') {
        return bad(
            &format!("`{v}` contains user info"),
            "an Origin is only scheme, host and port".into(),
        );
    }
    if v != v.to_ascii_lowercase() {
        return bad(
            &format!("`{v}` has upper-case letters; browsers send the origin in lower case, so this would never match"),
            format!("write `{}`", v.to_ascii_lowercase()),
        );
    }
    let default_port = match scheme {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    if let Some(p) = default_port {
        if rest.ends_with(p) {
            return bad(
                &format!("`{v}` spells out the default port; browsers omit it, so this would never match"),
                format!("write `{scheme}://{}`", rest.trim_end_matches(p)),
            );
        }
    }
    if let Some((_, port)) = rest.rsplit_once(':') {
        if !rest.ends_with(']') && port.parse::<u16>().is_err() {
            return bad(
                &format!("`{v}` has an invalid port"),
                "a port is a number from 1 to 65535".into(),
            );
        }
    }
    Ok(())
}

fn token_list(
    src: &Source,
    v: &Option<Spanned<SpannedList>>,
    what: &str,
) -> Result<Option<AnyOr<String>>, LoadError> {
    let Some(v) = v else { return Ok(None) };
    match v.get_ref() {
        SpannedList::Any => Ok(Some(AnyOr::Any)),
        SpannedList::List(items) => {
            let mut out = Vec::new();
            for (item, span) in items {
                if item == "*" {
                    return Err(src.error_at(
                        Some(span.clone()),
                        "\"*\" inside a list is not a wildcard here",
                        "here",
                        Some("write the field as \"*\" (without brackets) to allow any".into()),
                    ));
                }
                if !is_token(item) {
                    return Err(src.error_at(
                        Some(span.clone()),
                        &format!("`{item}` is not a valid {what} name"),
                        "here",
                        Some(format!(
                            "a {what} name is letters, digits and -, no spaces, colons or commas"
                        )),
                    ));
                }
                out.push(item.clone());
            }
            Ok(Some(AnyOr::List(out)))
        }
    }
}

/// Methods a browser page may mean: the ones `fetch()` upper-cases, PATCH, and the WebDAV and
/// cache methods APIs use. A name outside these is checked for a typo of the first seven.
const KNOWN_METHODS: &[&str] = &[
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "OPTIONS",
    "PATCH",
    "CONNECT",
    "TRACE",
    "TRACK",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "SEARCH",
    "QUERY",
    "PURGE",
];

/// What an entry of `allowed_methods` does that its author probably did not mean, judged
/// against `list` (the whole field). The facts it rests on: `fetch()` upper-cases DELETE, GET,
/// HEAD, OPTIONS, POST and PUT in any case and sends every other method exactly as written;
/// actix-cors parses each entry as an `http::Method`, whose comparison is case-sensitive (so
/// `get` is an extension method, not GET), and refuses a preflight whose
/// `Access-Control-Request-Method` is not in the set with a bare 400; Chromium (since 109, like
/// the Fetch standard) compares the request's method byte for byte with
/// `Access-Control-Allow-Methods`, GET, HEAD and POST always passing.
fn method_lint(m: &str, list: &[String]) -> Option<String> {
    let upper = m.to_ascii_uppercase();
    if is_forbidden_method(m) {
        return Some(format!(
            "allowed_methods: fetch() refuses `{m}` outright (CONNECT, TRACE and TRACK throw a TypeError before any request is sent), so no page can ever send it; remove it"
        ));
    }
    if upper == m || list.contains(&upper) {
        return unknown_method(m);
    }
    if normalize_method(m) != m {
        return Some(if is_cors_safelisted_method(m) {
            format!(
                "allowed_methods: `{m}` matches nothing: fetch(url, {{method: '{m}'}}) sends `{upper}` (fetch() upper-cases DELETE, GET, HEAD, OPTIONS, POST and PUT whatever the case), and actix-cors compares method names case-sensitively. A {upper} without a preflight passes anyway ({upper} is CORS-safelisted); one that needs a preflight (a custom header, say) asks for `{upper}`, which actix-cors refuses with 400, so the browser blocks it; write \"{upper}\""
            )
        } else {
            format!(
                "allowed_methods: `{m}` matches nothing: fetch(url, {{method: '{m}'}}) sends `{upper}` (fetch() upper-cases DELETE, GET, HEAD, OPTIONS, POST and PUT whatever the case), its preflight asks for `{upper}`, and actix-cors compares method names case-sensitively, so it refuses the preflight with 400 and the browser blocks the request; write \"{upper}\""
            )
        });
    }
    if KNOWN_METHODS.contains(&upper.as_str()) {
        return Some(format!(
            "allowed_methods: `{m}` matches only fetch(url, {{method: '{m}'}}), spelled exactly so: fetch() sends methods other than DELETE, GET, HEAD, OPTIONS, POST and PUT as written, and actix-cors and the browser compare method names case-sensitively. fetch(url, {{method: '{upper}'}}) is blocked (actix-cors refuses its preflight with 400); method '{m}' passes CORS but reaches the API as `{m}`, a different method from {upper} (a route with method = \"{upper}\" does not match it); write \"{upper}\" here and method: '{upper}' in fetch()"
        ));
    }
    unknown_method(m)
}

/// A name that is no method a page is likely to mean, but close to one: a typo.
fn unknown_method(m: &str) -> Option<String> {
    let upper = m.to_ascii_uppercase();
    if KNOWN_METHODS.contains(&upper.as_str()) {
        return None;
    }
    let near = crate::source_file::did_you_mean(m, &KNOWN_METHODS[..7])?;
    Some(format!(
        "allowed_methods: `{m}` is not an HTTP method a page sends: did you mean \"{near}\"? As written it allows only requests whose method is exactly `{m}`"
    ))
}
