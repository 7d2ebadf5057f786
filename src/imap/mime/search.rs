//! The content predicates of SEARCH (RFC 3501 §6.4.4): HEADER, BODY, TEXT,
//! SUBJECT, FROM, TO, CC, BCC and the SENT* dates. A [`Searchable`] is built
//! once per message and answers every key; matching decodes MIME encoded
//! words, transfer encodings and charsets, and compares case-insensitively
//! in Unicode.

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
    /// The decoded text of the body parts (and of encapsulated messages),
    /// lower-cased.
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
        let mut body = String::new();
        body_text(&served, &root, &mut body);
        Searchable {
            headers,
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

    /// TEXT string: the header or the body contains `needle`.
    pub fn text_contains(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.body.contains(&needle) || self.headers.iter().any(|(_, v)| v.contains(&needle))
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
    /// disregarded (RFC 3501 SENTBEFORE, SENTON, SENTSINCE).
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

/// Appends the decoded text of every text part, and the header and text of
/// encapsulated messages.
fn body_text(m: &[u8], entity: &Entity, out: &mut String) {
    match &entity.kind {
        Kind::Multipart(parts) => parts.iter().for_each(|p| body_text(m, p, out)),
        Kind::Message(nested) => {
            if let Some(parsed) = parse_header(&m[nested.header.clone()]) {
                for (name, value) in header_texts(&parsed) {
                    out.push_str(&name);
                    out.push_str(": ");
                    out.push_str(&value);
                    out.push('\n');
                }
            }
            body_text(m, nested, out);
        }
        Kind::Leaf if entity.content_type.is_text() => {
            let fields = header::fields(&m[entity.header.clone()]);
            let encoding = header::first(&fields, "Content-Transfer-Encoding")
                .map(|f| header::trim(f.value).to_ascii_lowercase())
                .unwrap_or_default();
            let raw = &m[entity.body.clone()];
            let bytes = match encoding.as_slice() {
                b"base64" => decode::base64(raw),
                b"quoted-printable" => decode::quoted_printable(raw),
                _ => raw.to_vec(),
            };
            let charset = header::param(&entity.content_type.params, "charset");
            let text = match charset.and_then(charset_decoder) {
                Some(decoder) if !charset.is_some_and(is_utf8) => decoder(&bytes),
                _ => String::from_utf8_lossy(&bytes).into_owned(),
            };
            out.push_str(&text);
            out.push('\n');
        }
        Kind::Leaf => {}
    }
}

fn is_utf8(charset: &[u8]) -> bool {
    charset.eq_ignore_ascii_case(b"utf-8") || charset.eq_ignore_ascii_case(b"us-ascii")
}
