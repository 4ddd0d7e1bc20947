//! The per-run key that guards the journal's machine endpoints (`/__sandbox/requests`,
//! `/in-force`, `/status` and the `request` events of `/__sandbox/events`).
//!
//! Any local process can send a GET without `Origin` or `Sec-Fetch-*` headers, so those
//! headers only keep other *sites* out. What a local process cannot do is read the terminal:
//! `up` prints the inspector's URL with this key, the browser trades it once for an HttpOnly
//! `SameSite=Strict` cookie of the sandbox's own origin (`serve::key_gate`), and its pages'
//! same-origin `fetch` and `EventSource` send that cookie from then on. The key is drawn
//! from the operating system's random source at startup and lives only in memory, so every
//! run has a new one.

use sha2::{Digest, Sha256};

/// 128 bits: out of reach of guessing over loopback at any rate.
const KEY_BYTES: usize = 16;

/// A run's key, as lowercase hex. `None` when the OS could not supply randomness: then no
/// presented key matches, and `up` refuses to start.
pub struct RunKey {
    hex: Option<String>,
}

impl std::fmt::Debug for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never printed: the state is logged in debug output and error reports.
        f.debug_struct("RunKey")
            .field("usable", &self.hex.is_some())
            .finish()
    }
}

/// The operating system had no randomness to give.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw a random key from the operating system: {0}")]
pub struct KeyError(String);

impl RunKey {
    /// A fresh key from the OS random source.
    pub fn generate() -> Result<RunKey, KeyError> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| KeyError(e.to_string()))?;
        Ok(RunKey {
            hex: Some(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        })
    }

    /// A key that nothing matches, for when [`RunKey::generate`] failed.
    pub fn unusable() -> RunKey {
        RunKey { hex: None }
    }

    /// The key as printed in URLs; `None` when unusable.
    pub fn as_str(&self) -> Option<&str> {
        self.hex.as_deref()
    }

    /// Whether `presented` is this key, compared in time independent of where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        let Some(key) = &self.hex else { return false };
        let (a, b) = (key.as_bytes(), presented.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The salt of the journal's fingerprints of redacted headers: derived from the key, so
    /// it is just as unknown outside the process and just as new every run.
    pub fn journal_salt(&self) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"sandbox journal salt\0")
            .chain_update(self.hex.as_deref().unwrap_or_default())
            .finalize()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fresh_and_compare_exactly() {
        let a = RunKey::generate().unwrap();
        let b = RunKey::generate().unwrap();
        let text = a.as_str().unwrap().to_string();
        assert_eq!(text.len(), 2 * KEY_BYTES);
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.matches(&text));
        assert!(!a.matches(&text[1..]));
        assert!(!a.matches(
            &text
                .to_uppercase()
                .replace(|c: char| c.is_ascii_digit(), "x")
        ));
        assert!(!a.matches(""));
        assert!(!format!("{a:?}").contains(&text));
        assert_ne!(a.journal_salt(), b.journal_salt());
    }

    #[test]
    fn an_unusable_key_matches_nothing() {
        let k = RunKey::unusable();
        assert!(!k.matches(""));
        assert_eq!(k.as_str(), None);
    }
}
