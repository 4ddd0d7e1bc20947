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

fn timed(mut e: serde_json::Value, at: &str) -> serde_json::Value {
    e["startedDateTime"] = json!(at);
    e
}

#[test]
fn identical_duplicate_lines_count_once() {
    let o = ("Origin", "http://frontend.test:8080");
    let har = json!({"log": {"entries": [
        entry("OPTIONS", "http://api.test:3000/p",
              &[o, o, ("Access-Control-Request-Method", "PUT"), ("Access-Control-Request-Method", "PUT")],
              204, &[("Access-Control-Allow-Origin", "http://frontend.test:8080"),
                     ("Access-Control-Allow-Origin", "http://frontend.test:8080"),
                     ("Access-Control-Allow-Methods", "PUT")]),
    ]}});
    let s = scenarios_from_har(&har).unwrap();
    assert_eq!(s[0].request.origin, "http://frontend.test:8080");
    assert_eq!(
        s[0].preflight_response
            .as_ref()
            .unwrap()
            .headers
            .get_all("access-control-allow-origin")
            .len(),
        1
    );
    assert!(evaluate(&s[0], &FixContext::Generic).cors_error.is_none());
}

#[test]
fn pairs_by_time_url_and_method_not_file_order() {
    let o = ("Origin", "http://frontend.test:8080");
    let pre = |m: &str| {
        entry(
            "OPTIONS",
            "http://api.test:3000/p",
            &[o, ("Access-Control-Request-Method", m)],
            204,
            &[
                ("Access-Control-Allow-Origin", "http://frontend.test:8080"),
                ("Access-Control-Allow-Methods", m),
            ],
        )
    };
    let act = |m: &str| {
        entry(
            m,
            "http://api.test:3000/p",
            &[o],
            200,
            &[("Access-Control-Allow-Origin", "*")],
        )
    };
    // The PUT is listed (and started) 3 ms before its OPTIONS, as Chrome records it; a DELETE
    // preflight for the same URL must not take it.
    let har = json!({"log": {"entries": [
        timed(pre("DELETE"), "2026-12-02T06:00:05.000Z"),
        timed(act("PUT"), "2026-12-02T06:00:00.997Z"),
        timed(pre("PUT"), "2026-12-02T06:00:01.000Z"),
        timed(act("DELETE"), "2026-12-02T06:00:05.010Z"),
    ]}});
    let import = crate::browser::import_har(&har).unwrap();
    assert_eq!(import.items.len(), 2);
    let put = &import.items[0];
    assert_eq!(put.scenario.request.method, "PUT");
    assert_eq!((put.actual_entry, put.preflight_entry), (Some(1), Some(2)));
    let del = &import.items[1];
    assert_eq!((del.actual_entry, del.preflight_entry), (Some(3), Some(0)));
}

#[test]
fn failed_loads_and_recorders_are_kept() {
    let mut failed = entry(
        "GET",
        "http://api.test:3000/x",
        &[("Origin", "http://frontend.test:8080")],
        0,
        &[],
    );
    failed["_error"] = json!("net::ERR_FAILED");
    let har = json!({"log": {"creator": {"name": "Firefox", "version": "140.0"},
                             "browser": {"name": "Firefox", "version": "140.0"},
                             "entries": [failed, {"request": {"url": "http://frontend.test:8080/"}}]}});
    let import = crate::browser::import_har(&har).unwrap();
    assert_eq!((import.entries, import.cross_origin_entries), (2, 1));
    assert_eq!(
        import.items[0].failed.as_ref().unwrap().net_error,
        "net::ERR_FAILED"
    );
    assert!(import
        .recorder_note()
        .unwrap()
        .contains("recorded by Firefox 140.0: judged by Chromium's rules"));
}

#[test]
fn provisional_headers_take_the_origin_from_the_initiator() {
    let mut e = entry(
        "GET",
        "http://api.test:3000/x",
        &[("Accept", "*/*")],
        200,
        &[],
    );
    e["_initiator"] = json!({"type": "script", "stack": {"callFrames": [{"url": "http://frontend.test:8080/app.js"}]}});
    let s = scenarios_from_har(&json!({"log": {"entries": [e]}})).unwrap();
    assert_eq!(s[0].request.origin, "http://frontend.test:8080");
}

/// `entry` with Chrome's `_resourceType` (None drops it) and `_initiator` set.
fn load(kind: Option<&str>, initiator: &str, mut e: serde_json::Value) -> serde_json::Value {
    match kind {
        Some(k) => e["_resourceType"] = json!(k),
        None => {
            e.as_object_mut().unwrap().remove("_resourceType");
        }
    }
    e["_initiator"] = json!({"type": "parser", "url": initiator});
    e
}

