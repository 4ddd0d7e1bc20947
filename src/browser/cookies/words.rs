//! The words of a cookie verdict: why, and what to change, for each blocked reason. Fixes
//! stay safe: they never suggest dropping `Secure` or reflecting origins.

use super::super::browsers::Browser;
use super::rules::{Blocked, Context};

/// What the words may name.
pub struct Names<'a> {
    /// The cookie's name.
    pub cookie: &'a str,
    /// The rules' context.
    pub ctx: &'a Context<'a>,
    /// The site of the request URL, serialised.
    pub url_site: &'a str,
    /// The cookie's `Domain` (a `Set-Cookie` attribute, or where a held cookie belongs).
    pub domain: Option<&'a str>,
    /// The cookie's path.
    pub path: Option<&'a str>,
    /// For a partitioned held cookie, the site it was stored under.
    pub partition_site: Option<&'a str>,
    /// Whether the cookie's name starts `__Host-` (else `__Secure-` for a prefix reason).
    pub host_prefix: bool,
    /// Storing (true) or sending.
    pub storing: bool,
}

impl Names<'_> {
    /// The page's site as text.
    pub fn page_site(&self) -> &str {
        self.ctx
            .page_site
            .map(|s| s.0.as_str())
            .unwrap_or("an opaque origin")
    }

    fn https_hint(&self) -> &'static str {
        if self.ctx.trustworthy {
            ""
        } else {
            " and serve the API over https (`tls = true` on its origin): a `Secure` cookie needs https or a localhost name"
        }
    }
}

/// Whether `reason` holds only because the request is cross-site.
pub fn is_cross_site(reason: Blocked) -> bool {
    matches!(
        reason,
        Blocked::UserPreferences
            | Blocked::SameSiteStrict
            | Blocked::SameSiteLax
            | Blocked::SameSiteUnspecifiedTreatedAsLax
    )
}

/// The clause that says why a request is cross-site.
pub fn cross_site_clause(n: &Names) -> String {
    format!(
        "the API ({}) is a different site from the page ({})",
        n.url_site,
        n.page_site()
    )
}

/// Why `reason` applies, in a sentence fragment; the cross-site reasons leave the sites to
/// [`cross_site_clause`].
pub fn why(reason: Blocked, n: &Names) -> String {
    let host = n.ctx.host;
    match reason {
        Blocked::TooLong => "its name and value together exceed 4096 bytes".to_owned(),
        Blocked::InvalidDomain => match n.domain {
            Some(d) if !host.ends_with(&format!(".{d}")) && d != host => {
                format!("`Domain={d}` is not `{host}` nor a parent of it")
            }
            Some(d) => {
                format!("`Domain={d}` is a public suffix: no site may set cookies for all of it")
            }
            None => "its Domain attribute is invalid".to_owned(),
        },
        Blocked::InvalidPrefix if n.host_prefix => {
            "a `__Host-` cookie needs `Secure` from a secure origin (https or localhost), \
             `Path=/` and no `Domain`"
                .to_owned()
        }
        Blocked::InvalidPrefix => {
            "a `__Secure-` cookie needs `Secure` from a secure origin (https or localhost)"
                .to_owned()
        }
        Blocked::PartitionedInsecure => {
            "`Partitioned` needs `Secure` from a secure origin (https or localhost); Chromium \
             drops the cookie without giving DevTools a reason"
                .to_owned()
        }
        Blocked::UserPreferences => match n.ctx.browser {
            Browser::WebKit => "Safari's WebKit blocks third-party cookies: it keeps no cookie \
                                for a site other than the page's, whatever its attributes"
                .to_owned(),
            _ => "this browser blocks third-party cookies (Chromium with a fresh profile, Chrome \
                  in Incognito, Safari)"
                .to_owned(),
        },
        Blocked::SecureOnly if n.ctx.browser == Browser::WebKit && n.storing => format!(
            "it is `Secure` but was set over plain http by `{host}`: WebKit takes `Secure` \
             cookies only over https, localhost included"
        ),
        Blocked::SecureOnly if n.storing => {
            format!("it is `Secure` but was set over plain http by `{host}`, which is not a localhost name")
        }
        Blocked::SecureOnly => {
            format!("it is `Secure` and this request goes over plain http to `{host}`")
        }
        Blocked::NotOnPath => format!(
            "its `Path={}` does not cover `{}`",
            n.path.unwrap_or("/"),
            n.ctx.path
        ),
        Blocked::DomainMismatch => format!(
            "it belongs to `{}`, and this request goes to `{host}`",
            n.domain.unwrap_or("another host")
        ),
        // Firefox's Total Cookie Protection: a cookie stored first-party is not in the jar a
        // cross-site request reads.
        Blocked::OtherPartition if n.partition_site.is_none() => format!(
            "Firefox keeps cookies per top-level site (Total Cookie Protection): it was stored \
             with a page of its own site, and a request from a page on {} reads only that site's \
             jar",
            n.page_site()
        ),
        Blocked::OtherPartition => format!(
            "it is partitioned under {}, and the page is on {}",
            n.partition_site.unwrap_or("another site"),
            n.page_site()
        ),
        Blocked::SameSiteStrict => "`SameSite=Strict` keeps it off cross-site requests".to_owned(),
        Blocked::SameSiteLax => "`SameSite=Lax` keeps it off cross-site fetches (only top-level \
                                 navigations carry it)"
            .to_owned(),
        Blocked::SameSiteUnspecifiedTreatedAsLax => "it has no SameSite attribute, so Chromium \
                                                     treats it as `SameSite=Lax` (the default), \
                                                     which keeps it off cross-site fetches"
            .to_owned(),
        Blocked::SameSiteNoneInsecure => "`SameSite=None` without `Secure` is refused".to_owned(),
    }
}

