//! Bad input gets a clear message and exit status 2, and nothing is left running.

use crate::util::sandbox::*;

fn up(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["up"];
    all.extend_from_slice(args);
    let (code, out, err) = run_cli(dir, &all);
    (code, format!("{out}{err}"))
}

const TWO: &str = "[[origin]]\nname='web'\nkind='static'\nport=0\n\n[[origin]]\nname='api'\nkind='api'\nport=0\nroutes='api.toml'\npolicy='cors.toml'\n";

/// (what, files to write, arguments to `up`, what the output must contain)
type Case<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a [&'a str],
    &'a [&'a str],
);

#[test]
fn each_bad_input_exits_2_with_a_located_message() {
    let cases: &[Case] = &[
        ("missing config", &[], &["--config", "nope.toml"], &["nope.toml", "no such file"]),
        ("invalid toml", &[("sandbox.toml", "[[origin]\n")], &["--config", "sandbox.toml"], &["sandbox.toml:1:"]),
        ("unknown key", &[("sandbox.toml", "[[origin]]\nname='a'\nkind='api'\nprot=1\n")], &["--config", "sandbox.toml"], &["sandbox.toml:4:1", "unknown key `prot`", "did you mean `port`?"]),
        ("same port", &[("sandbox.toml", "[[origin]]\nname='a'\nkind='api'\nport=3999\n[[origin]]\nname='b'\nkind='api'\nport=3999\n")], &["--config", "sandbox.toml"], &["`a` and `b` both use port 3999"]),
        ("missing policy", &[("sandbox.toml", TWO), ("api.toml", "")], &["--config", "sandbox.toml"], &["cors.toml", "does not exist", "sandbox.toml:11:8"]),
        ("bad policy", &[("sandbox.toml", TWO), ("api.toml", "[[route]]\npath='/x'\n"), ("cors.toml", "allowed_origins = \"*\"\nsupports_credentials = true\n")], &["--config", "sandbox.toml"], &["origin `api`", "cors.toml", "cannot be combined", "1:19"]),
        ("bad routes", &[("sandbox.toml", TWO), ("api.toml", "[[route]]\npath='x'\n"), ("cors.toml", "allowed_origins = []\n")], &["--config", "sandbox.toml"], &["api.toml", "starts with `/`"]),
        ("unknown origin in a route", &[("sandbox.toml", TWO), ("api.toml", "[[route]]\npath='/old'\nstatus=307\nheaders={ Location = '{{origin.webb}}/new' }\n"), ("cors.toml", "allowed_origins = []\n")], &["--config", "sandbox.toml"], &["api.toml:4:", "`{{origin.webb}}` names no origin of this sandbox", "did you mean `{{origin.web}}`?"]),
        ("empty policy", &[("sandbox.toml", TWO), ("api.toml", "[[route]]\npath='/x'\n"), ("cors.toml", "")], &["--config", "sandbox.toml"], &["cors.toml", "empty"]),
        ("unknown --port origin", &[], &["--port", "fronted=0"], &["no origin named `fronted`", "did you mean `frontend`"]),
        ("malformed --port", &[], &["--port", "frontend"], &["NAME=PORT"]),
    ];
    for (what, files, args, wants) in cases {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in *files {
            write(d.path(), name, text);
        }
        let (code, out) = up(d.path(), args);
        assert_eq!(code, 2, "{what}: exit {code}\n{out}");
        for want in *wants {
            assert!(out.contains(want), "{what}: missing {want:?} in\n{out}");
        }
    }
}

#[test]
fn port_in_use_names_the_port_and_origin() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let d = tempfile::tempdir().unwrap();
    let (code, out) = up(
        d.path(),
        &["--port", "frontend=0", "--port", &format!("api={port}")],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!("port {port} is already in use")),
        "{out}"
    );
    assert!(out.contains("origin `api`"), "{out}");
    // Nothing half-started: the frontend port (bound first) was released with the process,
    // and no `listening` line was printed.
    assert!(!out.contains("listening"), "{out}");
}
