//! Issue #8: a mock API that behaves like a real one, against the real binary over HTTP:
//! templates and response rules, latency and faults (over a raw socket where HTTP clients
//! would hide them), REST resources with state across reloads and `--persist` across a
//! `kill -9`, and an upstream seen through a restrictive, a permissive and its own CORS policy.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::raw_server::{RawResponse, RawServer};
use crate::util::sandbox::*;

const PAGE: &str = "http://karachi-dev.localhost:8080";

fn policy_allowing(origin: &str) -> String {
    format!(
        "allowed_origins = [\"{origin}\"]\nallowed_methods = [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"]\nallowed_headers = [\"content-type\"]\nexpose_headers = [\"x-total-count\"]\n"
    )
}

/// A project whose routes file is `routes`, started.
fn start(routes: &str, extra: &[(&str, &str)], args: &[&str]) -> (tempfile::TempDir, TestSandbox) {
    let d = project(&policy_allowing(PAGE));
    write(d.path(), "api.toml", routes);
    for (rel, text) in extra {
        write(d.path(), rel, text);
    }
    let mut all = vec!["--config", "sandbox.toml"];
    all.extend_from_slice(args);
    let sb = TestSandbox::start(d.path(), &all);
    (d, sb)
}

fn get_json(url: &str) -> (u16, Value) {
    let res = client().get(url).send().unwrap();
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null))
}

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

/// Sends one GET over a raw socket and reads until the server closes: (bytes, read error).
fn raw_get(api: &str, path: &str) -> (Vec<u8>, Option<std::io::ErrorKind>) {
    let mut s = TcpStream::connect(api.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, None),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Some(e.kind())),
        }
    }
}

