//! The mock API's routes file: `[[route]]` entries, their validation, and matching.
//!
//! Owns what the API answers, not how it is sent: [`Routes::find`] picks a route for a method
//! and path; `serve::api` turns it into an HTTP response. Bodies from `file = …` are read at
//! load time (so one request sees one version, and a file can never be read through a request
//! path) and must stay inside the routes file's folder. Pure apart from reading those files.
//!
//! Issue #8 grows a route into a small "real" API: [`template`]s that read the request,
//! several [`RouteResponse`]s chosen by rules or in turn, latency and [`Faults`] (per route or from
//! `[defaults]`), stateful REST [`resources`] seeded from JSON, and an `upstream` that unmatched
//! (or `proxy = true`) requests are forwarded to.
//!
//! - `static/.sandbox/default_routes.toml`: the zero-config API's routes, compiled in as
//!   [`DEFAULT_ROUTES`].

mod file;
mod index;
pub mod openapi;
pub mod resources;
pub mod template;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::browser::normalize_method;
pub use crate::vocab::PathPattern;
use crate::vocab::{header_problem, HeaderProblem, Segment};
use serde_json::Value;
use template::{Expr, Helpers, RequestData, Template};

use crate::source_file::{LoadError, Source};

/// A validated routes file.
#[derive(Debug, Clone, PartialEq)]
pub struct Routes {
    pub file_name: String,
    pub routes: Vec<Route>,
    /// Files that bodies (and resource seeds) were read from, so the watcher can reload when
    /// one changes.
    pub body_files: Vec<PathBuf>,
    /// `[[resource]]` tables: stateful REST collections at `/api/<name>`.
    pub resources: Vec<resources::ResourceSpec>,
    /// Where unmatched requests (and `proxy = true` routes) are forwarded.
    pub upstream: Option<Upstream>,
    /// Latency and faults for resources and proxied requests (`[defaults]`); routes have
    /// these merged in already.
    pub defaults: Faults,
    /// `routes` by path segment, built with them (their paths never change afterwards).
    index: index::RouteIndex,
}

impl JsonTemplate {
    fn resolve_origins(&mut self, origins: &[(String, String)]) -> Result<(), String> {
        match self {
            JsonTemplate::Literal(_) => Ok(()),
            JsonTemplate::Text(t) => t.resolve_origins(origins),
            JsonTemplate::Array(a) => a.iter_mut().try_for_each(|j| j.resolve_origins(origins)),
            JsonTemplate::Object(o) => o
                .iter_mut()
                .try_for_each(|(_, j)| j.resolve_origins(origins)),
        }
    }
}

impl Routes {
    /// Fills every `{{origin.NAME}}` in headers and bodies with the URL of the sandbox's
    /// origin NAME (`origins`: name, URL as the browser reaches it). `Err` names the first
    /// origin that is not there.
    pub fn resolve_origins(&mut self, origins: &[(String, String)]) -> Result<(), String> {
        for r in self.routes.iter_mut().flat_map(|r| r.responses.iter_mut()) {
            for (_, t) in &mut r.headers {
                t.resolve_origins(origins)?;
            }
            match &mut r.dynamic {
                Some(DynamicBody::Text(t)) => t.resolve_origins(origins)?,
                Some(DynamicBody::Json(j)) => j.resolve_origins(origins)?,
                None => {}
            }
        }
        Ok(())
    }

    /// The same routes without latency and without chance: what `sandbox check` and
    /// `fixtures verify` judge, since a verdict should not wait out a 30 s delay or depend on
    /// a coin toss (`error_rate`). A `fault` stays: it happens every time, and what the page
    /// sees then (a network error) is the answer.
    pub fn without_timing(&self) -> Routes {
        let mut r = self.clone();
        r.defaults = r.defaults.without_timing();
        for route in &mut r.routes {
            route.faults = route.faults.without_timing();
        }
        r
    }

    /// Whether the route that answers `method` `path` answers CORS itself (`cors = "route"`).
    pub fn answers_cors(&self, method: &str, path: &str) -> bool {
        // Asked on every request: a file without such a route is answered without a lookup.
        self.index.any_own_cors() && self.find(method, path).is_some_and(|m| m.route.own_cors)
    }

