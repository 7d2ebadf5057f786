//! What a test wants out of a message without parsing it itself: the links it
//! carries (to click a confirmation link) and the one-time codes it shows (to
//! type a verification code). The codes are found by [`codes`](super::codes).

use html5gum::{DefaultEmitter, Token, Tokenizer};
use serde::Serialize;

use super::codes::codes;

/// The links and one-time codes of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Extracted {
    /// Every distinct http(s) URL, in order of appearance: the HTML's href and
    /// src attributes and bare URLs in its text first, then bare URLs in the
    /// plain text (Mailpit's link check reads them in that order).
    #[serde(rename = "Links")]
    pub links: Vec<String>,
    /// Every distinct one-time code, digits only, in order of appearance.
    #[serde(rename = "Codes")]
    pub codes: Vec<String>,
}

/// Extracts links and codes from a message's text and HTML bodies (as
/// [`view`](super::view::view) gives them). Codes come from the text; when it
/// has none, from the HTML read as text with one line per block and table
/// cell (mail-parser's rendering runs cells together: "code482913Order").
pub fn extract(text: &str, html: &str) -> Extracted {
    let mut links = Vec::new();
    let mut html_text = String::new();
    if !html.is_empty() {
        read_html(html, &mut links, &mut html_text);
    }
    for url in bare_urls(text) {
        push_unique(&mut links, url);
    }
    let mut found = codes(text);
    if found.is_empty() {
        found = codes(&html_text);
    }
    Extracted {
        links,
        codes: found,
    }
}

/// Elements that start a new line when HTML is read as text.
const BLOCKS: &str = "\
    address article aside blockquote br center dd div dl dt figcaption figure footer form \
    h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul";

/// Elements whose content is not text a reader sees.
const HIDDEN: &str = "script style title template";

