//! Where latency and faults happen: delays, injected error statuses, a connection closed or
//! reset without a response, a body trickled out slowly. What each route asks for was
//! validated when the routes loaded; this file only carries it out.

use std::time::Duration;

use actix_web::body::{BodyStream, MessageBody};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use serde_json::json;

use super::random_u64;
use crate::routes::{Fault, Faults};

/// The connection's socket, left in its extensions by the server's `on_connect`, so a
/// `fault = "reset"` can ask the kernel for an RST.
#[derive(Clone, Copy, Debug)]
pub struct ConnFd(pub std::os::fd::RawFd);

/// Left in a fault's response extensions: the client gets no response at all, so the log, the
/// journal and `check` report a network error instead of the placeholder status below.
#[derive(Clone, Copy, Debug)]
pub struct InjectedFault(pub Fault);

/// A status no real server sends (nginx's "closed without response"), on the response that
/// never leaves: actix-http needs one, the client sees none.
const NO_RESPONSE: u16 = 444;

/// Waits the configured delay, then answers with a fault or an injected error when one is due;
/// `None` means "answer normally".
pub async fn faulty(req: &HttpRequest, f: &Faults) -> Option<HttpResponse> {
    let (lo, hi) = f.delay_ms;
    let ms = if hi > lo {
        lo + random_u64() % (hi - lo + 1)
    } else {
        lo
    };
    if ms > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(fault) = f.fault {
        return Some(drop_connection(req, fault));
    }
    // 53 random bits give a uniform float in [0, 1).
    if f.error_rate > 0.0 && ((random_u64() >> 11) as f64 / (1u64 << 53) as f64) < f.error_rate {
        let status =
            StatusCode::from_u16(f.error_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(HttpResponse::build(status).json(json!({
            "error": format!("injected by the sandbox (error_rate {})", f.error_rate)
        })));
    }
    None
}

/// A response whose body fails before its first byte: actix-http then drops the connection
/// without writing the head. For a reset, SO_LINGER 0 first makes that close an RST; for a
/// close, shutting the socket down first makes sure the client sees a FIN at once.
fn drop_connection(req: &HttpRequest, fault: Fault) -> HttpResponse {
    if let Some(ConnFd(fd)) = req.conn_data::<ConnFd>().copied() {
        // SAFETY: `fd` is this request's own open socket (the connection outlives its
        // requests); we only change its options or shut it down, never close it.
        unsafe {
            match fault {
                Fault::Reset => {
                    let linger = libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    };
                    libc::setsockopt(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        &linger as *const libc::linger as *const libc::c_void,
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    );
                }
                Fault::Close => {
                    libc::shutdown(fd, libc::SHUT_RDWR);
                }
            }
        }
    }
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("sandbox: injected fault"))
    });
    let mut res =
        HttpResponse::build(StatusCode::from_u16(NO_RESPONSE).unwrap_or(StatusCode::BAD_GATEWAY))
            .body(BodyStream::new(failing));
    res.extensions_mut().insert(InjectedFault(fault));
    res
}

/// Re-sends a response's body in up to 16 chunks spread over `slow_body_ms` (an empty body
/// is sent at once).
pub fn slow(res: HttpResponse, f: &Faults) -> HttpResponse {
    if f.slow_body_ms == 0 {
        return res;
    }
    let (head, body) = res.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(b) => b,
        Err(body) => return head.set_body(body),
    };
    const CHUNKS: usize = 16;
    let size = bytes.len().div_ceil(CHUNKS).max(1);
    let chunks: Vec<Bytes> = (0..bytes.len())
        .step_by(size)
        .map(|i| bytes.slice(i..(i + size).min(bytes.len())))
        .collect();
    // The first chunk goes at once; the pauses between the rest add up to `slow_body_ms`.
    let gaps = chunks.len().saturating_sub(1).max(1) as u64;
    let pause = Duration::from_millis(f.slow_body_ms / gaps);
    let stream = futures_util::stream::unfold(
        (chunks.into_iter(), true),
        move |(mut it, first)| async move {
            let chunk = it.next()?;
            if !first {
                actix_web::rt::time::sleep(pause).await;
            }
            Some((Ok::<Bytes, std::io::Error>(chunk), (it, false)))
        },
    );
    head.set_body(BodyStream::new(stream)).map_into_boxed_body()
}
