//! A bad reload never replaces the last good policy (nginx's promise). Each fault keeps the
//! last good version, the API keeps answering throughout (a prober thread hits it the whole
//! time), the failure is reported exactly once per distinct error (one `reload_failed` log
//! event), and `/__sandbox/status` shows the generation, the result and the time.
//!
//! "Exactly once" is checked without sleeping: after a fault, the test repeats it (a touch, an
//! identical re-save), then saves a good file as a barrier. The watcher handles events in
//! order on one thread, so when the barrier's `reloaded` arrives, every report the fault and
//! its repeats could cause has already been logged.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::util::sandbox::*;

/// Policy number `n`: its own origin and expose header, so every response names the policy
/// that produced it; `probe.localhost` is in every good policy so the prober always gets
/// CORS headers.
fn policy(n: u64) -> String {
    format!(
        "allowed_origins = [\"http://g{n}.localhost\", \"http://probe.localhost\"]\nexpose_headers = [\"x-gen-{n}\"]\n"
    )
}

/// The policy number a response was produced by, from its expose header.
fn policy_number(res: &reqwest::blocking::Response) -> Option<u64> {
    let aceh = res
        .headers()
        .get("access-control-expose-headers")?
        .to_str()
        .ok()?;
    aceh.trim().strip_prefix("x-gen-")?.parse().ok()
}

/// Which policy the API serves now, asked as page `g{n}` would (and as the prober would).
fn served(api: &str) -> Option<u64> {
    let res = client()
        .get(format!("{api}/api/student"))
        .header("Origin", "http://probe.localhost")
        .send()
        .ok()?;
    policy_number(&res)
}

fn assert_serves(api: &str, n: u64) {
    assert_eq!(served(api), Some(n), "policy {n} should be in force");
    let res = client()
        .get(format!("{api}/api/student"))
        .header("Origin", format!("http://g{n}.localhost"))
        .send()
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        format!("http://g{n}.localhost").as_str()
    );
}

/// Hits the API from a thread for as long as it lives; every answer must be a 200 carrying
/// some good policy's headers, with the policy number never going backwards.
struct Prober {
    stop: Arc<AtomicBool>,
    /// Requests answered so far.
    done: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<(usize, Vec<String>, u64)>>,
}

impl Prober {
    fn start(api: &str) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let (s, d, api) = (stop.clone(), done.clone(), api.to_string());
        let thread = std::thread::spawn(move || {
            let c = client();
            let (mut count, mut failures, mut last) = (0usize, Vec::new(), 0u64);
            while !s.load(Ordering::Relaxed) {
                count += 1;
                match c
                    .get(format!("{api}/api/student"))
                    .header("Origin", "http://probe.localhost")
                    .send()
                {
                    Err(e) => failures.push(format!("request {count}: {e}")),
                    Ok(res) if res.status() != 200 => {
                        failures.push(format!("request {count}: status {}", res.status()))
                    }
                    Ok(res) => match policy_number(&res) {
                        None => failures.push(format!("request {count}: no policy headers")),
                        Some(n) if n < last => {
                            failures.push(format!("request {count}: policy {n} after {last}"))
                        }
                        Some(n) => last = n,
                    },
                }
                d.store(count, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
            }
            (count, failures, last)
        });
        Prober {
            stop,
            done,
            thread: Some(thread),
        }
    }

