//! The lab page, the request inspector and the reload overlay in real headless Chromium.
//!
//! The lab sends its requests with `fetch` from the frontend origin, so these tests see what a
//! developer sees: Chromium really sends (or refuses) the preflight, the API journals what
//! arrived, and the page shows the verdict the API's model computed. Screenshots are kept under
//! `target/test-artifacts/` (not committed) for a human to look at.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::chromium::{self, Browser, Page};
use crate::util::sandbox::{client, project, save, SaveStyle, TestSandbox};

/// How long the page may take to show something; generous for shared CI machines.
const PAGE_DEADLINE_MS: u64 = 15_000;

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

pub(crate) async fn screenshot(page: &Page, name: &str) {
    let png = page.screenshot_png().await.expect("screenshot");
    let path = artifacts().join(name);
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

pub(crate) async fn viewport(page: &Page, width: u32, height: u32) {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
    )
    .await
    .expect("set viewport");
}

/// Polls `expr` inside the page (every 25 ms, bounded by [`PAGE_DEADLINE_MS`]) until it is
/// truthy, and returns its value. On timeout, fails with `what` and the page's visible text.
pub(crate) async fn wait_for(page: &Page, expr: &str, what: &str) -> Value {
    let script = format!(
        "new Promise((resolve) => {{
           const t0 = Date.now();
           (function check() {{
             let v = null;
             try {{ v = ({expr}); }} catch (e) {{ v = null; }}
             if (v) resolve(v);
             else if (Date.now() - t0 > {PAGE_DEADLINE_MS}) resolve(null);
             else setTimeout(check, 25);
           }})();
         }})"
    );
    // A page that navigates (a click on a link, a live reload) ends an evaluation running in
    // the old document; it is asked again in the new one, within the same deadline.
    let deadline = Instant::now() + Duration::from_millis(PAGE_DEADLINE_MS);
    let v = loop {
        match page.evaluate(&script).await {
            Ok(v) => break v,
            Err(e) if Instant::now() < deadline && e.to_string().contains("navigated") => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => panic!("evaluate: {e:?}"),
        }
    };
    if v.is_null() || v == Value::Bool(false) {
        let text = page
            .evaluate("document.body ? document.body.innerText : ''")
            .await
            .unwrap_or_default();
        panic!("timed out waiting for {what}; the page shows:\n{text}");
    }
    v
}

pub(crate) async fn text_of(page: &Page, selector: &str) -> String {
    let expr = format!(
        "(document.querySelector({}) || {{}}).innerText || ''",
        serde_json::to_string(selector).unwrap()
    );
    page.evaluate(&expr)
        .await
        .expect("evaluate")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Fills the lab's form through its own controls (the "+ Add header" button makes the rows)
/// and presses "Send". `headers` replaces any rows already there.
async fn fill_and_send(
    page: &Page,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    credentials: &str,
) {
    let script = format!(
        "(() => {{
           const set = (id, v) => {{
             const e = document.getElementById(id);
             e.value = v;
             e.dispatchEvent(new Event('input', {{ bubbles: true }}));
             e.dispatchEvent(new Event('change', {{ bubbles: true }}));
           }};
           document.querySelectorAll('#header-rows .header-row .remove').forEach(b => b.click());
           set('method', {method});
           set('path', {path});
           for (const [n, v] of {headers}) {{
             document.getElementById('add-header').click();
             const rows = document.querySelectorAll('#header-rows .header-row');
             const row = rows[rows.length - 1];
             const name = row.querySelector('.h-name'), value = row.querySelector('.h-value');
             name.value = n; name.dispatchEvent(new Event('input', {{ bubbles: true }}));
             value.value = v; value.dispatchEvent(new Event('input', {{ bubbles: true }}));
           }}
           set('body', {body});
           set('credentials', {credentials});
           set('mode', 'cors');
           document.getElementById('send').click();
           return true;
         }})()",
        method = json!(method),
        path = json!(path),
        headers = json!(headers
            .iter()
            .map(|(n, v)| vec![n.to_string(), v.to_string()])
            .collect::<Vec<_>>()),
        body = json!(body),
        credentials = json!(credentials),
    );
    page.evaluate(&script).await.expect("fill the form");
}

