//! The SMTP listener: accepts connections up to the configured cap and runs a
//! [`session`] for each, in plaintext (with STARTTLS) or implicit TLS.

mod conn;
mod session;
pub(crate) mod trace;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::auth::Credentials;
use crate::net::starttls::{Outcome, Tls};
use crate::stats::Stats;
use crate::store::Store;
use session::Session;

/// The SMTP limits and identity, from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hostname: String,
    pub credentials: Credentials,
    pub max_message_size: usize,
    pub max_recipients: usize,
    pub max_line_length: usize,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// What every session shares.
pub(crate) struct Context {
    pub(crate) settings: Settings,
    pub(crate) store: Store,
    pub(crate) stats: Arc<Stats>,
    pub(crate) tls: TlsAcceptor,
    pub(crate) cancel: CancellationToken,
}

/// The SMTP service: its listeners, sharing one connection cap.
pub(crate) type Server = crate::net::Service<Context>;

impl crate::net::Protocol for Context {
    fn max_connections(&self) -> usize {
        self.settings.max_connections
    }

    fn refusal(&self) -> Arc<str> {
        format!(
            "421 4.7.0 {} Error: too many connections, try again later\r\n",
            self.settings.hostname
        )
        .into()
    }

    fn tls(&self) -> Tls<'_> {
        Tls {
            acceptor: &self.tls,
            timeout: self.settings.idle_timeout,
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
