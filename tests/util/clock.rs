//! A browser clock a test can move: a file holding an offset in seconds that `clockshift.c`
//! (preloaded into Chromium) or the engine oracle (`SANDBOX_ORACLE_CLOCK`: libfaketime in
//! WebKit, clockshift in Firefox) adds to the process's wall and monotonic clocks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Clock {
    dir: tempfile::TempDir,
    pub file: PathBuf,
    offset_s: AtomicU64,
}

impl Clock {
    pub fn new() -> Clock {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("clock");
        std::fs::write(&file, "+0\n").unwrap();
        Clock {
            dir,
            file,
            offset_s: AtomicU64::new(0),
        }
    }

    /// Moves the clock `seconds` further on (rewriting the file in place, as clockshift
    /// re-reads it).
    pub fn advance(&self, seconds: u64) {
        let now = self.offset_s.fetch_add(seconds, Ordering::SeqCst) + seconds;
        std::fs::write(&self.file, format!("+{now}\n")).unwrap();
    }

    /// `clockshift.c` built with cc beside the clock file: the library to preload into
    /// Chromium (libfaketime hangs it once the clock moves).
    pub fn clockshift_library(&self) -> PathBuf {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engines/clockshift.c");
        let library = self.dir.path().join("clockshift.so");
        if library.is_file() {
            return library;
        }
        let status = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&library)
            .arg(&source)
            .status()
            .unwrap_or_else(|e| {
                panic!(
                    "moving Chromium's clock needs cc for clockshift.c (apt-get install gcc): {e}"
                )
            });
        assert!(status.success(), "cc clockshift.c: {status}");
        library
    }
}
