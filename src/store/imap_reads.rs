//! The reads of IMAP's view of the store, on the reader pool: an owner's
//! folders, the entries of a folder with their UIDs and flags, UIDNEXT,
//! STATUS counts and message bytes (see `migrations/0002_imap.sql`).

use rusqlite::{Connection, OptionalExtension, params};

use super::Error;
use super::mailboxes::{Entry, EntryKey, Flags, Folder, FolderStatus, is_keyword};
use super::model::MessageId;

fn row_to_folder(row: &rusqlite::Row<'_>) -> rusqlite::Result<Folder> {
    Ok(Folder {
        id: row.get(0)?,
        name: row.get(1)?,
        uidvalidity: row.get(2)?,
        subscribed: row.get(3)?,
        special: row.get(4)?,
    })
}

/// An owner's folders, INBOX first, then by name.
pub(crate) fn folders(conn: &Connection, owner: &str) -> Result<Vec<Folder>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, uidvalidity, subscribed, special FROM imap_mailboxes
         WHERE owner = ?1 ORDER BY name != 'INBOX', name",
    )?;
    let rows = stmt.query_map([owner], row_to_folder)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One folder by name (`INBOX` in any case).
pub(crate) fn folder(conn: &Connection, owner: &str, name: &str) -> Result<Option<Folder>, Error> {
    let name = if name.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        name
    };
    Ok(conn
        .prepare_cached(
            "SELECT id, name, uidvalidity, subscribed, special FROM imap_mailboxes
             WHERE owner = ?1 AND name = ?2",
        )?
        .query_row(params![owner, name], row_to_folder)
        .optional()?)
}

/// The entries of a folder with a UID above `after`, by UID.
pub(crate) fn entries(
    conn: &Connection,
    owner: &str,
    folder: &Folder,
    after: u32,
) -> Result<Vec<Entry>, Error> {
    if !folder.is_inbox() {
        let mut stmt = conn.prepare_cached(
            "SELECT uid, flags, received_at, served_size FROM imap_messages
             WHERE mailbox = ?1 AND uid > ?2 ORDER BY uid",
        )?;
        let rows = stmt.query_map(params![folder.id, after], |row| {
            Ok(Entry {
                uid: row.get(0)?,
                message: 0,
                flags: Flags::parse(&row.get::<_, String>(1)?),
                received_ms: row.get(2)?,
                size: row.get(3)?,
            })
        })?;
        return Ok(rows.collect::<Result<_, _>>()?);
    }
    if owner.is_empty() {
        let mut stmt = conn.prepare_cached(
            "SELECT m.id, m.id, m.is_read, f.flags, m.received_at, m.served_size,
                 (SELECT group_concat(t.name, char(31)) FROM message_tags mt
                  JOIN tags t ON t.id = mt.tag WHERE mt.message = m.id)
             FROM messages m
             LEFT JOIN imap_flags f ON f.owner = '' AND f.message = m.id
             WHERE m.id > ?1 ORDER BY m.id",
        )?;
        let rows = stmt.query_map([after], |row| {
            let mut flags = Flags::parse(&row.get::<_, Option<String>>(3)?.unwrap_or_default());
            flags.seen = row.get(2)?;
            if let Some(names) = row.get::<_, Option<String>>(6)? {
                for name in names.split('\u{1f}').filter(|n| is_keyword(n)) {
                    flags.insert(name);
                }
            }
            Ok(Entry {
                uid: row.get(0)?,
                message: row.get(1)?,
                flags,
                received_ms: row.get(4)?,
                size: row.get(5)?,
            })
        })?;
        return Ok(rows.collect::<Result<_, _>>()?);
    }
    // The address's mail, whose UIDs are the message ids: a range of the
    // (address, message) key, so catching up with new mail reads only the
    // new rows.
    let sql = "SELECT m.id, m.id, f.flags, m.received_at, m.served_size
         FROM recipients r JOIN messages m ON m.id = r.message
         LEFT JOIN imap_flags f ON f.owner = ?1 AND f.message = m.id
         WHERE r.address = ?1 AND r.message > ?2
           AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.owner = ?1 AND h.message = m.id)
         ORDER BY r.message";
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![owner, after], |row| {
        Ok(Entry {
            uid: row.get(0)?,
            message: row.get(1)?,
            flags: Flags::parse(&row.get::<_, Option<String>>(2)?.unwrap_or_default()),
            received_ms: row.get(3)?,
            size: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The next UID of a folder. INBOX UIDs are message ids (never reused, see
/// migration 0003): the catch-all's next is one past the newest id ever
/// used, an address's one past the newest id it ever received.
pub(crate) fn uidnext(conn: &Connection, owner: &str, folder: &Folder) -> Result<u32, Error> {
    if folder.is_inbox() && owner.is_empty() {
        let last: Option<u32> = conn
            .prepare_cached(
                "SELECT max(coalesce((SELECT max(id) FROM messages), 0), high) FROM id_floor",
            )?
            .query_row([], |row| row.get(0))
            .optional()?;
        return Ok(last.unwrap_or(0).saturating_add(1));
    }
    if folder.is_inbox() {
        let last: u32 = conn
            .prepare_cached(
                "SELECT max(coalesce((SELECT max(message) FROM recipients WHERE address = ?1), 0),
                            coalesce((SELECT high FROM address_floor WHERE owner = ?1), 0))",
            )?
            .query_row([owner], |row| row.get(0))?;
        return Ok(last.saturating_add(1));
    }
    Ok(conn
        .prepare_cached("SELECT uidnext FROM imap_mailboxes WHERE id = ?1")?
        .query_row([folder.id], |row| row.get(0))?)
}

/// A folder's counts for STATUS.
pub(crate) fn status(
    conn: &Connection,
    owner: &str,
    folder: &Folder,
) -> Result<FolderStatus, Error> {
    let all = entries(conn, owner, folder, 0)?;
    Ok(FolderStatus {
        messages: all.len() as u32,
        unseen: all.iter().filter(|e| !e.flags.seen).count() as u32,
        uidnext: uidnext(conn, owner, folder)?,
        uidvalidity: folder.uidvalidity,
    })
}

/// The bytes of entries, in order (None for one that is gone).
pub(crate) fn bodies(
    conn: &Connection,
    folder: &Folder,
    keys: &[EntryKey],
) -> Result<Vec<Option<Vec<u8>>>, Error> {
    let mut out = Vec::with_capacity(keys.len());
    if folder.is_inbox() {
        let mut stmt = conn.prepare_cached("SELECT data FROM messages WHERE id = ?1")?;
        for key in keys {
            out.push(stmt.query_row([key.message], |row| row.get(0)).optional()?);
        }
    } else {
        let mut stmt =
            conn.prepare_cached("SELECT data FROM imap_messages WHERE mailbox = ?1 AND uid = ?2")?;
        for key in keys {
            out.push(
                stmt.query_row(params![folder.id, key.uid], |row| row.get(0))
                    .optional()?,
            );
        }
    }
    Ok(out)
}

/// The UID of a stored message in an owner's INBOX.
pub(crate) fn uid_of(conn: &Connection, owner: &str, id: &MessageId) -> Result<Option<u32>, Error> {
    let (sql, owner) = if owner.is_empty() {
        (
            "SELECT id FROM messages WHERE public_id = ?1 AND ?2 = ''",
            "",
        )
    } else {
        (
            "SELECT m.id FROM recipients r JOIN messages m ON m.id = r.message
             WHERE m.public_id = ?1 AND r.address = ?2",
            owner,
        )
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![id.as_str(), owner], |row| row.get(0))
        .optional()?)
}
