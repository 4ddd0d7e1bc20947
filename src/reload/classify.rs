//! Maps changed paths to what must be reloaded. Pure: unit-tested without a watcher.
//!
//! We watch *directories* (a file watch dies after the first vim, `sed -i` or JetBrains save,
//! which replace the file by rename), so every event is filtered here by exact file name.
//! Editor droppings (vim's `4913` probe, `*.swp`, `*~`, JetBrains `___jb_tmp___`) never count
//! as static changes.

use std::path::{Path, PathBuf};

/// Something the watcher must act on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Re-read the file behind target `index` (a policy, routes, or routes body file).
    Reload(usize),
    /// A file under static origin `origin`'s root changed; `rel` is relative to that root.
    Static { origin: usize, rel: PathBuf },
}

/// What is being watched.
#[derive(Debug, Clone, Default)]
pub struct Watched {
    /// Absolute file paths, each reloaded through its index.
    pub files: Vec<Vec<PathBuf>>,
    /// Absolute static roots, by static-origin index.
    pub roots: Vec<PathBuf>,
}

impl Watched {
    /// Every action the given paths call for, de-duplicated and in a stable order.
    pub fn classify<'a>(&self, paths: impl IntoIterator<Item = &'a Path>) -> Vec<Action> {
        let mut out = Vec::new();
        for p in paths {
            for (i, files) in self.files.iter().enumerate() {
                if files.iter().any(|f| f == p) {
                    out.push(Action::Reload(i));
                }
            }
            for (i, root) in self.roots.iter().enumerate() {
                if let Ok(rel) = p.strip_prefix(root) {
                    if !rel.as_os_str().is_empty() && !is_editor_noise(rel) {
                        out.push(Action::Static {
                            origin: i,
                            rel: rel.to_path_buf(),
                        });
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Temporary files editors create next to the real one while saving.
pub fn is_editor_noise(rel: &Path) -> bool {
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    name == "4913"
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.contains("___jb_")
        || name.starts_with(".#")
        || name.starts_with("sed")
            && name.len() == 9
            && name[3..].chars().all(|c| c.is_ascii_alphanumeric())
        || rel.components().any(|c| c.as_os_str() == ".git")
}

/// True when every changed file is a stylesheet, so the page may swap CSS instead of reloading.
pub fn css_only(rels: &[PathBuf]) -> bool {
    !rels.is_empty()
        && rels
            .iter()
            .all(|r| r.extension().is_some_and(|e| e == "css"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched() -> Watched {
        Watched {
            files: vec![
                vec!["/p/cors.toml".into()],
                vec!["/p/api.toml".into(), "/p/data/s.json".into()],
            ],
            roots: vec!["/p/static".into()],
        }
    }

    #[test]
    fn exact_names_only() {
        let w = watched();
        let got = w.classify([
            Path::new("/p/cors.toml"),
            Path::new("/p/cors.toml~"),
            Path::new("/p/4913"),
            Path::new("/p/cors.toml.swp"),
            Path::new("/p/data/s.json"),
        ]);
        assert_eq!(got, vec![Action::Reload(0), Action::Reload(1)]);
    }

    #[test]
    fn static_changes_are_relative_and_skip_noise() {
        let w = watched();
        let got = w.classify([
            Path::new("/p/static/css/site.css"),
            Path::new("/p/static/index.html___jb_tmp___"),
            Path::new("/p/static/sedAb12Cd"),
            Path::new("/p/static"),
            Path::new("/p/static/index.html"),
            Path::new("/p/static/index.html"),
        ]);
        assert_eq!(
            got,
            vec![
                Action::Static {
                    origin: 0,
                    rel: "css/site.css".into()
                },
                Action::Static {
                    origin: 0,
                    rel: "index.html".into()
                },
            ]
        );
    }

    #[test]
    fn css_only_needs_all_css() {
        assert!(css_only(&["a.css".into(), "b/c.css".into()]));
        assert!(!css_only(&["a.css".into(), "index.html".into()]));
        assert!(!css_only(&[]));
    }
}
