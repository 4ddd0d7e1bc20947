//! The browser's verdict on a request the API origin just answered, for the log.
//!
//! A server cannot see the page's credentials mode, so: a request that carries cookies was
//! credentialed; otherwise the verdict assumes none, and a second verdict "if credentialed" is
//! added when it would differ. For a preflight, the announced method and headers are judged.

use std::cell::RefCell;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use actix_web::http::header::{self, HeaderMap};
use actix_web::HttpRequest;

use crate::browser::{
    initiator_of_request, is_preflight, judge_actual, judge_preflight, ActualAsked, Browser,
    Credentials, FixContext, HeaderList, Initiator, Outcome, PreflightAsked, Response, Verdict,
};
use crate::journal::{EngineVerdicts, VerdictSummary};
use crate::policy::Policy;
use crate::state::Versioned;

/// The verdict(s) for one exchange, shared: a repeated exchange costs no copy.
#[derive(Debug, Clone)]
pub struct Verdicts {
    pub verdict: Arc<VerdictSummary>,
    /// Present when the request carried no cookies and a credentialed fetch would fare
    /// differently.
    pub if_credentialed: Option<Arc<VerdictSummary>>,
    /// Each engine's verdict under the same credentials as `verdict`.
    pub engines: Arc<EngineVerdicts>,
    /// Each engine's verdict with credentials, when the request carried no cookies and a
    /// credentialed fetch would fare differently in any engine.
    pub engines_if_credentialed: Option<Arc<EngineVerdicts>>,
}

/// What of the request the model needs, copied out only when an exchange is new to the memo.
#[derive(Debug, Clone)]
struct Seen {
    origin: String,
    url: String,
    method: String,
    preflight: bool,
    requested_method: Option<String>,
    requested_headers: Vec<String>,
    has_cookies: bool,
    /// An element's load or `fetch()`, from `Sec-Fetch-Dest` (and `Accept`).
    initiator: Initiator,
}

