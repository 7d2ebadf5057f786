//! Round trips for [`compose`](super::compose): build, parse back with
//! mail-parser and with this module's own readers, compare.

use super::*;
use crate::message::{headers::headers, part::part, view::view};
use mail_parser::{MessageParser, MimeHeaders};

fn addr(email: &str, name: &str) -> Address {
    Address {
        email: email.into(),
        name: name.into(),
    }
}

fn draft() -> Draft {
    Draft {
        from: addr("jörg@example.com", "Jörg Example"),
        to: vec![
            addr("bob@example.org", "Bob"),
            addr("carol@example.org", ""),
        ],
        cc: vec![addr("dave@example.org", "Dave, Jr.")],
        bcc: vec!["hidden@example.org".into()],
        reply_to: vec![addr("replies@example.com", "")],
        subject: "Grüße and a long subject line that mail-builder will have to fold somewhere"
            .into(),
        text: "Hello Bob,\nyour code is 123456.\n".into(),
        html: r#"<p>Hello <b>Bob</b> <img src="cid:logo@x"></p>"#.into(),
        headers: vec![("X-Campaign".into(), "spring-2026".into())],
        tags: vec!["Tag 1".into(), "urgent".into(), "Tag 1".into(), " ".into()],
        attachments: vec![
            DraftAttachment {
                file_name: "logo.png".into(),
                content_type: None,
                content_id: Some("<logo@x>".into()),
                data: b"\x89PNG\r\n\x1a\nnot really".to_vec(),
            },
            DraftAttachment {
                file_name: "report.pdf".into(),
                content_type: None,
                content_id: None,
                data: b"%PDF-1.4\n\x00\x01\x02binary".to_vec(),
            },
            DraftAttachment {
                file_name: "notes.txt".into(),
                content_type: Some("text/plain".into()),
                content_id: Some(String::new()),
                data: b"plain notes\n".to_vec(),
            },
        ],
    }
}

#[test]
fn round_trip_through_mail_parser() {
    let raw = compose(&draft(), "mailsink.test").expect("composes");
    let m = MessageParser::default().parse(&raw).expect("parses");
    assert_eq!(
        m.subject(),
        Some("Grüße and a long subject line that mail-builder will have to fold somewhere")
    );
    let from = m.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some("jörg@example.com"));
    assert_eq!(from.name(), Some("Jörg Example"));
    let to: Vec<_> = m
        .to()
        .expect("To")
        .iter()
        .map(|a| (a.name().unwrap_or(""), a.address().unwrap_or("")))
        .collect();
    assert_eq!(
        to,
        vec![("Bob", "bob@example.org"), ("", "carol@example.org")]
    );
    let cc = m.cc().and_then(|a| a.first()).expect("Cc");
    assert_eq!(cc.name(), Some("Dave, Jr."));
    assert_eq!(
        m.reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("replies@example.com")
    );
    assert!(m.bcc().is_none(), "Bcc is never written");
    assert!(m.date().is_some());
    assert!(
        m.message_id()
            .is_some_and(|id| id.ends_with("@mailsink.test"))
    );
    // MIME text bodies end lines with CRLF (RFC 2046 §4.1.1).
    assert_eq!(
        m.body_text(0).as_deref(),
        Some("Hello Bob,\r\nyour code is 123456.\r\n")
    );
    assert_eq!(
        m.body_html(0).as_deref(),
        Some(r#"<p>Hello <b>Bob</b> <img src="cid:logo@x"></p>"#)
    );
    assert!(m.root_part().is_content_type("multipart", "mixed"));
}

