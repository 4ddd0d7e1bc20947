//! Edits to `sandbox.toml` while `up` runs: another policy file or static root is served from
//! the next request on (and the new file is then watched); a port change is refused with
//! "restart required" while the old port keeps answering; a broken file is reported with its
//! line and column and changes nothing.

use serde_json::Value;

use crate::util::sandbox::*;

/// Rewrites `sandbox.toml` with `from` replaced by `to` (which must occur).
fn edit_config(dir: &std::path::Path, from: &str, to: &str) {
    let path = dir.join("sandbox.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {text}");
    save(&path, &text.replacen(from, to, 1), SaveStyle::Rename);
}

fn sandbox_json(sb: &TestSandbox, what: &str) -> Value {
    client()
        .get(sb.keyed("frontend", &format!("/__sandbox/{what}")))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

fn status_of(sb: &TestSandbox, file: &str) -> Option<Value> {
    sandbox_json(sb, "status")["reloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == file)
        .cloned()
}

#[test]
fn another_policy_file_is_followed_and_then_watched() {
    let (a, b, c) = (
        "http://a.localhost:8080",
        "http://b.localhost:8080",
        "http://c.localhost:8080",
    );
    let d = project(&policy_for(a));
    write(d.path(), "b.toml", &policy_for(b));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    assert_eq!(acao_for(&api, a).as_deref(), Some(a));
    assert_eq!(acao_for(&api, b), None);

    let before = sb.event_count();
    edit_config(d.path(), "policy = \"cors.toml\"", "policy = \"b.toml\"");
    let e = sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "sandbox.toml"
    });
    assert_eq!(e["changed"], "api policy cors.toml → b.toml", "{e}");
    assert_eq!(acao_for(&api, b).as_deref(), Some(b));
    assert_eq!(acao_for(&api, a), None);
    // What is in force says so, and the status board names the file now loaded.
    let in_force = sandbox_json(&sb, "in-force");
    assert_eq!(in_force["apis"][0]["policy"]["file"], "b.toml");
    assert_eq!(in_force["apis"][0]["policy"]["generation"], 2);
    assert_eq!(status_of(&sb, "b.toml").unwrap()["ok"], true);
    assert_eq!(status_of(&sb, "sandbox.toml").unwrap()["generation"], 2);

    // The new file is watched from now on.
    let before = sb.event_count();
    save(&d.path().join("b.toml"), &policy_for(c), SaveStyle::InPlace);
    eventually("edit of b.toml seen", || {
        acao_for(&api, c).filter(|v| v == c)
    });
    let e = sb.wait_event_after(before, |e| e["event"] == "reloaded");
    assert_eq!(e["file"], "b.toml", "{e}");
    assert_eq!(e["generation"], 3);
}

#[test]
fn another_static_root_is_served() {
    let d = project(&policy_for("http://a.localhost:8080"));
    write(
        d.path(),
        "site/index.html",
        "<!doctype html><html><body><h1>second site</h1></body></html>",
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let web = sb.url("frontend").to_string();
    let page = || {
        client()
            .get(format!("{web}/"))
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    // Twice, so the first root's page is in the file cache.
    assert!(page().contains("<h1>hi</h1>"));
    assert!(page().contains("<h1>hi</h1>"));

    let before = sb.event_count();
    edit_config(d.path(), "root = \"web\"", "root = \"site\"");
    let e = sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "sandbox.toml"
    });
    assert_eq!(e["changed"], "frontend root web/ → site/", "{e}");
    assert!(page().contains("second site"));
    assert_eq!(
        client()
            .get(format!("{web}/site.css"))
            .send()
            .unwrap()
            .status(),
        404
    );

    // Files under the new root are watched: an edit is announced.
    let before = sb.event_count();
    write(d.path(), "site/index.html", "<h1>edited</h1>");
    let e = sb.wait_event_after(before, |e| e["event"] == "static_changed");
    assert_eq!(e["files"][0], "index.html", "{e}");
    assert!(page().contains("edited"));
}

#[test]
fn a_port_change_needs_a_restart_and_the_old_port_keeps_answering() {
    let d = project(&policy_for("http://a.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);

    let before = sb.event_count();
    edit_config(
        d.path(),
        "port = 0\nhostname = \"lahore-api.localhost\"",
        &format!("port = {port}\nhostname = \"lahore-api.localhost\""),
    );
    let e = sb.wait_event_after(before, |e| {
        e["event"] == "warning"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("restart required:"))
    });
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("port of `api` 0 → {port}")),
        "{message}"
    );
    let e = sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "sandbox.toml"
    });
    assert_eq!(e["changed"], "no live change", "{e}");
    let res = client().get(format!("{api}/api/student")).send().unwrap();
    assert_eq!(res.status(), 200);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_broken_config_is_reported_with_its_location_and_changes_nothing() {
    let d = project(&policy_for("http://a.localhost:8080"));
    write(d.path(), "b.toml", &policy_for("http://b.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();

    // A policy switch and a typo in one save: nothing of it applies.
    let before = sb.event_count();
    edit_config(
        d.path(),
        "policy = \"cors.toml\"",
        "policy = \"b.toml\"\nrotues = \"api.toml\"",
    );
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert_eq!(e["file"], "sandbox.toml", "{e}");
    let status = eventually("status board entry", || status_of(&sb, "sandbox.toml"));
    assert_eq!(status["ok"], false, "{status}");
    assert_eq!(status["line"], 16, "{status}");
    assert_eq!(status["column"], 1, "{status}");
    assert!(
        status["error"].as_str().unwrap().contains("rotues"),
        "{status}"
    );
    assert_eq!(
        acao_for(&api, "http://a.localhost:8080").as_deref(),
        Some("http://a.localhost:8080")
    );
    assert_eq!(acao_for(&api, "http://b.localhost:8080"), None);
    let page = client()
        .get(format!("{}/", sb.url("frontend")))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);

    // Fixed, it applies.
    let before = sb.event_count();
    edit_config(d.path(), "\nrotues = \"api.toml\"", "");
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "sandbox.toml"
    });
    assert_eq!(status_of(&sb, "sandbox.toml").unwrap()["ok"], true);
    assert_eq!(
        acao_for(&api, "http://b.localhost:8080").as_deref(),
        Some("http://b.localhost:8080")
    );
}

#[test]
fn a_bad_new_policy_file_keeps_the_old_one_until_it_is_fixed() {
    let (a, b) = ("http://a.localhost:8080", "http://b.localhost:8080");
    let d = project(&policy_for(a));
    write(
        d.path(),
        "b.toml",
        "allowed_origins = [\"http://b.localhost:8080/\"]\n",
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();

    let before = sb.event_count();
    edit_config(d.path(), "policy = \"cors.toml\"", "policy = \"b.toml\"");
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert_eq!(e["file"], "sandbox.toml", "{e}");
    let err = e["error"].as_str().unwrap();
    assert!(err.contains("b.toml:1:"), "{err}");
    assert_eq!(acao_for(&api, a).as_deref(), Some(a));
    assert_eq!(
        sandbox_json(&sb, "in-force")["apis"][0]["policy"]["file"],
        "cors.toml"
    );

    // Fixing b.toml retries the config without another save of it.
    let before = sb.event_count();
    save(&d.path().join("b.toml"), &policy_for(b), SaveStyle::Rename);
    let e = sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "sandbox.toml"
    });
    assert_eq!(e["changed"], "api policy cors.toml → b.toml", "{e}");
    assert_eq!(acao_for(&api, b).as_deref(), Some(b));
    assert_eq!(status_of(&sb, "sandbox.toml").unwrap()["ok"], true);
}
