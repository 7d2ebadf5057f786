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
}
