//! Tests of [`view`](super::view) on realistic messages from `testdata/`.

use super::*;

const RICH: &[u8] = include_bytes!("testdata/rich.eml");
const HTML_ONLY: &[u8] = include_bytes!("testdata/html_only.eml");
const LATIN1: &[u8] = include_bytes!("testdata/latin1.eml");

#[test]
fn bodies_are_decoded() {
    let v = view(RICH);
    assert!(
        v.text
            .starts_with("Hallo Jörg,\r\n\r\nyour résumé is attached.")
    );
    assert!(v.html.starts_with("<html><body><p>Hallo Jörg,</p>"));
    assert!(
        v.html
            .contains(r#"<img src="cid:logo@example.com" alt="logo">"#)
    );
}

#[test]
fn inline_image_and_attachments() {
    let v = view(RICH);
    assert_eq!(
        v.inline,
        vec![Attachment {
            part_id: "1.2".into(),
            file_name: "logo.png".into(),
            content_type: "image/png".into(),
            content_id: "logo@example.com".into(),
            size: 70,
            checksums: Checksums {
                md5: "f829b914fc47cfc9c0747c119c27cf1b".into(),
                sha1: "4a5eb7171b58e08a6881721e3b43d5a44419a2be".into(),
                sha256: "6b7fa434f92a8b80aab02d9bf1a12e49ffcae424e4013a1c4f68b67e3d2bbcd0".into(),
            },
        }]
    );
    let pdf = &v.attachments[0];
    assert_eq!(pdf.part_id, "2");
    assert_eq!(pdf.file_name, "resume.pdf");
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.content_id, "");
    assert_eq!(pdf.size, 50);
    assert_eq!(pdf.checksums.md5, "bf659254ce336111f6827df7bd655cfa");
    assert_eq!(
        pdf.checksums.sha1,
        "f26f7ce81cbc0e851a07f2158e1900ab68f5ab41"
    );
    assert_eq!(
        pdf.checksums.sha256,
        "2424e4b37c25d8dac4c66fd4ecd780c717b828582c3f9a9fc718672d2d5e31f1"
    );
}

#[test]
fn attached_message_is_one_attachment() {
    let v = view(RICH);
    // The nameless JPEG (part 4) has no file name and no Content-ID: omitted.
    let listed: Vec<(&str, &str)> = v
        .attachments
        .iter()
        .map(|a| (a.part_id.as_str(), a.file_name.as_str()))
        .collect();
    assert_eq!(listed, vec![("2", "resume.pdf"), ("3", "forwarded.eml")]);
    let eml = &v.attachments[1];
    assert_eq!(eml.content_type, "message/rfc822");
    assert_eq!(
        eml.size, 352,
        "the nested message's bytes, not the outer ones"
    );
}

#[test]
fn unsubscribe_return_path_and_date() {
    let v = view(RICH);
    assert_eq!(
        v.list_unsubscribe.links,
        vec![
            "mailto:unsubscribe@example.com?subject=unsub",
            "https://example.com/unsubscribe?u=42&list=news"
        ]
    );
    assert_eq!(
        v.list_unsubscribe.header,
        "<mailto:unsubscribe@example.com?subject=unsub>, \
<https://example.com/unsubscribe?u=42&list=news>"
    );
    assert_eq!(v.list_unsubscribe.errors, "");
    assert_eq!(v.list_unsubscribe.header_post, "List-Unsubscribe=One-Click");
    assert_eq!(v.return_path, "bounces+123@mailer.example.com");
    assert_eq!(
        v.date.map(|d| d.to_rfc3339()),
        Some("2026-11-23T11:00:00+01:00".to_owned())
    );
}

#[test]
fn html_only_message_gets_generated_text() {
    let v = view(HTML_ONLY);
    assert!(v.html.starts_with("<html><body><h1>Welcome, Zoë</h1>"));
    assert!(v.text.contains("Welcome, Zoë"), "{:?}", v.text);
    assert!(v.text.contains("735 204"), "{:?}", v.text);
    assert!(!v.text.contains('<'));
    assert!(v.attachments.is_empty() && v.inline.is_empty());
    // No Return-Path header: the From address stands in.
    assert_eq!(v.return_path, "shop@example.com");
    assert_eq!(
        v.date.map(|d| d.to_rfc3339()),
        Some("2026-11-24T08:30:00-05:00".to_owned())
    );
    assert_eq!(v.list_unsubscribe, ListUnsubscribe::default());
}

