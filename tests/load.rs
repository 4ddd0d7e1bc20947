//! Under load (64 connections on loopback) while the policy is rewritten 300 times, no request
//! fails and every response is consistent with exactly one policy.
//!
//! Policy number `n` leaves its mark in several headers at once: the preflight's max-age and
//! allowed methods, the actual response's two exposed headers, and whether origin
//! `par0.localhost` is allowed (only for even `n`). A response assembled from two policies
//! would disagree with itself. Each connection also checks that `n` never goes backwards,
//! since one swapped pointer means one order of policies for everybody.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::util::sandbox::*;

const CONNECTIONS: usize = 64;
/// Requests per connection: at least this many, and more while the policy is still changing.
const MIN_REQUESTS: usize = 50;
const MAX_REQUESTS: usize = 400;
const REWRITES: u64 = 300;

fn policy(n: u64) -> String {
    format!(
        "allowed_origins = [\"http://client.localhost\", \"http://par{}.localhost\"]\n\
         allowed_methods = [\"GET\", \"PUT\", \"GEN{n}\"]\n\
         expose_headers = [\"x-gen-{n}\", \"x-gen-{n}-b\"]\n\
         max_age = {n}\n\
         block_on_origin_mismatch = false\n",
        n % 2
    )
}

fn header(res: &reqwest::blocking::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("<not text>").to_string())
}

