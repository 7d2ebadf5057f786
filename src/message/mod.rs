//! Reading a received message once, at ingest, into the summary that listing and
//! search use (mail-parser does the MIME work). Nothing on the read path parses
//! the bytes again just to list them.

pub mod codes;
pub mod compose;
pub mod decode;
pub mod extract;
pub mod headers;
pub mod html;
pub mod part;
pub mod tags;
pub mod thumbnail;
pub mod tree;
pub mod unsubscribe;
pub mod view;

use mail_parser::{Address, MessageParser, PartType};
use serde::{Deserialize, Serialize};

/// Longest snippet kept for the list view, in characters (Mailpit's 200),
/// before the "..." that marks a cut.
const SNIPPET_CHARS: usize = 200;
/// Headers left out of the header index: the ones indexed in columns of
/// their own (a `header:` search for them looks there), and trace headers and
/// signatures, which together would cost more to index than the rest of a
/// small message.
const UNINDEXED_HEADERS: &[&str] = &[
    "Subject",
    "From",
    "To",
    "Cc",
    "Bcc",
    "Reply-To",
    "Received",
    "Return-Path",
    "DKIM-Signature",
    "X-Google-DKIM-Signature",
    "ARC-Seal",
    "ARC-Message-Signature",
    "ARC-Authentication-Results",
    "Authentication-Results",
];
/// Most body text fed to the full-text index, in bytes. Indexing is the
/// largest cost of storing a long message; text past this point is rarely
/// what anyone searches for.
const INDEXED_BODY_BYTES: usize = 64 * 1024;

/// A name and address as a header gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Mailbox {
    pub name: String,
    pub address: String,
}

/// What listing and search need to know about a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// The Bcc header plus every envelope recipient named in no To, Cc or Bcc header.
    pub bcc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub subject: String,
    /// The Date header, unix seconds.
    pub sent_at: Option<i64>,
    /// The Message-ID header, without angle brackets.
    pub message_id: Option<String>,
    /// Attached files (Mailpit's `Attachments` count).
    pub attachments: u32,
    /// Parts shown within the body, such as `cid:` images.
    pub inline: u32,
    pub snippet: String,
    /// From the `X-Tags` header and plus-addressing.
    pub tags: Vec<String>,
}

/// A message read at ingest: its summary and the text for the full-text index.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub summary: Summary,
    /// The readable body (text part, or the HTML part rendered as text), capped.
    pub body_text: String,
    /// Every top-level header but [`UNINDEXED_HEADERS`] as "\nName: value", unfolded.
    pub headers_text: String,
    /// The names of attached and inline files, space separated.
    pub file_names: String,
}

/// Parses `data` (the stored bytes). `envelope_recipients` are the RCPT TO
/// addresses: those no header names are reported as Bcc.
///
/// Never fails: bytes that are not a parseable message give an empty summary,
/// because the message was accepted and must still be listed.
pub fn parse(data: &[u8], envelope_recipients: &[&str]) -> Parsed {
    let Some(message) = MessageParser::default().parse(data) else {
        return Parsed {
            summary: Summary {
                bcc: envelope_only(envelope_recipients, &[]),
                ..Summary::default()
            },
            ..Parsed::default()
        };
    };
    let to = mailboxes(message.to());
    let cc = mailboxes(message.cc());
    let mut bcc = mailboxes(message.bcc());
    let named: Vec<&Mailbox> = to.iter().chain(&cc).chain(&bcc).collect();
    let hidden = envelope_only(envelope_recipients, &named);
    bcc.extend(hidden);

    let mut body_text = message
        .body_text(0)
        .map(|text| text.into_owned())
        .unwrap_or_default();
    truncate_at_char(&mut body_text, INDEXED_BODY_BYTES);
    // Like Mailpit, the snippet prefers what an HTML part says. Only a real
    // one: mail-parser would otherwise render a text body as HTML first.
    let snippet = match message.html_part(0).map(|part| &part.body) {
        Some(PartType::Html(html)) => snippet(&html::to_text(html)),
        _ => snippet(&body_text),
    };
    let files = Files::of(&message);
    let from = mailboxes(message.from()).into_iter().next();
    let tags = tags::from_message(
        message.header_raw("X-Tags").map(str::trim),
        from.iter().chain(&to).chain(&cc).chain(&bcc),
    );
    let headers_text = message
        .headers_raw()
        .filter(|(name, _)| {
            !UNINDEXED_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
        })
        .map(|(name, value)| format!("\n{name}: {}", unfold(value)))
        .collect();

    Parsed {
        summary: Summary {
            from,
            to,
            cc,
            bcc,
            reply_to: mailboxes(message.reply_to()),
            subject: message.subject().unwrap_or_default().to_owned(),
            sent_at: message.date().map(|d| d.to_timestamp()),
            message_id: message.message_id().map(str::to_owned),
            attachments: files.attachments,
            inline: files.inline,
            snippet,
            tags,
        },
        body_text,
        headers_text,
        file_names: files.names.join(" "),
    }
}

