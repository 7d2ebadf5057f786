//! SEARCH content predicates (`imap::mime::Searchable`) against Dovecot,
//! live: every probe below is asked of every corpus message, of Dovecot as
//! `SEARCH RETURN (COUNT) CHARSET UTF-8 <key> <value>` (RFC 4731 tags each
//! answer with its command) and of `Searchable`, and the answers must agree.

use chrono::NaiveDate;
use mailsink::imap::mime::Searchable;

use crate::imap_dovecot::{dovecot_session, internal_date};
use crate::imap_fixtures::corpus;

/// (SEARCH key, header field for HEADER, value).
const PROBES: &[(&str, &str, &str)] = &[
    ("SUBJECT", "", "lunch"),
    ("SUBJECT", "", "grüße"),
    ("SUBJECT", "", "MÜNCHEN"),
    ("SUBJECT", "", "party"),
    ("SUBJECT", "", "für alle"),
    ("SUBJECT", "", "🎉"),
    ("SUBJECT", "", "design review"),
    ("SUBJECT", "", "second subject"),
    ("SUBJECT", "", "folded"),
    ("SUBJECT", "", "three lines"),
    ("SUBJECT", "", ""),
    ("FROM", "", "alice"),
    ("FROM", "", "jürgen"),
    ("FROM", "", "MÜLLER"),
    ("FROM", "", "andré"),
    ("FROM", "", "ulg.ac.be"),
    ("FROM", "", "doe, john"),
    ("FROM", "", "mallory"),
    ("FROM", "", "example.com"),
    ("TO", "", "undisclosed"),
    ("TO", "", "zöe"),
    ("TO", "", "keith moore"),
    ("TO", "", "bob@example.net"),
    ("TO", "", "quoted local"),
    ("CC", "", "project team"),
    ("CC", "", "tina"),
    ("CC", "", "järnefors"),
    ("CC", "", "accounts, team"),
    ("BCC", "", "hidden"),
    ("BODY", "", "schöne"),
    ("BODY", "", "GROSSARTIG"),
    ("BODY", "", "großartig"),
    ("BODY", "", "日本語"),
    ("BODY", "", "crème"),
    ("BODY", "", "nächster"),
    ("BODY", "", "changelog ✓"),
    ("BODY", "", "revenue"),
    ("BODY", "", "hello list"),
    ("BODY", "", "design review"),
    ("BODY", "", "zzzz"),
    ("BODY", "", "plain version"),
    ("BODY", "", "jvberi"),
    ("BODY", "", "%pdf"),
    ("BODY", "", "binary data"),
    ("BODY", "", "colour"),
    ("BODY", "", "hello.txt"),
    ("BODY", "", "inner text"),
    ("BODY", "", "delivery failed"),
    ("BODY", "", "reporting-mta"),
    ("BODY", "", "café"),
    ("BODY", "", "mallory"),
    ("TEXT", "", "alice"),
    ("TEXT", "", "handwritten"),
    ("TEXT", "", "mallory"),
    ("TEXT", "", "quarterly"),
    ("TEXT", "", "content-type"),
    ("TEXT", "", "boundary"),
    ("TEXT", "", "jürgen"),
    ("HEADER", "X-Mailer", "handwritten"),
    ("HEADER", "Message-ID", ""),
    ("HEADER", "In-Reply-To", "parent"),
    ("HEADER", "Content-Type", "multipart"),
    ("HEADER", "X-Empty", ""),
    ("HEADER", "Received", "mx.example.net"),
    ("HEADER", "Subject", ""),
    ("HEADER", "From", "pirard"),
    ("SENTBEFORE", "", "25-Nov-2026"),
    ("SENTON", "", "16-Nov-2026"),
    ("SENTON", "", "23-Nov-2026"),
    ("SENTON", "", "3-Dec-2026"),
    ("SENTSINCE", "", "25-Nov-2026"),
];

/// The probe as a SEARCH command; values go as literals (LITERAL+), so any
/// byte can be sent.
fn command(key: &str, field: &str, value: &str) -> String {
    let literal = format!("{{{}+}}\r\n{value}", value.len());
    match key {
        "HEADER" => format!("SEARCH RETURN (COUNT) CHARSET UTF-8 HEADER {field} {literal}"),
        "SENTBEFORE" | "SENTON" | "SENTSINCE" => format!("SEARCH RETURN (COUNT) {key} {value}"),
        _ => format!("SEARCH RETURN (COUNT) CHARSET UTF-8 {key} {literal}"),
    }
}

/// Our answer to the probe. Without a Date: header, the SENT* keys use the
/// day of the INTERNALDATE, as the server does.
fn ours(s: &Searchable, key: &str, field: &str, value: &str) -> bool {
    let date = || NaiveDate::parse_from_str(value, "%d-%b-%Y").expect("a probe date");
    let internal = chrono::DateTime::<chrono::Utc>::from(internal_date()).date_naive();
    let sent = || s.sent_date().unwrap_or(internal);
    match key {
        "SUBJECT" => s.subject_contains(value),
        "FROM" => s.from_contains(value),
        "TO" => s.to_contains(value),
        "CC" => s.cc_contains(value),
        "BCC" => s.bcc_contains(value),
        "BODY" => s.body_contains(value),
        "TEXT" => s.text_contains(value),
        "HEADER" => s.header_contains(field, value),
        "SENTBEFORE" => sent() < date(),
        "SENTON" => sent() == date(),
        "SENTSINCE" => sent() >= date(),
        other => panic!("no such probe key {other}"),
    }
}

#[test]
fn search_predicates_match_dovecot() {
    let commands: Vec<String> = PROBES.iter().map(|(k, f, v)| command(k, f, v)).collect();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (path, message) in corpus() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let session = dovecot_session(&message, &commands);
        let searchable = Searchable::new(&message);
        for (i, (key, field, value)) in PROBES.iter().enumerate() {
            if let Err(status) = session.status(i) {
                panic!("{name}: dovecot failed {}: {status}", commands[i]);
            }
            let tag = format!("* ESEARCH (TAG \"c{i}\")");
            let answer = session
                .untagged
                .iter()
                .map(|r| String::from_utf8_lossy(&r.raw).into_owned())
                .find(|line| line.starts_with(&tag))
                .unwrap_or_else(|| panic!("{name}: no ESEARCH answer to {}", commands[i]));
            let theirs = answer.contains("COUNT 1");
            let ours = ours(&searchable, key, field, value);
            compared += 1;
            if ours != theirs {
                failures.push(format!(
                    "{name} {key} {field} {value:?}: Dovecot {theirs}, ours {ours}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} SEARCH answers differ from Dovecot:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
