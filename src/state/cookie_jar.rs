//! The cookies the browser holds, as far as the sandbox can tell: inferred from the
//! `Set-Cookie` lines its own API sent and the browser model's verdict on each (stored,
//! deleted), so the journal can say which cookie a later request should have carried and
//! why it did not. Names, domains, paths and attributes only: never a value.
//!
//! One jar per engine: the same `Set-Cookie` line is stored by one engine and refused by
//! another (Firefox partitions a third-party cookie that Chromium and WebKit block), and
//! each engine's later verdicts follow from its own jar.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::browser::{Browser, CookieJar, CookieVerdict, HeldCookie, Scenario};

/// The inferred jars, shared by every API origin (a browser has one jar).
#[derive(Debug, Default)]
pub struct InferredJar {
    /// In the order of [`Browser::ALL`].
    jars: Mutex<[CookieJar; 3]>,
    /// Lets a request skip the lock while no cookie was ever stored: the usual case, and the
    /// one the request path is measured in.
    any: AtomicBool,
}

fn slot(browser: Browser) -> usize {
    Browser::ALL
        .iter()
        .position(|b| *b == browser)
        .unwrap_or_default()
}

impl InferredJar {
    /// Whether a jar may hold a cookie.
    pub fn maybe_holds(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// A copy of what `browser`'s jar holds, oldest first.
    pub fn snapshot(&self, browser: Browser) -> Vec<HeldCookie> {
        self.jars
            .lock()
            .map(|g| g[slot(browser)].cookies().to_vec())
            .unwrap_or_default()
    }

    /// Applies the store verdicts `browser`'s model gave for `s` (see [`CookieJar::apply`]).
    pub fn apply(&self, browser: Browser, s: &Scenario, verdicts: &[CookieVerdict]) {
        if let Ok(mut g) = self.jars.lock() {
            let jar = &mut g[slot(browser)];
            jar.apply(s, verdicts);
            if !jar.is_empty() {
                self.any.store(true, Ordering::Relaxed);
            }
        }
    }
}
