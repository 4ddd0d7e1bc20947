//! The cookies the browser holds, as far as the sandbox can tell: inferred from the
//! `Set-Cookie` lines its own API sent and the browser model's verdict on each (stored,
//! deleted), so the journal can say which cookie a later request should have carried and
//! why it did not. Names, domains, paths and attributes only: never a value.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::browser::HeldCookie;

/// More than a dev session sets; the oldest go first.
const CAPACITY: usize = 64;

/// The inferred jar, shared by every API origin (a browser has one jar).
#[derive(Debug, Default)]
pub struct InferredJar {
    cookies: Mutex<Vec<HeldCookie>>,
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
        self.cookies.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Stores `cookie`, replacing one of the same name, domain and path (and partition), as a
    /// browser does.
    pub fn store(&self, cookie: HeldCookie) {
        let Ok(mut g) = self.cookies.lock() else {
            return;
        };
        g.retain(|c| !same_slot(c, &cookie));
        if g.len() >= CAPACITY {
            g.remove(0);
        }
        g.push(cookie);
        self.any.store(true, Ordering::Relaxed);
    }

    /// Removes the cookie in `cookie`'s slot (an expired `Set-Cookie` line).
    pub fn delete(&self, cookie: &HeldCookie) {
        if let Ok(mut g) = self.cookies.lock() {
            g.retain(|c| !same_slot(c, cookie));
        }
    }
}

fn same_slot(a: &HeldCookie, b: &HeldCookie) -> bool {
    a.name == b.name
        && a.domain == b.domain
        && a.path == b.path
        && a.partitioned == b.partitioned
        && a.partition_site == b.partition_site
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(name: &str, path: &str) -> HeldCookie {
        HeldCookie {
            name: name.into(),
            value: String::new(),
            domain: Some("localhost".into()),
            path: path.into(),
            secure: false,
            http_only: false,
            same_site: None,
            partitioned: false,
            partition_site: None,
        }
    }

    #[test]
    fn a_cookie_replaces_its_slot_and_deletion_empties_it() {
        let jar = InferredJar::default();
        assert!(!jar.maybe_holds());
        jar.store(cookie("sid", "/"));
        jar.store(cookie("sid", "/"));
        jar.store(cookie("sid", "/api"));
        assert_eq!(jar.snapshot().len(), 2);
        jar.delete(&cookie("sid", "/"));
        assert_eq!(jar.snapshot(), vec![cookie("sid", "/api")]);
    }

    #[test]
    fn the_oldest_go_first() {
        let jar = InferredJar::default();
        for i in 0..CAPACITY + 3 {
            jar.store(cookie(&format!("c{i}"), "/"));
        }
        let held = jar.snapshot();
        assert_eq!(held.len(), CAPACITY);
        assert_eq!(held[0].name, "c3");
    }
}
