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

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Credentials;
use crate::net::starttls::{self, Tls};
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

/// The IMAP service: one or two bound listeners sharing one connection cap.
pub struct Server {
    ctx: Arc<Context>,
    slots: Arc<Semaphore>,
}

impl Server {
    pub fn new(
        settings: Settings,
        store: Store,
        tls: TlsAcceptor,
        cancel: CancellationToken,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(settings.max_connections));
        Self {
            ctx: Arc::new(Context {
                settings,
                store,
                tls,
                cancel,
            }),
            slots,
        }
    }

    /// Accepts connections until shutdown, spawning sessions on `tracker`.
    pub async fn serve(&self, listener: TcpListener, implicit_tls: bool, tracker: TaskTracker) {
        let refusal: Arc<str> =
            "* BYE [UNAVAILABLE] too many connections, try again later\r\n".into();
        crate::net::accept(
            listener,
            &self.ctx.cancel,
            &tracker,
            &self.slots,
            refusal,
            |stream, peer| handle(stream, peer, Arc::clone(&self.ctx), implicit_tls),
        )
        .await;
    }
}

async fn handle(stream: TcpStream, peer: SocketAddr, ctx: Arc<Context>, implicit_tls: bool) {
    let secure_ctx = Arc::clone(&ctx);
    let tls = Tls {
        acceptor: &ctx.tls,
        timeout: ctx.settings.idle_timeout.min(Duration::from_secs(60)),
        cancel: &ctx.cancel,
    };
    starttls::serve(
        stream,
        peer,
        implicit_tls,
        tls,
        |stream| Session::new(stream, Arc::clone(&ctx), peer, false).run(true),
        move |stream, greet| async move {
            Session::new(stream, secure_ctx, peer, true)
                .run(greet)
                .await
                .map(|_| ())
        },
    )
    .await;
}

#[cfg(test)]
mod tests;
