//! `mode = "express"` against the real npm `cors` middleware: generated option sets, each
//! served by Express under its own path and by the sandbox as its own API origin, asked the
//! same requests (simple, credentialed, disallowed origin, regex origin, preflights with and
//! without headers, `preflightContinue`, `optionsSuccessStatus`), and compared on the status
//! and every CORS line (`access-control-*` and `vary`; names lower-cased, duplicates kept).
//!
//! Order: lines of one name are compared in order; lines of different names are compared
//! sorted by name, because actix-web's `HeaderMap` (under the sandbox) does not keep the order
//! in which different headers were set, and Fetch reads each header by name.

use serde_json::{json, Map, Value};

use crate::util::node::NodeCors;
use crate::util::raw_http::{send, RawResponse};
use crate::util::sandbox::{write, TestSandbox};

const PAGE: &str = "http://karachi-dev.localhost:8080";
const ADMIN: &str = "http://lahore-admin.localhost:8080";

/// Each option's values (absent first); the option sets are drawn from these.
fn dimensions() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "origin",
            vec![
                Value::Null,
                json!("*"),
                json!(false),
                json!(true),
                json!(PAGE),
                json!(ADMIN),
                json!([PAGE, ADMIN]),
                json!([ADMIN]),
                json!(r"/^http:\/\/karachi-dev\.localhost(:\d+)?$/"),
                json!("/localhost/"),
                json!([
                    "http://x.localhost",
                    r"/^http:\/\/karachi-dev\.localhost:8080$/i"
                ]),
                json!(["null"]),
                json!([]),
            ],
        ),
        ("credentials", vec![Value::Null, json!(true), json!(false)]),
        (
            "methods",
            vec![
                Value::Null,
                json!("GET,PUT"),
                json!(["GET", "POST", "DELETE"]),
                json!(""),
                json!(["PUT"]),
            ],
        ),
        (
            "allowedHeaders",
            vec![
                Value::Null,
                json!(["Content-Type", "X-PKR-Auth"]),
                json!("X-PKR-Auth"),
                json!([]),
                json!(""),
            ],
        ),
        (
            "exposedHeaders",
            vec![
                Value::Null,
                json!(["X-Total-Count"]),
                json!("X-Total-Count,X-Request-Id"),
                json!([]),
            ],
        ),
        (
            "maxAge",
            vec![Value::Null, json!(0), json!(600), json!(86400)],
        ),
        (
            "preflightContinue",
            vec![Value::Null, json!(true), json!(false)],
        ),
        (
            "optionsSuccessStatus",
            vec![Value::Null, json!(200), json!(204)],
        ),
    ]
}

/// splitmix64: a fixed sequence, so a failure names a set that stays the same run to run.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The first sets walk every value of every option (so each appears at least once), the rest
/// are drawn pseudo-randomly.
fn option_sets(count: usize) -> Vec<Value> {
    let dims = dimensions();
    let walk = dims.iter().map(|(_, v)| v.len()).max().unwrap();
    (0..count)
        .map(|k| {
            let mut set = Map::new();
            for (d, (name, values)) in dims.iter().enumerate() {
                let i = if k < walk {
                    (k + d) % values.len()
                } else {
                    (mix((k * 31 + d) as u64) % values.len() as u64) as usize
                };
                if !values[i].is_null() {
                    set.insert(name.to_string(), values[i].clone());
                }
            }
            Value::Object(set)
        })
        .collect()
}

/// One option set as an express-mode cors.toml (regular expressions in literal strings).
fn toml_of(set: &Value) -> String {
    fn item(v: &Value) -> String {
        match v {
            Value::String(s) if s.contains('\\') => format!("'{s}'"),
            Value::String(s) => format!("\"{s}\""),
            Value::Array(a) => format!("[{}]", a.iter().map(item).collect::<Vec<_>>().join(", ")),
            other => other.to_string(),
        }
    }
    let mut out = String::from("mode = \"express\"\n");
    for (k, v) in set.as_object().unwrap() {
        out.push_str(&format!("{k} = {}\n", item(v)));
    }
    out
}

