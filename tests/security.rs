//! Issue #5: the dev-server holes Vite, webpack-dev-server, Parcel, esbuild and live-server
//! shipped, tried against the real binary. Requests go out as raw bytes (`util::raw_http`)
//! wherever an HTTP client would normalise the attack away.
//!
//! Every table row is one attack input; the count is reported in the closing note.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use sandbox::serve::beneath::{Opened, Root};
use sandbox::serve::frontend::safe_relative_path;

use crate::util::raw_http::{self, addr, drip_until_closed, get, send, time_to_close};
use crate::util::sandbox::*;

/// Text that must never appear in any response: it lives outside the static root.
const OUTSIDE_SECRET: &str = "TOP-SECRET-OUTSIDE-7f3a";
/// A dot-file inside the root (`.env`): served by no request.
const DOTENV_SECRET: &str = "DOTENV-SECRET-91c2";
/// A line of /etc/passwd on every Unix.
const PASSWD: &str = "root:x:0:0";

const POLICY: &str = "allowed_origins = [\"http://karachi-dev.localhost:8080\"]\n";

/// The two-origin project plus things to attack: a secret next to the root, a dot-file, a
/// sub-folder with an index, symlinks out of the root, one inside it, and a FIFO.
fn attack_project() -> tempfile::TempDir {
    let d = project(POLICY);
    let p = d.path();
    write(p, "outside/secret.txt", OUTSIDE_SECRET);
    write(p, "web/.env", DOTENV_SECRET);
    write(p, "web/sub/index.html", "<html><body>sub</body></html>");
    write(p, "web/noindex/listed-secret-name.txt", "x");
    std::os::unix::fs::symlink(p.join("outside/secret.txt"), p.join("web/leak.txt")).unwrap();
    std::os::unix::fs::symlink(p.join("outside"), p.join("web/leakdir")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", p.join("web/passwd")).unwrap();
    std::os::unix::fs::symlink("site.css", p.join("web/alias.css")).unwrap();
    mkfifo(&p.join("web/pipe.js"));
    std::fs::create_dir_all(p.join("web/fifodir")).unwrap();
    mkfifo(&p.join("web/fifodir/index.html"));
    d
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path we own.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

fn start(d: &tempfile::TempDir) -> TestSandbox {
    TestSandbox::start(d.path(), &["--config", "sandbox.toml"])
}

fn assert_no_leak(what: &str, res: &raw_http::RawResponse) {
    let body = res.body_text();
    for secret in [
        OUTSIDE_SECRET,
        DOTENV_SECRET,
        PASSWD,
        "allowed_origins",
        "[[origin]]",
    ] {
        assert!(
            !body.contains(secret),
            "{what}: leaked {secret:?} (status {}):\n{body}",
            res.status
        );
    }
}

/// Request targets that try to leave the static root or reach hidden files. Each must be
/// refused (400 or 404) and leak nothing. Sent raw: clients would resolve `..` and drop `#`.
const TRAVERSALS: &[&str] = &[
    "/../outside/secret.txt",
    "/../../../../../../etc/passwd",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt",
    "/.%2e/outside/secret.txt",
    "/%2e./outside/secret.txt",
    "/%2e%2e%2foutside%2fsecret.txt",
    "/..%2Foutside%2Fsecret.txt",
    "/sub/..%2f..%2foutside/secret.txt",
    "/..%5coutside%5csecret.txt",
    "/sub%5c..%5c..%5coutside%5csecret.txt",
    "/..\\outside\\secret.txt",
    "/sub\\..\\..\\outside\\secret.txt",
    "/%252e%252e/outside/secret.txt",
    "/%c0%ae%c0%ae/outside/secret.txt",
    "/%ff%fe/outside/secret.txt",
    "/./../outside/secret.txt",
    "/sub/../../outside/secret.txt",
    "/sub/./../../outside/secret.txt",
    "/..;/outside/secret.txt",
    "//etc/passwd",
    "///../outside/secret.txt",
    "/%2fetc%2fpasswd",
    "/%2Fetc/passwd",
    "/.env",
    "/.env/.",
    "/%2eenv",
    "/sub/../.env",
    "/leak.txt",
    "/leakdir/secret.txt",
    "/leakdir/",
    "/passwd",
    "/site.css%00.html",
    "/index.html%00",
    "/%00",
    "/C:/Windows/win.ini",
    "/c:%5cwindows%5cwin.ini",
    "/index.html::$DATA",
    "http://localhost/../outside/secret.txt",
    "http://localhost/%2e%2e/outside/secret.txt",
];

#[test]
fn traversal_and_hidden_file_requests_are_refused_and_leak_nothing() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let ok = get(&a, "/site.css", "localhost", &[]);
    assert_eq!(ok.status, 200, "control request");
    // A symlink that stays inside the root is fine.
    let alias = get(&a, "/alias.css", "localhost", &[]);
    assert_eq!(alias.status, 200);
    assert!(alias.body_text().contains("color: red"));
    // No directory listings.
    for target in ["/noindex/", "/noindex", "/leakdir/"] {
        let res = get(&a, target, "localhost", &[]);
        assert_eq!(res.status, 404, "{target}");
        assert!(!res.body_text().contains("listed-secret-name"), "{target}");
    }
    for target in TRAVERSALS {
        let res = get(&a, target, "localhost", &[]);
        assert!(
            res.status == 400 || res.status == 404,
            "{target}: status {} (want 400 or 404)\n{}",
            res.status,
            res.body_text()
        );
        assert_no_leak(target, &res);
    }
}

/// Bytes an HTTP client would never put on the wire: raw NUL, raw control characters, a
/// space inside the target. The parser must answer 400 (never a file) and keep serving.
#[test]
fn malformed_request_lines_get_400() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let lines: &[&[u8]] = &[
        b"GET /index.html\0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /\0/../outside/secret.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /index.html\x01 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /../outside/secret .txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /\x7f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ];
    for raw in lines {
        let res = send(&a, raw);
        let shown = String::from_utf8_lossy(raw);
        assert_eq!(res.status, 400, "{shown:?}: {}", res.body_text());
        assert_no_leak(&shown, &res);
    }
    assert_eq!(get(&a, "/", "localhost", &[]).status, 200);
}

/// `#` is not allowed in a request target (RFC 9112). actix-http's URI parser cuts the target
/// at the `#` before any of our code runs, so every decision is taken on that one truncated
/// path (CVE-2025-32395 was a check and a file open seeing different forms): whatever
/// follows `#` can never reach the file lookup.
#[test]
fn fragment_in_the_request_target_never_reaches_the_file_lookup() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    for target in [
        "/#/../outside/secret.txt",
        "/#/../../../../etc/passwd",
        "/index.html#/../../outside/secret.txt",
        "/sub/#/../../outside/secret.txt",
        "/site.css?x#/../outside/secret.txt",
        "/leak.txt#",
        "/%23/../outside/secret.txt",
        "/.env#",
    ] {
        let res = get(&a, target, "localhost", &[]);
        assert_no_leak(target, &res);
        assert_ne!(res.status, 0, "{target}: no answer");
    }
}

