-- IMAP (SPEC §3, §6): each owner's folders, the UIDs of INBOX messages, and
-- the flags and folder copies of each owner. The owner is the login's address,
-- or '' for the catch-all.

-- The catch-all's INBOX UIDs (its INBOX is every message). messages.id is a
-- plain INTEGER PRIMARY KEY, which SQLite may hand out again after the newest
-- row is deleted; AUTOINCREMENT here never reuses a value, so a UID names one
-- message for the life of the database (RFC 3501 §2.3.1.1: UIDs are strictly
-- ascending and never reused).
CREATE TABLE imap_uids (
    uid     INTEGER PRIMARY KEY AUTOINCREMENT,
    message INTEGER NOT NULL UNIQUE  -- messages.id
);
INSERT INTO imap_uids (message) SELECT id FROM messages ORDER BY id;

-- Each address's INBOX UIDs, numbered 1, 2, 3… in the order its mail arrived,
-- from a counter that only grows: so an address's UIDNEXT changes exactly
-- when mail for it arrives (RFC 3501 §2.3.1.1), and deleted mail never gives
-- its UID back.
CREATE TABLE imap_address_uids (
    owner   TEXT    NOT NULL COLLATE NOCASE,
    uid     INTEGER NOT NULL,
    message INTEGER NOT NULL,  -- messages.id
    PRIMARY KEY (owner, uid)
) WITHOUT ROWID;
CREATE INDEX imap_address_uids_by_message ON imap_address_uids (message);
CREATE TABLE imap_address_next (
    owner TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    next  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO imap_address_uids (owner, uid, message)
    SELECT address, row_number() OVER (PARTITION BY address ORDER BY message), message
    FROM recipients;
INSERT INTO imap_address_next (owner, next)
    SELECT owner, max(uid) + 1 FROM imap_address_uids GROUP BY owner;
CREATE TRIGGER imap_address_uid AFTER INSERT ON recipients BEGIN
    INSERT OR IGNORE INTO imap_address_next (owner, next) VALUES (NEW.address, 1);
    INSERT INTO imap_address_uids (owner, uid, message)
        SELECT NEW.address, next, NEW.message FROM imap_address_next WHERE owner = NEW.address;
    UPDATE imap_address_next SET next = next + 1 WHERE owner = NEW.address;
END;
CREATE TRIGGER imap_address_uid_gone AFTER DELETE ON recipients BEGIN
    DELETE FROM imap_address_uids WHERE message = OLD.message AND owner = OLD.address;
END;

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
