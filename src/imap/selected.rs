//! The selected-state commands (RFC 3501 §6.4, RFC 4315, RFC 6851, RFC
//! 3691): CHECK, CLOSE, UNSELECT, EXPUNGE, UID EXPUNGE, STORE, COPY and
//! MOVE. FETCH and SEARCH have files of their own.

use std::num::NonZeroU32;

use imap_types::command::CommandBody;
use imap_types::core::Vec1;
use imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_types::fetch::MessageDataItem;
use imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_types::mailbox::Mailbox;
use imap_types::response::Code;
use imap_types::sequence::SequenceSet;
use tokio::io::{AsyncRead, AsyncWrite};

use super::folders::mailbox_name;
use super::reply::{self, Kind, code};
use super::session::{Done, Session, State};
use super::view::{fetch_response, flag_list};
use crate::net::conn::Interrupt;
use crate::store::mailboxes::{EntryKey, Flags};

fn bad_set() -> Done {
    Done::bad("invalid message sequence number").with(code("CLIENTBUG"))
}

fn read_only() -> Done {
    Done::no("mailbox is read-only").with(code("READ-ONLY"))
}

/// A UID set for COPYUID, in the order given.
fn uid_set(uids: &[u32]) -> Option<UidSet> {
    let elements: Vec<UidElement> = uids
        .iter()
        .filter_map(|&u| NonZeroU32::new(u))
        .map(UidElement::Single)
        .collect();
    Vec1::try_from(elements).ok().map(UidSet)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(super) async fn selected_command(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<Done, Interrupt> {
        let State::Selected { owner, .. } = &self.state else {
            return Ok(match body {
                CommandBody::Check
                | CommandBody::Close
                | CommandBody::Unselect
                | CommandBody::Expunge
                | CommandBody::ExpungeUid { .. }
                | CommandBody::Search { .. }
                | CommandBody::Fetch { .. }
                | CommandBody::Store { .. }
                | CommandBody::Copy { .. }
                | CommandBody::Move { .. } => Done::bad("no mailbox selected"),
                _ => Done::bad("command not supported"),
            });
        };
        let owner = owner.clone();
        Ok(match body {
            CommandBody::Check => Done::ok("CHECK completed"),
            CommandBody::Close => {
                if let State::Selected { view, .. } = &self.state
                    && !view.read_only
                {
                    // RFC 3501 §6.4.2: expunge silently, no responses.
                    let keys: Vec<EntryKey> = view
                        .items
                        .iter()
                        .filter(|i| i.entry.flags.deleted && !i.gone)
                        .map(|i| i.entry.key())
                        .collect();
                    if !keys.is_empty()
                        && let Err(e) = self
                            .ctx
                            .store
                            .imap_expunge(&owner, &view.folder, keys)
                            .await
                    {
                        return Ok(Done::failed(&e));
                    }
                }
                self.state = State::Authenticated { owner };
                Done::ok("CLOSE completed")
            }
            CommandBody::Unselect => {
                self.state = State::Authenticated { owner };
                Done::ok("UNSELECT completed")
            }
            CommandBody::Expunge => self.expunge(None).await,
            CommandBody::ExpungeUid { sequence_set } => self.expunge(Some(&sequence_set)).await,
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                ..
            } => {
                self.store(&sequence_set, &kind, &response, &flags, uid)
                    .await
            }
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, &mailbox, uid, false).await,
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, &mailbox, uid, true).await,
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                ..
            } => self.fetch(&sequence_set, macro_or_item_names, uid).await?,
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => self.search(charset.as_ref(), criteria, uid).await?,
            _ => Done::bad("command not supported"),
        })
    }

    /// EXPUNGE, or UID EXPUNGE of the messages in `uids` (RFC 4315 §2.1).
    async fn expunge(&mut self, uids: Option<&SequenceSet>) -> Done {
        let State::Selected { owner, view } = &mut self.state else {
            return Done::bad("no mailbox selected");
        };
        if view.read_only {
            return read_only();
        }
        let allowed = match uids {
            Some(set) => match view.resolve(set, true) {
                Some(indexes) => indexes,
                None => return bad_set(),
            },
            None => (0..view.len()).collect(),
        };
        let targets: Vec<usize> = allowed
            .into_iter()
            .filter(|&i| view.items[i].entry.flags.deleted && !view.items[i].gone)
            .collect();
        if !targets.is_empty() {
            let keys = targets.iter().map(|&i| view.items[i].entry.key()).collect();
            if let Err(e) = self.ctx.store.imap_expunge(owner, &view.folder, keys).await {
                return Done::failed(&e);
            }
            for &i in &targets {
                view.items[i].gone = true;
            }
        }
        // Every removal the client may now hear of, its own and others'.
        for response in view.take_gone() {
            self.wire.send(&response);
        }
        Done::ok("EXPUNGE completed")
    }

    async fn store(
        &mut self,
        set: &SequenceSet,
        kind: &StoreType,
        response: &StoreResponse,
        flags: &[Flag<'static>],
        uid: bool,
    ) -> Done {
        let State::Selected { owner, view } = &mut self.state else {
            return Done::bad("no mailbox selected");
        };
        let Some(indexes) = view.resolve(set, uid) else {
            return bad_set();
        };
        if view.read_only {
            return read_only();
        }
        let names: Vec<String> = flags.iter().map(ToString::to_string).collect();
        if names.iter().any(|n| n.eq_ignore_ascii_case("\\Recent")) {
            return Done::bad("\\Recent cannot be stored").with(code("CLIENTBUG"));
        }
        let mut changes = Vec::new();
        let mut updated = Vec::new();
        for &i in &indexes {
            if view.items[i].gone {
                continue;
            }
            let current = &view.items[i].entry.flags;
            let mut next = match kind {
                StoreType::Replace => Flags::default(),
                StoreType::Add | StoreType::Remove => current.clone(),
            };
            for name in &names {
                match kind {
                    StoreType::Replace | StoreType::Add => next.insert(name),
                    StoreType::Remove => next.remove(name),
                }
            }
            if &next != current {
                changes.push((view.items[i].entry.key(), next.clone()));
            }
            updated.push((i, next));
        }
        if !changes.is_empty()
            && let Err(e) = self
                .ctx
                .store
                .imap_set_flags(owner, &view.folder, changes)
                .await
        {
            return Done::failed(&e);
        }
        for (i, flags) in updated {
            view.items[i].entry.flags = flags;
            if matches!(response, StoreResponse::Answer) {
                let entry = &view.items[i].entry;
                let mut items = vec![MessageDataItem::Flags(flag_list(&entry.flags))];
                if uid && let Some(u) = NonZeroU32::new(entry.uid) {
                    items.push(MessageDataItem::Uid(u));
                }
                self.wire.send(&fetch_response(i + 1, items));
            }
        }
        Done::ok("STORE completed")
    }

    /// COPY, or MOVE when `moving` (RFC 6851: copy, then expunge the sources).
    async fn copy(
        &mut self,
        set: &SequenceSet,
        mailbox: &Mailbox<'static>,
        uid: bool,
        moving: bool,
    ) -> Done {
        let State::Selected { owner, view } = &self.state else {
            return Done::bad("no mailbox selected");
        };
        let owner = owner.clone();
        let Some(indexes) = view.resolve(set, uid) else {
            return bad_set();
        };
        if moving && view.read_only {
            return read_only();
        }
        let source = view.folder.clone();
        let picked: Vec<(usize, u32, EntryKey, Flags, i64)> = indexes
            .into_iter()
            .filter(|&i| !view.items[i].gone)
            .map(|i| {
                let e = &view.items[i].entry;
                (i, e.uid, e.key(), e.flags.clone(), e.received_ms)
            })
            .collect();
        let verb = if moving { "MOVE" } else { "COPY" };
        if picked.is_empty() {
            return Done::ok(format!("{verb} completed (nothing to do)"));
        }
        let store = self.ctx.store.clone();
        let target = mailbox_name(mailbox);
        let folder = match store.imap_folder(&owner, &target).await {
            Ok(Some(folder)) => folder,
            Ok(None) => return Done::no("no such mailbox").with(Code::TryCreate),
            Err(e) => return Done::failed(&e),
        };
        let copied = if folder.is_inbox() {
            let keys = picked.iter().map(|p| p.2).collect();
            let bodies = match store.imap_bodies(&source, keys).await {
                Ok(bodies) => bodies,
                Err(e) => return Done::failed(&e),
            };
            let mut uids = Vec::new();
            for (body, pick) in bodies.into_iter().zip(&picked) {
                let Some(body) = body else { continue };
                let received = chrono::DateTime::from_timestamp_millis(pick.4)
                    .unwrap_or_else(chrono::Utc::now);
                match self
                    .deliver(&owner, &folder, body, pick.3.clone(), received)
                    .await
                {
                    Ok(Some(uid)) => uids.push(uid),
                    Ok(None) => {}
                    Err(e) => return Done::failed(&e),
                }
            }
            crate::store::mailboxes::Copied {
                uidvalidity: folder.uidvalidity,
                uids,
            }
        } else {
            let entries = picked.iter().map(|p| (p.2, p.3.clone())).collect();
            match store.imap_copy(&owner, &source, entries, &target).await {
                Ok(Ok(copied)) => copied,
                Ok(Err(_)) => return Done::no("no such mailbox").with(Code::TryCreate),
                Err(e) => return Done::failed(&e),
            }
        };
        let sources: Vec<u32> = picked.iter().map(|p| p.1).collect();
        let copyuid = match (
            NonZeroU32::new(copied.uidvalidity),
            uid_set(&sources),
            uid_set(&copied.uids),
        ) {
            (Some(uid_validity), Some(source), Some(destination))
                if copied.uids.len() == sources.len() =>
            {
                Some(Code::CopyUid {
                    uid_validity,
                    source,
                    destination,
                })
            }
            _ => None,
        };
        if !moving {
            let done = Done::ok("COPY completed");
            return match copyuid {
                Some(code) => done.with(code),
                None => done,
            };
        }
        if let Some(code) = copyuid {
            // RFC 6851 §4.3: COPYUID comes untagged, before the EXPUNGEs.
            self.wire
                .send(&reply::status(None, Kind::Ok, Some(code), "moved"));
        }
        let keys: Vec<EntryKey> = picked.iter().map(|p| p.2).collect();
        if let Err(e) = store.imap_expunge(&owner, &source, keys).await {
            return Done::failed(&e);
        }
        if let State::Selected { view, .. } = &mut self.state {
            for pick in &picked {
                if let Some(item) = view.items.get_mut(pick.0) {
                    item.gone = true;
                }
            }
            for response in view.take_gone() {
                self.wire.send(&response);
            }
        }
        Done::ok("MOVE completed")
    }
}
