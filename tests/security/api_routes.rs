//! A routes file cannot be turned against the disk or the wire: route path parameters never
//! reach the file system, and route headers can never split a response.
//!
//! Every table row is one attack input, counted with the other `security` modules' rows in
//! issue #5's closing note.

use super::{assert_no_leak, attack_project, check_project, start};
use crate::util::raw_http::{addr, get};
use crate::util::sandbox::*;

/// Route path parameters select a route; they are never joined onto a file path. Bodies
/// from `file = …` are read when the routes load, so a request cannot name a file at all.
#[test]
fn api_path_parameters_never_reach_the_file_system() {
    let d = attack_project();
    write(d.path(), "data.json", "{\"from\": \"data.json\"}");
    write(
        d.path(),
        "api.toml",
        "[[route]]\npath = \"/api/files/{name}\"\nfile = \"data.json\"\n\n[[route]]\npath = \"/api/echo/{name}\"\nbody = \"fixed\"\n",
    );
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    let targets = [
        "/api/files/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/api/files/..%2fapi.toml",
        "/api/files/..%2Foutside%2Fsecret.txt",
        "/api/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/files/..%5c..%5cetc%5cpasswd",
        "/api/files/%2fetc%2fpasswd",
        "/api/files/../../etc/passwd",
        "/api/files/../../outside/secret.txt",
        "/api/files/..",
        "/api/files/sandbox.toml",
        "/api/files/cors.toml",
        "/api/echo/..%2f..%2fetc%2fpasswd",
        "/api/../../../etc/passwd",
        "/api/%2e%2e/%2e%2e/etc/passwd",
        "/../../etc/passwd",
    ];
    for target in targets {
        let res = get(&a, target, "localhost", &[]);
        assert_ne!(res.status, 0, "{target}");
        assert_no_leak(target, &res);
        let body = res.body_text();
        assert!(
            res.status != 200 || body.contains("data.json") || body == "fixed",
            "{target}: {body}"
        );
    }
}

/// Route header values with CR, LF or NUL, and framing headers, are refused when the routes
/// load (at startup, exit 2) and on reload (last good kept): response splitting is
/// impossible.
#[test]
fn route_headers_that_could_split_a_response_are_refused() {
    let bad = [
        (
            "headers = { \"X-A\" = \"a\\r\\nSet-Cookie: x=1\" }",
            "CR, LF or NUL",
        ),
        ("headers = { \"X-A\" = \"a\\nb\" }", "CR, LF or NUL"),
        ("headers = { \"X-A\" = \"a\\u0000b\" }", "CR, LF or NUL"),
        ("headers = { \"Content-Length\" = \"0\" }", "content-length"),
        (
            "headers = { \"Transfer-Encoding\" = \"chunked\" }",
            "transfer-encoding",
        ),
        ("headers = { \"X A\" = \"1\" }", "X A"),
    ];
    for (line, want) in bad {
        let d = attack_project();
        write(
            d.path(),
            "api.toml",
            &format!("[[route]]\npath = \"/x\"\n{line}\n"),
        );
        let (code, out, err) = run_cli(d.path(), &["up", "--config", "sandbox.toml"]);
        let all = format!("{out}{err}");
        assert_eq!(code, 2, "{line}: {all}");
        assert!(
            all.to_lowercase().contains(&want.to_lowercase()),
            "{line}: {all}"
        );
    }
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    for (line, _) in bad {
        let before = sb.event_count();
        save(
            &d.path().join("api.toml"),
            &format!("[[route]]\npath = \"/api/student\"\n{line}\n"),
            SaveStyle::Rename,
        );
        sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        let res = get(&a, "/api/student", "localhost", &[]);
        assert_eq!(res.status, 200);
        assert!(
            res.body_text().contains("Ahmad"),
            "{line}: last good routes kept"
        );
        assert!(res.header("set-cookie").is_none());
    }
}

/// A 1xx status is an interim answer: written as a route's final answer, the client reads the
/// body that follows as the next response. Routes, responses, `error_status` and `[defaults]`
/// refuse 100–199 when the routes load (`check` and startup exit 2 with file:line:col) and on
/// reload (the last good routes keep serving).
#[test]
fn interim_statuses_are_refused_when_routes_load() {
    let bad = [
        (
            "[[route]]\npath = \"/api/x\"\nstatus = 100\n",
            "api.toml:3:10",
        ),
        (
            "[[route]]\npath = \"/api/x\"\nstatus = 101\n",
            "api.toml:3:10",
        ),
        (
            "[[route]]\npath = \"/api/x\"\nstatus = 199\n",
            "api.toml:3:10",
        ),
        (
            "[[route]]\npath = \"/api/x\"\nerror_rate = 1.0\nerror_status = 103\n",
            "api.toml:4:16",
        ),
        (
            "[defaults]\nerror_status = 101\n\n[[route]]\npath = \"/api/x\"\n",
            "api.toml:2:16",
        ),
        (
            "[[route]]\npath = \"/api/x\"\n[[route.response]]\nstatus = 102\nbody = \"x\"\n",
            "api.toml:4:10",
        ),
    ];
    for (text, place) in bad {
        let d = attack_project();
        write(d.path(), "api.toml", text);
        let (code, all) = check_project(d.path());
        assert_eq!(code, 2, "{text}: {all}");
        assert!(all.contains("between 200 and 999"), "{text}: {all}");
        let (line, col) = place
            .trim_start_matches("api.toml:")
            .split_once(':')
            .unwrap();
        assert!(
            all.contains(&format!("api.toml:{line}:{col}")),
            "{text}: {all}"
        );
    }
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    for (text, place) in bad {
        let before = sb.event_count();
        save(
            &d.path().join("api.toml"),
            &text.replace("/api/x", "/api/student"),
            SaveStyle::Rename,
        );
        let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        assert!(e["error"].as_str().unwrap().contains(place), "{text}: {e}");
        let res = get(&a, "/api/student", "localhost", &[]);
        assert_eq!(res.status, 200, "{text}: last good routes kept");
    }
}

/// The 404's "closest routes" compares only the start of a path, so its cost does not grow
/// with the path: two 60 KiB paths (near the 64 KiB a request target may have) that differ
/// only past that start get the same suggestions, from a routes file of 200 routes.
#[test]
fn closest_routes_look_only_at_the_start_of_a_long_path() {
    let d = attack_project();
    let mut routes: String = (0..200)
        .map(|i| format!("[[route]]\npath = \"/api/r{i}/items\"\nbody = \"{i}\"\n\n"))
        .collect();
    routes.push_str("[[route]]\npath = \"/api/student\"\nbody = \"s\"\n\n[[route]]\npath = \"/zzz/other\"\nbody = \"o\"\n");
    write(d.path(), "api.toml", &routes);
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    let start_of_path = format!("/{}", "q".repeat(1023));
    let suggestions = |tail: &str| {
        let repeat = (60 * 1024 - start_of_path.len()) / tail.len();
        let target = format!("{start_of_path}{}", tail.repeat(repeat));
        let res = get(&a, &target, "localhost", &[]);
        assert_eq!(res.status, 404, "{}", res.body_text());
        let v: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
        let closest = v["closest"].as_array().unwrap().clone();
        assert_eq!(closest.len(), 3, "{v}");
        closest
    };
    assert_eq!(suggestions("/api/student"), suggestions("/zzz/other"));
}