#[test]
fn latin1_text_is_utf8() {
    let v = view(LATIN1);
    assert_eq!(v.text, "Un café crème, s'il vous plaît.\n");
    assert_eq!(v.html, "");
}

#[test]
fn quoted_printable_text_only() {
    let raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nlong line that is =\r\nsoft-broken =E2=9C=93\r\n";
    let v = view(raw);
    assert_eq!(v.text, "long line that is soft-broken \u{2713}\r\n");
    assert_eq!(v.html, "", "no HTML is made up for a text-only message");
}

#[test]
fn text_after_an_inline_picture() {
    let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nthe text\r\n--b--\r\n";
    assert_eq!(view(raw).text, "the text");
}

#[test]
fn content_id_falls_back_as_file_name() {
    let raw = b"Content-Type: multipart/related; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:pic\">\r\n\
--b\r\nContent-Type: image/gif\r\nContent-ID: <pic>\r\nContent-Transfer-Encoding: base64\r\n\r\n\
R0lGODlh\r\n--b--\r\n";
    let v = view(raw);
    assert_eq!(v.inline.len(), 1);
    assert_eq!(v.inline[0].file_name, "pic");
    assert_eq!(v.inline[0].content_id, "pic");
    assert_eq!(v.inline[0].size, 6);
}

#[test]
fn text_attachment_keeps_its_charset_bytes() {
    let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n\
--b\r\nContent-Type: text/plain; charset=iso-8859-1; name=notes.txt\r\n\
Content-Disposition: attachment\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
caf=E9\r\n--b--\r\n";
    let v = view(raw);
    assert_eq!(v.text, "body");
    assert_eq!(v.attachments[0].file_name, "notes.txt");
    assert_eq!(v.attachments[0].size, 4, "café in ISO-8859-1 is four bytes");
    assert_eq!(v.attachments[0].checksums, Checksums::of(b"caf\xe9"));
}

#[test]
fn attachment_serialises_as_mailpit() {
    let a = Attachment {
        part_id: "2".into(),
        file_name: "a.pdf".into(),
        content_type: "application/pdf".into(),
        content_id: String::new(),
        size: 5,
        checksums: Checksums::of(b"hello"),
    };
    let json = serde_json::to_value(&a).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({
            "PartID": "2", "FileName": "a.pdf", "ContentType": "application/pdf",
            "ContentID": "", "Size": 5,
            "Checksums": {
                "MD5": "5d41402abc4b2a76b9719d911017c592",
                "SHA1": "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
                "SHA256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            }
        })
    );
}

#[test]
fn garbage_gives_an_empty_view() {
    assert_eq!(view(b""), View::default());
    let v = view(b"\x00\xff\xfe not a message");
    assert!(v.attachments.is_empty());
}

/// Every reader on every prefix of a real message, and on copies with bytes
/// spoiled: none may panic (stored bytes are whatever a client sent).
#[test]
fn never_panics_on_mangled_messages() {
    use crate::message::{extract::extract, headers::headers, html::rewrite_cid, part::part};
    let mut state: u32 = 0x9e37_79b9;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut inputs: Vec<Vec<u8>> = (0..RICH.len())
        .step_by(7)
        .map(|n| RICH[..n].to_vec())
        .collect();
    for _ in 0..200 {
        let mut spoiled = RICH.to_vec();
        for _ in 0..8 {
            let at = next() as usize % spoiled.len();
            spoiled[at] = b"\r\n=-<>\"';:@ \x00\xff9"[next() as usize % 15];
        }
        inputs.push(spoiled);
    }
    for raw in &inputs {
        let v = view(raw);
        let _ = headers(raw);
        let found = extract(&v.text, &v.html);
        assert!(found.codes.iter().all(|c| (4..=8).contains(&c.len())));
        let cids: Vec<(String, String)> = v
            .inline
            .iter()
            .map(|a| (a.content_id.clone(), a.part_id.clone()))
            .collect();
        let _ = rewrite_cid(&v.html, "id", &cids);
        for listed in v.inline.iter().chain(&v.attachments) {
            assert!(part(raw, &listed.part_id).is_some(), "{}", listed.part_id);
        }
    }
}
