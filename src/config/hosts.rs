//! Which `Host` headers the sandbox's listeners answer: the configured host names, the
//! loopback names, and IP literals once bound beyond loopback. Pure: the servers' guard
//! applies it to every request before routing.

use super::Config;

/// Which Host headers an origin answers.
#[derive(Debug, Clone)]
pub struct HostAllowlist {
    /// Configured host names (lower case), besides the loopback names always allowed.
    pub names: Vec<String>,
    /// When bound beyond loopback (`--host 0.0.0.0`), IP literals are allowed too.
    pub allow_ip_literals: bool,
}

impl HostAllowlist {
    /// Parses `Host` (name, optional port) and checks the name exactly.
    pub fn allows(&self, host_header: Option<&str>) -> bool {
        let Some(h) = host_header else { return false };
        let Some(name) = host_name(h) else {
            return false;
        };
        // A suffix alone is not enough: `evil.com#.localhost` ends in `.localhost` too, and a
        // proxy or resolver may read such a name differently than this check does.
        if name == "localhost"
            || (name.ends_with(".localhost") && is_dns_name(&name))
            || name == "127.0.0.1"
            || name == "[::1]"
        {
            return true;
        }
        if self.names.contains(&name) {
            return true;
        }
        self.allow_ip_literals
            && (name.parse::<std::net::Ipv4Addr>().is_ok() || name.starts_with('['))
    }
}

/// DNS label syntax (RFC 1123): labels of 1 to 63 letters, digits and inner hyphens, at
/// most 253 characters in all.
fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The host part of a Host header, lower-cased; `None` when it is malformed.
pub fn host_name(h: &str) -> Option<String> {
    let h = h.trim();
    if h.is_empty() || h.contains(['/', '@', ' ', '\\']) {
        return None;
    }
    let name = if let Some(rest) = h.strip_prefix('[') {
        let end = rest.find(']')?;
        let port = &rest[end + 1..];
        if !(port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok()))
        {
            return None;
        }
        format!("[{}]", &rest[..end])
    } else {
        match h.rsplit_once(':') {
            Some((n, p)) => {
                p.parse::<u16>().ok()?;
                n.to_string()
            }
            None => h.to_string(),
        }
    };
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix('.').map(str::to_string).unwrap_or(name);
    (!name.is_empty()).then_some(name)
}

impl Config {
    /// The origins' host names plus loopback names: what every listener answers.
    pub fn host_allowlist(&self) -> HostAllowlist {
        let mut names: Vec<String> = self.origins.iter().map(|o| o.hostname.clone()).collect();
        // `--host 127.0.0.2` (or any address given) must be reachable by its own address.
        names.push(ip_host(self.bind));
        HostAllowlist {
            names,
            allow_ip_literals: !self.bind.is_loopback(),
        }
    }

    /// The host a browser should use for an origin named `hostname`: the name itself, or the
    /// bind address when the name is `localhost`/`*.localhost` and the sandbox listens where
    /// those names do not lead (browsers resolve them to 127.0.0.1 and ::1 only, so
    /// `--host 127.0.0.2` is reached by its address alone).
    pub fn browser_host(&self, hostname: &str) -> String {
        if is_loopback_name(hostname) && !localhost_reaches(self.bind) {
            ip_host(self.bind)
        } else {
            hostname.to_string()
        }
    }

    /// Every host a browser can reach an origin named `hostname` at on this machine, as its
    /// `Origin` header spells it: [`Config::browser_host`] first, then the loopback addresses
    /// the listener answers on (`127.0.0.1` for the default bind, the bind address itself for
    /// any other). A page opened by any of them sends that host in `Origin`.
    pub fn served_hosts(&self, hostname: &str) -> Vec<String> {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        let mut out = vec![self.browser_host(hostname)];
        let addresses: Vec<IpAddr> = match self.bind {
            IpAddr::V4(ip) if ip.is_unspecified() => vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
            // `::` is dual-stack on the systems the sandbox runs on.
            IpAddr::V6(ip) if ip.is_unspecified() => vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            other => vec![other],
        };
        for a in addresses {
            let h = ip_host(a);
            if !out.contains(&h) {
                out.push(h);
            }
        }
        out
    }

    /// Warnings for host names browsers look up through DNS (anything but `localhost`,
    /// `*.localhost` and IP literals): such a name may lead to another machine, or nowhere,
    /// and a page's requests to it never reach this sandbox.
    pub fn hostname_warnings(&self) -> Vec<String> {
        self.origins
            .iter()
            .filter(|o| !is_loopback_name(&o.hostname) && o.hostname.parse::<std::net::IpAddr>().is_err())
            .map(|o| {
                format!(
                    "origin `{}`: hostname = \"{}\" is resolved by browsers through DNS (or mDNS), which may not lead to this machine; use hostname = \"{}\" instead (browsers resolve every *.localhost name to this machine)",
                    o.name,
                    o.hostname,
                    localhost_form(&o.hostname)
                )
            })
            .collect()
    }
}

