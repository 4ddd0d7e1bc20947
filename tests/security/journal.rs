//! The request journal keeps no credentials, and its machine endpoints answer only clients
//! that present the run's key (which only the terminal shows).
//!
//! Attack inputs: `SECRETS` (4 credential headers, each one input) in
//! `the_journal_keeps_no_credentials`; `KEYLESS` (8 rows) × 3 endpoints in
//! `the_journal_endpoints_need_the_run_key`, plus 1 keyless event stream.

use std::io::{BufRead, BufReader, Write};

use serde_json::Value;

use crate::util::raw_http::{addr, connect, get};
use crate::util::sandbox::*;

/// Credentials a page or a client could send (or an upstream could set); none may be kept.
const SECRETS: [(&str, &str, &str); 4] = [
    (
        "Cookie",
        "sid=COOKIE-SECRET-5b1e; theme=dark",
        "COOKIE-SECRET-5b1e",
    ),
    (
        "Authorization",
        "Bearer AUTH-SECRET-77aa",
        "AUTH-SECRET-77aa",
    ),
    (
        "Proxy-Authorization",
        "Basic PROXY-SECRET-c3d9",
        "PROXY-SECRET-c3d9",
    ),
    // No credential sent: the route below answers every request with this Set-Cookie.
    ("X-Probe", "response-set-cookie", "SETCOOKIE-SECRET-0f42"),
];

const ROUTES: &str = "[[route]]\nmethod = \"GET\"\npath = \"/api/student\"\n\
headers = { \"Set-Cookie\" = \"session=SETCOOKIE-SECRET-0f42; Path=/; HttpOnly\" }\n\
json = { name = \"Ahmad\" }\n";

/// Opens the keyed event stream and waits for its greeting, so no later event is missed.
fn keyed_stream(sb: &TestSandbox) -> BufReader<std::net::TcpStream> {
    let a = addr(sb.url("frontend")).to_string();
    let mut s = connect(&a);
    let target = format!("/__sandbox/events?sandbox-key={}", sb.key("frontend"));
    write!(s, "GET {target} HTTP/1.1\r\nHost: {a}\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    while !line.contains("connected") {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "stream closed early");
    }
    r
}

/// The next `request` event's entry on a stream.
fn next_request(r: &mut BufReader<std::net::TcpStream>) -> Value {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "stream closed");
        if let Some(data) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(data.trim()).unwrap();
            if v["type"] == "request" {
                return v["entry"].clone();
            }
        }
    }
}

fn header<'a>(entry: &'a Value, list: &str, name: &str) -> Option<&'a str> {
    entry[list]
        .as_array()?
        .iter()
        .find(|h| h[0] == name)
        .and_then(|h| h[1].as_str())
}

/// `Cookie`, `Authorization`, `Proxy-Authorization` and `Set-Cookie` values reach neither the
/// ring (`/__sandbox/requests`), nor `request` events, nor the log; the names, cookie names
/// and a length stay, and the verdict still sees the request as credentialed.
#[test]
fn the_journal_keeps_no_credentials() {
    let d = project("allowed_origins = \"*\"\n");
    write(d.path(), "api.toml", ROUTES);
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let mut stream = keyed_stream(&sb);
    let api = addr(sb.url("api")).to_string();
    let mut entries = Vec::new();
    for (name, value, _) in SECRETS {
        let line = format!("{name}: {value}");
        let res = get(
            &api,
            "/api/student",
            &api,
            &["Origin: http://evil.example", &line],
        );
        assert_eq!(res.status, 200, "{name}");
        entries.push(next_request(&mut stream));
    }
    let listed: Value = client()
        .get(sb.keyed("frontend", "/__sandbox/requests"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), SECRETS.len(), "{listed}");
    sb.wait_event(|e| e["event"] == "request" && e["origin_name"] == "api");
    let shown = [
        ("the event stream", serde_json::to_string(&entries).unwrap()),
        ("/__sandbox/requests", listed.to_string()),
        ("the log", sb.output()),
    ];
    for (where_, text) in &shown {
        for (name, _, secret) in SECRETS {
            assert!(
                !text.contains(secret),
                "{where_} keeps the {name} secret:\n{text}"
            );
        }
    }
    let cookie = header(&entries[0], "request_headers", "cookie").unwrap();
    assert!(
        cookie.starts_with("sid=<redacted: 18 bytes, sha256 "),
        "{cookie}"
    );
    assert!(cookie.contains("theme=<redacted: 4 bytes"), "{cookie}");
    let auth = header(&entries[1], "request_headers", "authorization").unwrap();
    assert!(auth.starts_with("Bearer <redacted: 16 bytes"), "{auth}");
    let set = header(&entries[3], "response_headers", "set-cookie").unwrap();
    assert!(set.starts_with("session=<redacted: 21 bytes"), "{set}");
    assert!(set.ends_with("; Path=/; HttpOnly"), "{set}");
    // Judged from the real request: with a cookie it was credentialed, which `*` refuses.
    assert_eq!(
        entries[0]["verdict"]["outcome"], "blocked",
        "{}",
        entries[0]
    );
    assert_eq!(
        entries[1]["verdict"]["outcome"], "allowed",
        "{}",
        entries[1]
    );
}

