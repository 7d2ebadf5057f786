//! The command line: help, bad values refused at start naming the option,
//! signals, and the temporary database.

use std::path::Path;
use std::time::Duration;

use crate::harness::Raw;
use crate::process::{Process, run_mailsink};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_documents_every_option_with_its_default() {
    let output = run_mailsink(&["serve", "--help"], &[]);
    let help = String::from_utf8_lossy(&output.stdout);
    for (flag, env, default) in [
        (
            "--smtp-addr",
            "MAILSINK_SMTP_ADDR",
            "[default: 127.0.0.1:1025]",
        ),
        ("--smtps-addr", "MAILSINK_SMTPS_ADDR", "[default: off]"),
        (
            "--http-addr",
            "MAILSINK_HTTP_ADDR",
            "[default: 127.0.0.1:8025]",
        ),
        (
            "--pop3-addr",
            "MAILSINK_POP3_ADDR",
            "[default: 127.0.0.1:1110]",
        ),
        ("--pop3s-addr", "MAILSINK_POP3S_ADDR", "[default: off]"),
        ("--pop3-auth", "MAILSINK_POP3_AUTH", ""),
        ("--pop3-auth-file", "MAILSINK_POP3_AUTH_FILE", ""),
        (
            "--pop3-idle-timeout",
            "MAILSINK_POP3_IDLE_TIMEOUT",
            "[default: 10m]",
        ),
        (
            "--imap-addr",
            "MAILSINK_IMAP_ADDR",
            "[default: 127.0.0.1:1143]",
        ),
        ("--imaps-addr", "MAILSINK_IMAPS_ADDR", "[default: off]"),
        ("--imap-auth", "MAILSINK_IMAP_AUTH", ""),
        ("--imap-auth-file", "MAILSINK_IMAP_AUTH_FILE", ""),
        (
            "--imap-idle-timeout",
            "MAILSINK_IMAP_IDLE_TIMEOUT",
            "[default: 30m]",
        ),
        ("--hostname", "MAILSINK_HOSTNAME", "[default: mailsink]"),
        ("--ui-auth", "MAILSINK_UI_AUTH", ""),
        ("--tls-cert", "MAILSINK_TLS_CERT", ""),
        ("--tls-key", "MAILSINK_TLS_KEY", ""),
        ("--db", "MAILSINK_DB", ""),
        ("--db-sync", "MAILSINK_DB_SYNC", "[default: normal]"),
        ("--max-messages", "MAILSINK_MAX_MESSAGES", ""),
        ("--max-age", "MAILSINK_MAX_AGE", ""),
        ("--smtp-auth", "MAILSINK_SMTP_AUTH", ""),
        ("--smtp-auth-file", "MAILSINK_SMTP_AUTH_FILE", ""),
        (
            "--max-message-size",
            "MAILSINK_MAX_MESSAGE_SIZE",
            "[default: 50MB]",
        ),
        (
            "--smtp-max-recipients",
            "MAILSINK_SMTP_MAX_RECIPIENTS",
            "[default: 1000]",
        ),
        (
            "--smtp-max-line-length",
            "MAILSINK_SMTP_MAX_LINE_LENGTH",
            "[default: 512]",
        ),
        (
            "--smtp-idle-timeout",
            "MAILSINK_SMTP_IDLE_TIMEOUT",
            "[default: 5m]",
        ),
        (
            "--smtp-max-connections",
            "MAILSINK_SMTP_MAX_CONNECTIONS",
            "[default: 1000]",
        ),
        ("--log-level", "MAILSINK_LOG_LEVEL", "[default: info]"),
        ("--log-format", "MAILSINK_LOG_FORMAT", "[default: text]"),
    ] {
        let entry = help
            .split("\n      --")
            .find(|entry| entry.starts_with(&format!("{} ", &flag[2..])))
            .unwrap_or_else(|| panic!("{flag} missing from --help:\n{help}"));
        assert!(
            entry.contains(&format!("[env: {env}")),
            "{flag} names {env}:\n{entry}"
        );
        assert!(entry.contains(default), "{flag} shows {default}:\n{entry}");
    }
    // Options given without a subcommand mean `serve`.
    let top = run_mailsink(&["--help"], &[]);
    assert!(String::from_utf8_lossy(&top.stdout).contains("--smtp-addr"));
}

