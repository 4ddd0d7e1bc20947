//! What an edit of `sandbox.toml` changes, origin by origin (matched by name). Pure.
//!
//! Reconcile, don't patch: the new file is compared with the config in force, and the result
//! names what a reload can apply (the files of an origin that stays) and what only a restart
//! can (sockets are bound once: ports, the bind address; the Host allowlist is fixed at
//! startup: host names; the servers are built per origin: kinds, added or removed origins).

use super::{Config, FileRef, OriginConfig, OriginSpec, StaticRoot};

/// A change a reload applies by swapping what an existing origin serves.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveChange {
    Policy {
        origin: String,
        from: FileRef,
        to: FileRef,
    },
    Routes {
        origin: String,
        from: FileRef,
        to: FileRef,
    },
    Root {
        origin: String,
        from: StaticRoot,
        to: StaticRoot,
    },
}

impl LiveChange {
    pub fn origin(&self) -> &str {
        match self {
            LiveChange::Policy { origin, .. }
            | LiveChange::Routes { origin, .. }
            | LiveChange::Root { origin, .. } => origin,
        }
    }

    /// `api policy cors.toml → strict.toml`, for the log.
    pub fn describe(&self) -> String {
        let root = |r: &StaticRoot| match r {
            StaticRoot::Dir(d) => format!("{}/", crate::source_file::file_name(d)),
            StaticRoot::Embedded => "embedded lab".into(),
        };
        match self {
            LiveChange::Policy { origin, from, to } => format!(
                "{origin} policy {} → {}",
                from.display_name(),
                to.display_name()
            ),
            LiveChange::Routes { origin, from, to } => format!(
                "{origin} routes {} → {}",
                from.display_name(),
                to.display_name()
            ),
            LiveChange::Root { origin, from, to } => {
                format!("{origin} root {} → {}", root(from), root(to))
            }
        }
    }
}

/// The outcome of comparing the config in force with a new one.
#[derive(Debug, Clone)]
pub struct ConfigDiff {
    /// What a reload applies.
    pub live: Vec<LiveChange>,
    /// What needs a restart, one phrase each (`port of `api`: 3000 → 3001`).
    pub restart: Vec<String>,
    /// The config in force after the reload: the old one with only the live changes made, so
    /// the next edit is compared with what is actually served.
    pub in_force: Config,
}

/// Compares the config in force (`old`) with a newly validated one.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut live = Vec::new();
    let mut restart = Vec::new();
    if old.bind != new.bind {
        restart.push(format!("bind address {} → {}", old.bind, new.bind));
    }
    let mut in_force = old.clone();
    for o in &mut in_force.origins {
        match new.origin(&o.name) {
            None => restart.push(format!("origin `{}` removed", o.name)),
            Some(n) => {
                restart.extend(needs_restart(o, n));
                if o.kind() == n.kind() {
                    live.extend(live_changes(&o.name, &o.spec, &n.spec));
                    o.spec = n.spec.clone();
                }
            }
        }
    }
    for n in &new.origins {
        if old.origin(&n.name).is_none() {
            restart.push(format!("origin `{}` added", n.name));
        }
    }
    ConfigDiff {
        live,
        restart,
        in_force,
    }
}

/// What differs between two versions of one origin that a reload cannot apply.
fn needs_restart(old: &OriginConfig, new: &OriginConfig) -> Vec<String> {
    let name = &old.name;
    let mut out = Vec::new();
    if old.port != new.port {
        out.push(format!("port of `{name}` {} → {}", old.port, new.port));
    }
    if old.tls != new.tls {
        out.push(format!(
            "tls of `{name}` {} → {}",
            old.scheme(),
            new.scheme()
        ));
    }
    if old.hostname != new.hostname {
        out.push(format!(
            "hostname of `{name}` {} → {}",
            old.hostname, new.hostname
        ));
    }
    if old.kind() != new.kind() {
        out.push(format!(
            "kind of `{name}` {:?} → {:?}",
            old.kind(),
            new.kind()
        ));
    }
    out
}

