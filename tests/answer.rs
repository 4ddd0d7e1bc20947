//! `explain`, `check`, `probe` and the verdict on every request `up` sees give the policy's
//! answer with the documented exit codes and JSON, through the real binary. (That the model
//! agrees with Chromium is `browser_differential`'s job.)

use crate::util::sandbox::*;

const PAGE: &str = "http://karachi-dev.localhost:8080";

const POLICY: &str = r#"allowed_origins = ["http://karachi-dev.localhost:8080"]
allowed_methods = ["GET", "POST", "PUT"]
allowed_headers = ["Content-Type", "X-PKR-Auth"]
supports_credentials = true
"#;

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn explain_one_many_har_and_stdin() {
    let d = tempfile::tempdir().unwrap();
    let one = r#"{"id":"wild","request":{"url":"http://api.test:3000/x","origin":"http://frontend.test:8080","credentials":"include"},
                 "actual_response":{"status":200,"headers":{"Access-Control-Allow-Origin":"*"}}}"#;
    write(d.path(), "one.json", one);
    let (code, out, _) = run_cli(d.path(), &["explain", "one.json", "--json"]);
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v["id"], "wild");
    assert_eq!(v["outcome"], "blocked");
    assert_eq!(v["cors_error"], "WildcardOriginNotAllowed");
    assert!(v["message"].as_str().unwrap().starts_with("Access to fetch at 'http://api.test:3000/x' from origin 'http://frontend.test:8080' has been blocked by CORS policy: "));
    let (code, _, _) = run_cli(d.path(), &["explain", "one.json", "--fail-on-blocked"]);
    assert_eq!(code, 1, "--fail-on-blocked with a blocked verdict");

    write(d.path(), "many.json", &format!("[{one}, {{\"request\":{{\"url\":\"http://api.test:3000/x\",\"origin\":\"http://frontend.test:8080\"}},\"actual_response\":{{\"status\":200,\"headers\":{{\"Access-Control-Allow-Origin\":\"*\"}}}}}}]"));
    let (code, out, _) = run_cli(
        d.path(),
        &["explain", "many.json", "--json", "--fail-on-blocked"],
    );
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["outcome"], "allowed");

    // Text report: request line, verdict, message, fix.
    let (code, out, _) = run_cli(d.path(), &["explain", "one.json"]);
    assert_eq!(code, 0);
    for want in [
        "request:   GET http://api.test:3000/x",
        "verdict:   BLOCKED (WildcardOriginNotAllowed)",
        "message:",
        "fix:",
    ] {
        assert!(out.contains(want), "missing {want:?}:\n{out}");
    }

    // A HAR exported from DevTools: the preflight and the request to another origin.
    let har = r#"{"log":{"entries":[
      {"request":{"method":"OPTIONS","url":"http://api.test:3000/api/payment","headers":[
          {"name":"Origin","value":"http://frontend.test:8080"},
          {"name":"Access-Control-Request-Method","value":"PUT"},
          {"name":"Access-Control-Request-Headers","value":"x-pkr-auth"}]},
       "response":{"status":204,"headers":[{"name":"Access-Control-Allow-Origin","value":"http://frontend.test:8080"},
          {"name":"Access-Control-Allow-Methods","value":"PUT"}]}},
      {"request":{"method":"PUT","url":"http://api.test:3000/api/payment","headers":[
          {"name":"Origin","value":"http://frontend.test:8080"},{"name":"X-PKR-Auth","value":"t"}]},
       "response":{"status":200,"headers":[]}}]}}"#;
    write(d.path(), "x.har", har);
    let (code, out, err) = run_cli(d.path(), &["explain", "x.har", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let verdicts = v.as_array().unwrap();
    assert!(!verdicts.is_empty());
    assert!(
        verdicts
            .iter()
            .any(|v| v["cors_error"] == "HeaderDisallowedByPreflightResponse"),
        "{v:#}"
    );

    // Bad input: exit 2 with the reason.
    write(d.path(), "bad.json", "{\"request\": ");
    let (code, _, err) = run_cli(d.path(), &["explain", "bad.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.json") && err.contains("line 1"), "{err}");
    let (code, _, err) = run_cli(d.path(), &["explain", "missing.json"]);
    assert_eq!(code, 2, "{err}");

    // Standard input.
    let mut child = std::process::Command::new(BIN)
        .args(["explain", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(one.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        json(&String::from_utf8_lossy(&out.stdout))["cors_error"],
        "WildcardOriginNotAllowed"
    );
}

#[test]
fn check_asks_the_sandbox_policy_without_a_server() {
    let d = project(POLICY);
    let (code, out, err) = run_cli(
        d.path(),
        &[
            "check",
            "--config",
            "sandbox.toml",
            "--origin",
            PAGE,
            "-X",
            "PUT",
            "-H",
            "X-PKR-Auth: t",
            "--credentials",
            "include",
            "/api/payment",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["outcome"], "allowed", "{v:#}");
    assert_eq!(v["preflight_sent"], true);

    let (code, out, _) = run_cli(
        d.path(),
        &[
            "check",
            "--config",
            "sandbox.toml",
            "--origin",
            PAGE,
            "-X",
            "PUT",
            "-H",
            "X-Other: 1",
            "/api/payment",
            "--json",
            "--fail-on-blocked",
        ],
    );
    assert_eq!(code, 1);
    let v = json(&out);
    // actix-cors refuses the header with a bare 400, which Chromium reports as a missing
    // ACAO on the preflight; the fix still names the real cause, from the policy, spelled as
    // the page wrote it (as `explain` does).
    assert_eq!(
        v["cors_error"], "PreflightMissingAllowOriginHeader",
        "{v:#}"
    );
    assert_eq!(
        v["fix"], "add \"X-Other\" to allowed_headers in cors.toml",
        "{v:#}"
    );

    let (code, out, _) = run_cli(
        d.path(),
        &[
            "check",
            "--config",
            "sandbox.toml",
            "--origin",
            "http://localhost:8080",
            "/api/student",
        ],
    );
    assert_eq!(code, 0);
    assert!(out.contains("BLOCKED (MissingAllowOriginHeader)"), "{out}");
    assert!(out.contains("answers (as received):"), "{out}");

    let (code, _, err) = run_cli(
        d.path(),
        &[
            "check",
            "--config",
            "sandbox.toml",
            "--origin",
            PAGE,
            "api/student",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("must start with `/`"), "{err}");
}

#[test]
fn probe_judges_a_live_server_and_up_logs_verdicts() {
    let d = project(POLICY);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();

    let (code, out, err) = run_cli(
        d.path(),
        &[
            "probe",
            &format!("{api}/api/payment"),
            "--origin",
            PAGE,
            "-X",
            "PUT",
            "-H",
            "X-PKR-Auth: t",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["outcome"], "allowed");
    let (code, out, _) = run_cli(
        d.path(),
        &[
            "probe",
            &format!("{api}/api/student"),
            "--origin",
            "http://evil.test",
            "--fail-on-blocked",
        ],
    );
    assert_eq!(code, 1);
    assert!(out.contains("MissingAllowOriginHeader"), "{out}");
    assert!(out.contains("→ HTTP/1.1 200"), "raw answer shown: {out}");

    // The sandbox judged each of those requests itself.
    let e = sb.wait_event(|e| e["event"] == "request" && e["preflight"] == true);
    assert_eq!(e["verdict"]["outcome"], "allowed", "{e}");
    let e = sb.wait_event(|e| e["event"] == "request" && e["origin"] == "http://evil.test");
    assert_eq!(
        e["verdict"]["cors_error"], "MissingAllowOriginHeader",
        "{e}"
    );
    assert!(
        e["verdict"]["fix"].as_str().unwrap().contains("cors.toml"),
        "{e}"
    );

    // A preflight announcing a header the policy does not allow.
    let (_, _, _) = run_cli(
        d.path(),
        &[
            "probe",
            &format!("{api}/api/payment"),
            "--origin",
            PAGE,
            "-X",
            "PUT",
            "-H",
            "X-Other: 1",
        ],
    );
    let e = sb.wait_event(|e| {
        e["event"] == "request" && e["preflight"] == true && e["verdict"]["outcome"] == "blocked"
    });
    assert_eq!(
        e["verdict"]["cors_error"], "PreflightMissingAllowOriginHeader",
        "{e}"
    );
    assert_eq!(
        e["verdict"]["fix"], "add \"x-other\" to allowed_headers in cors.toml",
        "{e}"
    );

    // No cookies, and a credentialed fetch would fare differently: both verdicts.
    let (_, _, _) = run_cli(
        d.path(),
        &[
            "probe",
            &format!("{api}/api/student"),
            "--origin",
            "http://lahore-api.localhost:1",
        ],
    );
    let e = sb
        .wait_event(|e| e["event"] == "request" && e["origin"] == "http://lahore-api.localhost:1");
    assert_eq!(e["verdict"]["outcome"], "blocked");
    // Same-origin requests and static origins carry no verdict.
    client().get(sb.url("frontend")).send().unwrap();
    let e = sb.wait_event(|e| e["event"] == "request" && e["origin_name"] == "frontend");
    assert!(e.get("verdict").is_none(), "{e}");
}

#[test]
fn a_policy_change_inside_a_cached_preflight_window_is_warned() {
    let d = project(&format!("{POLICY}max_age = 600\n"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let res = client()
        .request(reqwest::Method::OPTIONS, format!("{api}/api/payment"))
        .header("Origin", PAGE)
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .unwrap();
    assert_eq!(res.headers()["access-control-max-age"], "600");
    sb.wait_event(|e| e["event"] == "request" && e["preflight"] == true);
    save(
        &d.path().join("cors.toml"),
        &POLICY.replace("\"PUT\"]", "\"PUT\", \"DELETE\"]"),
        SaveStyle::Rename,
    );
    let e = sb.wait_event(|e| {
        e["event"] == "warning" && e["message"].as_str().unwrap().contains("from its cache")
    });
    assert!(e["message"].as_str().unwrap().contains("up to 6"), "{e}");
}

/// `check` judges the answer a route gives, not its latency or injected failures: a route
/// that always waits a minute and then fails is checked at once, on its normal answer.
#[test]
fn check_skips_delays_and_injected_faults() {
    let d = project(POLICY);
    let routes = std::fs::read_to_string(d.path().join("api.toml")).unwrap();
    write(
        d.path(),
        "api.toml",
        &format!(
            "{routes}\n[[route]]\npath = \"/api/slow\"\ndelay_ms = 60000\nerror_rate = 1.0\nerror_status = 503\njson = {{ ok = true }}\n"
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
            "/api/slow",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("response←  200"), "{out}");
    assert!(out.contains("were not applied here"), "{out}");
}
