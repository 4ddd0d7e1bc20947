//! A routes file, from its TOML text to a validated [`super::Routes`].
//!
//! Owns the order in which a file is checked and what only the whole file knows: `[defaults]`
//! reach every route, `proxy` and `cors` need an `upstream`, and every file read is recorded
//! for the watcher. Each part is checked by its own submodule (`model` is the serde shape);
//! this one wires them together and must not grow checks of single keys. Pure apart from
//! reading the body and seed files a routes file names (`body_file`).

mod body_file;
mod faults;
mod model;
mod resource;
mod response;
mod route;
mod templates;
mod upstream;
mod validation;
mod when;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::Routes;
use crate::source_file::{LoadError, Source};

/// Everything `load` builds up across entries.
struct Loader<'a> {
    src: &'a Source,
    dir: &'a Path,
    body_files: Vec<PathBuf>,
}

pub(super) fn load(
    src: &Source,
    file_name: &str,
    dir: &Path,
    listeners: &[SocketAddr],
) -> Result<Routes, LoadError> {
    let f: model::File = src.parse()?;
    let mut ld = Loader {
        src,
        dir,
        body_files: Vec::new(),
    };
    let defaults = faults::defaults(src, &f.defaults)?;
    let upstream = upstream::from_file(src, &f.upstream, &f.cors, listeners)?;
    let docs = ld.openapi(&f)?;
    let validates = f.validate.as_ref().is_some_and(|v| *v.get_ref());
    let mut routes = Vec::with_capacity(f.route.len());
    for entry in &f.route {
        let mut route = ld.route(entry, &defaults, upstream.is_some())?;
        route.validation = ld.validation(entry, validates, docs.as_ref())?;
        routes.push(route);
    }
    let resources = ld.resources(&f.resource)?;
    Ok(Routes {
        file_name: file_name.to_string(),
        index: super::index::RouteIndex::build(&routes),
        routes,
        body_files: ld.body_files,
        resources,
        upstream,
        defaults,
    })
}

/// The statuses a route may answer with: final ones only. A 1xx is an interim answer; sent as a
/// route's answer, the client would read the body after it as the next response.
const STATUSES: std::ops::RangeInclusive<u16> = 200..=999;
const STATUS_RANGE: &str =
    "status must be between 200 and 999: a 1xx is an interim answer, never a final one";

/// A value from the file when `ok` holds for it; otherwise an error at its place saying what
/// is allowed.
fn within<T: Copy>(
    src: &Source,
    v: &Spanned<T>,
    ok: impl Fn(&T) -> bool,
    allowed: &str,
) -> Result<T, LoadError> {
    let x = *v.get_ref();
    if ok(&x) {
        Ok(x)
    } else {
        Err(src.error_at(Some(v.span()), allowed, "here", None))
    }
}

#[cfg(test)]
mod tests;
