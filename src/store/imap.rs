//! The changes to IMAP's view of the store: folders, flags, expunges and
//! folder copies (see `migrations/0002_imap.sql`). They run inside the
//! writer's transaction and report the events to broadcast after COMMIT;
//! the reads are in [`imap_reads`](super::imap_reads).

use rusqlite::{Connection, OptionalExtension, params};

use super::changes::Target;
use super::index::Pending;
use super::mailboxes::{
    Copied, DELIMITER, EntryKey, Flags, Folder, FolderError, SPECIAL_FOLDERS, is_keyword,
};
use super::model::MessageId;
use super::{Error, StoreEvent};
use crate::message::tags;

/// A change to an owner's IMAP view, made by the writer.
#[derive(Debug)]
pub(crate) enum Change {
    /// Creates INBOX and the special folders when missing.
    Setup,
    Create(String),
    Delete(String),
    Rename(String, String),
    Subscribe(String, bool),
    /// Sets each entry's flags to exactly these.
    SetFlags(Folder, Vec<(EntryKey, Flags)>),
    /// Removes entries from the folder (for the catch-all's INBOX: deletes
    /// the messages for everyone; for an address's INBOX: hides them).
    Expunge(Folder, Vec<EntryKey>),
    /// Copies entries of a folder into another folder (not INBOX).
    Copy(Folder, Vec<(EntryKey, Flags)>, String),
    /// Adds a message to a folder (not INBOX).
    Append {
        folder: String,
        data: Vec<u8>,
        flags: Flags,
        received_ms: i64,
    },
}

/// What a change answers.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done,
    Refused(FolderError),
    Copied(Copied),
}

/// Applies a change for `owner`; returns its outcome and the events to send.
pub(crate) fn apply(
    conn: &Connection,
    pending: &mut Pending,
    owner: &str,
    change: Change,
) -> Result<(Outcome, Vec<StoreEvent>), Error> {
    let changed = || StoreEvent::MailboxChanged {
        owner: owner.to_owned(),
    };
    let outcome = match change {
        Change::Setup => {
            setup(conn, owner)?;
            return Ok((Outcome::Done, Vec::new()));
        }
        Change::Create(name) => create(conn, owner, &name)?,
        Change::Delete(name) => delete(conn, owner, &name)?,
        Change::Rename(from, to) => rename(conn, owner, &from, &to)?,
        Change::Subscribe(name, on) => {
            let n = conn.execute(
                "UPDATE imap_mailboxes SET subscribed = ?3 WHERE owner = ?1 AND name = ?2",
                params![owner, name, on],
            )?;
            if n == 0 {
                Outcome::Refused(FolderError::Missing)
            } else {
                Outcome::Done
            }
        }
        Change::SetFlags(folder, entries) => {
            let mut events = set_flags(conn, owner, &folder, &entries)?;
            events.push(changed());
            return Ok((Outcome::Done, events));
        }
        Change::Expunge(folder, keys) => {
            let mut events = expunge(conn, pending, owner, &folder, &keys)?;
            events.push(changed());
            return Ok((Outcome::Done, events));
        }
        Change::Copy(from, entries, to) => copy(conn, owner, &from, &entries, &to)?,
        Change::Append {
            folder,
            data,
            flags,
            received_ms,
        } => append(conn, owner, &folder, &data, &flags, received_ms)?,
    };
    Ok((outcome, vec![changed()]))
}

/// A UIDVALIDITY never given before in this database, so a folder deleted
/// and created again never looks like its old self to a client.
fn next_uidvalidity(conn: &Connection) -> Result<u32, Error> {
    let now = u32::try_from(chrono::Utc::now().timestamp()).unwrap_or(u32::MAX - 1);
    let max: Option<u32> = conn
        .prepare_cached("SELECT max(uidvalidity) FROM imap_mailboxes")?
        .query_row([], |row| row.get(0))?;
    Ok(now.max(max.map_or(1, |m| m.saturating_add(1))))
}

