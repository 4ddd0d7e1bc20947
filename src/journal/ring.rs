//! The bounded ring of recent API requests (with headers and verdicts) that feeds the
//! inspector page: listed at `/__sandbox/requests`, pushed live as `request` events.
//!
//! Bounded so a long session or a load test cannot grow memory; ids only increase, so a page
//! can tell which entries it has already shown.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use super::RequestRecord;

/// Entries kept.
pub const RING_CAPACITY: usize = 200;

/// One request as the inspector shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Entry {
    pub id: u64,
    /// Seconds since the Unix epoch, with milliseconds.
    pub at: f64,
    #[serde(flatten)]
    pub record: RequestRecord,
    /// The request's query string (without `?`), when it had one: the lab page tags each
    /// request it sends with a unique `lab=` parameter to find its entries here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// The policy generation the request was served under.
    pub policy_generation: Option<u64>,
}

#[derive(Debug)]
pub struct Ring {
    cap: usize,
    inner: Mutex<(u64, VecDeque<Entry>)>,
}

impl Ring {
    pub fn new(cap: usize) -> Self {
        Ring {
            cap,
            inner: Mutex::new((0, VecDeque::with_capacity(cap))),
        }
    }

    /// Stores an entry and returns the id assigned to it (the caller copies the entry first
    /// only when a page is listening, so an unwatched sandbox pays for no copy).
    pub fn push(&self, mut e: Entry) -> u64 {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0 += 1;
        e.id = g.0;
        if g.1.len() >= self.cap {
            g.1.pop_front();
        }
        g.1.push_back(e);
        g.0
    }

    /// Entries oldest first.
    pub fn recent(&self) -> Vec<Entry> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.1.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            id: 0,
            at: 0.0,
            record: RequestRecord {
                origin_name: "api".into(),
                method: "GET".into(),
                path: "/".into(),
                status: 200,
                origin: None,
                preflight: false,
                duration_ms: 0.0,
                verdict: None,
                verdict_if_credentialed: None,
            },
            query: None,
            request_headers: vec![],
            response_headers: vec![],
            policy_generation: None,
        }
    }

    #[test]
    fn bounded_with_increasing_ids() {
        let r = Ring::new(3);
        for _ in 0..5 {
            r.push(entry());
        }
        let ids: Vec<u64> = r.recent().iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![3, 4, 5]);
    }
}
