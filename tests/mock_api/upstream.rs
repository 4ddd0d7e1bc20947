//! An upstream behind the mock API is seen through the sandbox's policy, restrictive or
//! permissive, or through its own CORS answers with `cors = "upstream"`; one that is down is a
//! 502, not a hang.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{policy_allowing, PAGE};
use crate::util::raw_server::{RawResponse, RawServer};
use crate::util::sandbox::*;

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

/// With `cors = "upstream"`, `check` judges the upstream's own answer and gives the fix the
/// live journal gives — for the upstream server, in header terms — never one for the
/// `cors.toml` that is not in force.
#[test]
fn check_fixes_the_upstream_when_it_answers_cors_itself() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    // An upstream that allows another origin only, with credentials.
    let up = rt
        .block_on(RawServer::start(Arc::new(|_req| {
            RawResponse::new(200)
                .header("Content-Type", "application/json")
                .header(
                    "Access-Control-Allow-Origin",
                    "http://elsewhere.localhost:9",
                )
                .body("{\"ok\": true}")
        })))
        .unwrap();
    let d = project(&policy_allowing(PAGE));
    write(
        d.path(),
        "api.toml",
        &format!(
            "upstream = \"http://127.0.0.1:{}\"\ncors = \"upstream\"\n\n[[route]]\npath = \"/api/local\"\nbody = \"local\"\n",
            up.port()
        ),
    );
    let (code, out, err) = run_cli(
        d.path(),
        &[
            "check",
            "--config",
            "sandbox.toml",
            "--origin",
            PAGE,
            "/api/orders",
            "--json",
        ],
    );
    assert!(code == 0 || code == 1, "{code}: {err}");
    let verdict: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(verdict["outcome"], "blocked", "{out}");
    assert_eq!(verdict["cors_error"], "AllowOriginMismatch", "{out}");
    let fix = verdict["fix"]
        .as_str()
        .unwrap_or_else(|| panic!("a fix: {out}"));
    assert!(
        !fix.contains("cors.toml") && !fix.contains("allowed_origins"),
        "{fix}"
    );
    assert!(fix.contains("Access-Control-Allow-Origin"), "{fix}");
    assert!(
        out.contains("cors = \\\"upstream\\\""),
        "the note says why: {out}"
    );

    // The live journal gives the same fix for the same exchange.
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let r = client()
        .get(format!("{api}/api/orders"))
        .header("Origin", PAGE)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let e = sb.wait_event(|e| e["event"] == "request" && e["path"] == "/api/orders");
    assert_eq!(e["verdict"]["fix"].as_str(), Some(fix), "{e}");

    // A path the sandbox answers itself is still fixed in its own policy file.
    let (_, out, _) = run_cli(
        d.path(),
        &[
            "check",
            "--config",
            "sandbox.toml",
            "--origin",
            "http://other.localhost:1",
            "/api/local",
        ],
    );
    assert!(out.contains("cors.toml"), "{out}");
}

/// `up --record`: a real upstream's answers become routes; with the upstream gone, the
/// recording answers the same, and no secret the upstream sent reaches the disk.
#[test]
fn record_then_replay_without_the_upstream() {
    const SECRET: &str = "s3cr3t-92817";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let up = rt
        .block_on(RawServer::start(Arc::new(|req| match req.path_only() {
            "/api/users" => RawResponse::new(200)
                .header("Content-Type", "application/json")
                .header("X-Total-Count", "2")
                .header("Set-Cookie", &format!("sid={SECRET}; Path=/; HttpOnly"))
                .body(format!(
                    "[{{\"id\": 1, \"name\": \"Ahmad\", \"token\": \"{SECRET}\"}}, {{\"id\": 2, \"name\": \"Sana\"}}]"
                )),
            "/api/missing" => RawResponse::new(404)
                .header("Content-Type", "text/plain")
                .body("no such thing"),
            _ => RawResponse::new(204),
        })))
        .unwrap();
    let d = project("allowed_origins = [\"sandbox:static\"]\n");
    write(
        d.path(),
        "api.toml",
        &format!(
            "upstream = \"http://127.0.0.1:{}\"\n\n[[route]]\npath = \"/api/local\"\nbody = \"local\"\n",
            up.port()
        ),
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml", "--record"]);
    let api = sb.url("api").to_string();
    let c = client();
    let ask = |path: &str| {
        let r = c.get(format!("{api}{path}")).send().unwrap();
        let status = r.status().as_u16();
        let count = r
            .headers()
            .get("x-total-count")
            .map(|v| v.to_str().unwrap().to_string());
        (status, count, r.text().unwrap())
    };
    let live_users = ask("/api/users");
    let live_missing = ask("/api/missing");
    assert_eq!(live_users.0, 200);
    for route in ["GET /api/users 200", "GET /api/missing 404"] {
        sb.wait_event(|e| e["event"] == "recorded" && e["route"] == route);
    }
    // A second identical exchange records nothing new.
    ask("/api/users");
    let recorded = d.path().join("api.recorded.toml");
    let text = std::fs::read_to_string(&recorded).unwrap();
    assert_eq!(text.matches("[[route]]").count(), 2, "{text}");
    // The recording is served: wait for the reload that took it in, then stop the upstream.
    sb.wait_event(|e| e["event"] == "reloaded" && e["file"] == "api.toml");
    drop(up);
    drop(rt);
    let replay_users = ask("/api/users");
    let replay_missing = ask("/api/missing");
    assert_eq!(replay_users.0, live_users.0);
    assert_eq!(replay_users.1, live_users.1, "X-Total-Count replayed");
    let (live, replay): (Value, Value) = (
        serde_json::from_str(&live_users.2).unwrap(),
        serde_json::from_str(&replay_users.2).unwrap(),
    );
    assert_eq!(replay[1], live[1], "the same data");
    assert_ne!(
        replay[0]["token"],
        json!(SECRET),
        "a secret field is masked"
    );
    assert_eq!(replay_missing.0, 404);
    assert_eq!(replay_missing.2, live_missing.2);
    assert_eq!(
        ask("/api/local").2,
        "local",
        "the file's own routes still come first"
    );
    for f in files_under(d.path()) {
        let t = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&t).contains(SECRET),
            "{} holds the secret",
            f.display()
        );
    }
}
