//! Python's smtplib as the client: SMTPUTF8, an 8-bit body, a 5 MB message,
//! dot-stuffing and DSN parameters.
//!
//! The message bytes go to Python on stdin, so the test holds exactly what was
//! sent. smtplib transmits them unchanged apart from dot-stuffing, and every
//! message here ends with CRLF, so smtplib adds nothing before the final dot.

use std::process::Output;

use crate::clients::{
    assert_protocol, assert_same_bytes, assert_success, printable_lines, recipient_addresses,
};
use crate::harness::{TestApp, run_async};

const HELO: &str = "python.test";

/// `sendmail(from, recipients, <stdin>, mail_options=…)`.
/// Arguments: port, from, mail options (space separated), recipients….
const SENDMAIL: &str = r#"
import os, smtplib, sys
args = [os.fsencode(a).decode("utf-8") for a in sys.argv[1:]]
port, sender, options, recipients = int(args[0]), args[1], args[2].split(), args[3:]
message = sys.stdin.buffer.read()
with smtplib.SMTP("127.0.0.1", port, local_hostname="python.test", timeout=60) as smtp:
    refused = smtp.sendmail(sender, recipients, message, mail_options=options)
    assert not refused, refused
"#;

/// `send_message(<stdin parsed>, …)` with DSN parameters. Arguments: port.
const SEND_MESSAGE_DSN: &str = r#"
import email, email.policy, smtplib, sys
message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.SMTP)
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="python.test", timeout=60) as smtp:
    refused = smtp.send_message(
        message,
        mail_options=["RET=HDRS", "ENVID=abc123"],
        rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;x@y.z"],
    )
    assert not refused, refused
"#;

async fn python(script: &str, args: &[&str], stdin: Vec<u8>) -> Output {
    let mut all = vec!["-c".to_owned(), script.to_owned()];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    run_async("python3", all, Some(stdin)).await
}

