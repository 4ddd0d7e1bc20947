//! Applying an edit of `sandbox.toml` to a running sandbox, all or nothing: validate it with
//! the startup loader (and the startup overrides), diff it against the config in force,
//! load every file it newly names (nothing swapped yet), then swap them in and put the new
//! config in force. What needs a restart (ports, host names, origins added or removed) is
//! left as it is and named.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::fingerprint::digest_main;
use crate::config::{self, Config, ConfigError, FileRef, LiveChange, Overrides, StaticRoot};
use crate::policy::Policy;
use crate::routes::Routes;
use crate::source_file::{LoadError, Source};
use crate::state::load::{load_policy, load_routes, Bytes};
use crate::state::{canonical_root, State};

/// `sandbox.toml` as `up` resolved it, so a reload resolves it exactly as startup did.
#[derive(Debug, Clone)]
pub struct ConfigReload {
    /// The file as given on the command line.
    pub path: PathBuf,
    /// `--port` and `--host`, applied again on every reload.
    pub overrides: Overrides,
}

impl ConfigReload {
    /// Validates the bytes the watcher read, as `config::resolve` does at startup.
    pub fn validate(&self, bytes: Result<Vec<u8>, LoadError>) -> Result<Config, LoadError> {
        let src = Source::from_bytes(&self.path, bytes?)?;
        config::resolve_source(&src, &self.overrides).map_err(|e| match e {
            ConfigError::Load(e) => e,
            // Unlocated (a `--port` naming an origin the file no longer has, a port clash
            // with an override): reported against the file, without a line.
            other => LoadError::unreadable(&self.path, other.to_string()),
        })
    }
}

/// One file or root a new config names, loaded and waiting to be swapped in.
enum Staged {
    File {
        api: usize,
        value: Loaded,
        text: String,
        /// Display names of the file in force and of this one.
        names: (String, String),
        digest: Option<u64>,
    },
    Root {
        origin: usize,
        root: StaticRoot,
    },
}

/// Boxed: a policy or routes value is large, a root small.
enum Loaded {
    Policy(Box<Policy>),
    Routes(Box<Routes>),
}

/// A file of an API origin that a config reload swapped in.
#[derive(Debug)]
pub struct SwappedFile {
    pub origin: String,
    /// The file loaded before (its status board entry is dropped) and now.
    pub old_file: String,
    pub file: String,
    pub generation: u64,
    pub is_policy: bool,
    /// The main file's digest, when it is on disk: what the watcher has now seen of it.
    pub digest: Option<u64>,
}

/// What a config reload put in force.
#[derive(Debug, Default)]
pub struct ConfigApplied {
    pub files: Vec<SwappedFile>,
    /// Static origins (indexes) now serving another root.
    pub roots: Vec<usize>,
    /// One phrase per difference that needs a restart.
    pub restart: Vec<String>,
    /// The changes applied, described for the log.
    pub changed: Vec<String>,
}

/// Loads everything `new` changes relative to the config in force and, only if all of it
/// loads, swaps it in. `Ok` with nothing applied when only restart-bound fields differ.
pub fn apply(state: &State, new: &Config) -> Result<ConfigApplied, LoadError> {
    let diff = config::diff(&state.config.load(), new);
    let staged = diff
        .live
        .iter()
        .map(|c| stage(state, c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut applied = ConfigApplied {
        restart: diff.restart,
        changed: diff.live.iter().map(LiveChange::describe).collect(),
        ..Default::default()
    };
    for s in staged {
        commit(state, s, &mut applied);
    }
    // Last: whoever reads the config in force finds the stores it names already swapped.
    state.config.store(Arc::new(diff.in_force));
    Ok(applied)
}

fn stage(state: &State, change: &LiveChange) -> Result<Staged, LoadError> {
    let origin = change.origin();
    let api = state.apis.iter().position(|a| a.name == origin);
    let (api, from, to) = match (change, api) {
        (LiveChange::Policy { from, to, .. } | LiveChange::Routes { from, to, .. }, Some(a)) => {
            (a, from, to)
        }
        (LiveChange::Root { to, .. }, _) => {
            return Ok(Staged::Root {
                origin: state
                    .statics
                    .iter()
                    .position(|s| s.name == origin)
                    .unwrap_or_default(),
                root: canonical_root(to),
            })
        }
        // The diff only names files of origins in force, and the state has one per origin.
        _ => return Err(LoadError::unreadable(Path::new(origin), "no such origin")),
    };
    let (bytes, digest) = read(to);
    let (value, text) = match change {
        LiveChange::Policy { .. } => {
            let (p, text) = load_policy(to, &state.apis[api].default_allowed, bytes)?;
            (Loaded::Policy(Box::new(p)), text)
        }
        _ => {
            let (r, text) = load_routes(to, bytes, &state.listeners, &state.origin_urls())?;
            (Loaded::Routes(Box::new(r)), text)
        }
    };
    Ok(Staged::File {
        api,
        value,
        text,
        names: (from.display_name(), to.display_name()),
        digest,
    })
}

/// The bytes of a file a new config names, read once, and their digest (so the watcher does
/// not report the same version again when it hears of the file).
fn read(r: &FileRef) -> (Bytes, Option<u64>) {
    match r {
        FileRef::Embedded => (Bytes::ReadNow, None),
        FileRef::Path(p) => {
            let bytes = Source::read_bytes(p);
            let digest = digest_main(&bytes);
            (Bytes::Read(bytes), Some(digest))
        }
    }
}

fn commit(state: &State, staged: Staged, out: &mut ConfigApplied) {
    match staged {
        Staged::File {
            api,
            value,
            text,
            names: (old_file, file),
            digest,
        } => {
            let api = &state.apis[api];
            let (generation, is_policy) = match value {
                Loaded::Policy(p) => (api.policy.swap(*p, text), true),
                Loaded::Routes(r) => (api.routes.swap(*r, text), false),
            };
            out.files.push(SwappedFile {
                origin: api.name.clone(),
                old_file,
                file,
                generation,
                is_policy,
                digest,
            });
        }
        Staged::Root { origin, root } => {
            let s = &state.statics[origin];
            s.root.store(Arc::new(root));
            // After the swap: a request that read the old count may still cache a file of
            // the new root under it, never one of the old root under the new count.
            s.changes.fetch_add(1, Ordering::Release);
            out.roots.push(origin);
        }
    }
}

/// Files the config names that are not loaded: a failed reload watches them too, so fixing
/// the one that failed retries the whole config without another save of `sandbox.toml`.
pub fn pending_files(state: &State, new: &Config) -> Vec<PathBuf> {
    config::diff(&state.config.load(), new)
        .live
        .iter()
        .filter_map(|c| match c {
            LiveChange::Policy {
                to: FileRef::Path(p),
                ..
            }
            | LiveChange::Routes {
                to: FileRef::Path(p),
                ..
            } => Some(crate::state::absolute(p)),
            _ => None,
        })
        .collect()
}

/// The root as the watcher watches it: canonical; an embedded root, a path nothing matches.
pub fn watched_root(root: &StaticRoot) -> PathBuf {
    match root {
        StaticRoot::Dir(d) => d
            .canonicalize()
            .unwrap_or_else(|_| crate::state::absolute(d)),
        StaticRoot::Embedded => Path::new("/\0embedded").to_path_buf(),
    }
}
