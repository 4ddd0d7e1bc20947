//! `sandbox up`: validate everything, bind every port, load every file, start the watcher,
//! print the banner, serve until Ctrl-C or SIGTERM.
//!
//! Strict at startup: any problem is reported before a single socket accepts,
//! so nothing is ever half-started. Forgiving afterwards: the watcher keeps the last good
//! version of every file.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{self, Config, OriginSpec, Overrides, StaticRoot, TlsSource};
use crate::journal::{Log, LogFormat};
use crate::reload::config::ConfigReload;
use crate::reload::watch::{self, WatcherKind};
use crate::serve::{self, Role};
use crate::state::{build_state, origin_url, OriginLoadError, State};

/// Benchmark-only: `verdict` serves API routes without verdicts and journal; any other value
/// also without the CORS layer (see `state::BenchSwitches`).
pub const BARE_API_ENV: &str = "SANDBOX_BENCH_BARE_API";

/// Everything `up` takes from the command line.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    pub config: Option<PathBuf>,
    pub overrides: Overrides,
    pub poll: bool,
    pub log_format: LogFormat,
    /// Save `[[resource]]` state next to each seed after every change.
    pub persist: bool,
    /// Write each new proxied exchange as a route (`<routes>.recorded.toml`).
    pub record: bool,
    /// `config` was generated for this run (`--fixture … --fixed`): nobody edits it, so it
    /// is not watched.
    pub generated_config: bool,
    /// Logged as warnings once every origin is ready: what the command line found worth
    /// saying about what is served (a built-in fixture's temporary copy, a shadowed one).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot listen on {addr} for origin `{name}`: {reason}")]
    Bind {
        name: String,
        addr: SocketAddr,
        reason: String,
    },
    #[error(transparent)]
    Load(#[from] OriginLoadError),
    #[error(transparent)]
    Watch(#[from] watch::WatchError),
    #[error(transparent)]
    Key(#[from] crate::state::KeyError),
    #[error("origin `{name}` cannot serve HTTPS: {source}")]
    Tls {
        name: String,
        source: crate::certs::CertError,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

impl UpError {
    /// The report for the terminal, with source snippets for file errors.
    pub fn render(&self) -> String {
        match self {
            UpError::Config(e) => e.render(),
            UpError::Load(e) => e.render(),
            other => format!("error: {other}"),
        }
    }
}

fn bind_all(config: &Config) -> Result<Vec<TcpListener>, UpError> {
    config
        .origins
        .iter()
        .map(|o| {
            let addr = SocketAddr::new(config.bind, o.port);
            TcpListener::bind(addr).map_err(|e| UpError::Bind {
                name: o.name.clone(),
                addr,
                reason: match e.kind() {
                    std::io::ErrorKind::AddrInUse => format!(
                        "port {} is already in use; stop whatever holds it or pass --port {}=0 for any free port",
                        o.port, o.name
                    ),
                    std::io::ErrorKind::PermissionDenied => format!("permission denied for port {}; use a port above 1023", o.port),
                    _ => e.to_string(),
                },
            })
        })
        .collect()
}

/// Runs `sandbox up` to completion.
pub fn run(opts: UpOptions) -> Result<(), UpError> {
    let config = config::resolve(opts.config.as_deref(), &opts.overrides)?;
    let listeners = bind_all(&config)?;
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?;

    let (tls, tls_notes) = tls_configs(&config)?;
    let (mut state, shutdown_tx) = build_state(&config, &ports, Log::stdout(opts.log_format))?;
    let roles = roles(&config);
    state.bench =
        crate::state::BenchSwitches::from_env(std::env::var(BARE_API_ENV).ok().as_deref());
    if state.key.as_str().is_none() {
        // `build_state` could not draw one; without it the journal would be open or useless.
        state.key = crate::state::RunKey::generate()?;
    }
    for api in &state.apis {
        api.resources.set_persist(opts.persist);
        api.recorder.set(opts.record);
    }
    let state = Arc::new(state);
    // A reload of `sandbox.toml` resolves it as here: same file, same overrides.
    let config_reload = match (&opts.config, opts.generated_config) {
        (Some(path), false) => Some(ConfigReload {
            path: path.clone(),
            overrides: opts.overrides.clone(),
        }),
        _ => None,
    };
    let kind = if opts.poll {
        WatcherKind::Poll
    } else {
        WatcherKind::Native
    };
    let watcher = watch::start(state.clone(), kind, config_reload)?;

    let hosts = config.host_allowlist();
    let run_state = state.clone();
    let watcher_ref = &watcher;
    let result = actix_web::rt::System::new().block_on(async move {
        // Signals are registered before anything is announced, so a SIGTERM sent right after
        // `ready` is never lost to the default handler.
        let signals = Signals::register()?;
        let notes: Vec<String> = opts.notes.iter().chain(&tls_notes).cloned().collect();
        announce(&config, &run_state, &ports, watcher_ref, &notes);
        actix_web::rt::spawn(async move {
            signals.wait().await;
            let _ = shutdown_tx.send(true);
        });
        let served = roles
            .into_iter()
            .zip(listeners)
            .zip(tls)
            .map(|((role, listener), tls)| (role, listener, tls))
            .collect();
        serve::run(served, run_state, hosts).await
    });
    drop(watcher);
    state.log.stopped();
    state.log.flush();
    result.map_err(UpError::Io)
}

/// Each origin's TLS server settings (`None` for plain HTTP), in config order, and notes for
/// the start (a local CA made just now wants `sandbox trust`).
fn tls_configs(
    config: &Config,
) -> Result<(Vec<Option<rustls::ServerConfig>>, Vec<String>), UpError> {
    let mut notes = Vec::new();
    let mut ca: Option<crate::certs::LocalCa> = None;
    let mut out = Vec::new();
    for o in &config.origins {
        let err = |source| UpError::Tls {
            name: o.name.clone(),
            source,
        };
        let identity = match &o.tls {
            None => {
                out.push(None);
                continue;
            }
            Some(TlsSource::Files { cert, key }) => {
                crate::certs::Identity::from_files(cert, key).map_err(err)?
            }
            Some(TlsSource::LocalCa) => {
                if ca.is_none() {
                    let opened =
                        crate::certs::LocalCa::open(&crate::certs::data_dir()).map_err(err)?;
                    if opened.created {
                        notes.push(format!(
                            "made a local CA for HTTPS origins at {}: run `sandbox trust` once so \
                             browsers accept it",
                            opened.cert_path.display()
                        ));
                    }
                    ca = Some(opened);
                }
                let names = leaf_names(config, &o.hostname);
                ca.as_ref()
                    .map(|c| c.leaf(&names))
                    .transpose()
                    .map_err(err)?
                    .ok_or_else(|| UpError::Io(std::io::Error::other("no local CA")))?
            }
        };
        out.push(Some(identity.server_config().map_err(err)?));
    }
    Ok((out, notes))
}

/// The names a leaf certificate covers: the origin's host name and every loopback form a
/// browser on this machine may use.
fn leaf_names(config: &Config, hostname: &str) -> Vec<String> {
    let mut names = vec![hostname.to_owned()];
    for n in ["localhost", "127.0.0.1", "::1"] {
        names.push(n.to_owned());
    }
    if !config.bind.is_unspecified() {
        names.push(config.bind.to_string());
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// What each listener serves, in config order: the n-th static origin is `statics[n]` of the
/// state, the n-th API origin `apis[n]`, as `build_state` lays them out.
fn roles(config: &Config) -> Vec<Role> {
    let (mut statics, mut apis) = (0, 0);
    config
        .origins
        .iter()
        .map(|o| match o.spec {
            OriginSpec::Static { .. } => {
                statics += 1;
                Role::Static(statics - 1)
            }
            OriginSpec::Api { .. } => {
                apis += 1;
                Role::Api(apis - 1)
            }
        })
        .collect()
}

/// Ctrl-C and SIGTERM, registered at creation.
struct Signals {
    #[cfg(unix)]
    term: actix_web::rt::signal::unix::Signal,
    #[cfg(unix)]
    int: actix_web::rt::signal::unix::Signal,
}

impl Signals {
    fn register() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use actix_web::rt::signal::unix::{signal, SignalKind};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = actix_web::rt::signal::ctrl_c().await;
    }
}

/// The banner (text) or the `listening` and `ready` events (JSON), and policy lints.
fn announce(
    config: &Config,
    state: &State,
    ports: &[u16],
    watcher: &watch::WatchHandle,
    notes: &[String],
) {
    if !config.bind.is_loopback() {
        state.log.warning(&format!(
            "listening on {} exposes the sandbox beyond this machine; anyone who can reach it can use the mock API",
            config.bind
        ));
    }
    for w in config.hostname_warnings() {
        state.log.warning(&w);
    }
    state.log.banner(&banner(config, state, ports, watcher));
    for (o, port) in config.origins.iter().zip(ports) {
        let url = origin_url(o, &config.browser_host(&o.hostname), *port);
        let (kind, pages) = match o.kind() {
            config::OriginKind::Static => (
                "static",
                Some((
                    keyed_url(state, &url, "/__sandbox/"),
                    keyed_url(state, &url, "/__sandbox/lab/"),
                )),
            ),
            config::OriginKind::Api => ("api", None),
        };
        state.log.listening(
            &o.name,
            kind,
            &url,
            &SocketAddr::new(config.bind, *port).to_string(),
            pages.as_ref().map(|(i, l)| (i.as_str(), l.as_str())),
        );
    }
    state.log.ready(config.origins.len(), watcher.watched_count);
    for n in notes {
        state.log.warning(n);
    }
    for api in 0..state.apis.len() {
        for w in state.policy_warnings(api) {
            state.log.warning(&w);
        }
    }
}

/// `path` on the origin at `url` with the run's key: the page trades it for a cookie
/// (`serve::key_gate`), after which the journal answers it.
fn keyed_url(state: &State, url: &str, path: &str) -> String {
    format!(
        "{url}{path}?{}={}",
        serve::key_gate::PARAM,
        state.key.as_str().unwrap_or_default()
    )
}

fn banner(config: &Config, state: &State, ports: &[u16], watcher: &watch::WatchHandle) -> String {
    let mut out = format!("sandbox {}\n", crate::VERSION);
    let mut api_i = 0;
    // (name, url, root or routes, what else), laid out in columns below.
    let rows: Vec<(&str, String, String, String)> = config
        .origins
        .iter()
        .zip(ports)
        .map(|(o, port)| {
            let url = origin_url(o, &config.browser_host(&o.hostname), *port);
            let (what, rest) = match &o.spec {
                OriginSpec::Static { root } => (
                    match root {
                        StaticRoot::Dir(d) => format!("{}/", d.display()),
                        StaticRoot::Embedded => "embedded lab".into(),
                    },
                    "live reload on".to_string(),
                ),
                OriginSpec::Api { routes, policy } => {
                    let mode = state.apis[api_i].policy.load().value.mode_name();
                    api_i += 1;
                    (
                        routes.display_name(),
                        format!("· {} ({mode})", policy.display_name()),
                    )
                }
            };
            (o.name.as_str(), url, what, rest)
        })
        .collect();
    // Each column as wide as its widest cell, so no name, URL or path runs into the next.
    let width = |cell: fn(&(&str, String, String, String)) -> usize| {
        rows.iter().map(cell).max().unwrap_or(0)
    };
    let name_w = width(|r| r.0.chars().count());
    let url_w = width(|r| r.1.chars().count());
    let what_w = width(|r| r.2.chars().count());
    for ((name, url, what, rest), o) in rows.iter().zip(&config.origins) {
        out.push_str(&format!(
            "  {name:<name_w$}  {url:<url_w$}  {what:<what_w$}  {rest}\n"
        ));
        if let OriginSpec::Static { .. } = &o.spec {
            // The journal's pages need the run's key, which only this terminal shows.
            // The lab is at /__sandbox/lab on every static origin, whatever its root.
            out.push_str(&format!(
                "  {:<name_w$}  {:<9} {}\n",
                "",
                "lab",
                keyed_url(state, url, "/__sandbox/lab/")
            ));
            out.push_str(&format!(
                "  {:<name_w$}  {:<9} {}\n",
                "",
                "inspector",
                keyed_url(state, url, "/__sandbox/")
            ));
        }
    }
    out.push_str(&format!(
        "watching {} file{}{} · Ctrl-C to stop",
        watcher.watched_count,
        if watcher.watched_count == 1 { "" } else { "s" },
        if watcher.kind == WatcherKind::Poll {
            " (polling)"
        } else {
            ""
        }
    ));
    out
}
