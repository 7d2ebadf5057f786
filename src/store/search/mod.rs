//! The search language: Mailpit's syntax plus `OR`, parentheses,
//! `header:Name:value`, `body:`, `envelope-from:` and `envelope-to:`.
//!
//! Words are ANDed; `"quoted phrases"` match as written; a leading `-` or `!`
//! negates a word or a group. `OR` (upper case) binds tighter than the implicit
//! AND, as in Gmail: `from:a OR from:b subject:x` is `(from:a OR from:b) AND
//! subject:x`. Matching is case-insensitive and by substring, as in Mailpit.
//! [`sql`] turns a parsed [`Query`] into SQL over the message table and its
//! full-text index.

pub(crate) mod sql;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A parsed search.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Term(Term),
    Not(Box<Query>),
    And(Vec<Query>),
    Or(Vec<Query>),
}

/// One condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// Anywhere: subject, addresses, headers, body, attachment names.
    Text(String),
    /// In one part of the message.
    Field(Field, String),
    /// The Message-ID header.
    MessageId(String),
    Tag(String),
    Is(Flag),
    Has(Has),
    /// Size in bytes, exclusive.
    Larger(u64),
    Smaller(u64),
    /// Received before / after this instant.
    Before(DateTime<Utc>),
    After(DateTime<Utc>),
    /// A header by name (case-insensitive) whose value contains the text.
    Header(String, String),
    /// An envelope recipient (RCPT TO) containing the text.
    EnvelopeTo(String),
    /// The envelope sender (MAIL FROM) containing the text.
    EnvelopeFrom(String),
}

/// The parts of a message a field term can look in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    From,
    To,
    Cc,
    Bcc,
    ReplyTo,
    /// Any of From, To, Cc, Bcc and Reply-To.
    Addressed,
    Subject,
    Body,
}

/// `is:` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Read,
    Unread,
    Tagged,
}

/// `has:` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Has {
    Attachment,
    Inline,
}

/// Why a search cannot be run; the text names the problem for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("no search query")]
    Empty,
    #[error("unbalanced parentheses")]
    Unbalanced,
    #[error("unclosed quote")]
    UnclosedQuote,
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("OR needs a term on both sides")]
    DanglingOr,
    #[error("unknown is: value {0:?} (use read, unread or tagged)")]
    UnknownFlag(String),
    #[error("unknown has: value {0:?} (use attachment or inline)")]
    UnknownHas(String),
    #[error("invalid size {0:?} (use a number with an optional unit: 500, 10KB, 1.5MB)")]
    BadSize(String),
    #[error("invalid date {0:?} (use a date such as 2026-11-23 or an RFC 3339 time)")]
    BadDate(String),
    #[error("header: needs a name and a value, as header:X-Mailer:value")]
    BadHeader,
    #[error("unknown time zone {0:?}")]
    BadTimeZone(String),
}

/// The time zone dates without an offset are read in (Mailpit's `tz` parameter).
pub fn parse_time_zone(name: &str) -> Result<Tz, SearchError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(Tz::UTC);
    }
    name.parse::<Tz>()
        .map_err(|_| SearchError::BadTimeZone(name.to_owned()))
}

/// Parses a search; dates without an offset are read in `tz`.
pub fn parse(input: &str, tz: Tz) -> Result<Query, SearchError> {
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err(SearchError::Empty);
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        tz,
        depth: 0,
    };
    let query = parser.conjunction()?;
    if parser.at < parser.tokens.len() {
        // Only a stray ')' stops a top-level conjunction early.
        return Err(SearchError::Unbalanced);
    }
    Ok(query)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Or,
    Not,
    /// A word: an optional `field:` prefix and its value (quotes removed).
    Word {
        field: Option<String>,
        value: String,
    },
}

/// Deepest nesting of parentheses and negations accepted.
const MAX_DEPTH: usize = 64;

fn tokenize(input: &str) -> Result<Vec<Token>, SearchError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '-' | '!' => {
                chars.next();
                // A lone "-" is a word, not a negation of nothing.
                match chars.peek() {
                    Some(next) if !next.is_whitespace() && *next != ')' => tokens.push(Token::Not),
                    _ => tokens.push(Token::Word {
                        field: None,
                        value: c.to_string(),
                    }),
                }
            }
            _ => {
                let word = read_word(&mut chars)?;
                tokens.push(word);
            }
        }
    }
    Ok(tokens)
}

