//! `sandbox probe URL`: plays the exchange a browser would have with a live server — the
//! preflight when one is due, the request, each redirect hop with the browser's own rules —
//! over a real HTTP client, and judges the real answers. The model decides every step
//! ([`Drive`]); this module only checks the input, moves the bytes and reports.

mod input;
mod notes;

use std::fmt::Write as _;
use std::path::PathBuf;

use super::http::{Answer, Client, ClientOptions};
use super::{AnswerError, Output, Report, RequestSpec};
use crate::browser::{
    self, Browser, Drive, FixContext, HeaderList, Next, Scenario, Verdict, WireRequest,
};

/// Requests one probe may send: the model stops at 20 redirects, each with a preflight, so
/// this only guards against a model bug looping.
const MAX_WIRE: usize = 44;

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub url: String,
    pub request: RequestSpec,
    /// Bounds each whole answer, in seconds.
    pub timeout_secs: f64,
    pub cacert: Option<PathBuf>,
    pub insecure: bool,
    pub data: Option<String>,
    pub data_file: Option<PathBuf>,
    /// `name=value` pairs sent as a Cookie header when the browser would send cookies.
    pub cookies: Vec<String>,
}

/// One request sent and its answer.
#[derive(Debug, Clone)]
pub(super) struct Exchanged {
    pub preflight: bool,
    pub method: String,
    pub url: String,
    pub answer: Answer,
}

/// A finished probe: the exchange as answered, the verdict, and what went over the wire.
#[derive(Debug, Clone)]
pub struct Probed {
    pub scenario: Scenario,
    pub verdict: Verdict,
    /// The request body sent, as text (lossy for bytes that are not UTF-8).
    pub request_body: Option<String>,
    /// The first 64 KiB of the last answer's body.
    pub response_body: Vec<u8>,
    /// Whether any request that went out carried a Cookie line.
    pub sent_cookie: bool,
    exchanged: Vec<Exchanged>,
}

pub fn probe(opts: &ProbeOptions, out: Output) -> Result<Report, AnswerError> {
    let out = out.with_stack(true)?;
    let engines = out.engines.list();
    if let [one] = engines.as_slice() {
        let p = probe_exchange_in(opts, *one)?;
        return Ok(render(&p.scenario, p.verdict, &p.exchanged, out));
    }
    // Each engine plays its own exchange with the server: what it sends after a redirect
    // (its preflight's Origin, a User-Agent) can change what the server answers.
    let mut items = Vec::new();
    for b in engines {
        let p = probe_exchange_in(opts, b)?;
        items.push((p.scenario, p.verdict));
    }
    Ok(out.finish(&items, false))
}

/// Plays the exchange with the live server as Chromium would and judges it (what `probe`
/// prints, and what `fixtures new --from-probe` records).
pub fn probe_exchange(opts: &ProbeOptions) -> Result<Probed, AnswerError> {
    probe_exchange_in(opts, Browser::Chromium)
}

