//! `--persist` keeps a resource's state in `NAME.state.json` beside its seed. A cloned
//! repository decides what already sits at that name, and at any temp name it can guess: a
//! symlink out of the project, a FIFO, a device, a huge or a corrupt file. None of them may
//! be written through, followed, block the API, grow memory without bound or be silently
//! thrown away; and generated ids never wrap into duplicates.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{mkfifo, POLICY};
use crate::util::sandbox::*;

const SEED: &str = r#"[{"id": 1, "name": "Ahmad"}]"#;
const ROUTES: &str = "[[resource]]\nname = \"students\"\nseed = \"students.json\"\n\n[[route]]\nmethod = \"GET\"\npath = \"/api/hello\"\nbody = \"hi\"\n";
/// Items of a state file outside the project: never served.
const OUTSIDE_STATE: &str = r#"[{"id": 66, "name": "OUTSIDE-STATE-SECRET"}]"#;
/// A file outside the project the user cares about: never written.
const PRECIOUS: &str = "precious bytes, not JSON";
/// The sandbox may use at most this much data memory: a test that finds an unbounded read
/// must fail by the sandbox dying, not by taking the machine down with it.
const DATA_LIMIT: u64 = 512 * 1024 * 1024;

fn persist_project(seed: &str) -> tempfile::TempDir {
    let d = project(POLICY);
    write(d.path(), "api.toml", ROUTES);
    write(d.path(), "students.json", seed);
    d
}

fn start_persisting(d: &Path) -> TestSandbox {
    TestSandbox::start_with(d, &["--config", "sandbox.toml", "--persist"], |cmd| {
        // SAFETY: setrlimit(2) is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: DATA_LIMIT,
                    rlim_max: DATA_LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_DATA, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    })
}

fn state(d: &Path) -> PathBuf {
    d.join("students.state.json")
}

fn get(sb: &TestSandbox, path: &str) -> (u16, String) {
    let res = client()
        .get(format!("{}{path}", sb.url("api")))
        .send()
        .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", sb.output()));
    (res.status().as_u16(), res.text().unwrap())
}

fn post(sb: &TestSandbox, body: Value) -> (u16, Value) {
    let res = client()
        .post(format!("{}/api/students", sb.url("api")))
        .json(&body)
        .send()
        .unwrap_or_else(|e| panic!("POST {body}: {e}\n{}", sb.output()));
    (res.status().as_u16(), res.json().unwrap_or(Value::Null))
}

fn items(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The `warning` log line about the saved state, waited for.
fn state_warning(sb: &TestSandbox) -> String {
    let e = sb.wait_event(|e| {
        e["event"] == "warning"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("students.state.json"))
    });
    e["message"].as_str().unwrap().to_string()
}

/// The status board (which the overlay shares) names the unusable state, and no folder.
fn assert_state_on_the_status_board(sb: &TestSandbox, d: &Path, what: &str) {
    let board: serde_json::Value = client()
        .get(sb.keyed("frontend", "/__sandbox/status"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let entry = board["reloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == "students.state.json")
        .unwrap_or_else(|| panic!("{what}: no status entry in {board}"));
    assert_eq!(entry["ok"], false, "{what}: {entry}");
    let error = entry["error"].as_str().unwrap_or_default();
    assert!(error.contains("corrupt-"), "{what}: {error}");
    let folder = d.display().to_string();
    assert!(
        !error.contains(&folder),
        "{what}: a folder reached pages: {error}"
    );
}

/// Files beside the state that hold a saved state set aside.
fn set_aside(d: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("students.state.json.corrupt-")
        })
        .collect()
}

fn is_regular_file(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file())
}

/// Puts something at the state's name before the sandbox starts.
type Plant = fn(&Path);

/// Waits for every case; fails naming each one that failed (its panic is printed above).
fn join_all(runs: Vec<(String, std::thread::JoinHandle<()>)>) {
    let failed: Vec<String> = runs
        .into_iter()
        .filter_map(|(what, run)| run.join().is_err().then_some(what))
        .collect();
    assert!(failed.is_empty(), "failed: {failed:?}");
}

/// A state file that is a symlink out of the project is neither served nor written through;
/// the first write replaces the link with a regular file. One attack input.
#[test]
fn a_saved_state_symlinked_out_of_the_project_is_not_followed() {
    let d = persist_project(SEED);
    let outside = tempfile::tempdir().unwrap();
    let target = write(outside.path(), "state.json", OUTSIDE_STATE);
    std::os::unix::fs::symlink(&target, state(d.path())).unwrap();
    let sb = start_persisting(d.path());

    let (status, body) = get(&sb, "/api/students");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("OUTSIDE-STATE-SECRET"), "served: {body}");
    assert_eq!(items(&body), items(SEED), "started from the seed");
    let warning = state_warning(&sb);
    assert!(warning.contains("symbolic link"), "{warning}");

    assert_eq!(post(&sb, json!({"name": "Zara"})).0, 201);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), OUTSIDE_STATE);
    assert!(is_regular_file(&state(d.path())), "the link was replaced");
    let saved = items(&std::fs::read_to_string(state(d.path())).unwrap());
    assert_eq!(saved.as_array().unwrap().len(), 2, "{saved}");
}

