//! `TestSandbox`: the real `sandbox` binary started on port-0 sockets in a temp folder, its
//! JSON log parsed as it arrives, and killed on drop. Plus small HTTP helpers (no proxy: tests
//! talk to loopback only) and a deadline-bounded `eventually`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_sandbox");

/// How long any wait in a test may take before it fails. Generous: CI machines are shared.
pub const DEADLINE: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Lines {
    events: Vec<Value>,
    raw: Vec<String>,
    closed: bool,
}

pub struct TestSandbox {
    child: Child,
    lines: Arc<(Mutex<Lines>, Condvar)>,
    /// origin name → `http://127.0.0.1:PORT`
    pub urls: HashMap<String, String>,
    /// origin name → the URL the sandbox printed (with its host name)
    pub public_urls: HashMap<String, String>,
    /// static origin name → this run's key, read from the inspector URL the sandbox printed
    pub keys: HashMap<String, String>,
    pub dir: PathBuf,
}

impl TestSandbox {
    /// Starts `sandbox up --log-format json` with `args` (port overrides are the caller's), in
    /// `dir`, and waits until every origin has logged `listening`.
    pub fn start(dir: &Path, args: &[&str]) -> TestSandbox {
        Self::start_with(dir, args, |_| {})
    }

    /// Like [`TestSandbox::start`], letting the caller adjust the command first (e.g. run it
    /// as another user).
    pub fn start_with(dir: &Path, args: &[&str], adjust: impl FnOnce(&mut Command)) -> TestSandbox {
        Self::start_bin(Path::new(BIN), dir, args, adjust)
    }

