use super::*;
use std::fs;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn loads_the_issue_example() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("static")).unwrap();
    write(d.path(), "api.toml", "");
    write(d.path(), "cors.toml", "");
    let cfg = write(
        d.path(),
        "sandbox.toml",
        r#"
[[origin]]
name = "frontend"
kind = "static"
port = 8080
hostname = "karachi-dev.localhost"
root = "static"

[[origin]]
name = "api"
kind = "api"
port = 3000
hostname = "lahore-api.localhost"
routes = "api.toml"
policy = "cors.toml"
"#,
    );
    let c = resolve(Some(&cfg), &Overrides::default()).unwrap();
    assert_eq!(c.origins.len(), 2);
    assert_eq!(c.origins[0].hostname, "karachi-dev.localhost");
    assert!(
        matches!(&c.origins[1].spec, OriginSpec::Api { routes: FileRef::Path(p), .. } if p.ends_with("api.toml"))
    );
}

#[test]
fn cli_overrides_beat_the_file() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(
        d.path(),
        "sandbox.toml",
        "[[origin]]\nname='a'\nkind='api'\nport=3000\n",
    );
    let o = Overrides {
        bind: Some("127.0.0.2".parse().unwrap()),
        ports: vec![("a".into(), 0)],
    };
    let c = resolve(Some(&cfg), &o).unwrap();
    assert_eq!(c.origins[0].port, 0);
    assert_eq!(c.bind.to_string(), "127.0.0.2");
}

#[test]
fn bad_configs_are_located() {
    let cases: &[(&str, &str)] = &[
        (
            "[[origin]]\nname='a'\nkind='api'\nprot=1\n",
            "unknown key `prot`",
        ),
        (
            "[[origin]]\nname='a'\nkind='apis'\nport=1\n",
            "unknown value `apis`",
        ),
        ("[[origin]]\nname='a'\nkind='api'\nport=70000\n", "4:6"),
        (
            "[[origin]]\nname='a'\nkind='api'\nport=1\nroot='x'\n",
            "`root` does not apply",
        ),
        (
            "[[origin]]\nname='a'\nkind='api'\nport=1\npolicy='nope.toml'\n",
            "does not exist",
        ),
        (
            "[[origin]]\nname='a'\nkind='api'\nport=1\n[[origin]]\nname='a'\nkind='api'\nport=2\n",
            "two origins are named",
        ),
        (
            "[[origin]]\nname='a'\nkind='static'\nport=1\nhostname='http://x'\n",
            "not a valid host name",
        ),
        ("x = 1\n", "unknown key `x`"),
    ];
    let d = tempfile::tempdir().unwrap();
    for (text, want) in cases {
        let cfg = write(d.path(), "sandbox.toml", text);
        let err = resolve(Some(&cfg), &Overrides::default()).unwrap_err();
        let line = match &err {
            ConfigError::Load(e) => e.one_line(),
            e => e.to_string(),
        };
        assert!(line.contains(want), "{text:?}: {line}");
        assert!(line.contains("sandbox.toml:"), "{line}");
    }
}

#[test]
fn clashing_ports_and_unknown_override_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(
        d.path(),
        "sandbox.toml",
        "[[origin]]\nname='a'\nkind='api'\nport=3000\n[[origin]]\nname='b'\nkind='static'\nport=3000\n",
    );
    let e = resolve(Some(&cfg), &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("both use port 3000"), "{e}");
    let e = resolve(
        None,
        &Overrides {
            bind: None,
            ports: vec![("fronted".into(), 1)],
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("did you mean `frontend`"), "{e}");
}

#[test]
fn port_override_parser() {
    assert_eq!(parse_port_override("api=0").unwrap(), ("api".into(), 0));
    assert!(parse_port_override("api").is_err());
    assert!(parse_port_override("api=x").is_err());
    assert!(parse_port_override("=3").is_err());
}
