//! A request whose body never ends is answered, and then its socket is closed by the server:
//! on every origin, whoever answered it (the files, a refusal, the CORS layer, the body
//! deadline), so such sockets cannot pile up until the process runs out of descriptors.
//!
//! Every table row is one attack input, counted with the other `security` modules' rows.

use std::os::unix::process::CommandExt;

use super::{attack_project, start};
use crate::util::raw_http::{addr, answer_keeping_open, closed_by_server, get};
use crate::util::sandbox::*;

/// A chunked body's first chunk, never followed by the last one.
const OPEN_CHUNKED: &str = "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";

/// Each request below leaves its body unfinished for good; the answer must come, and then the
/// server must close the connection on its own (the client never writes again, never closes).
#[test]
fn a_body_that_never_ends_is_answered_then_the_socket_closed() {
    let d = attack_project();
    let sb = start(&d);
    let preflight = "OPTIONS /api/payment HTTP/1.1\r\nHost: localhost\r\nOrigin: http://karachi-dev.localhost:8080\r\nAccess-Control-Request-Method: POST\r\n";
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "frontend",
            format!("GET / HTTP/1.1\r\nHost: localhost\r\n{OPEN_CHUNKED}"),
            200,
        ),
        (
            "frontend",
            format!("GET /site.css HTTP/1.1\r\nHost: localhost\r\n{OPEN_CHUNKED}"),
            200,
        ),
        (
            "frontend",
            // Refused by the run-key gate before any route is looked at.
            format!("POST /__sandbox/status HTTP/1.1\r\nHost: localhost\r\n{OPEN_CHUNKED}"),
            403,
        ),
        (
            "frontend",
            format!("GET / HTTP/1.1\r\nHost: evil.example\r\n{OPEN_CHUNKED}"),
            403,
        ),
        (
            "frontend",
            "GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc".to_string(),
            200,
        ),
        ("api", format!("{preflight}{OPEN_CHUNKED}"), 200),
        (
            "api",
            format!("GET /api/student HTTP/1.1\r\nHost: evil.example\r\n{OPEN_CHUNKED}"),
            403,
        ),
        (
            "api",
            format!("PUT /api/payment HTTP/1.1\r\nHost: localhost\r\n{OPEN_CHUNKED}"),
            408,
        ),
        (
            "api",
            "PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000000\r\n\r\nabc"
                .to_string(),
            413,
        ),
    ];
    answered_then_closed(
        cases
            .into_iter()
            .map(|(origin, req, want)| {
                let what = format!("{origin} {:?}", req.lines().next().unwrap_or(""));
                (
                    addr(sb.url(origin)).to_string(),
                    what,
                    req.into_bytes(),
                    want,
                )
            })
            .collect(),
    );
}

/// Sends each `(address, what, request, status)` at once, each on its own socket it keeps
/// open: each must be answered with that status and then closed by the server.
fn answered_then_closed(cases: Vec<(String, String, Vec<u8>, u16)>) {
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(a, what, req, want)| {
            std::thread::spawn(move || {
                let (mut s, res) = answer_keeping_open(&a, &req);
                (what, want, res.status, closed_by_server(&mut s))
            })
        })
        .collect();
    for h in runs {
        let (what, want, status, closed) = h.join().unwrap();
        assert_eq!(status, want, "{what}");
        assert!(
            closed,
            "{what}: answered {status}, then the socket stayed open"
        );
    }
}

