//! One origin's server: actix-server accepting on its listener, TLS when the origin has it,
//! actix-http speaking HTTP/1.1 (and HTTP/2 by ALPN over TLS) to the origin's actix-web app.
//!
//! Built from these parts rather than with `HttpServer` for one reason: `HttpServer` offers no
//! way to put anything between the socket and the HTTP parser, and the API's body limit needs
//! [`Watched`] there (see `conn_watch`). The settings are the ones `HttpServer` was given.

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::{HttpService, Protocol, Request, Response};
use actix_server::Server;
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactory};
use actix_service::{Service, ServiceFactoryExt};
use actix_tls::accept::rustls_0_23::{Acceptor, TlsStream};
use actix_tls::accept::TlsError;
use actix_web::dev::AppConfig;
use actix_web::rt::net::TcpStream;

use super::api::ConnFd;
use super::conn_watch::Watched;

/// The address a connection was accepted on, in its connection data.
#[derive(Debug, Clone, Copy)]
pub struct Listening(pub SocketAddr);

/// How every origin's server is run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub workers: usize,
    /// Slow clients get this long to send their request head (slowloris).
    pub client_request_timeout: Duration,
    /// A connection closed for an unfinished request body reads (and drops) what still arrives
    /// for this long before the close, so the client can read the answer instead of a reset.
    pub client_disconnect_timeout: Duration,
    /// A TLS handshake that takes longer than this is dropped.
    pub tls_handshake_timeout: Duration,
    /// Open event streams end on shutdown; this bounds anything else still running.
    pub shutdown_timeout_secs: u64,
}

/// Starts serving `listener` with the app `factory` builds (once per worker). `body_limit`
/// turns on the watch for chunked bodies declaring more than that on HTTP/1 connections.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    body_limit: Option<usize>,
    settings: Settings,
    factory: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let name = format!("sandbox-{addr}");
    let builder = Server::build()
        .workers(settings.workers)
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout_secs);
    let builder = match tls {
        None => builder.listen(name, listener, move || {
            fn_service(move |io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                Ok((Watched::new(io, body_limit), Protocol::Http1, peer))
            })
            .and_then(http(factory.clone(), addr, settings))
        })?,
        Some(mut config) => {
            // Offered in this order, as actix-http does: HTTP/2 when the client speaks it.
            let mut protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            protocols.append(&mut config.alpn_protocols);
            config.alpn_protocols = protocols;
            builder.listen(name, listener, move || {
                let mut acceptor = Acceptor::new(config.clone());
                acceptor.set_handshake_timeout(settings.tls_handshake_timeout);
                acceptor
                    .map_init_err(|_| ())
                    .map_err(TlsError::into_service_error)
                    .and_then(move |io: TlsStream<TcpStream>| async move {
                        let h2 = io.get_ref().1.alpn_protocol() == Some(b"h2");
                        let peer = io.get_ref().0.peer_addr().ok();
                        let (protocol, limit) = if h2 {
                            (Protocol::Http2, None)
                        } else {
                            (Protocol::Http1, body_limit)
                        };
                        Ok((Watched::new(io, limit), protocol, peer))
                    })
                    .and_then(http(factory.clone(), addr, settings).map_err(TlsError::Service))
            })?
        }
    };
    Ok(builder.run())
}

/// The socket under a connection, plain or TLS.
trait Socket {
    fn tcp(&self) -> &TcpStream;
}

impl Socket for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Socket for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// actix-http over one connection type, answering with the app.
fn http<T, F, I, S, B>(
    factory: F,
    addr: SocketAddr,
    settings: Settings,
) -> impl ServiceFactory<
    (Watched<T>, Protocol, Option<SocketAddr>),
    Config = (),
    Response = (),
    Error = actix_http::error::DispatchError,
    InitError = (),
>
where
    T: Socket + tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let app = factory()
        .into_factory()
        .map_err(|e| e.into().error_response());
    HttpService::build()
        .client_request_timeout(settings.client_request_timeout)
        .client_disconnect_timeout(settings.client_disconnect_timeout)
        .local_addr(addr)
        .on_connect_ext(move |io: &Watched<T>, ext| {
            ext.insert(Listening(addr));
            let tcp = io.get_ref().tcp();
            // Files are written as a head and then body chunks; with Nagle's algorithm on, the
            // second write waits for the client's delayed ACK (~20-40 ms per keep-alive request).
            let _ = tcp.set_nodelay(true);
            // For `fault = "reset"`: the socket, to set SO_LINGER.
            ext.insert(ConnFd(tcp.as_raw_fd()));
            if let Some(watch) = io.watch() {
                ext.insert(watch);
            }
        })
        .finish(map_config(app, |_| AppConfig::default()))
}
