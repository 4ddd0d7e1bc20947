//! `sandbox.toml`: the list of origins to serve, merged with command-line overrides.
//!
//! Owns the file's shape (serde structs with spans, unknown keys refused), its validation
//! (unique names and ports, the right keys for each kind, referenced files present) and the
//! zero-config default. Produces a [`Config`] that servers use; it never sees clap types, and it
//! does not read the routes or policy files themselves (their loaders do).
//! Precedence is command line > file > built-in default, applied once in [`resolve`].

mod diff;
mod file;
mod hosts;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::source_file::{did_you_mean, LoadError, Source};

pub use diff::{diff, ConfigDiff, LiveChange};
pub use file::OriginKind;
pub use hosts::HostAllowlist;

/// Default ports of the zero-config setup, chosen to match what tutorials use.
pub const DEFAULT_FRONTEND_PORT: u16 = 8080;
pub const DEFAULT_API_PORT: u16 = 3000;

/// Everything `sandbox up` serves, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the config came from (`None`: the built-in default).
    pub file: Option<PathBuf>,
    /// Address every listener binds.
    pub bind: std::net::IpAddr,
    pub origins: Vec<OriginConfig>,
}

#[derive(Debug, Clone)]
pub struct OriginConfig {
    pub name: String,
    pub port: u16,
    /// The host name the origin is reached by in the browser (`localhost` unless set).
    pub hostname: String,
    pub spec: OriginSpec,
    /// Served over HTTPS (`tls = true`), and with which certificate.
    pub tls: Option<TlsSource>,
}

/// Where an HTTPS origin's certificate comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TlsSource {
    /// A leaf made at start by the user's local CA (`sandbox trust` installs the CA).
    LocalCa,
    /// The user's own PEM files (`cert`, `key`; mkcert's, say).
    Files { cert: PathBuf, key: PathBuf },
}

#[derive(Debug, Clone)]
pub enum OriginSpec {
    Static { root: StaticRoot },
    Api { routes: FileRef, policy: FileRef },
}

/// Where a static origin's files come from.
#[derive(Debug, Clone, PartialEq)]
pub enum StaticRoot {
    Dir(PathBuf),
    /// The copy of this repository's `static/` compiled into the binary.
    Embedded,
}

/// A routes or policy file, or the built-in default.
#[derive(Debug, Clone, PartialEq)]
pub enum FileRef {
    Path(PathBuf),
    Embedded,
}

impl FileRef {
    pub fn display_name(&self) -> String {
        match self {
            FileRef::Path(p) => crate::source_file::file_name(p),
            FileRef::Embedded => "embedded default".into(),
        }
    }
}

impl Config {
    /// The origin named `name`, if any.
    pub fn origin(&self, name: &str) -> Option<&OriginConfig> {
        self.origins.iter().find(|o| o.name == name)
    }
}

impl OriginConfig {
    /// `https` for a TLS origin, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    pub fn kind(&self) -> OriginKind {
        match self.spec {
            OriginSpec::Static { .. } => OriginKind::Static,
            OriginSpec::Api { .. } => OriginKind::Api,
        }
    }
}

/// What the command line may override.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub bind: Option<std::net::IpAddr>,
    /// `--port NAME=PORT`, in the order given.
    pub ports: Vec<(String, u16)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("--port {name}={port}: there is no origin named `{name}`{hint}")]
    UnknownOriginOverride {
        name: String,
        port: u16,
        hint: String,
    },
    #[error("origins `{a}` and `{b}` both use port {port}; give each origin its own port (or 0 for any free one)")]
    PortClash { a: String, b: String, port: u16 },
}

impl ConfigError {
    pub fn render(&self) -> String {
        match self {
            ConfigError::Load(e) => e.render(),
            other => format!("error: {other}"),
        }
    }
}

/// Loads `path` (or the default when `None`) and applies the overrides.
pub fn resolve(path: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
    match path {
        Some(p) => resolve_source(&Source::read(p)?, overrides),
        None => apply_overrides(default_config(Path::new(".")), overrides),
    }
}

/// [`resolve`] for a config file already read: the watcher validates exactly the bytes it
/// fingerprinted, under the overrides startup applied.
pub fn resolve_source(src: &Source, overrides: &Overrides) -> Result<Config, ConfigError> {
    apply_overrides(load_file(src)?, overrides)
}

fn apply_overrides(mut config: Config, overrides: &Overrides) -> Result<Config, ConfigError> {
    if let Some(bind) = overrides.bind {
        config.bind = bind;
    }
    for (name, port) in &overrides.ports {
        match config.origins.iter_mut().find(|o| &o.name == name) {
            Some(o) => o.port = *port,
            None => {
                let names: Vec<&str> = config.origins.iter().map(|o| o.name.as_str()).collect();
                let hint = match did_you_mean(name, &names) {
                    Some(b) => format!(" (did you mean `{b}`?)"),
                    None => format!(" (origins: {})", names.join(", ")),
                };
                return Err(ConfigError::UnknownOriginOverride {
                    name: name.clone(),
                    port: *port,
                    hint,
                });
            }
        }
    }
    check_ports(&config)?;
    Ok(config)
}

/// Zero config: a frontend serving `./static` when present (else the embedded lab) and an API
/// with the embedded routes and a policy that allows that frontend.
pub fn default_config(cwd: &Path) -> Config {
    let local_static = cwd.join("static");
    let root = if local_static.is_dir() {
        StaticRoot::Dir(local_static)
    } else {
        StaticRoot::Embedded
    };
    Config {
        file: None,
        bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        origins: vec![
            OriginConfig {
                name: "frontend".into(),
                port: DEFAULT_FRONTEND_PORT,
                hostname: "localhost".into(),
                spec: OriginSpec::Static { root },
                tls: None,
            },
            OriginConfig {
                name: "api".into(),
                port: DEFAULT_API_PORT,
                hostname: "localhost".into(),
                spec: OriginSpec::Api {
                    routes: FileRef::Embedded,
                    policy: FileRef::Embedded,
                },
                tls: None,
            },
        ],
    }
}

fn load_file(src: &Source) -> Result<Config, ConfigError> {
    let path = src.path.as_path();
    let parsed: file::ConfigFile = src.parse()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let origins = file::validate(src, dir, parsed)?;
    let config = Config {
        file: Some(path.to_path_buf()),
        bind: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        origins,
    };
    Ok(config)
}

fn check_ports(config: &Config) -> Result<(), ConfigError> {
    let mut seen: HashMap<u16, &str> = HashMap::new();
    for o in &config.origins {
        if o.port == 0 {
            continue;
        }
        if let Some(prev) = seen.insert(o.port, &o.name) {
            return Err(ConfigError::PortClash {
                a: prev.to_string(),
                b: o.name.clone(),
                port: o.port,
            });
        }
    }
    Ok(())
}

/// Parses `NAME=PORT` as given to `--port`.
pub fn parse_port_override(s: &str) -> Result<(String, u16), String> {
    let (name, port) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PORT (e.g. api=3001), got `{s}`"))?;
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| format!("`{port}` is not a port number (0-65535)"))?;
    if name.trim().is_empty() {
        return Err("the origin name before `=` is empty".into());
    }
    Ok((name.trim().to_string(), port))
}

#[cfg(test)]
mod tests;
