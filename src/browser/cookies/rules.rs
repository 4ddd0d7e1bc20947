//! Chromium 156's cookie rules for one cookie in one request: whether a `Set-Cookie` line
//! is stored and whether a held cookie is sent, as lists of blocked reasons in the order
//! DevTools reports them. The order of the checks is what real Chromium showed (pinned by
//! `tests/cookie_differential.rs`): problems with the line itself (`InvalidDomain`,
//! `InvalidPrefix`) come first and alone; then the third-party cookie setting, which when
//! it blocks is the only reason given for storing (while sending lists it last, after the
//! SameSite reasons); then `Secure` and `SameSite`.

use super::super::browsers::Browser;
use super::super::cookie_model::{HeldCookie, SameSite, ThirdPartyCookies};
use super::super::site::{is_ip_literal, registrable_domain, site_host, Site};
use super::set_cookie::{Prefix, SetCookie, MAX_NAME_VALUE};

/// Why a cookie is not stored or not sent. DevTools has a name for most; `SameSite*`
/// ones are reported in their "Schemeful" spelling, as Chromium 156 does for every
/// cross-site fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// Name plus value longer than 4096 bytes.
    TooLong,
    /// `Domain` names a host the URL is not in, or a public suffix.
    InvalidDomain,
    /// `__Secure-`/`__Host-` rules broken.
    InvalidPrefix,
    /// `Partitioned` without `Secure` from a secure origin: dropped, DevTools says nothing.
    PartitionedInsecure,
    /// Third-party cookies blocked and the request is cross-site.
    UserPreferences,
    /// `Secure` cookie, URL not potentially trustworthy.
    SecureOnly,
    /// The request path is outside the cookie's path.
    NotOnPath,
    /// The cookie belongs to another host.
    DomainMismatch,
    /// A partitioned cookie kept under another top-level site: DevTools does not list it.
    OtherPartition,
    /// `SameSite=Strict` on a cross-site request.
    SameSiteStrict,
    /// `SameSite=Lax` on a cross-site fetch.
    SameSiteLax,
    /// No `SameSite`: treated as `Lax`.
    SameSiteUnspecifiedTreatedAsLax,
    /// `SameSite=None` without `Secure`.
    SameSiteNoneInsecure,
}

/// Every name `Blocked::devtools_name` gives, for validating files that quote them.
pub const DEVTOOLS_COOKIE_REASONS: &[&str] = &[
    "NameValuePairExceedsMaxSize",
    "InvalidDomain",
    "InvalidPrefix",
    "UserPreferences",
    "SecureOnly",
    "NotOnPath",
    "DomainMismatch",
    "SchemefulSameSiteStrict",
    "SchemefulSameSiteLax",
    "SchemefulSameSiteUnspecifiedTreatedAsLax",
    "SameSiteNoneInsecure",
];

impl Blocked {
    /// Every reason, for the tests that must cover them all.
    #[cfg(test)]
    const ALL: [Blocked; 13] = [
        Blocked::TooLong,
        Blocked::InvalidDomain,
        Blocked::InvalidPrefix,
        Blocked::PartitionedInsecure,
        Blocked::UserPreferences,
        Blocked::SecureOnly,
        Blocked::NotOnPath,
        Blocked::DomainMismatch,
        Blocked::OtherPartition,
        Blocked::SameSiteStrict,
        Blocked::SameSiteLax,
        Blocked::SameSiteUnspecifiedTreatedAsLax,
        Blocked::SameSiteNoneInsecure,
    ];

    /// The name in DevTools' `blockedReasons`, or `None` where Chromium reports nothing.
    pub fn devtools_name(self) -> Option<&'static str> {
        Some(match self {
            Blocked::TooLong => "NameValuePairExceedsMaxSize",
            Blocked::InvalidDomain => "InvalidDomain",
            Blocked::InvalidPrefix => "InvalidPrefix",
            Blocked::UserPreferences => "UserPreferences",
            Blocked::SecureOnly => "SecureOnly",
            Blocked::NotOnPath => "NotOnPath",
            Blocked::DomainMismatch => "DomainMismatch",
            Blocked::SameSiteStrict => "SchemefulSameSiteStrict",
            Blocked::SameSiteLax => "SchemefulSameSiteLax",
            Blocked::SameSiteUnspecifiedTreatedAsLax => "SchemefulSameSiteUnspecifiedTreatedAsLax",
            Blocked::SameSiteNoneInsecure => "SameSiteNoneInsecure",
            Blocked::PartitionedInsecure | Blocked::OtherPartition => return None,
        })
    }
}

