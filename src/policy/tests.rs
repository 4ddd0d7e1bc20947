use super::*;
use std::path::Path;

fn load_str(text: &str) -> Result<Policy, LoadError> {
    let src = Source::from_bytes(Path::new("cors.toml"), text.as_bytes().to_vec())?;
    load(&src, "cors.toml")
}

#[test]
fn issue_example_loads() {
    let p = load_str(
        r#"mode = "actix-cors"
allowed_origins = ["http://karachi-dev.localhost:8080"]
allowed_methods = ["GET", "POST", "PUT"]
allowed_headers = ["Content-Type", "X-PKR-Auth"]
supports_credentials = true
"#,
    )
    .unwrap();
    let PolicyRules::ActixCors(a) = &p.rules else {
        panic!("expected actix-cors mode")
    };
    assert_eq!(
        a.allowed_origins,
        AnyOr::List(vec!["http://karachi-dev.localhost:8080".into()])
    );
    assert!(a.supports_credentials);
    assert!(a.vary && a.preflight);
}

#[test]
fn refusals_are_located_with_hints() {
    let cases: &[(&str, &str, (usize, usize))] = &[
        (
            "allowed_origins = \"*\"\nsupports_credentials = true\n",
            "cannot be combined",
            (1, 19),
        ),
        (
            "allowed_origins = [\"http://a.localhost:8080/\"]\n",
            "trailing slash",
            (1, 20),
        ),
        (
            "allowed_origins = [\"http://a.localhost/app\"]\n",
            "a path",
            (1, 20),
        ),
        (
            "allowed_origins = [\"a.localhost\"]\n",
            "no scheme",
            (1, 20),
        ),
        (
            "allowed_origins = [\"http://A.localhost\"]\n",
            "upper-case",
            (1, 20),
        ),
        (
            "allowed_origins = [\"http://a:80\"]\n",
            "default port",
            (1, 20),
        ),
        ("allowed_origins = [\"*\"]\n", "not a wildcard", (1, 20)),
        (
            "allowed_headers = [\"X Bad\"]\n",
            "not a valid header name",
            (1, 20),
        ),
        (
            "allowed_headers = [\"X-Ok\", \"X:Bad\"]\n",
            "not a valid header name",
            (1, 28),
        ),
        (
            "allowed_methods = [\"PU T\"]\n",
            "not a valid method name",
            (1, 20),
        ),
        (
            "alowed_origins = []\n",
            "did you mean `allowed_origins`",
            (1, 1),
        ),
        ("max_age = -1\n", "0 or more", (1, 11)),
        ("mode = \"exakt\"\n", "unknown policy mode", (1, 8)),
        (
            "allowed_methods = \"GET\"\n",
            "expected \"*\" or a list",
            (1, 19),
        ),
    ];
    for (text, want, at) in cases {
        let e = load_str(text).unwrap_err();
        assert!(e.one_line().contains(want), "{text:?} → {}", e.one_line());
        assert_eq!(e.line_col(), Some(*at), "{text:?} → {}", e.one_line());
    }
}

#[test]
fn lints_warn_without_refusing() {
    let p =
        load_str("allowed_origins = [\"null\"]\nmax_age = 86400\nsend_wildcard = true\n").unwrap();
    assert_eq!(p.warnings.len(), 3, "{:?}", p.warnings);
    let p = load_str("allowed_origins = \"*\"\n").unwrap();
    assert!(p.warnings.is_empty());
}

#[test]
fn refusal_names_the_policy_field_at_fault() {
    let p = load_str(
        "allowed_origins = [\"http://a.localhost\"]\nallowed_methods = [\"GET\", \"PUT\"]\nallowed_headers = [\"X-PKR-Auth\"]\n",
    )
    .unwrap();
    let PolicyRules::ActixCors(a) = &p.rules else {
        panic!()
    };
    let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        a.refusal("cors.toml", "http://b.localhost", None).unwrap(),
        "add \"http://b.localhost\" to allowed_origins in cors.toml"
    );
    assert_eq!(a.refusal("cors.toml", "http://a.localhost", None), None);
    assert_eq!(
        a.refusal("cors.toml", "http://a.localhost", Some(("DELETE", &h(&[]))))
            .unwrap(),
        "add \"DELETE\" to allowed_methods in cors.toml"
    );
    assert_eq!(
        a.refusal(
            "cors.toml",
            "http://a.localhost",
            Some(("PUT", &h(&["x-pkr-auth", "x-other", "content-type"])))
        )
        .unwrap(),
        "add \"x-other\", \"content-type\" to allowed_headers in cors.toml"
    );
    assert_eq!(
        a.refusal(
            "cors.toml",
            "http://a.localhost",
            Some(("PUT", &h(&["x-pkr-auth"])))
        ),
        None
    );
}

/// The lints on `allowed_methods` found for `methods`, one line each.
fn method_lints(methods: &str) -> Vec<String> {
    load_str(&format!(
        "allowed_origins = [\"http://a.localhost\"]\nallowed_methods = {methods}\n"
    ))
    .unwrap()
    .warnings
}

