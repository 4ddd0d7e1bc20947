//! Request-side rules: methods, forbidden and safelisted headers, the preflight decision
//! and the exact Access-Control-Request-Headers value.

use super::pairs;
use crate::browser::request::{
    access_control_request_headers, content_type_essence, is_cors_safelisted_request_header,
    is_forbidden_request_header, is_preflight, is_simple_range, needs_preflight, normalize_method,
    prepare,
};
use crate::browser::{Browser, HeaderList, Mode};

type Headers<'a> = Vec<(&'a str, &'a str)>;

#[test]
fn method_normalisation() {
    let table = [
        ("get", "GET"),
        ("Get", "GET"),
        ("delete", "DELETE"),
        ("options", "OPTIONS"),
        ("put", "PUT"),
        ("post", "POST"),
        ("head", "HEAD"),
        ("patch", "patch"),
        ("Patch", "Patch"),
        ("PATCH", "PATCH"),
        ("propfind", "propfind"),
    ];
    for (input, want) in table {
        assert_eq!(normalize_method(input), want, "method {input}");
    }
}

#[test]
fn safelisted_request_headers() {
    let long = "a".repeat(129);
    let exactly_128 = "a".repeat(128);
    let table: Vec<(&str, &str, bool)> = vec![
        ("Accept", "application/json", true),
        ("accept", "*/*", true),
        ("Accept", "text/html(", false),
        ("Accept", "a\u{7f}", false),
        ("Accept", "a\tb", true),
        ("Accept", &long, false),
        ("Accept", &exactly_128, true),
        ("Accept-Language", "en-US,en;q=0.9", true),
        ("Accept-Language", "en_US", false),
        ("Content-Language", "de-DE", true),
        ("Content-Language", "de/DE", false),
        ("Content-Type", "text/plain", true),
        ("Content-Type", "text/plain;charset=UTF-8", true),
        ("Content-Type", "TEXT/PLAIN", true),
        ("Content-Type", "application/x-www-form-urlencoded", true),
        ("Content-Type", "multipart/form-data; boundary=xyz", true),
        ("Content-Type", "application/json", false),
        ("Content-Type", "text/plain, text/html", false),
        ("Content-Type", "text/plain; charset=\"utf-8\"", false),
        ("Content-Type", "text /plain", false),
        ("Content-Type", "text/ plain", false),
        ("Content-Type", "text/plain ;x=y", true),
        ("Content-Type", "text", false),
        ("Content-Type", "text/plain/x", false),
        ("Content-Type", "text/plain; a=b(c)", false),
        ("Range", "bytes=0-", true),
        ("Range", "bytes=10-20", true),
        ("Range", "bytes=20-10", false),
        ("Range", "bytes=-5", false),
        ("Range", "bytes=0-1,3-4", false),
        ("Range", "bytes= 0-1", false),
        ("Range", "items=0-1", false),
        ("X-Custom", "1", false),
        ("Authorization", "Bearer x", false),
        ("Cache-Control", "no-cache", false),
    ];
    for (name, value, want) in table {
        assert_eq!(
            is_cors_safelisted_request_header(name, value),
            want,
            "{name}: {value}"
        );
    }
}

#[test]
fn content_type_essence_parsing() {
    let table = [
        ("text/plain", Some("text/plain")),
        ("  text/plain", Some("text/plain")),
        ("text/plain  ", Some("text/plain")),
        ("Text/Plain;charset=x", Some("text/plain")),
        ("text/plain,", None),
        ("/plain", None),
        ("text/", None),
    ];
    for (value, want) in table {
        assert_eq!(content_type_essence(value).as_deref(), want, "{value:?}");
    }
}

#[test]
fn simple_range_values() {
    let table = [
        ("bytes=0-", true),
        ("bytes=0-0", true),
        ("bytes=5-", true),
        ("bytes=", false),
        ("bytes=a-b", false),
        ("bytes=1-2-3", false),
        ("bytes=1-,", false),
    ];
    for (value, want) in table {
        assert_eq!(is_simple_range(value), want, "{value}");
    }
}

