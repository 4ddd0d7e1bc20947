//! The journal: the terminal log and the ring of recent requests ([`Ring`]).
//!
//! The terminal log: one line per request, per reload attempt and per listener, as text or as
//! JSON objects (an interface: the `event` names and fields are documented in README.md and
//! kept stable).
//!
//! Owns formatting and writing whole lines. It does not decide what happened; callers pass
//! finished records. Lines are written under one lock so concurrent workers never interleave.

mod redact;
mod ring;
mod verdict;

pub use redact::{is_secret_header, mentions_secret, redact, secret_name, Redactor};
pub use ring::{Entry, HeaderLines, Ring, RING_CAPACITY};
pub use verdict::{EngineVerdict, EngineVerdicts, VerdictSummary};

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc;
use std::sync::Arc;

use serde::Serialize;

use crate::browser::NoResponse;

use serde_json::json;

/// How log lines are written: for people, or one JSON object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// One request as the access log reports it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestRecord {
    pub origin_name: String,
    pub method: String,
    pub path: String,
    /// `None` when the client got no response at all ([`RequestRecord::no_response`]).
    pub status: Option<u16>,
    /// How the connection ended when there was no response (the routes file's `fault`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_response: Option<NoResponse>,
    /// The request's `Origin` header, when it had one.
    pub origin: Option<String>,
    pub preflight: bool,
    /// A cross-origin request that needs a preflight (by the browser model's rule): when the
    /// journal holds such an actual request but no preflight, the browser used a cached one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub preflight_required: bool,
    pub duration_ms: f64,
    /// What the browser will decide (API origins, cross-origin requests only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Arc<VerdictSummary>>,
    /// Present when a credentialed fetch would fare differently than this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_if_credentialed: Option<Arc<VerdictSummary>>,
    /// Each engine's verdict, keyed by engine (`verdict` is Chromium's, kept for the pages
    /// and scripts that read it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdicts: Option<Arc<EngineVerdicts>>,
    /// Present when a credentialed fetch would fare differently in any engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdicts_if_credentialed: Option<Arc<EngineVerdicts>>,
    /// What the browser does with the cookies of this exchange: each `Set-Cookie` line the
    /// API sent, and each cookie it set earlier that this request should carry but did not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<crate::browser::CookieVerdict>,
    /// The other engines' cookie verdicts, keyed by engine, for each engine whose verdicts
    /// differ from `cookies` (Chromium's).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cookies_in: BTreeMap<crate::browser::Browser, Vec<crate::browser::CookieVerdict>>,
    /// The names of the cookies the request carried (never their values).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub carried_cookies: Vec<String>,
}

/// One cookie verdict under its request's line: `cookie sid: ✗ not stored: … → fix`, or
/// `cookie sid in Firefox: ✓ …` for another engine's that differs from Chromium's.
fn cookie_line(
    line: &mut String,
    c: &crate::browser::CookieVerdict,
    engine: Option<crate::browser::Browser>,
) {
    let mark = if c.is_through() { "✓" } else { "✗" };
    line.push_str("\n           cookie ");
    line.push_str(&c.name);
    if let Some(e) = engine {
        line.push_str(" in ");
        line.push_str(e.display_name());
    }
    line.push_str(": ");
    line.push_str(mark);
    line.push(' ');
    line.push_str(&c.reason);
    if let Some(f) = &c.fix {
        line.push_str(" → ");
        line.push_str(f);
    }
}

/// Whether `list` says of `c`'s cookie what `c` says.
fn says_the_same(
    list: &[crate::browser::CookieVerdict],
    c: &crate::browser::CookieVerdict,
) -> bool {
    list.iter()
        .any(|m| m.name == c.name && m.action == c.action && m.outcome == c.outcome)
}

/// Who ends a connection without a response in a sandbox: the routes file's `fault`.
pub const FAULT_CAUSE: &str = "the sandbox's fault injection";

/// Lines go to one writer thread, so a worker never waits on the terminal (a slow terminal
/// must not slow the API down) and lines written under load share one flush.
pub struct Log {
    format: LogFormat,
    tx: mpsc::Sender<Msg>,
}

impl Drop for Log {
    fn drop(&mut self) {
        self.flush();
    }
}

enum Msg {
    Line(String),
    /// Write everything queued before this, then answer.
    Flush(mpsc::Sender<()>),
}

