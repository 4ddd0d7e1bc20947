//! Reading a user's TOML file and reporting what is wrong with it, with file, line and column.
//!
//! Owns the rules every watched file obeys (size limit, UTF-8, a leading BOM and CRLF line
//! endings accepted, empty files refused) and the errors the config, policy and routes loaders
//! return: [`LoadError`] (unreadable, or invalid at a [`SourceError`] that points into the
//! text). A `SourceError` renders as a miette report on the terminal and as a one-line
//! `file:line:col: message` for the JSON log, the status endpoint and the overlay.
//! It does not know what any file means: callers pass the typed value and its spans. It also
//! owns writing one of the sandbox's own files whole ([`write_atomically`]).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::de::DeserializeOwned;

/// Writes `bytes` to `path` so that a crash at any instant leaves the old file or the new one,
/// and a watcher never reads half of it: a temp file in the same folder (O_CREAT|O_EXCL under a
/// random name, so nothing planted there is ever opened), fsync, rename over, fsync the folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{}.tmp-", file_name(path)))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Files larger than this are refused before parsing: a routes or policy file is a few KiB, and a
/// runaway generator should not be able to make a reload eat memory.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// What went wrong reading or understanding one file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read at all.
    #[error("{path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    /// The file was read but its contents are wrong somewhere we can point at.
    #[error(transparent)]
    Invalid(#[from] Box<SourceError>),
}

impl LoadError {
    pub fn unreadable(path: &Path, reason: impl Into<String>) -> Self {
        LoadError::Unreadable {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Unreadable { path, .. } => path,
            LoadError::Invalid(e) => &e.path,
        }
    }

    /// `file:line:col: message (hint)` on one line, for logs, the status endpoint and overlays.
    pub fn one_line(&self) -> String {
        match self {
            LoadError::Unreadable { .. } => self.to_string(),
            LoadError::Invalid(e) => e.one_line(),
        }
    }

    /// The 1-based line and column, when the error points into the file.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        match self {
            LoadError::Unreadable { .. } => None,
            LoadError::Invalid(e) => e.line_col,
        }
    }

    /// A full report for a terminal: the miette rendering with the offending line underlined.
    pub fn render(&self) -> String {
        match self {
            LoadError::Unreadable { .. } => format!("error: {self}"),
            // Without a span miette shows no file name, so say it ourselves. A huge line (a
            // generated one-line file, a nesting bomb) would flood the terminal: same.
            LoadError::Invalid(e) if e.span.is_none() || e.line_too_long_to_show() => {
                format!("error: {}", e.one_line())
            }
            LoadError::Invalid(e) => {
                let mut out = String::new();
                let handler = miette::GraphicalReportHandler::new_themed(
                    miette::GraphicalTheme::unicode_nocolor(),
                );
                if handler.render_report(&mut out, e.as_ref()).is_err() {
                    return e.one_line();
                }
                out
            }
        }
    }
}

/// A problem located in a file's text.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct SourceError {
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    pub help: Option<String>,
    pub path: PathBuf,
    pub line_col: Option<(usize, usize)>,
}

/// Reports quote the offending line only up to this length.
const MAX_SHOWN_LINE: usize = 400;

impl SourceError {
    /// Whether the line the span points at is too long to quote in a report.
    fn line_too_long_to_show(&self) -> bool {
        let text = self.src.inner();
        let at = floor_char_boundary(text, self.span.map_or(0, |s| s.offset()).min(text.len()));
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        end - start > MAX_SHOWN_LINE
    }

    pub fn one_line(&self) -> String {
        let mut s = match self.line_col {
            Some((l, c)) => format!("{}:{}:{}: {}", self.path.display(), l, c, self.message),
            None => format!("{}: {}", self.path.display(), self.message),
        };
        if let Some(h) = &self.help {
            s.push_str(" (hint: ");
            s.push_str(h);
            s.push(')');
        }
        s
    }
}

/// The text of one file plus its name, so errors can point into it.
/// The name a file is shown by (`cors.toml`): its last component, or the whole path when it
/// has none.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

#[derive(Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source").field("path", &self.path).finish()
    }
}

