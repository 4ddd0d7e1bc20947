//! The `/__sandbox/*` endpoints answer only their own origin's pages, never with CORS headers
//! or a path on the disk.
//!
//! Every row of `cross` is one attack input (tried on every endpoint), counted with the other
//! `security` modules' rows in issue #5's closing note.

use super::{attack_project, start};
use crate::util::raw_http::{addr, get};

/// The `/__sandbox/*` endpoints (event stream, scripts, status, the inspector and its data)
/// answer only their own origin's pages and never carry `Access-Control-Allow-Origin`.
#[test]
fn sandbox_endpoints_are_same_origin_only() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let port = a.rsplit(':').next().unwrap().to_string();
    let own = format!("Origin: http://localhost:{port}");
    // Presented on every request: the refusals below are the same-origin rule's, not the
    // key's, and the endpoints that need the key get it.
    let key = format!("Cookie: sandbox-key-{port}={}", sb.key("frontend"));
    let cross: Vec<Vec<String>> = vec![
        vec!["Origin: http://evil.example".into()],
        vec!["Origin: null".into()],
        vec![format!("Origin: http://localhost:{port}.evil.example")],
        vec![format!("Origin: http://evil.localhost:{port}")],
        vec![format!(
            "Origin: http://localhost:{}",
            port.parse::<u32>().unwrap() + 1
        )],
        vec!["Origin: http://localhost".into()],
        vec!["Sec-Fetch-Site: cross-site".into()],
        vec!["Sec-Fetch-Site: same-site".into()],
        vec![own.clone(), "Sec-Fetch-Site: cross-site".into()],
        vec![own.clone(), "Sec-Fetch-Site: same-site".into()],
    ];
    for endpoint in [
        "/__sandbox/events",
        "/__sandbox/reload.js",
        "/__sandbox/fixture.js",
        "/__sandbox/dom.js",
        "/__sandbox/config.json",
        "/__sandbox/status",
        "/__sandbox/requests",
        "/__sandbox/in-force",
        "/__sandbox/",
        "/__sandbox/inspector.js",
        "/__sandbox/inspector.css",
    ] {
        for headers in &cross {
            let mut h: Vec<&str> = headers.iter().map(String::as_str).collect();
            h.push(&key);
            let res = get(&a, endpoint, &format!("localhost:{port}"), &h);
            assert_eq!(res.status, 403, "{endpoint} {headers:?}");
            assert!(res.header("access-control-allow-origin").is_none());
        }
    }
    for endpoint in [
        "/__sandbox/reload.js",
        "/__sandbox/fixture.js",
        "/__sandbox/dom.js",
        "/__sandbox/config.json",
        "/__sandbox/status",
        "/__sandbox/requests",
        "/__sandbox/in-force",
    ] {
        let res = get(
            &a,
            endpoint,
            &format!("localhost:{port}"),
            &[&own, "Sec-Fetch-Site: same-origin", &key],
        );
        assert_eq!(res.status, 200, "{endpoint}");
        assert!(res
            .headers
            .iter()
            .all(|(n, _)| !n.starts_with("access-control-")));
        // No absolute paths: a page has no business learning the layout of the disk.
        let dir = d.path().canonicalize().unwrap();
        assert!(
            !res.body_text().contains(dir.to_str().unwrap()),
            "{endpoint}: {}",
            res.body_text()
        );
    }
}
