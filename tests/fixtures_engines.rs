//! Every fixture in real Firefox ESR and WebKitGTK (issue #14): the page `sandbox up
//! --fixture` serves makes its requests in the engine, and each must fare as `fixture.toml`
//! says for that engine (its `[request.firefox]` / `[request.webkit]` table where it has one,
//! else the request's own) and reject with that engine's TypeError; then, with the fixed
//! policy (routes, layout) saved while the sandbox runs, every request must get through.
//! `every_fixture_behaves_in_chromium_as_its_fixture_says` does the same in Chromium.
//!
//! Where a fixture expects cookies to be sent or not, the sandbox's journal says which
//! cookie names each of the page's requests really carried (`carried_cookies`): a cookie the
//! engine refused to store shows as one the next request lacks, so stored/rejected are held
//! through the request that follows. A fixture about a browser that allows third-party
//! cookies runs in an engine set up so.
//!
//! The `*.example.test` names two fixtures need (a host name that is not potentially
//! trustworthy) are mapped to this machine in both engines, as Chromium maps them with a flag.

use std::path::Path;

use serde_json::Value;

use crate::fixtures_browser::{
    allows_third_party_cookies, drive_timeline, fixture_requests, install_policy, install_routes,
    is_timed, with_real_ports, FixtureCopy, FixtureRun,
};
use crate::util::clock::Clock;
use crate::util::engine_oracle::{self, Engine, Job, Oracle};
use crate::util::sandbox::TestSandbox;

/// What the page's runner is awaited as: the fixture page's own results.
const RESULTS: &str =
    "window.fixtureResults.then(v => ({ ok: true, status: 200, headers: [], value: v }))";

/// The TypeError each engine rejects a blocked fetch with.
fn type_error(engine: Engine) -> &'static str {
    match engine {
        Engine::Firefox => "TypeError: NetworkError when attempting to fetch resource.",
        Engine::WebKit => "TypeError: Load failed",
    }
}

/// Whether `engine` must get request `r` through under the bug: its own table, else the
/// request's `expect`.
fn allowed_under_the_bug(r: &Value, engine: Engine) -> bool {
    let own = r.get(engine.name()).unwrap_or(r);
    own["expect"].as_str() == Some("allowed")
}

