//! The MIME tree of a served message (RFC 2045, RFC 2046): where each entity's
//! header and body lie in the CRLF-normalised bytes, found the way Dovecot's
//! message parser finds them, so that sizes, line counts and sections agree
//! with what a reference IMAP server serves.

use std::ops::Range;

use super::header::{self, ContentType};

/// Entities nested deeper than this are kept as leaves; the limit keeps the
/// recursion bounded on hostile input.
const MAX_DEPTH: usize = 64;

/// One MIME entity: a message, a body part, or a message inside a
/// message/rfc822 part.
#[derive(Debug)]
pub(super) struct Entity {
    /// The header, including the empty line that ends it when there is one.
    pub header: Range<usize>,
    pub body: Range<usize>,
    /// The Content-Type, or the default of the context when there is none
    /// or it cannot be parsed.
    pub content_type: ContentType,
    pub kind: Kind,
}

#[derive(Debug)]
pub(super) enum Kind {
    Leaf,
    /// A multipart body and its parts; never empty.
    Multipart(Vec<Entity>),
    /// A message/rfc822 body: the encapsulated message.
    Message(Box<Entity>),
}

/// A boundary delimiter line found in a body.
#[derive(Debug, Clone, Copy)]
struct Delimiter {
    /// Where the line starts.
    start: usize,
    /// Just past the line's end.
    after: usize,
    /// Which boundary of the stack matched (0 = outermost).
    level: usize,
    close: bool,
}

impl Entity {
    /// Parses a whole message.
    pub fn parse(message: &[u8]) -> Entity {
        Parser { message }.entity(0, &[], false, 0).0
    }

    /// The encapsulated message of a message/rfc822 entity.
    pub fn nested(&self) -> Option<&Entity> {
        match &self.kind {
            Kind::Message(nested) => Some(nested),
            _ => None,
        }
    }
}

struct Parser<'m> {
    message: &'m [u8],
}

impl Parser<'_> {
    /// Parses the entity starting at `start`; returns it and the delimiter
    /// of an enclosing multipart that ended it (None at the end of input).
    fn entity(
        &self,
        start: usize,
        stack: &[&[u8]],
        in_digest: bool,
        depth: usize,
    ) -> (Entity, Option<Delimiter>) {
        let m = self.message;
        let (header, body_start, ended) = self.header(start, stack);
        let fields = header::fields(&m[header.clone()]);
        let content_type = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(b"Content-Type"))
            .and_then(|f| ContentType::parse(f.value))
            .map(ContentType::with_default_charset)
            .unwrap_or_else(|| ContentType::default_for(in_digest));
        if let Some(delimiter) = ended {
            let entity = Entity {
                header,
                body: body_start..body_start,
                content_type,
                kind: Kind::Leaf,
            };
            return (entity, Some(delimiter));
        }
        if depth < MAX_DEPTH && content_type.is_multipart() {
            let digest = content_type.subtype.eq_ignore_ascii_case("digest");
            let mut inner: Vec<&[u8]> = stack.to_vec();
            // Without a boundary no delimiter is its own (usize::MAX): the
            // body runs to the next delimiter of an enclosing multipart.
            let own = match content_type.boundary().filter(|b| !b.is_empty()) {
                Some(boundary) => {
                    inner.push(boundary);
                    inner.len() - 1
                }
                None => usize::MAX,
            };
            let mut children = Vec::new();
            let mut next = find_delimiter(m, body_start, &inner);
            let (body_end, outer) = loop {
                match next {
                    None => break (m.len(), None),
                    Some(d) if d.level == own && !d.close => {
                        let (child, after) = self.entity(d.after, &inner, digest, depth + 1);
                        children.push(child);
                        next = after;
                    }
                    Some(d) if d.level == own => {
                        // The epilogue belongs to the multipart body.
                        let outer = find_delimiter(m, d.after, stack);
                        let end =
                            outer.map_or(m.len(), |o| before_line_end(m, o.start, body_start));
                        break (end, outer);
                    }
                    Some(d) => break (before_line_end(m, d.start, body_start), Some(d)),
                }
            };
            if !children.is_empty() {
                let entity = Entity {
                    header,
                    body: body_start..body_end,
                    content_type,
                    kind: Kind::Multipart(children),
                };
                return (entity, outer);
            }
            // No part at all (no boundary, or one that never occurs): one
            // empty text part, the way Dovecot shows it.
            let empty = Entity {
                header: body_start..body_start,
                body: body_start..body_start,
                content_type: ContentType::default_for(false),
                kind: Kind::Leaf,
            };
            let entity = Entity {
                header,
                body: body_start..body_end,
                content_type,
                kind: Kind::Multipart(vec![empty]),
            };
            return (entity, outer);
        }
        if depth < MAX_DEPTH && content_type.is_message_rfc822() {
            let (nested, after) = self.entity(body_start, stack, false, depth + 1);
            let entity = Entity {
                header,
                body: body_start..nested.body.end.max(body_start),
                content_type,
                kind: Kind::Message(Box::new(nested)),
            };
            return (entity, after);
        }
        let next = find_delimiter(m, body_start, stack);
        let body_end = next.map_or(m.len(), |d| before_line_end(m, d.start, body_start));
        let entity = Entity {
            header,
            body: body_start..body_end,
            content_type,
            kind: Kind::Leaf,
        };
        (entity, next)
    }

    /// The header starting at `start`: its range (with the empty line that
    /// ends it), where the body starts, and the delimiter line that cut the
    /// header short, if one did.
    fn header(&self, start: usize, stack: &[&[u8]]) -> (Range<usize>, usize, Option<Delimiter>) {
        let m = self.message;
        let mut pos = start;
        while pos < m.len() {
            let end = line_end(m, pos);
            let line = &m[pos..end];
            if line == b"\r\n" || line == b"\n" {
                return (start..end, end, None);
            }
            if let Some(d) = delimiter_at(line, pos, end, stack) {
                return (start..pos, pos, Some(d));
            }
            pos = end;
        }
        (start..m.len(), m.len(), None)
    }
}

