//! A connection from accept to close for a protocol with an upgrade to TLS
//! (SMTP's STARTTLS, POP3's STLS) and an implicit-TLS listener: the plaintext
//! session runs first and may hand its stream back for the handshake, after
//! which a fresh session serves the encrypted stream.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

/// How a plaintext session ended.
pub(crate) enum Outcome<S> {
    Closed,
    /// The client asked for TLS: the raw stream, to be wrapped and served again.
    StartTls(S),
}

/// What a connection needs to know about TLS.
pub(crate) struct Tls<'a> {
    pub(crate) acceptor: &'a TlsAcceptor,
    /// Longest a handshake may take.
    pub(crate) timeout: Duration,
    pub(crate) cancel: &'a CancellationToken,
}

/// Serves one connection: `plain` on the raw stream (unless `implicit`), then
/// `secure` on the TLS stream when there is one; `secure` gets `true` when it
/// should greet (implicit TLS) and `false` after an upgrade (RFC 3207 §4.2:
/// no new greeting).
pub(crate) async fn serve<P, PF, S, SF>(
    stream: TcpStream,
    peer: SocketAddr,
    implicit: bool,
    tls: Tls<'_>,
    plain: P,
    secure: S,
) where
    P: FnOnce(TcpStream) -> PF,
    PF: Future<Output = std::io::Result<Outcome<TcpStream>>>,
    S: FnOnce(TlsStream<TcpStream>, bool) -> SF,
    SF: Future<Output = std::io::Result<()>>,
{
    let (stream, greet) = if implicit {
        (stream, true)
    } else {
        match plain(stream).await {
            Ok(Outcome::StartTls(stream)) => (stream, false),
            Ok(Outcome::Closed) => return,
            Err(error) => {
                tracing::debug!(%error, client = %peer, "session ended with an I/O error");
                return;
            }
        }
    };
    let handshake = tokio::time::timeout(tls.timeout, tls.acceptor.accept(stream));
    let stream = tokio::select! {
        () = tls.cancel.cancelled() => return,
        handshake = handshake => match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(%error, client = %peer, "TLS handshake failed");
                return;
            }
            Err(_) => return,
        },
    };
    if let Err(error) = secure(stream, greet).await {
        tracing::debug!(%error, client = %peer, "TLS session ended with an I/O error");
    }
}
