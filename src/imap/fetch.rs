//! FETCH and UID FETCH (RFC 3501 §6.4.5, RFC 3516 BINARY): the data items
//! of each message, built from the view (flags, dates, sizes) and, only when
//! an item needs them, from the stored bytes through [`mime`](super::mime).
//! Bytes are served with CRLF line ends; a fetch of a body section that is
//! not a PEEK sets \Seen (and reports the new FLAGS).

use std::borrow::Cow;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use imap_types::core::{IString, Literal, LiteralMode, NString, NString8};
use imap_types::datetime::DateTime as ImapDateTime;
use imap_types::extensions::binary::Literal8;
use imap_types::fetch::{
    Macro, MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section,
};
use imap_types::sequence::SequenceSet;
use tokio::io::{AsyncRead, AsyncWrite};

use super::mime;
use super::reply::code;
use super::session::{Done, Session, State};
use super::view::{fetch_response, flag_list};
use crate::net::conn::Interrupt;
use crate::store::mailboxes::{Entry, EntryKey};

/// Messages whose bytes are read from the store at once.
const BATCH: usize = 256;

/// The items a macro stands for (RFC 3501 §6.4.5).
fn expand(names: MacroOrMessageDataItemNames<'static>) -> Vec<MessageDataItemName<'static>> {
    use MessageDataItemName as N;
    match names {
        MacroOrMessageDataItemNames::Macro(Macro::Fast) => {
            vec![N::Flags, N::InternalDate, N::Rfc822Size]
        }
        MacroOrMessageDataItemNames::Macro(Macro::All) => {
            vec![N::Flags, N::InternalDate, N::Rfc822Size, N::Envelope]
        }
        MacroOrMessageDataItemNames::Macro(Macro::Full) => {
            vec![
                N::Flags,
                N::InternalDate,
                N::Rfc822Size,
                N::Envelope,
                N::Body,
            ]
        }
        MacroOrMessageDataItemNames::MessageDataItemNames(names) => names,
        // A macro this version does not know: the smallest set.
        MacroOrMessageDataItemNames::Macro(_) => vec![N::Flags],
    }
}

fn needs_bytes(name: &MessageDataItemName<'_>) -> bool {
    use MessageDataItemName as N;
    !matches!(name, N::Flags | N::InternalDate | N::Rfc822Size | N::Uid)
}

/// Whether fetching the item sets \Seen (RFC 3501 §6.4.5).
fn marks_seen(name: &MessageDataItemName<'_>) -> bool {
    use MessageDataItemName as N;
    match name {
        N::BodyExt { peek, .. } | N::Binary { peek, .. } => !peek,
        N::Rfc822 | N::Rfc822Text => true,
        _ => false,
    }
}

/// A literal of `bytes`. NUL cannot travel in an IMAP4rev1 literal, so a
/// message holding one is served without it.
fn literal(bytes: &[u8]) -> NString<'static> {
    let data: Vec<u8> = if bytes.contains(&0) {
        bytes.iter().copied().filter(|&b| b != 0).collect()
    } else {
        bytes.to_vec()
    };
    NString(Some(IString::Literal(Literal::unvalidated(data))))
}

fn internal_date(ms: i64) -> Option<ImapDateTime> {
    let at = DateTime::<Utc>::from_timestamp_millis(ms)?;
    // INTERNALDATE has whole seconds.
    let at = DateTime::<Utc>::from_timestamp(at.timestamp(), 0)?;
    ImapDateTime::try_from(at.fixed_offset()).ok()
}

/// Why a FETCH stopped short.
enum Failure {
    UnknownCte,
}

