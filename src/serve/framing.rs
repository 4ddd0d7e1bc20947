//! Following a connection's HTTP/1 request framing as its bytes arrive, to see the sizes a
//! chunked body declares.
//!
//! actix-http decodes chunked bodies itself and hands on only the data that has arrived, never
//! the size a chunk announces. A client that announces a 1 GiB chunk and then sends five bytes
//! would be answered only once 1 MiB had arrived, or at the body deadline. This tracker reads
//! the same bytes actix-http reads (it never changes them) and notes the first request whose
//! declared chunk sizes add up to more than the limit, so that request can be answered 413 at
//! once. Pure: bytes in, a request number out.
//!
//! It only has to agree with actix-http on where requests start and what their bodies
//! declare. Whenever the bytes are not what it understands (an over-long head, a chunk-size
//! line it cannot read), it stops following and never reports anything again; the body's own
//! limits still hold then, as they did before.

/// Request heads longer than this are not followed (actix-http refuses them anyway).
const MAX_HEAD: usize = 64 * 1024;
/// A chunk-size line (size, extensions) longer than this is not followed.
const MAX_SIZE_LINE: usize = 4 * 1024;

/// Where in the byte stream the tracker is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum At {
    /// In a request head; `line_start` says whether the last byte ended a line.
    Head { line_start: bool },
    /// In a `Content-Length` body, with this many bytes to go.
    Fixed(u64),
    /// In a chunk-size line; `size` so far, `digits` seen, in extensions after the size.
    SizeLine {
        size: u64,
        digits: usize,
        ext: bool,
        len: usize,
    },
    /// In a chunk's data, with this many bytes to go, then its CRLF.
    ChunkData(u64),
    /// After a chunk's data, before its line ending.
    ChunkEnd,
    /// In the trailer section after the last chunk.
    Trailer { line_start: bool },
    /// Lost the thread; never reports again.
    Off,
}

/// The tracker for one connection.
#[derive(Debug)]
pub struct Framing {
    limit: u64,
    at: At,
    /// Request heads completed so far: the number of the request whose body is being read.
    requests: u64,
    /// Declared chunk sizes of the current request so far.
    declared: u64,
    /// The head being read, kept only to find its body framing.
    head: Vec<u8>,
    /// The first request (numbered from 1) whose declared body exceeds the limit.
    oversized: Option<u64>,
}

impl Framing {
    /// A tracker that reports a chunked body declaring more than `limit` bytes.
    pub fn new(limit: usize) -> Framing {
        Framing {
            limit: limit as u64,
            at: At::Head { line_start: true },
            requests: 0,
            declared: 0,
            head: Vec::new(),
            oversized: None,
        }
    }

    /// The first request (the connection's first is 1) that declared too large a body.
    pub fn oversized(&self) -> Option<u64> {
        self.oversized
    }

