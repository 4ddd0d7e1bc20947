//! `when = { query.page = "2", headers.x-user = "sana" }`: the conditions that choose a
//! `[[route.response]]`.
//!
//! Owns which request fields a condition may read and what it may be compared with. It must
//! not evaluate conditions: `Route::choose` does that per request.

use serde_json::Value;
use toml::Spanned;

use super::templates::toml_to_json;
use crate::routes::template::{Expr, Template};
use crate::source_file::{LoadError, Source};

/// `when = { query.page = "2", headers.x-user = "sana", body.kind = "a" }`: TOML's dotted keys
/// arrive as nested tables, flattened here into conditions.
pub(super) fn when(
    src: &Source,
    w: &Spanned<toml::Table>,
    params: &[String],
) -> Result<Vec<(Expr, Value)>, LoadError> {
    let err = |msg: String| {
        src.error_at(
            Some(w.span()),
            &msg,
            "in this `when`",
            Some(
                "e.g. when = { query.page = \"2\", headers.x-user = \"sana\", body.kind = \"a\" }"
                    .into(),
            ),
        )
    };
    let mut out = Vec::new();
    fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(inner) => flatten(&key, inner, out),
                other => out.push((key, other.clone())),
            }
        }
    }
    let mut leaves = Vec::new();
    flatten("", w.get_ref(), &mut leaves);
    for (key, value) in leaves {
        let expr = Template::parse(&format!("{{{{{key}}}}}"), params)
            .ok()
            .and_then(|t| t.only_expr().cloned())
            .filter(|e| {
                matches!(
                    e,
                    Expr::Param(_) | Expr::Query(_) | Expr::Header(_) | Expr::Cookie(_) | Expr::Body(_)
                )
            })
            .ok_or_else(|| {
                err(format!(
                    "`when` key `{key}`: use params.NAME, query.NAME, headers.NAME, cookies.NAME or body.PATH"
                ))
            })?;
        if matches!(value, toml::Value::Array(_) | toml::Value::Datetime(_)) {
            return Err(err(format!(
                "`when` key `{key}`: compare with a string, number or boolean"
            )));
        }
        out.push((expr, toml_to_json(&value)));
    }
    Ok(out)
}