/// The requests every set is asked: (label, request head lines after the request line).
fn requests() -> Vec<(&'static str, String, Vec<String>)> {
    let o = |v: &str| format!("Origin: {v}");
    let pre = |origin: Option<&str>, method: &str, headers: Option<&str>| {
        let mut h = vec!["Access-Control-Request-Method: ".to_string() + method];
        if let Some(origin) = origin {
            h.insert(0, format!("Origin: {origin}"));
        }
        if let Some(x) = headers {
            h.push(format!("Access-Control-Request-Headers: {x}"));
        }
        h
    };
    vec![
        ("GET without Origin", "GET".into(), vec![]),
        ("GET from the page", "GET".into(), vec![o(PAGE)]),
        (
            "GET from a disallowed origin",
            "GET".into(),
            vec![o("http://evil.example")],
        ),
        (
            "credentialed GET",
            "GET".into(),
            vec![o(PAGE), "Cookie: session=s3cr3t".into()],
        ),
        ("GET from null", "GET".into(), vec![o("null")]),
        (
            "POST from the page, other case (regex i)",
            "POST".into(),
            vec![
                o("http://KARACHI-dev.localhost:8080"),
                "Content-Type: text/plain".into(),
                "Content-Length: 2".into(),
            ],
        ),
        (
            "preflight PUT with headers",
            "OPTIONS".into(),
            pre(Some(PAGE), "PUT", Some("content-type,x-pkr-auth")),
        ),
        (
            "preflight from a disallowed origin",
            "OPTIONS".into(),
            pre(Some("http://evil.example"), "DELETE", None),
        ),
        (
            "preflight without headers",
            "OPTIONS".into(),
            pre(Some(PAGE), "GET", None),
        ),
        ("OPTIONS without Origin", "OPTIONS".into(), vec![]),
        (
            "preflight from null",
            "OPTIONS".into(),
            pre(Some("null"), "PUT", Some("x-pkr-auth")),
        ),
    ]
}

fn ask(addr: &str, method: &str, path: &str, lines: &[String]) -> RawResponse {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for l in lines {
        req.push_str(l);
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    if method == "POST" {
        req.push_str("hi");
    }
    send(addr, req.as_bytes())
}

/// Status and CORS lines, sorted by name (stable: one name's lines keep their order).
fn cors_view(r: &RawResponse) -> (u16, Vec<String>) {
    let mut lines: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(n, _)| n.starts_with("access-control-") || n == "vary")
        .cloned()
        .collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    (
        r.status,
        lines
            .into_iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect(),
    )
}

/// A sandbox with one API origin per option set (`a{i}` serving `c{i}.toml`).
fn sandbox_for(sets: &[Value]) -> (tempfile::TempDir, TestSandbox) {
    let d = tempfile::tempdir().unwrap();
    let mut config = String::new();
    for (i, set) in sets.iter().enumerate() {
        config.push_str(&format!(
            "[[origin]]\nname = \"a{i}\"\nkind = \"api\"\nport = 0\nhostname = \"a{i}.localhost\"\nroutes = \"api.toml\"\npolicy = \"c{i}.toml\"\n\n"
        ));
        write(d.path(), &format!("c{i}.toml"), &toml_of(set));
    }
    write(d.path(), "sandbox.toml", &config);
    write(
        d.path(),
        "api.toml",
        "[[route]]\nmethod = \"GET\"\npath = \"/api/data\"\njson = { ok = true }\n\n\
         [[route]]\nmethod = \"POST\"\npath = \"/api/data\"\nstatus = 201\njson = { ok = true }\n\n\
         [[route]]\nmethod = \"OPTIONS\"\npath = \"/api/data\"\nstatus = 200\nbody = \"continued\"\n",
    );
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    (d, sb)
}