/// Requests that look same-origin but lack the key: a plain local GET, own-origin headers, a
/// stale or partial key, the key under another name.
#[test]
fn the_journal_endpoints_need_the_run_key() {
    let d = project("allowed_origins = \"*\"\n");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let a = addr(sb.url("frontend")).to_string();
    let key = sb.key("frontend").to_string();
    let own = format!("Origin: http://{a}");
    let keyless: Vec<(String, Vec<String>)> = vec![
        (String::new(), vec![]),
        (
            String::new(),
            vec![own.clone(), "Sec-Fetch-Site: same-origin".into()],
        ),
        (String::new(), vec!["Sec-Fetch-Site: none".into()]),
        (
            "?sandbox-key=00000000000000000000000000000000".into(),
            vec![],
        ),
        (format!("?sandbox-key={}", &key[..31]), vec![]),
        (format!("?key={key}"), vec![]),
        (String::new(), vec![format!("Cookie: session={key}")]),
        (String::new(), vec![format!("X-Sandbox-Key: {key}")]),
    ];
    for endpoint in [
        "/__sandbox/requests",
        "/__sandbox/in-force",
        "/__sandbox/status",
    ] {
        for (query, headers) in &keyless {
            let h: Vec<&str> = headers.iter().map(String::as_str).collect();
            let res = get(&a, &format!("{endpoint}{query}"), &a, &h);
            assert_eq!(res.status, 403, "{endpoint}{query} {headers:?}");
            assert!(
                res.body_text().contains("sandbox up"),
                "{}",
                res.body_text()
            );
        }
        let res = get(&a, &format!("{endpoint}?sandbox-key={key}"), &a, &[]);
        assert_eq!(res.status, 200, "{endpoint} with the key");
    }
    // Without the key the event stream carries reload news, never requests.
    let mut keyless_stream = {
        let mut s = connect(&a);
        write!(s, "GET /__sandbox/events HTTP/1.1\r\nHost: {a}\r\n\r\n").unwrap();
        BufReader::new(s)
    };
    let mut line = String::new();
    while !line.contains("connected") {
        line.clear();
        assert!(
            keyless_stream.read_line(&mut line).unwrap() > 0,
            "stream closed early"
        );
    }
    let mut keyed = keyed_stream(&sb);
    let api = addr(sb.url("api")).to_string();
    get(&api, "/api/student", &api, &["Origin: http://a.localhost"]);
    next_request(&mut keyed);
    save(&d.path().join("web/site.css"), "h1{}", SaveStyle::InPlace);
    loop {
        line.clear();
        assert!(
            keyless_stream.read_line(&mut line).unwrap() > 0,
            "stream closed"
        );
        assert!(
            !line.contains("\"request\""),
            "a keyless stream got a request: {line}"
        );
        if line.contains("static-changed") {
            break;
        }
    }
}

/// A browser opening the printed URL trades the key for an HttpOnly, SameSite=Strict cookie
/// of `/__sandbox` and lands on the page without it; the cookie then opens the journal.
#[test]
fn the_printed_url_trades_the_key_for_a_cookie() {
    let d = project("allowed_origins = \"*\"\n");
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let a = addr(sb.url("frontend")).to_string();
    let key = sb.key("frontend");
    let res = get(&a, &format!("/__sandbox/?x=1&sandbox-key={key}"), &a, &[]);
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), Some("/__sandbox/?x=1"));
    let cookie = res.header("set-cookie").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/__sandbox", key] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap();
    let res = get(&a, "/__sandbox/requests", &a, &[&format!("Cookie: {pair}")]);
    assert_eq!(res.status, 200);
    // A wrong key says so rather than leaving an empty inspector.
    let res = get(&a, "/__sandbox/?sandbox-key=nope", &a, &[]);
    assert_eq!(res.status, 403);
    assert!(res.header("set-cookie").is_none());
}
