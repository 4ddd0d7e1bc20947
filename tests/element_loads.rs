//! Element loads that use CORS (issue #14, item 5), in the three real engines against the
//! model: `@font-face` fonts, `<script type="module">`, `<img crossorigin>` (anonymous and
//! `use-credentials`), `<link rel="preload" as="font" crossorigin>` and `EventSource` (with
//! and without `withCredentials`), each answered with no `Access-Control-Allow-Origin`, another
//! origin, a list, `*`, and the page's origin with credentials allowed. For every load and
//! engine the model's outcome, error name and console lines must be what the engine did:
//! Chromium over DevTools (`Network.loadingFailed`'s `corsError`, the console), Firefox ESR
//! and WebKitGTK through their oracles (the console lines and Firefox's reason keys).
//!
//! What each engine counts as refused: Chromium, a load that fails with a `corsError`;
//! Firefox, one that prints "Cross-Origin Request Blocked" (it fires `load` on a refused
//! preload); WebKit, one that fires `error` (it prints nothing for a refused font). So every
//! body is one the element can use: a real TrueType font, a GIF, a module, an event stream.

use std::sync::Arc;
use std::time::Duration;

use sandbox::browser::{evaluate_in, Browser as Engine3, FixContext, Outcome, Scenario, Verdict};
use serde_json::json;
use tokio::time::Instant;

use crate::util::chromium::{self, console_lines, Browser};
use crate::util::engine_oracle::{self, Engine, Job, Oracle};
use crate::util::raw_server::{Handler, RawRequest, RawResponse, RawServer};

const PAGE_JS: &str = include_str!("element_page.js");

/// A font every engine can decode (Debian's fonts-dejavu-core, which the engines' packages
/// bring; `.ci/test` installs it with them).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// Each load as the page makes it (`element_page.js`), and the scenario's initiator and
/// credentials mode for it.
const KINDS: &[(&str, &str, &str)] = &[
    ("font", "font", "same-origin"),
    ("script", "script", "same-origin"),
    ("image", "image", "same-origin"),
    ("image-credentials", "image", "include"),
    ("preload", "preload", "same-origin"),
    ("eventsource", "eventsource", "same-origin"),
    ("eventsource-credentials", "eventsource", "include"),
];

/// How the API answers: its `Access-Control-*` lines for a request from `origin`.
const CASES: &[&str] = &["missing", "mismatch", "list", "star", "ok"];

fn cors_lines(case: &str, origin: &str) -> Vec<(String, String)> {
    let acao = |v: &str| ("Access-Control-Allow-Origin".to_string(), v.to_string());
    match case {
        "mismatch" => vec![acao("http://other.localhost")],
        "list" => vec![acao(&format!("{origin}, http://other.localhost"))],
        "star" => vec![acao("*")],
        "ok" => vec![
            acao(origin),
            ("Access-Control-Allow-Credentials".into(), "true".into()),
        ],
        _ => Vec::new(),
    }
}

fn body_of(kind: &str, font: &[u8]) -> (&'static str, Vec<u8>) {
    match kind.split('-').next().unwrap_or("") {
        "font" | "preload" => ("font/ttf", font.to_vec()),
        "script" => ("text/javascript", b"export const x = 1;".to_vec()),
        "image" => ("image/gif", GIF.to_vec()),
        "eventsource" => ("text/event-stream", b"data: hi\n\n".to_vec()),
        _ => ("text/plain", b"?".to_vec()),
    }
}

/// The page (`/page`) and the API (`/r/<case>/<kind>/<n>`).
fn handler(font: Arc<Vec<u8>>) -> Handler {
    Arc::new(move |req: &RawRequest| {
        if req.path_only() == "/page" {
            return RawResponse::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .header("Cache-Control", "no-store")
                .body(format!(
                    "<!doctype html><meta charset=utf-8><title>element loads</title><body><script>{PAGE_JS}</script>"
                ));
        }
        let parts: Vec<&str> = req.path_only().split('/').collect();
        let ["", "r", case, kind, ..] = parts.as_slice() else {
            return RawResponse::new(404);
        };
        let (ctype, body) = body_of(kind, &font);
        let mut r = RawResponse::new(200)
            .header("Content-Type", ctype)
            .header("Cache-Control", "no-store");
        for (n, v) in cors_lines(case, req.header("origin").unwrap_or("")) {
            r = r.header(&n, &v);
        }
        r.body(body)
    })
}

