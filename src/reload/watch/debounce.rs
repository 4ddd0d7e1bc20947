//! notify's side of the watcher: a raw native watcher or a debounced polling one behind one
//! trait, the errors starting or extending them can give (with what to do), and which events
//! mean new content or say a write is complete.
//!
//! The native watcher hands on every event as it happens: the worker acts at once on those
//! that say a write is complete ([`complete_paths`]) and lets the rest settle
//! (`crate::reload::settle`). Polling sees a save only as what one scan finds, so it keeps
//! notify's debouncer.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use notify_debouncer_full::{
    new_debouncer_opt, DebounceEventResult, Debouncer, FileIdCache, NoCache,
};

use crate::reload::storm::{Msg, Tap};
use crate::state::SharedState;

/// How old a polled change is before the debouncer hands it on (`--poll` sees a save only as
/// the changes one scan finds, never as a complete write).
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

/// Type-erased watcher, so native and polling watchers share one code path.
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

impl Dirs for RecommendedWatcher {
    fn watch(&mut self, p: &Path, m: RecursiveMode) -> notify::Result<()> {
        Watcher::watch(self, p, m)
    }
    fn unwatch(&mut self, p: &Path) -> notify::Result<()> {
        Watcher::unwatch(self, p)
    }
}

/// The native watcher: every event, as it happens, to the worker.
fn native(tx: mpsc::Sender<Msg>) -> notify::Result<RecommendedWatcher> {
    RecommendedWatcher::new(
        move |event: notify::Result<notify::Event>| {
            // The worker gone means the watcher is stopping; nothing to tell.
            let _ = tx.send(Msg::Raw(event));
        },
        notify::Config::default(),
    )
}

/// The watcher of the requested kind; a native one that cannot start falls back to polling.
pub(super) fn debouncer<F>(
    state: &SharedState,
    kind: WatcherKind,
    handler: F,
    tap: mpsc::Sender<Msg>,
) -> Result<(Box<dyn Dirs>, WatcherKind), WatchError>
where
    F: FnMut(DebounceEventResult) + Send + 'static,
{
    if kind == WatcherKind::Poll {
        return Ok((poll_debouncer(handler, tap)?, WatcherKind::Poll));
    }
    match native(tap.clone()) {
        Ok(w) => Ok((Box::new(w), WatcherKind::Native)),
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

/// The paths `event` says were completely written: closed after writing, or renamed onto
/// (the new name of a rename; the old one is gone, which says nothing complete). A create is
/// not complete (its writes and close follow), nor is a modify (more may follow).
pub(super) fn complete_paths(event: &notify::Event) -> Vec<PathBuf> {
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write))
        | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => event.paths.clone(),
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            event.paths.last().cloned().into_iter().collect()
        }
        _ => Vec::new(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind};

    fn event(kind: EventKind, paths: &[&str]) -> notify::Event {
        paths.iter().fold(notify::Event::new(kind), |e, p| {
            e.add_path(PathBuf::from(p))
        })
    }

    #[test]
    fn a_close_after_writing_and_a_rename_onto_the_name_are_complete() {
        let closed = event(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            &["/p/a"],
        );
        assert_eq!(complete_paths(&closed), vec![PathBuf::from("/p/a")]);
        let to = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            &["/p/a"],
        );
        assert_eq!(complete_paths(&to), vec![PathBuf::from("/p/a")]);
        let both = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/p/a.tmp", "/p/a"],
        );
        assert_eq!(complete_paths(&both), vec![PathBuf::from("/p/a")]);
    }

    #[test]
    fn events_that_more_writes_may_follow_are_not_complete() {
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            EventKind::Remove(RemoveKind::File),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Any,
        ] {
            assert!(
                complete_paths(&event(kind, &["/p/a"])).is_empty(),
                "{kind:?}"
            );
        }
    }
}
