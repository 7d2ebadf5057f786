//! The authenticated-state commands (RFC 3501 §6.3): SELECT, EXAMINE,
//! CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, LSUB, STATUS and
//! APPEND, over the owner's folders (SPEC §3). Selected-state commands are
//! passed on to [`selected`](super::selected).

use std::borrow::Cow;
use std::num::NonZeroU32;

use chrono::Utc;
use imap_types::command::CommandBody;
use imap_types::core::{Atom, QuotedChar};
use imap_types::extensions::binary::LiteralOrLiteral8;
use imap_types::flag::{Flag, FlagNameAttribute, FlagPerm};
use imap_types::mailbox::{ListMailbox, Mailbox};
use imap_types::response::{Code, Data, Response};
use imap_types::status::{StatusDataItem, StatusDataItemName};
use tokio::io::{AsyncRead, AsyncWrite};

use super::reply::{self, Kind, code};
use super::session::{Done, Session, State};
use super::view::View;
use crate::net::conn::Interrupt;
use crate::store::mailboxes::{DELIMITER, Flags, Folder, FolderError};
use crate::store::{Envelope, MessageId, NewMessage, Owner, Recipient};

/// A mailbox name as the store keeps it: `INBOX` in capitals, a trailing
/// delimiter dropped (RFC 3501 §6.3.3).
pub(super) fn mailbox_name(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_owned(),
        Mailbox::Other(other) => {
            let name = String::from_utf8_lossy(other.inner().as_ref()).into_owned();
            let name = name.trim_end_matches(DELIMITER).to_owned();
            if name.eq_ignore_ascii_case("INBOX") {
                "INBOX".to_owned()
            } else {
                name
            }
        }
    }
}

/// Whether a name can be a folder: no empty levels, no wildcards.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split(DELIMITER).all(|part| !part.is_empty())
        && !name.contains(['*', '%'])
        && !name.chars().any(char::is_control)
}

fn refused(why: FolderError) -> Done {
    match why {
        FolderError::Exists => Done::no("mailbox already exists").with(code("ALREADYEXISTS")),
        FolderError::Missing => Done::no("no such mailbox").with(code("NONEXISTENT")),
        FolderError::Inbox => Done::no("INBOX cannot be deleted or renamed").with(code("CANNOT")),
        FolderError::HasChildren => {
            Done::no("delete the mailboxes below it first").with(code("CANNOT"))
        }
    }
}

pub(super) fn missing() -> Done {
    Done::no("no such mailbox").with(code("NONEXISTENT"))
}

pub(super) fn wire_mailbox(name: &str) -> Mailbox<'static> {
    if name == "INBOX" {
        return Mailbox::Inbox;
    }
    Mailbox::try_from(name.to_owned()).unwrap_or(Mailbox::Inbox)
}

/// LIST's pattern match (RFC 3501 §6.3.8): `*` matches anything, `%`
/// anything but the delimiter.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| matches(rest, &name[i..])),
        Some((b'%', rest)) => (0..=name.len())
            .take_while(|&i| i == 0 || name[i - 1] != DELIMITER as u8)
            .any(|i| matches(rest, &name[i..])),
        Some((c, rest)) => name.first() == Some(c) && matches(rest, &name[1..]),
    }
}