/// After writing a batch the writer naps this long before it waits again. A sender wakes the
/// writer only when it is waiting, and under load that wake-up (a futex call and a context
/// switch on every request) cost more than the line itself; napping, it is woken at most a few
/// hundred times a second, and a line reaches the terminal at most this much later.
const BATCH_NAP: std::time::Duration = std::time::Duration::from_millis(2);

fn write_lines(mut out: Box<dyn Write + Send>, rx: mpsc::Receiver<Msg>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, &mut out);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Line(l) => {
                    let _ = writeln!(out, "{l}");
                }
                Msg::Flush(ack) => {
                    let _ = out.flush();
                    let _ = ack.send(());
                }
            }
            next = rx.try_recv().ok();
        }
        let _ = out.flush();
        // Lines sent meanwhile queue up without waking anyone; the next `recv` takes them.
        std::thread::sleep(BATCH_NAP);
    }
    let _ = out.flush();
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log").field("format", &self.format).finish()
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn now_clock() -> String {
    let mut s = String::with_capacity(12);
    push_clock(&mut s);
    s
}

/// Appends the UTC time of day as `HH:MM:SS.mmm`. Every request line starts with it, so it is
/// written from the seconds since the epoch (a day is 86,400 of them in UTC) rather than
/// through a calendar date and the formatter.
fn push_clock(out: &mut String) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() % 86_400;
    let two = |out: &mut String, n: u64| {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    };
    two(out, secs / 3600);
    out.push(':');
    two(out, secs / 60 % 60);
    out.push(':');
    two(out, secs % 60);
    out.push('.');
    let ms = u64::from(since.subsec_millis());
    out.push(char::from(b'0' + (ms / 100) as u8));
    two(out, ms % 100);
}

/// Appends `text` left-aligned in `width` characters, as `{:<width}` does.
fn push_padded(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    for _ in text.chars().count()..width {
        out.push(' ');
    }
}

/// Appends milliseconds with one decimal, as `{:.1}` writes them for the durations a request
/// line shows (never negative).
fn push_ms(out: &mut String, ms: f64) {
    let tenths = (ms.max(0.0) * 10.0).round() as u64;
    let _ = std::fmt::Write::write_fmt(out, format_args!("{}", tenths / 10));
    out.push('.');
    out.push(char::from(b'0' + (tenths % 10) as u8));
    out.push_str("ms");
}

impl Log {
    pub fn new(format: LogFormat, out: Box<dyn Write + Send>) -> Self {
        let (tx, rx) = mpsc::channel();
        // If the thread cannot start, lines are dropped rather than the sandbox failing.
        let _ = std::thread::Builder::new()
            .name("sandbox-log".into())
            .spawn(move || write_lines(out, rx));
        Log { format, tx }
    }

    /// Returns once every line logged so far has been written.
    pub fn flush(&self) {
        let (ack, done) = mpsc::channel();
        if self.tx.send(Msg::Flush(ack)).is_ok() {
            let _ = done.recv_timeout(std::time::Duration::from_secs(2));
        }
    }

    pub fn stdout(format: LogFormat) -> Self {
        Self::new(format, Box::new(std::io::stdout()))
    }

    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Takes the line itself: it moves to the writer thread without a copy.
    fn write_line(&self, line: String) {
        let _ = self.tx.send(Msg::Line(line));
    }

    fn emit(&self, event: &str, fields: serde_json::Value, text: impl FnOnce() -> String) {
        self.emit_with(event, || fields, text)
    }

    /// Like `emit`, building the JSON only when the format needs it (the request line is on
    /// the hot path, and serialising it for a text log cost a fifth of a request).
    fn emit_with(
        &self,
        event: &str,
        fields: impl FnOnce() -> serde_json::Value,
        text: impl FnOnce() -> String,
    ) {
        match self.format {
            LogFormat::Json => {
                let mut fields = fields();
                if let Some(obj) = fields.as_object_mut() {
                    obj.insert("event".into(), event.into());
                    obj.insert("time".into(), now_rfc3339().into());
                }
                self.write_line(fields.to_string());
            }
            LogFormat::Text => self.write_line(text()),
        }
    }

    /// Free text for the terminal only (the banner); JSON mode stays machine-readable.
    pub fn banner(&self, text: &str) {
        if self.format == LogFormat::Text {
            self.write_line(text.trim_end().to_string());
        }
    }

