//! The real binary started with Mailpit's (`MP_*`) and MailHog's (`MH_*`)
//! variables instead of Mailsink's: each one's effect is checked over the
//! wire, unsupported ones are warned about, bad ones refused naming them.

use base64::Engine;

use crate::harness::Raw;
use crate::process::{Process, run_mailsink};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Starts `mailsink` with only JSON logs on the command line and `env`.
fn start(env: &[(&str, &str)]) -> Process {
    // A listener added later must not take a fixed port in parallel tests.
    let mut all = vec![("MAILSINK_IMAP_ADDR", "127.0.0.1:0")];
    all.extend_from_slice(env);
    Process::spawn(&["--log-format", "json"], &all)
}

async fn total(process: &Process) -> u64 {
    total_as(process, None).await
}

/// The message count, asked with these basic-auth credentials, if any.
async fn total_as(process: &Process, login: Option<(&str, &str)>) -> u64 {
    let http = process.listening["http"];
    let mut request = reqwest::Client::new().get(format!("http://{http}/api/v1/messages"));
    if let Some((user, pass)) = login {
        request = request.basic_auth(user, Some(pass));
    }
    let list: serde_json::Value = request
        .send()
        .await
        .expect("GET /api/v1/messages")
        .json()
        .await
        .expect("JSON");
    list["total"].as_u64().expect("a total")
}

