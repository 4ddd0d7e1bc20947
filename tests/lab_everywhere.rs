//! Issue 16, "the lab is always there" and "small things in the browser", in real headless
//! Chromium: the lab at `/__sandbox/lab` on a static origin with a root of its own, every lab
//! preset against the default API, a fixture page that says which policy it is served with,
//! no favicon error on any page, and the inspector's clock and count.
//!
//! Screenshots go to `/tmp/shots/` (and `target/test-artifacts/`) for a human to look at.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use crate::lab_browser::{runtime, screenshot, settled_verdict, text_of, viewport, wait_for};
use crate::util::chromium::{self, console_lines, Browser, Event, Page};
use crate::util::sandbox::{client, run_cli, save, text_banner, write, SaveStyle, TestSandbox};

/// Saves a screenshot where the brief asks for it, besides the usual artifacts folder.
async fn shot(page: &Page, name: &str) {
    screenshot(page, name).await;
    let png = page.screenshot_png().await.expect("screenshot");
    std::fs::create_dir_all("/tmp/shots").expect("create /tmp/shots");
    std::fs::write(Path::new("/tmp/shots").join(name), png).expect("write screenshot");
}

/// An `init` project (a static root of its own) served on free ports.
fn init_project() -> (tempfile::TempDir, TestSandbox) {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run_cli(dir.path(), &["init", "app"]);
    assert_eq!(code, 0, "{err}");
    let sb = TestSandbox::start(
        &dir.path().join("app"),
        &[
            "--config",
            "sandbox.toml",
            "--port",
            "frontend=0",
            "--port",
            "api=0",
        ],
    );
    (dir, sb)
}

#[test]
fn the_lab_is_at_sandbox_lab_on_a_project_with_its_own_root() {
    if !chromium::require_chromium("lab_everywhere") {
        return;
    }
    let (_dir, sb) = init_project();
    runtime().block_on(async {
        let frontend = sb.public_urls["frontend"].trim_end_matches('/').to_string();
        let api = sb.public_urls["api"].trim_end_matches('/').to_string();
        let browser = Browser::launch().await.expect("chromium");
        let page = browser.new_isolated_page().await.expect("page");
        viewport(&page, 1280, 800).await;

        // `/` is still the project's own page.
        page.navigate(&format!("{frontend}/")).await.expect("page");
        let title = page.evaluate("document.title").await.unwrap();
        assert_eq!(title, "sandbox project", "the scaffold's page at /");

        // The inspector's "CORS lab" link leads to the lab, whose script and stylesheet load
        // under /__sandbox/lab/.
        page.navigate(&sb.public_keyed("frontend", "/__sandbox/"))
            .await
            .expect("inspector");
        let link = page
            .evaluate("[...document.querySelectorAll('nav a')].filter(a => a.textContent === 'CORS lab').map(a => a.href)")
            .await
            .unwrap();
        assert_eq!(link, json!([format!("{frontend}/__sandbox/lab")]));
        page.evaluate("[...document.querySelectorAll('nav a')].find(a => a.textContent === 'CORS lab').click(); true")
            .await
            .unwrap();
        wait_for(
            &page,
            "location.pathname === '/__sandbox/lab/' && document.body.dataset.ready === 'true'",
            "the lab, from the inspector's link",
        )
        .await;
        let styled = page
            .evaluate(
                "[...document.styleSheets].some(s => s.href === location.origin + '/__sandbox/lab/lab.css' && s.cssRules.length > 0)",
            )
            .await
            .unwrap();
        assert_eq!(styled, json!(true), "lab.css loaded under /__sandbox/lab/");
        assert_eq!(text_of(&page, "#api-origin").await, api, "lab.js ran");
        // The policy in force, read with the key the inspector's URL set.
        wait_for(
            &page,
            "document.getElementById('policy-text').textContent.includes('allowed_origins')",
            "the policy in force",
        )
        .await;
        // A send works from here too: the scaffold's policy answers for its own origin list.
        page.evaluate("document.querySelector('#presets [data-preset=simple-get]').click(); document.getElementById('send').click(); true")
            .await
            .unwrap();
        let (outcome, _) = settled_verdict(&page).await;
        assert!(
            ["allowed", "blocked"].contains(&outcome.as_str()),
            "{outcome}"
        );
        shot(&page, "lab-init-project.png").await;
        page.close().await.ok();
        browser.close().await;
    });
}

