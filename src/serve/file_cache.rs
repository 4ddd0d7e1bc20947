//! Small static files kept in memory, one cache per worker, so a page's assets are answered
//! with one `stat` instead of open, read and close, and without actix-files building each
//! response (together the larger part of a static request's cost).
//!
//! Staleness is ruled out by construction, not by timing. An entry is used only while the
//! file's stamp (device, inode, size, mtime, ctime) is what it was when the bytes were read,
//! checked beneath the root on every hit. The kernel stamps times from a coarse clock (a few
//! milliseconds), so two writes within one tick could leave the stamp unchanged; a file is
//! therefore cached only once its ctime is [`SETTLED`] old (longer on file systems that keep
//! whole seconds), after which any write moves ctime to a different value. The watcher's
//! change counter empties the cache as well, for file systems whose times cannot be trusted.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{self, HeaderValue, HttpDate};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;

use super::beneath::{Root, Stamp};

/// How long a file must have been left alone before its bytes are trusted to a cache: well
/// over one tick of the kernel's coarse clock (at most 10 ms).
pub const SETTLED: Duration = Duration::from_millis(50);
/// The same where the file system keeps whole seconds: the next second must have begun.
const SETTLED_COARSE: Duration = Duration::from_secs(2);
/// Per worker: a dev page's assets fit many times over; past this the cache starts afresh.
const MAX_BYTES: usize = 8 * 1024 * 1024;
const MAX_ENTRIES: usize = 4096;

/// A response ready to send: the bytes and the headers that describe them. Cache entries,
/// HTML pages and the embedded lab's files are all answered through one of these.
#[derive(Debug, Clone)]
pub struct ReadyResponse {
    pub body: Bytes,
    pub content_type: HeaderValue,
    pub etag: HeaderValue,
    /// `Last-Modified`, and the time it names for `If-Modified-Since`; none for bytes that are
    /// validated by their content (HTML, whose body is the file plus the reload script).
    pub modified: Option<(HeaderValue, SystemTime)>,
}

impl ReadyResponse {
    /// An HTML page whose body already carries the reload script.
    pub fn html(body: Vec<u8>) -> ReadyResponse {
        ReadyResponse::by_content(
            Bytes::from(body),
            HeaderValue::from_static("text/html; charset=utf-8"),
        )
    }

    /// Bytes with a validator made from the bytes themselves.
    pub fn by_content(body: Bytes, content_type: HeaderValue) -> ReadyResponse {
        let etag = format!("\"{:x}\"", hash_of(&body[..]));
        ReadyResponse {
            body,
            content_type,
            etag: HeaderValue::from_str(&etag).expect("hex digits and quotes"),
            modified: None,
        }
    }

    /// 200 with the body, or 304 when the browser's copy is this one.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        if self.browser_has_it(req) {
            let mut res = HttpResponse::NotModified();
            res.insert_header((header::ETAG, self.etag.clone()));
            return res.finish();
        }
        let mut res = HttpResponse::Ok();
        res.insert_header((header::CONTENT_TYPE, self.content_type.clone()))
            .insert_header((header::ETAG, self.etag.clone()));
        if let Some((value, _)) = &self.modified {
            // Range requests bypass the cache to actix-files, which serves them.
            res.insert_header((header::ACCEPT_RANGES, HeaderValue::from_static("bytes")))
                .insert_header((header::LAST_MODIFIED, value.clone()));
        }
        res.body(self.body.clone())
    }

    /// RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison for GET and
    /// HEAD); otherwise If-Modified-Since, at the one-second resolution of an HTTP date.
    fn browser_has_it(&self, req: &HttpRequest) -> bool {
        let ours = self.etag.as_bytes();
        if let Some(inm) = req.headers().get(header::IF_NONE_MATCH) {
            let Ok(inm) = inm.to_str() else {
                return false;
            };
            return inm
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours);
        }
        let (Some((_, modified)), Some(since)) =
            (&self.modified, req.headers().get(header::IF_MODIFIED_SINCE))
        else {
            return false;
        };
        let Some(since) = since
            .to_str()
            .ok()
            .and_then(|s| s.parse::<HttpDate>().ok())
            .map(SystemTime::from)
        else {
            return false;
        };
        let secs = |t: &SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        secs(modified) <= secs(&since)
    }
}

/// One cached file: what was read and from where, and the answer made from it.
#[derive(Debug, Clone)]
pub struct CachedFile {
    /// The file below the root that was read (a folder's `index.html` for `/docs/`).
    pub file: PathBuf,
    pub stamp: Stamp,
    pub answer: ReadyResponse,
}

