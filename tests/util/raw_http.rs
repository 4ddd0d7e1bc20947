//! A raw HTTP/1.1 client over `std::net::TcpStream`: the bytes written are exactly the bytes
//! the test wrote. HTTP clients normalise what attacks rely on (`..` segments, `%2e`, `#`,
//! backslashes, odd Host headers), so security tests speak to the sandbox through this.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::sandbox::DEADLINE;

/// What came back on one connection.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// 0 when the server closed the connection without a status line.
    pub status: u16,
    /// Lower-cased names, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `host:port` from a `http://host:port` URL.
pub fn addr(url: &str) -> &str {
    url.trim_start_matches("http://").trim_end_matches('/')
}

/// Connects to a loopback address with the deadline as read and write timeout.
pub fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.set_write_timeout(Some(DEADLINE)).unwrap();
    s
}

/// Writes `bytes` as they are and reads until the server closes the connection (requests
/// should say `Connection: close`), then parses the first response.
pub fn send(addr: &str, bytes: &[u8]) -> RawResponse {
    let mut s = connect(addr);
    // A server may answer (and close) before reading everything, e.g. a 431 for a huge head;
    // a failed write is then expected and the answer is still readable.
    let _ = s.write_all(bytes);
    parse(&read_to_close(&mut s))
}

/// Writes `bytes` and returns everything the server sends until it closes: for pipelined
/// requests, whose answers are read together.
pub fn send_raw(addr: &str, bytes: &[u8]) -> Vec<u8> {
    let mut s = connect(addr);
    let _ = s.write_all(bytes);
    read_to_close(&mut s)
}

/// Reads until EOF, a reset, or the deadline; whatever arrived is returned.
pub fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let deadline = Instant::now() + DEADLINE;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// A `GET` for `target` with `Host: host`, extra header lines (`Name: value`), and
/// `Connection: close`.
pub fn get(addr: &str, target: &str, host: &str, extra: &[&str]) -> RawResponse {
    let mut req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n");
    for h in extra {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    send(addr, req.as_bytes())
}

/// Parses one HTTP/1.1 response (content-length or close-delimited; chunked bodies are left
/// as they came, which is enough to search them for leaked content).
pub fn parse(raw: &[u8]) -> RawResponse {
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return RawResponse {
            status: 0,
            headers: vec![],
            body: raw.to_vec(),
        };
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    RawResponse {
        status,
        headers,
        body: raw[head_end + 4..].to_vec(),
    }
}

/// How long the server took to close a connection on which `prefix` was sent and nothing
/// more; `None` when it was still open after `limit`.
pub fn time_to_close(addr: &str, prefix: &[u8], limit: Duration) -> (Option<Duration>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let started = Instant::now();
    s.write_all(prefix).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return (Some(started.elapsed()), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (Some(started.elapsed()), got),
        }
    }
    (None, got)
}

/// Sends `prefix`, then one byte of `drip` every `every`, and reports when the server closed
/// the connection (`None` if still open after `limit`) and what it answered. A server whose
/// timeout restarts on every byte never closes such a client.
pub fn drip_until_closed(
    addr: &str,
    prefix: &[u8],
    drip: &[u8],
    every: Duration,
    limit: Duration,
) -> (Option<Duration>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let started = Instant::now();
    s.write_all(prefix).unwrap();
    s.set_read_timeout(Some(every)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut next = drip.iter().cycle();
    while started.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return (Some(started.elapsed()), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if s.write_all(&[*next.next().unwrap_or(&b'x')]).is_err() {
                    return (Some(started.elapsed()), got);
                }
            }
            Err(_) => return (Some(started.elapsed()), got),
        }
    }
    (None, got)
}

/// Writes `bytes` and reads one response (framed by its Content-Length, by chunks, or by the
/// server closing), leaving the socket open: for requests whose body the client never
/// finishes. A response that does not arrive within the deadline comes back with status 0.
pub fn answer_keeping_open(addr: &str, bytes: &[u8]) -> (TcpStream, RawResponse) {
    let mut s = connect(addr);
    let _ = s.write_all(bytes);
    let deadline = Instant::now() + DEADLINE;
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while Instant::now() < deadline && !response_complete(&got) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let res = parse(&got);
    (s, res)
}

/// Whether `raw` holds a whole response: its head, and then as much body as it frames.
fn response_complete(raw: &[u8]) -> bool {
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let res = parse(raw);
    let body = &raw[head_end + 4..];
    if let Some(n) = res
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        return body.len() >= n;
    }
    if res
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        return body.ends_with(b"0\r\n\r\n");
    }
    // Framed by the close: only EOF says it is whole.
    false
}

/// Whether the server closes `s` (EOF or reset) within the deadline; anything it sends in the
/// meantime is read and dropped. The client writes nothing more.
pub fn closed_by_server(s: &mut TcpStream) -> bool {
    let deadline = Instant::now() + DEADLINE;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
}