/// `localhost` or a `*.localhost` name: browsers resolve these to loopback without DNS.
pub fn is_loopback_name(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

/// Whether a browser's `localhost` (127.0.0.1 or ::1) reaches a listener bound to `bind`.
fn localhost_reaches(bind: std::net::IpAddr) -> bool {
    bind.is_unspecified()
        || bind == std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
        || bind == std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
}

/// An address as the host of a URL (IPv6 in brackets).
fn ip_host(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

/// The `*.localhost` name to use instead of a DNS name: its last label (`.local`, `.com`)
/// replaced, so `karachi-dev.local` becomes `karachi-dev.localhost`.
fn localhost_form(hostname: &str) -> String {
    let stem = match hostname.rsplit_once('.') {
        Some((stem, _)) => stem,
        None => hostname,
    };
    format!("{stem}.localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_allowlist() {
        let a = HostAllowlist {
            names: vec!["karachi-dev.local".into()],
            allow_ip_literals: false,
        };
        for ok in [
            "localhost:8080",
            "LOCALHOST",
            "api.localhost:3000",
            "127.0.0.1:1",
            "[::1]:80",
            "karachi-dev.local:8080",
            "localhost.",
            "a-b.c9.localhost",
            "api.localhost.",
        ] {
            assert!(a.allows(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.2",
            "localhost:80:80",
            "localhost@evil",
            "",
            "10.0.0.1:80",
            "evil.com#.localhost",
            "a..localhost",
            ".localhost",
            "-a.localhost",
            "a-.localhost",
            "a_b.localhost",
            "a%2e.localhost",
        ] {
            assert!(!a.allows(Some(bad)), "{bad}");
        }
        assert!(!a.allows(None));
        let wide = HostAllowlist {
            names: vec![],
            allow_ip_literals: true,
        };
        assert!(wide.allows(Some("192.168.1.5:8080")));
        assert!(!wide.allows(Some("evil.example")));
    }

    fn bound(bind: &str, hostnames: &[&str]) -> Config {
        let mut c = crate::config::default_config(std::path::Path::new("/nonexistent"));
        c.bind = bind.parse().unwrap();
        for (o, h) in c.origins.iter_mut().zip(hostnames) {
            o.hostname = h.to_string();
        }
        c
    }

    #[test]
    fn browsers_are_sent_where_the_listener_is() {
        let c = bound("127.0.0.1", &["localhost", "karachi-dev.localhost"]);
        assert_eq!(
            c.browser_host("karachi-dev.localhost"),
            "karachi-dev.localhost"
        );
        assert_eq!(c.served_hosts("localhost"), ["localhost", "127.0.0.1"]);
        assert_eq!(
            c.served_hosts("karachi-dev.localhost"),
            ["karachi-dev.localhost", "127.0.0.1"]
        );
        // localhost leads to 127.0.0.1 (and ::1) only: 127.0.0.2 is reached by its address.
        let c = bound("127.0.0.2", &["localhost"]);
        assert_eq!(c.browser_host("localhost"), "127.0.0.2");
        assert_eq!(c.browser_host("api.localhost"), "127.0.0.2");
        assert_eq!(c.served_hosts("localhost"), ["127.0.0.2"]);
        // A DNS name is the user's to point here; the address still reaches the listener.
        assert_eq!(c.served_hosts("example.com"), ["example.com", "127.0.0.2"]);
        assert_eq!(
            bound("::1", &[]).served_hosts("localhost"),
            ["localhost", "[::1]"]
        );
        assert_eq!(
            bound("::", &[]).served_hosts("localhost"),
            ["localhost", "127.0.0.1", "[::1]"]
        );
        assert_eq!(
            bound("0.0.0.0", &[]).served_hosts("localhost"),
            ["localhost", "127.0.0.1"]
        );
    }

    #[test]
    fn dns_host_names_are_warned_about_with_the_localhost_form() {
        let c = bound("127.0.0.1", &["karachi-dev.local", "example.com"]);
        let w = c.hostname_warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("origin `frontend`: hostname = \"karachi-dev.local\" is resolved by browsers through DNS"), "{}", w[0]);
        assert!(
            w[0].contains("use hostname = \"karachi-dev.localhost\" instead"),
            "{}",
            w[0]
        );
        assert!(
            w[1].contains("use hostname = \"example.localhost\" instead"),
            "{}",
            w[1]
        );
        assert!(bound("127.0.0.1", &["localhost", "a.b.localhost"])
            .hostname_warnings()
            .is_empty());
        assert!(
            bound("127.0.0.1", &["127.0.0.1", "intranet"])
                .hostname_warnings()
                .len()
                == 1
        );
        assert_eq!(localhost_form("intranet"), "intranet.localhost");
    }
}
