//! The browser's verdict on a request the API origin just answered, for the log.
//!
//! A server cannot see the page's credentials mode, so: a request that carries cookies was
//! credentialed; otherwise the verdict assumes none, and a second verdict "if credentialed" is
//! added when it would differ. For a preflight, the announced method and headers are judged.

use actix_web::http::header::HeaderMap;
use serde::Serialize;

use crate::browser::{
    judge_actual, judge_preflight, Credentials, FixContext, HeaderList, Outcome, Response, Verdict,
};
use crate::policy::{Policy, PolicyRules};
use crate::reload::Versioned;

/// What the log keeps of a verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VerdictSummary {
    pub outcome: Outcome,
    pub cors_error: Option<String>,
    pub failed_parameter: Option<String>,
    pub message: Option<String>,
    pub fix: Option<String>,
}

impl VerdictSummary {
    fn from(v: &Verdict) -> Self {
        VerdictSummary {
            outcome: v.outcome,
            cors_error: v.cors_error.map(|e| e.name().to_string()),
            failed_parameter: v.failed_parameter.clone(),
            message: v.message.clone(),
            fix: v.fix.clone(),
        }
    }

    /// `✓ allowed` or `✗ blocked: <Chromium's reason> → <fix>` for the text log.
    pub fn short(&self) -> String {
        match self.outcome {
            Outcome::Allowed => "✓ allowed".into(),
            Outcome::Blocked => {
                let reason = self
                    .message
                    .as_deref()
                    .map(|m| {
                        m.split_once("blocked by CORS policy: ")
                            .map_or(m, |(_, r)| r)
                    })
                    .unwrap_or("blocked");
                match &self.fix {
                    Some(f) => format!("✗ blocked: {reason} → {f}"),
                    None => format!("✗ blocked: {reason}"),
                }
            }
        }
    }
}

/// The verdict(s) for one exchange.
#[derive(Debug, Clone)]
pub struct Verdicts {
    pub verdict: VerdictSummary,
    /// Present when the request carried no cookies and a credentialed fetch would fare
    /// differently.
    pub if_credentialed: Option<VerdictSummary>,
}

/// What of the request the verdict needs, captured before the request is handed on.
#[derive(Debug, Clone)]
pub struct Seen {
    pub origin: String,
    pub url: String,
    pub method: String,
    pub preflight: bool,
    pub requested_method: Option<String>,
    pub requested_headers: Vec<String>,
    pub has_cookies: bool,
}

impl Seen {
    pub fn capture(headers: &HeaderMap, origin: String, url: String, method: &str) -> Seen {
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
            preflight: method == "OPTIONS" && requested_method.is_some(),
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
        }
    }
}

pub fn response_of(status: u16, headers: &HeaderMap) -> Response {
    let mut h = HeaderList::new();
    for (n, v) in headers {
        h.push(
            n.as_str(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        );
    }
    Response { status, headers: h }
}

fn judge(seen: &Seen, response: &Response, credentials: Credentials, ctx: &FixContext) -> Verdict {
    match (&seen.requested_method, seen.preflight) {
        (Some(m), true) => judge_preflight(
            &seen.origin,
            &seen.url,
            m,
            &seen.requested_headers,
            credentials,
            response,
            ctx,
        ),
        _ => judge_actual(
            &seen.origin,
            &seen.url,
            &seen.method,
            credentials,
            response,
            ctx,
        ),
    }
}

/// In actix-cors mode the policy knows why a request was refused better than the response
/// does (see `ActixCorsPolicy::refusal`); use that as the fix.
fn refine_fix(v: &mut VerdictSummary, seen: &Seen, policy: Option<&Policy>) {
    let Some(Policy {
        rules: PolicyRules::ActixCors(p),
        file_name,
        ..
    }) = policy
    else {
        return;
    };
    if v.outcome != Outcome::Blocked {
        return;
    }
    let preflight = match (&seen.requested_method, seen.preflight) {
        (Some(m), true) => Some((m.as_str(), seen.requested_headers.as_slice())),
        _ => None,
    };
    if let Some(fix) = p.refusal(file_name, &seen.origin, preflight) {
        v.fix = Some(fix);
    }
}

/// Verdicts remembered per worker thread. A dev session repeats the same few exchanges, and
/// judging one runs the whole model twice (with and without credentials), which was 40% of a
/// request's instructions; a hit costs a hash and a clone.
const MEMO_CAPACITY: usize = 512;

thread_local! {
    static MEMO: std::cell::RefCell<std::collections::HashMap<u64, Verdicts>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Everything a verdict depends on: the policy version, the request as seen, and the parts of
/// the response the browser reads for CORS (status, `Access-Control-*`, `Location`).
fn memo_key(seen: &Seen, response: &Response, policy: Option<&Versioned<Policy>>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // The generation only grows, and the URL names the API origin, so a reload can never be
    // answered from an older policy's entries.
    policy
        .map(|p| (p.generation, &p.value.file_name))
        .hash(&mut h);
    seen.origin.hash(&mut h);
    seen.url.hash(&mut h);
    seen.method.hash(&mut h);
    seen.preflight.hash(&mut h);
    seen.requested_method.hash(&mut h);
    seen.requested_headers.hash(&mut h);
    seen.has_cookies.hash(&mut h);
    response.status.hash(&mut h);
    for (n, v) in response.headers.lines() {
        let lower = n.to_ascii_lowercase();
        if lower.starts_with("access-control-") || lower == "location" {
            lower.hash(&mut h);
            v.hash(&mut h);
        }
    }
    h.finish()
}

/// Judges an exchange under the policy (and generation) it was served with, remembering
/// recent answers.
pub fn verdicts(seen: &Seen, response: &Response, policy: Option<&Versioned<Policy>>) -> Verdicts {
    let key = memo_key(seen, response, policy);
    if let Some(v) = MEMO.with(|m| m.borrow().get(&key).cloned()) {
        return v;
    }
    let v = judge_all(seen, response, policy.map(|p| &p.value));
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MEMO_CAPACITY {
            m.clear();
        }
        m.insert(key, v.clone());
    });
    v
}

