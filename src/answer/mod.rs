//! The commands that answer "what will the browser do?": `explain` (recorded exchanges),
//! `check` (the sandbox's own API, in-process) and `probe` (a live server).
//!
//! Owns turning flags into a `browser::Request`, printing verdicts (text or `--json`) and the
//! exit-code rule in one place: 0, or 1 when `--fail-on-blocked` is given and any verdict is
//! blocked; bad input is an [`AnswerError`] (exit 2).

mod check;
mod explain;
mod har;
mod http;
mod probe;
mod stack_out;

use std::fmt::Write as _;

pub use check::{check, CheckOptions};
pub use explain::{explain, parse as parse_recorded, read_text, Recorded};
pub use har::{inferred_credentials, judge_as, judge_import, judge_item, probe_command};
pub use probe::{probe, probe_exchange, ProbeOptions, Probed};
pub use stack_out::{parse_stack, render_text as render_stack_fix, StackOpts, StackPlan};

use crate::browser::{self, Browser, Credentials, HeaderList, Mode, Response, Scenario, Verdict};

/// Bad input to one of the answering commands.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("{}", .0.render())]
    Config(#[from] crate::config::ConfigError),
    #[error("{}", .0.render())]
    Load(#[from] crate::state::OriginLoadError),
    #[error("the config has no api origin")]
    NoApiOrigin,
    #[error("{0}")]
    Usage(String),
}

/// What the browser is asked to do, from the command line.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub origin: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub credentials: Credentials,
    pub mode: Mode,
}

impl RequestSpec {
    pub fn to_request(&self, url: &str) -> browser::Request {
        let mut r = browser::Request::new(url, &self.origin);
        r.method = self.method.clone();
        for (n, v) in &self.headers {
            r.headers.push(n.clone(), v.clone());
        }
        r.credentials = self.credentials;
        r.mode = self.mode;
        r
    }
}

/// Parses `-H 'Name: value'` the way curl does.
pub fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("expected 'Name: value', got `{s}`"))?;
    let name = name.trim();
    if !browser::is_token(name) {
        return Err(format!("`{name}` is not a valid header name"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Parses `--credentials omit|same-origin|include`.
pub fn parse_credentials(s: &str) -> Result<Credentials, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("`{s}`: expected omit, same-origin or include"))
}

/// Parses `--mode cors|no-cors|same-origin`.
pub fn parse_mode(s: &str) -> Result<Mode, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("`{s}`: expected cors, no-cors or same-origin"))
}

/// Which engines a command speaks for (`--browser`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engines {
    One(Browser),
    /// Every engine, in the order chromium, firefox, webkit.
    All,
}

impl Default for Engines {
    fn default() -> Self {
        Engines::One(Browser::Chromium)
    }
}

impl Engines {
    pub fn list(self) -> Vec<Browser> {
        match self {
            Engines::One(b) => vec![b],
            Engines::All => Browser::ALL.to_vec(),
        }
    }
}

/// Parses `--browser chromium|firefox|webkit|all` (also `chrome`, `safari`).
pub fn parse_engines(s: &str) -> Result<Engines, String> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(Engines::All);
    }
    Browser::parse(s)
        .map(Engines::One)
        .ok_or_else(|| format!("`{s}`: expected chromium, firefox, webkit or all"))
}

/// How answers are printed and judged.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub json: bool,
    pub fail_on_blocked: bool,
    pub engines: Engines,
    /// `--stack` and its companions, as given.
    pub stack: StackOpts,
    /// The stack fix to add to each verdict, once `--stack-config` is read
    /// ([`Output::with_stack`]).
    pub stack_plan: Option<StackPlan>,
}

/// The outcome of a command: what to print and the exit code.
#[derive(Debug)]
pub struct Report {
    pub text: String,
    pub exit_code: u8,
    /// For standard error: e.g. that a HAR held no cross-origin request.
    pub notes: Vec<String>,
}

impl Output {
    /// Reads `--stack-config` so that [`Output::finish`] can add each verdict's stack fix;
    /// `detect` lets the answers name the stack when `--stack` is absent.
    pub fn with_stack(mut self, detect: bool) -> Result<Output, AnswerError> {
        self.stack_plan = self.stack.plan(detect)?;
        Ok(self)
    }