/// One load, and what each engine did with it.
struct Load {
    id: String,
    kind: &'static str,
    url: String,
    scenario: Scenario,
}

/// What an engine did with a load.
#[derive(Debug)]
struct Seen {
    blocked: bool,
    /// Its own name for the failure (Chromium's `corsError`, Firefox's reason key).
    error: Option<String>,
    /// The console lines that belong to the refusal, as printed.
    lines: Vec<String>,
}

/// Where the model and an engine part: outcome, error name, console lines.
fn compare(engine: &str, load: &Load, model: &Verdict, seen: &Seen) -> Option<String> {
    let blocked = model.outcome == Outcome::Blocked;
    let mut wrong = Vec::new();
    if blocked != seen.blocked {
        wrong.push(format!(
            "model blocked={blocked}, engine blocked={}",
            seen.blocked
        ));
    }
    if seen.blocked && engine != "webkit" && model.engine_error != seen.error {
        wrong.push(format!(
            "error: model {:?}, engine {:?}",
            model.engine_error, seen.error
        ));
    }
    if model.messages != seen.lines {
        wrong.push(format!(
            "console:\n      model  {:?}\n      engine {:?}",
            model.messages, seen.lines
        ));
    }
    (!wrong.is_empty()).then(|| format!("{engine} {}: {}", load.id, wrong.join("; ")))
}

/// Chromium: a fresh page per load; waits (bounded) for the failure and its console line.
async fn chromium_side(loads: &[Load], page_url: &str) -> Vec<Seen> {
    let browser = Browser::launch().await.expect("launch chromium");
    let mut out = Vec::new();
    for load in loads {
        let page = browser.new_isolated_page().await.expect("page");
        page.navigate(page_url).await.expect("page loads");
        let mark = page.cdp.mark();
        let result = page
            .evaluate(&format!(
                "window.__load({}, {})",
                json!(load.kind),
                json!(load.url)
            ))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", load.id));
        let url = load.url.clone();
        let failed_here = move |e: &crate::util::chromium::Event| {
            e.method == "Network.loadingFailed"
                && e.params.get("corsErrorStatus").is_some()
                && e.params["requestId"].is_string()
        };
        let blocked_at_once = result["ok"] != true;
        let deadline = Instant::now() + Duration::from_secs(5);
        if blocked_at_once || load.kind == "preload" {
            page.wait_until(mark, deadline, |events| {
                let failed = events.iter().any(&failed_here);
                let said = console_lines(events)
                    .iter()
                    .any(|l| l.text.contains("blocked by CORS policy") && l.text.contains(&url));
                (failed && said)
                    || (!blocked_at_once && Instant::now() + Duration::from_secs(4) > deadline)
            })
            .await;
        }
        let events = page.events_since(mark);
        let failure = events.iter().find(|e| failed_here(e));
        out.push(Seen {
            blocked: failure.is_some(),
            error: failure.and_then(|f| {
                f.params["corsErrorStatus"]["corsError"]
                    .as_str()
                    .map(str::to_string)
            }),
            lines: console_lines(&events)
                .into_iter()
                .map(|l| l.text)
                .filter(|t| t.contains("has been blocked by CORS policy"))
                .collect(),
        });
        let _ = page.close().await;
    }
    browser.close().await;
    out
}

