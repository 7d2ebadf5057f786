//! The MIME tree of a stored message as Mailpit (enmime) numbers and sorts it:
//! part IDs, which leaves are bodies, inline parts or attachments, and their
//! decoded bytes. [`view`](super::view) and [`part`](super::part) both walk the
//! tree through here, so an ID listed by one always resolves in the other.
//!
//! # Part IDs
//!
//! An ID is the path of a part in the MIME tree, as enmime writes it: the
//! children of the root multipart are `"1"`, `"2"`, …; the children of part
//! `"2"` are `"2.1"`, `"2.2"`, …. A message whose root is not multipart has one
//! part, `"1"`: enmime leaves that part's ID empty, which no URL can carry, and
//! `"1"` is what IMAP calls the body of a single-part message. Attached messages
//! (message/rfc822) are leaves: nothing inside them gets an ID.

use std::borrow::Cow;

use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::decode;

/// What a leaf part is to a reader of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The text or HTML body (or a text part shown as body): in neither list.
    Body,
    /// Shown inside the message (a picture the HTML refers to, an inline file).
    Inline,
    /// Offered as a download.
    Attachment,
    /// A nameless, ID-less leaf that is neither body nor listed.
    Hidden,
}

/// A leaf of the MIME tree (never a multipart container) with its path.
#[derive(Debug)]
pub struct Leaf<'m, 'x> {
    /// The enmime-style path, e.g. `"2.1"`.
    pub part_id: String,
    /// The part as mail-parser read it.
    pub part: &'m MessagePart<'x>,
    /// Whether some ancestor is a multipart/related.
    pub in_related: bool,
}

impl Leaf<'_, '_> {
    /// The media type without parameters, lower case (`image/png`).
    pub fn media_type(&self) -> String {
        media_type(self.part)
    }

    /// The file name from Content-Disposition or Content-Type, "" when none.
    pub fn file_name(&self) -> &str {
        self.part
            .attachment_name()
            .map(str::trim)
            .unwrap_or_default()
    }

    /// The Content-ID without angle brackets, "" when none.
    pub fn content_id(&self) -> &str {
        self.part
            .content_id()
            .map(|id| id.trim().trim_start_matches('<').trim_end_matches('>'))
            .unwrap_or_default()
    }

    /// Sorts the leaf as Mailpit's lists do.
    ///
    /// The Content-Disposition decides when present. Without one, a part with a
    /// Content-ID inside a multipart/related is inline, a text/plain or text/html
    /// part is the body, and any other part is an attachment when it has a file
    /// name. Like enmime (which files such parts under "other parts", shown as
    /// inline), a nameless part with a Content-ID elsewhere is inline.
    /// An attached message is always one attachment.
    pub fn role(&self) -> Role {
        if matches!(self.part.body, PartType::Message(_)) {
            return Role::Attachment;
        }
        let media = self.media_type();
        let is_body_type = media == "text/plain" || media == "text/html";
        let disposition = self
            .part
            .content_disposition()
            .map(|d| d.ctype().to_ascii_lowercase());
        match disposition.as_deref() {
            Some("attachment") => Role::Attachment,
            Some("inline") if is_body_type && self.is_anonymous() => Role::Body,
            Some("inline") => Role::Inline,
            _ if !self.content_id().is_empty() && self.in_related => Role::Inline,
            _ if is_body_type => Role::Body,
            _ if !self.file_name().is_empty() => Role::Attachment,
            _ if !self.content_id().is_empty() => Role::Inline,
            _ => Role::Hidden,
        }
    }

    /// No file name and no Content-ID: Mailpit lists such parts nowhere.
    pub fn is_anonymous(&self) -> bool {
        self.file_name().is_empty() && self.content_id().is_empty()
    }

    /// The body with its transfer encoding undone. `raw` must be the bytes the
    /// message was parsed from.
    pub fn data<'a>(&'a self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        decoded(self.part, raw)
    }
}

/// Every leaf of the top-level message in tree order (depth first), with its ID.
pub fn leaves<'m, 'x>(message: &'m Message<'x>) -> Vec<Leaf<'m, 'x>> {
    let mut out = Vec::new();
    let Some(root) = message.parts.first() else {
        return out;
    };
    match &root.body {
        PartType::Multipart(children) => walk(message, 0, children, "", false, &mut out),
        _ => out.push(Leaf {
            part_id: "1".to_owned(),
            part: root,
            in_related: false,
        }),
    }
    out
}

