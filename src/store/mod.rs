//! The message store: SQLite in WAL mode, the only place SQL appears.
//!
//! One writer thread owns the read-write connection and commits in groups
//! ([`writer`]); a pool of read-only connections serves every read
//! ([`readers`]). After each commit the writer broadcasts [`StoreEvent`]s, which
//! the live views (web events, IMAP IDLE, API waiters) subscribe to.

mod changes;
mod checkpoint;
mod imap;
mod imap_reads;
mod index;
mod keyset;
pub mod mailboxes;
mod model;
mod queries;
mod readers;
pub mod retention;
mod schema;
pub mod search;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{broadcast, mpsc, oneshot};

pub use changes::Target;
pub use keyset::{Cursor, Window};
pub use model::{
    Envelope, InvalidId, MaildropEntry, MessageId, MessageMeta, NewMessage, Owner, Recipient,
    served_size,
};
pub use queries::{Filter, Page, Totals};
pub use retention::Retention;
pub use search::{Query, SearchError};

use crate::config::DbSync;
use readers::Readers;
use writer::{Job, Writer};

/// Jobs waiting for the writer before senders feel back-pressure.
const WRITER_QUEUE: usize = 1024;
/// Events kept for slow subscribers before they lag.
const EVENT_BUFFER: usize = 4096;
/// Read-only connections in the pool.
const READERS: usize = 8;

/// What went wrong in the store.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlite(Arc<rusqlite::Error>),
    #[error("cannot prepare the database: {0}")]
    Migration(Arc<rusqlite_migration::Error>),
    #[error("cannot create the temporary database directory: {0}")]
    TempDir(Arc<std::io::Error>),
    #[error("cannot start a store thread: {0}")]
    Thread(Arc<std::io::Error>),
    #[error("the store is shut down")]
    Closed,
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(e))
    }
}

/// A change committed to the store, broadcast after COMMIT.
#[derive(Debug, Clone)]
pub enum StoreEvent {
    Inserted(Arc<MessageMeta>),
    Deleted(Vec<MessageId>),
    /// Every message was deleted.
    Cleared,
    ReadChanged {
        ids: Vec<MessageId>,
        read: bool,
    },
    /// These messages now carry exactly these tags.
    TagsChanged {
        ids: Vec<MessageId>,
        tags: Vec<String>,
    },
    /// Many messages changed at once (a tag renamed or deleted): views reload.
    Changed,
    /// An IMAP owner's folders, flags or copies changed ('' is the catch-all).
    MailboxChanged {
        owner: String,
    },
}

/// A handle to the store; cheap to clone. The database closes when the last
/// handle is dropped (a temporary database is then removed).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: Option<mpsc::Sender<Job>>,
    /// The writer, then the checkpointer: joined in that order.
    threads: Mutex<Vec<JoinHandle<()>>>,
    readers: Readers,
    events: broadcast::Sender<StoreEvent>,
    /// Set by the writer while stored messages wait to be indexed.
    unindexed: Arc<AtomicBool>,
    /// Messages deleted since start-up.
    deleted: Arc<AtomicU64>,
    path: PathBuf,
    // Declared last: removed only after the connections above are closed.
    _temp: Option<tempfile::TempDir>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer after its current group; wait for it
        // so the database is closed cleanly before the files go away.
        self.jobs.take();
        if let Ok(mut threads) = self.threads.lock() {
            for handle in threads.drain(..) {
                let _ = handle.join();
            }
        }
    }
}