/// Waits until the lab shows a settled verdict for the request just sent.
pub(crate) async fn settled_verdict(page: &Page) -> (String, String) {
    let v = wait_for(
        page,
        "document.getElementById('results').getAttribute('aria-busy') === 'false' && \
         ['allowed', 'blocked'].includes(document.getElementById('verdict').dataset.outcome) && \
         [document.getElementById('verdict').dataset.outcome, document.getElementById('verdict').dataset.corsError]",
        "the lab's verdict",
    )
    .await;
    (
        v[0].as_str().unwrap_or_default().to_string(),
        v[1].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn lab_shows_verdicts_and_the_inspector_lists_them() {
    if !chromium::require_chromium("lab_browser") {
        return;
    }
    // Zero config: the embedded lab on the frontend origin, the default API whose embedded
    // policy allows exactly that origin (GET/POST/PUT/PATCH/DELETE, Content-Type,
    // Authorization and X-PKR-Auth, credentials).
    let dir = tempfile::tempdir().unwrap();
    let sb = TestSandbox::start(dir.path(), &["--port", "frontend=0", "--port", "api=0"]);
    runtime().block_on(lab_and_inspector(&sb));
}

async fn lab_and_inspector(sb: &TestSandbox) {
    // The public URL (http://localhost:PORT) is the origin the default policy allows.
    let frontend = sb.public_urls["frontend"].trim_end_matches('/').to_string();
    let api = sb.public_urls["api"].trim_end_matches('/').to_string();
    let browser = Browser::launch().await.expect("launch chromium");
    let page = browser.new_isolated_page().await.expect("page");
    viewport(&page, 1280, 800).await;
    // From the URL the banner prints: it carries the run's key, which the journal needs.
    page.navigate(&sb.public_keyed("frontend", "/"))
        .await
        .expect("load the lab");
    wait_for(
        &page,
        "document.body.dataset.ready === 'true'",
        "the lab to load its config",
    )
    .await;
    let api_shown = text_of(&page, "#api-origin").await;
    assert_eq!(api_shown, api, "the lab targets the default API");

    // Blocked: X-Other is not in the default policy's allowed headers, so the preflight fails
    // and the GET is never sent.
    fill_and_send(
        &page,
        "GET",
        "/api/student",
        &[("X-Other", "1")],
        "",
        "same-origin",
    )
    .await;
    let (outcome, cors_error) = settled_verdict(&page).await;
    assert_eq!(outcome, "blocked");
    assert_eq!(cors_error, "PreflightMissingAllowOriginHeader");
    let verdict = text_of(&page, "#verdict").await;
    assert!(
        verdict.contains("PreflightMissingAllowOriginHeader"),
        "{verdict}"
    );
    assert!(
        verdict.contains("has been blocked by CORS policy"),
        "the console message: {verdict}"
    );
    assert!(verdict.contains("Fix"), "a fix is shown: {verdict}");
    // All three engines, each in its own words, and this one (headless Chromium) marked.
    let engines = page
        .evaluate(
            "Array.from(document.querySelectorAll('#verdict .engine-verdict')).map(e => \
               [e.dataset.engine, e.classList.contains('here'), e.innerText])",
        )
        .await
        .unwrap();
    let engines = engines.as_array().unwrap();
    let engine = |name: &str| {
        engines
            .iter()
            .find(|e| e[0] == name)
            .unwrap_or_else(|| panic!("no {name} verdict in the lab: {engines:?}"))
    };
    assert_eq!(engines.len(), 3, "{engines:?}");
    assert_eq!(engine("chromium")[1], true, "the page runs in Chromium");
    assert_eq!(engine("firefox")[1], false, "{engines:?}");
    let firefox = engine("firefox")[2].as_str().unwrap();
    assert!(
        firefox.contains("Cross-Origin Request Blocked")
            && firefox.contains("CORSMissingAllowOrigin")
            && firefox.contains("NetworkError when attempting to fetch resource."),
        "{firefox}"
    );
    let webkit = engine("webkit")[2].as_str().unwrap();
    assert!(
        webkit.contains("due to access control checks") && webkit.contains("Load failed"),
        "{webkit}"
    );
    let saw = text_of(&page, "#page-saw").await;
    assert!(saw.contains("TypeError: Failed to fetch"), "{saw}");
    let received = text_of(&page, "#api-received").await;
    assert!(received.contains("PREFLIGHT"), "{received}");
    assert!(
        received.contains("access-control-request-headers\tx-other"),
        "the preflight as it arrived: {received}"
    );
    assert!(
        received.contains("never sent"),
        "no actual request: {received}"
    );
    assert!(
        received.contains(&format!("origin\t{frontend}")),
        "{received}"
    );
    let answered = text_of(&page, "#api-answered").await;
    assert!(
        answered.contains("400"),
        "actix-cors refuses with 400: {answered}"
    );
    screenshot(&page, "lab-blocked.png").await;

    // Allowed: a preflighted, credentialed PUT with the custom X-PKR-Auth header.
    fill_and_send(
        &page,
        "PUT",
        "/api/payment",
        &[
            ("Content-Type", "application/json"),
            ("X-PKR-Auth", "demo-token"),
        ],
        "{\"amount_pkr\":2500}",
        "include",
    )
    .await;
    let (outcome, cors_error) = settled_verdict(&page).await;
    assert_eq!((outcome.as_str(), cors_error.as_str()), ("allowed", ""));
    wait_for(
        &page,
        "document.querySelectorAll('#api-received .exchange').length === 2",
        "the preflight and the actual request",
    )
    .await;
    let saw = text_of(&page, "#page-saw").await;
    assert!(saw.contains("200"), "{saw}");
    assert!(saw.contains("paid"), "the page read the body: {saw}");
    let received = text_of(&page, "#api-received").await;
    assert!(
        received.contains("x-pkr-auth\tdemo-token"),
        "the actual request's header as it arrived: {received}"
    );
    assert!(
        received.contains("access-control-request-method\tPUT"),
        "{received}"
    );
    let answered = text_of(&page, "#api-answered").await;
    assert!(
        answered.contains(&format!("access-control-allow-origin\t{frontend}")),
        "{answered}"
    );
    assert!(
        answered.contains("access-control-allow-credentials\ttrue"),
        "{answered}"
    );
    screenshot(&page, "lab-allowed.png").await;

    // The form lives in the URL: reloading it restores the request, and the fixture command
    // carries that URL.
    let href = page
        .evaluate("location.href")
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(href.contains("method=PUT"), "{href}");
    assert!(href.contains("X-PKR-Auth"), "{href}");
    assert!(href.contains("credentials=include"), "{href}");
    page.evaluate("document.getElementById('make-fixture').click(); true")
        .await
        .unwrap();
    let command = page
        .evaluate("document.getElementById('fixture-command').value")
        .await
        .unwrap();
    // …and the policy in force, to become the fixture's buggy policy.
    let command = command.as_str().unwrap();
    let prefix = format!("sandbox fixtures new lab-request --from-lab '{href}&policy=");
    assert!(
        command.starts_with(&prefix) && command.ends_with('\''),
        "{command}"
    );
    assert!(command.contains("allowed_origins"), "{command}");
    page.navigate(&href).await.expect("reload the shared URL");
    wait_for(&page, "document.body.dataset.ready === 'true'", "the lab").await;
    let restored = page
        .evaluate(
            "[document.getElementById('method').value, document.getElementById('path').value, \
              Array.from(document.querySelectorAll('#header-rows .header-row')).map(r => \
                r.querySelector('.h-name').value + ': ' + r.querySelector('.h-value').value), \
              document.getElementById('body').value, document.getElementById('credentials').value]",
        )
        .await
        .unwrap();
    assert_eq!(
        restored,
        json!([
            "PUT",
            "/api/payment",
            ["Content-Type: application/json", "X-PKR-Auth: demo-token"],
            "{\"amount_pkr\":2500}",
            "include"
        ])
    );

    // A preset: X-Total-Count is readable because the default policy exposes it; the CORS
    // response headers themselves are listed as hidden from the script.
    page.evaluate("document.querySelector('#presets [data-preset=total-count]').click(); document.getElementById('send').click(); true")
        .await
        .unwrap();
    let (outcome, _) = settled_verdict(&page).await;
    assert_eq!(outcome, "allowed");
    let saw = text_of(&page, "#page-saw").await;
    assert!(saw.contains("x-total-count\t3"), "{saw}");
    let hidden = text_of(&page, "#hidden-headers").await;
    assert!(hidden.contains("access-control-allow-origin"), "{hidden}");
    assert!(!hidden.contains("x-total-count"), "{hidden}");

    // A narrow window: everything stacks, nothing scrolls sideways.
    viewport(&page, 400, 900).await;
    let overflow = page
        .evaluate("document.documentElement.scrollWidth - window.innerWidth")
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "horizontal overflow {overflow}"
    );
    screenshot(&page, "lab-narrow.png").await;

    // The inspector lists both exchanges, each preflight grouped with its actual request.
    viewport(&page, 1280, 800).await;
    page.navigate(&format!("{frontend}/__sandbox/"))
        .await
        .expect("load the inspector");
    let groups = wait_for(
        &page,
        "(() => { const g = Array.from(document.querySelectorAll('#requests-table tbody.group')) \
           .map(b => [b.dataset.outcome, Array.from(b.querySelectorAll('tr.entry')).map(r => r.className + ' ' + r.innerText)]); \
           return g.length >= 2 && window.__sandboxLive === true && g; })()",
        "the inspector's table",
    )
    .await;
    let groups = groups.as_array().unwrap();
    let blocked = groups
        .iter()
        .find(|g| g[0] == "blocked")
        .unwrap_or_else(|| panic!("no blocked group: {groups:?}"));
    assert_eq!(blocked[1].as_array().unwrap().len(), 1, "{blocked:?}");
    let row = blocked[1][0].as_str().unwrap();
    assert!(
        row.contains("preflight") && row.contains("OPTIONS /api/student"),
        "{row}"
    );
    assert!(row.contains("PreflightMissingAllowOriginHeader"), "{row}");
    // One badge per engine on the row, this browser's marked.
    let badges = page
        .evaluate(
            "Array.from(document.querySelectorAll('#requests-table tbody.group[data-outcome=blocked] \
               .engine-badge')).map(b => [b.dataset.engine, b.dataset.outcome, b.classList.contains('here')])",
        )
        .await
        .unwrap();
    assert_eq!(
        badges,
        json!([
            ["chromium", "blocked", true],
            ["firefox", "blocked", false],
            ["webkit", "blocked", false]
        ])
    );
    let allowed = groups
        .iter()
        .find(|g| g[0] == "allowed" && g[1].to_string().contains("PUT /api/payment"))
        .unwrap_or_else(|| panic!("no allowed PUT group: {groups:?}"));
    let rows: Vec<&str> = allowed[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "preflight + PUT grouped: {rows:?}");
    assert!(rows[0].contains("OPTIONS /api/payment"), "{rows:?}");
    assert!(rows[1].contains("PUT /api/payment"), "{rows:?}");

    // Its detail pane shows the raw headers, the verdict and the fix.
    page.evaluate(
        "document.querySelector('#requests-table tbody.group[data-outcome=blocked]').click(); true",
    )
    .await
    .unwrap();
    let detail = text_of(&page, "#detail").await;
    assert!(
        detail.contains("PreflightMissingAllowOriginHeader"),
        "{detail}"
    );
    assert!(detail.contains("Fix:"), "{detail}");
    assert!(detail.contains("x-other"), "{detail}");
    assert!(
        detail.to_lowercase().contains("in each engine")
            && detail.contains("CORSMissingAllowOrigin")
            && detail.contains("Fetch API cannot load"),
        "each engine's words in the detail pane: {detail}"
    );

    // Live: a request made now appears without reloading the inspector.
    let url = format!("{}/api/students?live=1", sb.url("api"));
    let origin = frontend.clone();
    let status = tokio::task::spawn_blocking(move || {
        client()
            .get(url)
            .header("Origin", origin)
            .send()
            .expect("request to the API")
            .status()
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    wait_for(
        &page,
        "Array.from(document.querySelectorAll('#requests-table tr.entry')).some(r => r.innerText.includes('/api/students?live=1'))",
        "the live request in the inspector",
    )
    .await;
    let in_force = text_of(&page, ".in-force").await;
    assert!(in_force.contains("embedded default policy"), "{in_force}");
    assert!(in_force.contains("generation 1"), "{in_force}");
    screenshot(&page, "inspector.png").await;

    // The inspector on a narrow window: one column, no sideways scrolling.
    viewport(&page, 400, 900).await;
    let overflow = page
        .evaluate("document.documentElement.scrollWidth - window.innerWidth")
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "horizontal overflow {overflow}"
    );
    screenshot(&page, "inspector-narrow.png").await;

    page.close().await.ok();
    browser.close().await;
}

#[test]
fn a_broken_policy_save_shows_the_overlay_on_every_page_and_a_good_one_clears_it() {
    if !chromium::require_chromium("lab_browser") {
        return;
    }
    let good =
        "mode = \"actix-cors\"\nallowed_origins = \"*\"\nallowed_methods = [\"GET\", \"PUT\"]\n";
    let dir = project(good);
    // Serve the lab from the project's static root: the overlay must work on any page the
    // reload script is injected into, and on the inspector.
    let web = dir.path().join("web");
    for f in ["index.html", "lab.js", "lab.css"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("static").join(f),
            web.join(f),
        )
        .expect("copy the lab into web/");
    }
    let sb = TestSandbox::start(dir.path(), &["--config", "sandbox.toml"]);
    runtime().block_on(overlay(&sb, good));
}

async fn overlay(sb: &TestSandbox, good: &str) {
    let frontend = sb.public_urls["frontend"].trim_end_matches('/').to_string();
    let policy = sb.dir.join("cors.toml");
    let browser = Browser::launch().await.expect("launch chromium");
    let lab = browser.new_isolated_page().await.expect("page");
    let inspector = browser.new_isolated_page().await.expect("page");
    viewport(&lab, 1280, 800).await;
    viewport(&inspector, 1280, 800).await;
    lab.navigate(&sb.public_keyed("frontend", "/"))
        .await
        .expect("lab");
    inspector
        .navigate(&sb.public_keyed("frontend", "/__sandbox/"))
        .await
        .expect("inspector");
    for p in [&lab, &inspector] {
        wait_for(p, "window.__sandboxLive === true", "the event stream").await;
    }

    // A typo'd key on line 3: the reload fails, the old policy stays, every page says so.
    let mark = sb.event_count();
    save(
        &policy,
        "mode = \"actix-cors\"\nallowed_origins = \"*\"\nallowed_method = [\"GET\"]\n",
        SaveStyle::Rename,
    );
    tokio::task::block_in_place(|| sb.wait_event_after(mark, |e| e["event"] == "reload_failed"));
    for p in [&lab, &inspector] {
        let text = wait_for(
            p,
            "(() => { const o = document.getElementById('__sandbox_overlay'); \
               return o && o.getAttribute('role') === 'alert' && o.innerText; })()",
            "the overlay",
        )
        .await;
        let text = text.as_str().unwrap();
        assert!(text.contains("cors.toml did not load"), "{text}");
        assert!(text.contains("cors.toml:3:"), "file and line: {text}");
        assert!(text.contains("allowed_method"), "the message: {text}");
        assert!(text.contains("last good version"), "{text}");
    }
    screenshot(&lab, "overlay-lab.png").await;
    let history = wait_for(
        &inspector,
        "(() => { const t = document.querySelector('.history').innerText; return t.includes('failed') && t; })()",
        "the failed reload in the inspector's history",
    )
    .await;
    assert!(history.as_str().unwrap().contains("cors.toml"), "{history}");
    screenshot(&inspector, "overlay-inspector.png").await;

    // Dismissable: the close button removes it (on this page only).
    inspector
        .evaluate(
            "document.querySelector('#__sandbox_overlay .__sandbox_overlay_close').click(); true",
        )
        .await
        .unwrap();
    wait_for(
        &inspector,
        "!document.getElementById('__sandbox_overlay')",
        "the dismissed overlay to go",
    )
    .await;

    // A page opened after the failure still shows it (the event stream replays it), even
    // opened without the run's key.
    let late = browser.new_isolated_page().await.expect("page");
    late.navigate(&format!("{frontend}/"))
        .await
        .expect("late page");
    let text = wait_for(
        &late,
        "(() => { const o = document.getElementById('__sandbox_overlay'); return o && o.innerText; })()",
        "the overlay on a page opened after the failure",
    )
    .await;
    assert!(text.as_str().unwrap().contains("cors.toml:3:"), "{text}");

    // The good version clears it everywhere.
    let mark = sb.event_count();
    // Not the first version (one more method), so nothing can skip it as unchanged and the
    // policy really moves to generation 2.
    save(
        &policy,
        &good.replace("\"PUT\"]", "\"PUT\", \"POST\"]"),
        SaveStyle::InPlace,
    );
    tokio::task::block_in_place(|| sb.wait_event_after(mark, |e| e["event"] == "reloaded"));
    for p in [&lab, &late] {
        wait_for(
            p,
            "!document.getElementById('__sandbox_overlay')",
            "the overlay to clear",
        )
        .await;
    }
    // The inspector refetches what is in force after the reload: generation 2, and the
    // history lists the failure and the good load.
    wait_for(
        &inspector,
        "document.querySelector('.in-force').innerText.includes('generation 2') && \
         document.querySelector('.history tr.ok') && document.querySelector('.history tr.bad')",
        "generation 2 and both reloads in the inspector",
    )
    .await;
    screenshot(&lab, "overlay-cleared.png").await;

    for p in [lab, inspector, late] {
        p.close().await.ok();
    }
    browser.close().await;
}

#[test]
fn lab_explains_modes_that_skip_or_forbid_cors() {
    if !chromium::require_chromium("lab_browser") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sb = TestSandbox::start(dir.path(), &["--port", "frontend=0", "--port", "api=0"]);
    runtime().block_on(modes(&sb));
}

/// Sets the mode select and sends what the form holds.
async fn send_with_mode(page: &Page, mode: &str) {
    let script = format!(
        "(() => {{ const m = document.getElementById('mode'); m.value = {mode}; \
           m.dispatchEvent(new Event('change', {{ bubbles: true }})); \
           document.getElementById('send').click(); return true; }})()",
        mode = json!(mode)
    );
    page.evaluate(&script).await.expect("send");
}

async fn modes(sb: &TestSandbox) {
    let browser = Browser::launch().await.expect("launch chromium");
    let page = browser.new_isolated_page().await.expect("page");
    viewport(&page, 1280, 800).await;
    // The state comes from the URL: a simple GET in mode same-origin.
    page.navigate(&sb.public_keyed("frontend", "/?path=%2Fapi%2Fstudents&mode=same-origin"))
        .await
        .expect("load the lab");
    wait_for(&page, "document.body.dataset.ready === 'true'", "the lab").await;
    send_with_mode(&page, "same-origin").await;
    wait_for(
        &page,
        "document.getElementById('results').getAttribute('aria-busy') === 'false'",
        "the same-origin request to settle",
    )
    .await;
    let verdict = text_of(&page, "#verdict").await;
    assert!(
        verdict.contains("Failed before reaching the API"),
        "{verdict}"
    );
    assert!(verdict.contains("mode: same-origin"), "{verdict}");
    let received = text_of(&page, "#api-received").await;
    assert!(
        received.contains("no request reached the API"),
        "{received}"
    );

    // no-cors: the request goes out, the browser checks nothing and the page gets an opaque
    // response; the lab still shows what the API received and the verdict for mode cors.
    send_with_mode(&page, "no-cors").await;
    wait_for(
        &page,
        "document.getElementById('results').getAttribute('aria-busy') === 'false' && \
         document.querySelectorAll('#api-received .exchange').length === 1",
        "the no-cors request to settle",
    )
    .await;
    let saw = text_of(&page, "#page-saw").await;
    assert!(saw.contains("opaque"), "{saw}");
    assert!(saw.contains("Status 0"), "{saw}");
    let verdict = text_of(&page, "#verdict").await;
    assert!(verdict.contains("mode: no-cors"), "{verdict}");
    assert!(verdict.contains("without an Origin header"), "{verdict}");
    screenshot(&page, "lab-no-cors.png").await;

    page.close().await.ok();
    browser.close().await;
}

/// The page `sandbox init` writes, in Chromium: with the policy naming the frontend's real
/// origin both of its requests (one preflighted, with credentials) go through; with
/// `X-Requested-With` taken out of the allowed headers, the PUT is blocked on the next load.
#[test]
fn the_init_scaffold_page_calls_its_api_cross_origin() {
    if !chromium::require_chromium("lab_browser") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = crate::util::sandbox::run_cli(dir.path(), &["init", "app"]);
    assert_eq!(code, 0, "{err}");
    let app = dir.path().join("app");
    let sb = TestSandbox::start(
        &app,
        &[
            "--config",
            "sandbox.toml",
            "--port",
            "frontend=0",
            "--port",
            "api=0",
        ],
    );
    // The scaffold names http://localhost:8080; this run's frontend has another port.
    let frontend = sb.public_urls["frontend"].clone();
    let policy = app.join("cors.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let mark = sb.event_count();
    save(
        &policy,
        &text.replace("http://localhost:8080", &frontend),
        SaveStyle::Rename,
    );
    sb.wait_event_after(mark, |e| {
        e["event"] == "reloaded" && e["file"] == "cors.toml"
    });
    runtime().block_on(async {
        let browser = Browser::launch().await.expect("chromium");
        let page = browser.new_isolated_page().await.expect("page");
        page.navigate(&format!("{frontend}/")).await.expect("page");
        let done = "(() => { const li = [...document.querySelectorAll('#results li')]; \
                     return li.length === 2 && li.every(l => l.className) && li.map(l => l.className + ': ' + l.textContent).join('\\n'); })()";
        let shown = wait_for(&page, done, "both requests to finish").await;
        let shown = shown.as_str().unwrap();
        assert!(!shown.contains("blocked"), "{shown}");
        assert!(shown.contains("(X-Total-Count 2)"), "{shown}");

        // Take the custom header out of the policy: the preflighted PUT is now refused.
        let mark = sb.event_count();
        save(
            &policy,
            &text
                .replace("http://localhost:8080", &frontend)
                .replace(", \"X-Requested-With\"", ""),
            SaveStyle::Rename,
        );
        tokio::task::block_in_place(|| {
            sb.wait_event_after(mark, |e| e["event"] == "reloaded" && e["file"] == "cors.toml")
        });
        let mark = sb.event_count();
        // A fresh browser context: the first page's preflight is still in Chromium's cache
        // for up to 5 s (no max_age), and would let the PUT through (the sandbox warns so).
        let page = browser.new_isolated_page().await.expect("page");
        page.navigate(&format!("{frontend}/")).await.expect("reload");
        let shown = wait_for(&page, done, "both requests to finish again").await;
        let shown = shown.as_str().unwrap().to_string();
        assert!(shown.contains("blocked: PUT /api/students/1"), "{shown}");
        assert!(shown.contains("ok: GET /api/students"), "{shown}");
        // …and the API's verdict on that preflight names the header.
        let e = tokio::task::block_in_place(|| {
            sb.wait_event_after(mark, |e| e["event"] == "request" && e["preflight"] == true)
        });
        assert!(
            e["verdict"]["fix"]
                .as_str()
                .is_some_and(|f| f.contains("x-requested-with")),
            "{e}"
        );
        screenshot(&page, "init-scaffold.png").await;
        browser.close().await;
    });
}

/// A `git checkout` rewriting 1,000 files under the static root while a page is open: the page
/// reloads once for each batch it hears (a batch or two), not once a file.
#[test]
fn a_burst_of_static_saves_reloads_an_open_page_once_a_batch_not_once_a_file() {
    if !chromium::require_chromium("lab_browser") {
        return;
    }
    let dir = project("mode = \"actix-cors\"\nallowed_origins = \"*\"\n");
    let web = dir.path().join("web");
    // Counts the stylesheet swaps this page instance hears, to know when it is listening
    // after the burst.
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><html><head><link rel=\"stylesheet\" href=\"marker.css\"></head>\
         <body><h1>burst</h1><script>window.__markers = 0; \
         window.addEventListener('sandbox:static-changed', function (e) { \
           if (e.detail.files.indexOf('marker.css') >= 0) window.__markers += 1; });\
         </script></body></html>",
    )
    .unwrap();
    std::fs::write(web.join("marker.css"), "h1 { color: red }").unwrap();
    std::fs::create_dir_all(web.join("pages")).unwrap();
    for i in 0..BURST_FILES {
        std::fs::write(web.join(format!("pages/p{i}.html")), "<p>old</p>").unwrap();
    }
    let sb = TestSandbox::start(dir.path(), &["--config", "sandbox.toml"]);
    runtime().block_on(burst_reloads(&sb, &web));
}

const BURST_FILES: usize = 1000;

async fn burst_reloads(sb: &TestSandbox, web: &Path) {
    let browser = Browser::launch().await.expect("launch chromium");
    let page = browser.new_isolated_page().await.expect("page");
    page.navigate(&sb.public_keyed("frontend", "/"))
        .await
        .expect("page");
    wait_for(&page, "window.__sandboxLive === true", "the event stream").await;
    let mark = page.cdp.mark();
    let before = sb.event_count();
    // As in hot_reload's burst test: a pause in the writing or a long burst may end a batch,
    // so the bound grows with the pauses and the time the test itself saw.
    let (mut pauses, mut writing, started) = (0, Duration::ZERO, Instant::now());
    let batches = tokio::task::block_in_place(|| {
        let mut last = started;
        for i in 0..BURST_FILES {
            std::fs::write(
                web.join(format!("pages/p{i}.html")),
                format!("<p>new {i}</p>"),
            )
            .unwrap();
            let now = Instant::now();
            if now - last >= Duration::from_millis(50) {
                pauses += 1;
            }
            last = now;
        }
        writing = last - started;
        crate::util::sandbox::eventually("every rewritten file reported", || {
            let events = sb.events();
            let batches: Vec<&serde_json::Value> = events[before..]
                .iter()
                .filter(|e| e["event"] == "static_changed")
                .collect();
            let named: usize = batches
                .iter()
                .map(|e| e["files"].as_array().map_or(0, Vec::len))
                .sum();
            (named >= BURST_FILES).then_some(batches.len())
        })
    });
    // Every batch has been sent; once a page instance hears a later stylesheet change, the
    // reloads the batches caused are done. A page in the middle of reloading misses a change,
    // so each try saves a new one (a stylesheet swap does not reload the page).
    let deadline = Instant::now() + Duration::from_millis(PAGE_DEADLINE_MS);
    let mut n = 0;
    loop {
        n += 1;
        tokio::task::block_in_place(|| {
            std::fs::write(web.join("marker.css"), format!("h1 {{ order: {n} }}")).unwrap()
        });
        let heard = Instant::now() + Duration::from_millis(500);
        let mut listening = false;
        while !listening && Instant::now() < heard {
            // An evaluation that meets a reload fails; the next one finds the new page.
            listening = page
                .evaluate("window.__markers > 0")
                .await
                .is_ok_and(|v| v == Value::Bool(true));
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        if listening {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the page never heard a stylesheet change"
        );
    }
    let parts = (writing.as_millis() / 250) as usize;
    let bound = 2 + pauses + parts + crate::hot_reload::SCHEDULING_SLACK;
    assert!(batches <= bound, "{batches} batches (bound {bound})");
    let loads = page
        .events_since(mark)
        .iter()
        .filter(|e| e.method == "Page.loadEventFired")
        .count();
    assert!(
        (1..=batches).contains(&loads),
        "{loads} page loads for {batches} batches of {BURST_FILES} files"
    );
    page.close().await.ok();
    browser.close().await;
}

/// Issue #14, item 5: the lab fires element loads that use CORS. Against a policy that
/// allows another origin only, the lab's `<img crossorigin>` is refused, and
/// the verdict speaks of an image in every engine's words; an `@font-face` font is refused
/// by Chromium and Firefox while WebKit uses it without asking, and the lab says they disagree.
#[test]
fn the_lab_fires_element_loads_and_words_their_verdicts() {
    if !chromium::require_chromium("the_lab_fires_element_loads_and_words_their_verdicts") {
        return;
    }
    // A policy that allows another origin only: every load from the lab is refused.
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "sandbox.toml",
            "[[origin]]\nname = \"frontend\"\nkind = \"static\"\nport = 0\nroot = \"static\"\n\n\
             [[origin]]\nname = \"api\"\nkind = \"api\"\nport = 0\nroutes = \"api.toml\"\npolicy = \"cors.toml\"\n",
        ),
        (
            "api.toml",
            "[[route]]\nmethod = \"GET\"\npath = \"/api/student\"\njson = { name = \"Ahmad\" }\n",
        ),
        (
            "cors.toml",
            "allowed_origins = [\"http://other.localhost:8080\"]\nallowed_methods = [\"GET\"]\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::create_dir(dir.path().join("static")).unwrap();
    let sb = TestSandbox::start(dir.path(), &["--config", "sandbox.toml"]);
    runtime().block_on(async {
        let browser = Browser::launch().await.expect("launch chromium");
        let page = browser.new_isolated_page().await.expect("page");
        let lab = sb.public_keyed("frontend", "/__sandbox/lab");
        page.navigate(&lab).await.expect("load the lab");
        wait_for(&page, "document.body.dataset.ready === 'true'", "the lab").await;
        let load = |kind: &'static str| {
            format!(
                "(() => {{ const s = document.getElementById('load-as'); s.value = '{kind}'; \
                   s.dispatchEvent(new Event('change', {{ bubbles: true }})); \
                   document.getElementById('path').value = '/api/student'; \
                   document.getElementById('send').click(); return true; }})()"
            )
        };
        page.evaluate(&load("image")).await.unwrap();
        let (outcome, cors_error) = settled_verdict(&page).await;
        assert_eq!(
            (outcome.as_str(), cors_error.as_str()),
            ("blocked", "MissingAllowOriginHeader")
        );
        let verdict = text_of(&page, "#verdict").await;
        assert!(verdict.contains("Access to image at"), "{verdict}");
        assert!(
            verdict.contains("Cannot load image"),
            "WebKit's words: {verdict}"
        );
        let saw = text_of(&page, "#page-saw").await;
        assert!(saw.contains("error event on <img crossorigin>"), "{saw}");
        let code = page
            .evaluate("document.getElementById('fetch-code').textContent")
            .await
            .unwrap();
        assert!(
            code.as_str()
                .is_some_and(|c| c.starts_with("<img crossorigin=\"anonymous\"")),
            "{code}"
        );
        assert_eq!(
            page.evaluate("document.getElementById('method').disabled")
                .await
                .unwrap(),
            true,
            "an element's load has no method to choose"
        );
        page.evaluate(&load("font")).await.unwrap();
        let (outcome, _) = settled_verdict(&page).await;
        assert_eq!(outcome, "blocked");
        let verdict = text_of(&page, "#verdict").await;
        assert!(verdict.contains("Access to font at"), "{verdict}");
        let webkit = page
            .evaluate(
                "document.querySelector('#verdict .engine-verdict[data-engine=webkit]').className",
            )
            .await
            .unwrap();
        assert!(
            webkit.as_str().is_some_and(|c| c.contains("allowed")),
            "WebKit uses the font: {webkit}"
        );
        assert!(verdict.contains("The engines disagree"), "{verdict}");
        assert!(page
            .evaluate("location.search")
            .await
            .unwrap()
            .as_str()
            .is_some_and(|q| q.contains("as=font")));
        browser.close().await;
    });
}
