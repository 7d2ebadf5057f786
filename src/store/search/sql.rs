//! A [`Query`] as a SQL condition over `messages m`.
//!
//! Text in the short fields (subject, addresses, headers, file names) is
//! matched through the trigram index (`search`), which finds any substring of
//! three characters or more, case-insensitively; shorter text cannot use
//! trigrams and falls back to `LIKE` over the summary columns. Bodies are
//! indexed by word (`search_body`): a word matches itself and longer words it
//! begins ("invoice" finds "invoices").

use rusqlite::types::Value;

use super::{Field, Flag, Has, Query, Term};

/// A condition and its parameters, in order.
#[derive(Debug, Default)]
pub(crate) struct Condition {
    pub(crate) sql: String,
    pub(crate) params: Vec<Value>,
}

impl Condition {
    pub(crate) fn new(query: &Query) -> Self {
        let mut condition = Self::default();
        condition.push(query);
        condition
    }

    fn push(&mut self, query: &Query) {
        match query {
            Query::Term(term) => self.term(term),
            Query::Not(inner) => {
                self.sql.push_str("NOT (");
                self.push(inner);
                self.sql.push(')');
            }
            Query::And(parts) => self.join(parts, " AND "),
            Query::Or(parts) => self.join(parts, " OR "),
        }
    }

    fn join(&mut self, parts: &[Query], op: &str) {
        self.sql.push('(');
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(op);
            }
            self.push(part);
        }
        self.sql.push(')');
    }

    fn bind(&mut self, value: impl Into<Value>) {
        self.params.push(value.into());
    }

    fn term(&mut self, term: &Term) {
        match term {
            Term::Text(text) => {
                self.sql.push('(');
                self.text(ALL_COLUMNS, SUMMARY_COLUMNS, text);
                self.sql.push_str(" OR ");
                self.body(text);
                self.sql.push(')');
            }
            Term::Field(Field::Body, text) => self.body(text),
            Term::Field(field, text) => {
                let (indexed, summary) = columns(*field);
                self.text(indexed, summary, text);
            }
            Term::MessageId(id) => {
                self.sql.push_str("m.message_id LIKE ? ESCAPE '\\'");
                self.bind(like(id));
            }
            Term::Tag(tag) => {
                self.sql.push_str(
                    "EXISTS (SELECT 1 FROM message_tags mt JOIN tags t ON t.id = mt.tag
                     WHERE mt.message = m.id AND t.name = ?)",
                );
                self.bind(tag.clone());
            }
            Term::Is(Flag::Read) => self.sql.push_str("m.is_read = 1"),
            Term::Is(Flag::Unread) => self.sql.push_str("m.is_read = 0"),
            Term::Is(Flag::Tagged) => self
                .sql
                .push_str("EXISTS (SELECT 1 FROM message_tags mt WHERE mt.message = m.id)"),
            Term::Has(Has::Attachment) => self.sql.push_str("m.attachments > 0"),
            Term::Has(Has::Inline) => self.sql.push_str("m.inline_parts > 0"),
            Term::Larger(size) => {
                self.sql.push_str("m.size > ?");
                self.bind(clamp(*size));
            }
            Term::Smaller(size) => {
                self.sql.push_str("m.size < ?");
                self.bind(clamp(*size));
            }
            Term::Before(at) => {
                self.sql.push_str("m.received_at < ?");
                self.bind(at.timestamp_millis());
            }
            Term::After(at) => {
                self.sql.push_str("m.received_at > ?");
                self.bind(at.timestamp_millis());
            }
            Term::Header(name, text) if header_field(name).is_some() => {
                let field = header_field(name).expect("checked by the guard");
                self.term(&Term::Field(field, text.clone()));
            }
            Term::Header(name, text) => {
                // Header lines are indexed as "\nName: value", so the name is
                // anchored at the start of a line.
                self.sql
                    .push_str("m.id IN (SELECT rowid FROM search WHERE search MATCH ?)");
                self.bind(fts(&["headers"], &format!("\n{name}: {text}")));
            }
            Term::EnvelopeTo(text) => {
                self.sql.push_str("m.rcpt_to LIKE ? ESCAPE '\\'");
                self.bind(like(text));
            }
            Term::EnvelopeFrom(text) => {
                self.sql.push_str("m.mail_from LIKE ? ESCAPE '\\'");
                self.bind(like(text));
            }
        }
    }

    /// Word (and word-prefix) match in the bodies.
    fn body(&mut self, text: &str) {
        if !text.chars().any(char::is_alphanumeric) {
            // Nothing the word tokenizer would index.
            self.sql.push('0');
            return;
        }
        self.sql
            .push_str("m.id IN (SELECT rowid FROM search_body WHERE search_body MATCH ?)");
        // The last word is a prefix, so "invoice" also finds "invoices".
        self.bind(format!("{}*", fts(&[], text)));
    }

    /// Substring match in the indexed columns, or in the summary columns when
    /// the text is too short for trigrams.
    fn text(&mut self, indexed: &[&str], summary: &[&str], text: &str) {
        if !indexed.is_empty()
            && let Some(at) = text.find('@').filter(|&at| at >= 2)
        {
            // A domain is shared by many messages, and its trigrams make the
            // phrase slow to match: find the rows with the part up to the '@'
            // in the index, then check the whole text on those few rows.
            self.sql
                .push_str("(m.id IN (SELECT rowid FROM search WHERE search MATCH ?) AND ");
            self.bind(fts(indexed, &text[..=at]));
            self.like_any(summary, text);
            self.sql.push(')');
            return;
        }
        if text.chars().count() >= 3 {
            self.sql
                .push_str("m.id IN (SELECT rowid FROM search WHERE search MATCH ?)");
            self.bind(fts(indexed, text));
            return;
        }
        if summary.is_empty() {
            self.sql.push('0');
            return;
        }
        self.like_any(summary, text);
    }

    /// `text` anywhere in one of the summary columns.
    fn like_any(&mut self, summary: &[&str], text: &str) {
        self.sql.push('(');
        for (i, column) in summary.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(" OR ");
            }
            self.sql.push_str("m.");
            self.sql.push_str(column);
            self.sql.push_str(" LIKE ? ESCAPE '\\'");
            self.bind(like(text));
        }
        self.sql.push(')');
    }
}

