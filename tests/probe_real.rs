//! `probe` against real servers, every case held against real headless Chromium fetching
//! the same URL from a page on a `*.localhost` origin: a raw server for framings a library
//! will not produce (1xx interim answers, obs-fold, LF-only, a NUL), redirects with the
//! browser's per-hop rules, a server on `[::1]` only, and Debian's nginx over TLS (a
//! certificate from a test CA, one from a CA nobody trusts) with HTTP/2 and its CORS
//! snippets with and without `always`. Outcome, `cors_error`, the console message and the
//! `net::` error must agree.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::chromium::{self, Browser, Page};
use crate::util::fetch_oracle::{self, Saw};
use crate::util::nginx::{free_port, Nginx};
use crate::util::sandbox::run_cli;
use crate::util::tls::Ca;
use crate::util::wire_server::{Reply, WireRequest, WireServer};

/// Answers by path, the same on every host name (the page's, the API's, the other API's).
fn answer(r: &WireRequest) -> Reply {
    let origin = r.header("origin").unwrap_or("").to_string();
    let pre = r.method == "OPTIONS";
    let path = r.path.split('?').next().unwrap_or("");
    match path {
        "/page" => Reply::http(
            "HTTP/1.1 200 OK",
            &[("Content-Type", "text/html")],
            &fetch_oracle::runner_page(),
        ),
        "/star" => Reply::http(
            "HTTP/1.1 200 OK",
            &[("Access-Control-Allow-Origin", "*")],
            "ok",
        ),
        "/missing" => Reply::http("HTTP/1.1 200 OK", &[], "ok"),
        "/hints-ok" => interim(
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
            "/star",
        ),
        "/hints-misleading" => interim(
            "HTTP/1.1 103 Early Hints\r\nAccess-Control-Allow-Origin: *\r\n\r\n",
            "/missing",
        ),
        "/continue" => interim("HTTP/1.1 100 Continue\r\n\r\n", "/star"),
        "/fold" => raw("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin:\r\n *\r\nX-Folded: a,\r\n\tb\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
        "/lf" => raw("HTTP/1.1 200 OK\nAccess-Control-Allow-Origin: *\nContent-Length: 2\nConnection: close\n\nok"),
        "/nul" => raw("HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nX-Bad: a\0b\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
        "/drip" => Reply::Drip {
            bytes: b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            every: Duration::from_millis(100),
        },
        "/hidden" => Reply::http(
            "HTTP/1.1 200 OK",
            &[("Access-Control-Allow-Origin", "*"), ("X-Total-Count", "3")],
            "[]",
        ),
        "/put-redirect" if pre => allow_put(&origin),
        "/put-redirect" => {
            let target = format!("http://other.localhost:{}/put-target", port_of(&r.host));
            Reply::http(
                "HTTP/1.1 307 Temporary Redirect",
                &[("Location", &target), ("Access-Control-Allow-Origin", &origin)],
                "",
            )
        }
        // Allows only the tainted origin `null`: what a second preflight after a
        // cross-origin hop carries.
        "/put-target" if pre => allow_put("null"),
        "/put-target" => Reply::http(
            "HTTP/1.1 200 OK",
            &[("Access-Control-Allow-Origin", "null")],
            "put",
        ),
        "/post303" => Reply::http(
            "HTTP/1.1 303 See Other",
            &[("Location", "/got"), ("Access-Control-Allow-Origin", "*")],
            "",
        ),
        "/got" => Reply::http(
            "HTTP/1.1 200 OK",
            &[("Access-Control-Allow-Origin", "*")],
            "got",
        ),
        "/reflect-hop" => {
            let target = format!("http://other.localhost:{}/reflect", port_of(&r.host));
            Reply::http(
                "HTTP/1.1 302 Found",
                &[("Location", &target), ("Access-Control-Allow-Origin", &origin)],
                "",
            )
        }
        "/reflect" => Reply::http(
            "HTTP/1.1 200 OK",
            &[("Access-Control-Allow-Origin", &origin), ("Access-Control-Allow-Credentials", "true")],
            "reflected",
        ),
        "/cred-redirect" => {
            let target = format!("http://u:p@other.localhost:{}/star", port_of(&r.host));
            Reply::http(
                "HTTP/1.1 302 Found",
                &[("Location", &target), ("Access-Control-Allow-Origin", "*")],
                "",
            )
        }
        "/loop" => Reply::http(
            "HTTP/1.1 302 Found",
            &[("Location", "/loop"), ("Access-Control-Allow-Origin", "*")],
            "",
        ),
        "/error-500" if pre => allow_put(&origin),
        "/error-500" => Reply::http("HTTP/1.1 500 Internal Server Error", &[], "boom"),
        "/starlette" if pre => Reply::http(
            "HTTP/1.1 400 Bad Request",
            &[
                ("Access-Control-Allow-Origin", &origin),
                ("Content-Type", "text/plain; charset=utf-8"),
            ],
            "Disallowed CORS method, headers",
        ),
        _ => Reply::http("HTTP/1.1 404 Not Found", &[], "no such case"),
    }
}

/// The raw server on 127.0.0.1, answering by [`answer`].
fn wire_server() -> WireServer {
    WireServer::start("127.0.0.1", Arc::new(answer)).unwrap()
}

fn raw(text: &str) -> Reply {
    Reply::Bytes(text.as_bytes().to_vec())
}

/// An interim answer followed by the final answer of `path`.
fn interim(head: &str, path: &str) -> Reply {
    let Reply::Bytes(rest) = answer(&WireRequest {
        method: "GET".into(),
        path: path.into(),
        host: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
    }) else {
        unreachable!()
    };
    let mut out = head.as_bytes().to_vec();
    out.extend(rest);
    Reply::Bytes(out)
}

fn allow_put(origin: &str) -> Reply {
    Reply::http(
        "HTTP/1.1 204 No Content",
        &[
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "content-type"),
        ],
        "",
    )
}

fn port_of(host: &str) -> &str {
    host.rsplit(':').next().unwrap_or("")
}

/// One case: what the page fetches, and extra probe flags (TLS trust).
struct Case {
    name: &'static str,
    url: String,
    method: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<&'static str>,
    credentials: &'static str,
    probe_flags: Vec<String>,
}

impl Case {
    fn get(name: &'static str, url: String) -> Case {
        Case {
            name,
            url,
            method: "GET",
            headers: Vec::new(),
            body: None,
            credentials: "same-origin",
            probe_flags: Vec::new(),
        }
    }

    fn credentialed(mut self) -> Case {
        self.credentials = "include";
        self
    }

    fn with(mut self, method: &'static str, headers: &[(&'static str, &'static str)]) -> Case {
        self.method = method;
        self.headers = headers.to_vec();
        self
    }
}

fn probe(dir: &Path, case: &Case, origin: &str) -> Value {
    let mut args: Vec<String> = vec![
        "probe".into(),
        case.url.clone(),
        "--origin".into(),
        origin.into(),
        "-X".into(),
        case.method.into(),
        "--json".into(),
        "--timeout".into(),
        "5".into(),
        "--credentials".into(),
        case.credentials.into(),
    ];
    for (n, v) in &case.headers {
        args.push("-H".into());
        args.push(format!("{n}: {v}"));
    }
    if let Some(b) = case.body {
        args.push("--data".into());
        args.push(b.into());
    }
    args.extend(case.probe_flags.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_cli(dir, &refs);
    assert_eq!(code, 0, "{}: probe failed: {err}{out}", case.name);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: {e}: {out}", case.name))
}

/// Where probe and Chromium differ on one case, one line each.
fn disagreements(case: &Case, v: &Value, saw: &Saw) -> Vec<String> {
    let mut out = Vec::new();
    let outcome = if saw.allowed { "allowed" } else { "blocked" };
    if v["outcome"] != outcome {
        out.push(format!(
            "outcome: chromium {outcome}, probe {}",
            v["outcome"]
        ));
    }
    if saw.allowed {
        let mut readable: Vec<String> = v["readable_headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        readable.sort();
        let mut theirs = saw.readable.clone();
        theirs.sort();
        if readable != theirs {
            out.push(format!("readable: chromium {theirs:?}, probe {readable:?}"));
        }
    }
    let probe_error = v["cors_error"].as_str().map(str::to_string);
    if probe_error != saw.cors_error {
        out.push(format!(
            "cors_error: chromium {:?}, probe {probe_error:?}",
            saw.cors_error
        ));
    }
    if let Some(m) = &saw.message {
        if v["message"].as_str() != Some(m) {
            out.push(format!("message: chromium {m:?}, probe {}", v["message"]));
        }
    } else if !saw.allowed && saw.cors_error.is_none() {
        if v["net_error"].as_str() != saw.net_error.as_deref() {
            out.push(format!(
                "net_error: chromium {:?}, probe {}",
                saw.net_error, v["net_error"]
            ));
        }
        if v["message"].as_str() != saw.script_error.as_deref() {
            out.push(format!(
                "message: chromium {:?}, probe {}",
                saw.script_error, v["message"]
            ));
        }
    }
    out.into_iter()
        .map(|d| format!("{}: {d}", case.name))
        .collect()
}

struct Servers {
    wire: WireServer,
    v6: WireServer,
    _nginx: Nginx,
    tls_trusted: u16,
    tls_untrusted: u16,
    plain: u16,
    secure_page: u16,
    ca_pem: String,
    spki: String,
    _dir: tempfile::TempDir,
}

/// The nginx side: its ports and the trust material the probe and Chromium are given.
struct NginxSide {
    nginx: Nginx,
    tls_trusted: u16,
    tls_untrusted: u16,
    plain: u16,
    /// Serves the runner page at `https://secure.test:PORT/`.
    secure_page: u16,
    ca_pem: String,
    spki: String,
}

fn nginx_servers(dir: &Path, wire_port: u16) -> NginxSide {
    let ca = Ca::create(dir, "trusted");
    let rogue = Ca::create(dir, "rogue");
    let names = ["api.localhost", "localhost", "127.0.0.1"];
    let good = ca.leaf(dir, "good", &names);
    let bad = rogue.leaf(dir, "bad", &names);
    let secure = ca.leaf(dir, "secure", &["secure.test"]);
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/page.html"), fetch_oracle::runner_page()).unwrap();
    let (t1, t2, p, t3) = (free_port(), free_port(), free_port(), free_port());
    let cors = "add_header Access-Control-Allow-Origin $http_origin;";
    let cors_always = "add_header Access-Control-Allow-Origin $http_origin always;";
    let locations = format!(
        "location = /ok {{ {cors} return 200 'ok'; }}\n\
         location = /gone {{ {cors} return 404; }}\n\
         location = /gone-always {{ {cors_always} return 404; }}\n\
         location = /elsewhere {{ {cors_always} return 302 http://other.localhost:{wire_port}/reflect; }}\n"
    );
    let servers = format!(
        "server {{ listen 127.0.0.1:{t1} ssl http2; ssl_certificate {gc}; ssl_certificate_key {gk}; {locations} }}\n\
         server {{ listen 127.0.0.1:{t2} ssl http2; ssl_certificate {bc}; ssl_certificate_key {bk}; {locations} }}\n\
         server {{ listen 127.0.0.1:{p}; {locations} }}\n\
         server {{ listen 127.0.0.1:{t3} ssl; ssl_certificate {sc}; ssl_certificate_key {sk}; \
         location = / {{ root {www}; try_files /page.html =404; }} }}\n",
        sc = secure.cert_path.display(),
        sk = secure.key_path.display(),
        www = dir.join("www").display(),
        gc = good.cert_path.display(),
        gk = good.key_path.display(),
        bc = bad.cert_path.display(),
        bk = bad.key_path.display(),
    );
    let nginx = Nginx::start(dir, &servers, &[t1, t2, p, t3]);
    NginxSide {
        nginx,
        tls_trusted: t1,
        tls_untrusted: t2,
        plain: p,
        secure_page: t3,
        ca_pem: ca.pem_path.display().to_string(),
        spki: format!("{},{}", good.spki_hash, secure.spki_hash),
    }
}

fn start_servers() -> Servers {
    let dir = tempfile::tempdir().unwrap();
    let handler: Arc<dyn Fn(&WireRequest) -> Reply + Send + Sync> = Arc::new(answer);
    let wire = WireServer::start("127.0.0.1", handler.clone()).unwrap();
    let v6 = WireServer::start("::1", handler).unwrap_or_else(|e| {
        panic!("cannot listen on [::1] for the IPv6 cases ({e}): this test needs loopback IPv6")
    });
    let n = nginx_servers(dir.path(), wire.port());
    Servers {
        wire,
        v6,
        _nginx: n.nginx,
        tls_trusted: n.tls_trusted,
        tls_untrusted: n.tls_untrusted,
        plain: n.plain,
        secure_page: n.secure_page,
        ca_pem: n.ca_pem,
        spki: n.spki,
        _dir: dir,
    }
}

fn cases(s: &Servers) -> Vec<Case> {
    let api = format!("http://api.localhost:{}", s.wire.port());
    let ng = format!("http://api.localhost:{}", s.plain);
    let put = [("Content-Type", "application/json")];
    let mut trusted = Case::get(
        "tls-trusted-http2",
        format!("https://api.localhost:{}/ok", s.tls_trusted),
    );
    trusted.probe_flags = vec!["--cacert".into(), s.ca_pem.clone()];
    let mut all = vec![
        Case::get("star", format!("{api}/star")),
        Case::get("missing", format!("{api}/missing")),
        Case::get("early-hints", format!("{api}/hints-ok")),
        Case::get(
            "early-hints-carry-the-cors-header",
            format!("{api}/hints-misleading"),
        ),
        Case::get("100-continue", format!("{api}/continue")),
        Case::get("obs-fold", format!("{api}/fold")),
        Case::get("lf-only", format!("{api}/lf")),
        Case::get("nul-in-header", format!("{api}/nul")),
        Case::get("hidden-headers", format!("{api}/hidden")),
        Case::get("redirect-then-reflect-null", format!("{api}/reflect-hop")),
        Case::get(
            "put-redirect-second-preflight",
            format!("{api}/put-redirect"),
        )
        .with("PUT", &put),
        Case::get("post-303-becomes-get", format!("{api}/post303")).with("POST", &[]),
        Case::get("error-500-without-cors", format!("{api}/error-500")).with("PUT", &put),
        Case::get("preflight-400-text", format!("{api}/starlette")).with("PUT", &put),
        Case::get("ipv6-literal", format!("http://[::1]:{}/star", s.v6.port())),
        Case::get(
            "localhost-on-ipv6-only",
            format!("http://localhost:{}/star", s.v6.port()),
        ),
        Case::get("nginx-ok", format!("{ng}/ok")),
        Case::get("nginx-404-without-always", format!("{ng}/gone")),
        Case::get("nginx-404-with-always", format!("{ng}/gone-always")),
        Case::get("nginx-redirect-to-other-origin", format!("{ng}/elsewhere")),
        trusted,
        Case::get(
            "tls-untrusted",
            format!("https://api.localhost:{}/ok", s.tls_untrusted),
        ),
        Case::get(
            "connection-refused",
            format!("http://api.localhost:{}/", free_port()),
        ),
        Case::get("wildcard-with-credentials", format!("{api}/star")).credentialed(),
        Case::get("reflect-with-credentials", format!("{api}/reflect")).credentialed(),
        Case::get("credentialed-put-redirect", format!("{api}/put-redirect"))
            .with("PUT", &put)
            .credentialed(),
        Case::get(
            "redirect-to-url-with-credentials",
            format!("{api}/cred-redirect"),
        ),
        Case::get("redirect-loop", format!("{api}/loop")),
        Case::get("delete-not-allowed", format!("{api}/put-redirect")).with("DELETE", &[]),
        Case::get("nginx-preflight-unanswered", format!("{ng}/ok")).with("PUT", &put),
    ];
    all[11].body = Some("{\"a\":1}");
    all
}

async fn chromium_side(spki: &str, cases: &[Case], page_url: &str) -> Vec<Saw> {
    let spki = format!("--ignore-certificate-errors-spki-list={spki}");
    let rules = "--host-resolver-rules=MAP secure.test 127.0.0.1, MAP plain.test 127.0.0.1";
    let browser = Browser::launch_with_args(&[&spki, rules])
        .await
        .expect("launch chromium");
    let mut out = Vec::new();
    for case in cases {
        let page: Page = browser.new_isolated_page().await.expect("page");
        page.navigate(page_url).await.expect("page loads");
        let headers: Vec<(&str, &str)> = case.headers.to_vec();
        out.push(
            fetch_oracle::fetch(
                &page,
                &case.url,
                case.method,
                &headers,
                case.credentials,
                case.body,
            )
            .await,
        );
        let _ = page.close().await;
    }
    browser.close().await;
    out
}

#[test]
fn probe_agrees_with_chromium_against_real_servers() {
    if !chromium::require_chromium("probe_agrees_with_chromium_against_real_servers") {
        return;
    }
    let s = start_servers();
    let page_origin = format!("http://page.localhost:{}", s.wire.port());
    let cases = cases(&s);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seen = rt.block_on(chromium_side(
        &s.spki,
        &cases,
        &format!("{page_origin}/page"),
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut bad = Vec::new();
    let mut verdicts = Vec::new();
    for (case, saw) in cases.iter().zip(&seen) {
        let v = probe(dir.path(), case, &page_origin);
        if std::env::var("SANDBOX_PROBE_SHOW").is_ok() {
            eprintln!(
                "{}: chromium {saw:?}\n   probe {} {} {} {}",
                case.name, v["outcome"], v["cors_error"], v["net_error"], v["message"]
            );
        }
        bad.extend(disagreements(case, &v, saw));
        verdicts.push(v);
    }
    eprintln!(
        "probe vs Chromium: {} cases, {} agreed",
        cases.len(),
        cases.len()
            - bad
                .iter()
                .map(|b| b.split(':').next())
                .collect::<std::collections::HashSet<_>>()
                .len()
    );
    assert!(
        bad.is_empty(),
        "probe and Chromium disagree:\n{}",
        bad.join("\n")
    );

    // The facts each case exists for, beyond agreeing.
    let by = |name: &str| &verdicts[cases.iter().position(|c| c.name == name).unwrap()];
    let seen = s.wire.seen();
    let second = seen
        .iter()
        .find(|r| r.method == "OPTIONS" && r.path == "/put-target")
        .expect("the second preflight reached the redirect's target");
    assert_eq!(second.header("origin"), Some("null"));
    let got = seen
        .iter()
        .find(|r| r.path == "/got")
        .expect("the 303 was followed");
    assert_eq!(got.method, "GET");
    assert!(got.body.is_empty());
    let notes = |name: &str| by(name)["notes"].to_string();
    assert!(
        notes("hidden-headers").contains("x-total-count"),
        "{}",
        notes("hidden-headers")
    );
    assert!(notes("error-500-without-cors").contains("500"));
    assert!(notes("nginx-404-without-always").contains("always"));
    assert!(notes("preflight-400-text").contains("Disallowed CORS method, headers"));
    assert_eq!(
        by("tls-untrusted")["net_error"],
        "net::ERR_CERT_AUTHORITY_INVALID"
    );
    assert_eq!(by("tls-trusted-http2")["outcome"], "allowed");
}

/// `sandbox probe URL --origin http://page.localhost EXTRA…`.
fn probe_cli(dir: &Path, url: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["probe", url, "--origin", "http://page.localhost"];
    args.extend_from_slice(extra);
    run_cli(dir, &args)
}

#[test]
fn probe_uses_http2_when_offered_and_says_when_it_does_not_verify() {
    let s = start_servers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.localhost:{}/ok", s.tls_trusted);
    let (code, out, err) = probe_cli(dir.path(), &url, &["--cacert", &s.ca_pem]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("→ HTTP/2 200"), "{out}");
    let untrusted = format!("https://api.localhost:{}/ok", s.tls_untrusted);
    let (_, out, _) = probe_cli(dir.path(), &untrusted, &["--insecure"]);
    assert!(out.contains("ALLOWED"), "{out}");
    assert!(
        out.contains("--insecure: certificates were not verified"),
        "{out}"
    );
    let (code, _, err) = probe_cli(dir.path(), &url, &["--cacert", "/nonexistent.pem"]);
    assert_eq!(code, 2);
    assert!(err.contains("--cacert"), "{err}");
}

#[test]
fn timeout_bounds_a_dripping_answer() {
    let wire = wire_server();
    let url = format!("http://api.localhost:{}/drip", wire.port());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .args([
            "probe",
            &url,
            "--origin",
            "http://page.localhost",
            "--timeout",
            "1",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The drip takes 12 s; a bound per read (not per answer) would keep going that long.
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("--timeout 1 did not bound a dripping answer");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["net_error"], "net::ERR_TIMED_OUT", "{v}");
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let wire = wire_server();
    let url = format!("http://api.localhost:{}/star", wire.port());
    let creds = format!("http://user:pw@api.localhost:{}/star", wire.port());
    let bare = format!("api.localhost:{}/star", wire.port());
    let page = "http://page.localhost";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![&url, "--origin", "page.localhost:8080"], "no scheme"),
        (
            vec![&url, "--origin", "file:///tmp/a.html"],
            "opaque origin",
        ),
        (
            vec![&url, "--origin", "http://page.localhost/app"],
            "not an origin",
        ),
        (vec![&url, "--origin", page, "-X", "TRACE"], "TRACE"),
        (vec![&url, "--origin", page, "-X", "connect"], "CONNECT"),
        (vec![&url, "--origin", page, "-X", "TRACK"], "TRACK"),
        (
            vec![&url, "--origin", page, "--mode", "navigate"],
            "navigate",
        ),
        (
            vec![&url, "--origin", page, "--mode", "websocket"],
            "expected cors",
        ),
        (vec![&creds, "--origin", page], "credentials"),
        (vec![&bare, "--origin", page], "add http:// or https://"),
        (
            vec![&url, "--origin", page, "--timeout", "0"],
            "more than 0",
        ),
        (vec![&url, "--origin", page, "--data", "x"], "GET/HEAD"),
        (
            vec![&url, "--origin", page, "--cookie", "novalue"],
            "name=value",
        ),
        (
            vec![&url, "--origin", page, "--data-file", "/nonexistent"],
            "/nonexistent",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in &cases {
        let mut all = vec!["probe"];
        all.extend(args.iter().copied());
        let (code, out, err) = run_cli(dir.path(), &all);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?} should say {says:?}: {err}");
    }
    assert!(wire.seen().is_empty(), "bad input sent {:?}", wire.seen());
}

#[test]
fn cookies_go_only_where_the_browser_would_send_them() {
    let wire = wire_server();
    let url = format!("http://api.localhost:{}/reflect", wire.port());
    let dir = tempfile::tempdir().unwrap();
    for credentials in ["include", "same-origin", "omit"] {
        let flags = ["--credentials", credentials, "--cookie", "sid=abc"];
        let (code, _, err) = probe_cli(dir.path(), &url, &flags);
        assert_eq!(code, 0, "{err}");
    }
    let cookies: Vec<Option<String>> = wire
        .seen()
        .iter()
        .map(|r| r.header("cookie").map(str::to_string))
        .collect();
    assert_eq!(cookies, vec![Some("sid=abc".to_string()), None, None]);
}

#[test]
fn a_sandbox_on_ipv6_loopback_can_probe_itself() {
    use crate::util::sandbox::TestSandbox;
    let d =
        crate::util::sandbox::project(&crate::util::sandbox::policy_for("http://page.localhost"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml", "--host", "::1"]);
    let port = sb.url("api").rsplit(':').next().unwrap().to_string();
    // Before, `probe` connected to 127.0.0.1 for `localhost` and could not reach this.
    for api in [
        format!("http://[::1]:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let (code, out, err) = run_cli(
            d.path(),
            &[
                "probe",
                &format!("{api}/api/student"),
                "--origin",
                "http://page.localhost",
                "--json",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["outcome"], "allowed", "{api}: {v}");
    }
}

#[test]
fn mixed_content_is_blocked_before_cors_as_in_chromium() {
    if !chromium::require_chromium("mixed_content_is_blocked_before_cors_as_in_chromium") {
        return;
    }
    let s = start_servers();
    let page_origin = format!("https://secure.test:{}", s.secure_page);
    let wire = s.wire.port();
    let cases = vec![
        Case::get("mixed-content", format!("http://plain.test:{wire}/star")),
        Case::get(
            "mixed-content-localhost-is-trusted",
            format!("http://localhost:{wire}/star"),
        ),
        Case::get(
            "mixed-content-dot-localhost-cors",
            format!("http://api.localhost:{wire}/missing"),
        ),
        Case::get(
            "https-page-https-api",
            format!("https://api.localhost:{}/ok", s.tls_trusted),
        ),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seen = rt.block_on(chromium_side(&s.spki, &cases, &format!("{page_origin}/")));
    let dir = tempfile::tempdir().unwrap();
    let mut bad = Vec::new();
    for (case, saw) in cases.iter().zip(&seen) {
        let mut case_flags = Case::get(case.name, case.url.clone());
        case_flags.probe_flags = vec!["--cacert".into(), s.ca_pem.clone()];
        let v = probe(dir.path(), &case_flags, &page_origin);
        bad.extend(disagreements(case, &v, saw));
    }
    assert!(
        seen[0]
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("Mixed Content:")),
        "{:?}",
        seen[0]
    );
    assert!(
        bad.is_empty(),
        "probe and Chromium disagree:\n{}",
        bad.join("\n")
    );
}

#[test]
fn probe_agrees_with_chromium_against_express_and_npm_cors() {
    if !chromium::require_chromium("probe_agrees_with_chromium_against_express_and_npm_cors") {
        return;
    }
    let wire = wire_server();
    let page_origin = format!("http://page.localhost:{}", wire.port());
    let sets = vec![
        serde_json::json!({"origin": "*", "credentials": true}),
        serde_json::json!({"origin": page_origin, "methods": "GET,POST"}),
        serde_json::json!({}),
        serde_json::json!({"origin": true, "credentials": true}),
        serde_json::json!({"origin": "http://other.localhost"}),
        serde_json::json!({"origin": page_origin, "allowedHeaders": ["Content-Type"]}),
    ];
    let node = crate::util::node::NodeCors::start("probe vs express", &sets);
    let at = |i: usize| format!("http://api.localhost:{}/s{i}/api/data", node.port);
    let json = [("Content-Type", "application/json")];
    let cases = vec![
        Case::get("express-wildcard-with-credentials", at(0)).credentialed(),
        Case::get("express-method-not-listed", at(1)).with("PUT", &json),
        Case::get("express-defaults-get", at(2)),
        Case::get("express-defaults-reflect-headers", at(2)).with("PUT", &[("X-PKR-Auth", "t")]),
        Case::get("express-reflect-credentialed-post", at(3))
            .with("POST", &json)
            .credentialed(),
        Case::get("express-other-origin", at(4)),
        Case::get("express-header-not-allowed", at(5)).with("POST", &[("X-PKR-Auth", "t")]),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seen = rt.block_on(chromium_side("", &cases, &format!("{page_origin}/page")));
    let dir = tempfile::tempdir().unwrap();
    let mut bad = Vec::new();
    for (case, saw) in cases.iter().zip(&seen) {
        let v = probe(dir.path(), case, &page_origin);
        bad.extend(disagreements(case, &v, saw));
    }
    assert!(
        !seen[0].allowed && seen[2].allowed,
        "the cases test both outcomes: {seen:?}"
    );
    assert!(
        bad.is_empty(),
        "probe and Chromium disagree:\n{}",
        bad.join("\n")
    );
}
