//! Every fixture in a real headless Chromium: the page served by `sandbox up --fixture` must
//! fail each request with the `corsError` (DevTools `Network.loadingFailed`) that
//! `fixture.toml` names; then the fixed policy is saved over the buggy one (hot reload, no
//! restart) and the same page, loaded again, must get every request through. A fixture with
//! cookie expectations is also held against Chromium's `blockedCookies` and
//! `associatedCookies` for each request, under the bug and (with `api.fixed.toml` saved over
//! the routes, in an emptied jar) under the fix.
//!
//! Each fixture runs from a temp copy with both origins on port 0. The policies name the
//! fixture's configured ports (8080/3000), so once the real ports are known they are written
//! into the copy's policy files, which the sandbox hot-reloads before the page is opened.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::fixtures_verify::copy_dir;
use crate::util::chromium::{self, Browser, Event, Page};
use crate::util::clock::Clock;
use crate::util::cookie_reports::{cookie_reports as reports, reasons};
use crate::util::sandbox::{save, SaveStyle, TestSandbox};

/// How long a page may take to run all of its requests and report their failures.
const PAGE_DEADLINE: Duration = Duration::from_secs(20);

/// What one request did in the browser.
#[derive(Debug)]
pub(crate) struct Seen {
    ok: bool,
    headers: Vec<String>,
    cors_error: Option<String>,
}

/// The configured port of each origin in a fixture's sandbox.toml.
pub(crate) fn configured_ports(dir: &Path) -> Vec<(String, u16)> {
    let text = std::fs::read_to_string(dir.join("sandbox.toml")).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    table["origin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_string(),
                o["port"].as_integer().unwrap() as u16,
            )
        })
        .collect()
}

/// `text` with every `:CONFIGURED` port replaced by the port the sandbox really bound.
pub(crate) fn with_real_ports(text: &str, map: &[(u16, u16)]) -> String {
    let mut out = text.to_string();
    for (from, to) in map {
        out = out.replace(&format!(":{from}"), &format!(":{to}"));
    }
    out
}

/// Saves `text` as the fixture's cors.toml and waits for the sandbox to reload it (nothing
/// to wait for when the content does not change: the watcher skips no-op saves).
pub(crate) fn install_policy(sb: &TestSandbox, path: &Path, text: &str) {
    if std::fs::read_to_string(path).unwrap() == text {
        return;
    }
    let before = sb.event_count();
    save(path, text, SaveStyle::Rename);
    let e = sb.wait_event_after(before, |e| {
        (e["event"] == "reloaded" || e["event"] == "reload_failed") && e["file"] == "cors.toml"
    });
    assert_eq!(e["event"], "reloaded", "{e}");
}

/// Whether a fixture has timed steps (`after_seconds`, `deploy`): its page waits for them
/// by the browser's clock, which the test moves.
pub(crate) fn is_timed(requests: &[Value]) -> bool {
    requests
        .iter()
        .any(|r| r.get("after_seconds").is_some() || r.get("deploy").is_some())
}

/// Drives a timed fixture's steps from outside the page, while the page runs: once the API
/// has the actual request of every step before a timed one (the page took that step's
/// start time before sending it), the step's `deploy` is saved over cors.toml (under the bug
/// only: under the fix, the fixed policy stays) and the browser's clock moves a second past
/// the step's wait, which the page then sees at once.
pub(crate) fn drive_timeline(
    sb: &TestSandbox,
    mark: usize,
    requests: &[Value],
    dir: &Path,
    map: &[(u16, u16)],
    clock: &Clock,
    fixed: bool,
) {
    for (i, r) in requests.iter().enumerate() {
        let after = r.get("after_seconds").and_then(Value::as_u64).unwrap_or(0);
        let deploy = r.get("deploy").and_then(Value::as_str);
        if after == 0 && deploy.is_none() {
            continue;
        }
        // Every step before a timed one reaches the API with its actual request.
        sb.wait_nth_event_after(mark, i, |e| {
            e["event"] == "request" && e["origin_name"] == "api" && e["preflight"] == false
        });
        if let (Some(file), false) = (deploy, fixed) {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            install_policy(sb, &dir.join("cors.toml"), &with_real_ports(&text, map));
        }
        clock.advance(after + 1);
    }
}