impl Seen {
    fn capture(headers: &HeaderMap, origin: String, url: String, method: &str) -> Seen {
        let get = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let requested_method = get("access-control-request-method");
        Seen {
            origin,
            url,
            method: method.to_string(),
            preflight: is_preflight(method, |n| headers.contains_key(n)),
            requested_method,
            requested_headers: get("access-control-request-headers")
                .map(|v| {
                    v.split(',')
                        .map(|h| h.trim().to_string())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            has_cookies: headers.contains_key("cookie"),
            initiator: initiator_of_request(
                get("sec-fetch-dest").as_deref(),
                get("accept").as_deref(),
            ),
        }
    }
}

fn response_of(status: u16, headers: &HeaderMap) -> Response {
    let mut h = HeaderList::new();
    for (n, v) in headers {
        h.push(
            n.as_str(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        );
    }
    Response { status, headers: h }
}

fn judge(
    seen: &Seen,
    response: &Response,
    credentials: Credentials,
    ctx: &FixContext,
    browser: Browser,
) -> Verdict {
    match (&seen.requested_method, seen.preflight) {
        (Some(m), true) => judge_preflight(
            PreflightAsked {
                origin: &seen.origin,
                url: &seen.url,
                method: m,
                headers: &seen.requested_headers,
            },
            credentials,
            response,
            ctx,
            browser,
        ),
        _ => judge_actual(
            ActualAsked {
                origin: &seen.origin,
                url: &seen.url,
                method: &seen.method,
                credentials,
                initiator: seen.initiator,
            },
            response,
            ctx,
            browser,
        ),
    }
}

/// In actix-cors mode the policy knows why a request was refused better than the response
/// does (see `ActixCorsPolicy::refusal`); use that as the fix.
fn refine_fix(v: &mut Verdict, seen: &Seen, policy: Option<&Policy>) {
    let preflight = match (&seen.requested_method, seen.preflight) {
        (Some(m), true) => Some((m.as_str(), seen.requested_headers.as_slice())),
        _ => None,
    };
    let blocked_by_cors = v.outcome == Outcome::Blocked && v.cors_error.is_some();
    if let Some(fix) = policy.and_then(|p| p.refusal_fix(blocked_by_cors, &seen.origin, preflight))
    {
        v.fix = Some(fix);
    }
}

/// Verdicts remembered per worker thread. A dev session repeats the same few exchanges, and
/// judging one runs the whole model six times (three engines, with and without credentials); a hit costs writing
/// the key and one lookup (the measurements: docs/PERFORMANCE.md, "What was profiled").
const MEMO_CAPACITY: usize = 512;

type Memo = std::collections::HashMap<Box<[u8]>, Verdicts, BuildHasherDefault<WordHasher>>;

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
    /// The key being written, reused so a lookup allocates nothing.
    static KEY: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}

/// A hasher that takes eight bytes a step. The memo compares whole keys, so a weak hash can
/// only cost a probe, never a wrong verdict, and SipHash over every key showed in profiles.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("eight bytes")));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 56));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl WordHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// What made the request (an element's load or `fetch()`), as the browser says it.
const SEC_FETCH_DEST: header::HeaderName = header::HeaderName::from_static("sec-fetch-dest");

/// Writes everything a verdict depends on into `key`, read straight from the exchange: the
/// policy version, the request as the browser sent it, and the parts of the response the
/// browser reads for CORS (status, `Access-Control-*`, `Location`). Every field is
/// length-prefixed, so two different exchanges never write the same key.
fn write_key(
    key: &mut Vec<u8>,
    req: &HttpRequest,
    api_url: &str,
    status: u16,
    response: &HeaderMap,
    policy: Option<&Versioned<Policy>>,
) {
    fn field(key: &mut Vec<u8>, bytes: &[u8]) {
        key.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        key.extend_from_slice(bytes);
    }
    key.clear();
    // The generation only grows, and the URL names the API origin, so a reload can never be
    // answered from an older policy's entries.
    match policy {
        Some(p) => {
            field(key, &p.generation.to_le_bytes());
            field(key, p.value.file_name.as_bytes());
        }
        None => field(key, b""),
    }
    field(key, api_url.as_bytes());
    let uri = req.uri();
    field(key, uri.scheme_str().unwrap_or("").as_bytes());
    field(key, uri.authority().map_or("", |a| a.as_str()).as_bytes());
    field(
        key,
        uri.path_and_query().map_or("", |p| p.as_str()).as_bytes(),
    );
    field(key, req.method().as_str().as_bytes());
    // Named by constant: a header looked up by a string is parsed into a name first, which
    // showed up in profiles of this path.
    for name in [
        header::ORIGIN,
        header::ACCESS_CONTROL_REQUEST_METHOD,
        header::ACCESS_CONTROL_REQUEST_HEADERS,
        SEC_FETCH_DEST,
        header::ACCEPT,
    ] {
        match req.headers().get(name) {
            Some(v) => field(key, v.as_bytes()),
            None => key.push(0xff),
        }
    }
    key.push(u8::from(req.headers().contains_key(header::COOKIE)));
    key.extend_from_slice(&status.to_le_bytes());
    // A header map's order differs from one response to the next: sorted by name, the same
    // headers always write the same key. Values of one name keep their order.
    let mut names: Vec<&header::HeaderName> = response
        .keys()
        .filter(|n| n.as_str().starts_with("access-control-") || *n == header::LOCATION)
        .collect();
    names.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    for name in names {
        field(key, name.as_str().as_bytes());
        for v in response.get_all(name) {
            field(key, v.as_bytes());
        }
        key.push(0xff);
    }
}

/// Judges an exchange the API origin at `api_url` just answered, under the policy (and
/// generation) it was served with, remembering recent answers. `None` for a request without
/// `Origin` (same-origin or not from a browser page).
pub fn verdicts(
    req: &HttpRequest,
    api_url: &str,
    status: u16,
    response: &HeaderMap,
    policy: Option<&Versioned<Policy>>,
) -> Option<Verdicts> {
    let origin = req.headers().get(header::ORIGIN)?.to_str().ok()?;
    KEY.with(|key| {
        let mut key = key.borrow_mut();
        write_key(&mut key, req, api_url, status, response, policy);
        if let Some(v) = MEMO.with(|m| m.borrow().get(key.as_slice()).cloned()) {
            return Some(v);
        }
        let url = format!("{api_url}{}", req.uri());
        let seen = Seen::capture(
            req.headers(),
            origin.to_string(),
            url,
            req.method().as_str(),
        );
        let v = judge_all(
            &seen,
            &response_of(status, response),
            policy.map(|p| &p.value),
        );
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.len() >= MEMO_CAPACITY {
                m.clear();
            }
            m.insert(key.as_slice().into(), v.clone());
        });
        Some(v)
    })
}

