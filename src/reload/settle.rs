//! The native watcher's wait for events that do not say a write is complete.
//!
//! A close after writing or a rename onto the name is acted on at once (the watcher's fast
//! path). Everything else (a modify from a writer that keeps the file open, a delete that a
//! create may follow, a permission change, a burst of static files) is held in [`Settle`]
//! under a key (a reload target's path, a static root) until the key has been quiet for
//! [`SETTLE`], or has waited [`MAX_WAIT`] under a storm, and is then acted on as one batch.
//!
//! Quiet, not age: notify's debouncer hands on each event once it is old enough, so a writer
//! pausing mid-save, or a checkout spread over more than its timeout, was read half way or
//! told to pages in dozens of batches.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a key must be quiet before it is acted on. Longer than a writer's pause mid-save
/// (an editor flushing in chunks, a slow mount), so a half file is not read.
pub const SETTLE: Duration = Duration::from_millis(100);

/// The longest a key is held however often it is touched (a save storm, a bundler rewriting
/// its output), so the last save still applies within a bound.
pub const MAX_WAIT: Duration = Duration::from_millis(300);

#[derive(Debug)]
struct Pending {
    first: Instant,
    last: Instant,
    paths: BTreeSet<PathBuf>,
}

/// Keys touched and not yet acted on, with the paths heard under each.
#[derive(Debug)]
pub struct Settle<K> {
    pending: HashMap<K, Pending>,
}

impl<K> Default for Settle<K> {
    fn default() -> Self {
        Settle {
            pending: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Settle<K> {
    /// An event that does not say a write is complete touched `path` under `key`.
    pub fn heard(&mut self, key: K, path: PathBuf, now: Instant) {
        let p = self.pending.entry(key).or_insert(Pending {
            first: now,
            last: now,
            paths: BTreeSet::new(),
        });
        p.last = now;
        p.paths.insert(path);
    }

    /// True while `key` has events waiting.
    pub fn is_pending(&self, key: &K) -> bool {
        self.pending.contains_key(key)
    }

    /// Drops `key`'s wait (it was acted on by other means).
    pub fn forget(&mut self, key: &K) {
        self.pending.remove(key);
    }

    /// How long until the next key is due; `None` when nothing waits.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        (self.pending.values())
            .map(|p| due_at(p).saturating_duration_since(now))
            .min()
    }

    /// The keys due now with the paths heard under each, forgotten as they are returned.
    pub fn take_due(&mut self, now: Instant) -> Vec<(K, BTreeSet<PathBuf>)> {
        let due: Vec<K> = (self.pending.iter())
            .filter(|(_, p)| due_at(p) <= now)
            .map(|(k, _)| k.clone())
            .collect();
        due.into_iter()
            .filter_map(|k| self.pending.remove(&k).map(|p| (k, p.paths)))
            .collect()
    }
}

fn due_at(p: &Pending) -> Instant {
    (p.last + SETTLE).min(p.first + MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_key_is_due_once_quiet_for_the_settle_time() {
        let mut s = Settle::default();
        let t0 = Instant::now();
        s.heard("k", PathBuf::from("/p/a"), t0);
        s.heard("k", PathBuf::from("/p/b"), t0 + ms(30));
        // The second event restarts the wait: a writer pausing 30 ms is not read.
        assert!(s.take_due(t0 + SETTLE).is_empty());
        assert_eq!(s.wait(t0 + SETTLE), Some(ms(30)));
        let due = s.take_due(t0 + ms(30) + SETTLE);
        let paths: Vec<PathBuf> = due[0].1.iter().cloned().collect();
        assert_eq!(paths, vec![PathBuf::from("/p/a"), PathBuf::from("/p/b")]);
        assert_eq!(s.wait(t0 + SETTLE * 2), None);
    }

    #[test]
    fn a_storm_cannot_hold_a_key_past_the_maximum_wait() {
        let mut s = Settle::default();
        let t0 = Instant::now();
        let mut now = t0;
        while now < t0 + MAX_WAIT {
            s.heard(1, PathBuf::from("/p/a"), now);
            assert!(s.take_due(now).is_empty());
            now += ms(5);
        }
        assert_eq!(s.take_due(t0 + MAX_WAIT).len(), 1);
        assert!(!s.is_pending(&1));
    }

    #[test]
    fn a_forgotten_key_is_never_due() {
        let mut s = Settle::default();
        let t0 = Instant::now();
        s.heard(1, PathBuf::from("/p/a"), t0);
        s.heard(2, PathBuf::from("/p/b"), t0);
        s.forget(&1);
        let due: Vec<i32> = s.take_due(t0 + MAX_WAIT).into_iter().map(|d| d.0).collect();
        assert_eq!(due, vec![2]);
    }
}
