//! The one loader of policy and routes files, used at startup (strict: an error stops `up`)
//! and by the watcher on every save (forgiving: the error is reported and the last good
//! version stays). Returns the value with the text it was loaded from, which the store keeps
//! in the same snapshot.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::FileRef;
use crate::policy::{self, Policy};
use crate::routes::{self, Routes};
use crate::source_file::{file_name, LoadError, Source};

/// Where a file's bytes come from.
#[derive(Debug)]
pub enum Bytes {
    /// Read the file now (startup, `check`, `fixtures verify`).
    ReadNow,
    /// Already read by the watcher, which fingerprinted exactly these bytes and so must parse
    /// exactly them: read twice, a save landing in between would be reported twice, or a
    /// newer save marked as seen and never loaded.
    Read(Result<Vec<u8>, LoadError>),
}

fn source(p: &Path, bytes: Bytes) -> Result<Source, LoadError> {
    match bytes {
        Bytes::ReadNow => Source::read(p),
        Bytes::Read(b) => Source::from_bytes(p, b?),
    }
}

/// Reads and validates a policy file, or builds the embedded default, for the static origins
/// as served in `static_origins`: the default allows them, and a file's
/// [`policy::STATIC_ORIGINS`] placeholder is replaced by them here, so the policy module never
/// needs to know where the sandbox listens.
pub fn load_policy(
    r: &FileRef,
    static_origins: &[String],
    bytes: Bytes,
) -> Result<(Policy, String), LoadError> {
    match r {
        FileRef::Embedded => Ok((
            policy::default_for(static_origins)?,
            policy::default_text(static_origins),
        )),
        FileRef::Path(p) => {
            let src = source(p, bytes)?;
            let policy = policy::load(&src, &file_name(p))?.with_static_origins(static_origins);
            Ok((policy, src.text))
        }
    }
}

/// Reads and validates a routes file (or the embedded default). Body files named by
/// `file = …` are read by the routes loader, relative to the routes file's folder; an
/// `upstream` that one of the sandbox's own `listeners` would accept is refused; every
/// `{{origin.NAME}}` becomes the URL of the sandbox's origin NAME (`origins`: name, URL).
pub fn load_routes(
    r: &FileRef,
    bytes: Bytes,
    listeners: &[SocketAddr],
    origins: &[(String, String)],
) -> Result<(Routes, String), LoadError> {
    match r {
        FileRef::Embedded => {
            let src = Source::embedded(EMBEDDED_ROUTES, routes::DEFAULT_ROUTES);
            let routes =
                routes::load_for_listeners(&src, EMBEDDED_ROUTES, Path::new("."), listeners)?;
            Ok((routes, src.text))
        }
        FileRef::Path(p) => {
            let src = source(p, bytes)?;
            let dir = p.parent().unwrap_or(Path::new("."));
            let mut routes = routes::load_for_listeners(&src, &file_name(p), dir, listeners)?;
            let recorded = recorded_routes_path(p);
            if recorded.is_file() {
                let rec_src = Source::read(&recorded)?;
                let rec =
                    routes::load_for_listeners(&rec_src, &file_name(&recorded), dir, listeners)?;
                routes = routes.merged_with(rec);
            }
            if let Err(name) = routes.resolve_origins(origins) {
                return Err(unknown_origin(&src, &name, origins));
            }
            // Watched before it exists, so the first recorded route is served at once.
            routes.body_files.push(recorded);
            Ok((routes, src.text))
        }
    }
}

/// The error for `{{origin.NAME}}` naming no origin of the sandbox, at its first use.
fn unknown_origin(src: &Source, name: &str, origins: &[(String, String)]) -> LoadError {
    let placeholder = format!("origin.{name}");
    let span = src
        .text
        .find(&placeholder)
        .map(|at| at..at + placeholder.len());
    let names: Vec<&str> = origins.iter().map(|(n, _)| n.as_str()).collect();
    let help = match crate::source_file::did_you_mean(name, &names) {
        Some(n) => format!("did you mean `{{{{origin.{n}}}}}`?"),
        None => format!("the origins of sandbox.toml are: {}", names.join(", ")),
    };
    src.error_at(
        span,
        &format!("`{{{{origin.{name}}}}}` names no origin of this sandbox"),
        "this origin",
        Some(help),
    )
}

/// Where `sandbox up --record` writes the routes it records for the routes file `routes`
/// (`api.toml` → `api.recorded.toml`, beside it), merged after that file's own routes.
pub fn recorded_routes_path(routes: &Path) -> PathBuf {
    let stem = routes
        .file_stem()
        .map_or_else(|| "routes".into(), |s| s.to_string_lossy().into_owned());
    routes.with_file_name(format!("{stem}.recorded.toml"))
}

const EMBEDDED_ROUTES: &str = "embedded default routes";
