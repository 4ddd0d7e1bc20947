//! An OpenAPI document and the files its `$ref`s name, loaded once and read by every other
//! part of the conversion: its version, and the resolution of a `$ref` from the file it is in.
//!
//! Owns the folder rule: a `$ref` to another file is read only when it stays inside the
//! folder the document is in (no `..` above it, no symlink out of it, no URL). It must not
//! interpret schemas. [`Docs::load`] reads files; everything else is pure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::OpenApiError;
use crate::source_file::{read_regular, MAX_FILE_BYTES};

/// Which family of document: they differ in where schemas sit and in how `null` is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Swagger 2.0: `definitions`, `produces`, a response's `schema` beside it.
    Swagger2,
    /// OpenAPI 3.0: JSON Schema draft 4 plus `nullable`.
    OpenApi30,
    /// OpenAPI 3.1: JSON Schema 2020-12 (`type: [..., "null"]`).
    OpenApi31,
}

/// The document and every file it refers to, by path relative to the document's folder.
#[derive(Debug, Clone)]
pub struct Docs {
    pub version: Version,
    /// The key of the document itself in `files`.
    pub main: String,
    pub files: BTreeMap<String, Value>,
}

/// A document as JSON when it looks like JSON (for JSON's own error positions), else YAML.
pub fn parse(text: &str) -> Result<Value, OpenApiError> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| OpenApiError::Unreadable(e.to_string()));
    }
    serde_saphyr::from_str::<Value>(text).map_err(|e| OpenApiError::Unreadable(e.to_string()))
}

fn version_of(doc: &Value) -> Result<Version, OpenApiError> {
    let says = |key: &str, prefix: &str| {
        doc.get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with(prefix))
    };
    if says("openapi", "3.0") {
        Ok(Version::OpenApi30)
    } else if says("openapi", "3.") {
        Ok(Version::OpenApi31)
    } else if says("swagger", "2.") {
        Ok(Version::Swagger2)
    } else {
        Err(OpenApiError::NotOpenApi3)
    }
}

impl Docs {
    /// A document on its own: a `$ref` to another file fails when it is resolved.
    pub fn from_text(text: &str, name: &str) -> Result<Docs, OpenApiError> {
        let doc = parse(text)?;
        let version = version_of(&doc)?;
        Ok(Docs {
            version,
            main: name.to_string(),
            files: BTreeMap::from([(name.to_string(), doc)]),
        })
    }

    /// Reads the document at `path` and, transitively, each file its `$ref`s name.
    pub fn load(path: &Path) -> Result<Docs, OpenApiError> {
        let io = |p: &Path, e: String| OpenApiError::File(p.display().to_string(), e);
        let full = path.canonicalize().map_err(|e| io(path, e.to_string()))?;
        let root = full.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = full
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut docs = Docs::from_text(&read_text(&full)?, &name)?;
        let mut queue = vec![name];
        while let Some(file) = queue.pop() {
            let mut refs = Vec::new();
            collect_refs(&docs.files[&file], &mut refs);
            for r in refs {
                let Some(target) = target_file(&file, &r)? else {
                    continue;
                };
                if docs.files.contains_key(&target) {
                    continue;
                }
                let on_disk = inside(&root, &target)?;
                let value =
                    parse(&read_text(&on_disk)?).map_err(|e| io(&on_disk, e.to_string()))?;
                docs.files.insert(target.clone(), value);
                queue.push(target);
            }
        }
        Ok(docs)
    }

    pub fn main_doc(&self) -> &Value {
        &self.files[&self.main]
    }

    /// Follows one `$ref` written in `file`: the file the target is in, and the target.
    pub fn resolve<'a>(
        &'a self,
        file: &str,
        reference: &str,
    ) -> Result<(&'a str, &'a Value), OpenApiError> {
        let missing = || OpenApiError::BadRef(reference.to_string());
        let target = target_file(file, reference)?.unwrap_or_else(|| file.to_string());
        let (key, doc) = self.files.get_key_value(&target).ok_or_else(missing)?;
        let pointer = reference.split_once('#').map_or("", |(_, p)| p);
        let pointer = percent_encoding::percent_decode_str(pointer).decode_utf8_lossy();
        let value = doc.pointer(&pointer).ok_or_else(missing)?;
        Ok((key.as_str(), value))
    }
}

