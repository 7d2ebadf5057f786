//! `mailsink ingest` with real inputs: an mbox written by mutt, a Maildir
//! filled by fetchmail from Mailsink's own POP3, `.eml` files, and files
//! that are not mail, which are reported and skipped.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::harness::{TestApp, client_bytes, deliver, run_async};
use crate::process::BIN;

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

async fn ingest(smtp: &str, paths: &[String]) -> Output {
    let mut args = vec!["ingest".to_owned(), "-S".to_owned(), smtp.to_owned()];
    args.extend(paths.iter().cloned());
    run_async(BIN, args, None).await
}

/// Sends one message with mutt in batch mode; mutt keeps a copy in the mbox
/// `record` (its Fcc), which is the mbox under test. Its "sendmail" is a
/// script that swallows the message.
async fn mutt_send(dir: &Path, record: &Path, to: &str, subject: &str, body: &str) {
    let sink = dir.join("sink.sh");
    if !sink.exists() {
        std::fs::write(&sink, "#!/bin/sh\ncat >/dev/null\n").expect("write the sink");
        std::fs::set_permissions(&sink, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let args = vec![
        format!("HOME={}", path_str(dir)),
        "mutt".to_owned(),
        "-n".to_owned(),
        "-F".to_owned(),
        "/dev/null".to_owned(),
        "-e".to_owned(),
        format!(
            "set mbox_type=mbox record={} copy=yes sendmail={} from=ann@example.com use_from=yes",
            path_str(record),
            path_str(&sink)
        ),
        "-s".to_owned(),
        subject.to_owned(),
        "--".to_owned(),
        to.to_owned(),
    ];
    let output = run_async("env", args, Some(body.as_bytes().to_vec())).await;
    assert!(output.status.success(), "mutt: {}", text(&output));
}

/// Polls Mailsink's POP3 with fetchmail, delivering each message into a
/// Maildir through an MDA that writes to tmp/ and renames into new/.
async fn fetchmail_to_maildir(pop3_port: u16, maildir: &Path) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("create the Maildir");
    }
    let home = tempfile::tempdir().expect("temp dir");
    let md = path_str(maildir);
    assert!(
        md.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b)),
        "{md} needs no quoting"
    );
    let rc = home.path().join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\n\
             poll 127.0.0.1 protocol pop3 port {pop3_port} timeout 30\n  \
             user \"archive\" password \"x\" keep no sslcertck\n  \
             no rewrite\n  \
             mda \"cat > {md}/tmp/$$ && mv {md}/tmp/$$ {md}/new/$$\"\n"
        ),
    )
    .expect("write the rc file");
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let home = path_str(home.path());
    let args = vec![
        format!("FETCHMAILHOME={home}"),
        format!("HOME={home}"),
        "fetchmail".to_owned(),
        "--pidfile".to_owned(),
        format!("{home}/fetchmail.pid"),
        "-f".to_owned(),
        path_str(&rc),
    ];
    let output = run_async("env", args, None).await;
    assert!(output.status.success(), "fetchmail: {}", text(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn mutt_mbox_fetchmail_maildir_and_eml_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();

    // An mbox written by mutt: two messages, one with a body line starting
    // with "From ", which mutt leaves as it is and delimits by Content-Length.
    let mbox = root.join("archive/sent");
    std::fs::create_dir_all(mbox.parent().expect("parent")).expect("mkdir");
    mutt_send(
        root,
        &mbox,
        "bob@example.com",
        "mbox one",
        "Hello Bob.\nFrom here on, not quoted by mutt.\n",
    )
    .await;
    mutt_send(root, &mbox, "carol@example.com", "mbox two", "Hi Carol.\n").await;
    let written = std::fs::read(&mbox).expect("mutt wrote the record");
    assert!(written.starts_with(b"From "), "an mbox");

    // A Maildir filled by fetchmail from another Mailsink's POP3.
    let source = TestApp::spawn().await;
    for (to, subject) in [
        ("dave@example.com", "maildir one"),
        ("erin@example.com", "maildir two"),
    ] {
        let message =
            format!("From: src@example.com\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nbody\r\n");
        deliver(source.smtp, "src@example.com", &[to], &message).await;
    }
    let maildir = root.join("Mail/inbox");
    fetchmail_to_maildir(source.pop3.port(), &maildir).await;

    // An .eml file, a message without recipients, a file that is not mail
    // and one that is not there.
    std::fs::write(
        root.join("welcome.eml"),
        "From: app@example.com\nTo: frank@example.com\nSubject: eml file\n\nwelcome\n",
    )
    .expect("write");
    std::fs::write(root.join("draft.eml"), "Subject: draft\n\nno one\n").expect("write");
    std::fs::write(root.join("logo.eml"), b"\x89PNG\r\n\x1a\n").expect("write");
    std::fs::write(root.join("notes.txt"), "shopping list\n").expect("write");

    let target = TestApp::spawn().await;
    let output = ingest(
        &target.smtp.to_string(),
        &[path_str(root), path_str(&root.join("missing.eml"))],
    )
    .await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "some were skipped: {}",
        text(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("imported 5 messages\nskipped 3:\n"),
        "{}",
        text(&output)
    );
    for line in [
        "draft.eml: no recipient in To, Cc or Bcc",
        "logo.eml: not a mail message (no header)",
        "missing.eml: No such file or directory",
        "files that hold no mail:",
        "notes.txt: not an .eml file, an mbox or a Maildir",
        "sink.sh: not an .eml file, an mbox or a Maildir",
    ] {
        assert!(stdout.contains(line), "{line:?} in {}", text(&output));
    }
    assert!(
        output.stderr.is_empty(),
        "no progress bar without a terminal: {}",
        text(&output)
    );

    let messages = target.wait_for_messages(5).await;
    let mut subjects: Vec<&str> = messages
        .iter()
        .map(|m| m.summary.subject.as_str())
        .collect();
    subjects.sort_unstable();
    assert_eq!(
        subjects,
        [
            "eml file",
            "maildir one",
            "maildir two",
            "mbox one",
            "mbox two"
        ]
    );
    for meta in &messages {
        let body = target.raw(&meta.id).await;
        let body = String::from_utf8_lossy(client_bytes(&body)).into_owned();
        match meta.summary.subject.as_str() {
            "mbox one" => {
                assert_eq!(meta.envelope.recipient_addresses(), ["bob@example.com"]);
                assert_eq!(meta.envelope.mail_from, "ann@example.com");
                assert!(
                    body.contains("\r\n\r\nHello Bob.\r\nFrom here on, not quoted by mutt.\r\n"),
                    "{body}"
                );
                assert!(
                    body.contains("\r\nContent-Length: "),
                    "as mutt writes it: {body}"
                );
            }
            "maildir one" => {
                assert_eq!(meta.envelope.recipient_addresses(), ["dave@example.com"]);
                assert_eq!(meta.envelope.mail_from, "src@example.com");
            }
            "eml file" => {
                assert_eq!(meta.envelope.recipient_addresses(), ["frank@example.com"]);
                assert!(
                    body.ends_with("Subject: eml file\r\n\r\nwelcome\r\n"),
                    "{body}"
                );
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_import_exits_0_and_an_unreachable_server_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let eml = dir.path().join("one.eml");
    std::fs::write(&eml, "To: a@example.com\nSubject: one\n\nhi\n").expect("write");
    let app = TestApp::spawn().await;
    let output = ingest(&app.smtp.to_string(), &[path_str(&eml)]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "imported 1 message\n"
    );
    app.wait_for_messages(1).await;

    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let down = free.local_addr().expect("addr").to_string();
    drop(free);
    let output = ingest(&down, &[path_str(&eml)]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("import stopped after 0 messages: cannot talk to"),
        "{}",
        text(&output)
    );
    // No path at all is a usage error.
    let output = run_async(BIN, vec!["ingest".to_owned()], None).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}
