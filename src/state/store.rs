//! Hot-reloadable store: an `ArcSwap` of a value, the text it was loaded from and its
//! generation number.
//!
//! Owns swapping in a new value. Does not read or validate files: the watcher does that before
//! calling [`Store::swap`]. Readers call [`Store::load`] once per request and keep that snapshot
//! to the end of it, so a reload never splits one request across two versions. The source text
//! lives in the same snapshot, so what `/__sandbox/in-force` shows and the generation it names
//! always come from one version.

use std::sync::Arc;

use arc_swap::ArcSwap;

/// A value with the generation it was installed at (1 = loaded at startup).
#[derive(Debug)]
pub struct Versioned<T> {
    pub generation: u64,
    pub value: T,
    /// The text `value` was loaded from, as the user wrote it.
    pub source: String,
}

/// Cheap to clone; all clones see the same value.
#[derive(Debug)]
pub struct Store<T> {
    cell: Arc<ArcSwap<Versioned<T>>>,
}

impl<T> Clone for Store<T> {
    fn clone(&self) -> Self {
        Store {
            cell: Arc::clone(&self.cell),
        }
    }
}

impl<T> Store<T> {
    pub fn new(value: T, source: String) -> Self {
        Store {
            cell: Arc::new(ArcSwap::from_pointee(Versioned {
                generation: 1,
                value,
                source,
            })),
        }
    }

    /// The current snapshot. One atomic load; hold the `Arc` for the whole request.
    pub fn load(&self) -> Arc<Versioned<T>> {
        self.cell.load_full()
    }

    /// Installs a new value and returns its generation. Only the watcher thread swaps, so the
    /// read-then-store below cannot race with another writer.
    pub fn swap(&self, value: T, source: String) -> u64 {
        let generation = self.cell.load().generation + 1;
        self.cell.store(Arc::new(Versioned {
            generation,
            value,
            source,
        }));
        generation
    }

    /// Keeps the value and its generation but records a new source text: an edit that
    /// changes no meaning (a comment, spacing) is still what the file says now.
    pub fn retext(&self, source: String) -> u64
    where
        T: Clone,
    {
        let old = self.cell.load_full();
        self.cell.store(Arc::new(Versioned {
            generation: old.generation,
            value: old.value.clone(),
            source,
        }));
        old.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_outlives_swap() {
        let s = Store::new("a", "a = 1".into());
        let before = s.load();
        assert_eq!(s.swap("b", "b = 1".into()), 2);
        assert_eq!(before.value, "a");
        assert_eq!(s.load().value, "b");
        assert_eq!(s.clone().load().generation, 2);
        assert_eq!(s.retext("b = 1 # same".into()), 2);
        assert_eq!(
            (s.load().value, s.load().source.as_str()),
            ("b", "b = 1 # same")
        );
    }
}
