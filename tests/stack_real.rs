//! Issue #17's proof: for each stack that runs here (Express + cors, FastAPI, Flask-CORS,
//! django-cors-headers, nginx, actix-cors) and each bug it can have, the real server is
//! started with the buggy configuration, real Chromium is shown to refuse (or hide a header),
//! `sandbox probe --json --stack S` is asked for the fix, the server is restarted with
//! exactly `stack_fix.config`, and Chromium must then allow the request. Done twice per case:
//! with the buggy configuration given as `--stack-config` (a minimal change to it) and
//! without (the fix read from the server's answers alone).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::util::chromium::{self, Browser};
use crate::util::fetch_oracle::{self, Saw};
use crate::util::sandbox::run_cli;
use crate::util::stack_servers::Server;
use crate::util::wire_server::{Reply, WireServer};

/// A request as the page makes it: (method, path, headers, credentials, the header it
/// reads).
type Asked = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
    Option<&'static str>,
);

#[derive(Clone, Copy, PartialEq)]
enum Bug {
    MissingOrigin,
    WildcardWithCredentials,
    MethodNotAllowed,
    HeaderNotAllowed,
    ErrorWithoutCors,
    ExposeMissing,
}

impl Bug {
    fn name(self) -> &'static str {
        match self {
            Bug::MissingOrigin => "missing origin",
            Bug::WildcardWithCredentials => "wildcard + credentials",
            Bug::MethodNotAllowed => "method not allowed",
            Bug::HeaderNotAllowed => "header not allowed",
            Bug::ErrorWithoutCors => "error without CORS",
            Bug::ExposeMissing => "expose headers missing",
        }
    }

    /// (method, path, headers, credentials, the header the page reads).
    fn request(self) -> Asked {
        match self {
            Bug::MissingOrigin => ("GET", "/api/data", vec![], "same-origin", None),
            Bug::WildcardWithCredentials => ("GET", "/api/data", vec![], "include", None),
            Bug::MethodNotAllowed => (
                "PUT",
                "/api/data",
                vec![("Content-Type", "application/json")],
                "same-origin",
                None,
            ),
            Bug::HeaderNotAllowed => (
                "POST",
                "/api/data",
                vec![("X-PKR-Auth", "t0ken")],
                "same-origin",
                None,
            ),
            Bug::ErrorWithoutCors => ("GET", "/api/fail", vec![], "same-origin", None),
            Bug::ExposeMissing => (
                "GET",
                "/api/data",
                vec![],
                "same-origin",
                Some("x-total-count"),
            ),
        }
    }
}

const OTHER: &str = "http://other.localhost:9999";

