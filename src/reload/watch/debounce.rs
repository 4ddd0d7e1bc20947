//! notify's side of the watcher: a debounced native or polling watcher behind one trait, the
//! errors starting or extending it can give (with what to do), and which events mean new
//! content.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{
    new_debouncer_opt, DebounceEventResult, Debouncer, FileIdCache, NoCache, RecommendedCache,
};

use crate::reload::storm::{Msg, Tap};
use crate::state::SharedState;

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
pub(super) trait Dirs: Send {
    fn watch(&mut self, p: &Path, m: RecursiveMode) -> notify::Result<()>;
    fn unwatch(&mut self, p: &Path) -> notify::Result<()>;
}
impl<T: notify::Watcher + Send, C: FileIdCache + Send> Dirs for Debouncer<T, C> {
    fn watch(&mut self, p: &Path, m: RecursiveMode) -> notify::Result<()> {
        Debouncer::watch(self, p, m)
    }
    fn unwatch(&mut self, p: &Path) -> notify::Result<()> {
        Debouncer::unwatch(self, p)
    }
}

/// The debouncer of the requested kind; a native one that cannot start falls back to polling.
pub(super) fn debouncer<F>(
    state: &SharedState,
    kind: WatcherKind,
    handler: F,
    tap: mpsc::Sender<Msg>,
) -> Result<(Box<dyn Dirs>, WatcherKind), WatchError>
where
    F: FnMut(DebounceEventResult) + Send + Clone + 'static,
{
    if kind == WatcherKind::Poll {
        return Ok((poll_debouncer(handler, tap)?, WatcherKind::Poll));
    }
    match new_debouncer_opt::<_, RecommendedWatcher, _>(
        DEBOUNCE,
        Some(TICK),
        handler.clone(),
        Tap::new(RecommendedCache::new(), tap.clone()),
        notify::Config::default(),
    ) {
        Ok(d) => Ok((Box::new(d), WatcherKind::Native)),
        Err(e) => {
            state.log.warning(&format!(
                "native file watcher unavailable ({e}); polling instead"
            ));
            Ok((poll_debouncer(handler, tap)?, WatcherKind::Poll))
        }
    }
}

fn poll_debouncer<F>(handler: F, tap: mpsc::Sender<Msg>) -> Result<Box<dyn Dirs>, WatchError>
where
    F: FnMut(DebounceEventResult) + Send + 'static,
{
    let config = notify::Config::default()
        .with_poll_interval(POLL_INTERVAL)
        // PollWatcher in notify 8 compares mtimes in whole seconds; comparing contents is what
        // catches two saves within one second.
        .with_compare_contents(true);
    new_debouncer_opt::<_, PollWatcher, _>(
        DEBOUNCE,
        Some(TICK),
        handler,
        Tap::new(NoCache, tap),
        config,
    )
    .map(|d| Box::new(d) as Box<dyn Dirs>)
    .map_err(|e| WatchError::Start(e.to_string()))
}

/// Events that can mean new content. Reads (including our own re-read) must not count, or a
/// reload would trigger itself.
pub(super) fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}
