//! The serde shape of `sandbox.toml` and its validation into [`super::OriginConfig`]s.
//!
//! Every value keeps its span so a mistake is reported at its line and column. File
//! references are resolved relative to the config file's folder and must exist.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{FileRef, OriginConfig, OriginSpec, StaticRoot, TlsSource};
use crate::source_file::{LoadError, Source};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    origin: Vec<Spanned<OriginEntry>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OriginKind {
    Static,
    Api,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OriginEntry {
    name: Spanned<String>,
    kind: Spanned<OriginKind>,
    port: Spanned<u16>,
    hostname: Option<Spanned<String>>,
    root: Option<Spanned<String>>,
    routes: Option<Spanned<String>>,
    policy: Option<Spanned<String>>,
    tls: Option<Spanned<bool>>,
    cert: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
}

pub(super) fn validate(
    src: &Source,
    dir: &Path,
    file: ConfigFile,
) -> Result<Vec<OriginConfig>, LoadError> {
    if file.origin.is_empty() {
        return Err(src.error_at(
            Some(0..0),
            "no origins defined",
            "",
            Some("add at least one [[origin]] table with name, kind, port".into()),
        ));
    }
    let mut names: HashMap<String, ()> = HashMap::new();
    let mut out = Vec::new();
    for entry in file.origin {
        let e = entry.into_inner();
        let name = origin_name(src, &e.name)?;
        if names.insert(name.clone(), ()).is_some() {
            return Err(src.error_at(
                Some(e.name.span()),
                &format!("two origins are named `{name}`"),
                "second use",
                Some("names must be unique: they appear in logs and in --port NAME=PORT".into()),
            ));
        }
        let hostname = hostname(src, &e.hostname)?;
        let spec = spec(src, dir, &e)?;
        let tls = tls(src, dir, &e)?;
        out.push(OriginConfig {
            name,
            port: *e.port.get_ref(),
            hostname,
            spec,
            tls,
        });
    }
    Ok(out)
}

fn origin_name(src: &Source, n: &Spanned<String>) -> Result<String, LoadError> {
    let name = n.get_ref().trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(src.error_at(
            Some(n.span()),
            "origin name must be letters, digits, `-` or `_`",
            "this name",
            None,
        ));
    }
    Ok(name)
}

/// Lower-cased; `localhost` when absent.
fn hostname(src: &Source, h: &Option<Spanned<String>>) -> Result<String, LoadError> {
    let Some(h) = h else {
        return Ok("localhost".into());
    };
    let v = h.get_ref().trim().to_ascii_lowercase();
    if !valid_hostname(&v) {
        return Err(src.error_at(
            Some(h.span()),
            &format!("`{}` is not a valid host name", h.get_ref()),
            "here",
            Some("use a name like `karachi-dev.localhost` (no scheme, port or path)".into()),
        ));
    }
    Ok(v)
}

/// What the origin serves, by `kind`; keys of the other kind are refused.
fn spec(src: &Source, dir: &Path, e: &OriginEntry) -> Result<OriginSpec, LoadError> {
    Ok(match e.kind.get_ref() {
        OriginKind::Static => {
            wrong_key(src, &e.routes, "routes", "static")?;
            wrong_key(src, &e.policy, "policy", "static")?;
            let root = match &e.root {
                Some(r) => {
                    let p = resolve(src, dir, r)?;
                    if !p.is_dir() {
                        return Err(src.error_at(
                            Some(r.span()),
                            &format!("root `{}` is not a directory", r.get_ref()),
                            "here",
                            None,
                        ));
                    }
                    StaticRoot::Dir(p)
                }
                None => StaticRoot::Embedded,
            };
            OriginSpec::Static { root }
        }
        OriginKind::Api => {
            wrong_key(src, &e.root, "root", "api")?;
            let file_ref = |v: &Option<Spanned<String>>| -> Result<FileRef, LoadError> {
                Ok(match v {
                    Some(v) => FileRef::Path(resolve(src, dir, v)?),
                    None => FileRef::Embedded,
                })
            };
            OriginSpec::Api {
                routes: file_ref(&e.routes)?,
                policy: file_ref(&e.policy)?,
            }
        }
    })
}

/// `tls = true` with the local CA, or with the user's `cert` and `key` (both or neither).
fn tls(src: &Source, dir: &Path, e: &OriginEntry) -> Result<Option<TlsSource>, LoadError> {
    let on = e.tls.as_ref().is_some_and(|t| *t.get_ref());
    let stray = e.cert.as_ref().or(e.key.as_ref());
    if !on {
        if let Some(v) = stray {
            return Err(src.error_at(
                Some(v.span()),
                "a certificate is given but the origin is not HTTPS",
                "here",
                Some("add `tls = true` to serve this origin over HTTPS with it".into()),
            ));
        }
        return Ok(None);
    }
    match (&e.cert, &e.key) {
        (None, None) => Ok(Some(TlsSource::LocalCa)),
        (Some(cert), Some(key)) => Ok(Some(TlsSource::Files {
            cert: resolve(src, dir, cert)?,
            key: resolve(src, dir, key)?,
        })),
        (Some(v), None) | (None, Some(v)) => Err(src.error_at(
            Some(v.span()),
            "`cert` and `key` go together",
            "only one of them",
            Some(
                "give both PEM files (mkcert writes NAME.pem and NAME-key.pem), or neither to                  use the sandbox's local CA"
                    .into(),
            ),
        )),
    }
}

/// A path relative to the config file's folder, which must exist.
fn resolve(src: &Source, dir: &Path, v: &Spanned<String>) -> Result<PathBuf, LoadError> {
    let p = dir.join(v.get_ref());
    if !p.exists() {
        return Err(src.error_at(
            Some(v.span()),
            &format!(
                "`{}` does not exist (looked for {})",
                v.get_ref(),
                p.display()
            ),
            "this path",
            Some("paths are relative to the folder holding sandbox.toml".into()),
        ));
    }
    Ok(p)
}

fn wrong_key(
    src: &Source,
    v: &Option<Spanned<String>>,
    key: &str,
    kind: &str,
) -> Result<(), LoadError> {
    match v {
        Some(v) => Err(src.error_at(
            Some(v.span()),
            &format!("`{key}` does not apply to a {kind} origin"),
            "remove this",
            Some(match kind {
                "static" => {
                    "a static origin takes `root`; `routes` and `policy` belong to an api origin"
                        .into()
                }
                _ => "an api origin takes `routes` and `policy`; `root` belongs to a static origin"
                    .into(),
            }),
        )),
        None => Ok(()),
    }
}

/// RFC 1123 labels; enough to refuse `http://x`, `x:80`, `x/y` and spaces.
fn valid_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
