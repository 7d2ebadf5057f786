//! The one writer: a thread that owns the read-write connection and applies
//! jobs in groups, one transaction per group, so that many sessions share the
//! cost of a commit. Each job runs in its own savepoint, so one failing job
//! does not undo its neighbours. Replies go out only after COMMIT returns:
//! that is what lets SMTP answer 250 only for durable messages.

use std::sync::Arc;

use rusqlite::{Connection, Transaction, params};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::model::{MessageId, MessageMeta, NewMessage};
use super::{Error, Retention, StoreEvent};

/// Most jobs committed together; bounds the latency one group adds to the next.
const MAX_GROUP: usize = 256;
/// Most message bytes committed together.
const MAX_GROUP_BYTES: usize = 64 << 20;
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
}

impl Job {
    fn size(&self) -> usize {
        match self {
            Job::Insert(message, _) => message.data.len(),
            _ => 0,
        }
    }
}

/// A job's outcome, held until the group commits.
enum Done {
    Inserted(Reply<Arc<MessageMeta>>, Result<Arc<MessageMeta>, Error>),
    Counted(Reply<usize>, Result<usize, Error>, Option<StoreEvent>),
}

/// Runs until every sender is dropped, then returns (closing the connection).
pub(crate) fn run(
    mut conn: Connection,
    mut jobs: mpsc::Receiver<Job>,
    events: broadcast::Sender<StoreEvent>,
) {
    while let Some(first) = jobs.blocking_recv() {
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
        commit_group(&mut conn, group, &events);
    }
}

fn commit_group(conn: &mut Connection, group: Vec<Job>, events: &broadcast::Sender<StoreEvent>) {
    let tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(e) => return fail_all(group, &Error::from(e)),
    };
    let mut done = Vec::with_capacity(group.len());
    for job in group {
        done.push(apply(&tx, job));
    }
    if let Err(e) = tx.commit() {
        let error = Error::from(e);
        tracing::error!(%error, "commit failed; the group is answered with the error");
        for outcome in done {
            match outcome {
                Done::Inserted(reply, _) => drop(reply.send(Err(error.clone()))),
                Done::Counted(reply, _, _) => drop(reply.send(Err(error.clone()))),
            }
        }
        return;
    }
    // Only now is every change durable: answer, then tell the listeners.
    for outcome in done {
        match outcome {
            Done::Inserted(reply, result) => {
                if let Ok(meta) = &result {
                    let _ = events.send(StoreEvent::Inserted(Arc::clone(meta)));
                }
                let _ = reply.send(result);
            }
            Done::Counted(reply, result, event) => {
                if let (Ok(n), Some(event)) = (&result, event)
                    && *n > 0
                {
                    let _ = events.send(event);
                }
                let _ = reply.send(result);
            }
        }
    }
}

fn fail_all(group: Vec<Job>, error: &Error) {
    for job in group {
        match job {
            Job::Insert(_, reply) => drop(reply.send(Err(error.clone()))),
            Job::Delete(_, reply)
            | Job::DeleteAll(reply)
            | Job::SetRead(_, _, reply)
            | Job::Prune(_, reply) => drop(reply.send(Err(error.clone()))),
        }
    }
}

