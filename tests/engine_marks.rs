//! The lab and the inspector mark the engine they run in, from its user agent
//! (`SandboxDom.currentEngine` in `static/.sandbox/dom.js`): checked in real Firefox ESR and
//! WebKitGTK through their oracles, and in headless Chromium by `lab_browser`. The user
//! agents of these engines are easy to confuse (every Chromium and WebKit UA says "Safari",
//! Chromium's says "AppleWebKit"), so only the real ones prove the rule.

use std::sync::Arc;

use crate::util::engine_oracle::{self, Engine, Job, Oracle};
use crate::util::raw_server::{RawRequest, RawResponse, RawServer};

const DOM_JS: &str = include_str!("../static/.sandbox/dom.js");

/// A page with the pages' shared helpers whose runner answers which engine they detect.
fn page() -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>which engine</title><script>{DOM_JS}</script>\
         <script>window.__run = async function () {{ \
           return {{ ok: true, status: 200, headers: [String(SandboxDom.currentEngine()), navigator.userAgent] }}; }};</script>"
    )
}

#[test]
fn the_pages_tell_firefox_and_webkit_from_their_user_agents() {
    let engines: Vec<Engine> = Engine::ALL
        .into_iter()
        .filter(|e| {
            engine_oracle::require_engine(
                *e,
                "the_pages_tell_firefox_and_webkit_from_their_user_agents",
            )
        })
        .collect();
    if engines.is_empty() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let html = page();
    let server = runtime.block_on(async {
        RawServer::start(Arc::new(move |_: &RawRequest| {
            RawResponse::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(html.as_str())
        }))
        .await
        .unwrap()
    });
    let mut wrong = Vec::new();
    for engine in engines {
        let mut oracle = Oracle::start(engine)
            .unwrap_or_else(|e| panic!("start the {} oracle: {e}", engine.name()));
        let answer = oracle
            .run(&Job {
                id: "which".into(),
                page_url: format!("http://page.localhost:{}/", server.port()),
                spec: serde_json::json!({}),
                same_page: false,
                expression: None,
            })
            .unwrap_or_else(|e| panic!("{}: {e}", engine.name()));
        oracle.close();
        let said = answer.headers.clone().unwrap_or_default();
        eprintln!("engine_marks: {} → {said:?}", engine.name());
        if said.first().map(String::as_str) != Some(engine.name()) {
            wrong.push(format!("{}: {answer:?}", engine.name()));
        }
    }
    assert!(
        wrong.is_empty(),
        "engine detected wrongly:\n{}",
        wrong.join("\n")
    );
}
