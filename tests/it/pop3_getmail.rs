//! getmail (getmail6) as the POP3 client: retrieval into a Maildir that leaves
//! the messages on the server, and POP3S with APOP (and a wrong secret).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::Output;

use crate::clients::{assert_same_bytes, assert_success, transcript};
use crate::harness::{TestApp, run_async};
use crate::pop3_clients::{
    Mail, copy_of, files_in, lf, output_text, remove_inserted_headers, send,
};

/// Header fields with their continuation lines joined by a space.
fn unfold(headers: &str) -> String {
    let mut out = String::new();
    for line in headers.lines() {
        match line.strip_prefix([' ', '\t']) {
            Some(rest) => {
                out.push(' ');
                out.push_str(rest.trim_start());
            }
            None => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(line);
            }
        }
    }
    out
}

/// Whether the tests run as root (CI does): fetchmail only warns about it,
/// getmail refuses to deliver as root.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A getmail set-up of its own: a getmail directory (where it notes the
/// UIDLs seen) and a Maildir destination.
struct Getmail {
    dir: tempfile::TempDir,
    rc: PathBuf,
    new: PathBuf,
}

impl Getmail {
    /// `retriever` is the `[retriever]` section's body.
    fn new(retriever: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("Maildir");
        let state = dir.path().join("getmail");
        std::fs::create_dir(&state).expect("create the getmail dir");
        for sub in ["", "cur", "new", "tmp"] {
            let path = maildir.join(sub);
            std::fs::create_dir_all(&path).expect("create the Maildir");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        }
        // getmail refuses to deliver as root: it delivers as `nobody`, which
        // must reach the Maildir.
        let user = if running_as_root() {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            "user = nobody\n"
        } else {
            ""
        };
        let text = format!(
            "[retriever]\n{retriever}\n\
             [destination]\ntype = Maildir\npath = {}/\n{user}\n\
             [options]\ndelete = false\nread_all = true\nverbose = 2\n",
            maildir.display()
        );
        let rc = dir.path().join("getmailrc");
        std::fs::write(&rc, text).expect("write the getmailrc");
        Self {
            new: maildir.join("new"),
            rc,
            dir,
        }
    }

    async fn run(&self) -> Output {
        let args = vec![
            "--rcfile".to_owned(),
            self.rc.to_str().expect("a UTF-8 path").to_owned(),
            "--getmaildir".to_owned(),
            self.dir
                .path()
                .join("getmail")
                .to_str()
                .expect("a UTF-8 path")
                .to_owned(),
        ];
        run_async("getmail", args, None).await
    }

    fn delivered(&self) -> Vec<Vec<u8>> {
        files_in(&self.new)
    }
}

/// Asserts getmail delivered `mail` unchanged. getmail writes LF line ends
/// and, right after the first line, adds `Delivered-To:` and its own
/// `Received: from 127.0.0.1 (…) by … with POP3 getmail6 msgid:UIDL; DATE`
/// (folded in two); it also replaces the Return-Path with one it builds from
/// the original's address, which is the same line. Those two headers are
/// removed and the rest compared with the stored bytes, CRLF as LF.
fn assert_got(files: &[Vec<u8>], mail: &Mail, what: &str) {
    let (inserted, rest) = remove_inserted_headers(copy_of(files, mail), 2);
    let inserted = unfold(&inserted);
    assert!(
        inserted.starts_with("Delivered-To: ")
            && inserted.contains("\nReceived: from 127.0.0.1 ")
            && inserted.contains(&format!(" getmail6 msgid:{};", mail.id)),
        "{what}: getmail's headers: {inserted:?}"
    );
    assert_same_bytes(&rest, &lf(&mail.raw), what);
}

#[tokio::test(flavor = "multi_thread")]
async fn getmail_retrieves_into_a_maildir_and_leaves_the_messages() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "getmail-first").await;
    let second = send(&app, &["bob@example.com"], "getmail-second").await;
    send(&app, &["carol@example.com"], "getmail-carol").await;
    let getmail = Getmail::new(&format!(
        "type = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {}\n\
         username = bob@example.com\npassword = x\ntimeout = 30\n",
        app.pop3.port()
    ));

    let output = getmail.run().await;
    assert_success(&output, "getmail");
    let files = getmail.delivered();
    assert_eq!(files.len(), 2, "{}", output_text(&output));
    assert_got(&files, &first, "getmail: first");
    assert_got(&files, &second, "getmail: second");

    // `delete = false` left them: `read_all` retrieves them again.
    let output = getmail.run().await;
    assert_success(&output, "getmail (again)");
    assert_eq!(getmail.delivered().len(), 4, "{}", output_text(&output));
    assert_eq!(app.messages().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn getmail_pop3s_with_apop() {
    let app = TestApp::spawn_with(&[
        "--pop3s-addr",
        "127.0.0.1:0",
        "--pop3-auth",
        "bob@example.com:secret",
    ])
    .await;
    let pop3s = app.pop3s.expect("POP3S is on");
    let mail = send(&app, &["bob@example.com"], "getmail-pop3s").await;
    let retriever = |password: &str| {
        format!(
            "type = SimplePOP3SSLRetriever\nserver = 127.0.0.1\nport = {}\n\
             username = bob@example.com\npassword = {password}\nuse_apop = true\ntimeout = 30\n",
            pop3s.port()
        )
    };

    let getmail = Getmail::new(&retriever("secret"));
    let output = getmail.run().await;
    assert_success(&output, "getmail over POP3S with APOP");
    let files = getmail.delivered();
    assert_eq!(files.len(), 1, "{}", output_text(&output));
    assert_got(&files, &mail, "getmail POP3S");

    let wrong = Getmail::new(&retriever("wrong"));
    let output = wrong.run().await;
    assert!(!output.status.success(), "{}", transcript(&output));
    assert!(wrong.delivered().is_empty());
}
