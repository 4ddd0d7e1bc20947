//! Issue #15, items 12 and 14: same-site pages on another port cannot run or apply the
//! bundles, Host names must be DNS names, no redirect is protocol-relative, and upper-case
//! `.HTML` pages get the reload script like any other.
//!
//! Attack inputs: every row of `refused` (5), `BAD_HOSTS` (9) and `ODD_TARGETS` (3); the
//! `allowed` rows and the `.HTML` pages are controls.

use super::{attack_project, start};
use crate::util::raw_http::{addr, get, send};
use crate::util::sandbox::write;

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

/// Host names that only end in `.localhost`: each label must be letters, digits and inner
/// hyphens, 1 to 63 of them.
const BAD_HOSTS: [&str; 9] = [
    "evil.com#.localhost",
    "a..localhost",
    ".localhost",
    "-a.localhost",
    "a-.localhost",
    "a_b.localhost",
    "evil.com%2e.localhost",
    "a b.localhost",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.localhost",
];

#[test]
fn host_names_must_be_dns_names_not_just_a_suffix() {
    let d = attack_project();
    let sb = start(&d);
    for origin in ["frontend", "api"] {
        let a = addr(sb.url(origin)).to_string();
        for bad in BAD_HOSTS {
            let res = get(&a, "/", bad, &[]);
            assert_eq!(res.status, 403, "{origin}: Host {bad:?}");
        }
        for good in [
            "a.localhost",
            "a-b.c9.localhost",
            "localhost",
            "karachi-dev.localhost",
        ] {
            let res = get(&a, "/", good, &[]);
            assert_ne!(res.status, 403, "{origin}: Host {good:?}");
        }
    }
}

/// Request targets with no path: the redirect to the folder's slash must be `/`, never
/// `//…`, which a browser reads as another host.
const ODD_TARGETS: [&[u8]; 3] = [
    b"CONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"CONNECT evil.example:443 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    b"GET http://localhost HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
];

#[test]
fn no_redirect_is_protocol_relative() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    for raw in ODD_TARGETS {
        let res = send(&a, raw);
        let shown = String::from_utf8_lossy(raw);
        assert_ne!(res.status, 0, "{shown:?}");
        if let Some(location) = res.header("location") {
            assert!(
                location.starts_with('/') && !location.starts_with("//"),
                "{shown:?}: Location {location:?}"
            );
        }
    }
}

/// The reload script goes into `.HTML` and `.Htm` pages as into `.html` ones.
#[test]
fn upper_case_html_pages_get_the_reload_script() {
    let d = attack_project();
    write(
        d.path(),
        "web/UPPER.HTML",
        "<html><body>upper</body></html>",
    );
    write(d.path(), "web/mixed.Htm", "<html><body>mixed</body></html>");
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    for target in ["/UPPER.HTML", "/mixed.Htm"] {
        let res = get(&a, target, "localhost", &[]);
        assert_eq!(res.status, 200, "{target}");
        assert!(
            res.body_text().contains("/__sandbox/reload.js"),
            "{target}: {}",
            res.body_text()
        );
    }
}
