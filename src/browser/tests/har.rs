//! HAR import: pairing preflights with actual requests, skipping same-origin traffic.

use crate::browser::{evaluate, scenarios_from_har, CorsError, FixContext, HarError};
use serde_json::json;

fn entry(
    method: &str,
    url: &str,
    req: &[(&str, &str)],
    status: u16,
    res: &[(&str, &str)],
) -> serde_json::Value {
    let h = |l: &[(&str, &str)]| {
        l.iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect::<Vec<_>>()
    };
    json!({"request": {"method": method, "url": url, "headers": h(req)},
           "response": {"status": status, "headers": h(res), "redirectURL": ""},
           "_resourceType": "fetch"})
}

#[test]
fn pairs_preflight_with_following_request() {
    let har = json!({"log": {"entries": [
        entry("GET", "http://frontend.test:8080/", &[], 200, &[]),
        entry("OPTIONS", "http://api.test:3000/api/payment",
              &[("Origin", "http://frontend.test:8080"), ("Access-Control-Request-Method", "PUT"),
                ("Access-Control-Request-Headers", "x-pkr-auth")],
              204, &[("Access-Control-Allow-Origin", "http://frontend.test:8080"), ("Access-Control-Allow-Methods", "PUT")]),
        entry("PUT", "http://api.test:3000/api/payment",
              &[("Origin", "http://frontend.test:8080"), ("X-PKR-Auth", "t"), ("Pragma", "no-cache"), ("User-Agent", "x")],
              0, &[]),
        entry("GET", "http://api.test:3000/items",
              &[("Origin", "http://frontend.test:8080"), ("Pragma", "no-cache"), ("Accept", "*/*")],
              200, &[("Access-Control-Allow-Origin", "*")]),
        entry("POST", "http://frontend.test:8080/same", &[("Origin", "http://frontend.test:8080")], 200, &[]),
    ]}});
    let scenarios = scenarios_from_har(&har).unwrap();
    assert_eq!(scenarios.len(), 2);
    let pay = &scenarios[0];
    assert_eq!(pay.request.method, "PUT");
    assert_eq!(pay.request.headers.get("X-PKR-Auth").as_deref(), Some("t"));
    assert!(!pay.request.headers.contains("pragma"));
    assert!(pay.actual_response.is_none(), "status 0 means no response");
    let v = evaluate(pay, &FixContext::Generic);
    assert_eq!(
        v.cors_error,
        Some(CorsError::HeaderDisallowedByPreflightResponse)
    );
    let items = &scenarios[1];
    assert!(!items.request.headers.contains("pragma"));
    assert!(evaluate(items, &FixContext::Generic).is_allowed());
}

#[test]
fn follows_redirect_entries() {
    let mut first = entry(
        "GET",
        "http://api.test:3000/old",
        &[("Origin", "http://frontend.test:8080")],
        302,
        &[
            ("Location", "http://api.test:3000/new"),
            ("Access-Control-Allow-Origin", "*"),
        ],
    );
    first["response"]["redirectURL"] = json!("http://api.test:3000/new");
    let har = json!({"log": {"entries": [
        first,
        entry("GET", "http://api.test:3000/new", &[("Origin", "http://frontend.test:8080")], 200, &[]),
    ]}});
    let scenarios = scenarios_from_har(&har).unwrap();
    assert_eq!(scenarios.len(), 1);
    assert_eq!(scenarios[0].redirects.len(), 1);
    let v = evaluate(&scenarios[0], &FixContext::Generic);
    assert_eq!(v.cors_error, Some(CorsError::MissingAllowOriginHeader));
    assert!(v
        .message
        .unwrap()
        .contains("(redirected from 'http://api.test:3000/old')"));
}

#[test]
fn rejects_non_har() {
    assert_eq!(
        scenarios_from_har(&json!({"x": 1})),
        Err(HarError::NotAHar("no \"log\" object"))
    );
    assert!(matches!(
        scenarios_from_har(&json!({"log": {"entries": [{"request": {}}]}})),
        Err(HarError::BadEntry { index: 0, .. })
    ));
}
