//! fetchmail as the POP3 client: delivery to an MDA with `keep`, fetching only
//! new messages by UIDL on the next polls, STLS, POP3S, and APOP (and a wrong
//! secret).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

use serde_json::json;

use crate::clients::{assert_same_bytes, assert_success, transcript};
use crate::harness::{TestApp, run_async};
use crate::pop3_clients::{
    Mail, copy_of, files_in, lf, output_text, poplib, remove_inserted_headers, send, uidl_lines,
};

/// A fetchmail set-up of its own: a home (FETCHMAILHOME, where it keeps the
/// UIDs it has seen in `.fetchids`), a run-control file and an MDA that
/// writes each message to its own file in `out/`.
struct Fetchmail {
    home: tempfile::TempDir,
    rc: PathBuf,
    out: PathBuf,
}

impl Fetchmail {
    /// `server` and `user` are the rc file's server options (e.g.
    /// `protocol pop3 port 1110`) and user options (e.g. `user "bob"
    /// password "x" keep`).
    fn new(server: &str, user: &str) -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let out = home.path().join("out");
        std::fs::create_dir(&out).expect("create out/");
        let out_path = out.to_str().expect("a UTF-8 path");
        assert!(
            out_path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b)),
            "{out_path} needs no quoting"
        );
        // The MDA runs once per message through /bin/sh: `$$` is unique.
        let text = format!(
            "set no syslog\n\
             poll 127.0.0.1 {server} timeout 30\n  \
             {user}\n  \
             no rewrite\n  \
             mda \"cat > {out_path}/$$\"\n"
        );
        let rc = home.path().join("fetchmailrc");
        std::fs::write(&rc, text).expect("write the rc file");
        // fetchmail refuses an rc file others can read.
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        Self { home, rc, out }
    }

    /// Runs one poll; `-v` puts the POP3 dialogue in the output.
    async fn run(&self) -> Output {
        let home = self.home.path().to_str().expect("a UTF-8 path");
        let args = vec![
            format!("FETCHMAILHOME={home}"),
            format!("HOME={home}"),
            "fetchmail".to_owned(),
            "-v".to_owned(),
            // As root its lock is /var/run/fetchmail.pid, shared by every
            // fetchmail: each set-up has its own.
            "--pidfile".to_owned(),
            format!("{home}/fetchmail.pid"),
            "-f".to_owned(),
            self.rc.to_str().expect("a UTF-8 path").to_owned(),
        ];
        run_async("env", args, None).await
    }

    fn delivered(&self) -> Vec<Vec<u8>> {
        files_in(&self.out)
    }

    /// The UIDs fetchmail remembers, as `user@server UID` lines.
    fn fetchids(&self) -> String {
        std::fs::read_to_string(self.home.path().join(".fetchids")).unwrap_or_default()
    }
}

/// Asserts fetchmail delivered `mail` unchanged. fetchmail delivers to an MDA
/// with LF line ends, and inserts one header right after the Return-Path:
/// its own `Received: from 127.0.0.1 … (fetchmail-VERSION) …` (three folded
/// lines). It appends nothing (the message ends with a line end). That header
/// is removed and the rest compared with the stored bytes, CRLF as LF.
fn assert_fetched(files: &[Vec<u8>], mail: &Mail, what: &str) {
    let (inserted, rest) = remove_inserted_headers(copy_of(files, mail), 1);
    assert!(
        inserted.starts_with("Received: from 127.0.0.1") && inserted.contains("(fetchmail-"),
        "{what}: fetchmail's header: {inserted:?}"
    );
    assert_same_bytes(&rest, &lf(&mail.raw), what);
}

