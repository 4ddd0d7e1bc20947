//! A minimal HTTP/1.1 client for `probe`: writes one request, reads the response head exactly
//! as sent (header lines in order, duplicates kept, odd values untouched), which an ordinary
//! client library would normalise away. Plain `http://` only.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::browser::{HeaderList, Response};

/// Response heads larger than this are refused; real ones are a few KiB.
const MAX_HEAD: usize = 64 * 1024;

pub fn send(
    method: &str,
    url: &str,
    headers: &HeaderList,
    timeout: Duration,
) -> Result<Response, String> {
    let u = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if u.scheme() != "http" {
        return Err(format!(
            "only http:// URLs can be probed (got {}://); probe the server's plain-HTTP port",
            u.scheme()
        ));
    }
    let host = u.host_str().ok_or("the URL has no host")?.to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    // Chromium resolves every *.localhost name to loopback; do the same so probes of the
    // tutorial's host names reach the same server the browser would.
    let connect_host = if host == "localhost" || host.ends_with(".localhost") {
        "127.0.0.1".to_string()
    } else {
        host.clone()
    };
    let addr = (connect_host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("the host name did not resolve")?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target.push('?');
        target.push_str(q);
    }
    let host_header = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\nUser-Agent: sandbox-probe\r\n");
    for (n, v) in headers.lines() {
        if v.contains(['\r', '\n']) {
            return Err(format!("header {n} contains a line break"));
        }
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if matches!(method, "POST" | "PUT" | "PATCH" | "patch") {
        req.push_str("Content-Length: 0\r\n");
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    read_head(&mut stream)
}

fn read_head(stream: &mut impl Read) -> Result<Response, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err("the response head is larger than 64 KiB".into());
        }
        let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection without a complete response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    parse_head(&String::from_utf8_lossy(&buf[..end]))
}

/// Status line and header lines of a response head.
pub fn parse_head(head: &str) -> Result<Response, String> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP response: `{status_line}`"))?;
    let mut headers = HeaderList::new();
    for line in lines {
        if let Some((n, v)) = line.split_once(':') {
            headers.push(n.trim(), v.trim());
        }
    }
    Ok(Response { status, headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_keeps_duplicates_in_order() {
        let r = parse_head("HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nVary: Origin\r\naccess-control-allow-origin: http://a").unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(
            r.headers.get_all("access-control-allow-origin"),
            vec!["*", "http://a"]
        );
        assert!(parse_head("garbage").is_err());
    }

    #[test]
    fn only_http_is_probed() {
        let e = send(
            "GET",
            "https://example.test/",
            &HeaderList::new(),
            Duration::from_millis(10),
        )
        .unwrap_err();
        assert!(e.contains("only http://"), "{e}");
    }
}