#[test]
fn fifos_are_refused_without_blocking_a_worker() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    // More requests at once than the server has workers: a FIFO opened for reading blocks
    // until a writer appears, so if any of these reached `open`, the others would queue.
    let started = Instant::now();
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let a = a.clone();
            std::thread::spawn(move || {
                let t = if i % 2 == 0 { "/pipe.js" } else { "/fifodir/" };
                get(&a, t, "localhost", &[]).status
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 404);
    }
    assert!(started.elapsed() < DEADLINE, "FIFO requests were slow");
    assert_eq!(get(&a, "/index.html", "localhost", &[]).status, 200);
}

#[test]
fn not_found_pages_escape_what_they_echo() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let res = get(&a, "/x\"'&y.html", "localhost", &[]);
    assert_eq!(res.status, 404);
    let body = res.body_text();
    assert!(body.contains("x&quot;&#39;&amp;y.html"), "{body}");
    assert!(!body.contains("x\"'&y"), "{body}");
    // Percent-encoded markup is echoed still encoded, never decoded into the page.
    let res = get(&a, "/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "localhost", &[]);
    assert_eq!(res.status, 404);
    assert!(!res.body_text().contains("<script"), "{}", res.body_text());
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert!(res
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
}

#[test]
fn folder_redirects_stay_on_this_host() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    for target in ["/sub", "//sub", "///sub"] {
        let res = get(&a, target, "localhost", &[]);
        assert_eq!(res.status, 307, "{target}");
        let loc = res.header("location").unwrap();
        assert_eq!(
            loc, "/sub/",
            "{target}: a Location starting `//` leaves the host"
        );
    }
}

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
        &[
            "Sec-Fetch-Site: same-site",
            "Sec-Fetch-Mode: no-cors",
            "Sec-Fetch-Dest: style",
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

/// The `/__sandbox/*` endpoints (event stream, scripts, status, the inspector and its data)
/// answer only their own origin's pages and never carry `Access-Control-Allow-Origin`.
#[test]
fn sandbox_endpoints_are_same_origin_only() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let port = a.rsplit(':').next().unwrap().to_string();
    let own = format!("Origin: http://localhost:{port}");
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
            let h: Vec<&str> = headers.iter().map(String::as_str).collect();
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
            &[&own, "Sec-Fetch-Site: same-origin"],
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

fn put_with_body(a: &str, len: usize, chunked: bool) -> raw_http::RawResponse {
    let body = vec![b'x'; len];
    let mut req = b"PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nConnection: close\r\n".to_vec();
    if chunked {
        req.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in body.chunks(64 * 1024) {
            req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            req.extend_from_slice(chunk);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
    } else {
        req.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
        req.extend_from_slice(&body);
    }
    send(a, &req)
}

#[test]
fn api_bodies_over_one_mebibyte_get_413() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    assert_eq!(put_with_body(&a, 1000, false).status, 200);
    assert_eq!(put_with_body(&a, 1024 * 1024, false).status, 200);
    assert_eq!(put_with_body(&a, 1024 * 1024 + 1, false).status, 413);
    assert_eq!(put_with_body(&a, 3 * 1024 * 1024, false).status, 413);
    assert_eq!(put_with_body(&a, 1000, true).status, 200);
    assert_eq!(put_with_body(&a, 3 * 1024 * 1024, true).status, 413);
    // The server is still fine.
    assert_eq!(get(&a, "/api/student", "localhost", &[]).status, 200);
}

/// actix-http refuses request heads over 128 KiB or with more than 96 header lines with 431
/// (its `MAX_BUFFER_SIZE` and `MAX_HEADERS`; not configurable, and small enough).
#[test]
fn oversized_request_heads_get_431_on_every_origin() {
    let d = attack_project();
    let sb = start(&d);
    for origin in ["frontend", "api"] {
        let a = addr(sb.url(origin)).to_string();
        let big = format!("X-Big: {}", "a".repeat(200 * 1024));
        let res = get(&a, "/", "localhost", &[&big]);
        assert_eq!(res.status, 431, "{origin}: one 200 KiB header");
        let many: Vec<String> = (0..120).map(|i| format!("X-H{i}: v")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let res = get(&a, "/", "localhost", &many);
        assert_eq!(res.status, 431, "{origin}: 120 headers");
        let long_target = format!("/{}", "a".repeat(200 * 1024));
        let res = get(&a, &long_target, "localhost", &[]);
        assert_eq!(res.status, 431, "{origin}: 200 KiB target");
        // Still serving.
        let t = if origin == "api" {
            "/api/student"
        } else {
            "/site.css"
        };
        assert_eq!(get(&a, t, "localhost", &[]).status, 200);
    }
}

/// Slowloris: a client that sends part of a request head and stalls is cut off after the
/// 5 s client request timeout, on every origin; so is one that sends a head and part of the
/// body it announced (a "slow POST", which the head timeout alone does not cover). All cases
/// run at once to keep the test short.
#[test]
fn slow_clients_are_cut_off() {
    let d = attack_project();
    let sb = start(&d);
    let limit = Duration::from_secs(9);
    let slow_body: &[u8] =
        b"PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789";
    let mut cases = Vec::new();
    for origin in ["frontend", "api"] {
        let a = addr(sb.url(origin)).to_string();
        let mut prefixes: Vec<&[u8]> = vec![
            b"GET / HTTP/1.1\r\nHost: local",
            b"GET / HTTP/1.1\r\nHost: localhost\r\n",
            b"",
        ];
        if origin == "api" {
            prefixes.push(slow_body);
        }
        for p in prefixes {
            let a = a.clone();
            cases.push((
                format!("{origin} {:?}", String::from_utf8_lossy(p)),
                p == slow_body,
                std::thread::spawn(move || time_to_close(&a, p, limit)),
            ));
        }
    }
    // Dripping a byte every 300 ms does not restart the clock: the deadline is for the whole
    // head, and for the whole body.
    let drips: [(&str, &[u8], &[u8]); 2] = [
        ("frontend", b"GET / HTTP/1.1\r\nX-Drip: ", b"abcdefgh"),
        ("api", slow_body, b"0123456789"),
    ];
    for (origin, prefix, drip) in drips {
        let a = addr(sb.url(origin)).to_string();
        let every = Duration::from_millis(300);
        cases.push((
            format!(
                "{origin} dripping after {:?}",
                String::from_utf8_lossy(prefix)
            ),
            origin == "api",
            std::thread::spawn(move || drip_until_closed(&a, prefix, drip, every, limit)),
        ));
    }
    for (what, is_slow_body, h) in cases {
        let (took, got) = h.join().unwrap();
        let took = took.unwrap_or_else(|| panic!("{what}: still open after {limit:?}"));
        assert!(
            took >= Duration::from_secs(4),
            "{what}: closed early ({took:?})"
        );
        let text = String::from_utf8_lossy(&got);
        if is_slow_body {
            assert!(text.starts_with("HTTP/1.1 408"), "{what}: {text}");
        } else {
            assert!(
                got.is_empty() || text.starts_with("HTTP/1.1 408"),
                "{what}: {text}"
            );
        }
    }
}

/// Route path parameters select a route; they are never joined onto a file path. Bodies
/// from `file = …` are read when the routes load, so a request cannot name a file at all.
#[test]
fn api_path_parameters_never_reach_the_file_system() {
    let d = attack_project();
    write(d.path(), "data.json", "{\"from\": \"data.json\"}");
    write(
        d.path(),
        "api.toml",
        "[[route]]\npath = \"/api/files/{name}\"\nfile = \"data.json\"\n\n[[route]]\npath = \"/api/echo/{name}\"\nbody = \"fixed\"\n",
    );
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    let targets = [
        "/api/files/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/api/files/..%2fapi.toml",
        "/api/files/..%2Foutside%2Fsecret.txt",
        "/api/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/files/..%5c..%5cetc%5cpasswd",
        "/api/files/%2fetc%2fpasswd",
        "/api/files/../../etc/passwd",
        "/api/files/../../outside/secret.txt",
        "/api/files/..",
        "/api/files/sandbox.toml",
        "/api/files/cors.toml",
        "/api/echo/..%2f..%2fetc%2fpasswd",
        "/api/../../../etc/passwd",
        "/api/%2e%2e/%2e%2e/etc/passwd",
        "/../../etc/passwd",
    ];
    for target in targets {
        let res = get(&a, target, "localhost", &[]);
        assert_ne!(res.status, 0, "{target}");
        assert_no_leak(target, &res);
        let body = res.body_text();
        assert!(
            res.status != 200 || body.contains("data.json") || body == "fixed",
            "{target}: {body}"
        );
    }
}

/// `--host` moves every listener; without it every listener is on 127.0.0.1.
#[test]
fn listeners_bind_loopback_by_default_and_follow_host() {
    let d = attack_project();
    let sb = start(&d);
    let listening: Vec<_> = sb
        .events()
        .into_iter()
        .filter(|e| e["event"] == "listening")
        .collect();
    assert_eq!(listening.len(), 2);
    for e in &listening {
        assert!(e["bind"].as_str().unwrap().starts_with("127.0.0.1:"), "{e}");
    }
    assert!(!sb.events().iter().any(
        |e| e["event"] == "warning" && e["message"].as_str().unwrap_or("").contains("exposes")
    ));
    drop(sb);

    // Another loopback address (no network exposure in a test): every listener moves there.
    let sb = TestSandbox::start(
        d.path(),
        &["--config", "sandbox.toml", "--host", "127.0.0.2"],
    );
    for e in sb
        .events()
        .into_iter()
        .filter(|e| e["event"] == "listening")
    {
        let bind = e["bind"].as_str().unwrap().to_string();
        assert!(bind.starts_with("127.0.0.2:"), "{e}");
        let port = bind.rsplit(':').next().unwrap();
        assert!(
            std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
            "{} still reachable on 127.0.0.1",
            e["name"]
        );
        let res = get(&bind, "/", "localhost", &[]);
        assert_ne!(res.status, 0, "{bind} not serving");
        // The address it was told to bind is a name it answers to.
        let res = get(&bind, "/", &bind, &[]);
        assert_ne!(res.status, 403, "{bind} refuses its own address as Host");
    }
}

/// Runs the command in a network namespace of its own, where a wide bind reaches nobody.
fn in_private_network(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: unshare(2) between fork and exec touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `--host 0.0.0.0` moves every listener and prints a warning. Run in a private network
/// namespace so the test exposes nothing; skipped (with the reason) where that needs
/// privileges this process lacks.
#[test]
fn a_wide_bind_warns_and_moves_every_listener() {
    let mut probe = std::process::Command::new(BIN);
    probe.arg("--version").stdout(std::process::Stdio::null());
    in_private_network(&mut probe);
    if let Err(e) = probe.status() {
        println!("SKIPPED a_wide_bind_warns: cannot create a private network namespace ({e})");
        return;
    }
    let d = attack_project();
    let sb = TestSandbox::start_with(
        d.path(),
        &["--config", "sandbox.toml", "--host", "0.0.0.0"],
        in_private_network,
    );
    let events = sb.events();
    let listening: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "listening")
        .collect();
    assert_eq!(listening.len(), 2);
    for e in listening {
        let bind = e["bind"].as_str().unwrap();
        assert!(bind.starts_with("0.0.0.0:"), "{e}");
        // Proof the namespace is private: not even this machine's loopback reaches it.
        let port = bind.rsplit(':').next().unwrap();
        assert!(std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err());
    }
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "warning"
                && e["message"].as_str().unwrap_or("").contains("0.0.0.0")),
        "no warning for a wide bind:\n{}",
        sb.output()
    );
}

