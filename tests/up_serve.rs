//! Both origins serve, the API's CORS headers follow the policy file, and the JSON log has its
//! documented shape. Real binary, loopback, port 0.

use crate::util::sandbox::*;
use std::time::Duration;

const POLICY: &str = r#"mode = "actix-cors"
allowed_origins = ["http://karachi-dev.localhost:8080"]
allowed_methods = ["GET", "POST", "PUT"]
allowed_headers = ["Content-Type", "X-PKR-Auth"]
supports_credentials = true
"#;

const ALLOWED: &str = "http://karachi-dev.localhost:8080";

#[test]
fn zero_config_serves_lab_and_default_api() {
    let d = tempfile::tempdir().unwrap();
    let sb = TestSandbox::start(d.path(), &["--port", "frontend=0", "--port", "api=0"]);
    let c = client();
    let page = c.get(sb.url("frontend")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let html = page.text().unwrap();
    assert!(
        html.contains("<script src=\"/__sandbox/reload.js\"></script>"),
        "{html}"
    );
    assert!(
        html.contains("sandbox lab"),
        "embedded lab page expected: {html}"
    );

    // The default policy allows the frontend's own origin, by host name and by IP.
    let frontend_origin = sb.public_urls["frontend"].clone();
    let res = c
        .get(format!("{}/api/student", sb.url("api")))
        .header("Origin", &frontend_origin)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(acao(&res).as_deref(), Some(frontend_origin.as_str()));
    assert_eq!(res.json::<serde_json::Value>().unwrap()["city"], "Lahore");
    let res = c
        .get(format!("{}/api/student", sb.url("api")))
        .header("Origin", "http://evil.test")
        .send()
        .unwrap();
    assert_eq!(acao(&res), None);
    // With no policy file yet, the fix says which file to create and how to use it.
    let e = sb.wait_event(|e| e["event"] == "request" && e["origin"] == "http://evil.test");
    let fix = e["verdict"]["fix"].as_str().unwrap_or_default();
    assert!(
        fix.contains("\"http://evil.test\"")
            && fix.contains("a cors.toml of your own")
            && fix.contains("set policy = \"cors.toml\""),
        "{e}"
    );
}

#[test]
fn api_cors_follows_policy_for_allowed_and_disallowed_origins() {
    let d = project(POLICY);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let c = client();
    let api = sb.url("api");

    // Preflight, allowed origin: every announced header is allowed.
    let res = c
        .request(reqwest::Method::OPTIONS, format!("{api}/api/payment"))
        .header("Origin", ALLOWED)
        .header("Access-Control-Request-Method", "PUT")
        .header("Access-Control-Request-Headers", "content-type,x-pkr-auth")
        .send()
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(acao(&res).as_deref(), Some(ALLOWED));
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let methods: Vec<String> = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .split(',')
        .map(|m| m.trim().to_string())
        .collect();
    for m in ["GET", "POST", "PUT"] {
        assert!(methods.contains(&m.to_string()), "{methods:?}");
    }
    let allow_headers = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allow_headers.contains("x-pkr-auth"), "{allow_headers}");

    // Preflight, disallowed origin: no ACAO.
    let res = c
        .request(reqwest::Method::OPTIONS, format!("{api}/api/payment"))
        .header("Origin", "http://evil.test")
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .unwrap();
    assert_eq!(acao(&res), None);

    // Actual requests.
    let res = c
        .put(format!("{api}/api/payment"))
        .header("Origin", ALLOWED)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(acao(&res).as_deref(), Some(ALLOWED));
    let res = c
        .put(format!("{api}/api/payment"))
        .header("Origin", "http://localhost:8080")
        .send()
        .unwrap();
    assert_eq!(acao(&res), None);

    // Unknown route: 404 naming the closest route.
    let res = c.get(format!("{api}/api/studnt")).send().unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().unwrap();
    assert_eq!(body["closest"][0]["path"], "/api/student", "{body}");

    // A static file besides HTML is served with an ETag and no injection.
    let css = c
        .get(format!("{}/site.css", sb.url("frontend")))
        .send()
        .unwrap();
    assert!(css.headers().contains_key("etag"));
    assert_eq!(css.text().unwrap(), "h1 { color: red }");
}

