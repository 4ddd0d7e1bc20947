//! The watcher: notify (native, or polling with `--poll`) on the parent folders of the policy
//! and routes files and on each static root, debounced, feeding one worker thread that
//! re-reads, validates and swaps.
//!
//! Parent folders, not files: a watch on the file itself is lost after the first save by
//! rename (vim, `sed -i`, JetBrains; notify #531, #113, #247), so we watch the folder
//! non-recursively and filter by exact name in [`super::classify`]. Dropping the
//! [`WatchHandle`] stops notify and the worker, so a test cannot leak a watcher.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{
    new_debouncer_opt, DebounceEventResult, Debouncer, FileIdCache, NoCache, RecommendedCache,
};

use super::classify::{css_only, Action, Watched};
use crate::config::{FileRef, StaticRoot};
use crate::source_file::{LoadError, Source};
use crate::state::load::{load_policy, load_routes, Bytes};
use crate::state::{absolute, unix_now, Event, FileStatus, SharedState};

/// Quiet time before a burst of events is acted on. Editors finish a save within a few
/// milliseconds; keeping this short is what makes a policy edit visible "within milliseconds".
pub const DEBOUNCE: Duration = Duration::from_millis(10);
const TICK: Duration = Duration::from_millis(5);
/// How often `--poll` looks at files (Docker, WSL /mnt, network mounts send no events).
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(
        "cannot watch {path}: {source}; try --poll (Docker, WSL and network mounts often need it)"
    )]
    Watch {
        path: PathBuf,
        source: notify::Error,
    },
    #[error("the inotify watch limit is reached while watching {path}; raise fs.inotify.max_user_watches (sysctl) or use --poll")]
    TooManyWatches { path: PathBuf },
    #[error("cannot start the file watcher: {0}")]
    Start(String),
}

/// How files are watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatcherKind {
    Native,
    Poll,
}

/// Type-erased debouncer, so native and polling watchers share one code path.
trait Dirs: Send {
    fn watch(&mut self, p: &Path, m: RecursiveMode) -> notify::Result<()>;
}
impl<T: notify::Watcher + Send, C: FileIdCache + Send> Dirs for Debouncer<T, C> {
    fn watch(&mut self, p: &Path, m: RecursiveMode) -> notify::Result<()> {
        Debouncer::watch(self, p, m)
    }
}

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
        // Dropping the debouncer drops its event sender, which ends the worker's recv loop.
        if let Ok(mut d) = self.dirs.lock() {
            d.take();
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// A file the worker knows how to reload.
#[derive(Debug, Clone, Copy)]
enum Target {
    Policy(usize),
    Routes(usize),
}

impl Target {
    /// The API origin (index into `state.apis`) the file belongs to.
    fn api(self) -> usize {
        match self {
            Target::Policy(a) | Target::Routes(a) => a,
        }
    }
}

struct Worker {
    state: SharedState,
    targets: Vec<Target>,
    watched: Watched,
    dirs: Arc<Mutex<Option<Box<dyn Dirs>>>>,
    watched_dirs: BTreeSet<PathBuf>,
    /// Fingerprint of what the last attempt saw, so a touch or a repeated bad save is not
    /// reported twice.
    last_seen: HashMap<usize, u64>,
    /// The same for files under static roots: one save can arrive as two debounced batches
    /// (a rename's two halves), and open pages should reload once, not twice.
    static_seen: HashMap<PathBuf, u64>,
}

/// Static files larger than this are fingerprinted by size and time instead of content.
const STATIC_HASH_LIMIT: u64 = 1024 * 1024;

/// What a static file holds now (or that it is gone), cheaply comparable.
fn static_fingerprint(path: &Path) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match std::fs::metadata(path) {
        Err(e) => e.kind().to_string().hash(&mut h),
        Ok(m) if !m.is_file() || m.len() > STATIC_HASH_LIMIT => {
            (m.is_dir(), m.len(), m.modified().ok()).hash(&mut h)
        }
        Ok(_) => match std::fs::read(path) {
            Ok(bytes) => bytes.hash(&mut h),
            Err(e) => e.kind().to_string().hash(&mut h),
        },
    }
    h.finish()
}