/// The temp file of a save cannot be predicted: a symlink planted at the old name
/// (`NAME.state.json.tmp-<pid>`) is never written through. One attack input.
#[test]
fn a_symlink_planted_at_the_temp_name_is_not_written_through() {
    let d = persist_project(SEED);
    let outside = tempfile::tempdir().unwrap();
    let target = write(outside.path(), "precious.txt", PRECIOUS);
    let sb = start_persisting(d.path());
    let planted = d
        .path()
        .join(format!("students.state.json.tmp-{}", sb.pid()));
    std::os::unix::fs::symlink(&target, &planted).unwrap();

    let (status, created) = post(&sb, json!({"name": "Zara"}));
    assert_eq!(status, 201, "{created}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), PRECIOUS);
    assert!(is_regular_file(&state(d.path())), "the state is a file");
    let saved = items(&std::fs::read_to_string(state(d.path())).unwrap());
    assert_eq!(saved.as_array().unwrap().len(), 2, "{saved}");
}

/// A FIFO, a device and a file far above the size cap at the state's name are refused at
/// once with a warning: no request waits on them, memory stays bounded, every route still
/// answers, and writes are saved again. Three attack inputs.
#[test]
fn special_and_huge_saved_states_are_refused_at_once() {
    let cases: [(&str, Plant); 3] = [
        ("a FIFO", |p| mkfifo(p)),
        ("a symlink to /dev/zero", |p| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
        ("a sparse 1 GiB file", |p| {
            std::fs::File::create(p)
                .unwrap()
                .set_len(1024 * 1024 * 1024)
                .unwrap()
        }),
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(what, plant)| {
            let run = std::thread::spawn(move || {
                let d = persist_project(SEED);
                plant(&state(d.path()));
                let sb = start_persisting(d.path());
                let started = Instant::now();
                let (status, body) = get(&sb, "/api/students");
                assert_eq!((status, items(&body)), (200, items(SEED)), "{what}");
                assert!(
                    started.elapsed() < Duration::from_secs(3),
                    "{what}: took {:?}",
                    started.elapsed()
                );
                assert_eq!(get(&sb, "/api/hello"), (200, "hi".to_string()), "{what}");
                let warning = state_warning(&sb);
                assert!(warning.contains("not used"), "{what}: {warning}");
                assert_eq!(post(&sb, json!({"name": "Zara"})).0, 201, "{what}");
                assert!(is_regular_file(&state(d.path())), "{what}: saved again");
            });
            (what.to_string(), run)
        })
        .collect();
    join_all(runs);
}

/// A saved state that does not load is reported, kept beside under a new name with its
/// bytes, and never overwritten; the table starts from its seed. Four attack inputs.
#[test]
fn a_corrupt_saved_state_is_warned_about_and_kept() {
    let cases: [&[u8]; 4] = [
        b"[{\"id\": 1, \"name\": \"half-writ",
        b"[{\"id\": 7}, {\"id\": 7}]",
        b"{\"id\": 1}",
        b"[{\"id\": 1, \"name\": \"\xff\xfe\"}]",
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|bad| {
            let what = String::from_utf8_lossy(bad).into_owned();
            let shown = what.clone();
            let run = std::thread::spawn(move || {
                let d = persist_project(SEED);
                std::fs::write(state(d.path()), bad).unwrap();
                let sb = start_persisting(d.path());
                let (status, body) = get(&sb, "/api/students");
                assert_eq!((status, items(&body)), (200, items(SEED)), "{what}");
                let warning = state_warning(&sb);
                assert!(warning.contains("corrupt-"), "{what}: {warning}");
                assert_state_on_the_status_board(&sb, d.path(), &what);
                assert_eq!(post(&sb, json!({"name": "Zara"})).0, 201, "{what}");
                let kept = set_aside(d.path());
                assert_eq!(kept.len(), 1, "{what}: {kept:?}");
                assert_eq!(std::fs::read(&kept[0]).unwrap(), bad, "{what}");
                let saved = items(&std::fs::read_to_string(state(d.path())).unwrap());
                assert_eq!(saved.as_array().unwrap().len(), 2, "{what}: {saved}");
            });
            (shown, run)
        })
        .collect();
    join_all(runs);
}

/// Numeric ids continue from the largest; at `i64::MAX` there is no next one: a POST
/// without an id gets 507 naming the problem, nothing stored is lost, and a restart loads
/// every item. One attack input (a seed one below the largest id).
#[test]
fn generated_ids_never_wrap_into_duplicates() {
    let d = persist_project(&format!(
        r#"[{{"id": {}, "name": "last but one"}}]"#,
        i64::MAX - 1
    ));
    let sb = start_persisting(d.path());
    let (status, created) = post(&sb, json!({"name": "last"}));
    assert_eq!((status, created["id"].as_i64()), (201, Some(i64::MAX)));
    let (status, err) = post(&sb, json!({"name": "one too many"}));
    assert_eq!(status, 507, "{err}");
    let message = err["error"].as_str().unwrap_or_default();
    assert!(message.contains("id"), "{err}");
    let (status, given) = post(&sb, json!({"id": 5, "name": "own id"}));
    assert_eq!(status, 201, "{given}");

    let want = json!([
        {"id": i64::MAX - 1, "name": "last but one"},
        {"id": i64::MAX, "name": "last"},
        {"id": 5, "name": "own id"},
    ]);
    assert_eq!(items(&get(&sb, "/api/students").1), want);
    drop(sb);
    let sb = start_persisting(d.path());
    assert_eq!(items(&get(&sb, "/api/students").1), want, "after a restart");
}