    /// These routes with `recorded`'s after them (a recorded-routes file, which answers what
    /// the file's own routes do not); its body files are watched with these.
    pub fn merged_with(mut self, recorded: Routes) -> Routes {
        self.routes.extend(recorded.routes);
        self.body_files.extend(recorded.body_files);
        self.index = index::RouteIndex::build(&self.routes);
        self
    }

    /// Whether any route, or the defaults, has latency or chance that
    /// [`Routes::without_timing`] takes away.
    pub fn has_timing(&self) -> bool {
        self.defaults.has_timing() || self.routes.iter().any(|r| r.faults.has_timing())
    }
}

/// `upstream = "http://127.0.0.1:5000"`: loopback, plain HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    pub url: String,
    pub host: String,
    pub port: u16,
    /// `cors = "upstream"`: the upstream's own CORS answers (preflights included) reach the
    /// browser untouched, instead of the sandbox's policy.
    pub pass_cors: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Upper-cased unless it is an extension method, which HTTP keeps case-sensitive.
    pub method: String,
    pub path: PathPattern,
    /// What the route can answer, in file order; the route's own fields, if any, come last as
    /// the unconditional fallback.
    pub responses: Vec<RouteResponse>,
    pub pick: Pick,
    pub faults: Faults,
    /// Forward to the upstream instead of answering.
    pub proxy: bool,
    /// `cors = "route"`: the requests this route answers skip the CORS policy, so the
    /// browser gets exactly the `Access-Control-*` headers the route lists: a server where one
    /// handler sets its own CORS headers (`*` with credentials, say) whatever the middleware's.
    pub own_cors: bool,
    /// Requests this route has seen since it was loaded (`{{seq}}`, `pick = "sequence"`).
    pub counter: Counter,
    /// `validate = true`: what a request must pass (its `operation` of the `openapi`
    /// document) before the route answers.
    pub validation: Option<Arc<openapi::validate::RequestCheck>>,
}

/// One possible answer of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteResponse {
    /// Every condition must hold (`when = { query.x = "1" }`); none means always.
    pub when: Vec<(Expr, Value)>,
    pub status: u16,
    /// Extra response headers, in file order; values may hold placeholders.
    pub headers: Vec<(String, Template)>,
    pub body: Body,
    /// Set when the body holds placeholders; `body` is then only the content type.
    pub dynamic: Option<DynamicBody>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DynamicBody {
    Text(Template),
    Json(JsonTemplate),
}

/// A `json = …` body with placeholders in its string values (keys are literal).
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    Literal(Value),
    Text(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    pub fn render(&self, req: &RequestData, h: &mut Helpers<'_>) -> Value {
        match self {
            JsonTemplate::Literal(v) => v.clone(),
            JsonTemplate::Text(t) => t.render_json(req, h),
            JsonTemplate::Array(a) => Value::Array(a.iter().map(|j| j.render(req, h)).collect()),
            JsonTemplate::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, j)| (k.clone(), j.render(req, h)))
                    .collect(),
            ),
        }
    }
}

/// How a route picks among the responses whose `when` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pick {
    #[default]
    First,
    Sequence,
    Random,
}

/// Latency and failure injection.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faults {
    /// Inclusive range; equal ends for a fixed delay.
    pub delay_ms: (u64, u64),
    /// Probability (0..=1) of answering `error_status` instead.
    pub error_rate: f64,
    pub error_status: u16,
    pub fault: Option<Fault>,
    /// Spread the body over this long, in chunks.
    pub slow_body_ms: u64,
}

impl Faults {
    fn without_timing(&self) -> Faults {
        Faults {
            delay_ms: (0, 0),
            error_rate: 0.0,
            slow_body_ms: 0,
            ..self.clone()
        }
    }

    fn has_timing(&self) -> bool {
        self.without_timing() != *self
    }
}

/// Connection-level failures: no HTTP response at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// An orderly close (FIN) before any byte of a response.
    Close,
    /// A TCP reset (RST).
    Reset,
}

impl Fault {
    /// How the browser sees it: no response at all.
    pub fn no_response(self) -> crate::browser::NoResponse {
        match self {
            Fault::Close => crate::browser::NoResponse::Close,
            Fault::Reset => crate::browser::NoResponse::Reset,
        }
    }

