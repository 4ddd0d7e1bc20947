//! The copy of this repository's `static/` compiled into the binary: the lab page served when
//! no static root is configured and `./static` does not exist.

use std::path::Path;

use include_dir::{include_dir, Dir};

static STATIC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static");

pub fn file(rel: &Path) -> Option<&'static [u8]> {
    STATIC.get_file(rel).map(|f| f.contents())
}

pub fn is_dir(rel: &Path) -> bool {
    STATIC.get_dir(rel).is_some()
}