fn insert_folder(
    conn: &Connection,
    owner: &str,
    name: &str,
    special: Option<&str>,
) -> Result<(), Error> {
    let uidvalidity = next_uidvalidity(conn)?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO imap_mailboxes (owner, name, uidvalidity, special)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![owner, name, uidvalidity, special])?;
    Ok(())
}

fn setup(conn: &Connection, owner: &str) -> Result<(), Error> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM imap_mailboxes WHERE owner = ?1)")?
        .query_row([owner], |row| row.get(0))?;
    if exists {
        return Ok(());
    }
    insert_folder(conn, owner, "INBOX", None)?;
    for (name, special) in SPECIAL_FOLDERS {
        insert_folder(conn, owner, name, Some(special))?;
    }
    Ok(())
}

fn folder_id(conn: &Connection, owner: &str, name: &str) -> Result<Option<i64>, Error> {
    Ok(conn
        .prepare_cached("SELECT id FROM imap_mailboxes WHERE owner = ?1 AND name = ?2")?
        .query_row(params![owner, name], |row| row.get(0))
        .optional()?)
}

fn create(conn: &Connection, owner: &str, name: &str) -> Result<Outcome, Error> {
    if name.eq_ignore_ascii_case("INBOX") {
        return Ok(Outcome::Refused(FolderError::Exists));
    }
    if folder_id(conn, owner, name)?.is_some() {
        return Ok(Outcome::Refused(FolderError::Exists));
    }
    // RFC 3501 §6.3.3: the superior names are created too.
    let mut path = String::new();
    for part in name.split(DELIMITER) {
        if !path.is_empty() {
            path.push(DELIMITER);
        }
        path.push_str(part);
        insert_folder(conn, owner, &path, None)?;
    }
    Ok(Outcome::Done)
}

fn has_children(conn: &Connection, owner: &str, name: &str) -> Result<bool, Error> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM imap_mailboxes
             WHERE owner = ?1 AND substr(name, 1, length(?2) + 1) = ?2 || ?3)",
        )?
        .query_row(params![owner, name, DELIMITER.to_string()], |row| {
            row.get(0)
        })?)
}

fn delete(conn: &Connection, owner: &str, name: &str) -> Result<Outcome, Error> {
    if name.eq_ignore_ascii_case("INBOX") {
        return Ok(Outcome::Refused(FolderError::Inbox));
    }
    let Some(id) = folder_id(conn, owner, name)? else {
        return Ok(Outcome::Refused(FolderError::Missing));
    };
    if has_children(conn, owner, name)? {
        return Ok(Outcome::Refused(FolderError::HasChildren));
    }
    conn.execute("DELETE FROM imap_messages WHERE mailbox = ?1", [id])?;
    conn.execute("DELETE FROM imap_mailboxes WHERE id = ?1", [id])?;
    Ok(Outcome::Done)
}

fn rename(conn: &Connection, owner: &str, from: &str, to: &str) -> Result<Outcome, Error> {
    if from.eq_ignore_ascii_case("INBOX") {
        return Ok(Outcome::Refused(FolderError::Inbox));
    }
    if to.eq_ignore_ascii_case("INBOX") || folder_id(conn, owner, to)?.is_some() {
        return Ok(Outcome::Refused(FolderError::Exists));
    }
    if folder_id(conn, owner, from)?.is_none() {
        return Ok(Outcome::Refused(FolderError::Missing));
    }
    // The folder and everything below it move; missing superiors of the new
    // name are created (RFC 3501 §6.3.5).
    let sep = DELIMITER.to_string();
    conn.execute(
        "UPDATE imap_mailboxes SET name = ?4 || substr(name, length(?2) + 1)
         WHERE owner = ?1 AND (name = ?2 OR substr(name, 1, length(?2) + 1) = ?2 || ?3)",
        params![owner, from, sep, to],
    )?;
    if let Some((parent, _)) = to.rsplit_once(DELIMITER) {
        let mut path = String::new();
        for part in parent.split(DELIMITER) {
            if !path.is_empty() {
                path.push(DELIMITER);
            }
            path.push_str(part);
            insert_folder(conn, owner, &path, None)?;
        }
    }
    Ok(Outcome::Done)
}

