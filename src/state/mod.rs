//! The one shared state of a running sandbox: every origin, its stores, the event channel to
//! open pages, the log and the reload status board.
//!
//! Built once ([`build_state`]) after the config is validated and the sockets are bound;
//! cloned (as an `Arc`) into every server worker and the watcher. Owns the one loader of
//! policy and routes files ([`load`]), so startup and reload go through the same code, and
//! the swappable [`Store`] each file's current version lives in.

mod build;
pub mod cookie_jar;
pub mod load;
mod run_key;
mod store;

pub use build::{build_state, canonical_root, origin_url, OriginLoadError};
pub use run_key::{KeyError, RunKey};
pub use store::{Store, Versioned};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::config::{Config, FileRef, OriginSpec, StaticRoot};
use crate::journal::Log;
use crate::policy::Policy;
use crate::routes::Routes;

/// Pushed to open pages over `/__sandbox/events`. Never carries file contents or absolute
/// paths: a page on the frontend origin has no business learning the layout of the disk.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    StaticChanged {
        origin: String,
        files: Vec<String>,
        css_only: bool,
    },
    Reloaded {
        origin: String,
        file: String,
        generation: u64,
    },
    ReloadFailed {
        origin: String,
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// An API request and its verdict, for the inspector.
    Request { entry: Box<crate::journal::Entry> },
}

/// One API origin: its stores and where they are loaded from.
#[derive(Debug)]
pub struct ApiOrigin {
    pub name: String,
    pub url: String,
    pub policy: Store<Policy>,
    pub routes: Store<Routes>,
    /// The static origins as served, by every host they are reached at and their bound ports:
    /// what the embedded default policy and `sandbox:static` allow.
    pub default_allowed: Vec<String>,
    /// When a browser last got an allowed preflight, and for how many seconds it may cache
    /// it: a policy change within that window may be masked by the cached answer.
    pub last_preflight: Mutex<Option<(std::time::Instant, u64)>>,
    /// The `[[resource]]` tables' current items; outlives routes reloads.
    pub resources: crate::routes::resources::ResourceStore,
    /// `sandbox up --record`: whether proxied exchanges become recorded routes, and the lock
    /// that keeps two of them from writing the recorded file at once.
    pub recorder: Recorder,
}

/// Whether an API origin records what its upstream answers (`up --record`).
#[derive(Debug, Default)]
pub struct Recorder {
    on: std::sync::atomic::AtomicBool,
    /// Held while the recorded-routes file is read, extended and replaced.
    pub writing: Mutex<()>,
}

impl Recorder {
    pub fn set(&self, on: bool) {
        self.on.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.on.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl ApiOrigin {
    pub fn note_preflight_cached(&self, max_age_secs: u64) {
        if let Ok(mut g) = self.last_preflight.lock() {
            *g = Some((std::time::Instant::now(), max_age_secs));
        }
    }

    /// Seconds a cached preflight may still mask a policy change, if any.
    pub fn preflight_cache_remaining(&self) -> Option<u64> {
        let g = self.last_preflight.lock().ok()?;
        let (at, max_age) = (*g)?;
        let elapsed = at.elapsed().as_secs();
        (elapsed < max_age).then(|| max_age - elapsed)
    }
}

#[derive(Debug)]
pub struct StaticOrigin {
    pub name: String,
    pub url: String,
    /// The root served now (canonical), swapped when `sandbox.toml` names another. A request
    /// loads it once, so all of it is answered from one folder.
    pub root: ArcSwap<StaticRoot>,
    /// How many changes the watcher has seen under the root; file caches empty when it moves.
    pub changes: std::sync::atomic::AtomicU64,
}

/// The last reload attempt of one file, for `/__sandbox/status`.
#[derive(Debug, Clone, Serialize)]
pub struct FileStatus {
    pub origin: String,
    pub file: String,
    pub generation: u64,
    pub ok: bool,
    pub error: Option<String>,
    /// Where in the file the error is, when it is in the text (not for a missing file).
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// The same moment in milliseconds, for the inspector's clock (which shows requests to
    /// the millisecond); beside `at` rather than instead of it, so readers of `at` keep working.
    pub at_ms: u64,
}

#[derive(Debug)]
pub struct State {
    /// The config in force, with the command-line overrides applied: where every origin's
    /// files come from now. A `sandbox.toml` reload swaps it after the stores it names, and
    /// only with what it could apply (never a port or host name, which need a restart).
    pub config: ArcSwap<Config>,
    pub apis: Vec<ApiOrigin>,
    pub statics: Vec<StaticOrigin>,
    pub events: broadcast::Sender<Event>,
    pub log: Log,
    pub status: Mutex<Vec<FileStatus>>,
    /// Recent reload attempts, newest last, for the inspector.
    pub history: Mutex<std::collections::VecDeque<FileStatus>>,
    /// Recent requests with their verdicts, for the inspector.
    pub journal: crate::journal::Ring,
    /// Flips to true once on shutdown, so long-lived responses (event streams) end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Benchmark-only switches, so `benches/run` can show what each layer costs.
    pub bench: BenchSwitches,
    /// Guards the journal's machine endpoints (see [`RunKey`]).
    pub key: RunKey,
    /// Where this sandbox listens: no routes file may name one of these as its `upstream`.
    pub listeners: Vec<std::net::SocketAddr>,
    /// The cookies the browser holds by the API's own `Set-Cookie` lines (inferred).
    pub cookies: cookie_jar::InferredJar,
}

impl State {
    /// Every origin's name and URL as the browser reaches it, for a routes file's
    /// `{{origin.NAME}}`.
    pub fn origin_urls(&self) -> Vec<(String, String)> {
        let statics = self.statics.iter().map(|o| (o.name.clone(), o.url.clone()));
        let apis = self.apis.iter().map(|o| (o.name.clone(), o.url.clone()));
        statics.chain(apis).collect()
    }
}

/// Set from `SANDBOX_BENCH_BARE_API`: `verdict` turns off the per-request verdict and journal;
/// any other value also turns off the CORS layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BenchSwitches {
    pub no_verdict: bool,
    pub no_cors: bool,
}

impl BenchSwitches {
    pub fn from_env(value: Option<&str>) -> Self {
        match value {
            None => BenchSwitches::default(),
            Some("verdict") => BenchSwitches {
                no_verdict: true,
                no_cors: false,
            },
            Some(_) => BenchSwitches {
                no_verdict: true,
                no_cors: true,
            },
        }
    }
}

pub type SharedState = Arc<State>;

/// Reload attempts kept for the inspector.
const HISTORY: usize = 50;

impl State {
    pub fn record_status(&self, s: FileStatus) {
        if let Ok(mut h) = self.history.lock() {
            if h.len() >= HISTORY {
                h.pop_front();
            }
            h.push_back(s.clone());
        }
        let mut board = self.status.lock().unwrap_or_else(|e| e.into_inner());
        match board
            .iter_mut()
            .find(|b| b.origin == s.origin && b.file == s.file)
        {
            Some(b) => *b = s,
            None => board.push(s),
        }
    }