/// Just past the end of the line starting at `pos`.
fn line_end(m: &[u8], pos: usize) -> usize {
    memchr::memchr(b'\n', &m[pos..]).map_or(m.len(), |i| pos + i + 1)
}

/// RFC 2046 §5.1.1: the line break before a delimiter belongs to the
/// delimiter, not to the part before it.
fn before_line_end(m: &[u8], at: usize, floor: usize) -> usize {
    if at >= floor + 2 && &m[at - 2..at] == b"\r\n" {
        at - 2
    } else if at > floor && m[at - 1] == b'\n' {
        at - 1
    } else {
        at
    }
}

fn delimiter_at(line: &[u8], start: usize, after: usize, stack: &[&[u8]]) -> Option<Delimiter> {
    let rest = line.strip_prefix(b"--")?;
    // The innermost boundary wins when one is a prefix of another.
    stack
        .iter()
        .enumerate()
        .rev()
        .find(|(_, b)| rest.starts_with(b))
        .map(|(level, b)| Delimiter {
            start,
            after,
            level,
            close: rest[b.len()..].starts_with(b"--"),
        })
}

/// The first delimiter line of any boundary in `stack` at or after the line
/// starting at `from`.
fn find_delimiter(m: &[u8], from: usize, stack: &[&[u8]]) -> Option<Delimiter> {
    if stack.is_empty() {
        return None;
    }
    let mut pos = from;
    while pos < m.len() {
        let end = line_end(m, pos);
        if m[pos] == b'-'
            && let Some(d) = delimiter_at(&m[pos..end], pos, end, stack)
        {
            return Some(d);
        }
        pos = end;
    }
    None
}

/// Lines in `bytes` as Dovecot counts them: line breaks. A part's last line
/// has none (its line break belongs to the next delimiter) and is not
/// counted.
pub(super) fn lines(bytes: &[u8]) -> u32 {
    u32::try_from(memchr::memchr_iter(b'\n', bytes).count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_message_has_header_and_body() {
        let m = b"Subject: x\r\n\r\nbody\r\n";
        let e = Entity::parse(m);
        assert_eq!(&m[e.header.clone()], b"Subject: x\r\n\r\n");
        assert_eq!(&m[e.body.clone()], b"body\r\n");
        assert!(matches!(e.kind, Kind::Leaf));
    }

    #[test]
    fn multipart_parts_exclude_the_line_break_before_delimiters() {
        let m = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\ntwo\r\n--b--\r\nepilogue\r\n";
        let e = Entity::parse(m);
        let Kind::Multipart(parts) = &e.kind else {
            panic!("not multipart: {e:?}")
        };
        assert_eq!(parts.len(), 2);
        assert_eq!(&m[parts[0].body.clone()], b"one");
        assert_eq!(
            &m[parts[1].header.clone()],
            b"Content-Type: text/html\r\n\r\n"
        );
        assert_eq!(&m[parts[1].body.clone()], b"two");
        assert_eq!(e.body.end, m.len());
    }

    #[test]
    fn an_outer_boundary_ends_an_unterminated_inner_multipart() {
        let m = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n--o\r\n\r\nb\r\n--o--\r\n";
        let e = Entity::parse(m);
        let Kind::Multipart(parts) = &e.kind else {
            panic!("not multipart")
        };
        assert_eq!(parts.len(), 2);
        assert_eq!(&m[parts[1].body.clone()], b"b");
    }

    #[test]
    fn lines_count_line_breaks() {
        assert_eq!(lines(b""), 0);
        assert_eq!(lines(b"a\r\n"), 1);
        assert_eq!(lines(b"a\r\nb"), 1);
    }
}
