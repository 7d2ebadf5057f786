//! The values of IMAP's view of the store (SPEC §3, §6): an owner's folders,
//! the messages in one of them with their UIDs and flags, and the outcomes of
//! folder changes. The SQL behind them is in [`imap`](super::imap).

use super::Error;
use super::imap::{Change, Outcome};
use super::imap_reads;
use super::model::{MessageId, Owner};
use super::writer::Job;

/// The folders every owner has from the first login, with their RFC 6154
/// SPECIAL-USE attributes.
pub const SPECIAL_FOLDERS: [(&str, &str); 4] = [
    ("Sent", "\\Sent"),
    ("Drafts", "\\Drafts"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
];

/// The hierarchy delimiter of folder names.
pub const DELIMITER: char = '/';

/// The key of an owner in the IMAP tables: the address, or '' for the catch-all.
pub(crate) fn owner_key(owner: &Owner) -> &str {
    match owner {
        Owner::CatchAll => "",
        Owner::Address(address) => address,
    }
}

/// One of an owner's folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub(crate) id: i64,
    /// `INBOX`, or a path of names joined by [`DELIMITER`].
    pub name: String,
    pub uidvalidity: u32,
    pub subscribed: bool,
    /// The SPECIAL-USE attribute (`\Sent`…), if any.
    pub special: Option<String>,
}

impl Folder {
    /// Whether this is the owner's INBOX, whose messages are the mail
    /// delivered to the owner rather than copies.
    pub fn is_inbox(&self) -> bool {
        self.name == "INBOX"
    }
}

/// A message's flags as one owner sees them. `\Recent` is never set: every
/// session sees mail as it arrives, so no session can claim it alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub seen: bool,
    pub answered: bool,
    pub flagged: bool,
    pub deleted: bool,
    pub draft: bool,
    /// Keywords, in the order they were set, without duplicates (compared
    /// case-insensitively).
    pub keywords: Vec<String>,
}

impl Flags {
    /// Parses the stored form: flag names separated by spaces.
    pub(crate) fn parse(text: &str) -> Self {
        let mut flags = Self::default();
        for name in text.split(' ').filter(|n| !n.is_empty()) {
            flags.insert(name);
        }
        flags
    }

    /// Sets a flag by its IMAP name (`\Seen`, or a keyword).
    pub fn insert(&mut self, name: &str) {
        match system(name) {
            Some(System::Seen) => self.seen = true,
            Some(System::Answered) => self.answered = true,
            Some(System::Flagged) => self.flagged = true,
            Some(System::Deleted) => self.deleted = true,
            Some(System::Draft) => self.draft = true,
            None => {
                if !name.starts_with('\\') && !self.has_keyword(name) {
                    self.keywords.push(name.to_owned());
                }
            }
        }
    }

    /// Clears a flag by its IMAP name.
    pub fn remove(&mut self, name: &str) {
        match system(name) {
            Some(System::Seen) => self.seen = false,
            Some(System::Answered) => self.answered = false,
            Some(System::Flagged) => self.flagged = false,
            Some(System::Deleted) => self.deleted = false,
            Some(System::Draft) => self.draft = false,
            None => self.keywords.retain(|k| !k.eq_ignore_ascii_case(name)),
        }
    }

    /// Whether a keyword is set (case-insensitively, RFC 3501 §2.3.2).
    pub fn has_keyword(&self, name: &str) -> bool {
        self.keywords.iter().any(|k| k.eq_ignore_ascii_case(name))
    }

    /// The system flags that are set, by name.
    pub fn system_names(&self) -> Vec<&'static str> {
        [
            (self.seen, "\\Seen"),
            (self.answered, "\\Answered"),
            (self.flagged, "\\Flagged"),
            (self.deleted, "\\Deleted"),
            (self.draft, "\\Draft"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    /// The stored form: every flag, or every flag but \Seen and the keywords
    /// (the catch-all keeps those on the message row).
    pub(crate) fn to_text(&self, all: bool) -> String {
        let mut names: Vec<&str> = self
            .system_names()
            .into_iter()
            .filter(|n| all || *n != "\\Seen")
            .collect();
        if all {
            names.extend(self.keywords.iter().map(String::as_str));
        }
        names.join(" ")
    }
}

enum System {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
}

fn system(name: &str) -> Option<System> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "\\seen" => System::Seen,
        "\\answered" => System::Answered,
        "\\flagged" => System::Flagged,
        "\\deleted" => System::Deleted,
        "\\draft" => System::Draft,
        _ => return None,
    })
}

