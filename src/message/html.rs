//! Rewriting an HTML body for display in the web UI: `cid:` references to
//! inline parts become links to Mailpit's part endpoint, so the browser can
//! load the pictures the message carries. And HTML as plain text, for
//! snippets and messages without a text part.

use html5gum::{DefaultEmitter, Token, Tokenizer};

/// Elements a browser shows on a line of their own.
const BLOCKS: [&str; 22] = [
    "address",
    "article",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "p",
    "section",
    "table",
    "tr",
];

/// The text of an HTML body. Block elements are kept apart by a space, as a
/// browser keeps them apart by a line: `<h1>Hi</h1><p>Bye</p>` reads "Hi Bye",
/// not "HiBye".
pub fn to_text(html: &str) -> String {
    let mut spaced = String::with_capacity(html.len() + html.len() / 16);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        spaced.push_str(&rest[..at]);
        let tag = &rest[at + 1..];
        let name = tag.strip_prefix('/').unwrap_or(tag);
        let end = name
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(name.len());
        if BLOCKS
            .iter()
            .any(|block| name[..end].eq_ignore_ascii_case(block))
        {
            spaced.push(' ');
        }
        spaced.push('<');
        rest = tag;
    }
    spaced.push_str(rest);
    mail_parser::decoders::html::html_to_text(&spaced)
}

/// Attributes that may hold a `cid:` URL: `src` and `href`, and the old
/// `background` of tables and cells, which mailers still emit.
const URL_ATTRIBUTES: [&[u8]; 3] = [b"src", b"href", b"background"];

/// Replaces every `cid:<content-id>` in an src, href or background attribute
/// with `/api/v1/message/{id}/part/{part_id}`. `parts` pairs each Content-ID
/// (without `<>`) with its part ID. Content-IDs match exactly first, then
/// ignoring ASCII case; `cid:` URLs are percent-decoded first (RFC 2392).
/// References to unknown Content-IDs, and all other markup, are left byte for
/// byte as they were.
pub fn rewrite_cid(html: &str, id: &str, parts: &[(String, String)]) -> String {
    if parts.is_empty() || !contains_ignore_case(html, "cid:") {
        return html.to_owned();
    }
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut emitter = DefaultEmitter::<usize>::new_with_span();
    // Script and style contents are text, not tags.
    emitter.naively_switch_states(true);
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(Token::StartTag(tag)) = token else {
            continue;
        };
        for (name, value) in &tag.attributes {
            if !URL_ATTRIBUTES.contains(&name.as_slice()) {
                continue;
            }
            let decoded = String::from_utf8_lossy(&value.value);
            let Some(part_id) = cid_target(decoded.trim(), parts) else {
                continue;
            };
            let Some((start, end, quoted)) = value_range(html, value.span.start, value.span.end)
            else {
                continue;
            };
            let url = escape(&format!("/api/v1/message/{id}/part/{part_id}"));
            edits.push((start, end, if quoted { url } else { format!("\"{url}\"") }));
        }
    }
    edits.sort_by_key(|&(start, _, _)| start);
    let mut out = String::with_capacity(html.len());
    let mut done = 0;
    for (start, end, replacement) in edits {
        if start < done {
            continue;
        }
        out.push_str(&html[done..start]);
        out.push_str(&replacement);
        done = end;
    }
    out.push_str(&html[done..]);
    out
}

/// The part ID a `cid:` URL refers to.
fn cid_target<'p>(url: &str, parts: &'p [(String, String)]) -> Option<&'p str> {
    let scheme = url.get(..4)?;
    if !scheme.eq_ignore_ascii_case("cid:") {
        return None;
    }
    let wanted = percent_decode(&url[4..]);
    let wanted = wanted.trim_start_matches('<').trim_end_matches('>');
    parts
        .iter()
        .find(|(cid, _)| cid == wanted)
        .or_else(|| {
            parts
                .iter()
                .find(|(cid, _)| cid.eq_ignore_ascii_case(wanted))
        })
        .map(|(_, part_id)| part_id.as_str())
}

