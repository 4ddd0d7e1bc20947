//! Opening a file beneath a static root, so that no path or symlink can lead out of it.
//!
//! On Linux the root is opened once and every file is opened relative to it with
//! `openat2(…, RESOLVE_BENEATH)`: the kernel itself refuses any resolution (`..`, an absolute
//! or escaping symlink) that leaves the root, in one system call. Elsewhere, or when the
//! kernel lacks `openat2` (before 5.6, or a seccomp filter), the path is canonicalised and
//! checked to lie inside the root, then opened. Either way files are opened non-blocking and
//! checked on the open descriptor, so a FIFO or device can neither hang a worker nor be read.
//!
//! Dot-files stay hidden behind symlinks too: the request path may not name one, and what it
//! resolves to may not pass through one (`env.txt -> .env`, `gitdir -> .git`). A path without
//! symlinks is opened with `RESOLVE_NO_SYMLINKS` and needs no further check; one with a
//! symlink on the way is checked by where its open descriptor really is.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// A static root, opened once.
#[derive(Debug)]
pub struct Root {
    /// Canonical path of the root.
    pub dir: PathBuf,
    #[cfg(target_os = "linux")]
    fd: Option<std::os::fd::OwnedFd>,
}

/// What was opened for a request path.
#[derive(Debug)]
pub enum Opened {
    /// A regular file, with the path it was found at (for its content type).
    File(File, PathBuf),
    /// `rel` is a folder; this is its `index.html`.
    DirIndex(File, PathBuf),
}

impl Root {
    pub fn new(dir: &Path) -> Root {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        #[cfg(target_os = "linux")]
        let fd = File::open(&dir).ok().map(std::os::fd::OwnedFd::from);
        Root {
            #[cfg(target_os = "linux")]
            fd,
            dir,
        }
    }

    /// Opens `rel` (already free of `..` and dot segments) beneath the root; a folder gives
    /// its `index.html`. Anything missing, escaping or not a regular file is `NotFound`.
    pub fn open(&self, rel: &Path) -> io::Result<Opened> {
        let file = self.open_beneath(rel)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            let index = rel.join("index.html");
            let file = self.open_beneath(&index)?;
            return regular(file).map(|f| Opened::DirIndex(f, self.dir.join(index)));
        }
        regular(file).map(|f| Opened::File(f, self.dir.join(rel)))
    }

    fn open_beneath(&self, rel: &Path) -> io::Result<File> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            match self.open_beneath_linux(fd, rel) {
                Err(e)
                    if e.raw_os_error() == Some(libc::ENOSYS)
                        || e.raw_os_error() == Some(libc::EPERM) => {}
                other => return other,
            }
        }
        let full = self.dir.join(rel).canonicalize()?;
        if hidden_below(&self.dir, &full) {
            return Err(not_found());
        }
        open_nonblocking(&full)
    }

    /// The common case, no symlink on the way, costs one call; a symlink costs a second open
    /// and a look at where the descriptor really leads.
    #[cfg(target_os = "linux")]
    fn open_beneath_linux(&self, fd: &std::os::fd::OwnedFd, rel: &Path) -> io::Result<File> {
        match openat2_beneath(fd, rel, libc::RESOLVE_NO_SYMLINKS) {
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {}
            other => return other.map_err(escape_is_missing),
        }
        let file = openat2_beneath(fd, rel, 0).map_err(escape_is_missing)?;
        let resolved = opened_path(&file).or_else(|_| self.dir.join(rel).canonicalize())?;
        if hidden_below(&self.dir, &resolved) {
            return Err(not_found());
        }
        Ok(file)
    }
}

/// One version of a file, told apart without reading it: which file (device, inode) and its
/// size and times. Writing a file moves its ctime, which no user call can set back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    /// `None` where the platform does not expose inode and ctime (nothing is cached there).
    pub fn of(meta: &std::fs::Metadata) -> Option<Stamp> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(Stamp {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }

    /// When the file last changed in any way (content, mode, links), in nanoseconds since
    /// the epoch.
    pub fn ctime_nanos(&self) -> i128 {
        i128::from(self.ctime.0) * 1_000_000_000 + i128::from(self.ctime.1)
    }

    /// Whether the file system keeps sub-second times (FAT and some network mounts do not).
    pub fn fine_grained(&self) -> bool {
        self.ctime.1 != 0 || self.mtime.1 != 0
    }
}

