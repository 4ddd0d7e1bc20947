//! HAR files made from real traffic: shipped fixtures are loaded in headless Chromium, the
//! DevTools protocol's `Network.*` events (ExtraInfo included) are converted into the HAR
//! shapes real tools write, and each HAR goes through `explain` and `fixtures new
//! --from-har`. The new fixture must verify, fail in Chromium with the shipped fixture's
//! `corsError`, and pass with its fixed policy. The same for traffic of real servers (Express
//! with `cors`, nginx): seven shapes (Chrome, DevTools's failed-as-0, Firefox, Safari, Charles,
//! Insomnia, BOM-prefixed Fiddler), every one judged blocked.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::fixtures_browser::{
    check_fixture_dir, configured_ports, install_policy, run_page, with_real_ports,
};
use crate::fixtures_verify::copy_dir;
use crate::from_probe::{live_servers, SECRET};
use crate::util::chromium::{self, Browser, Event};
use crate::util::fetch_oracle::{self, runner_page};
use crate::util::raw_server::{RawRequest, RawResponse, RawServer};
use crate::util::sandbox::{files_under, run_cli, write, TestSandbox};

/// How a tool writes what the browser saw.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// Chrome DevTools / chrome-har: `_initiator`, `_resourceType`, `_error`; the request's
    /// provisional and ExtraInfo header copies both kept (duplicated lines); a failed load
    /// keeps the raw response ExtraInfo saw.
    Chrome,
    /// DevTools' own export of a failed load: status 0, no response.
    ChromeFailedAsZero,
    /// Firefox: no Chrome extensions, every header once, `cookies` arrays.
    Firefox,
    /// Safari's Web Inspector: every header once, `_fetchType`/`_priority`, a blocked load
    /// as status 0 with no response.
    Safari,
    /// Charles (a proxy): the wire as it passed, every answer whole even when the browser
    /// then blocked it; no browser fields.
    Charles,
    /// Insomnia's export: the same plain shape, its own creator.
    Insomnia,
    /// Fiddler: a UTF-8 byte-order mark before the JSON, proxy-shaped entries.
    Fiddler,
}

