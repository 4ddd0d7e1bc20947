//! HTTPS origins (`tls = true`): the sandbox's local CA, made once per user in its data
//! folder, signs each origin's leaf; `probe --cacert` and curl reach them over HTTP/2; and
//! after `sandbox trust` (certutil into an NSS database under a test HOME) real Chromium with
//! that HOME loads the page and calls the API with no certificate error at all.

use std::path::Path;

use serde_json::Value;

use crate::util::chromium::{self, Browser};
use crate::util::sandbox::{run_cli, write, TestSandbox};

const CONFIG: &str = r#"
[[origin]]
name = "web"
kind = "static"
port = 0
hostname = "karachi-dev.localhost"
root = "static"
tls = true

[[origin]]
name = "api"
kind = "api"
port = 0
hostname = "lahore-api.localhost"
policy = "cors.toml"
tls = true
"#;

const POLICY: &str = "allowed_origins = [\"sandbox:static\"]\nallowed_methods = [\"GET\", \"PUT\"]\nallowed_headers = [\"X-PKR-Auth\"]\n";

struct Https {
    dir: tempfile::TempDir,
    sb: TestSandbox,
    web: String,
    api: String,
}

fn data_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("data")
}

fn start() -> Https {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sandbox.toml", CONFIG);
    write(dir.path(), "cors.toml", POLICY);
    write(
        dir.path(),
        "static/index.html",
        "<!doctype html><title>tls</title><p>over https</p>",
    );
    let data = data_dir(dir.path());
    let sb = TestSandbox::start_with(dir.path(), &["--config", "sandbox.toml"], |c| {
        c.env("SANDBOX_DATA_DIR", &data);
    });
    let url = |name: &str| {
        sb.events()
            .into_iter()
            .find(|e| e["event"] == "listening" && e["name"] == name)
            .and_then(|e| e["url"].as_str().map(str::to_string))
            .unwrap()
    };
    let (web, api) = (url("web"), url("api"));
    Https { dir, sb, web, api }
}

#[test]
fn an_https_origin_is_served_from_the_local_ca_over_http2() {
    let h = start();
    assert!(
        h.web.starts_with("https://karachi-dev.localhost:"),
        "{}",
        h.web
    );
    assert!(
        h.api.starts_with("https://lahore-api.localhost:"),
        "{}",
        h.api
    );
    let ca = data_dir(h.dir.path()).join("ca.pem");
    let key = data_dir(h.dir.path()).join("ca.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let ca_text = ca.display().to_string();
    let path = format!("{}/api/students", h.api);
    let (code, out, err) = run_cli(
        h.dir.path(),
        &[
            "probe",
            &path,
            "--origin",
            &h.web,
            "-X",
            "PUT",
            "-H",
            "X-PKR-Auth: t",
            "--cacert",
            &ca_text,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("verdict:   ALLOWED"), "{out}");
    assert!(
        out.contains("→ HTTP/2 200"),
        "the preflight over HTTP/2: {out}"
    );
    // Without the CA the browser's error, before CORS.
    let (_, out, _) = run_cli(
        h.dir.path(),
        &["probe", &path, "--origin", &h.web, "--json"],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["net_error"], "net::ERR_CERT_AUTHORITY_INVALID", "{v}");
    // The same CA again on the next start: nothing new to trust.
    drop(h.sb);
}

#[test]
fn user_certificate_files_are_checked_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let conf = CONFIG.replacen("tls = true", "tls = true\ncert = \"web.pem\"", 1);
    write(dir.path(), "sandbox.toml", &conf);
    write(dir.path(), "cors.toml", POLICY);
    write(dir.path(), "static/index.html", "x");
    write(dir.path(), "web.pem", "x");
    let (code, _, err) = run_cli(dir.path(), &["up", "--config", "sandbox.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("`cert` and `key` go together"), "{err}");
    let conf = CONFIG.replacen("tls = true", "cert = \"web.pem\"\nkey = \"web.pem\"", 1);
    write(dir.path(), "sandbox.toml", &conf);
    let (code, _, err) = run_cli(dir.path(), &["up", "--config", "sandbox.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("add `tls = true`"), "{err}");
}

#[test]
fn chromium_trusts_the_sandbox_after_sandbox_trust() {
    if !chromium::require_chromium("chromium_trusts_the_sandbox_after_sandbox_trust") {
        return;
    }
    assert!(
        std::process::Command::new("certutil")
            .arg("-H")
            .output()
            .is_ok(),
        "certutil is not installed: apt-get install libnss3-tools (.ci/test does)"
    );
    let h = start();
    let home = h.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let data = data_dir(h.dir.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .arg("trust")
        .env("HOME", &home)
        .env("SANDBOX_DATA_DIR", &data)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(".pki/nssdb"), "{text}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let browser = Browser::launch_with_env(&[], &[("HOME", home.as_path())])
            .await
            .expect("launch chromium");
        let page = browser.new_page().await.unwrap();
        page.navigate(&format!("{}/", h.web)).await.expect("the https page loads");
        let protocol = page
            .evaluate("location.protocol + ' ' + document.body.textContent.includes('over https')")
            .await
            .unwrap();
        assert_eq!(protocol, "https: true");
        let call = format!(
            "fetch('{}/api/students', {{method: 'PUT', headers: {{'X-PKR-Auth': 't'}}}}).then(r => r.status, e => String(e))",
            h.api
        );
        let status = page.evaluate(&call).await.unwrap();
        assert!(status.is_number(), "the API over https: {status}");
        // Live reload over HTTPS: a save reaches the open page.
        write(h.dir.path(), "static/index.html", "<!doctype html><p>saved again</p>");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let text = page.evaluate("document.body ? document.body.textContent : ''").await;
            if text.is_ok_and(|t| t.as_str().is_some_and(|t| t.contains("saved again"))) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no live reload over https");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        browser.close().await;
    });
}

/// Over HTTPS with HTTP/1.1 the connection is watched beneath TLS, like a plain one: a chunk
/// size above the body limit is answered 413 at once, not 408 at the body deadline.
#[test]
fn an_oversized_chunk_is_refused_at_once_over_https_too() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use std::io::{Read, Write};
    use std::sync::Arc;

    let h = start();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(data_dir(h.dir.path()).join("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let authority = h.api.trim_start_matches("https://").trim_end_matches('/');
    let port: u16 = authority.rsplit(':').next().unwrap().parse().unwrap();
    let name = ServerName::try_from("lahore-api.localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let req = format!(
        "PUT /api/students HTTP/1.1\r\nHost: {authority}\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\nhello"
    );
    tls.write_all(req.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
}
