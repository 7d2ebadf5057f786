//! What Mailpit's `GET /api/v1/message/{ID}` shows of a message beyond the
//! stored [`Summary`](super::Summary): the bodies, the inline parts and
//! attachments, the List-Unsubscribe check, Return-Path and Date. Computed from
//! the stored bytes when a message is opened, never at ingest.

use chrono::{DateTime, FixedOffset, NaiveDate};
use mail_parser::{Message, MessageParser, PartType};
use md5::Md5;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::headers::{first, headers};
use super::tree::{Role, leaves};
use super::unsubscribe::ListUnsubscribe;

/// The parts of a message a reader sees.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// The first text/plain body decoded to UTF-8; text made from the HTML when
    /// the message has only HTML (enmime does the same).
    pub text: String,
    /// The first text/html body decoded to UTF-8, not sanitised; "" when none.
    pub html: String,
    /// Parts offered as downloads.
    pub attachments: Vec<Attachment>,
    /// Parts shown inside the message (pictures referred to by `cid:`).
    pub inline: Vec<Attachment>,
    /// The List-Unsubscribe headers and their check.
    pub list_unsubscribe: ListUnsubscribe,
    /// The Return-Path header without `<>`, else the From address, else "".
    pub return_path: String,
    /// The Date header, when present and valid.
    pub date: Option<DateTime<FixedOffset>>,
}

/// One inline part or attachment, serialised as Mailpit's `Attachment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    /// Where the part sits in the MIME tree (see [`tree`](super::tree)); the key
    /// for [`part`](super::part::part).
    #[serde(rename = "PartID")]
    pub part_id: String,
    /// The file name, else the Content-ID.
    #[serde(rename = "FileName")]
    pub file_name: String,
    /// The media type without parameters (`image/png`).
    #[serde(rename = "ContentType")]
    pub content_type: String,
    /// The Content-ID without `<>`, "" when none.
    #[serde(rename = "ContentID")]
    pub content_id: String,
    /// Bytes after the transfer encoding is undone.
    #[serde(rename = "Size")]
    pub size: u64,
    /// Digests of the decoded bytes.
    #[serde(rename = "Checksums")]
    pub checksums: Checksums,
}

/// Lower-case hex digests of a part's decoded bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Checksums {
    /// MD5.
    #[serde(rename = "MD5")]
    pub md5: String,
    /// SHA-1.
    #[serde(rename = "SHA1")]
    pub sha1: String,
    /// SHA-256.
    #[serde(rename = "SHA256")]
    pub sha256: String,
}

impl Checksums {
    /// Digests `data`.
    pub fn of(data: &[u8]) -> Self {
        Checksums {
            md5: hex(&Md5::digest(data)),
            sha1: hex(&Sha1::digest(data)),
            sha256: hex(&Sha256::digest(data)),
        }
    }
}

/// Reads `raw` (a stored message) for display.
///
/// Never fails: what cannot be parsed is left empty, as the message was
/// accepted and must still open.
pub fn view(raw: &[u8]) -> View {
    let header_map = headers(raw);
    let list_unsubscribe = ListUnsubscribe::parse(
        first(&header_map, "List-Unsubscribe").unwrap_or_default(),
        first(&header_map, "List-Unsubscribe-Post").unwrap_or_default(),
    );
    let return_path = first(&header_map, "Return-Path")
        .unwrap_or_default()
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .to_owned();

    let Some(message) = MessageParser::default().parse(raw) else {
        return View {
            list_unsubscribe,
            return_path,
            ..View::default()
        };
    };

    let mut attachments = Vec::new();
    let mut inline = Vec::new();
    for leaf in leaves(&message) {
        let list = match leaf.role() {
            Role::Attachment => &mut attachments,
            Role::Inline => &mut inline,
            Role::Body | Role::Hidden => continue,
        };
        // Mailpit lists no part that has neither a file name nor a Content-ID.
        if leaf.is_anonymous() {
            continue;
        }
        let data = leaf.data(raw);
        let content_id = leaf.content_id().to_owned();
        let file_name = match leaf.file_name() {
            "" => content_id.clone(),
            name => name.to_owned(),
        };
        list.push(Attachment {
            part_id: leaf.part_id.clone(),
            file_name,
            content_type: leaf.media_type(),
            content_id,
            size: data.len() as u64,
            checksums: Checksums::of(&data),
        });
    }

    View {
        text: first_text(&message),
        html: first_html(&message),
        attachments,
        inline,
        list_unsubscribe,
        return_path: if return_path.is_empty() {
            from_address(&message)
        } else {
            return_path
        },
        date: message.date().and_then(to_chrono),
    }
}

/// The first text/plain body, else the first HTML body as text (mail-parser's
/// `body_text` conversion). mail-parser also lists inline pictures among the
/// text bodies, so `body_text(0)` alone can miss a text that follows one.
fn first_text(message: &Message<'_>) -> String {
    let bodies = || {
        message
            .text_body
            .iter()
            .chain(&message.html_body)
            .filter_map(|&id| message.parts.get(id as usize))
    };
    bodies()
        .find_map(|part| match &part.body {
            PartType::Text(text) => Some(text.to_string()),
            _ => None,
        })
        .or_else(|| {
            bodies().find_map(|part| match &part.body {
                PartType::Html(html) => Some(super::html::to_text(html)),
                _ => None,
            })
        })
        .unwrap_or_default()
}

/// The first real text/html body: mail-parser also lists text/plain parts as
/// HTML bodies (to render them), which Mailpit does not.
fn first_html(message: &Message<'_>) -> String {
    message
        .html_body
        .iter()
        .filter_map(|&id| message.parts.get(id as usize))
        .find_map(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

fn from_address(message: &Message<'_>) -> String {
    message
        .from()
        .and_then(|from| from.first())
        .and_then(|addr| addr.address())
        .unwrap_or_default()
        .to_owned()
}

fn to_chrono(date: &mail_parser::DateTime) -> Option<DateTime<FixedOffset>> {
    let offset_secs = i32::from(date.tz_hour) * 3600 + i32::from(date.tz_minute) * 60;
    let offset = if date.tz_before_gmt {
        FixedOffset::west_opt(offset_secs)?
    } else {
        FixedOffset::east_opt(offset_secs)?
    };
    let naive = NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )?
    .and_hms_opt(
        u32::from(date.hour),
        u32::from(date.minute),
        u32::from(date.second),
    )?;
    naive.and_local_timezone(offset).single()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
