//! A small Chrome DevTools Protocol client for tests.
//!
//! It launches Debian's headless `chromium` with a fresh profile, connects to the browser
//! endpoint over WebSocket, and talks to pages through flattened sessions. Every event the
//! browser reports (from any session, including auto-attached child frames) is kept in one
//! ordered log so a test can take a mark, do something, and then look at what happened since.
//!
//! Not every helper is used by every test binary that includes this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// How long a single DevTools command may take before it is reported as hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Where Debian installs the browser.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The env var that lets a developer without Chromium skip browser tests on purpose.
pub const SKIP_ENV: &str = "SANDBOX_SKIP_BROWSER";

#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    #[error("chromium is not installed (looked for {0}); install it (Debian: `apt-get install chromium`), point SANDBOX_CHROMIUM at a binary, or set SANDBOX_SKIP_BROWSER=1 to skip browser tests")]
    NotInstalled(String),
    #[error("could not start chromium: {0}")]
    Spawn(std::io::Error),
    #[error("chromium did not write DevToolsActivePort within {0:?}{1}")]
    NoPort(Duration, String),
    #[error("websocket: {0}")]
    WebSocket(String),
    #[error("the DevTools connection is closed")]
    Closed,
    #[error("{method} timed out after {timeout:?}")]
    Timeout { method: String, timeout: Duration },
    #[error("{method} failed: {message} ({code})")]
    Protocol {
        method: String,
        code: i64,
        message: String,
    },
    #[error("unexpected reply to {method}: {detail}")]
    Unexpected { method: String, detail: String },
    #[error("page script threw: {0}")]
    Script(String),
}

pub type CdpResult<T> = Result<T, CdpError>;

