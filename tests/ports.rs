//! Nothing breaks when a port or a host changes: an `init` project allows its own frontend
//! wherever it listens (`sandbox:static`), `sandbox up` warns when a policy lets none of its
//! static origins through, `--host 127.0.0.2` prints URLs that reach it, DNS host names are
//! warned about, and the banner's columns stay apart for long names.

use serde_json::Value;

use crate::util::chromium::{self, Browser};
use crate::util::sandbox::{
    acao, client, policy_for, project, run_cli, save, text_banner, write, SaveStyle, TestSandbox,
};

const NONE_ALLOWED: &str = "allows none of this sandbox's static origins";

/// A fresh `sandbox init` project in a temp folder: (the temp folder, the project in it).
fn scaffolded() -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(d.path(), &["init", "demo"]);
    assert_eq!(code, 0, "{err}");
    let project = d.path().join("demo");
    (d, project)
}

/// The messages of the `warning` events logged so far that contain `needle`.
fn warnings_with(events: &[Value], needle: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "warning")
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.contains(needle))
        .map(str::to_string)
        .collect()
}

/// The scaffold's page and the two requests it sends, answered for the frontend's origin by
/// whichever name the page is opened at, after `--port` moved it off 8080.
#[test]
fn an_init_project_allows_its_frontend_wherever_it_listens() {
    let (_d, project) = scaffolded();
    let sb = TestSandbox::start(
        &project,
        &[
            "--config",
            "sandbox.toml",
            "--port",
            "frontend=0",
            "--port",
            "api=0",
        ],
    );
    let c = client();
    let named = sb.public_urls["frontend"].clone();
    let port = named.rsplit(':').next().unwrap().to_string();
    assert_eq!(named, format!("http://localhost:{port}"));
    let by_address = format!("http://127.0.0.1:{port}");
    let page = c.get(&by_address).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("/api/students"));
    // The page finds the API from the sandbox that served it.
    let config: Value = c
        .get(format!("{by_address}/__sandbox/config.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let api = config["apis"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(api, sb.public_urls["api"]);
    let api = sb.url("api").to_string();
    for origin in [named.as_str(), by_address.as_str()] {
        let res = c
            .get(format!("{api}/api/students"))
            .header("Origin", origin)
            .send()
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(acao(&res).as_deref(), Some(origin));
        let pre = c
            .request(reqwest::Method::OPTIONS, format!("{api}/api/students/1"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PUT")
            .header(
                "Access-Control-Request-Headers",
                "content-type,x-requested-with",
            )
            .send()
            .unwrap();
        assert!(pre.status().is_success(), "{origin}: {}", pre.status());
        assert_eq!(acao(&pre).as_deref(), Some(origin));
        assert_eq!(
            pre.headers()["access-control-allow-credentials"],
            "true",
            "{origin}"
        );
    }
    // Only the origins served: the port the scaffold names is not where this run listens.
    if port != "8080" {
        let res = c
            .get(format!("{api}/api/students"))
            .header("Origin", "http://localhost:8080")
            .send()
            .unwrap();
        assert_eq!(acao(&res), None);
    }
    assert_eq!(
        warnings_with(&sb.events(), NONE_ALLOWED),
        Vec::<String>::new()
    );
}

/// A policy that lets none of the static origins through is named at start and after each
/// save that leaves it so, with the origins it allows and the ones the sandbox serves; a save
/// that allows them again is not warned about.
#[test]
fn a_policy_allowing_none_of_the_static_origins_is_warned_at_start_and_after_saves() {
    let elsewhere = "http://elsewhere.localhost:1";
    let d = project(&policy_for(elsewhere));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let frontend = sb.public_urls["frontend"].clone();
    let port = frontend.rsplit(':').next().unwrap();
    let served = format!("{frontend}, http://127.0.0.1:{port}");
    let first = sb.wait_event(|e| {
        e["event"] == "warning" && e["message"].as_str().unwrap_or("").contains(NONE_ALLOWED)
    });
    let message = first["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("api: cors.toml {NONE_ALLOWED}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("it allows {elsewhere};")),
        "{message}"
    );
    assert!(
        message.contains(&format!("the sandbox serves {served}")),
        "{message}"
    );
    assert!(message.contains("\"sandbox:static\""), "{message}");

    let policy = d.path().join("cors.toml");
    let reloaded = |generation: u64| {
        move |e: &Value| {
            e["event"] == "reloaded" && e["file"] == "cors.toml" && e["generation"] == generation
        }
    };
    save(
        &policy,
        &format!("allowed_origins = [\"{elsewhere}\", \"sandbox:static\"]\n"),
        SaveStyle::Rename,
    );
    sb.wait_event(reloaded(2));
    let mark = sb.event_count();
    save(
        &policy,
        "allowed_origins = [\"http://other.localhost:2\"]\nallowed_methods = [\"GET\", \"patch\"]\n",
        SaveStyle::Rename,
    );
    let again = sb.wait_event_after(mark, |e| {
        e["event"] == "warning" && e["message"].as_str().unwrap_or("").contains(NONE_ALLOWED)
    });
    let message = again["message"].as_str().unwrap();
    assert!(
        message.contains("it allows http://other.localhost:2;") && message.contains(&served),
        "{message}"
    );
    // The policy's lints are said after a save too, as at start.
    sb.wait_event_after(mark, |e| {
        e["event"] == "warning"
            && e["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("api cors.toml: allowed_methods: `patch` matches only")
    });
    // The worker reports one save completely before it reads the next, so whatever it said
    // about the good save is logged by now: no warning between its line and the third.
    let events = sb.events();
    let start = events.iter().position(reloaded(2)).unwrap();
    let end = events.iter().position(reloaded(3)).unwrap();
    assert_eq!(
        warnings_with(&events[start..end], NONE_ALLOWED),
        Vec::<String>::new()
    );
    assert_eq!(warnings_with(&events, NONE_ALLOWED).len(), 2);
}

/// `check` loads the policy as `up` does: the placeholder stands for the static origins at
/// the ports sandbox.toml names, by name and by address, and for nothing else.
#[test]
fn check_reads_the_placeholder_as_up_does() {
    let (_d, project) = scaffolded();
    let verdict = |origin: &str| -> Value {
        let (code, out, err) = run_cli(
            &project,
            &[
                "check",
                "--config",
                "sandbox.toml",
                "--origin",
                origin,
                "-X",
                "PUT",
                "-H",
                "X-Requested-With: fetch",
                "--credentials",
                "include",
                "--json",
                "/api/students/1",
            ],
        );
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    for origin in ["http://localhost:8080", "http://127.0.0.1:8080"] {
        assert_eq!(verdict(origin)["outcome"], "allowed", "{origin}");
    }
    let other = verdict("http://localhost:9999");
    assert_eq!(other["outcome"], "blocked");
    assert_eq!(
        other["fix"],
        "add \"http://localhost:9999\" to allowed_origins in cors.toml"
    );
}

/// The `http://…` words of the banner's lines.
fn banner_urls(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| l.split_whitespace())
        .filter(|w| w.starts_with("http://"))
        .map(str::to_string)
        .collect()
}

/// `localhost` resolves to 127.0.0.1 in the browser, so a sandbox bound to 127.0.0.2 prints
/// (and hands its pages) the address itself, and those URLs answer, CORS included.
#[test]
fn a_bind_address_localhost_does_not_reach_is_printed_as_the_address() {
    let d = tempfile::tempdir().unwrap();
    let args = [
        "--host",
        "127.0.0.2",
        "--port",
        "frontend=0",
        "--port",
        "api=0",
    ];
    let lines = text_banner(d.path(), &args);
    let urls = banner_urls(&lines);
    assert!(urls.len() >= 3, "{lines:?}");
    assert!(
        urls.iter().all(|u| u.starts_with("http://127.0.0.2:")),
        "{lines:?}"
    );

    let sb = TestSandbox::start(d.path(), &args);
    let frontend = sb.public_urls["frontend"].clone();
    let api = sb.public_urls["api"].clone();
    assert!(frontend.starts_with("http://127.0.0.2:"), "{frontend}");
    assert!(api.starts_with("http://127.0.0.2:"), "{api}");
    let c = client();
    assert_eq!(c.get(&frontend).send().unwrap().status(), 200);
    let config: Value = c
        .get(format!("{frontend}/__sandbox/config.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(config["apis"][0]["url"], api.as_str());
    // The embedded default policy allows the frontend as printed.
    let res = c
        .get(format!("{api}/api/student"))
        .header("Origin", &frontend)
        .send()
        .unwrap();
    assert_eq!(acao(&res).as_deref(), Some(frontend.as_str()));
}

/// Long host names and paths: every origin line's columns start where the widest cell above
/// or below ends, two spaces on; a DNS host name is warned about with its `*.localhost` form.
#[test]
fn the_banner_keeps_its_columns_apart_and_dns_names_are_warned_about() {
    let d = tempfile::tempdir().unwrap();
    let long = "the-frontend-of-a-rather-long-project-name.localhost";
    write(
        d.path(),
        "sandbox.toml",
        &format!(
            r#"
[[origin]]
name = "frontend-with-a-long-name"
kind = "static"
port = 0
hostname = "{long}"
root = "a-static-folder-with-a-long-name"

[[origin]]
name = "api"
kind = "api"
port = 0
hostname = "karachi-dev.local"
"#
        ),
    );
    write(
        d.path(),
        "a-static-folder-with-a-long-name/index.html",
        "<p>hi</p>",
    );
    let lines = text_banner(
        d.path(),
        &[
            "--config",
            "sandbox.toml",
            "--port",
            "frontend-with-a-long-name=0",
            "--port",
            "api=0",
        ],
    );
    let text = lines.join("\n");
    // The banner names the build as `--version` does: version and commit.
    assert!(
        lines.iter().any(
            |l| l.starts_with(&format!("sandbox {} (", env!("CARGO_PKG_VERSION")))
                && l.ends_with(')')
        ),
        "{text}"
    );
    assert!(
        text.contains("warning origin `api`: hostname = \"karachi-dev.local\" is resolved by browsers through DNS")
            && text.contains("use hostname = \"karachi-dev.localhost\" instead"),
        "{text}"
    );
    let rows: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("  frontend-with-a-long-name ") || l.starts_with("  api "))
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    // Where each column starts: after a run of two or more spaces (the name's, at 2, first).
    let starts = |l: &str| -> Vec<usize> {
        let b = l.as_bytes();
        (2..b.len())
            .filter(|&i| b[i] != b' ' && b[i - 1] == b' ' && b[i - 2] == b' ')
            .collect()
    };
    let (a, b) = (starts(rows[0]), starts(rows[1]));
    assert!(a.len() >= 4 && b.len() >= 4, "{text}");
    assert_eq!(a[..4], b[..4], "columns differ:\n{text}");
    assert!(
        rows[0][a[1]..].starts_with(&format!("http://{long}:")),
        "{text}"
    );
    assert!(
        rows[1][b[1]..].starts_with("http://karachi-dev.local:"),
        "{text}"
    );
    assert!(
        rows[0].contains("a-static-folder-with-a-long-name/  live reload on"),
        "{text}"
    );
}

/// In real Chromium: the scaffold's page opened as `http://127.0.0.1:PORT` after `--port`
/// gets both its answers; and `patch` in allowed_methods matches only `method: 'patch'`, as
/// the policy lint says (fetch sends it as written; `PATCH` is refused).
#[test]
fn an_init_page_opened_by_address_works_and_method_case_is_as_linted() {
    if !chromium::require_chromium("ports") {
        return;
    }
    let (_d, project) = scaffolded();
    // A PATCH route, to show that `patch` is another method to the API, not a spelling.
    let routes = project.join("api.toml");
    let mut text = std::fs::read_to_string(&routes).unwrap();
    text.push_str("\n[[route]]\nmethod = \"PATCH\"\npath = \"/api/students/{id}\"\njson = { patched = true }\n");
    std::fs::write(&routes, text).unwrap();
    let sb = TestSandbox::start(
        &project,
        &[
            "--config",
            "sandbox.toml",
            "--port",
            "frontend=0",
            "--port",
            "api=0",
        ],
    );
    let frontend = sb.url("frontend").to_string();
    let api = sb.public_urls["api"].clone();
    let policy = project.join("cors.toml");
    let direct = client()
        .patch(format!("{api}/api/students/1"))
        .send()
        .unwrap();
    assert_eq!(direct.status(), 200, "the PATCH route answers PATCH");
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let browser = Browser::launch().await.expect("launch chromium");
            let page = browser.new_page().await.expect("page");
            page.navigate(&format!("{frontend}/")).await.expect("open the page");
            let settled = page
                .evaluate(
                    "new Promise((resolve) => {
                       const t0 = Date.now();
                       (function check() {
                         const li = [...document.querySelectorAll('#results li')];
                         if (li.length === 2 && li.every(l => l.className)) resolve(li.map(l => l.className + ' ' + l.textContent));
                         else if (Date.now() - t0 > 15000) resolve(null);
                         else setTimeout(check, 25);
                       })();
                     })",
                )
                .await
                .expect("evaluate");
            let results: Vec<String> = serde_json::from_value(settled.clone())
                .unwrap_or_else(|_| panic!("the page never settled: {settled}"));
            assert!(results.iter().all(|r| r.starts_with("ok ")), "{results:?}");

            let mark = sb.event_count();
            save(
                &policy,
                "allowed_origins = [\"sandbox:static\"]\nallowed_methods = [\"GET\", \"patch\"]\n",
                SaveStyle::Rename,
            );
            sb.wait_event_after(mark, |e| e["event"] == "reloaded" && e["file"] == "cors.toml");
            let outcome = |method: &str| {
                format!(
                    "fetch({api:?} + '/api/students/1', {{method: {method:?}}}).then(r => 'status ' + r.status, e => e.name)"
                )
            };
            let lower = page.evaluate(&outcome("patch")).await.expect("fetch patch");
            let upper = page.evaluate(&outcome("PATCH")).await.expect("fetch PATCH");
            // CORS let `patch` through, and the API saw `patch`, which its PATCH route does
            // not match: a 404 the page can read. `PATCH` never got past the preflight.
            assert_eq!(lower, "status 404");
            assert_eq!(upper, "TypeError");
            page.close().await.ok();
            browser.close().await;
        });
}
