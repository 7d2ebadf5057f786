//! The IMAP listener (SPEC §6): IMAP4rev1 with IDLE, UIDPLUS, MOVE,
//! NAMESPACE, ENABLE, ID, LITERAL+, UNSELECT, SASL-IR, CHILDREN,
//! SPECIAL-USE and BINARY, in plaintext with STARTTLS or with implicit TLS (IMAPS).
//!
//! Commands are decoded and responses encoded by imap-codec ([`wire`]); the
//! session state machine ([`session`]) serves each login its folders (SPEC
//! §3) through the store, and keeps the selected folder's view ([`view`]) in
//! step with the store's events, which is also what IDLE waits on.

mod fetch;
mod folders;
pub mod mime;
mod reply;
mod search;
mod selected;
mod session;
mod view;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::auth::Credentials;
use crate::net::starttls::{Outcome, Tls};
use crate::store::Store;
use session::Session;

/// IMAP's identity and limits, from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hostname: String,
    pub credentials: Credentials,
    /// RFC 3501 §5.4: the autologout timer (at least 30 minutes by default).
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// The largest literal accepted (APPEND), as for SMTP messages.
    pub max_message_size: usize,
}

/// What every session shares.
pub(crate) struct Context {
    pub(crate) settings: Settings,
    pub(crate) store: Store,
    pub(crate) tls: TlsAcceptor,
    pub(crate) cancel: CancellationToken,
}

/// The IMAP service: its listeners, sharing one connection cap.
pub(crate) type Server = crate::net::Service<Context>;

impl crate::net::Protocol for Context {
    fn max_connections(&self) -> usize {
        self.settings.max_connections
    }

    fn refusal(&self) -> Arc<str> {
        "* BYE [UNAVAILABLE] too many connections, try again later\r\n".into()
    }

    fn tls(&self) -> Tls<'_> {
        Tls {
            acceptor: &self.tls,
            timeout: self.settings.idle_timeout.min(Duration::from_secs(60)),
            cancel: &self.cancel,
        }
    }

    fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    async fn plain(
        self: Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> std::io::Result<Outcome<TcpStream>> {
        Session::new(stream, self, peer, false).run(true).await
    }

    async fn secure(
        self: Arc<Self>,
        stream: TlsStream<TcpStream>,
        peer: SocketAddr,
        greet: bool,
    ) -> std::io::Result<()> {
        Session::new(stream, self, peer, true)
            .run(greet)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests;
