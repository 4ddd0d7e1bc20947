//! `cargo bench --bench explain`: how fast verdicts are computed.
//! - the model in-process over the differential corpus (every category of scenario);
//! - `sandbox explain --json` on a file of 1000 scenarios, end to end (process start,
//!   parsing, judging, printing).
// Benchmarks and tests stop at the first surprise, with its location; that is what
// unwrap is for here (the lint guards the shipped code).
#![allow(clippy::unwrap_used)]

use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_sandbox");

fn main() {
    let corpus: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../tests/cors_scenarios.json")).unwrap();
    let scenarios: Vec<sandbox::browser::Scenario> = corpus
        .iter()
        .cycle()
        .take(1000)
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .collect();
    let ctx = sandbox::browser::FixContext::Generic;

    // Warm up, then time enough rounds for a stable figure.
    for s in &scenarios {
        std::hint::black_box(sandbox::browser::evaluate(s, &ctx));
    }
    let rounds = 20;
    let t0 = Instant::now();
    let mut blocked = 0usize;
    for _ in 0..rounds {
        for s in &scenarios {
            if !sandbox::browser::evaluate(std::hint::black_box(s), &ctx).is_allowed() {
                blocked += 1;
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let per_sec = (rounds * scenarios.len()) as f64 / secs;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("thousand.json");
    let list: Vec<&serde_json::Value> = corpus.iter().cycle().take(1000).collect();
    std::fs::write(&file, serde_json::to_vec(&list).unwrap()).unwrap();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = std::process::Command::new(BIN)
            .args(["explain", file.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    runs.sort_by(f64::total_cmp);

    println!("| figure | value |");
    println!("|---|---|");
    println!("| model, in-process: scenarios judged per second | {per_sec:.0} ({} scenarios × {rounds} rounds, {blocked} blocked verdicts) |", scenarios.len());
    println!(
        "| `sandbox explain --json` on 1000 scenarios, median of 5 (ms) | {:.1} |",
        runs[2]
    );
    println!(
        "| … i.e. scenarios per second end to end | {:.0} |",
        1000.0 / (runs[2] / 1000.0)
    );
}