/// Whether a tag can be shown as an IMAP keyword (an atom, RFC 3501 §9).
pub fn is_keyword(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
        })
}

/// One message in a folder, as a session's view holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub uid: u32,
    /// The message row for INBOX entries; 0 in other folders.
    pub(crate) message: i64,
    pub flags: Flags,
    /// The INTERNALDATE, unix milliseconds.
    pub received_ms: i64,
    /// Size as served (CRLF line ends).
    pub size: u64,
}

/// Where an entry's bytes live: what [`Store::imap_bodies`](super::Store::imap_bodies) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryKey {
    pub(crate) uid: u32,
    pub(crate) message: i64,
}

impl Entry {
    pub fn key(&self) -> EntryKey {
        EntryKey {
            uid: self.uid,
            message: self.message,
        }
    }
}

/// Why a folder change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FolderError {
    #[error("mailbox already exists")]
    Exists,
    #[error("no such mailbox")]
    Missing,
    #[error("INBOX cannot be changed that way")]
    Inbox,
    #[error("mailbox has children")]
    HasChildren,
}

/// What a COPY or APPEND into a folder assigned (RFC 4315 UIDPLUS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub uidvalidity: u32,
    /// The new UIDs, in the order of the source entries.
    pub uids: Vec<u32>,
}

/// The messages and unseen count of a folder, and its next UID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    pub messages: u32,
    pub unseen: u32,
    pub uidnext: u32,
    pub uidvalidity: u32,
}

/// A folder change's result: done, or refused for a reason the client hears.
pub type Refusable<T> = Result<T, FolderError>;

impl super::Store {
    /// Creates the owner's INBOX and special folders on first use.
    pub async fn imap_setup(&self, owner: &Owner) -> Result<(), Error> {
        // Most logins find their folders there: a read spares the writer.
        if !self.imap_folders(owner).await?.is_empty() {
            return Ok(());
        }
        self.imap_change(owner, Change::Setup).await.map(|_| ())
    }

    /// The owner's folders, INBOX first.
    pub async fn imap_folders(&self, owner: &Owner) -> Result<Vec<Folder>, Error> {
        let owner = owner_key(owner).to_owned();
        self.read(move |conn| imap_reads::folders(conn, &owner))
            .await
    }

    /// One of the owner's folders by name (`INBOX` in any case).
    pub async fn imap_folder(&self, owner: &Owner, name: &str) -> Result<Option<Folder>, Error> {
        let owner = owner_key(owner).to_owned();
        let name = name.to_owned();
        self.read(move |conn| imap_reads::folder(conn, &owner, &name))
            .await
    }

    /// The entries of a folder with a UID above `after`, by UID.
    pub async fn imap_entries(
        &self,
        owner: &Owner,
        folder: &Folder,
        after: u32,
    ) -> Result<Vec<Entry>, Error> {
        let owner = owner_key(owner).to_owned();
        let folder = folder.clone();
        self.read(move |conn| imap_reads::entries(conn, &owner, &folder, after))
            .await
    }

    /// A folder's next UID.
    pub async fn imap_uidnext(&self, owner: &Owner, folder: &Folder) -> Result<u32, Error> {
        let owner = owner_key(owner).to_owned();
        let folder = folder.clone();
        self.read(move |conn| imap_reads::uidnext(conn, &owner, &folder))
            .await
    }

    /// A folder's counts (STATUS).
    pub async fn imap_status(&self, owner: &Owner, folder: &Folder) -> Result<FolderStatus, Error> {
        let owner = owner_key(owner).to_owned();
        let folder = folder.clone();
        self.read(move |conn| imap_reads::status(conn, &owner, &folder))
            .await
    }

