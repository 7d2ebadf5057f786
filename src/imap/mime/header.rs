//! Header fields as IMAP reports them: split and unfolded (RFC 5322 §2.2),
//! and the structured MIME fields (Content-Type, Content-Disposition,
//! Content-Language) tokenised per RFC 2045 §5.1, with RFC 2231 continuations
//! joined.

/// One header field, borrowed from the header bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field<'h> {
    pub name: &'h [u8],
    /// The raw value after the colon, folds included, final line break not.
    pub value: &'h [u8],
    /// The whole field with its final line break, as it appears.
    pub raw: &'h [u8],
    /// Where `raw` starts in the header block.
    pub offset: usize,
}

/// The fields of a header block, in order. Lines that are neither a field nor
/// a continuation are skipped; the empty line ends the block.
pub(super) fn fields<'a>(header: &'a [u8]) -> Vec<Field<'a>> {
    let mut out: Vec<Field<'a>> = Vec::new();
    let mut pos = 0;
    let mut current: Option<(usize, usize)> = None; // (field start, colon)
    let finish = |current: Option<(usize, usize)>, end: usize, out: &mut Vec<Field<'a>>| {
        if let Some((start, colon)) = current {
            let raw = &header[start..end];
            let value_end = if raw.ends_with(b"\r\n") {
                end - 2
            } else if raw.ends_with(b"\n") {
                end - 1
            } else {
                end
            };
            out.push(Field {
                name: trim_end(&header[start..colon]),
                value: &header[colon + 1..value_end.max(colon + 1)],
                raw,
                offset: start,
            });
        }
    };
    while pos < header.len() {
        let end = memchr::memchr(b'\n', &header[pos..]).map_or(header.len(), |i| pos + i + 1);
        let line = &header[pos..end];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            pos = end;
            continue;
        }
        finish(current.take(), pos, &mut out);
        current = memchr::memchr(b':', line).map(|colon| (pos, pos + colon));
        pos = end;
    }
    finish(current, pos, &mut out);
    out
}

/// The first field named `name` (case-insensitive): a Content-* field that
/// occurs twice counts once, as in Dovecot.
pub(super) fn first<'h>(fields: &[Field<'h>], name: &str) -> Option<Field<'h>> {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .copied()
}

/// The last field named `name` (case-insensitive): an envelope field that
/// occurs twice takes its last value, as in Dovecot.
pub(super) fn last<'h>(fields: &[Field<'h>], name: &str) -> Option<Field<'h>> {
    fields
        .iter()
        .rev()
        .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .copied()
}

/// Whether a header block ends with the empty line that separates it from
/// a body.
pub(super) fn has_blank_line(header: &[u8]) -> bool {
    matches!(header, b"\r\n" | b"\n") || header.ends_with(b"\n\r\n") || header.ends_with(b"\n\n")
}

/// A field value unfolded (line breaks removed, RFC 5322 §2.2.3) with the
/// white space after the colon dropped. The white space that starts a
/// continuation line stays, even when the first line is empty (as Dovecot
/// keeps it).
pub(super) fn unfold(value: &[u8]) -> Vec<u8> {
    let mut value = value;
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect()
}

pub(super) fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// An attribute and its value.
pub(super) type Param = (Vec<u8>, Vec<u8>);

/// A parsed Content-Type, cases as sent.
#[derive(Debug, Clone)]
pub(super) struct ContentType {
    pub kind: String,
    pub subtype: String,
    pub params: Vec<Param>,
}

impl ContentType {
    /// RFC 2045 §5.2 text/plain; charset=us-ascii, or message/rfc822 in a
    /// multipart/digest (RFC 2046 §5.1.5).
    pub fn default_for(in_digest: bool) -> Self {
        if in_digest {
            ContentType {
                kind: "message".into(),
                subtype: "rfc822".into(),
                params: Vec::new(),
            }
        } else {
            ContentType {
                kind: "text".into(),
                subtype: "plain".into(),
                params: vec![(b"charset".to_vec(), b"us-ascii".to_vec())],
            }
        }
    }

