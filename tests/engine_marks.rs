//! The lab and the inspector mark the engine they run in, from its user agent, and list that
//! engine's cookie verdicts first
//! (`SandboxDom.currentEngine` in `static/.sandbox/dom.js`): checked in real Firefox ESR and
//! WebKitGTK through their oracles, and in headless Chromium by `lab_browser`. The user
//! agents of these engines are easy to confuse (every Chromium and WebKit UA says "Safari",
//! Chromium's says "AppleWebKit"), so only the real ones prove the rule.

use std::sync::Arc;

use crate::util::engine_oracle::{self, Engine, Job, Oracle};
use crate::util::raw_server::{RawRequest, RawResponse, RawServer};

const DOM_JS: &str = include_str!("../static/.sandbox/dom.js");

/// A journal entry's cookie verdicts: Chromium refuses `sid` (third-party), Firefox keeps it
/// partitioned, WebKit says what Chromium says (so in Firefox both others are named).
const COOKIES: &str = "const COOKIES = { cookies: [{ name: 'sid', action: 'store', outcome: 'rejected', \
    blocked_reasons: ['UserPreferences'], reason: 'third-party' }], cookies_in: { firefox: [{ name: 'sid', \
    action: 'store', outcome: 'stored_partitioned', blocked_reasons: [], reason: 'partitioned' }] } };";

/// A page with the pages' shared helpers whose runner answers which engine they detect, and
/// whose cookie verdicts the cookie block lists first and names as other engines'.
fn page() -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>which engine</title><script>{DOM_JS}</script><script>{COOKIES}</script>\
         <script>window.__run = async function () {{ \
           const here = SandboxDom.currentEngine(); \
           const block = SandboxDom.cookieBlock(COOKIES, here); \
           const others = Array.from(block.querySelectorAll('li.elsewhere')).map(l => l.dataset.engine).join(','); \
           return {{ ok: true, status: 200, headers: [String(here), navigator.userAgent, block.dataset.engine, others] }}; }};</script>"
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
        // The block lists the engine's own verdicts and names the one that decides otherwise.
        let (main, others) = match engine {
            Engine::Firefox => ("firefox", "chromium,webkit"),
            Engine::WebKit => ("webkit", "firefox"),
        };
        if said.get(2).map(String::as_str) != Some(main)
            || said.get(3).map(String::as_str) != Some(others)
        {
            wrong.push(format!(
                "{}: the cookie block lists {:?} and names {:?}, not {main} and {others}",
                engine.name(),
                said.get(2),
                said.get(3)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "engine detected wrongly:\n{}",
        wrong.join("\n")
    );
}
