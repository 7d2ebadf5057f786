//! The SQL of each change the writer makes. Every function runs inside the
//! writer's transaction and keeps the pending index list in step with the
//! rows it touches.

use rusqlite::{Connection, params, params_from_iter};

use super::index::{self, Pending};
use super::model::{MessageId, MessageMeta, NewMessage};
use super::search::Query;
use super::search::sql::Condition;
use super::{Error, Retention};

/// Most messages one prune job removes, so ingestion never waits long behind it.
pub(crate) const PRUNE_CHUNK: usize = 500;

/// Which messages a change applies to.
#[derive(Debug, Clone)]
pub enum Target {
    Ids(Vec<MessageId>),
    Matching(Query),
    All,
}

pub(crate) fn insert(
    conn: &Connection,
    message: NewMessage,
    pending: &mut Pending,
) -> Result<MessageMeta, Error> {
    let env = &message.envelope;
    let summary = &message.summary;
    let columns = &message.columns;
    let size = message.data.len() as u64;
    conn.prepare_cached(
        // One more than any id ever used (see id_floor): an id, which is also
        // the catch-all's IMAP UID, never names two messages.
        "INSERT INTO messages (id, public_id, received_at, size, served_size, mail_from, rcpt_to,
             helo, client_addr, auth_user, tls, dsn_ret, dsn_envid, subject, from_addr, to_addrs,
             cc_addrs, bcc_addrs, reply_to_addrs, sent_at, message_id, attachments,
             inline_parts, snippet, data)
         VALUES ((SELECT max(coalesce((SELECT max(id) FROM messages), 0), high) + 1 FROM id_floor),
             ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
    )?
    .execute(params![
        message.id.as_str(),
        message.received_at.timestamp_millis(),
        size,
        columns.served_size,
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
        summary.inline,
        summary.snippet,
        message.data,
    ])?;
    let rowid = conn.last_insert_rowid();
    let mut add_recipient =
        conn.prepare_cached("INSERT OR IGNORE INTO recipients (address, message) VALUES (?1, ?2)")?;
    for rcpt in &env.recipients {
        add_recipient.execute(params![rcpt.address, rowid])?;
    }
    add_tags(conn, rowid, &summary.tags)?;
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
        text: columns.text,
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

/// Counts the messages that arrived since the last fold into `totals`.
/// Inserts leave `totals` alone so a message's commit writes one page fewer;
/// the writer folds them in with its batched index writes.
pub(crate) fn fold_totals(conn: &Connection) -> Result<(), Error> {
    conn.prepare_cached(
        "UPDATE totals SET
             messages = messages + (SELECT count(*) FROM messages WHERE id > through),
             unread = unread + (SELECT count(*) FROM messages WHERE id > through AND is_read = 0),
             through = max(through, coalesce((SELECT max(id) FROM messages), 0))",
    )?
    .execute([])?;
    Ok(())
}

/// The row ids and public IDs of the target's messages.
fn resolve(conn: &Connection, target: &Target) -> Result<Vec<(i64, MessageId)>, Error> {
    let (sql, params) = match target {
        Target::Ids(ids) => {
            let mut find = conn.prepare_cached("SELECT id FROM messages WHERE public_id = ?1")?;
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                match find.query_row([id.as_str()], |row| row.get(0)) {
                    Ok(rowid) => found.push((rowid, id.clone())),
                    Err(rusqlite::Error::QueryReturnedNoRows) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(found);
        }
        Target::Matching(query) => {
            let condition = Condition::new(query);
            (
                format!(
                    "SELECT m.id, m.public_id FROM messages m WHERE {}",
                    condition.sql
                ),
                condition.params,
            )
        }
        Target::All => (
            "SELECT id, public_id FROM messages m".to_owned(),
            Vec::new(),
        ),
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (rowid, public) = row?;
        Ok((rowid, public.parse().expect("stored IDs are valid")))
    })
    .collect()
}

/// Deletes the target's messages; returns the IDs deleted.
pub(crate) fn delete(
    conn: &Connection,
    target: &Target,
    pending: &mut Pending,
) -> Result<Vec<MessageId>, Error> {
    if let Target::All = target {
        let ids = resolve(conn, target)?;
        pending.clear();
        conn.execute_batch(
            "DELETE FROM search; DELETE FROM search_body; DELETE FROM message_tags;
             DELETE FROM tags; DELETE FROM recipients; DELETE FROM hidden; DELETE FROM messages;",
        )?;
        return Ok(ids.into_iter().map(|(_, id)| id).collect());
    }
    let victims = resolve(conn, target)?;
    delete_rows(conn, &victims, pending)?;
    drop_unused_tags(conn)?;
    Ok(victims.into_iter().map(|(_, id)| id).collect())
}

fn delete_rows(
    conn: &Connection,
    victims: &[(i64, MessageId)],
    pending: &mut Pending,
) -> Result<(), Error> {
    let mut drop_row = conn.prepare_cached("DELETE FROM messages WHERE id = ?1")?;
    let mut drop_tags = conn.prepare_cached("DELETE FROM message_tags WHERE message = ?1")?;
    // The recipients' keys come from the row itself, so the delete uses the index.
    let mut drop_recipients = conn.prepare_cached(
        "DELETE FROM recipients WHERE message = ?1 AND address IN (
             SELECT value ->> 'address' FROM json_each((SELECT rcpt_to FROM messages WHERE id = ?1)))",
    )?;
    let mut drop_hidden = conn.prepare_cached("DELETE FROM hidden WHERE message = ?1")?;
    for &(rowid, _) in victims {
        if !pending.forget(rowid) {
            index::remove(conn, rowid)?;
        }
        drop_tags.execute([rowid])?;
        drop_recipients.execute([rowid])?;
        drop_hidden.execute([rowid])?;
        drop_row.execute([rowid])?;
    }
    Ok(())
}

