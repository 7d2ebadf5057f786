//! curl as the client: plain SMTP, STARTTLS (`--ssl-reqd`), implicit TLS
//! (`smtps://`) and AUTH. curl uploads the message as is, dot-stuffing it, and
//! ends DATA with just `.CRLF` when the message ends with CRLF, so the stored
//! client bytes must equal the message exactly.

use std::process::Output;

use crate::clients::{assert_protocol, assert_same_bytes, assert_success, recipient_addresses};
use crate::harness::{TestApp, run_async};

/// The EHLO name: curl takes it from the URL's path.
const HELO: &str = "curl.test";

/// A CRLF message with a dot-leading line, which curl must stuff.
fn message(from: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: Curt Curl <{from}>\r\n\
         To: Rcpt <rcpt@example.com>\r\n\
         Subject: {subject}\r\n\
         \r\n\
         Uploaded by curl.\r\n\
         .a dot-leading line\r\n\
         .\r\n\
         The end.\r\n"
    )
    .into_bytes()
}

/// Uploads `message(from, subject)` to `url` (`extra` curl options) and checks
/// the stored bytes and envelope.
async fn upload(
    app: &TestApp,
    url: String,
    from: &str,
    subject: &str,
    extra: &[&str],
) -> (mailsink::store::MessageMeta, Vec<u8>) {
    let message = message(from, subject);
    let mut args: Vec<String> = [
        "--silent",
        "--show-error",
        "--max-time",
        "30",
        "--url",
        &url,
        "--mail-from",
        from,
        "--mail-rcpt",
        "rcpt@example.com",
        "--mail-rcpt",
        "second@example.com",
        "--upload-file",
        "-",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let output: Output = run_async("curl", args, Some(message.clone())).await;
    assert_success(&output, "curl");

    let (meta, body) = app.only_message().await;
    assert_same_bytes(&body, &message, "curl upload");
    assert_eq!(meta.envelope.mail_from, from);
    assert_eq!(
        recipient_addresses(&meta),
        ["rcpt@example.com", "second@example.com"]
    );
    assert_eq!(meta.envelope.helo, HELO);
    assert_eq!(meta.summary.subject, subject);
    let raw = app.raw(&meta.id).await;
    (meta, raw)
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_plain_upload_is_stored_exactly() {
    let app = TestApp::spawn().await;
    let url = format!("smtp://127.0.0.1:{}/{HELO}", app.smtp.port());
    let (meta, raw) = upload(&app, url, "curl-plain@example.com", "curl plain", &[]).await;
    assert!(!meta.envelope.tls);
    assert_eq!(meta.envelope.auth_user, None);
    assert_protocol(&raw, "ESMTP");
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_starttls() {
    let app = TestApp::spawn().await;
    let url = format!("smtp://127.0.0.1:{}/{HELO}", app.smtp.port());
    let (meta, raw) = upload(
        &app,
        url,
        "curl-starttls@example.com",
        "curl starttls",
        &["--ssl-reqd", "--insecure"],
    )
    .await;
    assert!(meta.envelope.tls, "the envelope records TLS");
    assert_protocol(&raw, "ESMTPS");
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_smtps_implicit_tls() {
    let app = TestApp::spawn_with(&["--smtps-addr", "127.0.0.1:0"]).await;
    let smtps = app.smtps.expect("the SMTPS listener is on");
    let url = format!("smtps://127.0.0.1:{}/{HELO}", smtps.port());
    let (meta, raw) = upload(
        &app,
        url,
        "curl-smtps@example.com",
        "curl smtps",
        &["--insecure"],
    )
    .await;
    assert!(meta.envelope.tls, "the envelope records TLS");
    assert_protocol(&raw, "ESMTPS");
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_auth_over_starttls() {
    let app = TestApp::spawn_with(&["--smtp-auth", "alice:secret"]).await;
    let url = format!("smtp://127.0.0.1:{}/{HELO}", app.smtp.port());
    // curl picks the strongest mechanism offered (CRAM-MD5 here).
    let (meta, raw) = upload(
        &app,
        url,
        "curl-auth@example.com",
        "curl auth",
        &["--ssl-reqd", "--insecure", "--user", "alice:secret"],
    )
    .await;
    assert_eq!(meta.envelope.auth_user.as_deref(), Some("alice"));
    assert!(meta.envelope.tls);
    assert_protocol(&raw, "ESMTPSA");
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_oversized_upload_is_refused_after_data() {
    let app = TestApp::spawn_with(&["--max-message-size", "1KB"]).await;
    let url = format!("smtp://127.0.0.1:{}/{HELO}", app.smtp.port());
    // From stdin curl cannot declare SIZE, so the limit applies after DATA.
    let mut message = b"Subject: too big\r\n\r\n".to_vec();
    for _ in 0..64 {
        message.extend_from_slice(&[b'z'; 62]);
        message.extend_from_slice(b"\r\n");
    }
    let args = [
        "--verbose",
        "--max-time",
        "30",
        "--url",
        &url,
        "--mail-from",
        "curl-big@example.com",
        "--mail-rcpt",
        "rcpt@example.com",
        "--upload-file",
        "-",
    ]
    .map(str::to_owned)
    .to_vec();
    let output = run_async("curl", args, Some(message)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("< 552 5.3.4 "),
        "curl shows the 552 reply after DATA\n{stderr}"
    );
    assert!(app.messages().await.is_empty(), "nothing is stored");
}
