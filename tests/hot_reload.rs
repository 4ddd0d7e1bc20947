//! Edits to the policy, the routes and the static root take effect on the next request, for
//! every way editors save; bad edits keep the last good version; pages hear about both over
//! `/__sandbox/events`; shutdown is prompt even with a page connected.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use crate::util::sandbox::*;

#[test]
fn policy_edit_is_seen_by_the_next_request_for_every_save_style() {
    let d = project(&policy_for("http://a.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    assert_eq!(
        acao_for(&api, "http://a.localhost:8080").as_deref(),
        Some("http://a.localhost:8080")
    );
    let styles = [
        SaveStyle::InPlace,
        SaveStyle::Rename,
        SaveStyle::DeleteCreate,
        SaveStyle::InPlace,
        SaveStyle::Rename,
    ];
    for (i, style) in styles.into_iter().enumerate() {
        let origin = format!("http://o{i}.localhost:8080");
        let before = sb.event_count();
        save(&d.path().join("cors.toml"), &policy_for(&origin), style);
        let got = eventually(&format!("{style:?} save seen"), || {
            acao_for(&api, &origin).filter(|v| *v == origin)
        });
        assert_eq!(got, origin);
        let e = sb.wait_event_after(before, |e| {
            e["event"] == "reloaded" && e["file"] == "cors.toml"
        });
        assert_eq!(e["generation"], i as u64 + 2, "{style:?}: {e}");
        assert_eq!(e["changed"], "allowed_origins");
        // The previous origin is no longer allowed.
        assert_eq!(acao_for(&api, "http://a.localhost:8080"), None);
    }
}

#[test]
fn invalid_edit_keeps_the_last_good_policy_and_reports_it() {
    let d = project(&policy_for("http://good.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let bad = [
        (
            "allowed_origins = [\"http://x.localhost:8080\"\n",
            "cors.toml:",
        ),
        (
            "allowed_origins = \"*\"\nsupports_credentials = true\n",
            "cannot be combined",
        ),
        (
            "allowed_origins = [\"http://x.localhost:8080/\"]\n",
            "trailing slash",
        ),
        ("alowed_origins = []\n", "did you mean `allowed_origins`"),
    ];
    for (text, want) in bad {
        let before = sb.event_count();
        save(&d.path().join("cors.toml"), text, SaveStyle::Rename);
        let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        let err = e["error"].as_str().unwrap();
        assert!(err.contains(want), "{err}");
        assert!(
            err.contains("cors.toml:1:") || err.contains("cors.toml:2:"),
            "located: {err}"
        );
        assert_eq!(
            acao_for(&api, "http://good.localhost:8080").as_deref(),
            Some("http://good.localhost:8080")
        );
    }
    // A good save after failures loads normally.
    let before = sb.event_count();
    save(
        &d.path().join("cors.toml"),
        &policy_for("http://new.localhost:8080"),
        SaveStyle::InPlace,
    );
    sb.wait_event_after(before, |e| e["event"] == "reloaded");
    assert_eq!(
        acao_for(&api, "http://new.localhost:8080").as_deref(),
        Some("http://new.localhost:8080")
    );
}

#[test]
fn routes_edit_is_seen() {
    let d = project(&policy_for("http://a.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let c = client();
    assert_eq!(
        c.get(format!("{api}/api/teacher")).send().unwrap().status(),
        404
    );
    save(
        &d.path().join("api.toml"),
        "[[route]]\npath = \"/api/teacher/{id}\"\nstatus = 201\nheaders = { \"X-Total-Count\" = \"1\" }\nbody = \"Sana\"\n",
        SaveStyle::Rename,
    );
    let res = eventually("new route served", || {
        let r = c.get(format!("{api}/api/teacher/7")).send().ok()?;
        (r.status() == 201).then_some(r)
    });
    assert_eq!(res.headers()["x-total-count"], "1");
    assert_eq!(res.text().unwrap(), "Sana");
    assert_eq!(
        c.get(format!("{api}/api/student")).send().unwrap().status(),
        404
    );
    let e = sb.wait_event(|e| e["event"] == "reloaded" && e["file"] == "api.toml");
    assert_eq!(e["generation"], 2);
}

/// Opens the event stream and waits for its greeting, so later edits cannot be missed.
fn open_events(url: &str) -> BufReader<reqwest::blocking::Response> {
    let res = client()
        .get(format!("{url}/__sandbox/events"))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let mut r = BufReader::new(res);
    let mut line = String::new();
    while !line.contains("connected") {
        line.clear();
        assert!(
            r.read_line(&mut line).unwrap() > 0,
            "stream closed before greeting"
        );
    }
    r
}

fn next_data(r: &mut BufReader<reqwest::blocking::Response>) -> serde_json::Value {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "stream closed");
        if let Some(data) = line.strip_prefix("data: ") {
            return serde_json::from_str(data.trim()).unwrap();
        }
    }
}

#[test]
fn static_edit_and_failed_reload_reach_open_pages() {
    let d = project(&policy_for("http://a.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let mut events = open_events(sb.url("frontend"));

    save(
        &d.path().join("web/index.html"),
        "<html><body>v2</body></html>",
        SaveStyle::Rename,
    );
    let e = next_data(&mut events);
    assert_eq!(e["type"], "static-changed", "{e}");
    assert_eq!(e["files"], serde_json::json!(["index.html"]));
    assert_eq!(e["css_only"], false);
    let html = client()
        .get(sb.url("frontend"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(html.contains("v2"));

    std::fs::write(d.path().join("web/site.css"), "h1 { color: blue }").unwrap();
    let e = next_data(&mut events);
    assert_eq!(e["css_only"], true, "{e}");

    save(
        &d.path().join("cors.toml"),
        "allowed_origins = [\n",
        SaveStyle::InPlace,
    );
    let e = next_data(&mut events);
    assert_eq!(e["type"], "reload-failed", "{e}");
    assert_eq!(e["file"], "cors.toml");
    assert!(e["line"].as_u64().is_some());
    let dir = d.path().to_string_lossy().to_string();
    assert!(
        !e.to_string().contains(&dir),
        "no absolute paths in events: {e}"
    );

    save(
        &d.path().join("cors.toml"),
        &policy_for("http://b.localhost:8080"),
        SaveStyle::InPlace,
    );
    let e = next_data(&mut events);
    assert_eq!(e["type"], "reloaded", "{e}");
    assert_eq!(e["generation"], 2);
}

#[test]
fn shutdown_is_prompt_with_an_open_event_stream() {
    let d = project(&policy_for("http://a.localhost:8080"));
    let mut sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let _events = open_events(sb.url("frontend"));
    let took = sb.terminate(Duration::from_secs(2));
    assert!(
        took.is_some(),
        "still running 2 s after SIGTERM; log:\n{}",
        sb.output()
    );
    sb.wait_event(|e| e["event"] == "stopped");
}

#[test]
fn poll_mode_sees_saves_too() {
    let d = project(&policy_for("http://a.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml", "--poll"]);
    let api = sb.url("api").to_string();
    for (i, style) in [SaveStyle::InPlace, SaveStyle::Rename]
        .into_iter()
        .enumerate()
    {
        let origin = format!("http://p{i}.localhost:8080");
        save(&d.path().join("cors.toml"), &policy_for(&origin), style);
        eventually(&format!("--poll {style:?} save seen"), || {
            acao_for(&api, &origin).filter(|v| *v == origin)
        });
    }
    let e = sb.wait_event(|e| e["event"] == "reloaded");
    assert_eq!(e["generation"], 2);
}

/// Nanoseconds since the epoch, the clock the sandbox stamps its log lines with.
fn wall_nanos() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos()
}

/// Saves by `style` every ~2 ms for 1.5 s, faster than the debounce, and returns the storm's
/// timeline: for each save, when it began and when it was written (wall-clock nanoseconds).
fn save_storm(path: &std::path::Path, style: SaveStyle) -> Vec<(i128, i128)> {
    const PACE: Duration = Duration::from_millis(2);
    const STORM: Duration = Duration::from_millis(1500);
    let started = Instant::now();
    let mut saves = Vec::new();
    while started.elapsed() < STORM {
        let began = wall_nanos();
        save(
            path,
            &policy_for(&format!("http://s{}.localhost:8080", saves.len())),
            style,
        );
        saves.push((began, wall_nanos()));
        // Pacing, not synchronisation: one save every 2 ms is the scenario.
        let next = started + PACE * saves.len() as u32;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    saves
}

/// A log line's `time` (RFC 3339 in UTC, `2025-01-02T03:04:05.123456789Z`) in nanoseconds.
fn log_time_nanos(t: &str) -> Option<i128> {
    let (date, clock) = t.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|n| n.parse::<i32>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, "0"));
    let mut c = hms.split(':').map(|n| n.parse::<u8>().ok());
    let (h, min, sec) = (c.next()??, c.next()??, c.next()??);
    let nanos: u32 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m as u8).ok()?, day as u8);
    let clock = time::Time::from_hms_nano(h, min, sec, nanos).ok()?;
    Some(
        date.ok()?
            .with_time(clock)
            .assume_utc()
            .unix_timestamp_nanos(),
    )
}

/// Whether a reload logged at `at` happened amid the storm: saves kept coming, with no pause
/// of a debounce's length, from `AMID` before it until after it. The debouncer alone acts only
/// after such a pause; the test machine's own pauses (a descheduled writer) are left out by
/// measuring them.
fn amid_the_storm(saves: &[(i128, i128)], at: i128) -> bool {
    const AMID: i128 = 100_000_000;
    const PAUSE: i128 = 9_000_000;
    let Some(after) = saves.iter().position(|(began, _)| *began > at) else {
        return false;
    };
    saves[..after]
        .windows(2)
        .rev()
        .take_while(|w| w[0].1 >= at - AMID)
        .all(|w| w[1].0 - w[0].1 < PAUSE)
        && saves[after].0 - saves[after - 1].1 < PAUSE
        && saves[..after]
            .iter()
            .any(|(_, written)| *written < at - AMID)
}

/// A storm of saves faster than the debounce: the watcher applies saves while it lasts (it
/// may skip some, never all for long), and applies the last one.
fn a_save_storm_is_applied_while_it_lasts(style: SaveStyle) {
    let d = project(&policy_for("http://start.localhost:8080"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let saves = save_storm(&d.path().join("cors.toml"), style);
    let last = format!("http://s{}.localhost:8080", saves.len() - 1);
    eventually("the last save of the storm served", || {
        acao_for(&api, &last).filter(|v| *v == last)
    });
    let reloads: Vec<i128> = sb
        .events()
        .iter()
        .filter(|e| e["event"] == "reloaded" && e["file"] == "cors.toml")
        .filter_map(|e| log_time_nanos(e["time"].as_str()?))
        .collect();
    let amid = reloads
        .iter()
        .filter(|t| amid_the_storm(&saves, **t))
        .count();
    assert!(
        amid > 0,
        "{style:?}: none of {} reloads came amid the storm of {} saves",
        reloads.len(),
        saves.len()
    );
}

#[test]
fn a_save_storm_by_rename_is_applied_while_it_lasts() {
    a_save_storm_is_applied_while_it_lasts(SaveStyle::Rename);
}

#[test]
fn a_save_storm_by_delete_and_create_is_applied_while_it_lasts() {
    a_save_storm_is_applied_while_it_lasts(SaveStyle::DeleteCreate);
}

/// A `git checkout` rewriting 1,000 files under a static root: open pages hear of it in a
/// batch or two (the first file at once, the rest when the burst settles), not once a file;
/// no file is told twice.
#[test]
fn a_burst_of_static_saves_reaches_open_pages_in_a_few_batches_not_one_a_file() {
    const FILES: usize = 1000;
    let d = project(&policy_for("http://a.localhost:8080"));
    let rel = |i: usize| format!("pages/p{i}.html");
    for i in 0..FILES {
        write(d.path(), &format!("web/{}", rel(i)), "<p>old</p>");
    }
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let before = sb.event_count();
    // A pause in the writing longer than the watcher's quiet time may end a batch there, and a
    // burst longer than its longest wait is told in parts (under 100 ms and 300 ms; smaller
    // figures here, so only the bound grows). The test counts its own pauses and time, so a
    // slow machine cannot fail it.
    let quiet = Duration::from_millis(50);
    let longest_wait = Duration::from_millis(250);
    let mut pauses = 0;
    let started = Instant::now();
    let mut last = started;
    for i in 0..FILES {
        save(
            &d.path().join("web").join(rel(i)),
            &format!("<p>new {i}</p>"),
            if i % 2 == 0 {
                SaveStyle::InPlace
            } else {
                SaveStyle::Rename
            },
        );
        let now = Instant::now();
        if now - last >= quiet {
            pauses += 1;
        }
        last = now;
    }
    let parts = (last - started).as_millis() / longest_wait.as_millis();
    // The sandbox's reload thread can be descheduled too, which the test cannot see; a few
    // batches more are still nothing like one a file.
    let bound = 2 + pauses + parts as usize + SCHEDULING_SLACK;
    let batches = eventually("every rewritten file reported", || {
        let batches: Vec<Vec<String>> = sb.events()[before..]
            .iter()
            .filter(|e| e["event"] == "static_changed")
            .map(|e| {
                (e["files"].as_array().into_iter().flatten())
                    .filter_map(|f| f.as_str().map(String::from))
                    .collect()
            })
            .collect();
        let named: std::collections::BTreeSet<&String> = batches.iter().flatten().collect();
        (named.len() == FILES).then_some(batches)
    });
    assert!(
        batches.len() <= bound,
        "{} batches ({pauses} pauses, {parts} longest waits in the writing): {:?}",
        batches.len(),
        batches.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let named: usize = batches.iter().map(Vec::len).sum();
    assert_eq!(named, FILES, "a file reported twice");
}

/// Batches a busy machine may add to a burst by descheduling the sandbox's reload thread
/// (shared with `lab_browser`'s burst test). A burst told file by file is hundreds.
pub(crate) const SCHEDULING_SLACK: usize = 8;
