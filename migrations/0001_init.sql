-- One row per accepted message: the envelope, the parsed summary that listing
-- and search read, and the bytes. The bytes are the last column so reading the
-- other columns never touches a large message's overflow pages.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,      -- arrival order
    public_id      TEXT    NOT NULL UNIQUE,  -- the ID in SMTP replies, the API and the UI
    received_at    INTEGER NOT NULL,         -- unix time, milliseconds
    size           INTEGER NOT NULL,         -- length of data
    served_size    INTEGER NOT NULL,         -- length with bare LFs as CRLF, as POP3 and IMAP serve it
    is_read        INTEGER NOT NULL DEFAULT 0,
    mail_from      TEXT    NOT NULL,         -- reverse-path, '' for the null sender
    rcpt_to        TEXT    NOT NULL,         -- JSON: every RCPT TO in order, with DSN parameters
    helo           TEXT    NOT NULL,
    client_addr    TEXT    NOT NULL,
    auth_user      TEXT,
    tls            INTEGER NOT NULL,
    dsn_ret        TEXT,                     -- RFC 3461 RET and ENVID
    dsn_envid      TEXT,
    subject        TEXT    NOT NULL,
    from_addr      TEXT,                     -- JSON {"Name","Address"}
    to_addrs       TEXT    NOT NULL,         -- JSON arrays of the same
    cc_addrs       TEXT    NOT NULL,
    bcc_addrs      TEXT    NOT NULL,         -- header Bcc plus envelope-only recipients
    reply_to_addrs TEXT    NOT NULL,
    sent_at        INTEGER,                  -- Date: header, unix seconds
    message_id     TEXT,                     -- Message-ID: header
    attachments    INTEGER NOT NULL,
    inline_parts   INTEGER NOT NULL,
    snippet        TEXT    NOT NULL,
    data           BLOB    NOT NULL          -- trace headers, then the client's bytes unchanged
);
-- The mailbox counts, kept by triggers so reading them costs nothing at any size.
CREATE TABLE totals (messages INTEGER NOT NULL, unread INTEGER NOT NULL);
INSERT INTO totals (messages, unread) VALUES (0, 0);
CREATE TRIGGER totals_insert AFTER INSERT ON messages BEGIN
    UPDATE totals SET messages = messages + 1, unread = unread + (NEW.is_read = 0);
END;
CREATE TRIGGER totals_delete AFTER DELETE ON messages BEGIN
    UPDATE totals SET messages = messages - 1, unread = unread - (OLD.is_read = 0);
END;
CREATE TRIGGER totals_read AFTER UPDATE OF is_read ON messages
WHEN OLD.is_read != NEW.is_read BEGIN
    UPDATE totals SET unread = unread + (NEW.is_read = 0) - (OLD.is_read = 0);
END;

-- Envelope recipients by address: the mailboxes of address logins (POP3, IMAP).
CREATE TABLE recipients (
    address TEXT    NOT NULL COLLATE NOCASE,
    message INTEGER NOT NULL,  -- messages.id
    PRIMARY KEY (address, message)
) WITHOUT ROWID;

-- Messages an address login removed from its own mailbox; everyone else
-- still sees them.
CREATE TABLE hidden (
    owner   TEXT    NOT NULL COLLATE NOCASE,
    message INTEGER NOT NULL,  -- messages.id
    PRIMARY KEY (owner, message)
) WITHOUT ROWID;

-- Tags, shared by every message; names compare case-insensitively.
CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE message_tags (
    message INTEGER NOT NULL,  -- messages.id
    tag     INTEGER NOT NULL,  -- tags.id
    PRIMARY KEY (message, tag)
) WITHOUT ROWID;
CREATE INDEX message_tags_by_tag ON message_tags (tag, message);

-- Full-text indexes; rowid = messages.id. Contentless: the text lives in `data`.
-- The short fields use trigrams, which find any substring of three characters
-- or more (a part of an address, say), as Mailpit's searches do.
CREATE VIRTUAL TABLE search USING fts5 (
    subject, from_addr, to_addrs, cc_addrs, bcc_addrs, reply_to, headers, files,
    content = '', contentless_delete = 1,
    tokenize = 'trigram remove_diacritics 1'
);
-- Bodies are indexed by word: trigrams of every long body would cost more
-- than everything else a message costs put together.
CREATE VIRTUAL TABLE search_body USING fts5 (
    body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- How far the full-text index reaches: messages with a larger id are indexed
-- again from their bytes at start-up (the writer indexes in batches).
CREATE TABLE search_state (indexed_through INTEGER NOT NULL);
INSERT INTO search_state (indexed_through) VALUES (0);
