//! SMTP with exact bytes: every command's replies, and every bad form answered
//! without losing the session or the server.

use crate::harness::{Raw, TestApp};

/// Connects and greets with EHLO.
async fn session(app: &TestApp) -> Raw {
    let mut raw = Raw::connect(app.smtp).await;
    raw.expect("EHLO client.test", "250-mailsink.test Hello client.test")
        .await;
    raw
}

#[tokio::test(flavor = "multi_thread")]
async fn greeting_and_ehlo_advertise_every_extension() {
    let app = TestApp::spawn().await;
    let mut raw = Raw::connect_silent(app.smtp).await;
    assert_eq!(
        raw.reply().await,
        "220 mailsink.test ESMTP Mailsink ready\r\n"
    );
    let ehlo = raw.command("EHLO client.test").await;
    assert_eq!(
        ehlo,
        "250-mailsink.test Hello client.test\r\n\
         250-PIPELINING\r\n\
         250-SIZE 52428800\r\n\
         250-8BITMIME\r\n\
         250-SMTPUTF8\r\n\
         250-ENHANCEDSTATUSCODES\r\n\
         250-CHUNKING\r\n\
         250-DSN\r\n\
         250-STARTTLS\r\n\
         250-AUTH PLAIN LOGIN CRAM-MD5\r\n\
         250 HELP\r\n"
    );
    raw.expect("HELO other.test", "250 mailsink.test\r\n").await;
    raw.expect("NOOP", "250 2.0.0 Ok\r\n").await;
    raw.expect("RSET", "250 2.0.0 Ok\r\n").await;
    raw.expect("VRFY someone", "252 2.5.2 ").await;
    let help = raw.command("HELP").await;
    assert!(
        help.starts_with("214-2.0.0 ") && help.contains("\r\n214 2.0.0 "),
        "{help}"
    );
    raw.expect("EXPN list", "502 5.5.1 ").await;
    raw.expect("QUIT", "221 2.0.0 mailsink.test Bye\r\n").await;
    assert_eq!(raw.read_to_close().await, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_stores_exact_bytes_after_250() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<sender@example.com>", "250 2.1.0 Ok\r\n")
        .await;
    raw.expect("RCPT TO:<to@example.com>", "250 2.1.5 Ok\r\n")
        .await;
    raw.expect("RCPT TO:<hidden@example.com>", "250 2.1.5 Ok\r\n")
        .await;
    raw.expect("DATA", "354 ").await;
    // The first line is dot-stuffed on the wire, and so is a later one.
    raw.send("..first\r\nTo: to@example.com\r\n\r\nline\r\n...two dots\r\n.\r\n")
        .await;
    let reply = raw.reply().await;
    let id = reply
        .strip_prefix("250 2.0.0 Ok: queued as ")
        .and_then(|rest| rest.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("unexpected reply {reply:?}"));
    // 250 is sent after COMMIT: the message is readable at once.
    let (meta, body) = app.only_message().await;
    assert_eq!(meta.id.as_str(), id);
    assert_eq!(
        body,
        b".first\r\nTo: to@example.com\r\n\r\nline\r\n..two dots\r\n"
    );
    assert_eq!(meta.envelope.mail_from, "sender@example.com");
    let rcpts: Vec<_> = meta
        .envelope
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(rcpts, ["to@example.com", "hidden@example.com"]);
    assert_eq!(meta.envelope.helo, "client.test");
    assert!(!meta.envelope.tls);
    // The blind copy is reported as Bcc and named nowhere in the bytes.
    assert_eq!(meta.summary.bcc.len(), 1);
    assert_eq!(meta.summary.bcc[0].address, "hidden@example.com");
    let stored = app.raw(&meta.id).await;
    assert!(!String::from_utf8_lossy(&stored).contains("hidden@"));
    let text = String::from_utf8_lossy(&stored);
    assert!(text.starts_with("Return-Path: <sender@example.com>\r\nReceived: from client.test ([127.0.0.1])\r\n\tby mailsink.test (Mailsink) with ESMTP id "), "{text}");
    assert_eq!(meta.size, stored.len() as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn pipelined_commands_get_replies_in_order() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    raw.send(
        "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n",
    )
    .await;
    assert_eq!(raw.reply().await, "250 2.1.0 Ok\r\n");
    assert_eq!(raw.reply().await, "250 2.1.5 Ok\r\n");
    assert_eq!(raw.reply().await, "250 2.1.5 Ok\r\n");
    assert!(raw.reply().await.starts_with("354 "));
    raw.send(
        "Subject: one\r\n\r\nbody\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<d@example.com>\r\nDATA\r\n",
    )
    .await;
    assert!(raw.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    assert_eq!(raw.reply().await, "250 2.1.0 Ok\r\n");
    assert_eq!(raw.reply().await, "250 2.1.5 Ok\r\n");
    assert!(raw.reply().await.starts_with("354 "));
    raw.send("Subject: two\r\n\r\n.\r\nQUIT\r\n").await;
    assert!(raw.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    assert!(raw.reply().await.starts_with("221 "));
    let messages = app.messages().await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].summary.subject, "two");
    assert_eq!(
        messages[0].envelope.mail_from, "",
        "the null sender is kept"
    );
    assert_eq!(messages[1].summary.subject, "one");
}

#[tokio::test(flavor = "multi_thread")]
async fn bdat_chunks_are_stored_as_sent() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<a@example.com> BODY=8BITMIME", "250 ")
        .await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    // Chunk bytes are taken literally: no dot-stuffing, bare CR and LF kept.
    let first = b"Subject: chunks\r\n\r\n.not stuffed\n";
    raw.send(format!("BDAT {}\r\n", first.len())).await;
    raw.send(first).await;
    assert_eq!(
        raw.reply().await,
        format!("250 2.0.0 {} octets received\r\n", first.len())
    );
    raw.expect("DATA", "503 5.5.1 ").await;
    let last = b"\x00\xff\r\n.\r\n";
    raw.send(format!("BDAT {} LAST\r\n", last.len())).await;
    raw.send(last).await;
    assert!(raw.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    let (_, body) = app.only_message().await;
    assert_eq!(body, [&first[..], &last[..]].concat());
    // BDAT 0 LAST of an empty message, pipelined with its envelope.
    raw.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nBDAT 0 LAST\r\n")
        .await;
    assert!(raw.reply().await.starts_with("250 "));
    assert!(raw.reply().await.starts_with("250 "));
    assert!(raw.reply().await.starts_with("250 2.0.0 Ok: queued as "));
}

#[tokio::test(flavor = "multi_thread")]
async fn bdat_out_of_sequence_still_consumes_its_chunk() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    // The chunk holds what looks like commands; none may run.
    raw.send("BDAT 12\r\nRSET\r\nQUIT\r\n").await;
    assert_eq!(raw.reply().await, "503 5.5.1 Error: need RCPT command\r\n");
    raw.expect("NOOP", "250 2.0.0 Ok").await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.send("BDAT 4 LAST\r\nabcd").await;
    assert_eq!(
        raw.reply().await,
        "554 5.5.1 Error: no valid recipients\r\n"
    );
    raw.expect("BDAT x", "501 5.5.4 Syntax: BDAT chunk-size [LAST]")
        .await;
    assert!(app.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_out_of_sequence_are_503() {
    let app = TestApp::spawn().await;
    let mut raw = Raw::connect(app.smtp).await;
    raw.expect(
        "MAIL FROM:<a@example.com>",
        "503 5.5.1 Error: send HELO/EHLO first",
    )
    .await;
    raw.expect(
        "RCPT TO:<b@example.com>",
        "503 5.5.1 Error: need MAIL command",
    )
    .await;
    raw.expect("DATA", "503 5.5.1 Error: need RCPT command")
        .await;
    raw.expect("AUTH PLAIN", "503 5.5.1 Error: send EHLO first")
        .await;
    raw.expect("EHLO client.test", "250-").await;
    raw.expect("DATA", "503 5.5.1 Error: need RCPT command")
        .await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect(
        "MAIL FROM:<a@example.com>",
        "503 5.5.1 Error: nested MAIL command",
    )
    .await;
    raw.expect("DATA", "554 5.5.1 Error: no valid recipients")
        .await;
    raw.expect(
        "AUTH PLAIN",
        "503 5.5.1 Error: MAIL transaction in progress",
    )
    .await;
    raw.expect("RSET", "250 ").await;
    raw.expect(
        "RCPT TO:<b@example.com>",
        "503 5.5.1 Error: need MAIL command",
    )
    .await;
    // EHLO resets a transaction too (RFC 5321 §4.1.4).
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("EHLO again.test", "250-").await;
    raw.expect(
        "RCPT TO:<b@example.com>",
        "503 5.5.1 Error: need MAIL command",
    )
    .await;
    assert!(app.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_commands_and_parameters() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    raw.expect("FROB", "500 5.5.2 Error: command not recognized")
        .await;
    raw.expect(
        "MAIL",
        "501 5.5.4 Syntax: MAIL FROM:<reverse-path> [parameters]",
    )
    .await;
    raw.expect(
        "MAIL FROM:a@example.com",
        "501 5.5.4 Syntax: MAIL FROM:<reverse-path>",
    )
    .await;
    raw.expect(
        "MAIL FROM:<a@example.com> FROB=1",
        "555 5.5.4 Error: unsupported parameter",
    )
    .await;
    raw.expect(
        "MAIL FROM:<a@example.com> SIZE=big",
        "501 5.5.4 Error: invalid SIZE parameter",
    )
    .await;
    raw.expect("MAIL FROM:<a@example.com> BODY=BINARYMIME", "555 5.5.4 ")
        .await;
    raw.expect("EHLO", "501 5.5.4 Syntax: EHLO domain").await;
    raw.expect("EHLO client.test", "250-").await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("RCPT TO:<>", "501 5.1.3 ").await;
    raw.expect(
        "RCPT TO:b@example.com",
        "501 5.5.4 Syntax: RCPT TO:<forward-path>",
    )
    .await;
    raw.expect("RCPT TO:<b@example.com> NOTIFY=SOMETIMES", "501 5.5.4 ")
        .await;
    raw.expect("RCPT TO:<b@example.com> FROB=1", "555 5.5.4 ")
        .await;
    // The transaction survived every refusal.
    raw.expect("RCPT TO:<b@example.com>", "250 2.1.5 Ok").await;
    raw.expect("DATA", "354 ").await;
    raw.send("Subject: survived\r\n\r\n.\r\n").await;
    assert!(raw.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    assert_eq!(app.messages().await[0].summary.subject, "survived");
}

#[tokio::test(flavor = "multi_thread")]
async fn over_long_lines_are_refused_and_the_session_goes_on() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    let long = format!("NOOP {}", "x".repeat(600));
    raw.expect(&long, "500 5.5.6 Error: line too long\r\n")
        .await;
    // A line far past any buffer, without a line end for a while.
    raw.send("MAIL FROM:<").await;
    raw.send("y".repeat(100_000)).await;
    raw.expect(">", "500 5.5.6 Error: line too long\r\n").await;
    // 512 octets including CRLF is still fine.
    let exact = format!("NOOP {}", "z".repeat(512 - 7));
    raw.expect(&exact, "250 2.0.0 Ok").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn message_size_limit_is_enforced_before_and_during_data() {
    let app = TestApp::spawn_with(&["--max-message-size", "1KB"]).await;
    let mut raw = Raw::connect(app.smtp).await;
    let ehlo = raw.command("EHLO client.test").await;
    assert!(ehlo.contains("250-SIZE 1024\r\n"), "{ehlo}");
    raw.expect("MAIL FROM:<a@example.com> SIZE=1025", "552 5.3.4 ")
        .await;
    raw.expect("MAIL FROM:<a@example.com> SIZE=1024", "250 ")
        .await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    raw.expect("DATA", "354 ").await;
    raw.send(format!("Subject: big\r\n\r\n{}\r\n.\r\n", "a".repeat(2000)))
        .await;
    assert_eq!(
        raw.reply().await,
        "552 5.3.4 Error: message size exceeds fixed maximum message size\r\n"
    );
    // BDAT: the chunk that crosses the limit is read and refused.
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    raw.send(format!("BDAT 1000\r\n{}", "b".repeat(1000))).await;
    assert!(raw.reply().await.starts_with("250 2.0.0 1000 octets"));
    raw.send(format!("BDAT 100 LAST\r\n{}", "c".repeat(100)))
        .await;
    assert!(raw.reply().await.starts_with("552 5.3.4 "));
    assert!(app.messages().await.is_empty());
    // The session is still good for a message that fits.
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    raw.expect("DATA", "354 ").await;
    raw.send("Subject: small\r\n\r\nok\r\n.\r\n").await;
    assert!(raw.reply().await.starts_with("250 2.0.0 Ok: queued as "));
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_recipients_is_452() {
    let app = TestApp::spawn_with(&["--smtp-max-recipients", "3"]).await;
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    for i in 0..3 {
        raw.expect(&format!("RCPT TO:<r{i}@example.com>"), "250 ")
            .await;
    }
    raw.expect(
        "RCPT TO:<r3@example.com>",
        "452 4.5.3 Error: too many recipients",
    )
    .await;
    raw.expect("DATA", "354 ").await;
    raw.send("\r\n.\r\n").await;
    assert!(raw.reply().await.starts_with("250 "));
    assert_eq!(app.messages().await[0].envelope.recipients.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_lf_nul_and_8bit_data_are_stored_as_received() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    raw.expect("DATA", "354 ").await;
    // A bare LF, then "\n.\n" which is not the end of data, NUL and 8-bit bytes.
    let body: &[u8] = b"Subject: odd\nX: 1\r\n\r\nbare\nlf\n.\nnul\x00here \xe9\xff\r\n";
    raw.send([body, b".\r\n"].concat()).await;
    assert!(raw.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    let (_, stored) = app.only_message().await;
    assert_eq!(stored, body);
}

#[tokio::test(flavor = "multi_thread")]
async fn nul_bytes_and_garbage_in_commands() {
    let app = TestApp::spawn().await;
    let mut raw = Raw::connect(app.smtp).await;
    raw.send(b"\x00\x01\x02garbage\xff\r\n").await;
    assert!(raw.reply().await.starts_with("500 5.5.2 "));
    raw.send(b"EH\x00LO x\r\n").await;
    assert!(raw.reply().await.starts_with("500 5.5.2 "));
    raw.send(b"GET / HTTP/1.1\r\n").await;
    assert!(raw.reply().await.starts_with("500 5.5.2 "));
    raw.expect("EHLO client.test", "250-mailsink.test").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tls_handshake_on_the_plaintext_port_is_answered() {
    let app = TestApp::spawn().await;
    let mut raw = Raw::connect(app.smtp).await;
    // The start of a TLS 1.2 ClientHello record.
    raw.send(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\n")
        .await;
    let answer = raw.read_to_close().await;
    assert!(answer.starts_with("554 5.7.0 "), "{answer:?}");
    // The server is unharmed.
    session(&app).await.expect("NOOP", "250 ").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_disconnects_mid_data_stores_nothing() {
    let app = TestApp::spawn().await;
    {
        let mut raw = session(&app).await;
        raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
        raw.expect("RCPT TO:<b@example.com>", "250 ").await;
        raw.expect("DATA", "354 ").await;
        raw.send("Subject: cut\r\n\r\nhalf a message").await;
    }
    {
        let mut raw = session(&app).await;
        raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
        raw.expect("RCPT TO:<b@example.com>", "250 ").await;
        raw.send("BDAT 100 LAST\r\nonly part").await;
    }
    // A later session sees a working server and an empty store.
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    raw.expect("DATA", "354 ").await;
    raw.send("Subject: whole\r\n\r\n.\r\n").await;
    assert!(raw.reply().await.starts_with("250 "));
    let messages = app.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].summary.subject, "whole");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_client_gets_421_after_the_idle_timeout() {
    let app = TestApp::spawn_with(&["--smtp-idle-timeout", "300ms"]).await;
    let mut raw = Raw::connect(app.smtp).await;
    assert_eq!(
        raw.read_to_close().await,
        "421 4.4.2 mailsink.test Error: timeout exceeded\r\n"
    );
    // Silence in the middle of DATA also times out, and stores nothing.
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    raw.expect("DATA", "354 ").await;
    raw.send("Subject: slow\r\n").await;
    assert!(raw.read_to_close().await.starts_with("421 4.4.2 "));
    assert!(app.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_get_421_and_others_are_served() {
    let app = TestApp::spawn_with(&["--smtp-max-connections", "3"]).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(Raw::connect(app.smtp).await);
    }
    for _ in 0..20 {
        let mut extra = Raw::connect_silent(app.smtp).await;
        assert_eq!(
            extra.read_to_close().await,
            "421 4.7.0 mailsink.test Error: too many connections, try again later\r\n"
        );
    }
    // The held sessions still work; closing one frees a slot.
    held[0].expect("EHLO a.test", "250-").await;
    let closing = held.pop().expect("three sessions");
    drop(closing);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut raw = Raw::connect_silent(app.smtp).await;
        let greeting = raw.reply().await;
        if greeting.starts_with("220 ") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no slot was freed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_exchanges_and_their_bad_forms() {
    let app = TestApp::spawn_with(&["--smtp-auth", "alice:secret"]).await;
    let mut raw = session(&app).await;
    raw.expect(
        "MAIL FROM:<a@example.com>",
        "530 5.7.0 Authentication required",
    )
    .await;
    raw.expect("AUTH FROB", "504 5.5.4 ").await;
    raw.expect("AUTH PLAIN !!notbase64", "501 5.5.2 ").await;
    // AGFsaWNlAHdyb25n = "\0alice\0wrong"
    raw.expect("AUTH PLAIN AGFsaWNlAHdyb25n", "535 5.7.8 ")
        .await;
    raw.expect("AUTH LOGIN", "334 VXNlcm5hbWU6").await;
    raw.expect("*", "501 5.7.0 Error: authentication cancelled")
        .await;
    raw.expect("AUTH PLAIN", "334 ").await;
    // AGFsaWNlAHNlY3JldA== = "\0alice\0secret"
    raw.expect(
        "AGFsaWNlAHNlY3JldA==",
        "235 2.7.0 Authentication successful",
    )
    .await;
    raw.expect(
        "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
        "503 5.5.1 Error: already authenticated",
    )
    .await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    raw.expect("RCPT TO:<b@example.com>", "250 ").await;
    raw.expect("DATA", "354 ").await;
    raw.send("Subject: authed\r\n\r\n.\r\n").await;
    assert!(raw.reply().await.starts_with("250 "));
    let (meta, _) = app.only_message().await;
    assert_eq!(meta.envelope.auth_user.as_deref(), Some("alice"));
    let raw_bytes = app.raw(&meta.id).await;
    assert!(String::from_utf8_lossy(&raw_bytes).contains(" with ESMTPA id "));
}

#[tokio::test(flavor = "multi_thread")]
async fn any_credentials_are_accepted_by_default() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    // AHVzZXIAcGFzcw== = "\0user\0pass"
    raw.expect("AUTH PLAIN AHVzZXIAcGFzcw==", "235 ").await;
    raw.expect("QUIT", "221 ").await;
    // Authentication stays optional.
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_refuses_pipelined_commands_and_double_tls() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    // Commands smuggled behind STARTTLS must not run inside the TLS session.
    raw.send("STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        .await;
    let answer = raw.read_to_close().await;
    assert!(answer.starts_with("501 5.5.4 "), "{answer:?}");
    let mut raw = session(&app).await;
    raw.expect("STARTTLS", "220 2.0.0 Ready to start TLS").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_answers_421_to_open_sessions() {
    let app = TestApp::spawn().await;
    let mut raw = session(&app).await;
    raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
    app.stop().await;
    assert_eq!(
        raw.read_to_close().await,
        "421 4.3.2 mailsink.test Service shutting down\r\n"
    );
}
