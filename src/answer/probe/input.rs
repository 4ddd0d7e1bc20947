//! What `probe` refuses before anything is sent: everything `fetch()` would throw on, and
//! flags that cannot mean anything. Each refusal says what to do instead (exit 2).

use std::time::Duration;

use crate::browser::{is_forbidden_method, is_token, Mode, Origin, Url};

use super::super::AnswerError;
use super::ProbeOptions;

/// The probe's inputs once checked: the origin as the browser serializes it, the body bytes,
/// the Cookie line.
#[derive(Debug, Clone)]
pub(super) struct Checked {
    pub origin: String,
    /// Set when the given `--origin` was not already canonical.
    pub origin_note: Option<String>,
    pub timeout: Duration,
    pub body: Option<Vec<u8>>,
    pub cookie: Option<String>,
}

fn usage(text: impl Into<String>) -> AnswerError {
    AnswerError::Usage(text.into())
}

pub(super) fn check(opts: &ProbeOptions) -> Result<Checked, AnswerError> {
    check_url(&opts.url)?;
    let (origin, origin_note) = canonical_origin(&opts.request.origin)?;
    check_method(&opts.request.method)?;
    if opts.request.mode == Mode::Navigate {
        return Err(usage(
            "--mode navigate is not something fetch() can do (it throws a TypeError); \
             use cors, no-cors or same-origin",
        ));
    }
    let timeout = check_timeout(opts.timeout_secs)?;
    let body = read_body(opts)?;
    if body.is_some()
        && matches!(
            opts.request.method.to_ascii_uppercase().as_str(),
            "GET" | "HEAD"
        )
    {
        return Err(usage(
            "fetch() throws \"Request with GET/HEAD method cannot have body\": drop --data, or \
             pick a method with -X (POST, PUT, PATCH)",
        ));
    }
    let cookie = cookie_line(&opts.cookies)?;
    Ok(Checked {
        origin,
        origin_note,
        timeout,
        body,
        cookie,
    })
}

fn check_url(url: &str) -> Result<(), AnswerError> {
    if !url.contains("://") {
        return Err(usage(format!(
            "`{url}` has no scheme: add http:// or https:// (e.g. http://{url})"
        )));
    }
    let Some(parsed) = Url::parse(url) else {
        return Err(usage(format!("`{url}` is not a valid URL")));
    };
    if !parsed.is_http_or_https() {
        return Err(usage(format!(
            "`{url}`: only http:// and https:// URLs can be probed"
        )));
    }
    if parsed.has_credentials() {
        return Err(usage(format!(
            "`{url}` includes credentials (user:password@), and fetch() throws on such a URL; \
             send them in an Authorization header with -H instead"
        )));
    }
    Ok(())
}

/// `--origin` as the browser would send it: lower case, no default port, no trailing slash.
fn canonical_origin(given: &str) -> Result<(String, Option<String>), AnswerError> {
    if given == "null" {
        return Ok((given.to_owned(), None));
    }
    let Some((scheme, _)) = given.split_once("://") else {
        return Err(usage(format!(
            "--origin `{given}` has no scheme: a page's origin looks like http://{given}"
        )));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(usage(format!(
            "--origin `{given}`: a {scheme}:// page has an opaque origin and sends `Origin: null`; \
             pass --origin null to probe that, or an http(s) origin"
        )));
    }
    let parsed = Url::parse(given)
        .ok_or_else(|| usage(format!("--origin `{given}` is not a valid origin")))?;
    let rest = given.split_once("://").map(|(_, r)| r).unwrap_or_default();
    let extra = rest.find(['/', '?', '#']).map(|i| &rest[i..]);
    if parsed.has_credentials() || matches!(extra, Some(e) if e != "/") {
        return Err(usage(format!(
            "--origin `{given}` is not an origin: an origin is only scheme://host[:port], \
             with no user, path or query"
        )));
    }
    let canonical = Origin::parse(given)
        .map(|o| o.serialize())
        .ok_or_else(|| usage(format!("--origin `{given}` is not a valid origin")))?;
    let note = (canonical != given).then(|| {
        format!("--origin {given} was canonicalised to {canonical}, as a browser sends it")
    });
    Ok((canonical, note))
}

fn check_method(method: &str) -> Result<(), AnswerError> {
    if !is_token(method) {
        return Err(usage(format!(
            "-X `{method}` is not a valid method name (fetch() throws a TypeError)"
        )));
    }
    if is_forbidden_method(method) {
        return Err(usage(format!(
            "fetch() throws on the method {}: browsers never send CONNECT, TRACE or TRACK",
            method.to_ascii_uppercase()
        )));
    }
    Ok(())
}

fn check_timeout(secs: f64) -> Result<Duration, AnswerError> {
    if !secs.is_finite() || secs <= 0.0 {
        return Err(usage(format!(
            "--timeout {secs}: give the seconds to wait for each answer, more than 0 (e.g. 5 or 0.5)"
        )));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| usage(format!("--timeout {secs} is too large")))
}

fn read_body(opts: &ProbeOptions) -> Result<Option<Vec<u8>>, AnswerError> {
    match (&opts.data, &opts.data_file) {
        (Some(_), Some(_)) => Err(usage("give --data or --data-file, not both")),
        (Some(d), None) => Ok(Some(d.clone().into_bytes())),
        (None, Some(path)) => std::fs::read(path)
            .map(Some)
            .map_err(|e| AnswerError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        (None, None) => Ok(None),
    }
}

fn cookie_line(cookies: &[String]) -> Result<Option<String>, AnswerError> {
    for c in cookies {
        let ok = c
            .split_once('=')
            .is_some_and(|(n, v)| is_token(n.trim()) && !v.contains([';', '\r', '\n']));
        if !ok {
            return Err(usage(format!(
                "--cookie `{c}`: expected name=value (one cookie per --cookie)"
            )));
        }
    }
    Ok((!cookies.is_empty()).then(|| cookies.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_canonicalised_or_refused() {
        let (o, note) = canonical_origin("HTTP://Karachi-Dev.localhost:80/").unwrap();
        assert_eq!(o, "http://karachi-dev.localhost");
        assert!(note.unwrap().contains("canonicalised"));
        assert_eq!(
            canonical_origin("https://a.test").unwrap(),
            ("https://a.test".to_owned(), None)
        );
        assert!(canonical_origin("karachi-dev.localhost:8080").is_err());
        assert!(canonical_origin("file:///tmp/x.html").is_err());
        assert!(canonical_origin("http://a.test/path").is_err());
        assert!(canonical_origin("http://u:p@a.test").is_err());
    }

    #[test]
    fn fetch_refusals_are_input_errors() {
        assert!(check_url("localhost:5000/api").is_err());
        assert!(check_url("ftp://a.test/").is_err());
        assert!(check_url("http://u:p@a.test/").is_err());
        assert!(check_url("https://a.test/").is_ok());
        assert!(check_method("TRACE").is_err());
        assert!(check_method("connect").is_err());
        assert!(check_method("BAD METHOD").is_err());
        assert!(check_method("PATCH").is_ok());
        assert!(check_timeout(0.0).is_err());
        assert!(check_timeout(-1.0).is_err());
        assert!(check_timeout(f64::NAN).is_err());
        assert_eq!(check_timeout(0.5).unwrap(), Duration::from_millis(500));
        assert!(cookie_line(&["sid".into()]).is_err());
        assert_eq!(
            cookie_line(&["a=1".into(), "b=2".into()])
                .unwrap()
                .as_deref(),
            Some("a=1; b=2")
        );
    }
}
