//! A server that writes whatever bytes a test gives it: interim 1xx answers, folded or
//! LF-only header lines, a NUL in a value, an answer dripped a byte at a time — framings a
//! real HTTP library would refuse to produce. One thread per connection, one request per
//! connection, on 127.0.0.1 or `[::1]`; every request is recorded.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as received.
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: String,
    pub path: String,
    /// The Host header, lower case.
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WireRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to write back.
pub enum Reply {
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// These bytes one at a time, `every` apart (a server that never finishes in time).
    Drip { bytes: Vec<u8>, every: Duration },
}

impl Reply {
    /// A response built from a status line and header lines joined with CRLF, a body, and
    /// `Content-Length` + `Connection: close` added.
    pub fn http(status_line: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut out = format!("{status_line}\r\n");
        for (n, v) in headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        Reply::Bytes(out.into_bytes())
    }
}

pub type Handler = Arc<dyn Fn(&WireRequest) -> Reply + Send + Sync>;

pub struct WireServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<WireRequest>>>,
}

impl WireServer {
    /// Binds `ip:0` (`"127.0.0.1"` or `"::1"`) and serves until the process ends.
    pub fn start(ip: &str, handler: Handler) -> std::io::Result<WireServer> {
        let listener = TcpListener::bind((ip, 0))?;
        let addr = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &handler, &log));
            }
        });
        Ok(WireServer { addr, seen })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn seen(&self) -> Vec<WireRequest> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, handler: &Handler, log: &Mutex<Vec<WireRequest>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    log.lock().unwrap().push(request.clone());
    match handler(&request) {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes);
        }
        Reply::Drip { bytes, every } => {
            for b in bytes {
                if stream.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(every);
            }
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Drain what the client still sends so the close is a FIN, not a reset.
    let mut sink = [0u8; 1024];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

fn read_request(stream: &mut TcpStream) -> Option<WireRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let host = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    Some(WireRequest {
        method,
        path,
        host,
        headers,
        body,
    })
}
