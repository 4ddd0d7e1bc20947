//! The dev-server holes Vite, webpack-dev-server, Parcel, esbuild and live-server shipped stay
//! closed in the real binary. Requests go out as raw bytes (`util::raw_http`) wherever an HTTP
//! client would normalise the attack away.
//!
//! Every row of an attack table is one attack input; the count, summed over the modules below,
//! is reported in issue #5's closing note.
//!
//! This module holds what they share: the project to attack, the secrets in it and the check
//! that none of them leaked.

mod api_routes;
mod binds;
mod cross_site;
mod journal;
mod large_pages;
mod persist;
mod proxy_loop;
mod requests;
mod round_two;
mod sandbox_endpoints;
mod slow_clients;
mod static_files;
mod swapped_fifos;
mod unfinished_bodies;

use std::path::Path;

use crate::util::raw_http;
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

/// `sandbox check /api/x` on a project: the exit code and everything it printed. Loading
/// the routes is what the callers test; the request itself is incidental.
fn check_project(d: &Path) -> (i32, String) {
    let (code, out, err) = run_cli(
        d,
        &[
            "check",
            "/api/x",
            "--origin",
            "http://karachi-dev.localhost:8080",
            "--config",
            "sandbox.toml",
        ],
    );
    (code, format!("{out}{err}"))
}
