//! Pins what loading a routes file does today, part by part: each refusal's text and place,
//! and what each accepted key turns into.

use std::path::Path;

use crate::routes::template::Expr;
use crate::routes::{DynamicBody, Fault, Faults, Pick, Routes};
use crate::source_file::{LoadError, Source};

fn load_in(dir: &Path, text: &str) -> Result<Routes, LoadError> {
    let src = Source::from_bytes(&dir.join("api.toml"), text.as_bytes().to_vec())?;
    super::load(&src, "api.toml", dir, &[])
}

/// The error's one-line form with the temporary folder taken off, so it reads `api.toml:3:6: …`.
fn refusal(dir: &Path, text: &str) -> String {
    let e = match load_in(dir, text) {
        Ok(_) => panic!("{text:?} was accepted"),
        Err(e) => e,
    };
    let prefix = format!("{}/", dir.canonicalize().unwrap().display());
    let plain = format!("{}/", dir.display());
    let line = e.one_line();
    line.strip_prefix(&prefix)
        .or_else(|| line.strip_prefix(&plain))
        .unwrap_or(&line)
        .to_string()
}

fn folder() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("seed.json"), br#"[{"id": 1}, {"id": "b"}]"#).unwrap();
    std::fs::write(d.path().join("obj.json"), b"{}").unwrap();
    std::fs::write(d.path().join("bad.txt"), b"x {{nope}}").unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    d
}

