//! The bounded ring of recent API requests (with headers and verdicts) that feeds the
//! inspector page: listed at `/__sandbox/requests`, pushed live as `request` events.
//!
//! Bounded so a long session or a load test cannot grow memory; ids only increase, so a page
//! can tell which entries it has already shown.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::redact::Redactor;
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
    pub request_headers: HeaderLines,
    pub response_headers: HeaderLines,
    /// The policy generation the request was served under.
    pub policy_generation: Option<u64>,
}

/// Header lines packed into one buffer: every API request stores two of these, and one
/// buffer costs two allocations where a pair of strings per line cost two per line.
/// Serialised as the `[[name, value], …]` pairs the pages read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderLines {
    text: String,
    /// Where each line's name and value end in `text`.
    ends: Vec<(u32, u32)>,
}

impl HeaderLines {
    /// Replaces the lines, keeping the buffers (the ring reuses the entry it evicts). Values
    /// that are not UTF-8 are kept with replacement characters, as a page shows them;
    /// credential headers only as `redactor` leaves them, so no secret is ever stored.
    pub fn refill<'a>(
        &mut self,
        redactor: &Redactor,
        lines: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) {
        self.text.clear();
        self.ends.clear();
        for (name, value) in lines {
            self.text.push_str(name);
            let name_end = self.text.len() as u32;
            if let Some(redacted) = redactor.redact(name, value) {
                self.text.push_str(&redacted);
            } else {
                match std::str::from_utf8(value) {
                    Ok(v) => self.text.push_str(v),
                    Err(_) => self.text.push_str(&String::from_utf8_lossy(value)),
                }
            }
            self.ends.push((name_end, self.text.len() as u32));
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0usize;
        self.ends.iter().map(move |&(name_end, value_end)| {
            let (n, v) = (name_end as usize, value_end as usize);
            let line = (&self.text[start..n], &self.text[n..v]);
            start = v;
            line
        })
    }
}

impl Serialize for HeaderLines {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.ends.len()))?;
        for line in self.iter() {
            seq.serialize_element(&line)?;
        }
        seq.end()
    }
}

/// Shards: requests are served by several worker threads at once, and with one lock they
/// queued on it (a contended lock puts a thread to sleep, which cost more than the entry).
const SHARDS: usize = 8;

/// The ring, split into shards that each keep the newest `cap` of their own entries; the
/// newest `cap` overall are always among them.
impl Entry {
    fn new(record: RequestRecord) -> Entry {
        Entry {
            id: 0,
            at: 0.0,
            record,
            query: None,
            request_headers: HeaderLines::default(),
            response_headers: HeaderLines::default(),
            policy_generation: None,
        }
    }
}

#[derive(Debug)]
pub struct Ring {
    cap: usize,
    redactor: Redactor,
    next_id: AtomicU64,
    shards: Vec<Mutex<VecDeque<Entry>>>,
}

thread_local! {
    /// Which shard this thread writes to, dealt out in turn as threads first push.
    static SHARD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS
    };
}

