//! `sandbox trust`: the local CA into the NSS databases Chromium and Firefox read on Linux
//! (`~/.pki/nssdb` and each Firefox profile), through NSS's own `certutil`; and, for what it
//! cannot do itself, the exact commands for each system.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The name the CA is listed under in each database.
const NICKNAME: &str = "sandbox local CA";

/// What `trust` did and what is left for the user.
#[derive(Debug, Default)]
pub struct TrustReport {
    /// Databases the CA is now in.
    pub installed: Vec<PathBuf>,
    /// Databases that refused it, with certutil's words.
    pub failed: Vec<(PathBuf, String)>,
    /// What to do by hand (no certutil, other systems).
    pub instructions: Vec<String>,
}

/// Puts `ca` (a PEM file) into every NSS database found under `home`, creating Chromium's
/// when absent.
pub fn trust(ca: &Path, home: &Path) -> TrustReport {
    let mut report = TrustReport::default();
    let ca_text = ca.display().to_string();
    if !certutil_present() {
        report.instructions.push(
            "certutil (NSS) is not installed: `sudo apt-get install libnss3-tools` (Debian, \
             Ubuntu) or `sudo dnf install nss-tools`, then run `sandbox trust` again"
                .to_owned(),
        );
    } else {
        for db in databases(home) {
            match add(&db, ca) {
                Ok(()) => report.installed.push(db),
                Err(e) => report.failed.push((db, e)),
            }
        }
    }
    report.instructions.extend([
        format!(
            "system-wide on Debian/Ubuntu (curl, other tools): sudo cp {ca_text} \
             /usr/local/share/ca-certificates/sandbox-local-ca.crt && sudo update-ca-certificates"
        ),
        format!(
            "macOS (Safari, Chrome): sudo security add-trusted-cert -d -r trustRoot -k \
             /Library/Keychains/System.keychain {ca_text}"
        ),
        format!("Windows (Edge, Chrome): certutil -addstore -user Root {ca_text}"),
    ]);
    report
}

fn certutil_present() -> bool {
    Command::new("certutil")
        .arg("-H")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// Chromium's database (made when missing) and every Firefox profile that has one.
fn databases(home: &Path) -> Vec<PathBuf> {
    let mut out = vec![home.join(".pki/nssdb")];
    for root in [".mozilla/firefox", "snap/firefox/common/.mozilla/firefox"] {
        let Ok(entries) = std::fs::read_dir(home.join(root)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().join("cert9.db").exists() {
                out.push(e.path());
            }
        }
    }
    out
}

fn add(db: &Path, ca: &Path) -> Result<(), String> {
    let dir = format!("sql:{}", db.display());
    if !db.join("cert9.db").exists() {
        std::fs::create_dir_all(db).map_err(|e| e.to_string())?;
        run(Command::new("certutil").args(["-N", "-d", &dir, "--empty-password"]))?;
    }
    // Re-adding replaces an earlier entry of the same nickname (a CA made anew).
    let _ = Command::new("certutil")
        .args(["-D", "-d", &dir, "-n", NICKNAME])
        .output();
    run(Command::new("certutil")
        .args(["-A", "-d", &dir, "-t", "C,,", "-n", NICKNAME, "-i"])
        .arg(ca))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}
