//! Cookies in `sandbox up`: the start-up warning for a credentialed policy between two sites,
//! the journal's verdict on every `Set-Cookie` line the API sends and on a request that lacks
//! a cookie the API set, and both held against what real Chromium stores and sends.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};
use tokio::time::Instant;

use crate::lab_browser::wait_for;
use crate::util::chromium::{self, Browser, Event};
use crate::util::cookie_reports::cookie_reports;
use crate::util::sandbox::{client, write, TestSandbox};

const ROUTES: &str = r#"
[[route]]
method = "GET"
path = "/login"
headers = { "Set-Cookie" = ["sid=s3cr3t-value; Path=/", "pref=dark; SameSite=None"] }
json = { ok = true }

[[route]]
method = "GET"
path = "/api/me"
json = { name = "Ahmad" }
"#;

const POLICY: &str = "allowed_origins = [\"sandbox:static\"]\nsupports_credentials = true\n";

fn project(frontend_host: &str, api_host: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "sandbox.toml",
        &format!(
            "[[origin]]\nname = \"frontend\"\nkind = \"static\"\nport = 0\nhostname = \"{frontend_host}\"\nroot = \"web\"\n\n\
             [[origin]]\nname = \"api\"\nkind = \"api\"\nport = 0\nhostname = \"{api_host}\"\nroutes = \"api.toml\"\npolicy = \"cors.toml\"\n"
        ),
    );
    write(
        d.path(),
        "web/index.html",
        "<!doctype html><title>cookies</title><p>page",
    );
    write(d.path(), "api.toml", ROUTES);
    write(d.path(), "cors.toml", POLICY);
    d
}

fn start(dir: &Path) -> TestSandbox {
    TestSandbox::start(dir, &["--config", "sandbox.toml"])
}

/// The start-up warnings about different sites. They are logged after `ready`, before the
/// servers accept: once a request made now is logged, every one of them is in.
fn third_party_warnings(sb: &TestSandbox) -> Vec<String> {
    client()
        .get(format!("{}/after-start", sb.url("api")))
        .send()
        .unwrap();
    sb.wait_event(|e| e["event"] == "request" && e["path"] == "/after-start");
    sb.events()
        .iter()
        .filter(|e| e["event"] == "warning")
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .filter(|m| m.contains("different sites"))
        .collect()
}

#[test]
fn a_credentialed_policy_between_two_sites_warns_at_start_and_one_site_does_not() {
    let two = project("karachi-dev.localhost", "lahore-api.localhost");
    let sb = start(two.path());
    let w = third_party_warnings(&sb);
    assert_eq!(w.len(), 1, "{}", sb.output());
    assert!(
        w[0].contains("site http://karachi-dev.localhost")
            && w[0].contains("site http://lahore-api.localhost")
            && w[0].contains("hostname = \"localhost\""),
        "{}",
        w[0]
    );
    drop(sb);
    let one = project("localhost", "localhost");
    let sb = start(one.path());
    assert!(third_party_warnings(&sb).is_empty(), "{}", sb.output());
    // Without credentials in the policy there is nothing to warn about.
    write(
        two.path(),
        "cors.toml",
        "allowed_origins = [\"sandbox:static\"]\n",
    );
    let sb = start(two.path());
    assert!(third_party_warnings(&sb).is_empty(), "{}", sb.output());
}