    /// Like [`TestSandbox::start_with`], running the binary at `bin` (e.g. a copy placed as
    /// `cargo install` would place it).
    pub fn start_bin(
        bin: &Path,
        dir: &Path,
        args: &[&str],
        adjust: impl FnOnce(&mut Command),
    ) -> TestSandbox {
        let mut cmd = Command::new(bin);
        cmd.arg("up")
            .arg("--log-format")
            .arg("json")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        adjust(&mut cmd);
        let mut child = cmd.spawn().expect("spawn sandbox");
        let lines = Arc::new((Mutex::new(Lines::default()), Condvar::new()));
        let out = child.stdout.take().unwrap();
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let (m, cv) = &*l2;
                let mut g = m.lock().unwrap();
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    g.events.push(v);
                }
                g.raw.push(line);
                cv.notify_all();
            }
            let (m, cv) = &*l2;
            m.lock().unwrap().closed = true;
            cv.notify_all();
        });
        let err = child.stderr.take().unwrap();
        let l3 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                eprintln!("[sandbox stderr] {line}");
                let (m, cv) = &*l3;
                m.lock().unwrap().raw.push(line);
                cv.notify_all();
            }
        });
        let mut sb = TestSandbox {
            child,
            lines,
            urls: HashMap::new(),
            public_urls: HashMap::new(),
            keys: HashMap::new(),
            dir: dir.to_path_buf(),
        };
        sb.wait_event(|e| e["event"] == "ready");
        for e in sb
            .events()
            .into_iter()
            .filter(|e| e["event"] == "listening")
        {
            let name = e["name"].as_str().unwrap().to_string();
            let url = e["url"].as_str().unwrap().to_string();
            let port = url.rsplit(':').next().unwrap().to_string();
            sb.urls
                .insert(name.clone(), format!("http://127.0.0.1:{port}"));
            if let Some(inspector) = e["inspector"].as_str() {
                let key = inspector.split("sandbox-key=").nth(1).unwrap().to_string();
                sb.keys.insert(name.clone(), key);
            }
            sb.public_urls.insert(name, url);
        }
        sb
    }

    pub fn events(&self) -> Vec<Value> {
        self.lines.0.lock().unwrap().events.clone()
    }

    pub fn output(&self) -> String {
        self.lines.0.lock().unwrap().raw.join("\n")
    }

    /// Waits (up to [`DEADLINE`]) for a log event matching `pred`; panics with the log if none.
    pub fn wait_event(&self, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_event_after(0, pred)
    }

    /// Like [`wait_event`], ignoring the first `skip` events.
    pub fn wait_event_after(&self, skip: usize, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait_nth_event_after(skip, 1, pred)
    }

    /// Waits for the `n`th event after the first `skip` that matches `pred`, and returns it.
    pub fn wait_nth_event_after(
        &self,
        skip: usize,
        n: usize,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let (m, cv) = &*self.lines;
        let deadline = Instant::now() + DEADLINE;
        let mut g = m.lock().unwrap();
        loop {
            if let Some(e) = g.events.iter().skip(skip).filter(|e| pred(e)).nth(n - 1) {
                return e.clone();
            }
            let now = Instant::now();
            if now > deadline || g.closed {
                let which = if n == 1 {
                    String::new()
                } else {
                    format!(" (the {n}th)")
                };
                panic!(
                    "no matching log event{which}; log so far:\n{}",
                    g.raw.join("\n")
                );
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    pub fn event_count(&self) -> usize {
        self.lines.0.lock().unwrap().events.len()
    }

    pub fn url(&self, name: &str) -> &str {
        self.urls
            .get(name)
            .unwrap_or_else(|| panic!("no origin {name}: {:?}", self.urls))
    }

    /// This run's key on static origin `name`, as the inspector URL printed at startup has it.
    pub fn key(&self, name: &str) -> &str {
        self.keys
            .get(name)
            .unwrap_or_else(|| panic!("no key printed for {name}: {:?}", self.keys))
    }

    /// `path` on origin `name` (`127.0.0.1`) with the run's key appended to its query, as a
    /// script that read the printed URL asks the journal's endpoints.
    pub fn keyed(&self, name: &str, path: &str) -> String {
        with_key(self.url(name), path, self.key(name))
    }

    /// Like [`TestSandbox::keyed`] on the URL the sandbox printed (its host name): what a
    /// person opens in the browser from the banner.
    pub fn public_keyed(&self, name: &str, path: &str) -> String {
        with_key(&self.public_urls[name], path, self.key(name))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit; returns how long it took.
    pub fn terminate(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_key(base: &str, path: &str, key: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{}{path}{sep}sandbox-key={key}", base.trim_end_matches('/'))
}

/// Runs `sandbox ARGS` to completion and returns (exit code, stdout, stderr).
pub fn run_cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run sandbox");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A blocking HTTP client that never uses a proxy.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(DEADLINE)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Retries `f` until it returns `Some` or the deadline passes; the panic names `what`.
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The three ways editors save a file.
#[derive(Debug, Clone, Copy)]
pub enum SaveStyle {
    /// Truncate and write (VS Code).
    InPlace,
    /// Write a temp file, rename over (vim default, `sed -i`, JetBrains).
    Rename,
    /// Delete, then create.
    DeleteCreate,
}

pub fn save(path: &Path, text: &str, style: SaveStyle) {
    match style {
        SaveStyle::InPlace => std::fs::write(path, text).unwrap(),
        SaveStyle::Rename => {
            let tmp = path.with_extension("sandbox-tmp~");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
        SaveStyle::DeleteCreate => {
            std::fs::remove_file(path).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
}

/// Writes a file into `dir`, creating folders.
pub fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// A two-origin project (static `web/` + api with `api.toml` and `cors.toml`) on port 0.
pub fn project(policy: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "sandbox.toml",
        r#"
[[origin]]
name = "frontend"
kind = "static"
port = 0
hostname = "karachi-dev.localhost"
root = "web"

[[origin]]
name = "api"
kind = "api"
port = 0
hostname = "lahore-api.localhost"
routes = "api.toml"
policy = "cors.toml"
"#,
    );
    write(
        d.path(),
        "web/index.html",
        "<!doctype html><html><body><h1>hi</h1></body></html>",
    );
    write(d.path(), "web/site.css", "h1 { color: red }");
    write(d.path(), "api.toml", "[[route]]\nmethod = \"GET\"\npath = \"/api/student\"\njson = { name = \"Ahmad\", city = \"Lahore\" }\n\n[[route]]\nmethod = \"PUT\"\npath = \"/api/payment\"\njson = { ok = true }\n");
    write(d.path(), "cors.toml", policy);
    d
}

/// An actix-cors policy letting `origin` GET and PUT.
pub fn policy_for(origin: &str) -> String {
    format!("allowed_origins = [\"{origin}\"]\nallowed_methods = [\"GET\", \"PUT\"]\n")
}

/// The `Access-Control-Allow-Origin` the API at `api` answers a GET from `origin` with.
pub fn acao_for(api: &str, origin: &str) -> Option<String> {
    let res = client()
        .get(format!("{api}/api/student"))
        .header("Origin", origin)
        .send()
        .ok()?;
    acao(&res)
}

/// A response's `Access-Control-Allow-Origin`, if it has one.
pub fn acao(res: &reqwest::blocking::Response) -> Option<String> {
    res.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

/// The lines `sandbox up` prints in text mode up to the banner's last one; then it is stopped.
pub fn text_banner(dir: &Path, args: &[&str]) -> Vec<String> {
    let mut child = Command::new(BIN)
        .arg("up")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sandbox");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + DEADLINE;
    let mut lines = Vec::new();
    let complete = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                let last = line.starts_with("watching ");
                lines.push(line);
                if last {
                    break true;
                }
            }
            // Exited, or still silent at the deadline.
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(complete, "no whole banner; output:\n{}", lines.join("\n"));
    lines
}

/// Every file under `dir`, at any depth (to grep what a command wrote).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