/// Runs the fixture page once and, for a fixture with cookie expectations, adds to `problems`
/// what Chromium did with the cookies against them (`fixed`: under the fix).
async fn run_with_cookies(
    page: &Page,
    run: &FixtureRun,
    requests: &[Value],
    timeline: Option<(&Path, &Clock)>,
    name: &str,
    fixed: bool,
    problems: &mut Vec<String>,
) -> Vec<Seen> {
    let mark = page.cdp.mark();
    let seen = match timeline {
        None => run_page(page, &run.page_url, &run.api, requests.len()).await,
        Some((dir, clock)) => {
            let events = run.sb.event_count();
            let handle = tokio::runtime::Handle::current();
            tokio::task::block_in_place(|| {
                std::thread::scope(|s| {
                    s.spawn(|| {
                        drive_timeline(&run.sb, events, requests, dir, &run.map, clock, fixed)
                    });
                    handle.block_on(run_page(page, &run.page_url, &run.api, requests.len()))
                })
            })
        }
    };
    // Only such a fixture waits for Chromium's cookie reports (a blocked preflight leaves its
    // request without any).
    if requests.iter().any(|r| r.get("cookies").is_some()) {
        let label = if fixed { "fixed" } else { "buggy" };
        let cookies = cookie_reports(page, mark, &run.api, requests.len()).await;
        for (r, c) in requests.iter().zip(&cookies) {
            problems.extend(cookie_problems(name, label, r, c, fixed));
        }
    }
    seen
}

/// A fixture served by `sandbox up --fixture` on port 0, with the map from its configured
/// ports to the real ones. HTTPS origins get their certificates from a local CA in a data
/// folder of the test's own.
pub(crate) struct FixtureRun {
    pub(crate) sb: TestSandbox,
    pub(crate) map: Vec<(u16, u16)>,
    pub(crate) page_url: String,
    pub(crate) api: String,
}