    /// As the routes file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Close => "close",
            Fault::Reset => "reset",
        }
    }

    /// What to change so the request gets an answer (the journal's and `check`'s fix).
    pub fn fix(self) -> String {
        format!(
            "remove `fault = \"{}\"` from the route (or the routes file's [defaults]) to get an answer",
            self.as_str()
        )
    }
}

/// A per-route request counter. Equal to every other counter, so a reload that changes
/// nothing keeps the routes (and their counts) in place.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl PartialEq for Counter {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Counter {
    /// Counts one request and returns its number, from 1.
    pub fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl Route {
    /// Whether answering reads anything of the request or the render helpers: a `when`, a
    /// header or body with placeholders. Most routes answer fixed bytes, and gathering what
    /// a template could read (every header, the query, the cookies, the body as JSON) was a
    /// tenth of such a request.
    pub fn reads_request(&self) -> bool {
        self.responses.iter().any(|r| {
            !r.when.is_empty()
                || r.dynamic.is_some()
                || r.headers.iter().any(|(_, v)| v.is_dynamic())
        })
    }

    /// The response for request number `seq`, among those whose `when` holds; `None` when no
    /// response applies.
    pub fn choose(
        &self,
        req: &RequestData,
        seq: u64,
        random: &mut dyn FnMut() -> u64,
    ) -> Option<&RouteResponse> {
        let applies =
            |r: &&RouteResponse| r.when.iter().all(|(e, want)| condition_holds(e, want, req));
        if let [only] = self.responses.as_slice() {
            // One response: `pick` has nothing to choose among.
            return Some(only).filter(applies);
        }
        let candidates: Vec<&RouteResponse> = self.responses.iter().filter(applies).collect();
        if candidates.is_empty() {
            return None;
        }
        let i = match self.pick {
            Pick::First => 0,
            Pick::Sequence => ((seq.max(1) - 1) % candidates.len() as u64) as usize,
            Pick::Random => (random() % candidates.len() as u64) as usize,
        };
        Some(candidates[i])
    }
}

/// Compares as text, so `query.page = 2` holds for `?page=2` and `body.n = "2"` for `{"n": 2}`.
fn condition_holds(e: &Expr, want: &Value, req: &RequestData) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let pair = |pairs: &[(String, String)], n: &str| {
        pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
    };
    let got = match e {
        Expr::Param(n) => pair(&req.params, n),
        Expr::Query(n) => pair(&req.query, n),
        Expr::Header(n) => pair(&req.headers, n),
        Expr::Cookie(n) => pair(&req.cookies, n),
        Expr::Body(path) => req
            .body
            .as_ref()
            .and_then(|b| template::body_at(b, path))
            .map(text),
        _ => None,
    };
    got.is_some_and(|g| g == text(want))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

/// A route chosen for a request, with its path parameters.
#[derive(Debug)]
pub struct Match<'a> {
    pub route: &'a Route,
    pub params: Vec<(String, String)>,
}

impl Routes {
    /// The resource at `path` (`/api/<name>` or `/api/<name>/<id>`), with the id if any.
    pub fn find_resource(&self, path: &str) -> Option<(&resources::ResourceSpec, Option<String>)> {
        let rest = path.strip_prefix(resources::PREFIX)?;
        let (name, id) = match rest.split_once('/') {
            Some((n, id)) if !id.is_empty() && !id.contains('/') => (n, Some(id)),
            Some(_) => return None,
            None => (rest, None),
        };
        let spec = self.resources.iter().find(|r| r.name == name)?;
        let id = id.map(|i| {
            percent_encoding::percent_decode_str(i)
                .decode_utf8_lossy()
                .into_owned()
        });
        Some((spec, id))
    }

