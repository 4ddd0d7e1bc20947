//! `sandbox fixtures new NAME --from-probe URL --origin O …` against real servers: Express
//! with the npm `cors` middleware and Debian's nginx. Each live bug becomes a fixture that
//! verifies at once, fails in headless Chromium with the error the live server gives (the
//! probe's verdict, which `tests/probe_real.rs` holds against Chromium), passes with its
//! fix, and holds none of the secrets the probe sent or received.

use std::path::Path;

use serde_json::{json, Value};

use crate::fixtures_browser::check_fixture_dir;
use crate::util::chromium::{self, Browser};
use crate::util::nginx::{free_port, Nginx};
use crate::util::node::NodeCors;
use crate::util::sandbox::{files_under, run_cli};

pub(crate) const SECRET: &str = "sekrit-token-8127";

/// One live bug: where it is and the request that shows it.
pub(crate) struct Case {
    pub name: &'static str,
    pub url: String,
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
    pub credentials: &'static str,
}

impl Case {
    /// The probe's request flags for this case.
    fn args(&self) -> Vec<String> {
        let mut a = vec!["-X".to_string(), self.method.to_string()];
        for (n, v) in &self.headers {
            a.push("-H".into());
            a.push(format!("{n}: {v}"));
        }
        a.extend(["--credentials".to_string(), self.credentials.to_string()]);
        a
    }
}

/// Real servers with the tutorial's mistakes, for a page at `page`: Express with the npm
/// `cors` middleware (three option sets) and Debian's nginx (`add_header` without `always`
/// on a 500, which also sets a cookie holding [`SECRET`]). Dropping it stops them.
pub(crate) struct LiveServers {
    _node: NodeCors,
    _nginx: Nginx,
    pub cases: Vec<Case>,
}

pub(crate) fn live_servers(dir: &Path, page: &str) -> LiveServers {
    let node = NodeCors::start(
        "live servers",
        &[
            json!({"origin": "http://other.localhost"}),
            json!({"origin": page, "allowedHeaders": ["Content-Type"]}),
            json!({"origin": "*", "credentials": true}),
        ],
    );
    let at = |i: usize| format!("http://127.0.0.1:{}/s{i}/api/data", node.port);
    let port = free_port();
    let nginx = Nginx::start(
        dir,
        &format!(
            "server {{ listen 127.0.0.1:{port}; \
             location = /api/report {{ add_header Access-Control-Allow-Origin $http_origin; \
             add_header Set-Cookie \"sid={SECRET}; Path=/\"; return 500 'database down'; }} }}"
        ),
        &[port],
    );
    let h = |n: &str, v: &str| (n.to_string(), v.to_string());
    let cases = vec![
        Case {
            name: "live-origin-mismatch",
            url: at(0),
            method: "GET",
            headers: vec![],
            credentials: "same-origin",
        },
        Case {
            name: "live-header-not-allowed",
            url: at(1),
            method: "PUT",
            headers: vec![
                h("X-PKR-Auth", "token123"),
                h("Authorization", &format!("Bearer {SECRET}")),
            ],
            credentials: "same-origin",
        },
        Case {
            name: "live-wildcard-with-credentials",
            url: at(2),
            method: "GET",
            headers: vec![],
            credentials: "include",
        },
        Case {
            name: "live-nginx-500-without-always",
            url: format!("http://127.0.0.1:{port}/api/report"),
            method: "GET",
            headers: vec![],
            credentials: "same-origin",
        },
    ];
    LiveServers {
        _node: node,
        _nginx: nginx,
        cases,
    }
}

fn probe_verdict(dir: &Path, case: &Case, origin: &str) -> Value {
    let mut args = vec![
        "probe".to_string(),
        case.url.clone(),
        "--origin".into(),
        origin.into(),
    ];
    args.extend(case.args());
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_cli(dir, &args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_live_bug_becomes_a_fixture_that_fails_in_chromium_as_the_server_does() {
    if !chromium::require_chromium("from_probe") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let page = "http://karachi-dev.localhost:5173";
    let live = live_servers(work.path(), page);
    let lib = work.path().join("lib");
    let rt = crate::lab_browser::runtime();
    let browser = rt.block_on(Browser::launch()).expect("launch chromium");
    let mut problems = Vec::new();
    for case in &live.cases {
        let verdict = probe_verdict(work.path(), case, page);
        assert_eq!(verdict["outcome"], "blocked", "{}: {verdict}", case.name);
        let mut args = vec![
            "fixtures".to_string(),
            "new".into(),
            case.name.into(),
            "--dir".into(),
            lib.display().to_string(),
            "--from-probe".into(),
            case.url.clone(),
            "--origin".into(),
            page.into(),
        ];
        args.extend(case.args());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = run_cli(work.path(), &args);
        assert_eq!(code, 0, "{}: {out}{err}", case.name);
        assert!(out.contains("redacted"), "{out}");
        let dir = lib.join(case.name);
        // The fixture reproduces the live error, as the model judges it…
        let fixture = std::fs::read_to_string(dir.join("fixture.toml")).unwrap();
        let want = verdict["cors_error"].as_str().unwrap();
        assert!(
            fixture.contains(&format!("cors_error = \"{want}\"")),
            "{}: live {want}, fixture:\n{fixture}",
            case.name
        );
        assert!(fixture.contains("a live probe of"), "{fixture}");
        let (code, out, err) = run_cli(
            work.path(),
            &[
                "fixtures",
                "verify",
                "--dir",
                &lib.display().to_string(),
                case.name,
            ],
        );
        assert_eq!(code, 0, "{}: {out}{err}", case.name);
        // …and in Chromium, with the fix passing.
        problems.extend(check_fixture_dir(&rt, &browser, &dir, case.name));
        // Nothing secret was written.
        for f in files_under(&dir) {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            assert!(!text.contains(SECRET), "{} holds the secret", f.display());
        }
    }
    rt.block_on(browser.close());
    drop(live);
    assert!(
        problems.is_empty(),
        "fixtures from live probes disagree with Chromium:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_probe_that_gets_no_answer_makes_no_fixture() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let (code, out, err) = run_cli(
        work.path(),
        &[
            "fixtures",
            "new",
            "nothing-there",
            "--dir",
            &work.path().join("lib").display().to_string(),
            "--from-probe",
            &format!("http://127.0.0.1:{port}/api"),
            "--origin",
            "http://localhost:5173",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("net::ERR_CONNECTION_REFUSED"), "{err}");
    assert!(!work.path().join("lib/nothing-there").exists());
}
