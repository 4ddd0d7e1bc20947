//! Cookies in Firefox ESR and WebKitGTK against the model (issue #19): a credentialed fetch
//! from the page gets a `Set-Cookie` (no `SameSite`; `SameSite=None; Secure`; `SameSite=None`
//! alone; `SameSite=Lax`; `SameSite=None; Secure; Partitioned`), then a second one from the
//! same page asks whether the cookie came back — cross-site (`page.localhost` →
//! `api.localhost`) and on one site (two ports of `localhost`). For each the model's answer,
//! the store verdict carried through its jar into the send verdict, must be what the engine
//! did; the server sees the `Cookie` header, so nothing is taken from the engine's word.
//! Chromium is held to the same rules by `cookie_differential`.

use std::sync::{Arc, Mutex};

use sandbox::browser::{
    evaluate_in, Browser, CookieAction, CookieJar, CookieOutcome, FixContext, Scenario,
};
use serde_json::json;

use crate::util::engine_oracle::{self, Engine, Job, Oracle};
use crate::util::raw_server::{RawRequest, RawResponse, RawServer};

const PAGE: &str = "<!doctype html><meta charset=utf-8><title>cookies</title><script>\
window.__run = async function (spec) {\
  try { const r = await fetch(spec.url, { credentials: 'include' }); await r.text(); return { ok: true, status: r.status, headers: [] }; }\
  catch (e) { return { ok: false, stage: 'fetch', error: String(e) }; } };</script>";

const VARIANTS: &[(&str, &str)] = &[
    ("plain", "Path=/"),
    ("none-secure", "SameSite=None; Secure; Path=/"),
    ("none", "SameSite=None; Path=/"),
    ("lax", "SameSite=Lax; Path=/"),
    ("partitioned", "SameSite=None; Secure; Partitioned; Path=/"),
];

#[test]
fn firefox_and_webkit_store_and_send_cookies_as_the_model_says() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let handler = Arc::new(move |req: &RawRequest| {
        if req.path_only() == "/page" {
            return RawResponse::new(200)
                .header("Content-Type", "text/html")
                .header("Cache-Control", "no-store")
                .body(PAGE);
        }
        let origin = req.header("origin").unwrap_or("null").to_string();
        let mut r = RawResponse::new(200)
            .header("Access-Control-Allow-Origin", &origin)
            .header("Access-Control-Allow-Credentials", "true")
            .header("Cache-Control", "no-store");
        let parts: Vec<&str> = req.path_only().split('/').collect();
        if let ["", "set", name, attrs] = parts.as_slice() {
            let attrs = VARIANTS
                .iter()
                .find(|v| v.0 == *attrs)
                .map(|v| v.1)
                .unwrap_or("");
            r = r.header("Set-Cookie", &format!("{name}=1; {attrs}"));
        }
        if let ["", "check", name] = parts.as_slice() {
            s2.lock().unwrap().push((
                name.to_string(),
                req.header("cookie").unwrap_or("").to_string(),
            ));
        }
        r.body("ok")
    });
    let (page, api) = rt.block_on(async move {
        (
            RawServer::start(handler.clone()).await.unwrap(),
            RawServer::start(handler).await.unwrap(),
        )
    });
    let (pport, aport) = (page.port(), api.port());
    let mut wrong = Vec::new();
    let mut counts = Vec::new();
    for engine in Engine::ALL {
        if !engine_oracle::require_engine(engine, "measure") {
            continue;
        }
        let mut o = Oracle::start(engine).unwrap();
        for (ctx, page_host, api_host) in [
            ("cross-site", "page.localhost", "api.localhost"),
            ("same-site", "localhost", "localhost"),
        ] {
            for (v, _) in VARIANTS {
                let name = format!(
                    "{}{}{}",
                    engine.name(),
                    ctx.replace('-', ""),
                    v.replace('-', "")
                );
                let page_url = format!("http://{page_host}:{pport}/page");
                let a = o
                    .run(&Job {
                        id: format!("set-{name}"),
                        page_url: page_url.clone(),
                        spec: json!({"url": format!("http://{api_host}:{aport}/set/{name}/{v}")}),
                        same_page: false,
                        expression: None,
                    })
                    .unwrap();
                let b = o
                    .run(&Job {
                        id: format!("check-{name}"),
                        page_url,
                        spec: json!({"url": format!("http://{api_host}:{aport}/check/{name}")}),
                        same_page: true,
                        expression: None,
                    })
                    .unwrap();
                let sent = seen
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| c.contains(&format!("{name}=1")))
                    .unwrap_or(false);
                assert!(a.ok && b.ok, "{name}: {a:?} {b:?}");
                let model = predicted(
                    match engine {
                        Engine::Firefox => Browser::Firefox,
                        Engine::WebKit => Browser::WebKit,
                    },
                    &format!("http://{page_host}:{pport}"),
                    &format!("http://{api_host}:{aport}"),
                    &name,
                    v,
                );
                counts.push(model == sent);
                if model != sent {
                    wrong.push(format!(
                        "{} {ctx} {v}: the engine {} it back, the model says it {} (console: {:?})",
                        engine.name(),
                        if sent { "sent" } else { "did not send" },
                        if model { "is sent" } else { "is not" },
                        a.console
                    ));
                }
            }
        }
        o.close();
    }
    let agree = counts.iter().filter(|c| **c).count();
    eprintln!("engine cookies: {agree}/{} agree", counts.len());
    assert!(!counts.is_empty(), "no engine ran");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The model's answer: the `Set-Cookie` judged as `browser` does, into a jar, and then
/// whether the next credentialed request from the same page carries it.
fn predicted(browser: Browser, page: &str, api: &str, name: &str, variant: &str) -> bool {
    let attrs = VARIANTS.iter().find(|v| v.0 == variant).unwrap().1;
    let set: Scenario = serde_json::from_value(json!({
        "request": {"url": format!("{api}/set/{name}/{variant}"), "origin": page,
                    "credentials": "include"},
        "actual_response": {"status": 200, "headers": {
            "Access-Control-Allow-Origin": page, "Access-Control-Allow-Credentials": "true",
            "Set-Cookie": format!("{name}=1; {attrs}")}},
    }))
    .unwrap();
    let v = evaluate_in(&set, &FixContext::Generic, browser);
    let mut jar = CookieJar::new();
    jar.apply(&set, &v.cookies);
    let mut check: Scenario = serde_json::from_value(json!({
        "request": {"url": format!("{api}/check/{name}"), "origin": page,
                    "credentials": "include"},
        "actual_response": {"status": 200, "headers": {
            "Access-Control-Allow-Origin": page, "Access-Control-Allow-Credentials": "true"}},
    }))
    .unwrap();
    check.cookies = jar.cookies().to_vec();
    let v = evaluate_in(&check, &FixContext::Generic, browser);
    v.cookies.iter().any(|c| {
        c.name == name && c.action == CookieAction::Send && c.outcome == CookieOutcome::Sent
    })
}