impl FixtureRun {
    pub(crate) fn start(tmp: &Path, dir: &Path) -> FixtureRun {
        let configured = configured_ports(dir);
        let mut args = vec!["--fixture".to_string(), dir.display().to_string()];
        for (origin, _) in &configured {
            args.push("--port".into());
            args.push(format!("{origin}=0"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let data = tmp.join("data");
        let sb = TestSandbox::start_with(tmp, &args, |c| {
            c.env("SANDBOX_DATA_DIR", &data);
        });
        let real = |origin: &str| -> u16 {
            sb.public_urls[origin]
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let map: Vec<(u16, u16)> = configured.iter().map(|(o, p)| (*p, real(o))).collect();
        let page_url = format!("{}/", sb.public_urls["frontend"]);
        let api = sb.public_urls["api"].clone();
        FixtureRun {
            sb,
            map,
            page_url,
            api,
        }
    }
}

/// Saves `fixed` (a fixture's api.fixed.toml) over `routes` and waits for the reload.
pub(crate) fn install_routes(sb: &TestSandbox, routes: &Path, fixed: &Path) {
    let before = sb.event_count();
    save(
        routes,
        &std::fs::read_to_string(fixed).unwrap(),
        SaveStyle::Rename,
    );
    let e = sb.wait_event_after(before, |e| {
        (e["event"] == "reloaded" || e["event"] == "reload_failed") && e["file"] == "api.toml"
    });
    assert_eq!(e["event"], "reloaded", "{e}");
}

/// Loads the page, waits for its requests and for Chromium's report of each failure.
pub(crate) async fn run_page(page: &Page, url: &str, api: &str, expected: usize) -> Vec<Seen> {
    let mark = page.cdp.mark();
    page.navigate(url).await.expect("navigate");
    let results = page
        .evaluate("window.fixtureResults")
        .await
        .expect("page results");
    let results = results.as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), expected, "{results:?}");
    let blocked = results.iter().filter(|r| r["ok"] != true).count();
    let deadline = Instant::now() + PAGE_DEADLINE;
    let reported = page
        .wait_until(mark, deadline, |events| {
            failures(events, api)
                .iter()
                .filter(|f| f.1.is_some())
                .count()
                >= blocked
        })
        .await;
    let events = page.events_since(mark);
    let fails = failures(&events, api);
    assert!(
        reported,
        "{url}: Chromium reported {} CORS failures, the page saw {blocked} blocked requests: {fails:?}; page results: {results:?}",
        fails.len()
    );
    let mut seen = Vec::new();
    let mut failed = fails.into_iter();
    for r in &results {
        let ok = r["ok"] == true;
        let cors_error = if ok {
            None
        } else {
            failed.next().and_then(|f| f.1)
        };
        seen.push(Seen {
            ok,
            headers: r["headers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|h| h.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            cors_error,
        });
    }
    seen
}

/// What Chromium did with the cookies of one request: `Set-Cookie` lines it blocked (cookie
/// name → DevTools' reasons) and the cookies it associated with the request (name → reasons;
/// empty: sent).
#[derive(Debug, Default)]
struct CookieSeen {
    blocked: HashMap<String, Vec<String>>,
    associated: HashMap<String, Vec<String>>,
}

/// The cookie reports of the page's actual (non-preflight) requests to `api`, in order, once
/// Chromium has sent both ExtraInfo events for `expected` of them (or the deadline passed).
async fn cookie_reports(page: &Page, mark: usize, api: &str, expected: usize) -> Vec<CookieSeen> {
    let collect = |events: &[Event]| reports(events, |u| u.starts_with(api));
    let deadline = Instant::now() + PAGE_DEADLINE;
    page.wait_until(mark, deadline, |evs| {
        let all = collect(evs);
        all.len() >= expected && all.iter().all(Option::is_some)
    })
    .await;
    collect(&page.events_since(mark))
        .into_iter()
        .map(|r| {
            let r = r.unwrap_or_default();
            CookieSeen {
                blocked: r.blocked_by_name(),
                associated: r.associated,
            }
        })
        .collect()
}

/// What is wrong with what Chromium did with one request's cookies, against its
/// `cookies` expectations: as written under the bug; stored or sent under the fix.
fn cookie_problems(
    name: &str,
    run: &str,
    r: &Value,
    seen: &CookieSeen,
    fixed: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for c in r
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let cookie = c["name"].as_str().unwrap_or("");
        let expect = c["expect"].as_str().unwrap_or("");
        let want_reasons = c.get("blocked_reasons").map(reasons);
        let sending = matches!(expect, "sent" | "not_sent");
        let got = if sending {
            seen.associated.get(cookie)
        } else {
            seen.blocked.get(cookie)
        };
        let ok = match (fixed, expect) {
            (true, "deleted") | (_, "stored" | "stored_partitioned" | "deleted") => got.is_none(),
            (true, _) if sending => got.is_some_and(Vec::is_empty),
            (true, _) => got.is_none(),
            (false, "sent") => got.is_some_and(Vec::is_empty),
            (false, "not_sent") => {
                got.is_none_or(|g| !g.is_empty() && want_reasons.as_ref().is_none_or(|w| w == g))
            }
            (false, _) => got.is_some_and(|g| want_reasons.as_ref().is_none_or(|w| w == g)),
        };
        if !ok {
            out.push(format!(
                "{name} {run} {}: cookie `{cookie}` expected {}{}, Chromium {} {got:?}",
                r["name"],
                if fixed { "through" } else { expect },
                want_reasons.map(|w| format!(" {w:?}")).unwrap_or_default(),
                if sending { "associated" } else { "blocked" },
            ));
        }
    }
    out
}

/// The page's failed requests to the API (preflights excluded), in order, with their
/// `corsErrorStatus.corsError`.
fn failures(events: &[Event], api: &str) -> Vec<(String, Option<String>)> {
    let mut info: Vec<(String, String, String)> = Vec::new(); // (id, url, type)
    let mut out = Vec::new();
    for e in events {
        let id = e.params["requestId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match e.method.as_str() {
            // A redirect keeps the request's id: the failure belongs to the URL the page
            // asked for, not to the hop (another origin) where it happened.
            "Network.requestWillBeSent" if e.params.get("redirectResponse").is_some() => {}
            "Network.requestWillBeSent" => {
                let kind = if e.params["initiator"]["type"] == "preflight" {
                    "Preflight"
                } else {
                    e.params["type"].as_str().unwrap_or_default()
                };
                info.push((
                    id,
                    e.params["request"]["url"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    kind.to_string(),
                ));
            }
            "Network.loadingFailed" => {
                let Some((_, url, kind)) = info.iter().rev().find(|i| i.0 == id) else {
                    continue;
                };
                // A preflight's own failure is reported again on the request it was for; a
                // cancelled load is the previous document's, aborted by the navigation.
                let preflight = kind == "Preflight" || e.params["type"] == "Preflight";
                if !url.starts_with(api) || preflight || e.params["canceled"] == true {
                    continue;
                }
                // A request blocked before CORS (mixed content) has a blockedReason instead.
                let error = e.params["corsErrorStatus"]["corsError"]
                    .as_str()
                    .or_else(|| e.params["blockedReason"].as_str())
                    .map(str::to_string);
                out.push((url.clone(), error));
            }
            _ => {}
        }
    }
    out
}

/// Whether a fixture is about a browser that allows third-party cookies.
pub(crate) fn allows_third_party_cookies(dir: &Path) -> bool {
    let text = std::fs::read_to_string(dir.join("fixture.toml")).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    table
        .get("third_party_cookies")
        .and_then(toml::Value::as_str)
        == Some("allowed")
}

/// The `[[request]]`s of the fixture in `dir`, as JSON.
pub(crate) fn fixture_requests(dir: &Path) -> Vec<Value> {
    let fixture: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("fixture.toml")).unwrap()).unwrap();
    let fixture = serde_json::to_value(fixture).unwrap();
    fixture["request"].as_array().unwrap().clone()
}

/// A fixture copied to a temp folder, with its requests and both policies read.
pub(crate) struct FixtureCopy {
    pub(crate) tmp: tempfile::TempDir,
    /// The copy (`tmp/NAME`).
    pub(crate) dir: std::path::PathBuf,
    /// `fixture.toml`'s `[[request]]`s, as JSON.
    pub(crate) requests: Vec<Value>,
    /// The copy's `cors.toml`, which the runs save each policy over.
    pub(crate) cors: std::path::PathBuf,
    pub(crate) buggy: String,
    pub(crate) fixed: String,
}

impl FixtureCopy {
    pub(crate) fn of(src: &Path, name: &str) -> FixtureCopy {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(name);
        copy_dir(src, &dir);
        let requests = fixture_requests(&dir);
        let cors = dir.join("cors.toml");
        let buggy = std::fs::read_to_string(&cors).unwrap();
        let fixed = std::fs::read_to_string(dir.join("cors.fixed.toml")).unwrap();
        FixtureCopy {
            tmp,
            dir,
            requests,
            cors,
            buggy,
            fixed,
        }
    }
}

/// The fixture in `src` (copied first) in Chromium: each request fails as fixture.toml says
/// under cors.toml and passes under cors.fixed.toml; the problems found.
pub(crate) fn check_fixture_dir(
    rt: &tokio::runtime::Runtime,
    browser: &Browser,
    src: &Path,
    name: &str,
) -> Vec<String> {
    check_fixture_dir_on(rt, browser, None, src, name)
}

/// [`check_fixture_dir`] in a browser on `clock`, which a timed fixture needs.
pub(crate) fn check_fixture_dir_on(
    rt: &tokio::runtime::Runtime,
    browser: &Browser,
    clock: Option<&Clock>,
    src: &Path,
    name: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let FixtureCopy {
        tmp,
        dir,
        requests,
        cors,
        buggy: buggy_text,
        fixed: fixed_text,
    } = FixtureCopy::of(src, name);
    let mut run = FixtureRun::start(tmp.path(), &dir);
    install_policy(&run.sb, &cors, &with_real_ports(&buggy_text, &run.map));
    let fixed_routes = dir.join("api.fixed.toml");
    let fixed_config = dir.join("sandbox.fixed.toml");
    let timeline = match (is_timed(&requests), clock) {
        (false, _) => None,
        (true, Some(clock)) => Some((dir.as_path(), clock)),
        (true, None) => panic!("{name}: a timed fixture needs a browser on a movable clock"),
    };

    rt.block_on(async {
        let page = browser.new_isolated_page().await.expect("page");
        let seen =
            run_with_cookies(&page, &run, &requests, timeline, name, false, &mut problems).await;
        for (r, s) in requests.iter().zip(&seen) {
            let want_error = r
                .get("cors_error")
                .or_else(|| r.get("blocked_reason"))
                .and_then(Value::as_str);
            let want_ok = r["expect"].as_str() == Some("allowed");
            if s.ok != want_ok || s.cors_error.as_deref() != want_error {
                problems.push(format!(
                    "{name} buggy {}: expected {}, Chromium: {}",
                    r["name"],
                    want_error.unwrap_or("allowed"),
                    if s.ok {
                        "allowed".to_string()
                    } else {
                        format!("blocked ({:?})", s.cors_error)
                    }
                ));
            }
            for h in r
                .get("unreadable")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let h = h.as_str().unwrap().to_ascii_lowercase();
                if s.headers.contains(&h) {
                    problems.push(format!("{name} buggy: script could read {h}"));
                }
            }
        }
        // The fix, saved over the buggy policy (and routes) while the sandbox runs, in a jar
        // emptied of what the bug left.
        // Off the fixture page first: it runs its requests again on every reload, and those
        // would mix with the fixed run's.
        page.navigate("about:blank").await.expect("leave the page");
        tokio::task::block_in_place(|| {
            if fixed_config.is_file() {
                // A fix in the layout itself (hosts, TLS) needs a restart, as in real life.
                std::fs::copy(&fixed_config, dir.join("sandbox.toml")).unwrap();
                run = FixtureRun::start(tmp.path(), &dir);
            }
            install_policy(&run.sb, &cors, &with_real_ports(&fixed_text, &run.map));
            if fixed_routes.is_file() {
                install_routes(&run.sb, &dir.join("api.toml"), &fixed_routes);
            }
        });
        page.call("Network.clearBrowserCookies", serde_json::json!({}))
            .await
            .expect("clear cookies");
        let seen =
            run_with_cookies(&page, &run, &requests, timeline, name, true, &mut problems).await;
        for (r, s) in requests.iter().zip(&seen) {
            if !s.ok {
                problems.push(format!(
                    "{name} fixed {}: still blocked ({:?})",
                    r["name"], s.cors_error
                ));
            }
            for h in r
                .get("unreadable")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let h = h.as_str().unwrap().to_ascii_lowercase();
                if !s.headers.contains(&h) {
                    problems.push(format!("{name} fixed: script still cannot read {h}"));
                }
            }
        }
        let _ = page.close().await;
    });
    problems
}

