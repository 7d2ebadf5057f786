//! Read queries: turning rows back into [`MessageMeta`] values.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};

use super::Error;
use super::model::{Envelope, MaildropEntry, MessageId, MessageMeta, Owner};
use super::search::Query;
use super::search::sql::Condition;
use crate::message::{Mailbox, Summary};

pub(super) const META_COLUMNS: &str = "m.public_id, m.received_at, m.size, m.is_read, m.mail_from,
    m.rcpt_to, m.helo, m.client_addr, m.auth_user, m.tls, m.dsn_ret, m.dsn_envid, m.subject,
    m.from_addr, m.to_addrs, m.cc_addrs, m.bcc_addrs, m.reply_to_addrs, m.sent_at,
    m.message_id, m.attachments, m.snippet, m.inline_parts,
    (SELECT group_concat(t.name, char(31) ORDER BY t.name) FROM message_tags mt
     JOIN tags t ON t.id = mt.tag WHERE mt.message = m.id)";

/// Which messages to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only messages matching this search.
    pub query: Option<Query>,
    /// Only messages received before this instant.
    pub before: Option<DateTime<Utc>>,
    /// Matches to skip, newest first.
    pub offset: u64,
    /// Most messages to return; None for all.
    pub limit: Option<u64>,
}

/// One page of a listing.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Newest first.
    pub messages: Vec<MessageMeta>,
    /// How many messages match the filter in all.
    pub matched: u64,
    /// How many of those are unread.
    pub matched_unread: u64,
}

/// Mailbox-wide counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub messages: u64,
    pub unread: u64,
}

/// The filter's condition over `messages m`, and its parameters.
pub(super) fn condition(filter: &Filter) -> Condition {
    let mut condition = match &filter.query {
        Some(query) => Condition::new(query),
        None => Condition::default(),
    };
    if let Some(before) = filter.before {
        if !condition.sql.is_empty() {
            condition.sql = format!("({}) AND ", condition.sql);
        }
        condition.sql.push_str("m.received_at < ?");
        condition.params.push(before.timestamp_millis().into());
    }
    if condition.sql.is_empty() {
        condition.sql.push('1');
    }
    condition
}

/// A page of the messages matching `filter`, with the match counts.
pub(crate) fn page(conn: &Connection, filter: &Filter) -> Result<Page, Error> {
    let limit = filter
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let offset = usize::try_from(filter.offset).unwrap_or(usize::MAX);
    if filter.query.is_none() && filter.before.is_none() {
        let sql =
            format!("SELECT {META_COLUMNS} FROM messages m ORDER BY m.id DESC LIMIT ?1 OFFSET ?2");
        let messages = conn
            .prepare_cached(&sql)?
            .query_map(
                [
                    i64::try_from(limit).unwrap_or(-1),
                    i64::try_from(offset).unwrap_or(i64::MAX),
                ],
                row_to_meta,
            )?
            .collect::<Result<_, _>>()?;
        let totals = totals(conn)?;
        return Ok(Page {
            messages,
            matched: totals.messages,
            matched_unread: totals.unread,
        });
    }
    // One evaluation of the condition gives both the counts and the page:
    // a full-text match is the expensive part, and it runs once.
    let hits = hits(conn, filter)?;
    let by_id = format!("SELECT {META_COLUMNS} FROM messages m WHERE m.id = ?1");
    let mut fetch = conn.prepare_cached(&by_id)?;
    let messages = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(rowid, _)| fetch.query_row([rowid], row_to_meta))
        .collect::<Result<_, _>>()?;
    Ok(Page {
        messages,
        matched: hits.len() as u64,
        matched_unread: hits.iter().filter(|(_, read)| !read).count() as u64,
    })
}

/// The row id and read state of every message the filter matches, newest first.
pub(crate) fn hits(conn: &Connection, filter: &Filter) -> Result<Vec<(i64, bool)>, Error> {
    let condition = condition(filter);
    let sql = format!(
        "SELECT m.id, m.is_read FROM messages m WHERE {} ORDER BY m.id DESC",
        condition.sql
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(&condition.params), |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<_, _>>()?)
}

/// Messages and unread messages in the whole store.
pub(crate) fn totals(conn: &Connection) -> Result<Totals, Error> {
    // Stored counts up to `through`, kept by triggers and folds; the few
    // messages since are counted here (see migration 0003).
    Ok(conn
        .prepare_cached(
            "SELECT messages + (SELECT count(*) FROM messages WHERE id > t.through),
                 unread + (SELECT count(*) FROM messages WHERE id > t.through AND is_read = 0)
             FROM totals t",
        )?
        .query_row([], |row| {
            Ok(Totals {
                messages: row.get(0)?,
                unread: row.get(1)?,
            })
        })?)
}