impl CachedFile {
    /// The entry for a plain file: its bytes, a type from its name, a validator from its stamp.
    pub fn file(
        file: PathBuf,
        stamp: Stamp,
        meta: &std::fs::Metadata,
        body: Vec<u8>,
    ) -> CachedFile {
        let mime = mime_guess::from_path(&file).first_or_octet_stream();
        // Text is sent as UTF-8, as actix-files sends the files it serves (larger ones here).
        let content_type = if mime.type_() == mime_guess::mime::TEXT {
            format!("{}; charset=utf-8", mime.essence_str())
        } else {
            mime.essence_str().to_string()
        };
        let modified = meta.modified().ok().map(|t| {
            let value = HttpDate::from(t).to_string();
            (
                HeaderValue::from_str(&value).expect("an HTTP date is a valid header"),
                t,
            )
        });
        // The stamp names this version of this file, so it makes a validator without hashing
        // the bytes.
        let etag = format!("\"{:x}\"", hash_of(&stamp));
        let answer = ReadyResponse {
            body: Bytes::from(body),
            content_type: HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            etag: HeaderValue::from_str(&etag).expect("hex digits and quotes"),
            modified,
        };
        CachedFile {
            file,
            stamp,
            answer,
        }
    }

    /// The entry for an HTML page, whose body already carries the reload script.
    pub fn html(file: PathBuf, stamp: Stamp, body: Vec<u8>) -> CachedFile {
        CachedFile {
            file,
            stamp,
            answer: ReadyResponse::html(body),
        }
    }
}

fn hash_of<T: std::hash::Hash + ?Sized>(v: &T) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Whether a request may be answered from (and fill) the cache: a plain GET or HEAD. Range
/// requests go to actix-files, which implements them.
pub fn cacheable_request(req: &HttpRequest) -> bool {
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && !req.headers().contains_key(header::RANGE)
}

/// Whether a file with this stamp has been left alone long enough to cache (see [`SETTLED`]).
pub fn settled(stamp: &Stamp, now: SystemTime) -> bool {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let need = if stamp.fine_grained() {
        SETTLED
    } else {
        SETTLED_COARSE
    };
    now - stamp.ctime_nanos() > need.as_nanos() as i128
}

#[derive(Default)]
struct Inner {
    /// The watcher's change count this cache was filled under.
    changes: u64,
    bytes: usize,
    /// Keyed by the raw request path: the same path always decodes to the same file, and
    /// every key was checked by `safe_relative_path` before its entry was made.
    entries: HashMap<Box<str>, CachedFile>,
}

/// One worker's cache (workers never share it, so no lock is taken on a hit).
#[derive(Default)]
pub struct FileCache {
    inner: RefCell<Inner>,
}

impl FileCache {
    /// The cached answer for `raw`, if the file is still the one that was read.
    pub fn get(&self, raw: &str, root: &Root, changes: u64) -> Option<ReadyResponse> {
        let mut inner = self.inner.borrow_mut();
        if inner.changes != changes {
            inner.entries.clear();
            inner.bytes = 0;
            inner.changes = changes;
            return None;
        }
        let entry = inner.entries.get(raw)?;
        if root.stamp(&entry.file).ok() == Some(entry.stamp) {
            return Some(entry.answer.clone());
        }
        let gone = inner.entries.remove(raw)?;
        inner.bytes -= gone.answer.body.len();
        None
    }

