//! Reading a `file = …` body or a resource seed from disk, confined to the routes file's
//! folder: symlinks and `..` may not escape it, and size is capped.
//!
//! Owns the only file reads the routes loader makes. It must not interpret the bytes it reads.

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::source_file::{read_regular, LoadError, ReadError, Source, MAX_FILE_BYTES};

/// Resolves `file = …` inside the routes file's folder: symlinks and `..` may not escape it.
pub(super) fn read_body_file(
    src: &Source,
    dir: &Path,
    fref: &Spanned<String>,
) -> Result<(PathBuf, Vec<u8>), LoadError> {
    let rel = fref.get_ref();
    let err = |msg: String| {
        src.error_at(
            Some(fref.span()),
            &msg,
            "this file",
            Some("body files live in the routes file's folder or below it".into()),
        )
    };
    let base = dir
        .canonicalize()
        .map_err(|e| err(format!("cannot resolve {}: {e}", dir.display())))?;
    let full = base
        .join(rel)
        .canonicalize()
        .map_err(|e| err(format!("`{rel}`: {e}")))?;
    if !full.starts_with(&base) {
        return Err(err(format!("`{rel}` is outside {}", base.display())));
    }
    // Never a blocking read: a FIFO swapped in after the look above would hang the reload.
    let bytes = read_regular(&full, MAX_FILE_BYTES).map_err(|e| match e {
        ReadError::Directory | ReadError::NotRegular | ReadError::Symlink => {
            err(format!("`{rel}` is not a regular file"))
        }
        ReadError::TooBig { .. } => err(format!("`{rel}` is larger than {MAX_FILE_BYTES} bytes")),
        ReadError::Io(e) => err(format!("`{rel}`: {e}")),
    })?;
    Ok((full, bytes))
}