/// What to change for `reason`.
pub fn fix(reason: Blocked, n: &Names) -> Option<String> {
    let cookie = n.cookie;
    let host = n.ctx.host;
    Some(match reason {
        Blocked::TooLong => "keep a short id in the cookie and the data on the server".to_owned(),
        Blocked::InvalidDomain => {
            format!("drop the Domain attribute (the cookie is then host-only for `{host}`)")
        }
        Blocked::InvalidPrefix if n.host_prefix => format!(
            "send `{cookie}=…; Secure; Path=/` without Domain{}",
            n.https_hint()
        ),
        Blocked::InvalidPrefix | Blocked::PartitionedInsecure => {
            format!("add `Secure`{}", n.https_hint())
        }
        Blocked::UserPreferences if n.ctx.browser == Browser::WebKit => {
            "put the page and the API on one site: serve them as ports of one host \
             (`https://localhost:8080` and `https://localhost:3000` are one site), or proxy the \
             API through the page's origin; `Partitioned` does not help in WebKit"
                .to_owned()
        }
        Blocked::UserPreferences => format!(
            "put the page and the API on one site: serve them as ports of one host \
             (`http://localhost:8080` and `http://localhost:3000` are one site), or proxy the API \
             through the page's origin; or, for a cookie kept per top-level site, set `{cookie}` \
             with `SameSite=None; Secure; Partitioned`{}",
            n.https_hint()
        ),
        Blocked::SecureOnly if n.ctx.browser == Browser::WebKit => {
            "serve the API over https (`tls = true` on its origin): WebKit never counts plain \
             http as secure for cookies, localhost included"
                .to_owned()
        }
        Blocked::SecureOnly => {
            "serve the API over https (`tls = true` on its origin), or reach it by a localhost \
             name, which Chromium treats as secure"
                .to_owned()
        }
        Blocked::NotOnPath => format!("set `{cookie}` with `Path=/`"),
        Blocked::DomainMismatch => format!(
            "set it from `{host}`, or with `Domain=` a parent the two hosts share (not a public \
             suffix)"
        ),
        Blocked::OtherPartition if n.partition_site.is_none() => format!(
            "set `{cookie}` from the API while the page is on {} (Firefox keeps it in that \
             site's jar), or put the page and the API on one site",
            n.page_site()
        ),
        Blocked::OtherPartition => return None,
        Blocked::SameSiteStrict
        | Blocked::SameSiteLax
        | Blocked::SameSiteUnspecifiedTreatedAsLax => {
            format!(
                "set `{cookie}` with `SameSite=None; Secure`{}, or put the page and the API on one \
                 site",
                n.https_hint()
            )
        }
        Blocked::SameSiteNoneInsecure => {
            format!("add `Secure` (`SameSite=None; Secure`){}", n.https_hint())
        }
    })
}
