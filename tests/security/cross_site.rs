//! Other sites can neither read nor embed the sandbox's files: the static origin sends no
//! CORS headers, cross-site no-cors loads are refused, and every origin refuses a foreign Host
//! header (DNS rebinding).
//!
//! Every row of `refused` and of `BAD_HOSTS` is one attack input (the `allowed` and good-host
//! rows are controls), counted with the other `security` modules' rows in issue #5's closing
//! note.

use super::{attack_project, start};
use crate::util::raw_http::{addr, get, send};

#[test]
fn static_origin_sends_no_cors_headers_and_nosniff() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    for target in ["/", "/site.css", "/nope.js", "/sub"] {
        let res = get(
            &a,
            target,
            "localhost",
            &["Origin: http://evil.example", "Sec-Fetch-Mode: cors"],
        );
        assert_ne!(res.status, 0, "{target}");
        for (name, _) in &res.headers {
            assert!(
                !name.starts_with("access-control-"),
                "{target}: {name} on the static origin"
            );
        }
        if res.status != 307 {
            assert_eq!(
                res.header("x-content-type-options"),
                Some("nosniff"),
                "{target}"
            );
        }
    }
    // A preflight gets no CORS answer either.
    let res = send(
        &a,
        b"OPTIONS /site.css HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n",
    );
    assert!(res
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with("access-control-")));
}

/// Another site's `<script src>`, `<link rel=stylesheet>` or `<img>` (webpack-dev-server
/// CVE-2025-30359): refused; navigations and the page's own loads are not.
#[test]
fn cross_site_no_cors_loads_are_refused() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let refused: &[(&str, &[&str])] = &[
        (
            "/site.css",
            &[
                "Sec-Fetch-Site: cross-site",
                "Sec-Fetch-Mode: no-cors",
                "Sec-Fetch-Dest: style",
            ],
        ),
        (
            "/index.html",
            &[
                "Sec-Fetch-Site: cross-site",
                "Sec-Fetch-Mode: no-cors",
                "Sec-Fetch-Dest: script",
            ],
        ),
        (
            "/sub/",
            &[
                "Sec-Fetch-Site: cross-site",
                "Sec-Fetch-Mode: no-cors",
                "Sec-Fetch-Dest: image",
            ],
        ),
        (
            "/nope.js",
            &["sec-fetch-site: CROSS-SITE", "sec-fetch-mode: No-Cors"],
        ),
    ];
    for (target, headers) in refused {
        let res = get(&a, target, "localhost", headers);
        assert_eq!(res.status, 403, "{target} {headers:?}");
        assert!(!res.body_text().contains("color: red"));
    }
    let allowed: &[&[&str]] = &[
        &[
            "Sec-Fetch-Site: same-origin",
            "Sec-Fetch-Mode: no-cors",
            "Sec-Fetch-Dest: style",
        ],
        // A same-site image (another port's page): a same-site stylesheet or script is
        // refused (`round_two`), an image reveals nothing.
        &[
            "Sec-Fetch-Site: same-site",
            "Sec-Fetch-Mode: no-cors",
            "Sec-Fetch-Dest: image",
        ],
        &[
            "Sec-Fetch-Site: cross-site",
            "Sec-Fetch-Mode: navigate",
            "Sec-Fetch-Dest: document",
        ],
        &["Sec-Fetch-Site: none", "Sec-Fetch-Mode: navigate"],
        &[],
    ];
    for headers in allowed {
        let res = get(&a, "/site.css", "localhost", headers);
        assert_eq!(res.status, 200, "{headers:?}");
    }
    // A sandboxed iframe of this origin's own page (an opaque origin, so "cross-site") still
    // names the page in Referer; a foreign page cannot.
    let no_cors = ["Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: no-cors"];
    let port = a.rsplit(':').next().unwrap();
    let host = format!("localhost:{port}");
    let own = format!("Referer: http://localhost:{port}/widget.html");
    let res = get(&a, "/site.css", &host, &[no_cors[0], no_cors[1], &own]);
    assert_eq!(res.status, 200, "own page's sandboxed iframe");
    for foreign in [
        "Referer: http://evil.example/".to_string(),
        format!("Referer: http://localhost:{port}.evil.example/"),
        format!(
            "Referer: http://localhost:{}/",
            port.parse::<u32>().unwrap() + 1
        ),
    ] {
        let res = get(&a, "/site.css", &host, &[no_cors[0], no_cors[1], &foreign]);
        assert_eq!(res.status, 403, "{foreign}");
    }
}

/// DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 still says `Host:
/// evil.example`. Every origin checks Host before routing; each row is one Host header.
const BAD_HOSTS: &[&str] = &[
    "Host: evil.example",
    "Host: evil.example:8080",
    "Host: localhost.evil.example",
    "Host: evil.example.",
    "Host: 127.0.0.1.nip.io",
    "Host: 0.0.0.0",
    "Host: 0.0.0.0:8080",
    "Host: 127.0.0.2",
    "Host: 127.1",
    "Host: 2130706433",
    "Host: 0x7f000001",
    "Host: [::ffff:127.0.0.1]",
    "Host: [::]",
    "Host: localhost:80:80",
    "Host: localhost:99999",
    "Host: localhost@evil.example",
    "Host: evil.example@localhost",
    "Host: evil.example/localhost",
    "Host: evil.example\\localhost",
    "Host: localhost evil.example",
    "Host: ",
    "Host: localhost\r\nHost: evil.example",
    "Host: evil.example\r\nHost: localhost",
];

#[test]
fn foreign_host_headers_are_refused_on_every_origin() {
    let d = attack_project();
    let sb = start(&d);
    for origin in ["frontend", "api"] {
        let a = addr(sb.url(origin)).to_string();
        for host in BAD_HOSTS {
            let target = if origin == "api" {
                "/api/student"
            } else {
                "/site.css"
            };
            let raw = format!("GET {target} HTTP/1.1\r\n{host}\r\nConnection: close\r\n\r\n");
            let res = send(&a, raw.as_bytes());
            assert!(
                res.status == 403 || res.status == 400,
                "{origin} {host:?}: status {}",
                res.status
            );
            assert!(!res.body_text().contains("Ahmad") && !res.body_text().contains("color"));
        }
        // No Host at all (HTTP/1.0 allows it; a browser never omits it).
        let res = send(&a, b"GET / HTTP/1.0\r\n\r\n");
        assert!(res.status == 403 || res.status == 400, "{origin} no Host");
        for good in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "[::1]",
            "anything.localhost",
            "karachi-dev.localhost",
            "lahore-api.localhost:3000",
        ] {
            let target = if origin == "api" {
                "/api/student"
            } else {
                "/site.css"
            };
            assert_eq!(get(&a, target, good, &[]).status, 200, "{origin} {good}");
        }
    }
}