/// The path of the Chromium binary to use: `$SANDBOX_CHROMIUM`, else `/usr/bin/chromium`,
/// else `chromium` on `$PATH`.
pub fn chromium_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SANDBOX_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let default = Path::new(DEFAULT_CHROMIUM);
    if default.is_file() {
        return Some(default.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// Where [`chromium_path`] looks, for error messages.
fn looked_for() -> String {
    match std::env::var_os("SANDBOX_CHROMIUM") {
        Some(p) => format!("SANDBOX_CHROMIUM={}", p.to_string_lossy()),
        None => format!("{DEFAULT_CHROMIUM} and `chromium` on PATH"),
    }
}

/// Whether a Chromium binary is present.
pub fn chromium_available() -> bool {
    chromium_path().is_some()
}

/// Whether browser tests were explicitly switched off with `SANDBOX_SKIP_BROWSER=1`.
pub fn skip_requested() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The gate every browser test starts with: `true` means "run", `false` means "skip (and say
/// so)". Without Chromium and without an explicit opt-out this panics, because a browser test
/// that silently passes without a browser would be lying.
pub fn require_chromium(test: &str) -> bool {
    if chromium_available() {
        return true;
    }
    if skip_requested() {
        eprintln!("{test}: skipped, chromium is not installed and {SKIP_ENV}=1");
        return false;
    }
    panic!("{test}: {}", CdpError::NotInstalled(looked_for()));
}

/// One protocol event, with the session it came from (`None` = the browser session).
#[derive(Debug, Clone)]
pub struct Event {
    pub session_id: Option<String>,
    pub method: String,
    pub params: Value,
}

type Pending = HashMap<u64, (String, oneshot::Sender<CdpResult<Value>>)>;

struct Shared {
    pending: Mutex<Pending>,
    events: Mutex<Vec<Event>>,
    /// child session -> parent session, learned from `Target.attachedToTarget`.
    parents: Mutex<HashMap<String, String>>,
    /// Sessions whose auto-attached children get the standard domains enabled.
    instrumented: Mutex<Vec<String>>,
    arrived: Notify,
    closed: std::sync::atomic::AtomicBool,
}

/// A connection to the browser endpoint. Cheap to share through `Arc`.
pub struct Cdp {
    out: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
}

impl Cdp {
    /// Connects to a DevTools WebSocket URL (`ws://127.0.0.1:<port>/devtools/browser/<id>`).
    pub async fn connect(ws_url: &str) -> CdpResult<Arc<Cdp>> {
        let (ws, _) = tokio_tungstenite::connect_async(ws_url)
            .await
            .map_err(|e| CdpError::WebSocket(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut rx) = mpsc::unbounded_channel::<Message>();
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            events: Mutex::new(Vec::new()),
            parents: Mutex::new(HashMap::new()),
            instrumented: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            closed: std::sync::atomic::AtomicBool::new(false),
        });
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
        });
        let cdp = Arc::new(Cdp {
            out,
            shared: shared.clone(),
            next_id: AtomicU64::new(1),
        });
        let out = cdp.out.clone();
        let id_source = Arc::downgrade(&cdp);
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => break,
                    _ => continue,
                };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                dispatch(&shared, &out, &id_source, value);
            }
            shared.closed.store(true, Ordering::SeqCst);
            let pending: Vec<_> = shared.pending.lock().unwrap().drain().collect();
            for (_, (_, reply)) in pending {
                let _ = reply.send(Err(CdpError::Closed));
            }
            shared.arrived.notify_waiters();
        });
        Ok(cdp)
    }

    fn fresh_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// Sends a command and waits for its reply (`session` = `None` for the browser target).
    pub async fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> CdpResult<Value> {
        let id = self.fresh_id();
        let (tx, rx) = oneshot::channel();
        self.shared
            .pending
            .lock()
            .unwrap()
            .insert(id, (method.to_string(), tx));
        if self.shared.closed.load(Ordering::SeqCst) {
            self.shared.pending.lock().unwrap().remove(&id);
            return Err(CdpError::Closed);
        }
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.out
            .send(Message::text(msg.to_string()))
            .map_err(|_| CdpError::Closed)?;
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(CdpError::Closed),
            Err(_) => {
                self.shared.pending.lock().unwrap().remove(&id);
                Err(CdpError::Timeout {
                    method: method.to_string(),
                    timeout: COMMAND_TIMEOUT,
                })
            }
        }
    }

    /// Sends a command without waiting for the reply.
    pub fn send(&self, session: Option<&str>, method: &str, params: Value) {
        send_raw(&self.out, self.fresh_id(), session, method, params);
    }

    /// The position just past the newest event; pass it to [`Cdp::events_since`].
    pub fn mark(&self) -> usize {
        self.shared.events.lock().unwrap().len()
    }

    /// Every event recorded at or after `mark`.
    pub fn events_since(&self, mark: usize) -> Vec<Event> {
        let events = self.shared.events.lock().unwrap();
        events[mark.min(events.len())..].to_vec()
    }

    /// Whether `session` is `root` or was (transitively) auto-attached under it.
    pub fn belongs_to(&self, session: Option<&str>, root: &str) -> bool {
        let parents = self.shared.parents.lock().unwrap();
        let mut current = session;
        let mut hops = 0;
        while let Some(s) = current {
            if s == root {
                return true;
            }
            current = parents.get(s).map(String::as_str);
            hops += 1;
            if hops > 16 {
                break;
            }
        }
        false
    }

    /// Waits until `done` holds for the events since `mark`, or the deadline passes. Returns
    /// whether it held.
    pub async fn wait_until<F>(&self, mark: usize, deadline: Instant, mut done: F) -> bool
    where
        F: FnMut(&[Event]) -> bool,
    {
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(&self.events_since(mark)) {
                return true;
            }
            if self.shared.closed.load(Ordering::SeqCst) {
                return false;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return done(&self.events_since(mark));
            }
        }
    }
}

fn send_raw(
    out: &mpsc::UnboundedSender<Message>,
    id: u64,
    session: Option<&str>,
    method: &str,
    params: Value,
) {
    let mut msg = json!({"id": id, "method": method, "params": params});
    if let Some(s) = session {
        msg["sessionId"] = json!(s);
    }
    let _ = out.send(Message::text(msg.to_string()));
}

