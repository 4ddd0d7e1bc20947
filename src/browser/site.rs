//! Sites, as cookies see them: a "schemeful site" is a scheme plus a registrable domain
//! (eTLD+1 by the Public Suffix List, private registries included, as Chromium's
//! `SchemefulSite` uses it). Two origins are same-site when their sites are equal, so
//! `localhost:8080` and `localhost:3000` are one site while `karachi-dev.localhost` and
//! `lahore-api.localhost` are two: the list has no `localhost` entry, its default rule makes
//! `localhost` the suffix and each name under it a registrable domain of its own.

use super::url::{Origin, Url};

/// Whether `host` is an IPv4 literal or a bracketed IPv6 literal: such a host is its own
/// site, never a registrable domain.
pub fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok()
}

/// The registrable domain (eTLD+1) of a lower-case host, or `None` when the host is an IP
/// literal or itself a public suffix (`com`, `github.io`, `localhost`).
pub fn registrable_domain(host: &str) -> Option<&str> {
    let host = host.trim_end_matches('.');
    if is_ip_literal(host) {
        return None;
    }
    psl::domain_str(host)
}

/// The site part of a host: its registrable domain, or the host itself when it has none.
pub fn site_host(host: &str) -> &str {
    registrable_domain(host).unwrap_or_else(|| host.trim_end_matches('.'))
}

/// A schemeful site, serialised as Chromium's DevTools prints it (`http://example.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site(pub String);

impl Site {
    /// The site of a URL.
    pub fn of_url(url: &Url) -> Site {
        Site(format!("{}://{}", url.scheme, site_host(&url.host)))
    }

    /// The site of an origin; an opaque origin is a site equal to nothing else.
    pub fn of_origin(origin: &Origin) -> Option<Site> {
        match origin {
            Origin::Tuple { scheme, host, .. } => {
                Some(Site(format!("{scheme}://{}", site_host(host))))
            }
            Origin::Opaque => None,
        }
    }
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(u: &str) -> String {
        Site::of_url(&Url::parse(u).unwrap()).0
    }

    #[test]
    fn sites_follow_the_public_suffix_list_and_keep_the_scheme() {
        assert_eq!(site("http://localhost:3000/"), "http://localhost");
        assert_eq!(
            site("http://lahore-api.localhost:3000/"),
            "http://lahore-api.localhost"
        );
        assert_eq!(site("http://a.b.localhost/"), "http://b.localhost");
        assert_eq!(site("https://api.example.com/"), "https://example.com");
        assert_eq!(site("https://me.github.io/"), "https://me.github.io");
        assert_eq!(site("https://a.b.co.uk/"), "https://b.co.uk");
        assert_eq!(site("http://127.0.0.1:8080/"), "http://127.0.0.1");
        assert_eq!(site("http://[::1]:8080/"), "http://[::1]");
        assert_ne!(site("http://example.com/"), site("https://example.com/"));
    }

    #[test]
    fn public_suffixes_have_no_registrable_domain() {
        for host in ["com", "github.io", "localhost", "co.uk", "127.0.0.1"] {
            assert_eq!(registrable_domain(host), None, "{host}");
        }
        assert_eq!(registrable_domain("x.github.io"), Some("x.github.io"));
    }
}