/// The cookie expectations `engine` must meet for request `r` under the bug: its own
/// table's, else the request's.
fn cookie_expectations(r: &Value, engine: Engine) -> Vec<Value> {
    let own = r.get(engine.name()).and_then(|t| t.get("cookies"));
    own.or_else(|| r.get("cookies"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The cookie names each of the page's actual requests to the API carried, in the order of
/// `requests`, from the journal events after `skip` (a blocked request has none: `None`).
fn carried(
    sb: &TestSandbox,
    skip: usize,
    requests: &[Value],
    seen: &[Value],
) -> Vec<Option<Vec<String>>> {
    let mut at = skip;
    requests
        .iter()
        .zip(seen)
        .map(|(r, s)| {
            if s["ok"] != true {
                return None;
            }
            let path = r["path"].as_str().unwrap_or("/");
            let method = r.get("method").and_then(Value::as_str).unwrap_or("GET");
            let e = sb.wait_event_after(at, |e| {
                e["event"] == "request"
                    && e["preflight"] == false
                    && e["method"] == method
                    && e["path"] == path
            });
            let events = sb.events();
            at = events.iter().position(|x| *x == e).map_or(at, |i| i + 1);
            Some(
                e["carried_cookies"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// What is wrong with the cookies the requests carried: `expect` gives each request's
/// expectations (`sent` / `not_sent` are held; `fixed`: every one must be sent).
fn cookie_problems(
    label: &str,
    requests: &[Value],
    carried: &[Option<Vec<String>>],
    expect: impl Fn(&Value) -> Vec<Value>,
    fixed: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (r, carried) in requests.iter().zip(carried) {
        let Some(carried) = carried else { continue };
        for c in expect(r) {
            let name = c["name"].as_str().unwrap_or("");
            let want_sent = match c["expect"].as_str() {
                Some("sent") => true,
                Some("not_sent") => fixed,
                _ => continue,
            };
            let sent = carried.iter().any(|n| n == name);
            if sent != want_sent {
                problems.push(format!(
                    "{label} {}: cookie `{name}` expected {}, the request carried {carried:?}",
                    r["name"],
                    if want_sent { "sent" } else { "not sent" },
                ));
            }
        }
    }
    problems
}

fn page_results(oracle: &mut Oracle, run: &FixtureRun, id: &str) -> Vec<Value> {
    let answer = oracle
        .run(&Job {
            id: id.to_string(),
            page_url: run.page_url.clone(),
            spec: Value::Null,
            same_page: false,
            expression: Some(RESULTS.into()),
        })
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    assert!(answer.ok, "{id}: the page's results: {answer:?}");
    answer
        .value
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_else(|| panic!("{id}: no results"))
}

/// How a timed fixture starts an engine on a clock of its own. Each run gets a fresh pair:
/// Firefox opens no new page once its clock has jumped, and does not start on a clock
/// already moved.
type Clocked<'a> = &'a dyn Fn() -> (Oracle, Clock);

/// The page's results in `oracle`, or, for a timed fixture, in `own`'s engine while its
/// steps are driven on its clock (see [`drive_timeline`]).
fn run_results(
    own: &mut Option<(Oracle, Clock)>,
    oracle: &mut Oracle,
    run: &FixtureRun,
    id: &str,
    (dir, requests, fixed): (&Path, &[Value], bool),
) -> Vec<Value> {
    let Some((o, clock)) = own else {
        return page_results(oracle, run, id);
    };
    let events = run.sb.event_count();
    std::thread::scope(|s| {
        s.spawn(|| drive_timeline(&run.sb, events, requests, dir, &run.map, clock, fixed));
        page_results(o, run, id)
    })
}

/// The fixture in `src` in `engine`, under the bug and then the fix: the problems found.
fn check_fixture(
    oracle: &mut Oracle,
    engine: Engine,
    clocked: Option<Clocked>,
    src: &Path,
    name: &str,
) -> Vec<String> {
    let mut own = clocked.map(|start| start());
    let mut problems = Vec::new();
    let FixtureCopy {
        tmp,
        dir,
        requests,
        cors,
        buggy,
        fixed,
    } = FixtureCopy::of(src, name);
    let label = |run: &str| format!("{name} {run} in {}", engine.name());

    let mut run = FixtureRun::start(tmp.path(), &dir);
    install_policy(&run.sb, &cors, &with_real_ports(&buggy, &run.map));
    let mark = run.sb.event_count();
    let steps = |fixed: bool| (dir.as_path(), requests.as_slice(), fixed);
    let seen = run_results(&mut own, oracle, &run, &label("buggy"), steps(false));
    assert_eq!(seen.len(), requests.len(), "{}: {seen:?}", label("buggy"));
    problems.extend(cookie_problems(
        &label("buggy"),
        &requests,
        &carried(&run.sb, mark, &requests, &seen),
        |r| cookie_expectations(r, engine),
        false,
    ));
    for (r, s) in requests.iter().zip(&seen) {
        let ok = s["ok"] == true;
        let want = allowed_under_the_bug(r, engine);
        if ok != want {
            problems.push(format!(
                "{} {}: expected {}, the engine {}",
                label("buggy"),
                r["name"],
                if want { "allowed" } else { "blocked" },
                if ok {
                    "allowed it".to_string()
                } else {
                    format!("blocked it ({})", s["error"])
                }
            ));
        } else if !ok && s["error"].as_str() != Some(type_error(engine)) {
            problems.push(format!(
                "{} {}: rejected with {}, not {}",
                label("buggy"),
                r["name"],
                s["error"],
                type_error(engine)
            ));
        }
    }

    let fixed_config = dir.join("sandbox.fixed.toml");
    if fixed_config.is_file() {
        // A fix in the layout itself needs a restart, as in real life.
        std::fs::copy(&fixed_config, dir.join("sandbox.toml")).unwrap();
        run = FixtureRun::start(tmp.path(), &dir);
    }
    install_policy(&run.sb, &cors, &with_real_ports(&fixed, &run.map));
    let fixed_routes = dir.join("api.fixed.toml");
    if fixed_routes.is_file() {
        install_routes(&run.sb, &dir.join("api.toml"), &fixed_routes);
    }
    let mark = run.sb.event_count();
    if let Some(start) = clocked {
        if let Some((o, _)) = own.replace(start()) {
            o.close();
        }
    }
    let seen = run_results(&mut own, oracle, &run, &label("fixed"), steps(true));
    problems.extend(cookie_problems(
        &label("fixed"),
        &requests,
        &carried(&run.sb, mark, &requests, &seen),
        |r| cookie_expectations(r, engine),
        true,
    ));
    for (r, s) in requests.iter().zip(&seen) {
        if s["ok"] != true {
            problems.push(format!(
                "{} {}: still blocked ({})",
                label("fixed"),
                r["name"],
                s["error"]
            ));
        }
    }
    if let Some((o, _)) = own {
        o.close();
    }
    problems
}

/// The host names of the fixture's layouts (bug and fix) that are not loopback names by
/// themselves: the oracle maps them to this machine, as Chromium's flag does.
fn plain_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for file in ["sandbox.toml", "sandbox.fixed.toml"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        let table: toml::Table = toml::from_str(&text).unwrap();
        for o in table["origin"].as_array().unwrap() {
            let host = o
                .get("hostname")
                .and_then(toml::Value::as_str)
                .unwrap_or("localhost");
            let loopback =
                host == "localhost" || host.ends_with(".localhost") || host == "127.0.0.1";
            if !loopback && !names.iter().any(|n| n == host) {
                names.push(host.to_string());
            }
        }
    }
    names
}

fn every_fixture_in(engine: Engine) {
    let test = format!(
        "every_fixture_behaves_in_{}_as_its_fixture_says",
        engine.name()
    );
    if !engine_oracle::require_engine(engine, &test) {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if let Ok(only) = std::env::var("SANDBOX_FIXTURES_ONLY") {
        names.retain(|n| only.split(',').any(|o| o.trim() == n));
    }
    let mut hosts: Vec<String> = Vec::new();
    for name in &names {
        for h in plain_names(&root.join(name)) {
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
    }
    let hosts = hosts.join(",");
    let start = |extra: &[(&str, &str)]| {
        let mut env = vec![("SANDBOX_ORACLE_HOSTS", hosts.as_str())];
        env.extend_from_slice(extra);
        Oracle::start_with_env(engine, &env)
            .unwrap_or_else(|e| panic!("start the {} oracle: {e}", engine.name()))
    };
    let mut oracle = start(&[]);
    // Started for the first fixture about a browser that allows third-party cookies.
    let mut allowing: Option<Oracle> = None;
    // The fixtures about time run in engines on a clock the test moves.
    let on_clock = || {
        let clock = Clock::new();
        let oracle = start(&[("SANDBOX_ORACLE_CLOCK", clock.file.to_str().unwrap())]);
        (oracle, clock)
    };
    let mut problems = Vec::new();
    let mut ran = 0;
    for name in &names {
        let src = root.join(name);
        let clocked: Option<Clocked> = is_timed(&fixture_requests(&src)).then_some(&on_clock);
        let oracle = if allows_third_party_cookies(&src) {
            allowing
                .get_or_insert_with(|| start(&[("SANDBOX_ORACLE_THIRD_PARTY_COOKIES", "allowed")]))
        } else {
            &mut oracle
        };
        problems.extend(check_fixture(oracle, engine, clocked, &src, name));
        ran += 1;
    }
    oracle.close();
    if let Some(o) = allowing {
        o.close();
    }
    eprintln!(
        "{test}: {ran} of {} fixtures run in {}",
        names.len(),
        engine.name()
    );
    assert_eq!(ran, names.len(), "only {ran} fixtures ran");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_fixture_behaves_in_firefox_as_its_fixture_says() {
    every_fixture_in(Engine::Firefox);
}

#[test]
fn every_fixture_behaves_in_webkit_as_its_fixture_says() {
    every_fixture_in(Engine::WebKit);
}
