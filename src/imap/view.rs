//! The selected folder as one session sees it: entries by message sequence
//! number, and how the view catches up with changes made elsewhere (new
//! mail, other sessions, the web UI and the API).
//!
//! RFC 3501 §7.4.1: an EXPUNGE must not be sent while a FETCH, STORE or
//! SEARCH is in progress, since it renumbers messages; the view keeps such
//! messages (marked gone) until the session may announce their removal.

use std::num::NonZeroU32;

use imap_types::core::Vec1;
use imap_types::fetch::MessageDataItem;
use imap_types::flag::{Flag, FlagFetch};
use imap_types::response::{Data, Response};
use imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use super::reply;
use crate::store::mailboxes::{Entry, Flags, Folder};
use crate::store::{Owner, Store, StoreEvent};

/// What the view has to re-read before it is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum Stale {
    #[default]
    No,
    /// Only new messages may have arrived.
    New,
    /// Anything may have changed.
    All,
}

/// One message of the view.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) entry: Entry,
    /// Removed in the store; its EXPUNGE waits for a command that allows it.
    pub(crate) gone: bool,
}

pub(crate) struct View {
    pub(crate) folder: Folder,
    pub(crate) read_only: bool,
    pub(crate) items: Vec<Item>,
    pub(crate) stale: Stale,
}

impl View {
    pub(crate) fn new(folder: Folder, read_only: bool, entries: Vec<Entry>) -> Self {
        Self {
            folder,
            read_only,
            items: entries
                .into_iter()
                .map(|entry| Item { entry, gone: false })
                .collect(),
            stale: Stale::No,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    fn max_uid(&self) -> u32 {
        self.items.last().map_or(0, |i| i.entry.uid)
    }

    /// Marks the view stale if `event` may concern it.
    pub(crate) fn note(&mut self, owner: &Owner, event: &StoreEvent) {
        let inbox = self.folder.is_inbox();
        let catch_all = matches!(owner, Owner::CatchAll);
        let stale = match event {
            StoreEvent::Inserted(meta) if inbox => match owner {
                Owner::CatchAll => Stale::New,
                Owner::Address(address) => {
                    if meta
                        .envelope
                        .recipients
                        .iter()
                        .any(|r| r.address.eq_ignore_ascii_case(address))
                    {
                        Stale::New
                    } else {
                        Stale::No
                    }
                }
            },
            StoreEvent::Deleted(_) | StoreEvent::Cleared if inbox => Stale::All,
            StoreEvent::ReadChanged { .. }
            | StoreEvent::TagsChanged { .. }
            | StoreEvent::Changed
                if inbox && catch_all =>
            {
                Stale::All
            }
            StoreEvent::MailboxChanged { owner: changed } => {
                let mine = match owner {
                    Owner::CatchAll => changed.is_empty(),
                    Owner::Address(address) => changed.eq_ignore_ascii_case(address),
                };
                if mine { Stale::All } else { Stale::No }
            }
            _ => Stale::No,
        };
        self.stale = self.stale.max(stale);
    }

    /// Re-reads what is stale and returns the untagged responses that tell
    /// the client: EXISTS for new mail, FETCH (FLAGS) for changed flags, and
    /// EXPUNGE for removed messages when `expunge` allows it.
    pub(crate) async fn sync(
        &mut self,
        store: &Store,
        owner: &Owner,
        expunge: bool,
    ) -> Result<Vec<Response<'static>>, crate::store::Error> {
        let mut out = Vec::new();
        let stale = std::mem::take(&mut self.stale);
        let before = self.items.len();
        match stale {
            Stale::No => {}
            Stale::New => {
                let fresh = store
                    .imap_entries(owner, &self.folder, self.max_uid())
                    .await?;
                self.items
                    .extend(fresh.into_iter().map(|entry| Item { entry, gone: false }));
            }
            Stale::All => {
                let fresh = store.imap_entries(owner, &self.folder, 0).await?;
                let mut fresh_iter = fresh.into_iter().peekable();
                for (index, item) in self.items.iter_mut().enumerate() {
                    // Both lists are in UID order: walk them together.
                    while fresh_iter.peek().is_some_and(|f| f.uid < item.entry.uid) {
                        fresh_iter.next();
                    }
                    match fresh_iter.peek() {
                        Some(f) if f.uid == item.entry.uid => {
                            let f = fresh_iter.next().expect("peeked");
                            if f.flags != item.entry.flags && !item.gone {
                                item.entry.flags = f.flags;
                                out.push(flags_response(index + 1, &item.entry));
                            }
                        }
                        _ => item.gone = true,
                    }
                }
                let max = self.max_uid();
                self.items.extend(
                    fresh_iter
                        .filter(|f| f.uid > max)
                        .map(|entry| Item { entry, gone: false }),
                );
            }
        }
        let added = self.items.len() - before;
        if expunge {
            out.extend(self.take_gone());
        }
        if added > 0 {
            out.push(reply::exists(self.items.len()));
        }
        Ok(out)
    }

    /// Removes the gone messages, highest first, with their EXPUNGE responses.
    pub(crate) fn take_gone(&mut self) -> Vec<Response<'static>> {
        let mut out = Vec::new();
        for index in (0..self.items.len()).rev() {
            if self.items[index].gone {
                self.items.remove(index);
                out.extend(reply::expunge(index + 1));
            }
        }
        out
    }

