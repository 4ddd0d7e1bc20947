//! The static origin: files from a folder (or the embedded lab), HTML with the reload script
//! injected, `Cache-Control: no-cache` so the browser revalidates by ETag on every load.
//!
//! Path handling: the request path is percent-decoded once; encoded slashes, backslashes, NUL,
//! `.`/`..` segments and dot-files are refused; the resolved file must be inside the root after
//! symlinks are resolved, and must be a regular file (a FIFO would block a worker).
//! Other pages' `no-cors` loads (another site's `<script src>`, or a script or stylesheet of
//! a page on another port) are refused before any of that.
//!
//! HTML above [`INJECT_LIMIT`] is streamed as it is, without the reload script (the log says
//! so once): injecting means holding the whole page in memory for every request, and any web
//! page can make a browser load this one many times over.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use arc_swap::ArcSwap;

use super::beneath::{Opened, Root, Stamp};
use super::embedded;
use super::file_cache::{self, cacheable_request, CachedFile, FileCache, ReadyResponse};
use super::guard::foreign_no_cors_load;
use super::inject::{inject, is_html};
use crate::config::StaticRoot;
use crate::state::SharedState;
use crate::vocab::html_escape;

pub struct StaticCtx {
    pub state: SharedState,
    pub index: usize,
    /// The root folder, opened once per root the state names (reopened when a `sandbox.toml`
    /// reload swaps it).
    opened: ArcSwap<OpenedRoot>,
    /// Whether the log has said that a page too large for the reload script was served.
    told_too_large: AtomicBool,
}

/// A root of the state, opened.
pub struct OpenedRoot {
    /// The state's root this was opened from.
    from: Arc<StaticRoot>,
    /// `None`: the embedded lab.
    pub root: Option<Root>,
}

impl OpenedRoot {
    fn open(from: Arc<StaticRoot>) -> OpenedRoot {
        let root = match &*from {
            StaticRoot::Dir(d) => Some(Root::new(d)),
            StaticRoot::Embedded => None,
        };
        OpenedRoot { from, root }
    }
}

impl StaticCtx {
    pub fn new(state: SharedState, index: usize) -> Self {
        let opened = OpenedRoot::open(state.statics[index].root.load_full());
        StaticCtx {
            state,
            index,
            opened: ArcSwap::from_pointee(opened),
            told_too_large: AtomicBool::new(false),
        }
    }

    /// The root in force, opened: one snapshot for the whole request.
    pub fn root(&self) -> Arc<OpenedRoot> {
        let now = self.state.statics[self.index].root.load_full();
        let opened = self.opened.load_full();
        if Arc::ptr_eq(&opened.from, &now) {
            return opened;
        }
        // Workers racing here each open it once; whichever is stored last is as good.
        let fresh = Arc::new(OpenedRoot::open(now));
        self.opened.store(Arc::clone(&fresh));
        fresh
    }

    /// Says once per origin that large pages get no reload script, naming the first one.
    fn tell_too_large(&self, root: &Root, file: &Path) {
        if self.told_too_large.swap(true, Ordering::Relaxed) {
            return;
        }
        let name = file.strip_prefix(&root.dir).ok();
        self.state.log.warning(&format!(
            "{}: {} is larger than {} MiB, so it is served as it is, without the live-reload script (reload it by hand after a change); said once for all such pages",
            self.state.statics[self.index].name,
            name.unwrap_or(file).display(),
            INJECT_LIMIT >> 20,
        ));
    }
}

/// Why a path was refused; every variant answers 404 or 400 without echoing the path raw.
#[derive(Debug, PartialEq, Eq)]
pub enum PathRejection {
    BadEncoding,
    Forbidden,
}

