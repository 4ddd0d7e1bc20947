//! Issue #15, item 12: same-site pages on another port cannot run or apply the bundles.
//!
//! Attack inputs: every row of `refused` (5); the `allowed` rows are controls.

use super::{attack_project, start};
use crate::util::raw_http::{addr, get};

/// `localhost:5173` loading `localhost:8080/app.js` is `Sec-Fetch-Site: same-site`: a
/// classic script or stylesheet load from another port is refused like a cross-site one,
/// unless the Referer is a page of this origin. Images stay allowed, as before.
#[test]
fn same_site_script_and_style_loads_from_another_port_are_refused() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let port: u16 = a.rsplit(':').next().unwrap().parse().unwrap();
    let other_port = format!("Referer: http://localhost:{}/", port.wrapping_add(1));
    let own = format!("Referer: http://localhost:{port}/index.html");
    let site = "Sec-Fetch-Site: same-site";
    let no_cors = "Sec-Fetch-Mode: no-cors";
    let host = format!("localhost:{port}");
    let refused: Vec<(&str, Vec<&str>)> = vec![
        ("/site.css", vec![site, no_cors, "Sec-Fetch-Dest: style"]),
        ("/index.html", vec![site, no_cors, "Sec-Fetch-Dest: script"]),
        (
            "/site.css",
            vec![site, no_cors, "Sec-Fetch-Dest: script", &other_port],
        ),
        (
            "/site.css",
            vec![
                "Sec-Fetch-Site: Same-Site",
                "Sec-Fetch-Mode: NO-CORS",
                "Sec-Fetch-Dest: Script",
            ],
        ),
        (
            "/site.css",
            vec![
                site,
                no_cors,
                "Sec-Fetch-Dest: style",
                "Referer: http://localhost/",
            ],
        ),
    ];
    for (target, headers) in &refused {
        let res = get(&a, target, &host, headers);
        assert_eq!(res.status, 403, "{target} {headers:?}");
        assert!(
            !res.body_text().contains("color: red"),
            "{target} {headers:?}"
        );
    }
    let allowed: Vec<(&str, Vec<&str>)> = vec![
        (
            "/site.css",
            vec![site, no_cors, "Sec-Fetch-Dest: style", &own],
        ),
        ("/site.css", vec![site, no_cors, "Sec-Fetch-Dest: image"]),
        (
            "/index.html",
            vec![site, "Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document"],
        ),
        (
            "/site.css",
            vec![site, "Sec-Fetch-Mode: cors", "Sec-Fetch-Dest: empty"],
        ),
        (
            "/site.css",
            vec![
                "Sec-Fetch-Site: same-origin",
                no_cors,
                "Sec-Fetch-Dest: style",
            ],
        ),
    ];
    for (target, headers) in &allowed {
        let res = get(&a, target, &host, headers);
        assert_eq!(res.status, 200, "{target} {headers:?}");
    }
}