    /// Renders verdicts and applies the exit-code rule. `single` keeps a lone scenario's JSON
    /// an object rather than a one-element array.
    /// With several engines, `items` holds each scenario's verdicts one after another, in
    /// the order of [`Engines::list`]: JSON is then an array, and text puts the engines side
    /// by side.
    pub fn finish(&self, items: &[(Scenario, Verdict)], single: bool) -> Report {
        let blocked = items.iter().any(|(_, v)| !v.is_allowed());
        let per = self.engines.list().len();
        let text = if !self.json && per > 1 {
            items
                .chunks(per)
                .map(|chunk| {
                    let verdicts: Vec<Verdict> = chunk.iter().map(|(_, v)| v.clone()).collect();
                    let text = browser::render_engines(&chunk[0].0, &verdicts);
                    self.with_stack_text(text, &chunk[0].0, &chunk[0].1)
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else if self.json {
            let mut verdicts: Vec<serde_json::Value> =
                items.iter().map(|(s, v)| self.verdict_json(s, v)).collect();
            let value = if single && verdicts.len() == 1 {
                verdicts.remove(0)
            } else {
                serde_json::Value::Array(verdicts)
            };
            format!("{value:#}\n")
        } else {
            items
                .iter()
                .map(|(s, v)| self.with_stack_text(with_responses(s, v), s, v))
                .collect::<Vec<_>>()
                .join("\n")
        };
        Report {
            text,
            exit_code: u8::from(self.fail_on_blocked && blocked),
            notes: Vec::new(),
        }
    }
}

impl Output {
    /// A verdict as JSON, with its `stack_fix` when one is asked for and applies.
    fn verdict_json(&self, s: &Scenario, v: &Verdict) -> serde_json::Value {
        let mut value = serde_json::to_value(v).unwrap_or_default();
        let fix = self.stack_plan.as_ref().and_then(|p| p.fix(s, v));
        if let (Some(fix), Some(map)) = (fix, value.as_object_mut()) {
            map.insert(
                "stack_fix".into(),
                serde_json::to_value(fix).unwrap_or_default(),
            );
        }
        value
    }

    /// `text` followed by the stack fix's snippet, when one is asked for and applies.
    pub(crate) fn with_stack_text(&self, mut text: String, s: &Scenario, v: &Verdict) -> String {
        if let Some(fix) = self.stack_plan.as_ref().and_then(|p| p.fix(s, v)) {
            text.push_str(&stack_out::render_text(&fix));
        }
        text
    }
}

fn response_lines(out: &mut String, label: &str, r: &Response) {
    let _ = writeln!(out, "{label:<10} {}", r.status);
    for (n, v) in r.headers.lines() {
        let _ = writeln!(out, "           {n}: {v}");
    }
}

/// The model's report plus the raw responses it judged (what `check` and `probe` saw).
fn with_responses(s: &Scenario, v: &Verdict) -> String {
    let mut out = browser::render_text(s, v);
    let mut raw = String::new();
    if let Some(p) = &s.preflight_response {
        response_lines(&mut raw, "preflight←", p);
    }
    if let Some(a) = &s.actual_response {
        response_lines(&mut raw, "response←", a);
    }
    for (i, hop) in s.redirects.iter().enumerate() {
        response_lines(&mut raw, &format!("hop {}←", i + 1), &hop.response);
    }
    if !raw.is_empty() {
        out.push_str("answers (as received):\n");
        out.push_str(&raw);
    }
    out
}

/// Header lines from a list of (name, value).
pub fn header_list(pairs: &[(String, String)]) -> HeaderList {
    let mut h = HeaderList::new();
    for (n, v) in pairs {
        h.push(n.clone(), v.clone());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_parsers() {
        assert_eq!(
            parse_header("X-PKR-Auth: token 1").unwrap(),
            ("X-PKR-Auth".into(), "token 1".into())
        );
        assert!(parse_header("nocolon").is_err());
        assert!(parse_header("Bad Name: x").is_err());
        assert_eq!(parse_credentials("include").unwrap(), Credentials::Include);
        assert!(parse_credentials("always").is_err());
        assert_eq!(parse_mode("no-cors").unwrap(), Mode::NoCors);
    }
}
