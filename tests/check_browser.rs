//! `check` says which response headers script may read; real Chromium's `headers.keys()` for
//! the same route must be exactly that list (Content-Length included: the server frames the
//! body with it, and it is a safelisted response header).

use serde_json::Value;

use crate::util::chromium::{self, Browser};
use crate::util::sandbox::*;

const ROUTES: &str = r#"
[[route]]
path = "/api/json"
json = { name = "Ahmad" }

[[route]]
path = "/api/exposed"
headers = { "X-Total-Count" = "7", "X-Hidden" = "1", "Cache-Control" = "no-store" }
body = "seven"

[[route]]
path = "/api/empty"
body = ""

[[route]]
path = "/api/none"
status = 204
"#;

#[test]
fn check_readable_headers_match_chromium() {
    if !chromium::require_chromium("check_readable_headers_match_chromium") {
        return;
    }
    let d = project("allowed_origins = [\"http://placeholder.localhost:1\"]\n");
    write(d.path(), "api.toml", ROUTES);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let page = sb.url("frontend").to_string();
    let api = sb.url("api").to_string();
    // The policy must allow the page's real origin (port 0 picked it), so it is written now.
    let before = sb.event_count();
    save(
        &d.path().join("cors.toml"),
        &format!("allowed_origins = [\"{page}\"]\nexpose_headers = [\"X-Total-Count\"]\n"),
        SaveStyle::Rename,
    );
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "cors.toml"
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let browser = rt.block_on(Browser::launch()).expect("launch chromium");
    let tab = rt.block_on(browser.new_page()).unwrap();
    rt.block_on(tab.navigate(&page)).unwrap();
    for path in ["/api/json", "/api/exposed", "/api/empty", "/api/none"] {
        let seen = rt
            .block_on(tab.evaluate(&format!(
                "fetch('{api}{path}').then(r => [...r.headers.keys()].sort(), e => String(e))"
            )))
            .unwrap();
        assert!(seen.is_array(), "{path}: Chromium fetched it: {seen}");
        // `check` reads the same config the sandbox serves, with the page's real origin.
        let (code, out, err) = run_cli(
            d.path(),
            &[
                "check",
                "--config",
                "sandbox.toml",
                "--origin",
                &page,
                path,
                "--json",
            ],
        );
        assert_eq!(code, 0, "{path}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["outcome"], "allowed", "{path}: {out}");
        assert_eq!(
            v["readable_headers"], seen,
            "{path}: check's readable headers vs Chromium's headers.keys()"
        );
    }
    rt.block_on(browser.close());
}