#[test]
fn refusals_say_what_and_where() {
    let d = folder();
    let cases: &[(&str, &str)] = &[
        (
            "cors = 'upstream'\n",
            "api.toml:1:8: `cors` only applies to an `upstream` (hint: add `upstream = \"http://127.0.0.1:5000\"`)",
        ),
        (
            "upstream = 'http://127.0.0.1:5000'\ncors = 'both'\n",
            "api.toml:2:8: `cors = \"both\"`: use \"sandbox\" or \"upstream\"",
        ),
        (
            "[[route]]\npath = '/a'\ncors = 'upstream'\n",
            "api.toml:3:8: `cors = \"upstream\"`: use \"sandbox\" or \"route\" (hint: \"route\" sends only the CORS headers this route lists, past the policy)",
        ),
        (
            "upstream = 'nope'\n",
            "api.toml:1:12: not a URL: relative URL without a base (hint: e.g. upstream = \"http://127.0.0.1:5000\")",
        ),
        (
            "upstream = 'https://127.0.0.1:5000'\n",
            "api.toml:1:12: the upstream is plain http:// (it is your API on this machine) (hint: e.g. upstream = \"http://127.0.0.1:5000\")",
        ),
        (
            "upstream = 'http://example.com'\n",
            "api.toml:1:12: the upstream must be on this machine (loopback) (hint: e.g. upstream = \"http://127.0.0.1:5000\")",
        ),
        (
            "upstream = 'http://127.0.0.1:5000/api'\n",
            "api.toml:1:12: the upstream is an origin only: no path, query or user (hint: e.g. upstream = \"http://127.0.0.1:5000\")",
        ),
        (
            "[[route]]\npath = '/a'\nproxy = true\n",
            "api.toml:3:9: `proxy = true` needs an `upstream` at the top of the file (hint: add `upstream = \"http://127.0.0.1:5000\"`)",
        ),
        (
            "[[route]]\npath = '/a'\nmethod = 'GE T'\n",
            "api.toml:3:10: `GE T` is not a valid method (hint: use e.g. \"GET\", \"PUT\" or \"*\" for any)",
        ),
        (
            "[[route]]\npath = '/a'\npick = 'last'\n",
            "api.toml:3:8: `pick = \"last\"`: use \"first\", \"sequence\" or \"random\"",
        ),
        (
            "[defaults]\nfault = 'drop'\n",
            "api.toml:2:9: `fault = \"drop\"`: use \"close\", \"reset\" or \"none\"",
        ),
        (
            "[[route]]\npath = '/a'\nerror_rate = 2.0\n",
            "api.toml:3:14: error_rate is a probability from 0 to 1, e.g. 0.1",
        ),
        (
            "[defaults]\nerror_status = 42\n",
            "api.toml:2:16: status must be between 200 and 999: a 1xx is an interim answer, never a final one",
        ),
        (
            "[[route]]\npath = '/a'\nslow_body_ms = 70000\n",
            "api.toml:3:16: slow_body_ms is at most 60000",
        ),
        (
            "[[route]]\npath = '/a'\ndelay_ms = [5, 1]\n",
            "api.toml:3:12: delay_ms is at most 60000: a number, or [min, max] for a random delay",
        ),
        (
            "[[route]]\npath = '/a'\ndelay_ms = -1\n",
            "api.toml:3:12: delay_ms is at most 60000: a number, or [min, max] for a random delay",
        ),
        (
            "[[route]]\npath = '/a'\ndelay_ms = [1, 2, 3]\n",
            "api.toml:3:12: delay_ms is at most 60000: a number, or [min, max] for a random delay",
        ),
        (
            "[[route]]\npath = '/a'\nstatus = 1000\n",
            "api.toml:3:10: status must be between 200 and 999: a 1xx is an interim answer, never a final one",
        ),
        (
            "[[route]]\npath = '/a'\nstatus = 101\n",
            "api.toml:3:10: status must be between 200 and 999: a 1xx is an interim answer, never a final one",
        ),
        (
            "[[route]]\npath = '/a'\nerror_status = 100\n",
            "api.toml:3:16: status must be between 200 and 999: a 1xx is an interim answer, never a final one",
        ),
        (
            "[[route]]\npath = '/a'\nheaders = { X-A = true }\n",
            "api.toml:3:11: header `X-A` must be a string, or an array of strings for several lines",
        ),
        (
            "[[route]]\npath = '/a'\nheaders = { Set-Cookie = ['a=1', 2] }\n",
            "api.toml:3:11: header `Set-Cookie` must be a string, or an array of strings for several lines",
        ),
        (
            "[[route]]\npath = '/a'\ncontent_type = \"a\\nb\"\n",
            "api.toml:3:16: the value of `content-type` contains CR, LF or NUL (hint: header values are a single line)",
        ),
        (
            "[[route]]\npath = '/a'\nheaders = { Transfer-Encoding = 'chunked' }\n",
            "api.toml:3:11: `Transfer-Encoding` is set by the server itself (hint: remove it: the server frames the body)",
        ),
        (
            "[[route]]\npath = '/a'\nbody = 'x {{nope}}'\n",
            "api.toml:3:11: template: unknown placeholder `{{nope}}`; known: params.NAME, query.NAME, headers.NAME, cookies.NAME, body.PATH, uuid, now, seq, random_int MIN MAX (hint: placeholders are {{params.NAME}}, {{query.NAME}}, {{headers.NAME}}, {{cookies.NAME}}, {{body.PATH}}, {{uuid}}, {{now}}, {{seq}}, {{random_int MIN MAX}})",
        ),
        (
            "[[route]]\npath = '/a'\n[[route.response]]\njson = {}\nfile = 'seed.json'\n",
            "api.toml:3:1: a route has at most one of `json`, `body` and `file`",
        ),
        (
            "[[route]]\npath = '/a'\n[[route.response]]\nwhen = { foo = '1' }\n",
            "api.toml:4:8: `when` key `foo`: use params.NAME, query.NAME, headers.NAME, cookies.NAME or body.PATH (hint: e.g. when = { query.page = \"2\", headers.x-user = \"sana\", body.kind = \"a\" })",
        ),
        (
            "[[route]]\npath = '/a'\n[[route.response]]\nwhen = { query.a = [1] }\n",
            "api.toml:4:8: `when` key `query.a`: compare with a string, number or boolean (hint: e.g. when = { query.page = \"2\", headers.x-user = \"sana\", body.kind = \"a\" })",
        ),
        (
            "[[route]]\npath = '/a'\nfile = 'missing.json'\n",
            "api.toml:3:8: `missing.json`: No such file or directory (os error 2) (hint: body files live in the routes file's folder or below it)",
        ),
        (
            "[[route]]\npath = '/a'\nfile = 'sub'\n",
            "api.toml:3:8: `sub` is not a regular file (hint: body files live in the routes file's folder or below it)",
        ),
        (
            "[[resource]]\nname = '__x'\nseed = 'seed.json'\n",
            "api.toml:2:8: `__x` is not a resource name: letters, digits, `-` and `_` (hint: it is served at /api/NAME)",
        ),
        (
            "[[resource]]\nname = 'a'\nseed = 'obj.json'\n",
            "api.toml:3:8: `obj.json`: the seed must be a JSON array of objects (hint: a seed is a JSON array of objects, each with a unique `id`)",
        ),
        (
            "[[resource]]\nname = 'a'\nseed = 'seed.json'\n[[resource]]\nname = 'a'\nseed = 'seed.json'\n",
            "api.toml:5:8: resource `a` is declared twice",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(text, want)| {
            let got = refusal(d.path(), text);
            (got != *want).then(|| format!("{text:?}\n  got:  {got}\n  want: {want}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_body_file_template_error_points_into_the_body_file() {
    let d = folder();
    let got = refusal(d.path(), "[[route]]\npath = '/a'\nfile = 'bad.txt'\n");
    assert!(
        got.starts_with("bad.txt:1:3: template: unknown placeholder `{{nope}}`;"),
        "{got}"
    );
}

#[test]
fn defaults_are_merged_under_each_route() {
    let d = folder();
    let r = load_in(
        d.path(),
        "[defaults]\ndelay_ms = [1, 5]\nerror_rate = 0.5\nfault = 'reset'\n\
         [[route]]\npath = '/a'\nerror_status = 503\ndelay_ms = 7\n\
         [[route]]\npath = '/b'\nfault = 'none'\nslow_body_ms = 10\n\
         [[route]]\npath = '/c'\nfault = 'close'\n",
    )
    .unwrap();
    let base = Faults {
        delay_ms: (1, 5),
        error_rate: 0.5,
        error_status: 500,
        fault: Some(Fault::Reset),
        slow_body_ms: 0,
    };
    assert_eq!(r.defaults, base);
    let want = [
        Faults {
            delay_ms: (7, 7),
            error_status: 503,
            ..base.clone()
        },
        Faults {
            fault: None,
            slow_body_ms: 10,
            ..base.clone()
        },
        Faults {
            fault: Some(Fault::Close),
            ..base.clone()
        },
    ];
    for (route, want) in r.routes.iter().zip(&want) {
        assert_eq!(&route.faults, want, "{}", route.path.text);
    }
    let none = load_in(d.path(), "[[route]]\npath = '/a'\n").unwrap();
    assert_eq!(
        none.defaults,
        Faults {
            error_status: 500,
            ..Faults::default()
        }
    );
}

#[test]
fn methods_and_picks() {
    let d = folder();
    let cases: &[(&str, &str, Pick)] = &[
        ("", "GET", Pick::First),
        ("method = '*'\n", "*", Pick::First),
        ("method = 'put'\npick = 'sequence'\n", "PUT", Pick::Sequence),
        ("method = 'patch'\npick = 'random'\n", "patch", Pick::Random),
        ("method = 'Delete'\npick = 'first'\n", "DELETE", Pick::First),
    ];
    for (keys, method, pick) in cases {
        let r = load_in(d.path(), &format!("[[route]]\npath = '/a'\n{keys}")).unwrap();
        assert_eq!(r.routes[0].method, *method, "{keys:?}");
        assert_eq!(r.routes[0].pick, *pick, "{keys:?}");
    }
}

#[test]
fn upstreams_are_normalised() {
    let d = folder();
    let cases: &[(&str, &str, &str, u16, bool)] = &[
        (
            "upstream = 'http://127.0.0.1:5000/'\n",
            "http://127.0.0.1:5000",
            "127.0.0.1",
            5000,
            false,
        ),
        (
            "upstream = 'http://localhost:3000'\ncors = 'sandbox'\n",
            "http://localhost:3000",
            "127.0.0.1",
            3000,
            false,
        ),
        (
            "upstream = 'http://[::1]:8000'\ncors = 'upstream'\n",
            "http://[::1]:8000",
            "[::1]",
            8000,
            true,
        ),
        (
            "upstream = 'http://api.localhost'\n",
            "http://api.localhost",
            "127.0.0.1",
            80,
            false,
        ),
    ];
    for (text, url, host, port, pass_cors) in cases {
        let r = load_in(d.path(), text).unwrap();
        let u = r.upstream.expect(text);
        assert_eq!(
            (u.url.as_str(), u.host.as_str(), u.port, u.pass_cors),
            (*url, *host, *port, *pass_cors),
            "{text:?}"
        );
    }
    let proxied = load_in(
        d.path(),
        "upstream = 'http://127.0.0.1:5000'\n[[route]]\npath = '/a'\nproxy = true\n",
    )
    .unwrap();
    assert!(proxied.routes[0].proxy);
}

#[test]
fn a_route_may_answer_cors_itself() {
    let d = folder();
    let r = load_in(
        d.path(),
        "[[route]]\npath = '/own'\ncors = 'route'\n[[route]]\npath = '/policy'\ncors = 'sandbox'\n[[route]]\npath = '/default'\n",
    )
    .unwrap();
    let own: Vec<bool> = r.routes.iter().map(|x| x.own_cors).collect();
    assert_eq!(own, [true, false, false]);
    assert!(r.answers_cors("GET", "/own"));
    assert!(
        r.answers_cors("HEAD", "/own"),
        "HEAD is answered by the GET route"
    );
    assert!(
        !r.answers_cors("OPTIONS", "/own"),
        "its preflight is the policy's"
    );
    assert!(!r.answers_cors("GET", "/policy"));
    assert!(!r.answers_cors("GET", "/nowhere"));
}

#[derive(Debug, PartialEq)]
enum Dynamic {
    No,
    Text,
    Json,
}

#[test]
fn bodies_and_their_content_types() {
    let d = folder();
    std::fs::write(d.path().join("t.txt"), b"id {{uuid}}").unwrap();
    std::fs::write(d.path().join("d.json"), br#"{"a": "{{uuid}}"}"#).unwrap();
    std::fs::write(d.path().join("nj.json"), br#"{"a": {{uuid}}}"#).unwrap();
    std::fs::write(d.path().join("b.bin"), b"\xff{{uuid}}").unwrap();
    let cases: &[(&str, &str, &[u8], Dynamic)] = &[
        (
            "json = { a = 1 }",
            "application/json",
            br#"{"a":1}"#,
            Dynamic::No,
        ),
        (
            "json = { a = '{{params.id}}' }",
            "application/json",
            br#"{"a":"{{params.id}}"}"#,
            Dynamic::Json,
        ),
        (
            "json = ['{{seq}}', 2]",
            "application/json",
            br#"["{{seq}}",2]"#,
            Dynamic::Json,
        ),
        (
            "body = 'hi'",
            "text/plain; charset=utf-8",
            b"hi",
            Dynamic::No,
        ),
        (
            "body = 'n={{seq}}'",
            "text/plain; charset=utf-8",
            b"n={{seq}}",
            Dynamic::Text,
        ),
        (
            "status = 204",
            "text/plain; charset=utf-8",
            b"",
            Dynamic::No,
        ),
        (
            "body = 'a,b'\ncontent_type = 'text/csv'",
            "text/csv",
            b"a,b",
            Dynamic::No,
        ),
        (
            "file = 't.txt'",
            "text/plain",
            b"id {{uuid}}",
            Dynamic::Text,
        ),
        (
            "file = 'd.json'",
            "application/json",
            br#"{"a": "{{uuid}}"}"#,
            Dynamic::Json,
        ),
        (
            "file = 'nj.json'",
            "application/json",
            br#"{"a": {{uuid}}}"#,
            Dynamic::Text,
        ),
        (
            "file = 'b.bin'",
            "application/octet-stream",
            b"\xff{{uuid}}",
            Dynamic::No,
        ),
        (
            "file = 'seed.json'",
            "application/json",
            br#"[{"id": 1}, {"id": "b"}]"#,
            Dynamic::No,
        ),
    ];
    for (keys, content_type, bytes, dynamic) in cases {
        let r = load_in(
            d.path(),
            &format!("[[route]]\npath = '/a/{{id}}'\n{keys}\n"),
        )
        .unwrap();
        let resp = &r.routes[0].responses[0];
        assert_eq!(resp.body.content_type, *content_type, "{keys:?}");
        assert_eq!(&resp.body.bytes[..], *bytes, "{keys:?}");
        let got = match &resp.dynamic {
            None => Dynamic::No,
            Some(DynamicBody::Text(_)) => Dynamic::Text,
            Some(DynamicBody::Json(_)) => Dynamic::Json,
        };
        assert_eq!(got, *dynamic, "{keys:?}");
    }
}

#[test]
fn responses_come_in_file_order_with_the_route_last() {
    let d = folder();
    let text = "[[route]]\npath = '/a/{id}'\nstatus = 404\n\
                [[route.response]]\nwhen = { query.page = '2', headers.X-User = 'sana' }\nstatus = 201\n\
                [[route.response]]\nwhen = { body.kind.sub = 3, params.id = true }\nbody = 'b'\n\
                [[route]]\npath = '/only-responses'\n[[route.response]]\nstatus = 202\n\
                [[route]]\npath = '/bare'\n";
    let r = load_in(d.path(), text).unwrap();
    let statuses: Vec<Vec<u16>> = r
        .routes
        .iter()
        .map(|route| route.responses.iter().map(|x| x.status).collect())
        .collect();
    assert_eq!(statuses, vec![vec![201, 200, 404], vec![202], vec![200]]);
    let when = |i: usize| r.routes[0].responses[i].when.clone();
    assert_eq!(
        when(0),
        vec![
            (Expr::Header("x-user".into()), serde_json::json!("sana")),
            (Expr::Query("page".into()), serde_json::json!("2")),
        ]
    );
    assert_eq!(
        when(1),
        vec![
            (
                Expr::Body(vec!["kind".into(), "sub".into()]),
                serde_json::json!(3)
            ),
            (Expr::Param("id".into()), serde_json::json!(true)),
        ]
    );
    assert!(when(2).is_empty());
}

#[test]
fn headers_keep_their_order_and_may_be_templates() {
    let d = folder();
    let r = load_in(
        d.path(),
        "[[route]]\npath = '/a'\nheaders = { X-Int = 5, X-Seq = 'n{{seq}}', A-Plain = 'p' }\n",
    )
    .unwrap();
    let got: Vec<(&str, bool)> = r.routes[0].responses[0]
        .headers
        .iter()
        .map(|(n, t)| (n.as_str(), t.is_dynamic()))
        .collect();
    assert_eq!(
        got,
        vec![("A-Plain", false), ("X-Int", false), ("X-Seq", true)]
    );
}

#[test]
fn body_and_seed_files_are_recorded_for_the_watcher() {
    let d = folder();
    std::fs::write(d.path().join("sub/t.txt"), b"t").unwrap();
    let r = load_in(
        d.path(),
        "[[route]]\npath = '/a'\nfile = 'sub/t.txt'\n\
         [[resource]]\nname = 'students'\nseed = 'seed.json'\n",
    )
    .unwrap();
    let base = d.path().canonicalize().unwrap();
    assert_eq!(
        r.body_files,
        vec![base.join("sub/t.txt"), base.join("seed.json")]
    );
    let spec = &r.resources[0];
    assert_eq!(spec.name, "students");
    assert_eq!(spec.seed_path, base.join("seed.json"));
    assert_eq!(spec.seed.len(), 2);
    assert_eq!(
        spec.seed_hash,
        crate::routes::resources::digest(br#"[{"id": 1}, {"id": "b"}]"#)
    );
    assert_eq!(r.file_name, "api.toml");
}

#[test]
fn an_upstream_that_one_of_the_sandboxs_own_listeners_would_accept_is_refused() {
    let d = folder();
    let src = |text: &str| Source::from_bytes(&d.path().join("api.toml"), text.into()).unwrap();
    let on = |text: &str, listener: &str| {
        let l: std::net::SocketAddr = listener.parse().unwrap();
        super::load(&src(text), "api.toml", d.path(), &[l]).map(|_| ())
    };
    for (up, listener) in [
        ("http://127.0.0.1:4000", "127.0.0.1:4000"),
        ("http://localhost:4000", "127.0.0.1:4000"),
        ("http://[::1]:4000", "[::1]:4000"),
        ("http://127.0.0.2:4000", "0.0.0.0:4000"),
    ] {
        let e = on(&format!("upstream = '{up}'\n"), listener).unwrap_err();
        assert!(
            e.one_line()
                .contains("api.toml:1:12: this upstream is this sandbox's own listener"),
            "{up}: {}",
            e.one_line()
        );
    }
    for (up, listener) in [
        ("http://127.0.0.1:4001", "127.0.0.1:4000"),
        ("http://127.0.0.2:4000", "127.0.0.1:4000"),
    ] {
        assert!(
            on(&format!("upstream = '{up}'\n"), listener).is_ok(),
            "{up}"
        );
    }
}
