//! POP3 with exact bytes: every command's replies, the maildrop rules of
//! SPEC §3, and every bad form answered with `-ERR` while the session goes on.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::harness::{TestApp, deliver};

struct Pop {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Pop {
    async fn connect(app: &TestApp) -> Self {
        let stream = TcpStream::connect(app.pop3).await.expect("connect");
        let (read, writer) = stream.into_split();
        let mut pop = Self {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = pop.line().await;
        assert!(
            greeting.starts_with("+OK Mailsink POP3 server ready <"),
            "{greeting}"
        );
        pop
    }

    async fn login(app: &TestApp, user: &str) -> Self {
        let mut pop = Self::connect(app).await;
        pop.expect(&format!("USER {user}"), "+OK").await;
        pop.expect("PASS anything", "+OK").await;
        pop
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
            .await
            .expect("a line within 10 s")
            .expect("read");
        assert!(n > 0, "connection closed");
        line
    }

    async fn send(&mut self, bytes: &str) {
        self.writer
            .write_all(bytes.as_bytes())
            .await
            .expect("write");
    }

    async fn command(&mut self, line: &str) -> String {
        self.send(&format!("{line}\r\n")).await;
        self.line().await
    }

    async fn expect(&mut self, line: &str, prefix: &str) -> String {
        let reply = self.command(line).await;
        assert!(
            reply.starts_with(prefix),
            "after {line:?}: expected {prefix:?}, got {reply:?}"
        );
        reply
    }

    /// The lines of a multi-line answer up to the terminating ".".
    async fn multiline(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            if line == ".\r\n" {
                return lines;
            }
            lines.push(line);
        }
    }

    /// The raw bytes of a multi-line answer, up to and without "\r\n.\r\n".
    async fn body(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let mut line = Vec::new();
            tokio::time::timeout(
                Duration::from_secs(10),
                self.reader.read_until(b'\n', &mut line),
            )
            .await
            .expect("a line")
            .expect("read");
            if line == b".\r\n" {
                return body;
            }
            body.extend_from_slice(&line);
        }
    }

    async fn closed(&mut self) -> String {
        let mut rest = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            self.reader.read_to_string(&mut rest),
        )
        .await
        .expect("closed within 10 s")
        .expect("read");
        rest
    }
}

