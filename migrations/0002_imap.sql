-- IMAP (SPEC §3, §6): each owner's folders, the UIDs of INBOX messages, and
-- the flags and folder copies of each owner. The owner is the login's address,
-- or '' for the catch-all.

-- INBOX UIDs. messages.id is a plain INTEGER PRIMARY KEY, which SQLite may hand
-- out again after the newest row is deleted; AUTOINCREMENT here never reuses a
-- value, so a UID names one message for the life of the database (RFC 3501
-- §2.3.1.1: UIDs are strictly ascending and never reused).
CREATE TABLE imap_uids (
    uid     INTEGER PRIMARY KEY AUTOINCREMENT,
    message INTEGER NOT NULL UNIQUE  -- messages.id
);
INSERT INTO imap_uids (message) SELECT id FROM messages ORDER BY id;

-- Each owner's mailboxes. INBOX has a row too, for its UIDVALIDITY and
-- subscription; its messages come from `messages` (see SPEC §3).
CREATE TABLE imap_mailboxes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT    NOT NULL COLLATE NOCASE,
    name        TEXT    NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uidnext     INTEGER NOT NULL DEFAULT 1,  -- folders; INBOX follows imap_uids
    subscribed  INTEGER NOT NULL DEFAULT 1,
    special     TEXT,                        -- SPECIAL-USE attribute (RFC 6154)
    UNIQUE (owner, name)
);

-- An owner's flags on an INBOX message: every flag for an address owner; for
-- the catch-all only those the message row does not hold (\Seen is
-- messages.is_read and keywords are tags). Space-separated.
CREATE TABLE imap_flags (
    owner   TEXT    NOT NULL COLLATE NOCASE,
    message INTEGER NOT NULL,  -- messages.id
    flags   TEXT    NOT NULL,
    PRIMARY KEY (owner, message)
) WITHOUT ROWID;
CREATE INDEX imap_flags_by_message ON imap_flags (message);

-- Messages in folders other than INBOX: copies that live on when the
-- original is deleted.
CREATE TABLE imap_messages (
    mailbox     INTEGER NOT NULL,  -- imap_mailboxes.id
    uid         INTEGER NOT NULL,
    flags       TEXT    NOT NULL,
    received_at INTEGER NOT NULL,  -- the INTERNALDATE, unix milliseconds
    served_size INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    PRIMARY KEY (mailbox, uid)
);

CREATE TRIGGER imap_uids_insert AFTER INSERT ON messages BEGIN
    INSERT INTO imap_uids (message) VALUES (NEW.id);
END;
CREATE TRIGGER imap_uids_delete AFTER DELETE ON messages BEGIN
    DELETE FROM imap_uids WHERE message = OLD.id;
    DELETE FROM imap_flags WHERE message = OLD.id;
END;