impl Shape {
    const ALL: [(Shape, &'static str); 7] = [
        (Shape::Chrome, "chrome"),
        (Shape::ChromeFailedAsZero, "devtools"),
        (Shape::Firefox, "firefox"),
        (Shape::Safari, "safari"),
        (Shape::Charles, "charles"),
        (Shape::Insomnia, "insomnia"),
        (Shape::Fiddler, "fiddler"),
    ];

    /// Whether the tool keeps each header once (the browser's own exports other than
    /// Chrome's, and every proxy).
    fn headers_once(self) -> bool {
        !matches!(self, Shape::Chrome | Shape::ChromeFailedAsZero)
    }

    /// The file's text: Fiddler puts a byte-order mark first.
    fn text(self, har: &Value) -> String {
        match self {
            Shape::Fiddler => format!("\u{feff}{har}"),
            _ => har.to_string(),
        }
    }
}

#[derive(Default)]
struct Req {
    started: f64,
    method: String,
    url: String,
    kind: String,
    initiator: Value,
    provisional: Vec<(String, String)>,
    extra: Vec<(String, String)>,
    status: u16,
    response: Vec<(String, String)>,
    error: Option<String>,
    post: Option<String>,
}

fn lines_of(headers: &Value) -> Vec<(String, String)> {
    let mut out = vec![];
    for (n, v) in headers.as_object().into_iter().flatten() {
        // CDP joins repeated lines with "\n".
        for one in v.as_str().unwrap_or_default().split('\n') {
            out.push((n.clone(), one.to_owned()));
        }
    }
    out
}

fn collect(events: &[Event], api: &str) -> Vec<Req> {
    let mut reqs: BTreeMap<String, Req> = BTreeMap::new();
    for e in events {
        let p = &e.params;
        let id = p["requestId"].as_str().unwrap_or_default().to_owned();
        let r = reqs.entry(id).or_default();
        match e.method.as_str() {
            "Network.requestWillBeSent" => {
                r.started = p["wallTime"].as_f64().unwrap_or_default();
                r.method = p["request"]["method"].as_str().unwrap_or_default().into();
                r.url = p["request"]["url"].as_str().unwrap_or_default().into();
                r.kind = if p["initiator"]["type"] == "preflight" {
                    "preflight".into()
                } else {
                    p["type"].as_str().unwrap_or("other").to_ascii_lowercase()
                };
                r.initiator = p["initiator"].clone();
                r.provisional = lines_of(&p["request"]["headers"]);
                r.post = p["request"]["postData"].as_str().map(str::to_owned);
            }
            "Network.requestWillBeSentExtraInfo" => r.extra = lines_of(&p["headers"]),
            "Network.responseReceivedExtraInfo" => {
                r.status = p["statusCode"].as_u64().unwrap_or_default() as u16;
                r.response = lines_of(&p["headers"]);
            }
            "Network.responseReceived" if r.response.is_empty() => {
                r.status = p["response"]["status"].as_u64().unwrap_or_default() as u16;
                r.response = lines_of(&p["response"]["headers"]);
            }
            "Network.loadingFailed" if p["canceled"] != true => {
                r.error = p["errorText"].as_str().map(str::to_owned)
            }
            _ => {}
        }
    }
    reqs.into_values()
        .filter(|r| r.url.starts_with(api))
        .collect()
}

fn iso(wall: f64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos((wall * 1e9) as i128).unwrap();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn har(reqs: &[Req], shape: Shape) -> Value {
    let h = |l: &[(String, String)]| {
        l.iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect::<Vec<_>>()
    };
    let mut entries: Vec<Value> = reqs
        .iter()
        .map(|r| {
            let request_headers = match shape {
                s if s.headers_once() && !r.extra.is_empty() => h(&r.extra),
                s if s.headers_once() => h(&r.provisional),
                _ => h(&[r.provisional.clone(), r.extra.clone()].concat()),
            };
            let zero = matches!(shape, Shape::ChromeFailedAsZero | Shape::Safari) && r.error.is_some();
            let mut e = json!({
                "startedDateTime": iso(r.started), "time": 1,
                "request": {"method": r.method, "url": r.url, "httpVersion": "HTTP/1.1", "headers": request_headers,
                            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
                "response": {"status": if zero { 0 } else { r.status }, "statusText": "", "httpVersion": "HTTP/1.1",
                             "headers": if zero { vec![] } else { h(&r.response) }, "cookies": [],
                             "content": {"size": 0, "mimeType": "application/json"}, "redirectURL": "", "headersSize": -1, "bodySize": -1},
                "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}});
            if let Some(b) = &r.post {
                e["request"]["postData"] = json!({"mimeType": "text/plain", "text": b});
            }
            match shape {
                Shape::Chrome | Shape::ChromeFailedAsZero => {
                    e["_initiator"] = r.initiator.clone();
                    e["_resourceType"] = json!(r.kind);
                    if let Some(err) = &r.error {
                        e["_error"] = json!(err);
                    }
                }
                Shape::Safari => {
                    e["_fetchType"] = json!("Network Load");
                    e["_priority"] = json!("medium");
                }
                Shape::Charles | Shape::Fiddler | Shape::Insomnia => {
                    e["serverIPAddress"] = json!("127.0.0.1");
                    e["connection"] = json!("1");
                }
                Shape::Firefox => {}
            }
            e
        })
        .collect();
    // The format promises no order: write the entries newest first.
    entries.reverse();
    let (creator, browser) = match shape {
        Shape::Firefox => (
            json!({"name": "Firefox", "version": "140.0"}),
            json!({"name": "Firefox", "version": "140.0"}),
        ),
        Shape::Safari => (
            json!({"name": "WebKit Web Inspector", "version": "1.0"}),
            json!(null),
        ),
        Shape::Charles => (
            json!({"name": "Charles Proxy", "version": "4.6.6"}),
            json!(null),
        ),
        Shape::Insomnia => (
            json!({"name": "Insomnia REST Client", "version": "insomnia.desktop.app:v2023.5.8"}),
            json!(null),
        ),
        Shape::Fiddler => (
            json!({"name": "Fiddler", "version": "5.0.20204.45441", "comment": "http://www.telerik.com/fiddler"}),
            json!(null),
        ),
        _ => (
            json!({"name": "WebInspector", "version": "537.36"}),
            json!(null),
        ),
    };
    let mut log = json!({"version": "1.2", "creator": creator, "pages": [], "entries": entries});
    if !browser.is_null() {
        log["browser"] = browser;
    }
    json!({ "log": log })
}

/// Writes `reqs` as a HAR in every tool's shape (`NAME.SHAPE.har` in `dir`) and runs
/// `explain --json` on each: the file names with their verdicts.
fn explain_every_shape(dir: &Path, name: &str, reqs: &[Req]) -> Vec<(String, Value)> {
    Shape::ALL
        .iter()
        .map(|(shape, label)| {
            let file = format!("{name}.{label}.har");
            write(dir, &file, &shape.text(&har(reqs, *shape)));
            let (code, out, err) = run_cli(dir, &["explain", &file, "--json"]);
            assert_eq!(code, 0, "{file}: {err}");
            (file, serde_json::from_str(&out).unwrap())
        })
        .collect()
}

/// Loads the shipped fixture `name` (buggy policy) in Chromium and returns what the network
/// did with the API's requests.
fn record(rt: &tokio::runtime::Runtime, browser: &Browser, name: &str) -> Vec<Req> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    copy_dir(&repo.join("fixtures").join(name), &dir);
    let configured = configured_ports(&dir);
    let mut args = vec!["--fixture".to_string(), dir.display().to_string()];
    for (origin, _) in &configured {
        args.push("--port".into());
        args.push(format!("{origin}=0"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let sb = TestSandbox::start(tmp.path(), &args);
    let port = |o: &str| {
        sb.public_urls[o]
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap()
    };
    let map: Vec<(u16, u16)> = configured.iter().map(|(o, p)| (*p, port(o))).collect();
    let cors = dir.join("cors.toml");
    install_policy(
        &sb,
        &cors,
        &with_real_ports(&std::fs::read_to_string(&cors).unwrap(), &map),
    );
    let fixture: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("fixture.toml")).unwrap()).unwrap();
    let count = fixture["request"].as_array().unwrap().len();
    let api = sb.public_urls["api"].clone();
    rt.block_on(async {
        let page = browser.new_isolated_page().await.expect("page");
        let mark = page.cdp.mark();
        run_page(
            &page,
            &format!("{}/", sb.public_urls["frontend"]),
            &api,
            count,
        )
        .await;
        let events = page.events_since(mark);
        let _ = page.close().await;
        collect(&events, &api)
    })
}

/// The fixtures recorded: each reproduces its first request's error from a HAR.
fn recorded() -> Vec<String> {
    let all = [
        "tutorial-wildcard-with-credentials",
        "tutorial-custom-header-not-allowed",
        "tutorial-missing-allow-origin",
        "allow-origin-trailing-slash",
        "auth-middleware-401-preflight",
        "credentials-without-allow-credentials",
        "duplicate-allow-origin",
        "error-500-without-cors",
        "expose-headers-missing",
        "localhost-vs-127",
        "long-max-age-masks-fix",
        "null-origin-sandboxed-iframe",
        "redirected-preflight",
        "reflect-any-origin-with-credentials",
        "tutorial-put-preflight-unhandled",
        "wildcard-allow-headers-with-credentials",
        "wrong-port",
    ];
    match std::env::var("SANDBOX_HAR_ONLY") {
        Ok(only) => only.split(',').map(|s| s.trim().to_owned()).collect(),
        Err(_) => all.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn shipped_fixtures_come_back_from_their_har_in_chromium() {
    if !chromium::require_chromium("har_chromium") {
        return;
    }
    let rt = crate::lab_browser::runtime();
    // As in fixtures_browser: a sandboxed iframe's requests stay on the page's own session.
    let browser = rt
        .block_on(Browser::launch_with_args(&[
            "--disable-features=IsolateSandboxedIframes",
        ]))
        .expect("launch chromium");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let mut problems = vec![];
    let (mut hars, mut made, mut reproduced) = (0, 0, 0);
    for name in &recorded() {
        let name = name.as_str();
        let shipped: toml::Table = toml::from_str(
            &std::fs::read_to_string(repo.join("fixtures").join(name).join("fixture.toml"))
                .unwrap(),
        )
        .unwrap();
        let first = &shipped["request"].as_array().unwrap()[0];
        let path = first["path"].as_str().unwrap();
        let want = first
            .get("cors_error")
            .and_then(|e| e.as_str())
            .map(str::to_owned);
        let reqs = record(&rt, &browser, name);
        assert!(!reqs.is_empty(), "{name}: Chromium sent nothing to the API");
        for (file, verdicts) in explain_every_shape(work.path(), name, &reqs) {
            hars += 1;
            let ours: Vec<&Value> = verdicts
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["id"].as_str().unwrap().contains(path))
                .collect();
            // A blocked request is never judged only ALLOWED; an allowed one is allowed in some verdict.
            let blocked = first["expect"].as_str() == Some("blocked");
            let wrong = if blocked {
                ours.iter().all(|v| v["outcome"] == "allowed")
            } else {
                ours.iter().all(|v| v["outcome"] != "allowed")
            };
            if ours.is_empty() || wrong {
                problems.push(format!(
                    "{file}: {path} (expected {}) misjudged: {verdicts:#}",
                    if blocked { "blocked" } else { "allowed" }
                ));
            }
        }
        let fixture = format!("{name}-har");
        let mut args = vec![
            "fixtures",
            "--dir",
            "lib",
            "new",
            &fixture,
            "--from-har",
            "",
            "--url",
            path,
        ];
        let file = format!("{name}.chrome.har");
        args[6] = &file;
        if first.get("credentials").and_then(|c| c.as_str()) == Some("include") {
            args.extend(["--credentials", "include"]);
        }
        let (code, out, err) = run_cli(work.path(), &args);
        if code != 0 {
            problems.push(format!(
                "{name}: fixtures new --from-har failed: {out}{err}"
            ));
            continue;
        }
        made += 1;
        let (code, out, _) = run_cli(
            work.path(),
            &["fixtures", "--dir", "lib", "verify", &fixture],
        );
        if code != 0 {
            problems.push(format!("{name}: the new fixture does not verify: {out}"));
        }
        let new: toml::Table = toml::from_str(
            &std::fs::read_to_string(work.path().join("lib").join(&fixture).join("fixture.toml"))
                .unwrap(),
        )
        .unwrap();
        let got = new["request"][0]
            .get("cors_error")
            .and_then(|e| e.as_str())
            .map(str::to_owned);
        if got != want {
            problems.push(format!(
                "{name}: the shipped fixture gives {want:?}, the one from its HAR {got:?}"
            ));
        }
        let found = check_fixture_dir(
            &rt,
            &browser,
            &work.path().join("lib").join(&fixture),
            &fixture,
        );
        if found.is_empty() && got == want {
            reproduced += 1;
        }
        problems.extend(found);
    }
    rt.block_on(browser.close());
    eprintln!("har_chromium: {hars} HAR files (chrome, devtools, firefox, safari, charles, insomnia, fiddler shapes), {made} fixtures made, {reproduced} reproduced the shipped error in Chromium and passed fixed");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// HARs of real servers' traffic (Express with `cors`, nginx), recorded from real Chromium
/// and written in every tool's shape: each is judged blocked, and each Chrome-shaped one
/// becomes a fixture that fails in Chromium with the error the live server gave.
#[test]
fn hars_of_real_servers_become_fixtures_that_fail_as_the_servers_did() {
    if !chromium::require_chromium("har_live") {
        return;
    }
    let rt = crate::lab_browser::runtime();
    let work = tempfile::tempdir().unwrap();
    let page_server = rt
        .block_on(RawServer::start(std::sync::Arc::new(|_: &RawRequest| {
            RawResponse::new(200)
                .header("Content-Type", "text/html")
                .body(runner_page())
        })))
        .unwrap();
    let origin = format!("http://karachi-dev.localhost:{}", page_server.port());
    let live = live_servers(work.path(), &origin);
    let browser = rt.block_on(Browser::launch()).expect("launch chromium");
    let page = rt.block_on(browser.new_isolated_page()).expect("page");
    rt.block_on(page.navigate(&format!("{origin}/page")))
        .expect("load the runner page");
    let mut problems = vec![];
    let (mut hars, mut reproduced) = (0, 0);
    for case in &live.cases {
        let u = url::Url::parse(&case.url).unwrap();
        let prefix = format!("http://127.0.0.1:{}", u.port().unwrap());
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mark = page.cdp.mark();
        let saw = rt.block_on(fetch_oracle::fetch(
            &page,
            &case.url,
            case.method,
            &headers,
            case.credentials,
            None,
        ));
        assert!(!saw.allowed, "{}: Chromium allowed it", case.name);
        let reqs = collect(&page.events_since(mark), &prefix);
        assert!(!reqs.is_empty(), "{}: nothing recorded", case.name);
        for (file, verdicts) in explain_every_shape(work.path(), case.name, &reqs) {
            hars += 1;
            let all = verdicts.as_array().unwrap();
            if all.is_empty() || all.iter().all(|v| v["outcome"] == "allowed") {
                problems.push(format!("{file}: judged allowed: {verdicts:#}"));
            }
        }
        let fixture = format!("{}-har", case.name);
        let file = format!("{}.chrome.har", case.name);
        let mut args = vec![
            "fixtures",
            "--dir",
            "lib",
            "new",
            &fixture,
            "--from-har",
            &file,
        ];
        if case.credentials == "include" {
            args.extend(["--credentials", "include"]);
        }
        let (code, out, err) = run_cli(work.path(), &args);
        if code != 0 {
            problems.push(format!("{}: --from-har failed: {out}{err}", case.name));
            continue;
        }
        let dir = work.path().join("lib").join(&fixture);
        let written: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.join("fixture.toml")).unwrap()).unwrap();
        let got = written["request"][0]
            .get("cors_error")
            .and_then(|e| e.as_str())
            .map(str::to_owned);
        if got != saw.cors_error {
            problems.push(format!(
                "{}: live Chromium said {:?}, the fixture from its HAR {got:?}",
                case.name, saw.cors_error
            ));
        }
        let found = check_fixture_dir(&rt, &browser, &dir, &fixture);
        for f in files_under(&dir) {
            if std::fs::read_to_string(&f)
                .unwrap_or_default()
                .contains(SECRET)
            {
                problems.push(format!("{} holds the secret", f.display()));
            }
        }
        if found.is_empty() && got == saw.cors_error {
            reproduced += 1;
        }
        problems.extend(found);
    }
    let cases = live.cases.len();
    let _ = rt.block_on(page.close());
    rt.block_on(browser.close());
    drop(live);
    eprintln!(
        "har_live: {hars} HAR files of real servers ({cases} cases × {} shapes), {reproduced} fixtures reproduced the live error in Chromium and passed fixed",
        Shape::ALL.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A page's HAR holds every load, and most cross-origin ones are not CORS requests: a plain
/// `<img>`, a classic `<script>`, a stylesheet. Chromium loads them all from a server that
/// sends no CORS header at all; in every tool's shape `explain` judges only the CORS
/// requests (a `crossorigin` image and a `fetch()`, blocked as Chromium blocked them, and a
/// no-cors fetch, allowed) and says what it left out.
#[test]
fn a_pages_plain_element_loads_are_not_judged_as_cors_requests() {
    if !chromium::require_chromium("har_element_loads") {
        return;
    }
    let rt = crate::lab_browser::runtime();
    let work = tempfile::tempdir().unwrap();
    let assets = rt
        .block_on(RawServer::start(std::sync::Arc::new(|r: &RawRequest| {
            let kind = match r.path_only().rsplit('.').next() {
                Some("css") => "text/css",
                Some("js") => "text/javascript",
                Some("png") => "image/png",
                _ => "text/plain",
            };
            RawResponse::new(200).header("Content-Type", kind).body("")
        })))
        .unwrap();
    let cdn = format!("http://127.0.0.1:{}", assets.port());
    let html = format!(
        r#"<!doctype html><link rel="stylesheet" href="{cdn}/a.css"><img src="{cdn}/a.png">
<script src="{cdn}/a.js"></script><img crossorigin src="{cdn}/b.png">
<script>fetch("{cdn}/data").catch(() => {{}}); fetch("{cdn}/opaque", {{mode: "no-cors"}}).catch(() => {{}});</script>"#
    );
    let page_server = rt
        .block_on(RawServer::start(std::sync::Arc::new(
            move |_: &RawRequest| {
                RawResponse::new(200)
                    .header("Content-Type", "text/html")
                    .body(html.clone())
            },
        )))
        .unwrap();
    let origin = format!("http://localhost:{}", page_server.port());
    let browser = rt.block_on(Browser::launch()).expect("launch chromium");
    let page = rt.block_on(browser.new_isolated_page()).expect("page");
    let mark = page.cdp.mark();
    rt.block_on(page.navigate(&format!("{origin}/page")))
        .expect("load the page");
    // Done when every load of the asset server has finished or failed.
    let settled = |events: &[Event]| {
        let mut open: BTreeMap<String, bool> = BTreeMap::new();
        for e in events {
            let id = e.params["requestId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            match e.method.as_str() {
                "Network.requestWillBeSent"
                    if e.params["request"]["url"]
                        .as_str()
                        .is_some_and(|u| u.starts_with(&cdn)) =>
                {
                    open.insert(id, true);
                }
                "Network.loadingFinished" | "Network.loadingFailed" => {
                    if let Some(o) = open.get_mut(&id) {
                        *o = false;
                    }
                }
                _ => {}
            }
        }
        open.len() == 6 && open.values().all(|o| !o)
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let done = rt.block_on(page.cdp.wait_until(mark, deadline, settled));
    let reqs = collect(&page.events_since(mark), &cdn);
    let _ = rt.block_on(page.close());
    rt.block_on(browser.close());
    assert!(
        done,
        "the page's six loads did not all settle: {} seen",
        reqs.len()
    );
    let mut problems = vec![];
    for (shape, label) in Shape::ALL {
        let file = format!("loads.{label}.har");
        write(work.path(), &file, &shape.text(&har(&reqs, shape)));
        let (code, out, err) = run_cli(work.path(), &["explain", &file, "--json"]);
        assert_eq!(code, 0, "{file}: {err}");
        let verdicts: Value = serde_json::from_str(&out).unwrap();
        let mut judged: Vec<(String, String)> = verdicts
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let id = v["id"].as_str().unwrap_or_default();
                let path = id.rsplit('/').next().unwrap_or_default().to_owned();
                (path, v["outcome"].as_str().unwrap_or_default().to_owned())
            })
            .collect();
        judged.sort();
        judged.dedup();
        let want = [
            ("b.png", "blocked"),
            ("data", "blocked"),
            ("opaque", "allowed"),
        ]
        .map(|(p, o)| (p.to_owned(), o.to_owned()));
        if judged != want {
            problems.push(format!("{file}: judged {judged:?}, want {want:?}"));
        }
        let left_out =
            "left out 3 cross-origin loads that CORS does not check (1 image, 1 script, 1 stylesheet)";
        if !err.contains(left_out) {
            problems.push(format!("{file}: stderr lacks {left_out:?}: {err}"));
        }
    }
    eprintln!(
        "har_element_loads: {} loads recorded, {} HAR shapes judged",
        reqs.len(),
        Shape::ALL.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
