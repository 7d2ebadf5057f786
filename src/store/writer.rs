//! The one writer: a thread that owns the read-write connection and applies
//! jobs in groups, one transaction per group, so that many sessions share the
//! cost of a commit. Each job runs in its own savepoint, so one failing job
//! does not undo its neighbours. Replies go out only after COMMIT returns:
//! that is what lets SMTP answer 250 only for durable messages. Between
//! groups the writer fills the full-text index ([`index`](super::index)).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use rusqlite::{Connection, Transaction};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::changes::{self, Target};
use super::imap;
use super::index::{self, Pending};
use super::model::{MessageId, MessageMeta, NewMessage};
use super::{Error, Retention, StoreEvent};

/// Most jobs committed together; bounds the latency one group adds to the next.
const MAX_GROUP: usize = 256;
/// Most message bytes committed together.
const MAX_GROUP_BYTES: usize = 64 << 20;
/// How long the writer waits for more work before indexing what is pending.
const INDEX_IDLE: Duration = Duration::from_millis(50);

type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// A change for the writer to make.
pub(crate) enum Job {
    Insert(Box<NewMessage>, Reply<Arc<MessageMeta>>),
    Delete(Target, Reply<usize>),
    SetRead(Target, bool, Reply<usize>),
    /// Remove messages from one address owner's mailbox only.
    Hide(String, Vec<MessageId>, Reply<usize>),
    /// Replace the tags of these messages.
    SetTags(Vec<MessageId>, Vec<String>, Reply<usize>),
    RenameTag(String, String, Reply<usize>),
    DeleteTag(String, Reply<usize>),
    Prune(Retention, Reply<usize>),
    /// Index every stored message before answering (a search is about to run).
    SyncIndex(Reply<usize>),
    /// A change to an owner's IMAP folders, flags or copies.
    Imap(String, imap::Change, Reply<imap::Outcome>),
}

impl Job {
    fn size(&self) -> usize {
        match self {
            Job::Insert(message, _) => message.data.len(),
            _ => 0,
        }
    }

    /// Whether the job searches, and so needs every stored message indexed first.
    fn searches(&self) -> bool {
        matches!(
            self,
            Job::SyncIndex(_)
                | Job::Delete(Target::Matching(_), _)
                | Job::SetRead(Target::Matching(_), _, _)
        )
    }

    fn fail(self, error: &Error) {
        match self {
            Job::Insert(_, reply) => drop(reply.send(Err(error.clone()))),
            Job::Delete(_, reply)
            | Job::SetRead(_, _, reply)
            | Job::Hide(_, _, reply)
            | Job::SetTags(_, _, reply)
            | Job::RenameTag(_, _, reply)
            | Job::DeleteTag(_, reply)
            | Job::Prune(_, reply)
            | Job::SyncIndex(reply) => drop(reply.send(Err(error.clone()))),
            Job::Imap(_, _, reply) => drop(reply.send(Err(error.clone()))),
        }
    }
}

/// A job's outcome, held until the group commits.
enum Done {
    Inserted(Reply<Arc<MessageMeta>>, Result<Arc<MessageMeta>, Error>),
    Counted(Reply<usize>, Result<usize, Error>, Option<StoreEvent>),
    Imap(
        Reply<imap::Outcome>,
        Result<imap::Outcome, Error>,
        Vec<StoreEvent>,
    ),
}

impl Done {
    fn error(&self) -> Option<Error> {
        match self {
            Done::Inserted(_, Err(e)) | Done::Counted(_, Err(e), _) | Done::Imap(_, Err(e), _) => {
                Some(e.clone())
            }
            _ => None,
        }
    }

    fn fail(self, error: &Error) {
        match self {
            Done::Inserted(reply, _) => drop(reply.send(Err(error.clone()))),
            Done::Counted(reply, _, _) => drop(reply.send(Err(error.clone()))),
            Done::Imap(reply, _, _) => drop(reply.send(Err(error.clone()))),
        }
    }