/// Removes messages from one address owner's mailbox only; returns how many
/// were there.
pub(crate) fn hide(conn: &Connection, owner: &str, ids: &[MessageId]) -> Result<usize, Error> {
    let mut hide = conn.prepare_cached(
        "INSERT OR IGNORE INTO hidden (owner, message) SELECT ?1, id FROM messages WHERE public_id = ?2",
    )?;
    let mut n = 0;
    for id in ids {
        n += hide.execute(params![owner, id.as_str()])?;
    }
    Ok(n)
}

/// Marks the target's messages read or unread; returns the IDs that changed.
pub(crate) fn set_read(
    conn: &Connection,
    target: &Target,
    read: bool,
) -> Result<Vec<MessageId>, Error> {
    let mut update =
        conn.prepare_cached("UPDATE messages SET is_read = ?2 WHERE id = ?1 AND is_read != ?2")?;
    let mut changed = Vec::new();
    for (rowid, id) in resolve(conn, target)? {
        if update.execute(params![rowid, read])? > 0 {
            changed.push(id);
        }
    }
    Ok(changed)
}

/// Replaces the tags of each listed message; returns the IDs that exist.
pub(crate) fn set_tags(
    conn: &Connection,
    ids: &[MessageId],
    tags: &[String],
) -> Result<Vec<MessageId>, Error> {
    let targets = resolve(conn, &Target::Ids(ids.to_vec()))?;
    let mut clear = conn.prepare_cached("DELETE FROM message_tags WHERE message = ?1")?;
    for (rowid, _) in &targets {
        clear.execute([rowid])?;
        add_tags(conn, *rowid, tags)?;
    }
    drop_unused_tags(conn)?;
    Ok(targets.into_iter().map(|(_, id)| id).collect())
}

fn add_tags(conn: &Connection, rowid: i64, tags: &[String]) -> Result<(), Error> {
    let mut create = conn.prepare_cached("INSERT OR IGNORE INTO tags (name) VALUES (?1)")?;
    let mut link = conn.prepare_cached(
        "INSERT OR IGNORE INTO message_tags (message, tag) SELECT ?1, id FROM tags WHERE name = ?2",
    )?;
    for tag in tags {
        create.execute([tag])?;
        link.execute(params![rowid, tag])?;
    }
    Ok(())
}

/// Renames a tag everywhere (merging into an existing tag of the new name);
/// returns how many messages carry it.
pub(crate) fn rename_tag(conn: &Connection, from: &str, to: &str) -> Result<usize, Error> {
    let Some(old) = tag_id(conn, from)? else {
        return Ok(0);
    };
    match tag_id(conn, to)? {
        // A change of case only, or no tag of that name yet: rename in place.
        Some(existing) if existing != old => {
            conn.execute(
                "INSERT OR IGNORE INTO message_tags (message, tag)
                 SELECT message, ?2 FROM message_tags WHERE tag = ?1",
                params![old, existing],
            )?;
            conn.execute("DELETE FROM message_tags WHERE tag = ?1", [old])?;
            conn.execute("DELETE FROM tags WHERE id = ?1", [old])?;
        }
        _ => {
            conn.execute("UPDATE tags SET name = ?2 WHERE id = ?1", params![old, to])?;
        }
    }
    count_tagged(conn, to)
}

/// Removes a tag from every message; returns how many carried it.
pub(crate) fn delete_tag(conn: &Connection, name: &str) -> Result<usize, Error> {
    let Some(id) = tag_id(conn, name)? else {
        return Ok(0);
    };
    let n = conn.execute("DELETE FROM message_tags WHERE tag = ?1", [id])?;
    conn.execute("DELETE FROM tags WHERE id = ?1", [id])?;
    Ok(n)
}

fn tag_id(conn: &Connection, name: &str) -> Result<Option<i64>, Error> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT id FROM tags WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?)
}

fn count_tagged(conn: &Connection, name: &str) -> Result<usize, Error> {
    Ok(conn.query_row(
        "SELECT count(*) FROM message_tags mt JOIN tags t ON t.id = mt.tag WHERE t.name = ?1",
        [name],
        |row| row.get(0),
    )?)
}

fn drop_unused_tags(conn: &Connection) -> Result<(), Error> {
    conn.prepare_cached(
        "DELETE FROM tags WHERE NOT EXISTS (SELECT 1 FROM message_tags WHERE tag = tags.id)",
    )?
    .execute([])?;
    Ok(())
}

/// Removes up to [`PRUNE_CHUNK`] messages beyond the retention limits, oldest first.
pub(crate) fn prune(
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
    let victims: Vec<(i64, MessageId)> = victims
        .into_iter()
        .map(|(rowid, public)| (rowid, public.parse().expect("stored IDs are valid")))
        .collect();
    delete_rows(conn, &victims, pending)?;
    if !victims.is_empty() {
        drop_unused_tags(conn)?;
    }
    Ok(victims.into_iter().map(|(_, id)| id).collect())
}
