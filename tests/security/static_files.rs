//! The static origin serves only regular files inside its root (never a hidden file, a
//! symlink out, a FIFO or a directory listing), escapes what it echoes, and redirects only
//! within this host.
//!
//! Every row of `TRAVERSALS` and of the fragment table is one attack input, counted with the
//! other `security` modules' rows in issue #5's closing note.

use std::time::Instant;

use proptest::prelude::*;
use sandbox::serve::beneath::{Opened, Root};
use sandbox::serve::frontend::safe_relative_path;

use super::{assert_no_leak, attack_project, start, DOTENV_SECRET, OUTSIDE_SECRET};
use crate::util::raw_http::{addr, get};
use crate::util::sandbox::*;

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

/// Symlinks whose names look harmless but that lead to dot-files: what the path resolves to
/// is checked, not only what was asked for. Each row is one attack input.
const DOT_SYMLINKS: &[&str] = &[
    "/env.txt",
    "/env-again.txt",
    "/gitdir/config",
    "/gitdir/HEAD",
    "/gitdir/",
    "/gitdir",
    "/hooks/pre-commit",
    "/hooks/",
    "/nested/deeper/config",
];

#[test]
fn symlinks_to_dot_files_are_refused() {
    let d = attack_project();
    let p = d.path();
    write(
        p,
        "web/.git/config",
        "[remote \"origin\"] GIT-CONFIG-SECRET",
    );
    write(p, "web/.git/HEAD", "ref: GIT-HEAD-SECRET");
    write(p, "web/.git/index.html", "GIT-INDEX-SECRET");
    write(p, "web/.git/hooks/pre-commit", "GIT-HOOK-SECRET");
    write(p, "web/.git/hooks/index.html", "GIT-HOOK-SECRET");
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, p.join("web").join(name)).unwrap()
    };
    link(".env", "env.txt");
    // A chain: a harmless link to a link to the dot-file.
    link("env.txt", "env-again.txt");
    link(".git", "gitdir");
    // A symlinked folder into `.git`, and one whose own path hides the dot two levels down.
    link(".git/hooks", "hooks");
    std::fs::create_dir_all(p.join("web/nested")).unwrap();
    std::os::unix::fs::symlink("../.git", p.join("web/nested/deeper")).unwrap();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    // Control: a symlink to an ordinary file inside the root is still served.
    assert_eq!(get(&a, "/alias.css", "localhost", &[]).status, 200);
    for target in DOT_SYMLINKS {
        let res = get(&a, target, "localhost", &[]);
        assert!(
            res.status == 404,
            "{target}: status {} (want 404)\n{}",
            res.status,
            res.body_text()
        );
        assert_no_leak(target, &res);
        assert!(
            !res.body_text().contains("GIT-"),
            "{target}: served a file from .git:\n{}",
            res.body_text()
        );
    }
}
