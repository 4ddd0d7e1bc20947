//! One `Set-Cookie` line read the way Chromium's `ParsedCookie` reads it: the first `;`
//! piece is the name-value pair (no `=` means an empty name), the rest are attributes
//! matched case-insensitively, unknown ones ignored, the last of a repeated one winning.

use super::super::cookie_model::SameSite;

/// Chromium refuses a name plus value longer than this.
pub const MAX_NAME_VALUE: usize = 4096;

/// A parsed `Set-Cookie` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// The name (possibly empty).
    pub name: String,
    /// Length of the value, all a verdict needs of it.
    pub value_len: usize,
    /// The `Domain` attribute, lower-case, one leading dot removed; `None` when absent or
    /// empty.
    pub domain: Option<String>,
    /// The `Path` attribute when it starts with `/`; otherwise the default path applies.
    pub path: Option<String>,
    /// The `Secure` flag.
    pub secure: bool,
    /// The `HttpOnly` flag.
    pub http_only: bool,
    /// The `SameSite` attribute; `None` when absent or not one of the three values.
    pub same_site: Option<SameSite>,
    /// The `Partitioned` flag.
    pub partitioned: bool,
    /// `Max-Age` of zero or less, or an `Expires` date before 2000: the line deletes.
    pub expired: bool,
}

impl SetCookie {
    /// Reads one line. `None` for a line with neither name nor value (`=`, or nothing).
    pub fn parse(line: &str) -> Option<SetCookie> {
        let mut pieces = line.split(';');
        let pair = pieces.next().unwrap_or("");
        let (name, value) = match pair.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => ("", pair.trim()),
        };
        if name.is_empty() && value.is_empty() {
            return None;
        }
        let mut c = SetCookie {
            name: name.to_owned(),
            value_len: value.len(),
            domain: None,
            path: None,
            secure: false,
            http_only: false,
            same_site: None,
            partitioned: false,
            expired: false,
        };
        let mut max_age_seen = false;
        for piece in pieces {
            let (key, val) = match piece.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (piece.trim(), ""),
            };
            match key.to_ascii_lowercase().as_str() {
                "domain" => {
                    let d = val.strip_prefix('.').unwrap_or(val).to_ascii_lowercase();
                    c.domain = (!d.is_empty()).then_some(d);
                }
                "path" => c.path = val.starts_with('/').then(|| val.to_owned()),
                "secure" => c.secure = true,
                "httponly" => c.http_only = true,
                "partitioned" => c.partitioned = true,
                "samesite" => {
                    c.same_site = match val.to_ascii_lowercase().as_str() {
                        "strict" => Some(SameSite::Strict),
                        "lax" => Some(SameSite::Lax),
                        "none" => Some(SameSite::None),
                        _ => None,
                    }
                }
                "max-age" => {
                    if let Ok(n) = val.parse::<i64>() {
                        max_age_seen = true;
                        c.expired = n <= 0;
                    }
                }
                "expires" if !max_age_seen => c.expired = expires_long_ago(val),
                _ => {}
            }
        }
        Some(c)
    }

    /// Whether the name carries a prefix with rules of its own (`__Secure-`, `__Host-`,
    /// matched case-insensitively as Chromium does).
    pub fn prefix(&self) -> Option<Prefix> {
        let lower = self.name.to_ascii_lowercase();
        if lower.starts_with("__host-") {
            Some(Prefix::Host)
        } else if lower.starts_with("__secure-") {
            Some(Prefix::Secure)
        } else {
            None
        }
    }
}

/// A cookie name prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// `__Secure-`: needs `Secure`, from a secure origin.
    Secure,
    /// `__Host-`: needs `Secure` from a secure origin, `Path=/` and no `Domain`.
    Host,
}

/// Whether an `Expires` date lies in the past for any clock a reader has: the model reads
/// no clock, so only the deletion idiom (a year before 2000, usually 1970) counts as past.
fn expires_long_ago(value: &str) -> bool {
    value
        .split(|c: char| !c.is_ascii_digit())
        .filter(|t| t.len() == 4)
        .filter_map(|t| t.parse::<u32>().ok())
        .any(|year| (1601..2000).contains(&year))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_and_attributes_read_as_chromium_reads_them() {
        let c = SetCookie::parse(
            " sid = abc ; Domain=.Example.COM; Path=/api; secure; HTTPONLY; SameSite=none; Partitioned",
        )
        .unwrap();
        assert_eq!(c.name, "sid");
        assert_eq!(c.value_len, 3);
        assert_eq!(c.domain.as_deref(), Some("example.com"));
        assert_eq!(c.path.as_deref(), Some("/api"));
        assert!(c.secure && c.http_only && c.partitioned);
        assert_eq!(c.same_site, Some(SameSite::None));
        assert!(!c.expired);
    }

    #[test]
    fn odd_lines_keep_chromium_meanings() {
        let bare = SetCookie::parse("sid").unwrap();
        assert_eq!((bare.name.as_str(), bare.value_len), ("", 3));
        assert_eq!(SetCookie::parse("=abc").unwrap().name, "");
        assert!(SetCookie::parse("=").is_none());
        assert!(SetCookie::parse("  ").is_none());
        let c = SetCookie::parse("a=1; Path=relative; SameSite=bogus; Domain=").unwrap();
        assert_eq!((c.path, c.same_site, c.domain), (None, None, None));
    }

    #[test]
    fn deletion_lines_are_recognised() {
        assert!(SetCookie::parse("a=; Max-Age=0").unwrap().expired);
        assert!(SetCookie::parse("a=; Max-Age=-1").unwrap().expired);
        assert!(
            SetCookie::parse("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
                .unwrap()
                .expired
        );
        assert!(
            !SetCookie::parse("a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT")
                .unwrap()
                .expired
        );
        // Max-Age wins over Expires whatever their order.
        assert!(
            !SetCookie::parse("a=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
                .unwrap()
                .expired
        );
    }

    #[test]
    fn prefixes_match_without_case() {
        assert_eq!(
            SetCookie::parse("__HOST-a=1").unwrap().prefix(),
            Some(Prefix::Host)
        );
        assert_eq!(
            SetCookie::parse("__secure-a=1").unwrap().prefix(),
            Some(Prefix::Secure)
        );
        assert_eq!(SetCookie::parse("_Host-a=1").unwrap().prefix(), None);
    }
}
