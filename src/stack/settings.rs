//! A CORS configuration in stack-neutral terms, read from what a server sent or from the
//! user's own file, and the smallest change that lets a page's request through.

use serde_json::{Map, Value};

use super::library::{DefaultHeaders, Library};
use super::needs::Needs;
use crate::browser::{access_control_request_headers, HeaderList, Scenario};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `*` (or the library's "every origin").
    pub any_origin: bool,
    /// Origins allowed by name.
    pub origins: Vec<String>,
    /// Origin patterns, kept exactly as written (a regular expression).
    pub patterns: Vec<String>,
    /// `None`: the library's default methods.
    pub methods: Option<Vec<String>>,
    /// `None`: the library's default request headers.
    pub headers: Option<Vec<String>>,
    pub expose: Vec<String>,
    pub credentials: bool,
    pub max_age: Option<u64>,
    /// Options of the user's own configuration this model does not read, carried through
    /// unchanged (Express's `preflightContinue`, Flask-CORS's `resources`…).
    pub extras: Map<String, Value>,
}

/// A header value's comma-separated items, trimmed, empty ones dropped.
pub(super) fn comma_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn contains(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(item))
}

impl Settings {
    /// The configuration that would have produced the CORS lines the server sent, as far as
    /// they tell: a guess, which `--stack-config` replaces.
    pub fn observed(s: &Scenario, lib: &Library) -> Settings {
        let mut out = Settings::default();
        let actual = s.actual_response.as_ref().map(|r| &r.headers);
        let pre = s.preflight_response.as_ref().map(|r| &r.headers);
        let either = |name: &str| {
            pre.and_then(|h| h.first(name))
                .or_else(|| actual.and_then(|h| h.first(name)))
                .map(str::to_owned)
        };
        if let Some(acao) = either("access-control-allow-origin") {
            if acao.trim() == "*" {
                out.any_origin = true;
            } else {
                out.origins = comma_list(&acao);
            }
        }
        out.credentials =
            either("access-control-allow-credentials").is_some_and(|v| v.trim() == "true");
        out.max_age = pre
            .and_then(|h| h.first("access-control-max-age"))
            .and_then(|v| v.trim().parse().ok());
        out.expose = actual
            .and_then(|h| h.first("access-control-expose-headers"))
            .map(comma_list)
            .unwrap_or_default();
        if let Some(pre) = pre {
            out.methods = observed_methods(pre, lib);
            out.headers = observed_headers(pre, s, lib);
        }
        out
    }

    /// Changes `self` as little as possible so that `needs` are met in `lib`; one line per
    /// change, in words.
    pub fn apply(&mut self, needs: &Needs, lib: &Library) -> Vec<String> {
        let mut changes = Vec::new();
        self.apply_origin(needs, &mut changes);
        if needs.credentials && !self.credentials {
            self.credentials = true;
            changes.push(
                "allow credentials: the page sends cookies (credentials: 'include')".to_owned(),
            );
        }
        if let Some(m) = &needs.method {
            self.apply_method(m, needs.credentials, lib, &mut changes);
        }
        for h in &needs.headers {
            self.apply_header(h, needs.credentials, lib, &mut changes);
        }
        for h in &needs.expose {
            let star = self.expose == ["*"] && !needs.credentials;
            if !contains(&self.expose, h) && !star {
                self.expose.retain(|e| e != "*");
                self.expose.push(h.clone());
                changes.push(format!("expose `{h}`: the page reads it"));
            }
        }
        changes
    }

    fn apply_origin(&mut self, needs: &Needs, changes: &mut Vec<String>) {
        let page = &needs.origin;
        if self.any_origin && needs.credentials {
            // `*` never covers a credentialed request, and "every origin, reflected, with
            // credentials" would let any site read the user's data: name the page instead.
            self.any_origin = false;
            if !contains(&self.origins, page) {
                self.origins.push(page.clone());
            }
            changes.push(format!(
                "allow the origin `{page}` by name instead of `*`: the browser refuses `*` \
                 when the request carries credentials"
            ));
            return;
        }
        let covered = self.any_origin
            || contains(&self.origins, page)
            || self.patterns.iter().any(|p| pattern_matches(p, page));
        if !covered {
            // An origin has no path and is compared byte for byte: `…:8080/` or another
            // case never matches, so such a near miss is replaced rather than kept.
            let near = |o: &String| o.trim_end_matches('/').eq_ignore_ascii_case(page) && o != page;
            if let Some(miss) = self.origins.iter().position(near) {
                let old = std::mem::replace(&mut self.origins[miss], page.clone());
                changes.push(format!(
                    "allow the origin `{page}` instead of `{old}`: the browser compares the \
                     origin exactly, with no trailing slash"
                ));
                return;
            }
            self.origins.push(page.clone());
            changes.push(format!("allow the origin `{page}`"));
        }
    }

