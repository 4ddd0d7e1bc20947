//! Reading a `file = …` body or a resource seed from disk, confined to the routes file's
//! folder: symlinks and `..` may not escape it, and size is capped.
//!
//! Owns the only file reads the routes loader makes. It must not interpret the bytes it reads.

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::source_file::{LoadError, Source, MAX_FILE_BYTES};

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
    let meta = std::fs::metadata(&full).map_err(|e| err(format!("`{rel}`: {e}")))?;
    if !meta.is_file() {
        return Err(err(format!("`{rel}` is not a regular file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(format!(
            "`{rel}` is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    let bytes = std::fs::read(&full).map_err(|e| err(format!("`{rel}`: {e}")))?;
    Ok((full, bytes))
}