/// Firefox or WebKit through its oracle, a fresh page per load.
fn engine_side(engine: Engine, loads: &[Load], page_url: &str) -> Vec<Seen> {
    let mut oracle =
        Oracle::start(engine).unwrap_or_else(|e| panic!("start the {} oracle: {e}", engine.name()));
    let mut out = Vec::new();
    for load in loads {
        let a = oracle
            .run(&Job {
                id: load.id.clone(),
                page_url: page_url.to_string(),
                spec: json!({"kind": load.kind, "url": load.url}),
                same_page: false,
                expression: None,
            })
            .unwrap_or_else(|e| panic!("{} {}: {e}", engine.name(), load.id));
        out.push(match engine {
            Engine::Firefox => {
                // The font loader's own "downloadable font" line names the page's family: it
                // is not the refusal's.
                let own: Vec<(String, String)> = a
                    .console
                    .iter()
                    .zip(&a.reasons)
                    .filter(|(_, r)| r.as_str() != "CSS Loader")
                    .map(|(l, r)| (l.clone(), r.clone()))
                    .collect();
                let blocked = own
                    .iter()
                    .any(|(l, _)| l.starts_with("Cross-Origin Request Blocked"));
                Seen {
                    blocked,
                    error: own
                        .first()
                        .filter(|_| blocked)
                        .map(|(_, r)| r.trim_end_matches(|c: char| c.is_ascii_digit()).to_string()),
                    lines: own.into_iter().map(|(l, _)| l).collect(),
                }
            }
            Engine::WebKit => Seen {
                blocked: !a.ok,
                error: None,
                lines: a.console.clone(),
            },
        });
    }
    oracle.close();
    out
}

#[test]
fn element_loads_agree_with_the_model_in_every_engine() {
    let font = std::fs::read(FONT).unwrap_or_else(|e| {
        panic!("{FONT}: {e} — install Debian's fonts-dejavu-core (.ci/test does)")
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let font = Arc::new(font);
    let (page, api) = rt.block_on(async {
        (
            RawServer::start(handler(font.clone())).await.unwrap(),
            RawServer::start(handler(font.clone())).await.unwrap(),
        )
    });
    let page_origin = format!("http://page.localhost:{}", page.port());
    let page_url = format!("{page_origin}/page");
    // Every load has a URL of its own, so no engine answers one from its cache.
    let loads_for = |run: &str| -> Vec<Load> {
        let mut out = Vec::new();
        for case in CASES {
            for (kind, initiator, credentials) in KINDS {
                let url = format!("http://api.localhost:{}/r/{case}/{kind}/{run}", api.port());
                let (ctype, _) = body_of(kind, &[]);
                let mut headers = serde_json::Map::new();
                headers.insert("Content-Type".into(), json!(ctype));
                for (n, v) in cors_lines(case, &page_origin) {
                    headers.insert(n, json!(v));
                }
                let scenario: Scenario = serde_json::from_value(json!({
                    "id": format!("{case}/{kind}"),
                    "request": {"url": url, "origin": page_origin, "initiator": initiator,
                                "credentials": credentials},
                    "actual_response": {"status": 200, "headers": headers},
                }))
                .unwrap();
                out.push(Load {
                    id: format!("{case}/{kind}"),
                    kind,
                    url,
                    scenario,
                });
            }
        }
        out
    };
    let mut problems = Vec::new();
    let mut counts = Vec::new();
    let mut check = |engine: Engine3, loads: &[Load], seen: &[Seen]| {
        let mut agree = 0;
        for (load, s) in loads.iter().zip(seen) {
            let model = evaluate_in(&load.scenario, &FixContext::Generic, engine);
            match compare(engine.name(), load, &model, s) {
                Some(p) => problems.push(p),
                None => agree += 1,
            }
        }
        counts.push(format!("{}: {agree}/{} agree", engine.name(), loads.len()));
    };
    if chromium::require_chromium("element_loads_agree_with_the_model_in_every_engine") {
        let loads = loads_for("c");
        let seen = rt.block_on(chromium_side(&loads, &page_url));
        check(Engine3::Chromium, &loads, &seen);
    }
    for (engine, model_engine, run) in [
        (Engine::Firefox, Engine3::Firefox, "f"),
        (Engine::WebKit, Engine3::WebKit, "w"),
    ] {
        if !engine_oracle::require_engine(
            engine,
            "element_loads_agree_with_the_model_in_every_engine",
        ) {
            continue;
        }
        let loads = loads_for(run);
        let seen = engine_side(engine, &loads, &page_url);
        check(model_engine, &loads, &seen);
    }
    eprintln!("element loads: {}", counts.join(", "));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
