//! lettre (the Rust mail crate) as the client: plain, STARTTLS, implicit TLS,
//! AUTH PLAIN and LOGIN, and a blind copy kept out of the stored bytes.

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::clients::{assert_protocol, assert_same_bytes, recipient_addresses};
use crate::harness::TestApp;

const HELO: &str = "lettre.test";

fn mailbox(s: &str) -> Mailbox {
    s.parse().expect("a valid mailbox")
}

fn message(from: &str, subject: &str) -> Message {
    Message::builder()
        .from(mailbox(from))
        .to(mailbox("Rita Recipient <rita@example.com>"))
        .subject(subject)
        .body(format!("Hello from lettre.\r\nSubject was: {subject}\r\n"))
        .expect("the message builds")
}

/// A transport to `port` with the given TLS mode, naming itself `HELO`.
fn transport(port: u16, tls: Tls) -> lettre::transport::smtp::AsyncSmtpTransportBuilder {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .hello_name(ClientId::Domain(HELO.to_owned()))
        .tls(tls)
}

/// TLS parameters that accept Mailsink's self-signed certificate for localhost.
fn tls_parameters() -> TlsParameters {
    TlsParameters::builder("localhost".to_owned())
        .dangerous_accept_invalid_certs(true)
        .build_rustls()
        .expect("TLS parameters")
}

/// Sends `message` and asserts the stored client bytes are exactly what lettre
/// transmitted: its formatted message plus the CRLF that ends the last line
/// (lettre always terminates DATA with CRLF . CRLF).
async fn send_and_check(
    app: &TestApp,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    message: Message,
) -> (mailsink::store::MessageMeta, Vec<u8>) {
    let mut expected = message.formatted();
    expected.extend_from_slice(b"\r\n");
    let response = transport.send(message).await.expect("lettre sends");
    assert!(response.is_positive(), "reply: {response:?}");
    let (meta, body) = app.only_message().await;
    assert_same_bytes(&body, &expected, "lettre message");
    let raw = app.raw(&meta.id).await;
    (meta, raw)
}

#[tokio::test(flavor = "multi_thread")]
async fn lettre_plain_send_is_stored_exactly() {
    let app = TestApp::spawn().await;
    let sender = "Lena Lettre <lettre-plain@example.com>";
    let (meta, raw) = send_and_check(
        &app,
        transport(app.smtp.port(), Tls::None).build(),
        message(sender, "Plain lettre"),
    )
    .await;

    assert_eq!(meta.envelope.mail_from, "lettre-plain@example.com");
    assert_eq!(recipient_addresses(&meta), ["rita@example.com"]);
    assert_eq!(meta.envelope.helo, HELO);
    assert!(!meta.envelope.tls);
    assert_eq!(meta.envelope.auth_user, None);
    assert_eq!(meta.summary.subject, "Plain lettre");
    let from = meta.summary.from.as_ref().expect("a From header");
    assert_eq!(
        (from.name.as_str(), from.address.as_str()),
        ("Lena Lettre", "lettre-plain@example.com")
    );
    assert_eq!(meta.size, raw.len() as u64);
    assert!(raw.starts_with(b"Return-Path: <lettre-plain@example.com>\r\n"));
    assert_protocol(&raw, "ESMTP");
}

#[tokio::test(flavor = "multi_thread")]
async fn lettre_starttls_is_recorded() {
    let app = TestApp::spawn().await;
    let (meta, raw) = send_and_check(
        &app,
        transport(app.smtp.port(), Tls::Required(tls_parameters())).build(),
        message("lettre-starttls@example.com", "STARTTLS lettre"),
    )
    .await;

    assert_eq!(meta.envelope.mail_from, "lettre-starttls@example.com");
    assert!(meta.envelope.tls, "the envelope records TLS");
    assert_eq!(meta.envelope.helo, HELO, "the EHLO after STARTTLS is kept");
    assert_protocol(&raw, "ESMTPS");
}

