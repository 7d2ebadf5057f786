//! WAL checkpoints on their own thread. SQLite would otherwise run them inside
//! the writer's commits, stalling every session waiting for its 250 while the
//! WAL is copied into the database and synced; here they run beside the
//! writer, which WAL mode allows.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::Error;

/// How long commits may pile up before a checkpoint copies them.
const PAUSE: Duration = Duration::from_millis(100);

/// Starts the checkpoint thread; each `()` sent means "the WAL grew".
pub(crate) fn spawn(path: &Path) -> Result<(SyncSender<()>, JoinHandle<()>), Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let (wake, commits) = std::sync::mpsc::sync_channel(1);
    let handle = std::thread::Builder::new()
        .name("mailsink-checkpoint".into())
        .spawn(move || run(&conn, &commits))
        .map_err(|e| Error::Thread(std::sync::Arc::new(e)))?;
    Ok((wake, handle))
}

fn run(conn: &Connection, commits: &Receiver<()>) {
    while commits.recv().is_ok() {
        std::thread::sleep(PAUSE);
        let closing = matches!(commits.try_recv(), Err(TryRecvError::Disconnected));
        // PASSIVE never waits for readers or the writer; what it cannot copy
        // now is copied next time.
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(%error, "WAL checkpoint failed");
        }
        if closing {
            return;
        }
    }
}
