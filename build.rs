//! Build script: what the compiler cannot see for itself.
//!
//! - `include_dir!` does not tell cargo which files it read; without `rerun-if-changed` an
//!   edit under `static/` or `fixtures/` would not reach the embedded copy until some other
//!   change forced a rebuild.
//! - `sandbox --version` names the commit it was built from (`SANDBOX_COMMIT`), asked of
//!   git. A build from a crate tarball (`cargo install sandbox`) has no `.git` and says
//!   "unknown commit" rather than failing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=static");
    println!("cargo:rerun-if-changed=fixtures");
    let commit = commit().unwrap_or_else(|| "unknown commit".into());
    println!("cargo:rustc-env=SANDBOX_COMMIT={commit}");
}

/// `3e5cd4f 2026-12-02`: the short hash and commit date of HEAD.
fn commit() -> Option<String> {
    let out = git(&["log", "-1", "--date=short", "--format=%h %cd"])?;
    watch_head();
    Some(out).filter(|s| !s.is_empty())
}

/// Runs git in the package folder; None when git is missing or this is no repository.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

/// A new commit moves HEAD's ref, a checkout moves HEAD: either re-runs this script. Paths
/// come from `git rev-parse --git-path`, which knows where a worktree keeps them.
fn watch_head() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let git_path = |p: &str| git(&["rev-parse", "--git-path", p]).map(|s| dir.join(s));
    if let Some(head) = git_path("HEAD") {
        rerun_if_changed(&head);
    }
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(r) = git_path(&reference) {
            // A packed ref has no file of its own; its next update writes one in that folder.
            let watched = if r.exists() {
                Some(r.as_path())
            } else {
                r.parent()
            };
            if let Some(w) = watched {
                rerun_if_changed(w);
            }
        }
        if let Some(packed) = git_path("packed-refs") {
            rerun_if_changed(&packed);
        }
    }
}

/// Only for paths that exist: cargo re-runs the script on every build for a missing one.
fn rerun_if_changed(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
