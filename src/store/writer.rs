//! The one writer: a thread that owns the read-write connection and applies
//! jobs in groups, one transaction per group, so that many sessions share the
//! cost of a commit. Each job runs in its own savepoint, so one failing job
//! does not undo its neighbours. Replies go out only after COMMIT returns:
//! that is what lets SMTP answer 250 only for durable messages. Between
//! groups the writer fills the full-text index ([`index`](super::index)).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use rusqlite::{Connection, Transaction, params};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::index::{self, Pending};
use super::model::{MessageId, MessageMeta, NewMessage};
use super::{Error, Retention, StoreEvent};

/// Most jobs committed together; bounds the latency one group adds to the next.
const MAX_GROUP: usize = 256;
/// Most message bytes committed together.
const MAX_GROUP_BYTES: usize = 64 << 20;
/// How long the writer waits for more work before indexing what is pending.
const INDEX_IDLE: Duration = Duration::from_millis(50);
/// Most messages one prune job removes, so ingestion never waits long behind it.
pub(crate) const PRUNE_CHUNK: usize = 500;

type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// A change for the writer to make.
pub(crate) enum Job {
    Insert(Box<NewMessage>, Reply<Arc<MessageMeta>>),
    Delete(Vec<MessageId>, Reply<usize>),
    DeleteAll(Reply<usize>),
    SetRead(Vec<MessageId>, bool, Reply<usize>),
    Prune(Retention, Reply<usize>),
    /// Index every stored message before answering (a search is about to run).
    SyncIndex(Reply<usize>),
}

impl Job {
    fn size(&self) -> usize {
        match self {
            Job::Insert(message, _) => message.data.len(),
            _ => 0,
        }
    }

    fn fail(self, error: &Error) {
        match self {
            Job::Insert(_, reply) => drop(reply.send(Err(error.clone()))),
            Job::Delete(_, reply)
            | Job::DeleteAll(reply)
            | Job::SetRead(_, _, reply)
            | Job::Prune(_, reply)
            | Job::SyncIndex(reply) => drop(reply.send(Err(error.clone()))),
        }
    }
}

/// A job's outcome, held until the group commits.
enum Done {
    Inserted(Reply<Arc<MessageMeta>>, Result<Arc<MessageMeta>, Error>),
    Counted(Reply<usize>, Result<usize, Error>, Option<StoreEvent>),
}

impl Done {
    fn error(&self) -> Option<Error> {
        match self {
            Done::Inserted(_, Err(e)) | Done::Counted(_, Err(e), _) => Some(e.clone()),
            _ => None,
        }
    }

    fn fail(self, error: &Error) {
        match self {
            Done::Inserted(reply, _) => drop(reply.send(Err(error.clone()))),
            Done::Counted(reply, _, _) => drop(reply.send(Err(error.clone()))),
        }
    }
}

/// The writer thread's state.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) events: broadcast::Sender<StoreEvent>,
    /// Wakes the checkpoint thread after commits.
    pub(crate) checkpoints: SyncSender<()>,
    /// True while some stored message is not yet in the index.
    pub(crate) unindexed: Arc<AtomicBool>,
    pub(crate) pending: Pending,
}

