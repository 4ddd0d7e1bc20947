//! `[[resource]]`: a stateful REST collection's name and its seed file.
//!
//! Owns the rules for names (what can sit under `/api/` without clashing with the sandbox's
//! own `__` paths, and no name twice) and reads the seed through `body_file`. It must not
//! serve or store items: `resources` does that.

use std::sync::Arc;

use toml::Spanned;

use super::body_file::read_body_file;
use super::model::ResourceEntry;
use super::Loader;
use crate::routes::resources::{self, ResourceSpec};
use crate::source_file::LoadError;

impl Loader<'_> {
    /// Every `[[resource]]`, in file order.
    pub(super) fn resources(
        &mut self,
        entries: &[Spanned<ResourceEntry>],
    ) -> Result<Vec<ResourceSpec>, LoadError> {
        let mut resources = Vec::new();
        for r in entries {
            let spec = self.resource(r.get_ref())?;
            if resources.iter().any(|x: &ResourceSpec| x.name == spec.name) {
                return Err(self.src.error_at(
                    Some(r.get_ref().name.span()),
                    &format!("resource `{}` is declared twice", spec.name),
                    "here",
                    None,
                ));
            }
            resources.push(spec);
        }
        Ok(resources)
    }

    fn resource(&mut self, r: &ResourceEntry) -> Result<ResourceSpec, LoadError> {
        let src = self.src;
        let name = r.name.get_ref();
        let valid = !name.is_empty()
            && !name.starts_with("__")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(src.error_at(
                Some(r.name.span()),
                &format!("`{name}` is not a resource name: letters, digits, `-` and `_`"),
                "here",
                Some(format!("it is served at {}NAME", resources::PREFIX)),
            ));
        }
        let (path, bytes) = read_body_file(src, self.dir, &r.seed)?;
        let seed = resources::parse_seed(&bytes).map_err(|e| {
            src.error_at(
                Some(r.seed.span()),
                &format!("`{}`: {e}", r.seed.get_ref()),
                "this seed",
                Some("a seed is a JSON array of objects, each with a unique `id`".into()),
            )
        })?;
        self.body_files.push(path.clone());
        Ok(ResourceSpec {
            name: name.clone(),
            seed_path: path,
            seed: Arc::new(seed),
            seed_hash: resources::digest(&bytes),
        })
    }
}
