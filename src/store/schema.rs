//! Opening the read-write connection and bringing the schema up to date.
//! The schema lives in `migrations/*.sql`, applied in order and recorded in
//! SQLite's `user_version`, so a database from an older release opens in a newer one.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::Error;
use crate::config::DbSync;

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("../../migrations/0001_init.sql")),
        M::up(include_str!("../../migrations/0002_imap.sql")),
        M::up(include_str!("../../migrations/0003_lean_inserts.sql")),
    ])
});

/// Opens the writer's connection: WAL, schema migrated.
pub(crate) fn open_writer(path: &Path, sync: DbSync) -> Result<Connection, Error> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // WAL lets the readers work while the writer commits. With synchronous=NORMAL
    // a commit survives a crash of the process (the kill -9 case); FULL adds an
    // fsync per commit group for power loss.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let sync = match sync {
        DbSync::Normal => "NORMAL",
        DbSync::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    // Checkpoints run on their own thread (see `checkpoint`). That thread can
    // fall behind a writer that never pauses, and a WAL that is never reset
    // grows without bound; so past 64 MiB the writer checkpoints at commit as
    // SQLite normally does, which finishes quickly because little is left to
    // copy, and the file is cut back to that size.
    conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
    conn.pragma_update(None, "journal_size_limit", 64 << 20)?;
    conn.set_prepared_statement_cache_capacity(64);
    MIGRATIONS
        .to_latest(&mut conn)
        .map_err(|e| Error::Migration(Arc::new(e)))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(MIGRATIONS.validate().is_ok());
    }

    #[test]
    fn an_older_database_gets_its_id_floor_and_counts() {
        let mut conn = Connection::open_in_memory().expect("a database");
        Migrations::new(vec![M::up(include_str!("../../migrations/0001_init.sql"))])
            .to_latest(&mut conn)
            .expect("the first schema");
        for (id, rcpts) in [(1, vec!["a@x.org"]), (2, vec!["b@x.org", "A@x.org"])] {
            conn.execute(
                "INSERT INTO messages (id, public_id, received_at, size, served_size, mail_from,
                     rcpt_to, helo, client_addr, tls, subject, to_addrs, cc_addrs, bcc_addrs,
                     reply_to_addrs, attachments, inline_parts, snippet, data)
                 VALUES (?1, 'id' || ?1, 0, 1, 1, '', '[]', '', '', 0, '', '[]', '[]', '[]',
                     '[]', 0, 0, '', x'00')",
                [id],
            )
            .expect("a message");
            for rcpt in rcpts {
                conn.execute(
                    "INSERT INTO recipients (address, message) VALUES (?1, ?2)",
                    rusqlite::params![rcpt, id],
                )
                .expect("a recipient");
            }
        }
        MIGRATIONS.to_latest(&mut conn).expect("migrated");
        // UIDs are the message ids, never given twice; the counts cover the
        // messages so far.
        let (floor, messages, unread, through): (i64, u64, u64, i64) = conn
            .query_row(
                "SELECT high, messages, unread, through FROM id_floor, totals",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .expect("the floor and the counts");
        assert_eq!((floor, messages, unread, through), (2, 2, 2, 2));
        // An address's newest message going leaves a floor for its UIDNEXT;
        // an older one does not.
        conn.execute_batch(
            "DELETE FROM recipients WHERE address = 'b@x.org';
             DELETE FROM recipients WHERE address = 'a@x.org' AND message = 1;",
        )
        .expect("deleted");
        let floors: Vec<(String, i64)> = conn
            .prepare("SELECT owner, high FROM address_floor")
            .expect("a query")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(floors, [("b@x.org".to_owned(), 2)]);
    }
}
