//! MailHog's message JSON, built the way MailHog builds it (COMPAT §3.4), so
//! its clients read Mailsink's messages unchanged: headers with their
//! original casing and still-encoded values, the body still
//! transfer-encoded, and multipart bodies split naively on their boundary.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::MessageMeta;

/// One message as MailHog's APIs send it.
#[derive(Debug, Serialize)]
pub struct Message {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "From")]
    from: Path,
    #[serde(rename = "To")]
    to: Vec<Path>,
    #[serde(rename = "Content")]
    content: Content,
    #[serde(rename = "Created")]
    created: String,
    #[serde(rename = "MIME")]
    mime: Option<MimeBody>,
    #[serde(rename = "Raw")]
    raw: Raw,
}

/// An SMTP path split as MailHog splits it.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Path {
    relays: Option<Vec<String>>,
    mailbox: String,
    domain: String,
    params: String,
}

/// Headers and body; also each part of a multipart body.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Content {
    /// Sorted by name, as Go's JSON encoder writes a map.
    headers: BTreeMap<String, Vec<String>>,
    body: String,
    size: usize,
    #[serde(rename = "MIME")]
    mime: Option<MimeBody>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct MimeBody {
    parts: Vec<Content>,
}

/// The SMTP transaction.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Raw {
    from: String,
    to: Vec<String>,
    data: String,
    helo: String,
}

/// The ID MailHog clients see and send back: the message ID at the host.
pub fn public_id(meta: &MessageMeta, hostname: &str) -> String {
    format!("{}@{hostname}", meta.id)
}

impl Message {
    /// Builds the JSON of a stored message from its metadata and stored bytes.
    pub fn new(meta: &MessageMeta, stored: &[u8], hostname: &str) -> Self {
        let id = public_id(meta, hostname);
        // MailHog parses CRLF-delimited text; bare LFs are read as line ends.
        let text = crlf(&String::from_utf8_lossy(stored));
        let data = crlf(&String::from_utf8_lossy(client_bytes(
            stored,
            meta.id.as_str(),
        )));
        let mut content = Content::parse(&text);
        content.size = data.len();
        content
            .headers
            .entry("Message-ID".to_owned())
            .or_insert_with(|| vec![id.clone()]);
        let mime = content.is_multipart().then(|| content.parts());
        let envelope = &meta.envelope;
        Self {
            from: Path::parse(&envelope.mail_from),
            to: envelope
                .recipients
                .iter()
                .map(|r| Path::parse(&r.address))
                .collect(),
            content,
            created: go_time(meta.received_at),
            mime,
            raw: Raw {
                from: envelope.mail_from.clone(),
                to: envelope
                    .recipient_addresses()
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
                data,
                helo: envelope.helo.clone(),
            },
            id,
        }
    }

    /// The top-level part `index` of a multipart message, as MailHog counts
    /// them (a preamble and the closing `--` are parts too).
    pub fn part(&self, index: usize) -> Option<(&BTreeMap<String, Vec<String>>, &str)> {
        let part = self.mime.as_ref()?.parts.get(index)?;
        Some((&part.headers, &part.body))
    }
}

impl Path {
    fn parse(path: &str) -> Self {
        let (mailbox, domain) = match path.rsplit_once('@') {
            Some((mailbox, domain)) => (mailbox, domain),
            None => (path, ""),
        };
        Self {
            relays: None,
            mailbox: mailbox.to_owned(),
            domain: domain.to_owned(),
            params: String::new(),
        }
    }
}

impl Content {
    /// MailHog's `ContentFromString`: headers up to the first blank line,
    /// continuation lines appended to the previous value as they are, one
    /// value per name (the last), except the trace headers, which add up.
    fn parse(text: &str) -> Self {
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return Self {
                headers: BTreeMap::new(),
                body: text.to_owned(),
                size: text.len(),
                mime: None,
            };
        };
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut last: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(value) = last
                    .as_ref()
                    .and_then(|name| headers.get_mut(name))
                    .and_then(|values| values.last_mut())
                {
                    value.push_str(line);
                }
            } else if let Some((name, value)) = line.split_once(": ") {
                let values = headers.entry(name.to_owned()).or_default();
                if !matches!(name, "Received" | "Return-Path") {
                    values.clear();
                }
                values.push(value.to_owned());
                last = Some(name.to_owned());
            }
        }
        Self {
            headers,
            body: body.to_owned(),
            size: text.len(),
            mime: None,
        }
    }

    /// Only the header named exactly `Content-Type` counts, as in MailHog.
    fn is_multipart(&self) -> bool {
        self.headers
            .get("Content-Type")
            .and_then(|values| values.first())
            .is_some_and(|value| value.starts_with("multipart/"))
    }

    /// MailHog's `ParseMIMEBody`: the body split on `--boundary`, each piece
    /// trimmed of CR and LF; empty pieces dropped, nested multiparts split too.
    fn parts(&self) -> MimeBody {
        let boundary = self
            .headers
            .get("Content-Type")
            .and_then(|values| values.first())
            .and_then(|value| boundary(value));
        let parts = match boundary {
            Some(boundary) => self
                .body
                .split(&format!("--{boundary}"))
                .filter(|piece| !piece.is_empty())
                .map(|piece| {
                    let mut part = Content::parse(piece.trim_matches(['\r', '\n']));
                    if part.is_multipart() {
                        part.mime = Some(part.parts());
                    }
                    part
                })
                .collect(),
            None => Vec::new(),
        };
        MimeBody { parts }
    }
}