async fn mail(app: &TestApp, to: &[&str], subject: &str, body: &str) -> String {
    let message = format!("From: s@example.com\r\nSubject: {subject}\r\n\r\n{body}");
    deliver(app.smtp, "s@example.com", to, &message)
        .await
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn capa_stat_list_uidl_retr_top() {
    let app = TestApp::spawn().await;
    let first = mail(
        &app,
        &["bob@example.com"],
        "one",
        "line 1\r\n.dot line\r\nline 3\r\n",
    )
    .await;
    let second = mail(&app, &["bob@example.com"], "two", "x\r\n").await;
    let mut pop = Pop::connect(&app).await;
    assert_eq!(pop.command("CAPA").await, "+OK capability list follows\r\n");
    assert_eq!(
        pop.multiline().await,
        [
            "TOP\r\n",
            "USER\r\n",
            "UIDL\r\n",
            "SASL PLAIN LOGIN\r\n",
            "RESP-CODES\r\n",
            "PIPELINING\r\n",
            "STLS\r\n",
            "IMPLEMENTATION Mailsink\r\n"
        ]
    );
    pop.expect("USER bob@example.com", "+OK").await;
    let login = pop.command("PASS x").await;
    let raw1 = app.raw(&first.parse().expect("id")).await;
    let raw2 = app.raw(&second.parse().expect("id")).await;
    let total = raw1.len() + raw2.len();
    assert_eq!(
        login,
        format!("+OK bob@example.com's maildrop has 2 messages ({total} octets)\r\n")
    );
    assert_eq!(pop.command("STAT").await, format!("+OK 2 {total}\r\n"));
    assert!(pop.command("LIST").await.starts_with("+OK 2 messages"));
    assert_eq!(
        pop.multiline().await,
        [
            format!("1 {}\r\n", raw1.len()),
            format!("2 {}\r\n", raw2.len())
        ]
    );
    assert_eq!(
        pop.command("LIST 2").await,
        format!("+OK 2 {}\r\n", raw2.len())
    );
    pop.expect("UIDL", "+OK").await;
    assert_eq!(
        pop.multiline().await,
        [format!("1 {first}\r\n"), format!("2 {second}\r\n")]
    );
    assert_eq!(pop.command("UIDL 1").await, format!("+OK 1 {first}\r\n"));
    assert_eq!(
        pop.command("RETR 1").await,
        format!("+OK {} octets\r\n", raw1.len())
    );
    let served = pop.body().await;
    let stuffed = String::from_utf8_lossy(&raw1).replace("\r\n.dot", "\r\n..dot");
    assert_eq!(
        String::from_utf8_lossy(&served),
        stuffed,
        "dot-stuffed on the wire"
    );
    pop.expect("TOP 1 1", "+OK").await;
    let top = String::from_utf8(pop.body().await).expect("text");
    assert!(top.ends_with("Subject: one\r\n\r\nline 1\r\n"), "{top}");
    pop.expect("TOP 1 0", "+OK").await;
    assert!(pop.body().await.ends_with(b"Subject: one\r\n\r\n"));
    pop.expect("NOOP", "+OK").await;
    pop.expect("QUIT", "+OK Mailsink POP3 server signing off")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn maildrops_follow_the_envelope_and_deletions_their_owner() {
    let app = TestApp::spawn().await;
    mail(&app, &["alice@example.com"], "for alice", "a\r\n").await;
    let shared = mail(
        &app,
        &["alice@example.com", "Bob@Example.com"],
        "for both",
        "b\r\n",
    )
    .await;
    mail(&app, &["carol@example.com"], "for carol", "c\r\n").await;

    let mut bob = Pop::login(&app, "bob@example.com").await;
    assert!(
        bob.command("STAT").await.starts_with("+OK 1 "),
        "only bob's mail"
    );
    bob.expect("DELE 1", "+OK message 1 deleted").await;
    bob.expect("DELE 1", "-ERR message 1 already deleted").await;
    bob.expect("RETR 1", "-ERR message 1 already deleted").await;
    assert!(bob.command("STAT").await.starts_with("+OK 0 0"));
    bob.expect("RSET", "+OK maildrop has 1 messages").await;
    bob.expect("DELE 1", "+OK").await;
    // A dropped connection deletes nothing.
    drop(bob);
    let mut bob = Pop::login(&app, "BOB@example.com").await;
    assert!(
        bob.command("STAT").await.starts_with("+OK 1 "),
        "addresses ignore case"
    );
    bob.expect("DELE 1", "+OK").await;
    bob.expect(
        "QUIT",
        "+OK Mailsink POP3 server signing off (1 messages deleted)",
    )
    .await;
    assert_eq!(bob.closed().await, "");
    let mut bob = Pop::login(&app, "bob@example.com").await;
    assert!(bob.command("STAT").await.starts_with("+OK 0 0"));
    // Bob's deletion hid it from bob only.
    assert_eq!(app.messages().await.len(), 3);
    let mut alice = Pop::login(&app, "alice@example.com").await;
    assert!(alice.command("STAT").await.starts_with("+OK 2 "));
    alice.expect("UIDL 2", &format!("+OK 2 {shared}")).await;

    // The catch-all sees everything, and its deletions delete.
    let mut all = Pop::login(&app, "catchall").await;
    assert!(all.command("STAT").await.starts_with("+OK 3 "));
    all.expect("DELE 3", "+OK").await;
    all.expect("QUIT", "+OK").await;
    let subjects = app.subjects().await;
    assert_eq!(subjects, ["for both", "for alice"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_is_taken_at_login() {
    let app = TestApp::spawn().await;
    mail(&app, &["d@example.com"], "before", "x\r\n").await;
    let mut pop = Pop::login(&app, "d@example.com").await;
    mail(&app, &["d@example.com"], "after", "y\r\n").await;
    assert!(pop.command("STAT").await.starts_with("+OK 1 "));
    pop.expect("RETR 2", "-ERR no such message 2").await;
    pop.expect("QUIT", "+OK").await;
    let mut pop = Pop::login(&app, "d@example.com").await;
    assert!(pop.command("STAT").await.starts_with("+OK 2 "));
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_lf_is_served_as_crlf_and_counted_so() {
    let app = TestApp::spawn().await;
    let id = deliver(
        app.smtp,
        "s@example.com",
        &["lf@example.com"],
        "Subject: lf\nX: 1\n\nbody\n",
    )
    .await;
    let stored = app.raw(&id).await;
    let served = String::from_utf8_lossy(&stored)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let mut pop = Pop::login(&app, "lf@example.com").await;
    assert_eq!(
        pop.command("LIST 1").await,
        format!("+OK 1 {}\r\n", served.len())
    );
    pop.expect("RETR 1", &format!("+OK {} octets", served.len()))
        .await;
    assert_eq!(String::from_utf8(pop.body().await).expect("text"), served);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_commands_get_err_and_the_session_goes_on() {
    let app = TestApp::spawn().await;
    mail(&app, &["e@example.com"], "one", "x\r\n").await;
    let mut pop = Pop::connect(&app).await;
    for (line, reply) in [
        ("FROB", "-ERR unknown command"),
        ("", "-ERR unknown command"),
        ("STAT", "-ERR log in first"),
        ("RETR 1", "-ERR log in first"),
        ("PASS x", "-ERR USER first"),
        ("USER", "-ERR USER needs an argument"),
        ("APOP x", "-ERR APOP needs an argument"),
        ("AUTH FROB", "-ERR unsupported authentication mechanism"),
    ] {
        pop.expect(line, reply).await;
    }
    pop.expect(&format!("NOOP {}", "x".repeat(2000)), "-ERR line too long")
        .await;
    pop.expect("USER e@example.com", "+OK").await;
    pop.expect("PASS x", "+OK").await;
    for (line, reply) in [
        ("RETR", "-ERR RETR needs an argument"),
        ("RETR x", "-ERR invalid message number"),
        ("RETR 0", "-ERR invalid message number"),
        ("RETR 2", "-ERR no such message 2"),
        ("LIST 9", "-ERR no such message 9"),
        ("UIDL 9", "-ERR no such message 9"),
        ("DELE 9", "-ERR no such message 9"),
        ("TOP 1", "-ERR TOP needs an argument"),
        ("TOP 1 -1", "-ERR invalid line count"),
        ("STAT 1", "-ERR STAT takes no more arguments"),
        ("USER x", "-ERR already logged in"),
        ("STLS", "-ERR STLS only before logging in"),
    ] {
        pop.expect(line, reply).await;
    }
    pop.expect("STAT", "+OK 1 ").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pipelined_commands_are_answered_in_order() {
    let app = TestApp::spawn().await;
    mail(&app, &["p@example.com"], "one", "x\r\n").await;
    let mut pop = Pop::connect(&app).await;
    pop.send("USER p@example.com\r\nPASS x\r\nSTAT\r\nUIDL 1\r\nDELE 1\r\nQUIT\r\n")
        .await;
    assert!(pop.line().await.starts_with("+OK send PASS"));
    assert!(
        pop.line()
            .await
            .starts_with("+OK p@example.com's maildrop has 1")
    );
    assert!(pop.line().await.starts_with("+OK 1 "));
    assert!(pop.line().await.starts_with("+OK 1 "));
    assert!(pop.line().await.starts_with("+OK message 1 deleted"));
    assert!(
        pop.line()
            .await
            .starts_with("+OK Mailsink POP3 server signing off (1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn configured_credentials_are_checked() {
    let app = TestApp::spawn_with(&["--pop3-auth", "alice@example.com:secret"]).await;
    let mut pop = Pop::connect(&app).await;
    pop.expect("USER alice@example.com", "+OK").await;
    pop.expect("PASS wrong", "-ERR [AUTH] invalid user name or password")
        .await;
    pop.expect("USER alice@example.com", "+OK").await;
    pop.expect("PASS secret", "+OK").await;
    let mut pop = Pop::connect(&app).await;
    // AUTH PLAIN with an initial response: "\0alice@example.com\0secret".
    pop.expect(
        "AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==",
        "+OK alice@example.com's maildrop",
    )
    .await;
    let mut pop = Pop::connect(&app).await;
    pop.expect("AUTH LOGIN", "+ VXNlcm5hbWU6").await;
    pop.expect("YWxpY2VAZXhhbXBsZS5jb20=", "+ UGFzc3dvcmQ6")
        .await;
    pop.expect("bm9wZQ==", "-ERR [AUTH]").await;
    pop.expect("AUTH LOGIN", "+ ").await;
    pop.expect("*", "-ERR authentication cancelled").await;
    pop.expect(
        "APOP alice@example.com 00000000000000000000000000000000",
        "-ERR [AUTH]",
    )
    .await;
    pop.expect("AUTH", "+OK").await;
    assert_eq!(pop.multiline().await, ["PLAIN\r\n", "LOGIN\r\n"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn silence_logs_out_and_stls_refuses_pipelining() {
    let app = TestApp::spawn_with(&["--pop3-idle-timeout", "300ms"]).await;
    let mut pop = Pop::login(&app, "t@example.com").await;
    assert_eq!(
        pop.closed().await,
        "-ERR [SYS/TEMP] autologout: idle for too long\r\n"
    );
    let mut pop = Pop::connect(&app).await;
    pop.send("STLS\r\nUSER evil\r\n").await;
    assert!(
        pop.closed()
            .await
            .starts_with("-ERR commands pipelined after STLS")
    );
    let mut pop = Pop::connect(&app).await;
    pop.expect("STLS", "+OK begin TLS negotiation").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_says_goodbye() {
    let app = TestApp::spawn().await;
    let mut pop = Pop::login(&app, "s@example.com").await;
    app.stop().await;
    assert_eq!(
        pop.closed().await,
        "-ERR [SYS/TEMP] server shutting down\r\n"
    );
}