/// The files an origin of unchanged kind now loads from elsewhere.
fn live_changes(origin: &str, old: &OriginSpec, new: &OriginSpec) -> Vec<LiveChange> {
    let origin = origin.to_string();
    let mut out = Vec::new();
    match (old, new) {
        (OriginSpec::Static { root: from }, OriginSpec::Static { root: to }) if from != to => {
            out.push(LiveChange::Root {
                origin,
                from: from.clone(),
                to: to.clone(),
            });
        }
        (
            OriginSpec::Api {
                routes: r0,
                policy: p0,
            },
            OriginSpec::Api {
                routes: r1,
                policy: p1,
            },
        ) => {
            if p0 != p1 {
                out.push(LiveChange::Policy {
                    origin: origin.clone(),
                    from: p0.clone(),
                    to: p1.clone(),
                });
            }
            if r0 != r1 {
                out.push(LiveChange::Routes {
                    origin,
                    from: r0.clone(),
                    to: r1.clone(),
                });
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn api(name: &str, port: u16, policy: &str) -> OriginConfig {
        OriginConfig {
            name: name.into(),
            port,
            hostname: "localhost".into(),
            spec: OriginSpec::Api {
                routes: FileRef::Embedded,
                policy: FileRef::Path(policy.into()),
            },
            tls: None,
        }
    }

    fn web(name: &str, root: &str) -> OriginConfig {
        OriginConfig {
            name: name.into(),
            port: 0,
            hostname: "localhost".into(),
            spec: OriginSpec::Static {
                root: StaticRoot::Dir(root.into()),
            },
            tls: None,
        }
    }

    fn config(origins: Vec<OriginConfig>) -> Config {
        Config {
            file: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            origins,
        }
    }

    #[test]
    fn file_changes_are_live_and_land_in_force() {
        let old = config(vec![web("web", "a"), api("api", 3000, "a.toml")]);
        // Reordered: origins are matched by name, not position.
        let new = config(vec![api("api", 3000, "b.toml"), web("web", "b")]);
        let d = diff(&old, &new);
        assert!(d.restart.is_empty(), "{:?}", d.restart);
        assert_eq!(
            d.live.iter().map(LiveChange::describe).collect::<Vec<_>>(),
            ["web root a/ → b/", "api policy a.toml → b.toml"]
        );
        assert_eq!(d.in_force.origins[0].name, "web");
        assert!(matches!(
            &d.in_force.origins[1].spec,
            OriginSpec::Api { policy: FileRef::Path(p), .. } if p.ends_with("b.toml")
        ));
        assert!(diff(&d.in_force, &new).live.is_empty());
    }

    #[test]
    fn sockets_hosts_kinds_and_origin_sets_need_a_restart() {
        let old = config(vec![web("web", "a"), api("api", 3000, "a.toml")]);
        let mut moved = api("api", 3001, "b.toml");
        moved.hostname = "api.localhost".into();
        let new = config(vec![api("web", 0, "a.toml"), moved, web("docs", "d")]);
        let d = diff(&old, &new);
        assert_eq!(
            d.restart,
            [
                "kind of `web` Static → Api",
                "port of `api` 3000 → 3001",
                "hostname of `api` localhost → api.localhost",
                "origin `docs` added",
            ]
        );
        // What can be applied still is; what cannot stays as it was.
        assert_eq!(d.live.len(), 1);
        assert!(matches!(
            d.in_force.origins[0].spec,
            OriginSpec::Static { .. }
        ));
        assert_eq!(d.in_force.origins[1].port, 3000);
        assert_eq!(d.in_force.origins.len(), 2);
        let gone = diff(&old, &config(vec![web("web", "a")]));
        assert_eq!(gone.restart, ["origin `api` removed"]);
    }
}