#[test]
fn latency_and_faults() {
    let routes = r#"
[defaults]
delay_ms = [40, 60]

[[route]]
path = "/api/fast"
delay_ms = 0
body = "fast"

[[route]]
path = "/api/slow"
body = "slow"

[[route]]
path = "/api/broken"
delay_ms = 0
error_rate = 1.0
error_status = 503

[[route]]
path = "/api/close"
delay_ms = 0
fault = "close"

[[route]]
path = "/api/reset"
delay_ms = 0
fault = "reset"

[[route]]
path = "/api/trickle"
delay_ms = 0
slow_body_ms = 1000
body = "0123456789abcdefghijklmnopqrstuvwxyz"
"#;
    let (_d, sb) = start(routes, &[], &[]);
    let api = sb.url("api").to_string();
    let t = Instant::now();
    assert_eq!(
        client()
            .get(format!("{api}/api/slow"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
        "slow"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(40),
        "[defaults] delay applies: {:?}",
        t.elapsed()
    );
    let r = client().get(format!("{api}/api/broken")).send().unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().unwrap().contains("injected"));

    let (bytes, err) = raw_get(&api, "/api/close");
    assert!(
        bytes.is_empty(),
        "no response at all: {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(err, None, "an orderly close (EOF)");
    let (bytes, err) = raw_get(&api, "/api/reset");
    assert!(
        bytes.is_empty(),
        "no response at all: {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(err, Some(std::io::ErrorKind::ConnectionReset));
    // The server is still fine afterwards.
    assert_eq!(
        client()
            .get(format!("{api}/api/fast"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
        "fast"
    );

    // A slow body: the head comes at once, the whole body only after the pauses.
    let mut s = TcpStream::connect(api.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    let t = Instant::now();
    write!(
        s,
        "GET /api/trickle HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut first = [0u8; 1];
    s.read_exact(&mut first).unwrap();
    let head_after = t.elapsed();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    let all_after = t.elapsed();
    assert!(head_after < Duration::from_millis(500), "{head_after:?}");
    assert!(all_after >= Duration::from_millis(900), "{all_after:?}");
    let text = String::from_utf8_lossy(&rest);
    let body: String = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap()
        .split("\r\n")
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, c)| c)
        .collect();
    assert_eq!(body, "0123456789abcdefghijklmnopqrstuvwxyz", "{text}");
}

const SEED: &str = r#"[
  {"id": 1, "name": "Ahmad", "city": "Lahore"},
  {"id": 2, "name": "Sana", "city": "Karachi"},
  {"id": 3, "name": "Bilal", "city": "Lahore"}
]"#;
const RESOURCE_ROUTES: &str = "[[resource]]\nname = \"students\"\nseed = \"students.json\"\n";

#[test]
fn resources_give_rest_with_state_across_reloads_and_a_reset() {
    let (d, sb) = start(RESOURCE_ROUTES, &[("students.json", SEED)], &[]);
    let api = sb.url("api").to_string();
    let c = client();
    let res = c
        .get(format!(
            "{api}/api/students?city=Lahore&_sort=name&_order=desc"
        ))
        .header("Origin", PAGE)
        .send()
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "2");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        PAGE,
        "behind the CORS layer"
    );
    let names: Vec<String> = res
        .json::<Vec<Value>>()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Bilal", "Ahmad"]);
    let (_, page) = get_json(&format!("{api}/api/students?_page=2&_limit=2"));
    assert_eq!(page, json!([{"id": 3, "name": "Bilal", "city": "Lahore"}]));
    let created: Value = c
        .post(format!("{api}/api/students"))
        .json(&json!({"name": "Zara", "city": "Quetta"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(created["id"], 4);
    let r = c
        .patch(format!("{api}/api/students/4"))
        .json(&json!({"city": "Multan"}))
        .send()
        .unwrap();
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"id": 4, "name": "Zara", "city": "Multan"})
    );
    let r = c
        .put(format!("{api}/api/students/2"))
        .json(&json!({"name": "Sana K"}))
        .send()
        .unwrap();
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"id": 2, "name": "Sana K"})
    );
    assert_eq!(
        c.delete(format!("{api}/api/students/1"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    let (status, err) = get_json(&format!("{api}/api/students/1"));
    assert_eq!(status, 404);
    assert!(err["error"]
        .as_str()
        .unwrap()
        .contains("no students with id 1"));
    let r = c
        .post(format!("{api}/api/students"))
        .body("[1]")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("JSON object"));

    // A routes reload that leaves the seed alone keeps the state.
    let before = sb.event_count();
    save(
        &d.path().join("api.toml"),
        &format!("{RESOURCE_ROUTES}\n[[route]]\npath = \"/api/hello\"\nbody = \"hi\"\n"),
        SaveStyle::Rename,
    );
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "api.toml"
    });
    assert_eq!(
        c.get(format!("{api}/api/hello"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
        "hi"
    );
    let (_, all) = get_json(&format!("{api}/api/students"));
    assert_eq!(all.as_array().unwrap().len(), 3, "state survived: {all}");
    assert_eq!(get_json(&format!("{api}/api/students/4")).0, 200);

    // Changing the seed resets that resource.
    let before = sb.event_count();
    save(
        &d.path().join("students.json"),
        "[{\"id\": 9, \"name\": \"New\"}]",
        SaveStyle::InPlace,
    );
    sb.wait_event_after(before, |e| e["event"] == "reloaded");
    assert_eq!(
        get_json(&format!("{api}/api/students")).1,
        json!([{"id": 9, "name": "New"}])
    );

    // The reset endpoint restores the seed.
    c.delete(format!("{api}/api/students/9")).send().unwrap();
    assert_eq!(get_json(&format!("{api}/api/students")).1, json!([]));
    let r = c
        .post(format!("{api}/api/__reset/students"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        get_json(&format!("{api}/api/students")).1,
        json!([{"id": 9, "name": "New"}])
    );

    // An invalid seed is a load error pointing at `seed = …`; the last good one stays.
    let before = sb.event_count();
    save(
        &d.path().join("students.json"),
        "[{\"name\": \"no id\"}]",
        SaveStyle::InPlace,
    );
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert!(e["error"].as_str().unwrap().contains("api.toml:3:8"), "{e}");
    assert!(e["error"].as_str().unwrap().contains("no `id`"), "{e}");
}

#[test]
fn persist_survives_kill_9_mid_write() {
    let (d, mut sb) = start(RESOURCE_ROUTES, &[("students.json", SEED)], &["--persist"]);
    let api = sb.url("api").to_string();
    let state = d.path().join("students.state.json");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (api, stop) = (api.clone(), stop.clone());
            std::thread::spawn(move || {
                let c = client();
                let mut ok = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = c
                        .post(format!("{api}/api/students"))
                        .json(&json!({"name": format!("w{w}-{ok}"), "pad": "x".repeat(2000)}))
                        .send();
                    match r {
                        Ok(r) if r.status().as_u16() == 201 => ok += 1,
                        _ => break,
                    }
                }
                ok
            })
        })
        .collect();
    eventually("a few writes saved", || {
        let v: Value = serde_json::from_slice(&std::fs::read(&state).ok()?).ok()?;
        (v.as_array()?.len() > 20).then_some(())
    });
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(sb.pid() as i32, libc::SIGKILL);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let _ = sb.terminate(DEADLINE);
    let saved: Vec<Value> = serde_json::from_slice(&std::fs::read(&state).unwrap())
        .expect("the state file is whole JSON after kill -9");
    // Every acknowledged write was saved before its answer; one more may have been saved
    // but not acknowledged.
    assert!(
        saved.len() >= 3 + acked,
        "{} saved, {acked} acknowledged",
        saved.len()
    );
    assert!(
        saved.len() <= 3 + acked + 3,
        "{} saved, {acked} acknowledged",
        saved.len()
    );
    drop(sb);

    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml", "--persist"]);
    let (_, all) = get_json(&format!("{}/api/students", sb.url("api")));
    assert_eq!(
        all.as_array().unwrap().len(),
        saved.len().min(1000),
        "restarted from the saved state"
    );

    // A new seed wins over the saved state, on disk too (or a restart would undo it).
    let before = sb.event_count();
    save(
        &d.path().join("students.json"),
        "[{\"id\": 1}]",
        SaveStyle::InPlace,
    );
    sb.wait_event_after(before, |e| e["event"] == "reloaded");
    assert_eq!(
        get_json(&format!("{}/api/students", sb.url("api"))).1,
        json!([{"id": 1}])
    );
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(on_disk, json!([{"id": 1}]));
}

