//! `--stack` through the real binary: `explain` and `check` add `stack_fix`, a bad
//! `--stack-config` is refused with where and why, `fixtures show --stack` prints the fix in
//! the tutorial's own code; and the snippets of the stacks that cannot run here (Spring,
//! ASP.NET Core, Go) are checked by the closest tools there are: `javac` against stubs of
//! the Spring classes the snippet uses, `gofmt -e` for Go, and a structural check for C#.

use std::process::Command;

use serde_json::{json, Value};

use crate::util::sandbox::*;

const PAGE: &str = "http://karachi-dev.localhost:8080";
const API: &str = "http://lahore-api.localhost:3000/api/data";

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// One scenario per bug the stacks are asked to fix.
fn scenarios() -> Value {
    let put = |acam: &str, acah: &str| {
        json!({"request": {"url": API, "origin": PAGE, "method": "PUT",
                           "headers": {"X-PKR-Auth": "t", "Content-Type": "application/json"}},
               "preflight_response": {"status": 204, "headers": {
                   "Access-Control-Allow-Origin": PAGE,
                   "Access-Control-Allow-Methods": acam,
                   "Access-Control-Allow-Headers": acah}}})
    };
    json!([
        {"id": "missing", "request": {"url": API, "origin": PAGE},
         "actual_response": {"status": 200, "headers": {}}},
        {"id": "wildcard", "request": {"url": API, "origin": PAGE, "credentials": "include"},
         "actual_response": {"status": 200, "headers": {"Access-Control-Allow-Origin": "*",
                                                        "Access-Control-Allow-Credentials": "true"}}},
        put("GET, POST", "x-pkr-auth, content-type"),
        put("GET, POST, PUT", "content-type"),
        {"id": "error", "request": {"url": API, "origin": PAGE},
         "actual_response": {"status": 500, "headers": {}}},
    ])
}

/// `explain --json --stack S` on the scenarios: each verdict's `stack_fix`.
fn fixes(stack: &str) -> Vec<Value> {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "s.json", &scenarios().to_string());
    let (code, out, err) = run_cli(d.path(), &["explain", "s.json", "--json", "--stack", stack]);
    assert_eq!(code, 0, "{err}");
    let all = json_of(&out);
    let list = all.as_array().unwrap();
    assert_eq!(list.len(), 5);
    list.iter()
        .map(|v| {
            assert_eq!(v["stack_fix"]["stack"], stack, "{v:#}");
            v["stack_fix"].clone()
        })
        .collect()
}

