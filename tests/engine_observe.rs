//! The engine differential: Firefox ESR and WebKitGTK on the CORS corpus, held against
//! the model speaking for each (`sandbox::browser::evaluate_in`).
//!
//! Every scenario of `tests/cors_scenarios.json` is rewritten as `browser_differential`
//! rewrites it (loopback `*.localhost` origins, a `/s/<n>` prefix per scenario, the page's
//! URL in `request.page_url`), served by a [`ScenarioHost`] with the scenario's exact bytes,
//! and replayed in each engine through its oracle (`tests/engines/oracle.py`, one browser
//! per engine, a fresh page per scenario; a scenario's earlier exchanges run in the same
//! page first, timed as in the corpus). For every scenario and engine the test asserts
//! that the engine and the model agree on the outcome, on whether a preflight reached the
//! server (and its `Origin`), on the reason (Firefox's key without its trailing digit;
//! WebKit has none), on every console line the engine printed, in order, and on the
//! TypeError script saw. There is no list of known differences: where the engines differ
//! from Chromium, the model's `Quirks` and words say so.
//!
//! Environment:
//! - `SANDBOX_SKIP_ENGINES=1`: skip an engine that is not installed (otherwise a failure).
//! - `SANDBOX_ENGINES=firefox,webkit`: the engines to run (default both).
//! - `SANDBOX_DIFF_ONLY=<id>[,<id>..]`, `SANDBOX_CORS_CORPUS=<file>`: as for
//!   `browser_differential`.
//! - `SANDBOX_ENGINE_OBSERVED=<file>`: also write everything observed, per scenario and
//!   engine, with each engine's timings, as one JSON file.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::browser_differential::{
    describe, fetch_spec, load_corpus, model_verdict_in, normalise_outcome, page_html, page_url,
    rewrite_scenario, sandboxed_page_html, Ports,
};
use crate::util::engine_oracle::{self, Answer, Engine, Job, Oracle};
use crate::util::raw_server::{Phase, ScenarioHost, Seen};

/// The model's browser for an oracle's engine.
fn model_browser(engine: Engine) -> sandbox::browser::Browser {
    match engine {
        Engine::Firefox => sandbox::browser::Browser::Firefox,
        Engine::WebKit => sandbox::browser::Browser::WebKit,
    }
}

/// What one engine did with one scenario.
struct Observation {
    id: String,
    engine: Engine,
    model_outcome: String,
    /// The model's verdict for this engine, as JSON.
    model: Value,
    /// The main exchange's answer, or why there is none.
    answer: Result<Answer, String>,
    /// Answers to the scenario's earlier exchanges, in order.
    prior: Vec<Value>,
    /// Preflights of the main exchange that reached the API origins.
    preflights: usize,
    /// The `Access-Control-Request-*` of the first such preflight.
    preflight_request: Value,
    /// The `Origin` each of them carried, in order.
    preflight_origins: Vec<Option<String>>,
    /// Every request the three origins saw for this scenario.
    requests: Vec<String>,
}

impl Observation {
    fn outcome(&self) -> &'static str {
        match &self.answer {
            Ok(a) if a.ok => "allowed",
            Ok(_) => "blocked",
            Err(_) => "error",
        }
    }

    fn to_json(&self) -> Value {
        let a = self.answer.as_ref().ok();
        json!({
            "id": self.id,
            "engine": self.engine.name(),
            "ok": a.map(|a| a.ok),
            "outcome": self.outcome(),
            "model_outcome": self.model_outcome,
            "preflight_reached_server": self.preflights > 0,
            "preflights": self.preflights,
            "preflight_request": self.preflight_request,
            "preflight_origins": self.preflight_origins,
            "status": a.and_then(|a| a.status),
            "readable_headers": a.and_then(|a| a.headers.clone()),
            "js_error": a.and_then(|a| a.js_error.clone()),
            "stage": a.and_then(|a| a.stage.clone()),
            "console": a.map(|a| a.console.clone()).unwrap_or_default(),
            "reasons": a.map(|a| a.reasons.clone()).unwrap_or_default(),
            "elapsed_s": a.map(|a| a.elapsed_s),
            "harness_error": self.answer.as_ref().err(),
            "prior": self.prior,
            "requests": self.requests,
        })
    }
}