    /// Stops and checks: at least one request, none failed. Returns the last policy seen.
    fn finish(mut self) -> u64 {
        // Let one request that started after this call complete, so the last policy seen is
        // the one in force now.
        let seen = self.done.load(Ordering::SeqCst);
        eventually("one more probe", || {
            (self.done.load(Ordering::SeqCst) >= seen + 2).then_some(())
        });
        self.stop.store(true, Ordering::Relaxed);
        let (count, failures, last) = self.thread.take().unwrap().join().unwrap();
        assert!(count > 0);
        assert!(
            failures.is_empty(),
            "{count} requests, failures: {failures:#?}"
        );
        last
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The `reload_failed` events for `file` among `events[from..to]`.
fn failures(events: &[Value], from: usize, to: usize, file: &str) -> Vec<String> {
    events[from..to]
        .iter()
        .filter(|e| e["event"] == "reload_failed" && e["file"] == file)
        .map(|e| e["error"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Saves good policy `n` and waits until it is served; returns the index of its `reloaded`
/// event. Every event before that index was caused by something earlier.
fn barrier(sb: &TestSandbox, path: &Path, n: u64) -> usize {
    let before = sb.event_count();
    save(path, &policy(n), SaveStyle::Rename);
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "cors.toml"
    });
    let events = sb.events();
    let at = before
        + events[before..]
            .iter()
            .position(|e| e["event"] == "reloaded" && e["file"] == "cors.toml")
            .unwrap();
    assert_serves(sb.url("api"), n);
    at
}

/// Each reload attempt logged for `file` among `events[from..to]`: `None` for `reloaded`,
/// the error for `reload_failed`.
fn outcomes(events: &[Value], from: usize, to: usize, file: &str) -> Vec<Option<String>> {
    events[from..to]
        .iter()
        .filter(|e| e["file"] == file)
        .filter_map(|e| match e["event"].as_str() {
            Some("reloaded") => Some(None),
            Some("reload_failed") => {
                Some(Some(e["error"].as_str().unwrap_or_default().to_string()))
            }
            _ => None,
        })
        .collect()
}

/// At least one report, and never the same failure twice in a row: the watcher remembers
/// what it last saw, so only a different state can be reported again (the same error may
/// come back after a good version was loaded in between).
fn assert_reported_once(what: &str, outcomes: &[Option<String>]) {
    assert!(
        outcomes.iter().any(Option::is_some),
        "{what}: no reload_failed"
    );
    for pair in outcomes.windows(2) {
        if pair[0].is_some() {
            assert_ne!(
                pair[0], pair[1],
                "{what}: reported twice in a row\nall: {outcomes:#?}"
            );
        }
    }
}

/// The status board's entry for `file`.
fn status_of(sb: &TestSandbox, file: &str) -> Value {
    let res = client()
        .get(sb.keyed("frontend", "/__sandbox/status"))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().unwrap();
    v["reloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == file)
        .cloned()
        .unwrap_or_else(|| panic!("no status for {file}: {v}"))
}

fn policy_generation(sb: &TestSandbox) -> u64 {
    let v: Value = client()
        .get(sb.keyed("frontend", "/__sandbox/status"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["apis"][0]["policy_generation"].as_u64().unwrap()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The status board says the last attempt failed (with `want`, unless that is a location,
/// which the board leaves to the log), at about now, and that `generation` is still in force.
fn assert_status_failed(sb: &TestSandbox, want: &str, generation: u64) {
    let s = status_of(sb, "cors.toml");
    assert_eq!(s["ok"], false, "{s}");
    let error = s["error"].as_str().unwrap_or("");
    assert!(!error.is_empty(), "{s}");
    assert!(
        want.starts_with("cors.toml:") || error.contains(want),
        "status error should mention {want:?}: {s}"
    );
    // A located error keeps its place on the board too, for pages opened after it.
    if let Some(line) = want
        .strip_prefix("cors.toml:")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse::<u64>().ok())
    {
        assert_eq!(s["line"], line, "{s}");
        assert!(s["column"].as_u64().is_some_and(|c| c >= 1), "{s}");
    }
    assert_eq!(s["generation"], generation, "{s}");
    let at = s["at"].as_u64().unwrap();
    assert!(
        at.abs_diff(now_secs()) <= 5,
        "status time {at} is not now: {s}"
    );
    let dir = sb.dir.canonicalize().unwrap();
    assert!(
        !s.to_string().contains(dir.to_str().unwrap()),
        "absolute path in status: {s}"
    );
}

/// Sets the modification time to now (what `touch` does): an event, but no new content.
/// utimensat(2) rather than opening the file, which a `chmod 000` file or a folder refuses.
fn touch(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path we own; a null `times` means "now".
    let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), std::ptr::null(), 0) };
    assert_eq!(rc, 0, "touch {}", path.display());
}

/// A TOML value nested `depth` arrays deep.
fn nested(depth: usize) -> String {
    format!(
        "allowed_origins = {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// Bad contents, each a fault of its own: (what, bytes, text the error must contain).
fn content_faults() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let huge = {
        let line = "# a comment line that pads the file past the size limit\n";
        line.repeat(5 * 1024 * 1024 / line.len() + 1).into_bytes()
    };
    vec![
        (
            "invalid TOML",
            b"allowed_origins = [\"http://x.localhost\"\n".to_vec(),
            "cors.toml:",
        ),
        (
            "unterminated string",
            b"allowed_origins = [\"http://x.local".to_vec(),
            "cors.toml:1:",
        ),
        (
            "valid TOML, invalid meaning",
            b"allowed_origins = \"*\"\nsupports_credentials = true\n".to_vec(),
            "cannot be combined",
        ),
        (
            "unknown key",
            b"alowed_origins = []\n".to_vec(),
            "did you mean `allowed_origins`",
        ),
        (
            "wrong type",
            b"allowed_origins = 42\n".to_vec(),
            "cors.toml:1:",
        ),
        ("empty file", Vec::new(), "empty"),
        (
            "only whitespace and a BOM",
            b"\xef\xbb\xbf  \r\n\n".to_vec(),
            "empty",
        ),
        (
            "invalid UTF-8",
            b"allowed_origins = [\"http://caf\xe9.localhost\"]\n".to_vec(),
            "not valid UTF-8",
        ),
        (
            "UTF-16",
            b"\xff\xfea\x00=\x001\x00".to_vec(),
            "not valid UTF-8",
        ),
        ("over the 4 MiB limit", huge, "the limit is 4194304"),
        (
            "100 000 arrays deep",
            nested(100_000).into_bytes(),
            "recursion",
        ),
        (
            "100 000 tables deep",
            format!("a = {}1{}\n", "{b = ".repeat(100_000), "}".repeat(100_000)).into_bytes(),
            "recursion",
        ),
        (
            "NUL byte",
            b"allowed_origins = []\0\n".to_vec(),
            "cors.toml:1:",
        ),
    ]
}

#[test]
fn content_faults_keep_the_last_good_policy_and_are_reported_once() {
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    assert_serves(&api, 1);
    let prober = Prober::start(&api);
    let mut good = 1;
    for (what, bytes, want) in content_faults() {
        let generation = policy_generation(&sb);
        let before = sb.event_count();
        let tmp = path.with_extension("fault-tmp");
        std::fs::write(&tmp, &bytes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        let err = e["error"].as_str().unwrap();
        assert!(err.contains(want), "{what}: {err}");
        assert!(
            err.len() < 1000,
            "{what}: a one-line error, got {} bytes",
            err.len()
        );
        assert_serves(&api, good);
        assert_status_failed(&sb, want, generation);
        // The same fault again: touched, and saved again with identical bytes.
        touch(&path);
        std::fs::write(&tmp, &bytes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        good += 1;
        let at = barrier(&sb, &path, good);
        let errors = failures(&sb.events(), before, at, "cors.toml");
        assert_eq!(errors.len(), 1, "{what}: {errors:#?}");
        let s = status_of(&sb, "cors.toml");
        assert_eq!(s["ok"], true, "{s}");
        assert_eq!(s["generation"], generation + 1, "{s}");
    }
    assert_eq!(prober.finish(), good);
}

#[test]
fn bom_and_crlf_are_accepted_on_reload() {
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let prober = Prober::start(&api);
    for (n, text) in [
        (2, format!("\u{feff}{}", policy(2))),
        (3, policy(3).replace('\n', "\r\n")),
        (4, format!("\u{feff}{}", policy(4).replace('\n', "\r\n"))),
    ] {
        let before = sb.event_count();
        save(&path, &text, SaveStyle::Rename);
        sb.wait_event_after(before, |e| e["event"] == "reloaded");
        assert_serves(&api, n);
        // One snapshot: an event landing between two reads must not shift the slice.
        let events = sb.events();
        assert!(failures(&events, before, events.len(), "cors.toml").is_empty());
    }
    assert_eq!(prober.finish(), 4);
}

#[test]
fn a_deleted_policy_keeps_serving_and_reloads_when_recreated() {
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let prober = Prober::start(&api);
    let before = sb.event_count();
    std::fs::remove_file(&path).unwrap();
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert!(e["error"].as_str().unwrap().contains("no such file"), "{e}");
    assert_serves(&api, 1);
    assert_status_failed(&sb, "no such file", 1);
    // Unrelated churn in the folder does not report the missing file again.
    write(d.path(), "notes.txt", "x");
    std::fs::remove_file(d.path().join("notes.txt")).unwrap();
    // Recreated (as a fresh file, not a rename) → reloaded.
    let at = sb.event_count();
    std::fs::write(&path, policy(2)).unwrap();
    sb.wait_event_after(at, |e| e["event"] == "reloaded" && e["file"] == "cors.toml");
    eventually("recreated policy served", || {
        (served(&api) == Some(2)).then_some(())
    });
    let events = sb.events();
    let errors = failures(&events, before, events.len(), "cors.toml");
    // Creating a file and writing it are two steps; the empty file in between may be seen.
    assert!(errors[0].contains("no such file"), "{errors:#?}");
    assert!(
        errors[1..].iter().all(|e| e.contains("empty")) && errors.len() <= 2,
        "{errors:#?}"
    );
    assert_eq!(status_of(&sb, "cors.toml")["ok"], true);
    // Deleted and recreated a second time: the same again.
    let before = sb.event_count();
    std::fs::remove_file(&path).unwrap();
    sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    let at = barrier(&sb, &path, 3);
    assert_eq!(failures(&sb.events(), before, at, "cors.toml").len(), 1);
    assert_eq!(prober.finish(), 3);
}

#[test]
fn a_policy_replaced_by_a_directory_keeps_serving() {
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let prober = Prober::start(&api);
    let before = sb.event_count();
    // Built aside and renamed into place, so the watcher sees one switch from file to folder.
    let aside = d.path().join("cors.dir");
    std::fs::create_dir(&aside).unwrap();
    write(&aside, "inner.toml", &policy(9));
    std::fs::remove_file(&path).unwrap();
    std::fs::rename(&aside, &path).unwrap();
    sb.wait_event_after(before, |e| {
        e["event"] == "reload_failed" && e["error"].as_str().unwrap_or("").contains("directory")
    });
    assert_serves(&api, 1);
    assert_status_failed(&sb, "directory", 1);
    // Changes inside that folder and a touch of it report nothing new.
    write(&path, "inner.toml", &policy(10));
    touch(&path);
    std::fs::remove_dir_all(&path).unwrap();
    let at = barrier(&sb, &path, 2);
    let errors = failures(&sb.events(), before, at, "cors.toml");
    // The file's removal, the folder, and the folder's removal before the barrier's rename
    // may each be seen as a state of its own.
    assert!(errors.len() <= 3, "{errors:#?}");
    assert_reported_once(
        "directory",
        &outcomes(&sb.events(), before, at, "cors.toml"),
    );
    assert_eq!(prober.finish(), 2);
}

/// Whether this process can read what `chmod 000` forbids (root, or CAP_DAC_OVERRIDE).
fn permissions_are_not_enforced_for_us(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read(path).is_ok();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    readable
}

#[test]
fn permission_denied_keeps_serving_and_recovers_when_restored() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    // As root, chmod 000 denies nothing; the sandbox then runs as `nobody`, for whom it does.
    let as_nobody = permissions_are_not_enforced_for_us(&path);
    const NOBODY: u32 = 65534;
    if as_nobody {
        let ok = std::process::Command::new(BIN)
            .arg("--version")
            .uid(NOBODY)
            .gid(NOBODY)
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!(
                "SKIPPED permission_denied: running with permission checks bypassed (root) and \
                 cannot start the sandbox as uid {NOBODY} (is the binary readable by others?)"
            );
            return;
        }
        // tempfile makes its folders 0700; `nobody` must be able to enter this one.
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let sb = TestSandbox::start_with(d.path(), &["--config", "sandbox.toml"], |cmd| {
        if as_nobody {
            cmd.uid(NOBODY).gid(NOBODY);
        }
    });
    let api = sb.url("api").to_string();
    let prober = Prober::start(&api);
    let before = sb.event_count();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert!(
        e["error"].as_str().unwrap().contains("permission denied"),
        "{e}"
    );
    assert_serves(&api, 1);
    assert_status_failed(&sb, "permission denied", 1);
    touch(&path);
    // Restored: the same good policy is read again; nothing changes in meaning.
    let at = sb.event_count();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    sb.wait_event_after(at, |e| e["event"] == "reloaded" && e["file"] == "cors.toml");
    assert_eq!(status_of(&sb, "cors.toml")["ok"], true);
    assert_serves(&api, 1);
    let at = barrier(&sb, &path, 2);
    assert_eq!(failures(&sb.events(), before, at, "cors.toml").len(), 1);
    assert_eq!(prober.finish(), 2);
}

#[test]
fn a_save_written_in_two_chunks_with_a_pause_loads_the_whole_file() {
    use std::io::Write;
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let prober = Prober::start(&api);
    let text = policy(2);
    let (first, rest) = text.split_at(text.find("probe").unwrap());
    let before = sb.event_count();
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(first.as_bytes()).unwrap();
    f.flush().unwrap();
    // The fault itself: an editor (or a slow network mount) stalls half-way through a save.
    std::thread::sleep(Duration::from_millis(300));
    assert_serves(&api, 1);
    f.write_all(rest.as_bytes()).unwrap();
    drop(f);
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "cors.toml"
    });
    eventually("whole file served", || {
        (served(&api) == Some(2)).then_some(())
    });
    let events = sb.events();
    let errors = failures(&events, before, events.len(), "cors.toml");
    // The half file (and, on a slow machine, the truncated empty file) may each be reported
    // once; nothing more.
    assert!(errors.len() <= 2, "{errors:#?}");
    if !errors.is_empty() {
        assert_reported_once(
            "half file",
            &outcomes(&events, before, events.len(), "cors.toml"),
        );
    }
    assert_eq!(status_of(&sb, "cors.toml")["ok"], true);
    assert_eq!(prober.finish(), 2);
}

/// 100 saves in one second, alternating good and bad, each bad one distinct (its own unknown
/// key). Returns (sandbox, folder, the numbers of the good policies written).
fn burst(ending_valid: bool) -> (TestSandbox, tempfile::TempDir, Vec<u64>) {
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let prober = Prober::start(&api);
    let mut goods = vec![1];
    let started = Instant::now();
    for i in 0..100u64 {
        let good = (i % 2 == 1) == ending_valid;
        let text = if good {
            goods.push(100 + i);
            policy(100 + i)
        } else {
            format!("{}bad_key_{i} = 1\n", policy(100 + i))
        };
        // Half the saves in place (truncate + write, as VS Code does), half by rename.
        let style = if i % 4 < 2 {
            SaveStyle::InPlace
        } else {
            SaveStyle::Rename
        };
        save(&path, &text, style);
        // Pacing, not synchronisation: one save every 10 ms is the scenario.
        let next = started + Duration::from_millis(10 * (i + 1));
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    // The watcher settles on the final content: a report naming the last save's key, or the
    // last good policy served.
    if ending_valid {
        let last = *goods.last().unwrap();
        eventually("final policy served", || {
            (served(&api) == Some(last)).then_some(())
        });
    } else {
        sb.wait_event(|e| {
            e["event"] == "reload_failed"
                && e["error"].as_str().unwrap_or("").contains("bad_key_99")
        });
    }
    let last_seen = prober.finish();
    assert!(
        goods.contains(&last_seen),
        "{last_seen} was never a good policy"
    );
    (sb, d, goods)
}

#[test]
fn a_hundred_saves_in_a_second_ending_valid_serve_the_final_policy() {
    let (sb, d, goods) = burst(true);
    let api = sb.url("api").to_string();
    assert_serves(&api, *goods.last().unwrap());
    let events = sb.events();
    let errors = failures(&events, 0, events.len(), "cors.toml");
    // At most one report per bad state the file went through: the 50 bad saves, and the
    // empty file each of the 50 in-place saves passes through.
    assert!(
        errors.len() <= 100,
        "{} reports for 100 saves",
        errors.len()
    );
    assert_reported_once("burst", &outcomes(&events, 0, events.len(), "cors.toml"));
    // The new policy is served from the moment it is swapped in; the status board is written
    // just after, so it is polled rather than read once.
    eventually("status ok", || {
        (status_of(&sb, "cors.toml")["ok"] == true).then_some(())
    });
    // Settled: a touch reports nothing, and a good save after it is the only change.
    let before = sb.event_count();
    touch(&d.path().join("cors.toml"));
    let at = barrier(&sb, &d.path().join("cors.toml"), 500);
    assert!(failures(&sb.events(), before, at, "cors.toml").is_empty());
}

#[test]
fn a_hundred_saves_in_a_second_ending_invalid_keep_the_last_good_policy() {
    let (sb, d, goods) = burst(false);
    let api = sb.url("api").to_string();
    // The policy in force is the newest good one the watcher loaded: a good policy, and the
    // highest number any request ever saw (the prober checked it never went backwards).
    let n = served(&api).unwrap();
    assert!(goods.contains(&n), "{n} is not a good policy");
    let events = sb.events();
    let errors = failures(&events, 0, events.len(), "cors.toml");
    // At most one report per bad state the file went through: the 50 bad saves, and the
    // empty file each of the 50 in-place saves passes through.
    assert!(
        errors.len() <= 100,
        "{} reports for 100 saves",
        errors.len()
    );
    assert_reported_once("burst", &outcomes(&events, 0, events.len(), "cors.toml"));
    let s = status_of(&sb, "cors.toml");
    assert_eq!(s["ok"], false, "{s}");
    assert!(s["error"].as_str().unwrap().contains("bad_key_99"), "{s}");
    // The final bad file, touched, is not reported again.
    let before = sb.event_count();
    touch(&d.path().join("cors.toml"));
    let at = barrier(&sb, &d.path().join("cors.toml"), 500);
    assert!(failures(&sb.events(), before, at, "cors.toml").is_empty());
}

/// A nesting bomb at startup is a clear error (exit 2), not a stack overflow.
#[test]
fn a_deeply_nested_policy_at_startup_is_an_error_not_a_crash() {
    for text in [nested(100_000), format!("a = {}", "[{b = ".repeat(50_000))] {
        let d = project(&text);
        let (code, out, err) = run_cli(d.path(), &["up", "--config", "sandbox.toml"]);
        assert_eq!(code, 2, "exit {code}\n{}", &err[..err.len().min(2000)]);
        let all = format!("{out}{err}");
        assert!(all.contains("cors.toml"), "{}", &all[..all.len().min(2000)]);
        // The report is short: a 200 000-character line is not echoed to the terminal.
        assert!(all.len() < 20_000, "report is {} bytes", all.len());
    }
}

fn routes_with_files() -> String {
    "[[route]]\npath = \"/api/data\"\nfile = \"data.json\"\n\n[[route]]\npath = \"/api/more\"\nfile = \"fixtures/more.json\"\n".to_string()
}

fn body(api: &str, path: &str) -> Option<String> {
    let res = client().get(format!("{api}{path}")).send().ok()?;
    (res.status() == 200).then(|| res.text().ok()).flatten()
}

/// A body file changing on its own (the routes file untouched) reloads the routes; a body
/// file going missing keeps the last good routes.
#[test]
fn a_body_file_changing_on_its_own_reloads_the_routes() {
    let d = project(&policy(1));
    write(d.path(), "data.json", "{\"v\": 1}");
    write(d.path(), "fixtures/more.json", "{\"more\": 1}");
    write(d.path(), "api.toml", &routes_with_files());
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    assert_eq!(body(&api, "/api/data").as_deref(), Some("{\"v\": 1}"));
    let data: PathBuf = d.path().join("data.json");
    for (i, style) in [
        SaveStyle::InPlace,
        SaveStyle::Rename,
        SaveStyle::DeleteCreate,
    ]
    .into_iter()
    .enumerate()
    {
        let before = sb.event_count();
        let want = format!("{{\"v\": {}}}", i + 2);
        save(&data, &want, style);
        eventually(&format!("{style:?} body change served"), || {
            (body(&api, "/api/data").as_deref() == Some(want.as_str())).then_some(())
        });
        sb.wait_event_after(before, |e| {
            e["event"] == "reloaded" && e["file"] == "api.toml"
        });
    }
    // A body file in a sub-folder is watched too.
    save(
        &d.path().join("fixtures/more.json"),
        "{\"more\": 2}",
        SaveStyle::Rename,
    );
    eventually("sub-folder body change served", || {
        (body(&api, "/api/more").as_deref() == Some("{\"more\": 2}")).then_some(())
    });
    // Missing body file: the routes reload fails once, the last good routes stay.
    let before = sb.event_count();
    std::fs::remove_file(&data).unwrap();
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert_eq!(e["file"], "api.toml", "{e}");
    assert!(e["error"].as_str().unwrap().contains("data.json"), "{e}");
    assert_eq!(body(&api, "/api/data").as_deref(), Some("{\"v\": 4}"));
    let at = sb.event_count();
    std::fs::write(&data, "{\"v\": 5}").unwrap();
    sb.wait_event_after(at, |e| e["event"] == "reloaded" && e["file"] == "api.toml");
    eventually("recreated body served", || {
        (body(&api, "/api/data").as_deref() == Some("{\"v\": 5}")).then_some(())
    });
    let events = sb.events();
    assert_eq!(failures(&events, before, events.len(), "api.toml").len(), 1);
    let s = status_of(&sb, "api.toml");
    assert_eq!(s["ok"], true, "{s}");
}

/// Errors reach pages (status board, overlay events) without the project's absolute folder,
/// even when a loader names a resolved path.
#[test]
fn errors_shown_to_pages_name_no_absolute_paths() {
    let d = project(&policy(1));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    std::os::unix::fs::symlink("/etc/hostname", d.path().join("link.json")).unwrap();
    let before = sb.event_count();
    save(
        &d.path().join("api.toml"),
        "[[route]]\npath = \"/api/x\"\nfile = \"link.json\"\n",
        SaveStyle::Rename,
    );
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert!(e["error"].as_str().unwrap().contains("outside"), "{e}");
    let s = status_of(&sb, "api.toml");
    let error = s["error"].as_str().unwrap();
    assert!(error.contains("outside"), "{s}");
    for dir in [d.path().to_path_buf(), d.path().canonicalize().unwrap()] {
        assert!(
            !error.contains(dir.to_str().unwrap()),
            "absolute path shown to pages: {s}"
        );
    }
}

/// Every save style, three times each: a well-formed save is reported once, as `reloaded`,
/// never first as a failure of the file it replaces (missing between a delete and its create,
/// empty after a truncate).
#[test]
fn a_well_formed_save_is_reloaded_once_in_every_save_style() {
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let prober = Prober::start(&api);
    let start = sb.event_count();
    let mut n = 1;
    for _ in 0..3 {
        for style in [
            SaveStyle::InPlace,
            SaveStyle::Rename,
            SaveStyle::DeleteCreate,
        ] {
            n += 1;
            let before = sb.event_count();
            save(&path, &policy(n), style);
            eventually(&format!("{style:?} save {n} served"), || {
                (served(&api) == Some(n)).then_some(())
            });
            // The swap comes before the log line: wait for it, so the barrier's own line is
            // not mistaken for this save's.
            sb.wait_event_after(before, |e| {
                e["event"] == "reloaded" && e["file"] == "cors.toml"
            });
            // The next save's reload marks the end of what this one caused.
            n += 1;
            let at = barrier(&sb, &path, n);
            let events = sb.events();
            let reloads = outcomes(&events, before, at, "cors.toml");
            assert_eq!(reloads, vec![None], "{style:?} save {}", n - 1);
        }
    }
    let events = sb.events();
    assert_eq!(
        failures(&events, start, events.len(), "cors.toml"),
        Vec::<String>::new()
    );
    assert_eq!(prober.finish(), n);
}

/// A writer that pauses 30 ms half-way through an in-place save (it keeps the file open, so
/// nothing says the write is complete) is not read until it closes the file.
#[test]
fn a_save_paused_briefly_half_way_is_never_read_half_written() {
    use std::io::Write;
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let start = sb.event_count();
    for n in 2..7u64 {
        let text = policy(n);
        let (first, rest) = text.split_at(text.find("probe").unwrap());
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(first.as_bytes()).unwrap();
        f.flush().unwrap();
        // The scenario, not synchronisation: an editor flushing its buffer in two chunks.
        std::thread::sleep(Duration::from_millis(30));
        f.write_all(rest.as_bytes()).unwrap();
        drop(f);
        eventually(&format!("save {n} served"), || {
            (served(&api) == Some(n)).then_some(())
        });
    }
    // A last save by rename: once it is served, whatever the paused saves caused is logged.
    barrier(&sb, &path, 7);
    let events = sb.events();
    assert_eq!(
        failures(&events, start, events.len(), "cors.toml"),
        Vec::<String>::new()
    );
}
