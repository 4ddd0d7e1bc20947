//! `sandbox up`: validate everything, bind every port, load every file, start the watcher,
//! print the banner, serve until Ctrl-C or SIGTERM.
//!
//! Strict at startup (DESIGN.md §4.4): any problem is reported before a single socket accepts,
//! so nothing is ever half-started. Forgiving afterwards: the watcher keeps the last good
//! version of every file.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::config::{self, Config, OriginSpec, Overrides, StaticRoot};
use crate::journal::{Log, LogFormat};
use crate::reload::watch::{self, WatcherKind};
use crate::reload::Store;
use crate::serve::{self, guard::HostAllowlist, Role};
use crate::source_file::LoadError;
use crate::state::{load_policy, load_routes, ApiOrigin, Sources, State, StaticOrigin};

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
    #[error("origin `{origin}`: {error}")]
    Load { origin: String, error: LoadError },
    #[error(transparent)]
    Watch(#[from] watch::WatchError),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

impl UpError {
    /// The report for the terminal, with source snippets for file errors.
    pub fn render(&self) -> String {
        match self {
            UpError::Config(e) => e.render(),
            UpError::Load { origin, error } => format!("origin `{origin}`:\n{}", error.render()),
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

/// The URL a browser uses for an origin: its host name and the port actually bound.
fn origin_url(hostname: &str, port: u16) -> String {
    format!("http://{hostname}:{port}")
}

/// Loads every origin's files (strictly) into a fresh [`State`]. `ports` are the real ports,
/// which the URLs (and the default policy's allowed origins) use. Also used by `check` and
/// `fixtures verify`, so they judge exactly what `up` would serve.
pub fn build_state(
    config: &Config,
    ports: &[u16],
    log: Log,
) -> Result<(State, Vec<Role>, tokio::sync::watch::Sender<bool>), UpError> {
    let static_urls: Vec<String> = config
        .origins
        .iter()
        .zip(ports)
        .filter(|(o, _)| matches!(o.spec, OriginSpec::Static { .. }))
        .flat_map(|(o, p)| {
            let mut v = vec![origin_url(&o.hostname, *p)];
            if o.hostname == "localhost" {
                v.push(origin_url("127.0.0.1", *p));
            }
            v
        })
        .collect();

    let mut apis = Vec::new();
    let mut statics = Vec::new();
    let mut roles = Vec::new();
    for (o, port) in config.origins.iter().zip(ports) {
        let url = origin_url(&o.hostname, *port);
        match &o.spec {
            OriginSpec::Static { root } => {
                roles.push(Role::Static(statics.len()));
                // Canonical once here, so requests need not resolve the root again.
                let root = match root {
                    StaticRoot::Dir(d) => StaticRoot::Dir(d.canonicalize().unwrap_or(d.clone())),
                    StaticRoot::Embedded => StaticRoot::Embedded,
                };
                statics.push(StaticOrigin {
                    name: o.name.clone(),
                    url,
                    root,
                    changes: Default::default(),
                });
            }
            OriginSpec::Api { routes, policy } => {
                let load_err = |error| UpError::Load {
                    origin: o.name.clone(),
                    error,
                };
                let (p, policy_text) = load_policy(policy, &static_urls).map_err(load_err)?;
                let (r, routes_text) = load_routes(routes).map_err(load_err)?;
                roles.push(Role::Api(apis.len()));
                apis.push(ApiOrigin {
                    name: o.name.clone(),
                    url,
                    policy: Store::new(p),
                    routes: Store::new(r),
                    policy_ref: policy.clone(),
                    routes_ref: routes.clone(),
                    default_allowed: static_urls.clone(),
                    last_preflight: Mutex::new(None),
                    sources: Mutex::new(Sources {
                        policy: policy_text,
                        routes: routes_text,
                    }),
                    resources: Default::default(),
                });
            }
        }
    }
    let (events, _) = broadcast::channel(256);
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let state = State {
        apis,
        statics,
        events,
        log,
        status: Mutex::new(Vec::new()),
        history: Mutex::new(Default::default()),
        journal: crate::journal::Ring::new(crate::journal::RING_CAPACITY),
        shutdown: shutdown_rx,
        bench: Default::default(),
    };
    Ok((state, roles, shutdown_tx))
}

/// The origins' host names plus loopback names: what every listener answers.
pub fn host_allowlist(config: &Config) -> HostAllowlist {
    let mut names: Vec<String> = config.origins.iter().map(|o| o.hostname.clone()).collect();
    // `--host 127.0.0.2` (or any address given) must be reachable by its own address.
    names.push(match config.bind {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    });
    HostAllowlist {
        names,
        allow_ip_literals: !config.bind.is_loopback(),
    }
}

/// Runs `sandbox up` to completion.
pub fn run(opts: UpOptions) -> Result<(), UpError> {
    let config = config::resolve(opts.config.as_deref(), &opts.overrides)?;
    let listeners = bind_all(&config)?;
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?;

    let (mut state, roles, shutdown_tx) =
        build_state(&config, &ports, Log::stdout(opts.log_format))?;
    state.bench =
        crate::state::BenchSwitches::from_env(std::env::var(BARE_API_ENV).ok().as_deref());
    for api in &state.apis {
        api.resources.set_persist(opts.persist);
    }
    let state = Arc::new(state);
    let watcher = watch::start(
        state.clone(),
        if opts.poll {
            WatcherKind::Poll
        } else {
            WatcherKind::Native
        },
    )?;

    let hosts = host_allowlist(&config);
    let run_state = state.clone();
    let watcher_ref = &watcher;
    let result = actix_web::rt::System::new().block_on(async move {
        // Signals are registered before anything is announced, so a SIGTERM sent right after
        // `ready` is never lost to the default handler.
        let signals = Signals::register()?;
        announce(&config, &run_state, &ports, watcher_ref);
        actix_web::rt::spawn(async move {
            signals.wait().await;
            let _ = shutdown_tx.send(true);
        });
        serve::run(roles.into_iter().zip(listeners).collect(), run_state, hosts).await
    });
    drop(watcher);
    state.log.stopped();
    state.log.flush();
    result.map_err(UpError::Io)
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
fn announce(config: &Config, state: &State, ports: &[u16], watcher: &watch::WatchHandle) {
    if !config.bind.is_loopback() {
        state.log.warning(&format!(
            "listening on {} exposes the sandbox beyond this machine; anyone who can reach it can use the mock API",
            config.bind
        ));
    }
    state.log.banner(&banner(config, state, ports, watcher));
    for (o, port) in config.origins.iter().zip(ports) {
        state.log.listening(
            &o.name,
            match o.kind() {
                config::OriginKind::Static => "static",
                config::OriginKind::Api => "api",
            },
            &origin_url(&o.hostname, *port),
            &SocketAddr::new(config.bind, *port).to_string(),
        );
    }
    state.log.ready(config.origins.len(), watcher.watched_count);
    for api in &state.apis {
        for w in &api.policy.load().value.warnings {
            state.log.warning(&format!(
                "{} {}: {w}",
                api.name,
                api.policy_ref.display_name()
            ));
        }
    }
}

fn banner(config: &Config, state: &State, ports: &[u16], watcher: &watch::WatchHandle) -> String {
    let mut out = format!("sandbox {}\n", env!("CARGO_PKG_VERSION"));
    let width = config
        .origins
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(0);
    let mut api_i = 0;
    for (o, port) in config.origins.iter().zip(ports) {
        let url = origin_url(&o.hostname, *port);
        let detail = match &o.spec {
            OriginSpec::Static { root } => {
                let r = match root {
                    StaticRoot::Dir(d) => format!("{}/", d.display()),
                    StaticRoot::Embedded => "embedded lab".into(),
                };
                format!("{r:<18} live reload on")
            }
            OriginSpec::Api { routes, policy } => {
                let mode = state.apis[api_i].policy.load().value.mode_name();
                api_i += 1;
                format!(
                    "{} · {} ({mode})",
                    routes.display_name(),
                    policy.display_name()
                )
            }
        };
        out.push_str(&format!("  {:<width$}  {url:<28} {detail}\n", o.name));
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