/// What each lab preset gives against the default API: `None` allowed, else the CorsError.
/// Every preset is listed, so a new one must say what it shows.
const PRESETS: &[(&str, Option<&str>)] = &[
    ("simple-get", None),
    ("blocked-get", Some("PreflightMissingAllowOriginHeader")),
    ("wildcard-credentials", Some("WildcardOriginNotAllowed")),
    ("pkr-auth-put", None),
    ("preflighted-put", None),
    ("total-count", None),
    ("delete", None),
    ("slow", None),
];

/// Chromium's own report of the blocked requests among `events`: `corsErrorStatus.corsError`
/// of each `Network.loadingFailed`.
fn cors_errors(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.method == "Network.loadingFailed")
        .filter_map(|e| e.params["corsErrorStatus"]["corsError"].as_str())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_lab_preset_shows_what_it_is_named_after_against_the_default_api() {
    if !chromium::require_chromium("lab_everywhere") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sb = TestSandbox::start(dir.path(), &["--port", "frontend=0", "--port", "api=0"]);
    runtime().block_on(async {
        let browser = Browser::launch().await.expect("chromium");
        let page = browser.new_isolated_page().await.expect("page");
        viewport(&page, 1280, 800).await;
        page.navigate(&sb.public_keyed("frontend", "/__sandbox/lab"))
            .await
            .expect("lab");
        wait_for(&page, "document.body.dataset.ready === 'true'", "the lab").await;
        let ids = page
            .evaluate("[...document.querySelectorAll('#presets .preset')].map(b => b.dataset.preset)")
            .await
            .unwrap();
        let want: Vec<&str> = PRESETS.iter().map(|p| p.0).collect();
        assert_eq!(ids, json!(want), "every preset has an expectation here");

        for (id, error) in PRESETS {
            let mark = page.cdp.mark();
            page.evaluate(&format!(
                "document.querySelector('#presets [data-preset={id}]').click(); document.getElementById('send').click(); true"
            ))
            .await
            .unwrap();
            let (outcome, cors_error) = settled_verdict(&page).await;
            let page_error = page
                .evaluate("(document.getElementById('page-error') || {}).textContent || null")
                .await
                .unwrap();
            match error {
                None => {
                    assert_eq!(outcome, "allowed", "{id}: {cors_error}");
                    assert!(page_error.is_null(), "{id}: {page_error}");
                }
                Some(error) => {
                    assert_eq!(
                        (outcome.as_str(), cors_error.as_str()),
                        ("blocked", *error),
                        "{id}: the lab's verdict"
                    );
                    assert_eq!(page_error, "TypeError: Failed to fetch", "{id}");
                    // Chromium itself reports the same error, in the network log and the console.
                    let deadline = Instant::now() + Duration::from_secs(10);
                    let reported = page
                        .wait_until(mark, deadline, |evs| {
                            cors_errors(evs).iter().any(|e| e == error)
                        })
                        .await;
                    let events = page.events_since(mark);
                    assert!(
                        reported,
                        "{id}: Chromium reported {:?}",
                        cors_errors(&events)
                    );
                    let lines = console_lines(&events);
                    assert!(
                        lines
                            .iter()
                            .any(|l| l.text.contains("has been blocked by CORS policy")),
                        "{id}: {lines:?}"
                    );
                }
            }
            if *id == "wildcard-credentials" {
                let answered = text_of(&page, "#api-answered").await;
                assert!(
                    answered.contains("access-control-allow-origin\t*"),
                    "the API answered `*`: {answered}"
                );
                assert!(
                    answered.contains("access-control-allow-credentials\ttrue"),
                    "{answered}"
                );
                assert!(
                    answered.contains("not through the CORS policy"),
                    "the lab says the policy did not answer: {answered}"
                );
                shot(&page, "lab-wildcard-credentials.png").await;
                // What made the bug was the route's answer, not the policy: the fixture's
                // buggy policy sends that answer.
                let work = fixture_from_lab(&page).await;
                let fixture = work.path().join("fixtures/from-lab");
                let buggy = std::fs::read_to_string(fixture.join("cors.toml")).unwrap();
                assert!(buggy.contains("mode = \"exact\""), "{buggy}");
                assert!(
                    buggy.contains("\"access-control-allow-origin: *\"")
                        && buggy.contains("\"access-control-allow-credentials: true\""),
                    "{buggy}"
                );
                let file = std::fs::read_to_string(fixture.join("fixture.toml")).unwrap();
                assert!(
                    file.contains("cors_error = \"WildcardOriginNotAllowed\""),
                    "{file}"
                );
                let (code, out, err) =
                    run_cli(work.path(), &["fixtures", "verify", "from-lab"]);
                assert_eq!(code, 0, "the new fixture verifies: {out}{err}");
            }
        }

        // "Make a fixture" for the blocked preset carries the policy in force; the fixture
        // made from it has that policy (the lab's origin become the page's) as its bug.
        page.evaluate("document.querySelector('#presets [data-preset=blocked-get]').click(); true")
            .await
            .unwrap();
        let lab = sb.public_urls["frontend"].trim_end_matches('/').to_string();
        let work = fixture_from_lab(&page).await;
        let fixture = work.path().join("fixtures/from-lab");
        let buggy = std::fs::read_to_string(fixture.join("cors.toml")).unwrap();
        assert!(
            buggy.contains("allowed_headers = [\"Content-Type\", \"Authorization\", \"X-PKR-Auth\"]"),
            "the default policy in force: {buggy}"
        );
        assert!(
            buggy.contains("\"http://karachi-dev.localhost:8080\"") && !buggy.contains(&format!("\"{lab}\"")),
            "the lab's origin replaced by the fixture page's: {buggy}"
        );
        let file = std::fs::read_to_string(fixture.join("fixture.toml")).unwrap();
        assert!(
            file.contains("cors_error = \"PreflightMissingAllowOriginHeader\""),
            "{file}"
        );
        assert!(!file.contains("policy="), "no policy text in `source`: {file}");
        let (code, out, err) = run_cli(work.path(), &["fixtures", "verify", "from-lab"]);
        assert_eq!(code, 0, "the new fixture verifies: {out}{err}");

        page.close().await.ok();
        browser.close().await;
    });
}

