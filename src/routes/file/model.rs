//! The serde shape of a routes file: the tables and keys it may hold, each value with its
//! span so a mistake can be reported at its line and column.
//!
//! Owns only the shape (and, through `deny_unknown_fields`, the refusal of unknown keys). It
//! must not check values: every key is validated by the part of the loader that owns it.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(default)]
    pub(super) route: Vec<Spanned<Entry>>,
    pub(super) defaults: Option<Spanned<FaultEntry>>,
    #[serde(default)]
    pub(super) resource: Vec<Spanned<ResourceEntry>>,
    pub(super) upstream: Option<Spanned<String>>,
    pub(super) cors: Option<Spanned<String>>,
    /// The OpenAPI document routes' `operation`s name.
    pub(super) openapi: Option<Spanned<String>>,
    /// Validate requests of every route with an `operation`.
    pub(super) validate: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Entry {
    pub(super) method: Option<Spanned<String>>,
    pub(super) path: Spanned<String>,
    pub(super) status: Option<Spanned<u16>>,
    pub(super) headers: Option<Spanned<toml::Table>>,
    pub(super) json: Option<Spanned<toml::Value>>,
    pub(super) body: Option<Spanned<String>>,
    pub(super) file: Option<Spanned<String>>,
    pub(super) content_type: Option<Spanned<String>>,
    pub(super) delay_ms: Option<Spanned<toml::Value>>,
    pub(super) error_rate: Option<Spanned<f64>>,
    pub(super) error_status: Option<Spanned<u16>>,
    pub(super) fault: Option<Spanned<String>>,
    pub(super) slow_body_ms: Option<Spanned<u64>>,
    pub(super) response: Option<Vec<Spanned<ResponseEntry>>>,
    pub(super) pick: Option<Spanned<String>>,
    pub(super) proxy: Option<Spanned<bool>>,
    pub(super) cors: Option<Spanned<String>>,
    /// `"POST /pets"`: the document's operation this route stands for.
    pub(super) operation: Option<Spanned<String>>,
    pub(super) validate: Option<Spanned<bool>>,
}

/// `[[route.response]]`: one possible answer, with its `when`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResponseEntry {
    pub(super) when: Option<Spanned<toml::Table>>,
    pub(super) status: Option<Spanned<u16>>,
    pub(super) headers: Option<Spanned<toml::Table>>,
    pub(super) json: Option<Spanned<toml::Value>>,
    pub(super) body: Option<Spanned<String>>,
    pub(super) file: Option<Spanned<String>>,
    pub(super) content_type: Option<Spanned<String>>,
}

/// `[defaults]`: latency and faults for every route, resource and proxied request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaultEntry {
    pub(super) delay_ms: Option<Spanned<toml::Value>>,
    pub(super) error_rate: Option<Spanned<f64>>,
    pub(super) error_status: Option<Spanned<u16>>,
    pub(super) fault: Option<Spanned<String>>,
    pub(super) slow_body_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResourceEntry {
    pub(super) name: Spanned<String>,
    pub(super) seed: Spanned<String>,
}
