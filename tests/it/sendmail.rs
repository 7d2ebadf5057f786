//! `mailsink sendmail` as applications run it: PHP's `mail()` through
//! `sendmail_path`, recipients as arguments, `-t`, `-i`, `-f`, a link named
//! `sendmail`, and sendmail's exit codes when things go wrong.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::harness::{TestApp, client_bytes};
use crate::process::BIN;

/// Runs `mailsink sendmail ARGS` (or `program` when given) with `input` on
/// standard input, off the async threads.
async fn sendmail(args: &[&str], input: &[u8], env: &[(&str, &str)]) -> Output {
    run_program(BIN, &[&["sendmail"], args].concat(), input, env).await
}

async fn run_program(program: &str, args: &[&str], input: &[u8], env: &[(&str, &str)]) -> Output {
    let program = program.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let input = input.to_vec();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(&program)
            .args(&args)
            .env_remove("MAILSINK_SMTP_ADDR")
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let mut stdin = child.stdin.take().expect("piped stdin");
        // The program may exit before reading (a usage error): ignore EPIPE.
        let _ = stdin.write_all(&input);
        drop(stdin);
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("client thread")
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Makes sure php-cli is there (scripts/test installs it).
fn php() -> &'static str {
    let found = Command::new("php")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "php-cli is needed (apt-get install php-cli)");
    "php"
}

#[tokio::test(flavor = "multi_thread")]
async fn php_mail_through_sendmail_path() {
    let app = TestApp::spawn().await;
    // PHP runs sendmail_path through /bin/sh with `-t -i` and the message on
    // standard input, LF line ends, headers it was given as they are.
    let sendmail_path = format!("sendmail_path={BIN} sendmail -t -i -S {}", app.smtp);
    let script = r#"var_dump(mail(
        "Ann <ann@example.com>",
        "Invoice 42",
        "Hello Ann,\n.\nA dot line above stays.\n",
        "From: shop@example.com\r\nCc: cc@example.com\r\nBcc: audit@example.com"
    ));"#;
    let output = run_program(php(), &["-d", &sendmail_path, "-r", script], b"", &[]).await;
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "bool(true)",
        "{}",
        text(&output)
    );
    let (meta, body) = app.only_message().await;
    assert_eq!(
        meta.envelope.recipient_addresses(),
        ["ann@example.com", "cc@example.com", "audit@example.com"]
    );
    assert!(meta.envelope.mail_from.contains('@'), "user@host sender");
    let body = String::from_utf8(body).expect("UTF-8");
    assert!(body.contains("To: Ann <ann@example.com>\r\n"), "{body}");
    assert!(body.contains("Subject: Invoice 42\r\n"), "{body}");
    assert!(body.contains("Cc: cc@example.com\r\n"), "{body}");
    assert!(
        !body.to_ascii_lowercase().contains("bcc:"),
        "Bcc removed: {body}"
    );
    // PHP writes a newline after the message it was given.
    assert!(
        body.ends_with("\r\n\r\nHello Ann,\r\n.\r\nA dot line above stays.\r\n\r\n"),
        "{body:?}"
    );
    assert_eq!(meta.summary.subject, "Invoice 42");
}

#[tokio::test(flavor = "multi_thread")]
async fn recipients_as_arguments_sender_flag_and_the_lone_dot() {
    let app = TestApp::spawn().await;
    let smtp = app.smtp.to_string();
    let message = b"Subject: cron\nBcc: stays@example.com\n\nfirst\n.\nnever read\n";
    let output = sendmail(
        &[
            "-oi",
            "-odi",
            "-oem",
            "-bm",
            "-F",
            "Cron Daemon",
            "-S",
            &smtp,
            "-f",
            "cron@example.com",
            "-v",
            "ops@example.com",
            "dev@example.com",
        ],
        b"Subject: with -oi\n\nfirst\n.\nread on\n",
        &[],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).starts_with("250 2.0.0 Ok: queued as "),
        "-v prints the reply: {}",
        text(&output)
    );
    // Without -i a line holding a single dot ends the message.
    let output = sendmail(&["-S", &smtp, "ops@example.com"], message, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let messages = app.wait_for_messages(2).await;
    let (newest, oldest) = (&messages[0], &messages[1]);
    assert_eq!(oldest.envelope.mail_from, "cron@example.com");
    assert_eq!(
        oldest.envelope.recipient_addresses(),
        ["ops@example.com", "dev@example.com"]
    );
    let body = app.raw(&oldest.id).await;
    assert!(client_bytes(&body).ends_with(b"\r\n\r\nfirst\r\n.\r\nread on\r\n"));
    let body = app.raw(&newest.id).await;
    assert_eq!(
        client_bytes(&body),
        b"Subject: cron\r\nBcc: stays@example.com\r\n\r\nfirst\r\n",
        "without -t the message is left as it is, up to the dot"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_comes_from_the_environment_and_a_link_named_sendmail_works() {
    let app = TestApp::spawn().await;
    let smtp = app.smtp.to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("sendmail");
    std::os::unix::fs::symlink(BIN, &link).expect("symlink");
    let link = link.to_str().expect("UTF-8 path");
    let output = run_program(
        link,
        &["-t"],
        b"To: a@example.com\nSubject: via the link\n\nhi\n",
        &[("MAILSINK_SMTP_ADDR", &smtp)],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let (meta, _) = app.only_message().await;
    assert_eq!(meta.summary.subject, "via the link");
    assert_eq!(meta.envelope.recipient_addresses(), ["a@example.com"]);
    // A variable that holds no address is a configuration error (EX_CONFIG).
    let output = run_program(
        link,
        &["-t"],
        b"To: a@example.com\n\nhi\n",
        &[("MAILSINK_SMTP_ADDR", "nowhere")],
    )
    .await;
    assert_eq!(output.status.code(), Some(78), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("MAILSINK_SMTP_ADDR"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_follow_sysexits() {
    let app = TestApp::spawn_with(&["--max-message-size", "1KB"]).await;
    let smtp = app.smtp.to_string();
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let down = free.local_addr().expect("addr").to_string();
    drop(free);
    let message = b"To: a@example.com\n\nhi\n";
    let big = format!("To: a@example.com\n\n{}\n", "x".repeat(4096));
    for (args, input, code, says) in [
        (vec!["-z"], &message[..], 64, "unknown option -z"),
        (vec!["-bp"], message, 64, "-bp"),
        (vec!["-q"], message, 64, "no queue"),
        (vec!["-f"], message, 64, "-f needs a value"),
        (vec!["-S", "nowhere"], message, 64, "-S"),
        (
            vec!["-t", "-S", &smtp],
            b"Subject: nobody\n\nhi\n",
            64,
            "no recipient",
        ),
        (vec!["-S", &smtp], message, 64, "no recipients"),
        (
            vec!["-S", &smtp, "not an address"],
            message,
            67,
            "bad address",
        ),
        (vec!["-t", "-S", &down], message, 75, "cannot talk to"),
        (vec!["-t", "-S", &smtp], big.as_bytes(), 69, "552"),
    ] {
        let output = sendmail(&args, input, &[]).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&output)
        );
        assert!(stderr.contains(says), "{args:?}: {}", text(&output));
    }
    assert!(app.messages().await.is_empty());
}
