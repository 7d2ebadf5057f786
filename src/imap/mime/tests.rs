//! Unit tests for the public functions on small hand-written messages, and
//! the property that no input makes them panic.

use std::num::NonZeroU32;

use chrono::NaiveDate;
use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_types::core::{AString, Vec1};
use imap_types::fetch::{MessageDataItem, Part, Section};
use imap_types::response::{Data, Response};
use proptest::prelude::*;

use super::*;

fn encode(items: Vec<MessageDataItem<'static>>) -> String {
    let response = Response::Data(Data::Fetch {
        seq: NonZeroU32::new(1).expect("nonzero"),
        items: Vec1::try_from(items).expect("non-empty"),
    });
    String::from_utf8(ResponseCodec::default().encode(&response).dump()).expect("utf-8")
}

fn part(numbers: &[u32]) -> Part {
    let numbers: Vec<NonZeroU32> = numbers
        .iter()
        .map(|&n| NonZeroU32::new(n).expect("nonzero"))
        .collect();
    Part(Vec1::try_from(numbers).expect("non-empty"))
}

const SIMPLE: &[u8] = b"From: \"Doe, J\" <j@x.org>\nSubject: Hi\n there\nDate: Mon, 2 Mar 2026 10:00:00 +0100\n\nbody\nline 2\n";

const MIXED: &[u8] = b"Subject: m\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\r\nhello\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nin one\r\n--i\r\nContent-Type: text/html\r\n\r\n<p>in two</p>\r\n--i--\r\n\r\n--b--\r\n";

#[test]
fn envelope_of_a_simple_message() {
    assert_eq!(
        encode(vec![MessageDataItem::Envelope(envelope(SIMPLE))]),
        "* 1 FETCH (ENVELOPE (\"Mon, 2 Mar 2026 10:00:00 +0100\" \"Hi there\" ((\"Doe, J\" NIL \"j\" \"x.org\")) ((\"Doe, J\" NIL \"j\" \"x.org\")) ((\"Doe, J\" NIL \"j\" \"x.org\")) NIL NIL NIL NIL NIL))\r\n"
    );
}

#[test]
fn body_sizes_count_the_served_crlf_bytes() {
    assert_eq!(
        encode(vec![MessageDataItem::BodyStructure(body_structure(
            SIMPLE, true
        ))]),
        "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL))\r\n"
    );
}

#[test]
fn nested_structure_and_sections() {
    let body = encode(vec![MessageDataItem::Body(body_structure(MIXED, false))]);
    assert!(
        body.contains("\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7bit\""),
        "{body}"
    );
    let get = |s: Section<'_>| section(MIXED, Some(&s)).map(|c| c.into_owned());
    assert_eq!(
        get(Section::Part(part(&[1]))).as_deref(),
        Some(&b"hello"[..])
    );
    assert_eq!(
        get(Section::Part(part(&[2, 1]))).as_deref(),
        Some(&b"in one"[..])
    );
    assert_eq!(
        get(Section::Part(part(&[2, 2]))).as_deref(),
        Some(&b"<p>in two</p>"[..])
    );
    assert_eq!(
        get(Section::Header(Some(part(&[2])))).as_deref(),
        Some(&b"Subject: inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"[..])
    );
    assert_eq!(
        get(Section::Mime(part(&[2, 2]))).as_deref(),
        Some(&b"Content-Type: text/html\r\n\r\n"[..])
    );
    assert_eq!(get(Section::Part(part(&[3]))), None);
    assert_eq!(get(Section::Header(Some(part(&[1])))), None);
    let names = Vec1::try_from(vec![AString::try_from("subject").expect("atom")]).expect("one");
    assert_eq!(
        get(Section::HeaderFields(None, names)).as_deref(),
        Some(&b"Subject: m\r\n\r\n"[..])
    );
}

#[test]
fn part_one_of_a_single_part_message_is_its_body() {
    let got = section(SIMPLE, Some(&Section::Part(part(&[1])))).expect("exists");
    assert_eq!(&got[..], b"body\r\nline 2\r\n");
    let text = section(SIMPLE, Some(&Section::Text(None))).expect("exists");
    assert_eq!(text, got);
}

#[test]
fn partial_clamps_to_the_bytes() {
    assert_eq!(partial(b"abcdef", 2, NonZeroU32::new(3)), b"cde");
    assert_eq!(partial(b"abcdef", 4, NonZeroU32::new(9)), b"ef");
    assert_eq!(partial(b"abc", 7, None), b"");
}

#[test]
fn binary_decodes_the_transfer_encoding() {
    let m = b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n";
    let one = [NonZeroU32::new(1).expect("nonzero")];
    assert_eq!(&binary(m, &one).expect("decodes")[..], b"hello");
    let x = b"Content-Transfer-Encoding: x-foo\r\n\r\nzz\r\n";
    assert_eq!(
        binary(x, &one),
        Err(BinaryError::UnknownEncoding("x-foo".into()))
    );
}