/// A loopback upstream that answers every request with its own (too permissive) CORS headers.
fn upstream() -> (tokio::runtime::Runtime, RawServer) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(RawServer::start(Arc::new(|req| {
            if req.method == "OPTIONS" {
                return RawResponse::new(204)
                    .header("Access-Control-Allow-Origin", "*")
                    .header("Access-Control-Allow-Methods", "GET, POST, DELETE")
                    .header("Access-Control-Allow-Headers", "x-upstream");
            }
            RawResponse::new(200)
                .header("Content-Type", "application/json")
                .header("Access-Control-Allow-Origin", "*")
                .header("X-From", "upstream")
                .body(format!(
                    "{{\"path\": \"{}\", \"method\": \"{}\"}}",
                    req.path, req.method
                ))
        })))
        .unwrap();
    (rt, server)
}

#[test]
fn upstream_through_the_sandbox_policy_and_its_own() {
    let (_rt, up) = upstream();
    let routes = format!(
        "upstream = \"http://127.0.0.1:{}\"\n\n[[route]]\npath = \"/api/local\"\nbody = \"local\"\n\n[[route]]\nmethod = \"POST\"\npath = \"/api/forwarded\"\nproxy = true\n",
        up.port()
    );
    // Restrictive: the page's origin is not allowed; the upstream's `*` must not leak through.
    let d = project("allowed_origins = [\"http://other.localhost:9\"]\n");
    write(d.path(), "api.toml", &routes);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let c = client();
    let r = c
        .get(format!("{api}/api/users?x=1"))
        .header("Origin", PAGE)
        .send()
        .unwrap();
    assert_eq!(r.headers()["x-from"], "upstream");
    assert!(
        r.headers().get("access-control-allow-origin").is_none(),
        "{:?}",
        r.headers()
    );
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"path": "/api/users?x=1", "method": "GET"})
    );
    let r = c
        .post(format!("{api}/api/forwarded"))
        .header("Origin", PAGE)
        .body("hi")
        .send()
        .unwrap();
    assert_eq!(r.json::<Value>().unwrap()["method"], "POST");
    assert_eq!(
        c.get(format!("{api}/api/local"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
        "local"
    );
    let seen = up.received();
    assert!(
        seen.iter().any(|r| r.method == "POST" && r.body == b"hi"),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|r| r.path == "/api/local"),
        "matched routes are not forwarded"
    );
    let e = sb.wait_event(|e| e["event"] == "request" && e["path"] == "/api/users");
    assert_eq!(e["verdict"]["outcome"], "blocked", "{e}");

    // Permissive: the sandbox's policy answers for the upstream.
    let before = sb.event_count();
    save(
        &d.path().join("cors.toml"),
        &policy_allowing(PAGE),
        SaveStyle::Rename,
    );
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "cors.toml"
    });
    let r = c
        .get(format!("{api}/api/users"))
        .header("Origin", PAGE)
        .send()
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], PAGE);
    let pre = c
        .request(reqwest::Method::OPTIONS, format!("{api}/api/users"))
        .header("Origin", PAGE)
        .header("Access-Control-Request-Method", "DELETE")
        .send()
        .unwrap();
    assert_eq!(pre.headers()["access-control-allow-origin"], PAGE);
    assert!(
        !up.received().iter().any(|r| r.method == "OPTIONS"),
        "the sandbox answered the preflight"
    );

    // `cors = "upstream"`: the backend's own CORS answers, preflight included, pass through.
    let before = sb.event_count();
    save(
        &d.path().join("api.toml"),
        &format!("cors = \"upstream\"\n{routes}"),
        SaveStyle::Rename,
    );
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "api.toml"
    });
    let r = c
        .get(format!("{api}/api/users"))
        .header("Origin", PAGE)
        .send()
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let pre = c
        .request(reqwest::Method::OPTIONS, format!("{api}/api/users"))
        .header("Origin", PAGE)
        .header("Access-Control-Request-Method", "DELETE")
        .send()
        .unwrap();
    assert_eq!(pre.status().as_u16(), 204);
    assert_eq!(
        pre.headers()["access-control-allow-methods"],
        "GET, POST, DELETE"
    );
    assert!(up.received().iter().any(|r| r.method == "OPTIONS"));
    assert!(
        up.received()
            .iter()
            .all(|r| r.header("host") == Some(&format!("127.0.0.1:{}", up.port())[..])),
        "the upstream sees its own Host"
    );

    // An upstream that is down is a 502 with a JSON reason, not a hang.
    drop(up);
    let res = eventually("the upstream is gone", || {
        let r = c.get(format!("{api}/api/users")).send().ok()?;
        (r.status().as_u16() == 502).then_some(r)
    });
    assert!(res.json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("upstream"));
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

