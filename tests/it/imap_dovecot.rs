//! `imap::mime` against Dovecot, live: every corpus message is put in a
//! Maildir and Dovecot's IMAP binary (Debian package dovecot-imapd) runs one
//! pre-authenticated session on it over stdin/stdout, no daemon involved. Its
//! ENVELOPE, BODY, BODYSTRUCTURE and BODY[section] answers are compared with
//! ours response for response.
//!
//! `MAILSINK_BLESS=1 cargo test --test it imap_dovecot` rewrites the golden
//! files next to the corpus (`.fetch`, `.sections`) from Dovecot's answers.
//!
//! Deliberate differences from Dovecot are listed in
//! `imap_fixtures::DIFFERENCES` with the reason, and checked to still be
//! exactly that difference. Beyond those, the
//! string forms (quoted or literal) and the case imap-codec gives the
//! "TEXT"/"MESSAGE" media types are compared at the value level, see
//! `imap_fixtures`; and a stored message whose last line has no line break is
//! served with one (as `store::served_size` counts it), where Dovecot serves
//! the file as it is: `an_unterminated_last_line_is_served_with_crlf`.

use std::io::Write;
use std::num::NonZeroU32;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use imap_types::core::NString8;
use imap_types::fetch::MessageDataItem;
use imap_types::response::{Response, Status, StatusKind};
use mailsink::imap::mime::BinaryError;

use crate::imap_fixtures::{
    GOLDEN_SECTIONS, MORE_SECTIONS, Read, corpus, encode_item, expected_section, fetches_in,
    golden_path, item_kind, our_item, parse_section, read_responses, same_value, section_in,
    side_by_side,
};

const DOVECOT_IMAP: &str = "/usr/lib/dovecot/imap";

/// The INTERNALDATE Dovecot gives every message: 2026-11-20 12:00:00 UTC.
pub fn internal_date() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_secs(1_795_176_000)
}

/// What Dovecot answered in a session: its untagged responses after
/// SELECT, and the status of each command (Dovecot runs pipelined commands
/// together, so the untagged ones are matched by content, not order).
pub struct Session {
    pub untagged: Vec<Read>,
    /// The tagged status of each command, in command order.
    statuses: Vec<Read>,
}

impl Session {
    /// Whether command `i` ended OK; the status line otherwise.
    pub fn status(&self, i: usize) -> Result<(), String> {
        match &self.statuses[i].response {
            Some(Response::Status(Status::Tagged(t))) if t.body.kind == StatusKind::Ok => Ok(()),
            _ => Err(String::from_utf8_lossy(&self.statuses[i].raw).into_owned()),
        }
    }
}

/// Runs Dovecot on `message` with `commands` (tags added here) and returns
/// the answer to each command.
pub fn dovecot_session(message: &[u8], commands: &[String]) -> Session {
    assert!(
        Path::new(DOVECOT_IMAP).exists(),
        "{DOVECOT_IMAP} is missing: install the Debian package dovecot-imapd (scripts/test does)"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let maildir = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
    }
    let file = maildir.join("cur/1.mailsink:2,");
    std::fs::write(&file, message).expect("write message");
    // Dovecot's INTERNALDATE is the file's time: a fixed one, so that SENT*
    // searches that fall back to it have a known answer.
    std::fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(internal_date()))
        .expect("set the message time");
    // Dovecot refuses to serve mail as root: as root, the files go to
    // nobody and Dovecot drops to that user.
    let me = std::fs::metadata(dir.path()).expect("stat").uid();
    let (uid, gid) = if me == 0 { (65534, 65534) } else { (me, me) };
    if me == 0 {
        chown_tree(dir.path(), uid, gid);
    }
    let config = dir.path().join("dovecot.conf");
    std::fs::write(
        &config,
        format!(
            "mail_location = maildir:{}\nlog_path = /dev/stderr\nmail_uid = {uid}\nmail_gid = {gid}\nfirst_valid_uid = 1\nfirst_valid_gid = 1\n",
            maildir.display()
        ),
    )
    .expect("write config");

    let mut script = String::from("s SELECT INBOX\r\n");
    for (i, command) in commands.iter().enumerate() {
        script.push_str(&format!("c{i} {command}\r\n"));
    }
    script.push_str("z LOGOUT\r\n");

    let mut child = Command::new(DOVECOT_IMAP)
        .arg("-c")
        .arg(&config)
        .env("HOME", dir.path())
        .env("USER", "mailsink")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dovecot imap");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write commands");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.expect("dovecot output"),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("dovecot did not finish its session within 60 s");
        }
    };
    assert!(
        output.status.success(),
        "dovecot failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut untagged = Vec::new();
    let mut statuses: Vec<Option<Read>> = commands.iter().map(|_| None).collect();
    for read in read_responses(&output.stdout) {
        let tag = match &read.response {
            Some(Response::Status(Status::Tagged(t))) => Some(t.tag.inner().to_string()),
            _ => None,
        };
        let command = tag
            .as_deref()
            .and_then(|t| t.strip_prefix('c'))
            .and_then(|i| i.parse::<usize>().ok());
        match (tag.as_deref(), command) {
            (_, Some(i)) if i < statuses.len() => statuses[i] = Some(read),
            (Some("s"), _) => untagged.clear(),
            (Some(_), _) => {}
            (None, _) => untagged.push(read),
        }
    }
    let statuses: Option<Vec<Read>> = statuses.into_iter().collect();
    let statuses = statuses.unwrap_or_else(|| {
        panic!(
            "dovecot left commands unanswered:\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    Session { untagged, statuses }
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read dir") {
            chown_tree(&entry.expect("entry").path(), uid, gid);
        }
    }
}

/// The untagged FETCH responses whose raw bytes start with `prefix`.
fn fetches(
    session: &Session,
    prefix: String,
) -> impl Iterator<Item = (&Read, Vec<MessageDataItem<'static>>)> {
    fetches_in(&session.untagged, prefix)
}

/// What Dovecot sent for `BODY[spec]`.
fn section_data<'s>(session: &'s Session, spec: &str) -> Option<(&'s Read, Option<Vec<u8>>)> {
    section_in(&session.untagged, spec)
}