impl Root {
    /// The stamp of `rel` beneath the root now, following symlinks (a symlink that leads
    /// elsewhere gives another file's stamp, which matches nothing cached).
    pub fn stamp(&self, rel: &Path) -> io::Result<Stamp> {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            return fstatat(fd, rel);
        }
        let meta = std::fs::metadata(self.dir.join(rel))?;
        Stamp::of(&meta).ok_or_else(not_found)
    }
}

#[cfg(target_os = "linux")]
fn fstatat(dir: &std::os::fd::OwnedFd, rel: &Path) -> io::Result<Stamp> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(rel.as_os_str().as_bytes()).map_err(|_| not_found())?;
    // SAFETY: `stat` is plain data, fully written by a successful call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid directory fd, NUL-terminated path, and a `stat` to write into.
    if unsafe { libc::fstatat(dir.as_raw_fd(), c.as_ptr(), &mut st, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // The same fields `Stamp::of` reads through std, so the two always compare equal.
    Ok(Stamp {
        dev: st.st_dev,
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime: (st.st_mtime, st.st_mtime_nsec),
        ctime: (st.st_ctime, st.st_ctime_nsec),
    })
}

fn not_found() -> io::Error {
    io::ErrorKind::NotFound.into()
}

/// Whether `resolved` is outside `root`, or reached through a dot-file or dot-folder below it.
fn hidden_below(root: &Path, resolved: &Path) -> bool {
    match resolved.strip_prefix(root) {
        Ok(below) => below
            .components()
            .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b".")),
        Err(_) => true,
    }
}

/// Where an open descriptor's file is now, as the kernel names it.
#[cfg(target_os = "linux")]
fn opened_path(file: &File) -> io::Result<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

fn regular(file: File) -> io::Result<File> {
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(not_found())
    }
}

fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Escapes (`EXDEV`) and symlink loops read as a missing file; the rest is passed on, so the
/// caller can tell a kernel without `openat2` (`ENOSYS`, `EPERM`) apart.
#[cfg(target_os = "linux")]
fn escape_is_missing(e: io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(libc::EXDEV) | Some(libc::ELOOP) => not_found(),
        _ => e,
    }
}

#[cfg(target_os = "linux")]
fn openat2_beneath(dir: &std::os::fd::OwnedFd, rel: &Path, resolve: u64) -> io::Result<File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::ffi::OsStrExt;
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let c = std::ffi::CString::new(rel.as_os_str().as_bytes()).map_err(|_| not_found())?;
    // SAFETY: `open_how` is plain data; zeroed is its documented "no options" state.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS | resolve;
    // SAFETY: valid directory fd, NUL-terminated path, and `how` with its true size.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this new descriptor; we own it.
    Ok(unsafe { File::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_inside_and_refuses_escapes() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("a.txt"), "a").unwrap();
        std::fs::write(d.path().join("sub/index.html"), "<p>").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path().join("secret.txt"), d.path().join("out.txt"))
                .unwrap();
            std::os::unix::fs::symlink(d.path().join("a.txt"), d.path().join("abs-in.txt"))
                .unwrap();
            std::os::unix::fs::symlink("a.txt", d.path().join("rel-in.txt")).unwrap();
        }
        let root = Root::new(d.path());
        assert!(matches!(
            root.open(Path::new("a.txt")),
            Ok(Opened::File(..))
        ));
        assert!(matches!(
            root.open(Path::new("sub")),
            Ok(Opened::DirIndex(..))
        ));
        assert!(matches!(
            root.open(Path::new("rel-in.txt")),
            Ok(Opened::File(..))
        ));
        assert_eq!(
            root.open(Path::new("out.txt")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            root.open(Path::new("missing")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        // An absolute symlink is refused even when it points inside (RESOLVE_BENEATH), or
        // allowed by the fallback's check; it never leads outside either way.
        if let Ok(Opened::File(_, p)) = root.open(Path::new("abs-in.txt")) {
            assert!(p.starts_with(&root.dir));
        }
    }
}