/// Sets flags; for the catch-all's INBOX the read state and tags change on
/// the message itself, and the UI hears of it.
fn set_flags(
    conn: &Connection,
    owner: &str,
    folder: &Folder,
    entries: &[(EntryKey, Flags)],
) -> Result<Vec<StoreEvent>, Error> {
    let mut events = Vec::new();
    if !folder.is_inbox() {
        let mut update = conn.prepare_cached(
            "UPDATE imap_messages SET flags = ?3 WHERE mailbox = ?1 AND uid = ?2",
        )?;
        for (key, flags) in entries {
            update.execute(params![folder.id, key.uid, flags.to_text(true)])?;
        }
        return Ok(events);
    }
    let mut upsert = conn.prepare_cached(
        "INSERT INTO imap_flags (owner, message, flags) VALUES (?1, ?2, ?3)
         ON CONFLICT (owner, message) DO UPDATE SET flags = excluded.flags",
    )?;
    if !owner.is_empty() {
        for (key, flags) in entries {
            upsert.execute(params![owner, key.message, flags.to_text(true)])?;
        }
        return Ok(events);
    }
    let mut read_on = Vec::new();
    let mut read_off = Vec::new();
    let mut public =
        conn.prepare_cached("SELECT public_id, is_read FROM messages WHERE id = ?1")?;
    for (key, flags) in entries {
        let Some((id, read)) = public
            .query_row([key.message], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
            })
            .optional()?
        else {
            continue;
        };
        let Ok(id) = id.parse::<MessageId>() else {
            continue;
        };
        // Keywords that are valid tag names are the UI's tags; the others
        // ($Forwarded and the like) stay IMAP's own.
        let (tag_words, own_words): (Vec<String>, Vec<String>) = flags
            .keywords
            .iter()
            .cloned()
            .partition(|k| tags::is_valid(k));
        let mut own = flags.clone();
        own.keywords = own_words;
        let mut text = own.to_text(false);
        for word in &own.keywords {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(word);
        }
        upsert.execute(params![owner, key.message, text])?;
        if read != flags.seen {
            conn.prepare_cached("UPDATE messages SET is_read = ?2 WHERE id = ?1")?
                .execute(params![key.message, flags.seen])?;
            if flags.seen {
                read_on.push(id.clone());
            } else {
                read_off.push(id.clone());
            }
        }
        let current = message_tags(conn, key.message)?;
        let mut wanted: Vec<String> = current.iter().filter(|t| !is_keyword(t)).cloned().collect();
        wanted.extend(tag_words);
        let mut a: Vec<String> = current.iter().map(|t| t.to_lowercase()).collect();
        let mut b: Vec<String> = wanted.iter().map(|t| t.to_lowercase()).collect();
        a.sort();
        b.sort();
        if a != b {
            let changed = super::changes::set_tags(conn, std::slice::from_ref(&id), &wanted)?;
            if !changed.is_empty() {
                events.push(StoreEvent::TagsChanged {
                    ids: changed,
                    tags: wanted,
                });
            }
        }
    }
    if !read_on.is_empty() {
        events.push(StoreEvent::ReadChanged {
            ids: read_on,
            read: true,
        });
    }
    if !read_off.is_empty() {
        events.push(StoreEvent::ReadChanged {
            ids: read_off,
            read: false,
        });
    }
    Ok(events)
}