    /// The stored bytes of entries, in order (None for one that is gone).
    pub async fn imap_bodies(
        &self,
        folder: &Folder,
        keys: Vec<EntryKey>,
    ) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let folder = folder.clone();
        self.read(move |conn| imap_reads::bodies(conn, &folder, &keys))
            .await
    }

    /// The UID of a stored message in the owner's INBOX.
    pub async fn imap_uid_of(&self, owner: &Owner, id: &MessageId) -> Result<Option<u32>, Error> {
        let owner = owner_key(owner).to_owned();
        let id = id.clone();
        self.read(move |conn| imap_reads::uid_of(conn, &owner, &id))
            .await
    }

    /// Creates a folder (and its missing superiors).
    pub async fn imap_create(&self, owner: &Owner, name: &str) -> Result<Refusable<()>, Error> {
        self.imap_done(owner, Change::Create(name.to_owned())).await
    }

    /// Deletes a folder and the messages in it.
    pub async fn imap_delete(&self, owner: &Owner, name: &str) -> Result<Refusable<()>, Error> {
        self.imap_done(owner, Change::Delete(name.to_owned())).await
    }

    /// Renames a folder and the folders below it.
    pub async fn imap_rename(
        &self,
        owner: &Owner,
        from: &str,
        to: &str,
    ) -> Result<Refusable<()>, Error> {
        self.imap_done(owner, Change::Rename(from.to_owned(), to.to_owned()))
            .await
    }

    /// Subscribes to a folder or unsubscribes from it.
    pub async fn imap_subscribe(
        &self,
        owner: &Owner,
        name: &str,
        on: bool,
    ) -> Result<Refusable<()>, Error> {
        self.imap_done(owner, Change::Subscribe(name.to_owned(), on))
            .await
    }

    /// Sets each entry's flags to exactly the given ones.
    pub async fn imap_set_flags(
        &self,
        owner: &Owner,
        folder: &Folder,
        entries: Vec<(EntryKey, Flags)>,
    ) -> Result<(), Error> {
        self.imap_change(owner, Change::SetFlags(folder.clone(), entries))
            .await
            .map(|_| ())
    }

    /// Removes entries from a folder: for the catch-all's INBOX the messages
    /// are deleted for everyone; an address only stops seeing them (SPEC §3).
    pub async fn imap_expunge(
        &self,
        owner: &Owner,
        folder: &Folder,
        keys: Vec<EntryKey>,
    ) -> Result<(), Error> {
        self.imap_change(owner, Change::Expunge(folder.clone(), keys))
            .await
            .map(|_| ())
    }

    /// Copies entries (with the given flags) into another folder, not INBOX.
    pub async fn imap_copy(
        &self,
        owner: &Owner,
        from: &Folder,
        entries: Vec<(EntryKey, Flags)>,
        to: &str,
    ) -> Result<Refusable<Copied>, Error> {
        self.imap_copied(owner, Change::Copy(from.clone(), entries, to.to_owned()))
            .await
    }

    /// Adds a message to a folder other than INBOX.
    pub async fn imap_append(
        &self,
        owner: &Owner,
        folder: &str,
        data: Vec<u8>,
        flags: Flags,
        received_ms: i64,
    ) -> Result<Refusable<Copied>, Error> {
        let change = Change::Append {
            folder: folder.to_owned(),
            data,
            flags,
            received_ms,
        };
        self.imap_copied(owner, change).await
    }

    async fn imap_change(&self, owner: &Owner, change: Change) -> Result<Outcome, Error> {
        let owner = owner_key(owner).to_owned();
        self.submit(|reply| Job::Imap(owner, change, reply)).await
    }

    async fn imap_done(&self, owner: &Owner, change: Change) -> Result<Refusable<()>, Error> {
        Ok(match self.imap_change(owner, change).await? {
            Outcome::Refused(why) => Err(why),
            _ => Ok(()),
        })
    }

    async fn imap_copied(&self, owner: &Owner, change: Change) -> Result<Refusable<Copied>, Error> {
        Ok(match self.imap_change(owner, change).await? {
            Outcome::Refused(why) => Err(why),
            Outcome::Copied(copied) => Ok(copied),
            Outcome::Done => Ok(Copied {
                uidvalidity: 0,
                uids: Vec::new(),
            }),
        })
    }
}
