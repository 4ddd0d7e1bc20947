//! One test per place where Chromium 156 differs from the Fetch standard (or from what
//! the standard suggests). Each names the Chromium source it follows.

use super::{eval, pairs, PAGE};
use crate::browser::request::{is_cors_safelisted_request_header, is_forbidden_request_header};
use crate::browser::{access_control_request_headers, CorsError, Outcome};

/// net/http/http_util.cc still lists User-Agent as forbidden (crbug.com/571722); the
/// spec removed it. So `User-Agent` set by script is dropped and never preflights.
#[test]
fn user_agent_is_still_forbidden() {
    assert!(is_forbidden_request_header("User-Agent", "bot"));
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","headers":{"User-Agent":"bot"}},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
    );
    assert!(!v.preflight_required);
}

/// Chromium forbids Access-Control-Request-Private-Network too.
#[test]
fn private_network_request_header_is_forbidden() {
    assert!(is_forbidden_request_header(
        "Access-Control-Request-Private-Network",
        "true"
    ));
}

/// Observed in Chromium 156 (headless, this machine): `Range: Bytes=0-` triggers a
/// preflight although the cors.cc copy read lower-cases the value; `bytes=0-` does not.
/// This agrees with the spec, and the model follows the observation.
#[test]
fn range_unit_is_case_sensitive_as_observed() {
    assert!(is_cors_safelisted_request_header("Range", "bytes=0-"));
    assert!(!is_cors_safelisted_request_header("Range", "Bytes=0-"));
}

/// Observed in Chromium 156: a fresh preflight answering `Access-Control-Allow-Headers: *`
/// lets `Authorization` through (the spec's "non-wildcard request-header name" rule is
/// not enforced; `has_authorization_covered_by_wildcard_on_preflight` only feeds a
/// DevTools warning). The model allows it and adds a note.
#[test]
fn wildcard_covers_authorization_in_a_fresh_preflight() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"DELETE","headers":{"Authorization":"Bearer t"}},
            "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"*","Access-Control-Allow-Headers":"*"}},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
    );
    assert_eq!(v.outcome, Outcome::Allowed, "{v:#?}");
    assert!(v.notes.iter().any(|n| n.contains("only through '*'")));
}

/// preflight_cache.cc checks cached entries with NonWildcardRequestHeadersSupport(true),
/// so a `*` entry never serves a request carrying Authorization: a new preflight is sent.
#[test]
fn cached_wildcard_entry_does_not_cover_authorization() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"DELETE","headers":{"Authorization":"Bearer t"}},
            "prior":[{"seconds_before":1,"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"DELETE","headers":{"Authorization":"Bearer t"}},
              "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"*","Access-Control-Allow-Headers":"*"}}}]}"#,
    );
    assert!(v.preflight_sent);
    assert!(v
        .notes
        .iter()
        .any(|n| n.contains("does not cover this request")));
}

/// cors.cc safelists Intervention and legacy client hints set by script.
#[test]
fn client_hints_are_safelisted() {
    let table = [
        ("DPR", "2", true),
        ("DPR", "2.5", true),
        ("DPR", "x", false),
        ("Width", "100", true),
        ("Width", "1.5", false),
        ("Viewport-Width", "800", true),
        ("Device-Memory", "0.5", true),
        ("Save-Data", "ON", true),
        ("Save-Data", "off", false),
        ("ECT", "4g", true),
        ("ECT", "5g", false),
        ("RTT", "100", true),
        ("Downlink", "1.5", true),
        ("Intervention", "anything at all", true),
    ];
    for (name, value, want) in table {
        assert_eq!(
            is_cors_safelisted_request_header(name, value),
            want,
            "{name}: {value}"
        );
    }
    assert_eq!(
        access_control_request_headers(&pairs(&[("DPR", "2")])),
        None
    );
}

/// preflight_controller.cc runs the CORS check before the ok-status check, so a 404
/// without CORS headers is a missing-header error, not PreflightInvalidStatus.
#[test]
fn preflight_cors_check_comes_before_status() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"DELETE"},
            "preflight_response":{"status":404,"headers":{}}}"#,
    );
    assert_eq!(
        v.cors_error,
        Some(CorsError::PreflightMissingAllowOriginHeader)
    );
}

