//! One mail protocol's service: the listeners of SMTP, POP3 and IMAP differ
//! only in their sessions, their refusal line and their limits, which each
//! protocol's context gives through [`Protocol`]; accepting, the connection
//! cap and the TLS upgrade are the same code for all three.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::starttls::{self, Outcome, Tls};

/// What every session of a protocol shares, and how one session runs.
pub(crate) trait Protocol: Send + Sync + 'static {
    /// Most sessions at once; past it clients get [`refusal`](Self::refusal).
    fn max_connections(&self) -> usize;
    /// The line a client gets when every slot is taken.
    fn refusal(&self) -> Arc<str>;
    fn tls(&self) -> Tls<'_>;
    fn cancel(&self) -> &CancellationToken;
    /// A session on the raw stream, which it greets; it may hand the stream
    /// back for a TLS upgrade.
    fn plain(
        self: Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = io::Result<Outcome<TcpStream>>> + Send;
    /// A session on a TLS stream; `greet` is false after an upgrade.
    fn secure(
        self: Arc<Self>,
        stream: TlsStream<TcpStream>,
        peer: SocketAddr,
        greet: bool,
    ) -> impl Future<Output = io::Result<()>> + Send;
}

/// A protocol's service: one or two bound listeners sharing one connection cap.
pub(crate) struct Service<P> {
    ctx: Arc<P>,
    slots: Arc<Semaphore>,
}

impl<P: Protocol> Service<P> {
    pub(crate) fn new(ctx: P) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(ctx.max_connections())),
            ctx: Arc::new(ctx),
        }
    }

    /// Accepts connections on `listener` until shutdown; sessions are spawned
    /// on `tracker` so shutdown can wait for them.
    pub(crate) async fn serve(
        &self,
        listener: TcpListener,
        implicit_tls: bool,
        tracker: TaskTracker,
    ) {
        super::accept(
            listener,
            self.ctx.cancel(),
            &tracker,
            &self.slots,
            self.ctx.refusal(),
            |stream, peer| handle(stream, peer, Arc::clone(&self.ctx), implicit_tls),
        )
        .await;
    }
}

async fn handle<P: Protocol>(stream: TcpStream, peer: SocketAddr, ctx: Arc<P>, implicit_tls: bool) {
    let secure_ctx = Arc::clone(&ctx);
    starttls::serve(
        stream,
        peer,
        implicit_tls,
        ctx.tls(),
        |stream| Arc::clone(&ctx).plain(stream, peer),
        move |stream, greet| secure_ctx.secure(stream, peer, greet),
    )
    .await;
}