impl Source {
    /// Reads a file under the shared rules. A BOM is dropped (Windows editors write one) and
    /// CRLF is left alone (TOML accepts it); anything that is not UTF-8 is refused.
    pub fn read(path: &Path) -> Result<Source, LoadError> {
        Self::from_bytes(path, Self::read_bytes(path)?)
    }

    /// The raw bytes of a file under the size and file-type rules, read once; the watcher
    /// fingerprints and parses these same bytes, so what it reports is what it saw.
    pub fn read_bytes(path: &Path) -> Result<Vec<u8>, LoadError> {
        read_regular(path, MAX_FILE_BYTES).map_err(|e| LoadError::unreadable(path, e.to_string()))
    }

    /// Like [`Source::read_bytes`] with a caller's size limit, for a file the sandbox wrote
    /// itself (`--persist` state): a symbolic link at `path` is refused, not followed, since
    /// only someone else can have put it there.
    pub fn read_own_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
        read_checked(path, Links::Refuse, limit)
            .map_err(|e| LoadError::unreadable(path, e.to_string()))
    }

    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Source, LoadError> {
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let valid = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
                let src = Source {
                    path: path.to_path_buf(),
                    text: valid,
                };
                return Err(src.error_at(
                    Some(at..at),
                    "file is not valid UTF-8",
                    "invalid byte here",
                    Some("save the file as UTF-8".into()),
                ));
            }
        };
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let src = Source {
            path: path.to_path_buf(),
            text,
        };
        if src.text.trim().is_empty() {
            return Err(src.error_at(
                None,
                "file is empty",
                "",
                Some("write at least one setting; on a reload the last good version stays in force (an editor may be half-way through saving)".into()),
            ));
        }
        Ok(src)
    }

    /// Text that did not come from disk (embedded defaults).
    pub fn embedded(name: &str, text: &str) -> Source {
        Source {
            path: PathBuf::from(name),
            text: text.to_string(),
        }
    }

    /// Deserializes the whole file, turning toml's errors (which carry byte spans) into located
    /// errors, and adding a "did you mean" to unknown keys.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        toml::from_str::<T>(&self.text).map_err(|e| {
            let (message, help) = explain_toml_message(e.message());
            self.error_at(e.span(), &message, "here", help)
        })
    }

    /// A located error at a byte range of this file.
    pub fn error_at(
        &self,
        span: Option<Range<usize>>,
        message: &str,
        label: &str,
        help: Option<String>,
    ) -> LoadError {
        let line_col = span.as_ref().map(|s| line_col(&self.text, s.start));
        LoadError::Invalid(Box::new(SourceError {
            message: message.to_string(),
            src: NamedSource::new(self.path.display().to_string(), self.text.clone()),
            span: span.map(|s| SourceSpan::new(s.start.into(), s.end.saturating_sub(s.start))),
            label: label.to_string(),
            help,
            path: self.path.clone(),
            line_col,
        }))
    }
}

/// Why [`read_regular`] read nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("is a directory, expected a file")]
    Directory,
    /// A FIFO, socket or device, seen before opening or on the opened descriptor.
    #[error("is not a regular file")]
    NotRegular,
    /// A symbolic link where the caller follows none.
    #[error("is a symbolic link, which is not followed here")]
    Symlink,
    #[error("is {len} bytes; the limit is {limit}")]
    TooBig { len: u64, limit: u64 },
    #[error("{}", io_reason(.0))]
    Io(#[from] std::io::Error),
}

/// Whether a symbolic link at the path itself is followed.
#[derive(Clone, Copy, PartialEq)]
enum Links {
    Follow,
    Refuse,
}

/// The bytes of a regular file of at most `limit` bytes. Never blocks on what is not a
/// regular file: the open is non-blocking and the type is checked again on the opened
/// descriptor, so a FIFO swapped in after the first look is refused, not waited on.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    read_checked(path, Links::Follow, limit)
}