    /// Follows the next bytes the connection received. Returns the oversized request when these
    /// bytes revealed it.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Option<u64> {
        let before = self.oversized;
        while !bytes.is_empty() && self.oversized.is_none() && self.at != At::Off {
            let used = self.step(bytes);
            bytes = &bytes[used..];
        }
        if before.is_none() {
            self.oversized
        } else {
            None
        }
    }

    /// Consumes a prefix of `bytes` in the current state; returns how many bytes it used.
    fn step(&mut self, bytes: &[u8]) -> usize {
        match self.at.clone() {
            At::Head { line_start } => self.head_bytes(bytes, line_start),
            At::Fixed(left) => {
                let used = (bytes.len() as u64).min(left);
                self.at = if used == left {
                    self.next_head()
                } else {
                    At::Fixed(left - used)
                };
                used as usize
            }
            At::SizeLine {
                size,
                digits,
                ext,
                len,
            } => self.size_line_byte(bytes[0], size, digits, ext, len),
            At::ChunkData(left) => {
                let used = (bytes.len() as u64).min(left);
                self.at = if used == left {
                    At::ChunkEnd
                } else {
                    At::ChunkData(left - used)
                };
                used as usize
            }
            At::ChunkEnd => {
                self.at = match bytes[0] {
                    b'\r' => At::ChunkEnd,
                    b'\n' => Self::size_line(),
                    _ => At::Off,
                };
                1
            }
            At::Trailer { line_start } => {
                self.at = match bytes[0] {
                    b'\n' if line_start => self.next_head(),
                    b'\n' => At::Trailer { line_start: true },
                    b'\r' => At::Trailer { line_start },
                    _ => At::Trailer { line_start: false },
                };
                1
            }
            At::Off => bytes.len(),
        }
    }

    fn head_bytes(&mut self, bytes: &[u8], mut line_start: bool) -> usize {
        for (i, &b) in bytes.iter().enumerate() {
            // Empty lines before a request line are skipped, as the HTTP parser does.
            if self.head.is_empty() && (b == b'\r' || b == b'\n') {
                continue;
            }
            self.head.push(b);
            if self.head.len() > MAX_HEAD {
                self.at = At::Off;
                return i + 1;
            }
            match b {
                b'\n' if line_start => {
                    self.at = self.body_after_head();
                    return i + 1;
                }
                b'\n' => line_start = true,
                b'\r' => {}
                _ => line_start = false,
            }
        }
        self.at = At::Head { line_start };
        bytes.len()
    }

    /// The head is complete: what framing its body has.
    fn body_after_head(&mut self) -> At {
        self.requests += 1;
        self.declared = 0;
        let head = std::mem::take(&mut self.head);
        let text = String::from_utf8_lossy(&head);
        let mut chunked = false;
        let mut length = None;
        for line in text.lines().skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim();
            if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<u64>().ok();
            }
        }
        if chunked {
            Self::size_line()
        } else {
            match length {
                Some(0) | None => self.next_head(),
                Some(n) => At::Fixed(n),
            }
        }
    }

    fn size_line() -> At {
        At::SizeLine {
            size: 0,
            digits: 0,
            ext: false,
            len: 0,
        }
    }

    fn next_head(&mut self) -> At {
        At::Head { line_start: true }
    }

    fn size_line_byte(&mut self, b: u8, size: u64, digits: usize, ext: bool, len: usize) -> usize {
        if len >= MAX_SIZE_LINE {
            self.at = At::Off;
            return 1;
        }
        let hex = (b as char).to_digit(16);
        self.at = match (b, hex) {
            (_, Some(d)) if !ext => {
                match size.checked_mul(16).and_then(|s| s.checked_add(d as u64)) {
                    Some(size) => {
                        // A size that passes the limit is known before its line ends.
                        if self.declared.saturating_add(size) > self.limit {
                            self.oversized = Some(self.requests);
                        }
                        At::SizeLine {
                            size,
                            digits: digits + 1,
                            ext,
                            len: len + 1,
                        }
                    }
                    None => At::Off,
                }
            }
            (b'\n', _) if digits > 0 => {
                self.declared = self.declared.saturating_add(size);
                if size == 0 {
                    At::Trailer { line_start: true }
                } else {
                    At::ChunkData(size)
                }
            }
            (b'\r' | b';' | b' ' | b'\t', _) if digits > 0 => At::SizeLine {
                size,
                digits,
                ext: true,
                len: len + 1,
            },
            (_, _) if ext => At::SizeLine {
                size,
                digits,
                ext,
                len: len + 1,
            },
            _ => At::Off,
        };
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1024;

    fn feed_all(parts: &[&[u8]]) -> Option<u64> {
        let mut f = Framing::new(LIMIT);
        for p in parts {
            f.feed(p);
        }
        f.oversized()
    }

    /// Every split of the input into two parts gives the same answer as feeding it whole.
    fn same_at_every_split(input: &[u8]) -> Option<u64> {
        let whole = feed_all(&[input]);
        for cut in 0..=input.len() {
            assert_eq!(
                feed_all(&[&input[..cut], &input[cut..]]),
                whole,
                "cut {cut}"
            );
        }
        whole
    }

    #[test]
    fn a_chunk_above_the_limit_is_seen_from_its_size_line() {
        let req =
            b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\nhello";
        assert_eq!(same_at_every_split(req), Some(1));
        // Before the line ends: the size alone is enough.
        let early = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFF";
        assert_eq!(feed_all(&[early]), Some(1));
    }

    #[test]
    fn chunks_that_add_up_past_the_limit_are_seen() {
        let req = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n";
        let mut body = req.to_vec();
        body.extend(std::iter::repeat_n(b'a', 0x200));
        body.extend_from_slice(b"\r\n201\r\n");
        assert_eq!(same_at_every_split(&body), Some(1));
    }

    #[test]
    fn bodies_within_the_limit_and_other_framings_report_nothing() {
        let small = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n";
        assert_eq!(same_at_every_split(small), None);
        let fixed = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(same_at_every_split(fixed), None);
        // A Content-Length body is skipped even when it looks like chunk framing.
        let tricky = b"POST / HTTP/1.1\r\ncontent-length: 12\r\n\r\nFFFFFFFF\r\n\r\n";
        assert_eq!(same_at_every_split(tricky), None);
        // `chunked` must be the last coding.
        let not_last = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nFFFFFFFF\r\n";
        assert_eq!(feed_all(&[not_last]), None);
    }

    #[test]
    fn requests_are_numbered_across_keep_alive_and_line_endings() {
        let two = b"\r\nGET / HTTP/1.1\nHost: x\n\nPOST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n";
        assert_eq!(same_at_every_split(two), Some(4));
    }

    #[test]
    fn what_it_cannot_follow_it_stops_following() {
        let bad_size = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        let mut f = Framing::new(LIMIT);
        f.feed(bad_size);
        f.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFF\r\n");
        assert_eq!(f.oversized(), None);
        let overflow = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut f = Framing::new(usize::MAX);
        f.feed(overflow);
        f.feed(b"FFFFFFFFFFFFFFFFFFFF\r\n");
        assert_eq!(f.oversized(), None);
        let mut f = Framing::new(LIMIT);
        f.feed(&vec![b'a'; MAX_HEAD + 10]);
        f.feed(b"\r\n\r\n");
        assert_eq!(f.at, At::Off);
    }
}