/// Where the request stands, for the cookie rules.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The request URL's host.
    pub host: &'a str,
    /// The request URL's path (no query), `/` at least.
    pub path: &'a str,
    /// The page's (top-level) site; `None` for an opaque origin.
    pub page_site: Option<&'a Site>,
    /// Whether the URL's site differs from the page's.
    pub cross_site: bool,
    /// Whether the URL is potentially trustworthy (https, or a loopback host).
    pub trustworthy: bool,
    /// The browser's third-party cookie setting.
    pub third_party: ThirdPartyCookies,
    /// The engine, whose cookie rules differ (`Quirks`).
    pub browser: Browser,
}

/// What the browser does with one `Set-Cookie` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// Kept; `partitioned` when under the page's top-level site only.
    Stored {
        /// Kept in a CHIPS partition.
        partitioned: bool,
    },
    /// An expired line: deletes, stores nothing.
    Deleted,
    /// Refused, for these reasons (first the one to fix first).
    Rejected(Vec<Blocked>),
}

/// Whether a `Set-Cookie` line from the response to `ctx`'s URL is stored, and, when
/// third-party blocking is the reason, what would happen were third-party cookies allowed.
pub fn store(c: &SetCookie, ctx: &Context) -> (Store, Option<Store>) {
    let mut line = Vec::new();
    if c.name.len() + c.value_len > MAX_NAME_VALUE {
        line.push(Blocked::TooLong);
    }
    if !domain_attribute_ok(c.domain.as_deref(), ctx.host) {
        line.push(Blocked::InvalidDomain);
    }
    if !prefix_ok(c, ctx.trustworthy) {
        line.push(Blocked::InvalidPrefix);
    }
    if !line.is_empty() {
        return (Store::Rejected(line), None);
    }
    if c.partitioned && !(c.secure && ctx.trustworthy) {
        return (Store::Rejected(vec![Blocked::PartitionedInsecure]), None);
    }
    let context = store_context(c, ctx);
    if ctx.cross_site
        && ctx.third_party == ThirdPartyCookies::Blocked
        && !passes_blocking(c.partitioned, ctx)
    {
        return (
            Store::Rejected(vec![Blocked::UserPreferences]),
            Some(context),
        );
    }
    // Total Cookie Protection keeps every cross-site cookie it accepts under the page's site.
    if ctx.cross_site && ctx.third_party == ThirdPartyCookies::Partitioned {
        if let Store::Stored { .. } = context {
            return (Store::Stored { partitioned: true }, None);
        }
    }
    (context, None)
}

/// Whether a `Partitioned` cookie gets past third-party blocking: Chromium's CHIPS. WebKit
/// blocks it with the rest (not measured over https: doubt).
fn passes_blocking(partitioned: bool, ctx: &Context) -> bool {
    partitioned && ctx.browser == Browser::Chromium
}

fn store_context(c: &SetCookie, ctx: &Context) -> Store {
    let mut reasons = Vec::new();
    if c.secure && !ctx.trustworthy {
        reasons.push(Blocked::SecureOnly);
    }
    if c.same_site == Some(SameSite::None) && !c.secure && ctx.browser.quirks().none_needs_secure {
        reasons.push(Blocked::SameSiteNoneInsecure);
    } else if ctx.cross_site {
        reasons.extend(same_site_block(c.same_site, ctx.browser));
    }
    if !reasons.is_empty() {
        Store::Rejected(reasons)
    } else if c.expired {
        Store::Deleted
    } else {
        Store::Stored {
            partitioned: c.partitioned,
        }
    }
}

fn same_site_block(same_site: Option<SameSite>, browser: Browser) -> Option<Blocked> {
    match same_site {
        Some(SameSite::Strict) => Some(Blocked::SameSiteStrict),
        Some(SameSite::Lax) => Some(Blocked::SameSiteLax),
        None if browser.quirks().same_site_lax_by_default => {
            Some(Blocked::SameSiteUnspecifiedTreatedAsLax)
        }
        None | Some(SameSite::None) => None,
    }
}

/// A `Domain` attribute is accepted when it is the host itself, or a parent of the host that
/// is not a public suffix. An IP host takes only itself.
pub fn domain_attribute_ok(domain: Option<&str>, host: &str) -> bool {
    let Some(d) = domain else { return true };
    if d == host {
        return true;
    }
    if is_ip_literal(host) || !host.ends_with(&format!(".{d}")) {
        return false;
    }
    registrable_domain(d).is_some()
}