impl Writer {
    /// Runs until every sender is dropped, then indexes what is left and returns.
    pub(crate) fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        // Only a timer is needed here: waiting for a job with a deadline.
        let timer = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(timer) => timer,
            Err(error) => {
                tracing::error!(%error, "the writer cannot start a timer");
                return;
            }
        };
        loop {
            let first = if self.pending.is_empty() {
                jobs.blocking_recv()
            } else {
                // Index once the writer has been idle a moment, so a steady
                // trickle of mail still gets one index write per batch.
                let wait = self.pending.wait_budget(INDEX_IDLE);
                let next = async { tokio::time::timeout(wait, jobs.recv()).await };
                match timer.block_on(next) {
                    Ok(job) => job,
                    Err(_) => {
                        self.index_pending();
                        continue;
                    }
                }
            };
            let Some(first) = first else { break };
            let mut bytes = first.size();
            let mut group = vec![first];
            while group.len() < MAX_GROUP && bytes < MAX_GROUP_BYTES {
                match jobs.try_recv() {
                    Ok(job) => {
                        bytes += job.size();
                        group.push(job);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(group);
            if self.pending.is_due() {
                self.index_pending();
            }
        }
        self.index_pending();
    }

    /// Writes the pending index rows in their own transaction.
    fn index_pending(&mut self) {
        let result = self.conn.transaction().map_err(Error::from).and_then(|tx| {
            self.pending.write(&tx)?;
            tx.commit().map_err(Error::from)
        });
        match result {
            Ok(()) => self.indexed(),
            Err(error) => self.recover_index(&error),
        }
    }

    fn indexed(&mut self) {
        self.pending.clear();
        self.unindexed.store(false, Ordering::Release);
        let _ = self.checkpoints.try_send(());
    }

    /// After a failed transaction the pending list may not match the table:
    /// forget it and index again from the high-water mark.
    fn recover_index(&mut self, error: &Error) {
        tracing::warn!(%error, "re-indexing from the stored messages");
        self.pending.clear();
        match index::catch_up(&mut self.conn) {
            Ok(_) => self.unindexed.store(false, Ordering::Release),
            Err(error) => tracing::error!(%error, "re-indexing failed"),
        }
    }

    fn commit_group(&mut self, group: Vec<Job>) {
        let tx = match self.conn.transaction() {
            Ok(tx) => tx,
            Err(e) => {
                let error = Error::from(e);
                return group.into_iter().for_each(|job| job.fail(&error));
            }
        };
        let mut done = Vec::with_capacity(group.len());
        let mut synced = false;
        for job in group {
            synced |= matches!(job, Job::SyncIndex(_));
            done.push(apply(&tx, job, &mut self.pending));
        }
        // Indexed last, so the group's own new messages are searchable too.
        let indexing = if synced {
            self.pending.write(&tx)
        } else {
            Ok(())
        };
        if let Err(e) = indexing.and_then(|()| tx.commit().map_err(Error::from)) {
            let error = e;
            tracing::error!(%error, "commit failed; the group is answered with the error");
            done.into_iter().for_each(|outcome| outcome.fail(&error));
            self.recover_index(&error);
            return;
        }
        if let Some(error) = done.iter().find_map(Done::error) {
            // A job rolled back to its savepoint; its effect on the pending
            // list may not have been undone.
            self.recover_index(&error);
        }
        if synced {
            self.indexed();
        } else if !self.pending.is_empty() {
            // Set before any 250 goes out, so a search that follows it syncs.
            self.unindexed.store(true, Ordering::Release);
        }
        let _ = self.checkpoints.try_send(());
        // Only now is every change durable: answer, then tell the listeners.
        for outcome in done {
            match outcome {
                Done::Inserted(reply, result) => {
                    if let Ok(meta) = &result {
                        let _ = self.events.send(StoreEvent::Inserted(Arc::clone(meta)));
                    }
                    let _ = reply.send(result);
                }
                Done::Counted(reply, result, event) => {
                    if let (Ok(n), Some(event)) = (&result, event)
                        && *n > 0
                    {
                        let _ = self.events.send(event);
                    }
                    let _ = reply.send(result);
                }
            }
        }
    }
}

fn apply(tx: &Transaction<'_>, job: Job, pending: &mut Pending) -> Done {
    match job {
        Job::Insert(message, reply) => {
            let result = in_savepoint(tx, |sp| insert(sp, *message, pending)).map(Arc::new);
            Done::Inserted(reply, result)
        }
        Job::Delete(ids, reply) => {
            let result = in_savepoint(tx, |sp| delete(sp, &ids, pending));
            let event = result
                .as_ref()
                .ok()
                .map(|_| StoreEvent::Deleted(ids.clone()));
            Done::Counted(reply, result, event)
        }
        Job::DeleteAll(reply) => {
            let result = in_savepoint(tx, |sp| delete_all(sp, pending));
            Done::Counted(reply, result, Some(StoreEvent::Cleared))
        }
        Job::SetRead(ids, read, reply) => {
            let result = in_savepoint(tx, |sp| set_read(sp, &ids, read));
            Done::Counted(reply, result, Some(StoreEvent::ReadChanged { ids, read }))
        }
        Job::Prune(retention, reply) => {
            let mut pruned = Vec::new();
            let result = in_savepoint(tx, |sp| {
                pruned = prune(sp, &retention, pending)?;
                Ok(pruned.len())
            });
            Done::Counted(reply, result, Some(StoreEvent::Deleted(pruned)))
        }
        // The group writes the index after its last job (see `commit_group`).
        Job::SyncIndex(reply) => Done::Counted(reply, Ok(0), None),
    }
}

fn in_savepoint<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    // `Transaction` derefs to the connection; a savepoint scopes one job's changes.
    tx.execute_batch("SAVEPOINT job")?;
    match f(tx) {
        Ok(value) => {
            tx.execute_batch("RELEASE job")?;
            Ok(value)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(e)
        }
    }
}

