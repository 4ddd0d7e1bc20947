//! A bound on how long a save storm can postpone a reload with `--poll` (the native watcher
//! has its own, `super::settle::MAX_WAIT`).
//!
//! The debouncer acts on a path only once it has been quiet for its timeout, and a save by
//! rename or by delete-and-create starts that wait afresh: under a save every few
//! milliseconds (a generator in a loop) no reload happened for as long as the storm lasted.
//! The debouncer offers no maximum wait, so [`Tap`] hears of each path the moment it is
//! created, renamed or removed (the file-id cache it wraps is told of those as they happen),
//! and [`Overdue`] names the paths the debouncer has held back for [`MAX_WAIT`], which the
//! worker then reloads itself.
//!
//! Only reload targets (policy, routes, bodies) are forced this way; open pages hear of
//! static files when the storm settles, so a bundler rewriting its output does not make them
//! reload every few milliseconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::RecursiveMode;
use notify_debouncer_full::file_id::FileId;
use notify_debouncer_full::{DebounceEventResult, FileIdCache};

/// The longest a storm may hold a reload back: a policy save applies within this much (plus
/// the reload itself) however often the file is saved.
pub const MAX_WAIT: Duration = Duration::from_millis(50);

/// What reaches the reload worker: with `--poll`, the debouncer's batches and each path as it
/// is touched; natively, each event as it happens (`super::settle` waits where it must).
pub enum Msg {
    Batch(DebounceEventResult),
    Touched(PathBuf),
    Raw(notify::Result<notify::Event>),
}

/// A file-id cache that also tells the worker of every path the debouncer adds or removes.
pub struct Tap<C> {
    inner: C,
    tx: mpsc::Sender<Msg>,
}

impl<C> Tap<C> {
    pub fn new(inner: C, tx: mpsc::Sender<Msg>) -> Self {
        Tap { inner, tx }
    }

    fn touched(&self, path: &Path) {
        // The worker gone means the watcher is stopping; nothing to tell.
        let _ = self.tx.send(Msg::Touched(path.to_path_buf()));
    }
}

impl<C: FileIdCache> FileIdCache for Tap<C> {
    fn cached_file_id(&self, path: &Path) -> Option<impl AsRef<FileId>> {
        self.inner.cached_file_id(path)
    }

    fn add_path(&mut self, path: &Path, recursive_mode: RecursiveMode) {
        self.touched(path);
        self.inner.add_path(path, recursive_mode);
    }

    fn remove_path(&mut self, path: &Path) {
        self.touched(path);
        self.inner.remove_path(path);
    }

    fn rescan(&mut self, root_paths: &[(PathBuf, RecursiveMode)]) {
        self.inner.rescan(root_paths);
    }
}

/// Paths touched but not yet delivered by the debouncer, with when each was first touched.
#[derive(Debug, Default)]
pub struct Overdue {
    since: HashMap<PathBuf, Instant>,
}

impl Overdue {
    pub fn touched(&mut self, path: PathBuf, now: Instant) {
        self.since.entry(path).or_insert(now);
    }

    /// The debouncer delivered these; their wait is over.
    pub fn delivered<'a>(&mut self, paths: impl IntoIterator<Item = &'a Path>) {
        for p in paths {
            self.since.remove(p);
        }
    }

    /// How long the worker may wait for the debouncer before the next path is due.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        self.since
            .values()
            .min()
            .map(|first| (*first + MAX_WAIT).saturating_duration_since(now))
    }

    /// The paths held back for [`MAX_WAIT`] or more, forgotten as they are returned.
    pub fn take_due(&mut self, now: Instant) -> Vec<PathBuf> {
        let due: Vec<PathBuf> = self
            .since
            .iter()
            .filter(|(_, first)| now.saturating_duration_since(**first) >= MAX_WAIT)
            .map(|(p, _)| p.clone())
            .collect();
        for p in &due {
            self.since.remove(p);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_touched_without_pause_is_due_after_the_maximum_wait() {
        let mut o = Overdue::default();
        let t0 = Instant::now();
        let path = PathBuf::from("/p/cors.toml");
        // A touch every 3 ms: the first one's time is kept, so the wait does not restart.
        for i in 0..16u32 {
            let now = t0 + Duration::from_millis(3) * i;
            o.touched(path.clone(), now);
            if now < t0 + MAX_WAIT {
                assert!(o.take_due(now).is_empty());
                assert_eq!(o.wait(now), Some(t0 + MAX_WAIT - now));
            }
        }
        assert_eq!(o.take_due(t0 + MAX_WAIT), vec![path.clone()]);
        assert_eq!(o.wait(t0 + MAX_WAIT), None);
        // The next touch starts a new wait.
        o.touched(path.clone(), t0 + MAX_WAIT);
        assert!(o.take_due(t0 + MAX_WAIT).is_empty());
    }

    #[test]
    fn a_delivered_path_is_not_due() {
        let mut o = Overdue::default();
        let t0 = Instant::now();
        o.touched(PathBuf::from("/p/a"), t0);
        o.touched(PathBuf::from("/p/b"), t0);
        o.delivered([Path::new("/p/a")]);
        assert_eq!(o.take_due(t0 + MAX_WAIT), vec![PathBuf::from("/p/b")]);
    }
}
