//! A connection's byte stream, watched for a chunked body that declares more than the limit.
//!
//! [`Watched`] wraps the connection (plain TCP, or TLS after the handshake) below actix-http's
//! HTTP/1 parser: every byte actix-http reads passes through `Framing` first, unchanged. The
//! [`BodyWatch`] it shares with the request handlers (through the connection's data) tells the
//! body reader, the moment a size line reveals it, that the request it is reading announced too
//! large a body, so the answer is 413 at once instead of once a megabyte has arrived.
//! HTTP/2 has no chunked framing; its connections are not watched.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

use super::framing::Framing;

/// What a connection's watcher shares with the handlers of its requests.
#[derive(Debug)]
pub struct BodyWatch {
    framing: RefCell<Framing>,
    /// Requests the app has begun on this connection: HTTP/1 answers them one at a time, so the
    /// last begun is the one whose body is being read.
    begun: Cell<u64>,
    oversized: Notify,
}

impl BodyWatch {
    fn new(limit: usize) -> BodyWatch {
        BodyWatch {
            framing: RefCell::new(Framing::new(limit)),
            begun: Cell::new(0),
            oversized: Notify::new(),
        }
    }

    /// Called once per request, before any step reads its body.
    pub fn begin_request(&self) {
        self.begun.set(self.begun.get() + 1);
    }

    /// Whether the request being answered declared a body above the limit.
    pub fn current_is_oversized(&self) -> bool {
        self.framing.borrow().oversized() == Some(self.begun.get())
    }

    /// Resolves once the request being answered turns out to declare too large a body; never
    /// otherwise. A future created before the check cannot miss the news.
    pub async fn oversized(&self) {
        loop {
            let news = self.oversized.notified();
            if self.current_is_oversized() {
                return;
            }
            news.await;
        }
    }
}

/// A connection whose incoming bytes are followed by a [`BodyWatch`].
pub struct Watched<T> {
    io: T,
    watch: Option<Rc<BodyWatch>>,
}

impl<T> Watched<T> {
    /// Watches `io` for chunked bodies above `limit`; `None` passes bytes through unwatched.
    pub fn new(io: T, limit: Option<usize>) -> Watched<T> {
        Watched {
            io,
            watch: limit.map(|l| Rc::new(BodyWatch::new(l))),
        }
    }

    /// The connection underneath.
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// The watch to hand to the connection's requests.
    pub fn watch(&self) -> Option<Rc<BodyWatch>> {
        self.watch.clone()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(watch)) = (&polled, &self.watch) {
            let fresh = &buf.filled()[before..];
            if !fresh.is_empty() && watch.framing.borrow_mut().feed(fresh).is_some() {
                watch.oversized.notify_waiters();
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
