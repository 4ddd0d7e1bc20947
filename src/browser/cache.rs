//! The preflight cache as Chromium keeps it (services/network/cors/preflight_cache.cc):
//! keyed by (page origin, URL spec, network isolation key) and NOT by credentials mode
//! as the spec keys it; each entry remembers whether it was made with credentials and is
//! consulted with `EnsureAllowedRequest`. A hit that does not cover the request removes
//! the entry. Time is passed in (seconds, any epoch); this module reads no clock.

use std::collections::BTreeMap;

use super::check::PreflightResult;
use super::model::Credentials;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CacheKey {
    pub origin: String,
    pub url: String,
    pub isolation_key: String,
}

#[derive(Debug, Clone)]
struct Entry {
    result: PreflightResult,
    expires_at: f64,
}

/// Result of a lookup, for notes.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Miss,
    /// The entry had expired (and is removed).
    Stale,
    /// Present but does not cover this request (and is removed).
    HitAndFail,
    /// Covers the request; seconds until it expires.
    Hit {
        expires_in: f64,
    },
}

#[derive(Debug, Clone, Default)]
pub struct PreflightCache {
    entries: BTreeMap<CacheKey, Entry>,
}

impl PreflightCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Chromium skips URLs of 1024 bytes or more.
    pub fn insert(&mut self, key: CacheKey, result: PreflightResult, now: f64) {
        if key.url.len() >= 1024 {
            return;
        }
        let expires_at = now + result.max_age as f64;
        self.entries.insert(key, Entry { result, expires_at });
    }

    pub fn lookup(
        &mut self,
        key: &CacheKey,
        now: f64,
        credentials: Credentials,
        method: &str,
        headers: &[(String, String)],
    ) -> Lookup {
        let Some(entry) = self.entries.get(key) else {
            return Lookup::Miss;
        };
        // Chromium: expired when expiry <= now, so max-age 0 never serves a hit.
        if entry.expires_at <= now {
            self.entries.remove(key);
            return Lookup::Stale;
        }
        if entry.result.allows(credentials, method, headers) {
            return Lookup::Hit {
                expires_in: entry.expires_at - now,
            };
        }
        self.entries.remove(key);
        Lookup::HitAndFail
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