fn answer_json(a: &Answer) -> Value {
    json!({
        "ok": a.ok, "status": a.status, "js_error": a.js_error, "console": a.console,
        "reasons": a.reasons,
    })
}

/// One engine's run over the selected scenarios.
struct EngineRun {
    engine: Engine,
    version: String,
    startup: Duration,
    /// From starting the oracle to closing it.
    total: Duration,
    /// The scenario host's ports.
    ports: Ports,
    observations: Vec<Observation>,
}

impl EngineRun {
    fn seconds_per_scenario(&self) -> f64 {
        let n = self.observations.len().max(1) as f64;
        (self.total - self.startup).as_secs_f64() / n
    }

    fn timings_json(&self) -> Value {
        json!({
            "version": self.version,
            "scenarios": self.observations.len(),
            "startup_s": round3(self.startup.as_secs_f64()),
            "seconds_per_scenario": round3(self.seconds_per_scenario()),
            "total_s": round3(self.total.as_secs_f64()),
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs scenario `n` (already rewritten) in the oracle's browser.
fn observe(oracle: &mut Oracle, host: &ScenarioHost, n: usize, scenario: &Value) -> Observation {
    let id = scenario["id"].as_str().unwrap_or("?").to_string();
    let page = page_url(scenario, n, host.frontend.port());
    // Firefox names the page when it refuses a same-origin-mode fetch.
    let mut scenario = scenario.clone();
    scenario["request"]["page_url"] = json!(page);
    let scenario = &scenario;
    let verdict = model_verdict_in(scenario, model_browser(oracle.engine));
    let mut observation = Observation {
        id: id.clone(),
        engine: oracle.engine,
        model_outcome: match verdict.get("error") {
            Some(e) => format!("error: {}", e.as_str().unwrap_or("?")),
            None => normalise_outcome(&verdict["outcome"]),
        },
        model: verdict.clone(),
        answer: Err("not run".into()),
        prior: Vec::new(),
        preflights: 0,
        preflight_request: Value::Null,
        preflight_origins: Vec::new(),
        requests: Vec::new(),
    };
    host.register(n, scenario);

    // Earlier exchanges, in the same page, timed so the main request comes `seconds_before`
    // after each (as browser_differential does).
    let priors = scenario["prior"].as_array().cloned().unwrap_or_default();
    let span = priors
        .iter()
        .map(|p| p["seconds_before"].as_f64().unwrap_or(0.0))
        .fold(0.0_f64, f64::max);
    let start = Instant::now();
    for (i, prior) in priors.iter().enumerate() {
        let before = prior["seconds_before"].as_f64().unwrap_or(0.0);
        sleep_until(start + Duration::from_secs_f64((span - before).max(0.0)));
        host.set_phase(n, Phase::Prior(i));
        let job = Job {
            id: format!("{id}#prior{i}"),
            page_url: page.clone(),
            spec: fetch_spec(&prior["request"]),
            same_page: i > 0,
            expression: None,
        };
        match oracle.run(&job) {
            Ok(a) => observation.prior.push(answer_json(&a)),
            Err(e) => {
                observation.answer = Err(format!("prior {i}: {e}"));
                return observation;
            }
        }
    }
    sleep_until(start + Duration::from_secs_f64(span));

    host.set_phase(n, Phase::Main);
    let seen_before = host.seen(n).len();
    let job = Job {
        id: id.clone(),
        page_url: page,
        spec: fetch_spec(&scenario["request"]),
        same_page: !priors.is_empty(),
        expression: None,
    };
    observation.answer = oracle.run(&job).map_err(|e| e.to_string());
    let seen = host.seen(n);
    let main: Vec<&Seen> = seen[seen_before..]
        .iter()
        .filter(|s| s.phase == Some(Phase::Main) && s.preflight)
        .collect();
    observation.preflights = main.len();
    observation.preflight_origins = main
        .iter()
        .map(|p| p.request.header("origin").map(str::to_string))
        .collect();
    if let Some(p) = main.first() {
        observation.preflight_request = json!({
            "method": p.request.header("access-control-request-method"),
            "headers": p.request.header("access-control-request-headers"),
        });
    }
    observation.requests = seen.iter().map(describe).collect();
    observation
}

/// Deliberate passage of time (preflight-cache ages), not synchronisation.
fn sleep_until(when: Instant) {
    let now = Instant::now();
    if when > now {
        std::thread::sleep(when - now);
    }
}

fn run_engine(
    engine: Engine,
    runtime: &tokio::runtime::Runtime,
    scenarios: &[(usize, Value)],
) -> EngineRun {
    let host = runtime
        .block_on(ScenarioHost::start(page_html(), sandboxed_page_html()))
        .expect("start loopback servers");
    let host = Arc::new(host);
    let ports = Ports {
        frontend: host.frontend.port(),
        api: host.api.port(),
        other: host.other.port(),
    };
    let began = Instant::now();
    let mut oracle =
        Oracle::start(engine).unwrap_or_else(|e| panic!("start the {} oracle: {e}", engine.name()));
    let startup = oracle.startup;
    let version = oracle.version.clone();
    eprintln!(
        "engine_observe: {} ({version}) ready in {:.2} s",
        engine.name(),
        startup.as_secs_f64()
    );
    let mut observations = Vec::with_capacity(scenarios.len());
    for (n, scenario) in scenarios {
        let scenario = rewrite_scenario(scenario, *n, ports);
        let observation = observe(&mut oracle, &host, *n, &scenario);
        if let Err(e) = &observation.answer {
            eprintln!("engine_observe: {} {}: {e}", engine.name(), observation.id);
            if !oracle.alive() {
                eprintln!("engine_observe: {} oracle died: restarting", engine.name());
                oracle = Oracle::start(engine)
                    .unwrap_or_else(|e| panic!("restart the {} oracle: {e}", engine.name()));
            }
        }
        observations.push(observation);
    }
    oracle.close();
    EngineRun {
        engine,
        version,
        startup,
        total: began.elapsed(),
        ports,
        observations,
    }
}

fn selected_engines() -> Vec<Engine> {
    match std::env::var("SANDBOX_ENGINES") {
        Ok(list) => list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| Engine::parse(s).unwrap_or_else(|| panic!("SANDBOX_ENGINES: no engine {s:?}")))
            .collect(),
        Err(_) => Engine::ALL.to_vec(),
    }
}

fn selected_scenarios() -> Vec<(usize, Value)> {
    let only: Option<Vec<String>> = std::env::var("SANDBOX_DIFF_ONLY")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    load_corpus()
        .into_iter()
        .enumerate()
        .filter(|(_, s)| {
            only.as_ref()
                .is_none_or(|ids| ids.iter().any(|i| s["id"].as_str() == Some(i)))
        })
        .collect()
}

/// One line per scenario (shown with `--nocapture`) and a count per first reason.
fn print_summary(run: &EngineRun) {
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for o in &run.observations {
        let first = match &o.answer {
            Ok(a) => a
                .reasons
                .first()
                .cloned()
                .or_else(|| a.console.first().map(|c| c.chars().take(60).collect()))
                .unwrap_or_else(|| "-".into()),
            Err(e) => format!("harness error: {e}"),
        };
        println!(
            "{:<7} {:<48} {:<8} model={:<8} preflight={:<5} {first}",
            run.engine.name(),
            o.id,
            o.outcome(),
            o.model_outcome,
            o.preflights > 0,
        );
        *by_reason
            .entry(format!("{} {first}", o.outcome()))
            .or_default() += 1;
    }
    for (k, v) in by_reason {
        println!("  {v:>4}  {k}");
    }
}

#[test]
fn engines_agree_with_the_model() {
    let engines: Vec<Engine> = selected_engines()
        .into_iter()
        .filter(|e| engine_oracle::require_engine(*e, "engine_observe"))
        .collect();
    if engines.is_empty() {
        eprintln!("\n*** engine_observe: SKIPPED, no engine to run ***\n");
        return;
    }
    let scenarios = selected_scenarios();
    assert!(!scenarios.is_empty(), "no scenario selected");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let runs: Vec<EngineRun> = engines
        .iter()
        .map(|e| run_engine(*e, &runtime, &scenarios))
        .collect();

    let mut problems = Vec::new();
    for run in &runs {
        print_summary(run);
        println!(
            "engine_observe: {} ({}): start-up {:.2} s, {:.3} s per scenario, {:.1} s in all for {} scenarios",
            run.engine.name(),
            run.version,
            run.startup.as_secs_f64(),
            run.seconds_per_scenario(),
            run.total.as_secs_f64(),
            run.observations.len()
        );
        let mut agreed = Counts::default();
        for o in &run.observations {
            let found = disagreements(o);
            agreed.add(&found);
            problems.extend(
                found
                    .into_iter()
                    .map(|d| format!("{} {}: {d}", run.engine.name(), o.id)),
            );
        }
        println!(
            "engine_observe: {} agrees with the model on {} scenarios: outcome {}, preflight {}, reason {}, messages {}, script's error {}",
            run.engine.name(),
            run.observations.len(),
            agreed.outcome,
            agreed.preflight,
            agreed.reason,
            agreed.messages,
            agreed.js_error,
        );
    }

    if let Ok(path) = std::env::var("SANDBOX_ENGINE_OBSERVED") {
        let engines: serde_json::Map<String, Value> = runs
            .iter()
            .map(|r| (r.engine.name().to_string(), r.timings_json()))
            .collect();
        let observed: Vec<Value> = runs
            .iter()
            .flat_map(|r| r.observations.iter().map(Observation::to_json))
            .collect();
        let doc = json!({"engines": engines, "observed": observed});
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap())
            .unwrap_or_else(|e| panic!("write {path}: {e}"));
        eprintln!("engine_observe: wrote {path}");
    }

    assert!(
        problems.is_empty(),
        "{} problem(s) in the engine observation run:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Per aspect, how many scenarios the engine and the model agree on.
#[derive(Default)]
struct Counts {
    outcome: usize,
    preflight: usize,
    reason: usize,
    messages: usize,
    js_error: usize,
}

impl Counts {
    fn add(&mut self, found: &[String]) {
        let clean = |aspect: &str| usize::from(!found.iter().any(|d| d.starts_with(aspect)));
        self.outcome += clean("outcome");
        self.preflight += clean("preflight");
        self.reason += clean("reason");
        self.messages += clean("messages");
        self.js_error += clean("js_error");
    }
}

/// Where the engine and the model's verdict for it part ways, one sentence per aspect,
/// each starting with the aspect's name.
fn disagreements(o: &Observation) -> Vec<String> {
    let a = match &o.answer {
        Ok(a) => a,
        Err(e) => return vec![format!("outcome: no answer from the engine: {e}")],
    };
    let m = &o.model;
    if let Some(e) = m.get("error") {
        return vec![format!("outcome: the model failed: {e}")];
    }
    let mut out = Vec::new();
    if o.outcome() != o.model_outcome {
        out.push(format!(
            "outcome: the engine {} it, the model says {}",
            o.outcome(),
            o.model_outcome
        ));
    }
    let model_sent = m["preflight_sent"].as_bool().unwrap_or(false);
    if (o.preflights > 0) != model_sent {
        out.push(format!(
            "preflight: {} preflight(s) reached the server, the model says sent = {model_sent}",
            o.preflights
        ));
    } else if model_sent {
        let model_origin = m["preflight_request"]["headers"]["Origin"].as_str();
        let seen = o.preflight_origins.last().cloned().flatten();
        if seen.as_deref() != model_origin {
            out.push(format!(
                "preflight: its Origin was {seen:?}, the model says {model_origin:?}"
            ));
        }
    }
    // Firefox's reason is the key of its first blocking line, less the trailing digit;
    // a warning on an allowed fetch is not a reason.
    let engine_reason = if a.ok {
        None
    } else {
        a.reasons
            .first()
            .map(|k| k.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned())
    };
    let model_reason = m["cors_error"].as_str().map(str::to_owned);
    if engine_reason != model_reason {
        out.push(format!(
            "reason: the engine gives {engine_reason:?}, the model {model_reason:?}"
        ));
    }
    let model_messages: Vec<String> = m["messages"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if a.console != model_messages {
        out.push(format!(
            "messages: the engine printed {:#?}\nthe model says {model_messages:#?}",
            a.console
        ));
    }
    let model_js = m["js_error"].as_str();
    if a.js_error.as_deref() != model_js {
        out.push(format!(
            "js_error: script saw {:?}, the model says {model_js:?}",
            a.js_error
        ));
    }
    out
}

/// Three scenarios in each engine's own words: the oracles report the exact console lines,
/// Firefox's reason keys and the TypeError script sees, a warning on an allowed fetch
/// included. Cheaper than the whole corpus; pins the formats the oracles read.
#[test]
fn engines_report_in_their_own_words() {
    let ids = [
        "get-missing-acao",
        "put-acam-missing",
        "authorization-acah-star",
    ];
    let scenarios: Vec<(usize, Value)> = load_corpus()
        .into_iter()
        .enumerate()
        .filter(|(_, s)| ids.contains(&s["id"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(scenarios.len(), ids.len(), "the corpus lost one of {ids:?}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut ran = 0;
    for engine in Engine::ALL {
        if !engine_oracle::require_engine(engine, "engines_report_in_their_own_words") {
            continue;
        }
        ran += 1;
        let run = run_engine(engine, &runtime, &scenarios);
        let by_id = |id: &str| {
            let o = run.observations.iter().find(|o| o.id == id).unwrap();
            let a = o.answer.as_ref().unwrap_or_else(|e| panic!("{id}: {e}"));
            (o, a.clone())
        };
        let (missing, a) = by_id("get-missing-acao");
        let n = scenarios[0].0;
        assert!(!a.ok && missing.preflights == 0, "{}: {a:?}", engine.name());
        let (put, b) = by_id("put-acam-missing");
        assert!(!b.ok && put.preflights == 1, "{}: {b:?}", engine.name());
        let (_, c) = by_id("authorization-acah-star");
        assert!(c.ok, "{}: {c:?}", engine.name());
        let url = |n: usize| format!("http://api.localhost:{}/s/{n}/api/data", run.ports.api);
        let put_n = scenarios[1].0;
        match engine {
            Engine::Firefox => {
                let blocked = |u: String, reason: &str| {
                    format!("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at {u}. (Reason: {reason}")
                };
                assert_eq!(
                    a.console,
                    [blocked(
                        url(n),
                        "CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 200."
                    )]
                );
                assert_eq!(a.reasons, ["CORSMissingAllowOrigin2"]);
                assert_eq!(
                    a.js_error.as_deref(),
                    Some("TypeError: NetworkError when attempting to fetch resource.")
                );
                assert_eq!(
                    b.console,
                    [
                        blocked(
                            url(put_n),
                            "Did not find method in CORS header ‘Access-Control-Allow-Methods’)."
                        ),
                        blocked(
                            url(put_n),
                            "CORS request did not succeed). Status code: (null)."
                        ),
                    ]
                );
                assert_eq!(b.reasons, ["CORSMethodNotFound", "CORSDidNotSucceed2"]);
                assert_eq!(c.reasons, ["CORSAllowHeaderFromPreflightDeprecation"]);
                assert!(
                    c.console[0].starts_with("Cross-Origin Request Warning:"),
                    "{c:?}"
                );
            }
            Engine::WebKit => {
                let origin = format!("http://frontend.localhost:{}", run.ports.frontend);
                let end =
                    |u: String| format!("Fetch API cannot load {u} due to access control checks.");
                assert_eq!(
                    a.console,
                    [
                        format!("Origin {origin} is not allowed by Access-Control-Allow-Origin. Status code: 200"),
                        end(url(n)),
                    ]
                );
                assert_eq!(a.js_error.as_deref(), Some("TypeError: Load failed"));
                assert_eq!(
                    b.console,
                    [
                        "Method PUT is not allowed by Access-Control-Allow-Methods.".to_string(),
                        end(url(put_n)),
                    ]
                );
                assert!(
                    a.reasons.is_empty() && b.reasons.is_empty() && c.console.is_empty(),
                    "{c:?}"
                );
            }
        }
    }
    if ran == 0 {
        eprintln!("\n*** engines_report_in_their_own_words: SKIPPED, no engine to run ***\n");
    }
}