fn message_tags(conn: &Connection, message: i64) -> Result<Vec<String>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.name FROM message_tags mt JOIN tags t ON t.id = mt.tag
         WHERE mt.message = ?1 ORDER BY t.name",
    )?;
    let rows = stmt.query_map([message], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn expunge(
    conn: &Connection,
    pending: &mut Pending,
    owner: &str,
    folder: &Folder,
    keys: &[EntryKey],
) -> Result<Vec<StoreEvent>, Error> {
    if !folder.is_inbox() {
        let mut remove =
            conn.prepare_cached("DELETE FROM imap_messages WHERE mailbox = ?1 AND uid = ?2")?;
        for key in keys {
            remove.execute(params![folder.id, key.uid])?;
        }
        return Ok(Vec::new());
    }
    if owner.is_empty() {
        // The catch-all's deletions are everyone's (SPEC §3).
        let mut public = conn.prepare_cached("SELECT public_id FROM messages WHERE id = ?1")?;
        let mut ids = Vec::new();
        for key in keys {
            let id: Option<String> = public
                .query_row([key.message], |row| row.get(0))
                .optional()?;
            if let Some(id) = id.and_then(|id| id.parse::<MessageId>().ok()) {
                ids.push(id);
            }
        }
        let deleted = super::changes::delete(conn, &Target::Ids(ids), pending)?;
        return Ok(if deleted.is_empty() {
            Vec::new()
        } else {
            vec![StoreEvent::Deleted(deleted)]
        });
    }
    let mut hide =
        conn.prepare_cached("INSERT OR IGNORE INTO hidden (owner, message) VALUES (?1, ?2)")?;
    let mut unflag =
        conn.prepare_cached("DELETE FROM imap_flags WHERE owner = ?1 AND message = ?2")?;
    for key in keys {
        hide.execute(params![owner, key.message])?;
        unflag.execute(params![owner, key.message])?;
    }
    Ok(Vec::new())
}

/// Assigns the next UIDs of a folder.
fn take_uids(conn: &Connection, folder: i64, n: usize) -> Result<(u32, u32), Error> {
    let (uidvalidity, first): (u32, u32) = conn
        .prepare_cached("SELECT uidvalidity, uidnext FROM imap_mailboxes WHERE id = ?1")?
        .query_row([folder], |row| Ok((row.get(0)?, row.get(1)?)))?;
    conn.prepare_cached("UPDATE imap_mailboxes SET uidnext = uidnext + ?2 WHERE id = ?1")?
        .execute(params![folder, n])?;
    Ok((uidvalidity, first))
}

fn copy(
    conn: &Connection,
    owner: &str,
    from: &Folder,
    entries: &[(EntryKey, Flags)],
    to: &str,
) -> Result<Outcome, Error> {
    let Some(target) = folder_id(conn, owner, to)? else {
        return Ok(Outcome::Refused(FolderError::Missing));
    };
    let (uidvalidity, first) = take_uids(conn, target, entries.len())?;
    let mut uids = Vec::with_capacity(entries.len());
    for (i, (key, flags)) in entries.iter().enumerate() {
        let uid = first + i as u32;
        let copied = if from.is_inbox() {
            conn.prepare_cached(
                "INSERT INTO imap_messages (mailbox, uid, flags, received_at, served_size, data)
                 SELECT ?1, ?2, ?3, received_at, served_size, data FROM messages WHERE id = ?4",
            )?
            .execute(params![target, uid, flags.to_text(true), key.message])?
        } else {
            conn.prepare_cached(
                "INSERT INTO imap_messages (mailbox, uid, flags, received_at, served_size, data)
                 SELECT ?1, ?2, ?3, received_at, served_size, data FROM imap_messages
                 WHERE mailbox = ?4 AND uid = ?5",
            )?
            .execute(params![target, uid, flags.to_text(true), from.id, key.uid])?
        };
        if copied > 0 {
            uids.push(uid);
        }
    }
    Ok(Outcome::Copied(Copied { uidvalidity, uids }))
}

fn append(
    conn: &Connection,
    owner: &str,
    to: &str,
    data: &[u8],
    flags: &Flags,
    received_ms: i64,
) -> Result<Outcome, Error> {
    let Some(target) = folder_id(conn, owner, to)? else {
        return Ok(Outcome::Refused(FolderError::Missing));
    };
    let (uidvalidity, uid) = take_uids(conn, target, 1)?;
    conn.prepare_cached(
        "INSERT INTO imap_messages (mailbox, uid, flags, received_at, served_size, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        target,
        uid,
        flags.to_text(true),
        received_ms,
        super::served_size(data),
        data
    ])?;
    Ok(Outcome::Copied(Copied {
        uidvalidity,
        uids: vec![uid],
    }))
}
