use super::*;
use std::path::Path;

fn load_text(text: &str) -> Result<(ExactPolicy, Vec<String>), LoadError> {
    let src = Source::from_bytes(Path::new("cors.toml"), text.as_bytes().to_vec())?;
    load(&src)
}

#[test]
fn parses_rules_in_order_with_duplicates() {
    let (p, w) = load_text(
        r#"mode = "exact"
[[rule]]
request = "preflight"
path = "/api/*"
method = "put"
status = 200
headers = ["Access-Control-Allow-Origin: *", "Access-Control-Allow-Origin: {origin}"]
"#,
    )
    .unwrap();
    let r = &p.rules[0];
    assert_eq!(r.method.as_deref(), Some("PUT"));
    assert_eq!(r.status, 200);
    assert_eq!(r.headers.len(), 2);
    assert_eq!(r.headers[1].1, "{origin}");
    assert!(w.iter().any(|w| w.contains("2 times")), "{w:?}");
    assert!(p.find(true, "PUT", "/api/x/y", Some("http://a")).is_some());
    assert!(p.find(false, "PUT", "/api/x", Some("http://a")).is_none());
    assert!(p.find(true, "GET", "/api/x", None).is_none());
}

#[test]
fn refuses_bad_lines_with_location() {
    let e =
        load_text("mode = \"exact\"\n[[rule]]\nheaders = [\"Content-Length: 3\"]\n").unwrap_err();
    assert_eq!(e.line_col(), Some((3, 12)), "{}", e.one_line());
    assert!(e.one_line().contains("owned by the server"));
    let e =
        load_text("mode = \"exact\"\n[[rule]]\nheaders = [\"X-A: b\\r\\nX-B: c\"]\n").unwrap_err();
    assert!(e.one_line().contains("CR, LF or NUL"), "{}", e.one_line());
    let e = load_text("mode = \"exact\"\n[[rule]]\nheaders = [\"Bad Name: x\"]\n").unwrap_err();
    assert!(e.one_line().contains("not a valid header name"));
    for status in [700, 101, 199] {
        let text = format!("mode = \"exact\"\n[[rule]]\nstatus = {status}\n");
        let e = load_text(&text).unwrap_err();
        assert!(e.one_line().contains("between 200 and 599"), "{status}");
    }
    let e = load_text("mode = \"exact\"\n[[rule]]\nheders = []\n").unwrap_err();
    assert!(
        e.one_line().contains("did you mean `headers`?"),
        "{}",
        e.one_line()
    );
    let e = load_text("mode = \"exact\"\n[[rule]]\nrequest = \"prefligt\"\n").unwrap_err();
    assert!(e.one_line().contains("did you mean `preflight`?"));
    let e =
        load_text("mode = \"exact\"\n[[rule]]\nrequest = \"actual\"\nstatus = 200\n").unwrap_err();
    assert!(e.one_line().contains("does not apply to actual"));
    let e = load_text("mode = \"exact\"\n[[rule]]\nredirect = \"/x\"\nstatus = 200\n").unwrap_err();
    assert!(e.one_line().contains("301, 302, 307 or 308"));
}

#[test]
fn reflection_with_credentials_is_linted() {
    let (_, w) = load_text(
        "mode = \"exact\"\n[[rule]]\nheaders = [\"Access-Control-Allow-Origin: {origin}\", \"Access-Control-Allow-Credentials: true\"]\n",
    )
    .unwrap();
    assert!(w.iter().any(|w| w.contains("reflects any Origin")), "{w:?}");
}

#[test]
fn patterns_origins_and_changes() {
    let text = "mode = \"exact\"\n[[rule]]\nrequest = \"actual\"\npath = \"/api/students/{id}\"\norigin = \"http://a.localhost:8080\"\nalways = false\nheaders = [\"X-A: 1\"]\n";
    let (p, _) = load_text(text).unwrap();
    let r = &p.rules[0];
    assert!(!r.always);
    assert!(p
        .find(
            false,
            "GET",
            "/api/students/7",
            Some("http://a.localhost:8080")
        )
        .is_some());
    assert!(p
        .find(
            false,
            "GET",
            "/api/students/7/x",
            Some("http://a.localhost:8080")
        )
        .is_none());
    assert!(p
        .find(
            false,
            "GET",
            "/api/students/7",
            Some("http://b.localhost:8080")
        )
        .is_none());
    let (q, _) = load_text(&text.replace("X-A: 1", "X-A: 2")).unwrap();
    assert_eq!(p.describe_change(&q), "rule 1");
    let (two, _) = load_text(&format!("{text}[[rule]]\n")).unwrap();
    assert_eq!(p.describe_change(&two), "rules: 1 → 2");
}

#[test]
fn rule_defaults() {
    let cases: &[(&str, RequestKind, Option<&str>, u16)] = &[
        ("", RequestKind::Any, None, 204),
        (
            "request = \"preflight\"\nmethod = \"*\"\n",
            RequestKind::Preflight,
            None,
            204,
        ),
        (
            "request = \"actual\"\nmethod = \"patch\"\n",
            RequestKind::Actual,
            Some("patch"),
            204,
        ),
        (
            "request = \"any\"\nredirect = \"/x/\"\n",
            RequestKind::Any,
            None,
            301,
        ),
        (
            "redirect = \"/x/\"\nstatus = 308\n",
            RequestKind::Any,
            None,
            308,
        ),
        (
            "request = \"actual\"\nredirect = \"/x/\"\nstatus = 307\n",
            RequestKind::Actual,
            None,
            307,
        ),
    ];
    for (keys, request, method, status) in cases {
        let (p, _) = load_text(&format!("mode = \"exact\"\n[[rule]]\n{keys}")).unwrap();
        let r = &p.rules[0];
        assert_eq!(
            (r.request, r.method.as_deref(), r.status),
            (*request, *method, *status),
            "{keys:?}"
        );
    }
    let e = load_text("mode = \"exact\"\n[[rule]]\nredirect = \" \"\n").unwrap_err();
    assert_eq!(e.line_col(), Some((3, 12)), "{}", e.one_line());
    assert!(e.one_line().contains("redirect needs a location"));
    let e =
        load_text("mode = \"exact\"\n[[rule]]\nrequest = \"actual\"\nbody = \"x\"\n").unwrap_err();
    assert_eq!(e.line_col(), Some((4, 8)), "{}", e.one_line());
    assert!(e
        .one_line()
        .contains("`body` does not apply to actual requests"));
}

#[test]
fn globs() {
    assert!(glob_matches("/api/*", "/api/a/b"));
    assert!(glob_matches("/api/*/x", "/api/a/b/x"));
    assert!(!glob_matches("/api/*/x", "/api/a/b"));
    assert!(glob_matches("*", ""));
    assert!(!glob_matches("/a*", "/b"));
}
