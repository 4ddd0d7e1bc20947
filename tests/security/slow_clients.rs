//! A client that stalls or drips its request head or body is cut off after the client request
//! timeout, on every origin.

use std::time::Duration;

use super::{attack_project, start};
use crate::util::raw_http::{addr, drip_until_closed, time_to_close};

/// Slowloris: a client that sends part of a request head and stalls is cut off after the
/// 5 s client request timeout, on every origin; so is one that sends a head and part of the
/// body it announced (a "slow POST", which the head timeout alone does not cover). All cases
/// run at once to keep the test short.
#[test]
fn slow_clients_are_cut_off() {
    let d = attack_project();
    let sb = start(&d);
    let limit = Duration::from_secs(9);
    let slow_body: &[u8] =
        b"PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789";
    let mut cases = Vec::new();
    for origin in ["frontend", "api"] {
        let a = addr(sb.url(origin)).to_string();
        let mut prefixes: Vec<&[u8]> = vec![
            b"GET / HTTP/1.1\r\nHost: local",
            b"GET / HTTP/1.1\r\nHost: localhost\r\n",
            b"",
        ];
        if origin == "api" {
            prefixes.push(slow_body);
        }
        for p in prefixes {
            let a = a.clone();
            cases.push((
                format!("{origin} {:?}", String::from_utf8_lossy(p)),
                p == slow_body,
                std::thread::spawn(move || time_to_close(&a, p, limit)),
            ));
        }
    }
    // Dripping a byte every 300 ms does not restart the clock: the deadline is for the whole
    // head, and for the whole body.
    let drips: [(&str, &[u8], &[u8]); 2] = [
        ("frontend", b"GET / HTTP/1.1\r\nX-Drip: ", b"abcdefgh"),
        ("api", slow_body, b"0123456789"),
    ];
    for (origin, prefix, drip) in drips {
        let a = addr(sb.url(origin)).to_string();
        let every = Duration::from_millis(300);
        cases.push((
            format!(
                "{origin} dripping after {:?}",
                String::from_utf8_lossy(prefix)
            ),
            origin == "api",
            std::thread::spawn(move || drip_until_closed(&a, prefix, drip, every, limit)),
        ));
    }
    for (what, is_slow_body, h) in cases {
        let (took, got) = h.join().unwrap();
        let took = took.unwrap_or_else(|| panic!("{what}: still open after {limit:?}"));
        assert!(
            took >= Duration::from_secs(4),
            "{what}: closed early ({took:?})"
        );
        let text = String::from_utf8_lossy(&got);
        if is_slow_body {
            assert!(text.starts_with("HTTP/1.1 408"), "{what}: {text}");
        } else {
            assert!(
                got.is_empty() || text.starts_with("HTTP/1.1 408"),
                "{what}: {text}"
            );
        }
    }
}