/// Decodes a request path once into a relative path made only of normal segments.
pub fn safe_relative_path(raw: &str) -> Result<PathBuf, PathRejection> {
    if raw.contains('\\') || raw.contains('#') {
        return Err(PathRejection::Forbidden);
    }
    let mut out = PathBuf::new();
    for seg in raw.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_encoding::percent_decode_str(seg)
            .decode_utf8()
            .map_err(|_| PathRejection::BadEncoding)?;
        if decoded.contains(['/', '\\', '\0'])
            || decoded == "."
            || decoded == ".."
            || decoded.starts_with('.')
        {
            return Err(PathRejection::Forbidden);
        }
        out.push(decoded.as_ref());
    }
    if out.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(PathRejection::Forbidden);
    }
    Ok(out)
}

/// What a browser asks for on its own when a page names no icon.
const DEFAULT_ICON: &str = "favicon.ico";

/// A missing file's answer. A missing `/favicon.ico` is 204, not 404: Chromium fetches it for
/// every page that names no icon and logs the 404 as an error in the console, the very console
/// a developer reads for CORS messages. A root's own `favicon.ico` is served as usual.
fn missing(rel: &Path, raw: &str) -> HttpResponse {
    if rel == Path::new(DEFAULT_ICON) {
        return HttpResponse::NoContent().finish();
    }
    not_found(raw)
}

fn not_found(path: &str) -> HttpResponse {
    let escaped = html_escape(path);
    HttpResponse::NotFound()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>404</title><p>Nothing at <code>{escaped}</code>.</p>"
        ))
}

pub async fn handle(
    req: HttpRequest,
    ctx: web::Data<StaticCtx>,
    cache: web::Data<FileCache>,
) -> HttpResponse {
    let mut res = respond(&req, &ctx, &cache).await;
    // On every answer, refusals included: a 404 page echoes the path, and must never be
    // sniffed into something else.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn respond(req: &HttpRequest, ctx: &StaticCtx, cache: &FileCache) -> HttpResponse {
    if foreign_no_cors_load(req.headers()) {
        return HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("sandbox: other sites' script, style and image loads of this dev server's files are refused, and so are script and style loads by pages on other ports");
    }
    if req.method() == actix_web::http::Method::CONNECT {
        // Not a proxy; an authority-form target has no path to serve.
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .content_type("text/plain; charset=utf-8")
            .body("sandbox: a static origin is not a proxy");
    }
    let raw = req.uri().path();
    // The change count before the root: a reload swaps the root and then bumps the count, so
    // an entry read from an old root is never stored under the new count.
    let changes = ctx.state.statics[ctx.index]
        .changes
        .load(std::sync::atomic::Ordering::Acquire);
    let opened = ctx.root();
    let use_cache = opened.root.is_some() && cacheable_request(req);
    if use_cache {
        if let Some(hit) = opened
            .root
            .as_ref()
            .and_then(|r| cache.get(raw, r, changes))
        {
            return hit.respond(req);
        }
    }
    let rel = match safe_relative_path(raw) {
        Ok(r) => r,
        Err(PathRejection::BadEncoding) => {
            return HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body("bad path encoding")
        }
        Err(PathRejection::Forbidden) => return not_found(raw),
    };
    match &opened.root {
        None => serve_embedded(req, &rel, raw),
        Some(root) => {
            let found = find(root, &rel, !raw.ends_with('/'), use_cache);
            if let Found::TooLargeToInject(f) = &found {
                ctx.tell_too_large(root, f.path());
            }
            if let Found::Cacheable(entry) = &found {
                if file_cache::settled(&entry.stamp, std::time::SystemTime::now()) {
                    cache.put(raw, (**entry).clone(), changes);
                }
            }
            serve_found(req, found, &rel, raw)
        }
    }
}

