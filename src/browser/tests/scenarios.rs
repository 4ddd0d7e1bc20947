//! Whole exchanges through `evaluate`: preflight, actual response, redirects, cache,
//! modes, fixes, and the server-side helpers.

use super::{eval, sandbox, scenario, API, PAGE};
use crate::browser::{
    evaluate, judge_actual, judge_preflight, render_text, ActualAsked, Browser, CorsError,
    Credentials, FixContext, Initiator, Outcome, PreflightAsked, Response, Scenario,
};

/// (scenario JSON, expected error or None for allowed, expected failed parameter)
#[test]
fn scenario_table() {
    use CorsError::*;
    let table: Vec<(&str, &str, Option<CorsError>, Option<&str>)> = vec![
        (
            "simple GET allowed with *",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
            None,
            None,
        ),
        (
            "simple GET without ACAO",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":200,"headers":{}}}"#,
            Some(MissingAllowOriginHeader),
            None,
        ),
        (
            "error status still CORS-checked only",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":500,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
            None,
            None,
        ),
        (
            "same-origin request needs nothing",
            r#"{"request":{"url":"http://frontend.test:8080/api","origin":"http://frontend.test:8080","method":"DELETE"},
             "actual_response":{"status":200}}"#,
            None,
            None,
        ),
        (
            "PUT needs a preflight; good preflight",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080","Access-Control-Allow-Methods":"PUT"}},
             "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080"}}}"#,
            None,
            None,
        ),
        (
            "PUT not in allow-methods",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"put"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"GET, POST"}}}"#,
            Some(MethodDisallowedByPreflightResponse),
            Some("PUT"),
        ),
        (
            "preflight 401",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"DELETE"},
             "preflight_response":{"status":401,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
            Some(PreflightInvalidStatus),
            None,
        ),
        (
            "preflight redirect",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"DELETE"},
             "preflight_response":{"status":301,"headers":{"Location":"http://api.test:3000/x/"}}}"#,
            Some(PreflightDisallowedRedirect),
            None,
        ),
        (
            "preflight 300 with Location is not a redirect",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"DELETE"},
             "preflight_response":{"status":300,"headers":{"Location":"/y","Access-Control-Allow-Origin":"*"}}}"#,
            Some(PreflightInvalidStatus),
            None,
        ),
        (
            "credentialed preflight with wildcard origin",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT","credentials":"include"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Credentials":"true"}}}"#,
            Some(PreflightWildcardOriginNotAllowed),
            None,
        ),
        (
            "credentialed preflight without ACAC",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT","credentials":"include"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080","Access-Control-Allow-Methods":"PUT"}}}"#,
            Some(PreflightInvalidAllowCredentials),
            Some(""),
        ),
        (
            "preflight mismatch",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"http://localhost:8080"}}}"#,
            Some(PreflightAllowOriginMismatch),
            Some("http://localhost:8080"),
        ),
        (
            "preflight multiple",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":["http://frontend.test:8080","*"]}}}"#,
            Some(PreflightMultipleAllowOriginValues),
            Some("http://frontend.test:8080, *"),
        ),
        (
            "preflight invalid origin value",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"frontend.test"}}}"#,
            Some(PreflightInvalidAllowOriginValue),
            Some("frontend.test"),
        ),
        (
            "JSON POST needs content-type allowed",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"POST","headers":{"Content-Type":"application/json"}},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
            Some(HeaderDisallowedByPreflightResponse),
            Some("content-type"),
        ),
        (
            "actual response credentials ok",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","credentials":"include"},
             "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080","Access-Control-Allow-Credentials":"true"}}}"#,
            None,
            None,
        ),
        (
            "actual response wildcard with credentials",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","credentials":"include"},
             "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
            Some(WildcardOriginNotAllowed),
            None,
        ),
        (
            "null page origin matched by null",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"null"},
             "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"null"}}}"#,
            None,
            None,
        ),
        (
            "no-cors is opaque but not blocked",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","mode":"no-cors"},
             "actual_response":{"status":200}}"#,
            None,
            None,
        ),
        (
            "non-http scheme",
            r#"{"request":{"url":"ftp://api.test/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":200}}"#,
            Some(CorsDisabledScheme),
            None,
        ),
        (
            "redirect hop without ACAO",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":302,"headers":{"Location":"/y"}},
             "redirects":[{"response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}]}"#,
            Some(MissingAllowOriginHeader),
            None,
        ),
        (
            "redirect with CORS headers then ok",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":302,"headers":{"Location":"/y","Access-Control-Allow-Origin":"*"}},
             "redirects":[{"url":"http://api.test:3000/y","response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}]}"#,
            None,
            None,
        ),
        (
            "redirect to another origin taints: exact origin fails after",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":307,"headers":{"Location":"http://cdn.test/y","Access-Control-Allow-Origin":"http://frontend.test:8080"}},
             "redirects":[{"response":{"status":200,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080"}}}]}"#,
            Some(AllowOriginMismatch),
            Some("http://frontend.test:8080"),
        ),
        (
            "tainted request passes with null",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":307,"headers":{"Location":"http://cdn.test/y","Access-Control-Allow-Origin":"*"}},
             "redirects":[{"response":{"status":200,"headers":{"Access-Control-Allow-Origin":"null"}}}]}"#,
            None,
            None,
        ),
        (
            "redirect location with credentials",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
             "actual_response":{"status":302,"headers":{"Location":"http://user:pw@api.test:3000/y","Access-Control-Allow-Origin":"*"}}}"#,
            Some(RedirectContainsCredentials),
            None,
        ),
        (
            "303 turns PUT into GET: no second preflight",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT","headers":{"Content-Type":"application/json"}},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT","Access-Control-Allow-Headers":"content-type"}},
             "actual_response":{"status":303,"headers":{"Location":"/done","Access-Control-Allow-Origin":"*"}},
             "redirects":[{"response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}]}"#,
            None,
            None,
        ),
        (
            "307 keeps PUT: new preflight fails at the new URL",
            r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
             "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT"}},
             "actual_response":{"status":307,"headers":{"Location":"/v2/x","Access-Control-Allow-Origin":"*"}},
             "redirects":[{"preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*"}},
                           "response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}]}"#,
            Some(MethodDisallowedByPreflightResponse),
            Some("PUT"),
        ),
    ];
    for (name, json, want_error, want_param) in table {
        let v = eval(json);
        assert_eq!(v.cors_error, want_error, "{name}: {v:#?}");
        assert_eq!(
            v.outcome == Outcome::Allowed,
            want_error.is_none() && v.message.is_none(),
            "{name}: {v:#?}"
        );
        if want_error.is_some() {
            assert_eq!(v.failed_parameter.as_deref(), want_param, "{name}");
            assert!(v.fix.is_some(), "{name} has a fix");
        }
    }
}

#[test]
fn preflight_request_headers_sent() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/api/payment","origin":"http://frontend.test:8080",
            "method":"PUT","headers":{"X-PKR-Auth":"token123","Content-Type":"application/json","Accept":"*/*","Cookie":"a=b"}}}"#,
    );
    assert!(v.preflight_required);
    assert!(v.preflight_sent);
    let p = v.preflight_request.unwrap();
    assert_eq!(p.method, "OPTIONS");
    assert_eq!(p.url, "http://api.test:3000/api/payment");
    assert_eq!(p.headers.get("Origin").as_deref(), Some(PAGE));
    assert_eq!(
        p.headers.get("Access-Control-Request-Method").as_deref(),
        Some("PUT")
    );
    assert_eq!(
        p.headers.get("Access-Control-Request-Headers").as_deref(),
        Some("content-type,x-pkr-auth")
    );
    assert!(v.notes.iter().any(|n| n.contains("'Cookie' is forbidden")));
    assert!(v.notes.iter().any(|n| n.contains("got no response")));
    assert_eq!(
        v.message, None,
        "Chromium prints no CORS line for a preflight without response"
    );
    assert_eq!(v.outcome, Outcome::Blocked);
    assert_eq!(v.cors_error, None);
}

