//! Building the [`State`] of a sandbox from a validated config: every origin's files loaded
//! strictly, stores created at generation 1. `up` calls it once its sockets are bound;
//! `check` and `fixtures verify` call it so they judge exactly what `up` would serve.

use std::net::SocketAddr;
use std::sync::Mutex;

use arc_swap::ArcSwap;
use tokio::sync::broadcast;

use super::load::{load_policy, load_routes, Bytes};
use super::{ApiOrigin, State, StaticOrigin, Store};
use crate::config::{Config, OriginConfig, OriginSpec, StaticRoot};
use crate::journal::Log;
use crate::source_file::LoadError;

/// A file of one origin could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("origin `{origin}`: {error}")]
pub struct OriginLoadError {
    pub origin: String,
    pub error: LoadError,
}

impl OriginLoadError {
    /// The report for the terminal, with a source snippet.
    pub fn render(&self) -> String {
        format!("origin `{}`:\n{}", self.origin, self.error.render())
    }
}

/// The URL of `origin` at `host` (a name or a bracketed address) on the port actually bound.
pub fn origin_url(origin: &OriginConfig, host: &str, port: u16) -> String {
    format!("{}://{host}:{port}", origin.scheme())
}

/// The root as served: canonical once here (and on each reload), so requests need not
/// resolve it again.
pub fn canonical_root(root: &StaticRoot) -> StaticRoot {
    match root {
        StaticRoot::Dir(d) => StaticRoot::Dir(d.canonicalize().unwrap_or(d.clone())),
        StaticRoot::Embedded => StaticRoot::Embedded,
    }
}

/// The static origins as this sandbox serves them, each by every host a browser on this
/// machine reaches it at ([`Config::served_hosts`]: its host name and loopback address) with
/// the port actually bound: what the embedded default policy and `sandbox:static` allow.
fn served_static_origins(config: &Config, ports: &[u16]) -> Vec<String> {
    config
        .origins
        .iter()
        .zip(ports)
        .filter(|(o, _)| matches!(o.spec, OriginSpec::Static { .. }))
        .flat_map(|(o, p)| {
            config
                .served_hosts(&o.hostname)
                .into_iter()
                .map(|h| origin_url(o, &h, *p))
        })
        .collect()
}

/// Loads every origin's files (strictly) into a fresh [`State`]. `ports` are the real ports,
/// which the URLs (and the default policy's allowed origins) use. Also used by `check` and
/// `fixtures verify`, so they judge exactly what `up` would serve.
pub fn build_state(
    config: &Config,
    ports: &[u16],
    log: Log,
) -> Result<(State, tokio::sync::watch::Sender<bool>), OriginLoadError> {
    let served = served_static_origins(config, ports);
    // Port 0 means "any free port" (`check` is given the config's ports, unbound): no
    // listener an upstream could name.
    let listeners: Vec<SocketAddr> = ports
        .iter()
        .filter(|p| **p != 0)
        .map(|p| SocketAddr::new(config.bind, *p))
        .collect();
    // Every origin's URL first: a routes file may name any of them (`{{origin.NAME}}`).
    let origin_urls: Vec<(String, String)> = config
        .origins
        .iter()
        .zip(ports)
        .map(|(o, port)| {
            let url = origin_url(o, &config.browser_host(&o.hostname), *port);
            (o.name.clone(), url)
        })
        .collect();
    let mut apis = Vec::new();
    let mut statics = Vec::new();
    for ((o, _), (_, url)) in config.origins.iter().zip(ports).zip(&origin_urls) {
        let url = url.clone();
        match &o.spec {
            OriginSpec::Static { root } => {
                let root = canonical_root(root);
                statics.push(StaticOrigin {
                    name: o.name.clone(),
                    url,
                    root: ArcSwap::from_pointee(root),
                    changes: Default::default(),
                });
            }
            OriginSpec::Api { routes, policy } => {
                let load_err = |error| OriginLoadError {
                    origin: o.name.clone(),
                    error,
                };
                let (p, policy_text) =
                    load_policy(policy, &served, Bytes::ReadNow).map_err(load_err)?;
                let (r, routes_text) =
                    load_routes(routes, Bytes::ReadNow, &listeners, &origin_urls)
                        .map_err(load_err)?;
                apis.push(ApiOrigin {
                    name: o.name.clone(),
                    url,
                    policy: Store::new(p, policy_text),
                    routes: Store::new(r, routes_text),
                    default_allowed: served.clone(),
                    last_preflight: Mutex::new(None),
                    resources: Default::default(),
                    recorder: Default::default(),
                });
            }
        }
    }
    let (events, _) = broadcast::channel(256);
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    // A failure leaves a key nothing matches; `up` refuses to start with it.
    let key = super::RunKey::generate().unwrap_or_else(|_| super::RunKey::unusable());
    let redactor = crate::journal::Redactor::new(key.journal_salt());
    let state = State {
        config: ArcSwap::from_pointee(config.clone()),
        apis,
        statics,
        events,
        log,
        status: Mutex::new(Vec::new()),
        history: Mutex::new(Default::default()),
        journal: crate::journal::Ring::new(crate::journal::RING_CAPACITY, redactor),
        shutdown: shutdown_rx,
        bench: Default::default(),
        key,
        listeners,
        cookies: Default::default(),
    };
    Ok((state, shutdown_tx))
}
