//! The mock API's routes file: `[[route]]` entries, their validation, and matching.
//!
//! Owns what the API answers, not how it is sent: [`Routes::find`] picks a route for a method
//! and path; `serve::api` turns it into an HTTP response. Bodies from `file = …` are read at
//! load time (so one request sees one version, and a file can never be read through a request
//! path) and must stay inside the routes file's folder. Pure apart from reading those files.

mod file;
mod matching;

use std::path::PathBuf;

pub use matching::{PathPattern, Segment};

use crate::source_file::{LoadError, Source};

/// A validated routes file.
#[derive(Debug, Clone, PartialEq)]
pub struct Routes {
    pub file_name: String,
    pub routes: Vec<Route>,
    /// Files that bodies were read from, so the watcher can reload when one changes.
    pub body_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Upper-cased unless it is an extension method, which HTTP keeps case-sensitive.
    pub method: String,
    pub path: PathPattern,
    pub status: u16,
    /// Extra response headers, in file order.
    pub headers: Vec<(String, String)>,
    pub body: Body,
    pub delay_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

/// A route chosen for a request, with its path parameters.
#[derive(Debug)]
pub struct Match<'a> {
    pub route: &'a Route,
    pub params: Vec<(String, String)>,
}

/// Header names the server itself owns; a route setting them would corrupt framing.
pub const FRAMING_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

impl Routes {
    /// The first route, in file order, whose method and path match. `HEAD` also matches `GET`.
    pub fn find(&self, method: &str, path: &str) -> Option<Match<'_>> {
        let try_method = |m: &str| {
            self.routes.iter().find_map(|r| {
                if r.method != m && r.method != "*" {
                    return None;
                }
                r.path
                    .matches(path)
                    .map(|params| Match { route: r, params })
            })
        };
        try_method(method).or_else(|| {
            if method == "HEAD" {
                try_method("GET")
            } else {
                None
            }
        })
    }

    /// Up to three routes closest to a path that matched nothing, for the 404 body.
    pub fn closest(&self, method: &str, path: &str) -> Vec<(String, String)> {
        let mut scored: Vec<(f64, &Route)> = self
            .routes
            .iter()
            .map(|r| {
                let mut s = strsim::normalized_levenshtein(&r.path.text, path);
                if r.method == method {
                    s += 0.05;
                }
                (s, r)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored
            .into_iter()
            .take(3)
            .map(|(_, r)| (r.method.clone(), r.path.text.clone()))
            .collect()
    }
}

/// Parses and validates a routes file; `dir` is where relative `file = …` paths start.
pub fn load(src: &Source, file_name: &str, dir: &std::path::Path) -> Result<Routes, LoadError> {
    file::load(src, file_name, dir)
}

/// Normalises a method the way fetch does: only the six standard methods are upper-cased.
pub fn normalize_method(m: &str) -> String {
    const STANDARD: &[&str] = &["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    let upper = m.to_ascii_uppercase();
    if STANDARD.contains(&upper.as_str()) {
        upper
    } else {
        m.to_string()
    }
}

/// The routes of the zero-config API.
pub const DEFAULT_ROUTES: &str = include_str!("default_routes.toml");

#[cfg(test)]
mod tests;