#[tokio::test(flavor = "multi_thread")]
async fn lettre_implicit_tls_on_the_smtps_port() {
    let app = TestApp::spawn_with(&["--smtps-addr", "127.0.0.1:0"]).await;
    let smtps = app.smtps.expect("the SMTPS listener is on");
    let (meta, raw) = send_and_check(
        &app,
        transport(smtps.port(), Tls::Wrapper(tls_parameters())).build(),
        message("lettre-smtps@example.com", "Implicit TLS lettre"),
    )
    .await;

    assert_eq!(meta.envelope.mail_from, "lettre-smtps@example.com");
    assert!(meta.envelope.tls, "the envelope records TLS");
    assert_eq!(meta.summary.subject, "Implicit TLS lettre");
    assert_protocol(&raw, "ESMTPS");
}

#[tokio::test(flavor = "multi_thread")]
async fn lettre_auth_plain() {
    let app = TestApp::spawn_with(&["--smtp-auth", "alice:secret,bob:hunter2"]).await;
    let transport = transport(app.smtp.port(), Tls::None)
        .credentials(Credentials::new("alice".to_owned(), "secret".to_owned()))
        .authentication(vec![Mechanism::Plain])
        .build();
    let (meta, raw) = send_and_check(
        &app,
        transport,
        message("lettre-plain-auth@example.com", "AUTH PLAIN lettre"),
    )
    .await;

    assert_eq!(meta.envelope.auth_user.as_deref(), Some("alice"));
    assert!(!meta.envelope.tls);
    assert_protocol(&raw, "ESMTPA");
}

#[tokio::test(flavor = "multi_thread")]
async fn lettre_auth_login_over_starttls() {
    let app = TestApp::spawn_with(&["--smtp-auth", "alice:secret,bob:hunter2"]).await;
    let transport = transport(app.smtp.port(), Tls::Required(tls_parameters()))
        .credentials(Credentials::new("bob".to_owned(), "hunter2".to_owned()))
        .authentication(vec![Mechanism::Login])
        .build();
    let (meta, raw) = send_and_check(
        &app,
        transport,
        message("lettre-login-auth@example.com", "AUTH LOGIN lettre"),
    )
    .await;

    assert_eq!(meta.envelope.auth_user.as_deref(), Some("bob"));
    assert!(meta.envelope.tls);
    assert_protocol(&raw, "ESMTPSA");
}

#[tokio::test(flavor = "multi_thread")]
async fn lettre_wrong_password_is_refused_and_nothing_stored() {
    let app = TestApp::spawn_with(&["--smtp-auth", "alice:secret"]).await;
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let transport = transport(app.smtp.port(), Tls::None)
            .credentials(Credentials::new(
                "alice".to_owned(),
                "not-the-secret".to_owned(),
            ))
            .authentication(vec![mechanism])
            .build();
        let error = transport
            .send(message("lettre-bad-auth@example.com", "must not arrive"))
            .await
            .expect_err("a wrong password is refused");
        let code = error.status().map(u16::from);
        assert_eq!(code, Some(535), "{mechanism:?}: {error}");
        assert!(error.is_permanent(), "{mechanism:?}: {error}");
    }
    assert!(app.messages().await.is_empty(), "nothing is stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn lettre_bcc_stays_in_the_envelope_only() {
    let app = TestApp::spawn().await;
    let message = Message::builder()
        .from(mailbox("lettre-bcc@example.com"))
        .to(mailbox("Visible <visible@example.com>"))
        .bcc(mailbox("Hidden <bcc-only@example.com>"))
        .subject("Blind copy")
        .body("Nobody sees the blind copy.\r\n".to_owned())
        .expect("the message builds");
    let (meta, raw) =
        send_and_check(&app, transport(app.smtp.port(), Tls::None).build(), message).await;

    let stored = String::from_utf8_lossy(&raw);
    assert!(
        !stored.to_ascii_lowercase().contains("bcc-only"),
        "the blind copy's address appears in the stored bytes:\n{stored}"
    );
    assert!(
        !stored.contains("\r\nBcc:"),
        "a Bcc header was stored:\n{stored}"
    );
    let mut recipients = recipient_addresses(&meta);
    recipients.sort_unstable();
    assert_eq!(recipients, ["bcc-only@example.com", "visible@example.com"]);
    let to: Vec<&str> = meta.summary.to.iter().map(|m| m.address.as_str()).collect();
    assert_eq!(to, ["visible@example.com"]);
    let bcc: Vec<&str> = meta
        .summary
        .bcc
        .iter()
        .map(|m| m.address.as_str())
        .collect();
    assert_eq!(bcc, ["bcc-only@example.com"]);
}