#[test]
fn loads_that_cors_does_not_check_are_left_out_and_counted() {
    let page = "http://app.test:8080/";
    let o = ("Origin", "http://app.test:8080");
    let har = json!({"log": {"entries": [
        load(Some("document"), page, entry("GET", page, &[], 200, &[])),
        // A plain <img> and a classic <script> from a CDN: no Origin, opaque, never blocked.
        load(Some("image"), page, entry("GET", "http://cdn.test/a.png", &[], 200, &[])),
        load(Some("script"), page, entry("GET", "http://cdn.test/a.js",
             &[("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "script")], 200, &[])),
        // A WebSocket carries Origin, answers 101 without any CORS header.
        load(Some("websocket"), page, entry("GET", "ws://api.test:3000/live",
             &[o, ("Upgrade", "websocket")], 101, &[])),
        // A form POST to another origin: a navigation, with Origin.
        load(Some("document"), page, entry("POST", "http://api.test:3000/login",
             &[o, ("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document")], 302, &[])),
        // An extension's script the page pulled in: not an HTTP fetch.
        load(Some("script"), page, entry("GET", "chrome-extension://abcdef/inject.js", &[o], 200, &[])),
        // A crossorigin stylesheet: CORS mode, but not a load the model speaks for.
        load(Some("stylesheet"), page, entry("GET", "http://cdn.test/a.css",
             &[o, ("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "style")], 200, &[])),
        // These three are CORS requests the model judges.
        load(Some("image"), page, entry("GET", "http://cdn.test/b.png",
             &[o, ("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "image")], 200, &[])),
        load(Some("font"), page, entry("GET", "http://cdn.test/f.woff2", &[], 200, &[])),
        load(None, page, entry("GET", "http://api.test:3000/beacon",
             &[o, ("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "empty")], 200, &[])),
    ]}});
    let import = crate::browser::import_har(&har).unwrap();
    let got: Vec<_> = import
        .items
        .iter()
        .map(|i| {
            let r = &i.scenario.request;
            (r.url.as_str(), r.initiator, r.mode)
        })
        .collect();
    use crate::browser::{Initiator, Mode};
    assert_eq!(
        got,
        [
            ("http://cdn.test/b.png", Initiator::Image, Mode::Cors),
            ("http://cdn.test/f.woff2", Initiator::Font, Mode::Cors),
            (
                "http://api.test:3000/beacon",
                Initiator::Fetch,
                Mode::NoCors
            ),
        ]
    );
    let verdicts: Vec<_> = import
        .items
        .iter()
        .map(|i| evaluate(&i.scenario, &FixContext::Generic))
        .collect();
    assert_eq!(
        verdicts[0].cors_error,
        Some(CorsError::MissingAllowOriginHeader)
    );
    let message = verdicts[0].message.as_deref().unwrap_or("");
    assert!(message.starts_with("Access to image at"), "{message}");
    let message = verdicts[1].message.as_deref().unwrap_or("");
    assert!(message.starts_with("Access to font at"), "{message}");
    assert!(verdicts[2].is_allowed(), "a no-cors fetch is never blocked");
    assert_eq!(
        import.skipped.summary().as_deref(),
        Some(
            "left out 5 cross-origin loads that CORS does not check (1 WebSocket, 1 image, \
             1 navigation, 1 non-HTTP URL, 1 script); and 1 cross-origin load in CORS mode of a \
             kind the model does not judge (check those in the browser) (1 stylesheet)"
        )
    );
}

#[test]
fn without_fetch_metadata_a_form_post_asking_for_html_is_a_navigation() {
    let page = "http://app.test:8080";
    let mut form = entry(
        "POST",
        "http://api.test:3000/login",
        &[
            ("Origin", page),
            (
                "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        302,
        &[],
    );
    let mut fetch = entry(
        "POST",
        "http://api.test:3000/login",
        &[
            ("Origin", page),
            ("Accept", "*/*"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        200,
        &[],
    );
    for e in [&mut form, &mut fetch] {
        e.as_object_mut().unwrap().remove("_resourceType");
    }
    let import = crate::browser::import_har(&json!({"log": {"entries": [form, fetch]}})).unwrap();
    assert_eq!(import.items.len(), 1, "only the fetch is judged");
    assert_eq!(import.items[0].actual_entry, Some(1));
    assert_eq!(
        import.skipped.summary().as_deref(),
        Some("left out 1 cross-origin load that CORS does not check (1 navigation)")
    );
}

#[test]
fn an_export_without_fetch_metadata_keeps_judging_requests_with_origin() {
    // Proxies and older exports give neither Sec-Fetch-* nor _resourceType.
    let mut e = entry(
        "GET",
        "http://api.test:3000/items",
        &[("Origin", "http://app.test:8080")],
        200,
        &[],
    );
    e.as_object_mut().unwrap().remove("_resourceType");
    let import = crate::browser::import_har(&json!({"log": {"entries": [e]}})).unwrap();
    assert_eq!(import.items.len(), 1);
    assert_eq!(import.skipped.summary(), None);
    assert_eq!(
        evaluate(&import.items[0].scenario, &FixContext::Generic).cors_error,
        Some(CorsError::MissingAllowOriginHeader)
    );
}