    /// Remembers `entry` for `raw` (the caller checked it is [`settled`]).
    pub fn put(&self, raw: &str, entry: CachedFile, changes: u64) {
        let mut inner = self.inner.borrow_mut();
        if inner.changes != changes {
            inner.entries.clear();
            inner.bytes = 0;
            inner.changes = changes;
        }
        let size = entry.answer.body.len();
        if size > MAX_BYTES {
            return;
        }
        if inner.bytes + size > MAX_BYTES || inner.entries.len() >= MAX_ENTRIES {
            // Starting afresh is crude but bounded, and a dev page's working set refills it
            // in one load.
            inner.entries.clear();
            inner.bytes = 0;
        }
        inner.bytes += size;
        if let Some(old) = inner.entries.insert(raw.into(), entry) {
            inner.bytes -= old.answer.body.len();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.borrow().entries.len()
    }
}

/// The path of `full` below `root`, for stamping later.
pub fn below(root: &Root, full: &Path) -> Option<PathBuf> {
    full.strip_prefix(&root.dir).ok().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn stamped(root: &Root, rel: &str) -> (Stamp, std::fs::Metadata) {
        let meta = std::fs::metadata(root.dir.join(rel)).unwrap();
        (Stamp::of(&meta).unwrap(), meta)
    }

    #[test]
    fn a_changed_file_is_never_answered_from_the_cache() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.css"), "one").unwrap();
        let root = Root::new(d.path());
        let (stamp, meta) = stamped(&root, "a.css");
        let cache = FileCache::default();
        let entry = CachedFile::file("a.css".into(), stamp, &meta, b"one".to_vec());
        cache.put("/a.css", entry, 0);
        assert_eq!(cache.get("/a.css", &root, 0).unwrap().body, "one");
        // Rewritten in place (a size change, so the stamp differs even within one clock tick;
        // a same-size rewrite within one tick is what `settled` keeps out of the cache).
        std::fs::write(d.path().join("a.css"), "three").unwrap();
        assert!(cache.get("/a.css", &root, 0).is_none());
        assert_eq!(cache.len(), 0);
        // Replaced by rename, and deleted.
        let (stamp, meta) = stamped(&root, "a.css");
        cache.put(
            "/a.css",
            CachedFile::file("a.css".into(), stamp, &meta, b"two".to_vec()),
            0,
        );
        std::fs::write(d.path().join("b.css"), "two").unwrap();
        std::fs::rename(d.path().join("b.css"), d.path().join("a.css")).unwrap();
        assert!(cache.get("/a.css", &root, 0).is_none());
        let (stamp, meta) = stamped(&root, "a.css");
        cache.put(
            "/a.css",
            CachedFile::file("a.css".into(), stamp, &meta, b"two".to_vec()),
            0,
        );
        std::fs::remove_file(d.path().join("a.css")).unwrap();
        assert!(cache.get("/a.css", &root, 0).is_none());
    }

    #[test]
    fn the_watchers_change_count_empties_the_cache() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.js"), "x").unwrap();
        let root = Root::new(d.path());
        let (stamp, meta) = stamped(&root, "a.js");
        let cache = FileCache::default();
        cache.put(
            "/a.js",
            CachedFile::file("a.js".into(), stamp, &meta, b"x".to_vec()),
            3,
        );
        assert!(cache.get("/a.js", &root, 3).is_some());
        assert!(cache.get("/a.js", &root, 4).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_repointed_outside_the_root_misses() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "one").unwrap();
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("real"), "one").unwrap();
        std::os::unix::fs::symlink("real", d.path().join("link")).unwrap();
        let root = Root::new(d.path());
        let (stamp, meta) = stamped(&root, "link");
        let cache = FileCache::default();
        cache.put(
            "/link",
            CachedFile::file("link".into(), stamp, &meta, b"one".to_vec()),
            0,
        );
        assert!(cache.get("/link", &root, 0).is_some());
        std::fs::remove_file(d.path().join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("link")).unwrap();
        assert!(cache.get("/link", &root, 0).is_none());
    }

    #[test]
    fn only_settled_files_are_cached() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), "x").unwrap();
        let root = Root::new(d.path());
        let (stamp, meta) = stamped(&root, "a");
        // A fresh write sets mtime and ctime together.
        let written = meta.modified().unwrap();
        assert!(!settled(&stamp, written));
        assert!(settled(
            &stamp,
            written + SETTLED_COARSE + Duration::from_millis(1)
        ));
    }

    #[test]
    fn conditional_requests_get_304_only_for_this_version() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.css"), "body{}").unwrap();
        let root = Root::new(d.path());
        let (stamp, meta) = stamped(&root, "a.css");
        let e = CachedFile::file("a.css".into(), stamp, &meta, b"body{}".to_vec());
        let e = e.answer;
        assert_eq!(e.content_type, "text/css; charset=utf-8");
        let etag = e.etag.to_str().unwrap().to_string();
        let lm = e.modified.as_ref().unwrap().0.to_str().unwrap().to_string();
        let status = |req: TestRequest| e.respond(&req.to_http_request()).status().as_u16();
        assert_eq!(status(TestRequest::get()), 200);
        assert_eq!(
            status(TestRequest::get().insert_header(("if-none-match", etag.as_str()))),
            304
        );
        let weak = format!("\"x\", W/{etag}");
        assert_eq!(
            status(TestRequest::get().insert_header(("if-none-match", weak.as_str()))),
            304
        );
        assert_eq!(
            status(TestRequest::get().insert_header(("if-none-match", "\"other\""))),
            200
        );
        assert_eq!(
            status(TestRequest::get().insert_header(("if-modified-since", lm.as_str()))),
            304
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            status(
                TestRequest::get()
                    .insert_header(("if-none-match", "\"other\""))
                    .insert_header(("if-modified-since", lm.as_str()))
            ),
            200
        );
        assert_eq!(
            status(
                TestRequest::get()
                    .insert_header(("if-modified-since", "Thu, 01 Jan 1998 00:00:00 GMT"))
            ),
            200
        );
    }
}