    /// The indexes (0-based) a sequence set names: message numbers, or UIDs
    /// when `uid`. None for message numbers beyond the mailbox (RFC 3501
    /// §9: an invalid sequence set is an error; UID sets may name nothing).
    pub(crate) fn resolve(&self, set: &SequenceSet, uid: bool) -> Option<Vec<usize>> {
        let mut picked = vec![false; self.items.len()];
        let last_uid = self.max_uid();
        let count = self.items.len() as u32;
        for seq in set.0.as_ref() {
            let (a, b) = match seq {
                Sequence::Single(x) => (*x, *x),
                Sequence::Range(a, b) => (*a, *b),
            };
            let star = if uid { last_uid } else { count };
            let value = |x: SeqOrUid| match x {
                SeqOrUid::Value(n) if n == NonZeroU32::MAX => star,
                SeqOrUid::Value(n) => n.get(),
                SeqOrUid::Asterisk => star,
            };
            let (mut lo, mut hi) = (value(a), value(b));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            if uid {
                // RFC 3501 §6.4.8: "n:*" always includes the highest UID.
                let lo = lo.min(last_uid.max(1));
                for (i, item) in self.items.iter().enumerate() {
                    if item.entry.uid >= lo && item.entry.uid <= hi {
                        picked[i] = true;
                    }
                }
            } else {
                // "1:*" in an empty mailbox names nothing; clients send it to
                // look, and an error would only confuse them.
                // (imap-codec's normalisation writes a lone `*` as u32::MAX.)
                let star = matches!(b, SeqOrUid::Asterisk)
                    || matches!(b, SeqOrUid::Value(n) if n == NonZeroU32::MAX);
                if count == 0 && star {
                    continue;
                }
                if lo == 0 || hi > count {
                    return None;
                }
                for slot in picked.iter_mut().take(hi as usize).skip(lo as usize - 1) {
                    *slot = true;
                }
            }
        }
        Some(
            picked
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.then_some(i))
                .collect(),
        )
    }
}

impl View {
    /// The indexes a set names, ignoring numbers beyond the mailbox (SEARCH).
    pub(crate) fn resolve_lenient(&self, set: &SequenceSet, uid: bool) -> Vec<usize> {
        if uid {
            return self.resolve(set, true).unwrap_or_default();
        }
        let count = self.items.len() as u32;
        let mut picked = vec![false; self.items.len()];
        for seq in set.0.as_ref() {
            let (a, b) = match seq {
                Sequence::Single(x) => (*x, *x),
                Sequence::Range(a, b) => (*a, *b),
            };
            let value = |x: SeqOrUid| match x {
                SeqOrUid::Value(n) if n != NonZeroU32::MAX => n.get(),
                _ => count,
            };
            let (mut lo, mut hi) = (value(a), value(b));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            for n in lo.max(1)..=hi.min(count) {
                picked[n as usize - 1] = true;
            }
        }
        picked
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.then_some(i))
            .collect()
    }
}

/// `* n FETCH (FLAGS (...))` for an entry.
pub(crate) fn flags_response(seq: usize, entry: &Entry) -> Response<'static> {
    fetch_response(seq, vec![MessageDataItem::Flags(flag_list(&entry.flags))])
}

pub(crate) fn fetch_response(
    seq: usize,
    items: Vec<MessageDataItem<'static>>,
) -> Response<'static> {
    let seq = NonZeroU32::new(u32::try_from(seq).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
    let items =
        Vec1::try_from(items).unwrap_or_else(|_| Vec1::from(MessageDataItem::Flags(Vec::new())));
    Response::Data(Data::Fetch { seq, items })
}

/// Flags as FETCH reports them.
pub(crate) fn flag_list(flags: &Flags) -> Vec<FlagFetch<'static>> {
    let mut out: Vec<FlagFetch<'static>> = Vec::new();
    if flags.seen {
        out.push(FlagFetch::Flag(Flag::Seen));
    }
    if flags.answered {
        out.push(FlagFetch::Flag(Flag::Answered));
    }
    if flags.flagged {
        out.push(FlagFetch::Flag(Flag::Flagged));
    }
    if flags.deleted {
        out.push(FlagFetch::Flag(Flag::Deleted));
    }
    if flags.draft {
        out.push(FlagFetch::Flag(Flag::Draft));
    }
    for keyword in &flags.keywords {
        if let Ok(atom) = imap_types::core::Atom::try_from(keyword.clone()) {
            out.push(FlagFetch::Flag(Flag::Keyword(atom)));
        }
    }
    out
}