fn read_checked(path: &Path, links: Links, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let meta = match links {
        Links::Follow => std::fs::metadata(path)?,
        Links::Refuse => std::fs::symlink_metadata(path)?,
    };
    if meta.is_dir() {
        return Err(ReadError::Directory);
    }
    if meta.file_type().is_symlink() {
        return Err(ReadError::Symlink);
    }
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    let too_big = |len| ReadError::TooBig { len, limit };
    if meta.len() > limit {
        return Err(too_big(meta.len()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Non-blocking open: if a FIFO replaced the file since the check above, opening it must
    // not wait for a writer forever. With `Links::Refuse`, a link swapped in since is refused
    // by the kernel.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK
            | match links {
                Links::Refuse => libc::O_NOFOLLOW,
                Links::Follow => 0,
            },
    );
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if links == Links::Refuse && e.raw_os_error() == Some(libc::ELOOP) {
            return ReadError::Symlink;
        }
        ReadError::Io(e)
    })?;
    if !file.metadata()?.is_file() {
        return Err(ReadError::NotRegular);
    }
    // The file may have grown since it was measured; never read more than the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// toml/serde phrase unknown keys as "unknown field `x`, expected one of `a`, `b`"; we keep the
/// first half and turn the list into a suggestion (`did you mean …?`). JSON loaders use it too.
pub fn explain_toml_message(raw: &str) -> (String, Option<String>) {
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            let help = match did_you_mean(field, &expected) {
                Some(best) => Some(format!("did you mean `{best}`?")),
                None if !expected.is_empty() => {
                    Some(format!("known keys: {}", expected.join(", ")))
                }
                None => None,
            };
            return (format!("unknown key `{field}`"), help);
        }
    }
    if let Some(rest) = raw.strip_prefix("unknown variant `") {
        if let Some((v, tail)) = rest.split_once('`') {
            let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
            let help = did_you_mean(v, &expected)
                .map(|b| format!("did you mean `{b}`?"))
                .or_else(|| Some(format!("expected one of: {}", expected.join(", "))));
            return (format!("unknown value `{v}`"), help);
        }
    }
    (raw.to_string(), None)
}

/// The closest candidate by edit distance, when it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Demo {
        allowed_origins: Vec<String>,
        max_age: Option<u32>,
    }

    fn src(text: &str) -> Source {
        Source::from_bytes(Path::new("cors.toml"), text.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn unknown_key_gets_line_col_and_suggestion() {
        let err = src("allowed_origins = []\nalowed_origins = [\"x\"]\n")
            .parse::<Demo>()
            .unwrap_err();
        assert_eq!(err.line_col(), Some((2, 1)));
        let line = err.one_line();
        assert!(
            line.starts_with("cors.toml:2:1: unknown key `alowed_origins`"),
            "{line}"
        );
        assert!(line.contains("did you mean `allowed_origins`?"), "{line}");
    }

    #[test]
    fn syntax_error_is_located() {
        let err = src("allowed_origins = [\n\"a\"\nmax_age = 3")
            .parse::<Demo>()
            .unwrap_err();
        let (line, _) = err.line_col().unwrap();
        assert!(line >= 2, "{}", err.one_line());
        assert!(err.render().contains("cors.toml"));
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let s = Source::from_bytes(
            Path::new("x.toml"),
            b"\xef\xbb\xbfallowed_origins = [\"a\"]\r\nmax_age = 3\r\n".to_vec(),
        )
        .unwrap();
        let d: Demo = s.parse().unwrap();
        assert_eq!(d.max_age, Some(3));
    }

    #[test]
    fn invalid_utf8_and_empty_are_refused() {
        let e = Source::from_bytes(Path::new("x.toml"), b"a = \"\xff\"".to_vec()).unwrap_err();
        assert!(e.one_line().contains("not valid UTF-8"), "{}", e.one_line());
        let e = Source::from_bytes(Path::new("x.toml"), b"  \n".to_vec()).unwrap_err();
        assert!(e.one_line().contains("empty"));
    }

    #[test]
    fn nesting_bombs_are_refused_with_a_short_report() {
        let deep = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = src(&deep).parse::<Demo>().unwrap_err();
        assert!(e.one_line().contains("recursion"), "{}", e.one_line());
        assert!(e.render().len() < 1000, "{}", e.render().len());
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_col("", 3), (1, 1));
    }
}