/// The `cookies` of the request event for `path` logged after event `skip`.
fn cookies_of(sb: &TestSandbox, skip: usize, path: &str) -> Vec<Value> {
    request_event(sb, skip, path)["cookies"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The request event for `path` logged after event `skip`.
fn request_event(sb: &TestSandbox, skip: usize, path: &str) -> Value {
    sb.wait_event_after(skip, |e| e["event"] == "request" && e["path"] == path)
}

#[test]
fn the_journal_says_what_happens_to_each_cookie_and_why_a_request_lacks_one() {
    let dir = project("localhost", "localhost");
    let sb = start(dir.path());
    let api = sb.url("api").to_string();
    let page = sb.public_urls["frontend"].clone();
    let http = client();

    let before = sb.event_count();
    http.get(format!("{api}/login")).send().unwrap();
    let set = cookies_of(&sb, before, "/login");
    assert_eq!(set.len(), 2, "{set:?}");
    assert_eq!(
        (set[0]["name"].as_str(), set[0]["outcome"].as_str()),
        (Some("sid"), Some("stored"))
    );
    assert_eq!(set[1]["outcome"], "rejected");
    assert_eq!(set[1]["blocked_reasons"], json!(["SameSiteNoneInsecure"]));
    assert!(
        set[1]["fix"].as_str().unwrap().contains("Secure"),
        "{set:?}"
    );
    // WebKit takes SameSite=None without Secure: its verdict is there beside Chromium's, in
    // the JSON and on the text line.
    let login = request_event(&sb, before, "/login");
    let webkit = login["cookies_in"]["webkit"]
        .as_array()
        .unwrap_or_else(|| panic!("no WebKit cookie verdicts: {login}"));
    let pref = webkit.iter().find(|c| c["name"] == "pref").unwrap();
    assert_eq!(pref["outcome"], "stored", "{login}");

    // The page (same site, another port) without the cookie: the credentials mode.
    let before = sb.event_count();
    http.get(format!("{api}/api/me"))
        .header("Origin", &page)
        .send()
        .unwrap();
    let missing = cookies_of(&sb, before, "/api/me");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["name"], "sid");
    assert_eq!(missing[0]["outcome"], "not_sent");
    assert!(
        missing[0]["fix"]
            .as_str()
            .unwrap()
            .contains("credentials: 'include'"),
        "{missing:?}"
    );

    // A page on another site: SameSite's default and third-party blocking.
    let before = sb.event_count();
    http.get(format!("{api}/api/me"))
        .header("Origin", "http://karachi-dev.localhost:8080")
        .send()
        .unwrap();
    let cross = cookies_of(&sb, before, "/api/me");
    assert_eq!(
        cross[0]["blocked_reasons"],
        json!([
            "SchemefulSameSiteUnspecifiedTreatedAsLax",
            "UserPreferences"
        ]),
        "{cross:?}"
    );

    // With the cookie there is nothing to say.
    let before = sb.event_count();
    http.get(format!("{api}/api/me"))
        .header("Origin", &page)
        .header("Cookie", "sid=s3cr3t-value")
        .send()
        .unwrap();
    let me = request_event(&sb, before, "/api/me");
    assert!(me["cookies"].is_null(), "{me}");
    assert_eq!(me["carried_cookies"], json!(["sid"]), "{me}");
    assert!(
        !sb.output().contains("s3cr3t"),
        "a cookie value reached the log"
    );
}

#[test]
fn probe_judges_the_cookies_a_live_server_sets() {
    let dir = project("karachi-dev.localhost", "lahore-api.localhost");
    let sb = start(dir.path());
    let api = sb.public_urls["api"].clone();
    let page = sb.public_urls["frontend"].clone();
    let (code, out, err) = crate::util::sandbox::run_cli(
        dir.path(),
        &[
            "probe",
            &format!("{api}/login"),
            "--origin",
            &page,
            "--credentials",
            "include",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let cookies = v["cookies"].as_array().expect("cookie verdicts");
    assert_eq!(cookies.len(), 2, "{v}");
    assert_eq!(cookies[0]["name"], "sid");
    assert_eq!(cookies[0]["blocked_reasons"], json!(["UserPreferences"]));
    assert!(
        cookies[0]["reason"]
            .as_str()
            .unwrap()
            .contains("with third-party cookies allowed"),
        "{v}"
    );
    assert!(!out.contains("s3cr3t"), "a cookie value in the verdict");
    // Without credentials the browser ignores Set-Cookie, and says so.
    let (_, out, _) = crate::util::sandbox::run_cli(
        dir.path(),
        &[
            "probe",
            &format!("{api}/login"),
            "--origin",
            &page,
            "--json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("cookies").is_none(), "{v}");
    assert!(
        v["notes"].to_string().contains("credentials: 'include'"),
        "{v}"
    );
}

/// What Chromium did with the cookies of one fetch: blocked `Set-Cookie` lines (by cookie
/// name) and the cookies it associated with the request.
struct Seen {
    blocked: HashMap<String, Vec<String>>,
    associated: HashMap<String, Vec<String>>,
}

async fn fetch_in_chromium(page: &chromium::Page, url: &str) -> Seen {
    let mark = page.cdp.mark();
    let r = page
        .evaluate(&format!(
            "fetch({}, {{credentials: 'include'}}).then(r => r.text()).then(() => 'ok', e => String(e))",
            json!(url)
        ))
        .await
        .expect("fetch");
    assert_eq!(r, "ok", "{url}");
    let first = |evs: &[Event]| {
        cookie_reports(evs, |u| u == url)
            .into_iter()
            .next()
            .flatten()
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    page.wait_until(mark, deadline, |evs| first(evs).is_some())
        .await;
    let report = first(&page.events_since(mark)).expect("Chromium's ExtraInfo events");
    Seen {
        blocked: report.blocked_by_name(),
        associated: report.associated,
    }
}

/// Loads the frontend in Chromium, fetches `/login` then `/api/me` with credentials, and
/// checks the journal's cookie verdicts against Chromium's account of both.
async fn journal_agrees_with_chromium(browser: &Browser, frontend: &str, api: &str) -> bool {
    let dir = project(frontend, api);
    let sb = start(dir.path());
    let page_url = sb.public_urls["frontend"].clone();
    let api_url = sb.public_urls["api"].clone();
    let page = browser.new_isolated_page().await.expect("page");
    page.navigate(&format!("{page_url}/"))
        .await
        .expect("load page");

    let before = sb.event_count();
    let login = fetch_in_chromium(&page, &format!("{api_url}/login")).await;
    let journal = cookies_of(&sb, before, "/login");
    assert_eq!(journal.len(), 2, "{journal:?}");
    for v in &journal {
        let name = v["name"].as_str().unwrap();
        let chromium = login.blocked.get(name);
        let model: Vec<String> = serde_json::from_value(v["blocked_reasons"].clone()).unwrap();
        match v["outcome"].as_str() {
            Some("stored") => assert!(chromium.is_none(), "{name}: Chromium blocked {chromium:?}"),
            _ => assert_eq!(chromium, Some(&model), "{name}: journal {v}"),
        }
    }
    let sid_stored = journal[0]["outcome"] == "stored";

    let before = sb.event_count();
    let me = fetch_in_chromium(&page, &format!("{api_url}/api/me")).await;
    let journal = cookies_of(&sb, before, "/api/me");
    // The journal speaks only of cookies the request lacked; Chromium sent sid exactly when
    // the journal had it stored, and then the journal has nothing to say.
    assert_eq!(
        me.associated.get("sid").map(Vec::is_empty),
        sid_stored.then_some(true),
        "{:?}",
        me.associated
    );
    assert!(journal.is_empty(), "{journal:?}");
    inspector_shows_the_login_cookies(&page, &sb, sid_stored).await;
    page.close().await.expect("close");
    sid_stored
}

/// The inspector's detail pane for `GET /login` shows each cookie's verdict beside the CORS
/// verdict.
async fn inspector_shows_the_login_cookies(
    page: &chromium::Page,
    sb: &TestSandbox,
    sid_stored: bool,
) {
    page.navigate(&sb.public_keyed("frontend", "/__sandbox/"))
        .await
        .expect("load the inspector");
    let found = wait_for(
        page,
        "(() => { const g = Array.from(document.querySelectorAll('#requests-table tbody.group')) \
           .find(b => b.innerText.includes('/login')); if (g) { g.click(); return true; } return null; })()",
        "the /login request in the inspector",
    )
    .await;
    assert_eq!(found, true);
    let cookies = wait_for(
        page,
        "(() => { const li = Array.from(document.querySelectorAll('#detail .cookie-block li')); \
           const main = li.filter(l => !l.dataset.engine); \
           return main.length === 2 && main.map(l => [l.dataset.cookie, l.dataset.outcome, l.innerText]); })()",
        "the cookie verdicts in the detail pane",
    )
    .await;
    let cookies = cookies.as_array().expect("two cookie items");
    assert_eq!(cookies[0][0], "sid", "{cookies:?}");
    assert_eq!(
        cookies[0][1],
        if sid_stored { "stored" } else { "rejected" },
        "{cookies:?}"
    );
    let pref = cookies[1][2].as_str().unwrap();
    assert!(
        pref.contains("not stored") && pref.contains("Fix:"),
        "{pref}"
    );
    if !sid_stored {
        assert!(
            cookies[0][2].as_str().unwrap().contains("UserPreferences"),
            "{cookies:?}"
        );
    }
    // Where another engine decides otherwise it is named: on one site WebKit keeps `pref`
    // (SameSite=None without Secure); across sites Firefox keeps `sid`, partitioned.
    let (engine, cookie, outcome) = if sid_stored {
        ("webkit", "pref", "stored")
    } else {
        ("firefox", "sid", "stored_partitioned")
    };
    let elsewhere = wait_for(
        page,
        &format!(
            "(() => {{ const l = document.querySelector('#detail .cookie-block li.elsewhere[data-engine=\"{engine}\"][data-cookie=\"{cookie}\"]'); \
               return l && [l.dataset.outcome, l.innerText]; }})()"
        ),
        "another engine's cookie verdict in the detail pane",
    )
    .await;
    assert_eq!(elsewhere[0], outcome, "{elsewhere:?}");
}

#[test]
fn the_journal_agrees_with_what_chromium_stores_and_sends() {
    if !chromium::require_chromium("cookies_up") {
        return;
    }
    let runtime = crate::lab_browser::runtime();
    runtime.block_on(async {
        let browser = Browser::launch().await.expect("launch chromium");
        // One site (ports of localhost): sid is stored and sent back.
        assert!(journal_agrees_with_chromium(&browser, "localhost", "localhost").await);
        // Two sites: Chromium blocks the API's cookies as third-party, as the journal says.
        assert!(
            !journal_agrees_with_chromium(
                &browser,
                "karachi-dev.localhost",
                "lahore-api.localhost"
            )
            .await
        );
        browser.close().await;
    });
}