fn redirect_to_slash(raw: &str) -> HttpResponse {
    // One leading slash only: `//host/dir` would make the Location protocol-relative, an
    // open redirect to another host.
    // And no `//` for an empty path either.
    let local = raw.trim_start_matches('/');
    let location = if local.is_empty() {
        "/".to_string()
    } else {
        format!("/{local}/")
    };
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn serve_embedded(req: &HttpRequest, rel: &Path, raw: &str) -> HttpResponse {
    let mut rel = rel.to_path_buf();
    if rel.as_os_str().is_empty() || embedded::is_dir(&rel) {
        if !raw.ends_with('/') {
            return redirect_to_slash(raw);
        }
        rel.push("index.html");
    }
    match embedded::answer(&rel) {
        Some(answer) => answer.respond(req),
        None => missing(&rel, raw),
    }
}

/// What a request path leads to: the file opened, an HTML body read, a small file read in
/// full, or why not.
enum Found {
    File(Box<NamedFile>),
    /// HTML above [`INJECT_LIMIT`], streamed like any other file.
    TooLargeToInject(Box<NamedFile>),
    Html(Vec<u8>),
    Cacheable(Box<CachedFile>),
    RedirectToSlash,
    Missing,
}

/// Files up to this size are read in one go on the worker instead of being streamed in chunks
/// from the blocking pool, which is faster for the small assets of a dev page
/// (docs/PERFORMANCE.md, "What was profiled").
const SYNC_READ_LIMIT: u64 = 256 * 1024;

/// HTML up to this size gets the reload script, which means reading it whole; larger pages are
/// streamed unchanged, so a request costs a chunk of memory, not the page.
pub const INJECT_LIMIT: u64 = 1024 * 1024;

// Opened and read on the worker itself: one `openat2` on a local disk takes microseconds, far
// less than a hop to the blocking pool (docs/PERFORMANCE.md). Nothing here can block for
// long: files are opened non-blocking, and FIFOs and devices are refused.
fn find(root: &Root, rel: &Path, wants_slash: bool, for_cache: bool) -> Found {
    let (file, path) = match root.open(rel) {
        Ok(Opened::File(f, p)) => (f, p),
        Ok(Opened::DirIndex(..)) if wants_slash => return Found::RedirectToSlash,
        Ok(Opened::DirIndex(f, p)) => (f, p),
        Err(_) => return Found::Missing,
    };
    let Ok(meta) = file.metadata() else {
        return Found::Missing;
    };
    let html = is_html(&path);
    if html && meta.len() > INJECT_LIMIT {
        return NamedFile::from_file(file, path)
            .map_or(Found::Missing, |f| Found::TooLargeToInject(Box::new(f)));
    }
    // What a cache entry needs: the file's stamp, read from the open descriptor, and where
    // below the root it is, to stamp it again on later requests.
    let cacheable = match for_cache {
        true if html || meta.len() <= SYNC_READ_LIMIT => Stamp::of(&meta)
            .zip(file_cache::below(root, &path))
            .map(|(stamp, below)| (stamp, below, meta.clone())),
        _ => None,
    };
    if html || cacheable.is_some() {
        // The size just measured, never more: a file growing meanwhile cannot make this read
        // unbounded, and the bytes match the stamp they are cached under.
        let mut body = Vec::with_capacity(meta.len() as usize);
        if std::io::Read::read_to_end(&mut std::io::Read::take(&file, meta.len()), &mut body)
            .is_err()
        {
            return Found::Missing;
        }
        return match cacheable {
            Some((stamp, below, _)) if html => {
                Found::Cacheable(Box::new(CachedFile::html(below, stamp, inject(&body))))
            }
            Some((stamp, below, meta)) => {
                Found::Cacheable(Box::new(CachedFile::file(below, stamp, &meta, body)))
            }
            None => Found::Html(body),
        };
    }
    NamedFile::from_file(file, path).map_or(Found::Missing, |f| Found::File(Box::new(f)))
}

fn serve_found(req: &HttpRequest, found: Found, rel: &Path, raw: &str) -> HttpResponse {
    match found {
        Found::File(f) | Found::TooLargeToInject(f) => f
            .use_etag(true)
            .use_last_modified(true)
            .disable_content_disposition()
            .read_mode_threshold(SYNC_READ_LIMIT)
            .into_response(req),
        Found::Html(body) => ReadyResponse::html(inject(&body)).respond(req),
        Found::Cacheable(entry) => entry.answer.respond(req),
        Found::RedirectToSlash => redirect_to_slash(raw),
        Found::Missing => missing(rel, raw),
    }
}
