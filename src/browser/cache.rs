//! The preflight cache as Chromium keeps it (and, with each engine's lifetime cap and
//! wildcard rule from `browsers`, as Firefox and WebKit do) (services/network/cors/preflight_cache.cc):
//! keyed by (page origin, URL spec, network isolation key) and NOT by credentials mode
//! as the spec keys it; each entry remembers whether it was made with credentials and is
//! consulted with `EnsureAllowedRequest`. A hit that does not cover the request removes
//! the entry. Time is passed in (seconds, any epoch); this module reads no clock.

use std::collections::BTreeMap;

use super::browsers::CachedWildcard;
use super::check::PreflightResult;
use super::model::Credentials;

/// What Chromium keys a cached preflight by: not the credentials mode, which each entry
/// records instead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CacheKey {
    /// The page's serialized origin (never the tainted "null").
    pub origin: String,
    /// The request URL without its fragment.
    pub url: String,
    /// The network isolation key (here the top-frame site, the page origin by default).
    pub isolation_key: String,
    /// Whether the request was credentialed, in an engine that keys by it (Firefox, as the
    /// Fetch standard does); `None` in Chromium and WebKit, whose entries record it instead.
    pub credentials: Option<bool>,
}

#[derive(Debug, Clone)]
struct Cached {
    result: PreflightResult,
    expires_at: f64,
}

/// What the cache found for a request; the engine turns it into a note.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// No entry for the key: a preflight is sent.
    Miss,
    /// The entry had expired (and is removed).
    Stale,
    /// Present but does not cover this request (and is removed).
    HitAndFail,
    /// Covers the request; seconds until it expires.
    Hit {
        /// Seconds left before the entry expires.
        expires_in: f64,
    },
}

/// Chromium's preflight cache for one browsing session: successful preflight results by
/// [`CacheKey`], each with its expiry time.
#[derive(Debug, Clone, Default)]
pub struct PreflightCache {
    entries: BTreeMap<CacheKey, Cached>,
}

impl PreflightCache {
    /// An empty cache, as a fresh browser profile starts with.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a successful preflight's result, made at `now`, until `now + max_age`.
    /// Chromium skips URLs of 1024 bytes or more.
    pub fn insert(&mut self, key: CacheKey, result: PreflightResult, now: f64) {
        if key.url.len() >= 1024 {
            return;
        }
        let expires_at = now + result.max_age as f64;
        self.entries.insert(key, Cached { result, expires_at });
    }

    /// Looks for an entry covering a request with these credentials, method and headers at
    /// time `now`, a cached `*` covering what `wildcard` says; an expired or non-covering
    /// entry is removed.
    pub fn lookup(
        &mut self,
        key: &CacheKey,
        now: f64,
        credentials: Credentials,
        method: &str,
        headers: &[(String, String)],
        wildcard: CachedWildcard,
    ) -> Lookup {
        let Some(entry) = self.entries.get(key) else {
            return Lookup::Miss;
        };
        // Chromium: expired when expiry <= now, so max-age 0 never serves a hit.
        if entry.expires_at <= now {
            self.entries.remove(key);
            return Lookup::Stale;
        }
        if entry.result.allows(credentials, method, headers, wildcard) {
            return Lookup::Hit {
                expires_in: entry.expires_at - now,
            };
        }
        self.entries.remove(key);
        Lookup::HitAndFail
    }

    /// How many entries the cache holds (expired ones are only dropped when looked up).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