/// Presses "Make a fixture" and runs the command it shows in a fresh folder, which then holds
/// `fixtures/from-lab`.
async fn fixture_from_lab(page: &Page) -> tempfile::TempDir {
    page.evaluate("document.getElementById('make-fixture').click(); true")
        .await
        .unwrap();
    let command = page
        .evaluate("document.getElementById('fixture-command').value")
        .await
        .unwrap();
    let command = command.as_str().unwrap().to_string();
    let url = command
        .split_once(" --from-lab '")
        .and_then(|(_, rest)| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{command}"))
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let (code, out, err) = run_cli(
        work.path(),
        &["fixtures", "new", "from-lab", "--from-lab", &url],
    );
    assert_eq!(code, 0, "{command}: {out}{err}");
    work
}

/// The banner `sandbox up` prints in text mode, up to its last line.
fn banner(dir: &Path, args: &[&str]) -> String {
    text_banner(dir, args)
        .iter()
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The banner without what differs from run to run (URLs, keys), the policy's name, and the
/// count of watched files (a generated config is not watched).
fn banner_shape(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("watching "))
        .map(|l| {
            l.split_whitespace()
                .filter(|w| !w.contains("://"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("cors.fixed.toml (actix-cors)", "POLICY")
        .replace("cors.toml (actix-cors)", "POLICY")
}

#[test]
fn a_fixture_served_with_fixed_says_so_on_its_page_and_in_the_banner() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = repo.join("fixtures/tutorial-missing-allow-origin");
    let fixture = fixture.to_str().unwrap();
    let ports = ["--port", "frontend=0", "--port", "api=0"];
    // Named relative to the current folder, as a user types it: the generated config of
    // `--fixed` must not show another form of the same paths.
    let relative = "fixtures/tutorial-missing-allow-origin";
    let buggy = banner(repo, &[&["--fixture", relative][..], &ports].concat());
    let fixed = banner(
        repo,
        &[&["--fixture", relative, "--fixed"][..], &ports].concat(),
    );
    let cwd = tempfile::tempdir().unwrap();
    assert!(fixed.contains("cors.fixed.toml"), "{fixed}");
    assert!(
        buggy.contains("cors.toml") && !buggy.contains("cors.fixed.toml"),
        "{buggy}"
    );
    assert!(
        buggy.contains(&format!("{fixture}/static/")),
        "the fixture's own path: {buggy}"
    );
    assert_eq!(
        banner_shape(&buggy),
        banner_shape(&fixed),
        "the same paths with and without --fixed"
    );

    if !chromium::require_chromium("lab_everywhere") {
        return;
    }
    // A copy, so the fixed policy can name this run's port.
    let copy = tempfile::tempdir().unwrap();
    crate::fixtures_verify::copy_dir(Path::new(fixture), copy.path());
    let fixture = copy.path().to_str().unwrap();
    for (fixed, file, role) in [
        (false, "cors.toml", "the bug"),
        (true, "cors.fixed.toml", "the fix"),
    ] {
        let mut args = vec!["--fixture", fixture];
        if fixed {
            args.push("--fixed");
        }
        args.extend(ports);
        let sb = TestSandbox::start(cwd.path(), &args);
        runtime().block_on(async {
            let browser = Browser::launch().await.expect("chromium");
            let page = browser.new_isolated_page().await.expect("page");
            viewport(&page, 1000, 600).await;
            page.navigate(&format!("{}/", sb.public_urls["frontend"].trim_end_matches('/')))
                .await
                .expect("fixture page");
            let marker = wait_for(
                &page,
                "(() => { const m = document.getElementById('fixture-policy'); return m && m.dataset.policy && m.innerText; })()",
                "the policy marker",
            )
            .await;
            assert_eq!(
                marker,
                json!(format!("The API serves {file} ({role}).")),
                "fixed: {fixed}"
            );
            // The intro names the file to edit: the one served.
            let edit = page
                .evaluate("[...document.querySelectorAll('p > code')].map(c => c.textContent).filter(t => t.endsWith('.toml')).join()")
                .await
                .expect("intro");
            assert_eq!(edit, json!(file), "fixed: {fixed}");
            page.evaluate("window.fixtureResults").await.expect("results");
            let outcome = "(() => { const li = [...document.querySelectorAll('#results li')]; \
                           return li.length && li.every(l => l.dataset.outcome) && li.map(l => l.dataset.outcome).join(); })()";
            if fixed {
                // The fix, for this run's port: the page runs its request again on the reload,
                // and now it goes through.
                let path = copy.path().join("cors.fixed.toml");
                let text = std::fs::read_to_string(&path).unwrap();
                let port = sb.urls["frontend"].rsplit(':').next().unwrap().to_string();
                let before = sb.event_count();
                save(&path, &text.replace(":8080", &format!(":{port}")), SaveStyle::Rename);
                tokio::task::block_in_place(|| {
                    sb.wait_event_after(before, |e| {
                        e["event"] == "reloaded" && e["file"] == "cors.fixed.toml"
                    })
                });
                wait_for(&page, &format!("{outcome} === 'allowed'"), "the request allowed under the fix").await;
                shot(&page, "fixture-fixed.png").await;
            } else {
                let shown = wait_for(&page, outcome, "the request's outcome").await;
                assert_eq!(shown, "blocked", "the bug");
            }
            page.close().await.ok();
            browser.close().await;
        });
    }
}

/// Failed favicon loads, and every error Chromium itself logs in the console about a static
/// origin's page or files (a `Failed to load resource: … 404`, a refused icon…), among
/// `events`. `statics` are the static origins' ports. The CORS errors of the pages' API calls
/// (and the failed loads they cause on the API's port) are what those pages are for.
fn favicon_trouble(events: &[Event], statics: &[&str]) -> Vec<String> {
    let on_static = |url: &str| statics.iter().any(|p| url.contains(&format!(":{p}/")));
    let mut out: Vec<String> = console_lines(events)
        .into_iter()
        .filter(|l| l.source != "console-api" && l.level == "error")
        .filter(|l| !l.text.contains("has been blocked by CORS policy"))
        .filter(|l| l.url.as_deref().is_none_or(on_static))
        .map(|l| format!("console: {} ({:?})", l.text, l.url))
        .collect();
    for e in events {
        let url = e.params["response"]["url"].as_str().unwrap_or_default();
        if e.method == "Network.responseReceived"
            && url.ends_with("/favicon.ico")
            && e.params["response"]["status"].as_u64().unwrap_or(0) >= 400
        {
            out.push(format!("{url}: {}", e.params["response"]["status"]));
        }
    }
    out
}

/// The favicon answer among `events`, if the page asked for `/favicon.ico`.
fn favicon_answer(events: &[Event]) -> Option<u64> {
    events.iter().find_map(|e| {
        let r = &e.params["response"];
        (e.method == "Network.responseReceived"
            && r["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/favicon.ico")))
        .then(|| r["status"].as_u64().unwrap_or(0))
    })
}

#[test]
fn no_sandbox_page_logs_a_favicon_error() {
    if !chromium::require_chromium("lab_everywhere") {
        return;
    }
    let (_dir, sb) = init_project();
    let app = sb.dir.clone();
    // A user's page of its own, with no icon: the browser asks for /favicon.ico.
    write(
        &app,
        "static/plain.html",
        "<!doctype html><title>plain</title><p>mine</p>",
    );
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wrong-port");
    let fixture_sb = TestSandbox::start(
        &app,
        &[
            "--fixture",
            fixture.to_str().unwrap(),
            "--port",
            "frontend=0",
            "--port",
            "api=0",
        ],
    );
    // Chromium does not ask again for an icon URL that failed (or had no image) before, so
    // every page here is opened on a host name of its own (any `*.localhost` reaches the
    // sandbox), and so is each control page.
    let port = |sb: &TestSandbox| sb.urls["frontend"].rsplit(':').next().unwrap().to_string();
    let on = |host: &str, sb: &TestSandbox, path: &str| {
        format!("http://{host}.localhost:{}{path}", port(sb))
    };
    // With the key, as the banner prints them: the lab and the inspector read the journal.
    let keyed = |host: &str, sb: &TestSandbox, path: &str| {
        format!("{}?sandbox-key={}", on(host, sb, path), sb.key("frontend"))
    };
    let (a, b) = (port(&sb), port(&fixture_sb));
    let statics = [a.as_str(), b.as_str()];
    runtime().block_on(async {
        let browser = Browser::launch().await.expect("chromium");
        let page = browser.new_isolated_page().await.expect("page");

        // A user's page first: Chromium asks for the icon, and the sandbox's answer is no error.
        let plain = on("control", &sb, "/plain.html");
        let mark = page.cdp.mark();
        page.navigate(&plain).await.expect("plain page");
        let deadline = Instant::now() + Duration::from_secs(10);
        assert!(
            page.wait_until(mark, deadline, |evs| favicon_answer(evs).is_some()).await,
            "Chromium asked for no favicon: this test could not see one fail"
        );
        let events = page.events_since(mark);
        assert_eq!(favicon_answer(&events), Some(204));
        assert_eq!(favicon_trouble(&events, &statics), Vec::<String>::new(), "{plain}");

        let pages = [
            keyed("lab", &sb, "/__sandbox/lab/"),
            keyed("inspector", &sb, "/__sandbox/"),
            keyed("scaffold", &sb, "/"),
            keyed("fixture", &fixture_sb, "/"),
        ];
        for (i, url) in pages.iter().enumerate() {
            let mark = page.cdp.mark();
            page.navigate(url).await.expect("page");
            let icon = page
                .evaluate("[...document.querySelectorAll('link[rel~=icon]')].map(l => l.getAttribute('href'))")
                .await
                .unwrap();
            assert_eq!(icon, json!(["data:,"]), "{url} names its (empty) icon");
            // Then a user's page: once its icon is answered, this page's would have been
            // asked for, had there been one to ask for.
            let plain = on(&format!("control{i}"), &sb, "/plain.html");
            let next = page.cdp.mark();
            page.navigate(&plain).await.expect("plain page");
            let deadline = Instant::now() + Duration::from_secs(10);
            assert!(
                page.wait_until(next, deadline, |evs| favicon_answer(evs).is_some()).await,
                "{url}: no favicon answer for the page after it"
            );
            let events = page.events_since(mark);
            // This page's events end where the next navigation's begin.
            let split = events
                .iter()
                .position(|e| {
                    e.method == "Network.requestWillBeSent" && e.params["documentURL"] == json!(plain)
                })
                .unwrap_or(events.len());
            assert_eq!(favicon_answer(&events[..split]), None, "{url} asked for /favicon.ico");
            assert_eq!(favicon_trouble(&events, &statics), Vec::<String>::new(), "{url}");
        }

        // The overlay on a user's page: a broken policy save shows it, and still nothing
        // fails but the (intended) console line about the policy.
        let plain = on("overlay", &sb, "/plain.html");
        let mark = page.cdp.mark();
        page.navigate(&plain).await.expect("plain page");
        wait_for(&page, "window.__sandboxLive === true", "the event stream").await;
        let policy = app.join("cors.toml");
        let good = std::fs::read_to_string(&policy).unwrap();
        let before = sb.event_count();
        save(&policy, "mode = \"actix-cors\"\nallowed_method = [\"GET\"]\n", SaveStyle::Rename);
        tokio::task::block_in_place(|| sb.wait_event_after(before, |e| e["event"] == "reload_failed"));
        wait_for(
            &page,
            "!!document.getElementById('__sandbox_overlay')",
            "the overlay on the user's page",
        )
        .await;
        let events = page.events_since(mark);
        assert_eq!(favicon_trouble(&events, &statics), Vec::<String>::new(), "overlay");
        save(&policy, &good, SaveStyle::Rename);

        page.close().await.ok();
        browser.close().await;
    });
}

#[test]
fn the_inspector_counts_requests_and_shows_reload_times_to_the_millisecond() {
    if !chromium::require_chromium("lab_everywhere") {
        return;
    }
    let (_dir, sb) = init_project();
    let app = sb.dir.clone();
    runtime().block_on(async {
        let frontend = sb.public_urls["frontend"].trim_end_matches('/').to_string();
        let browser = Browser::launch().await.expect("chromium");
        let page = browser.new_isolated_page().await.expect("page");
        viewport(&page, 1280, 800).await;
        // The scaffold's policy names the frontend's default port; this run's is another, and
        // the save is the reload the history shows.
        let policy = app.join("cors.toml");
        let text = std::fs::read_to_string(&policy).unwrap();
        let before = sb.event_count();
        save(
            &policy,
            &text.replace("http://localhost:8080", &frontend),
            SaveStyle::Rename,
        );
        tokio::task::block_in_place(|| {
            sb.wait_event_after(before, |e| e["event"] == "reloaded" && e["file"] == "cors.toml")
        });
        // The scaffold's page makes one simple GET and one preflighted PUT: three requests in
        // two groups.
        page.navigate(&format!("{frontend}/")).await.expect("page");
        wait_for(
            &page,
            "(() => { const li = [...document.querySelectorAll('#results li')]; return li.length === 2 && li.every(l => l.className); })()",
            "the scaffold page's requests",
        )
        .await;
        page.navigate(&sb.public_keyed("frontend", "/__sandbox/"))
            .await
            .expect("inspector");
        let entries = tokio::task::block_in_place(|| {
            crate::util::sandbox::client()
                .get(sb.keyed("frontend", "/__sandbox/requests"))
                .send()
                .unwrap()
                .json::<Value>()
                .unwrap()
        });
        let n = entries.as_array().unwrap().len();
        assert!(n >= 3, "{entries}");
        let count = wait_for(
            &page,
            "(() => { const t = document.getElementById('count').textContent; return /request/.test(t) && t; })()",
            "the request count",
        )
        .await;
        assert_eq!(count, json!(format!("({n} requests)")));
        let groups = page
            .evaluate("document.querySelectorAll('#requests-table tbody.group').length")
            .await
            .unwrap();
        assert!(groups.as_u64().unwrap() < n as u64, "{groups} groups, {n} requests");
        let request_time = wait_for(
            &page,
            "(document.querySelector('#requests-table td.time') || {}).textContent",
            "a request's time",
        )
        .await;
        // Blocked only: "K of N requests".
        page.evaluate("document.getElementById('blocked-only').click(); true")
            .await
            .unwrap();
        let filtered = text_of(&page, "#count").await;
        assert!(
            filtered.ends_with(&format!(" of {n} requests)")),
            "{filtered}"
        );
        let times = wait_for(
            &page,
            "(() => { const t = [...document.querySelectorAll('.history-table td.time')].map(td => td.textContent); return t.length && t; })()",
            "the reload history",
        )
        .await;
        for t in times.as_array().unwrap().iter().chain([&request_time]) {
            let t = t.as_str().unwrap();
            let ms = t.rsplit_once('.').map(|(_, ms)| ms).unwrap_or("");
            assert!(
                t.len() == "00:00:00.000".len() && ms.len() == 3,
                "HH:MM:SS.mmm: {t}"
            );
        }
        page.evaluate("document.getElementById('blocked-only').click(); true")
            .await
            .unwrap();
        shot(&page, "inspector.png").await;
        page.close().await.ok();
        browser.close().await;
    });
}

#[test]
fn the_lab_and_the_favicon_over_http() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "static/index.html",
        "<!doctype html><title>mine</title>",
    );
    let sb = TestSandbox::start(dir.path(), &["--port", "frontend=0", "--port", "api=0"]);
    let c = client();
    let front = sb.url("frontend").to_string();
    let get = |path: &str| c.get(format!("{front}{path}")).send().unwrap();

    // The lab's form lives in the query: the redirect to the folder keeps it.
    let r = get("/__sandbox/lab?method=PUT&h=X-A%3A+1");
    assert_eq!(r.status(), 307);
    assert_eq!(
        r.headers()["location"],
        "/__sandbox/lab/?method=PUT&h=X-A%3A+1"
    );
    let page = get("/__sandbox/lab/");
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let html = page.text().unwrap();
    assert!(html.contains("sandbox lab"), "{html}");
    assert!(html.contains("/__sandbox/reload.js"), "the reload script");
    for (file, kind) in [("lab.js", "text/javascript"), ("lab.css", "text/css")] {
        let r = get(&format!("/__sandbox/lab/{file}"));
        assert_eq!(r.status(), 200, "{file}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{file}: {:?}",
            r.headers()["content-type"]
        );
    }
    // Only the lab's own files: not the sandbox's folder, not the user's root.
    for path in [
        "/__sandbox/lab/.sandbox%2Finspector%2Finspector.js",
        "/__sandbox/lab/default_routes.toml",
        "/__sandbox/lab/..%2Findex.html",
        "/__sandbox/lab/nope.js",
    ] {
        assert_eq!(get(path).status(), 404, "{path}");
    }
    // The root's page is still at `/`.
    assert!(get("/").text().unwrap().contains("<title>mine</title>"));

    // No favicon in the root: 204, no error for the browser to log. One of its own: served.
    let r = get("/favicon.ico");
    assert_eq!(r.status(), 204);
    assert_eq!(get("/other.ico").status(), 404, "only the default icon");
    write(dir.path(), "static/favicon.ico", "icon bytes");
    let r = get("/favicon.ico");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().unwrap(), "icon bytes");
}

