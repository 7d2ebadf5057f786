//! Mail synchronisers as IMAP clients: mbsync (isync) and offlineimap3 pull
//! an address's INBOX into a local Maildir; every file holds exactly the
//! stored bytes (with the line ends the tool writes), and a second run after
//! new mail fetches only the new message.

use std::path::Path;

use crate::clients::{assert_same_bytes, assert_success};
use crate::harness::{TestApp, run_async};
use crate::imap_clients::send_mail;
use crate::pop3_clients::{Mail, copy_of, files_in, find, lf, strings};

/// The files of a Maildir folder (new and cur).
fn maildir(dir: &Path) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for sub in ["new", "cur"] {
        let path = dir.join(sub);
        if path.exists() {
            files.extend(files_in(&path));
        }
    }
    files
}

/// Asserts each message was synced once, byte for byte. Both tools write
/// local files with Unix line ends; mbsync also adds its `X-TUID:` field at
/// the end of the header, which `tuid` removes first.
fn assert_synced(files: &[Vec<u8>], mails: &[&Mail], what: &str, tuid: bool) {
    assert_eq!(files.len(), mails.len(), "{what}: one file per message");
    for mail in mails {
        let mut copy = copy_of(files, mail).to_vec();
        if tuid {
            let at = find(&copy, b"\nX-TUID: ").expect("mbsync's X-TUID field") + 1;
            let end = at
                + copy[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .expect("a line end");
            copy.drain(at..=end);
        }
        assert_same_bytes(&copy, &lf(&mail.raw), what);
    }
}

async fn mbsync(config: &Path) {
    let output = run_async(
        "mbsync",
        strings(&["-c", config.to_str().expect("a UTF-8 path"), "-a"]),
        None,
    )
    .await;
    assert_success(&output, "mbsync");
}

#[tokio::test(flavor = "multi_thread")]
async fn mbsync_pulls_inbox_into_a_maildir() {
    let app = TestApp::spawn().await;
    let first = send_mail(&app, &["pia@example.com"], "mbsync-one").await;
    let second = send_mail(&app, &["pia@example.com"], "mbsync-two").await;
    send_mail(&app, &["someone@example.com"], "mbsync-other").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mail_dir = dir.path().join("mail");
    std::fs::create_dir_all(&mail_dir).expect("mail dir");
    let config = dir.path().join("mbsyncrc");
    std::fs::write(
        &config,
        format!(
            "IMAPAccount test\n\
             Host 127.0.0.1\n\
             Port {port}\n\
             User pia@example.com\n\
             Pass secret\n\
             SSLType None\n\
             AuthMechs LOGIN\n\
             \n\
             IMAPStore remote\n\
             Account test\n\
             \n\
             MaildirStore local\n\
             Path {mail}/\n\
             Inbox {mail}/INBOX\n\
             \n\
             Channel test\n\
             Far :remote:\n\
             Near :local:\n\
             Patterns INBOX\n\
             Create Near\n\
             Sync Pull\n\
             SyncState *\n",
            port = app.imap.port(),
            mail = mail_dir.display(),
        ),
    )
    .expect("write the configuration");
    mbsync(&config).await;
    let inbox = mail_dir.join("INBOX");
    assert_synced(&maildir(&inbox), &[&first, &second], "mbsync", true);
    let third = send_mail(&app, &["pia@example.com"], "mbsync-three").await;
    mbsync(&config).await;
    assert_synced(
        &maildir(&inbox),
        &[&first, &second, &third],
        "mbsync again",
        true,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn offlineimap_pulls_inbox_into_a_maildir() {
    let app = TestApp::spawn().await;
    let first = send_mail(&app, &["quinn@example.com"], "offlineimap-one").await;
    let second = send_mail(&app, &["quinn@example.com"], "offlineimap-two").await;
    send_mail(&app, &["someone@example.com"], "offlineimap-other").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mail_dir = dir.path().join("mail");
    let config = dir.path().join("offlineimaprc");
    std::fs::write(
        &config,
        format!(
            "[general]\n\
             accounts = test\n\
             metadata = {meta}\n\
             ui = quiet\n\
             \n\
             [Account test]\n\
             localrepository = local\n\
             remoterepository = remote\n\
             \n\
             [Repository local]\n\
             type = Maildir\n\
             localfolders = {mail}\n\
             \n\
             [Repository remote]\n\
             type = IMAP\n\
             remotehost = 127.0.0.1\n\
             remoteport = {port}\n\
             remoteuser = quinn@example.com\n\
             remotepass = secret\n\
             ssl = no\n\
             starttls = no\n\
             readonly = True\n\
             folderfilter = lambda name: name == 'INBOX'\n",
            port = app.imap.port(),
            mail = mail_dir.display(),
            meta = dir.path().join("meta").display(),
        ),
    )
    .expect("write the configuration");
    let run = || {
        run_async(
            "offlineimap",
            strings(&[
                "-c",
                config.to_str().expect("a UTF-8 path"),
                "-o",
                "-u",
                "quiet",
            ]),
            None,
        )
    };
    assert_success(&run().await, "offlineimap");
    let inbox = mail_dir.join("INBOX");
    assert_synced(&maildir(&inbox), &[&first, &second], "offlineimap", false);
    let third = send_mail(&app, &["quinn@example.com"], "offlineimap-three").await;
    assert_success(&run().await, "offlineimap again");
    assert_synced(
        &maildir(&inbox),
        &[&first, &second, &third],
        "offlineimap again",
        false,
    );
}