impl Store {
    /// Opens (creating and migrating as needed) the database at `path`, or a
    /// temporary one that is removed when the store closes.
    pub fn open(path: Option<&Path>, sync: DbSync) -> Result<Self, Error> {
        let (path, temp) = match path {
            Some(path) => (path.to_owned(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("mailsink-")
                    .tempdir()
                    .map_err(|e| Error::TempDir(Arc::new(e)))?;
                (dir.path().join("mailsink.db"), Some(dir))
            }
        };
        let mut conn = schema::open_writer(&path, sync)?;
        let reindexed = index::catch_up(&mut conn)?;
        changes::fold_totals(&conn)?;
        if reindexed > 0 {
            tracing::info!(
                messages = reindexed,
                "indexed messages the last run left unindexed"
            );
        }
        let (checkpoints, checkpointer) = checkpoint::spawn(&path)?;
        let (jobs, queue) = mpsc::channel(WRITER_QUEUE);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let unindexed = Arc::new(AtomicBool::new(false));
        let deleted = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            conn,
            events: events.clone(),
            checkpoints,
            unindexed: Arc::clone(&unindexed),
            deleted: Arc::clone(&deleted),
            pending: index::Pending::default(),
        };
        let writer = std::thread::Builder::new()
            .name("mailsink-writer".into())
            .spawn(move || writer.run(queue))
            .map_err(|e| Error::Thread(Arc::new(e)))?;
        Ok(Self {
            inner: Arc::new(Inner {
                jobs: Some(jobs),
                threads: Mutex::new(vec![writer, checkpointer]),
                readers: Readers::new(path.clone(), READERS),
                events,
                unindexed,
                deleted,
                path,
                _temp: temp,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Subscribes to the changes committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<StoreEvent> {
        self.inner.events.subscribe()
    }

    /// Commits a message; returns once it is durable.
    pub async fn insert(&self, message: NewMessage) -> Result<Arc<MessageMeta>, Error> {
        self.submit(|reply| Job::Insert(Box::new(message), reply))
            .await
    }

    /// Deletes messages; returns how many there were.
    pub async fn delete(&self, target: Target) -> Result<usize, Error> {
        self.submit(|reply| Job::Delete(target, reply)).await
    }

    /// Marks messages read or unread; returns how many changed.
    pub async fn set_read(&self, target: Target, read: bool) -> Result<usize, Error> {
        self.submit(|reply| Job::SetRead(target, read, reply)).await
    }

    /// An owner's mailbox (SPEC §3), oldest first: every message for the
    /// catch-all, the mail delivered to an address for an address owner.
    pub async fn maildrop(&self, owner: Owner) -> Result<Vec<MaildropEntry>, Error> {
        self.read(move |conn| queries::maildrop(conn, &owner)).await
    }

    /// Removes messages from an owner's mailbox: for the catch-all that deletes
    /// them; an address owner only stops seeing them. Returns how many went.
    pub async fn remove_from_mailbox(
        &self,
        owner: Owner,
        ids: Vec<MessageId>,
    ) -> Result<usize, Error> {
        match owner {
            Owner::CatchAll => self.delete(Target::Ids(ids)).await,
            Owner::Address(address) => self.submit(|reply| Job::Hide(address, ids, reply)).await,
        }
    }

    /// Replaces the tags of each listed message; returns how many exist.
    pub async fn set_tags(&self, ids: Vec<MessageId>, tags: Vec<String>) -> Result<usize, Error> {
        self.submit(|reply| Job::SetTags(ids, tags, reply)).await
    }

    /// Renames a tag on every message; returns how many carry it now.
    pub async fn rename_tag(&self, from: String, to: String) -> Result<usize, Error> {
        self.submit(|reply| Job::RenameTag(from, to, reply)).await
    }

    /// Removes a tag from every message; returns how many carried it.
    pub async fn delete_tag(&self, name: String) -> Result<usize, Error> {
        self.submit(|reply| Job::DeleteTag(name, reply)).await
    }

    /// Removes one chunk of messages beyond the retention limits; returns how many.
    pub async fn prune(&self, retention: Retention) -> Result<usize, Error> {
        self.submit(|reply| Job::Prune(retention, reply)).await
    }

    /// Makes every message stored so far searchable. Cheap when the index is
    /// already complete; otherwise the writer indexes what is pending first.
    pub async fn sync_index(&self) -> Result<(), Error> {
        if self.inner.unindexed.load(Ordering::Acquire) {
            self.submit(Job::SyncIndex).await?;
        }
        Ok(())
    }

    /// A page of the messages matching `filter`, newest first, with counts.
    pub async fn page(&self, filter: Filter) -> Result<Page, Error> {
        if filter.query.is_some() {
            self.sync_index().await?;
        }
        self.read(move |conn| queries::page(conn, &filter)).await
    }

    /// The keyset page of `filter` next to `cursor` (the newest page without
    /// one; `filter.offset` is ignored): as fast at the millionth message as
    /// at the first. None when the cursor's message no longer exists.
    pub async fn window(
        &self,
        filter: Filter,
        cursor: Option<Cursor>,
    ) -> Result<Option<Window>, Error> {
        if filter.query.is_some() {
            self.sync_index().await?;
        }
        self.read(move |conn| keyset::window(conn, &filter, cursor.as_ref()))
            .await
    }

    /// Messages newest first (a shorthand for [`Store::page`] without a filter).
    pub async fn list(&self, offset: u64, limit: u64) -> Result<Vec<MessageMeta>, Error> {
        let filter = Filter {
            offset,
            limit: Some(limit),
            ..Filter::default()
        };
        Ok(self.page(filter).await?.messages)
    }

    /// The newest message, or the newest matching `query`.
    pub async fn latest(&self, query: Option<Query>) -> Result<Option<MessageMeta>, Error> {
        if query.is_some() {
            self.sync_index().await?;
        }
        self.read(move |conn| queries::latest(conn, query.as_ref()))
            .await
    }

    /// Messages and unread messages in the whole store.
    pub async fn totals(&self) -> Result<Totals, Error> {
        self.read(queries::totals).await
    }

    /// Every tag in use with the number of messages carrying it, by name.
    pub async fn tags(&self) -> Result<Vec<(String, u64)>, Error> {
        self.read(queries::tags).await
    }

    /// The names of the tags in use, sorted.
    pub async fn tag_names(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .tags()
            .await?
            .into_iter()
            .map(|(name, _)| name)
            .collect())
    }

    /// The database file's size in bytes.
    pub async fn database_size(&self) -> Result<u64, Error> {
        self.read(queries::database_size).await
    }

    /// One message's metadata.
    pub async fn get(&self, id: &MessageId) -> Result<Option<MessageMeta>, Error> {
        let id = id.clone();
        self.read(move |conn| queries::get(conn, &id)).await
    }

    /// One message's bytes as stored (trace headers, then the client's bytes).
    pub async fn raw(&self, id: &MessageId) -> Result<Option<Vec<u8>>, Error> {
        let id = id.clone();
        self.read(move |conn| queries::raw(conn, &id)).await
    }

    /// How many messages were deleted since the store opened.
    pub fn deleted(&self) -> u64 {
        self.inner.deleted.load(Ordering::Relaxed)
    }

    /// How many messages are stored.
    pub async fn count(&self) -> Result<u64, Error> {
        Ok(self.totals().await?.messages)
    }

    async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, Error> + Send + 'static,
    {
        self.inner.readers.run(f).await
    }

    async fn submit<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, Error>>) -> Job,
    ) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        let jobs = self.inner.jobs.as_ref().ok_or(Error::Closed)?;
        jobs.send(job(reply)).await.map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    /// Closes the store once every other handle is gone, waiting for the writer
    /// to finish its last group. Blocking work runs off the async threads.
    pub async fn close(self) {
        let _ = tokio::task::spawn_blocking(move || drop(self)).await;
    }
}