    /// `pages`: a static origin's inspector and lab URLs with the run's key, for the scripts
    /// and tests that read the JSON log as a person reads the banner.
    pub fn listening(
        &self,
        name: &str,
        kind: &str,
        url: &str,
        bind: &str,
        pages: Option<(&str, &str)>,
    ) {
        let mut fields = json!({"name": name, "kind": kind, "url": url, "bind": bind});
        if let (Some((inspector, lab)), Some(obj)) = (pages, fields.as_object_mut()) {
            obj.insert("inspector".into(), inspector.into());
            obj.insert("lab".into(), lab.into());
        }
        self.emit("listening", fields, || {
            format!("{} listening {name} {url}", now_clock())
        });
    }

    /// Every origin is accepting connections.
    /// JSON only: in text mode the banner already says so.
    pub fn ready(&self, origins: usize, watched_files: usize) {
        if self.format == LogFormat::Json {
            self.emit(
                "ready",
                json!({"origins": origins, "watched_files": watched_files}),
                String::new,
            );
        }
    }

    pub fn reloaded(&self, origin: &str, file: &str, generation: u64, changed: &str) {
        self.emit(
            "reloaded",
            json!({"origin_name": origin, "file": file, "generation": generation, "changed": changed}),
            || format!("{} reload  {origin} {file} → generation {generation} ({changed})", now_clock()),
        );
    }

    pub fn reload_failed(&self, origin: &str, file: &str, one_line: &str, report: &str) {
        self.emit(
            "reload_failed",
            json!({"origin_name": origin, "file": file, "error": one_line}),
            || {
                format!(
                    "{} reload  {origin} {file} ✗ kept the last good version\n{}",
                    now_clock(),
                    report.trim_end()
                )
            },
        );
    }

    pub fn static_changed(&self, origin: &str, files: &[String], css_only: bool) {
        self.emit(
            "static_changed",
            json!({"origin_name": origin, "files": files, "css_only": css_only}),
            || {
                format!(
                    "{} change  {origin} {} → {}",
                    now_clock(),
                    files.join(", "),
                    if css_only {
                        "swap stylesheets"
                    } else {
                        "reload pages"
                    }
                )
            },
        );
    }

    /// `sandbox up --record` wrote a route for an exchange it had not seen.
    pub fn recorded(&self, origin: &str, route: &str, file: &str) {
        self.emit(
            "recorded",
            json!({"origin": origin, "route": route, "file": file}),
            || format!("{} recorded {origin}: {route} → {file}", now_clock()),
        );
    }

    pub fn warning(&self, message: &str) {
        self.emit("warning", json!({"message": message}), || {
            format!("{} warning {message}", now_clock())
        });
    }

    pub fn request(&self, r: &RequestRecord) {
        self.emit_with(
            "request",
            || serde_json::to_value(r).unwrap_or_default(),
            || {
                // Sized once: the verdict texts appended below would otherwise regrow it.
                let verdicts = r.verdict.as_ref().map_or(0, |v| v.short().len() + 2)
                    + r.verdict_if_credentialed
                        .as_ref()
                        .map_or(0, |v| v.brief().len() + 22);
                let mut line = String::with_capacity(
                    96 + r.path.len() + r.origin.as_ref().map_or(1, String::len) + verdicts,
                );
                // "HH:MM:SS.mmm api      GET     /path 200 origin=… 0.1ms", written piece by
                // piece: through the formatter this line was a fifth of the sandbox's own
                // work on a request.
                push_clock(&mut line);
                line.push(' ');
                push_padded(&mut line, &r.origin_name, 8);
                line.push(' ');
                push_padded(&mut line, &r.method, 7);
                line.push(' ');
                line.push_str(&r.path);
                line.push(' ');
                match r.status {
                    Some(s) => {
                        let _ = std::fmt::Write::write_fmt(&mut line, format_args!("{s}"));
                    }
                    None => line.push('—'),
                }
                line.push_str(" origin=");
                line.push_str(r.origin.as_deref().unwrap_or("-"));
                line.push(' ');
                if r.preflight {
                    line.push_str("preflight ");
                }
                push_ms(&mut line, r.duration_ms);
                if let Some(kind) = r.no_response {
                    // Said whether or not the request was cross-origin: the verdict would
                    // only repeat it.
                    line.push_str("  ✗ ");
                    line.push_str(&kind.sentence(FAULT_CAUSE));
                } else if let Some(v) = &r.verdict {
                    line.push_str("  ");
                    line.push_str(v.short());
                    // Chromium's verdict, and the engines that decide otherwise: "works in
                    // Chrome, fails in Safari" shows on the line where it happens.
                    if let Some(d) = r.verdicts.as_ref().and_then(|e| e.disagreement()) {
                        line.push_str("  [");
                        line.push_str(d);
                        line.push(']');
                    }
                }
                if let Some(v) = &r.verdict_if_credentialed {
                    line.push_str("  (with credentials: ");
                    line.push_str(v.brief());
                    line.push(')');
                }
                for c in &r.cookies {
                    cookie_line(&mut line, c, None);
                }
                // Another engine's line only where it decides otherwise.
                for (engine, cookies) in &r.cookies_in {
                    for c in cookies.iter().filter(|c| !says_the_same(&r.cookies, c)) {
                        cookie_line(&mut line, c, Some(*engine));
                    }
                }
                line
            },
        );
    }