fn apply(tx: &Transaction<'_>, job: Job) -> Done {
    match job {
        Job::Insert(message, reply) => {
            let result = in_savepoint(tx, |sp| insert(sp, &message)).map(Arc::new);
            Done::Inserted(reply, result)
        }
        Job::Delete(ids, reply) => {
            let result = in_savepoint(tx, |sp| delete(sp, &ids));
            let event = result
                .as_ref()
                .ok()
                .map(|_| StoreEvent::Deleted(ids.clone()));
            Done::Counted(reply, result, event)
        }
        Job::DeleteAll(reply) => {
            let result = in_savepoint(tx, delete_all);
            Done::Counted(reply, result, Some(StoreEvent::Cleared))
        }
        Job::SetRead(ids, read, reply) => {
            let result = in_savepoint(tx, |sp| set_read(sp, &ids, read));
            Done::Counted(reply, result, Some(StoreEvent::ReadChanged { ids, read }))
        }
        Job::Prune(retention, reply) => {
            let mut pruned = Vec::new();
            let result = in_savepoint(tx, |sp| {
                pruned = prune(sp, &retention)?;
                Ok(pruned.len())
            });
            Done::Counted(reply, result, Some(StoreEvent::Deleted(pruned)))
        }
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

fn insert(conn: &Connection, message: &NewMessage) -> Result<MessageMeta, Error> {
    let env = &message.envelope;
    let summary = &message.parsed.summary;
    let received_ms = message.received_at.timestamp_millis();
    let size = message.data.len() as u64;
    conn.prepare_cached(
        "INSERT INTO messages (public_id, received_at, size, mail_from, helo, client_addr,
             auth_user, tls, dsn_ret, dsn_envid, subject, from_addr, to_addrs, cc_addrs,
             bcc_addrs, reply_to_addrs, sent_at, message_id, attachments, snippet)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20)",
    )?
    .execute(params![
        message.id.as_str(),
        received_ms,
        size,
        env.mail_from,
        env.helo,
        env.client_addr,
        env.auth_user,
        env.tls,
        env.dsn_ret,
        env.dsn_envid,
        summary.subject,
        summary.from.as_ref().map(json),
        json(&summary.to),
        json(&summary.cc),
        json(&summary.bcc),
        json(&summary.reply_to),
        summary.sent_at,
        summary.message_id,
        summary.attachments,
        summary.snippet,
    ])?;
    let rowid = conn.last_insert_rowid();
    let mut add_rcpt = conn.prepare_cached(
        "INSERT INTO recipients (message, position, address, notify, orcpt)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (position, rcpt) in env.recipients.iter().enumerate() {
        add_rcpt.execute(params![
            rowid,
            position,
            rcpt.address,
            rcpt.notify,
            rcpt.orcpt
        ])?;
    }
    conn.prepare_cached("INSERT INTO raw (message, data) VALUES (?1, ?2)")?
        .execute(params![rowid, message.data])?;
    conn.prepare_cached(
        "INSERT INTO search (rowid, subject, addresses, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        rowid,
        summary.subject,
        message.parsed.addresses_text(),
        message.parsed.body_text
    ])?;
    Ok(MessageMeta {
        id: message.id.clone(),
        received_at: message.received_at,
        size,
        read: false,
        envelope: env.clone(),
        summary: summary.clone(),
    })
}

/// JSON for the address columns.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("addresses always serialise")
}

fn delete_rows(conn: &Connection, rowids: &[i64]) -> Result<usize, Error> {
    let mut drop_index = conn.prepare_cached("DELETE FROM search WHERE rowid = ?1")?;
    let mut drop_row = conn.prepare_cached("DELETE FROM messages WHERE id = ?1")?;
    let mut n = 0;
    for rowid in rowids {
        drop_index.execute([rowid])?;
        n += drop_row.execute([rowid])?;
    }
    Ok(n)
}

fn delete(conn: &Connection, ids: &[MessageId]) -> Result<usize, Error> {
    let mut find = conn.prepare_cached("SELECT id FROM messages WHERE public_id = ?1")?;
    let mut rowids = Vec::with_capacity(ids.len());
    for id in ids {
        match find.query_row([id.as_str()], |row| row.get(0)) {
            Ok(rowid) => rowids.push(rowid),
            Err(rusqlite::Error::QueryReturnedNoRows) => {}
            Err(e) => return Err(e.into()),
        }
    }
    delete_rows(conn, &rowids)
}

fn delete_all(conn: &Connection) -> Result<usize, Error> {
    conn.execute("DELETE FROM search", [])?;
    conn.execute("DELETE FROM raw", [])?;
    conn.execute("DELETE FROM recipients", [])?;
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
fn prune(conn: &Connection, retention: &Retention) -> Result<Vec<MessageId>, Error> {
    let mut victims: Vec<(i64, String)> = Vec::new();
    if let Some(max_age) = retention.max_age {
        let cutoff = chrono::Utc::now() - max_age;
        let mut old = conn.prepare_cached(
            "SELECT id, public_id FROM messages WHERE received_at < ?1 ORDER BY id LIMIT ?2",
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
    delete_rows(conn, &rowids)?;
    Ok(victims
        .into_iter()
        .map(|(_, public)| public.parse().expect("stored IDs are valid"))
        .collect())
}
