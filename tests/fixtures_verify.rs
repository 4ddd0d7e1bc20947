//! `sandbox fixtures …` against the repository's fixture library, through the real binary:
//! every fixture verifies (buggy policy reproduces its errors, fixed policy allows all), a
//! broken fixture is reported with exit status 1, bad input exits 2, and
//! `sandbox up --fixture` serves a fixture's exact-mode policy on the wire, byte for byte.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::util::sandbox::{client, run_cli, save, SaveStyle, TestSandbox};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a fixture folder into `to` (fixtures are small and flat apart from `static/`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_whole_library_verifies() {
    let (code, out, err) = run_cli(&repo(), &["fixtures", "verify", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let fixtures = v["fixtures"].as_array().unwrap();
    let failed: Vec<&Value> = fixtures.iter().filter(|f| f["ok"] != true).collect();
    assert!(
        failed.is_empty(),
        "fixtures that do not verify: {failed:#?}"
    );
    assert_eq!(code, 0, "{err}");
    assert!(fixtures.len() >= 16, "only {} fixtures", fixtures.len());
    // Every fixture reproduces at least one thing with its buggy policy: an error (in some
    // engine), a hidden header, a lint or a refused cookie (and under the fix every cookie goes through).
    for f in fixtures {
        let blocked = f["buggy"]["requests"].as_array().unwrap().iter().any(|r| {
            r["outcome"] == "blocked"
                || r["engines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["outcome"] == "blocked")
        });
        let linted = !f["buggy"]["lints"].as_array().unwrap().is_empty();
        let hidden = f["name"] == "expose-headers-missing";
        let refused = |run: &str| {
            f[run]["requests"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["cookies"].as_array().cloned().unwrap_or_default())
                .any(|c| c["outcome"] == "rejected" || c["outcome"] == "not_sent")
        };
        assert!(
            blocked || linted || hidden || refused("buggy"),
            "{} shows no bug",
            f["name"]
        );
        assert!(
            !refused("fixed"),
            "{}: a cookie is refused under the fix",
            f["name"]
        );
        for r in f["fixed"]["requests"].as_array().unwrap() {
            assert_eq!(r["outcome"], "allowed", "{}: {r}", f["name"]);
        }
    }
    let (code, text, _) = run_cli(&repo(), &["fixtures", "verify"]);
    assert_eq!(code, 0);
    assert!(
        text.contains(&format!("{0} of {0} fixtures verify", fixtures.len())),
        "{text}"
    );
}

#[test]
fn a_fixture_that_no_longer_reproduces_fails_with_1() {
    let d = tempfile::tempdir().unwrap();
    let fx = d.path().join("wrong-port");
    copy_dir(&repo().join("fixtures/wrong-port"), &fx);
    // "Fix" the buggy policy: the fixture no longer shows its bug.
    std::fs::copy(fx.join("cors.fixed.toml"), fx.join("cors.toml")).unwrap();
    let (code, out, err) = run_cli(
        d.path(),
        &["fixtures", "--dir", ".", "verify", "wrong-port"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("expected blocked (AllowOriginMismatch), got allowed"),
        "{out}"
    );
    assert!(out.contains("0 of 1 fixtures verify"), "{out}");
}

#[test]
fn list_and_show() {
    let (code, out, _) = run_cli(&repo(), &["fixtures", "list", "--json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for must in [
        "tutorial-wildcard-with-credentials",
        "tutorial-custom-header-not-allowed",
        "tutorial-missing-allow-origin",
        "tutorial-put-preflight-unhandled",
        "null-origin-sandboxed-iframe",
    ] {
        assert!(names.contains(&must), "{must} missing from {names:?}");
    }

    let (code, out, _) = run_cli(
        &repo(),
        &["fixtures", "show", "tutorial-wildcard-with-credentials"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."), "{out}");
    assert!(
        out.contains("--- cors.toml\n+++ cors.fixed.toml\n@@ "),
        "{out}"
    );
    assert!(out.contains("\n+mode = \"actix-cors\"\n"), "{out}");

    let (_, out, _) = run_cli(
        &repo(),
        &["fixtures", "show", "reflect-any-origin-with-credentials"],
    );
    assert!(out.contains("reflects any Origin"), "{out}");
}

#[test]
fn bad_input_exits_2() {
    let (code, _, err) = run_cli(&repo(), &["fixtures", "show", "wrong-prot"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `wrong-port`?"), "{err}");
    let d = tempfile::tempdir().unwrap();
    let fx = d.path().join("broken");
    copy_dir(&repo().join("fixtures/wrong-port"), &fx);
    std::fs::write(
        fx.join("cors.toml"),
        "mode = \"exact\"\n[[rule]]\nheaders = [\"Transfer-Encoding: chunked\"]\n",
    )
    .unwrap();
    let (code, _, err) = run_cli(d.path(), &["fixtures", "--dir", ".", "verify"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cors.toml"), "{err}");
    assert!(err.contains("owned by the server"), "{err}");
    let (code, _, err) = run_cli(d.path(), &["up", "--fixture", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no fixture named `nope`"), "{err}");
}

#[test]
fn up_fixture_serves_exact_lines_and_fixed_serves_the_fix() {
    let d = tempfile::tempdir().unwrap();
    let fx = d.path().join("duplicate-allow-origin");
    copy_dir(&repo().join("fixtures/duplicate-allow-origin"), &fx);
    let ports = ["--port", "frontend=0", "--port", "api=0"];
    let fixture = fx.to_str().unwrap();

    let buggy = TestSandbox::start(d.path(), &[&["--fixture", fixture][..], &ports].concat());
    let origin = "http://karachi-dev.localhost:8080";
    let res = client()
        .get(format!("{}/api/student", buggy.url("api")))
        .header("Host", "lahore-api.localhost")
        .header("Origin", origin)
        .send()
        .unwrap();
    let acao: Vec<&str> = res
        .headers()
        .get_all("access-control-allow-origin")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(acao, vec!["*", origin], "both lines, in file order");
    drop(buggy);

    let mut fixed = TestSandbox::start(
        d.path(),
        &[&["--fixture", fixture, "--fixed"][..], &ports].concat(),
    );
    let res = client()
        .get(format!("{}/api/student", fixed.url("api")))
        .header("Host", "lahore-api.localhost")
        .header("Origin", origin)
        .send()
        .unwrap();
    let acao: Vec<&str> = res
        .headers()
        .get_all("access-control-allow-origin")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(acao, vec![origin]);
    // `--fixed` serves a generated config from a private temp folder, removed on exit.
    // Its name is random (a predictable one could be planted by another local user); this
    // is the only test serving this fixture with --fixed.
    let generated: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with("sandbox-fixture-duplicate-allow-origin-")
            }) && p.join("sandbox.toml").is_file()
        })
        .collect();
    assert_eq!(generated.len(), 1, "{generated:?}");
    let generated = generated[0].clone();
    assert_ne!(
        generated.file_name().unwrap().to_string_lossy(),
        format!("sandbox-fixture-duplicate-allow-origin-{}", fixed.pid()),
        "not named after the pid"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&generated).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
    assert!(
        fixed.terminate(Duration::from_secs(5)).is_some(),
        "no exit on SIGTERM"
    );
    assert!(!generated.exists(), "{} left behind", generated.display());
}

#[test]
fn exact_mode_on_the_wire_preflight_redirect_and_error_statuses() {
    let d = tempfile::tempdir().unwrap();
    let ports = ["--port", "frontend=0", "--port", "api=0"];
    for name in ["redirected-preflight", "error-500-without-cors"] {
        copy_dir(&repo().join("fixtures").join(name), &d.path().join(name));
    }
    let origin = "http://karachi-dev.localhost:8080";

    let fx = d.path().join("redirected-preflight");
    let sb = TestSandbox::start(
        d.path(),
        &[&["--fixture", fx.to_str().unwrap()][..], &ports].concat(),
    );
    let res = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/payment", sb.url("api")),
        )
        .header("Host", "lahore-api.localhost")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/api/payment/");
    // Without Access-Control-Request-Method, OPTIONS is an ordinary request for the routes.
    let res = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/payment", sb.url("api")),
        )
        .header("Host", "lahore-api.localhost")
        .header("Origin", origin)
        .send()
        .unwrap();
    assert_eq!(res.status(), 404);
    drop(sb);

    let fx = d.path().join("error-500-without-cors");
    let sb = TestSandbox::start(
        d.path(),
        &[&["--fixture", fx.to_str().unwrap()][..], &ports].concat(),
    );
    let get = |path: &str| {
        client()
            .get(format!("{}{path}", sb.url("api")))
            .header("Host", "lahore-api.localhost")
            .header("Origin", origin)
            .send()
            .unwrap()
    };
    let ok = get("/api/student");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], origin);
    let failed = get("/api/report");
    assert_eq!(failed.status(), 500);
    assert!(
        failed
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "always = false drops the lines on a 500, as nginx does"
    );
}

#[test]
fn exact_policy_hot_reloads_and_a_bad_save_keeps_the_last_good() {
    let d = tempfile::tempdir().unwrap();
    let fx = d.path().join("wrong-port");
    copy_dir(&repo().join("fixtures/wrong-port"), &fx);
    let sb = TestSandbox::start(
        d.path(),
        &[
            "--fixture",
            fx.to_str().unwrap(),
            "--port",
            "frontend=0",
            "--port",
            "api=0",
        ],
    );
    let origin = "http://karachi-dev.localhost:8080";
    let acao = || {
        client()
            .get(format!("{}/api/student", sb.url("api")))
            .header("Host", "lahore-api.localhost")
            .header("Origin", origin)
            .send()
            .unwrap()
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(acao().as_deref(), Some("http://karachi-dev.localhost:5173"));

    let before = sb.event_count();
    save(
        &fx.join("cors.toml"),
        "mode = \"exact\"\n[[rule]]\nrequest = \"actual\"\nheaders = [\"Access-Control-Allow-Origin: {origin}\"]\n",
        SaveStyle::Rename,
    );
    let e = sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "cors.toml"
    });
    assert_eq!(e["changed"], "rule 1", "{e}");
    assert_eq!(acao().as_deref(), Some(origin));

    let before = sb.event_count();
    save(
        &fx.join("cors.toml"),
        "mode = \"exact\"\n[[rule]]\nheaders = [\"X-Injected: a\\r\\nSet-Cookie: b\"]\n",
        SaveStyle::InPlace,
    );
    let e = sb.wait_event_after(before, |e| {
        e["event"] == "reload_failed" && e["file"] == "cors.toml"
    });
    let error = e["error"].as_str().unwrap();
    assert!(
        error.contains("cors.toml:3:12: the value contains CR, LF or NUL"),
        "{error}"
    );
    assert_eq!(
        acao().as_deref(),
        Some(origin),
        "the last good policy stays"
    );
}

/// Issue #6: the lab's "Make a fixture" command accepts the lab's URL, and the fixture it
/// makes verifies as it is (buggy policy reproduces an error, the fixed one allows).
#[test]
fn fixtures_new_from_lab_makes_a_fixture_that_verifies() {
    let d = tempfile::tempdir().unwrap();
    let url = "http://localhost:8080/?method=PUT&path=%2Fapi%2Fpayment&h=Content-Type%3A+application%2Fjson&h=X-PKR-Auth%3A+demo-token&body=%7B%22amount_pkr%22%3A2500%7D&credentials=include";
    let (code, out, err) = run_cli(
        d.path(),
        &[
            "fixtures",
            "new",
            "--dir",
            "fx",
            "pkr-put",
            "--from-lab",
            url,
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let toml = std::fs::read_to_string(d.path().join("fx/pkr-put/fixture.toml")).unwrap();
    assert!(toml.contains("headers = { \"Content-Type\" = \"application/json\", \"X-PKR-Auth\" = \"demo-token\" }"), "{toml}");
    assert!(toml.contains("credentials = \"include\""), "{toml}");
    // actix-cors refuses the preflight with 400 and no CORS headers: WebKit fails its status
    // first, so the new fixture says so for WebKit.
    assert!(
        toml.contains("cors_error = \"PreflightMissingAllowOriginHeader\"")
            && toml.contains(
                "[request.webkit]\nexpect = \"blocked\"\ncors_error = \"PreflightInvalidStatus\""
            )
            && !toml.contains("[request.firefox]"),
        "{toml}"
    );
    let (code, out, err) = run_cli(d.path(), &["fixtures", "verify", "--dir", "fx", "pkr-put"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run_cli(
        d.path(),
        &[
            "fixtures",
            "new",
            "--dir",
            "fx",
            "nope",
            "--from-lab",
            "http://x/?mode=no-cors",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("reproduces `cors` requests only"), "{err}");
}

/// Issue #14: `fixtures show` says where an engine decides otherwise, in its own words, and
/// what the fixture expects of it.
#[test]
fn fixtures_show_names_the_engines_that_differ() {
    let (code, out, err) = run_cli(
        &repo(),
        &["fixtures", "show", "script-user-agent-preflight"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("expected: allowed (Firefox: blocked (PreflightMissingAllowOriginHeader); Safari (WebKit): blocked (PreflightInvalidStatus))"),
        "{out}"
    );
    assert!(
        out.contains("    Firefox: Cross-Origin Request Blocked:"),
        "{out}"
    );
    assert!(
        out.contains("    Safari (WebKit): Preflight response is not successful. Status code: 400"),
        "{out}"
    );
    // A redirect into another API origin of the sandbox is followed there: the second
    // preflight is that origin's, Origin: null in Chromium, and its fix is to that origin's
    // policy file.
    let (code, out, err) = run_cli(
        &repo(),
        &["fixtures", "show", "cross-origin-redirect-second-preflight"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Access to fetch at 'http://payments.localhost:3001/api/payment' (redirected from 'http://lahore-api.localhost:3000/api/payment')"),
        "{out}"
    );
    assert!(out.contains("    Firefox: allowed"), "{out}");
    assert!(
        out.contains("fix: add \"null\" to allowed_origins in payments-cors.toml"),
        "{out}"
    );
    // Where every engine agrees, only Chromium's words are shown.
    let (code, out, _) = run_cli(&repo(), &["fixtures", "show", "wrong-port"]);
    assert_eq!(code, 0);
    assert!(
        !out.contains("Firefox:") && !out.contains("Safari (WebKit):"),
        "{out}"
    );
}

/// `up --fixture` of a timed fixture says at start what the page will wait for and which
/// file to copy over cors.toml for the deploy (under `--fixed`, that the fix stays).
#[test]
fn up_fixture_names_a_timed_steps_wait_and_deploy() {
    let d = tempfile::tempdir().unwrap();
    let ports = ["--port", "frontend=0", "--port", "api=0"];
    let name = "cached-preflight-outlives-a-deploy";
    for (fixed, says) in [
        (false, "cors.later.toml over "),
        (true, "under --fixed, cors.fixed.toml stays in force"),
    ] {
        let mut args = vec!["--fixture", name];
        if fixed {
            args.push("--fixed");
        }
        args.extend(ports);
        let sb = TestSandbox::start(d.path(), &args);
        let e = sb.wait_event_after(0, |e| {
            e["event"] == "warning"
                && e["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("the page makes"))
        });
        let m = e["message"].as_str().unwrap();
        assert!(m.contains("900 s after the request before it began"), "{m}");
        assert!(m.contains(says), "{m}");
    }
}