/// preflight_cache.cc keys by (origin, URL, network isolation key) only; an entry made
/// for a credentialed request also serves a later request without credentials, and an
/// uncredentialed entry is refused (and dropped) for a credentialed request.
#[test]
fn preflight_cache_is_not_keyed_by_credentials_mode() {
    let with_prior = |prior_creds: &str, creds: &str| {
        eval(&format!(
            r#"{{"request":{{"url":"http://api.test:3000/x","origin":"{PAGE}","method":"PUT","credentials":"{creds}"}},
                "prior":[{{"seconds_before":1,"request":{{"url":"http://api.test:3000/x","origin":"{PAGE}","method":"PUT","credentials":"{prior_creds}"}},
                  "preflight_response":{{"status":204,"headers":{{"Access-Control-Allow-Origin":"{PAGE}","Access-Control-Allow-Credentials":"true","Access-Control-Allow-Methods":"PUT"}}}}}}]}}"#
        ))
    };
    assert!(!with_prior("include", "omit").preflight_sent);
    assert!(with_prior("omit", "include").preflight_sent);
}

/// Different network isolation keys do not share entries.
#[test]
fn preflight_cache_respects_network_isolation_key() {
    let v = eval(&format!(
        r#"{{"request":{{"url":"http://api.test:3000/x","origin":"{PAGE}","method":"PUT","network_isolation_key":"https://embedder.test"}},
            "prior":[{{"seconds_before":1,"request":{{"url":"http://api.test:3000/x","origin":"{PAGE}","method":"PUT"}},
              "preflight_response":{{"status":204,"headers":{{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT"}}}}}}]}}"#
    ));
    assert!(v.preflight_sent);
}

/// cors.cc compares Access-Control-Allow-Origin with the serialized origin byte for
/// byte, so "null" matches an opaque (or tainted) origin, as the old CORS spec said.
#[test]
fn null_matches_a_tainted_origin() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
            "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT"}},
            "actual_response":{"status":307,"headers":{"Location":"http://cdn.test/x","Access-Control-Allow-Origin":"*"}},
            "redirects":[{"preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"null","Access-Control-Allow-Methods":"PUT"}},
                          "response":{"status":200,"headers":{"Access-Control-Allow-Origin":"null"}}}]}"#,
    );
    assert_eq!(v.outcome, Outcome::Allowed, "{v:#?}");
    let p = v.preflight_request.unwrap();
    assert_eq!(p.url, "http://cdn.test/x");
    assert_eq!(p.headers.get("Origin").as_deref(), Some("null"));
}

/// cors_error_string.cc in Chromium 156: no "If an opaque response serves your needs"
/// sentence (checked against the strings in /usr/lib/chromium/chromium).
#[test]
fn no_opaque_response_suffix_in_156() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},"actual_response":{"status":200}}"#,
    );
    let m = v.message.unwrap();
    assert!(m.ends_with("is present on the requested resource."), "{m}");
    assert!(!m.contains("opaque"));
}

/// cors_url_loader.cc builds RedirectContainsCredentials without a failed parameter.
#[test]
fn redirect_credentials_error_has_no_parameter() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080"},
            "actual_response":{"status":302,"headers":{"Location":"http://u:p@api.test:3000/y","Access-Control-Allow-Origin":"*"}}}"#,
    );
    assert_eq!(v.cors_error, Some(CorsError::RedirectContainsCredentials));
    assert_eq!(v.failed_parameter, None);
}

/// Spec-conformant method matching (Chromium's default since the ACAM policy flip):
/// `patch` is sent as written and `PATCH` in the allow list does not cover it.
#[test]
fn lower_case_patch_is_not_covered_by_upper_case() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"patch"},
            "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PATCH"}}}"#,
    );
    assert_eq!(
        v.cors_error,
        Some(CorsError::MethodDisallowedByPreflightResponse)
    );
    assert_eq!(v.failed_parameter.as_deref(), Some("patch"));
    assert_eq!(
        v.preflight_request
            .unwrap()
            .headers
            .get("Access-Control-Request-Method")
            .as_deref(),
        Some("patch")
    );
    assert!(v.fix.unwrap().contains("'PATCH'"));
}

/// Max-age: Chromium caps at 7200 s and falls back to 5 s on anything unparsable,
/// including an integer overflow; negative means 0.
#[test]
fn max_age_cap_note() {
    let v = eval(
        r#"{"request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","method":"PUT"},
            "preflight_response":{"status":204,"headers":{"Access-Control-Allow-Origin":"*","Access-Control-Allow-Methods":"PUT","Access-Control-Max-Age":"86400"}},
            "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}"#,
    );
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("capped by Chromium at 7200 s")),
        "{:?}",
        v.notes
    );
}
