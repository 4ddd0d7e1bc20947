//! `openapi = "api.yaml"` with `validate = true` (for the file or one route) and a route's
//! `operation = "POST /pets"`: the checks a request must pass before the route answers.
//!
//! Owns reading the document named at the top (inside the routes file's folder, like a body
//! file; every file it pulls in is watched) and tying each route to its operation. It must
//! not check requests (`openapi::validate` does).

use std::path::Path;
use std::sync::Arc;

use toml::Spanned;

use super::model::{Entry, File};
use super::Loader;
use crate::routes::openapi::validate::RequestCheck;
use crate::routes::openapi::Docs;
use crate::source_file::LoadError;

impl Loader<'_> {
    /// The document the file names, loaded once for all its routes.
    pub(super) fn openapi(&mut self, f: &File) -> Result<Option<Docs>, LoadError> {
        let Some(doc) = &f.openapi else {
            return Ok(None);
        };
        let src = self.src;
        let err = |msg: String| {
            src.error_at(
                Some(doc.span()),
                &msg,
                "this document",
                Some("the OpenAPI document lives in the routes file's folder or below it".into()),
            )
        };
        let base = self
            .dir
            .canonicalize()
            .map_err(|e| err(format!("cannot resolve {}: {e}", self.dir.display())))?;
        let full = base
            .join(doc.get_ref())
            .canonicalize()
            .map_err(|e| err(format!("`{}`: {e}", doc.get_ref())))?;
        if !full.starts_with(&base) {
            return Err(err(format!(
                "`{}` is outside {}",
                doc.get_ref(),
                base.display()
            )));
        }
        let docs = Docs::load(&full).map_err(|e| err(e.to_string()))?;
        let folder = full.parent().unwrap_or(Path::new("/"));
        self.body_files
            .extend(docs.files.keys().map(|rel| folder.join(rel)));
        Ok(Some(docs))
    }

    /// The checks of one route, when it (or the file) asks for validation.
    pub(super) fn validation(
        &self,
        entry: &Spanned<Entry>,
        file_validates: bool,
        docs: Option<&Docs>,
    ) -> Result<Option<Arc<RequestCheck>>, LoadError> {
        let src = self.src;
        let e = entry.get_ref();
        let validate = e.validate.as_ref().map_or(file_validates, |v| *v.get_ref());
        let Some(op) = &e.operation else {
            if let Some(v) = e.validate.as_ref().filter(|v| *v.get_ref()) {
                return Err(src.error_at(
                    Some(v.span()),
                    "`validate = true` needs the route's `operation`",
                    "here",
                    Some("add e.g. `operation = \"POST /pets\"`, as the document names it".into()),
                ));
            }
            return Ok(None);
        };
        if !validate {
            return Ok(None);
        }
        let Some(docs) = docs else {
            return Err(src.error_at(
                Some(op.span()),
                "validating against an operation needs `openapi = \"…\"` at the top of the file",
                "this operation",
                Some("name the OpenAPI document, e.g. `openapi = \"openapi.yaml\"`".into()),
            ));
        };
        let Some((method, path)) = op.get_ref().split_once(' ') else {
            return Err(src.error_at(
                Some(op.span()),
                "an operation is a method and the document's path",
                "here",
                Some("e.g. `operation = \"GET /pets/{petId}\"`".into()),
            ));
        };
        RequestCheck::build(docs, method, path.trim())
            .map(|c| Some(Arc::new(c)))
            .map_err(|e| src.error_at(Some(op.span()), &e.to_string(), "this operation", None))
    }
}
