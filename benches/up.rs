//! `cargo bench --bench up`: figures for `sandbox up`, printed as a Markdown table.
//! - policy reload: time from a policy save to the first response carrying the new headers,
//!   over 300 saves taking turns in place, by rename and by delete + create (median, p90,
//!   p99, worst, by style);
//! - live reload: time from a save under the static root to the event reaching a connected
//!   client (median, p90, p99, worst over 100 saves, 150 ms apart);
//! - cold start: process start to both origins answering HTTP (median of 20);
//! - resident memory when idle.
//!
//! Loopback only; every loop is bounded. Figures, not pass/fail: machines are noisy.
// Benchmarks and tests stop at the first surprise, with its location; that is what
// unwrap is for here (the lint guards the shipped code).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox");
const SAVES: usize = 300;
const STATIC_SAVES: usize = 100;
const STATIC_GAP: Duration = Duration::from_millis(150);
const STARTS: usize = 20;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn policy(origin: &str) -> String {
    format!("allowed_origins = [\"{origin}\"]\nallowed_methods = [\"GET\"]\n")
}

fn project(dir: &Path, fport: u16, aport: u16) {
    std::fs::create_dir_all(dir.join("web")).unwrap();
    std::fs::write(dir.join("web/index.html"), "<html><body>x</body></html>").unwrap();
    std::fs::write(
        dir.join("api.toml"),
        "[[route]]\npath = \"/api/student\"\njson = { name = \"Ahmad\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("cors.toml"), policy("http://start.localhost")).unwrap();
    std::fs::write(
        dir.join("sandbox.toml"),
        format!("[[origin]]\nname='frontend'\nkind='static'\nport={fport}\nroot='web'\n[[origin]]\nname='api'\nkind='api'\nport={aport}\nroutes='api.toml'\npolicy='cors.toml'\n"),
    )
    .unwrap();
}

fn spawn(dir: &Path) -> Child {
    Command::new(BIN)
        .args(["up", "--config", "sandbox.toml", "--log-format", "json"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_ok(c: &reqwest::blocking::Client, url: &str, deadline: Instant) {
    while Instant::now() < deadline {
        if c.get(url).send().is_ok_and(|r| r.status().is_success()) {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    panic!("{url} never answered");
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let c = client();
    let dir = tempfile::tempdir().unwrap();
    let (fport, aport) = (free_port(), free_port());
    project(dir.path(), fport, aport);

    // Cold start.
    let mut starts = Vec::new();
    for _ in 0..STARTS {
        let t0 = Instant::now();
        let mut child = spawn(dir.path());
        let deadline = t0 + Duration::from_secs(10);
        wait_ok(&c, &format!("http://127.0.0.1:{fport}/"), deadline);
        wait_ok(
            &c,
            &format!("http://127.0.0.1:{aport}/api/student"),
            deadline,
        );
        starts.push(t0.elapsed().as_secs_f64() * 1000.0);
        let _ = child.kill();
        let _ = child.wait();
    }
    starts.sort_by(f64::total_cmp);

    // Reload latency and idle memory on one long-running process.
    let mut child = spawn(dir.path());
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || for _ in BufReader::new(out).lines() {});
    wait_ok(
        &c,
        &format!("http://127.0.0.1:{aport}/api/student"),
        Instant::now() + Duration::from_secs(10),
    );
    for _ in 0..50 {
        let _ = c.get(format!("http://127.0.0.1:{fport}/")).send();
    }
    let idle_rss = rss_kib(child.id());
    let api = format!("http://127.0.0.1:{aport}/api/student");
    let cors = dir.path().join("cors.toml");
    let (mut inplace, mut rename, mut recreate) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..SAVES {
        let origin = format!("http://o{i}.localhost:8080");
        let text = policy(&origin);
        let t0 = Instant::now();
        match i % 3 {
            0 => std::fs::write(&cors, &text).unwrap(),
            1 => {
                let tmp = dir.path().join("cors.toml.tmp");
                std::fs::write(&tmp, &text).unwrap();
                std::fs::rename(&tmp, &cors).unwrap();
            }
            _ => {
                std::fs::remove_file(&cors).unwrap();
                std::fs::write(&cors, &text).unwrap();
            }
        }
        let deadline = t0 + Duration::from_secs(5);
        loop {
            let r = c.get(&api).header("Origin", &origin).send().unwrap();
            if r.headers()
                .get("access-control-allow-origin")
                .is_some_and(|v| v == origin.as_str())
            {
                break;
            }
            assert!(Instant::now() < deadline, "save {i} never seen");
        }
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        [&mut inplace, &mut rename, &mut recreate][i % 3].push(ms);
    }
    // Live reload: a connected event-stream client, timed from each save to its event.
    let mut events = BufReader::new(
        reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
            .get(format!("http://127.0.0.1:{fport}/__sandbox/events"))
            .send()
            .unwrap(),
    );
    let mut line = String::new();
    while !line.contains("connected") {
        line.clear();
        events.read_line(&mut line).unwrap();
    }
    let mut live = Vec::new();
    let page = dir.path().join("web/index.html");
    for i in 0..STATIC_SAVES {
        // Saves a person makes, not a burst: a static save within 100 ms of the one before is
        // told to pages with the rest of its burst once it settles (a `git checkout` reloads a
        // page once, not once a file), which is not what this row measures.
        std::thread::sleep(STATIC_GAP);
        let t0 = Instant::now();
        std::fs::write(&page, format!("<html><body>{i}</body></html>")).unwrap();
        loop {
            line.clear();
            assert!(
                events.read_line(&mut line).unwrap() > 0,
                "event stream closed"
            );
            if line.starts_with("data: ") && line.contains("static-changed") {
                break;
            }
        }
        live.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    live.sort_by(f64::total_cmp);
    let _ = child.kill();
    let _ = child.wait();
    let mut all: Vec<f64> = [&inplace, &rename, &recreate]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    for v in [&mut all, &mut inplace, &mut rename, &mut recreate] {
        v.sort_by(f64::total_cmp);
    }
    let row = |what: String, v: &[f64]| {
        println!(
            "| {what} | {:.2} | {:.2} | {:.2} | {:.2} |",
            pct(v, 0.5),
            pct(v, 0.9),
            pct(v, 0.99),
            v[v.len() - 1]
        )
    };

    println!("| figure | median | p90 | p99 | worst |");
    println!("|---|---|---|---|---|");
    let n = all.len();
    row(
        format!("policy save → new headers, all {n} saves (ms)"),
        &all,
    );
    row("… in-place saves (ms)".into(), &inplace);
    row("… rename saves (ms)".into(), &rename);
    row("… delete + create saves (ms)".into(), &recreate);
    let n = live.len();
    row(
        format!("static save → live-reload event at a connected page, {n} saves (ms)"),
        &live,
    );
    row(
        format!("cold start → both origins answer, {STARTS} runs (ms)"),
        &starts,
    );
    println!(
        "| idle resident memory (MiB) | {:.1} | | | |",
        idle_rss as f64 / 1024.0
    );
}
