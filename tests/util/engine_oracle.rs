//! Firefox ESR and WebKitGTK as CORS oracles, driven through `tests/engines/oracle.py`.
//!
//! [`Oracle::start`] spawns `/usr/bin/python3 tests/engines/oracle.py <engine>` (Debian's
//! interpreter, the one with `gi`), which starts one browser and says it is ready; then each
//! [`Job`] (a page to open and a `fetch()` spec for its `window.__run`) is one JSON line in
//! and one [`Answer`] line out, read with a deadline. The script's stderr is kept (the last
//! lines go into every error). [`require_engine`] is the gate a test starts with, like
//! `chromium::require_chromium`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

/// The env var that lets a developer without the engines skip their tests on purpose.
pub const SKIP_ENV: &str = "SANDBOX_SKIP_ENGINES";

/// Debian's interpreter: the one that has `gi` (WebKitGTK) and `websockets`.
pub const PYTHON: &str = "/usr/bin/python3";

/// The exit status with which the oracle says its engine is not installed.
const EXIT_MISSING: i32 = 3;

/// How long the engine may take to start.
const STARTUP_DEADLINE: Duration = Duration::from_secs(90);

/// How long one job may take (the oracle bounds its own waits well below this).
const JOB_DEADLINE: Duration = Duration::from_secs(60);

/// How long the oracle may take to close its browser at the end.
const CLOSE_DEADLINE: Duration = Duration::from_secs(20);

/// How many of the oracle's stderr lines are kept for error messages.
const STDERR_TAIL: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    Firefox,
    WebKit,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Firefox, Engine::WebKit];

    /// The name the oracle takes on its command line (and the JSON reports use).
    pub fn name(self) -> &'static str {
        match self {
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    pub fn parse(name: &str) -> Option<Engine> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name.trim()))
    }

    /// What to install when it is missing.
    fn packages(self) -> &'static str {
        match self {
            Engine::Firefox => "firefox-esr python3-websockets",
            Engine::WebKit => "gir1.2-webkit2-4.1 xvfb xauth",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    #[error("{engine} is not installed: {detail}; install it (Debian: `apt-get install {packages}`, `.ci/test` does) or set SANDBOX_SKIP_ENGINES=1 to skip the engine tests")]
    Missing {
        engine: &'static str,
        packages: &'static str,
        detail: String,
    },
    #[error("could not start {PYTHON} {script}: {source}")]
    Spawn {
        script: String,
        source: std::io::Error,
    },
    #[error("the {engine} oracle {what}; its stderr ends:\n{stderr}")]
    Failed {
        engine: &'static str,
        what: String,
        stderr: String,
    },
}

/// `tests/engines/oracle.py` in this checkout.
pub fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines/oracle.py")
}

/// Whether the engine tests were explicitly switched off with `SANDBOX_SKIP_ENGINES=1`.
pub fn skip_requested() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Asks the oracle whether its engine is there (`oracle.py <engine> --check`): `Ok` when
/// it is, [`OracleError::Missing`] when it is not.
pub fn check(engine: Engine) -> Result<(), OracleError> {
    let missing = |detail: String| OracleError::Missing {
        engine: engine.name(),
        packages: engine.packages(),
        detail,
    };
    if !Path::new(PYTHON).is_file() {
        return Err(missing(format!("{PYTHON} is missing")));
    }
    let script = script_path();
    let out = Command::new(PYTHON)
        .arg(&script)
        .arg(engine.name())
        .arg("--check")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| OracleError::Spawn {
            script: script.display().to_string(),
            source,
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(EXIT_MISSING) => Err(missing(stderr)),
        _ => Err(OracleError::Failed {
            engine: engine.name(),
            what: format!("--check failed ({})", out.status),
            stderr,
        }),
    }
}

/// The gate every engine test starts with: `true` means "run", `false` means "skip (and say
/// so)". Without the engine and without an explicit opt-out this panics: an engine test
/// that silently passes without its engine would be lying.
pub fn require_engine(engine: Engine, test: &str) -> bool {
    match check(engine) {
        Ok(()) => true,
        Err(e @ OracleError::Missing { .. }) if skip_requested() => {
            eprintln!(
                "\n*** {test}: SKIPPED {} — {e} — and {SKIP_ENV}=1 ***\n",
                engine.name()
            );
            false
        }
        Err(e) => panic!("{test}: {e}"),
    }
}

/// One fetch to run: open `page_url` (unless `same_page`: then the previous job's page is
/// used as it is) and await `window.__run(spec)` there.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub page_url: String,
    /// `{"url", "method", "headers": [[name, value], ..], "credentials", "mode"}`.
    pub spec: Value,
    pub same_page: bool,
    /// JS to await in the page instead of `window.__run(spec)`, answering the same shape
    /// (plus any `value`): for pages that make their own requests, such as a fixture's.
    pub expression: Option<String>,
}

impl Job {
    fn to_line(&self) -> String {
        json!({
            "id": self.id,
            "page_url": self.page_url,
            "spec": self.spec,
            "same_page": self.same_page,
            "expression": self.expression,
        })
        .to_string()
    }
}