/// The sandbox, limited to 128 descriptors, gets 200 requests whose bodies never end (more
/// than it has descriptors), in waves of 40 it must close before the next wave comes; the
/// client keeps every socket open to the end. Both origins still answer afterwards.
#[test]
fn never_ending_bodies_cannot_exhaust_descriptors() {
    const LIMIT: libc::rlim_t = 128;
    const WAVES: usize = 5;
    const PER_ORIGIN: usize = 20;
    let d = attack_project();
    let sb = TestSandbox::start_with(d.path(), &["--config", "sandbox.toml"], |cmd| {
        // SAFETY: setrlimit(2) only, between fork and exec; it allocates nothing.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: LIMIT,
                    rlim_max: LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    });
    let front = addr(sb.url("frontend")).to_string();
    let api = addr(sb.url("api")).to_string();
    let attacks = [
        (
            front.clone(),
            format!("GET / HTTP/1.1\r\nHost: localhost\r\n{OPEN_CHUNKED}"),
        ),
        (
            api.clone(),
            format!("OPTIONS /api/payment HTTP/1.1\r\nHost: localhost\r\nOrigin: http://karachi-dev.localhost:8080\r\nAccess-Control-Request-Method: POST\r\n{OPEN_CHUNKED}"),
        ),
    ];
    let mut kept = Vec::new();
    for wave in 0..WAVES {
        let mut open = Vec::new();
        for (a, req) in &attacks {
            for _ in 0..PER_ORIGIN {
                let (s, res) = answer_keeping_open(a, req.as_bytes());
                assert_eq!(res.status, 200, "wave {wave}: {a} did not answer");
                open.push(s);
            }
        }
        for (i, s) in open.iter_mut().enumerate() {
            assert!(closed_by_server(s), "wave {wave}: socket {i} still held");
        }
        kept.extend(open);
    }
    assert_eq!(kept.len(), WAVES * PER_ORIGIN * attacks.len());
    for a in [&front, &api] {
        let res = get(a, "/", "localhost", &[]);
        assert_ne!(res.status, 0, "{a} no longer answers");
    }
}

/// `Upgrade: websocket` and `CONNECT` make the rest of the connection the request's body; the
/// API answers them at once (not with a 408 once the body deadline has passed) and closes.
#[test]
fn upgrade_and_connect_are_answered_without_waiting_for_a_body() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    let requests = [
        "GET /api/student HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        "GET /api/nowhere HTTP/1.1\r\nHost: localhost\r\nUpgrade: WebSocket\r\n\r\n",
        "CONNECT localhost:80 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ];
    let runs: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let a = a.clone();
            std::thread::spawn(move || {
                let (mut s, res) = answer_keeping_open(&a, req.as_bytes());
                (req, res.status, closed_by_server(&mut s))
            })
        })
        .collect();
    for h in runs {
        let (req, status, closed) = h.join().unwrap();
        assert!(
            status != 0 && status != 408,
            "{req:?}: answered {status} instead of at once"
        );
        assert!(closed, "{req:?}: the socket stayed open");
    }
}

/// A chunk size announcing more than the API's 1 MiB body limit is answered 413 at once, on
/// the request that announced it, and the socket closed; it is not left to the 5 s body
/// deadline (a 408) nor to a megabyte arriving. Sizes that add up past the limit count too;
/// a body announcing exactly the limit is not refused for it (the 408 control).
#[test]
fn a_chunk_size_above_the_body_limit_is_answered_413_at_once() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    let head = "PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut half_and_more = format!("{head}80000\r\n").into_bytes();
    half_and_more.extend(std::iter::repeat_n(b'a', 0x80000));
    half_and_more.extend_from_slice(b"\r\n80001\r\n");
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "a 1 GiB chunk",
            format!("{head}40000000\r\nhello").into_bytes(),
            413,
        ),
        (
            "size line only",
            format!("{head}100001\r\n").into_bytes(),
            413,
        ),
        (
            "with extensions",
            format!("{head}FFFFFFF;x=1\r\n").into_bytes(),
            413,
        ),
        ("two chunks past the limit", half_and_more, 413),
        (
            "exactly the limit",
            format!("{head}100000\r\nhello").into_bytes(),
            408,
        ),
    ];
    answered_then_closed(
        cases
            .into_iter()
            .map(|(what, req, want)| (a.clone(), what.to_string(), req, want))
            .collect(),
    );
}

/// On a keep-alive connection the 413 goes to the request that announced the size, never to
/// the one before it, even when both arrive in one write.
#[test]
fn the_413_goes_to_the_request_that_announced_the_size() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    let first = "PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let second = "PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\nabc";
    let raw = crate::util::raw_http::send_raw(&a, format!("{first}{second}").as_bytes());
    let text = String::from_utf8_lossy(&raw);
    let statuses: Vec<&str> = text
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &text[i + 9..i + 12])
        .collect();
    assert_eq!(statuses.len(), 2, "{text}");
    assert_ne!(
        statuses[0], "413",
        "the first request is not the oversized one: {text}"
    );
    assert_eq!(statuses[1], "413", "{text}");
}