#[test]
fn structure_ids_and_bytes_through_view_and_part() {
    let raw = compose(&draft(), "mailsink.test").expect("composes");
    let v = view(&raw);
    assert_eq!(v.inline.len(), 1);
    let logo = &v.inline[0];
    assert_eq!(logo.part_id, "1.2");
    assert_eq!(logo.content_id, "logo@x");
    assert_eq!(logo.file_name, "logo.png");
    assert_eq!(logo.content_type, "image/png");
    let names: Vec<(&str, &str, &str)> = v
        .attachments
        .iter()
        .map(|a| {
            (
                a.part_id.as_str(),
                a.file_name.as_str(),
                a.content_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("2", "report.pdf", "application/pdf"),
            ("3", "notes.txt", "text/plain")
        ]
    );
    assert_eq!(
        part(&raw, "1.2").map(|p| p.data),
        Some(b"\x89PNG\r\n\x1a\nnot really".to_vec())
    );
    assert_eq!(
        part(&raw, "2").map(|p| p.data),
        Some(b"%PDF-1.4\n\x00\x01\x02binary".to_vec())
    );
    assert_eq!(
        part(&raw, "3").map(|p| p.data),
        Some(b"plain notes\n".to_vec())
    );
    // multipart/related holds multipart/alternative and the picture.
    let m = MessageParser::default().parse(&raw).expect("parses");
    assert!(m.parts[1].is_content_type("multipart", "related"));
    assert!(m.parts[2].is_content_type("multipart", "alternative"));
    assert_eq!(m.parts[5].content_id(), Some("logo@x"));
}

#[test]
fn custom_headers_and_tags() {
    let raw = compose(&draft(), "mailsink.test").expect("composes");
    let h = headers(&raw);
    assert_eq!(h["X-Campaign"], vec!["spring-2026"]);
    assert_eq!(h["X-Tags"], vec!["Tag 1, urgent"]);
    assert_eq!(h["Mime-Version"], vec!["1.0"]);
    assert!(!h.contains_key("Bcc"));
}

#[test]
fn given_message_id_is_kept() {
    let mut d = draft();
    d.headers
        .push(("message-id".into(), "<given@example.com>".into()));
    let raw = compose(&d, "mailsink.test").expect("composes");
    let m = MessageParser::default().parse(&raw).expect("parses");
    assert_eq!(m.message_id(), Some("given@example.com"));
    assert_eq!(headers(&raw)["Message-Id"].len(), 1);
}

#[test]
fn text_only_and_html_only() {
    let mut d = draft();
    d.attachments.clear();
    d.html.clear();
    let raw = compose(&d, "x").expect("composes");
    let m = MessageParser::default().parse(&raw).expect("parses");
    assert!(m.root_part().is_content_type("text", "plain"));
    d.text.clear();
    d.html = "<p>only</p>".into();
    let raw = compose(&d, "x").expect("composes");
    assert_eq!(view(&raw).html, "<p>only</p>");
}

/// Spoils one field of a good draft.
type Breaker = fn(&mut Draft);

#[test]
fn invalid_addresses_name_their_field() {
    let cases: Vec<(Breaker, &str)> = vec![
        (
            |d| d.from.email = "nobody".into(),
            "invalid From address: nobody",
        ),
        (|d| d.to[1].email = "a@".into(), "invalid To address: a@"),
        (
            |d| d.cc[0].email = "x y@z".into(),
            "invalid Cc address: x y@z",
        ),
        (|d| d.bcc[0] = "@z".into(), "invalid Bcc address: @z"),
        (
            |d| d.reply_to[0].email = "a..b@c".into(),
            "invalid ReplyTo address: a..b@c",
        ),
        (
            |d| d.to[0].name = "Bob\r\nBcc: x@y".into(),
            "invalid To address: Bob\\r\\nBcc: x@y <bob@example.org>",
        ),
    ];
    for (break_it, want) in cases {
        let mut d = draft();
        break_it(&mut d);
        let err = compose(&d, "x").expect_err("refused");
        assert_eq!(err.to_string(), want);
    }
}

#[test]
fn accepts_ordinary_addresses() {
    for email in [
        "a@b",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "user@[192.0.2.1]",
        "δοκιμή@παράδειγμα.δοκιμή",
    ] {
        assert!(is_valid_email(email), "{email}");
    }
    for email in [
        "", "a", "a@b@", ".a@b", "a.@b", "a@-b.com", "a@b..c", "a b@c", "<a@b>",
    ] {
        assert!(!is_valid_email(email), "{email}");
    }
}

#[test]
fn needs_a_recipient() {
    let mut d = draft();
    d.to.clear();
    d.cc.clear();
    d.bcc.clear();
    assert_eq!(compose(&d, "x"), Err(ComposeError::NoRecipients));
}

#[test]
fn refuses_reserved_and_broken_headers() {
    for name in [
        "To",
        "FROM",
        "cc",
        "Bcc",
        "Reply-To",
        "date",
        "Subject",
        "Content-Type",
        "MIME-Version",
    ] {
        let mut d = draft();
        d.headers.push((name.into(), "x".into()));
        assert_eq!(
            compose(&d, "x"),
            Err(ComposeError::ReservedHeader(name.into())),
            "{name}"
        );
    }
    let mut d = draft();
    d.headers.push(("X-Tags".into(), "a".into()));
    assert!(matches!(
        compose(&d, "x"),
        Err(ComposeError::ReservedHeader(_))
    ));
    d.tags.clear();
    assert!(
        compose(&d, "x").is_ok(),
        "X-Tags is free when no tags are set"
    );

    for (name, value) in [("X Bad", "v"), ("X-Bad:", "v"), ("", "v"), ("X-É", "v")] {
        let mut d = draft();
        d.headers.push((name.into(), value.into()));
        assert!(
            matches!(compose(&d, "x"), Err(ComposeError::InvalidHeaderName(_))),
            "{name}"
        );
    }
    for value in ["a\r\nBcc: evil@x", "a\nb", "a\rb", "a\0b"] {
        let mut d = draft();
        d.headers.push(("X-Ok".into(), value.into()));
        assert_eq!(
            compose(&d, "x"),
            Err(ComposeError::InvalidHeaderValue("X-Ok".into()))
        );
    }
}

#[test]
fn non_ascii_header_value_is_encoded() {
    let mut d = draft();
    d.headers = vec![("X-Greeting".into(), "Grüße".into())];
    let raw = compose(&d, "x").expect("composes");
    let value = &headers(&raw)["X-Greeting"][0];
    assert!(value.is_ascii() && value.starts_with("=?"), "{value}");
}

#[test]
fn attachment_problems() {
    let mut d = draft();
    d.attachments[1].file_name = "  ".into();
    assert_eq!(compose(&d, "x"), Err(ComposeError::MissingFileName(2)));
    let mut d = draft();
    d.attachments[0].content_type = Some("image/png\r\nX-Evil: 1".into());
    assert!(matches!(
        compose(&d, "x"),
        Err(ComposeError::InvalidAttachment {
            field: "content type",
            ..
        })
    ));
    let mut d = draft();
    d.attachments[0].content_id = Some("a b".into());
    assert!(matches!(
        compose(&d, "x"),
        Err(ComposeError::InvalidAttachment {
            field: "Content-ID",
            ..
        })
    ));
}

#[test]
fn unicode_file_name_survives() {
    let mut d = draft();
    d.attachments = vec![DraftAttachment {
        file_name: "Résumé 2026.pdf".into(),
        data: b"%PDF".to_vec(),
        ..DraftAttachment::default()
    }];
    let raw = compose(&d, "x").expect("composes");
    let v = view(&raw);
    assert_eq!(v.attachments[0].file_name, "Résumé 2026.pdf");
    assert_eq!(v.attachments[0].content_type, "application/pdf");
}

#[test]
fn subject_line_breaks_become_spaces() {
    let mut d = draft();
    d.subject = "one\r\ntwo\nthree".into();
    let raw = compose(&d, "x").expect("composes");
    let m = MessageParser::default().parse(&raw).expect("parses");
    assert_eq!(m.subject(), Some("one two three"));
}