/// Chromium blocks this in Blink, before the network service: DevTools reports no
/// `corsError`, only the console line (differential scenario `same-origin-mode-cross-origin`).
#[test]
fn same_origin_mode_to_another_origin_is_blocked_without_cors_error() {
    let s: Scenario = serde_json::from_str(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","mode":"same-origin"},
             "actual_response":{"status":200}}"#,
    )
    .unwrap();
    let v = evaluate(&s, &FixContext::Generic);
    assert_eq!(v.outcome, Outcome::Blocked);
    assert_eq!(v.cors_error, None);
    assert!(v
        .message
        .as_deref()
        .unwrap()
        .contains("Request mode is \"same-origin\""));
}

#[test]
fn missing_actual_response_is_not_a_failure() {
    let v = eval(&format!(
        r#"{{"request":{{"url":"{API}","origin":"{PAGE}"}}}}"#
    ));
    assert_eq!(v.outcome, Outcome::Allowed);
    assert!(!v.preflight_required);
}

#[test]
fn preflight_cache_from_prior_exchanges() {
    let base = r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
        "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}},
        "prior":[{"seconds_before":SECS,"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
                  "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT","Access-Control-Max-Age":"MAXAGE"}}}]}"#;
    // (seconds before, max-age, served from cache)
    let table = [
        (1.0, "5", true),
        (4.5, "5", true),
        (5.0, "5", false),
        (10.0, "600", true),
        (7199.0, "86400", true),
        (7200.0, "86400", false),
        (0.0, "0", false),
        (1.0, "-5", false),
    ];
    for (secs, max_age, cached) in table {
        let json = base
            .replace("SECS", &secs.to_string())
            .replace("MAXAGE", max_age);
        let v = eval(&json);
        assert_eq!(
            !v.preflight_sent, cached,
            "{secs} s ago, max-age {max_age}: {v:#?}"
        );
        if cached {
            assert!(v
                .notes
                .iter()
                .any(|n| n.starts_with("served from preflight cache")));
            assert_eq!(v.outcome, Outcome::Allowed);
        } else {
            // No preflight_response in the scenario: the fresh preflight has no answer.
            assert_eq!(v.outcome, Outcome::Blocked);
        }
    }
}

