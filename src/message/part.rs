//! One part of a stored message by its part ID, for Mailpit's
//! `GET /api/v1/message/{ID}/part/{PartID}` (downloads, inline pictures,
//! thumbnails).

use mail_parser::MessageParser;

use super::tree::{Role, leaves};

/// A leaf part with its bytes decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// The media type without parameters, lower case (`image/png`).
    pub content_type: String,
    /// The file name, else the Content-ID, else "".
    pub file_name: String,
    /// The Content-ID without `<>`, "" when none.
    pub content_id: String,
    /// The body with base64 or quoted-printable undone. Text stays in the charset
    /// it was sent in (the Content-Type's charset parameter), as enmime leaves
    /// attachments; an attached message is its raw bytes.
    pub data: Vec<u8>,
    /// Whether [`view`](super::view::view) lists the part as inline rather than
    /// as an attachment.
    pub inline: bool,
}

/// The leaf part `part_id` (`"2"`, `"1.2"`: see [`tree`](super::tree)) of the
/// message `raw`. Every leaf resolves, listed or not, including the text and
/// HTML bodies; a multipart container or an unknown ID gives `None`.
pub fn part(raw: &[u8], part_id: &str) -> Option<Part> {
    let message = MessageParser::default().parse(raw)?;
    let all = leaves(&message);
    let leaf = all.iter().find(|leaf| leaf.part_id == part_id)?;
    let content_id = leaf.content_id().to_owned();
    let file_name = match leaf.file_name() {
        "" => content_id.clone(),
        name => name.to_owned(),
    };
    Some(Part {
        content_type: leaf.media_type(),
        file_name,
        content_id,
        data: leaf.data(raw).into_owned(),
        inline: leaf.role() == Role::Inline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::view::view;

    const RICH: &[u8] = include_bytes!("testdata/rich.eml");

    #[test]
    fn every_listed_id_resolves() {
        let v = view(RICH);
        for listed in v.inline.iter().chain(&v.attachments) {
            let p = part(RICH, &listed.part_id).expect("listed part resolves");
            assert_eq!(p.data.len() as u64, listed.size);
            assert_eq!(p.file_name, listed.file_name);
            assert_eq!(p.content_type, listed.content_type);
        }
    }

    #[test]
    fn inline_picture() {
        let p = part(RICH, "1.2").expect("the logo");
        assert!(p.inline);
        assert_eq!(p.content_type, "image/png");
        assert_eq!(p.content_id, "logo@example.com");
        assert!(p.data.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn pdf_attachment() {
        let p = part(RICH, "2").expect("the PDF");
        assert!(!p.inline);
        assert_eq!(p.file_name, "resume.pdf");
        assert!(p.data.starts_with(b"%PDF-1.4\n"));
    }

    #[test]
    fn attached_message_is_its_raw_bytes() {
        let p = part(RICH, "3").expect("the forwarded message");
        assert_eq!(p.content_type, "message/rfc822");
        assert!(p.data.starts_with(b"From: Eve <eve@example.net>\r\n"));
        assert!(p.data.ends_with(b"--inner--\r\n"));
    }

    #[test]
    fn bodies_keep_their_charset() {
        let text = part(RICH, "1.1.1").expect("the text body");
        assert_eq!(text.content_type, "text/plain");
        // Quoted-printable undone, ISO-8859-1 kept: ö is one byte.
        assert!(text.data.starts_with(b"Hallo J\xf6rg,\r\n"));
        let html = part(RICH, "1.1.2").expect("the HTML body");
        assert!(
            html.data
                .starts_with("<html><body><p>Hallo Jörg,".as_bytes())
        );
    }

    #[test]
    fn containers_and_unknown_ids_are_none() {
        for id in ["", "0", "1", "1.1", "9", "2.1", "3.1", "x"] {
            assert_eq!(part(RICH, id), None, "{id:?}");
        }
    }

    #[test]
    fn single_part_message_is_part_one() {
        let raw = b"Subject: scan\r\nContent-Type: image/gif; name=scan.gif\r\n\
Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n";
        let p = part(raw, "1").expect("the only part");
        assert_eq!(p.data, b"GIF89a");
        assert_eq!(p.file_name, "scan.gif");
        assert_eq!(view(raw).attachments[0].part_id, "1");
    }
}
