//! A `[[resource]]` is a REST collection whose state survives a routes reload, resets with
//! its seed, and with `--persist` survives a `kill -9` in the middle of a write.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{get_json, start, PAGE};
use crate::util::sandbox::*;

const SEED: &str = r#"[
  {"id": 1, "name": "Ahmad", "city": "Lahore"},
  {"id": 2, "name": "Sana", "city": "Karachi"},
  {"id": 3, "name": "Bilal", "city": "Lahore"}
]"#;
const RESOURCE_ROUTES: &str = "[[resource]]\nname = \"students\"\nseed = \"students.json\"\n";

#[test]
fn resources_give_rest_with_state_across_reloads_and_a_reset() {
    let (d, sb) = start(RESOURCE_ROUTES, &[("students.json", SEED)], &[]);
    let api = sb.url("api").to_string();
    let c = client();
    let res = c
        .get(format!(
            "{api}/api/students?city=Lahore&_sort=name&_order=desc"
        ))
        .header("Origin", PAGE)
        .send()
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "2");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        PAGE,
        "behind the CORS layer"
    );
    let names: Vec<String> = res
        .json::<Vec<Value>>()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Bilal", "Ahmad"]);
    let (_, page) = get_json(&format!("{api}/api/students?_page=2&_limit=2"));
    assert_eq!(page, json!([{"id": 3, "name": "Bilal", "city": "Lahore"}]));
    let created: Value = c
        .post(format!("{api}/api/students"))
        .json(&json!({"name": "Zara", "city": "Quetta"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(created["id"], 4);
    let r = c
        .patch(format!("{api}/api/students/4"))
        .json(&json!({"city": "Multan"}))
        .send()
        .unwrap();
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"id": 4, "name": "Zara", "city": "Multan"})
    );
    let r = c
        .put(format!("{api}/api/students/2"))
        .json(&json!({"name": "Sana K"}))
        .send()
        .unwrap();
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"id": 2, "name": "Sana K"})
    );
    assert_eq!(
        c.delete(format!("{api}/api/students/1"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    let (status, err) = get_json(&format!("{api}/api/students/1"));
    assert_eq!(status, 404);
    assert!(err["error"]
        .as_str()
        .unwrap()
        .contains("no students with id 1"));
    let r = c
        .post(format!("{api}/api/students"))
        .body("[1]")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("JSON object"));

    // A routes reload that leaves the seed alone keeps the state.
    let before = sb.event_count();
    save(
        &d.path().join("api.toml"),
        &format!("{RESOURCE_ROUTES}\n[[route]]\npath = \"/api/hello\"\nbody = \"hi\"\n"),
        SaveStyle::Rename,
    );
    sb.wait_event_after(before, |e| {
        e["event"] == "reloaded" && e["file"] == "api.toml"
    });
    assert_eq!(
        c.get(format!("{api}/api/hello"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
        "hi"
    );
    let (_, all) = get_json(&format!("{api}/api/students"));
    assert_eq!(all.as_array().unwrap().len(), 3, "state survived: {all}");
    assert_eq!(get_json(&format!("{api}/api/students/4")).0, 200);

    // Changing the seed resets that resource.
    let before = sb.event_count();
    save(
        &d.path().join("students.json"),
        "[{\"id\": 9, \"name\": \"New\"}]",
        SaveStyle::InPlace,
    );
    sb.wait_event_after(before, |e| e["event"] == "reloaded");
    assert_eq!(
        get_json(&format!("{api}/api/students")).1,
        json!([{"id": 9, "name": "New"}])
    );

    // The reset endpoint restores the seed.
    c.delete(format!("{api}/api/students/9")).send().unwrap();
    assert_eq!(get_json(&format!("{api}/api/students")).1, json!([]));
    let r = c
        .post(format!("{api}/api/__reset/students"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        get_json(&format!("{api}/api/students")).1,
        json!([{"id": 9, "name": "New"}])
    );

    // An invalid seed is a load error pointing at `seed = …`; the last good one stays.
    let before = sb.event_count();
    save(
        &d.path().join("students.json"),
        "[{\"name\": \"no id\"}]",
        SaveStyle::InPlace,
    );
    let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
    assert!(e["error"].as_str().unwrap().contains("api.toml:3:8"), "{e}");
    assert!(e["error"].as_str().unwrap().contains("no `id`"), "{e}");
}

#[test]
fn persist_survives_kill_9_mid_write() {
    let (d, mut sb) = start(RESOURCE_ROUTES, &[("students.json", SEED)], &["--persist"]);
    let api = sb.url("api").to_string();
    let state = d.path().join("students.state.json");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (api, stop) = (api.clone(), stop.clone());
            std::thread::spawn(move || {
                let c = client();
                let mut ok = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = c
                        .post(format!("{api}/api/students"))
                        .json(&json!({"name": format!("w{w}-{ok}"), "pad": "x".repeat(2000)}))
                        .send();
                    match r {
                        Ok(r) if r.status().as_u16() == 201 => ok += 1,
                        _ => break,
                    }
                }
                ok
            })
        })
        .collect();
    eventually("a few writes saved", || {
        let v: Value = serde_json::from_slice(&std::fs::read(&state).ok()?).ok()?;
        (v.as_array()?.len() > 20).then_some(())
    });
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(sb.pid() as i32, libc::SIGKILL);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let _ = sb.terminate(DEADLINE);
    let saved: Vec<Value> = serde_json::from_slice(&std::fs::read(&state).unwrap())
        .expect("the state file is whole JSON after kill -9");
    // Every acknowledged write was saved before its answer; one more may have been saved
    // but not acknowledged.
    assert!(
        saved.len() >= 3 + acked,
        "{} saved, {acked} acknowledged",
        saved.len()
    );
    assert!(
        saved.len() <= 3 + acked + 3,
        "{} saved, {acked} acknowledged",
        saved.len()
    );
    drop(sb);

    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml", "--persist"]);
    let (_, all) = get_json(&format!("{}/api/students", sb.url("api")));
    assert_eq!(
        all.as_array().unwrap().len(),
        saved.len().min(1000),
        "restarted from the saved state"
    );

    // A new seed wins over the saved state, on disk too (or a restart would undo it).
    let before = sb.event_count();
    save(
        &d.path().join("students.json"),
        "[{\"id\": 1}]",
        SaveStyle::InPlace,
    );
    sb.wait_event_after(before, |e| e["event"] == "reloaded");
    assert_eq!(
        get_json(&format!("{}/api/students", sb.url("api"))).1,
        json!([{"id": 1}])
    );
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(on_disk, json!([{"id": 1}]));
}
