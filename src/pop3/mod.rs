//! The POP3 listener: serves each login its mailbox (SPEC §3 and §5), in
//! plaintext with STLS or with implicit TLS (POP3S).

mod command;
mod maildrop;
mod session;

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

pub use command::{Command, ParseError};

/// POP3's identity and limits, from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hostname: String,
    pub credentials: Credentials,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// What every session shares.
pub(crate) struct Context {
    pub(crate) settings: Settings,
    pub(crate) store: Store,
    pub(crate) tls: TlsAcceptor,
    pub(crate) cancel: CancellationToken,
}

/// The POP3 service: its listeners, sharing one connection cap.
pub(crate) type Server = crate::net::Service<Context>;

impl crate::net::Protocol for Context {
    fn max_connections(&self) -> usize {
        self.settings.max_connections
    }

    fn refusal(&self) -> Arc<str> {
        "-ERR [SYS/TEMP] too many connections, try again later\r\n".into()
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
