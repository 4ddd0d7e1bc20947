//! `sandbox init [DIR]`: a starting project a user can edit, in the same shapes the README
//! documents: `sandbox.toml` with a static and an API origin, a page that calls the API
//! cross-origin, the routes and an actix-cors policy that lets the page through.
//!
//! - `static/.sandbox/scaffold/`: that page (`index.html`), compiled in.
//!
//! Nothing is ever overwritten without `--force`, and nothing is written at all when any of
//! the files already exists: a half-written scaffold over someone's project would be worse
//! than none.

use std::path::{Path, PathBuf};

use crate::routes::openapi;

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{} already exist{} in {}; nothing was written (pass --force to overwrite)", .names.join(", "), if .names.len() == 1 { "s" } else { "" }, .dir.display())]
    Exists { dir: PathBuf, names: Vec<String> },
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    OpenApi(#[from] openapi::InitError),
}

/// The ports the scaffold's `sandbox.toml` names (its policy allows the frontend wherever it
/// listens, so `--port` overrides need no edit).
const FRONTEND_PORT: u16 = 8080;
const API_PORT: u16 = 3000;

const INDEX_HTML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/static/.sandbox/scaffold/index.html"
));

fn sandbox_toml() -> String {
    format!(
        "# The origins `sandbox up --config sandbox.toml` starts. Paths are relative to this file.\n\
         \n\
         [[origin]]\n\
         name = \"frontend\"\n\
         kind = \"static\"\n\
         port = {FRONTEND_PORT}\n\
         root = \"static\"\n\
         \n\
         [[origin]]\n\
         name = \"api\"\n\
         kind = \"api\"\n\
         port = {API_PORT}\n\
         routes = \"api.toml\"\n\
         policy = \"cors.toml\"\n"
    )
}

fn cors_toml() -> String {
    format!(
        "# The API's CORS policy, built with actix-cors and reloaded on every save.\n\
         # Try removing X-Requested-With from allowed_headers and watch the page.\n\
         mode = \"actix-cors\"\n\
         # \"{static_origins}\" = every static origin of this sandbox, as served: the frontend\n\
         # at http://localhost:{FRONTEND_PORT} and http://127.0.0.1:{FRONTEND_PORT}, or wherever --port puts it.\n\
         # A real origin (\"https://app.example.com\") can be listed beside it.\n\
         allowed_origins = [\"{static_origins}\"]\n\
         allowed_methods = [\"GET\", \"POST\", \"PUT\", \"PATCH\", \"DELETE\"]\n\
         allowed_headers = [\"Content-Type\", \"X-Requested-With\"]\n\
         expose_headers = [\"X-Total-Count\"]\n\
         supports_credentials = true\n",
        static_origins = crate::policy::STATIC_ORIGINS
    )
}

const API_TOML: &str = r#"# The mock API: first match wins; edits apply to the next request.

[[route]]
method = "GET"
path = "/api/students"
headers = { "X-Total-Count" = "2" }
json = [{ id = 1, name = "Ahmad", city = "Lahore" }, { id = 2, name = "Sana", city = "Karachi" }]

[[route]]
method = "PUT"
path = "/api/students/{id}"
json = { id = "{{params.id}}", updated = true }
"#;

/// What `init` wrote, relative to the folder, for the summary.
#[derive(Debug)]
pub struct Written {
    pub dir: PathBuf,
    pub files: Vec<String>,
    /// What the OpenAPI conversion left out, if one was used.
    pub notes: Vec<String>,
}