/// `[defaults]` reach what has no route of its own (resources and proxied requests), a route
/// can undo them, and an upstream's chunked body reaches the page whole.
#[test]
fn defaults_reach_resources_and_the_upstream_and_chunked_bodies_pass() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt
        .block_on(RawServer::start(Arc::new(|_req| {
            RawResponse::new(200)
                .header("Content-Type", "text/plain")
                .header("Transfer-Encoding", "chunked")
                .body("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        })))
        .unwrap();
    let base = format!(
        "upstream = \"http://127.0.0.1:{}\"\n\n[[route]]\npath = \"/api/calm\"\nerror_rate = 0.0\nbody = \"calm\"\n\n[[resource]]\nname = \"students\"\nseed = \"students.json\"\n",
        up.port()
    );
    let failing = format!("{base}\n[defaults]\nerror_rate = 1.0\nerror_status = 503\n");
    let (d, sb) = start(
        &failing,
        &[("students.json", "[{\"id\": 1, \"name\": \"Ahmad\"}]")],
        &[],
    );
    let api = sb.url("api").to_string();
    assert_eq!(get_json(&format!("{api}/api/students")).0, 503);
    assert_eq!(get_json(&format!("{api}/api/students/1")).0, 503);
    assert_eq!(get_json(&format!("{api}/api/elsewhere")).0, 503);
    assert!(
        up.received().is_empty(),
        "an injected error answers before the upstream is asked"
    );
    let calm = client().get(format!("{api}/api/calm")).send().unwrap();
    assert_eq!(calm.status(), 200);
    assert_eq!(calm.text().unwrap(), "calm");

    // Without the defaults: the resource answers, and the upstream's chunked body arrives
    // whole (the sandbox re-frames it for its own connection).
    let before = sb.event_count();
    save(&d.path().join("api.toml"), &base, SaveStyle::Rename);
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "api.toml"
    });
    assert_eq!(
        get_json(&format!("{api}/api/students")),
        (200, json!([{"id": 1, "name": "Ahmad"}]))
    );
    let r = client().get(format!("{api}/api/stream")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "hello world");
    assert!(up.received().iter().any(|r| r.path == "/api/stream"));
}
