//! The real Express + npm `cors` middleware (`tests/node/cors_server.js`), installed by
//! `.ci/test` into `target/node`, started on a port-0 socket and killed on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Where `.ci/test` installs express and cors (`npm install --prefix target/node`).
pub fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/node/node_modules")
}

/// Panics, loudly, when node or the packages are missing: the test must not pass without them.
pub fn require_express(test: &str) {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        panic!("{test}: node is not installed; install Node.js 20 (e.g. apt-get install nodejs)");
    }
    for pkg in ["express", "cors"] {
        if !node_modules().join(pkg).join("package.json").exists() {
            panic!(
                "{test}: the npm package `{pkg}` is missing from {}: run .ci/test, or `npm install --prefix target/node express@4 cors@2`",
                node_modules().display()
            );
        }
    }
}

/// A running `cors_server.js`: option set `i` is served under `/s{i}`.
pub struct NodeCors {
    child: Child,
    pub port: u16,
    _sets: tempfile::NamedTempFile,
}

impl NodeCors {
    pub fn start(test: &str, sets: &[Value]) -> NodeCors {
        require_express(test);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), serde_json::to_string(sets).unwrap()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/cors_server.js");
        let mut child = Command::new("node")
            .arg(script)
            .arg(file.path())
            .env("NODE_PATH", node_modules())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn node");
        // The first line is written once the socket listens; reading it is the wait.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{test}: cors_server.js did not start ({e}): {line:?}"));
        NodeCors {
            child,
            port: v["port"].as_u64().unwrap() as u16,
            _sets: file,
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for NodeCors {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