#[test]
fn json_log_has_the_documented_shape() {
    let d = project(POLICY);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    for name in ["frontend", "api"] {
        let e = sb.wait_event(|e| e["event"] == "listening" && e["name"] == name);
        assert!(e["url"].as_str().unwrap().starts_with("http://"), "{e}");
        assert!(e["time"].is_string());
    }
    assert_eq!(
        sb.public_urls["api"].split(':').nth(1).unwrap(),
        "//lahore-api.localhost"
    );
    let c = client();
    // A static origin's line carries its inspector and lab URLs (with the run's key); both
    // open the page a person opens from the banner.
    let e = sb.wait_event(|e| e["event"] == "listening" && e["name"] == "frontend");
    for (field, marker) in [("inspector", "inspector"), ("lab", "lab.js")] {
        let url = e[field].as_str().unwrap_or_else(|| panic!("{field}: {e}"));
        assert!(url.contains("sandbox-key="), "{url}");
        let local = url.replace("karachi-dev.localhost", "127.0.0.1");
        // The key is traded for a cookie on a redirect to the same page without it.
        let first = c
            .get(&local)
            .header("Host", "karachi-dev.localhost")
            .send()
            .unwrap();
        assert_eq!(first.status(), 303, "{field} {url}");
        let cookie = first.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_string();
        let to = first.headers()["location"].to_str().unwrap().to_string();
        let base = local.split("/__sandbox").next().unwrap();
        let page = c
            .get(format!("{base}{to}"))
            .header("Host", "karachi-dev.localhost")
            .header("Cookie", cookie)
            .send()
            .unwrap();
        assert_eq!(page.status(), 200, "{field} {url} → {to}");
        assert!(page.text().unwrap().contains(marker), "{field} {url}");
    }
    let e = sb.wait_event(|e| e["event"] == "listening" && e["name"] == "api");
    assert!(e.get("lab").is_none(), "{e}");
    c.request(
        reqwest::Method::OPTIONS,
        format!("{}/api/payment", sb.url("api")),
    )
    .header("Origin", ALLOWED)
    .header("Access-Control-Request-Method", "PUT")
    .send()
    .unwrap();
    let e = sb.wait_event(|e| e["event"] == "request" && e["method"] == "OPTIONS");
    assert_eq!(e["origin_name"], "api");
    assert_eq!(e["path"], "/api/payment");
    assert_eq!(e["origin"], ALLOWED);
    assert_eq!(e["preflight"], true);
    assert!(e["status"].as_u64().unwrap() < 300);
    assert!(e["duration_ms"].as_f64().unwrap() >= 0.0);
    c.get(sb.url("frontend")).send().unwrap();
    let e = sb.wait_event(|e| e["event"] == "request" && e["origin_name"] == "frontend");
    assert_eq!(e["preflight"], false);
    assert!(e["origin"].is_null());
}

#[test]
fn embedded_defaults_fill_missing_routes_and_policy() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "sandbox.toml", "[[origin]]\nname='web'\nkind='static'\nport=0\n\n[[origin]]\nname='api'\nkind='api'\nport=0\n");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let c = client();
    let res = c
        .get(format!("{}/api/students", sb.url("api")))
        .header("Origin", &sb.public_urls["web"])
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(acao(&res).as_deref(), Some(sb.public_urls["web"].as_str()));
    assert!(c
        .get(sb.url("web"))
        .send()
        .unwrap()
        .text()
        .unwrap()
        .contains("sandbox lab"));
}

