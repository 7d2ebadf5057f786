//! swaks (the Swiss Army Knife for SMTP) as the client: PIPELINING, a binary
//! attachment, STARTTLS, implicit TLS and AUTH CRAM-MD5.
//!
//! swaks terminates DATA with CRLF . CRLF after the data it was given, so a
//! data file that does not end in a line break is stored plus one CRLF.

use std::io::Write;
use std::process::Output;

use mail_parser::MimeHeaders;

use crate::clients::{
    assert_protocol, assert_same_bytes, assert_success, recipient_addresses, transcript,
};
use crate::harness::{TestApp, run_async};

const HELO: &str = "swaks.test";

/// Runs swaks against 127.0.0.1:`port` with `args` after the common ones.
async fn swaks(port: u16, args: &[&str]) -> Output {
    let mut all: Vec<String> = [
        "--server",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--helo",
        HELO,
        "--suppress-data",
        "--timeout",
        "20",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    all.extend(args.iter().map(|s| (*s).to_owned()));
    run_async("swaks", all, None).await
}

/// A temporary file holding `bytes`.
fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    let mut file = std::fs::File::create(&path).expect("create the file");
    file.write_all(bytes).expect("write the file");
    (dir, path.to_str().expect("a UTF-8 path").to_owned())
}

/// A message for `--data`: CRLF lines, a line starting with a dot (swaks
/// quotes it on the wire), and no line break after the last line.
fn data(from: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Sam Swaks <{from}>\r\n\
         To: one@example.com, two@example.com\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{subject}@swaks.test>\r\n\
         \r\n\
         First line.\r\n\
         .A line that starts with a dot\r\n\
         \r\n\
         Last line, no line break after it."
    )
    .into_bytes()
}

/// Sends `data(from, subject)` with `extra` options to `port`; asserts swaks
/// succeeded and the stored client bytes are the data plus the final CRLF.
/// Returns the stored bytes and swaks's transcript.
async fn send_data(
    app: &TestApp,
    port: u16,
    from: &str,
    subject: &str,
    extra: &[&str],
) -> (Vec<u8>, String) {
    let message = data(from, subject);
    let (_dir, path) = temp_file("message.eml", &message);
    let data_arg = format!("@{path}");
    let mut args = vec![
        "--from",
        from,
        "--to",
        "one@example.com,two@example.com",
        "--data",
        &data_arg,
    ];
    args.extend_from_slice(extra);
    let output = swaks(port, &args).await;
    assert_success(&output, "swaks");

    let (meta, body) = app.only_message().await;
    let mut expected = message;
    expected.extend_from_slice(b"\r\n");
    assert_same_bytes(&body, &expected, "swaks --data");
    assert_eq!(meta.envelope.mail_from, from);
    assert_eq!(
        recipient_addresses(&meta),
        ["one@example.com", "two@example.com"]
    );
    assert_eq!(meta.envelope.helo, HELO);
    assert_eq!(meta.summary.subject, subject);
    (app.raw(&meta.id).await, transcript(&output))
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_pipelining() {
    let app = TestApp::spawn().await;
    let (raw, transcript) = send_data(
        &app,
        app.smtp.port(),
        "swaks-pipeline@example.com",
        "pipelined",
        &["--pipeline"],
    )
    .await;
    // swaks really pipelined: all four commands went out before any reply.
    let pipelined = " -> MAIL FROM:<swaks-pipeline@example.com>\n \
                     -> RCPT TO:<one@example.com>\n \
                     -> RCPT TO:<two@example.com>\n \
                     -> DATA\n";
    assert!(transcript.contains(pipelined), "{transcript}");
    assert_protocol(&raw, "ESMTP");
    let meta = &app.messages().await[0];
    assert!(!meta.envelope.tls);
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_binary_attachment_survives() {
    let app = TestApp::spawn().await;
    // 64 KiB holding every byte value, in a pattern that is not just a ramp.
    let content: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(7) ^ (i >> 8)) as u8)
        .collect();
    assert!((0..=255u8).all(|b| content.contains(&b)));
    let (_dir, path) = temp_file("blob.bin", &content);
    let attach = format!("@{path}");
    let output = swaks(
        app.smtp.port(),
        &[
            "--from",
            "swaks-attach@example.com",
            "--to",
            "rcpt@example.com",
            "--header",
            "Subject: swaks attachment",
            "--body",
            "See the attachment.",
            "--attach-type",
            "application/octet-stream",
            "--attach",
            &attach,
        ],
    )
    .await;
    assert_success(&output, "swaks");

    let (meta, _) = app.only_message().await;
    assert_eq!(meta.summary.subject, "swaks attachment");
    assert_eq!(meta.summary.attachments, 1);
    let raw = app.raw(&meta.id).await;
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw)
        .expect("the stored message parses");
    assert_eq!(parsed.attachment_count(), 1);
    let attachment = parsed.attachment(0).expect("one attachment");
    assert_eq!(attachment.attachment_name(), Some("blob.bin"));
    assert_same_bytes(attachment.contents(), &content, "decoded attachment");
    let text = parsed.body_text(0).expect("a text body");
    assert_eq!(text.trim_end(), "See the attachment.");
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_starttls() {
    let app = TestApp::spawn().await;
    let (raw, _) = send_data(
        &app,
        app.smtp.port(),
        "swaks-starttls@example.com",
        "starttls",
        &["--tls"],
    )
    .await;
    assert!(
        app.messages().await[0].envelope.tls,
        "the envelope records TLS"
    );
    assert_protocol(&raw, "ESMTPS");
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_tls_on_connect() {
    let app = TestApp::spawn_with(&["--smtps-addr", "127.0.0.1:0"]).await;
    let smtps = app.smtps.expect("the SMTPS listener is on");
    let (raw, _) = send_data(
        &app,
        smtps.port(),
        "swaks-smtps@example.com",
        "implicit-tls",
        &["--tlsc"],
    )
    .await;
    assert!(
        app.messages().await[0].envelope.tls,
        "the envelope records TLS"
    );
    assert_protocol(&raw, "ESMTPS");
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_auth_cram_md5() {
    let app = TestApp::spawn_with(&["--smtp-auth", "alice:secret"]).await;
    let (raw, _) = send_data(
        &app,
        app.smtp.port(),
        "swaks-cram@example.com",
        "cram-md5",
        &[
            "--auth",
            "CRAM-MD5",
            "--auth-user",
            "alice",
            "--auth-password",
            "secret",
        ],
    )
    .await;
    let meta = &app.messages().await[0];
    assert_eq!(meta.envelope.auth_user.as_deref(), Some("alice"));
    assert_protocol(&raw, "ESMTPA");
}

#[tokio::test(flavor = "multi_thread")]
async fn swaks_auth_cram_md5_wrong_password() {
    let app = TestApp::spawn_with(&["--smtp-auth", "alice:secret"]).await;
    let output = swaks(
        app.smtp.port(),
        &[
            "--from",
            "swaks-cram-bad@example.com",
            "--to",
            "rcpt@example.com",
            "--auth",
            "CRAM-MD5",
            "--auth-user",
            "alice",
            "--auth-password",
            "wrong",
        ],
    )
    .await;
    // swaks exits 28 for "error in AUTH transaction".
    assert_eq!(output.status.code(), Some(28), "{}", transcript(&output));
    let text = transcript(&output);
    assert!(
        text.contains("<** 535 "),
        "swaks shows the 535 reply\n{text}"
    );
    assert!(app.messages().await.is_empty(), "nothing is stored");
}