/// The items of one message.
fn items(
    names: &[MessageDataItemName<'static>],
    entry: &Entry,
    body: Option<&[u8]>,
    uid: bool,
    flags_changed: bool,
) -> Result<Vec<MessageDataItem<'static>>, Failure> {
    use MessageDataItemName as N;
    let mut out = Vec::with_capacity(names.len() + 2);
    let served = body.map(mime::served);
    let message: &[u8] = served.as_deref().unwrap_or_default();
    let raw: &[u8] = body.unwrap_or_default();
    let mut has_uid = false;
    let mut has_flags = false;
    for name in names {
        match name {
            N::Flags => {
                has_flags = true;
                out.push(MessageDataItem::Flags(flag_list(&entry.flags)));
            }
            N::Uid => {
                has_uid = true;
                if let Some(u) = NonZeroU32::new(entry.uid) {
                    out.push(MessageDataItem::Uid(u));
                }
            }
            N::InternalDate => {
                if let Some(date) = internal_date(entry.received_ms) {
                    out.push(MessageDataItem::InternalDate(date));
                }
            }
            N::Rfc822Size => out.push(MessageDataItem::Rfc822Size(
                u32::try_from(entry.size).unwrap_or(u32::MAX),
            )),
            N::Envelope => out.push(MessageDataItem::Envelope(mime::envelope(raw))),
            N::Body => out.push(MessageDataItem::Body(mime::body_structure(raw, false))),
            N::BodyStructure => out.push(MessageDataItem::BodyStructure(mime::body_structure(
                raw, true,
            ))),
            N::BodyExt {
                section, partial, ..
            } => {
                let bytes = mime::section(raw, section.as_ref()).unwrap_or(Cow::Borrowed(&[]));
                let (bytes, origin) = match partial {
                    Some((offset, length)) => {
                        (mime::partial(&bytes, *offset, Some(*length)), Some(*offset))
                    }
                    None => (&bytes[..], None),
                };
                out.push(MessageDataItem::BodyExt {
                    section: section.clone(),
                    origin,
                    data: literal(bytes),
                });
            }
            N::Rfc822 => out.push(MessageDataItem::Rfc822(literal(message))),
            N::Rfc822Header => {
                let header =
                    mime::section(raw, Some(&Section::Header(None))).unwrap_or(Cow::Borrowed(&[]));
                out.push(MessageDataItem::Rfc822Header(literal(&header)));
            }
            N::Rfc822Text => {
                let text =
                    mime::section(raw, Some(&Section::Text(None))).unwrap_or(Cow::Borrowed(&[]));
                out.push(MessageDataItem::Rfc822Text(literal(&text)));
            }
            N::Binary {
                section, partial, ..
            } => {
                let bytes = match mime::binary(raw, section) {
                    Ok(bytes) => bytes,
                    Err(mime::BinaryError::NoSuchPart) => Cow::Borrowed(&[][..]),
                    Err(mime::BinaryError::UnknownEncoding(_)) => return Err(Failure::UnknownCte),
                };
                let bytes = match partial {
                    Some((offset, length)) => mime::partial(&bytes, *offset, Some(*length)),
                    None => &bytes[..],
                };
                out.push(MessageDataItem::Binary {
                    section: section.clone(),
                    value: NString8::Literal8(Literal8 {
                        data: Cow::Owned(bytes.to_vec()),
                        mode: LiteralMode::Sync,
                    }),
                });
            }
            N::BinarySize { section } => {
                let size = match mime::binary(raw, section) {
                    Ok(bytes) => bytes.len(),
                    Err(mime::BinaryError::NoSuchPart) => 0,
                    Err(mime::BinaryError::UnknownEncoding(_)) => return Err(Failure::UnknownCte),
                };
                out.push(MessageDataItem::BinarySize {
                    section: section.clone(),
                    size: u32::try_from(size).unwrap_or(u32::MAX),
                });
            }
        }
    }
    // RFC 3501 §6.4.8: UID FETCH always reports the UID; a fetch that set
    // \Seen reports the new flags.
    if uid
        && !has_uid
        && let Some(u) = NonZeroU32::new(entry.uid)
    {
        out.insert(0, MessageDataItem::Uid(u));
    }
    if flags_changed && !has_flags {
        out.push(MessageDataItem::Flags(flag_list(&entry.flags)));
    }
    Ok(out)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(super) async fn fetch(
        &mut self,
        set: &SequenceSet,
        names: MacroOrMessageDataItemNames<'static>,
        uid: bool,
    ) -> Result<Done, Interrupt> {
        let names = expand(names);
        let State::Selected { owner, view } = &mut self.state else {
            return Ok(Done::bad("no mailbox selected"));
        };
        let Some(indexes) = view.resolve(set, uid) else {
            return Ok(Done::bad("invalid message sequence number").with(code("CLIENTBUG")));
        };
        let with_bytes = names.iter().any(needs_bytes);
        let seen = !view.read_only && names.iter().any(marks_seen);
        let store = self.ctx.store.clone();
        // \Seen first, so the FLAGS reported are the stored ones.
        let mut newly_seen = vec![false; indexes.len()];
        if seen {
            let mut changes = Vec::new();
            for (n, &i) in indexes.iter().enumerate() {
                let item = &mut view.items[i];
                if !item.entry.flags.seen && !item.gone {
                    item.entry.flags.seen = true;
                    newly_seen[n] = true;
                    changes.push((item.entry.key(), item.entry.flags.clone()));
                }
            }
            if !changes.is_empty()
                && let Err(e) = store.imap_set_flags(owner, &view.folder, changes).await
            {
                return Ok(Done::failed(&e));
            }
        }
        let mut failed = false;
        for (chunk_no, chunk) in indexes.chunks(BATCH).enumerate() {
            let State::Selected { view, .. } = &self.state else {
                break;
            };
            let bodies = if with_bytes {
                let keys: Vec<EntryKey> =
                    chunk.iter().map(|&i| view.items[i].entry.key()).collect();
                match store.imap_bodies(&view.folder, keys).await {
                    Ok(bodies) => bodies,
                    Err(e) => return Ok(Done::failed(&e)),
                }
            } else {
                vec![None; chunk.len()]
            };
            let State::Selected { view, .. } = &self.state else {
                break;
            };
            let mut responses = Vec::with_capacity(chunk.len());
            for (offset, (&i, body)) in chunk.iter().zip(&bodies).enumerate() {
                let item = &view.items[i];
                if with_bytes && body.is_none() {
                    // Removed meanwhile: its EXPUNGE follows when allowed.
                    continue;
                }
                let changed = newly_seen[chunk_no * BATCH + offset];
                match items(&names, &item.entry, body.as_deref(), uid, changed) {
                    Ok(data) => responses.push(fetch_response(i + 1, data)),
                    Err(Failure::UnknownCte) => failed = true,
                }
            }
            for response in &responses {
                self.wire.send(response);
            }
            self.wire.flush_if_large().await?;
        }
        if failed {
            return Ok(Done::no("unknown Content-Transfer-Encoding").with(code("UNKNOWN-CTE")));
        }
        Ok(Done::ok("FETCH completed"))
    }
}
