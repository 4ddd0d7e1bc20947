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
        names.push(match self.bind {
            std::net::IpAddr::V4(ip) => ip.to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        });
        HostAllowlist {
            names,
            allow_ip_literals: !self.bind.is_loopback(),
        }
    }
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
}
