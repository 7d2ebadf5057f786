//! How the UI writes values for people: names, address lists, sizes, times,
//! and the rows of the inbox list.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::message::Mailbox;
use crate::store::MessageMeta;

/// One line of the inbox list.
pub struct Row {
    pub id: String,
    pub read: bool,
    /// The sender's name, else address, else the envelope sender.
    pub from: String,
    /// The sender's address, for a tooltip.
    pub from_address: String,
    /// The To addresses, else the envelope recipients.
    pub to: String,
    pub subject: String,
    pub snippet: String,
    pub attachments: u32,
    pub size: String,
    /// RFC 3339, for `<time datetime>` (the script shows it in local time).
    pub iso: String,
    /// UTC, for a page read without the script.
    pub when: String,
}

impl Row {
    pub fn new(meta: &MessageMeta) -> Self {
        let s = &meta.summary;
        let (from, from_address) = match &s.from {
            Some(m) if !m.name.is_empty() => (m.name.clone(), m.address.clone()),
            Some(m) if !m.address.is_empty() => (m.address.clone(), m.address.clone()),
            _ => (
                or_null_sender(&meta.envelope.mail_from),
                meta.envelope.mail_from.clone(),
            ),
        };
        let to = if s.to.is_empty() {
            meta.envelope.recipient_addresses().join(", ")
        } else {
            addresses(&s.to)
        };
        Self {
            id: meta.id.to_string(),
            read: meta.read,
            from,
            from_address,
            to,
            subject: subject(&s.subject),
            snippet: s.snippet.clone(),
            attachments: s.attachments,
            size: size(meta.size),
            iso: iso(meta.received_at),
            when: utc(meta.received_at),
        }
    }
}

/// A subject, or a placeholder for none.
pub fn subject(subject: &str) -> String {
    if subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        subject.to_owned()
    }
}

/// The null reverse-path `<>` in words.
pub fn or_null_sender(address: &str) -> String {
    if address.is_empty() {
        "<> (null sender)".to_owned()
    } else {
        address.to_owned()
    }
}

/// `Name <address>` or the address alone.
pub fn mailbox(m: &Mailbox) -> String {
    if m.name.is_empty() {
        m.address.clone()
    } else {
        format!("{} <{}>", m.name, m.address)
    }
}

/// A comma-separated list of mailboxes, names included.
pub fn mailboxes(list: &[Mailbox]) -> String {
    list.iter().map(mailbox).collect::<Vec<_>>().join(", ")
}

/// The addresses only, comma-separated.
pub fn addresses(list: &[Mailbox]) -> String {
    list.iter()
        .map(|m| m.address.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bytes in the unit a person reads at a glance: 512 B, 1.5 kB, 2.3 MB.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// RFC 3339 in UTC.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A readable UTC time.
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters
/// stay as they are).
pub fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_encoding() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1500), "1.5 kB");
        assert_eq!(size(52_000), "52 kB");
        assert_eq!(size(2_300_000), "2.3 MB");
        assert_eq!(
            query_value("from:a@b.c \"x&y\""),
            "from%3Aa%40b.c%20%22x%26y%22"
        );
        assert_eq!(subject("  "), "(no subject)");
        assert_eq!(or_null_sender(""), "<> (null sender)");
    }
}