impl Ring {
    /// `redactor` carries the run's salt for the fingerprints of redacted headers.
    pub fn new(cap: usize, redactor: Redactor) -> Self {
        Ring {
            cap,
            redactor,
            next_id: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| Mutex::new(VecDeque::new())).collect(),
        }
    }

    /// Stores a request: `fill` writes everything but the record and id into an entry whose
    /// buffers are reused from the one it evicts (so a full ring allocates nothing for
    /// headers). Returns the id, and a copy of the entry when `copy` (for pages listening).
    pub fn record(
        &self,
        record: RequestRecord,
        copy: bool,
        fill: impl FnOnce(&mut Entry),
    ) -> (u64, Option<Entry>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let shard = SHARD.with(|s| *s);
        let mut q = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        let evicted = if q.len() >= self.cap {
            q.pop_front()
        } else {
            None
        };
        let (mut slot, old_record) = match evicted {
            Some(mut old) => {
                let old_record = std::mem::replace(&mut old.record, record);
                (old, Some(old_record))
            }
            None => (Entry::new(record), None),
        };
        slot.id = id;
        fill(&mut slot);
        let copied = copy.then(|| slot.clone());
        q.push_back(slot);
        // Freed after the lock is let go.
        drop(q);
        drop(old_record);
        (id, copied)
    }

    /// What every entry's header lines are filled through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The newest `cap` entries, oldest first.
    pub fn recent(&self) -> Vec<Entry> {
        let mut all: Vec<Entry> = Vec::new();
        for shard in &self.shards {
            let q = shard.lock().unwrap_or_else(|p| p.into_inner());
            all.extend(q.iter().cloned());
        }
        all.sort_by_key(|e| e.id);
        let skip = all.len().saturating_sub(self.cap);
        all.split_off(skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::new([7; 32])
    }

    #[test]
    fn credential_headers_are_stored_redacted() {
        let mut h = HeaderLines::default();
        h.refill(
            &redactor(),
            [
                ("cookie", b"sid=hunter2".as_slice()),
                ("authorization", b"Bearer abc.def".as_slice()),
                ("origin", b"http://a.localhost".as_slice()),
            ],
        );
        let text = serde_json::to_string(&h).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("abc.def"),
            "{text}"
        );
        assert!(text.contains("sid=<redacted: 7 bytes"), "{text}");
        assert!(
            text.contains("[\"origin\",\"http://a.localhost\"]"),
            "{text}"
        );
    }

    fn entry() -> Entry {
        Entry {
            id: 0,
            at: 0.0,
            record: RequestRecord {
                origin_name: "api".into(),
                method: "GET".into(),
                path: "/".into(),
                status: Some(200),
                no_response: None,
                origin: None,
                preflight: false,
                preflight_required: false,
                duration_ms: 0.0,
                verdict: None,
                verdict_if_credentialed: None,
                verdicts: None,
                verdicts_if_credentialed: None,
                cookies: Vec::new(),
                cookies_in: Default::default(),
                carried_cookies: Vec::new(),
            },
            query: None,
            request_headers: HeaderLines::default(),
            response_headers: HeaderLines::default(),
            policy_generation: None,
        }
    }

    #[test]
    fn header_lines_serialise_as_pairs_in_order() {
        let mut h = HeaderLines::default();
        h.refill(
            &redactor(),
            [
                ("origin", b"http://a.localhost".as_slice()),
                ("x-empty", b"".as_slice()),
                ("x-bytes", b"caf\xe9".as_slice()),
            ],
        );
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            serde_json::json!([
                ["origin", "http://a.localhost"],
                ["x-empty", ""],
                ["x-bytes", "caf\u{fffd}"]
            ])
        );
        assert_eq!(
            serde_json::to_value(HeaderLines::default()).unwrap(),
            serde_json::json!([])
        );
    }

    fn push(r: &Ring) -> u64 {
        r.record(entry().record, false, |_| {}).0
    }

    #[test]
    fn bounded_with_increasing_ids() {
        let r = Ring::new(3, redactor());
        for _ in 0..5 {
            push(&r);
        }
        let ids: Vec<u64> = r.recent().iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![3, 4, 5]);
    }

    #[test]
    fn a_reused_entry_keeps_nothing_of_the_one_it_replaces() {
        let r = Ring::new(1, redactor());
        let fill = |query: Option<&'static str>, header: &'static str| {
            move |e: &mut Entry| {
                e.query = query.map(str::to_string);
                e.request_headers
                    .refill(&redactor(), [(header, b"1".as_slice())]);
            }
        };
        r.record(
            entry().record,
            false,
            fill(Some("lab=1"), "x-long-header-name"),
        );
        let (id, copy) = r.record(entry().record, true, fill(None, "a"));
        let copy = copy.unwrap();
        assert_eq!(copy.id, id);
        assert_eq!(copy.query, None);
        assert_eq!(
            serde_json::to_value(&copy.request_headers).unwrap(),
            serde_json::json!([["a", "1"]])
        );
        assert_eq!(r.recent(), vec![copy]);
    }

    #[test]
    fn threads_writing_at_once_leave_the_newest_entries_in_order() {
        let r = std::sync::Arc::new(Ring::new(50, redactor()));
        let threads: Vec<_> = (0..SHARDS + 3)
            .map(|_| {
                let r = std::sync::Arc::clone(&r);
                std::thread::spawn(move || {
                    for _ in 0..40 {
                        push(&r);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let total = (SHARDS as u64 + 3) * 40;
        let ids: Vec<u64> = r.recent().iter().map(|e| e.id).collect();
        assert_eq!(ids, ((total - 49)..=total).collect::<Vec<_>>());
    }
}
