//! The cookie parts of the JSON shape: the cookies a scenario says the browser holds, the
//! browser's third-party cookie setting, and one cookie verdict. No rule lives here. A
//! cookie's value is read (scenarios may carry it) but never written into a verdict: values
//! are secrets.

use serde::{Deserialize, Serialize};

/// A cookie's `SameSite` attribute; absent means "unspecified", which Chromium treats as
/// `Lax`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SameSite {
    /// Sent on same-site requests only, never on cross-site ones.
    #[serde(rename = "Strict", alias = "strict")]
    Strict,
    /// Sent on same-site requests and top-level navigations; not on cross-site fetches.
    #[serde(rename = "Lax", alias = "lax")]
    Lax,
    /// Sent everywhere, but only when the cookie is also `Secure`.
    #[serde(rename = "None", alias = "none")]
    None,
}

impl SameSite {
    /// The attribute value as a `Set-Cookie` line writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

fn slash() -> String {
    "/".to_owned()
}

/// A cookie the browser holds before the request, as DevTools' Application panel lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldCookie {
    /// The cookie's name.
    pub name: String,
    /// Its value; read so a scenario can be pasted whole, never printed.
    #[serde(default, skip_serializing)]
    pub value: String,
    /// `.example.com` (leading dot): a domain cookie, sent to that host and every host
    /// under it; `api.example.com`: host-only, sent to that host alone; absent: host-only
    /// on the request's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The cookie's path; `/` when absent.
    #[serde(default = "slash")]
    pub path: String,
    /// The `Secure` flag.
    #[serde(default)]
    pub secure: bool,
    /// The `HttpOnly` flag (changes nothing about sending; kept for completeness).
    #[serde(default)]
    pub http_only: bool,
    /// The `SameSite` attribute; absent when the cookie was set without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<SameSite>,
    /// Set with `Partitioned` (CHIPS): kept per top-level site.
    #[serde(default)]
    pub partitioned: bool,
    /// For a partitioned cookie, the top-level site it was stored under
    /// (`https://example.com`); the page's site when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_site: Option<String>,
}

/// Whether the browser lets cross-site (third-party) cookies through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThirdPartyCookies {
    /// Blocked: what Chromium 156 does with a fresh profile (headless or not), Chrome in
    /// Incognito, and Safari always. DevTools names it `UserPreferences`.
    #[default]
    Blocked,
    /// Allowed: Chrome's default outside Incognito while the user keeps it; SameSite still
    /// applies.
    Allowed,
    /// Kept per top-level site: Firefox's Total Cookie Protection (its default). A
    /// cross-site cookie is stored under the page's site and sent only to requests from pages
    /// of that site; SameSite still applies.
    Partitioned,
}

/// What the browser does with a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieAction {
    /// A `Set-Cookie` line in a response: does the browser keep it?
    Store,
    /// A cookie the browser holds: does the request carry it?
    Send,
}

/// The result for one cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieOutcome {
    /// The browser keeps the cookie.
    Stored,
    /// The browser keeps it in a partition of the page's top-level site only (CHIPS).
    StoredPartitioned,
    /// The line expires the cookie at once: it deletes any cookie of that name, domain and
    /// path and stores nothing.
    Deleted,
    /// The browser refuses to store it.
    Rejected,
    /// The request carries it.
    Sent,
    /// The request does not carry it.
    NotSent,
}

/// The verdict on one cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CookieVerdict {
    /// The cookie's name (never its value).
    pub name: String,
    /// Storing a `Set-Cookie` line, or sending a held cookie.
    pub action: CookieAction,
    /// What the browser does.
    pub outcome: CookieOutcome,
    /// The reasons as Chromium's DevTools names them (`blockedReasons` in the Network
    /// panel's cookie tab and in CDP), in its order; empty where it gives none.
    pub blocked_reasons: Vec<String>,
    /// Why, in words.
    pub reason: String,
    /// What to change so the cookie is stored or sent; `None` when nothing is wrong.
    pub fix: Option<String>,
}

impl CookieVerdict {
    /// Whether the cookie is stored or sent.
    pub fn is_through(&self) -> bool {
        matches!(
            self.outcome,
            CookieOutcome::Stored | CookieOutcome::StoredPartitioned | CookieOutcome::Sent
        )
    }
}
