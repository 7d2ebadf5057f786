//! `BODY[section]` and `BINARY[section]` (RFC 3501 §6.4.5, RFC 3516): the
//! bytes a section names, part numbers resolved as RFC 3501 describes them
//! (part 1 of a non-multipart message is its body; the parts of a
//! message/rfc822 part are those of the encapsulated message).

use std::borrow::Cow;
use std::num::NonZeroU32;

use imap_types::core::{AString, Vec1};
use imap_types::fetch::{Part, Section};

use super::header;
use super::served;
use super::tree::{Entity, Kind};

/// The bytes of `BODY[section]`, `None` being `BODY[]` (the whole message).
/// Returns `None` when the section does not exist in this message; Dovecot
/// then answers with an empty string, and so should the caller.
pub fn section<'m>(message: &'m [u8], section: Option<&Section<'_>>) -> Option<Cow<'m, [u8]>> {
    let m = served(message);
    let Some(section) = section else {
        return Some(m);
    };
    let root = Entity::parse(&m);
    let bytes = match section {
        Section::Part(part) => {
            let e = resolve(&root, part)?;
            m[e.body.clone()].to_vec()
        }
        Section::Mime(part) => {
            let e = resolve(&root, part)?;
            m[e.header.clone()].to_vec()
        }
        Section::Header(part) => m[message_of(&root, part.as_ref())?.header.clone()].to_vec(),
        Section::Text(part) => m[message_of(&root, part.as_ref())?.body.clone()].to_vec(),
        Section::HeaderFields(part, names) => {
            let e = message_of(&root, part.as_ref())?;
            header_fields(&m[e.header.clone()], names.as_ref(), true)
        }
        Section::HeaderFieldsNot(part, names) => {
            let e = message_of(&root, part.as_ref())?;
            header_fields(&m[e.header.clone()], names.as_ref(), false)
        }
    };
    Some(Cow::Owned(bytes))
}

/// The entity a part number names.
fn resolve<'e>(root: &'e Entity, part: &Part) -> Option<&'e Entity> {
    let mut current = root;
    for (i, &n) in part.0.as_ref().iter().enumerate() {
        // The numbers after the first one count inside an encapsulated
        // message when the part is message/rfc822.
        let container = match (&current.kind, i) {
            (Kind::Message(nested), 1..) => nested.as_ref(),
            _ => current,
        };
        current = match &container.kind {
            Kind::Multipart(parts) => parts.get(usize::try_from(n.get() - 1).ok()?)?,
            _ if n.get() == 1 => container,
            _ => return None,
        };
    }
    Some(current)
}

/// The message whose HEADER or TEXT a section names: the whole message, or
/// the message inside a message/rfc822 part.
fn message_of<'e>(root: &'e Entity, part: Option<&Part>) -> Option<&'e Entity> {
    match part {
        None => Some(root),
        Some(part) => resolve(root, part)?.nested(),
    }
}

/// HEADER.FIELDS (`keep = true`) or HEADER.FIELDS.NOT: the matching fields as
/// sent, then the empty line (RFC 3501 §6.4.5).
fn header_fields(header_bytes: &[u8], names: &[AString<'_>], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in header::fields(header_bytes) {
        let listed = names.iter().any(|n| {
            let n: &[u8] = n.as_ref();
            n.eq_ignore_ascii_case(field.name)
        });
        if listed == keep {
            out.extend_from_slice(field.raw);
            if !field.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `<offset.length>` applied to section bytes (RFC 3501 §6.4.5): empty when
/// the offset is past the end, shorter when the length runs past it.
pub fn partial(bytes: &[u8], offset: u32, length: Option<NonZeroU32>) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let end = match length {
        Some(length) => start
            .saturating_add(usize::try_from(length.get()).unwrap_or(usize::MAX))
            .min(bytes.len()),
        None => bytes.len(),
    };
    &bytes[start..end]
}

/// Why `BINARY[section]` cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryError {
    /// The part does not exist.
    #[error("no such part")]
    NoSuchPart,
    /// RFC 3516 §4.3: the server answers NO [UNKNOWN-CTE].
    #[error("unknown Content-Transfer-Encoding {0:?}")]
    UnknownEncoding(String),
}

/// The decoded content of a part for `BINARY[part]` (RFC 3516); an empty
/// part list is the whole message, served as is.
pub fn binary<'m>(message: &'m [u8], part: &[NonZeroU32]) -> Result<Cow<'m, [u8]>, BinaryError> {
    let m = served(message);
    let Ok(part) = Vec1::try_from(part.to_vec()) else {
        return Ok(m);
    };
    let root = Entity::parse(&m);
    let e = resolve(&root, &Part(part)).ok_or(BinaryError::NoSuchPart)?;
    let body = &m[e.body.clone()];
    if !matches!(e.kind, Kind::Leaf) {
        return Ok(Cow::Owned(body.to_vec()));
    }
    let fields = header::fields(&m[e.header.clone()]);
    let encoding = header::first(&fields, "Content-Transfer-Encoding")
        .map(|f| String::from_utf8_lossy(header::trim(f.value)).to_ascii_lowercase())
        .unwrap_or_default();
    let decoded = match encoding.as_str() {
        "" | "7bit" | "8bit" | "binary" => body.to_vec(),
        "base64" => crate::message::decode::base64(body),
        "quoted-printable" => crate::message::decode::quoted_printable(body),
        _ => return Err(BinaryError::UnknownEncoding(encoding)),
    };
    Ok(Cow::Owned(decoded))
}
