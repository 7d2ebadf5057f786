//! SEARCH and UID SEARCH (RFC 3501 §6.4.4): every key, nested with NOT, OR
//! and parentheses. Keys on flags, dates, sizes, numbers and UIDs are
//! answered from the view; only the messages those leave undecided are read
//! and decoded (once each) for the content keys, so a search over a large
//! mailbox touches message bytes only where it must.

use std::num::NonZeroU32;

use chrono::{DateTime, NaiveDate, Utc};
use imap_types::core::{AString, Charset, Vec1};
use imap_types::response::{Data, Response};
use imap_types::search::SearchKey;
use tokio::io::{AsyncRead, AsyncWrite};

use super::mime::Searchable;
use super::session::{Done, Session, State};
use super::view::View;
use crate::net::conn::Interrupt;
use crate::store::mailboxes::EntryKey;

/// Messages whose bytes are read from the store at once.
const BATCH: usize = 256;

fn text(value: &AString<'_>) -> String {
    String::from_utf8_lossy(value.as_ref()).into_owned()
}

fn day(ms: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}

/// One message as the keys see it; `content` is None until it is needed.
struct Candidate<'a> {
    index: usize,
    view: &'a View,
    content: Option<&'a Searchable>,
}

/// A search key with its message sets resolved once against the view.
enum Key<'a> {
    And(Vec<Key<'a>>),
    Or(Box<Key<'a>>, Box<Key<'a>>),
    Not(Box<Key<'a>>),
    /// Which messages a sequence set or UID set names, by index.
    Set(Vec<bool>),
    Leaf(&'a SearchKey<'a>),
}

impl<'a> Key<'a> {
    fn new(key: &'a SearchKey<'a>, view: &View) -> Self {
        match key {
            SearchKey::And(keys) => {
                Key::And(keys.as_ref().iter().map(|k| Key::new(k, view)).collect())
            }
            SearchKey::Or(a, b) => {
                Key::Or(Box::new(Key::new(a, view)), Box::new(Key::new(b, view)))
            }
            SearchKey::Not(k) => Key::Not(Box::new(Key::new(k, view))),
            SearchKey::SequenceSet(set) | SearchKey::Uid(set) => {
                let uid = matches!(key, SearchKey::Uid(_));
                let mut hits = vec![false; view.len()];
                // A search may name numbers beyond the mailbox: they match nothing.
                for i in view.resolve_lenient(set, uid) {
                    hits[i] = true;
                }
                Key::Set(hits)
            }
            leaf => Key::Leaf(leaf),
        }
    }

    /// Evaluates the key; None when it depends on content not yet decoded.
    fn eval(&self, m: &Candidate<'_>) -> Option<bool> {
        match self {
            Key::And(keys) => {
                let mut unknown = false;
                for key in keys {
                    match key.eval(m) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(true) }
            }
            Key::Or(a, b) => match (a.eval(m), b.eval(m)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Key::Not(key) => key.eval(m).map(|b| !b),
            Key::Set(hits) => Some(hits.get(m.index).copied().unwrap_or(false)),
            Key::Leaf(key) => leaf(key, m),
        }
    }
}

/// A key that names no other keys.
fn leaf(key: &SearchKey<'_>, m: &Candidate<'_>) -> Option<bool> {
    let entry = &m.view.items[m.index].entry;
    let flags = &entry.flags;
    let content = |f: &dyn Fn(&Searchable) -> bool| m.content.map(f);
    // Without a usable Date: header the arrival date stands in, as in Dovecot.
    let sent = |s: &Searchable| s.sent_date().unwrap_or_else(|| day(entry.received_ms));
    Some(match key {
        SearchKey::All | SearchKey::Old => true,
        SearchKey::New | SearchKey::Recent => false,
        SearchKey::Answered => flags.answered,
        SearchKey::Deleted => flags.deleted,
        SearchKey::Draft => flags.draft,
        SearchKey::Flagged => flags.flagged,
        SearchKey::Seen => flags.seen,
        SearchKey::Unanswered => !flags.answered,
        SearchKey::Undeleted => !flags.deleted,
        SearchKey::Undraft => !flags.draft,
        SearchKey::Unflagged => !flags.flagged,
        SearchKey::Unseen => !flags.seen,
        SearchKey::Keyword(word) => flags.has_keyword(word.as_ref()),
        SearchKey::Unkeyword(word) => !flags.has_keyword(word.as_ref()),
        SearchKey::Larger(n) => entry.size > u64::from(*n),
        SearchKey::Smaller(n) => entry.size < u64::from(*n),
        SearchKey::Before(d) => day(entry.received_ms) < *d.as_ref(),
        SearchKey::On(d) => day(entry.received_ms) == *d.as_ref(),
        SearchKey::Since(d) => day(entry.received_ms) >= *d.as_ref(),
        SearchKey::SentBefore(d) => content(&|s| sent(s) < *d.as_ref())?,
        SearchKey::SentOn(d) => content(&|s| sent(s) == *d.as_ref())?,
        SearchKey::SentSince(d) => content(&|s| sent(s) >= *d.as_ref())?,
        SearchKey::Bcc(v) => content(&|s| s.bcc_contains(&text(v)))?,
        SearchKey::Cc(v) => content(&|s| s.cc_contains(&text(v)))?,
        SearchKey::From(v) => content(&|s| s.from_contains(&text(v)))?,
        SearchKey::To(v) => content(&|s| s.to_contains(&text(v)))?,
        SearchKey::Subject(v) => content(&|s| s.subject_contains(&text(v)))?,
        SearchKey::Header(field, v) => content(&|s| s.header_contains(&text(field), &text(v)))?,
        SearchKey::Body(v) => content(&|s| s.body_contains(&text(v)))?,
        SearchKey::Text(v) => content(&|s| s.text_contains(&text(v)))?,
        // Combinations are Key's.
        SearchKey::And(_)
        | SearchKey::Or(..)
        | SearchKey::Not(_)
        | SearchKey::SequenceSet(_)
        | SearchKey::Uid(_) => false,
    })
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(super) async fn search(
        &mut self,
        charset: Option<&Charset<'static>>,
        criteria: Vec1<SearchKey<'static>>,
        uid: bool,
    ) -> Result<Done, Interrupt> {
        if let Some(charset) = charset {
            let name = match charset {
                Charset::Atom(a) => a.as_ref().to_owned(),
                Charset::Quoted(q) => q.as_ref().to_owned(),
            };
            if !name.eq_ignore_ascii_case("UTF-8") && !name.eq_ignore_ascii_case("US-ASCII") {
                return Ok(Done::no("charset not supported").with(
                    imap_types::response::Code::badcharset(vec![
                        Charset::try_from("UTF-8").expect("a valid charset name"),
                    ]),
                ));
            }
        }
        let State::Selected { view, .. } = &self.state else {
            return Ok(Done::bad("no mailbox selected"));
        };
        let criteria = SearchKey::And(criteria);
        let key = Key::new(&criteria, view);
        let mut hits = Vec::new();
        let mut undecided = Vec::new();
        for index in 0..view.len() {
            if view.items[index].gone {
                continue;
            }
            let candidate = Candidate {
                index,
                view,
                content: None,
            };
            match key.eval(&candidate) {
                Some(true) => hits.push(index),
                Some(false) => {}
                None => undecided.push(index),
            }
        }
        let store = self.ctx.store.clone();
        for chunk in undecided.chunks(BATCH) {
            let keys: Vec<EntryKey> = chunk.iter().map(|&i| view.items[i].entry.key()).collect();
            let bodies = match store.imap_bodies(&view.folder, keys).await {
                Ok(bodies) => bodies,
                Err(e) => return Ok(Done::failed(&e)),
            };
            let decoded = tokio::task::spawn_blocking(move || {
                bodies
                    .into_iter()
                    .map(|b| b.map(|b| Searchable::new(&b)))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            for (&index, content) in chunk.iter().zip(&decoded) {
                let Some(content) = content else { continue };
                let candidate = Candidate {
                    index,
                    view,
                    content: Some(content),
                };
                if key.eval(&candidate) == Some(true) {
                    hits.push(index);
                }
            }
        }
        hits.sort_unstable();
        let numbers: Vec<NonZeroU32> = hits
            .into_iter()
            .filter_map(|i| {
                let n = if uid {
                    view.items[i].entry.uid
                } else {
                    u32::try_from(i + 1).ok()?
                };
                NonZeroU32::new(n)
            })
            .collect();
        self.wire.send(&Response::Data(Data::Search(numbers)));
        Ok(Done::ok("SEARCH completed"))
    }
}
