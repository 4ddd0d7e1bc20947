//! `mode = "express"`: a policy written as the options of the npm `cors` middleware
//! (`app.use(cors({ origin, methods, credentials, … }))`), answered with exactly the status and
//! header lines that middleware (version 2.8) sends for the same options and request.
//!
//! The behaviour comes from reading the package's `lib/index.js`; what matters for a browser:
//! - every `OPTIONS` request is a preflight to it (no `Origin` or
//!   `Access-Control-Request-Method` needed); it answers `optionsSuccessStatus` (204) itself
//!   unless `preflightContinue`, which sets the headers and passes the request on to the routes;
//! - `origin` unset means `'*'`, and `'*'` is sent as it is even with `credentials: true`
//!   (the seed tutorial's mistake 1: the browser refuses both lines together);
//! - `origin: false` turns the middleware off: no header at all, `OPTIONS` reaches the routes;
//! - a fixed string is sent whatever the request's `Origin`; `true`, a list or a regular
//!   expression reflect the request's `Origin` when it matches, and send nothing when not;
//!   each of these adds `Vary: Origin`;
//! - `Access-Control-Allow-Credentials: true` and `Access-Control-Allow-Methods` (default
//!   `GET,HEAD,PUT,PATCH,POST,DELETE`) go on every preflight, allowed origin or not;
//! - without `allowedHeaders` a preflight's `Access-Control-Request-Headers` is reflected,
//!   with `Vary: Access-Control-Request-Headers` merged into the one `Vary` line;
//! - `exposedHeaders` goes on preflights and actual responses alike; `maxAge` on preflights.
//!
//! A regular expression is written as a string that starts with `/` (no origin can): the
//! JavaScript literal's text, `'/^https?:\/\/.*\.localhost(:\d+)?$/'` — in a TOML literal
//! (single-quoted) string, since a basic string would treat `\/` as an escape. Flags `i`, `m`
//! and `s` are allowed; `g` and `y` are refused because they make `RegExp.test` stateful.
//!
//! Pure: this module says which lines a request gets; `serve::express_layer` sends them.

mod js;
mod load;
mod value;

pub use js::options_js;
pub(super) use load::load;

/// What `origin` says, after the middleware's defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpressOrigin {
    /// `origin: false` (or `''`): the middleware does nothing.
    Off,
    /// `'*'` or no `origin`: `Access-Control-Allow-Origin: *` on everything.
    Any,
    /// A fixed origin string, sent whatever the request's `Origin` is.
    Fixed(String),
    /// `origin: true`: the request's `Origin`, whatever it is.
    Reflect,
    /// A list (or one regular expression): the request's `Origin` when one item matches.
    Match(Vec<OriginMatch>),
}

/// One item of an origin list.
#[derive(Debug, Clone)]
pub enum OriginMatch {
    /// Compared with the request's `Origin` byte for byte.
    Exact(String),
    /// A JavaScript regular expression, tested the way `RegExp.prototype.test` does.
    Pattern(JsRegex),
}

impl PartialEq for OriginMatch {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (OriginMatch::Exact(a), OriginMatch::Exact(b)) => a == b,
            (OriginMatch::Pattern(a), OriginMatch::Pattern(b)) => a.written == b.written,
            _ => false,
        }
    }
}

impl OriginMatch {
    fn matches(&self, origin: &str) -> bool {
        match self {
            OriginMatch::Exact(o) => o == origin,
            OriginMatch::Pattern(p) => p.regex.is_match(origin),
        }
    }

    /// The item as the file wrote it.
    pub fn written(&self) -> &str {
        match self {
            OriginMatch::Exact(o) => o,
            OriginMatch::Pattern(p) => &p.written,
        }
    }
}

/// A regular expression from the file: its text as written (`/…/flags`) and its compiled form.
#[derive(Debug, Clone)]
pub struct JsRegex {
    pub written: String,
    regex: regex_lite::Regex,
}

/// A validated express-mode policy: the `cors()` options with the middleware's defaults
/// applied, lists already joined the way it joins them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpressPolicy {
    pub origin: ExpressOrigin,
    /// The `Access-Control-Allow-Methods` value; empty: the line is not sent.
    pub methods: String,
    /// `None` (unset or `''`): reflect `Access-Control-Request-Headers`; `Some("")` (`[]`):
    /// never sent.
    pub allowed_headers: Option<String>,
    /// The `Access-Control-Expose-Headers` value; empty: not sent.
    pub exposed_headers: String,
    pub credentials: bool,
    pub max_age: Option<i64>,
    pub preflight_continue: bool,
    pub options_success_status: u16,
    /// The options object as the file wrote it (a regular expression as its `/…/` string),
    /// what a stack fix edits and [`ExpressPolicy::to_js`] prints.
    pub options: Vec<(&'static str, serde_json::Value)>,
}

/// The middleware's default `methods`.
pub const DEFAULT_METHODS: &str = "GET,HEAD,PUT,PATCH,POST,DELETE";

