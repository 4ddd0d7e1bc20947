//! A routes file answers as written: templates read the request and render valid JSON (inline
//! or in body files), response rules pick by request, sequence or chance, an OpenAPI document
//! becomes routes serving its examples, and every mistake is a load error with a position.

use serde_json::{json, Value};

use super::{get_json, policy_allowing, start, PAGE};
use crate::util::sandbox::*;

#[test]
fn templates_read_the_request_and_render_valid_json() {
    let routes = r#"
[[route]]
method = "POST"
path = "/api/echo/{id}"
headers = { "X-Echo" = "{{headers.x-user}}/{{params.id}}" }
json = { id = "{{params.id}}", page = "{{query.page}}", session = "{{cookies.session}}", name = "{{body.user.name}}", age = "{{body.user.age}}", user = "{{body.user}}", greeting = "hi \"{{body.user.name}}\"", n = "{{seq}}", dice = "{{random_int 1 6}}", uuid = "{{uuid}}", at = "{{now}}", missing = "{{body.nope}}", list = ["{{query.page}}", 1] }

[[route]]
path = "/api/text/{name}"
body = "hello {{params.name}} #{{seq}}"
"#;
    let (_d, sb) = start(routes, &[], &[]);
    let api = sb.url("api");
    for n in 1..=2 {
        let res = client()
            .post(format!("{api}/api/echo/7?page=2"))
            .header("X-User", "sana")
            .header("Cookie", "a=b; session=abc")
            .json(&json!({"user": {"name": "Ah\"mad", "age": 30}}))
            .send()
            .unwrap();
        assert_eq!(res.headers()["x-echo"], "sana/7");
        let v: Value = res.json().expect("valid JSON");
        assert_eq!(v["id"], "7");
        assert_eq!(v["page"], "2");
        assert_eq!(v["session"], "abc");
        assert_eq!(
            v["name"], "Ah\"mad",
            "quotes in request values stay inside the string"
        );
        assert_eq!(
            v["age"], 30,
            "a whole-string placeholder keeps the JSON type"
        );
        assert_eq!(v["user"], json!({"name": "Ah\"mad", "age": 30}));
        assert_eq!(v["greeting"], "hi \"Ah\"mad\"");
        assert_eq!(v["n"], n);
        assert!((1..=6).contains(&v["dice"].as_i64().unwrap()), "{v}");
        assert_eq!(v["uuid"].as_str().unwrap().len(), 36);
        assert!(v["at"].as_str().unwrap().ends_with('Z'), "{v}");
        assert_eq!(v["missing"], Value::Null);
        assert_eq!(v["list"], json!(["2", 1]));
    }
    let text = client()
        .get(format!("{api}/api/text/ali"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(text, "hello ali #1");
}

#[test]
fn responses_are_chosen_by_rules_in_sequence_and_at_random() {
    let routes = r#"
[[route]]
method = "*"
path = "/api/login"
status = 401
json = { error = "who are you?" }

[[route.response]]
when = { query.as = "admin" }
json = { role = "admin" }

[[route.response]]
when = { headers.x-user = "sana" }
json = { role = "user", name = "{{headers.x-user}}" }

[[route.response]]
when = { body.kind = "guest", body.n = 2 }
status = 202
json = { role = "guest" }

[[route]]
path = "/api/flaky"
pick = "sequence"
[[route.response]]
status = 503
body = "down"
[[route.response]]
json = { up = true }

[[route]]
path = "/api/coin"
pick = "random"
[[route.response]]
body = "heads"
[[route.response]]
body = "tails"
"#;
    let (_d, sb) = start(routes, &[], &[]);
    let api = sb.url("api");
    assert_eq!(
        get_json(&format!("{api}/api/login?as=admin")).1,
        json!({"role": "admin"})
    );
    let r = client()
        .get(format!("{api}/api/login"))
        .header("X-User", "sana")
        .send()
        .unwrap();
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"role": "user", "name": "sana"})
    );
    let r = client()
        .post(format!("{api}/api/login"))
        .json(&json!({"kind": "guest", "n": 2}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let (status, v) = get_json(&format!("{api}/api/login"));
    assert_eq!(
        (status, v),
        (401, json!({"error": "who are you?"})),
        "the fallback"
    );
    let statuses: Vec<u16> = (0..4)
        .map(|_| {
            client()
                .get(format!("{api}/api/flaky"))
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert_eq!(statuses, [503, 200, 503, 200]);
    let mut seen = std::collections::BTreeSet::new();
    eventually("both sides of the coin", || {
        seen.insert(
            client()
                .get(format!("{api}/api/coin"))
                .send()
                .ok()?
                .text()
                .ok()?,
        );
        (seen.len() == 2).then_some(())
    });
}

#[test]
fn template_mistakes_are_load_errors_with_a_position() {
    let d = project(&policy_allowing(PAGE));
    write(
        d.path(),
        "api.toml",
        "[[route]]\npath = \"/api/x/{id}\"\njson = { a = \"{{params.idd}}\" }\n",
    );
    let (code, _, err) = run_cli(d.path(), &["up", "--config", "sandbox.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("api.toml:3:15"), "{err}");
    assert!(err.contains("has no `{idd}`"), "{err}");

    // At reload: the last good routes stay, and the error has its line and column.
    write(
        d.path(),
        "api.toml",
        "[[route]]\npath = \"/api/x\"\nbody = \"ok\"\n",
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let bad = [
        (
            "[[route]]\npath = \"/api/x\"\nbody = \"{{nope}}\"\n",
            "api.toml:3:9",
        ),
        (
            "[[route]]\npath = \"/api/x\"\nheaders = { X-A = \"{{query.a\" }\n",
            "never closed",
        ),
        (
            "[[route]]\npath = \"/api/x\"\nbody = \"a }} b\"\n",
            "without an opening",
        ),
        (
            "[[route]]\npath = \"/api/x\"\n[[route.response]]\nwhen = { nope.a = 1 }\n",
            "`when` key",
        ),
        (
            "[[route]]\npath = \"/api/x\"\ndelay_ms = [5, 1]\n",
            "delay_ms",
        ),
        (
            "[[route]]\npath = \"/api/x\"\nfault = \"explode\"\n",
            "close",
        ),
        (
            "[[route]]\npath = \"/api/x\"\nerror_rate = 2.0\n",
            "probability",
        ),
        ("upstream = \"http://example.com:80\"\n", "loopback"),
        ("upstream = \"https://127.0.0.1:5000\"\n", "plain http://"),
        (
            "[[route]]\npath = \"/api/x\"\nproxy = true\n",
            "needs an `upstream`",
        ),
        (
            "[[resource]]\nname = \"a/b\"\nseed = \"s.json\"\n",
            "not a resource name",
        ),
    ];
    for (text, want) in bad {
        let before = sb.event_count();
        save(&d.path().join("api.toml"), text, SaveStyle::Rename);
        let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        assert!(e["error"].as_str().unwrap().contains(want), "{text}: {e}");
        let res = client().get(format!("{api}/api/x")).send().unwrap();
        assert_eq!(res.text().unwrap(), "ok");
    }
}

#[test]
fn init_from_openapi_generates_routes_that_serve_the_examples() {
    let d = project(&policy_allowing(PAGE));
    write(
        d.path(),
        "openapi.json",
        r#"{"openapi": "3.0.3", "info": {"title": "Students", "version": "1"},
            "paths": {
              "/api/students/{id}": {"get": {"responses": {"200": {"content": {"application/json": {"example": {"id": 1, "name": "Ahmad"}}}}}}},
              "/api/students": {"post": {"responses": {"201": {"content": {"application/json": {"example": {"id": 2}}}}}}}
            }}"#,
    );
    let (code, _, err) = run_cli(d.path(), &["init", "--from-openapi", "openapi.json"]);
    assert_eq!(code, 2, "api.toml exists: {err}");
    assert!(err.contains("--force"), "{err}");
    let (code, out, err) = run_cli(
        d.path(),
        &["init", "--from-openapi", "openapi.json", "--force"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote api.toml"), "{out}");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api");
    assert_eq!(
        get_json(&format!("{api}/api/students/5")),
        (200, json!({"id": 1, "name": "Ahmad"}))
    );
    let r = client().post(format!("{api}/api/students")).send().unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (code, _, err) = run_cli(
        d.path(),
        &["init", "--from-openapi", "sandbox.toml", "-o", "x.toml"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("neither JSON nor YAML") || err.contains("not an OpenAPI 3 document"),
        "{err}"
    );
    // The same document in YAML, as most OpenAPI documents are written.
    write(
        d.path(),
        "openapi.yaml",
        "openapi: 3.0.3\ninfo: {title: Students, version: '1'}\npaths:\n  /api/teachers/{id}:\n    get:\n      responses:\n        '200':\n          content:\n            application/json:\n              example: {id: 7, name: Sana}\n",
    );
    let (code, out, err) = run_cli(
        d.path(),
        &["init", "--from-openapi", "openapi.yaml", "-o", "y.toml"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote y.toml"), "{out}");
    let routes = std::fs::read_to_string(d.path().join("y.toml")).unwrap();
    assert!(
        routes.contains("/api/teachers/{id}") && routes.contains("Sana"),
        "{routes}"
    );
}

#[test]
fn templates_in_body_files_render_and_bad_ones_are_located_in_the_file() {
    let d = project(&policy_allowing(PAGE));
    write(d.path(), "student.json", "{\n  \"id\": \"{{params.id}}\",\n  \"name\": \"{{query.name}}\",\n  \"tags\": [\"a\", \"{{headers.x-tag}}\"]\n}\n");
    write(d.path(), "hello.txt", "hello {{query.name}}!\n");
    write(
        d.path(),
        "plain.json",
        "{\"literal\": \"{ not a placeholder }\"}",
    );
    write(
        d.path(),
        "api.toml",
        "[[route]]\npath = \"/api/students/{id}\"\nfile = \"student.json\"\n\n[[route]]\npath = \"/api/hello\"\nfile = \"hello.txt\"\n\n[[route]]\npath = \"/api/plain\"\nfile = \"plain.json\"\n",
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api");
    let r = client()
        .get(format!("{api}/api/students/7?name=Sa%22na"))
        .header("X-Tag", "new")
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    // A quote in the request stays inside its JSON string.
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"id": "7", "name": "Sa\"na", "tags": ["a", "new"]})
    );
    let r = client()
        .get(format!("{api}/api/hello?name=Ahmad"))
        .send()
        .unwrap();
    assert_eq!(r.text().unwrap(), "hello Ahmad!\n");
    assert_eq!(
        get_json(&format!("{api}/api/plain")),
        (200, json!({"literal": "{ not a placeholder }"}))
    );
    drop(sb);

    // An unknown placeholder is a load error pointing into the body file, not a 500 later.
    write(
        d.path(),
        "student.json",
        "{\n  \"id\": \"{{param.id}}\"\n}\n",
    );
    let (code, _, err) = run_cli(
        d.path(),
        &[
            "up",
            "--config",
            "sandbox.toml",
            "--port",
            "frontend=0",
            "--port",
            "api=0",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("student.json") && err.contains("2:"), "{err}");
}