/// Starts watching everything the state's origins load from disk.
pub fn start(state: SharedState, kind: WatcherKind) -> Result<WatchHandle, WatchError> {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let handler = move |r: DebounceEventResult| {
        let _ = tx.send(r);
    };
    let (dirs, kind): (Box<dyn Dirs>, WatcherKind) = match kind {
        WatcherKind::Native => {
            match new_debouncer_opt::<_, RecommendedWatcher, RecommendedCache>(
                DEBOUNCE,
                Some(TICK),
                handler.clone(),
                RecommendedCache::new(),
                notify::Config::default(),
            ) {
                Ok(d) => (Box::new(d), WatcherKind::Native),
                Err(e) => {
                    state.log.warning(&format!(
                        "native file watcher unavailable ({e}); polling instead"
                    ));
                    (poll_debouncer(handler)?, WatcherKind::Poll)
                }
            }
        }
        WatcherKind::Poll => (poll_debouncer(handler)?, WatcherKind::Poll),
    };
    let dirs = Arc::new(Mutex::new(Some(dirs)));

    let mut targets = Vec::new();
    let mut watched = Watched::default();
    for (i, api) in state.apis.iter().enumerate() {
        if let FileRef::Path(p) = &api.policy_ref {
            targets.push(Target::Policy(i));
            watched.files.push(vec![absolute(p)]);
        }
        if let FileRef::Path(p) = &api.routes_ref {
            targets.push(Target::Routes(i));
            let mut files = vec![absolute(p)];
            files.extend(api.routes.load().value.body_files.iter().cloned());
            watched.files.push(files);
        }
    }
    for s in &state.statics {
        watched.roots.push(match &s.root {
            StaticRoot::Dir(d) => d.canonicalize().unwrap_or_else(|_| absolute(d)),
            // Nothing on disk changes an embedded root; an impossible path never matches.
            StaticRoot::Embedded => PathBuf::from("/\0embedded"),
        });
    }

    let mut worker = Worker {
        state,
        targets,
        watched,
        dirs: Arc::clone(&dirs),
        watched_dirs: BTreeSet::new(),
        last_seen: HashMap::new(),
        static_seen: HashMap::new(),
    };
    worker.watch_all()?;
    for (i, _) in worker.targets.iter().enumerate() {
        let (_, fp, _) = worker.snapshot(i);
        worker.last_seen.insert(i, fp);
    }
    let watched_count = worker.watched.files.iter().map(Vec::len).sum::<usize>()
        + worker
            .state
            .statics
            .iter()
            .filter(|s| matches!(s.root, StaticRoot::Dir(_)))
            .count();

    let thread = std::thread::Builder::new()
        .name("sandbox-reload".into())
        .spawn(move || {
            while let Ok(result) = rx.recv() {
                worker.handle(result);
            }
        })
        .map_err(|e| WatchError::Start(e.to_string()))?;
    Ok(WatchHandle {
        dirs,
        worker: Some(thread),
        kind,
        watched_count,
    })
}

fn poll_debouncer<F>(handler: F) -> Result<Box<dyn Dirs>, WatchError>
where
    F: FnMut(DebounceEventResult) + Send + 'static,
{
    let config = notify::Config::default()
        .with_poll_interval(POLL_INTERVAL)
        // PollWatcher in notify 8 compares mtimes in whole seconds; comparing contents is what
        // catches two saves within one second.
        .with_compare_contents(true);
    new_debouncer_opt::<_, PollWatcher, NoCache>(DEBOUNCE, Some(TICK), handler, NoCache, config)
        .map(|d| Box::new(d) as Box<dyn Dirs>)
        .map_err(|e| WatchError::Start(e.to_string()))
}

/// Events that can mean new content. Reads (including our own re-read) must not count, or a
/// reload would trigger itself.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