/// [`probe_exchange`] as `browser` would play it.
pub fn probe_exchange_in(opts: &ProbeOptions, browser: Browser) -> Result<Probed, AnswerError> {
    let checked = input::check(opts)?;
    let client = Client::new(&ClientOptions {
        timeout: checked.timeout,
        cacert: opts.cacert.clone(),
        insecure: opts.insecure,
    })
    .map_err(|e| AnswerError::Usage(e.to_string()))?;
    let mut spec = opts.request.clone();
    spec.origin = checked.origin.clone();
    let typed = spec
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    if checked.body.is_some() && !typed {
        // What fetch() adds for a string body (a safelisted type: no preflight).
        spec.headers.push((
            "Content-Type".to_owned(),
            "text/plain;charset=UTF-8".to_owned(),
        ));
    }
    let mut drive = Drive::new_in(spec.to_request(&opts.url), FixContext::Generic, browser);
    let mut exchanged: Vec<Exchanged> = Vec::new();
    let mut sent_cookie = false;
    let mut v = loop {
        let wire = match drive.next() {
            Next::Done(v) => break *v,
            Next::Send(_) if exchanged.len() >= MAX_WIRE => {
                break drive.failed("net::ERR_TOO_MANY_REDIRECTS", "too many requests", None)
            }
            Next::Send(w) => w,
        };
        let headers = wire_headers(&wire, checked.cookie.as_deref());
        sent_cookie |= headers.contains("cookie");
        let body = checked.body.as_deref().filter(|_| wire.with_body);
        match client.send(&wire.method, &wire.url, &headers, body) {
            Ok(answer) => {
                drive.answer(&wire, answer.response.clone());
                exchanged.push(Exchanged {
                    preflight: wire.preflight,
                    method: wire.method.clone(),
                    url: wire.url.clone(),
                    answer,
                });
            }
            Err(e) => {
                let what = format!("{} {}: {}", wire.method, wire.url, e.sentence);
                break drive.failed(e.net_error, &what, net_fix(e.net_error));
            }
        }
    };
    notes::add(&mut v, &exchanged);
    if let Some(note) = &checked.origin_note {
        v.notes.insert(0, note.clone());
    }
    if opts.insecure {
        v.notes.insert(
            0,
            "--insecure: certificates were not verified; a browser would check them".to_owned(),
        );
    }
    let response_body = exchanged
        .iter()
        .rev()
        .find(|e| !e.preflight)
        .map(|e| e.answer.body.clone())
        .unwrap_or_default();
    Ok(Probed {
        scenario: drive.scenario().clone(),
        verdict: v,
        request_body: checked
            .body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        response_body,
        sent_cookie,
        exchanged,
    })
}

/// What goes out: the headers the model built, plus the Cookie line a browser adds when it
/// sends credentials.
fn wire_headers(wire: &WireRequest, cookie: Option<&str>) -> HeaderList {
    let mut headers = wire.headers.clone();
    if let (true, Some(c)) = (wire.with_credentials, cookie) {
        headers.push("Cookie", c);
    }
    headers
}

fn net_fix(net_error: &str) -> Option<String> {
    let text = match net_error {
        "net::ERR_CERT_AUTHORITY_INVALID" => {
            "the certificate is not signed by a CA this machine trusts: trust the CA (mkcert \
             -install, or your company's CA), or probe with --cacert CA.pem"
        }
        "net::ERR_CERT_COMMON_NAME_INVALID" => {
            "the certificate does not name this host: issue one whose subjectAltName lists it"
        }
        "net::ERR_CERT_DATE_INVALID" => "the certificate has expired or is not valid yet: renew it",
        "net::ERR_CONNECTION_REFUSED" => {
            "nothing listens there: start the server, or check the host and port"
        }
        "net::ERR_NAME_NOT_RESOLVED" => "the host name does not resolve: check its spelling",
        "net::ERR_TIMED_OUT" => {
            "the server did not answer in time: check it is up, or raise --timeout"
        }
        "net::ERR_INVALID_HTTP_RESPONSE" => {
            "the server's answer is malformed (Chromium refuses it before CORS): fix its framing"
        }
        _ => return None,
    };
    Some(text.to_owned())
}

fn render(s: &Scenario, v: Verdict, exchanged: &[Exchanged], out: Output) -> Report {
    if out.json {
        return out.finish(&[(s.clone(), v)], true);
    }
    let mut text = out.with_stack_text(browser::render_text(s, &v), s, &v);
    if !exchanged.is_empty() {
        text.push_str("answers (as received):\n");
    }
    for e in exchanged {
        let label = if e.preflight { "preflight" } else { "request" };
        let r = &e.answer.response;
        let _ = writeln!(
            text,
            "{label:<10} {} {} → {} {}",
            e.method, e.url, e.answer.version, r.status
        );
        for (n, value) in r.headers.lines() {
            let _ = writeln!(text, "           {n}: {value}");
        }
    }
    Report {
        exit_code: u8::from(out.fail_on_blocked && !v.is_allowed()),
        text,
        notes: Vec::new(),
    }
}