/// Scaffolds a project in `dir` (created if missing). With `openapi`, the routes come from
/// that document (copied into `openapi/` so the routes can validate against it) and the page
/// calls its operations instead of the sample routes.
pub fn run(
    dir: &Path,
    openapi: Option<&Path>,
    force: bool,
    options: &openapi::Options,
) -> Result<Written, ScaffoldError> {
    let mut files: Vec<(String, String)> = vec![
        ("sandbox.toml".into(), sandbox_toml()),
        ("cors.toml".into(), cors_toml()),
    ];
    let notes = match openapi {
        Some(doc) => from_openapi(doc, options, &mut files)?,
        None => {
            files.push(("api.toml".into(), API_TOML.to_string()));
            files.push(("static/index.html".into(), INDEX_HTML.to_string()));
            Vec::new()
        }
    };
    let existing: Vec<String> = files
        .iter()
        .filter(|(name, _)| dir.join(name).exists())
        .map(|(name, _)| name.clone())
        .collect();
    if !existing.is_empty() && !force {
        return Err(ScaffoldError::Exists {
            dir: dir.to_path_buf(),
            names: existing,
        });
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    for (name, text) in &files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(Written {
        dir: dir.to_path_buf(),
        files: files.into_iter().map(|(n, _)| n).collect(),
        notes,
    })
}

/// The routes, the page and a copy of the document's files (under `openapi/`, as they are
/// laid out beside it) from an OpenAPI document.
fn from_openapi(
    doc: &Path,
    options: &openapi::Options,
    files: &mut Vec<(String, String)>,
) -> Result<Vec<String>, ScaffoldError> {
    let convert = |source| openapi::InitError::Convert {
        path: doc.to_path_buf(),
        source,
    };
    let docs = openapi::Docs::load(doc).map_err(convert)?;
    let folder = doc.parent().unwrap_or(Path::new("."));
    for rel in docs.files.keys() {
        let path = folder.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|source| ScaffoldError::Io {
            path: path.clone(),
            source,
        })?;
        files.push((format!("openapi/{rel}"), text));
    }
    let options = openapi::Options {
        document: Some(format!("openapi/{}", docs.main)),
        ..options.clone()
    };
    let (routes, notes) = openapi::to_routes(&docs, &options).map_err(convert)?;
    files.push(("api.toml".into(), routes));
    let calls = openapi::calls::page_calls(&docs, &options);
    files.push(("static/index.html".into(), page(&calls)));
    Ok(notes)
}

/// The scaffold's page with `calls` in place of the sample routes' calls.
fn page(calls: &[openapi::calls::Call]) -> String {
    let js: Vec<String> = calls
        .iter()
        .map(|c| {
            let mut init = serde_json::json!({"method": c.method});
            if let Some(body) = &c.body {
                init["credentials"] = "include".into();
                init["headers"] = serde_json::json!({"Content-Type": "application/json", "X-Requested-With": "fetch"});
                init["body"] = body.to_string().into();
            }
            // `</` never closes the script: the values come from the document.
            let call = serde_json::json!({"what": c.what, "url": c.url, "init": init});
            format!("    {}", call.to_string().replace("</", "<\\/"))
        })
        .collect();
    let start = INDEX_HTML.find("  var calls = [").unwrap_or(0);
    let end = INDEX_HTML[start..]
        .find("];\n")
        .map_or(start, |i| start + i + 3);
    format!(
        "{}  var calls = [\n{}\n  ];\n{}",
        &INDEX_HTML[..start],
        js.join(",\n"),
        &INDEX_HTML[end..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source_file::Source;

    #[test]
    fn the_scaffold_loads_as_written() {
        let d = tempfile::tempdir().unwrap();
        run(d.path(), None, false, &Default::default()).unwrap();
        let policy = Source::read(&d.path().join("cors.toml")).unwrap();
        let p = crate::policy::load(&policy, "cors.toml").unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let routes = Source::read(&d.path().join("api.toml")).unwrap();
        let r = crate::routes::load(&routes, "api.toml", d.path()).unwrap();
        assert_eq!(r.routes.len(), 2);
        let config = crate::config::resolve(
            Some(&d.path().join("sandbox.toml")),
            &crate::config::Overrides::default(),
        )
        .unwrap();
        assert_eq!(config.origins.len(), 2);
    }

    #[test]
    fn nothing_is_written_over_an_existing_project_without_force() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cors.toml"), "mine").unwrap();
        let e = run(d.path(), None, false, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("cors.toml already exists"), "{e}");
        assert!(!d.path().join("sandbox.toml").exists());
        assert_eq!(
            std::fs::read_to_string(d.path().join("cors.toml")).unwrap(),
            "mine"
        );
        run(d.path(), None, true, &Default::default()).unwrap();
        assert!(std::fs::read_to_string(d.path().join("cors.toml"))
            .unwrap()
            .contains("actix-cors"));
    }
}
