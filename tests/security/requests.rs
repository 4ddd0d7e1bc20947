//! Requests a browser would never send (malformed request lines, bodies over 1 MiB, oversized
//! heads) are refused with 400, 413 or 431, and the server keeps serving.
//!
//! Every table row is one attack input, counted with the other `security` modules' rows in
//! issue #5's closing note.

use super::{assert_no_leak, attack_project, start};
use crate::util::raw_http::{self, addr, get, send};

/// Bytes an HTTP client would never put on the wire: raw NUL, raw control characters, a
/// space inside the target. The parser must answer 400 (never a file) and keep serving.
#[test]
fn malformed_request_lines_get_400() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("frontend")).to_string();
    let lines: &[&[u8]] = &[
        b"GET /index.html\0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /\0/../outside/secret.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /index.html\x01 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /../outside/secret .txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /\x7f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ];
    for raw in lines {
        let res = send(&a, raw);
        let shown = String::from_utf8_lossy(raw);
        assert_eq!(res.status, 400, "{shown:?}: {}", res.body_text());
        assert_no_leak(&shown, &res);
    }
    assert_eq!(get(&a, "/", "localhost", &[]).status, 200);
}

fn put_with_body(a: &str, len: usize, chunked: bool) -> raw_http::RawResponse {
    let body = vec![b'x'; len];
    let mut req = b"PUT /api/payment HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nConnection: close\r\n".to_vec();
    if chunked {
        req.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in body.chunks(64 * 1024) {
            req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            req.extend_from_slice(chunk);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
    } else {
        req.extend_from_slice(format!("Content-Length: {len}\r\n\r\n").as_bytes());
        req.extend_from_slice(&body);
    }
    send(a, &req)
}

#[test]
fn api_bodies_over_one_mebibyte_get_413() {
    let d = attack_project();
    let sb = start(&d);
    let a = addr(sb.url("api")).to_string();
    assert_eq!(put_with_body(&a, 1000, false).status, 200);
    assert_eq!(put_with_body(&a, 1024 * 1024, false).status, 200);
    assert_eq!(put_with_body(&a, 1024 * 1024 + 1, false).status, 413);
    assert_eq!(put_with_body(&a, 3 * 1024 * 1024, false).status, 413);
    assert_eq!(put_with_body(&a, 1000, true).status, 200);
    assert_eq!(put_with_body(&a, 3 * 1024 * 1024, true).status, 413);
    // The server is still fine.
    assert_eq!(get(&a, "/api/student", "localhost", &[]).status, 200);
}

/// actix-http refuses request heads over 128 KiB or with more than 96 header lines with 431
/// (its `MAX_BUFFER_SIZE` and `MAX_HEADERS`; not configurable, and small enough).
#[test]
fn oversized_request_heads_get_431_on_every_origin() {
    let d = attack_project();
    let sb = start(&d);
    for origin in ["frontend", "api"] {
        let a = addr(sb.url(origin)).to_string();
        let big = format!("X-Big: {}", "a".repeat(200 * 1024));
        let res = get(&a, "/", "localhost", &[&big]);
        assert_eq!(res.status, 431, "{origin}: one 200 KiB header");
        let many: Vec<String> = (0..120).map(|i| format!("X-H{i}: v")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let res = get(&a, "/", "localhost", &many);
        assert_eq!(res.status, 431, "{origin}: 120 headers");
        let long_target = format!("/{}", "a".repeat(200 * 1024));
        let res = get(&a, &long_target, "localhost", &[]);
        assert_eq!(res.status, 431, "{origin}: 200 KiB target");
        // Still serving.
        let t = if origin == "api" {
            "/api/student"
        } else {
            "/site.css"
        };
        assert_eq!(get(&a, t, "localhost", &[]).status, 200);
    }
}