fn walk<'m, 'x>(
    message: &'m Message<'x>,
    parent_index: u32,
    children: &[u32],
    prefix: &str,
    in_related: bool,
    out: &mut Vec<Leaf<'m, 'x>>,
) {
    for (position, &child_index) in children.iter().enumerate() {
        // mail-parser stores children after their parent; refusing anything else
        // makes the walk finite even on a malformed part table.
        if child_index <= parent_index {
            continue;
        }
        let Some(child) = message.parts.get(child_index as usize) else {
            continue;
        };
        let part_id = if prefix.is_empty() {
            (position + 1).to_string()
        } else {
            format!("{prefix}.{}", position + 1)
        };
        match &child.body {
            PartType::Multipart(grandchildren) => {
                let related = in_related || media_type(child) == "multipart/related";
                walk(message, child_index, grandchildren, &part_id, related, out);
            }
            _ => out.push(Leaf {
                part_id,
                part: child,
                in_related,
            }),
        }
    }
}

/// The media type of a part without parameters, lower case. A part without a
/// Content-Type is text/plain (RFC 2045 §5.2), or message/rfc822 when
/// mail-parser read it as a message (the default inside multipart/digest).
pub fn media_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if matches!(part.body, PartType::Message(_)) => "message/rfc822".to_owned(),
        None => "text/plain".to_owned(),
    }
}

/// The bytes of a leaf with base64 or quoted-printable undone, charset untouched.
///
/// mail-parser converts text parts to UTF-8, so their bytes are decoded again
/// from the raw body (forgivingly, see [`decode`](super::decode)): a download
/// and its checksums must match what the sender attached (enmime skips the
/// charset conversion for attachments too).
fn decoded<'a>(part: &'a MessagePart<'_>, raw: &'a [u8]) -> Cow<'a, [u8]> {
    let raw_body = raw.get(part.offset_body as usize..part.offset_end as usize);
    match &part.body {
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => Cow::Borrowed(bytes.as_ref()),
        PartType::Text(text) | PartType::Html(text) => match (raw_body, part.encoding) {
            (Some(body), Encoding::None) => Cow::Borrowed(body),
            (Some(body), Encoding::Base64) => Cow::Owned(decode::base64(body)),
            (Some(body), Encoding::QuotedPrintable) => Cow::Owned(decode::quoted_printable(body)),
            (None, _) => Cow::Borrowed(text.as_bytes()),
        },
        PartType::Message(nested) => match (raw_body, part.encoding) {
            // Unencoded: the nested message's own raw_message is the whole outer
            // message, so the part's slice is the attachment.
            (Some(body), Encoding::None) => Cow::Borrowed(body),
            _ => Cow::Borrowed(nested.raw_message.as_ref()),
        },
        PartType::Multipart(_) => Cow::Borrowed(&[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    const NESTED: &str = "Content-Type: multipart/mixed; boundary=a\r\n\r\n\
--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b--\r\n\
--a\r\nContent-Type: image/gif; name=x.gif\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n\
--a\r\nContent-Type: application/octet-stream\r\n\r\nnameless\r\n--a--\r\n";

    fn ids_and_roles(raw: &str) -> Vec<(String, Role)> {
        let message = MessageParser::default()
            .parse(raw.as_bytes())
            .expect("test message parses");
        leaves(&message)
            .iter()
            .map(|leaf| (leaf.part_id.clone(), leaf.role()))
            .collect()
    }

    #[test]
    fn numbers_parts_by_their_path() {
        assert_eq!(
            ids_and_roles(NESTED),
            vec![
                ("1.1".to_owned(), Role::Body),
                ("1.2".to_owned(), Role::Body),
                ("2".to_owned(), Role::Attachment),
                ("3".to_owned(), Role::Hidden),
            ]
        );
    }

    #[test]
    fn a_single_part_message_is_part_one() {
        let raw = "Subject: x\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF";
        assert_eq!(ids_and_roles(raw), vec![("1".to_owned(), Role::Attachment)]);
    }

    #[test]
    fn content_id_outside_related_without_name_is_inline() {
        let raw = "Content-Type: multipart/mixed; boundary=a\r\n\r\n\
--a\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
--a\r\nContent-Type: image/png\r\nContent-ID: <p@x>\r\n\r\npng\r\n--a--\r\n";
        assert_eq!(ids_and_roles(raw)[1], ("2".to_owned(), Role::Inline));
    }

    #[test]
    fn decodes_base64_binary() {
        let message = MessageParser::default()
            .parse(NESTED.as_bytes())
            .expect("test message parses");
        let all = leaves(&message);
        assert_eq!(all[2].data(NESTED.as_bytes()).as_ref(), b"GIF89a");
        assert_eq!(all[2].media_type(), "image/gif");
        assert_eq!(all[2].file_name(), "x.gif");
    }
}