#[test]
fn cache_entry_expiry_note() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}},
            "prior":[{"seconds_before":2,"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
                      "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT"}}}]}"#,
    );
    assert!(
        v.notes
            .contains(&"served from preflight cache (entry expires in 3 s)".to_owned()),
        "{:?}",
        v.notes
    );
}

#[test]
fn cache_is_per_url_and_method_coverage() {
    let prior = r#"[{"seconds_before":1,"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
        "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT"}}}]"#;
    let table = [
        ("http://api.test:3000/other", "PUT", false),
        ("http://api.test:3000/x", "DELETE", false),
        ("http://api.test:3000/x", "PUT", true),
        ("http://api.test:3000/x#frag", "PUT", true),
    ];
    for (url, method, cached) in table {
        let json = format!(
            r#"{{"request":{{"url":"{url}","origin":"http://frontend.test:8080","method":"{method}"}},"prior":{prior}}}"#
        );
        let v = eval(&json);
        assert_eq!(!v.preflight_sent, cached, "{url} {method}");
    }
}

#[test]
fn fixes_in_each_context() {
    let s = scenario(
        r#"{"request":{"url":"http://api.test:3000/api/payment","origin":"http://frontend.test:8080","method":"PUT","headers":{"X-PKR-Auth":"t"}},
            "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080","Access-Control-Allow-Methods":"PUT"}}}"#,
    );
    let table = [
        (
            sandbox(),
            "add \"X-PKR-Auth\" to allowed_headers in cors.toml",
        ),
        (
            FixContext::Sandbox {
                policy_file: "policy.toml".into(),
                exact_mode: true,
            },
            "send Access-Control-Allow-Headers: X-PKR-Auth on the preflight response",
        ),
        (
            FixContext::Generic,
            "send Access-Control-Allow-Headers: X-PKR-Auth on the OPTIONS response",
        ),
    ];
    for (ctx, want) in table {
        assert_eq!(evaluate(&s, &ctx).fix.as_deref(), Some(want));
    }
    let missing = eval(&format!(
        r#"{{"request":{{"url":"{API}","origin":"{PAGE}"}},"actual_response":{{"status":200}}}}"#
    ));
    assert_eq!(
        missing.fix.as_deref(),
        Some("send Access-Control-Allow-Origin: http://frontend.test:8080")
    );
    let s = scenario(&format!(
        r#"{{"request":{{"url":"{API}","origin":"{PAGE}"}},"actual_response":{{"status":200}}}}"#
    ));
    assert_eq!(
        evaluate(&s, &sandbox()).fix.as_deref(),
        Some("add \"http://frontend.test:8080\" to allowed_origins in cors.toml")
    );
}

#[test]
fn fix_for_credentials_suggests_client_side_option() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","credentials":"include"},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
    );
    assert!(v.fix.unwrap().contains("drop credentials: 'include'"));
}

#[test]
fn readable_headers_of_allowed_response() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*","Content-Type":"application/json",
              "X-Request-Id":"1","X-Total":"2","Access-Control-Expose-Headers":"X-Total"}}}"#,
    );
    assert_eq!(v.readable_headers, vec!["content-type", "x-total"]);
}