fn insert(
    conn: &Connection,
    message: NewMessage,
    pending: &mut Pending,
) -> Result<MessageMeta, Error> {
    let env = &message.envelope;
    let summary = &message.summary;
    let columns = &message.columns;
    let size = message.data.len() as u64;
    conn.prepare_cached(
        "INSERT INTO messages (public_id, received_at, size, mail_from, rcpt_to, helo,
             client_addr, auth_user, tls, dsn_ret, dsn_envid, subject, from_addr, to_addrs,
             cc_addrs, bcc_addrs, reply_to_addrs, sent_at, message_id, attachments, snippet, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20, ?21, ?22)",
    )?
    .execute(params![
        message.id.as_str(),
        message.received_at.timestamp_millis(),
        size,
        env.mail_from,
        columns.rcpt_to,
        env.helo,
        env.client_addr,
        env.auth_user,
        env.tls,
        env.dsn_ret,
        env.dsn_envid,
        summary.subject,
        columns.from,
        columns.to,
        columns.cc,
        columns.bcc,
        columns.reply_to,
        summary.sent_at,
        summary.message_id,
        summary.attachments,
        summary.snippet,
        message.data,
    ])?;
    let rowid = conn.last_insert_rowid();
    let NewMessage {
        id,
        received_at,
        envelope,
        summary,
        columns,
        ..
    } = message;
    pending.push(index::Row {
        rowid,
        subject: summary.subject.clone(),
        addresses: columns.addresses_text,
        body: columns.body_text,
    });
    Ok(MessageMeta {
        id,
        received_at,
        size,
        read: false,
        envelope,
        summary,
    })
}

fn delete_rows(conn: &Connection, rowids: &[i64], pending: &mut Pending) -> Result<usize, Error> {
    let mut drop_row = conn.prepare_cached("DELETE FROM messages WHERE id = ?1")?;
    let mut n = 0;
    for &rowid in rowids {
        if !pending.forget(rowid) {
            index::remove(conn, rowid)?;
        }
        n += drop_row.execute([rowid])?;
    }
    Ok(n)
}

fn delete(conn: &Connection, ids: &[MessageId], pending: &mut Pending) -> Result<usize, Error> {
    let mut find = conn.prepare_cached("SELECT id FROM messages WHERE public_id = ?1")?;
    let mut rowids = Vec::with_capacity(ids.len());
    for id in ids {
        match find.query_row([id.as_str()], |row| row.get(0)) {
            Ok(rowid) => rowids.push(rowid),
            Err(rusqlite::Error::QueryReturnedNoRows) => {}
            Err(e) => return Err(e.into()),
        }
    }
    delete_rows(conn, &rowids, pending)
}

fn delete_all(conn: &Connection, pending: &mut Pending) -> Result<usize, Error> {
    pending.clear();
    conn.execute("DELETE FROM search", [])?;
    Ok(conn.execute("DELETE FROM messages", [])?)
}

fn set_read(conn: &Connection, ids: &[MessageId], read: bool) -> Result<usize, Error> {
    let mut update = conn.prepare_cached(
        "UPDATE messages SET is_read = ?2 WHERE public_id = ?1 AND is_read != ?2",
    )?;
    let mut n = 0;
    for id in ids {
        n += update.execute(params![id.as_str(), read])?;
    }
    Ok(n)
}

/// Removes up to [`PRUNE_CHUNK`] messages beyond the retention limits, oldest first.
fn prune(
    conn: &Connection,
    retention: &Retention,
    pending: &mut Pending,
) -> Result<Vec<MessageId>, Error> {
    let mut victims: Vec<(i64, String)> = Vec::new();
    if let Some(max_age) = retention.max_age {
        let cutoff = chrono::Utc::now() - max_age;
        let mut old = conn.prepare_cached(
            // Arrival order is receive-time order (to within the time a DATA
            // takes), so the oldest rows by id are the candidates: no index needed.
            "SELECT id, public_id FROM (
                 SELECT id, public_id, received_at FROM messages ORDER BY id LIMIT ?2
             ) WHERE received_at < ?1",
        )?;
        let rows = old.query_map(params![cutoff.timestamp_millis(), PRUNE_CHUNK], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        victims = rows.collect::<Result<_, _>>()?;
    }
    if let Some(max) = retention.max_messages
        && victims.len() < PRUNE_CHUNK
    {
        // The newest `max` survive; take the oldest of the rest not already chosen.
        let mut excess = conn.prepare_cached(
            "SELECT id, public_id FROM messages WHERE id < (
                 SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET ?1 - 1
             ) ORDER BY id LIMIT ?2",
        )?;
        let rows = excess.query_map(params![max, PRUNE_CHUNK], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        for row in rows {
            let row: (i64, String) = row?;
            if victims.len() >= PRUNE_CHUNK {
                break;
            }
            if !victims.iter().any(|(id, _)| *id == row.0) {
                victims.push(row);
            }
        }
    }
    let rowids: Vec<i64> = victims.iter().map(|(id, _)| *id).collect();
    delete_rows(conn, &rowids, pending)?;
    Ok(victims
        .into_iter()
        .map(|(_, public)| public.parse().expect("stored IDs are valid"))
        .collect())
}