#[test]
fn structure_and_sections_match_dovecot() {
    let bless = std::env::var_os("MAILSINK_BLESS").is_some();
    let sections: Vec<&str> = GOLDEN_SECTIONS
        .iter()
        .chain(MORE_SECTIONS)
        .copied()
        .collect();
    let mut commands = vec!["FETCH 1 (ENVELOPE BODY BODYSTRUCTURE)".to_string()];
    commands.extend(sections.iter().map(|s| format!("FETCH 1 (BODY.PEEK[{s}])")));

    let mut failures = Vec::new();
    let mut compared = 0;
    for (path, message) in corpus() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let session = dovecot_session(&message, &commands);
        for (i, command) in commands.iter().enumerate() {
            if let Err(status) = session.status(i) {
                panic!("{name}: dovecot failed {command}: {status}");
            }
        }

        let (structure_read, structure) = fetches(&session, "* 1 FETCH (ENVELOPE ".into())
            .next()
            .unwrap_or_else(|| {
                let unread: Vec<String> = session
                    .untagged
                    .iter()
                    .map(|r| {
                        format!(
                            "{} {}",
                            r.response.is_some(),
                            String::from_utf8_lossy(&r.raw)
                        )
                    })
                    .collect();
                panic!("{name}: no ENVELOPE answer in {unread:#?}")
            });
        assert_eq!(structure.len(), 3, "{name}: {} items", structure.len());
        for theirs in &structure {
            let ours = our_item(&message, item_kind(theirs));
            compared += 1;
            if !same_value(&ours, theirs) {
                failures.push(side_by_side(
                    &format!("{name} {}", item_kind(theirs)),
                    &encode_item(theirs),
                    &encode_item(&ours),
                ));
            }
        }

        let mut golden_sections = Vec::new();
        for spec in &sections {
            let (read, theirs) = section_data(&session, spec)
                .unwrap_or_else(|| panic!("{name}: no answer for BODY[{spec}]"));
            // Dovecot answers a section that does not exist with an empty
            // string; `section` returns None and the server sends "".
            let theirs = theirs.unwrap_or_else(|| panic!("{name}: BODY[{spec}] is NIL"));
            let ours = mailsink::imap::mime::section(&message, parse_section(spec).as_ref())
                .map(|c| c.into_owned())
                .unwrap_or_default();
            let theirs = expected_section(&name, spec, theirs);
            compared += 1;
            if ours != theirs {
                failures.push(side_by_side(
                    &format!("{name} BODY[{spec}]"),
                    &theirs,
                    &ours,
                ));
            }
            if GOLDEN_SECTIONS.contains(spec) {
                golden_sections.extend_from_slice(&read.raw);
            }
        }

        if bless {
            std::fs::write(golden_path(&path, "fetch"), &structure_read.raw).expect("write golden");
            std::fs::write(golden_path(&path, "sections"), golden_sections).expect("write golden");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} answers differ from Dovecot:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A stored message whose last line has no line break: we serve it with a
/// CRLF (RFC822.SIZE is `store::served_size`, which counts one), so our
/// structure and sections are Dovecot's for the message with that CRLF
/// added, and differ from Dovecot's for the file as it is.
#[test]
fn an_unterminated_last_line_is_served_with_crlf() {
    let stored: &[u8] = b"From: a@example.com\r\nSubject: no final line break\r\n\r\nfirst\r\nlast";
    let terminated = [stored, b"\r\n"].concat();
    let commands = [
        "FETCH 1 (BODYSTRUCTURE)".to_string(),
        "FETCH 1 (BODY.PEEK[TEXT])".to_string(),
    ];
    let answer = |message: &[u8]| {
        let session = dovecot_session(message, &commands);
        let (_, items) = fetches(&session, "* 1 FETCH (BODYSTRUCTURE ".into())
            .next()
            .expect("a FETCH answer");
        let structure = items
            .iter()
            .find(|i| matches!(i, MessageDataItem::BodyStructure(_)))
            .expect("BODYSTRUCTURE")
            .clone();
        let text = section_data(&session, "TEXT")
            .and_then(|(_, data)| data)
            .expect("BODY[TEXT]");
        (structure, text)
    };
    let ours_structure = our_item(stored, "BODYSTRUCTURE");
    let ours_text = mailsink::imap::mime::section(stored, parse_section("TEXT").as_ref())
        .expect("TEXT exists")
        .into_owned();

    let (as_served, text_as_served) = answer(&terminated);
    assert!(
        same_value(&ours_structure, &as_served),
        "{}",
        side_by_side(
            "BODYSTRUCTURE",
            &encode_item(&as_served),
            &encode_item(&ours_structure)
        )
    );
    assert_eq!(ours_text, text_as_served);
    assert_eq!(
        mailsink::imap::mime::served(stored).len() as u64,
        mailsink::store::served_size(stored)
    );

    let (as_stored, text_as_stored) = answer(stored);
    assert!(!same_value(&ours_structure, &as_stored));
    assert_eq!(text_as_stored, b"first\r\nlast");
}

/// BINARY[part] (RFC 3516) for the parts of every corpus message: the
/// decoded bytes where Dovecot decodes, UNKNOWN-CTE where it refuses.
#[test]
fn binary_matches_dovecot() {
    const PARTS: &[&str] = &[
        "", "1", "2", "3", "4", "5", "6", "1.1", "1.2", "2.1", "2.2", "2.1.1", "3.1", "9",
    ];
    let commands: Vec<String> = PARTS
        .iter()
        .map(|p| format!("FETCH 1 (BINARY.PEEK[{p}])"))
        .collect();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (path, message) in corpus() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let session = dovecot_session(&message, &commands);
        for (i, part) in PARTS.iter().enumerate() {
            let numbers: Vec<NonZeroU32> = part
                .split('.')
                .filter(|n| !n.is_empty())
                .map(|n| n.parse().expect("part number"))
                .collect();
            let ours = mailsink::imap::mime::binary(&message, &numbers);
            let theirs = match session.status(i) {
                Ok(()) => {
                    let prefix = format!("* 1 FETCH (BINARY[{part}] ");
                    let (_, items) = fetches(&session, prefix)
                        .next()
                        .unwrap_or_else(|| panic!("{name}: no answer for BINARY[{part}]"));
                    let value = items.into_iter().find_map(|item| match item {
                        MessageDataItem::Binary { value, .. } => Some(value),
                        _ => None,
                    });
                    match value {
                        Some(NString8::Literal8(l)) => Ok(l.data.into_owned()),
                        Some(NString8::NString(s)) => {
                            Ok(s.into_option().map(|d| d.into_owned()).unwrap_or_default())
                        }
                        None => panic!("{name}: no BINARY item for {part}"),
                    }
                }
                Err(status) => Err(status),
            };
            compared += 1;
            let agree = match (&ours, &theirs) {
                (Ok(ours), Ok(theirs)) => ours.as_ref() == theirs.as_slice(),
                // Dovecot answers a part that does not exist with nothing.
                (Err(BinaryError::NoSuchPart), Ok(theirs)) => theirs.is_empty(),
                (Err(BinaryError::UnknownEncoding(_)), Err(status)) => {
                    status.contains("[UNKNOWN-CTE]")
                }
                _ => false,
            };
            if !agree {
                failures.push(format!(
                    "{name} BINARY[{part}]\n  expected (Dovecot): {:?}\n  actual (ours):      {:?}",
                    theirs.map(|b| String::from_utf8_lossy(&b).into_owned()),
                    ours.map(|b| String::from_utf8_lossy(&b).into_owned()),
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} BINARY answers differ from Dovecot:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