    pub fn stopped(&self) {
        self.emit("stopped", json!({}), || format!("{} stopped", now_clock()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn hand_written_pieces_match_the_formatter() {
        for (text, width) in [("api", 8), ("frontend", 8), ("lahore-api-long", 8), ("", 7)] {
            let mut out = String::new();
            push_padded(&mut out, text, width);
            assert_eq!(out, format!("{text:<width$}"));
        }
        // Durations are kept to the microsecond; a last digit of 5 is a tie the formatter
        // breaks by the binary value, which a log line need not copy.
        for us in (0..200_000u64).filter(|us| us % 100 != 50) {
            let ms = us as f64 / 1e3;
            let mut out = String::new();
            push_ms(&mut out, ms);
            assert_eq!(out, format!("{ms:.1}ms"), "{us} µs");
        }
        let clock = now_clock();
        let b = clock.as_bytes();
        assert_eq!(clock.len(), 12, "{clock}");
        assert!(b[2] == b':' && b[5] == b':' && b[8] == b'.', "{clock}");
        let field = |r: std::ops::Range<usize>| clock[r].parse::<u32>().unwrap();
        assert!(
            field(0..2) < 24 && field(3..5) < 60 && field(6..8) < 60,
            "{clock}"
        );
        let t = time::OffsetDateTime::now_utc();
        // The same hour as the calendar says, unless the test straddles one.
        assert!(
            field(0..2) == u32::from(t.hour()) || t.minute() == 0,
            "{clock}"
        );
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_event_and_fields() {
        let buf = Buf::default();
        let log = Log::new(LogFormat::Json, Box::new(buf.clone()));
        log.request(&RequestRecord {
            origin_name: "api".into(),
            method: "OPTIONS".into(),
            path: "/api/x".into(),
            status: Some(200),
            no_response: None,
            origin: Some("http://localhost:8080".into()),
            preflight: true,
            preflight_required: false,
            duration_ms: 0.4,
            verdict: None,
            verdict_if_credentialed: None,
            verdicts: None,
            verdicts_if_credentialed: None,
            cookies: Vec::new(),
            cookies_in: BTreeMap::new(),
            carried_cookies: Vec::new(),
        });
        log.banner("ignored in json");
        log.flush();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["event"], "request");
        assert_eq!(v["preflight"], true);
        assert_eq!(v["origin"], "http://localhost:8080");
    }

    /// A fault's line says what the browser sees, never a status it does not get.
    #[test]
    fn a_request_without_a_response_is_logged_as_a_network_error() {
        let buf = Buf::default();
        let log = Log::new(LogFormat::Text, Box::new(buf.clone()));
        log.request(&RequestRecord {
            origin_name: "api".into(),
            method: "GET".into(),
            path: "/api/x".into(),
            status: None,
            no_response: Some(NoResponse::Reset),
            origin: Some("http://localhost:8080".into()),
            preflight: false,
            preflight_required: false,
            duration_ms: 0.4,
            verdict: None,
            verdict_if_credentialed: None,
            verdicts: None,
            verdicts_if_credentialed: None,
            cookies: Vec::new(),
            cookies_in: BTreeMap::new(),
            carried_cookies: Vec::new(),
        });
        log.flush();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains(" /api/x — origin=http://localhost:8080 0.4ms  ✗ no response: connection reset by the sandbox's fault injection — a network error in the browser, not CORS"),
            "{text}"
        );
        assert!(!text.contains("444") && !text.contains("allowed"), "{text}");
    }
}
