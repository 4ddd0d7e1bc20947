use serde_json::json;

use super::*;
use crate::browser::{evaluate, Credentials, FixContext, Request, Response};

const PAGE: &str = "http://karachi-dev.localhost:8080";
const API: &str = "http://lahore-api.localhost:3000/api/data";

fn judged(s: &Scenario) -> Verdict {
    evaluate(s, &FixContext::Generic)
}

/// The tutorial's mistake 2: a PUT with X-PKR-Auth the preflight does not allow.
fn put_with_header(preflight: Response) -> Scenario {
    let mut r = Request::new(API, PAGE);
    r.method = "PUT".into();
    r.headers.push("X-PKR-Auth", "k");
    let mut s = Scenario::new(r);
    s.preflight_response = Some(preflight);
    s.actual_response = Some(Response::new(200).with("Access-Control-Allow-Origin", PAGE));
    s
}

fn fix_in(stack: Stack, s: &Scenario, current: Option<Settings>) -> StackFix {
    let req = StackRequest {
        stack: Some(stack),
        current,
        read_headers: Vec::new(),
    };
    fix(&req, s, &judged(s)).expect("a fix")
}

#[test]
fn express_methods_grow_from_what_the_server_sent() {
    let s = put_with_header(
        Response::new(204)
            .with("Access-Control-Allow-Origin", PAGE)
            .with("Access-Control-Allow-Methods", "GET,POST")
            .with("Access-Control-Allow-Headers", "x-pkr-auth"),
    );
    let f = fix_in(Stack::Express, &s, None);
    assert_eq!(f.config["methods"], json!(["GET", "POST", "PUT"]));
    assert_eq!(f.config["origin"], json!(PAGE));
    // The request header was reflected: npm cors's default, so no allowedHeaders.
    assert!(f.config.get("allowedHeaders").is_none(), "{}", f.config);
    assert!(
        f.text.contains("methods: ['GET', 'POST', 'PUT']"),
        "{}",
        f.text
    );
}

#[test]
fn wildcard_with_credentials_becomes_the_page_origin_never_a_reflection() {
    let mut r = Request::new(API, PAGE);
    r.credentials = Credentials::Include;
    let mut s = Scenario::new(r);
    s.actual_response = Some(
        Response::new(200)
            .with("Access-Control-Allow-Origin", "*")
            .with("Access-Control-Allow-Credentials", "true"),
    );
    for stack in Stack::ALL {
        let f = fix_in(stack, &s, None);
        let origin = match f.config.as_str() {
            Some(nginx) => nginx.to_owned(),
            None => f.config[super::read::names(stack).origins()].to_string(),
        };
        assert!(origin.contains(PAGE), "{stack:?}: {}", f.config);
        assert!(
            !origin.contains("\"*\""),
            "{stack:?} keeps `*`: {}",
            f.config
        );
        assert!(!origin.contains("$http_origin"), "{stack:?}: {}", f.config);
        assert!(
            f.config.get("allow_any_origin").is_none(),
            "{stack:?}: {}",
            f.config
        );
    }
}

#[test]
fn a_user_config_changes_minimally_and_keeps_what_it_does_not_read() {
    let s = put_with_header(
        Response::new(204)
            .with("Access-Control-Allow-Origin", PAGE)
            .with("Access-Control-Allow-Methods", "GET,PUT")
            .with("Access-Control-Allow-Headers", "Content-Type"),
    );
    let current = read_config(
        Stack::Express,
        "cors.json",
        r#"{"origin": ["http://a.localhost", "http://karachi-dev.localhost:8080"],
            "methods": "GET,PUT", "allowedHeaders": ["Content-Type"], "optionsSuccessStatus": 200}"#,
    )
    .unwrap();
    let f = fix_in(Stack::Express, &s, Some(current));
    assert_eq!(
        f.config,
        json!({
            "origin": ["http://a.localhost", PAGE],
            "methods": ["GET", "PUT"],
            "allowedHeaders": ["Content-Type", "x-pkr-auth"],
            "optionsSuccessStatus": 200,
        })
    );
    assert_eq!(f.changes.len(), 1, "{:?}", f.changes);
    assert_eq!(f.from, "--stack-config");
}

#[test]
fn django_headers_extend_the_default_list() {
    let s = put_with_header(
        Response::new(200)
            .with("Access-Control-Allow-Origin", PAGE)
            .with(
                "Access-Control-Allow-Methods",
                "DELETE, GET, OPTIONS, PATCH, POST, PUT",
            )
            .with(
                "Access-Control-Allow-Headers",
                "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with",
            ),
    );
    let f = fix_in(Stack::Django, &s, None);
    let headers = f.config["CORS_ALLOW_HEADERS"].as_array().unwrap();
    assert_eq!(headers.len(), 7, "{}", f.config);
    assert!(
        f.text.contains("(*default_headers, \"x-pkr-auth\")"),
        "{}",
        f.text
    );
    assert!(f.config.get("CORS_ALLOW_METHODS").is_none(), "{}", f.config);
}

