//! Every listener binds loopback unless `--host` moves them all, and a wide bind warns.

use super::{attack_project, start};
use crate::util::raw_http::get;
use crate::util::sandbox::*;

/// `--host` moves every listener; without it every listener is on 127.0.0.1.
#[test]
fn listeners_bind_loopback_by_default_and_follow_host() {
    let d = attack_project();
    let sb = start(&d);
    let listening: Vec<_> = sb
        .events()
        .into_iter()
        .filter(|e| e["event"] == "listening")
        .collect();
    assert_eq!(listening.len(), 2);
    for e in &listening {
        assert!(e["bind"].as_str().unwrap().starts_with("127.0.0.1:"), "{e}");
    }
    assert!(!sb.events().iter().any(
        |e| e["event"] == "warning" && e["message"].as_str().unwrap_or("").contains("exposes")
    ));
    drop(sb);

    // Another loopback address (no network exposure in a test): every listener moves there.
    let sb = TestSandbox::start(
        d.path(),
        &["--config", "sandbox.toml", "--host", "127.0.0.2"],
    );
    for e in sb
        .events()
        .into_iter()
        .filter(|e| e["event"] == "listening")
    {
        let bind = e["bind"].as_str().unwrap().to_string();
        assert!(bind.starts_with("127.0.0.2:"), "{e}");
        let port = bind.rsplit(':').next().unwrap();
        assert!(
            std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
            "{} still reachable on 127.0.0.1",
            e["name"]
        );
        let res = get(&bind, "/", "localhost", &[]);
        assert_ne!(res.status, 0, "{bind} not serving");
        // The address it was told to bind is a name it answers to.
        let res = get(&bind, "/", &bind, &[]);
        assert_ne!(res.status, 403, "{bind} refuses its own address as Host");
    }
}

/// Runs the command in a network namespace of its own, where a wide bind reaches nobody.
fn in_private_network(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: unshare(2) between fork and exec touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `--host 0.0.0.0` moves every listener and prints a warning. Run in a private network
/// namespace so the test exposes nothing; skipped (with the reason) where that needs
/// privileges this process lacks.
#[test]
fn a_wide_bind_warns_and_moves_every_listener() {
    let mut probe = std::process::Command::new(BIN);
    probe.arg("--version").stdout(std::process::Stdio::null());
    in_private_network(&mut probe);
    if let Err(e) = probe.status() {
        println!("SKIPPED a_wide_bind_warns: cannot create a private network namespace ({e})");
        return;
    }
    let d = attack_project();
    let sb = TestSandbox::start_with(
        d.path(),
        &["--config", "sandbox.toml", "--host", "0.0.0.0"],
        in_private_network,
    );
    let events = sb.events();
    let listening: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "listening")
        .collect();
    assert_eq!(listening.len(), 2);
    for e in listening {
        let bind = e["bind"].as_str().unwrap();
        assert!(bind.starts_with("0.0.0.0:"), "{e}");
        // Proof the namespace is private: not even this machine's loopback reaches it. The
        // same port number may be in use out here by another test, so a connection that
        // succeeds must at least not be this sandbox's.
        let port = bind.rsplit(':').next().unwrap();
        if let Ok(mut s) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) {
            use std::io::{Read, Write};
            s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .unwrap();
            let _ = s.write_all(b"GET /__sandbox/config.json HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            assert!(
                !answer.contains("\"apis\""),
                "the sandbox in the private namespace answered on this machine's loopback"
            );
        }
    }
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "warning"
                && e["message"].as_str().unwrap_or("").contains("0.0.0.0")),
        "no warning for a wide bind:\n{}",
        sb.output()
    );
}