    /// The first route, in file order, whose method and path match. `HEAD` also matches `GET`.
    pub fn find(&self, method: &str, path: &str) -> Option<Match<'_>> {
        let matching = self.index.matching(path);
        let first_for = |m: &str| {
            matching
                .iter()
                .filter_map(|&i| self.routes.get(i))
                .find(|r| r.method == m || r.method == "*")
        };
        let route = first_for(method).or_else(|| {
            if method == "HEAD" {
                first_for("GET")
            } else {
                None
            }
        })?;
        let params = route.path.matches(path)?;
        Some(Match { route, params })
    }

    /// The latency and faults of a request the upstream answers: a `proxy = true` route's, or
    /// the `[defaults]` for what neither a route nor a resource answers. `None` when the
    /// sandbox answers it itself (or there is no upstream).
    pub fn proxied(&self, method: &str, path: &str) -> Option<&Faults> {
        self.upstream.as_ref()?;
        match self.find(method, path) {
            Some(m) => m.route.proxy.then_some(&m.route.faults),
            None if self.find_resource(path).is_some() => None,
            None => Some(&self.defaults),
        }
    }

    /// Whether the upstream's own CORS answers reach the browser for this request
    /// (`cors = "upstream"` and the upstream answers it), so a fix belongs in that server.
    pub fn upstream_answers_cors(&self, method: &str, path: &str) -> bool {
        self.upstream.as_ref().is_some_and(|u| u.pass_cors) && self.proxied(method, path).is_some()
    }

    /// Up to three routes closest to a path that matched nothing, for the 404 body.
    pub fn closest(&self, method: &str, path: &str) -> Vec<(String, String)> {
        self.closest_by(method, path, similarity)
    }

    /// [`Routes::closest`] with the similarity measure as a parameter, so a test can watch what
    /// it is asked to compare. Only the first [`CLOSEST_PREFIX_BYTES`] of the path and of each
    /// route are compared: an edit distance costs the product of the two lengths, and a
    /// request path (up to 64 KiB) is the client's to choose.
    fn closest_by(
        &self,
        method: &str,
        path: &str,
        mut similarity: impl FnMut(&str, &str) -> f64,
    ) -> Vec<(String, String)> {
        let path = prefix(path, CLOSEST_PREFIX_BYTES);
        // A large file is narrowed to the routes near the path first, so a 404 costs the same
        // with 5,000 routes as with 50.
        let near: Vec<&Route> = if self.routes.len() <= CLOSEST_SCORE_ALL {
            self.routes.iter().collect()
        } else {
            self.index
                .near(path, CLOSEST_SCORE_ALL, &mut similarity)
                .into_iter()
                .filter_map(|i| self.routes.get(i))
                .collect()
        };
        let mut scored: Vec<(f64, &Route)> = near
            .into_iter()
            .map(|r| {
                let mut s = similarity(prefix(&r.path.text, CLOSEST_PREFIX_BYTES), path);
                if r.method == method {
                    s += 0.05;
                }
                (s, r)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .take(3)
            .map(|(_, r)| (r.method.clone(), r.path.text.clone()))
            .collect()
    }
}

/// How alike two paths are, from 0 (nothing in common) to 1 (equal): one minus their edit
/// distance in characters over the longer one's length.
pub(crate) fn similarity(a: &str, b: &str) -> f64 {
    rapidfuzz::distance::levenshtein::normalized_similarity(a.chars(), b.chars())
}

/// Up to this many routes, a 404 scores every one for its suggestions; beyond, only this many
/// near the path.
pub const CLOSEST_SCORE_ALL: usize = 64;

/// How much of a path the 404's suggestions look at: longer than any route a person writes.
pub const CLOSEST_PREFIX_BYTES: usize = 256;

/// The longest start of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Parses and validates a routes file; `dir` is where relative `file = …` paths start.
pub fn load(src: &Source, file_name: &str, dir: &std::path::Path) -> Result<Routes, LoadError> {
    file::load(src, file_name, dir, &[])
}

/// [`load`] for a sandbox listening on `listeners`: an `upstream` that one of them would
/// accept is refused, since every request it forwards would come straight back.
pub fn load_for_listeners(
    src: &Source,
    file_name: &str,
    dir: &std::path::Path,
    listeners: &[std::net::SocketAddr],
) -> Result<Routes, LoadError> {
    file::load(src, file_name, dir, listeners)
}

/// The routes of the zero-config API.
pub const DEFAULT_ROUTES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/static/.sandbox/default_routes.toml"
));

#[cfg(test)]
mod tests;
