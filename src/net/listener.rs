//! The accept loop every mail listener runs: a cap on concurrent sessions
//! (past it a connection gets a refusal line and is closed, so a storm of
//! clients cannot exhaust the server), backoff when accepting fails, and
//! shutdown on the cancellation token.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Accepts connections until `cancel` fires, running `handle` for each on
/// `tracker` while a slot is free, and writing `refusal` to the others.
pub(crate) async fn accept<F, Fut>(
    listener: TcpListener,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
    slots: &Arc<Semaphore>,
    refusal: Arc<str>,
    handle: F,
) where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => {
                backoff = Duration::from_millis(10);
                pair
            }
            Err(error) => {
                // Out of file descriptors and the like: wait, then go on.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match Arc::clone(slots).try_acquire_owned() {
            Ok(slot) => {
                let session = handle(stream, peer);
                tracker.spawn(async move {
                    session.await;
                    drop(slot);
                });
            }
            Err(_) => {
                let refusal = Arc::clone(&refusal);
                tracker.spawn(async move {
                    let mut stream = stream;
                    let _ = stream.write_all(refusal.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        }
    }
}
