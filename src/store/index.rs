//! The full-text index, filled behind the commits that acknowledge mail.
//!
//! Indexing is the most expensive part of storing a message, and FTS5 pays a
//! fixed cost per transaction. So the writer keeps newly stored messages'
//! index text in memory and writes it in larger batches: when it has nothing
//! else to do, when the batch is big, or when a search asks for it (searches
//! flush first, so they never miss a message that was acknowledged). The
//! `search_state` row records how far the index reaches; after a crash the
//! messages beyond it are indexed again from their stored bytes.

use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use super::Error;
use super::model::Recipient;
use crate::message::{Mailbox, Parsed, Summary};

/// Pending text past which the batch is written even under load.
const MAX_PENDING_BYTES: usize = 4 << 20;
const MAX_PENDING_ROWS: usize = 2048;
/// Oldest a pending row gets before the batch is written even under load.
const MAX_PENDING_AGE: Duration = Duration::from_secs(1);

/// One message's index text, a field per column of `search`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Text {
    subject: String,
    from: String,
    to: String,
    cc: String,
    bcc: String,
    reply_to: String,
    headers: String,
    body: String,
    files: String,
}

impl Text {
    /// The index text of a parsed message; takes the texts it needs by value.
    pub(crate) fn new(parsed: Parsed) -> (Self, Summary) {
        let s = parsed.summary;
        let text = Self {
            subject: s.subject.clone(),
            from: addresses(s.from.as_slice()),
            to: addresses(&s.to),
            cc: addresses(&s.cc),
            bcc: addresses(&s.bcc),
            reply_to: addresses(&s.reply_to),
            headers: parsed.headers_text,
            body: parsed.body_text,
            files: parsed.file_names,
        };
        (text, s)
    }

    fn len(&self) -> usize {
        [
            &self.subject,
            &self.from,
            &self.to,
            &self.cc,
            &self.bcc,
            &self.reply_to,
            &self.headers,
            &self.body,
            &self.files,
        ]
        .iter()
        .map(|s| s.len())
        .sum()
    }
}

