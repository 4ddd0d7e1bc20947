use super::*;
use crate::policy::{load as load_policy, PolicyRules};
use crate::source_file::Source;

fn policy(text: &str) -> (ExpressPolicy, Vec<String>) {
    let p = load_policy(&Source::embedded("cors.toml", text), "cors.toml").unwrap();
    match p.rules {
        PolicyRules::Express(e) => (e, p.warnings),
        other => panic!("not express: {other:?}"),
    }
}

fn error(text: &str) -> String {
    let e = load_policy(&Source::embedded("cors.toml", text), "cors.toml").unwrap_err();
    format!("{e:?}")
}

fn lines(a: ExpressAnswer) -> Vec<String> {
    let (ExpressAnswer::Continue(l) | ExpressAnswer::Preflight(_, l)) = a;
    l.iter().map(|(n, v)| format!("{n}: {v}")).collect()
}

const PAGE: &str = "http://karachi-dev.localhost:8080";

#[test]
fn the_defaults_are_the_packages() {
    let (p, _) = policy("mode = \"express\"\n");
    assert_eq!(
        p.answer("OPTIONS", Some(PAGE), Some("content-type,x-pkr-auth")),
        ExpressAnswer::Preflight(
            204,
            vec![
                ("Access-Control-Allow-Origin", "*".into()),
                ("Access-Control-Allow-Methods", DEFAULT_METHODS.into()),
                ("Vary", "Access-Control-Request-Headers".into()),
                (
                    "Access-Control-Allow-Headers",
                    "content-type,x-pkr-auth".into()
                ),
            ]
        )
    );
    assert_eq!(
        lines(p.answer("GET", None, None)),
        ["Access-Control-Allow-Origin: *"]
    );
}

#[test]
fn mistake_1_sends_the_wildcard_with_credentials_and_is_linted() {
    let (p, w) = policy("mode = \"express\"\norigin = \"*\"\ncredentials = true\n");
    assert_eq!(
        lines(p.answer("GET", Some(PAGE), None)),
        [
            "Access-Control-Allow-Origin: *",
            "Access-Control-Allow-Credentials: true"
        ]
    );
    assert!(
        w.iter().any(|w| w.contains("origin '*' with credentials")),
        "{w:?}"
    );
}

#[test]
fn a_list_reflects_matches_and_merges_vary() {
    let (p, _) = policy(
        "mode = \"express\"\norigin = [\"http://a.localhost:1\", '/^http:\\/\\/b\\.localhost(:\\d+)?$/i']\nexposedHeaders = [\"X-Total-Count\"]\nmaxAge = 600\n",
    );
    assert_eq!(
        lines(p.answer("OPTIONS", Some("http://B.localhost:9"), None)),
        [
            "Access-Control-Allow-Origin: http://B.localhost:9",
            "Vary: Origin, Access-Control-Request-Headers",
            "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE",
            "Access-Control-Max-Age: 600",
            "Access-Control-Expose-Headers: X-Total-Count",
        ]
    );
    assert_eq!(
        lines(p.answer("GET", Some("http://evil.localhost"), None)),
        [
            "Vary: Origin",
            "Access-Control-Expose-Headers: X-Total-Count"
        ]
    );
}

#[test]
fn false_turns_it_off_and_preflight_continue_passes_options_on() {
    let (p, _) = policy("mode = \"express\"\norigin = false\n");
    assert_eq!(
        p.answer("OPTIONS", Some(PAGE), None),
        ExpressAnswer::Continue(vec![])
    );
    let (p, _) = policy(
        "mode = \"express\"\norigin = true\npreflightContinue = true\nallowedHeaders = []\n",
    );
    assert_eq!(
        lines(p.answer("OPTIONS", Some(PAGE), Some("x-a"))),
        [
            format!("Access-Control-Allow-Origin: {PAGE}"),
            "Vary: Origin".into(),
            "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE".into(),
        ]
    );
    assert!(matches!(
        p.answer("OPTIONS", Some(PAGE), None),
        ExpressAnswer::Continue(_)
    ));
}

#[test]
fn bad_options_are_located_with_a_way_out() {
    let e = error("mode = \"express\"\nallowedHeader = [\"X\"]\n");
    assert!(
        e.contains("unknown key `allowedHeader`") && e.contains("allowedHeaders"),
        "{e}"
    );
    let e = error("mode = \"express\"\norigin = '/^http:\\/\\/a/g'\n");
    assert!(e.contains("flag `g`"), "{e}");
    let e = error("mode = \"express\"\norigin = '/(?<=a)b/'\n");
    assert!(e.contains("does not compile"), "{e}");
    let e = error("mode = \"express\"\nmethods = [\"GET\", \"P UT\"]\n");
    assert!(e.contains("`P UT` is not a method"), "{e}");
    let e = error("mode = \"express\"\ncredentials = \"yes\"\n");
    assert!(e.contains("invalid type"), "{e}");
    let e = error("mode = \"express\"\noptionsSuccessStatus = 100\n");
    assert!(e.contains("between 200 and 599"), "{e}");
    let e = error("mode = \"express\"\norigin = 3\n");
    assert!(e.contains("a string or a list"), "{e}");
}

#[test]
fn unanchored_patterns_and_reflection_with_credentials_are_linted() {
    let (_, w) = policy("mode = \"express\"\norigin = '/localhost/'\n");
    assert!(w.iter().any(|w| w.contains("not anchored")), "{w:?}");
    let (_, w) = policy("mode = \"express\"\norigin = true\ncredentials = true\n");
    assert!(w.iter().any(|w| w.contains("reflects any Origin")), "{w:?}");
}

#[test]
fn the_options_print_as_the_express_app_writes_them() {
    let (p, _) = policy(
        "mode = \"express\"\norigin = ['/^http:\\/\\/a\\.localhost$/', \"http://b.localhost\"]\nallowedHeaders = [\"Content-Type\"]\ncredentials = true\n",
    );
    assert_eq!(
        p.to_js(),
        r"cors({ origin: [/^http:\/\/a\.localhost$/, 'http://b.localhost'], allowedHeaders: ['Content-Type'], credentials: true })"
    );
    assert_eq!(p.options_json()["credentials"], true);
    assert_eq!(policy("mode = \"express\"\n").0.to_js(), "cors()");
}
