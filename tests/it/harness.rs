//! The test harness: a real Mailsink on loopback port 0 with its own temporary
//! database, a raw line-level SMTP client, and helpers to read what was stored.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::sync::CancellationToken;

use mailsink::app::App;
use mailsink::config::{Cli, Config};
use mailsink::store::{MessageId, MessageMeta, Store};

/// A running server; shut down when dropped.
pub struct TestApp {
    pub smtp: SocketAddr,
    pub smtps: Option<SocketAddr>,
    pub pop3: SocketAddr,
    pub pop3s: Option<SocketAddr>,
    pub http: SocketAddr,
    pub imap: SocketAddr,
    pub imaps: Option<SocketAddr>,
    pub store: Store,
    pub db_path: PathBuf,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// The configuration tests start from: every listener on port 0, a fresh database.
pub fn test_config(db: &std::path::Path, extra: &[&str]) -> Config {
    let mut args = vec![
        "mailsink",
        "--smtp-addr",
        "127.0.0.1:0",
        "--http-addr",
        "127.0.0.1:0",
        "--pop3-addr",
        "127.0.0.1:0",
        "--imap-addr",
        "127.0.0.1:0",
        "--hostname",
        "mailsink.test",
        "--log-level",
        "warn",
    ];
    args.extend_from_slice(extra);
    let mut config = Cli::try_parse_from(args)
        .expect("test arguments parse")
        .serve;
    config.db.get_or_insert_with(|| db.to_owned());
    config
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts a server with extra command-line arguments.
    pub async fn spawn_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(&dir.path().join("test.db"), extra);
        let db_path = config.db.clone().expect("a database path");
        let app = App::build(config).await.expect("the app starts");
        let addresses = app.addresses();
        let store = app.store();
        let shutdown = app.shutdown_token();
        let task = tokio::spawn(app.run());
        Self {
            smtp: addresses.smtp.expect("SMTP is on"),
            smtps: addresses.smtps,
            pop3: addresses.pop3.expect("POP3 is on"),
            pop3s: addresses.pop3s,
            http: addresses.http.expect("HTTP is on"),
            imap: addresses.imap.expect("IMAP is on"),
            imaps: addresses.imaps,
            store,
            db_path,
            shutdown,
            task: Some(task),
            _dir: dir,
        }
    }

