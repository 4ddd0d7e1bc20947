//! What a reload target holds now, as a number: a main file's bytes (or why they could not
//! be read) and each body file it names. The watcher compares these to skip saves that change
//! nothing and to report a repeated bad save once.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use crate::source_file::{LoadError, Source};

/// A digest of a main file's bytes, or of why it could not be read (missing, a folder,
/// permission denied, too big: each a state of its own, reported once).
pub fn digest_main(main: &Result<Vec<u8>, LoadError>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match main {
        Ok(bytes) => (0u8, bytes).hash(&mut h),
        Err(e) => (1u8, e.one_line()).hash(&mut h),
    }
    h.finish()
}

/// The fingerprint of everything a target loads: its main file's digest and each body file.
/// Body files are read under the same rules (size limit, no blocking on a FIFO).
pub fn fingerprint(main_digest: u64, bodies: &[PathBuf]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    main_digest.hash(&mut h);
    for f in bodies {
        digest_main(&Source::read_bytes(f)).hash(&mut h);
    }
    h.finish()
}