#[tokio::test(flavor = "multi_thread")]
async fn fetchmail_keeps_the_messages_and_fetches_only_new_ones() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "fetchmail-first").await;
    let second = send(&app, &["bob@example.com"], "fetchmail-second").await;
    send(&app, &["carol@example.com"], "fetchmail-carol").await;
    // fetchmail upgrades with STLS when CAPA offers it; the certificate is
    // self-signed.
    let fetchmail = Fetchmail::new(
        &format!("protocol pop3 port {}", app.pop3.port()),
        "user \"bob@example.com\" password \"x\" keep no sslcertck",
    );

    let output = fetchmail.run().await;
    assert_success(&output, "fetchmail");
    let log = output_text(&output);
    assert!(log.contains("POP3> STLS"), "no STLS\n{log}");
    let files = fetchmail.delivered();
    assert_eq!(files.len(), 2, "{log}");
    assert_fetched(&files, &first, "fetchmail: first");
    assert_fetched(&files, &second, "fetchmail: second");
    // It tracks what it has seen by UIDL.
    let fetchids = fetchmail.fetchids();
    for mail in [&first, &second] {
        assert!(
            fetchids.contains(&format!("bob@example.com@127.0.0.1 {}\n", mail.id)),
            "{fetchids:?}"
        );
    }

    // `keep` left them on the server: the next poll sees them, recognises
    // their UIDLs and fetches nothing (exit code 1: no mail).
    let again = fetchmail.run().await;
    assert_eq!(again.status.code(), Some(1), "{}", transcript(&again));
    assert_eq!(fetchmail.delivered().len(), 2);

    let third = send(&app, &["bob@example.com"], "fetchmail-third").await;
    let output = fetchmail.run().await;
    assert_success(&output, "fetchmail (third)");
    let files = fetchmail.delivered();
    assert_eq!(files.len(), 3, "{}", output_text(&output));
    assert_fetched(&files, &third, "fetchmail: third");

    // Still all there for bob.
    let results = poplib(json!([{"port": app.pop3.port(), "ops": [
        ["user", "bob@example.com"], ["pass_", "x"], ["uidl"], ["quit"],
    ]}]))
    .await;
    assert_eq!(
        results[0][2]["lines"],
        uidl_lines(&[&first, &second, &third])
    );
    assert_eq!(app.messages().await.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn fetchmail_pop3s_and_apop() {
    let app = TestApp::spawn_with(&[
        "--pop3s-addr",
        "127.0.0.1:0",
        "--pop3-auth",
        "bob@example.com:secret",
    ])
    .await;
    let pop3s = app.pop3s.expect("POP3S is on");
    let first = send(&app, &["bob@example.com"], "fetchmail-tls-first").await;
    let second = send(&app, &["bob@example.com"], "fetchmail-tls-second").await;

    // Implicit TLS.
    let tls = Fetchmail::new(
        &format!("protocol pop3 port {}", pop3s.port()),
        "user \"bob@example.com\" password \"secret\" keep ssl no sslcertck",
    );
    let output = tls.run().await;
    assert_success(&output, "fetchmail over POP3S");
    let files = tls.delivered();
    assert_eq!(files.len(), 2, "{}", output_text(&output));
    assert_fetched(&files, &first, "fetchmail POP3S: first");
    assert_fetched(&files, &second, "fetchmail POP3S: second");

    // APOP in plaintext (`sslproto ''`: no STLS).
    let apop = Fetchmail::new(
        &format!("protocol apop port {}", app.pop3.port()),
        "user \"bob@example.com\" password \"secret\" keep sslproto ''",
    );
    let output = apop.run().await;
    assert_success(&output, "fetchmail APOP");
    let log = output_text(&output);
    assert!(log.contains("POP3> APOP bob@example.com "), "{log}");
    assert!(!log.contains("POP3> STLS"), "{log}");
    let files = apop.delivered();
    assert_eq!(files.len(), 2, "{log}");
    assert_fetched(&files, &first, "fetchmail APOP: first");
    assert_fetched(&files, &second, "fetchmail APOP: second");

    // A wrong secret is refused: exit code 3, authentication failed.
    let wrong = Fetchmail::new(
        &format!("protocol apop port {}", app.pop3.port()),
        "user \"bob@example.com\" password \"wrong\" keep sslproto ''",
    );
    let output = wrong.run().await;
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    assert!(wrong.delivered().is_empty());
}