/// What the middleware does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpressAnswer {
    /// The routes answer and these lines are set on the response first (a line the route sets
    /// itself wins, as a later `res.setHeader` does in Node).
    Continue(Vec<(&'static str, String)>),
    /// The middleware answers a preflight itself with this status and these lines.
    Preflight(u16, Vec<(&'static str, String)>),
}

impl ExpressPolicy {
    /// The answer to a request with `method`, the request's `Origin` and, for `OPTIONS`, its
    /// `Access-Control-Request-Headers`.
    pub fn answer(&self, method: &str, origin: Option<&str>, acrh: Option<&str>) -> ExpressAnswer {
        if self.origin == ExpressOrigin::Off {
            return ExpressAnswer::Continue(Vec::new());
        }
        let preflight = method.eq_ignore_ascii_case("OPTIONS");
        let mut lines = Lines::default();
        self.origin_lines(origin, &mut lines);
        if self.credentials {
            lines.set("Access-Control-Allow-Credentials", "true");
        }
        if preflight {
            lines.set("Access-Control-Allow-Methods", &self.methods);
            match &self.allowed_headers {
                None => {
                    lines.vary("Access-Control-Request-Headers");
                    lines.set("Access-Control-Allow-Headers", acrh.unwrap_or(""));
                }
                Some(h) => lines.set("Access-Control-Allow-Headers", h),
            }
            if let Some(m) = self.max_age {
                lines.set("Access-Control-Max-Age", &m.to_string());
            }
        }
        lines.set("Access-Control-Expose-Headers", &self.exposed_headers);
        if preflight && !self.preflight_continue {
            ExpressAnswer::Preflight(self.options_success_status, lines.0)
        } else {
            ExpressAnswer::Continue(lines.0)
        }
    }

    fn origin_lines(&self, origin: Option<&str>, lines: &mut Lines) {
        match &self.origin {
            ExpressOrigin::Off => {}
            ExpressOrigin::Any => lines.set("Access-Control-Allow-Origin", "*"),
            ExpressOrigin::Fixed(o) => {
                lines.set("Access-Control-Allow-Origin", o);
                lines.vary("Origin");
            }
            ExpressOrigin::Reflect => {
                lines.set("Access-Control-Allow-Origin", origin.unwrap_or(""));
                lines.vary("Origin");
            }
            ExpressOrigin::Match(items) => {
                let allowed = origin.filter(|o| items.iter().any(|i| i.matches(o)));
                lines.set("Access-Control-Allow-Origin", allowed.unwrap_or(""));
                lines.vary("Origin");
            }
        }
    }

    /// Whether the request's `Origin` gets an `Access-Control-Allow-Origin` that names it.
    pub fn allows_origin(&self, origin: &str) -> bool {
        match &self.origin {
            ExpressOrigin::Off => false,
            ExpressOrigin::Any | ExpressOrigin::Reflect => true,
            ExpressOrigin::Fixed(o) => o == origin,
            ExpressOrigin::Match(items) => items.iter().any(|i| i.matches(origin)),
        }
    }

    /// `cors({ … })` as it would be written in the Express app.
    pub fn to_js(&self) -> String {
        options_js(&self.options)
    }

    /// The options as a JSON object (key order is serde_json's, not the file's).
    pub fn options_json(&self) -> serde_json::Value {
        let map = self.options.iter().map(|(k, v)| (k.to_string(), v.clone()));
        serde_json::Value::Object(map.collect())
    }

    /// Names of the options that differ, for the reload line.
    pub fn changed_options(&self, other: &Self) -> Vec<&'static str> {
        let pairs = [
            ("origin", self.origin != other.origin),
            ("methods", self.methods != other.methods),
            (
                "allowedHeaders",
                self.allowed_headers != other.allowed_headers,
            ),
            (
                "exposedHeaders",
                self.exposed_headers != other.exposed_headers,
            ),
            ("credentials", self.credentials != other.credentials),
            ("maxAge", self.max_age != other.max_age),
            (
                "preflightContinue",
                self.preflight_continue != other.preflight_continue,
            ),
            (
                "optionsSuccessStatus",
                self.options_success_status != other.options_success_status,
            ),
        ];
        pairs.iter().filter(|(_, d)| *d).map(|(n, _)| *n).collect()
    }
}

/// Response header lines in the order Node first sets them. `res.setHeader` replaces a value
/// in place, and the `vary` package merges into the one `Vary` line, so no name repeats.
#[derive(Default)]
struct Lines(Vec<(&'static str, String)>);

impl Lines {
    /// `res.setHeader` as the middleware calls it: an empty value sets nothing.
    fn set(&mut self, name: &'static str, value: &str) {
        if value.is_empty() {
            return;
        }
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(line) => line.1 = value.to_string(),
            None => self.0.push((name, value.to_string())),
        }
    }

    /// The `vary` package: append `field` to the `Vary` line unless it is listed already.
    fn vary(&mut self, field: &str) {
        match self.0.iter_mut().find(|(n, _)| *n == "Vary") {
            Some((_, v)) => {
                let listed = v.split(',').any(|f| f.trim().eq_ignore_ascii_case(field));
                if !listed && v != "*" {
                    v.push_str(", ");
                    v.push_str(field);
                }
            }
            None => self.0.push(("Vary", field.to_string())),
        }
    }
}

#[cfg(test)]
mod tests;
