//! `--persist` on disk: where a resource's state is saved, how it is written and read back.
//!
//! The state sits beside the seed, in a folder the routes loader has already resolved inside
//! the routes file's folder. A cloned repository decides what is at that name and at any
//! name it can guess, so a save goes through a temp file with a random name created
//! exclusively (a planted symlink is never opened) and is then renamed over the state (the
//! rename replaces a link, never writes through it). A read takes only a regular file of at
//! most [`MAX_STATE_BYTES`], follows no link and never blocks. A saved state that cannot be
//! used is moved aside under a name nothing else has, never overwritten, and reported.
//!
//! It must not decide what a table holds: `resources` does that.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::parse_seed;
use crate::source_file::{file_name, write_atomically, Source};

/// A saved state above this is refused when read, and a save that would exceed it fails:
/// whatever is saved can be loaded again.
pub const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;

/// Where `--persist` keeps a resource's state: `students.json` → `students.state.json`.
pub fn state_path(seed: &Path) -> PathBuf {
    let stem = seed
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "resource".into());
    seed.with_file_name(format!("{stem}.state.json"))
}

/// Why a change could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the saved state would be {0} bytes; the limit is {MAX_STATE_BYTES}")]
    TooBig(usize),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl SaveError {
    /// The HTTP status a request that hit this answers with.
    pub fn status(&self) -> u16 {
        match self {
            SaveError::TooBig(_) => 507,
            SaveError::Io(_) => 500,
        }
    }
}

/// Writes `items` to `path` so that a crash at any instant leaves the old file or the new one:
/// a temp file in the same folder, fsync, rename over, fsync the folder (the rename itself).
pub fn save_atomically(path: &Path, items: &[Value]) -> Result<(), SaveError> {
    let bytes = serde_json::to_vec_pretty(items).map_err(std::io::Error::other)?;
    if bytes.len() as u64 > MAX_STATE_BYTES {
        return Err(SaveError::TooBig(bytes.len()));
    }
    Ok(write_atomically(path, &bytes)?)
}

/// A saved state `--persist` could not use; the table starts from its seed instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("resource `{resource}`: the saved state is not used, starting from the seed: {problem}; {aside}")]
pub struct StateWarning {
    pub resource: String,
    /// The state file's name (no folder), for pages.
    pub file: String,
    pub problem: String,
    pub aside: SetAside,
}

impl StateWarning {
    /// The warning for pages (the overlay, the status board): no folder names, which pages
    /// must not learn.
    pub fn for_pages(&self) -> String {
        format!(
            "resource `{}`: the saved state {} is not used, the table starts from its seed; {}",
            self.resource, self.file, self.aside
        )
    }
}

/// What became of a saved state that could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SetAside {
    #[error("it is kept as {}", file_name(.0))]
    Kept(PathBuf),
    /// Saving would overwrite it, so changes to this table stay in memory only.
    #[error("it could not be moved aside ({0}), so changes are not saved until it is moved")]
    Stuck(String),
}

/// The state saved last time (`None` when there is none). One that cannot be used is moved
/// aside and reported.
pub fn load_saved(resource: &str, path: &Path) -> Result<Option<Vec<Value>>, StateWarning> {
    if std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        return Ok(None);
    }
    let problem = match Source::read_own_bytes(path, MAX_STATE_BYTES) {
        Ok(bytes) => match parse_seed(&bytes) {
            Ok(items) => return Ok(Some(items)),
            Err(e) => format!("{}: not a saved state ({e})", path.display()),
        },
        Err(e) => e.to_string(),
    };
    Err(StateWarning {
        resource: resource.to_string(),
        file: file_name(path),
        problem,
        aside: set_aside(path),
    })
}

/// How many numbered names are tried when the time-stamped one is taken.
const ASIDE_TRIES: u32 = 100;

/// Moves whatever is at `path` (a link or FIFO itself, never its target) to
/// `NAME.corrupt-<UTC time>[-n]` beside it, a name nothing else holds.
fn set_aside(path: &Path) -> SetAside {
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let base = format!("{}.corrupt-{stamp}", file_name(path));
    for n in 0..ASIDE_TRIES {
        let name = match n {
            0 => base.clone(),
            n => format!("{base}-{n}"),
        };
        let to = path.with_file_name(name);
        // A hard link never replaces an existing name, so no earlier copy is lost; the
        // original name goes only once the copy is in place.
        match std::fs::hard_link(path, &to) {
            Ok(()) => {
                return match std::fs::remove_file(path) {
                    Ok(()) => SetAside::Kept(to),
                    Err(e) => SetAside::Stuck(e.to_string()),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            // A file system without hard links: rename, to a name just seen to be free.
            Err(_) if std::fs::symlink_metadata(&to).is_err() => {
                return match std::fs::rename(path, &to) {
                    Ok(()) => SetAside::Kept(to),
                    Err(e) => SetAside::Stuck(e.to_string()),
                }
            }
            Err(e) => return SetAside::Stuck(e.to_string()),
        }
    }
    SetAside::Stuck(format!("{ASIDE_TRIES} names beside it are taken"))
}