/// The buggy configuration of `stack` that has `bug`, or `None` where the stack cannot
/// have it (npm cors, Flask-CORS, django-cors-headers and actix-cors put their headers on
/// error answers too).
fn buggy(stack: &str, bug: Bug, page: &str) -> Option<Value> {
    use Bug::*;
    let acao = |v: &str| format!("add_header Access-Control-Allow-Origin \"{v}\";\n");
    let preflight = |methods: &str, headers: &str| {
        format!(
            "if ($request_method = OPTIONS) {{\n{}add_header Access-Control-Allow-Methods \"{methods}\";\n\
             add_header Access-Control-Allow-Headers \"{headers}\";\nreturn 204;\n}}\n{}",
            acao(page),
            acao(page)
        )
    };
    Some(match (stack, bug) {
        ("express", MissingOrigin) => json!({"origin": OTHER}),
        ("express", WildcardWithCredentials) => json!({"origin": "*", "credentials": true}),
        ("express", MethodNotAllowed) => json!({"origin": page, "methods": "GET,POST"}),
        ("express", HeaderNotAllowed) => {
            json!({"origin": page, "allowedHeaders": ["Content-Type"]})
        }
        ("express", ExposeMissing) => json!({"origin": page}),
        ("fastapi", MissingOrigin) => json!({"allow_origins": [OTHER]}),
        ("fastapi", WildcardWithCredentials) => json!({"allow_origins": ["*"]}),
        ("fastapi", MethodNotAllowed) => {
            json!({"allow_origins": [page], "allow_methods": ["GET", "POST"]})
        }
        ("fastapi", HeaderNotAllowed) => json!({"allow_origins": [page], "allow_methods": ["*"]}),
        ("fastapi", ErrorWithoutCors) => json!({"allow_origins": [page]}),
        ("fastapi", ExposeMissing) => json!({"allow_origins": [page]}),
        ("flask", MissingOrigin) => json!({"origins": [OTHER]}),
        ("flask", WildcardWithCredentials) => json!({"origins": "*"}),
        ("flask", MethodNotAllowed) => json!({"origins": [page], "methods": ["GET", "POST"]}),
        ("flask", HeaderNotAllowed) => {
            json!({"origins": [page], "allow_headers": ["Content-Type"]})
        }
        ("flask", ExposeMissing) => json!({"origins": [page]}),
        ("django", MissingOrigin) => json!({"CORS_ALLOWED_ORIGINS": [OTHER]}),
        ("django", WildcardWithCredentials) => json!({"CORS_ALLOW_ALL_ORIGINS": true}),
        ("django", MethodNotAllowed) => {
            json!({"CORS_ALLOWED_ORIGINS": [page], "CORS_ALLOW_METHODS": ["GET", "POST"]})
        }
        ("django", HeaderNotAllowed) => json!({"CORS_ALLOWED_ORIGINS": [page]}),
        ("django", ExposeMissing) => json!({"CORS_ALLOWED_ORIGINS": [page]}),
        ("nginx", MissingOrigin) => json!("add_header X-Frame-Options SAMEORIGIN;"),
        ("nginx", WildcardWithCredentials) => json!(format!(
            "{}add_header Access-Control-Allow-Credentials \"true\";",
            acao("*")
        )),
        ("nginx", MethodNotAllowed) => json!(preflight("GET, POST", "Content-Type")),
        ("nginx", HeaderNotAllowed) => json!(preflight("GET, POST, PUT", "Content-Type")),
        ("nginx", ErrorWithoutCors) => json!(acao(page)),
        ("nginx", ExposeMissing) => json!(acao(page)),
        ("actix", MissingOrigin) => json!({"allowed_origins": [OTHER], "allowed_methods": ["GET"]}),
        ("actix", WildcardWithCredentials) => {
            json!({"allow_any_origin": true, "send_wildcard": true, "allowed_methods": ["GET"]})
        }
        ("actix", MethodNotAllowed) => {
            json!({"allowed_origins": [page], "allowed_methods": ["GET", "POST"], "allowed_headers": ["content-type"]})
        }
        ("actix", HeaderNotAllowed) => {
            json!({"allowed_origins": [page], "allowed_methods": ["GET", "POST"], "allowed_headers": ["content-type"]})
        }
        ("actix", ExposeMissing) => json!({"allowed_origins": [page], "allowed_methods": ["GET"]}),
        _ => return None,
    })
}

/// What Chromium did with the bug's request against the server on `port`.
async fn chromium_fetch(browser: &Browser, page_url: &str, port: u16, bug: Bug) -> Saw {
    let (method, path, headers, credentials, _) = bug.request();
    let page = browser.new_isolated_page().await.expect("page");
    page.navigate(page_url).await.expect("page loads");
    let url = format!("http://api.localhost:{port}{path}");
    let body = (method != "GET").then_some("{}");
    let saw = fetch_oracle::fetch(&page, &url, method, &headers, credentials, body).await;
    let _ = page.close().await;
    saw
}

/// Whether the page got what it wanted: the response, and the header it reads.
fn works(saw: &Saw, bug: Bug) -> bool {
    let reads = bug.request().4;
    saw.allowed && reads.is_none_or(|h| saw.readable.iter().any(|r| r == h))
}

