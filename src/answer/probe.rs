//! `sandbox probe URL`: sends the preflight the browser would send (if any) and then the
//! request itself to a live server, and judges the real answers.

use std::time::Duration;

use super::http::{send, ClientError};
use super::{AnswerError, Output, Report, RequestSpec};
use crate::browser::{
    evaluate, is_forbidden_request_header, normalize_method, FixContext, HeaderList, RedirectHop,
    Scenario,
};

/// Redirects followed before giving up.
const MAX_HOPS: usize = 5;

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub url: String,
    pub request: RequestSpec,
    pub timeout: Duration,
}

pub fn probe(opts: &ProbeOptions, out: Output) -> Result<Report, AnswerError> {
    let request = opts.request.to_request(&opts.url);
    let net = |source: ClientError| AnswerError::Network {
        url: opts.url.clone(),
        source,
    };
    let mut scenario = Scenario::new(request.clone());
    let first = evaluate(&scenario, &FixContext::Generic);
    if let (true, Some(pre)) = (first.preflight_sent, &first.preflight_request) {
        let res = send(&pre.method, &pre.url, &pre.headers, opts.timeout).map_err(net)?;
        scenario.preflight_response = Some(res);
        let v = evaluate(&scenario, &FixContext::Generic);
        if !v.is_allowed() {
            return Ok(out.finish(&[(scenario, v)], true));
        }
    }
    let method = normalize_method(&request.method);
    let mut headers = HeaderList::new();
    for (n, v) in request.headers.lines() {
        if !is_forbidden_request_header(n, v) {
            headers.push(n, v);
        }
    }
    headers.push("Origin", request.origin.as_str());
    let res = send(&method, &opts.url, &headers, opts.timeout).map_err(net)?;
    let mut next = res.redirect_location().map(str::to_string);
    scenario.actual_response = Some(res);
    let mut url = opts.url.clone();
    while let Some(loc) = next.take() {
        if scenario.redirects.len() >= MAX_HOPS {
            break;
        }
        let Some(target) = url::Url::parse(&url).ok().and_then(|u| u.join(&loc).ok()) else {
            break;
        };
        url = target.to_string();
        let res = send(&method, &url, &headers, opts.timeout).map_err(net)?;
        next = res.redirect_location().map(str::to_string);
        scenario.redirects.push(RedirectHop {
            url: Some(url.clone()),
            preflight_response: None,
            response: res,
        });
    }
    let v = evaluate(&scenario, &FixContext::Generic);
    Ok(out.finish(&[(scenario, v)], true))
}