const ALL_COLUMNS: &[&str] = &[];
const SUMMARY_COLUMNS: &[&str] = &[
    "subject",
    "from_addr",
    "to_addrs",
    "cc_addrs",
    "bcc_addrs",
    "reply_to_addrs",
    "snippet",
];
const ADDRESS_COLUMNS: &[&str] = &["from_addr", "to_addrs", "cc_addrs", "bcc_addrs", "reply_to"];

/// The field that holds a header indexed in a column of its own.
fn header_field(name: &str) -> Option<Field> {
    [
        ("Subject", Field::Subject),
        ("From", Field::From),
        ("To", Field::To),
        ("Cc", Field::Cc),
        ("Bcc", Field::Bcc),
        ("Reply-To", Field::ReplyTo),
    ]
    .into_iter()
    .find(|(header, _)| header.eq_ignore_ascii_case(name))
    .map(|(_, field)| field)
}

/// Index columns and summary columns for a field.
fn columns(field: Field) -> (&'static [&'static str], &'static [&'static str]) {
    match field {
        Field::From => (&["from_addr"], &["from_addr"]),
        Field::To => (&["to_addrs"], &["to_addrs"]),
        Field::Cc => (&["cc_addrs"], &["cc_addrs"]),
        Field::Bcc => (&["bcc_addrs"], &["bcc_addrs"]),
        Field::ReplyTo => (&["reply_to"], &["reply_to_addrs"]),
        Field::Addressed => (
            ADDRESS_COLUMNS,
            &[
                "from_addr",
                "to_addrs",
                "cc_addrs",
                "bcc_addrs",
                "reply_to_addrs",
            ],
        ),
        Field::Subject => (&["subject"], &["subject"]),
        Field::Body => unreachable!("bodies have their own index"),
    }
}

/// An FTS5 query: the text as one quoted string, limited to `columns` (all when empty).
fn fts(columns: &[&str], text: &str) -> String {
    let phrase = format!("\"{}\"", text.replace('"', "\"\""));
    if columns.is_empty() {
        phrase
    } else {
        format!("{{{}}} : {phrase}", columns.join(" "))
    }
}

/// A LIKE pattern matching `text` anywhere, with its wildcards escaped.
fn like(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn clamp(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::search::parse;

    fn sql(input: &str) -> (String, Vec<Value>) {
        let condition = Condition::new(&parse(input, chrono_tz::UTC).expect("valid"));
        (condition.sql, condition.params)
    }

    #[test]
    fn words_use_the_indexes_and_short_ones_like() {
        let (text, params) = sql("invoice");
        assert_eq!(
            text,
            "(m.id IN (SELECT rowid FROM search WHERE search MATCH ?) OR \
             m.id IN (SELECT rowid FROM search_body WHERE search_body MATCH ?))"
        );
        assert_eq!(
            params,
            vec![
                Value::Text("\"invoice\"".into()),
                Value::Text("\"invoice\"*".into())
            ]
        );
        let (text, params) = sql("to:ab");
        assert_eq!(text, "(m.to_addrs LIKE ? ESCAPE '\\')");
        assert_eq!(params, vec![Value::Text("%ab%".into())]);
    }

    #[test]
    fn fields_negation_and_or() {
        let (text, params) = sql("-from:alice (subject:x OR is:unread) larger:1K");
        assert_eq!(
            text,
            "(NOT (m.id IN (SELECT rowid FROM search WHERE search MATCH ?)) AND \
             ((m.subject LIKE ? ESCAPE '\\') OR m.is_read = 0) AND m.size > ?)"
        );
        assert_eq!(
            params,
            vec![
                Value::Text("{from_addr} : \"alice\"".into()),
                Value::Text("%x%".into()),
                Value::Integer(1024),
            ]
        );
    }

    #[test]
    fn addresses_look_up_the_local_part_and_check_the_rest() {
        let (text, params) = sql("to:bob@example.com");
        assert_eq!(
            text,
            "(m.id IN (SELECT rowid FROM search WHERE search MATCH ?) AND \
             (m.to_addrs LIKE ? ESCAPE '\\'))"
        );
        assert_eq!(
            params,
            vec![
                Value::Text("{to_addrs} : \"bob@\"".into()),
                Value::Text("%bob@example.com%".into())
            ]
        );
        // Too little before the '@' to use the index.
        let (text, _) = sql("to:b@example.com");
        assert!(text.starts_with("m.id IN"), "{text}");
    }

    #[test]
    fn quotes_and_wildcards_are_escaped() {
        assert_eq!(fts(&[], "say \"hi\""), "\"say \"\"hi\"\"\"");
        let (_, params) = sql("subject:\"100% sure\"");
        assert_eq!(
            params,
            vec![Value::Text("{subject} : \"100% sure\"".into())]
        );
        let (_, params) = sql("envelope-to:a_b%");
        assert_eq!(params, vec![Value::Text("%a\\_b\\%%".into())]);
    }
}
