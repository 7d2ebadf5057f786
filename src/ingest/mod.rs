//! `mailsink ingest PATH…`: imports `.eml` files, mbox files and Maildir
//! folders (walked recursively) into a running Mailsink.
//!
//! Messages are submitted over SMTP, like Mailpit's `ingest`, rather than
//! written into a database file: the running server owns its database (one
//! writer, group commits), so every imported message goes through the same
//! path as mail from an application — trace headers, parsing, indexing,
//! retention — and shows up live in the web UI, the API's waiters and open
//! POP3/IMAP sessions. It also works against a server in a container, which
//! only its published SMTP port reaches, and needs no second process holding
//! the database. The envelope comes from the headers: the sender from
//! `Return-Path` (else `From`), the recipients from To, Cc and Bcc.
//!
//! Files that are not mail, messages without recipients and messages the
//! server refuses are reported and skipped; the rest are imported.

pub mod sources;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::submit::{self, Submitter};
pub use sources::{Found, Source, discover, split_mbox};

/// Why the import stopped before the end.
#[derive(Debug, thiserror::Error)]
#[error("import stopped after {imported} messages: {source}")]
pub struct Error {
    pub imported: usize,
    pub source: submit::Error,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Messages the server accepted.
    pub imported: usize,
    /// Messages or files not imported, with the reason (`path` or `path#N` for
    /// the Nth message of an mbox).
    pub skipped: Vec<(String, String)>,
    /// Files in the walked folders that hold no mail.
    pub ignored: Vec<(String, String)>,
}

impl Report {
    /// The summary printed at the end.
    pub fn summary(&self) -> String {
        let noun = if self.imported == 1 {
            "message"
        } else {
            "messages"
        };
        let mut text = format!("imported {} {noun}\n", self.imported);
        if !self.skipped.is_empty() {
            let _ = writeln!(text, "skipped {}:", self.skipped.len());
            for (what, why) in &self.skipped {
                let _ = writeln!(text, "  {what}: {why}");
            }
        }
        if !self.ignored.is_empty() {
            let _ = writeln!(
                text,
                "ignored {} files that hold no mail:",
                self.ignored.len()
            );
            for (what, why) in &self.ignored {
                let _ = writeln!(text, "  {what}: {why}");
            }
        }
        text
    }
}

/// A progress bar over the bytes to read, drawn on standard error when it is
/// a terminal.
pub fn progress_bar(found: &Found) -> ProgressBar {
    let total = found
        .sources
        .iter()
        .filter_map(|s| std::fs::metadata(s.path()).ok())
        .map(|m| m.len())
        .sum();
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Imports what `found` holds into the Mailsink at `server`. Stops only when
/// the server cannot be reached.
pub fn import(found: &Found, server: SocketAddr, bar: &ProgressBar) -> Result<Report, Error> {
    let mut report = Report::default();
    for (path, why) in &found.unreadable {
        report.skipped.push((display(path), why.clone()));
    }
    for (path, why) in &found.ignored {
        report.ignored.push((display(path), why.clone()));
    }
    let mut submitter = Submitter::new(server);
    for source in &found.sources {
        let path = source.path();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                report.skipped.push((display(path), e.to_string()));
                continue;
            }
        };
        let read = bytes.len() as u64;
        let messages: Vec<(String, Vec<u8>)> = match source {
            Source::Message(_) => vec![(display(path), bytes)],
            Source::Mbox(_) => split_mbox(&bytes)
                .into_iter()
                .enumerate()
                .map(|(i, m)| (format!("{}#{}", display(path), i + 1), m))
                .collect(),
        };
        for (name, message) in messages {
            match import_one(&mut submitter, &message) {
                Ok(()) => report.imported += 1,
                Err(Skip::Message(why)) => report.skipped.push((name, why)),
                Err(Skip::Server(source)) => {
                    bar.abandon();
                    return Err(Error {
                        imported: report.imported,
                        source,
                    });
                }
            }
            bar.set_message(format!("{} imported", report.imported));
        }
        bar.inc(read);
    }
    submitter.finish();
    bar.finish_and_clear();
    Ok(report)
}

enum Skip {
    Message(String),
    Server(submit::Error),
}

fn import_one(submitter: &mut Submitter, message: &[u8]) -> Result<(), Skip> {
    if !starts_with_header(message) {
        return Err(Skip::Message("not a mail message (no header)".to_owned()));
    }
    let message = submit::crlf(message);
    let recipients = submit::header_recipients(&message);
    if recipients.is_empty() {
        return Err(Skip::Message("no recipient in To, Cc or Bcc".to_owned()));
    }
    let sender = submit::header_sender(&message);
    match submitter.submit(sender.as_deref(), &recipients, &message) {
        Ok(_) => Ok(()),
        Err(error @ submit::Error::Connection { .. }) => Err(Skip::Server(error)),
        Err(error) => Err(Skip::Message(error.to_string())),
    }
}

/// A message starts with a header field: a name of printable characters
/// other than the colon, then a colon (RFC 5322 §2.2).
fn starts_with_header(message: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', message) else {
        return false;
    };
    colon > 0 && message[..colon].iter().all(|b| (33..=126).contains(b))
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_detection() {
        assert!(starts_with_header(b"Subject: x\r\n\r\n"));
        assert!(starts_with_header(b"X-Custom-1:y\n"));
        assert!(!starts_with_header(b"hello world: no\n"));
        assert!(!starts_with_header(b":empty name\n"));
        assert!(!starts_with_header(b"\x89PNG\r\n"));
    }

    #[test]
    fn summary_lists_skips_and_ignored_files() {
        let report = Report {
            imported: 3,
            skipped: vec![("a.eml".into(), "no recipient in To, Cc or Bcc".into())],
            ignored: vec![("notes.txt".into(), "not mail".into())],
        };
        assert_eq!(
            report.summary(),
            "imported 3 messages\nskipped 1:\n  a.eml: no recipient in To, Cc or Bcc\n\
             ignored 1 files that hold no mail:\n  notes.txt: not mail\n"
        );
    }
}
