//! The content predicates of SEARCH (RFC 3501 §6.4.4): HEADER, BODY, TEXT,
//! SUBJECT, FROM, TO, CC, BCC and the SENT* dates. A [`Searchable`] is built
//! once per message and answers every key; matching decodes MIME encoded
//! words, transfer encodings and charsets, and compares case-insensitively
//! in Unicode. What each key looks at follows Dovecot (checked live on the
//! corpus): BODY is the decoded content of the text/* and message/* parts,
//! TEXT adds every header of the message and of its parts, field names
//! included.

use chrono::NaiveDate;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::{Address, HeaderValue, Message, MessageParser};

use super::header;
use super::served;
use super::tree::{Entity, Kind};
use crate::message::decode;

/// A message decoded for searching.
#[derive(Debug, Clone)]
pub struct Searchable {
    /// Top-level header fields: lower-case name, lower-cased decoded value.
    headers: Vec<(String, String)>,
    /// Every header field, of the message and of its parts, as
    /// `name: value` lines, lower-cased.
    all_headers: String,
    /// The decoded content of the text/* and message/* parts, lower-cased.
    body: String,
    sent: Option<NaiveDate>,
}

impl Searchable {
    /// Decodes `message` once for any number of predicates.
    pub fn new(message: &[u8]) -> Self {
        let served = served(message);
        let root = Entity::parse(&served);
        let parsed = parse_header(&served[root.header.clone()]);
        let headers = parsed.as_ref().map(header_texts).unwrap_or_default();
        let sent = parsed.as_ref().and_then(Message::date).and_then(|d| {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        });
        let mut all_headers = String::new();
        push_lines(&mut all_headers, &headers);
        let mut body = String::new();
        contents(&served, &root, &mut body, &mut all_headers, 0);
        Searchable {
            headers,
            all_headers,
            body: body.to_lowercase(),
            sent,
        }
    }

    /// HEADER field string: a field named `field` whose decoded value
    /// contains `needle`; an empty needle matches any message that has the
    /// field.
    pub fn header_contains(&self, field: &str, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.headers
            .iter()
            .any(|(name, value)| name.eq_ignore_ascii_case(field) && value.contains(&needle))
    }

    /// BODY string: the decoded body text contains `needle`.
    pub fn body_contains(&self, needle: &str) -> bool {
        self.body.contains(&needle.to_lowercase())
    }

    /// TEXT string: a header (field names included) or the body contains
    /// `needle`.
    pub fn text_contains(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.body.contains(&needle) || self.all_headers.contains(&needle)
    }

    /// SUBJECT string.
    pub fn subject_contains(&self, needle: &str) -> bool {
        self.header_contains("Subject", needle)
    }

    /// FROM string.
    pub fn from_contains(&self, needle: &str) -> bool {
        self.header_contains("From", needle)
    }

    /// TO string.
    pub fn to_contains(&self, needle: &str) -> bool {
        self.header_contains("To", needle)
    }

    /// CC string.
    pub fn cc_contains(&self, needle: &str) -> bool {
        self.header_contains("Cc", needle)
    }

    /// BCC string.
    pub fn bcc_contains(&self, needle: &str) -> bool {
        self.header_contains("Bcc", needle)
    }

    /// The day of the Date: header as written, its time and zone
    /// disregarded (RFC 3501 SENTBEFORE, SENTON, SENTSINCE). None when there
    /// is no valid Date:; the server then uses the day of the INTERNALDATE,
    /// as Dovecot does.
    pub fn sent_date(&self) -> Option<NaiveDate> {
        self.sent
    }
}

fn header_texts(message: &Message<'_>) -> Vec<(String, String)> {
    let raw = message.raw_message();
    message
        .headers()
        .iter()
        .map(|h| {
            let value = match h.value() {
                HeaderValue::Text(text) => text.to_string(),
                HeaderValue::TextList(list) => list.join(", "),
                HeaderValue::Address(address) => address_text(address),
                _ => {
                    let start = h.offset_start() as usize;
                    let end = h.offset_end() as usize;
                    let bytes = raw.get(start..end).unwrap_or_default();
                    String::from_utf8_lossy(bytes).replace(['\r', '\n'], "")
                }
            };
            (h.name().to_ascii_lowercase(), value.trim().to_lowercase())
        })
        .collect()
}

fn push_lines(out: &mut String, fields: &[(String, String)]) {
    for (name, value) in fields {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
}

/// `Name <address>` for every address, groups flattened.
fn address_text(address: &Address<'_>) -> String {
    let mut out = Vec::new();
    if let Address::Group(groups) = address {
        for group in groups {
            if let Some(name) = &group.name {
                out.push(name.to_string());
            }
        }
    }
    for addr in address.iter() {
        match (addr.name(), addr.address()) {
            (Some(name), Some(email)) => out.push(format!("{name} <{email}>")),
            (Some(one), None) | (None, Some(one)) => out.push(one.to_string()),
            (None, None) => {}
        }
    }
    out.join(", ")
}

/// A header block parsed alone, every field decoded (encoded words
/// included); the body is never handed to mail-parser, whose multipart
/// parser asserts on some malformed input in debug builds.
fn parse_header(header: &[u8]) -> Option<Message<'_>> {
    MessageParser::new()
        .default_header_text()
        .parse_headers(header)
}

/// Appends the decoded content of the text/* and message/* parts under
/// `entity` to `body`, and the headers of its parts and encapsulated
/// messages to `headers`. A part in a transfer encoding that cannot be
/// undone is not searched.
fn contents(m: &[u8], entity: &Entity, body: &mut String, headers: &mut String, depth: usize) {
    if depth > 0
        && let Some(parsed) = parse_header(&m[entity.header.clone()])
    {
        push_lines(headers, &header_texts(&parsed));
    }
    match &entity.kind {
        Kind::Multipart(parts) => parts
            .iter()
            .for_each(|p| contents(m, p, body, headers, depth + 1)),
        Kind::Message(nested) => contents(m, nested, body, headers, depth + 1),
        Kind::Leaf => {
            let ct = &entity.content_type;
            if !(ct.is_text() || ct.kind.eq_ignore_ascii_case("message")) {
                return;
            }
            let fields = header::fields(&m[entity.header.clone()]);
            let encoding = header::first(&fields, "Content-Transfer-Encoding")
                .and_then(|f| header::transfer_encoding(f.value))
                .map(|e| e.to_ascii_lowercase())
                .unwrap_or_default();
            let raw = &m[entity.body.clone()];
            let bytes = match encoding.as_slice() {
                b"" | b"7bit" | b"8bit" | b"binary" => raw.to_vec(),
                b"base64" => decode::base64(raw),
                b"quoted-printable" => decode::quoted_printable(raw),
                _ => return,
            };
            let charset = header::param(&ct.params, "charset");
            let text = match charset.and_then(charset_decoder) {
                Some(decoder) if !charset.is_some_and(is_utf8) => decoder(&bytes),
                _ => String::from_utf8_lossy(&bytes).into_owned(),
            };
            body.push_str(&text);
            body.push('\n');
        }
    }
}

fn is_utf8(charset: &[u8]) -> bool {
    charset.eq_ignore_ascii_case(b"utf-8") || charset.eq_ignore_ascii_case(b"us-ascii")
}