/// Route header values with CR, LF or NUL, and framing headers, are refused when the routes
/// load (at startup, exit 2) and on reload (last good kept): response splitting is
/// impossible.
#[test]
fn route_headers_that_could_split_a_response_are_refused() {
    let bad = [
        (
            "headers = { \"X-A\" = \"a\\r\\nSet-Cookie: x=1\" }",
            "CR, LF or NUL",
        ),
        ("headers = { \"X-A\" = \"a\\nb\" }", "CR, LF or NUL"),
        ("headers = { \"X-A\" = \"a\\u0000b\" }", "CR, LF or NUL"),
        ("headers = { \"Content-Length\" = \"0\" }", "content-length"),
        (
            "headers = { \"Transfer-Encoding\" = \"chunked\" }",
            "transfer-encoding",
        ),
        ("headers = { \"X A\" = \"1\" }", "X A"),
    ];
    for (line, want) in bad {
        let d = attack_project();
        write(
            d.path(),
            "api.toml",
            &format!("[[route]]\npath = \"/x\"\n{line}\n"),
        );
        let (code, out, err) = run_cli(d.path(), &["up", "--config", "sandbox.toml"]);
        let all = format!("{out}{err}");
        assert_eq!(code, 2, "{line}: {all}");
        assert!(
            all.to_lowercase().contains(&want.to_lowercase()),
            "{line}: {all}"
        );
    }
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    for (line, _) in bad {
        let before = sb.event_count();
        save(
            &d.path().join("api.toml"),
            &format!("[[route]]\npath = \"/api/student\"\n{line}\n"),
            SaveStyle::Rename,
        );
        sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        let res = get(&a, "/api/student", "localhost", &[]);
        assert_eq!(res.status, 200);
        assert!(
            res.body_text().contains("Ahmad"),
            "{line}: last good routes kept"
        );
        assert!(res.header("set-cookie").is_none());
    }
}