#[test]
fn bad_values_are_refused_naming_the_option() {
    for (args, option) in [
        (&["--smtp-addr", "nowhere"][..], "--smtp-addr"),
        (&["--http-addr", "127.0.0.1:99999"], "--http-addr"),
        (&["--max-message-size", "12XB"], "--max-message-size"),
        (&["--max-message-size", "0"], "--max-message-size"),
        (&["--smtp-idle-timeout", "soon"], "--smtp-idle-timeout"),
        (&["--smtp-idle-timeout", "0s"], "--smtp-idle-timeout"),
        (&["--max-messages", "0"], "--max-messages"),
        (&["--max-messages=-5"], "--max-messages"),
        (&["--max-age", "forever"], "--max-age"),
        (&["--smtp-max-recipients", "0"], "--smtp-max-recipients"),
        (&["--smtp-max-line-length", "10"], "--smtp-max-line-length"),
        (
            &["--smtp-max-connections", "lots"],
            "--smtp-max-connections",
        ),
        (&["--smtp-auth", "alice"], "--smtp-auth"),
        (&["--pop3-auth", "alice"], "--pop3-auth"),
        (&["--pop3-addr", "nowhere"], "--pop3-addr"),
        (&["--pop3-idle-timeout", "0s"], "--pop3-idle-timeout"),
        (&["--imap-auth", "alice"], "--imap-auth"),
        (&["--imap-addr", "nowhere"], "--imap-addr"),
        (&["--imap-idle-timeout", "0s"], "--imap-idle-timeout"),
        (&["--hostname", "bad host"], "--hostname"),
        (&["--log-level", "loud=="], "--log-level"),
        (&["--log-format", "xml"], "--log-format"),
        (&["--db-sync", "sometimes"], "--db-sync"),
        (&["--tls-cert", "/tmp/cert.pem"], "--tls-key"),
        (&["--no-such-option"], "--no-such-option"),
    ] {
        let output = run_mailsink(args, &[]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?} exits 2: {err}");
        assert!(
            err.contains(option),
            "{args:?}: the error names {option}: {err}"
        );
    }
}

#[test]
fn environment_variables_are_checked_like_flags() {
    let output = run_mailsink(&[], &[("MAILSINK_SMTP_ADDR", "not an address")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--smtp-addr"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn start_up_failures_are_explained() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = run_mailsink(
        &[
            "--smtp-addr",
            &addr,
            "--http-addr",
            "off",
            "--pop3-addr",
            "off",
            "--imap-addr",
            "off",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!("cannot listen for SMTP on {addr}")),
        "{}",
        stderr(&output)
    );
    let output = run_mailsink(
        &[
            "--smtp-addr",
            "127.0.0.1:0",
            "--tls-cert",
            "/nonexistent.pem",
            "--tls-key",
            "/nonexistent.key",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/nonexistent.pem"),
        "{}",
        stderr(&output)
    );
    let output = run_mailsink(&["--smtp-auth-file", "/nonexistent/users"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/nonexistent/users"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn version_prints_the_version() {
    let output = run_mailsink(&["version"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("mailsink {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn sigterm_and_sigint_stop_cleanly_and_remove_the_temporary_database() {
    for signal in ["TERM", "INT"] {
        let mut process = Process::start(&[]);
        assert!(
            Path::new(&process.db).exists(),
            "{} exists while running",
            process.db
        );
        process.signal(signal);
        let status = process.wait(Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "SIG{signal} exits 0");
        let dir = Path::new(&process.db).parent().expect("db in a directory");
        assert!(!dir.exists(), "{} is removed at exit", dir.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_reports_a_running_instance() {
    let process = Process::start(&[]);
    let http = process.listening["http"].to_string();
    let ok = run_mailsink(&["readyz", "--http-addr", &http], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    // Nothing listens on a port that was just freed.
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = free.local_addr().expect("addr").to_string();
    drop(free);
    let down = run_mailsink(&["readyz", "--http-addr", &addr], &[]);
    assert_eq!(down.status.code(), Some(1));
    assert!(
        stderr(&down).contains("cannot connect"),
        "{}",
        stderr(&down)
    );
    // SMTP answers in the same process.
    let mut raw = Raw::connect(process.smtp()).await;
    raw.expect("QUIT", "221 ").await;
}