#[test]
fn a_default_route_answers_cors_itself_with_a_wildcard_and_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let sb = TestSandbox::start(dir.path(), &["--port", "frontend=0", "--port", "api=0"]);
    let origin = sb.public_urls["frontend"].trim_end_matches('/').to_string();
    let c = client();
    let ask = |path: &str| {
        c.get(format!("{}{path}", sb.url("api")))
            .header("Origin", &origin)
            .send()
            .unwrap()
    };
    let r = ask("/api/wildcard");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    assert!(
        r.headers().get("vary").is_none(),
        "nothing of actix-cors: {:?}",
        r.headers()
    );
    // Every other route is still the policy's.
    let r = ask("/api/student");
    assert_eq!(r.headers()["access-control-allow-origin"], origin.as_str());
    // The journal's verdict: blocked when credentialed, and its fix is not a policy edit.
    let e = sb.wait_event(|e| e["event"] == "request" && e["path"] == "/api/wildcard");
    let cred = &e["verdict_if_credentialed"];
    assert_eq!(cred["cors_error"], "WildcardOriginNotAllowed", "{e}");
    assert!(
        !cred["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("cors.toml"),
        "{e}"
    );
}

#[test]
fn check_fixes_a_route_that_answers_cors_itself_in_the_route_not_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run_cli(
        dir.path(),
        &[
            "check",
            "--origin",
            "http://localhost:8080",
            "--credentials",
            "include",
            "/api/wildcard",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cors_error"], "WildcardOriginNotAllowed", "{v}");
    let fix = v["fix"].as_str().unwrap();
    assert!(
        fix.contains("Access-Control-Allow-Origin: http://localhost:8080")
            && !fix.contains("cors.toml"),
        "{fix}"
    );
}
