-- One row per accepted message: the envelope and the parsed summary that
-- listing and search read without touching the message bytes.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,      -- arrival order
    public_id      TEXT    NOT NULL UNIQUE,  -- the ID in SMTP replies, the API and the UI
    received_at    INTEGER NOT NULL,         -- unix time, milliseconds
    size           INTEGER NOT NULL,         -- length of raw.data
    is_read        INTEGER NOT NULL DEFAULT 0,
    mail_from      TEXT    NOT NULL,         -- reverse-path, '' for the null sender
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
    snippet        TEXT    NOT NULL
);
CREATE INDEX messages_received_at ON messages (received_at);

-- Every RCPT TO of the envelope, in order, with its DSN parameters.
CREATE TABLE recipients (
    message  INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    address  TEXT    NOT NULL,
    notify   TEXT,
    orcpt    TEXT,
    PRIMARY KEY (message, position)
) WITHOUT ROWID;
CREATE INDEX recipients_address ON recipients (address COLLATE NOCASE, message);

-- The bytes as stored: trace headers followed by the client's bytes unchanged.
CREATE TABLE raw (
    message INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    data    BLOB    NOT NULL
);

-- Full-text index; rowid = messages.id. Contentless: the text lives in `raw`.
CREATE VIRTUAL TABLE search USING fts5 (
    subject, addresses, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
