//! Acknowledged mail survives `kill -9`; a database reopens with everything in it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use mailsink::config::DbSync;
use mailsink::store::{MessageId, Store};

use crate::harness::{TestApp, client_bytes};
use crate::process::Process;

const CLIENTS: usize = 4;
/// Acknowledgements to collect before the kill; clients keep sending after it.
const ACKS_BEFORE_KILL: usize = 150;

/// Sends messages on one connection until the server dies; returns what was acknowledged.
async fn send_until_dead(
    addr: std::net::SocketAddr,
    client: usize,
    acked: Arc<AtomicUsize>,
) -> Vec<(MessageId, Vec<u8>)> {
    let mut done = Vec::new();
    let Ok(stream) = TcpStream::connect(addr).await else {
        return done;
    };
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async move |write: &mut tokio::net::tcp::OwnedWriteHalf, out: &[u8]| {
        if write.write_all(out).await.is_err() {
            return None;
        }
        loop {
            let line = lines.next_line().await.ok()??;
            if line.as_bytes().get(3) != Some(&b'-') {
                return Some(line);
            }
        }
    };
    reply(&mut write, b"").await; // the greeting
    reply(&mut write, b"EHLO durable.test\r\n").await;
    for i in 0..10_000 {
        let body = format!(
            "Subject: client {client} message {i}\r\n\r\n{}\r\n",
            format!("line {i} of client {client}\r\n").repeat(i % 40 + 1)
        )
        .into_bytes();
        let envelope = "MAIL FROM:<d@example.com>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n";
        let Some(mail) = reply(&mut write, envelope.as_bytes()).await else {
            return done;
        };
        if !mail.starts_with("250") {
            return done;
        }
        // Pipelined: the RCPT and DATA replies follow.
        let (Some(_rcpt), Some(_data)) =
            (reply(&mut write, b"").await, reply(&mut write, b"").await)
        else {
            return done;
        };
        let Some(queued) = reply(&mut write, &[&body[..], b".\r\n"].concat()).await else {
            return done;
        };
        let Some(id) = queued.strip_prefix("250 2.0.0 Ok: queued as ") else {
            return done;
        };
        done.push((id.parse().expect("a message ID"), body));
        acked.fetch_add(1, Ordering::SeqCst);
    }
    done
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("durable.db");
    let db_arg = db.to_str().expect("UTF-8 path");
    let mut process = Process::start(&["--db", db_arg]);
    let acked = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(send_until_dead(process.smtp(), c, Arc::clone(&acked))))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.load(Ordering::SeqCst) < ACKS_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "clients are not being acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    process.signal("KILL");
    process.wait(Duration::from_secs(10));
    let mut sent: HashMap<MessageId, Vec<u8>> = HashMap::new();
    for client in clients {
        sent.extend(client.await.expect("client task"));
    }
    assert!(sent.len() >= ACKS_BEFORE_KILL);

    // Reopen the same file: every acknowledged message is there, byte for byte.
    let store = Store::open(Some(&db), DbSync::Normal).expect("the database reopens");
    for (id, body) in &sent {
        let raw = store
            .raw(id)
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("acknowledged message {id} was lost"));
        assert_eq!(client_bytes(&raw), &body[..], "message {id} is intact");
    }
    // Nothing half-written: every stored message is whole and consistent.
    let stored = store.list(0, 1_000_000).await.expect("list");
    assert!(stored.len() >= sent.len());
    for meta in &stored {
        let raw = store.raw(&meta.id).await.expect("read").expect("bytes");
        assert_eq!(meta.size, raw.len() as u64);
        let body = client_bytes(&raw);
        assert!(
            body.ends_with(b"\r\n"),
            "{} ends where its client ended",
            meta.id
        );
        assert!(meta.summary.subject.starts_with("client "));
    }
    store.close().await;
    let conn = rusqlite::Connection::open(&db).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
    // The index is written behind the acknowledgements; reopening indexed
    // whatever the killed process had not, so every message is searchable.
    let indexed: usize = conn
        .query_row(
            "SELECT count(*) FROM search WHERE search MATCH 'subject:client'",
            [],
            |row| row.get(0),
        )
        .expect("full-text query");
    assert_eq!(indexed, stored.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_persistent_database_reopens_with_all_messages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("keep.db");
    let db_arg = db.to_str().expect("UTF-8 path").to_owned();
    let mut process = Process::start(&["--db", &db_arg]);
    for n in 0..3 {
        let mut raw = crate::harness::Raw::connect(process.smtp()).await;
        raw.expect("EHLO keep.test", "250-").await;
        raw.expect("MAIL FROM:<k@example.com>", "250 ").await;
        raw.expect("RCPT TO:<r@example.com>", "250 ").await;
        raw.expect("DATA", "354 ").await;
        raw.expect(
            &format!("Subject: kept {n}\r\n\r\n."),
            "250 2.0.0 Ok: queued as ",
        )
        .await;
    }
    process.signal("TERM");
    assert_eq!(process.wait(Duration::from_secs(10)).code(), Some(0));
    assert!(db.exists(), "--db is kept at exit");
    let process = Process::start(&["--db", &db_arg]);
    assert_eq!(process.db, db_arg);
    drop(process);
    let app = TestApp::spawn_with(&["--db", &db_arg]).await;
    let subjects = app.subjects().await;
    assert_eq!(subjects, ["kept 2", "kept 1", "kept 0"]);
}
