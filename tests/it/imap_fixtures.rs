//! The IMAP MIME corpus (`tests/fixtures/imap/*.eml`) and what the golden and
//! live Dovecot tests share: the sections they fetch, reading FETCH responses,
//! and comparing our values with Dovecot's at the value level.
//!
//! Values are compared after both sides went through imap-codec: Dovecot's
//! response is parsed into imap-types and encoded again, ours is encoded, and
//! both encodings are read as S-expressions in which a quoted string and a
//! literal with the same bytes are the same value. imap-codec and Dovecot
//! choose between quoted strings and literals differently (imap-codec sends
//! every non-ASCII value as a literal), and imap-codec writes the media types
//! it has fields for as "TEXT" and "MESSAGE" "RFC822" where Dovecot echoes the
//! case of the header; the parse-and-encode step removes exactly those two
//! differences and nothing else.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use imap_codec::decode::Decoder;
use imap_codec::encode::Encoder;
use imap_codec::{CommandCodec, ResponseCodec};
use imap_types::command::CommandBody;
use imap_types::core::Vec1;
use imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Section,
};
use imap_types::response::{Data, Response};

/// The sections fetched from every corpus message: the golden ones first.
pub const GOLDEN_SECTIONS: &[&str] = &[
    "HEADER",
    "TEXT",
    "1",
    "1.MIME",
    "HEADER.FIELDS (From Subject)",
    "HEADER.FIELDS.NOT (Received)",
];

/// Further sections compared live: nested parts, the parts of attached
/// messages, sections that exist in only some messages.
pub const MORE_SECTIONS: &[&str] = &[
    "",
    "1.TEXT",
    "1.HEADER",
    "1.1",
    "1.2",
    "1.1.MIME",
    "1.2.1",
    "1.2.2",
    "1.2.1.MIME",
    "2",
    "2.MIME",
    "2.HEADER",
    "2.TEXT",
    "2.HEADER.FIELDS (Subject)",
    "2.HEADER.FIELDS.NOT (Subject From)",
    "2.1",
    "2.1.MIME",
    "2.2",
    "2.2.MIME",
    "2.2.HEADER",
    "2.2.TEXT",
    "2.3",
    "2.1.1",
    "2.2.1",
    "2.2.2",
    "3",
    "3.MIME",
    "3.1",
    "3.1.MIME",
    "4",
    "4.1",
    "5.MIME",
    "6.1",
    "6.1.MIME",
    "9",
];

/// Sections where we deliberately answer otherwise than Dovecot:
/// (corpus message, section, why). Ours is Dovecot's answer without its
/// final blank line.
pub const DIFFERENCES: &[(&str, &str, &str)] = &[(
    "22-no-body-no-blank-line.eml",
    "HEADER.FIELDS (From Subject)",
    "RFC 3501 §6.4.5 includes the blank line in header fetches \"except in the case of a \
     message which has no body and no blank line\"; Dovecot adds one to HEADER.FIELDS anyway \
     (and follows the RFC for HEADER.FIELDS.NOT)",
)];

/// What we answer for `BODY[spec]` of corpus message `name`, given what
/// Dovecot answers: the same, but for the listed differences.
pub fn expected_section(name: &str, spec: &str, dovecot: Vec<u8>) -> Vec<u8> {
    match DIFFERENCES.iter().find(|d| d.0 == name && d.1 == spec) {
        Some((_, _, why)) => {
            let without = dovecot.strip_suffix(b"\r\n\r\n").unwrap_or_else(|| {
                panic!("{name} BODY[{spec}] is no longer the listed difference ({why})")
            });
            [without, b"\r\n"].concat()
        }
        None => dovecot,
    }
}

/// The FETCH responses among `reads` whose raw bytes start with `prefix`,
/// with their items.
pub fn fetches_in(
    reads: &[Read],
    prefix: String,
) -> impl Iterator<Item = (&Read, Vec<MessageDataItem<'static>>)> {
    reads.iter().filter_map(move |r| {
        let items = fetch_items(r.response.as_ref()?)?;
        r.raw.starts_with(prefix.as_bytes()).then_some((r, items))
    })
}

/// The answer to `BODY[spec]` among `reads`: the response and its bytes
/// (None for NIL). Dovecot echoes the section in upper case.
pub fn section_in<'r>(reads: &'r [Read], spec: &str) -> Option<(&'r Read, Option<Vec<u8>>)> {
    let prefix = format!("* 1 FETCH (BODY[{}] ", spec.to_ascii_uppercase());
    fetches_in(reads, prefix).find_map(|(read, items)| {
        items.into_iter().find_map(|item| match item {
            MessageDataItem::BodyExt { data, .. } => {
                Some((read, data.into_option().map(|d| d.into_owned())))
            }
            _ => None,
        })
    })
}

/// The corpus: every `.eml` file, sorted by name, with its bytes.
pub fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imap");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the corpus directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus has {} messages", files.len());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read a corpus message");
            (p, bytes)
        })
        .collect()
}

/// The golden file next to a corpus message.
pub fn golden_path(eml: &Path, extension: &str) -> PathBuf {
    eml.with_extension(extension)
}

/// A section as the IMAP parser reads it from `BODY[<spec>]`; `None` for
/// the empty spec (the whole message).
pub fn parse_section(spec: &str) -> Option<Section<'static>> {
    let line = format!("x FETCH 1 BODY.PEEK[{spec}]\r\n");
    let (_, command) = CommandCodec::default()
        .decode_static(line.as_bytes())
        .unwrap_or_else(|e| panic!("parse {line:?}: {e:?}"));
    let CommandBody::Fetch {
        macro_or_item_names: MacroOrMessageDataItemNames::MessageDataItemNames(names),
        ..
    } = command.body
    else {
        panic!("not a FETCH: {line:?}")
    };
    match names.into_iter().next() {
        Some(MessageDataItemName::BodyExt { section, .. }) => section,
        other => panic!("not a BODY[]: {other:?}"),
    }
}

