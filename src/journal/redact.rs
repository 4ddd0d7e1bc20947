//! What the journal keeps of a credential header: never its value.
//!
//! Browsers do not separate `localhost` cookies by port, so a credentialed request from the
//! lab carries the cookies of every other app on `localhost`; `Authorization` carries tokens
//! and passwords. The ring (and so `/__sandbox/requests` and `request` events) keeps, for
//! `Cookie`, `Set-Cookie`, `Authorization` and `Proxy-Authorization`, only what answers "was
//! it sent, and was it the same one?": the header name, each cookie's name (and a
//! `Set-Cookie`'s attributes, which matter for CORS with credentials), an authorization
//! scheme, each secret's length and a short fingerprint.
//!
//! It also holds the one rule for which other names look like secrets ([`secret_name`]),
//! which the fixtures' scrubber and `up --record` share.
//!
//! The fingerprint is SHA-256 over a per-run salt and the value, cut to 8 hex digits: equal
//! values look equal within one run, and even a short password cannot be looked up in a
//! table, because nobody outside the process knows the salt.
//!
//! Pure: what was sent is decided elsewhere; verdicts are computed from the real headers
//! before anything is redacted.

use sha2::{Digest, Sha256};

/// The headers whose values are never kept.
const SECRET_HEADERS: [&str; 4] = [
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
];

/// Words that make a name look like it holds a secret (a query parameter, a header, a field).
const SECRET_WORDS: [&str; 12] = [
    "token",
    "password",
    "passwd",
    "secret",
    "session",
    "auth",
    "apikey",
    "api_key",
    "api-key",
    "signature",
    "jwt",
    "credential",
];

/// Whether `name` looks like it holds a secret (`access_token`, `X-Api-Key`, `pwd`, `sig`).
pub fn secret_name(name: &str) -> bool {
    mentions_secret(name)
        || matches!(
            name.to_ascii_lowercase().as_str(),
            "key" | "sig" | "pwd" | "pass" | "code" | "sid"
        )
}

/// Whether `text` contains one of the words that name secrets (`token`, `password`, …).
pub fn mentions_secret(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| t.contains(w))
}

/// Redacts credential headers with one run's salt.
#[derive(Debug, Clone)]
pub struct Redactor {
    salt: [u8; 32],
}

impl Redactor {
    pub fn new(salt: [u8; 32]) -> Self {
        Redactor { salt }
    }

    /// `None` when the header is kept as it is.
    pub fn redact(&self, name: &str, value: &[u8]) -> Option<String> {
        redact(&self.salt, name, value)
    }
}

/// Whether `name` is one of the credential headers the journal never keeps.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The redacted form of a credential header's value, or `None` for any other header.
pub fn redact(salt: &[u8], name: &str, value: &[u8]) -> Option<String> {
    if !is_secret_header(name) {
        return None;
    }
    let text = String::from_utf8_lossy(value);
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "cookie" => text
            .split(';')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| cookie_pair(salt, pair))
            .collect::<Vec<_>>()
            .join("; "),
        "set-cookie" => {
            let (pair, attributes) = text.split_once(';').unwrap_or((&text, ""));
            let mut out = cookie_pair(salt, pair.trim());
            if !attributes.is_empty() {
                out.push(';');
                out.push_str(attributes);
            }
            out
        }
        _ => credentials(salt, text.trim()),
    })
}

/// `name=<redacted …>`; a pair without `=` is all secret.
fn cookie_pair(salt: &[u8], pair: &str) -> String {
    match pair.split_once('=') {
        Some((name, value)) => format!("{}={}", name.trim(), hidden(salt, value.trim())),
        None => hidden(salt, pair),
    }
}

/// `Scheme <redacted …>` when the value starts with an auth scheme (a token), so "Bearer or
/// Basic?" stays answerable.
fn credentials(salt: &[u8], value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, rest))
            if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            format!("{scheme} {}", hidden(salt, rest.trim()))
        }
        _ => hidden(salt, value),
    }
}

fn hidden(salt: &[u8], secret: &str) -> String {
    let digest = Sha256::new()
        .chain_update(salt)
        .chain_update(secret.as_bytes())
        .finalize();
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("<redacted: {} bytes, sha256 {hex}>", secret.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &[u8] = b"salt";

    #[test]
    fn other_headers_are_kept() {
        for name in [
            "origin",
            "x-cookie",
            "cookies",
            "authorization-x",
            "content-type",
        ] {
            assert_eq!(redact(SALT, name, b"v"), None, "{name}");
        }
    }

    #[test]
    fn cookie_keeps_names_and_lengths_never_values() {
        let out = redact(SALT, "Cookie", b"sid=s3cr3t-token; theme=dark;;  flag").unwrap();
        assert!(!out.contains("s3cr3t") && !out.contains("dark"), "{out}");
        let parts: Vec<&str> = out.split("; ").collect();
        assert_eq!(parts.len(), 3, "{out}");
        assert!(
            parts[0].starts_with("sid=<redacted: 12 bytes, sha256 "),
            "{out}"
        );
        assert!(
            parts[1].starts_with("theme=<redacted: 4 bytes, sha256 "),
            "{out}"
        );
        assert!(parts[2].starts_with("<redacted: 4 bytes, sha256 "), "{out}");
    }

    #[test]
    fn set_cookie_keeps_its_attributes() {
        let out = redact(
            SALT,
            "set-cookie",
            b"sid=abc123; Path=/; HttpOnly; SameSite=None",
        )
        .unwrap();
        assert!(out.starts_with("sid=<redacted: 6 bytes, sha256 "), "{out}");
        assert!(out.ends_with("; Path=/; HttpOnly; SameSite=None"), "{out}");
        assert!(!out.contains("abc123"), "{out}");
    }

    #[test]
    fn authorization_keeps_the_scheme() {
        for name in ["authorization", "Proxy-Authorization"] {
            let out = redact(SALT, name, b"Basic dXNlcjpodW50ZXIy").unwrap();
            assert!(
                out.starts_with("Basic <redacted: 16 bytes, sha256 "),
                "{out}"
            );
            assert!(!out.contains("dXNlcjpodW50ZXIy"), "{out}");
        }
        let bare = redact(SALT, "authorization", b"tok/en=").unwrap();
        assert!(bare.starts_with("<redacted: 7 bytes"), "{bare}");
        assert!(!bare.contains("tok"), "{bare}");
    }

    #[test]
    fn fingerprints_tell_equal_values_apart_from_others_within_a_salt_only() {
        let a = redact(SALT, "cookie", b"sid=one").unwrap();
        assert_eq!(a, redact(SALT, "cookie", b"sid=one").unwrap());
        assert_ne!(a, redact(SALT, "cookie", b"sid=two").unwrap());
        assert_ne!(a, redact(b"other", "cookie", b"sid=one").unwrap());
        let hex = a.rsplit(' ').next().unwrap().trim_end_matches('>');
        assert_eq!(hex.len(), 8);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{a}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_redacted_too() {
        let out = redact(SALT, "cookie", b"sid=caf\xe9").unwrap();
        assert!(out.starts_with("sid=<redacted: "), "{out}");
        assert!(!out.contains("caf"), "{out}");
    }
}