/// Sends `message` with `sendmail` and asserts it was stored byte for byte.
async fn sendmail(
    app: &TestApp,
    from: &str,
    to: &str,
    options: &str,
    message: &[u8],
) -> (mailsink::store::MessageMeta, Vec<u8>) {
    let port = app.smtp.port().to_string();
    let output = python(SENDMAIL, &[&port, from, options, to], message.to_vec()).await;
    assert_success(&output, "python3 smtplib");
    let (meta, body) = app.only_message().await;
    assert_same_bytes(&body, message, "smtplib sendmail");
    assert_eq!(meta.envelope.helo, HELO);
    let raw = app.raw(&meta.id).await;
    assert_eq!(meta.size, raw.len() as u64);
    (meta, raw)
}

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_smtputf8_addresses_and_subject() {
    let app = TestApp::spawn().await;
    let message = "From: José <josé@exämple.com>\r\n\
                   To: Zoë <zoë@exämple.com>\r\n\
                   Subject: Grüße 👋\r\n\
                   MIME-Version: 1.0\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\
                   Content-Transfer-Encoding: 8bit\r\n\
                   \r\n\
                   Hallo 👋, schöne Grüße!\r\n";
    let (meta, raw) = sendmail(
        &app,
        "josé@exämple.com",
        "zoë@exämple.com",
        "SMTPUTF8 BODY=8BITMIME",
        message.as_bytes(),
    )
    .await;

    assert_eq!(meta.envelope.mail_from, "josé@exämple.com");
    assert_eq!(recipient_addresses(&meta), ["zoë@exämple.com"]);
    assert_eq!(meta.summary.subject, "Grüße 👋");
    let from = meta.summary.from.as_ref().expect("a From header");
    assert_eq!(
        (from.name.as_str(), from.address.as_str()),
        ("José", "josé@exämple.com")
    );
    let to: Vec<&str> = meta.summary.to.iter().map(|m| m.address.as_str()).collect();
    assert_eq!(to, ["zoë@exämple.com"]);
    assert!(
        meta.summary.snippet.starts_with("Hallo 👋, schöne Grüße!"),
        "snippet: {:?}",
        meta.summary.snippet
    );
    assert!(raw.starts_with("Return-Path: <josé@exämple.com>\r\n".as_bytes()));
    assert_protocol(&raw, "UTF8SMTP");
}

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_8bit_body_is_stored_byte_for_byte() {
    let app = TestApp::spawn().await;
    let mut message = b"From: eight@example.com\r\n\
                        To: rcpt@example.com\r\n\
                        Subject: Latin-1 body\r\n\
                        MIME-Version: 1.0\r\n\
                        Content-Type: text/plain; charset=iso-8859-1\r\n\
                        Content-Transfer-Encoding: 8bit\r\n\
                        \r\n\
                        Caf\xe9 na\xefve \xa9\r\n"
        .to_vec();
    // Every byte from 0x80 to 0xFF, 32 to a line: not valid UTF-8.
    for line in (0x80..=0xFFu8).collect::<Vec<_>>().chunks(32) {
        message.extend_from_slice(line);
        message.extend_from_slice(b"\r\n");
    }
    assert!(std::str::from_utf8(&message).is_err());
    let (meta, raw) = sendmail(
        &app,
        "eight@example.com",
        "rcpt@example.com",
        "BODY=8BITMIME",
        &message,
    )
    .await;

    assert_eq!(meta.summary.subject, "Latin-1 body");
    assert!(
        meta.summary.snippet.starts_with("Café naïve ©"),
        "the Latin-1 body decodes: {:?}",
        meta.summary.snippet
    );
    assert_protocol(&raw, "ESMTP");
}

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_5_mb_message_is_stored_byte_for_byte() {
    let app = TestApp::spawn().await;
    let mut message = b"From: big@example.com\r\n\
                        To: rcpt@example.com\r\n\
                        Subject: Five megabytes\r\n\
                        \r\n"
        .to_vec();
    message.extend_from_slice(&printable_lines(5 * 1024 * 1024, 0x5EED));
    assert!(message.len() > 5 * 1024 * 1024);
    let (meta, _) = sendmail(&app, "big@example.com", "rcpt@example.com", "", &message).await;
    assert_eq!(meta.summary.subject, "Five megabytes");
    assert_eq!(meta.envelope.mail_from, "big@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_dot_stuffed_lines_are_unstuffed() {
    let app = TestApp::spawn().await;
    let message = b"From: dots@example.com\r\n\
                    To: rcpt@example.com\r\n\
                    Subject: Dots\r\n\
                    \r\n\
                    .leading dot\r\n\
                    ..two leading dots\r\n\
                    .\r\n\
                    ...\r\n\
                    middle . dot\r\n\
                    . space after a dot\r\n\
                    \r\n\
                    .\r\n";
    let (meta, _) = sendmail(&app, "dots@example.com", "rcpt@example.com", "", message).await;
    assert_eq!(meta.summary.subject, "Dots");
}

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_send_message_dsn_parameters() {
    let app = TestApp::spawn().await;
    let message = b"From: Dee Ess <dsn@example.com>\r\n\
                    To: rcpt@example.com\r\n\
                    Bcc: hidden@example.com\r\n\
                    Subject: DSN parameters\r\n\
                    Message-ID: <dsn-test@python.test>\r\n\
                    \r\n\
                    Tell me when it arrives.\r\n";
    let port = app.smtp.port().to_string();
    let output = python(SEND_MESSAGE_DSN, &[&port], message.to_vec()).await;
    assert_success(&output, "python3 smtplib");

    let (meta, body) = app.only_message().await;
    // send_message drops the Bcc header and sends to its address too.
    let without_bcc = String::from_utf8_lossy(message).replace("Bcc: hidden@example.com\r\n", "");
    assert_same_bytes(&body, without_bcc.as_bytes(), "smtplib send_message");
    let envelope = &meta.envelope;
    assert_eq!(envelope.mail_from, "dsn@example.com");
    assert_eq!(envelope.helo, HELO);
    assert_eq!(envelope.dsn_ret.as_deref(), Some("HDRS"));
    assert_eq!(envelope.dsn_envid.as_deref(), Some("abc123"));
    assert_eq!(
        recipient_addresses(&meta),
        ["rcpt@example.com", "hidden@example.com"]
    );
    let notify: Vec<Option<&str>> = envelope
        .recipients
        .iter()
        .map(|r| r.notify.as_deref())
        .collect();
    assert_eq!(notify, [Some("SUCCESS,FAILURE"); 2]);
    assert_eq!(meta.summary.subject, "DSN parameters");
    assert_eq!(
        meta.summary.message_id.as_deref(),
        Some("dsn-test@python.test")
    );
    let bcc: Vec<&str> = meta
        .summary
        .bcc
        .iter()
        .map(|m| m.address.as_str())
        .collect();
    assert_eq!(bcc, ["hidden@example.com"]);
    // ORCPT is recorded as the client sent it (the contract of
    // `store::Recipient`), address type included: a DSN's Original-Recipient
    // field needs it (RFC 3464 §2.3.1).
    let orcpt: Vec<Option<&str>> = envelope
        .recipients
        .iter()
        .map(|r| r.orcpt.as_deref())
        .collect();
    assert_eq!(orcpt, [Some("rfc822;x@y.z"); 2]);
}

/// One session: STARTTLS, `login` (smtplib tries CRAM-MD5 first), three
/// messages, one refused by its declared SIZE, and one more after it.
/// Arguments: port. Prints the refusal's code.
const SESSION: &str = r#"
import smtplib, ssl, sys
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="python.test", timeout=60) as smtp:
    smtp.starttls(context=context)
    smtp.login("alice", "secret")
    for i in range(3):
        message = f"Subject: message {i}\r\n\r\nBody {i}.\r\n".encode()
        smtp.sendmail(f"session{i}@example.com", [f"rcpt{i}@example.com"], message)
    try:
        smtp.sendmail("too-big@example.com", ["rcpt@example.com"], b"x" * 4096 + b"\r\n")
        sys.exit("the oversized message was accepted")
    except smtplib.SMTPSenderRefused as refusal:
        print("refused", refusal.smtp_code)
    smtp.sendmail("after@example.com", ["rcpt@example.com"], b"Subject: after\r\n\r\nStill fine.\r\n")
