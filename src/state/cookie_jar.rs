//! The cookies the browser holds, as far as the sandbox can tell: inferred from the
//! `Set-Cookie` lines its own API sent and the browser model's verdict on each (stored,
//! deleted), so the journal can say which cookie a later request should have carried and
//! why it did not. Names, domains, paths and attributes only: never a value.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::browser::{CookieJar, CookieVerdict, HeldCookie, Scenario};

/// The inferred jar, shared by every API origin (a browser has one jar).
#[derive(Debug, Default)]
pub struct InferredJar {
    jar: Mutex<CookieJar>,
    /// Lets a request skip the lock while no cookie was ever stored: the usual case, and the
    /// one the request path is measured in.
    any: AtomicBool,
}

impl InferredJar {
    /// Whether the jar may hold a cookie.
    pub fn maybe_holds(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// A copy of what it holds, oldest first.
    pub fn snapshot(&self) -> Vec<HeldCookie> {
        self.jar
            .lock()
            .map(|g| g.cookies().to_vec())
            .unwrap_or_default()
    }

    /// Applies the store verdicts the model gave for `s` (see [`CookieJar::apply`]).
    pub fn apply(&self, s: &Scenario, verdicts: &[CookieVerdict]) {
        if let Ok(mut g) = self.jar.lock() {
            g.apply(s, verdicts);
            if !g.is_empty() {
                self.any.store(true, Ordering::Relaxed);
            }
        }
    }
}
