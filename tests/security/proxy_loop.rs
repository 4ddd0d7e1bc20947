//! The `upstream` proxy cannot be turned into a loop: an upstream on one of the sandbox's own
//! ports is refused when the routes load, and a request that comes back around through
//! another server (here a second sandbox) is answered `508 Loop Detected` instead of
//! recursing until descriptors run out.
//!
//! Every table row is one attack input, counted with the other `security` modules' rows.

use super::{attack_project, check_project, start};
use crate::util::raw_http::{addr, get};
use crate::util::sandbox::*;

/// Ports `check` is told the origins use; it binds nothing, so any free-looking number works.
const FRONT_PORT: u16 = 47811;
const API_PORT: u16 = 47812;

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// The loader knows which ports this sandbox listens on: an upstream on one of them (the API
/// itself, or the static origin) is refused at `check`/startup and on reload.
#[test]
fn an_upstream_on_the_sandboxs_own_port_is_refused() {
    let d = attack_project();
    let config = std::fs::read_to_string(d.path().join("sandbox.toml")).unwrap();
    let fixed = config
        .replacen("port = 0", &format!("port = {FRONT_PORT}"), 1)
        .replacen("port = 0", &format!("port = {API_PORT}"), 1);
    write(d.path(), "sandbox.toml", &fixed);
    let own = [
        format!("http://127.0.0.1:{API_PORT}"),
        format!("http://localhost:{FRONT_PORT}"),
        format!("http://a.localhost:{API_PORT}"),
    ];
    for up in &own {
        write(d.path(), "api.toml", &format!("upstream = \"{up}\"\n"));
        let (code, all) = check_project(d.path());
        assert_eq!(code, 2, "{up}: {all}");
        assert!(all.contains("api.toml:1:12"), "{up}: {all}");
        assert!(all.contains("this sandbox's own"), "{up}: {all}");
    }

    let d = attack_project();
    let sb = start(&d);
    let (front, api) = (port_of(sb.url("frontend")), port_of(sb.url("api")));
    let running = [
        format!("http://127.0.0.1:{api}"),
        format!("http://localhost:{front}"),
        format!("http://127.0.0.1:{front}"),
    ];
    let a = addr(sb.url("api")).to_string();
    for up in &running {
        let before = sb.event_count();
        let routes =
            format!("upstream = \"{up}\"\n\n[[route]]\npath = \"/api/student\"\nbody = \"new\"\n");
        save(&d.path().join("api.toml"), &routes, SaveStyle::Rename);
        let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        let msg = e["error"].as_str().unwrap();
        assert!(msg.contains("api.toml:1:12"), "{up}: {e}");
        assert!(msg.contains("this sandbox's own"), "{up}: {e}");
        let res = get(&a, "/api/student", "localhost", &[]);
        assert!(res.body_text().contains("Ahmad"), "{up}: last good kept");
    }
}

/// Two sandboxes, each the other's upstream: what neither has a route for goes around once and
/// is answered 508 by the sandbox that sees its own hop marker come back. A chain that does
/// not loop (B forwarding to A, which has the route) still works.
#[test]
fn a_request_that_comes_back_around_is_answered_508() {
    let a_dir = attack_project();
    let a = start(&a_dir);
    let a_url = a.url("api").to_string();
    let b_dir = attack_project();
    write(
        b_dir.path(),
        "api.toml",
        &format!("upstream = \"{a_url}\"\n"),
    );
    let b = start(&b_dir);
    let b_url = b.url("api").to_string();
    let (a_addr, b_addr) = (addr(&a_url).to_string(), addr(&b_url).to_string());

    let chained = get(&b_addr, "/api/student", "localhost", &[]);
    assert_eq!(chained.status, 200, "B forwards to A");
    assert!(chained.body_text().contains("Ahmad"));

    let before = a.event_count();
    let routes = format!(
        "upstream = \"{b_url}\"\n\n[[route]]\npath = \"/api/student\"\njson = {{ name = \"Ahmad\" }}\n"
    );
    save(&a_dir.path().join("api.toml"), &routes, SaveStyle::Rename);
    a.wait_event_after(before, |e| e["event"] == "reloaded");

    for (what, at) in [("via A", &a_addr), ("via B", &b_addr)] {
        let res = get(at, "/api/nowhere", "localhost", &[]);
        assert_eq!(res.status, 508, "{what}: {}", res.body_text());
        assert!(
            res.body_text().contains("loop"),
            "{what}: {}",
            res.body_text()
        );
    }
    let chained = get(&b_addr, "/api/student", "localhost", &[]);
    assert_eq!(chained.status, 200, "B → A still works beside the loop");
}