fn judge_all(seen: &Seen, response: &Response, policy: Option<&Policy>) -> Verdicts {
    let ctx = match policy {
        Some(p) => FixContext::Sandbox {
            policy_file: p.fix_target(),
            exact_mode: p.is_exact(),
        },
        None => FixContext::Generic,
    };
    // Chromium's verdict is the journal's `verdict`; the three engines' are `verdicts`.
    let judged = |c| -> (Arc<VerdictSummary>, Arc<EngineVerdicts>) {
        let engine = |b| {
            let mut v = judge(seen, response, c, &ctx, b);
            refine_fix(&mut v, seen, policy);
            v
        };
        let (chromium, engines) = EngineVerdicts::judged(engine);
        (
            Arc::new(VerdictSummary::from_verdict(&chromium).finish()),
            Arc::new(engines),
        )
    };
    if seen.has_cookies {
        let (verdict, engines) = judged(Credentials::Include);
        return Verdicts {
            verdict,
            if_credentialed: None,
            engines,
            engines_if_credentialed: None,
        };
    }
    let (plain, plain_engines) = judged(Credentials::Omit);
    let (cred, cred_engines) = judged(Credentials::Include);
    let differs = plain.outcome != cred.outcome || plain.cors_error != cred.cors_error;
    let engines_differ = plain_engines.differs_from(&cred_engines);
    Verdicts {
        verdict: plain,
        if_credentialed: differs.then_some(cred),
        engines: plain_engines,
        engines_if_credentialed: engines_differ.then_some(cred_engines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use actix_web::test::TestRequest;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn request(method: &str, pairs: &[(&str, &str)]) -> HttpRequest {
        let mut r = TestRequest::default()
            .method(method.parse().unwrap())
            .uri("/api/payment")
            .insert_header(("origin", PAGE));
        for (k, v) in pairs {
            r = r.append_header((*k, *v));
        }
        r.to_http_request()
    }

    const PAGE: &str = "http://karachi-dev.localhost:8080";
    const API: &str = "http://lahore-api.localhost:3000";

    #[test]
    fn preflight_judges_the_announced_headers() {
        let req = request(
            "OPTIONS",
            &[
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type,x-pkr-auth"),
            ],
        );
        let res = headers(&[
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-methods", "PUT"),
            ("access-control-allow-headers", "content-type"),
        ]);
        let v = verdicts(&req, API, 200, &res, None).unwrap();
        assert_eq!(
            v.verdict.cors_error.map(crate::browser::CorsError::name),
            Some("HeaderDisallowedByPreflightResponse")
        );
        assert_eq!(v.verdict.failed_parameter.as_deref(), Some("x-pkr-auth"));
        assert!(
            v.verdict
                .short()
                .starts_with("✗ blocked: Request header field x-pkr-auth is not allowed"),
            "{}",
            v.verdict.short()
        );
        // Remembered, and told apart from an exchange that differs in one announced header.
        let again = verdicts(&req, API, 200, &res, None).unwrap();
        assert!(Arc::ptr_eq(&v.verdict, &again.verdict));
        let fine = request(
            "OPTIONS",
            &[
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type"),
            ],
        );
        let v = verdicts(&fine, API, 200, &res, None).unwrap();
        assert_eq!(v.verdict.outcome, Outcome::Allowed, "{v:?}");
    }

    #[test]
    fn the_memo_key_ignores_header_order_but_not_values() {
        let req = request("GET", &[]);
        let a = headers(&[
            ("access-control-allow-origin", PAGE),
            ("access-control-expose-headers", "x-a"),
            ("content-type", "text/plain"),
        ]);
        let b = headers(&[
            ("content-type", "application/json"),
            ("access-control-expose-headers", "x-a"),
            ("access-control-allow-origin", PAGE),
        ]);
        let c = headers(&[
            ("access-control-allow-origin", "http://other.localhost"),
            ("access-control-expose-headers", "x-a"),
        ]);
        let key = |req: &HttpRequest, status: u16, h: &HeaderMap| {
            let mut k = Vec::new();
            write_key(&mut k, req, API, status, h, None);
            k
        };
        assert_eq!(key(&req, 200, &a), key(&req, 200, &b));
        assert_ne!(key(&req, 200, &a), key(&req, 200, &c));
        assert_ne!(key(&req, 200, &a), key(&req, 404, &a));
        assert_ne!(key(&req, 200, &a), key(&request("PUT", &[]), 200, &a));
        // Field boundaries are part of the key: moving a byte from one field to the next
        // changes it.
        let split = |m: &str, h: &str| {
            key(
                &request(
                    "OPTIONS",
                    &[
                        ("access-control-request-method", m),
                        ("access-control-request-headers", h),
                    ],
                ),
                200,
                &a,
            )
        };
        assert_ne!(split("PU", "Tx"), split("PUT", "x"));
    }

    #[test]
    fn credentials_give_a_second_verdict_only_when_it_differs() {
        let plain = request("GET", &[]);
        let star = headers(&[("access-control-allow-origin", "*")]);
        let v = verdicts(&plain, API, 200, &star, None).unwrap();
        assert_eq!(v.verdict.outcome, Outcome::Allowed);
        let cred = v.if_credentialed.unwrap();
        assert_eq!(
            cred.cors_error.map(crate::browser::CorsError::name),
            Some("WildcardOriginNotAllowed")
        );
        assert!(
            cred.brief().starts_with("✗ WildcardOriginNotAllowed → "),
            "{}",
            cred.brief()
        );
        assert_eq!(v.verdict.brief(), "✓ allowed");
        let exact = headers(&[("access-control-allow-origin", PAGE)]);
        assert!(
            verdicts(&plain, API, 200, &exact, None)
                .unwrap()
                .if_credentialed
                .is_some(),
            "no ACAC: credentialed differs"
        );
        let full = headers(&[
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-credentials", "true"),
        ]);
        assert!(verdicts(&plain, API, 200, &full, None)
            .unwrap()
            .if_credentialed
            .is_none());
        let with_cookie = request("GET", &[("cookie", "a=b")]);
        let v = verdicts(&with_cookie, API, 200, &star, None).unwrap();
        assert_eq!(
            v.verdict.cors_error.map(crate::browser::CorsError::name),
            Some("WildcardOriginNotAllowed")
        );
        assert!(v.if_credentialed.is_none());
    }

    /// Every engine judges the exchange in its own words, and the JSON keys them by engine.
    #[test]
    fn each_engine_judges_the_exchange_in_its_own_words() {
        let req = request(
            "OPTIONS",
            &[
                ("access-control-request-method", "PUT"),
                ("x-probe", "engines"),
            ],
        );
        // A preflight the server does not route: 404 and no CORS headers. WebKit checks the
        // status first; Chromium and Firefox find the missing header first.
        let v = verdicts(&req, API, 404, &HeaderMap::new(), None).unwrap();
        let json = serde_json::to_value(&*v.engines).unwrap();
        assert_eq!(
            json["chromium"]["cors_error"], "PreflightMissingAllowOriginHeader",
            "{json}"
        );
        assert_eq!(
            json["firefox"]["cors_error"], "CORSMissingAllowOrigin",
            "{json}"
        );
        assert_eq!(
            json["webkit"]["cors_error"],
            serde_json::Value::Null,
            "{json}"
        );
        for (engine, thrown) in [
            ("chromium", "TypeError: Failed to fetch"),
            (
                "firefox",
                "TypeError: NetworkError when attempting to fetch resource.",
            ),
            ("webkit", "TypeError: Load failed"),
        ] {
            assert_eq!(json[engine]["outcome"], "blocked", "{engine}: {json}");
            assert_eq!(json[engine]["js_error"], thrown, "{engine}: {json}");
            assert!(
                json[engine]["messages"]
                    .as_array()
                    .is_some_and(|m| !m.is_empty()),
                "{engine}: {json}"
            );
        }
        assert_eq!(
            json["chromium"]["message"].as_str(),
            v.verdict.message.as_deref(),
            "`verdict` stays Chromium's"
        );
        let d = v
            .engines
            .disagreement()
            .expect("WebKit fails another check");
        assert!(d.starts_with("Safari (WebKit): ✗ blocked ("), "{d}");
        assert!(!d.contains("Firefox"), "{d}");
    }

    /// The browser says what made the request (`Sec-Fetch-Dest`, `Accept`), and the verdict
    /// words it as that load: a font, an `EventSource`.
    #[test]
    fn an_element_load_is_judged_as_one() {
        let font = request("GET", &[("sec-fetch-dest", "font")]);
        let v = verdicts(&font, API, 200, &HeaderMap::new(), None).unwrap();
        let chromium = v.verdict.message.as_deref().unwrap_or("");
        assert!(chromium.starts_with("Access to font at "), "{chromium}");
        // WebKit uses a cross-origin font without asking CORS.
        assert_eq!(v.engines.get(Browser::WebKit).outcome, Outcome::Allowed);
        assert_eq!(v.engines.get(Browser::Firefox).outcome, Outcome::Blocked);
        let sse = request(
            "GET",
            &[("sec-fetch-dest", "empty"), ("accept", "text/event-stream")],
        );
        let v = verdicts(&sse, API, 200, &HeaderMap::new(), None).unwrap();
        let m = v.verdict.message.as_deref().unwrap_or("");
        assert!(m.starts_with("Access to resource at "), "{m}");
        let webkit = &v.engines.get(Browser::WebKit).messages;
        assert!(
            webkit
                .last()
                .is_some_and(|l| l.starts_with("EventSource cannot load")),
            "{webkit:?}"
        );
        // The same request from fetch() (no destination header) is worded as a fetch.
        let v = verdicts(&request("GET", &[]), API, 200, &HeaderMap::new(), None).unwrap();
        let m = v.verdict.message.as_deref().unwrap_or("");
        assert!(m.starts_with("Access to fetch at "), "{m}");
    }

    #[test]
    fn no_origin_no_verdict() {
        let req = TestRequest::get().uri("/api/payment").to_http_request();
        assert!(verdicts(&req, API, 200, &HeaderMap::new(), None).is_none());
    }
}