fn dispatch(
    shared: &Shared,
    out: &mpsc::UnboundedSender<Message>,
    id_source: &std::sync::Weak<Cdp>,
    value: Value,
) {
    if let Some(id) = value.get("id").and_then(Value::as_u64) {
        let entry = shared.pending.lock().unwrap().remove(&id);
        if let Some((method, reply)) = entry {
            let result = match value.get("error") {
                Some(err) => Err(CdpError::Protocol {
                    method,
                    code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string(),
                }),
                None => Ok(value.get("result").cloned().unwrap_or(Value::Null)),
            };
            let _ = reply.send(result);
        }
        return;
    }
    let Some(method) = value.get("method").and_then(Value::as_str) else {
        return;
    };
    let session_id = value
        .get("sessionId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let params = value.get("params").cloned().unwrap_or(Value::Null);
    if method == "Target.attachedToTarget" {
        if let (Some(parent), Some(child)) = (
            session_id.as_deref(),
            params.get("sessionId").and_then(Value::as_str),
        ) {
            shared
                .parents
                .lock()
                .unwrap()
                .insert(child.to_string(), parent.to_string());
            let instrument = shared
                .instrumented
                .lock()
                .unwrap()
                .iter()
                .any(|s| s == parent);
            if instrument {
                if let Some(cdp) = id_source.upgrade() {
                    // Commands on one session run in order, so the domains are on before the
                    // child runs its first line of script.
                    for m in ENABLE_DOMAINS {
                        send_raw(out, cdp.fresh_id(), Some(child), m, json!({}));
                    }
                    send_raw(
                        out,
                        cdp.fresh_id(),
                        Some(child),
                        "Target.setAutoAttach",
                        json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
                    );
                    shared.instrumented.lock().unwrap().push(child.to_string());
                    send_raw(
                        out,
                        cdp.fresh_id(),
                        Some(child),
                        "Runtime.runIfWaitingForDebugger",
                        json!({}),
                    );
                }
            }
        }
    }
    shared.events.lock().unwrap().push(Event {
        session_id,
        method: method.to_string(),
        params,
    });
    shared.arrived.notify_waiters();
}

const ENABLE_DOMAINS: [&str; 3] = ["Network.enable", "Log.enable", "Runtime.enable"];

/// A running headless Chromium with its DevTools connection. Dropping it kills the browser
/// and removes its profile directory.
pub struct Browser {
    pub cdp: Arc<Cdp>,
    child: Option<Child>,
    profile: Option<tempfile::TempDir>,
    pub version: String,
}

impl Browser {
    /// Launches headless Chromium on a fresh profile and connects to it.
    pub async fn launch() -> CdpResult<Browser> {
        Self::launch_with_args(&[]).await
    }

    /// Like [`Browser::launch`], with extra command-line switches.
    pub async fn launch_with_args(extra: &[&str]) -> CdpResult<Browser> {
        Self::launch_with_env(extra, &[]).await
    }

    /// Like [`Browser::launch_with_args`], with extra environment variables (a `HOME` whose
    /// NSS database trusts a test CA, say).
    pub async fn launch_with_env(extra: &[&str], env: &[(&str, &Path)]) -> CdpResult<Browser> {
        Self::launch_full(extra, env, None).await
    }

    /// Like [`Browser::launch_with_args`], with the browser's clocks following `clock`.
    pub async fn launch_on_clock(
        extra: &[&str],
        clock: &crate::util::clock::Clock,
    ) -> CdpResult<Browser> {
        let library = clock.clockshift_library();
        let env = [
            ("LD_PRELOAD", library.as_path()),
            ("CLOCKSHIFT_FILE", clock.file.as_path()),
        ];
        Self::launch_full(extra, &env, None).await
    }

    /// Like [`Browser::launch_with_args`], on a profile whose `Default/Preferences` file starts
    /// as `prefs` (e.g. `{"profile": {"cookie_controls_mode": 0}}`: third-party cookies
    /// allowed, as in Chrome outside Incognito).
    pub async fn launch_with_prefs(extra: &[&str], prefs: &Value) -> CdpResult<Browser> {
        Self::launch_full(extra, &[], Some(prefs)).await
    }

    async fn launch_full(
        extra: &[&str],
        env: &[(&str, &Path)],
        prefs: Option<&Value>,
    ) -> CdpResult<Browser> {
        let binary = chromium_path().ok_or_else(|| CdpError::NotInstalled(looked_for()))?;
        let profile = tempfile::Builder::new()
            .prefix("sandbox-chromium-")
            .tempdir()
            .map_err(CdpError::Spawn)?;
        if let Some(prefs) = prefs {
            let dir = profile.path().join("Default");
            std::fs::create_dir_all(&dir).map_err(CdpError::Spawn)?;
            std::fs::write(dir.join("Preferences"), prefs.to_string()).map_err(CdpError::Spawn)?;
        }
        let mut cmd = Command::new(&binary);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg("about:blank")
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(CdpError::Spawn)?;
        // Drain stderr so the browser never blocks on a full pipe; keep the tail for errors.
        let stderr_tail = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let tail = stderr_tail.clone();
            std::thread::spawn(move || {
                use std::io::Read;
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let mut t = tail.lock().unwrap();
                    t.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if t.len() > 8192 {
                        let cut = t.len() - 4096;
                        let cut = (cut..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(0);
                        t.drain(..cut);
                    }
                }
            });
        }
        let mut browser = Browser {
            cdp: Arc::new(Cdp::placeholder()),
            child: Some(child),
            profile: Some(profile),
            version: String::new(),
        };
        let port_file = browser.profile_dir().join("DevToolsActivePort");
        let wait = Duration::from_secs(30);
        let deadline = Instant::now() + wait;
        let contents = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                if text.lines().count() >= 2 {
                    break text;
                }
            }
            let exited = browser
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() >= deadline {
                let why = match exited {
                    Some(status) => format!(" (chromium exited: {status})"),
                    None => String::new(),
                };
                let tail = stderr_tail.lock().unwrap().clone();
                return Err(CdpError::NoPort(wait, format!("{why}\n{tail}")));
            }
            // Polling a file the browser writes once; 20 ms granularity, bounded by the deadline.
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut lines = contents.lines();
        let port = lines.next().unwrap_or_default().trim().to_string();
        let path = lines.next().unwrap_or_default().trim().to_string();
        let url = format!("ws://127.0.0.1:{port}{path}");
        browser.cdp = Cdp::connect(&url).await?;
        let version = browser
            .cdp
            .call(None, "Browser.getVersion", json!({}))
            .await?;
        browser.version = version["product"].as_str().unwrap_or("?").to_string();
        Ok(browser)
    }

    /// The profile directory (removed on drop).
    pub fn profile_dir(&self) -> &Path {
        self.profile.as_ref().expect("profile").path()
    }

    /// Opens a page (tab) in the default browser context.
    pub async fn new_page(&self) -> CdpResult<Page> {
        self.open_page(None).await
    }

    /// Opens a page in a fresh, isolated browser context (own cookies, cache and CORS
    /// preflight cache). The context is disposed when the page is closed.
    pub async fn new_isolated_page(&self) -> CdpResult<Page> {
        let ctx = self
            .cdp
            .call(None, "Target.createBrowserContext", json!({}))
            .await?;
        let id = ctx["browserContextId"]
            .as_str()
            .ok_or_else(|| CdpError::Unexpected {
                method: "Target.createBrowserContext".into(),
                detail: ctx.to_string(),
            })?
            .to_string();
        self.open_page(Some(id)).await
    }

    async fn open_page(&self, context: Option<String>) -> CdpResult<Page> {
        let mut params = json!({"url": "about:blank"});
        if let Some(ctx) = &context {
            params["browserContextId"] = json!(ctx);
        }
        let created = self.cdp.call(None, "Target.createTarget", params).await?;
        let target_id = created["targetId"]
            .as_str()
            .ok_or_else(|| CdpError::Unexpected {
                method: "Target.createTarget".into(),
                detail: created.to_string(),
            })?
            .to_string();
        let attached = self
            .cdp
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .await?;
        let session_id = attached["sessionId"]
            .as_str()
            .ok_or_else(|| CdpError::Unexpected {
                method: "Target.attachToTarget".into(),
                detail: attached.to_string(),
            })?
            .to_string();
        let page = Page {
            cdp: self.cdp.clone(),
            session_id,
            target_id,
            context_id: context,
        };
        self.cdp
            .shared
            .instrumented
            .lock()
            .unwrap()
            .push(page.session_id.clone());
        page.call("Page.enable", json!({})).await?;
        for m in ENABLE_DOMAINS {
            page.call(m, json!({})).await?;
        }
        // Out-of-process frames (e.g. sandboxed iframes under site isolation) become child
        // sessions whose events land in the same log.
        page.call(
            "Target.setAutoAttach",
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        )
        .await?;
        Ok(page)
    }
}