    fn apply_method(&mut self, m: &str, credentials: bool, lib: &Library, out: &mut Vec<String>) {
        let mut now: Vec<String> = match &self.methods {
            Some(l) => l.clone(),
            None => lib.default_methods.iter().map(|s| s.to_string()).collect(),
        };
        let star = contains(&now, "*") && !(credentials && lib.star_is_literal);
        if star || contains(&now, m) {
            return;
        }
        now.retain(|x| x != "*");
        if now.is_empty() {
            now = vec!["GET".into(), "POST".into()];
        }
        now.push(m.to_owned());
        self.methods = Some(now);
        out.push(format!("allow the method {m}"));
    }

    fn apply_header(&mut self, h: &str, credentials: bool, lib: &Library, out: &mut Vec<String>) {
        // Starlette allows these names whatever their value.
        let safelisted = [
            "accept",
            "accept-language",
            "content-language",
            "content-type",
        ];
        if lib.safelisted_implied && safelisted.contains(&h) {
            return;
        }
        let mut now: Vec<String> = match (&self.headers, lib.default_headers) {
            (Some(l), _) => l.clone(),
            (None, DefaultHeaders::Reflect) => return,
            (None, DefaultHeaders::List(d)) => d.iter().map(|s| s.to_string()).collect(),
        };
        let star = contains(&now, "*") && !(credentials && lib.star_is_literal);
        if star || contains(&now, h) {
            return;
        }
        now.retain(|x| x != "*");
        now.push(h.to_owned());
        self.headers = Some(now);
        out.push(format!("allow the request header `{h}`"));
    }
}

/// The preflight's methods, or `None` when they are just the library's default.
fn observed_methods(pre: &HeaderList, lib: &Library) -> Option<Vec<String>> {
    let sent = comma_list(pre.first("access-control-allow-methods")?);
    let same = sent.len() == lib.default_methods.len()
        && sent.iter().all(|m| {
            lib.default_methods
                .iter()
                .any(|d| d.eq_ignore_ascii_case(m))
        });
    (!same).then_some(sent)
}

/// The preflight's allowed headers, or `None` when the library reflects the request's and
/// the answer is exactly what was asked (a reflection, not a list).
fn observed_headers(pre: &HeaderList, s: &Scenario, lib: &Library) -> Option<Vec<String>> {
    let sent = comma_list(pre.first("access-control-allow-headers")?);
    // What the browser asked for (Access-Control-Request-Headers): a reflection answers
    // exactly that set.
    let pairs: Vec<(String, String)> = s
        .request
        .headers
        .lines()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let asked = access_control_request_headers(&pairs)
        .map(|l| comma_list(&l))
        .unwrap_or_default();
    let reflected = sent.len() == asked.len() && sent.iter().all(|h| contains(&asked, h));
    if lib.default_headers == DefaultHeaders::Reflect && reflected {
        return None;
    }
    if let DefaultHeaders::List(d) = lib.default_headers {
        let same = sent.len() == d.len()
            && sent
                .iter()
                .all(|h| d.contains(&h.to_ascii_lowercase().as_str()));
        if same {
            return None;
        }
    }
    Some(sent)
}

/// Whether an origin pattern (`/body/flags` as Express writes it, or a bare regular
/// expression as Python libraries do) matches the origin. An unreadable pattern matches
/// nothing, so the fix names the origin rather than trusting it.
fn pattern_matches(pattern: &str, origin: &str) -> bool {
    let (body, flags) = match pattern.strip_prefix('/').and_then(|p| p.rsplit_once('/')) {
        Some((b, f)) => (b, f),
        None => (pattern, ""),
    };
    let body = if flags.contains('i') {
        format!("(?i){body}")
    } else {
        body.to_owned()
    };
    regex_lite::Regex::new(&body).is_ok_and(|r| r.is_match(origin))
}