/// One pass over the HTML: href and src attributes (entities decoded by the
/// tokenizer) and bare URLs in text go to `links` in document order; the text
/// goes to `text`, whitespace collapsed, a line per block.
fn read_html(html: &str, links: &mut Vec<String>, text: &mut String) {
    let mut emitter = DefaultEmitter::<()>::default();
    emitter.naively_switch_states(true);
    let mut hidden: Option<Vec<u8>> = None;
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        match token {
            Token::StartTag(tag) => {
                if listed(HIDDEN, &tag.name) && !tag.self_closing {
                    hidden = Some(tag.name.to_vec());
                }
                if listed(BLOCKS, &tag.name) {
                    text.push('\n');
                }
                for name in [&b"href"[..], b"src"] {
                    if let Some(value) = tag.attributes.get(name) {
                        let value = String::from_utf8_lossy(&value.value);
                        // Browsers drop surrounding whitespace and any tab or
                        // newline inside a URL (WHATWG URL parsing).
                        let url: String = value
                            .trim()
                            .chars()
                            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                            .collect();
                        if is_http_url(&url) {
                            push_unique(links, url);
                        }
                    }
                }
            }
            Token::EndTag(tag) => {
                if hidden.as_deref() == Some(tag.name.as_slice()) {
                    hidden = None;
                }
                if listed(BLOCKS, &tag.name) {
                    text.push('\n');
                }
            }
            Token::String(chunk) if hidden.is_none() => {
                let chunk = String::from_utf8_lossy(&chunk.value);
                for url in bare_urls(&chunk) {
                    push_unique(links, url);
                }
                for c in chunk.chars() {
                    if !c.is_whitespace() {
                        text.push(c);
                    } else if !text.ends_with([' ', '\n']) && !text.is_empty() {
                        text.push(' ');
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether the tag name is one of the space-separated names of `list`.
fn listed(list: &str, name: &[u8]) -> bool {
    list.split_whitespace().any(|item| item.as_bytes() == name)
}

/// http:// or https:// (any case) followed by a host.
fn is_http_url(url: &str) -> bool {
    let rest = strip_scheme(url);
    rest.is_some_and(|rest| {
        rest.chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '[')
    })
}

fn strip_scheme(url: &str) -> Option<&str> {
    ["http://", "https://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    })
}

/// http(s) URLs written out in plain text. A URL starts at a word boundary and
/// runs over the characters URLs are made of; trailing punctuation that ends a
/// sentence (`.`, `,`, `!`, …) and a closing bracket with no opening one inside
/// the URL are left out, so "(see https://x.test/a)." gives `https://x.test/a`.
pub fn bare_urls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(offset) = find_scheme(&text[i..]) {
        let start = i + offset;
        let boundary = start == 0 || !text[..start].chars().next_back().is_some_and(is_word_char);
        let len = text[start..]
            .find(|c: char| !is_url_char(c))
            .unwrap_or(text.len() - start);
        let url = trim_url(&text[start..start + len]);
        if boundary && is_http_url(url) {
            out.push(url.to_owned());
        }
        i = start + len.max(1);
        while i < bytes.len() && !text.is_char_boundary(i) {
            i += 1;
        }
    }
    out
}

/// The byte offset of the next "http://" or "https://" in any case.
fn find_scheme(text: &str) -> Option<usize> {
    let lower = text.as_bytes();
    (0..lower.len()).find(|&i| {
        let rest = &lower[i..];
        rest.len() >= 7
            && (rest[..7].eq_ignore_ascii_case(b"http://")
                || rest.len() >= 8 && rest[..8].eq_ignore_ascii_case(b"https://"))
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// RFC 3986 unreserved, reserved and '%', plus letters beyond ASCII (IRIs).
fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
        || (!c.is_ascii() && c.is_alphanumeric())
}

fn trim_url(mut url: &str) -> &str {
    loop {
        let Some(last) = url.chars().next_back() else {
            return url;
        };
        let unbalanced = match last {
            ')' => url.matches('(').count() < url.matches(')').count(),
            ']' => url.matches('[').count() < url.matches(']').count(),
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            _ => false,
        };
        if !unbalanced {
            return url;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_from_html_then_text() {
        let html = r#"<p><a href="https://example.com/confirm?t=abc&amp;u=1">Confirm</a>
<img src="http://cdn.example.com/logo.png"> <a href="mailto:x@y">mail</a>
<a href="  https://example.com/spaced  ">s</a> <a href="/relative">r</a>
Visit https://example.com/in-text.</p><script>var u = "https://example.com/script";</script>"#;
        let text = "Confirm: https://example.com/confirm?t=abc&u=1\nOr https://example.com/other";
        assert_eq!(
            extract(text, html).links,
            vec![
                "https://example.com/confirm?t=abc&u=1",
                "http://cdn.example.com/logo.png",
                "https://example.com/spaced",
                "https://example.com/in-text",
                "https://example.com/other",
            ]
        );
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_a_url() {
        let text = "See https://example.com/a. Then (https://example.com/b), \
and https://en.wikipedia.org/wiki/Rust_(programming_language)! Also \
<https://example.com/c>, \"https://example.com/d\"; https://example.com/e?x=1&y=2,";
        assert_eq!(
            bare_urls(text),
            vec![
                "https://example.com/a",
                "https://example.com/b",
                "https://en.wikipedia.org/wiki/Rust_(programming_language)",
                "https://example.com/c",
                "https://example.com/d",
                "https://example.com/e?x=1&y=2",
            ]
        );
    }

    #[test]
    fn not_urls() {
        assert!(bare_urls("xhttps://example.com ftp://example.com http:// https://").is_empty());
        assert!(bare_urls("").is_empty());
    }

    #[test]
    fn unicode_around_urls() {
        assert_eq!(
            bare_urls("Grüße: https://例え.jp/パス»weiter «HTTPS://EXAMPLE.COM/X»"),
            vec!["https://例え.jp/パス", "HTTPS://EXAMPLE.COM/X"]
        );
    }

    #[test]
    fn codes_from_text_or_html() {
        let found = extract("Your verification code is 123456.", "");
        assert_eq!(found.codes, vec!["123456"]);
        let html = "<p>Your one-time code:</p><p><b>735 204</b></p>";
        assert_eq!(extract("", html).codes, vec!["735204"]);
        let table = "<table><tr><td>Your verification code</td></tr>\
<tr><td><strong>482913</strong></td></tr><tr><td>Order 12345678</td></tr></table>";
        assert_eq!(extract("", table).codes, vec!["482913"]);
        let mut links = Vec::new();
        let mut text = String::new();
        read_html(table, &mut links, &mut text);
        assert!(text.contains("Your verification code\n"), "{text:?}");
    }

    #[test]
    fn serialises_as_links_and_codes() {
        let json = serde_json::to_string(&Extracted::default()).expect("serialises");
        assert_eq!(json, r#"{"Links":[],"Codes":[]}"#);
    }
}