/// The `boundary` parameter of a Content-Type value, quotes removed.
fn boundary(content_type: &str) -> Option<&str> {
    content_type
        .split(';')
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The bytes the client sent: the stored bytes without the `Return-Path:`
/// and `Received:` header Mailsink prepended (recognised by the message ID
/// in the `Received:` header), as MailHog keeps them apart in `Raw.Data`.
fn client_bytes<'a>(stored: &'a [u8], id: &str) -> &'a [u8] {
    let Some(rest) = stored.strip_prefix(b"Return-Path:") else {
        return stored;
    };
    let rest = skip_field(rest);
    if !rest.starts_with(b"Received:") {
        return stored;
    }
    let after = skip_field(rest);
    let received = &rest[..rest.len() - after.len()];
    let id = format!(" id {id};");
    if contains(received, b"(Mailsink) with ") && contains(received, id.as_bytes()) {
        after
    } else {
        stored
    }
}

/// What follows one header field and its continuation lines.
fn skip_field(mut bytes: &[u8]) -> &[u8] {
    loop {
        match bytes.iter().position(|&b| b == b'\n') {
            Some(end) => {
                bytes = &bytes[end + 1..];
                if !bytes.starts_with(b" ") && !bytes.starts_with(b"\t") {
                    return bytes;
                }
            }
            None => return &[],
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The text with every bare LF made CRLF.
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}

/// Go's `time.RFC3339Nano`: fractional seconds without trailing zeros.
fn go_time(at: DateTime<Utc>) -> String {
    let nanos = at.timestamp_subsec_nanos();
    let base = at.format("%Y-%m-%dT%H:%M:%S");
    if nanos == 0 {
        return format!("{base}Z");
    }
    let fraction = format!("{nanos:09}");
    format!("{base}.{}Z", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keeps_casing_and_raw_values() {
        let content = Content::parse(
            "Subject: =?UTF-8?Q?Hi?=\r\nX-Long: a\r\n\tb\r\nsubject: later\r\n\
             Received: one\r\nReceived: two\r\nX-Dup: 1\r\nX-Dup: 2\r\nnot a header\r\n\r\nbody=20\r\n",
        );
        let headers = &content.headers;
        assert_eq!(headers["Subject"], ["=?UTF-8?Q?Hi?="]);
        assert_eq!(headers["subject"], ["later"]);
        assert_eq!(headers["X-Long"], ["a\tb"]);
        assert_eq!(headers["Received"], ["one", "two"]);
        assert_eq!(headers["X-Dup"], ["2"]);
        assert_eq!(headers.len(), 5);
        assert_eq!(content.body, "body=20\r\n");
    }

    #[test]
    fn multipart_splits_like_mailhog() {
        let content = Content::parse(
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n\
             Content-Type: text/plain\r\n\r\nHello=20world\r\n--b1\r\n\
             Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\ninner\r\n--b2--\r\n\
             --b1--\r\n",
        );
        assert!(content.is_multipart());
        let parts = content.parts().parts;
        let bodies: Vec<&str> = parts.iter().map(|p| p.body.as_str()).collect();
        assert_eq!(
            bodies,
            [
                "preamble",
                "Hello=20world",
                "--b2\r\n\r\ninner\r\n--b2--",
                "--"
            ]
        );
        assert!(parts[0].headers.is_empty());
        assert_eq!(parts[1].headers["Content-Type"], ["text/plain"]);
        assert_eq!(parts[3].size, 2);
        let nested = parts[2].mime.as_ref().expect("nested multipart split");
        assert_eq!(nested.parts.len(), 2);
        assert_eq!(nested.parts[0].body, "inner");
        assert_eq!(nested.parts[1].body, "--");
    }

    #[test]
    fn only_the_exact_content_type_name_counts() {
        let content = Content::parse("content-type: multipart/mixed; boundary=x\r\n\r\n--x\r\n");
        assert!(!content.is_multipart());
        let content = Content::parse("no blank line");
        assert_eq!(content.body, "no blank line");
        assert!(content.headers.is_empty());
    }

    #[test]
    fn paths_and_times() {
        assert_eq!(
            Path::parse("alice@example.com"),
            Path {
                relays: None,
                mailbox: "alice".into(),
                domain: "example.com".into(),
                params: String::new()
            }
        );
        assert_eq!(Path::parse("").mailbox, "");
        assert_eq!(Path::parse("postmaster").domain, "");
        let at = DateTime::from_timestamp(1_659_441_645, 123_000_000).expect("time");
        assert_eq!(go_time(at), "2022-08-02T12:00:45.123Z");
        let at = DateTime::from_timestamp(1_659_441_645, 0).expect("time");
        assert_eq!(go_time(at), "2022-08-02T12:00:45Z");
    }

    #[test]
    fn trace_headers_are_not_client_bytes() {
        let id = "abcdefghijklmnopqrstuv";
        let stored = format!(
            "Return-Path: <a@b>\r\nReceived: from x ([127.0.0.1])\r\n\tby h (Mailsink) with ESMTP id {id};\r\n\
             \tMon, 1 Jan 2024 00:00:00 +0000\r\nSubject: s\r\n\r\nbody\r\n"
        );
        assert_eq!(
            client_bytes(stored.as_bytes(), id),
            b"Subject: s\r\n\r\nbody\r\n"
        );
        // Another server's trace stays: it is part of what the client sent.
        let foreign = "Return-Path: <a@b>\r\nReceived: by mx id 1;\r\nSubject: s\r\n\r\n";
        assert_eq!(client_bytes(foreign.as_bytes(), id), foreign.as_bytes());
        assert_eq!(
            client_bytes(b"Subject: s\r\n\r\n", id),
            b"Subject: s\r\n\r\n"
        );
        assert_eq!(crlf("a\nb\r\nc"), "a\r\nb\r\nc");
    }
}