#[test]
fn nginx_marks_every_line_always_and_answers_the_preflight() {
    let mut s = Scenario::new(Request::new(
        "http://lahore-api.localhost:3000/api/fail",
        PAGE,
    ));
    s.actual_response = Some(Response::new(500));
    let f = fix_in(Stack::Nginx, &s, None);
    let text = f.config.as_str().unwrap();
    assert!(text.contains(&format!(
        "add_header Access-Control-Allow-Origin \"{PAGE}\" always;"
    )));
    assert!(text.contains("return 204;"));
    assert!(text
        .lines()
        .filter(|l| l.contains("add_header"))
        .all(|l| l.ends_with("always;")));
    assert!(
        f.changes.iter().any(|c| c.contains("always")),
        "{:?}",
        f.changes
    );
}

#[test]
fn fastapi_error_path_wraps_the_whole_app() {
    let mut s = Scenario::new(Request::new(
        "http://lahore-api.localhost:3000/api/fail",
        PAGE,
    ));
    s.actual_response = Some(Response::new(500));
    let current = read_config(
        Stack::Fastapi,
        "kw.json",
        &format!(r#"{{"allow_origins": ["{PAGE}"]}}"#),
    )
    .unwrap();
    let f = fix_in(Stack::Fastapi, &s, Some(current));
    assert!(f.outermost);
    assert_eq!(f.changes.len(), 1, "{:?}", f.changes);
    assert!(
        f.changes[0].contains("ServerErrorMiddleware"),
        "{:?}",
        f.changes
    );
    assert!(
        f.text.contains("app = CORSMiddleware(\n    app,\n"),
        "{}",
        f.text
    );
}

#[test]
fn detection_names_the_line() {
    let h = HeaderList::new().with("X-Powered-By", "Express");
    assert_eq!(
        detect(&h),
        Some((Stack::Express, "X-Powered-By: Express".into()))
    );
    let h = HeaderList::new().with("server", "uvicorn");
    assert_eq!(detect(&h).unwrap().0, Stack::Fastapi);
    let h = HeaderList::new().with("Server", "nginx/1.26.3");
    assert_eq!(detect(&h).unwrap().0, Stack::Nginx);
    let h = HeaderList::new()
        .with("Server", "WSGIServer/0.2 CPython/3.11")
        .with("X-Frame-Options", "DENY");
    assert_eq!(detect(&h).unwrap().0, Stack::Django);
    assert_eq!(detect(&HeaderList::new().with("Server", "Apache")), None);
}

#[test]
fn bad_stack_config_says_where() {
    let e = read_config(Stack::Fastapi, "kw.json", "{\n  \"allow_origins\": [1,\n").unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("kw.json:"), "{text}");
    let e = read_config(
        Stack::Flask,
        "kw.json",
        r#"{"supports_credentials": "yes"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("supports_credentials"), "{e}");
    let e = read_config(
        Stack::Nginx,
        "cors.conf",
        "location / {\n  add_header Foo;\n}\n",
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("cors.conf:2:"), "{e}");
}

#[test]
fn refusals_no_option_causes_say_what_does() {
    let mut r = Request::new(API, PAGE);
    r.method = "PUT".into();
    let mut s = Scenario::new(r);
    s.preflight_response = Some(Response::new(401));
    let f = fix_in(Stack::Express, &s, None);
    assert!(
        f.warnings
            .iter()
            .any(|w| w.contains("before authentication")),
        "{f:?}"
    );

    let mut s = Scenario::new(Request::new(API, PAGE));
    s.actual_response = Some(
        Response::new(200)
            .with("Access-Control-Allow-Origin", PAGE)
            .with("Access-Control-Allow-Origin", PAGE),
    );
    let f = fix_in(Stack::Flask, &s, None);
    assert!(
        f.warnings.iter().any(|w| w.contains("more than once")),
        "{f:?}"
    );
}

#[test]
fn a_trailing_slash_origin_is_replaced_not_kept() {
    let mut s = Scenario::new(Request::new(API, PAGE));
    s.actual_response =
        Some(Response::new(200).with("Access-Control-Allow-Origin", &format!("{PAGE}/")));
    let f = fix_in(Stack::Express, &s, None);
    assert_eq!(f.config["origin"], json!(PAGE), "{}", f.config);
    assert!(f.changes[0].contains("trailing slash"), "{:?}", f.changes);
}