#[test]
fn inspector_feed_lists_api_requests_and_what_is_in_force() {
    let d = project(POLICY);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let c = client();
    c.get(format!("{}/api/student", sb.url("api")))
        .header("Origin", "http://evil.test")
        .send()
        .unwrap();
    let entries: serde_json::Value = eventually("journal entry", || {
        let v: serde_json::Value = c
            .get(sb.keyed("frontend", "/__sandbox/requests"))
            .send()
            .ok()?
            .json()
            .ok()?;
        (!v.as_array()?.is_empty()).then_some(v)
    });
    let e = &entries[0];
    assert_eq!(e["path"], "/api/student");
    assert_eq!(
        e["verdict"]["cors_error"], "MissingAllowOriginHeader",
        "{e}"
    );
    assert_eq!(e["policy_generation"], 1);
    assert!(
        e["request_headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == "origin" && h[1] == "http://evil.test"),
        "{e}"
    );
    let f: serde_json::Value = c
        .get(sb.keyed("frontend", "/__sandbox/in-force"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(f["apis"][0]["policy"]["text"], POLICY);
    assert_eq!(f["apis"][0]["routes"]["generation"], 1);
    // Same-origin only, even with the key.
    let res = c
        .get(sb.keyed("frontend", "/__sandbox/requests"))
        .header("Origin", "http://evil.test")
        .send()
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// Small static files are answered from memory once they have settled; the cache must never
/// hand out a version the disk no longer holds, nor anything a path can no longer reach.
#[test]
fn cached_static_files_follow_the_disk() {
    let d = project(POLICY);
    let css = d.path().join("web/site.css");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let url = format!("{}/site.css", sb.url("frontend"));
    let c = client();
    // The cache takes a file only once its ctime is comfortably past (50 ms; see
    // serve::file_cache). Wait for that condition itself.
    eventually("site.css settled", || {
        let age = std::fs::metadata(&css)
            .ok()?
            .modified()
            .ok()?
            .elapsed()
            .ok()?;
        (age > Duration::from_millis(200)).then_some(())
    });
    let original = std::fs::read_to_string(&css).unwrap();
    let first = c.get(&url).send().unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(first.headers()["content-type"], "text/css; charset=utf-8");
    assert!(first.headers().contains_key("last-modified"));
    assert_eq!(first.text().unwrap(), original);
    // Served again (now from memory), revalidated, by range and by HEAD.
    let again = c.get(&url).send().unwrap();
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.text().unwrap(), original);
    let revalidated = c.get(&url).header("If-None-Match", &etag).send().unwrap();
    assert_eq!(revalidated.status(), 304);
    let range = c.get(&url).header("Range", "bytes=0-1").send().unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(range.text().unwrap(), &original[..2]);
    let head = c.head(&url).send().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"].to_str().unwrap(),
        original.len().to_string()
    );
    assert_eq!(head.text().unwrap(), "");

    // Rewritten in place with the same size: the very next request sees it, on this
    // connection and on fresh ones (each worker keeps its own cache).
    let changed = original.replace("red", "tan");
    assert_eq!(changed.len(), original.len());
    std::fs::write(&css, &changed).unwrap();
    for c in [c.clone(), client(), client()] {
        let res = c.get(&url).send().unwrap();
        assert_ne!(res.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(res.text().unwrap(), changed);
    }
    let stale = c.get(&url).header("If-None-Match", &etag).send().unwrap();
    assert_eq!(stale.status(), 200);

    // Swapped for a symlink out of the root, then deleted: nothing cached is served.
    #[cfg(unix)]
    {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.css"), &changed).unwrap();
        std::fs::remove_file(&css).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.css"), &css).unwrap();
        let res = c.get(&url).send().unwrap();
        assert_eq!(res.status(), 404);
    }
    let _ = std::fs::remove_file(&css);
    assert_eq!(c.get(&url).send().unwrap().status(), 404);
}

/// `sandbox init DIR` writes a project that starts as written: the page is served with live
/// reload, the API answers it cross-origin through the scaffold's policy, and a second init
/// refuses to write over it.
#[test]
fn init_scaffolds_a_project_that_serves() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, err) = run_cli(d.path(), &["init", "demo"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("next: sandbox up --config demo/sandbox.toml"),
        "{out}"
    );
    let project = d.path().join("demo");
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
    let page = c.get(sb.url("frontend")).send().unwrap().text().unwrap();
    assert!(page.contains("/__sandbox/reload.js"), "{page}");
    assert!(page.contains("/api/students"), "{page}");
    // The policy allows the frontend where it listens (`sandbox:static`), not only on 8080.
    let frontend = sb.public_urls["frontend"].as_str();
    let res = c
        .get(format!("{}/api/students", sb.url("api")))
        .header("Origin", frontend)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(acao(&res).as_deref(), Some(frontend));
    assert_eq!(
        res.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase(),
        "x-total-count"
    );
    let pre = c
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/students/1", sb.url("api")),
        )
        .header("Origin", frontend)
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "content-type,x-requested-with",
        )
        .send()
        .unwrap();
    assert!(pre.status().is_success(), "{}", pre.status());
    let put: serde_json::Value = c
        .put(format!("{}/api/students/7", sb.url("api")))
        .header("Origin", frontend)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(put["id"], "7");

    // Again over the same folder: refused, and nothing touched.
    let before = std::fs::read_to_string(project.join("cors.toml")).unwrap();
    let (code, _, err) = run_cli(d.path(), &["init", "demo"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("already exist") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(project.join("cors.toml")).unwrap(),
        before
    );
}

/// A 404's suggestions are kept per worker for its routes snapshot: after a save, every
/// worker suggests from the new routes.
#[test]
fn a_404_suggests_from_the_routes_in_force_after_a_save() {
    let d = project(POLICY);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    // A fresh connection each time, so the requests spread over the workers.
    let closest = || {
        let res = client().get(format!("{api}/api/studnt")).send().unwrap();
        assert_eq!(res.status(), 404);
        let body: serde_json::Value = res.json().unwrap();
        body["closest"][0]["path"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    for _ in 0..8 {
        assert_eq!(closest(), "/api/student");
    }
    let before = sb.event_count();
    save(
        &d.path().join("api.toml"),
        "[[route]]\nmethod = \"GET\"\npath = \"/api/studio\"\njson = { ok = true }\n",
        SaveStyle::Rename,
    );
    let e = sb.wait_event_after(before, |e| {
        (e["event"] == "reloaded" || e["event"] == "reload_failed") && e["file"] == "api.toml"
    });
    assert_eq!(e["event"], "reloaded", "{e}");
    for _ in 0..8 {
        assert_eq!(closest(), "/api/studio");
    }
}