fn attack_root() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, "outside/secret.txt", OUTSIDE_SECRET);
    write(p, "root/index.html", "hi");
    write(p, "root/a/b.txt", "b");
    write(p, "root/.env", DOTENV_SECRET);
    std::os::unix::fs::symlink(p.join("outside/secret.txt"), p.join("root/leak")).unwrap();
    std::os::unix::fs::symlink(p.join("outside"), p.join("root/a/up")).unwrap();
    std::os::unix::fs::symlink("..", p.join("root/a/parent")).unwrap();
    std::os::unix::fs::symlink("../..", p.join("root/a/grand")).unwrap();
    std::os::unix::fs::symlink("/", p.join("root/slash")).unwrap();
    d
}

/// Pieces an attacker would combine into a request path.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "..", ".", "", "%2e%2e", "%2E%2e", ".%2e", "%2e", "%2f", "%2F", "%5c", "\\", "%00",
            "..%2f", "..%5c", "%252e%252e", "%c0%ae", "a", "b.txt", "index.html", "leak", "up",
            "parent", "grand", "slash", "outside", "secret.txt", "etc", "passwd", ".env", "C:",
            "~", "%2fetc", "#", "?", ";", "%",
        ])
        .prop_map(str::to_string),
        1 => "[ -~]{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whatever path is requested, anything the static origin would open is a regular file
    /// inside the canonical root, never the secret beside it.
    #[test]
    fn no_request_path_resolves_outside_the_static_root(
        segs in prop::collection::vec(segment(), 0..8),
        lead in prop::sample::select(vec!["/", "//", "", "/./"]),
        joiner in prop::sample::select(vec!["/", "//", "/./"]),
    ) {
        thread_local! {
            static ROOT: tempfile::TempDir = attack_root();
        }
        let raw = format!("{lead}{}", segs.join(joiner));
        ROOT.with(|d| {
            let root = d.path().join("root");
            let croot = root.canonicalize().unwrap();
            if let Ok(rel) = safe_relative_path(&raw) {
                prop_assert!(rel.is_relative(), "{raw:?} -> {rel:?}");
                prop_assert!(
                    rel.components().all(|c| matches!(c, std::path::Component::Normal(_))),
                    "{raw:?} -> {rel:?}"
                );
                if let Ok(found) = Root::new(&root).open(&rel) {
                    let (file, p) = match found {
                        Opened::File(f, p) | Opened::DirIndex(f, p) => (f, p),
                    };
                    prop_assert!(p.starts_with(&croot), "{raw:?} -> {}", p.display());
                    prop_assert!(file.metadata().unwrap().is_file());
                    let mut text = String::new();
                    let _ = std::io::Read::read_to_string(&mut &file, &mut text);
                    prop_assert!(!text.contains(OUTSIDE_SECRET), "{raw:?}");
                    prop_assert!(!text.contains(DOTENV_SECRET), "{raw:?}");
                }
            }
            Ok(())
        })?;
    }
}