    /// `type "/" subtype *(";" parameter)`; None when there is no type and
    /// subtype.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let mut lexer = Lexer::new(value);
        let kind = lexer.token()?;
        if !lexer.eat(b'/') {
            return None;
        }
        let subtype = lexer.token()?;
        Some(ContentType {
            kind: String::from_utf8_lossy(kind).into_owned(),
            subtype: String::from_utf8_lossy(subtype).into_owned(),
            params: lexer.params(),
        })
    }

    /// A text type sent without a charset gets charset=us-ascii after its
    /// other parameters (RFC 2045 §5.2), as Dovecot reports it.
    pub fn with_default_charset(mut self) -> Self {
        if self.is_text() && param(&self.params, "charset").is_none() {
            self.params
                .push((b"charset".to_vec(), b"us-ascii".to_vec()));
        }
        self
    }

    pub fn is_multipart(&self) -> bool {
        self.kind.eq_ignore_ascii_case("multipart")
    }

    pub fn is_text(&self) -> bool {
        self.kind.eq_ignore_ascii_case("text")
    }

    pub fn is_message_rfc822(&self) -> bool {
        self.kind.eq_ignore_ascii_case("message") && self.subtype.eq_ignore_ascii_case("rfc822")
    }

    pub fn boundary(&self) -> Option<&[u8]> {
        param(&self.params, "boundary")
    }
}

/// The value of the parameter `name` (case-insensitive).
pub(super) fn param<'p>(params: &'p [Param], name: &str) -> Option<&'p [u8]> {
    params
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.as_slice())
}

/// A parsed Content-Disposition: its type and parameters.
pub(super) fn disposition(value: &[u8]) -> Option<(Vec<u8>, Vec<Param>)> {
    let mut lexer = Lexer::new(value);
    let kind = lexer.token()?.to_vec();
    Some((kind, lexer.params()))
}

/// Content-Transfer-Encoding: one token, comments allowed around it;
/// anything else is no encoding at all.
pub(super) fn transfer_encoding(value: &[u8]) -> Option<Vec<u8>> {
    let mut lexer = Lexer::new(value);
    let token = lexer.token()?.to_vec();
    lexer.skip_cfws();
    lexer.at_end().then_some(token)
}

/// Content-Language: the comma-separated language tags (RFC 3282).
pub(super) fn languages(value: &[u8]) -> Vec<Vec<u8>> {
    let mut lexer = Lexer::new(value);
    let mut out = Vec::new();
    loop {
        lexer.skip_cfws();
        if lexer.eat(b',') {
            continue;
        }
        match lexer.token() {
            Some(tag) => out.push(tag.to_vec()),
            None => break,
        }
    }
    out
}

/// A tokenizer for RFC 2045 structured values.
pub(super) struct Lexer<'v> {
    s: &'v [u8],
    pos: usize,
}

impl<'v> Lexer<'v> {
    pub fn new(s: &'v [u8]) -> Self {
        Lexer { s, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// Skips white space, line breaks and (nested) comments.
    pub fn skip_cfws(&mut self) {
        while let Some(&b) = self.s.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'(' => self.skip_comment(),
                _ => break,
            }
        }
    }

    fn skip_comment(&mut self) {
        let mut depth = 0usize;
        while let Some(&b) = self.s.get(self.pos) {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// Skips CFWS, then consumes `c` if it is next.
    pub fn eat(&mut self, c: u8) -> bool {
        self.skip_cfws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// An RFC 2045 token: anything but controls, space and tspecials.
    pub fn token(&mut self) -> Option<&'v [u8]> {
        self.skip_cfws();
        let start = self.pos;
        while let Some(&b) = self.s.get(self.pos) {
            if b <= b' ' || b == 0x7f || b"()<>@,;:\\\"/[]?=".contains(&b) {
                break;
            }
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.s[start..self.pos])
    }

    /// A quoted string without its quotes and escapes; the caller has seen
    /// the opening quote.
    fn quoted(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.pos += 1;
        while let Some(&b) = self.s.get(self.pos) {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(&c) = self.s.get(self.pos) {
                        out.push(c);
                        self.pos += 1;
                    }
                }
                b'\r' | b'\n' => {}
                _ => out.push(b),
            }
        }
        out
    }