/// `sandbox probe --json --stack S [--stack-config FILE]`'s `stack_fix`.
fn stack_fix(stack: &str, port: u16, bug: Bug, page: &str, config: Option<&Value>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (method, path, headers, credentials, reads) = bug.request();
    let url = format!("http://api.localhost:{port}{path}");
    let mut args: Vec<String> = vec![
        "probe".into(),
        url,
        "--origin".into(),
        page.into(),
        "-X".into(),
        method.into(),
        "--credentials".into(),
        credentials.into(),
        "--json".into(),
        "--stack".into(),
        stack.into(),
    ];
    for (n, v) in headers {
        args.push("-H".into());
        args.push(format!("{n}: {v}"));
    }
    if method != "GET" {
        args.extend(["--data".into(), "{}".into()]);
    }
    if let Some(h) = reads {
        args.extend(["--read-header".into(), h.into()]);
    }
    if let Some(c) = config {
        let file = dir.path().join("current");
        let text = c.as_str().map_or_else(|| c.to_string(), str::to_owned);
        std::fs::write(&file, text).unwrap();
        args.extend(["--stack-config".into(), file.display().to_string()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_cli(dir.path(), &refs);
    assert_eq!(
        code,
        0,
        "{stack} / {}: probe failed: {err}{out}",
        bug.name()
    );
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        v["outcome"] == "allowed",
        bug == Bug::ExposeMissing,
        "{stack} / {}: {v:#}",
        bug.name()
    );
    v["stack_fix"].clone()
}

const STACKS: [&str; 6] = ["express", "fastapi", "flask", "django", "nginx", "actix"];
const BUGS: [Bug; 6] = [
    Bug::MissingOrigin,
    Bug::WildcardWithCredentials,
    Bug::MethodNotAllowed,
    Bug::HeaderNotAllowed,
    Bug::ErrorWithoutCors,
    Bug::ExposeMissing,
];

#[test]
fn each_stack_fix_applied_as_given_makes_chromium_allow_the_request() {
    if !chromium::require_chromium(
        "each_stack_fix_applied_as_given_makes_chromium_allow_the_request",
    ) {
        return;
    }
    for s in STACKS {
        crate::util::stack_servers::require(s);
    }
    let runner = Arc::new(|_: &crate::util::wire_server::WireRequest| {
        Reply::http(
            "HTTP/1.1 200 OK",
            &[("Content-Type", "text/html")],
            &fetch_oracle::runner_page(),
        )
    });
    let pages = WireServer::start("127.0.0.1", runner).unwrap();
    let page = format!("http://karachi-dev.localhost:{}", pages.port());
    let page_url = format!("{page}/page");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let browser = rt.block_on(Browser::launch()).expect("launch chromium");
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for stack in STACKS {
        for bug in BUGS {
            let Some(config) = buggy(stack, bug, &page) else {
                continue;
            };
            let server = Server::start(stack, &config);
            let before = rt.block_on(chromium_fetch(&browser, &page_url, server.port, bug));
            if works(&before, bug) {
                failures.push(format!(
                    "{stack} / {}: the buggy config works in Chromium: {before:?}",
                    bug.name()
                ));
                continue;
            }
            let mut cells = Vec::new();
            for (label, given) in [("--stack-config", Some(&config)), ("answers", None)] {
                let fix = stack_fix(stack, server.port, bug, &page, given);
                let fixed = Server::start_fix(stack, &fix);
                let after = rt.block_on(chromium_fetch(&browser, &page_url, fixed.port, bug));
                if works(&after, bug) {
                    cells.push(format!("{label}: fixed"));
                } else {
                    cells.push(format!("{label}: NOT FIXED"));
                    failures.push(format!(
                        "{stack} / {} ({label}): still refused with {}: {after:?}",
                        bug.name(),
                        fix["config"]
                    ));
                }
            }
            table.push(format!(
                "{stack:<8} {:<24} {}",
                bug.name(),
                cells.join(", ")
            ));
        }
    }
    rt.block_on(browser.close());
    eprintln!(
        "stack × bug (Chromium after the fix):\n{}",
        table.join("\n")
    );
    assert!(table.len() >= 30, "too few cases ran: {}", table.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn probe_detects_the_stack_from_the_answers() {
    let page = "http://karachi-dev.localhost:8080";
    for (stack, said) in [
        ("express", "X-Powered-By: Express"),
        ("fastapi", "server: uvicorn"),
        ("flask", "Server: Werkzeug"),
        ("nginx", "Server: nginx"),
    ] {
        let config = buggy(stack, Bug::MissingOrigin, page).unwrap();
        let server = Server::start(stack, &config);
        let dir = tempfile::tempdir().unwrap();
        let url = format!("http://127.0.0.1:{}/api/data", server.port);
        let (code, out, err) = run_cli(dir.path(), &["probe", &url, "--origin", page, "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["stack_fix"]["stack"], stack, "{v:#}");
        let from = v["stack_fix"]["detected_from"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            from.starts_with(&said.to_ascii_lowercase()),
            "{stack}: {from}"
        );
        let (_, text, _) = run_cli(dir.path(), &["probe", &url, "--origin", page]);
        assert!(text.contains("detected from"), "{text}");
    }
}