#[test]
fn forbidden_request_headers() {
    let table = [
        ("Cookie", "a=b", true),
        ("cookie2", "x", true),
        ("Origin", "http://x", true),
        ("Referer", "http://x", true),
        ("Host", "x", true),
        ("Content-Length", "3", true),
        ("Accept-Encoding", "gzip", true),
        ("Access-Control-Request-Headers", "x", true),
        ("Sec-Fetch-Mode", "cors", true),
        ("sec-anything", "x", true),
        ("Proxy-Authorization", "x", true),
        ("Set-Cookie", "a=b", true),
        ("X-HTTP-Method-Override", "TRACE", true),
        ("X-HTTP-Method-Override", "PUT, track", true),
        ("X-HTTP-Method-Override", "PUT", false),
        ("X-Method-Override", "connect", true),
        ("Authorization", "Bearer x", false),
        ("X-Requested-With", "XMLHttpRequest", false),
    ];
    for (name, value, want) in table {
        assert_eq!(
            is_forbidden_request_header(name, value),
            want,
            "{name}: {value}"
        );
    }
}

#[test]
fn access_control_request_headers_value() {
    let table: Vec<(Headers, Option<&str>)> = vec![
        (vec![], None),
        (vec![("Accept", "application/json")], None),
        (vec![("X-PKR-Auth", "t")], Some("x-pkr-auth")),
        (
            vec![
                ("X-B", "1"),
                ("Content-Type", "application/json"),
                ("X-A", "2"),
            ],
            Some("content-type,x-a,x-b"),
        ),
        (vec![("X-A", "1"), ("Cookie", "a=b")], Some("x-a")),
        (
            vec![("Authorization", "Bearer t"), ("Accept", "*/*")],
            Some("authorization"),
        ),
        (vec![("Content-Type", "text/plain")], None),
    ];
    for (headers, want) in table {
        let h = pairs(&headers);
        assert_eq!(
            access_control_request_headers(&h).as_deref(),
            want,
            "{headers:?}"
        );
    }
}

#[test]
fn safelisted_total_over_1024_bytes_needs_preflight() {
    let v = "a".repeat(128);
    let headers = pairs(&[
        ("Accept", &v),
        ("Accept-Language", &v),
        ("Content-Language", &v),
        ("Content-Type", "text/plain"),
        ("Width", "100"),
        ("Viewport-Width", "100"),
        ("DPR", "2"),
        ("Device-Memory", "8"),
        ("Intervention", &v),
        ("Save-Data", "on"),
        ("RTT", "50"),
        ("ECT", "4g"),
        ("Downlink", "10"),
    ]);
    let total: usize = headers.iter().map(|(_, v)| v.len()).sum();
    assert!(total <= 1024, "this list stays under the limit ({total})");
    assert!(!needs_preflight("GET", &headers));
    let over = pairs(&[
        ("Accept", &v),
        ("Accept-Language", &v),
        ("Content-Language", &v),
        ("Intervention", &v),
        ("Width", &"1".repeat(128)),
        ("Viewport-Width", &"1".repeat(128)),
        ("RTT", &"1".repeat(128)),
        ("DPR", &"1".repeat(128)),
        ("Downlink", &"1".repeat(128)),
    ]);
    assert!(over.iter().map(|(_, v)| v.len()).sum::<usize>() > 1024);
    assert!(needs_preflight("GET", &over));
    assert_eq!(
        access_control_request_headers(&over).as_deref(),
        Some("accept,accept-language,content-language,downlink,dpr,intervention,rtt,viewport-width,width")
    );
}

#[test]
fn preflight_decision() {
    let table: Vec<(&str, Headers, bool)> = vec![
        ("GET", vec![], false),
        ("HEAD", vec![], false),
        ("POST", vec![("Content-Type", "text/plain")], false),
        ("POST", vec![("Content-Type", "application/json")], true),
        ("PUT", vec![], true),
        ("DELETE", vec![], true),
        ("patch", vec![], true),
        ("GET", vec![("X-Requested-With", "x")], true),
        ("GET", vec![("Cookie", "a=b")], false),
        // Sent only by the engines that send it (`prepare` decides), then not safelisted.
        ("GET", vec![("User-Agent", "bot")], true),
        ("GET", vec![("Sec-Fetch-Mode", "cors")], false),
    ];
    for (method, headers, want) in table {
        assert_eq!(
            needs_preflight(method, &pairs(&headers)),
            want,
            "{method} {headers:?}"
        );
    }
}

