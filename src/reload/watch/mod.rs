//! The watcher: notify (native, or polling with `--poll`) on the parent folders of the policy
//! and routes files and of `sandbox.toml`, and on each static root, feeding one worker thread
//! that re-reads, validates and swaps: natively at once for a write an event says is complete
//! and after [`super::settle`] for the rest; polled, as notify's debouncer delivers.
//!
//! What is watched is derived from the config in force (`Worker::plan`) and reconciled with
//! what notify watches after every reload (`Worker::watch_all`), so a `sandbox.toml` edit
//! naming another policy file or root moves the watches with it.
//!
//! Parent folders, not files: a watch on the file itself is lost after the first save by
//! rename (vim, `sed -i`, JetBrains; notify #531, #113, #247), so we watch the folder
//! non-recursively and filter by exact name in [`super::classify`]. Dropping the
//! [`WatchHandle`] stops notify and the worker, so a test cannot leak a watcher.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use notify::RecursiveMode;
use notify_debouncer_full::DebounceEventResult;

mod apply;
mod debounce;
mod report;

use apply::Applied;
use debounce::{complete_paths, debouncer, is_change, Dirs};
pub use debounce::{WatchError, WatcherKind, DEBOUNCE, POLL_INTERVAL};

use super::classify::{css_only, Action, Watched};
use super::config::{watched_root, ConfigReload};
use super::fingerprint::{digest_main, fingerprint};
use super::settle::{Settle, SETTLE};
use super::storm::{Msg, Overdue};
use crate::config::{FileRef, StaticRoot};
use crate::source_file::{read_regular, LoadError, Source};
use crate::state::{absolute, Event, SharedState};

/// Keeps the watcher alive; dropping it stops notify and the worker thread.
pub struct WatchHandle {
    dirs: Arc<Mutex<Option<Box<dyn Dirs>>>>,
    worker: Option<std::thread::JoinHandle<()>>,
    pub kind: WatcherKind,
    /// How many files and folders are watched (for the banner).
    pub watched_count: usize,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        // Dropping the watcher drops its event sender, which ends the worker's recv loop.
        if let Ok(mut d) = self.dirs.lock() {
            d.take();
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// A file the worker knows how to reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Policy(usize),
    Routes(usize),
    /// `sandbox.toml` itself.
    Config,
}

/// The origin named on the status board and in the log for `sandbox.toml`, which belongs to
/// no origin.
pub const CONFIG_ORIGIN: &str = "sandbox";

struct Worker {
    state: SharedState,
    /// `Some` when `sandbox.toml` is watched (not the built-in default, not a generated one).
    config: Option<ConfigReload>,
    /// Generation of the config in force (1 = as started).
    config_generation: u64,
    /// Files a new `sandbox.toml` names that failed to load: watched with it, so fixing them
    /// retries it.
    config_pending: Vec<PathBuf>,
    /// What to reload, by index into `watched.files`; rebuilt by [`Worker::plan`].
    targets: Vec<Target>,
    watched: Watched,
    dirs: Arc<Mutex<Option<Box<dyn Dirs>>>>,
    watched_dirs: BTreeMap<PathBuf, RecursiveMode>,
    /// Fingerprint of what the last attempt saw, so a touch or a repeated bad save is not
    /// reported twice.
    last_seen: HashMap<Target, u64>,
    /// The same for files under static roots: one save can arrive as two debounced batches
    /// (a rename's two halves), and open pages should reload once, not twice.
    static_seen: HashMap<PathBuf, u64>,
    /// Native events under reload targets that do not say a write is complete, by path.
    settle_targets: Settle<PathBuf>,
    /// Native events under static roots, by origin, waiting to be told as one batch.
    settle_statics: Settle<usize>,
    /// By static origin, when a write under it was last heard complete: one heard within
    /// [`SETTLE`] of the one before is part of a burst (a `git checkout`, a bundler) and joins
    /// the origin's batch, so open pages reload once for it, not once a file.
    static_complete: HashMap<usize, Instant>,
}

/// Static files larger than this are fingerprinted by size and time instead of content.
const STATIC_HASH_LIMIT: u64 = 1024 * 1024;

/// What a static file holds now (or that it is gone), cheaply comparable. Read under the
/// shared rules, so a FIFO swapped in can never block the reload thread.
fn static_fingerprint(path: &Path) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match read_regular(path, STATIC_HASH_LIMIT) {
        Ok(bytes) => bytes.hash(&mut h),
        // Missing, a folder, a FIFO or too big to hash: told apart by what and how large it is.
        Err(e) => (
            e.to_string(),
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.is_dir(), m.len(), m.modified().ok())),
        )
            .hash(&mut h),
    }
    h.finish()
}

