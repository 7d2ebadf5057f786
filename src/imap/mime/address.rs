//! RFC 5322 §3.4 address lists as IMAP envelope addresses (RFC 3501 §7.4.2):
//! display names unquoted but otherwise as sent (encoded words stay encoded),
//! an empty name as NIL, groups as a start marker (mailbox = group name, host
//! NIL) and an end marker (all NIL), and Dovecot's MISSING_MAILBOX and
//! MISSING_DOMAIN for what a broken address lacks (`<>` included).

/// One IMAP address structure; `None` is NIL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Address {
    pub name: Option<Vec<u8>>,
    pub route: Option<Vec<u8>>,
    pub mailbox: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
}

/// Dovecot's placeholders for the parts a broken address lacks.
const MISSING_MAILBOX: &[u8] = b"MISSING_MAILBOX";
const MISSING_DOMAIN: &[u8] = b"MISSING_DOMAIN";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An atom (dots included) or a quoted string's content.
    Word {
        text: Vec<u8>,
        quoted: bool,
    },
    Special(u8),
    Comment(Vec<u8>),
    /// `[...]` with its brackets.
    Literal(Vec<u8>),
}

fn tokenize(s: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'"' => {
                let mut text = Vec::new();
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    match s[i] {
                        b'\\' if i + 1 < s.len() => {
                            text.push(s[i + 1]);
                            i += 2;
                        }
                        b'\r' | b'\n' => i += 1,
                        c => {
                            text.push(c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token::Word { text, quoted: true });
            }
            b'(' => {
                let mut depth = 0usize;
                let mut text = Vec::new();
                while i < s.len() {
                    let c = s[i];
                    i += 1;
                    match c {
                        b'\\' if i < s.len() => {
                            text.push(s[i]);
                            i += 1;
                            continue;
                        }
                        b'(' => {
                            depth += 1;
                            if depth == 1 {
                                continue;
                            }
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        b'\r' | b'\n' => continue,
                        _ => {}
                    }
                    text.push(c);
                }
                out.push(Token::Comment(text));
            }
            b'[' => {
                let end = memchr::memchr(b']', &s[i..]).map_or(s.len(), |at| i + at + 1);
                out.push(Token::Literal(s[i..end].to_vec()));
                i = end;
            }
            b'<' | b'>' | b'@' | b',' | b';' | b':' | b'\\' | b']' | b')' => {
                out.push(Token::Special(b));
                i += 1;
            }
            _ => {
                let start = i;
                while i < s.len() && !b" \t\r\n\"(<>@,;:\\[]()".contains(&s[i]) {
                    i += 1;
                }
                out.push(Token::Word {
                    text: s[start..i].to_vec(),
                    quoted: false,
                });
            }
        }
    }
    out
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    out: Vec<Address>,
}

/// Parses an address list into IMAP address structures, group markers
/// included.
pub(super) fn parse_list(value: &[u8]) -> Vec<Address> {
    let mut p = Parser {
        tokens: tokenize(value),
        pos: 0,
        out: Vec::new(),
    };
    p.list();
    p.out
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn special(&self) -> Option<u8> {
        match self.peek() {
            Some(Token::Special(c)) => Some(*c),
            _ => None,
        }
    }

    fn skip_comments(&mut self) -> Option<Vec<u8>> {
        let mut last = None;
        while let Some(Token::Comment(text)) = self.peek() {
            last = Some(text.clone());
            self.pos += 1;
        }
        last
    }

    fn list(&mut self) {
        let mut in_group = false;
        while self.pos < self.tokens.len() {
            match self.special() {
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(b';') => {
                    self.pos += 1;
                    if in_group {
                        self.out.push(Address::default());
                        in_group = false;
                    }
                    continue;
                }
                _ => {}
            }
            let before = self.pos;
            let phrase = self.phrase();
            match self.special() {
                Some(b':') if !in_group => {
                    self.pos += 1;
                    self.out.push(Address {
                        mailbox: Some(phrase.display.unwrap_or_default()),
                        ..Address::default()
                    });
                    in_group = true;
                }
                Some(b'<') => {
                    self.pos += 1;
                    let mut address = self.angle_addr();
                    address.name = phrase.display.or_else(|| self.skip_comments());
                    self.out.push(address);
                }
                Some(b'@') => {
                    self.pos += 1;
                    let host = self.domain();
                    let comment = self.skip_comments().or(phrase.comment);
                    self.out.push(Address {
                        name: comment,
                        route: None,
                        mailbox: Some(phrase.local),
                        host: Some(host.unwrap_or_else(|| MISSING_DOMAIN.to_vec())),
                    });
                }
                _ => {
                    if !phrase.local.is_empty() {
                        self.out.push(Address {
                            name: phrase.comment,
                            route: None,
                            mailbox: Some(phrase.local),
                            host: Some(MISSING_DOMAIN.to_vec()),
                        });
                    }
                    if self.pos == before {
                        // A token that starts nothing: skip it.
                        self.pos += 1;
                    }
                }
            }
        }
        if in_group {
            self.out.push(Address::default());
        }
    }

    /// Words up to a special: as a display name (joined with spaces,
    /// quotes removed) and as a local part (joined as written).
    fn phrase(&mut self) -> Phrase {
        let mut words: Vec<Vec<u8>> = Vec::new();
        let mut local = Vec::new();
        let mut comment = None;
        while let Some(token) = self.peek() {
            match token {
                // A quoted local part is given without its quotes, as
                // Dovecot does.
                Token::Word { text, .. } => {
                    local.extend_from_slice(text);
                    words.push(text.clone());
                }
                Token::Comment(text) => comment = Some(text.clone()),
                Token::Literal(text) => {
                    local.extend_from_slice(text);
                    words.push(text.clone());
                }
                Token::Special(_) => break,
            }
            self.pos += 1;
        }
        Phrase {
            display: Some(words.join(&b' ')).filter(|d| !d.is_empty()),
            local,
            comment,
        }
    }

    /// `[route ":"] local "@" domain ">"` after the `<`.
    fn angle_addr(&mut self) -> Address {
        let mut route = Vec::new();
        if self.special() == Some(b'@') {
            // Obsolete source route (RFC 5322 §4.4): `@a,@b:`.
            while let Some(token) = self.peek() {
                match token {
                    Token::Special(b':') => {
                        self.pos += 1;
                        break;
                    }
                    Token::Special(b'>') => break,
                    Token::Special(c) => route.push(*c),
                    Token::Word { text, .. } | Token::Literal(text) => {
                        route.extend_from_slice(text)
                    }
                    Token::Comment(_) => {}
                }
                self.pos += 1;
            }
        }
        let local = self.phrase().local;
        let host = if self.special() == Some(b'@') {
            self.pos += 1;
            self.domain()
        } else {
            None
        };
        // Skip to the closing bracket.
        while let Some(token) = self.peek() {
            let closing = *token == Token::Special(b'>');
            self.pos += 1;
            if closing {
                break;
            }
        }
        Address {
            name: None,
            route: (!route.is_empty()).then_some(route),
            mailbox: Some(if local.is_empty() {
                MISSING_MAILBOX.to_vec()
            } else {
                local
            }),
            host: Some(host.unwrap_or_else(|| MISSING_DOMAIN.to_vec())),
        }
    }

    fn domain(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(token) = self.peek() {
            match token {
                Token::Word { text, .. } | Token::Literal(text) => out.extend_from_slice(text),
                Token::Comment(_) if out.is_empty() => {}
                _ => break,
            }
            self.pos += 1;
        }
        (!out.is_empty()).then_some(out)
    }
}

struct Phrase {
    display: Option<Vec<u8>>,
    local: Vec<u8>,
    comment: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: Option<&str>, mailbox: Option<&str>, host: Option<&str>) -> Address {
        Address {
            name: name.map(|s| s.as_bytes().to_vec()),
            route: None,
            mailbox: mailbox.map(|s| s.as_bytes().to_vec()),
            host: host.map(|s| s.as_bytes().to_vec()),
        }
    }

    #[test]
    fn names_are_unquoted_and_encoded_words_kept() {
        assert_eq!(
            parse_list(b"\"Doe, John\" <john@example.com>, =?utf-8?q?J=C3=B6rg?= <j@x.org>"),
            vec![
                a(Some("Doe, John"), Some("john"), Some("example.com")),
                a(Some("=?utf-8?q?J=C3=B6rg?="), Some("j"), Some("x.org")),
            ]
        );
    }

    #[test]
    fn groups_have_start_and_end_markers() {
        assert_eq!(
            parse_list(b"Team: a@b.c, d@e.f;, undisclosed-recipients:;"),
            vec![
                a(None, Some("Team"), None),
                a(None, Some("a"), Some("b.c")),
                a(None, Some("d"), Some("e.f")),
                a(None, None, None),
                a(None, Some("undisclosed-recipients"), None),
                a(None, None, None),
            ]
        );
    }

    #[test]
    fn a_trailing_comment_names_a_bare_address() {
        assert_eq!(
            parse_list(b"jdoe@example.org (John Doe)"),
            vec![a(Some("John Doe"), Some("jdoe"), Some("example.org"))]
        );
    }
}