fn read_text(path: &Path) -> Result<String, OpenApiError> {
    let bytes = read_regular(path, MAX_FILE_BYTES)
        .map_err(|e| OpenApiError::File(path.display().to_string(), e.to_string()))?;
    String::from_utf8(bytes)
        .map_err(|_| OpenApiError::File(path.display().to_string(), "not UTF-8 text".into()))
}

/// Every `$ref` string anywhere in a value.
fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                out.push(r.clone());
            }
            o.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The folder-relative file a `$ref` written in `file` points into; `None` for one inside
/// `file` itself (`#/components/...`). Refuses URLs and paths that climb out of the folder.
fn target_file(file: &str, reference: &str) -> Result<Option<String>, OpenApiError> {
    let path = reference.split_once('#').map_or(reference, |(p, _)| p);
    if path.is_empty() {
        return Ok(None);
    }
    if path.contains("://") || path.starts_with('/') || path.contains('\\') {
        return Err(OpenApiError::RefOutside(reference.to_string()));
    }
    let mut parts: Vec<&str> = file.split('/').collect();
    parts.pop();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts
                    .pop()
                    .ok_or_else(|| OpenApiError::RefOutside(reference.to_string()))?;
            }
            s => parts.push(s),
        }
    }
    Ok(Some(parts.join("/")))
}

/// The file on disk, refused when a symlink takes it out of `root`.
fn inside(root: &Path, rel: &str) -> Result<PathBuf, OpenApiError> {
    let joined = root.join(rel);
    let full = joined
        .canonicalize()
        .map_err(|e| OpenApiError::File(joined.display().to_string(), e.to_string()))?;
    if !full.starts_with(root) {
        return Err(OpenApiError::RefOutside(rel.to_string()));
    }
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_resolve_across_files_and_never_leave_the_folder() {
        assert_eq!(target_file("api.yaml", "#/a").unwrap(), None);
        assert_eq!(
            target_file("s/pet.yaml", "../common.yaml#/X").unwrap(),
            Some("common.yaml".into())
        );
        assert_eq!(
            target_file("s/pet.yaml", "./tag.yaml").unwrap(),
            Some("s/tag.yaml".into())
        );
        for bad in ["../x.yaml", "/etc/passwd", "https://example.com/x.yaml#/a"] {
            assert!(
                matches!(
                    target_file("api.yaml", bad),
                    Err(OpenApiError::RefOutside(_))
                ),
                "{bad}"
            );
        }
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("s")).unwrap();
        std::fs::write(
            d.path().join("api.yaml"),
            "openapi: 3.1.0\npaths: {}\nx: {$ref: 's/pet.yaml#/Pet'}\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("s/pet.yaml"),
            "Pet: {type: object, properties: {tag: {$ref: '../common.yaml#/Tag'}}}\n",
        )
        .unwrap();
        std::fs::write(d.path().join("common.yaml"), "Tag: {type: string}\n").unwrap();
        let docs = Docs::load(&d.path().join("api.yaml")).unwrap();
        assert_eq!(docs.files.len(), 3);
        let (file, pet) = docs.resolve("api.yaml", "s/pet.yaml#/Pet").unwrap();
        assert_eq!(file, "s/pet.yaml");
        let tag_ref = pet
            .pointer("/properties/tag/$ref")
            .unwrap()
            .as_str()
            .unwrap();
        let (_, tag) = docs.resolve(file, tag_ref).unwrap();
        assert_eq!(tag["type"], "string");
        std::fs::write(
            d.path().join("api.yaml"),
            "openapi: 3.1.0\npaths: {}\nx: {$ref: '../../etc/passwd'}\n",
        )
        .unwrap();
        assert!(matches!(
            Docs::load(&d.path().join("api.yaml")),
            Err(OpenApiError::RefOutside(_))
        ));
    }
}
