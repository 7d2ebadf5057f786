//! Helpers shared by the IMAP tests: a line-level client for exact-bytes
//! tests, and mail sent over SMTP whose stored bytes the clients' results are
//! compared with. Real clients: Python's imaplib (`imap_imaplib`), the
//! async-imap crate (`imap_async_imap`), curl (`imap_curl`), mbsync and
//! offlineimap (`imap_sync`); exact bytes and bad forms in `imap_raw`.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::harness::{TestApp, deliver};
use crate::pop3_clients::Mail;

/// The server's capabilities, as CAPABILITY lists them before TLS.
pub const CAPABILITIES: &str = "IMAP4REV1 STARTTLS AUTH=PLAIN AUTH=LOGIN SASL-IR LITERAL+ IDLE \
     UIDPLUS MOVE NAMESPACE ENABLE ID UNSELECT CHILDREN SPECIAL-USE BINARY";

/// Delivers a message to `rcpts` with `slug` as its Subject and returns it
/// as stored (trace headers, then the client's bytes).
pub async fn send_mail(app: &TestApp, rcpts: &[&str], slug: &str) -> Mail {
    let message = format!(
        "From: Sender <sender@example.com>\r\n\
         To: {}\r\n\
         Subject: {slug}\r\n\
         Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{slug}@example.com>\r\n\
         \r\n\
         Body of {slug}.\r\n\
         Second line.",
        rcpts.join(", ")
    );
    let id = deliver(app.smtp, "sender@example.com", rcpts, &message).await;
    let raw = app.raw(&id).await;
    Mail { id, raw }
}

/// A line-level IMAP client.
pub struct Imap {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Imap {
    /// Connects and returns the client with the greeting line.
    pub async fn connect(addr: SocketAddr) -> (Self, String) {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (read, writer) = stream.into_split();
        let mut imap = Self {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = imap.line().await;
        (imap, greeting)
    }

    /// Connects and logs in as `user`.
    pub async fn login(addr: SocketAddr, user: &str) -> Self {
        let (mut imap, _) = Self::connect(addr).await;
        let reply = imap.command(&format!("l LOGIN {user} secret")).await;
        assert!(reply.contains("l OK "), "login: {reply}");
        imap
    }

    /// One line, with its CRLF.
    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
            .await
            .unwrap_or_else(|_| panic!("no line within 10 s; partial: {line:?}"))
            .expect("read");
        assert!(n > 0, "connection closed");
        line
    }

    /// Reads exactly `n` bytes.
    pub async fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        tokio::time::timeout(Duration::from_secs(10), self.reader.read_exact(&mut buf))
            .await
            .expect("bytes within 10 s")
            .expect("read");
        buf
    }

    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.writer.write_all(bytes.as_ref()).await.expect("write");
    }

    /// Reads lines up to and including the one tagged `tag`.
    pub async fn until(&mut self, tag: &str) -> String {
        let mut all = String::new();
        let prefix = format!("{tag} ");
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
                .await
                .unwrap_or_else(|_| panic!("no {tag} reply within 10 s; so far: {all:?}{line:?}"))
                .expect("read");
            assert!(n > 0, "connection closed; so far: {all:?}");
            all.push_str(&line);
            if line.starts_with(&prefix) {
                return all;
            }
        }
    }

    /// Sends `line` (its first word is the tag) and returns every line of
    /// the answer up to the tagged one.
    pub async fn command(&mut self, line: &str) -> String {
        let tag = line.split(' ').next().expect("a tag").to_owned();
        self.send(format!("{line}\r\n")).await;
        self.until(&tag).await
    }

    /// Sends `line` and asserts the whole answer.
    pub async fn expect(&mut self, line: &str, expected: &str) {
        let answer = self.command(line).await;
        assert_eq!(answer, expected, "after {line:?}");
    }

    /// Reads until the server closes the connection.
    pub async fn read_to_close(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
                .await
                .expect("the server closes within 10 s")
            {
                Ok(0) | Err(_) => return all,
                Ok(_) => all.push_str(&line),
            }
        }
    }
}