#[test]
fn vary_origin_lint() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080"}}}"#,
    );
    assert!(v.notes.iter().any(|n| n.contains("Vary: Origin")));
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080","Vary":"Accept-Encoding, Origin"}}}"#,
    );
    assert!(!v.notes.iter().any(|n| n.contains("Vary: Origin")));
}

#[test]
fn judge_helpers_for_the_mock_api() {
    let good = Response::new(204)
        .with("Access-Control-Allow-Origin", PAGE)
        .with("Access-Control-Allow-Methods", "PUT")
        .with("Access-Control-Allow-Headers", "x-pkr-auth");
    let v = judge_preflight(
        PreflightAsked {
            origin: PAGE,
            url: API,
            method: "PUT",
            headers: &["x-pkr-auth".to_owned()],
        },
        Credentials::Omit,
        &good,
        &sandbox(),
        Browser::Chromium,
    );
    assert_eq!(v.outcome, Outcome::Allowed, "{v:#?}");
    assert_eq!(
        v.preflight_request
            .unwrap()
            .headers
            .get("Access-Control-Request-Headers")
            .as_deref(),
        Some("x-pkr-auth")
    );
    let v = judge_preflight(
        PreflightAsked {
            origin: PAGE,
            url: API,
            method: "PUT",
            headers: &["x-other".to_owned()],
        },
        Credentials::Omit,
        &good,
        &sandbox(),
        Browser::Chromium,
    );
    assert_eq!(
        v.cors_error,
        Some(CorsError::HeaderDisallowedByPreflightResponse)
    );
    assert_eq!(v.failed_parameter.as_deref(), Some("x-other"));
    let actual = Response::new(200).with("Access-Control-Allow-Origin", "*");
    let v = judge_actual(
        ActualAsked {
            origin: PAGE,
            url: API,
            method: "PUT",
            credentials: Credentials::Include,
            initiator: Initiator::Fetch,
        },
        &actual,
        &FixContext::Generic,
        Browser::Chromium,
    );
    assert_eq!(v.cors_error, Some(CorsError::WildcardOriginNotAllowed));
    let v = judge_actual(
        ActualAsked {
            origin: PAGE,
            url: API,
            method: "GET",
            credentials: Credentials::Omit,
            initiator: Initiator::Fetch,
        },
        &actual,
        &FixContext::Generic,
        Browser::Chromium,
    );
    assert_eq!(v.outcome, Outcome::Allowed);
}

#[test]
fn render_text_shows_the_story() {
    let s = scenario(
        r#"{"id":"pay","request":{"url":"http://api.test:3000/api/payment","origin":"http://frontend.test:8080","method":"PUT","headers":{"X-PKR-Auth":"t"}},
            "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"http://frontend.test:8080"}}}"#,
    );
    let v = evaluate(&s, &sandbox());
    let text = render_text(&s, &v);
    for want in [
        "scenario:  pay",
        "request:   PUT http://api.test:3000/api/payment  (origin http://frontend.test:8080)",
        "X-PKR-Auth: t",
        "preflight: OPTIONS http://api.test:3000/api/payment",
        "Access-Control-Request-Headers: x-pkr-auth",
        "verdict:   BLOCKED (MethodDisallowedByPreflightResponse, failed parameter 'PUT')",
        "message:   Access to fetch at",
        "fix:       add \"PUT\" to allowed_methods in cors.toml",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn scenario_json_round_trip_keeps_header_order_and_lines() {
    let s = scenario(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","headers":{"B":"1","A":["2","3"],"Max":7}},
            "actual_response":{"headers":{"Access-Control-Allow-Origin":["a","b"]}}}"#,
    );
    let names: Vec<&str> = s
        .request
        .headers
        .0
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["B", "A", "Max"]);
    assert_eq!(s.request.headers.get_all("a"), ["2", "3"]);
    assert_eq!(s.actual_response.as_ref().unwrap().status, 200);
    let back = serde_json::to_string(&s).unwrap();
    assert!(
        back.contains(r#""headers":{"B":"1","A":["2","3"],"Max":"7"}"#),
        "{back}"
    );
    let mut again: crate::browser::Scenario = serde_json::from_str(&back).unwrap();
    again.request.headers = Default::default();
    let verdict = serde_json::to_value(evaluate(&again, &FixContext::Generic)).unwrap();
    assert_eq!(verdict["outcome"], "blocked");
    assert_eq!(verdict["cors_error"], "MultipleAllowOriginValues");
}