/// The newest message, or the newest matching `query`.
pub(crate) fn latest(
    conn: &Connection,
    query: Option<&Query>,
) -> Result<Option<MessageMeta>, Error> {
    let filter = Filter {
        query: query.cloned(),
        limit: Some(1),
        ..Filter::default()
    };
    let condition = condition(&filter);
    let sql = format!(
        "SELECT {META_COLUMNS} FROM messages m WHERE {} ORDER BY m.id DESC LIMIT 1",
        condition.sql
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params_from_iter(&condition.params), row_to_meta)
        .optional()?)
}

/// An owner's mailbox, oldest first.
pub(crate) fn maildrop(conn: &Connection, owner: &Owner) -> Result<Vec<MaildropEntry>, Error> {
    let entry = |row: &Row<'_>| -> rusqlite::Result<MaildropEntry> {
        let id: String = row.get(0)?;
        Ok(MaildropEntry {
            id: id
                .parse()
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            served_size: row.get(1)?,
        })
    };
    let entries = match owner {
        Owner::CatchAll => conn
            .prepare_cached("SELECT public_id, served_size FROM messages ORDER BY id")?
            .query_map([], entry)?
            .collect::<Result<_, _>>()?,
        Owner::Address(address) => conn
            .prepare_cached(
                "SELECT m.public_id, m.served_size FROM recipients r
                 JOIN messages m ON m.id = r.message
                 WHERE r.address = ?1
                   AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.owner = ?1 AND h.message = m.id)
                 ORDER BY m.id",
            )?
            .query_map([address], entry)?
            .collect::<Result<_, _>>()?,
    };
    Ok(entries)
}

/// One message's metadata.
pub(crate) fn get(conn: &Connection, id: &MessageId) -> Result<Option<MessageMeta>, Error> {
    let sql = format!("SELECT {META_COLUMNS} FROM messages m WHERE m.public_id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id.as_str()], row_to_meta)
        .optional()?)
}

/// One message's bytes as stored.
pub(crate) fn raw(conn: &Connection, id: &MessageId) -> Result<Option<Vec<u8>>, Error> {
    Ok(conn
        .prepare_cached("SELECT data FROM messages WHERE public_id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?)
}

/// Every tag in use with how many messages carry it, by name.
pub(crate) fn tags(conn: &Connection) -> Result<Vec<(String, u64)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.name, count(*) FROM tags t JOIN message_tags mt ON mt.tag = t.id
         GROUP BY t.id ORDER BY t.name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The database's size in bytes (the main file; the WAL comes and goes).
pub(crate) fn database_size(conn: &Connection) -> Result<u64, Error> {
    Ok(conn.query_row(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        [],
        |row| row.get(0),
    )?)
}

pub(super) fn row_to_meta(row: &Row<'_>) -> rusqlite::Result<MessageMeta> {
    let public_id: String = row.get(0)?;
    let received_ms: i64 = row.get(1)?;
    let rcpt_to: String = row.get(5)?;
    let from: Option<String> = row.get(13)?;
    Ok(MessageMeta {
        id: public_id
            .parse()
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        received_at: DateTime::<Utc>::from_timestamp_millis(received_ms).unwrap_or_default(),
        size: row.get(2)?,
        read: row.get(3)?,
        envelope: Envelope {
            mail_from: row.get(4)?,
            recipients: serde_json::from_str(&rcpt_to).unwrap_or_default(),
            helo: row.get(6)?,
            client_addr: row.get(7)?,
            auth_user: row.get(8)?,
            tls: row.get(9)?,
            dsn_ret: row.get(10)?,
            dsn_envid: row.get(11)?,
        },
        summary: Summary {
            subject: row.get(12)?,
            from: from.as_deref().and_then(|s| serde_json::from_str(s).ok()),
            to: mailboxes(row, 14)?,
            cc: mailboxes(row, 15)?,
            bcc: mailboxes(row, 16)?,
            reply_to: mailboxes(row, 17)?,
            sent_at: row.get(18)?,
            message_id: row.get(19)?,
            attachments: row.get(20)?,
            snippet: row.get(21)?,
            inline: row.get(22)?,
            tags: row
                .get::<_, Option<String>>(23)?
                .map(|names| names.split('\u{1f}').map(str::to_owned).collect())
                .unwrap_or_default(),
        },
    })
}

fn mailboxes(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<Mailbox>> {
    let text: String = row.get(index)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}