/// The comma-separated tokens of a header, lower-cased, as a set (actix-cors orders them
/// differently in every process).
fn tokens(v: &Option<String>) -> BTreeSet<String> {
    v.iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The policy number the exposed headers name, if they name exactly one consistently.
fn from_exposed(aceh: &Option<String>) -> Result<u64, String> {
    let t = tokens(aceh);
    let n = t
        .iter()
        .find_map(|t| t.strip_prefix("x-gen-").and_then(|r| r.parse::<u64>().ok()))
        .ok_or_else(|| format!("no x-gen-N in {aceh:?}"))?;
    let want: BTreeSet<String> = [format!("x-gen-{n}"), format!("x-gen-{n}-b")].into();
    if t != want {
        return Err(format!(
            "exposed headers {aceh:?} are not exactly policy {n}'s"
        ));
    }
    Ok(n)
}

/// Sends request `i` of a connection; returns the policy number the answer shows (if it
/// shows one) or what is wrong with it.
fn probe(c: &reqwest::blocking::Client, api: &str, i: usize) -> Result<Option<u64>, String> {
    let url = format!("{api}/api/student");
    match i % 3 {
        0 => {
            let res = c
                .request(reqwest::Method::OPTIONS, &url)
                .header("Origin", "http://client.localhost")
                .header("Access-Control-Request-Method", "PUT")
                .send()
                .map_err(|e| format!("preflight: {e}"))?;
            if res.status() != 200 {
                return Err(format!("preflight: status {}", res.status()));
            }
            if header(&res, "access-control-allow-origin").as_deref()
                != Some("http://client.localhost")
            {
                return Err(format!(
                    "preflight: ACAO {:?}",
                    header(&res, "access-control-allow-origin")
                ));
            }
            let n: u64 = header(&res, "access-control-max-age")
                .and_then(|v| v.parse().ok())
                .ok_or("preflight: no max-age")?;
            let methods = tokens(&header(&res, "access-control-allow-methods"));
            let gens: Vec<_> = methods.iter().filter(|m| m.starts_with("gen")).collect();
            if gens != [&format!("gen{n}")] {
                return Err(format!("preflight: max-age {n} but methods {methods:?}"));
            }
            Ok(Some(n))
        }
        1 => {
            let res = c
                .get(&url)
                .header("Origin", "http://client.localhost")
                .send()
                .map_err(|e| format!("GET: {e}"))?;
            if res.status() != 200 {
                return Err(format!("GET: status {}", res.status()));
            }
            if header(&res, "access-control-allow-origin").as_deref()
                != Some("http://client.localhost")
            {
                return Err("GET: no ACAO for an always-allowed origin".into());
            }
            from_exposed(&header(&res, "access-control-expose-headers")).map(Some)
        }
        _ => {
            let res = c
                .get(&url)
                .header("Origin", "http://par0.localhost")
                .send()
                .map_err(|e| format!("GET par0: {e}"))?;
            if res.status() != 200 {
                return Err(format!("GET par0: status {}", res.status()));
            }
            let acao = header(&res, "access-control-allow-origin");
            let aceh = header(&res, "access-control-expose-headers");
            match acao.as_deref() {
                // actix-cors still sends an odd policy's expose headers to an origin it does
                // not allow; they must name an odd policy.
                None if aceh.is_none() => Ok(None),
                None => {
                    let n = from_exposed(&aceh)?;
                    if n % 2 == 0 {
                        return Err(format!("GET par0: refused by even policy {n}"));
                    }
                    Ok(Some(n))
                }
                Some("http://par0.localhost") => {
                    let n = from_exposed(&aceh)?;
                    if n % 2 != 0 {
                        return Err(format!("GET par0: allowed by odd policy {n}"));
                    }
                    Ok(Some(n))
                }
                Some(other) => Err(format!("GET par0: ACAO {other}")),
            }
        }
    }
}

#[test]
fn no_request_fails_and_each_sees_one_policy_while_the_policy_is_rewritten() {
    let d = project(&policy(1));
    let path = d.path().join("cors.toml");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    let started = Instant::now();
    let writing = Arc::new(AtomicBool::new(true));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|k| {
            let (api, writing) = (api.clone(), writing.clone());
            std::thread::spawn(move || {
                // One client per thread, so one keep-alive connection each.
                let c = client();
                let (mut sent, mut failures, mut seen) = (0usize, Vec::new(), BTreeSet::new());
                let mut last = 0u64;
                while sent < MAX_REQUESTS
                    && (sent < MIN_REQUESTS || writing.load(Ordering::Relaxed))
                {
                    match probe(&c, &api, sent + k) {
                        Err(e) => failures.push(format!("connection {k}, request {sent}: {e}")),
                        Ok(Some(n)) if n < last => failures.push(format!(
                            "connection {k}, request {sent}: policy {n} after {last}"
                        )),
                        Ok(Some(n)) => {
                            last = n;
                            seen.insert(n);
                        }
                        Ok(None) => {}
                    }
                    sent += 1;
                }
                (sent, failures, seen)
            })
        })
        .collect();
    let reloads_before = sb.event_count();
    for n in 2..=REWRITES {
        save(&path, &policy(n), SaveStyle::Rename);
        // Pacing, not synchronisation: a save every 15 ms while requests are in flight, a
        // little over the 10 ms debounce, so most saves become a reload of their own.
        std::thread::sleep(Duration::from_millis(15));
    }
    let final_n = REWRITES;
    eventually("final policy served", || {
        let c = client();
        (probe(&c, &api, 1).ok().flatten() == Some(final_n)).then_some(())
    });
    writing.store(false, Ordering::Relaxed);
    let (mut total, mut failures, mut seen) = (0, Vec::new(), BTreeSet::new());
    for h in clients {
        let (sent, f, s) = h.join().unwrap();
        total += sent;
        failures.extend(f);
        seen.extend(s);
    }
    let took = started.elapsed();
    let reloads = sb.events()[reloads_before..]
        .iter()
        .filter(|e| e["event"] == "reloaded" && e["file"] == "cors.toml")
        .count();
    println!(
        "load: {total} requests on {CONNECTIONS} connections in {took:.1?}, {} policy saves, \
         {reloads} reloads, {} distinct policies seen, {} failures",
        REWRITES - 1,
        seen.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    assert!(total >= CONNECTIONS * MIN_REQUESTS);
    // The policy really changed under the requests.
    assert!(
        seen.len() >= 10,
        "only {} policies seen: {seen:?}",
        seen.len()
    );
    assert!(reloads >= 10, "only {reloads} reloads");
}