/// The code after "so that it reads:".
fn code(fix: &Value) -> String {
    let text = fix["text"].as_str().unwrap();
    let at = text.find("so that it reads:\n").expect("the snippet") + "so that it reads:\n".len();
    text[at..]
        .lines()
        .take_while(|l| !l.starts_with("(read from") && !l.starts_with("warning:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn explain_gives_every_stack_a_fix_and_no_stack_without_the_flag() {
    for stack in [
        "express", "fastapi", "flask", "django", "nginx", "spring", "aspnet", "actix", "go",
    ] {
        let f = fixes(stack);
        assert!(
            f.iter().all(|x| x["config"] != Value::Null),
            "{stack}: {f:?}"
        );
        assert!(code(&f[2]).contains("PUT"), "{stack}: {}", code(&f[2]));
        assert!(
            code(&f[3]).to_ascii_lowercase().contains("x-pkr-auth"),
            "{stack}: {}",
            code(&f[3])
        );
    }
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "s.json", &scenarios().to_string());
    let (_, out, _) = run_cli(d.path(), &["explain", "s.json", "--json"]);
    assert!(!out.contains("stack_fix"), "{out}");
}

#[test]
fn a_bad_stack_config_is_refused_with_where_and_why() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "s.json", &scenarios()[0].to_string());
    write(d.path(), "bad.json", "{\n  \"origin\": [\"http://a\",\n}\n");
    let (code, _, err) = run_cli(
        d.path(),
        &[
            "explain",
            "s.json",
            "--stack",
            "express",
            "--stack-config",
            "bad.json",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.json:3:1"), "{err}");
    write(d.path(), "typed.json", r#"{"credentials": "yes"}"#);
    let (code, _, err) = run_cli(
        d.path(),
        &[
            "explain",
            "s.json",
            "--stack",
            "express",
            "--stack-config",
            "typed.json",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("`credentials`: expected true or false"),
        "{err}"
    );
    let (code, _, err) = run_cli(d.path(), &["explain", "s.json", "--stack", "cobol"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected one of express, fastapi"), "{err}");
    let (code, _, err) = run_cli(
        d.path(),
        &["explain", "s.json", "--stack-config", "typed.json"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("--stack-config needs --stack"), "{err}");
}

#[test]
fn check_and_fixtures_show_speak_the_stack() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, err) = run_cli(
        d.path(),
        &[
            "fixtures",
            "show",
            "tutorial-wildcard-with-credentials",
            "--stack",
            "express",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("the fix in Express (npm cors):"), "{out}");
    assert!(out.contains(&format!("origin: '{PAGE}'")), "{out}");
    let (code, out, err) = run_cli(
        d.path(),
        &[
            "fixtures",
            "show",
            "tutorial-custom-header-not-allowed",
            "--stack",
            "fastapi",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("allow_headers=") && out.contains("x-pkr-auth"),
        "{out}"
    );

    let (code, out, err) = run_cli(
        d.path(),
        &[
            "check",
            "/api/student",
            "--origin",
            "http://evil.localhost:1",
            "--json",
            "--stack",
            "django",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json_of(&out);
    assert_eq!(
        v["stack_fix"]["config"]["CORS_ALLOWED_ORIGINS"],
        json!(["http://evil.localhost:1"]),
        "{v:#}"
    );
}

/// Spring's classes, as far as the snippet uses them, with the real signatures.
const SPRING_STUBS: &[(&str, &str)] = &[
    ("org/springframework/context/annotation/Bean.java",
     "package org.springframework.context.annotation;\npublic @interface Bean {}\n"),
    ("org/springframework/web/cors/CorsConfigurationSource.java",
     "package org.springframework.web.cors;\npublic interface CorsConfigurationSource {}\n"),
    ("org/springframework/web/cors/UrlBasedCorsConfigurationSource.java",
     "package org.springframework.web.cors;\npublic class UrlBasedCorsConfigurationSource implements CorsConfigurationSource {\n  public void registerCorsConfiguration(String pattern, CorsConfiguration config) {}\n}\n"),
    ("org/springframework/web/cors/CorsConfiguration.java",
     "package org.springframework.web.cors;\nimport java.util.List;\npublic class CorsConfiguration {\n  public void setAllowedOrigins(List<String> o) {}\n  public CorsConfiguration setAllowedOriginPatterns(List<String> p) { return this; }\n  public void setAllowedMethods(List<String> m) {}\n  public void setAllowedHeaders(List<String> h) {}\n  public void setExposedHeaders(List<String> h) {}\n  public void setAllowCredentials(Boolean c) {}\n  public void setMaxAge(Long s) {}\n}\n"),
];

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("-help").output().is_ok()
        || Command::new(name).arg("--version").output().is_ok();
    if !found && std::env::var("SANDBOX_SKIP_SYNTAX").as_deref() != Ok("1") {
        panic!("{name} is missing: .ci/test installs it (default-jdk-headless, golang-go); or set SANDBOX_SKIP_SYNTAX=1");
    }
    if !found {
        eprintln!("NOT RUN: {name} is missing and SANDBOX_SKIP_SYNTAX=1");
    }
    found
}

/// Writes `text` to `dir/file` and asserts that `tool ARGS` (run in `dir`) accepts it.
fn accepts(dir: &std::path::Path, file: &str, text: &str, tool: &str, args: &[&str], case: usize) {
    std::fs::write(dir.join(file), text).unwrap();
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "case {case}: {tool}: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn spring_snippets_compile_against_the_spring_signatures() {
    if !tool("javac") {
        return;
    }
    for (i, fix) in fixes("spring").iter().enumerate() {
        let d = tempfile::tempdir().unwrap();
        for (path, text) in SPRING_STUBS {
            let p = d.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let class = format!(
            "import java.util.List;\nimport org.springframework.context.annotation.Bean;\n\
             import org.springframework.web.cors.*;\npublic class Fix {{\n{}\n}}\n",
            code(fix)
        );
        let mut args: Vec<&str> = vec!["-d", "out", "Fix.java"];
        args.extend(SPRING_STUBS.iter().map(|(p, _)| *p));
        accepts(d.path(), "Fix.java", &class, "javac", &args, i);
    }
}

#[test]
fn go_snippets_parse() {
    if !tool("gofmt") {
        return;
    }
    for (i, fix) in fixes("go").iter().enumerate() {
        let d = tempfile::tempdir().unwrap();
        let src = format!(
            "package main\n\nfunc f() {{\n{}\n_ = handler\n}}\n",
            code(fix)
        );
        accepts(d.path(), "fix.go", &src, "gofmt", &["-e", "fix.go"], i);
    }
}

/// No C# compiler is packaged here: the snippet's brackets and quotes must balance, each
/// call be one ASP.NET Core's CorsPolicyBuilder has, and the statement end in `;`.
#[test]
fn aspnet_snippets_are_well_formed_builder_calls() {
    let known = [
        ".WithOrigins(",
        ".WithMethods(",
        ".WithHeaders(",
        ".WithExposedHeaders(",
        ".AllowCredentials()",
        ".SetPreflightMaxAge(",
        ".AllowAnyOrigin()",
    ];
    for fix in fixes("aspnet") {
        let c = code(&fix);
        let stmt = c.split("// …").next().unwrap();
        let (mut depth, mut quoted) = (0i32, false);
        for ch in stmt.chars() {
            match ch {
                '"' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "{c}");
        }
        assert!(depth == 0 && !quoted, "{c}");
        assert!(stmt.trim_end().ends_with(");"), "{c}");
        for line in stmt.lines().skip(1) {
            let call = line.trim();
            assert!(
                known.iter().any(|k| call.starts_with(k)),
                "unknown call `{call}` in {c}"
            );
        }
        assert!(c.contains("app.UseCors(\"frontend\");"), "{c}");
    }
}