#[test]
fn search_decodes_encoded_words_and_bodies() {
    let m = b"From: =?utf-8?q?J=C3=B6rg?= <j@x.org>\r\nSubject: =?iso-8859-1?q?Gr=FC=DFe?=\r\nDate: Tue, 3 Mar 2026 23:30:00 -0800\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nSch=C3=B6ne Gr=C3=BC=C3=9Fe\r\n";
    let s = Searchable::new(m);
    assert!(s.from_contains("JÖRG"));
    assert!(s.from_contains("j@x.org"));
    assert!(s.subject_contains("grüße"));
    assert!(s.body_contains("SCHÖNE"));
    assert!(!s.body_contains("jörg"));
    assert!(s.text_contains("jörg"));
    assert!(s.header_contains("subject", ""));
    assert!(!s.header_contains("x-missing", ""));
    assert_eq!(s.sent_date(), NaiveDate::from_ymd_opt(2026, 3, 3));
}

#[test]
fn served_bytes_end_lines_with_crlf() {
    assert_eq!(&served(b"a\nb\r\nc")[..], b"a\r\nb\r\nc\r\n");
    assert!(matches!(served(b"a\r\n"), Cow::Borrowed(_)));
    assert_eq!(
        served(b"x\ny").len() as u64,
        crate::store::served_size(b"x\ny")
    );
}

/// MIME-shaped input: fragments that exercise the parser, glued in random
/// order with random bytes between them.
fn mime_like() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(b"Content-Type: multipart/mixed; boundary=b\r\n".to_vec()),
        Just(b"Content-Type: message/rfc822\r\n".to_vec()),
        Just(b"Content-Type: multipart/digest; boundary=\"b\"\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"--b\r\n".to_vec()),
        Just(b"--b--\r\n".to_vec()),
        Just(b"From: a <b@c>, g: d@e;\r\n".to_vec()),
        Just(b"Subject: =?utf-8?q?x?=\r\n".to_vec()),
        Just(b"Content-Disposition: attachment; filename*0*=x; filename*1=y\r\n".to_vec()),
        Just(b" folded\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    proptest::collection::vec(fragment, 0..40).prop_map(|v| v.concat())
}

fn exercise(m: &[u8]) {
    let _ = envelope(m);
    let _ = body_structure(m, true);
    let _ = body_structure(m, false);
    let _ = Searchable::new(m);
    let names = Vec1::try_from(vec![AString::try_from("From").expect("atom")]).expect("one");
    let sections = [
        Section::Header(None),
        Section::Text(None),
        Section::Part(part(&[1])),
        Section::Part(part(&[1, 2, 1])),
        Section::Mime(part(&[2])),
        Section::Header(Some(part(&[1]))),
        Section::Text(Some(part(&[2, 1]))),
        Section::HeaderFields(Some(part(&[1])), names.clone()),
        Section::HeaderFieldsNot(None, names),
    ];
    for s in &sections {
        let _ = section(m, Some(s));
    }
    let _ = binary(m, &[NonZeroU32::new(1).expect("nonzero")]);
}

/// Corpus messages to mutate: nested multiparts, an attached message, a
/// digest, bare LF line ends.
const SEEDS: &[&[u8]] = &[
    include_bytes!("../../../tests/fixtures/imap/06-mixed-attachments.eml"),
    include_bytes!("../../../tests/fixtures/imap/08-nested-three-levels.eml"),
    include_bytes!("../../../tests/fixtures/imap/09-attached-message.eml"),
    include_bytes!("../../../tests/fixtures/imap/10-digest.eml"),
    include_bytes!("../../../tests/fixtures/imap/17-bare-lf.eml"),
    include_bytes!("../../../tests/fixtures/imap/19-odd-addresses.eml"),
];

/// A corpus message with random bytes replaced, inserted, deleted, or a
/// stretch cut out.
fn mutated_mime() -> impl Strategy<Value = Vec<u8>> {
    let edit = (any::<usize>(), 0u8..4, any::<u8>(), 0usize..64);
    (0..SEEDS.len(), proptest::collection::vec(edit, 1..24)).prop_map(|(seed, edits)| {
        let mut m = SEEDS[seed].to_vec();
        for (at, op, byte, span) in edits {
            if m.is_empty() {
                m.push(byte);
                continue;
            }
            let at = at % m.len();
            match op {
                0 => m[at] = byte,
                1 => m.insert(at, byte),
                2 => {
                    m.remove(at);
                }
                _ => {
                    let end = (at + span).min(m.len());
                    m.drain(at..end);
                }
            }
        }
        m
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(m in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&m);
    }

    #[test]
    fn mime_like_input_never_panics(m in mime_like()) {
        exercise(&m);
    }

    #[test]
    fn mutated_corpus_messages_never_panic(m in mutated_mime()) {
        exercise(&m);
    }
}
