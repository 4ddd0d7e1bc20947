//! Latency and faults arrive exactly as the routes file asks (checked over a raw socket where
//! HTTP clients would hide them), and `[defaults]` reach resources and proxied requests too.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{get_json, start, PAGE};
use crate::util::raw_server::{RawResponse, RawServer};
use crate::util::sandbox::*;

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

const NO_RESPONSE_ROUTES: &str = "[[route]]\npath = \"/api/reset\"\nfault = \"reset\"\n\n[[route]]\npath = \"/api/close\"\nfault = \"close\"\n\n[[route]]\npath = \"/api/fine\"\nbody = \"fine\"\n";

/// A fault is no response at all: the JSON log, the journal and `check` report a network error
/// in fetch()'s and Chromium's words, never the placeholder status 444 and never "allowed".
#[test]
fn a_fault_is_reported_as_a_network_error_not_as_a_status() {
    let (d, sb) = start(NO_RESPONSE_ROUTES, &[], &[]);
    let api = sb.url("api").to_string();
    for (kind, net) in [
        ("reset", "net::ERR_CONNECTION_RESET"),
        ("close", "net::ERR_EMPTY_RESPONSE"),
    ] {
        let path = format!("/api/{kind}");
        let sent = client()
            .get(format!("{api}{path}"))
            .header("Origin", PAGE)
            .send();
        assert!(sent.is_err(), "{kind}: the client gets no response");
        let e = sb.wait_event(|e| e["event"] == "request" && e["path"] == path.as_str());
        assert_eq!(e["status"], Value::Null, "{e}");
        assert_eq!(e["no_response"], kind, "{e}");
        let v = &e["verdict"];
        assert_eq!(v["outcome"], "blocked", "{e}");
        assert_eq!(v["cors_error"], Value::Null, "not a CORS error: {e}");
        assert_eq!(v["message"], "TypeError: Failed to fetch", "{e}");
        assert!(
            v["fix"]
                .as_str()
                .unwrap()
                .contains(&format!("fault = \"{kind}\"")),
            "{e}"
        );

        let (code, out, err) = run_cli(
            d.path(),
            &["check", "--config", "sandbox.toml", "--origin", PAGE, &path],
        );
        assert!(code == 0 || code == 1, "{code} {err}");
        assert!(out.contains("TypeError: Failed to fetch"), "{out}");
        assert!(out.contains(net), "check names {net}: {out}");
        assert!(out.contains("not CORS"), "{out}");
        assert!(!out.contains("444"), "{out}");
    }
    // The journal keeps no response headers for them: none reached the client.
    let list: Value = client()
        .get(sb.keyed("frontend", "/__sandbox/requests"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let reset = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/api/reset")
        .unwrap_or_else(|| panic!("the reset request is journalled: {list}"));
    assert_eq!(reset["status"], Value::Null, "{reset}");
    assert_eq!(reset["no_response"], "reset", "{reset}");
    assert_eq!(reset["response_headers"], serde_json::json!([]), "{reset}");
    // A route that answers is unchanged.
    let fine = client()
        .get(format!("{api}/api/fine"))
        .header("Origin", PAGE)
        .send()
        .unwrap();
    assert_eq!(fine.status(), 200);
    let e = sb.wait_event(|e| e["event"] == "request" && e["path"] == "/api/fine");
    assert_eq!(e["status"], 200, "{e}");
    assert!(e.get("no_response").is_none(), "{e}");
    assert_eq!(e["verdict"]["outcome"], "allowed", "{e}");
}

/// What real Chromium reports for a fault is what the sandbox says it reports: fetch()
/// rejects with `TypeError: Failed to fetch`, the console names the `net::` error, and no
/// CORS line appears.
#[test]
fn chromium_sees_a_fault_as_the_sandbox_says() {
    use crate::util::chromium::{self, Browser};
    if !chromium::require_chromium("chromium_sees_a_fault_as_the_sandbox_says") {
        return;
    }
    let (_d, sb) = start(NO_RESPONSE_ROUTES, &[], &[]);
    let api = sb.url("api").to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let browser = Browser::launch().await.expect("launch chromium");
        let page = browser.new_page().await.unwrap();
        page.navigate(sb.url("frontend")).await.unwrap();
        for (kind, net) in [
            ("reset", "net::ERR_CONNECTION_RESET"),
            ("close", "net::ERR_EMPTY_RESPONSE"),
        ] {
            let mark = page.events_since(0).len();
            let got = page
                .evaluate(&format!(
                    "fetch('{api}/api/{kind}').then(r => 'answered ' + r.status, e => String(e))"
                ))
                .await
                .unwrap();
            assert_eq!(got, "TypeError: Failed to fetch", "{kind}");
            let deadline = std::time::Instant::now() + DEADLINE;
            let mut lines = Vec::new();
            while std::time::Instant::now() < deadline {
                lines = chromium::console_lines(&page.events_since(0)[mark..]);
                if lines.iter().any(|l| l.text.contains(net)) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert!(
                lines.iter().any(|l| l.text.contains(net)),
                "{kind}: the console names {net}: {lines:?}"
            );
            assert!(
                !lines.iter().any(|l| l.text.contains("CORS")),
                "{kind}: no CORS line: {lines:?}"
            );
        }
        // The inspector shows them as network errors, not as a status.
        page.navigate(&sb.keyed("frontend", "/__sandbox/")).await.unwrap();
        let rows = page
            .evaluate(&format!(
                "new Promise(done => {{ const t0 = Date.now(); (function poll() {{ \
                   const rows = Array.from(document.querySelectorAll('#requests-table tr.entry')).map(r => r.innerText); \
                   if (rows.length >= 2 || Date.now() - t0 > {}) done(rows); else setTimeout(poll, 25); }})(); }})",
                DEADLINE.as_millis()
            ))
            .await
            .unwrap();
        let rows: Vec<String> = serde_json::from_value(rows).unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        for row in &rows {
            assert!(
                row.contains("no response") && row.contains("network error"),
                "{rows:?}"
            );
            assert!(!row.contains("444") && !row.contains("allowed"), "{rows:?}");
        }
        browser.close().await;
    });
}