/// One response read from a server's output, with its exact bytes.
pub struct Read {
    pub raw: Vec<u8>,
    pub response: Option<Response<'static>>,
}

/// Splits a server's output into responses. Lines imap-codec cannot read
/// (Dovecot's capability list holds a few it does not know) are kept with
/// `response: None`.
pub fn read_responses(mut bytes: &[u8]) -> Vec<Read> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        match ResponseCodec::default().decode_static(bytes) {
            Ok((rest, response)) => {
                let used = bytes.len() - rest.len();
                out.push(Read {
                    raw: bytes[..used].to_vec(),
                    response: Some(response),
                });
                bytes = rest;
            }
            Err(_) => {
                let end = bytes
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .map_or(bytes.len(), |at| at + 2);
                out.push(Read {
                    raw: bytes[..end].to_vec(),
                    response: None,
                });
                bytes = &bytes[end..];
            }
        }
    }
    out
}

/// The data items of a FETCH response.
pub fn fetch_items(response: &Response<'static>) -> Option<Vec<MessageDataItem<'static>>> {
    match response {
        Response::Data(Data::Fetch { items, .. }) => Some(items.clone().into_iter().collect()),
        _ => None,
    }
}

/// `* 1 FETCH (<item>)` as imap-codec encodes it.
pub fn encode_item(item: &MessageDataItem<'static>) -> Vec<u8> {
    let response = Response::Data(Data::Fetch {
        seq: NonZeroU32::MIN,
        items: Vec1::from(item.clone()),
    });
    ResponseCodec::default().encode(&response).dump()
}

/// An IMAP value with the string form forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sx {
    Nil,
    Str(Vec<u8>),
    Atom(String),
    List(Vec<Sx>),
}

/// Reads IMAP data (atoms, NIL, quoted strings, literals, lists).
pub fn sx(bytes: &[u8]) -> Vec<Sx> {
    fn list(b: &[u8], i: &mut usize) -> Vec<Sx> {
        let mut out = Vec::new();
        while *i < b.len() {
            match b[*i] {
                b' ' | b'\r' | b'\n' => *i += 1,
                b'(' => {
                    *i += 1;
                    out.push(Sx::List(list(b, i)));
                }
                b')' => {
                    *i += 1;
                    return out;
                }
                b'"' => {
                    *i += 1;
                    let mut s = Vec::new();
                    while *i < b.len() && b[*i] != b'"' {
                        if b[*i] == b'\\' {
                            *i += 1;
                        }
                        s.push(b[*i]);
                        *i += 1;
                    }
                    *i += 1;
                    out.push(Sx::Str(s));
                }
                b'{' => {
                    let close = *i + b[*i..].iter().position(|&c| c == b'}').expect("}");
                    let n: usize = std::str::from_utf8(&b[*i + 1..close])
                        .expect("ascii")
                        .trim_end_matches('+')
                        .parse()
                        .expect("literal length");
                    let start = close + 3;
                    out.push(Sx::Str(b[start..start + n].to_vec()));
                    *i = start + n;
                }
                _ => {
                    let start = *i;
                    while *i < b.len() && !b" ()\r\n".contains(&b[*i]) {
                        *i += 1;
                    }
                    let atom = String::from_utf8_lossy(&b[start..*i]).into_owned();
                    out.push(if atom.eq_ignore_ascii_case("NIL") {
                        Sx::Nil
                    } else {
                        Sx::Atom(atom)
                    });
                }
            }
        }
        out
    }
    let mut i = 0;
    list(bytes, &mut i)
}

/// Our item and Dovecot's agree as values.
pub fn same_value(ours: &MessageDataItem<'static>, dovecot: &MessageDataItem<'static>) -> bool {
    sx(&encode_item(ours)) == sx(&encode_item(dovecot))
}

/// Expected and actual, one above the other, for a failure message.
pub fn side_by_side(what: &str, expected: &[u8], actual: &[u8]) -> String {
    format!(
        "{what}\n  expected (Dovecot): {}\n  actual (ours):      {}\n",
        String::from_utf8_lossy(expected).trim_end(),
        String::from_utf8_lossy(actual).trim_end()
    )
}

/// The name of a fetched item, for matching ours with Dovecot's.
pub fn item_kind(item: &MessageDataItem<'_>) -> &'static str {
    match item {
        MessageDataItem::Envelope(_) => "ENVELOPE",
        MessageDataItem::Body(_) => "BODY",
        MessageDataItem::BodyStructure(_) => "BODYSTRUCTURE",
        MessageDataItem::BodyExt { .. } => "BODY[]",
        _ => "other",
    }
}

/// Our value for an ENVELOPE, BODY or BODYSTRUCTURE item of `message`.
pub fn our_item(message: &[u8], kind: &str) -> MessageDataItem<'static> {
    use mailsink::imap::mime;
    match kind {
        "ENVELOPE" => MessageDataItem::Envelope(mime::envelope(message)),
        "BODY" => MessageDataItem::Body(mime::body_structure(message, false)),
        "BODYSTRUCTURE" => MessageDataItem::BodyStructure(mime::body_structure(message, true)),
        other => panic!("not a structure item: {other}"),
    }
}
