//! Hot-reloadable store: an `ArcSwap` of a value plus its generation number.
//!
//! Owns swapping in a new value. Does not read or validate files: the watcher does that before
//! calling [`Store::swap`]. Readers call [`Store::load`] once per request and keep that snapshot
//! to the end of it, so a reload never splits one request across two versions.

use std::sync::Arc;

use arc_swap::ArcSwap;

/// A value with the generation it was installed at (1 = loaded at startup).
#[derive(Debug)]
pub struct Versioned<T> {
    pub generation: u64,
    pub value: T,
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
    pub fn new(value: T) -> Self {
        Store {
            cell: Arc::new(ArcSwap::from_pointee(Versioned {
                generation: 1,
                value,
            })),
        }
    }

    /// The current snapshot. One atomic load; hold the `Arc` for the whole request.
    pub fn load(&self) -> Arc<Versioned<T>> {
        self.cell.load_full()
    }

    /// Installs a new value and returns its generation. Only the watcher thread swaps, so the
    /// read-then-store below cannot race with another writer.
    pub fn swap(&self, value: T) -> u64 {
        let generation = self.cell.load().generation + 1;
        self.cell.store(Arc::new(Versioned { generation, value }));
        generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_outlives_swap() {
        let s = Store::new("a");
        let before = s.load();
        assert_eq!(s.swap("b"), 2);
        assert_eq!(before.value, "a");
        assert_eq!(s.load().value, "b");
        assert_eq!(s.clone().load().generation, 2);
    }
}
