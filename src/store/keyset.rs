//! Keyset pages ("the 50 messages older than this one"): the web inbox pages
//! through 100,000+ messages with these. An OFFSET walks every row it skips,
//! and the message rows hold their bytes, so a deep offset reads most of the
//! database; a keyset page starts at its edge through the primary key.

use rusqlite::{Connection, OptionalExtension};

use super::Error;
use super::model::MessageId;
use super::queries::{self, Filter, META_COLUMNS, Page, row_to_meta};

/// Where a keyset page starts: next to the message on its edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The messages just older than this one.
    Older(MessageId),
    /// The messages just newer than this one.
    Newer(MessageId),
}

/// A keyset page: the messages (newest first) and counts of [`Page`], and
/// whether more messages lie on either side of it.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub page: Page,
    pub has_newer: bool,
    pub has_older: bool,
}

/// The page of `filter` (its offset is ignored) next to `cursor`, or the
/// newest page without one. None when the cursor's message no longer exists.
pub(crate) fn window(
    conn: &Connection,
    filter: &Filter,
    cursor: Option<&Cursor>,
) -> Result<Option<Window>, Error> {
    let limit = filter
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let edge = match cursor {
        None => None,
        Some(Cursor::Older(id) | Cursor::Newer(id)) => match rowid(conn, id)? {
            Some(rowid) => Some(rowid),
            None => return Ok(None),
        },
    };
    if filter.query.is_none() && filter.before.is_none() {
        return unfiltered(conn, limit, cursor, edge).map(Some);
    }
    filtered(conn, filter, limit, cursor, edge).map(Some)
}

fn rowid(conn: &Connection, id: &MessageId) -> Result<Option<i64>, Error> {
    Ok(conn
        .prepare_cached("SELECT id FROM messages WHERE public_id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?)
}

/// Every message: one range scan of the primary key, one row past the page
/// to learn whether there are more.
fn unfiltered(
    conn: &Connection,
    limit: usize,
    cursor: Option<&Cursor>,
    edge: Option<i64>,
) -> Result<Window, Error> {
    let (condition, order) = match cursor {
        Some(Cursor::Newer(_)) => ("m.id > ?1", "ASC"),
        _ => ("m.id < ?1", "DESC"),
    };
    let sql = format!(
        "SELECT {META_COLUMNS} FROM messages m WHERE {condition} ORDER BY m.id {order} LIMIT ?2"
    );
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let mut messages: Vec<_> = conn
        .prepare_cached(&sql)?
        .query_map([edge.unwrap_or(i64::MAX), fetch], row_to_meta)?
        .collect::<Result<_, _>>()?;
    let more = messages.len() > limit;
    messages.truncate(limit);
    let totals = queries::totals(conn)?;
    let (has_newer, has_older) = match cursor {
        None => (false, more),
        Some(Cursor::Older(_)) => (true, more),
        Some(Cursor::Newer(_)) => {
            messages.reverse();
            (more, true)
        }
    };
    Ok(Window {
        page: Page {
            messages,
            matched: totals.messages,
            matched_unread: totals.unread,
        },
        has_newer,
        has_older,
    })
}

/// A search: one evaluation gives the matches (newest first) and the counts,
/// as [`queries::page`] does; the page is cut from them at the edge.
fn filtered(
    conn: &Connection,
    filter: &Filter,
    limit: usize,
    cursor: Option<&Cursor>,
    edge: Option<i64>,
) -> Result<Window, Error> {
    let hits = queries::hits(conn, filter)?;
    let edge = edge.unwrap_or(i64::MAX);
    let (chosen, has_newer, has_older): (Vec<i64>, bool, bool) = match cursor {
        Some(Cursor::Newer(_)) => {
            let newer: Vec<i64> = hits
                .iter()
                .map(|(id, _)| *id)
                .take_while(|id| *id > edge)
                .collect();
            let start = newer.len().saturating_sub(limit);
            let older = hits.len() > newer.len();
            (newer[start..].to_vec(), start > 0, older)
        }
        _ => {
            let newer = hits.iter().take_while(|(id, _)| *id >= edge).count();
            let rest = &hits[newer..];
            let chosen = rest.iter().take(limit).map(|(id, _)| *id).collect();
            (chosen, newer > 0, rest.len() > limit)
        }
    };
    let by_id = format!("SELECT {META_COLUMNS} FROM messages m WHERE m.id = ?1");
    let mut fetch = conn.prepare_cached(&by_id)?;
    let messages = chosen
        .iter()
        .map(|rowid| fetch.query_row([rowid], row_to_meta))
        .collect::<Result<_, _>>()?;
    Ok(Window {
        page: Page {
            messages,
            matched: hits.len() as u64,
            matched_unread: hits.iter().filter(|(_, read)| !read).count() as u64,
        },
        has_newer,
        has_older,
    })
}