impl Cdp {
    /// A connection that is already closed; stands in until the real one is made.
    fn placeholder() -> Cdp {
        let (out, _) = mpsc::unbounded_channel();
        Cdp {
            out,
            shared: Arc::new(Shared {
                pending: Mutex::new(HashMap::new()),
                events: Mutex::new(Vec::new()),
                parents: Mutex::new(HashMap::new()),
                instrumented: Mutex::new(Vec::new()),
                arrived: Notify::new(),
                closed: std::sync::atomic::AtomicBool::new(true),
            }),
            next_id: AtomicU64::new(1),
        }
    }
}

impl Browser {
    /// Asks the browser to quit and waits (bounded) for it to exit; dropping does the rest.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            self.cdp.call(None, "Browser.close", json!({})),
        )
        .await;
        let deadline = Instant::now() + Duration::from_secs(5);
        if let Some(child) = self.child.as_mut() {
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                // Polling the exit of a process we asked to quit, bounded by the deadline.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Helper processes can outlive the browser by a moment and still write into the
        // profile, so removal is retried until it sticks (bounded).
        if let Some(profile) = self.profile.take() {
            let path = profile.path().to_path_buf();
            let _ = profile.close();
            let deadline = std::time::Instant::now() + Duration::from_secs(3);
            while path.exists() && std::time::Instant::now() < deadline {
                if std::fs::remove_dir_all(&path).is_err() {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}

/// One attached page target.
pub struct Page {
    pub cdp: Arc<Cdp>,
    pub session_id: String,
    pub target_id: String,
    pub context_id: Option<String>,
}

/// A console line seen on a page: from `Log.entryAdded`, `Runtime.consoleAPICalled` or
/// `Runtime.exceptionThrown`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleLine {
    pub source: String,
    pub level: String,
    pub text: String,
    pub url: Option<String>,
}

impl Page {
    /// Sends a command on this page's session.
    pub async fn call(&self, method: &str, params: Value) -> CdpResult<Value> {
        self.cdp.call(Some(&self.session_id), method, params).await
    }

    /// Navigates and waits for the load event.
    pub async fn navigate(&self, url: &str) -> CdpResult<()> {
        let mark = self.cdp.mark();
        let nav = self.call("Page.navigate", json!({"url": url})).await?;
        if let Some(err) = nav.get("errorText").and_then(Value::as_str) {
            return Err(CdpError::Unexpected {
                method: "Page.navigate".into(),
                detail: format!("{url}: {err}"),
            });
        }
        let session = self.session_id.clone();
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let loaded = self
            .cdp
            .wait_until(mark, deadline, |evs| {
                evs.iter().any(|e| {
                    e.method == "Page.loadEventFired" && e.session_id.as_deref() == Some(&session)
                })
            })
            .await;
        if !loaded {
            return Err(CdpError::Timeout {
                method: format!("load of {url}"),
                timeout: COMMAND_TIMEOUT,
            });
        }
        // A fresh target's own about:blank can fire its load event after `mark`, so the event
        // alone does not prove the new document is there: poll until it is (a page evaluated
        // too early has none of its script's globals).
        let probe = "!location.href.startsWith('about:') && document.readyState === 'complete'";
        if url.starts_with("about:") {
            return Ok(());
        }
        while Instant::now() < deadline {
            if self.evaluate(probe).await? == Value::Bool(true) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(CdpError::Timeout {
            method: format!("document of {url}"),
            timeout: COMMAND_TIMEOUT,
        })
    }

    /// Evaluates an expression in the page's main frame, awaiting a returned promise, and
    /// returns the value (by value, so it must be JSON-serialisable).
    pub async fn evaluate(&self, expression: &str) -> CdpResult<Value> {
        let reply = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            )
            .await?;
        if let Some(ex) = reply.get("exceptionDetails") {
            let text = ex["exception"]["description"]
                .as_str()
                .or_else(|| ex["text"].as_str())
                .unwrap_or("?");
            return Err(CdpError::Script(text.to_string()));
        }
        Ok(reply["result"]["value"].clone())
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot_png(&self) -> CdpResult<Vec<u8>> {
        let reply = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await?;
        let data = reply["data"].as_str().ok_or_else(|| CdpError::Unexpected {
            method: "Page.captureScreenshot".into(),
            detail: "no data".into(),
        })?;
        decode_base64(data).ok_or_else(|| CdpError::Unexpected {
            method: "Page.captureScreenshot".into(),
            detail: "bad base64".into(),
        })
    }

    /// Events from this page (and its child frames) since `mark`.
    pub fn events_since(&self, mark: usize) -> Vec<Event> {
        self.cdp
            .events_since(mark)
            .into_iter()
            .filter(|e| {
                self.cdp
                    .belongs_to(e.session_id.as_deref(), &self.session_id)
            })
            .collect()
    }

    /// Waits until `done` holds for this page's events since `mark` (or the deadline).
    pub async fn wait_until<F>(&self, mark: usize, deadline: Instant, mut done: F) -> bool
    where
        F: FnMut(&[Event]) -> bool,
    {
        let cdp = self.cdp.clone();
        let root = self.session_id.clone();
        self.cdp
            .wait_until(mark, deadline, |evs| {
                let mine: Vec<Event> = evs
                    .iter()
                    .filter(|e| cdp.belongs_to(e.session_id.as_deref(), &root))
                    .cloned()
                    .collect();
                done(&mine)
            })
            .await
    }

    /// Closes the page, and its browser context if it had its own.
    pub async fn close(self) -> CdpResult<()> {
        self.cdp
            .call(
                None,
                "Target.closeTarget",
                json!({"targetId": self.target_id}),
            )
            .await?;
        if let Some(ctx) = &self.context_id {
            self.cdp
                .call(
                    None,
                    "Target.disposeBrowserContext",
                    json!({"browserContextId": ctx}),
                )
                .await?;
        }
        Ok(())
    }
}

/// Console lines among `events` (in order).
pub fn console_lines(events: &[Event]) -> Vec<ConsoleLine> {
    let mut out = Vec::new();
    for e in events {
        match e.method.as_str() {
            "Log.entryAdded" => {
                let entry = &e.params["entry"];
                out.push(ConsoleLine {
                    source: entry["source"].as_str().unwrap_or("").to_string(),
                    level: entry["level"].as_str().unwrap_or("").to_string(),
                    text: entry["text"].as_str().unwrap_or("").to_string(),
                    url: entry["url"].as_str().map(str::to_string),
                });
            }
            "Runtime.consoleAPICalled" => {
                let text = e.params["args"]
                    .as_array()
                    .map(|args| {
                        args.iter()
                            .map(|a| match a.get("value") {
                                Some(Value::String(s)) => s.clone(),
                                Some(v) => v.to_string(),
                                None => a["description"].as_str().unwrap_or("").to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                out.push(ConsoleLine {
                    source: "console-api".into(),
                    level: e.params["type"].as_str().unwrap_or("").to_string(),
                    text,
                    url: None,
                });
            }
            "Runtime.exceptionThrown" => {
                let d = &e.params["exceptionDetails"];
                let text = d["exception"]["description"]
                    .as_str()
                    .or_else(|| d["text"].as_str())
                    .unwrap_or("")
                    .to_string();
                out.push(ConsoleLine {
                    source: "exception".into(),
                    level: "error".into(),
                    text,
                    url: d["url"].as_str().map(str::to_string),
                });
            }
            _ => {}
        }
    }
    out
}

/// Decodes standard base64 (with or without padding); `None` on a bad character.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in text.as_bytes() {
        if c == b'=' {
            break;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