    /// A change that touched `ids`, announced with `event` when any were touched.
    fn changed(
        reply: Reply<usize>,
        result: Result<Vec<MessageId>, Error>,
        event: impl FnOnce(Vec<MessageId>) -> StoreEvent,
    ) -> Self {
        match result {
            Ok(ids) if ids.is_empty() => Done::Counted(reply, Ok(0), None),
            Ok(ids) => Done::Counted(reply, Ok(ids.len()), Some(event(ids))),
            Err(e) => Done::Counted(reply, Err(e), None),
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
    /// Messages deleted since the store opened.
    pub(crate) deleted: Arc<AtomicU64>,
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

    /// Writes the pending index rows and folds the counts, in their own transaction.
    fn index_pending(&mut self) {
        let result = self.conn.transaction().map_err(Error::from).and_then(|tx| {
            catch_up(&mut self.pending, &tx)?;
            tx.commit().map_err(Error::from)
        });
        match result {
            Ok(()) => {
                self.unindexed.store(false, Ordering::Release);
                let _ = self.checkpoints.try_send(());
            }
            Err(error) => self.recover_index(&error),
        }
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
        let mut index_error = None;
        for job in group {
            // Searches see every message stored before them, this group's too.
            if job.searches()
                && let Err(error) = catch_up(&mut self.pending, &tx)
            {
                job.fail(&error);
                index_error = Some(error);
                continue;
            }
            done.push(apply(&tx, job, &mut self.pending));
        }
        if let Err(e) = tx.commit() {
            let error = Error::from(e);
            tracing::error!(%error, "commit failed; the group is answered with the error");
            done.into_iter().for_each(|outcome| outcome.fail(&error));
            self.recover_index(&error);
            return;
        }
        if let Some(error) = index_error.or_else(|| done.iter().find_map(Done::error)) {
            // A job rolled back to its savepoint (or indexing failed); the
            // pending list may not match the tables any more.
            self.recover_index(&error);
        }
        // Set before any 250 goes out, so a search that follows it syncs.
        self.unindexed
            .store(!self.pending.is_empty(), Ordering::Release);
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
                        if matches!(event, StoreEvent::Deleted(_) | StoreEvent::Cleared) {
                            self.deleted.fetch_add(*n as u64, Ordering::Relaxed);
                        }
                        let _ = self.events.send(event);
                    }
                    let _ = reply.send(result);
                }
                Done::Imap(reply, result, events) => {
                    for event in events {
                        if let StoreEvent::Deleted(ids) = &event {
                            self.deleted.fetch_add(ids.len() as u64, Ordering::Relaxed);
                        }
                        let _ = self.events.send(event);
                    }
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// The bookkeeping kept off each message's commit: writes the pending index
/// rows and folds the new mail into the mailbox counts.
fn catch_up(pending: &mut Pending, tx: &Transaction<'_>) -> Result<(), Error> {
    pending.flush_into(tx)?;
    changes::fold_totals(tx)
}

fn apply(tx: &Transaction<'_>, job: Job, pending: &mut Pending) -> Done {
    match job {
        Job::Insert(message, reply) => {
            let result =
                in_savepoint(tx, |sp| changes::insert(sp, *message, pending)).map(Arc::new);
            Done::Inserted(reply, result)
        }
        Job::Delete(target, reply) => {
            let all = matches!(target, Target::All);
            let result = in_savepoint(tx, |sp| changes::delete(sp, &target, pending));
            Done::changed(reply, result, |ids| {
                if all {
                    StoreEvent::Cleared
                } else {
                    StoreEvent::Deleted(ids)
                }
            })
        }
        Job::SetRead(target, read, reply) => {
            let result = in_savepoint(tx, |sp| changes::set_read(sp, &target, read));
            Done::changed(reply, result, |ids| StoreEvent::ReadChanged { ids, read })
        }
        Job::Hide(owner, ids, reply) => {
            let result = in_savepoint(tx, |sp| changes::hide(sp, &owner, &ids));
            Done::Counted(reply, result, None)
        }
        Job::SetTags(ids, tags, reply) => {
            let result = in_savepoint(tx, |sp| changes::set_tags(sp, &ids, &tags));
            Done::changed(reply, result, |ids| StoreEvent::TagsChanged { ids, tags })
        }
        Job::RenameTag(from, to, reply) => {
            let result = in_savepoint(tx, |sp| changes::rename_tag(sp, &from, &to));
            let event = matches!(result, Ok(n) if n > 0).then_some(StoreEvent::Changed);
            Done::Counted(reply, result, event)
        }
        Job::DeleteTag(name, reply) => {
            let result = in_savepoint(tx, |sp| changes::delete_tag(sp, &name));
            let event = matches!(result, Ok(n) if n > 0).then_some(StoreEvent::Changed);
            Done::Counted(reply, result, event)
        }
        Job::Prune(retention, reply) => {
            let result = in_savepoint(tx, |sp| changes::prune(sp, &retention, pending));
            Done::changed(reply, result, StoreEvent::Deleted)
        }
        Job::Imap(owner, change, reply) => {
            match in_savepoint(tx, |sp| imap::apply(sp, pending, &owner, change)) {
                Ok((outcome, events)) => Done::Imap(reply, Ok(outcome), events),
                Err(e) => Done::Imap(reply, Err(e), Vec::new()),
            }
        }
        // Indexed before it ran (see `commit_group`).
        Job::SyncIndex(reply) => Done::Counted(reply, Ok(0), None),
    }
}

fn in_savepoint<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Connection) -> Result<T, Error>,
) -> Result<T, Error> {
    // `Transaction` derefs to the connection; a savepoint scopes one job's
    // changes. Cached statements: every message passes through here.
    let run = |sql: &str| tx.prepare_cached(sql).and_then(|mut s| s.execute([]));
    run("SAVEPOINT job")?;
    match f(tx) {
        Ok(value) => {
            run("RELEASE job")?;
            Ok(value)
        }
        Err(e) => {
            run("ROLLBACK TO job")?;
            run("RELEASE job")?;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_job_undoes_only_its_own_changes() -> Result<(), Error> {
        let mut conn = Connection::open_in_memory()?;
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")?;
        let tx = conn.transaction()?;
        let insert = |conn: &Connection, v: i64| -> Result<(), Error> {
            conn.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
            Ok(())
        };
        in_savepoint(&tx, |c| insert(c, 1))?;
        // Its first row goes in, its second breaks the constraint.
        let failed = in_savepoint(&tx, |c| insert(c, 2).and_then(|()| insert(c, 1)));
        assert!(matches!(failed, Err(Error::Sqlite(_))));
        in_savepoint(&tx, |c| insert(c, 3))?;
        tx.commit()?;
        let rows: Vec<i64> = conn
            .prepare("SELECT v FROM t ORDER BY v")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        assert_eq!(rows, [1, 3]);
        Ok(())
    }
}