/// The byte range of an attribute's value inside `html`, given the span the
/// tokenizer reports for the whole attribute (`name = "value"`), and whether
/// the value is quoted. The span's end is not exact for unquoted values, so the
/// value is found again from the '='.
fn value_range(html: &str, span_start: usize, span_end: usize) -> Option<(usize, usize, bool)> {
    let attribute = html.get(span_start..span_end.min(html.len()))?;
    let equals = attribute.find('=')?;
    let after = &attribute[equals + 1..];
    let value_start = span_start + equals + 1 + (after.len() - after.trim_start().len());
    let rest = &html[value_start..];
    match rest.chars().next()? {
        quote @ ('"' | '\'') => {
            let close = rest[1..].find(quote)?;
            Some((value_start + 1, value_start + 1 + close, true))
        }
        _ => {
            let len = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '>')
                .unwrap_or(rest.len());
            Some((value_start, value_start + len, false))
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes text for a quoted HTML attribute value.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> Vec<(String, String)> {
        vec![
            ("logo@example.com".into(), "1.2".into()),
            ("Banner.PNG@x".into(), "1.3".into()),
            ("a b".into(), "4".into()),
        ]
    }

    #[test]
    fn rewrites_src_and_href() {
        let html = r#"<p><img alt="x" src="cid:logo@example.com"><a href='cid:logo@example.com'>l</a></p>"#;
        assert_eq!(
            rewrite_cid(html, "abc", &parts()),
            r#"<p><img alt="x" src="/api/v1/message/abc/part/1.2"><a href='/api/v1/message/abc/part/1.2'>l</a></p>"#
        );
    }

    #[test]
    fn unquoted_case_and_spacing() {
        let html = "<IMG SRC = cid:logo@example.com width=10><td background=CID:banner.png@x>";
        assert_eq!(
            rewrite_cid(html, "m1", &parts()),
            "<IMG SRC = \"/api/v1/message/m1/part/1.2\" width=10>\
<td background=\"/api/v1/message/m1/part/1.3\">"
        );
    }

    #[test]
    fn percent_encoded_and_bracketed_ids() {
        let html = r#"<img src="cid:a%20b"><img src="cid:&lt;logo@example.com&gt;">"#;
        assert_eq!(
            rewrite_cid(html, "m", &parts()),
            r#"<img src="/api/v1/message/m/part/4"><img src="/api/v1/message/m/part/1.2">"#
        );
    }

    #[test]
    fn leaves_everything_else_alone() {
        let html = "<!doctype html><p title=\"cid:logo@example.com\">cid:logo@example.com</p>\
<img src=\"cid:unknown@x\"><script>var s = '<img src=\"cid:logo@example.com\">';</script>\
<img src=\"https://example.com/cid:logo@example.com\">é";
        assert_eq!(rewrite_cid(html, "m", &parts()), html);
    }

    #[test]
    fn crlf_and_multibyte_text_before_the_tag() {
        let html = "<p>Grüße\r\n\r\nçà</p>\r\n<img\r\n  alt=\"é=1\"\r\n  src=\"cid:logo@example.com\">\r\n";
        assert_eq!(
            rewrite_cid(html, "m", &parts()),
            "<p>Grüße\r\n\r\nçà</p>\r\n<img\r\n  alt=\"é=1\"\r\n  src=\"/api/v1/message/m/part/1.2\">\r\n"
        );
    }

    #[test]
    fn message_id_is_escaped() {
        let html = r#"<img src="cid:logo@example.com">"#;
        assert_eq!(
            rewrite_cid(html, "a\"b&c", &parts()),
            r#"<img src="/api/v1/message/a&quot;b&amp;c/part/1.2">"#
        );
    }

    #[test]
    fn no_parts_or_no_cid_is_a_copy() {
        assert_eq!(rewrite_cid("<img src=cid:x>", "m", &[]), "<img src=cid:x>");
        assert_eq!(rewrite_cid("<p>hi</p>", "m", &parts()), "<p>hi</p>");
    }
}
