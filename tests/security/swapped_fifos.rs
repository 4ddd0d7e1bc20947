//! A file swapped for a FIFO between the watcher's look at it and its read (a static file the
//! watcher fingerprints, a routes `file =` body) must not hang the reload thread: every later
//! save is still applied. The swap is a race, so it is run many times over: a thread swaps a
//! regular file and a FIFO back and forth (`renameat2(RENAME_EXCHANGE)`, out of sight of the
//! watcher) while the test makes the watcher look at the path round after round, each round
//! ending with a policy save that must be applied.
//!
//! Each test is one attack input (one planted FIFO, raced `ROUNDS` times).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::mkfifo;
use crate::util::sandbox::*;

const ROUNDS: u32 = 60;

fn policy(n: u32) -> String {
    format!("allowed_origins = [\"http://g{n}.localhost\"]\n")
}

/// Swaps folders `a` and `b` (each holding the same name, a file in one and a FIFO in the
/// other) as fast as it can until stopped.
struct Swapper {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Swapper {
    fn start(a: PathBuf, b: PathBuf) -> Swapper {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
            let (a, b) = (c(&a), c(&b));
            let started = Instant::now();
            let mut swaps = 0u64;
            while !s.load(Ordering::Relaxed) && started.elapsed() < 3 * DEADLINE {
                // SAFETY: renameat2(2) on two NUL-terminated paths we own.
                let rc = unsafe {
                    libc::renameat2(
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(rc, 0, "renameat2: {}", std::io::Error::last_os_error());
                swaps += 1;
            }
            swaps
        });
        Swapper {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `path` holding a regular file in folder `slot` and a FIFO of the same name in `slot-fifo`.
fn plant(dir: &Path, rel: &str) -> (PathBuf, PathBuf) {
    let slot = dir.join("slot");
    let fifo = dir.join("slot-fifo");
    write(&slot, rel, "{\"ok\": 1}");
    std::fs::create_dir_all(fifo.join(rel).parent().unwrap()).unwrap();
    mkfifo(&fifo.join(rel));
    (slot, fifo)
}

/// Saves policy `n` and waits until the API serves it: the reload thread is alive.
fn apply_policy(sb: &TestSandbox, n: u32) {
    save(&sb.dir.join("cors.toml"), &policy(n), SaveStyle::Rename);
    let origin = format!("http://g{n}.localhost");
    eventually(&format!("policy {n} applied"), || {
        let res = client()
            .get(format!("{}/api/student", sb.url("api")))
            .header("Origin", &origin)
            .send()
            .ok()?;
        (res.headers()
            .get("access-control-allow-origin")?
            .to_str()
            .ok()?
            == origin)
            .then_some(())
    });
}

#[test]
fn a_static_file_swapped_for_a_fifo_does_not_hang_the_reloads() {
    let d = project(&policy(0));
    // The watched file is a symlink out of the root (never served) into a folder the watcher
    // does not watch, so the swaps themselves cause no events; only the test's rounds do.
    let (slot, fifo) = plant(&d.path().join("outside"), "app.js");
    let link = d.path().join("web/app.js");
    std::os::unix::fs::symlink(slot.join("app.js"), &link).unwrap();
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let swapper = Swapper::start(slot, fifo);
    for round in 1..=ROUNDS {
        // The link made anew: an event for `app.js`, which the watcher fingerprints through it.
        let fresh = d.path().join("web/app.js.new~");
        std::os::unix::fs::symlink(std::fs::read_link(&link).unwrap(), &fresh).unwrap();
        std::fs::rename(&fresh, &link).unwrap();
        apply_policy(&sb, round);
    }
    let swaps = swapper.finish();
    assert!(swaps > 0);
    apply_policy(&sb, ROUNDS + 1);
}

#[test]
fn a_body_file_swapped_for_a_fifo_does_not_hang_the_reloads() {
    let d = project(&policy(0));
    // The body's folder is watched, not its parent, where the swaps happen.
    let (slot, fifo) = plant(&d.path().join("bodies"), "inner/data.json");
    let routes = |round: u32| {
        format!("# round {round}\n[[route]]\npath = \"/api/data\"\nfile = \"bodies/slot/inner/data.json\"\n")
    };
    write(d.path(), "api.toml", &routes(0));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let swapper = Swapper::start(slot, fifo);
    for round in 1..=ROUNDS {
        // A routes save reads the body file again.
        save(
            &d.path().join("api.toml"),
            &routes(round),
            SaveStyle::Rename,
        );
        apply_policy(&sb, round);
    }
    let swaps = swapper.finish();
    assert!(swaps > 0);
    apply_policy(&sb, ROUNDS + 1);
}