fn judge_all(seen: &Seen, response: &Response, policy: Option<&Policy>) -> Verdicts {
    let ctx = match policy {
        Some(p) => FixContext::Sandbox {
            policy_file: p.file_name.clone(),
            exact_mode: p.mode_name() == "exact",
        },
        None => FixContext::Generic,
    };
    let summary = |c| {
        let mut v = VerdictSummary::from(&judge(seen, response, c, &ctx));
        refine_fix(&mut v, seen, policy);
        v
    };
    if seen.has_cookies {
        return Verdicts {
            verdict: summary(Credentials::Include),
            if_credentialed: None,
        };
    }
    let plain = summary(Credentials::Omit);
    let cred = summary(Credentials::Include);
    let differs = plain.outcome != cred.outcome || plain.cors_error != cred.cors_error;
    Verdicts {
        verdict: plain,
        if_credentialed: differs.then_some(cred),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

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

    const PAGE: &str = "http://karachi-dev.localhost:8080";
    const URL: &str = "http://lahore-api.localhost:3000/api/payment";

    #[test]
    fn preflight_judges_the_announced_headers() {
        let req = headers(&[
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-pkr-auth"),
        ]);
        let seen = Seen::capture(&req, PAGE.into(), URL.into(), "OPTIONS");
        assert!(seen.preflight);
        let res = response_of(
            200,
            &headers(&[
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-methods", "PUT"),
                ("access-control-allow-headers", "content-type"),
            ]),
        );
        let v = verdicts(&seen, &res, None);
        assert_eq!(
            v.verdict.cors_error.as_deref(),
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
    }

    #[test]
    fn credentials_give_a_second_verdict_only_when_it_differs() {
        let seen = Seen::capture(&headers(&[]), PAGE.into(), URL.into(), "GET");
        let star = response_of(200, &headers(&[("access-control-allow-origin", "*")]));
        let v = verdicts(&seen, &star, None);
        assert_eq!(v.verdict.outcome, Outcome::Allowed);
        assert_eq!(
            v.if_credentialed.unwrap().cors_error.as_deref(),
            Some("WildcardOriginNotAllowed")
        );
        let exact = response_of(200, &headers(&[("access-control-allow-origin", PAGE)]));
        assert!(
            verdicts(&seen, &exact, None).if_credentialed.is_some(),
            "no ACAC: credentialed differs"
        );
        let full = response_of(
            200,
            &headers(&[
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-credentials", "true"),
            ]),
        );
        assert!(verdicts(&seen, &full, None).if_credentialed.is_none());
        let with_cookie = Seen::capture(
            &headers(&[("cookie", "a=b")]),
            PAGE.into(),
            URL.into(),
            "GET",
        );
        let v = verdicts(&with_cookie, &star, None);
        assert_eq!(
            v.verdict.cors_error.as_deref(),
            Some("WildcardOriginNotAllowed")
        );
        assert!(v.if_credentialed.is_none());
    }
}