"#;

#[tokio::test(flavor = "multi_thread")]
async fn smtplib_one_session_many_messages() {
    let app =
        TestApp::spawn_with(&["--smtp-auth", "alice:secret", "--max-message-size", "1KB"]).await;
    let port = app.smtp.port().to_string();
    let output = python(SESSION, &[&port], Vec::new()).await;
    assert_success(&output, "python3 smtplib");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.trim(), "refused 552", "the SIZE refusal");

    let mut messages = app.messages().await;
    messages.reverse(); // oldest first
    let expected = [
        (
            "session0@example.com",
            "rcpt0@example.com",
            "Subject: message 0\r\n\r\nBody 0.\r\n",
        ),
        (
            "session1@example.com",
            "rcpt1@example.com",
            "Subject: message 1\r\n\r\nBody 1.\r\n",
        ),
        (
            "session2@example.com",
            "rcpt2@example.com",
            "Subject: message 2\r\n\r\nBody 2.\r\n",
        ),
        (
            "after@example.com",
            "rcpt@example.com",
            "Subject: after\r\n\r\nStill fine.\r\n",
        ),
    ];
    assert_eq!(messages.len(), expected.len(), "{messages:#?}");
    for (meta, (from, to, bytes)) in messages.iter().zip(expected) {
        assert_eq!(meta.envelope.mail_from, from);
        assert_eq!(recipient_addresses(meta), [to]);
        assert_eq!(meta.envelope.auth_user.as_deref(), Some("alice"));
        assert!(meta.envelope.tls);
        assert_eq!(meta.envelope.helo, HELO);
        let raw = app.raw(&meta.id).await;
        assert_same_bytes(crate::harness::client_bytes(&raw), bytes.as_bytes(), from);
        assert_protocol(&raw, "ESMTPSA");
    }
}