/// What the engine did with one job.
#[derive(Debug, Clone, Deserialize)]
pub struct Answer {
    pub id: String,
    /// Script got the response.
    pub ok: bool,
    pub status: Option<u64>,
    /// The response header names script can read.
    pub headers: Option<Vec<String>>,
    /// What the rejection said, as the page's runner reports it (`String(e)`).
    pub js_error: Option<String>,
    /// Where the runner failed (`headers`: building the request; `fetch`: the fetch).
    pub stage: Option<String>,
    /// Every console error and warning line of the job, in order, as the engine prints it.
    pub console: Vec<String>,
    /// Firefox: each line's nsIScriptError category (its `security.properties` key);
    /// WebKit: none.
    pub reasons: Vec<String>,
    /// Whatever else the page's runner answered, as it is.
    #[serde(default)]
    pub value: Option<Value>,
    /// The job's time inside the oracle (page, fetch, console).
    pub elapsed_s: f64,
    /// With `SANDBOX_ORACLE_CLOCK`: the page's `Date.now()` after the fetch (if its runner
    /// returns it as `now_ms`).
    #[serde(default)]
    pub page_now_ms: Option<f64>,
    /// With `SANDBOX_ORACLE_CLOCK`, Firefox only: `Date.now()` in the parent process.
    #[serde(default)]
    pub browser_now_ms: Option<f64>,
}

/// A running oracle: one browser, reused across jobs.
pub struct Oracle {
    pub engine: Engine,
    /// The browser's own name for its version.
    pub version: String,
    /// From spawning the oracle to its ready line (interpreter, display, browser).
    pub startup: Duration,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl Oracle {
    /// Starts the oracle and waits (bounded) for its browser to be ready.
    pub fn start(engine: Engine) -> Result<Oracle, OracleError> {
        Oracle::start_with_env(engine, &[])
    }

    /// [`Oracle::start`] with extra environment variables for the oracle (such as
    /// `SANDBOX_ORACLE_CLOCK`, see `oracle.py`).
    pub fn start_with_env(engine: Engine, env: &[(&str, &str)]) -> Result<Oracle, OracleError> {
        let script = script_path();
        let began = Instant::now();
        let mut child = Command::new(PYTHON)
            .arg(&script)
            .arg(engine.name())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| OracleError::Spawn {
                script: script.display().to_string(),
                source,
            })?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let tail = stderr.clone();
        let err = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut tail = tail.lock().unwrap();
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        let stdin = child.stdin.take();
        let mut oracle = Oracle {
            engine,
            version: String::new(),
            startup: Duration::ZERO,
            child,
            stdin,
            lines,
            stderr,
        };
        let ready = match oracle.lines.recv_timeout(STARTUP_DEADLINE) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(oracle.failure(format!("was not ready within {STARTUP_DEADLINE:?}")))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = oracle.child.wait().ok();
                if status.and_then(|s| s.code()) == Some(EXIT_MISSING) {
                    return Err(OracleError::Missing {
                        engine: engine.name(),
                        packages: engine.packages(),
                        detail: oracle.stderr_text(),
                    });
                }
                return Err(oracle.failure(format!(
                    "exited before it was ready ({})",
                    status.map_or("?".into(), |s| s.to_string())
                )));
            }
        };
        let ready: Value = serde_json::from_str(&ready)
            .map_err(|e| oracle.failure(format!("said {ready:?} instead of ready ({e})")))?;
        if ready["ready"] != json!(true) {
            return Err(oracle.failure(format!("said {ready} instead of ready")));
        }
        oracle.startup = began.elapsed();
        oracle.version = ready["version"].as_str().unwrap_or("?").to_string();
        Ok(oracle)
    }

    fn stderr_text(&self) -> String {
        let tail = self.stderr.lock().unwrap();
        tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    fn failure(&self, what: String) -> OracleError {
        OracleError::Failed {
            engine: self.engine.name(),
            what,
            stderr: self.stderr_text(),
        }
    }

    /// Runs one job and waits (bounded) for its answer.
    pub fn run(&mut self, job: &Job) -> Result<Answer, OracleError> {
        let line = job.to_line();
        let written = match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        written.map_err(|e| self.failure(format!("took no job ({e})")))?;
        let reply = match self.lines.recv_timeout(JOB_DEADLINE) {
            Ok(reply) => reply,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(self.failure(format!(
                    "gave no answer to {} within {JOB_DEADLINE:?}",
                    job.id
                )))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(self.failure(format!("exited during {}", job.id)))
            }
        };
        let value: Value = serde_json::from_str(&reply)
            .map_err(|e| self.failure(format!("answered {reply:?} ({e})")))?;
        if value["id"] != json!(job.id) {
            return Err(self.failure(format!("answered {reply} to job {}", job.id)));
        }
        if let Some(e) = value["harness_error"].as_str() {
            return Err(self.failure(format!("could not run {}: {e}", job.id)));
        }
        serde_json::from_value(value).map_err(|e| self.failure(format!("answered {reply} ({e})")))
    }

    /// Whether the oracle process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Ends the input, lets the oracle close its browser (bounded), and reaps it.
    pub fn close(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + CLOSE_DEADLINE;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    // The exit of a child cannot be waited on with a timeout in std: poll.
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => break,
            }
        }
        eprintln!(
            "{} oracle did not exit within {CLOSE_DEADLINE:?}: killed",
            self.engine.name()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.shut_down();
        }
    }
}
