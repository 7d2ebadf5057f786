//! `BODY[section]` and `BINARY[section]` (RFC 3501 §6.4.5, RFC 3516): the
//! bytes a section names, part numbers resolved as RFC 3501 describes them
//! (part 1 of a non-multipart message is its body; the parts of a
//! message/rfc822 part are those of the encapsulated message).

use std::borrow::Cow;
use std::num::NonZeroU32;
use std::ops::Range;

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

/// The entity a part number names (RFC 3501 §6.4.5, resolved as Dovecot
/// does): in a multipart, n is its nth part; a non-multipart entity is its
/// own part 1, and has further numbered parts only when it is message/rfc822,
/// whose numbers then count inside the encapsulated message.
fn resolve<'e>(root: &'e Entity, part: &Part) -> Option<&'e Entity> {
    let numbers = part.0.as_ref();
    let mut current = root;
    for (i, n) in numbers.iter().enumerate() {
        let more = i + 1 < numbers.len();
        current = match &current.kind {
            Kind::Multipart(parts) => parts.get(usize::try_from(n.get() - 1).ok()?)?,
            Kind::Message(_) if n.get() == 1 => current,
            Kind::Leaf if n.get() == 1 && !more => current,
            _ => return None,
        };
        if more && let Kind::Message(nested) = &current.kind {
            current = nested;
        }
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
/// sent, then the empty line, unless the header has none (RFC 3501 §6.4.5:
/// "except in the case of a message which has no body and no blank line").
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
    if header::has_blank_line(header_bytes) {
        out.extend_from_slice(b"\r\n");
    }
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
/// part list is the whole message. A leaf part is its decoded body; a
/// message or multipart comes with every base64 or quoted-printable part
/// inside decoded and relabelled `Content-Transfer-Encoding: binary` (the
/// field last in its header), as Dovecot serves it.
pub fn binary<'m>(message: &'m [u8], part: &[NonZeroU32]) -> Result<Cow<'m, [u8]>, BinaryError> {
    let m = served(message);
    let root = Entity::parse(&m);
    let (e, range) = match Vec1::try_from(part.to_vec()) {
        Ok(part) => {
            let e = resolve(&root, &Part(part)).ok_or(BinaryError::NoSuchPart)?;
            (e, e.body.clone())
        }
        Err(_) => (&root, 0..m.len()),
    };
    if matches!(e.kind, Kind::Leaf) && !part.is_empty() {
        let body = &m[e.body.clone()];
        return Ok(match decoded(&m, e)? {
            Some(decoded) => Cow::Owned(decoded),
            None => Cow::Owned(body.to_vec()),
        });
    }
    let mut edits = Vec::new();
    binary_edits(&m, e, &mut edits)?;
    let mut out = Vec::with_capacity(range.len());
    let mut at = range.start;
    for (edit, replacement) in edits {
        // Edits come in message order and never overlap; the clamps only
        // guard the slicing.
        let start = edit.start.clamp(at, range.end);
        out.extend_from_slice(&m[at..start]);
        out.extend_from_slice(&replacement);
        at = edit.end.clamp(start, range.end);
    }
    out.extend_from_slice(&m[at..range.end]);
    Ok(Cow::Owned(out))
}

/// The edits that turn every encoded leaf inside `e` into a binary one:
/// its Content-Transfer-Encoding field and its body, in message order
/// (a range to replace, with what replaces it).
fn binary_edits(
    m: &[u8],
    e: &Entity,
    edits: &mut Vec<(Range<usize>, Vec<u8>)>,
) -> Result<(), BinaryError> {
    match &e.kind {
        Kind::Multipart(parts) => parts.iter().try_for_each(|p| binary_edits(m, p, edits)),
        Kind::Message(nested) => binary_edits(m, nested, edits),
        Kind::Leaf => {
            let Some(decoded) = decoded(m, e)? else {
                return Ok(());
            };
            // The field moves to the end of the header, where Dovecot puts
            // it.
            let header_bytes = &m[e.header.clone()];
            let fields = header::fields(header_bytes);
            if let Some(field) = header::first(&fields, "Content-Transfer-Encoding") {
                let start = e.header.start + field.offset;
                edits.push((start..start + field.raw.len(), Vec::new()));
            }
            let end_of_fields = if header::has_blank_line(header_bytes) {
                e.header.end
                    - if header_bytes.ends_with(b"\r\n") {
                        2
                    } else {
                        1
                    }
            } else {
                e.header.end
            };
            edits.push((
                end_of_fields..end_of_fields,
                b"Content-Transfer-Encoding: binary\r\n".to_vec(),
            ));
            edits.push((e.body.clone(), decoded));
            Ok(())
        }
    }
}

/// A leaf's body without its transfer encoding; None when it has none to
/// undo (7bit, 8bit, binary or no Content-Transfer-Encoding).
fn decoded(m: &[u8], e: &Entity) -> Result<Option<Vec<u8>>, BinaryError> {
    let fields = header::fields(&m[e.header.clone()]);
    let encoding = header::first(&fields, "Content-Transfer-Encoding")
        .and_then(|f| header::transfer_encoding(f.value))
        .map(|e| String::from_utf8_lossy(&e).to_ascii_lowercase())
        .unwrap_or_default();
    let body = &m[e.body.clone()];
    match encoding.as_str() {
        "" | "7bit" | "8bit" | "binary" => Ok(None),
        "base64" => Ok(Some(crate::message::decode::base64(body))),
        "quoted-printable" => Ok(Some(crate::message::decode::quoted_printable(body))),
        _ => Err(BinaryError::UnknownEncoding(encoding)),
    }
}
