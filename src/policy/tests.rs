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