fn prefix_ok(c: &SetCookie, trustworthy: bool) -> bool {
    match c.prefix() {
        None => true,
        Some(Prefix::Secure) => c.secure && trustworthy,
        Some(Prefix::Host) => {
            c.secure && trustworthy && c.domain.is_none() && c.path.as_deref() == Some("/")
        }
    }
}

/// The path a cookie gets without a `Path` attribute: the request path's directory.
pub fn default_path(request_path: &str) -> &str {
    match request_path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &request_path[..i],
    }
}

/// RFC 6265 path-match.
pub fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    request_path == cookie_path
        || request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/'))
}

/// Whether a held cookie is sent, as a list of reasons (empty: sent), and when third-party
/// blocking is among them, what would remain were third-party cookies allowed.
pub fn send(held: &HeldCookie, ctx: &Context) -> (Vec<Blocked>, Option<Vec<Blocked>>) {
    if held.partitioned {
        let wanted = held.partition_site.as_deref();
        let page = ctx.page_site.map(|s| s.0.as_str());
        if wanted.is_some() && wanted != page {
            return (vec![Blocked::OtherPartition], None);
        }
    }
    let mut reasons = Vec::new();
    if held.secure && !ctx.trustworthy {
        reasons.push(Blocked::SecureOnly);
    }
    if !path_matches(&held.path, ctx.path) {
        reasons.push(Blocked::NotOnPath);
    }
    // A cookie of another host still gets every other reason listed (DevTools shows them
    // all for a cookie of the request's registrable domain).
    if !held_domain_matches(held.domain.as_deref(), ctx.host) {
        reasons.push(Blocked::DomainMismatch);
    }
    if ctx.cross_site {
        reasons.extend(same_site_block(held.same_site, ctx.browser));
    }
    if held.same_site == Some(SameSite::None)
        && !held.secure
        && ctx.browser.quirks().none_needs_secure
    {
        reasons.push(Blocked::SameSiteNoneInsecure);
    }
    // Total Cookie Protection: a cross-site request carries only cookies of the page's
    // site's partition; one stored first-party lives in another jar.
    if ctx.cross_site && ctx.third_party == ThirdPartyCookies::Partitioned && !held.partitioned {
        reasons.push(Blocked::OtherPartition);
        return (reasons, None);
    }
    if ctx.cross_site
        && ctx.third_party == ThirdPartyCookies::Blocked
        && !passes_blocking(held.partitioned, ctx)
    {
        let without: Vec<Blocked> = reasons.clone();
        reasons.push(Blocked::UserPreferences);
        return (reasons, Some(without));
    }
    (reasons, None)
}

fn held_domain_matches(domain: Option<&str>, host: &str) -> bool {
    match domain {
        None => true,
        Some(d) => match d.strip_prefix('.') {
            Some(parent) => {
                let parent = parent.to_ascii_lowercase();
                host == parent || host.ends_with(&format!(".{parent}"))
            }
            None => host.eq_ignore_ascii_case(d),
        },
    }
}