/// What a server sees: only OPTIONS (case-sensitive) with both Origin and
/// Access-Control-Request-Method is a preflight; Access-Control-Request-Headers is optional.
#[test]
fn preflight_recognised_by_a_server() {
    let origin = ("Origin", "http://frontend.test:8080");
    let acrm = ("Access-Control-Request-Method", "PUT");
    let acrh = ("Access-Control-Request-Headers", "x-pkr-auth");
    let table: Vec<(&str, Headers, bool)> = vec![
        ("OPTIONS", vec![origin, acrm], true),
        ("OPTIONS", vec![origin, acrm, acrh], true),
        (
            "OPTIONS",
            vec![("origin", "null"), ("ACCESS-CONTROL-REQUEST-METHOD", "GET")],
            true,
        ),
        // curl -X OPTIONS with the header copied: no Origin, so not a CORS request.
        ("OPTIONS", vec![acrm], false),
        // A page's own fetch(url, {method: "OPTIONS"}).
        ("OPTIONS", vec![origin], false),
        ("OPTIONS", vec![origin, acrh], false),
        ("options", vec![origin, acrm], false),
        ("PUT", vec![origin, acrm], false),
        ("GET", vec![], false),
    ];
    for (method, headers, want) in table {
        let mut list = HeaderList::new();
        for (n, v) in &headers {
            list.push(*n, *v);
        }
        assert_eq!(
            is_preflight(method, |name| list.contains(name)),
            want,
            "{method} {headers:?}"
        );
    }
}

#[test]
fn prepare_combines_duplicates_and_drops_forbidden() {
    let headers = HeaderList::new()
        .with("X-A", "1")
        .with("x-a", " 2 ")
        .with("Cookie", "a=b");
    let p = prepare("patch", &headers, Mode::Cors, Browser::Chromium.quirks()).unwrap();
    assert_eq!(p.method, "patch");
    assert_eq!(p.headers, pairs(&[("X-A", "1, 2")]));
    assert_eq!(p.notes.len(), 1);
}

#[test]
fn prepare_type_errors() {
    let table = [
        ("TRACE", Mode::Cors, "'TRACE' HTTP method is unsupported."),
        (
            "connect",
            Mode::Cors,
            "'connect' HTTP method is unsupported.",
        ),
        ("GE T", Mode::Cors, "'GE T' is not a valid HTTP method."),
        ("PUT", Mode::NoCors, "'PUT' is unsupported in no-cors mode."),
    ];
    for (method, mode, want) in table {
        assert_eq!(
            prepare(method, &HeaderList::new(), mode, Browser::Chromium.quirks())
                .unwrap_err()
                .to_string(),
            want
        );
    }
}

#[test]
fn no_cors_drops_unsafelisted_headers() {
    let headers = HeaderList::new()
        .with("Accept", "x")
        .with("X-A", "1")
        .with("Content-Type", "application/json");
    let p = prepare("POST", &headers, Mode::NoCors, Browser::Chromium.quirks()).unwrap();
    assert_eq!(p.headers, pairs(&[("Accept", "x")]));
}

/// The lab explains a missing preflight with this rule, so it must be the browser's:
/// methods and headers outside the safelist need one, simple requests and the headers
/// the browser adds itself do not.
#[test]
fn received_requests_need_a_preflight_by_the_browsers_rule() {
    let browser_added = [
        ("host", "api.localhost:3000"),
        ("origin", "http://page.localhost:8080"),
        ("user-agent", "Mozilla/5.0"),
        ("accept", "*/*"),
        ("sec-fetch-mode", "cors"),
        ("referer", "http://page.localhost:8080/"),
        ("accept-encoding", "gzip"),
    ];
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: [Case; 7] = [
        ("GET", &[], false),
        ("POST", &[("content-type", "text/plain")], false),
        ("POST", &[("content-type", "application/json")], true),
        ("PUT", &[], true),
        ("GET", &[("x-pkr-auth", "t")], true),
        ("GET", &[("accept-language", "en")], false),
        // What a server got as bytes that are not text stands in as NUL: never safelisted.
        ("GET", &[("accept", "\0")], true),
    ];
    for (method, extra, want) in cases {
        let lines = browser_added.iter().chain(extra).copied();
        assert_eq!(
            crate::browser::needs_preflight_received(method, lines),
            want,
            "{method} {extra:?}"
        );
    }
}