/// Starts watching everything the state's origins load from disk, and `config` (the
/// `sandbox.toml` `up` read) when given.
pub fn start(
    state: SharedState,
    kind: WatcherKind,
    config: Option<ConfigReload>,
) -> Result<WatchHandle, WatchError> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let tap = tx.clone();
    let (dirs, kind) = debouncer(
        &state,
        kind,
        move |r| {
            let _ = tx.send(Msg::Batch(r));
        },
        tap,
    )?;
    let dirs = Arc::new(Mutex::new(Some(dirs)));
    let mut worker = Worker::new(state, config, Arc::clone(&dirs));
    worker.watch_all()?;
    for (i, target) in worker.targets.iter().enumerate() {
        let (_, fp, _) = worker.snapshot(i);
        worker.last_seen.insert(*target, fp);
    }
    let watched_count = worker.watched_count();
    let thread = std::thread::Builder::new()
        .name("sandbox-reload".into())
        .spawn(move || worker.run(&rx))
        .map_err(|e| WatchError::Start(e.to_string()))?;
    Ok(WatchHandle {
        dirs,
        worker: Some(thread),
        kind,
        watched_count,
    })
}

impl Worker {
    /// Until the watcher stops. Natively: each write an event says is complete acted on at
    /// once, the rest once settled. With `--poll`: each batch as the debouncer delivers it,
    /// and each reload target the debouncer has held back for [`super::storm::MAX_WAIT`] (a
    /// save storm) reloaded anyway.
    fn run(&mut self, rx: &mpsc::Receiver<Msg>) {
        let mut overdue = Overdue::default();
        loop {
            let now = Instant::now();
            let wait = [
                overdue.wait(now),
                self.settle_targets.wait(now),
                self.settle_statics.wait(now),
            ]
            .into_iter()
            .flatten()
            .min();
            let msg = match wait {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(wait) => rx.recv_timeout(wait),
            };
            match msg {
                Ok(Msg::Touched(path)) => overdue.touched(path, Instant::now()),
                Ok(Msg::Batch(result)) => {
                    if let Ok(events) = &result {
                        overdue.delivered(
                            events
                                .iter()
                                .flat_map(|e| e.event.paths.iter().map(PathBuf::as_path)),
                        );
                    }
                    self.handle(result);
                }
                Ok(Msg::Raw(event)) => self.raw(event),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            let mut due = overdue.take_due(now);
            for (_, paths) in self.settle_targets.take_due(now) {
                due.extend(paths);
            }
            for action in self.watched.classify(due.iter().map(PathBuf::as_path)) {
                if let Action::Reload(i) = action {
                    self.reload(i);
                }
            }
            let settled: Vec<PathBuf> = (self.settle_statics.take_due(now).into_iter())
                .flat_map(|(_, paths)| paths)
                .collect();
            if !settled.is_empty() {
                self.act(settled.iter().map(PathBuf::as_path));
            }
        }
    }

    /// One native event: what it says is completely written is acted on now (a static file
    /// only when it starts a burst), the rest waits to settle.
    fn raw(&mut self, event: notify::Result<notify::Event>) {
        let event = match event {
            Ok(event) => event,
            Err(e) => return self.state.log.warning(&format!("file watcher: {e}")),
        };
        let now = Instant::now();
        if event.need_rescan() {
            // The kernel dropped events: any target may have changed.
            for f in self.watched.files.iter().flatten() {
                self.settle_targets.heard(f.clone(), f.clone(), now);
            }
            return;
        }
        if !is_change(&event.kind) {
            return;
        }
        let complete = complete_paths(&event);
        let mut act_now = Vec::new();
        for path in &event.paths {
            let is_complete = complete.contains(path);
            for action in self.watched.classify([path.as_path()]) {
                match action {
                    Action::Reload(_) if is_complete => {
                        self.settle_targets.forget(path);
                        act_now.push(path.clone());
                    }
                    Action::Reload(_) => self.settle_targets.heard(path.clone(), path.clone(), now),
                    Action::Static { origin, .. } => {
                        // Only complete writes mark a burst: a save by delete + create is
                        // heard first as a delete and a create, and must not wait.
                        let burst = is_complete
                            && (self.static_complete.insert(origin, now))
                                .is_some_and(|at| now.saturating_duration_since(at) < SETTLE);
                        if is_complete && !burst {
                            act_now.push(path.clone());
                        } else {
                            self.settle_statics.heard(origin, path.clone(), now);
                        }
                    }
                }
            }
        }
        if !act_now.is_empty() {
            self.act(act_now.iter().map(PathBuf::as_path));
        }
    }

    fn new(
        state: SharedState,
        config: Option<ConfigReload>,
        dirs: Arc<Mutex<Option<Box<dyn Dirs>>>>,
    ) -> Worker {
        let mut worker = Worker {
            state,
            config,
            config_generation: 1,
            config_pending: Vec::new(),
            targets: Vec::new(),
            watched: Watched::default(),
            dirs,
            watched_dirs: BTreeMap::new(),
            last_seen: HashMap::new(),
            static_seen: HashMap::new(),
            settle_targets: Settle::default(),
            settle_statics: Settle::default(),
            static_complete: HashMap::new(),
        };
        worker.plan();
        worker
    }

    /// Derives the targets and watched paths from the config in force: each API's policy
    /// and routes files (with the routes' body files), `sandbox.toml` (with any files of a
    /// new version that failed to load), each static root.
    fn plan(&mut self) {
        let mut targets = Vec::new();
        let mut watched = Watched::default();
        for (i, api) in self.state.apis.iter().enumerate() {
            let (policy, routes) = self.state.api_files(i);
            if let FileRef::Path(p) = policy {
                targets.push(Target::Policy(i));
                watched.files.push(vec![absolute(&p)]);
            }
            if let FileRef::Path(p) = routes {
                targets.push(Target::Routes(i));
                let mut files = vec![absolute(&p)];
                // Absolute like the routes file: events name absolute paths.
                files.extend(
                    api.routes
                        .load()
                        .value
                        .body_files
                        .iter()
                        .map(|f| absolute(f)),
                );
                watched.files.push(files);
            }
        }
        if let Some(c) = &self.config {
            targets.push(Target::Config);
            let mut files = vec![absolute(&c.path)];
            files.extend(self.config_pending.iter().cloned());
            watched.files.push(files);
        }
        for s in &self.state.statics {
            watched.roots.push(watched_root(&s.root.load()));
        }
        self.targets = targets;
        self.watched = watched;
    }

    /// How many files and folders are watched (for the banner).
    fn watched_count(&self) -> usize {
        let roots = self.state.statics.iter();
        self.watched.files.iter().map(Vec::len).sum::<usize>()
            + roots
                .filter(|s| matches!(**s.root.load(), StaticRoot::Dir(_)))
                .count()
    }

    /// Reconciles notify's watches with the plan: each file's folder non-recursively, each
    /// root recursively; folders no longer needed are let go.
    fn watch_all(&mut self) -> Result<(), WatchError> {
        let mut wanted: BTreeMap<PathBuf, RecursiveMode> = BTreeMap::new();
        for files in &self.watched.files {
            for f in files {
                if let Some(dir) = f.parent() {
                    wanted.insert(dir.to_path_buf(), RecursiveMode::NonRecursive);
                }
            }
        }
        for root in &self.watched.roots {
            if root.is_dir() {
                wanted.insert(root.clone(), RecursiveMode::Recursive);
            }
        }
        let mut guard = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(dirs) = guard.as_mut() else {
            return Ok(());
        };
        let stale: Vec<PathBuf> = (self.watched_dirs.iter())
            .filter(|(d, m)| wanted.get(*d) != Some(m))
            .map(|(d, _)| d.clone())
            .collect();
        for dir in &stale {
            // A folder that is gone has no watch left to remove.
            let _ = dirs.unwatch(dir);
            self.watched_dirs.remove(dir);
        }
        // The debouncer forgets folders beneath one it stops watching; watch those again.
        self.watched_dirs
            .retain(|d, _| !stale.iter().any(|s| d.starts_with(s)));
        for (dir, mode) in wanted {
            if self.watched_dirs.contains_key(&dir) {
                continue;
            }
            dirs.watch(&dir, mode).map_err(|e| match e.kind {
                notify::ErrorKind::MaxFilesWatch => {
                    WatchError::TooManyWatches { path: dir.clone() }
                }
                _ => WatchError::Watch {
                    path: dir.clone(),
                    source: e,
                },
            })?;
            self.watched_dirs.insert(dir, mode);
        }
        Ok(())
    }

    fn handle(&mut self, result: DebounceEventResult) {
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                for e in errors {
                    self.state.log.warning(&format!("file watcher: {e}"));
                }
                return;
            }
        };
        let paths: Vec<&Path> = events
            .iter()
            .filter(|e| is_change(&e.event.kind))
            .flat_map(|e| e.event.paths.iter().map(PathBuf::as_path))
            .collect();
        self.act(paths);
    }

    /// Reloads the targets `paths` belong to, then tells open pages of the static files among
    /// them whose content changed since they last heard.
    fn act<'a>(&mut self, paths: impl IntoIterator<Item = &'a Path>) {
        let mut statics: BTreeMap<usize, Vec<PathBuf>> = BTreeMap::new();
        let mut reloads = Vec::new();
        for action in self.watched.classify(paths) {
            match action {
                // By target, not index: a `sandbox.toml` reload re-plans the indexes.
                Action::Reload(i) => reloads.push(self.targets[i]),
                Action::Static { origin, rel } => {
                    let full = self.watched.roots[origin].join(&rel);
                    let fp = static_fingerprint(&full);
                    if self.static_seen.insert(full, fp) != Some(fp) {
                        statics.entry(origin).or_default().push(rel);
                    }
                }
            }
        }
        for target in reloads {
            if let Some(i) = self.targets.iter().position(|t| *t == target) {
                self.reload(i);
            }
        }
        for (origin, rels) in statics {
            self.static_changed(origin, &rels);
        }
    }

    /// Tells the log and open pages that files under static origin `origin` changed.
    fn static_changed(&self, origin: usize, rels: &[PathBuf]) {
        let name = self.state.statics[origin].name.clone();
        let files: Vec<String> = rels
            .iter()
            .map(|r| r.to_string_lossy().into_owned())
            .collect();
        let css = css_only(rels);
        // Before anyone hears of the change, so a page reloading at once gets new bytes.
        self.state.statics[origin]
            .changes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        self.state.log.static_changed(&name, &files, css);
        self.state.publish(Event::StaticChanged {
            origin: name,
            files,
            css_only: css,
        });
    }

    /// What target `i` would load now: the main file's bytes, read once (so the fingerprint
    /// and the parse see the same bytes: read twice, a save landing in between would be
    /// reported twice, or a newer save marked as seen and never loaded), a digest of them, and
    /// the fingerprint of those plus every body file.
    fn snapshot(&self, i: usize) -> (u64, u64, Result<Vec<u8>, LoadError>) {
        let main = match self.file_ref(self.targets[i]) {
            FileRef::Path(p) => Source::read_bytes(&p),
            FileRef::Embedded => Err(LoadError::unreadable(Path::new("embedded"), "embedded")),
        };
        let digest = digest_main(&main);
        let fp = fingerprint(digest, &self.watched.files[i][1..]);
        (digest, fp, main)
    }

    /// Where target `t` loads from, as the config in force names it.
    fn file_ref(&self, t: Target) -> FileRef {
        match t {
            Target::Policy(a) => self.state.api_files(a).0,
            Target::Routes(a) => self.state.api_files(a).1,
            Target::Config => match &self.config {
                Some(c) => FileRef::Path(c.path.clone()),
                None => FileRef::Embedded,
            },
        }
    }

    /// The origin and file name target `t` is reported under.
    fn label(&self, t: Target) -> (String, String) {
        let file = self.file_ref(t).display_name();
        match t {
            Target::Policy(a) | Target::Routes(a) => (self.state.apis[a].name.clone(), file),
            Target::Config => (CONFIG_ORIGIN.to_string(), file),
        }
    }

    /// Reloads target `i` if what it loads changed since the last attempt, and reports the
    /// outcome (status board first, then the log line, then the event to open pages).
    fn reload(&mut self, i: usize) {
        let target = self.targets[i];
        let (digest, fp, main) = self.snapshot(i);
        if self.last_seen.get(&target) == Some(&fp) {
            return;
        }
        self.last_seen.insert(target, fp);
        let files_before = self.watched.files[i].clone();
        let label = self.label(target);
        let outcome = self.apply(target, main);
        self.replan();
        // New body (or pending) files join the fingerprint. The main file is not read again:
        // if it changed meanwhile, its event must still find a different fingerprint.
        if let Some(j) = self.targets.iter().position(|t| *t == target) {
            if self.watched.files[j] != files_before {
                let fp = fingerprint(digest, &self.watched.files[j][1..]);
                self.last_seen.insert(target, fp);
            }
        }
        if let Ok(Applied {
            config: Some(c), ..
        }) = &outcome
        {
            self.remember_loaded(c);
        }
        match outcome {
            Ok(applied) => self.report_success(target, label, applied),
            Err(e) => self.report_failure(target, label, &e),
        }
    }

    /// Rebuilds the plan after a reload and reconciles the watches with it; targets no longer
    /// planned are forgotten.
    fn replan(&mut self) {
        self.plan();
        if let Err(e) = self.watch_all() {
            self.state.log.warning(&e.to_string());
        }
        let planned = &self.targets;
        self.last_seen.retain(|t, _| planned.contains(t));
    }
}
