//! The copy of this repository's `static/` compiled into the binary: the lab page served when
//! no static root is configured and `./static` does not exist, and at `/__sandbox/lab/` on
//! every static origin (`serve::livereload`), whatever its root.
//!
//! `static/` holds every browser-side file. Its top level is the lab exactly as served, so the
//! `./static` that `sandbox up` serves when started in a checkout shows the same lab:
//! - `index.html`, `lab.css`, `lab.js`: the lab, at `/`, `/lab.css` and `/lab.js`. Its links
//!   to them are relative, so the same page works under `/__sandbox/lab/`.
//! - `.sandbox/`: the sandbox's own files, left out of the lab here; each is compiled in by
//!   the module that uses it (`serve::livereload`, `scaffold`, `routes`). A dot folder because
//!   the static origin never serves hidden paths, so none of it is reachable as a static file
//!   when a checkout's `./static` is served from disk either.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use actix_web::http::header::HeaderValue;
use bytes::Bytes;
use include_dir::{include_dir, Dir};

use super::file_cache::ReadyResponse;
use super::inject::{inject, is_html};

static STATIC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static");

/// The folder of `static/` that is not part of the lab.
const OWN: &str = ".sandbox";

/// Every embedded file's answer, made once (validator hashed, reload script injected into
/// HTML) rather than on every request.
static ANSWERS: OnceLock<HashMap<PathBuf, ReadyResponse>> = OnceLock::new();

pub fn answer(rel: &Path) -> Option<&'static ReadyResponse> {
    ANSWERS
        .get_or_init(|| {
            let mut all = HashMap::new();
            collect(&STATIC, &mut all);
            all
        })
        .get(rel)
}

fn collect(dir: &'static Dir<'static>, all: &mut HashMap<PathBuf, ReadyResponse>) {
    for f in dir.files() {
        let answer = if is_html(f.path()) {
            ReadyResponse::html(inject(f.contents()))
        } else {
            let mime = mime_guess::from_path(f.path()).first_or_octet_stream();
            ReadyResponse::by_content(
                Bytes::from_static(f.contents()),
                HeaderValue::from_str(mime.essence_str())
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            )
        };
        all.insert(f.path().to_path_buf(), answer);
    }
    for d in dir.dirs().filter(|d| !is_own(d.path())) {
        collect(d, all);
    }
}

pub fn is_dir(rel: &Path) -> bool {
    !is_own(rel) && STATIC.get_dir(rel).is_some()
}

fn is_own(rel: &Path) -> bool {
    rel.starts_with(OWN)
}