#[test]
fn every_fixture_behaves_in_chromium_as_its_fixture_says() {
    if !chromium::require_chromium("fixtures_browser") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    // Chromium puts sandboxed iframes in a process of their own, whose network events reach
    // the DevTools client through a child session that may attach after the iframe's fetch
    // already went out; kept in the page's process, the iframe's requests are reported on
    // the page's own session. The origin stays opaque (`null`) either way.
    // The fixtures about real host names (mixed content, Secure over http) name
    // `*.example.test` and `*.example.com`, mapped here to this machine; HTTPS origins use the sandbox's local CA,
    // which this throwaway profile does not trust.
    let flags = [
        "--disable-features=IsolateSandboxedIframes",
        "--host-resolver-rules=MAP *.example.test 127.0.0.1, MAP *.example.com 127.0.0.1",
        "--ignore-certificate-errors",
    ];
    let browser = rt
        .block_on(Browser::launch_with_args(&flags))
        .expect("launch chromium");
    // Chrome's default outside Incognito, for the fixtures about it.
    let allowing = rt
        .block_on(Browser::launch_with_prefs(
            &flags,
            &serde_json::json!({"profile": {"cookie_controls_mode": 0}}),
        ))
        .expect("launch chromium allowing third-party cookies");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(repo.join("fixtures"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("fixture.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if let Ok(only) = std::env::var("SANDBOX_FIXTURES_ONLY") {
        names.retain(|n| only.split(',').any(|o| o.trim() == n));
    }
    assert!(!names.is_empty(), "no fixtures found");
    // The fixtures about time run in a browser whose clock the test moves.
    let clock = Clock::new();
    let mut clocked: Option<Browser> = None;
    let mut problems = Vec::new();
    for name in &names {
        let dir = repo.join("fixtures").join(name);
        if is_timed(&fixture_requests(&dir)) {
            let b = clocked.get_or_insert_with(|| {
                rt.block_on(Browser::launch_on_clock(&flags, &clock))
                    .expect("launch chromium on a movable clock")
            });
            problems.extend(check_fixture_dir_on(&rt, b, Some(&clock), &dir, name));
            continue;
        }
        let b = if allows_third_party_cookies(&dir) {
            &allowing
        } else {
            &browser
        };
        problems.extend(check_fixture_dir(&rt, b, &dir, name));
    }
    rt.block_on(browser.close());
    rt.block_on(allowing.close());
    if let Some(b) = clocked {
        rt.block_on(b.close());
    }
    assert!(
        problems.is_empty(),
        "{} of {} fixtures disagree with Chromium:\n{}",
        problems.len(),
        names.len(),
        problems.join("\n")
    );
    eprintln!(
        "fixtures_browser: {} fixtures agree with Chromium",
        names.len()
    );
}