#[test]
fn method_names_that_match_nothing_or_not_what_was_meant_are_linted() {
    // Upper-case standard methods, WebDAV and a deliberate custom method: nothing to say.
    assert!(method_lints(r#"["GET", "PUT", "PATCH", "PROPFIND", "X-CUSTOM"]"#).is_empty());
    assert!(method_lints("\"*\"").is_empty());

    let w = method_lints(r#"["GETT"]"#);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("`GETT` is not an HTTP method") && w[0].contains("did you mean \"GET\"?"),
        "{}",
        w[0]
    );

    // fetch() upper-cases put: the preflight asks for PUT, which actix-cors refuses.
    let w = method_lints(r#"["put"]"#);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("`put` matches nothing") && w[0].contains("sends `PUT`"),
        "{}",
        w[0]
    );
    assert!(
        w[0].contains("refuses the preflight with 400") && w[0].contains("write \"PUT\""),
        "{}",
        w[0]
    );

    // get: simple GETs pass without the list; preflighted ones are refused.
    let w = method_lints(r#"["Get"]"#);
    assert!(
        w[0].contains("sends `GET`")
            && w[0].contains("CORS-safelisted")
            && w[0].contains("needs a preflight"),
        "{}",
        w[0]
    );

    // patch is sent as written, so it matches only the same lower-case spelling.
    let w = method_lints(r#"["patch"]"#);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("matches only fetch(url, {method: 'patch'})"),
        "{}",
        w[0]
    );
    assert!(
        w[0].contains("{method: 'PATCH'}) is blocked") && w[0].contains("write \"PATCH\""),
        "{}",
        w[0]
    );

    // Both spellings listed: deliberate, and each does what it says.
    assert!(method_lints(r#"["PATCH", "patch", "GET", "get"]"#).is_empty());

    let w = method_lints(r#"["TRACE"]"#);
    assert!(
        w[0].contains("fetch() refuses `TRACE` outright"),
        "{}",
        w[0]
    );
    // A lower-case typo is both: not a method, and compared as written.
    let w = method_lints(r#"["gett"]"#);
    assert!(
        w[0].contains("did you mean \"GET\"?") && w[0].contains("exactly `gett`"),
        "{}",
        w[0]
    );
}

#[test]
fn the_static_origins_placeholder_expands_to_the_origins_as_served() {
    let p = load_str(&format!(
        "allowed_origins = [\"http://app.example\", \"{STATIC_ORIGINS}\", \"http://127.0.0.1:8081\"]\n"
    ))
    .unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let served = [
        "http://localhost:8081".to_string(),
        "http://127.0.0.1:8081".to_string(),
    ];
    let expanded = p.with_static_origins(&served);
    let PolicyRules::ActixCors(a) = &expanded.rules else {
        panic!("expected actix-cors mode")
    };
    // In the placeholder's place, without repeating an origin listed already.
    assert_eq!(
        a.allowed_origins,
        AnyOr::List(
            [
                "http://app.example",
                "http://localhost:8081",
                "http://127.0.0.1:8081"
            ]
            .map(String::from)
            .to_vec()
        )
    );
    assert_eq!(expanded.own_origins_warning(&served), None);

    // A misspelt placeholder is refused where it stands, not silently never matched.
    let e = load_str("allowed_origins = [\"sandbox:statc\"]\n").unwrap_err();
    assert!(
        e.one_line().contains("not a placeholder"),
        "{}",
        e.one_line()
    );
    assert_eq!(e.line_col(), Some((1, 20)));
    // Exact mode matches one Origin per rule: the placeholder has no meaning there.
    let e = load_str(&format!(
        "mode = \"exact\"\n[[rule]]\norigin = \"{STATIC_ORIGINS}\"\nheaders = [\"Access-Control-Allow-Origin: {{origin}}\"]\n"
    ))
    .unwrap_err();
    assert!(
        e.one_line().contains("works only in allowed_origins"),
        "{}",
        e.one_line()
    );
    assert_eq!(e.line_col(), Some((3, 10)));
}

#[test]
fn a_policy_allowing_none_of_the_static_origins_is_named_with_both_lists() {
    let served = [
        "http://localhost:8080".to_string(),
        "http://127.0.0.1:8080".to_string(),
    ];
    let p = load_str("allowed_origins = [\"http://elsewhere.localhost:1\"]\n").unwrap();
    let w = p.own_origins_warning(&served).unwrap();
    assert!(
        w.starts_with("cors.toml allows none of this sandbox's static origins"),
        "{w}"
    );
    assert!(w.contains("it allows http://elsewhere.localhost:1;"), "{w}");
    assert!(
        w.contains("serves http://localhost:8080, http://127.0.0.1:8080"),
        "{w}"
    );
    assert!(w.contains(STATIC_ORIGINS), "{w}");
    let none = load_str("allowed_origins = []\n").unwrap();
    assert!(none
        .own_origins_warning(&served)
        .unwrap()
        .contains("it allows no origin at all"));
    // "*" lets them through; one served origin listed is enough; no static origin, no warning.
    assert_eq!(
        load_str("allowed_origins = \"*\"\n")
            .unwrap()
            .own_origins_warning(&served),
        None
    );
    let one = load_str("allowed_origins = [\"http://127.0.0.1:8080\"]\n").unwrap();
    assert_eq!(one.own_origins_warning(&served), None);
    assert_eq!(p.own_origins_warning(&[]), None);
}