fn attribute(name: &'static str) -> FlagNameAttribute<'static> {
    FlagNameAttribute::from(Atom::try_from(name).expect("attribute names are atoms"))
}

/// The flags every folder supports.
pub(super) fn system_flags() -> Vec<Flag<'static>> {
    vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ]
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(super) fn owner(&self) -> Option<Owner> {
        match &self.state {
            State::NotAuthenticated => None,
            State::Authenticated { owner } | State::Selected { owner, .. } => Some(owner.clone()),
        }
    }

    pub(super) async fn folder_command(
        &mut self,
        body: CommandBody<'static>,
    ) -> Result<Done, Interrupt> {
        let Some(owner) = self.owner() else {
            return Ok(Done::bad("log in first"));
        };
        let store = self.ctx.store.clone();
        let done = match body {
            CommandBody::Select { mailbox, .. } => self.select(&owner, &mailbox, false).await,
            CommandBody::Examine { mailbox, .. } => self.select(&owner, &mailbox, true).await,
            CommandBody::Create { mailbox } => {
                let name = mailbox_name(&mailbox);
                if !valid_name(&name) {
                    Done::no("invalid mailbox name").with(code("CANNOT"))
                } else {
                    match store.imap_create(&owner, &name).await {
                        Ok(Ok(())) => Done::ok("CREATE completed"),
                        Ok(Err(why)) => refused(why),
                        Err(e) => Done::failed(&e),
                    }
                }
            }
            CommandBody::Delete { mailbox } => {
                let name = mailbox_name(&mailbox);
                if let State::Selected { view, .. } = &self.state
                    && view.folder.name == name
                {
                    // Its view would point at nothing.
                    self.state = State::Authenticated {
                        owner: owner.clone(),
                    };
                }
                match store.imap_delete(&owner, &name).await {
                    Ok(Ok(())) => Done::ok("DELETE completed"),
                    Ok(Err(why)) => refused(why),
                    Err(e) => Done::failed(&e),
                }
            }
            CommandBody::Rename { from, to } => {
                let (from, to) = (mailbox_name(&from), mailbox_name(&to));
                if !valid_name(&to) {
                    Done::no("invalid mailbox name").with(code("CANNOT"))
                } else {
                    match store.imap_rename(&owner, &from, &to).await {
                        Ok(Ok(())) => {
                            if let State::Selected { view, .. } = &mut self.state
                                && view.folder.name == from
                            {
                                view.folder.name = to;
                            }
                            Done::ok("RENAME completed")
                        }
                        Ok(Err(why)) => refused(why),
                        Err(e) => Done::failed(&e),
                    }
                }
            }
            CommandBody::Subscribe { mailbox } => {
                match store
                    .imap_subscribe(&owner, &mailbox_name(&mailbox), true)
                    .await
                {
                    Ok(Ok(())) => Done::ok("SUBSCRIBE completed"),
                    Ok(Err(why)) => refused(why),
                    Err(e) => Done::failed(&e),
                }
            }
            CommandBody::Unsubscribe { mailbox } => {
                match store
                    .imap_subscribe(&owner, &mailbox_name(&mailbox), false)
                    .await
                {
                    Ok(Ok(())) => Done::ok("UNSUBSCRIBE completed"),
                    // RFC 3501 §6.3.7: unsubscribing a name that is gone is fine.
                    Ok(Err(_)) => Done::ok("UNSUBSCRIBE completed"),
                    Err(e) => Done::failed(&e),
                }
            }
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => {
                self.list(&owner, &reference, &mailbox_wildcard, false)
                    .await
            }
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => self.list(&owner, &reference, &mailbox_wildcard, true).await,
            CommandBody::Status {
                mailbox,
                item_names,
            } => self.status(&owner, &mailbox, &item_names).await,
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => {
                let data = match message {
                    LiteralOrLiteral8::Literal(literal) => literal.into_inner().into_owned(),
                    LiteralOrLiteral8::Literal8(literal) => literal.data.into_owned(),
                };
                let received = date.map_or_else(Utc::now, |d| d.as_ref().with_timezone(&Utc));
                self.append(&owner, &mailbox_name(&mailbox), &flags, received, data)
                    .await
            }
            body => return self.selected_command(body).await,
        };
        Ok(done)
    }

    async fn select(&mut self, owner: &Owner, mailbox: &Mailbox<'_>, read_only: bool) -> Done {
        // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
        self.state = State::Authenticated {
            owner: owner.clone(),
        };
        let store = &self.ctx.store;
        let name = mailbox_name(mailbox);
        let folder = match store.imap_folder(owner, &name).await {
            Ok(Some(folder)) => folder,
            Ok(None) => return missing(),
            Err(e) => return Done::failed(&e),
        };
        let (entries, uidnext) = match (
            store.imap_entries(owner, &folder, 0).await,
            store.imap_uidnext(owner, &folder).await,
        ) {
            (Ok(entries), Ok(uidnext)) => (entries, uidnext),
            (Err(e), _) | (_, Err(e)) => return Done::failed(&e),
        };
        let first_unseen = entries.iter().position(|e| !e.flags.seen);
        self.wire.send(&Response::Data(Data::Flags(system_flags())));
        let mut permanent: Vec<FlagPerm<'static>> =
            system_flags().into_iter().map(FlagPerm::Flag).collect();
        permanent.push(FlagPerm::Asterisk);
        let permanent = if read_only { Vec::new() } else { permanent };
        self.wire.send(&reply::status(
            None,
            Kind::Ok,
            Some(Code::PermanentFlags(permanent)),
            "flags permitted",
        ));
        self.wire.send(&reply::exists(entries.len()));
        self.wire.send(&Response::Data(Data::Recent(0)));
        if let Some(seq) = first_unseen
            && let Ok(code) = Code::unseen(seq as u32 + 1)
        {
            self.wire
                .send(&reply::status(None, Kind::Ok, Some(code), "first unseen"));
        }
        if let Ok(code) = Code::uidvalidity(folder.uidvalidity) {
            self.wire
                .send(&reply::status(None, Kind::Ok, Some(code), "UIDs valid"));
        }
        if let Ok(code) = Code::uidnext(uidnext) {
            self.wire.send(&reply::status(
                None,
                Kind::Ok,
                Some(code),
                "predicted next UID",
            ));
        }
        self.state = State::Selected {
            owner: owner.clone(),
            view: View::new(folder, read_only, entries),
        };
        if read_only {
            Done::ok("EXAMINE completed").with(Code::ReadOnly)
        } else {
            Done::ok("SELECT completed").with(Code::ReadWrite)
        }
    }

    async fn list(
        &mut self,
        owner: &Owner,
        reference: &Mailbox<'_>,
        wildcard: &ListMailbox<'_>,
        subscribed_only: bool,
    ) -> Done {
        let command = if subscribed_only { "LSUB" } else { "LIST" };
        let pattern: Vec<u8> = match wildcard {
            ListMailbox::Token(token) => token.as_ref().to_vec(),
            ListMailbox::String(s) => s.as_ref().to_vec(),
        };
        let delimiter = QuotedChar::try_from(DELIMITER).ok();
        if pattern.is_empty() && !subscribed_only {
            // RFC 3501 §6.3.8: the delimiter and the root of the reference.
            self.wire.send(&Response::Data(Data::List {
                items: vec![FlagNameAttribute::Noselect],
                delimiter,
                mailbox: Mailbox::try_from("").unwrap_or(Mailbox::Inbox),
            }));
            return Done::ok(format!("{command} completed"));
        }
        let reference = match reference {
            Mailbox::Inbox => "INBOX".to_owned(),
            Mailbox::Other(other) => String::from_utf8_lossy(other.inner().as_ref()).into_owned(),
        };
        let mut full = reference.into_bytes();
        full.extend_from_slice(&pattern);
        let folders = match self.ctx.store.imap_folders(owner).await {
            Ok(folders) => folders,
            Err(e) => return Done::failed(&e),
        };
        let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
        for folder in &folders {
            if subscribed_only && !folder.subscribed {
                continue;
            }
            let hit = if folder.is_inbox() {
                // INBOX is case-insensitive (RFC 3501 §5.1).
                matches(&full.to_ascii_uppercase(), b"INBOX")
            } else {
                matches(&full, folder.name.as_bytes())
            };
            if !hit {
                continue;
            }
            let prefix = format!("{}{DELIMITER}", folder.name);
            let children = names.iter().any(|n| n.starts_with(&prefix));
            let mut items = vec![attribute(if children {
                "HasChildren"
            } else {
                "HasNoChildren"
            })];
            if let Some(special) = &folder.special {
                items.push(special_attribute(special));
            }
            let mailbox = wire_mailbox(&folder.name);
            let data = if subscribed_only {
                Data::Lsub {
                    items,
                    delimiter,
                    mailbox,
                }
            } else {
                Data::List {
                    items,
                    delimiter,
                    mailbox,
                }
            };
            self.wire.send(&Response::Data(data));
        }
        Done::ok(format!("{command} completed"))
    }

    async fn status(
        &mut self,
        owner: &Owner,
        mailbox: &Mailbox<'_>,
        names: &[StatusDataItemName],
    ) -> Done {
        let store = &self.ctx.store;
        let folder = match store.imap_folder(owner, &mailbox_name(mailbox)).await {
            Ok(Some(folder)) => folder,
            Ok(None) => return missing(),
            Err(e) => return Done::failed(&e),
        };
        let entries = match store.imap_entries(owner, &folder, 0).await {
            Ok(entries) => entries,
            Err(e) => return Done::failed(&e),
        };
        let uidnext = match store.imap_uidnext(owner, &folder).await {
            Ok(n) => n,
            Err(e) => return Done::failed(&e),
        };
        let count =
            |f: &dyn Fn(&Flags) -> bool| entries.iter().filter(|e| f(&e.flags)).count() as u32;
        let mut items = Vec::new();
        for name in names {
            let item = match name {
                StatusDataItemName::Messages => StatusDataItem::Messages(entries.len() as u32),
                StatusDataItemName::Recent => StatusDataItem::Recent(0),
                StatusDataItemName::UidNext => {
                    StatusDataItem::UidNext(NonZeroU32::new(uidnext).unwrap_or(NonZeroU32::MIN))
                }
                StatusDataItemName::UidValidity => StatusDataItem::UidValidity(
                    NonZeroU32::new(folder.uidvalidity).unwrap_or(NonZeroU32::MIN),
                ),
                StatusDataItemName::Unseen => StatusDataItem::Unseen(count(&|f| !f.seen)),
                StatusDataItemName::Deleted => StatusDataItem::Deleted(count(&|f| f.deleted)),
                _ => continue,
            };
            items.push(item);
        }
        self.wire.send(&Response::Data(Data::Status {
            mailbox: wire_mailbox(&folder.name),
            items: Cow::Owned(items),
        }));
        Done::ok("STATUS completed")
    }

    async fn append(
        &mut self,
        owner: &Owner,
        name: &str,
        flags: &[Flag<'_>],
        received: chrono::DateTime<Utc>,
        data: Vec<u8>,
    ) -> Done {
        let store = self.ctx.store.clone();
        let folder = match store.imap_folder(owner, name).await {
            Ok(Some(folder)) => folder,
            Ok(None) => {
                return Done::no("no such mailbox").with(Code::TryCreate);
            }
            Err(e) => return Done::failed(&e),
        };
        let mut wanted = Flags::default();
        for flag in flags {
            wanted.insert(&flag.to_string());
        }
        if !folder.is_inbox() {
            return match store
                .imap_append(owner, name, data, wanted, received.timestamp_millis())
                .await
            {
                Ok(Ok(copied)) => appended(copied.uidvalidity, copied.uids.first().copied()),
                Ok(Err(why)) => refused(why),
                Err(e) => Done::failed(&e),
            };
        }
        // INBOX holds delivered mail: an appended message becomes one, to
        // the owner's address.
        match self.deliver(owner, &folder, data, wanted, received).await {
            Ok(uid) => appended(folder.uidvalidity, uid),
            Err(e) => Done::failed(&e),
        }
    }

    /// Stores a message into an owner's INBOX (APPEND, or COPY/MOVE into
    /// INBOX) with the given flags; returns its UID.
    pub(super) async fn deliver(
        &mut self,
        owner: &Owner,
        inbox: &Folder,
        data: Vec<u8>,
        flags: Flags,
        received: chrono::DateTime<Utc>,
    ) -> Result<Option<u32>, crate::store::Error> {
        let store = self.ctx.store.clone();
        let recipients = match owner {
            Owner::CatchAll => Vec::new(),
            Owner::Address(address) => vec![Recipient::new(address.clone())],
        };
        let envelope = Envelope {
            mail_from: String::new(),
            recipients,
            helo: "IMAP APPEND".to_owned(),
            client_addr: self.peer().to_string(),
            auth_user: None,
            tls: self.is_tls(),
            dsn_ret: None,
            dsn_envid: None,
        };
        let message = tokio::task::spawn_blocking(move || {
            NewMessage::new(MessageId::generate(), received, envelope, data)
        })
        .await
        .map_err(|_| crate::store::Error::Closed)?;
        let meta = store.insert(message).await?;
        let Some(uid) = store.imap_uid_of(owner, &meta.id).await? else {
            return Ok(None);
        };
        if flags != Flags::default() {
            let entries = store.imap_entries(owner, inbox, uid - 1).await?;
            if let Some(entry) = entries.iter().find(|e| e.uid == uid) {
                store
                    .imap_set_flags(owner, inbox, vec![(entry.key(), flags)])
                    .await?;
            }
        }
        Ok(Some(uid))
    }
}

fn appended(uidvalidity: u32, uid: Option<u32>) -> Done {
    match (NonZeroU32::new(uidvalidity), uid.and_then(NonZeroU32::new)) {
        (Some(uid_validity), Some(uid)) => {
            Done::ok("APPEND completed").with(Code::AppendUid { uid_validity, uid })
        }
        _ => Done::ok("APPEND completed"),
    }
}

/// The RFC 6154 attribute (the extension atom is encoded after a backslash).
fn special_attribute(special: &str) -> FlagNameAttribute<'static> {
    match special {
        "\\Sent" => attribute("Sent"),
        "\\Drafts" => attribute("Drafts"),
        "\\Trash" => attribute("Trash"),
        _ => attribute("Junk"),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn list_patterns() {
        assert!(matches(b"*", b"a/b/c"));
        assert!(matches(b"%", b"Sent"));
        assert!(!matches(b"%", b"a/b"));
        assert!(matches(b"a/%", b"a/b"));
        assert!(matches(b"a*", b"a/b"));
        assert!(!matches(b"b*", b"a/b"));
        assert!(matches(b"INBOX", b"INBOX"));
    }
}