/// Attachment and inline counts, and file names.
#[derive(Default)]
struct Files {
    attachments: u32,
    inline: u32,
    names: Vec<String>,
}

impl Files {
    /// The same lists as [`view::view`] shows: Mailpit's rules, in [`tree`].
    fn of(message: &mail_parser::Message<'_>) -> Self {
        let mut files = Self::default();
        for leaf in tree::leaves(message) {
            let count = match leaf.role() {
                tree::Role::Attachment => &mut files.attachments,
                tree::Role::Inline => &mut files.inline,
                tree::Role::Body | tree::Role::Hidden => continue,
            };
            if leaf.is_anonymous() {
                continue;
            }
            *count += 1;
            if !leaf.file_name().is_empty() {
                files.names.push(leaf.file_name().to_owned());
            }
        }
        files
    }
}

/// A raw header value on one line: folding whitespace becomes one space.
fn unfold(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    address
        .map(|a| {
            a.iter()
                .map(|addr| Mailbox {
                    name: addr.name().unwrap_or_default().to_owned(),
                    address: addr.address().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Envelope recipients that no header names, once each, in envelope order.
fn envelope_only(recipients: &[&str], named: &[&Mailbox]) -> Vec<Mailbox> {
    let mut hidden: Vec<Mailbox> = Vec::new();
    for rcpt in recipients {
        let known = named.iter().any(|m| m.address.eq_ignore_ascii_case(rcpt))
            || hidden.iter().any(|m| m.address.eq_ignore_ascii_case(rcpt));
        if !known {
            hidden.push(Mailbox {
                name: String::new(),
                address: (*rcpt).to_owned(),
            });
        }
    }
    hidden
}

/// The first words of the body on one line, whitespace collapsed, cut at
/// [`SNIPPET_CHARS`] with "..." as Mailpit does.
fn snippet(body: &str) -> String {
    let mut out = String::new();
    let mut cut = false;
    for word in body.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() > SNIPPET_CHARS {
            cut = true;
            break;
        }
    }
    if let Some((end, _)) = out.char_indices().nth(SNIPPET_CHARS) {
        out.truncate(end);
        cut = true;
    }
    if cut {
        out.truncate(out.trim_end().len());
        out.push_str("...");
    }
    out
}

fn truncate_at_char(s: &mut String, max_bytes: usize) {
    if s.len() > max_bytes {
        let mut cut = max_bytes;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] = b"From: Alice <alice@example.com>\r\n\
To: bob@example.com, Carol <carol@example.com>\r\n\
Cc: dave@example.com\r\n\
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\
Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <abc@example.com>\r\n\
\r\n\
Hello   there,\r\n  world.\r\n";

    #[test]
    fn summarises_headers_and_body() {
        let parsed = parse(MAIL, &["bob@example.com", "eve@example.com"]);
        let s = &parsed.summary;
        assert_eq!(s.subject, "Grüße");
        assert_eq!(
            s.from,
            Some(Mailbox {
                name: "Alice".into(),
                address: "alice@example.com".into()
            })
        );
        assert_eq!(s.to.len(), 2);
        assert_eq!(s.cc[0].address, "dave@example.com");
        assert_eq!(s.message_id.as_deref(), Some("abc@example.com"));
        assert_eq!(s.sent_at, Some(1_795_428_000));
        assert_eq!(s.snippet, "Hello there, world.");
        // eve is only in the envelope: a blind copy.
        assert_eq!(
            s.bcc,
            vec![Mailbox {
                name: String::new(),
                address: "eve@example.com".into()
            }]
        );
    }

    #[test]
    fn envelope_recipients_match_headers_case_insensitively() {
        let parsed = parse(
            MAIL,
            &["BOB@example.com", "eve@example.com", "Eve@example.com"],
        );
        assert_eq!(parsed.summary.bcc.len(), 1);
    }

    #[test]
    fn garbage_still_gives_a_summary() {
        let parsed = parse(b"", &["x@y"]);
        assert_eq!(parsed.summary.subject, "");
        assert_eq!(parsed.summary.bcc[0].address, "x@y");
    }

    #[test]
    fn snippet_is_capped_on_a_char_boundary() {
        let long = "ü".repeat(400);
        let cut = snippet(&long);
        assert_eq!(cut.chars().count(), SNIPPET_CHARS + 3);
        assert!(cut.ends_with("..."));
        assert_eq!(snippet("short  text\n"), "short text");
    }

    #[test]
    fn snippet_prefers_the_html_part() {
        let mail = b"Content-Type: multipart/alternative; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nPlain body.\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<p>HTML <b>body</b>.</p>\r\n--b--\r\n";
        assert_eq!(parse(mail, &[]).summary.snippet, "HTML body.");
    }

    #[test]
    fn snippet_keeps_blocks_apart() {
        let mail =
            b"Content-Type: text/html\r\n\r\n<h1>Hello Bob</h1><p>Your code is <b>42</b>.</p>\
            <div>Bye<br>now</div>\r\n";
        assert_eq!(
            parse(mail, &[]).summary.snippet,
            "Hello Bob Your code is 42. Bye now"
        );
    }
}
