-- Fewer pages written by each message's commit. Every B-tree an insert
-- touches is one more page in the WAL before SMTP can answer 250; a message
-- to one address used to touch ten, it now touches three (the row, its
-- public ID and the recipient).

-- 1. IMAP UIDs are the message ids themselves, in the catch-all's INBOX and
-- in each address's. The UID tables (AUTOINCREMENT's sqlite_sequence, a
-- counter per address, two indexes) existed because SQLite may hand out the
-- id of a deleted newest row again. Ids are now never reused instead: the
-- writer gives each new message one more than the largest id ever used,
-- which id_floor remembers once the newest row is deleted. An address's
-- UIDs are its messages' ids: ascending, never reused, not contiguous
-- (RFC 3501 §2.3.1.1 asks for no more). Its UIDNEXT, one past the newest
-- id it ever had (address_floor remembers a deleted newest), moves only
-- when its own mail arrives. Every INBOX gets a new UIDVALIDITY, since its
-- UIDs change.
CREATE TABLE id_floor (high INTEGER NOT NULL);
INSERT INTO id_floor (high)
    SELECT max(coalesce((SELECT max(id) FROM messages), 0), indexed_through) FROM search_state;
CREATE TRIGGER id_floor_delete AFTER DELETE ON messages
WHEN OLD.id > (SELECT high FROM id_floor) BEGIN
    UPDATE id_floor SET high = OLD.id;
END;

CREATE TABLE address_floor (
    owner TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    high  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER address_floor_delete AFTER DELETE ON recipients
WHEN OLD.message > coalesce((SELECT max(message) FROM recipients WHERE address = OLD.address), 0)
BEGIN
    INSERT INTO address_floor (owner, high) VALUES (OLD.address, OLD.message)
    ON CONFLICT (owner) DO UPDATE SET high = max(high, excluded.high);
END;

DROP TRIGGER imap_uids_insert;
DROP TRIGGER imap_uids_delete;
DROP TABLE imap_uids;
DROP TRIGGER imap_address_uid;
DROP TRIGGER imap_address_uid_gone;
DROP TABLE imap_address_uids;
DROP TABLE imap_address_next;
CREATE TRIGGER imap_flags_delete AFTER DELETE ON messages BEGIN
    DELETE FROM imap_flags WHERE message = OLD.id;
END;
UPDATE imap_mailboxes SET uidvalidity = (SELECT max(uidvalidity) + 1 FROM imap_mailboxes)
WHERE name = 'INBOX';

-- 2. The mailbox counts no longer change on insert. `totals` holds the
-- counts of the messages up to `through`; newer ones are counted when read
-- (a short range of ids) and folded in by the writer in batches, with the
-- full-text index. Deletions and read changes of folded messages still
-- adjust the counts at once.
ALTER TABLE totals ADD COLUMN through INTEGER NOT NULL DEFAULT 0;
UPDATE totals SET through = coalesce((SELECT max(id) FROM messages), 0);
DROP TRIGGER totals_insert;
DROP TRIGGER totals_delete;
DROP TRIGGER totals_read;
CREATE TRIGGER totals_delete AFTER DELETE ON messages
WHEN OLD.id <= (SELECT through FROM totals) BEGIN
    UPDATE totals SET messages = messages - 1, unread = unread - (OLD.is_read = 0);
END;
CREATE TRIGGER totals_read AFTER UPDATE OF is_read ON messages
WHEN OLD.is_read != NEW.is_read AND OLD.id <= (SELECT through FROM totals) BEGIN
    UPDATE totals SET unread = unread + (NEW.is_read = 0) - (OLD.is_read = 0);
END;