#[tokio::test(flavor = "multi_thread")]
async fn mailpit_variables_configure_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_dir = dir.path().to_str().expect("UTF-8").to_owned();
    let process = start(&[
        ("MP_SMTP_BIND_ADDR", "127.0.0.1:0"),
        ("MP_UI_BIND_ADDR", "127.0.0.1:0"),
        ("MP_POP3_BIND_ADDR", "127.0.0.1:0"),
        ("MP_DATABASE", &db_dir),
        ("MP_MAX_MESSAGES", "2"),
        ("MP_MAX_MESSAGE_SIZE", "1"),
        ("MP_SMTP_AUTH", "alice:one bob:two"),
        ("MP_UI_AUTH", "admin:secret"),
        ("MP_WEBROOT", "/mail/"),
    ]);
    // MP_DATABASE names a directory: the database goes in it.
    assert_eq!(process.db, format!("{db_dir}/mailsink.db"));
    assert!(process.listening.contains_key("pop3"));
    let log = process.startup_log().join("\n");
    assert!(!log.contains("MP_UI_AUTH"), "MP_UI_AUTH is applied: {log}");
    assert!(log.contains("MP_WEBROOT is not supported"), "{log}");
    // MP_UI_AUTH protects the UI and the API with basic auth.
    let http = process.listening["http"];
    let refused = reqwest::get(format!("http://{http}/api/v1/messages"))
        .await
        .expect("GET /api/v1/messages");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    let admin = Some(("admin", "secret"));

    let mut raw = Raw::connect(process.smtp()).await;
    let ehlo = raw.expect("EHLO client.test", "250-").await;
    // MP_MAX_MESSAGE_SIZE is in megabytes.
    assert!(ehlo.contains("250-SIZE 1048576\r\n"), "{ehlo}");
    assert!(ehlo.contains("AUTH "), "{ehlo}");
    // MP_SMTP_AUTH makes AUTH required, with its space-separated users.
    raw.expect("MAIL FROM:<a@example.com>", "530 ").await;
    let wrong = base64::engine::general_purpose::STANDARD.encode("\0bob\0one");
    raw.expect(&format!("AUTH PLAIN {wrong}"), "535 ").await;
    let right = base64::engine::general_purpose::STANDARD.encode("\0bob\0two");
    raw.expect(&format!("AUTH PLAIN {right}"), "235 ").await;
    for n in 1..=3 {
        raw.expect("MAIL FROM:<a@example.com>", "250 ").await;
        raw.expect("RCPT TO:<b@example.com>", "250 ").await;
        raw.expect("DATA", "354 ").await;
        raw.expect(&format!("Subject: n{n}\r\n\r\nbody\r\n."), "250 ")
            .await;
    }
    raw.expect("QUIT", "221 ").await;
    // MP_MAX_MESSAGES: the oldest are pruned in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while total_as(&process, admin).await != 2 {
        assert!(std::time::Instant::now() < deadline, "pruned to 2");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mailhog_variables_configure_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let maildir = dir.path().to_str().expect("UTF-8").to_owned();
    let process = start(&[
        ("MH_SMTP_BIND_ADDR", "127.0.0.1:0"),
        ("MH_API_BIND_ADDR", "127.0.0.1:0"),
        ("MH_UI_BIND_ADDR", "127.0.0.1:0"),
        ("MH_HOSTNAME", "mailhog.example"),
        ("MH_STORAGE", "maildir"),
        ("MH_MAILDIR_PATH", &maildir),
        ("MH_CORS_ORIGIN", "*"),
        ("MAILSINK_POP3_ADDR", "off"),
    ]);
    assert_eq!(process.db, format!("{maildir}/mailsink.db"));
    assert!(!process.listening.contains_key("pop3"));
    let log = process.startup_log().join("\n");
    assert!(log.contains("MH_CORS_ORIGIN is not supported"), "{log}");
    let mut raw = Raw::connect_silent(process.smtp()).await;
    let greeting = raw.reply().await;
    assert!(greeting.starts_with("220 mailhog.example "), "{greeting:?}");
    raw.expect("QUIT", "221 ").await;
    assert_eq!(total(&process).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn mailsink_variables_win() {
    let process = start(&[
        ("MAILSINK_SMTP_ADDR", "127.0.0.1:0"),
        ("MAILSINK_HTTP_ADDR", "127.0.0.1:0"),
        ("MAILSINK_POP3_ADDR", "off"),
        ("MP_UI_BIND_ADDR", "not even an address"),
        ("MH_HOSTNAME", "mailhog.example"),
        ("MAILSINK_HOSTNAME", "mailsink.example"),
    ]);
    let log = process.startup_log().join("\n");
    assert!(
        log.contains("MP_UI_BIND_ADDR is ignored: MAILSINK_HTTP_ADDR is set and wins"),
        "{log}"
    );
    let mut raw = Raw::connect_silent(process.smtp()).await;
    let greeting = raw.reply().await;
    assert!(
        greeting.starts_with("220 mailsink.example "),
        "{greeting:?}"
    );
}

#[test]
fn bad_values_are_refused_naming_the_variable() {
    for (var, value, says) in [
        ("MP_MAX_AGE", "forever", "expected a duration"),
        (
            "MP_SMTP_BIND_ADDR",
            "unix:/tmp/mailpit.sock:0660",
            "expected host:port",
        ),
        ("MP_MAX_MESSAGES", "lots", "expected a number of messages"),
        ("MP_MAX_MESSAGE_SIZE", "0", "no unlimited size"),
        ("MP_SMTP_AUTH", "alice", "expected user:password"),
        (
            "MP_SMTP_AUTH_ACCEPT_ANY",
            "perhaps",
            "expected true or false",
        ),
        ("MH_HOSTNAME", "bad host", "not a valid host name"),
        ("MH_STORAGE", "s3", "expected memory, mongodb or maildir"),
    ] {
        let output = run_mailsink(&["--smtp-addr", "127.0.0.1:0"], &[(var, value)]);
        assert_eq!(output.status.code(), Some(2), "{var}: {}", stderr(&output));
        let err = stderr(&output);
        assert!(err.starts_with(&format!("mailsink: {var}=")), "{err}");
        assert!(err.contains(says), "{var}: {err}");
    }
    let output = run_mailsink(
        &["version"],
        &[
            ("MH_API_BIND_ADDR", "0.0.0.0:8025"),
            ("MH_UI_BIND_ADDR", "0.0.0.0:8026"),
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("MH_UI_BIND_ADDR"),
        "{}",
        stderr(&output)
    );
}