/// Reads `field:value`, `field:"quoted value"`, `"phrase"` or a bare word.
fn read_word(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Token, SearchError> {
    let mut raw = String::new();
    let mut field = None;
    loop {
        match chars.peek() {
            None => break,
            Some(c) if c.is_whitespace() || *c == '(' || *c == ')' => break,
            Some('"') => {
                chars.next();
                let mut quoted = String::new();
                loop {
                    match chars.next() {
                        None => return Err(SearchError::UnclosedQuote),
                        Some('"') => break,
                        Some(c) => quoted.push(c),
                    }
                }
                raw.push_str(&quoted);
                // A quoted value ends the word.
                break;
            }
            Some(':') if field.is_none() && is_field(&raw) => {
                chars.next();
                field = Some(raw.to_ascii_lowercase());
                raw.clear();
            }
            Some(&c) => {
                chars.next();
                raw.push(c);
            }
        }
    }
    if raw == "OR" && field.is_none() {
        return Ok(Token::Or);
    }
    Ok(Token::Word { field, value: raw })
}

fn is_field(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "to" | "from"
            | "cc"
            | "bcc"
            | "reply-to"
            | "addressed"
            | "subject"
            | "message-id"
            | "tag"
            | "is"
            | "has"
            | "larger"
            | "smaller"
            | "before"
            | "after"
            | "header"
            | "body"
            | "envelope-to"
            | "envelope-from"
    )
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    tz: Tz,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    /// Terms joined by the implicit AND, up to a ')' or the end.
    fn conjunction(&mut self) -> Result<Query, SearchError> {
        let mut terms = Vec::new();
        while let Some(token) = self.peek() {
            if *token == Token::Close {
                break;
            }
            terms.push(self.disjunction()?);
        }
        match terms.len() {
            0 => Err(SearchError::Empty),
            1 => Ok(terms.pop().expect("one term")),
            _ => Ok(Query::And(terms)),
        }
    }

    fn disjunction(&mut self) -> Result<Query, SearchError> {
        if self.peek() == Some(&Token::Or) {
            return Err(SearchError::DanglingOr);
        }
        let mut alternatives = vec![self.unary()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            match self.peek() {
                None | Some(Token::Close) | Some(Token::Or) => return Err(SearchError::DanglingOr),
                _ => alternatives.push(self.unary()?),
            }
        }
        Ok(if alternatives.len() == 1 {
            alternatives.pop().expect("one alternative")
        } else {
            Query::Or(alternatives)
        })
    }

    fn unary(&mut self) -> Result<Query, SearchError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SearchError::Unbalanced);
        }
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        let query = match token {
            Some(Token::Not) => match self.peek() {
                None | Some(Token::Close) | Some(Token::Or) => Err(SearchError::Empty),
                _ => Ok(Query::Not(Box::new(self.unary()?))),
            },
            Some(Token::Open) => {
                let inner = self.conjunction()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(SearchError::Unbalanced);
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word { field, value }) => term(field.as_deref(), value, self.tz),
            Some(Token::Close) => Err(SearchError::Unbalanced),
            Some(Token::Or) => Err(SearchError::DanglingOr),
            None => Err(SearchError::Empty),
        };
        self.depth -= 1;
        query
    }
}

fn term(field: Option<&str>, value: String, tz: Tz) -> Result<Query, SearchError> {
    let Some(field) = field else {
        return Ok(Query::Term(Term::Text(value)));
    };
    if value.is_empty() {
        return Err(SearchError::MissingValue(format!("{field}:")));
    }
    let term = match field {
        "to" => Term::Field(Field::To, value),
        "from" => Term::Field(Field::From, value),
        "cc" => Term::Field(Field::Cc, value),
        "bcc" => Term::Field(Field::Bcc, value),
        "reply-to" => Term::Field(Field::ReplyTo, value),
        "addressed" => Term::Field(Field::Addressed, value),
        "subject" => Term::Field(Field::Subject, value),
        "body" => Term::Field(Field::Body, value),
        "message-id" => Term::MessageId(value.trim_matches(['<', '>']).to_owned()),
        "tag" => Term::Tag(value),
        "envelope-to" => Term::EnvelopeTo(value),
        "envelope-from" => Term::EnvelopeFrom(value),
        "is" => Term::Is(match value.to_ascii_lowercase().as_str() {
            "read" => Flag::Read,
            "unread" => Flag::Unread,
            "tagged" => Flag::Tagged,
            _ => return Err(SearchError::UnknownFlag(value)),
        }),
        "has" => Term::Has(match value.to_ascii_lowercase().as_str() {
            "attachment" | "attachments" => Has::Attachment,
            "inline" | "inlines" => Has::Inline,
            _ => return Err(SearchError::UnknownHas(value)),
        }),
        "larger" => Term::Larger(parse_size(&value)?),
        "smaller" => Term::Smaller(parse_size(&value)?),
        "before" => Term::Before(parse_date(&value, tz)?),
        "after" => Term::After(parse_date(&value, tz)?),
        "header" => match value.split_once(':') {
            Some((name, text)) if !name.trim().is_empty() => {
                Term::Header(name.trim().to_owned(), text.trim().to_owned())
            }
            _ => return Err(SearchError::BadHeader),
        },
        other => unreachable!("is_field admitted {other:?}"),
    };
    Ok(Query::Term(term))
}

/// `500`, `10K`, `10KB`, `1.5M`, `2MB`, `1G` (powers of 1024, as Mailpit).
fn parse_size(value: &str) -> Result<u64, SearchError> {
    let bad = || SearchError::BadSize(value.to_owned());
    let upper = value.trim().to_ascii_uppercase();
    let split = upper
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(upper.len());
    let (number, unit) = upper.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let multiplier = match unit {
        "" | "B" => 1.0,
        "K" | "KB" => 1024.0,
        "M" | "MB" => 1024.0 * 1024.0,
        "G" | "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// RFC 3339, or a date/time without offset read in `tz`: `2026-11-23`,
/// `2026/11/23`, `2026-11-23T10:00`, `23-Nov-2026`, `23 Nov 2026`.
fn parse_date(value: &str, tz: Tz) -> Result<DateTime<Utc>, SearchError> {
    let value = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
    .or_else(|| {
        [
            "%Y-%m-%d", "%Y/%m/%d", "%d-%b-%Y", "%d %b %Y", "%b %d %Y", "%d/%m/%Y",
        ]
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(value, format).ok())
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    })
    .ok_or_else(|| SearchError::BadDate(value.to_owned()))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| SearchError::BadDate(value.to_owned()))
}

#[cfg(test)]
mod tests;