    /// `*(";" attribute "=" value)`, tolerant of stray separators; RFC 2231
    /// continuations (`name*0`, `name*1*`) joined into one `name` or
    /// `name*` parameter after the others.
    pub fn params(&mut self) -> Vec<Param> {
        let mut plain: Vec<Param> = Vec::new();
        let mut sections: Vec<(Vec<u8>, u32, bool, Vec<u8>)> = Vec::new();
        loop {
            self.skip_cfws();
            if self.pos >= self.s.len() {
                break;
            }
            if !self.eat(b';') {
                // Something unexpected: skip one byte and look for the next
                // parameter rather than give up on the rest.
                self.pos += 1;
                continue;
            }
            let Some(attribute) = self.token() else {
                continue;
            };
            if !self.eat(b'=') {
                continue;
            }
            self.skip_cfws();
            let value = match self.s.get(self.pos) {
                Some(b'"') => self.quoted(),
                _ => self.token().map(<[u8]>::to_vec).unwrap_or_default(),
            };
            match continuation(attribute) {
                Some((name, index, extended)) => {
                    sections.push((name.to_ascii_lowercase(), index, extended, value));
                }
                None => plain.push((attribute.to_vec(), value)),
            }
        }
        sections.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        let mut joined: Vec<(Vec<u8>, bool, Vec<u8>)> = Vec::new();
        for (name, _, extended, value) in sections {
            match joined.last_mut() {
                Some((last, any_extended, acc)) if *last == name => {
                    *any_extended |= extended;
                    acc.extend_from_slice(&value);
                }
                _ => joined.push((name, extended, value)),
            }
        }
        plain.extend(joined.into_iter().map(|(mut name, extended, value)| {
            if extended {
                name.push(b'*');
            }
            (name, value)
        }));
        plain
    }
}

/// `name*N` or `name*N*`: the name, N and whether the section is
/// extended. A bare `name*` is an ordinary parameter.
fn continuation(attribute: &[u8]) -> Option<(&[u8], u32, bool)> {
    let (rest, extended) = match attribute.strip_suffix(b"*") {
        Some(rest) => (rest, true),
        None => (attribute, false),
    };
    let star = memchr::memrchr(b'*', rest)?;
    let digits = &rest[star + 1..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let index = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((&rest[..star], index, extended))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_folds_in_raw_and_value() {
        let h = b"Subject: a\r\n b\r\nFrom: x@y\r\n\r\n";
        let f = fields(h);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, b"Subject");
        assert_eq!(f[0].value, b" a\r\n b");
        assert_eq!(f[0].raw, b"Subject: a\r\n b\r\n");
        assert_eq!(unfold(f[0].value), b"a b");
    }

    #[test]
    fn content_type_with_quoted_and_continued_params() {
        let ct = ContentType::parse(
            b" text/plain (comment); charset=\"utf-8\";\r\n name*0*=utf-8''a%20; name*1=b",
        )
        .expect("parses");
        assert_eq!(ct.kind, "text");
        assert_eq!(ct.subtype, "plain");
        assert_eq!(
            ct.params,
            vec![
                (b"charset".to_vec(), b"utf-8".to_vec()),
                (b"name*".to_vec(), b"utf-8''a%20b".to_vec())
            ]
        );
    }

    #[test]
    fn languages_split_on_commas() {
        assert_eq!(
            languages(b" en, de (x)"),
            vec![b"en".to_vec(), b"de".to_vec()]
        );
    }
}