    /// Takes `origin`'s entry for `file` off the status board: the file is no longer loaded.
    pub fn forget_status(&self, origin: &str, file: &str) {
        let mut board = self.status.lock().unwrap_or_else(|e| e.into_inner());
        board.retain(|b| !(b.origin == origin && b.file == file));
    }

    /// The policy and routes files API origin `api` loads, as the config in force names them.
    pub fn api_files(&self, api: usize) -> (FileRef, FileRef) {
        let config = self.config.load();
        match config.origin(&self.apis[api].name).map(|o| &o.spec) {
            Some(OriginSpec::Api { routes, policy }) => (policy.clone(), routes.clone()),
            _ => (FileRef::Embedded, FileRef::Embedded),
        }
    }

    /// What `up` warns about the policy in force of API origin `api`, at start and after each
    /// reload: its lints, then whether it lets none of the sandbox's own static origins through.
    pub fn policy_warnings(&self, api: usize) -> Vec<String> {
        let origin = &self.apis[api];
        let (file, _) = self.api_files(api);
        let policy = origin.policy.load();
        let mut out: Vec<String> = policy
            .value
            .warnings
            .iter()
            .map(|w| format!("{} {}: {w}", origin.name, file.display_name()))
            .collect();
        if let Some(w) = policy.value.own_origins_warning(&origin.default_allowed) {
            out.push(format!("{}: {w}", origin.name));
        }
        if policy.value.allows_credentials() {
            out.extend(third_party_cookie_warning(origin, &file.display_name()));
        }
        out
    }

    /// Publishes to open pages; having no page open is not an error.
    pub fn publish(&self, e: Event) {
        let _ = self.events.send(e);
    }
}

/// A warning when a credentialed policy sits between origins that are different sites:
/// Chromium with a fresh profile, Chrome in Incognito and Safari block third-party cookies,
/// so no cookie the API sets is ever stored or sent, whatever the CORS headers say.
fn third_party_cookie_warning(origin: &ApiOrigin, file: &str) -> Option<String> {
    use crate::browser::{Site, Url};
    let api_site = Site::of_url(&Url::parse(&origin.url)?);
    let page = origin.default_allowed.first()?;
    let same_site = origin
        .default_allowed
        .iter()
        .filter_map(|p| Url::parse(p))
        .any(|u| Site::of_url(&u) == api_site);
    if same_site {
        return None;
    }
    let page_site = Site::of_url(&Url::parse(page)?);
    Some(format!(
        "{}: {file} allows credentials, but the page ({page}, site {page_site}) and the API ({}, site {api_site}) are different sites: Chromium with a fresh profile, Chrome in Incognito and Safari block third-party cookies, so a credentialed fetch here can never carry or store a cookie there (Firefox keeps such cookies per top-level site: they work from this page, and from no page of another site). To test cookies, serve both as ports of one host (hostname = \"localhost\" on each origin); README \"Cookies\" shows the layout",
        origin.name, origin.url
    ))
}

/// Seconds since the Unix epoch with millisecond precision.
pub fn unix_now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0)
}

/// Now, as a [`FileStatus`] records it: `(at, at_ms)`, one reading of the clock.
pub fn status_time() -> (u64, u64) {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    (ms / 1000, ms)
}

/// Absolute form of a path without requiring it to exist (a deleted file is still watched).
pub fn absolute(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    // Canonicalize the parent so watcher events (which report real paths) compare equal.
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => dir.canonicalize().map(|d| d.join(name)).unwrap_or(abs),
        _ => abs,
    }
}