/// Whether DevTools lists a held cookie that does not match the request's host (with all
/// its reasons): Chromium's store hands over only cookies of the request's registrable
/// domain, and says nothing of the others.
pub fn devtools_lists_mismatch(domain: &str, host: &str) -> bool {
    site_host(domain.trim_start_matches('.')) == site_host(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(
        host: &'a str,
        cross: bool,
        trustworthy: bool,
        tp: ThirdPartyCookies,
    ) -> Context<'a> {
        Context {
            host,
            path: "/api/x",
            page_site: None,
            cross_site: cross,
            trustworthy,
            third_party: tp,
            browser: Browser::Chromium,
        }
    }

    fn stored(line: &str, c: &Context) -> (Store, Option<Store>) {
        store(&SetCookie::parse(line).unwrap(), c)
    }

    #[test]
    fn line_errors_come_before_third_party_blocking() {
        let c = ctx("b.localhost", true, true, ThirdPartyCookies::Blocked);
        assert_eq!(
            stored("sid=1; Domain=localhost", &c).0,
            Store::Rejected(vec![Blocked::InvalidDomain])
        );
        assert_eq!(
            stored("__Host-a=1; Secure; Path=/; Domain=api.example.com", &c).0,
            Store::Rejected(vec![Blocked::InvalidDomain, Blocked::InvalidPrefix])
        );
        let (first, allowed) = stored("sid=1", &c);
        assert_eq!(first, Store::Rejected(vec![Blocked::UserPreferences]));
        assert_eq!(
            allowed,
            Some(Store::Rejected(vec![
                Blocked::SameSiteUnspecifiedTreatedAsLax
            ]))
        );
    }

    #[test]
    fn secure_and_samesite_when_third_party_cookies_are_allowed() {
        let c = ctx("api.other.com", true, false, ThirdPartyCookies::Allowed);
        assert_eq!(
            stored("a=1; Secure", &c).0,
            Store::Rejected(vec![
                Blocked::SecureOnly,
                Blocked::SameSiteUnspecifiedTreatedAsLax
            ])
        );
        assert_eq!(
            stored("a=1; SameSite=None", &c).0,
            Store::Rejected(vec![Blocked::SameSiteNoneInsecure])
        );
        let secure = ctx("api.other.com", true, true, ThirdPartyCookies::Allowed);
        assert_eq!(
            stored("a=1; SameSite=None; Secure", &secure).0,
            Store::Stored { partitioned: false }
        );
    }

    #[test]
    fn partitioned_cookies_pass_third_party_blocking_only_when_secure() {
        let c = ctx("b.localhost", true, true, ThirdPartyCookies::Blocked);
        assert_eq!(
            stored("a=1; SameSite=None; Secure; Partitioned", &c).0,
            Store::Stored { partitioned: true }
        );
        assert_eq!(
            stored("a=1; SameSite=None; Partitioned", &c).0,
            Store::Rejected(vec![Blocked::PartitionedInsecure])
        );
    }

    #[test]
    fn expired_lines_delete_only_where_they_could_store() {
        let same = ctx("localhost", false, true, ThirdPartyCookies::Blocked);
        assert_eq!(stored("a=; Max-Age=0", &same).0, Store::Deleted);
        let cross = ctx("b.localhost", true, true, ThirdPartyCookies::Blocked);
        assert_eq!(
            stored("a=; Max-Age=0", &cross).0,
            Store::Rejected(vec![Blocked::UserPreferences])
        );
    }

    #[test]
    fn every_devtools_name_is_listed_for_validation() {
        for b in Blocked::ALL {
            if let Some(name) = b.devtools_name() {
                assert!(DEVTOOLS_COOKIE_REASONS.contains(&name), "{name}");
            }
        }
    }

    #[test]
    fn domain_attributes() {
        assert!(domain_attribute_ok(Some("example.com"), "api.example.com"));
        assert!(domain_attribute_ok(Some("localhost"), "localhost"));
        assert!(!domain_attribute_ok(Some("localhost"), "b.localhost"));
        assert!(!domain_attribute_ok(Some("com"), "api.example.com"));
        assert!(!domain_attribute_ok(Some("other.com"), "api.example.com"));
        assert!(!domain_attribute_ok(Some("0.0.1"), "127.0.0.1"));
    }

    #[test]
    fn paths() {
        assert_eq!(default_path("/api/students"), "/api");
        assert_eq!(default_path("/students"), "/");
        assert!(path_matches("/", "/anything"));
        assert!(path_matches("/api", "/api/x"));
        assert!(path_matches("/api", "/api"));
        assert!(!path_matches("/api", "/apix"));
        assert!(!path_matches("/other", "/api/x"));
    }

    #[test]
    fn sending_lists_every_reason_with_third_party_blocking_last() {
        let held = HeldCookie {
            name: "sid".into(),
            value: String::new(),
            domain: None,
            path: "/other".into(),
            secure: false,
            http_only: false,
            same_site: Some(SameSite::Lax),
            partitioned: false,
            partition_site: None,
        };
        let c = ctx("b.localhost", true, true, ThirdPartyCookies::Blocked);
        let (reasons, allowed) = send(&held, &c);
        assert_eq!(
            reasons,
            vec![
                Blocked::NotOnPath,
                Blocked::SameSiteLax,
                Blocked::UserPreferences
            ]
        );
        assert_eq!(
            allowed,
            Some(vec![Blocked::NotOnPath, Blocked::SameSiteLax])
        );
        let other_host = HeldCookie {
            domain: Some("a.localhost".into()),
            ..held
        };
        assert_eq!(
            send(&other_host, &c).0,
            vec![
                Blocked::NotOnPath,
                Blocked::DomainMismatch,
                Blocked::SameSiteLax,
                Blocked::UserPreferences
            ]
        );
    }
}