#[test]
fn express_mode_matches_the_npm_cors_middleware_on_every_generated_case() {
    let sets = option_sets(64);
    let node = NodeCors::start("express differential", &sets);
    let (_d, sb) = sandbox_for(&sets);
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (i, set) in sets.iter().enumerate() {
        let api = sb.urls[&format!("a{i}")]
            .trim_start_matches("http://")
            .to_string();
        for (label, method, lines) in requests() {
            let want = cors_view(&ask(
                &node.addr(),
                &method,
                &format!("/s{i}/api/data"),
                &lines,
            ));
            let got = cors_view(&ask(&api, &method, "/api/data", &lines));
            compared += 1;
            if want != got {
                mismatches.push(format!(
                    "set {i} {set}, {label}:\n  npm cors: {want:?}\n  sandbox:  {got:?}"
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {compared} cases differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert_eq!(compared, 64 * requests().len());
    // The comparison must be able to fail: the middleware's own answers differ across sets.
    let distinct: std::collections::HashSet<String> = sets
        .iter()
        .enumerate()
        .map(|(i, _)| {
            format!(
                "{:?}",
                cors_view(&ask(
                    &node.addr(),
                    "OPTIONS",
                    &format!("/s{i}/api/data"),
                    &requests()[6].2
                ))
            )
        })
        .collect();
    assert!(
        distinct.len() > 20,
        "only {} distinct preflight answers",
        distinct.len()
    );
}

#[test]
fn express_policies_hot_reload_and_bad_saves_are_located_and_keep_the_last_good_one() {
    use crate::util::sandbox::{acao_for, project, save, SaveStyle};
    let d = project(&format!("mode = \"express\"\norigin = \"{PAGE}\"\n"));
    let sb = TestSandbox::start(d.path(), &["--config", "sandbox.toml"]);
    let api = sb.url("api").to_string();
    assert_eq!(
        acao_for(&api, ADMIN).as_deref(),
        Some(PAGE),
        "a fixed origin is sent to anyone"
    );
    let bad = [
        (
            "mode = \"express\"\norign = true\n",
            "did you mean `origin`",
        ),
        (
            "mode = \"express\"\norigin = '/^http:\\/\\/a/g'\n",
            "flag `g`",
        ),
        ("mode = \"express\"\nmaxAge = \"600\"\n", "invalid type"),
        (
            "mode = \"express\"\nmethods = [\"GET\", \"PU T\"]\n",
            "not a method",
        ),
    ];
    for (text, want) in bad {
        let before = sb.event_count();
        save(&d.path().join("cors.toml"), text, SaveStyle::Rename);
        let e = sb.wait_event_after(before, |e| e["event"] == "reload_failed");
        let err = e["error"].as_str().unwrap();
        assert!(err.contains(want), "{err}");
        assert!(err.contains("cors.toml:2:"), "located: {err}");
        assert_eq!(
            acao_for(&api, ADMIN).as_deref(),
            Some(PAGE),
            "last good kept"
        );
    }
    let before = sb.event_count();
    save(
        &d.path().join("cors.toml"),
        &format!("mode = \"express\"\norigin = [\"{ADMIN}\"]\ncredentials = true\n"),
        SaveStyle::InPlace,
    );
    let e = sb.wait_event_after(before, |e| e["event"] == "reloaded");
    assert!(e["changed"].to_string().contains("origin"), "{e}");
    assert_eq!(acao_for(&api, ADMIN).as_deref(), Some(ADMIN));
    assert_eq!(
        acao_for(&api, PAGE),
        None,
        "a list reflects only its own origins"
    );
}

#[test]
fn fixtures_show_the_tutorials_bug_in_its_own_express_code() {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = crate::util::sandbox::run_cli(
        &repo,
        &["fixtures", "show", "tutorial-wildcard-with-credentials"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("in the tutorial's own code (cors.express.toml, express mode):"),
        "{out}"
    );
    assert!(
        out.contains("app.use(cors({ origin: '*', credentials: true }))"),
        "{out}"
    );
    assert!(out.contains("WildcardOriginNotAllowed"), "{out}");
    assert!(
        out.contains(
            "app.use(cors({ origin: 'http://karachi-dev.localhost:8080', credentials: true }))"
        ),
        "{out}"
    );
    let (_, json, _) = crate::util::sandbox::run_cli(&repo, &["fixtures", "verify", "--json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let with_express: Vec<&Value> = v["fixtures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("express").is_some())
        .collect();
    assert_eq!(
        with_express.len(),
        3,
        "three tutorial fixtures have Express code"
    );
    for f in with_express {
        assert_eq!(f["express"]["mode"], "express", "{f}");
        assert!(
            f["express"]["requests"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["outcome"] == "blocked"),
            "{f}"
        );
        assert!(
            f["express_fixed"]["requests"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["outcome"] == "allowed"),
            "{f}"
        );
    }
}