/// "Name <address>, …" for the address columns.
fn addresses(mailboxes: &[Mailbox]) -> String {
    mailboxes
        .iter()
        .map(|m| {
            if m.name.is_empty() {
                m.address.clone()
            } else {
                format!("{} <{}>", m.name, m.address)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One message waiting to be indexed.
pub(crate) struct Row {
    pub(crate) rowid: i64,
    pub(crate) text: Text,
}

impl Row {
    fn len(&self) -> usize {
        self.text.len()
    }
}

/// Messages stored but not yet indexed, in rowid order.
#[derive(Default)]
pub(crate) struct Pending {
    rows: Vec<Row>,
    bytes: usize,
    /// When the oldest pending row arrived.
    since: Option<Instant>,
}

impl Pending {
    pub(crate) fn push(&mut self, row: Row) {
        self.bytes += row.len();
        self.rows.push(row);
        self.since.get_or_insert_with(Instant::now);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether the batch must be written now, busy or not.
    pub(crate) fn is_due(&self) -> bool {
        self.bytes >= MAX_PENDING_BYTES
            || self.rows.len() >= MAX_PENDING_ROWS
            || self.since.is_some_and(|t| t.elapsed() >= MAX_PENDING_AGE)
    }

    /// How long to wait for more work before writing the batch: `idle`, but
    /// never past the batch's age limit.
    pub(crate) fn wait_budget(&self, idle: Duration) -> Duration {
        let left = self.since.map_or(MAX_PENDING_AGE, |t| {
            MAX_PENDING_AGE.saturating_sub(t.elapsed())
        });
        idle.min(left)
    }

    /// Drops a message deleted before it was indexed; true if it was pending.
    pub(crate) fn forget(&mut self, rowid: i64) -> bool {
        match self.rows.binary_search_by_key(&rowid, |row| row.rowid) {
            Ok(at) => {
                let row = self.rows.remove(at);
                self.bytes -= row.len();
                if self.rows.is_empty() {
                    self.since = None;
                }
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rows.clear();
        self.bytes = 0;
        self.since = None;
    }

    /// Writes every pending row and moves the high-water mark, inside the
    /// caller's transaction, and empties the list. If that transaction fails,
    /// the writer re-indexes from the mark ([`catch_up`]).
    pub(crate) fn flush_into(&mut self, conn: &Connection) -> Result<(), Error> {
        let Some(last) = self.rows.last() else {
            return Ok(());
        };
        let mut fields = conn.prepare_cached(
            "INSERT INTO search (rowid, subject, from_addr, to_addrs, cc_addrs, bcc_addrs,
                 reply_to, headers, files)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut body =
            conn.prepare_cached("INSERT INTO search_body (rowid, body) VALUES (?1, ?2)")?;
        for Row { rowid, text: t } in &self.rows {
            fields.execute(params![
                rowid, t.subject, t.from, t.to, t.cc, t.bcc, t.reply_to, t.headers, t.files
            ])?;
            body.execute(params![rowid, t.body])?;
        }
        mark(conn, last.rowid)?;
        self.clear();
        Ok(())
    }
}

/// Removes an indexed message from the indexes.
pub(crate) fn remove(conn: &Connection, rowid: i64) -> Result<(), Error> {
    conn.prepare_cached("DELETE FROM search WHERE rowid = ?1")?
        .execute([rowid])?;
    conn.prepare_cached("DELETE FROM search_body WHERE rowid = ?1")?
        .execute([rowid])?;
    Ok(())
}

fn mark(conn: &Connection, rowid: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE search_state SET indexed_through = max(indexed_through, ?1)")?
        .execute([rowid])?;
    Ok(())
}

/// Indexes every stored message beyond the high-water mark, from its bytes.
/// Returns how many were indexed.
pub(crate) fn catch_up(conn: &mut Connection) -> Result<usize, Error> {
    let tx = conn.transaction()?;
    let mut pending = Pending::default();
    {
        let mut missing = tx.prepare(
            "SELECT id, rcpt_to, data FROM messages
             WHERE id > (SELECT indexed_through FROM search_state) ORDER BY id",
        )?;
        let mut rows = missing.query([])?;
        while let Some(row) = rows.next()? {
            let rowid: i64 = row.get(0)?;
            let rcpt_to: String = row.get(1)?;
            let data: Vec<u8> = row.get(2)?;
            let rcpts: Vec<Recipient> = serde_json::from_str(&rcpt_to).unwrap_or_default();
            let rcpts: Vec<&str> = rcpts.iter().map(|r| r.address.as_str()).collect();
            let (text, _) = Text::new(crate::message::parse(&data, &rcpts));
            pending.push(Row { rowid, text });
        }
    }
    let n = pending.rows.len();
    pending.flush_into(&tx)?;
    tx.commit()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(rowid: i64) -> Row {
        Row {
            rowid,
            text: Text {
                subject: "subject".into(),
                body: "body".into(),
                ..Text::default()
            },
        }
    }

    #[test]
    fn forgetting_keeps_the_rest_in_order() {
        let mut pending = Pending::default();
        for rowid in [3, 5, 9] {
            pending.push(row(rowid));
        }
        assert!(pending.forget(5));
        assert!(!pending.forget(4));
        let left: Vec<i64> = pending.rows.iter().map(|r| r.rowid).collect();
        assert_eq!(left, [3, 9]);
        assert_eq!(pending.bytes, 2 * row(0).len());
        assert!(pending.forget(3) && pending.forget(9));
        assert!(pending.is_empty() && pending.since.is_none());
    }

    #[test]
    fn a_batch_is_due_when_large() {
        let mut pending = Pending::default();
        assert!(!pending.is_due());
        pending.push(row(1));
        assert!(!pending.is_due());
        assert!(pending.wait_budget(Duration::from_millis(50)) <= Duration::from_millis(50));
        for rowid in 2..=MAX_PENDING_ROWS as i64 {
            pending.push(row(rowid));
        }
        assert!(pending.is_due());
        pending.clear();
        assert!(!pending.is_due());
    }
}