    /// Shuts down gracefully and waits until the server has stopped.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("the server task ends cleanly");
        }
    }

    /// Every stored message, newest first.
    pub async fn messages(&self) -> Vec<MessageMeta> {
        self.store.list(0, 100_000).await.expect("list messages")
    }

    /// Every stored message's subject, newest first.
    pub async fn subjects(&self) -> Vec<String> {
        self.messages()
            .await
            .into_iter()
            .map(|m| m.summary.subject)
            .collect()
    }

    /// Waits (polling with a deadline) until `n` messages are stored.
    pub async fn wait_for_messages(&self, n: usize) -> Vec<MessageMeta> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages().await;
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages, have {}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The stored bytes of a message.
    pub async fn raw(&self, id: &MessageId) -> Vec<u8> {
        self.store
            .raw(id)
            .await
            .expect("read raw")
            .expect("the message exists")
    }

    /// The only stored message and its bytes without the trace headers.
    pub async fn only_message(&self) -> (MessageMeta, Vec<u8>) {
        let messages = self.messages().await;
        assert_eq!(messages.len(), 1, "expected exactly one message");
        let meta = messages.into_iter().next().expect("one message");
        let raw = self.raw(&meta.id).await;
        let body = client_bytes(&raw).to_vec();
        (meta, body)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The client's bytes of a stored message: everything after the Return-Path
/// and Received trace headers Mailsink prepends.
pub fn client_bytes(raw: &[u8]) -> &[u8] {
    let mut rest = raw;
    assert!(
        rest.starts_with(b"Return-Path: <"),
        "stored bytes start with Return-Path"
    );
    rest = skip_line(rest);
    assert!(rest.starts_with(b"Received: from "), "then Received");
    rest = skip_line(rest);
    while rest.first() == Some(&b'\t') {
        rest = skip_line(rest);
    }
    rest
}

fn skip_line(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a CRLF-terminated line");
    &bytes[end + 2..]
}

/// A line-level SMTP client for exact-bytes tests.
pub struct Raw {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Raw {
    /// Connects and reads the greeting, which must start with `220`.
    pub async fn connect(addr: SocketAddr) -> Self {
        let mut raw = Self::connect_silent(addr).await;
        let greeting = raw.reply().await;
        assert!(greeting.starts_with("220 "), "greeting: {greeting:?}");
        raw
    }

    /// Connects without reading anything.
    pub async fn connect_silent(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (read, writer) = stream.into_split();
        Self {
            reader: BufReader::new(read),
            writer,
        }
    }

    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.writer
            .write_all(bytes.as_ref())
            .await
            .expect("write to the server");
    }

    /// Reads one whole reply (all its lines), e.g. "250-a\r\n250 b\r\n".
    pub async fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
                .await
                .expect("a reply within 10 s")
                .expect("read a reply");
            assert!(n > 0, "connection closed; reply so far: {reply:?}");
            reply.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return reply;
            }
        }
    }

    /// Sends a command line and returns the reply.
    pub async fn command(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n")).await;
        self.reply().await
    }

    /// Sends `line` and asserts the reply starts with `expected`.
    pub async fn expect(&mut self, line: &str, expected: &str) -> String {
        let reply = self.command(line).await;
        assert!(
            reply.starts_with(expected),
            "after {line:?}\n expected: {expected:?}\n   actual: {reply:?}"
        );
        reply
    }

    /// Reads until the server closes the connection; returns what came.
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

/// Runs a command-line client to completion, returning stdout+stderr; panics
/// with its output if it cannot be started.
pub fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    if let Some(input) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(input).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for the client")
}

/// Runs a blocking client off the async threads.
pub async fn run_async(
    program: &'static str,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(program, &args, stdin.as_deref())
    })
    .await
    .expect("client thread")
}

/// Delivers `message` (CRLF line ends, no terminating dot) over a raw SMTP
/// session and returns the queued ID.
pub async fn deliver(addr: SocketAddr, from: &str, to: &[&str], message: &str) -> MessageId {
    let mut raw = Raw::connect(addr).await;
    raw.expect("EHLO deliver.test", "250-").await;
    raw.expect(&format!("MAIL FROM:<{from}>"), "250 ").await;
    for rcpt in to {
        raw.expect(&format!("RCPT TO:<{rcpt}>"), "250 ").await;
    }
    raw.expect("DATA", "354 ").await;
    let stuffed = message.replace("\r\n.", "\r\n..");
    raw.send(format!("{stuffed}\r\n.\r\n")).await;
    let reply = raw.reply().await;
    let id = reply
        .trim_end()
        .strip_prefix("250 2.0.0 Ok: queued as ")
        .unwrap_or_else(|| panic!("not queued: {reply:?}"));
    id.parse().expect("a message ID")
}

/// A running server and an HTTP client for its API.
pub struct Api {
    pub app: TestApp,
    pub client: reqwest::Client,
}

impl Api {
    pub async fn spawn() -> Self {
        Self {
            app: TestApp::spawn().await,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.app.http)
    }

    /// Sends a request, with `body` as JSON when given; the status,
    /// Content-Type and body of the answer.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (reqwest::StatusCode, String, String) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.expect("HTTP request");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, response.text().await.expect("body"))
    }

    /// The status and body of the answer to a request.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (reqwest::StatusCode, String) {
        let (status, _, body) = self.request(method, path, body).await;
        (status, body)
    }

    /// A GET that must answer 200 with JSON.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, reqwest::StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }
}
