//! Read queries: turning rows back into [`MessageMeta`] values.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::Error;
use super::model::{Envelope, MessageId, MessageMeta};
use crate::message::{Mailbox, Summary};

const META_COLUMNS: &str = "public_id, received_at, size, is_read, mail_from, rcpt_to, helo,
    client_addr, auth_user, tls, dsn_ret, dsn_envid, subject, from_addr, to_addrs, cc_addrs,
    bcc_addrs, reply_to_addrs, sent_at, message_id, attachments, snippet";

/// Messages newest first.
pub(crate) fn list(conn: &Connection, offset: u64, limit: u64) -> Result<Vec<MessageMeta>, Error> {
    let sql = format!("SELECT {META_COLUMNS} FROM messages ORDER BY id DESC LIMIT ?1 OFFSET ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![limit, offset], row_to_meta)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One message's metadata.
pub(crate) fn get(conn: &Connection, id: &MessageId) -> Result<Option<MessageMeta>, Error> {
    let sql = format!("SELECT {META_COLUMNS} FROM messages WHERE public_id = ?1");
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

pub(crate) fn count(conn: &Connection) -> Result<u64, Error> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM messages")?
        .query_row([], |row| row.get(0))?)
}

fn row_to_meta(row: &Row<'_>) -> rusqlite::Result<MessageMeta> {
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
        },
    })
}

fn mailboxes(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<Mailbox>> {
    let text: String = row.get(index)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}