impl Worker {
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
        for (dir, mode) in wanted {
            if self.watched_dirs.contains(&dir) {
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
            self.watched_dirs.insert(dir);
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
        let mut statics: BTreeMap<usize, Vec<PathBuf>> = BTreeMap::new();
        for action in self.watched.classify(paths) {
            match action {
                Action::Reload(i) => self.reload(i),
                Action::Static { origin, rel } => {
                    let full = self.watched.roots[origin].join(&rel);
                    let fp = static_fingerprint(&full);
                    if self.static_seen.insert(full, fp) != Some(fp) {
                        statics.entry(origin).or_default().push(rel);
                    }
                }
            }
        }
        for (origin, rels) in statics {
            let name = self.state.statics[origin].name.clone();
            let files: Vec<String> = rels
                .iter()
                .map(|r| r.to_string_lossy().into_owned())
                .collect();
            let css = css_only(&rels);
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
    }

    /// What target `i` would load now: the main file's bytes, read once (so the fingerprint
    /// and the parse see the same bytes: read twice, a save landing in between would be
    /// reported twice, or a newer save marked as seen and never loaded), a digest of them, and
    /// the fingerprint of those plus every body file.
    fn snapshot(&self, i: usize) -> (u64, u64, Result<Vec<u8>, LoadError>) {
        let main = match self.file_ref(i) {
            FileRef::Path(p) => Source::read_bytes(p),
            FileRef::Embedded => Err(LoadError::unreadable(Path::new("embedded"), "embedded")),
        };
        let digest = digest_main(&main);
        let fp = fingerprint(digest, &self.watched.files[i][1..]);
        (digest, fp, main)
    }

    fn file_ref(&self, i: usize) -> &FileRef {
        match self.targets[i] {
            Target::Policy(a) => &self.state.apis[a].policy_ref,
            Target::Routes(a) => &self.state.apis[a].routes_ref,
        }
    }

    /// Reloads target `i` if what it loads changed since the last attempt, and reports the
    /// outcome (status board first, then the log line, then the event to open pages).
    fn reload(&mut self, i: usize) {
        let (digest, fp, main) = self.snapshot(i);
        if self.last_seen.get(&i) == Some(&fp) {
            return;
        }
        self.last_seen.insert(i, fp);
        let files_before = self.watched.files[i].clone();
        match self.apply(i, main) {
            Ok(applied) => {
                if let Err(e) = self.watch_all() {
                    self.state.log.warning(&e.to_string());
                }
                // New body files join the fingerprint. The main file is not read again: if it
                // changed meanwhile, its event must still find a different fingerprint.
                if self.watched.files[i] != files_before {
                    let fp = fingerprint(digest, &self.watched.files[i][1..]);
                    self.last_seen.insert(i, fp);
                }
                self.report_success(i, applied);
            }
            Err(e) => self.report_failure(i, &e),
        }
    }

    /// Loads target `i` from the bytes its fingerprint saw and swaps it in when its meaning
    /// changed (an edit that changes no meaning only updates the source text in force).
    fn apply(&mut self, i: usize, main: Result<Vec<u8>, LoadError>) -> Result<Applied, LoadError> {
        let target = self.targets[i];
        let api = &self.state.apis[target.api()];
        let unchanged = |generation| Applied {
            generation,
            changed: "no change in meaning".to_string(),
        };
        match target {
            Target::Policy(_) => {
                let (p, text) =
                    load_policy(&api.policy_ref, &api.default_allowed, Bytes::Read(main))?;
                let old = api.policy.load();
                Ok(match crate::policy::describe_change(&old.value, &p) {
                    None => unchanged(api.policy.retext(text)),
                    Some(changed) => Applied {
                        generation: api.policy.swap(p, text),
                        changed,
                    },
                })
            }
            Target::Routes(_) => {
                let (r, text) =
                    load_routes(&api.routes_ref, Bytes::Read(main), &self.state.listeners)?;
                let old = api.routes.load();
                if old.value == r {
                    return Ok(unchanged(api.routes.retext(text)));
                }
                let changed = format!("{} → {} routes", old.value.routes.len(), r.routes.len());
                let mut files = vec![self.watched.files[i][0].clone()];
                files.extend(r.body_files.iter().cloned());
                self.watched.files[i] = files;
                Ok(Applied {
                    generation: api.routes.swap(r, text),
                    changed,
                })
            }
        }
    }

    fn report_success(&self, i: usize, applied: Applied) {
        let state = &self.state;
        let target = self.targets[i];
        let api = &state.apis[target.api()];
        let file = self.file_ref(i).display_name();
        let Applied {
            generation,
            changed,
        } = applied;
        // The status board first: whoever sees the log line or the event and then
        // asks /__sandbox/status must find this outcome, not the one before it.
        state.record_status(FileStatus {
            origin: api.name.clone(),
            file: file.clone(),
            generation,
            ok: true,
            error: None,
            line: None,
            column: None,
            at: unix_now(),
        });
        state.log.reloaded(&api.name, &file, generation, &changed);
        if let (Target::Policy(_), Some(secs)) = (target, api.preflight_cache_remaining()) {
            state.log.warning(&format!(
                "{}: a browser may answer preflights from its cache for up to {secs} s more (max-age of the last preflight); reload the page with the cache disabled, or lower max_age, to see this change at once",
                api.name
            ));
        }
        state.publish(Event::Reloaded {
            origin: api.name.clone(),
            file,
            generation,
        });
    }

    fn report_failure(&self, i: usize, e: &LoadError) {
        let state = &self.state;
        let api = &state.apis[self.targets[i].api()];
        let file = self.file_ref(i).display_name();
        let generation = match self.targets[i] {
            Target::Policy(_) => api.policy.load().generation,
            Target::Routes(_) => api.routes.load().generation,
        };
        let (line, column) = e.line_col().unzip();
        state.record_status(FileStatus {
            origin: api.name.clone(),
            file: file.clone(),
            generation,
            ok: false,
            error: Some(event_message(e)),
            line,
            column,
            at: unix_now(),
        });
        state
            .log
            .reload_failed(&api.name, &file, &e.one_line(), &e.render());
        state.publish(Event::ReloadFailed {
            origin: api.name.clone(),
            file,
            line,
            column,
            message: event_message(e),
        });
    }
}

/// What a successful reload installed: its generation and a sentence on what changed.
struct Applied {
    generation: u64,
    changed: String,
}

/// A digest of a main file's bytes, or of why it could not be read (missing, a folder,
/// permission denied, too big: each a state of its own, reported once).
fn digest_main(main: &Result<Vec<u8>, LoadError>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match main {
        Ok(bytes) => (0u8, bytes).hash(&mut h),
        Err(e) => (1u8, e.one_line()).hash(&mut h),
    }
    h.finish()
}

/// The fingerprint of everything a target loads: its main file's digest and each body file.
/// Body files are read under the same rules (size limit, no blocking on a FIFO).
fn fingerprint(main_digest: u64, bodies: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    main_digest.hash(&mut h);
    for f in bodies {
        digest_main(&Source::read_bytes(f)).hash(&mut h);
    }
    h.finish()
}

/// The error without the absolute path (events go to pages; DESIGN.md §6).
fn event_message(e: &LoadError) -> String {
    let message = match e {
        LoadError::Unreadable { reason, .. } => reason.clone(),
        LoadError::Invalid(s) => match &s.help {
            Some(h) => format!("{} (hint: {h})", s.message),
            None => s.message.clone(),
        },
    };
    without_folder(&message, e.path())
}

/// `message` with the folder of `file` left out, so names read relative to it: loaders
/// sometimes name a resolved path (`data.json` is outside /home/…), which a page must not see.
fn without_folder(message: &str, file: &Path) -> String {
    let mut out = message.to_string();
    let given = std::env::current_dir().unwrap_or_default().join(file);
    let folders = [absolute(file), given]
        .into_iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf));
    for dir in folders {
        let dir = dir.display().to_string();
        if dir.len() > 1 {
            out = out.replace(&format!("{dir}/"), "").replace(&dir, ".");
        }
    }
    out
}
