//! The values the store takes and gives: IDs, envelopes, new and stored messages.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand::Rng;

use super::index;
use crate::message::Summary;

/// The public ID of a message: 22 base62 characters, random, like Mailpit's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

const ID_LEN: usize = 22;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl MessageId {
    /// A fresh random ID (131 bits of entropy: collisions are not a practical concern).
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let id = (0..ID_LEN)
            .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
            .collect();
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A string that is not a message ID.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a message ID: {0:?}")]
pub struct InvalidId(pub String);

impl FromStr for MessageId {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId(s.to_owned()))
        }
    }
}

/// One RCPT TO, with its RFC 3461 parameters as the client sent them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recipient {
    pub address: String,
    pub notify: Option<String>,
    pub orcpt: Option<String>,
}

impl Recipient {
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            notify: None,
            orcpt: None,
        }
    }
}

/// How a message arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse-path; empty for the null sender `<>`.
    pub mail_from: String,
    pub recipients: Vec<Recipient>,
    /// The HELO/EHLO name.
    pub helo: String,
    /// The client's IP address and port.
    pub client_addr: String,
    pub auth_user: Option<String>,
    pub tls: bool,
    /// RFC 3461 `RET=` (FULL or HDRS).
    pub dsn_ret: Option<String>,
    /// RFC 3461 `ENVID=`.
    pub dsn_envid: Option<String>,
}

impl Envelope {
    /// The recipient addresses, in RCPT order.
    pub fn recipient_addresses(&self) -> Vec<&str> {
        self.recipients.iter().map(|r| r.address.as_str()).collect()
    }
}

/// Who reads a mailbox over POP3 or IMAP (SPEC §3): a login that is an email
/// address owns the mailbox of mail delivered to it; any other login is the
/// catch-all, whose mailbox is every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    CatchAll,
    Address(String),
}

impl Owner {
    /// The owner a login name stands for.
    pub fn of_login(user: &str) -> Self {
        match user.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                Self::Address(user.to_owned())
            }
            _ => Self::CatchAll,
        }
    }
}

/// One message of a mailbox, as POP3 lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaildropEntry {
    pub id: MessageId,
    /// Bytes as served: bare LFs counted as CRLF.
    pub served_size: u64,
}

/// The size of `data` as POP3 and IMAP serve it: every bare LF as CRLF, and
/// a CRLF after a last line that has none.
pub fn served_size(data: &[u8]) -> u64 {
    let bare_lfs = memchr::memchr_iter(b'\n', data)
        .filter(|&at| at == 0 || data[at - 1] != b'\r')
        .count();
    let unterminated = !data.is_empty() && !data.ends_with(b"\n");
    (data.len() + bare_lfs + 2 * usize::from(unterminated)) as u64
}

/// A message ready to be committed.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    pub received_at: DateTime<Utc>,
    pub envelope: Envelope,
    pub summary: Summary,
    /// Trace headers followed by the client's bytes.
    pub data: Vec<u8>,
    /// Column values derived from the summary, prepared by the caller's task
    /// so the single writer thread only binds them.
    pub(super) columns: Columns,
}

/// Serialised address lists and index text.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    pub(super) served_size: u64,
    pub(super) rcpt_to: String,
    pub(super) from: Option<String>,
    pub(super) to: String,
    pub(super) cc: String,
    pub(super) bcc: String,
    pub(super) reply_to: String,
    pub(super) text: index::Text,
}

impl NewMessage {
    /// Parses `data` once and makes the message to store.
    pub fn new(
        id: MessageId,
        received_at: DateTime<Utc>,
        envelope: Envelope,
        data: Vec<u8>,
    ) -> Self {
        let parsed = crate::message::parse(&data, &envelope.recipient_addresses());
        let (text, summary) = index::Text::new(parsed);
        let columns = Columns {
            served_size: served_size(&data),
            rcpt_to: json(&envelope.recipients),
            from: summary.from.as_ref().map(json),
            to: json(&summary.to),
            cc: json(&summary.cc),
            bcc: json(&summary.bcc),
            reply_to: json(&summary.reply_to),
            text,
        };
        Self {
            id,
            received_at,
            envelope,
            summary,
            data,
            columns,
        }
    }
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("addresses and recipients always serialise")
}

/// A stored message without its bytes: what lists and events carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub id: MessageId,
    pub received_at: DateTime<Utc>,
    pub size: u64,
    pub read: bool,
    pub envelope: Envelope,
    pub summary: Summary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_served_sizes() {
        assert_eq!(
            Owner::of_login("Bob@Example.com"),
            Owner::Address("Bob@Example.com".into())
        );
        assert_eq!(Owner::of_login("admin"), Owner::CatchAll);
        assert_eq!(Owner::of_login("@x"), Owner::CatchAll);
        assert_eq!(served_size(b"a\r\nb\nc\n"), 9);
        assert_eq!(served_size(b"\n"), 2);
        assert_eq!(served_size(b"a"), 3);
        assert_eq!(served_size(b""), 0);
    }

    #[test]
    fn ids_round_trip_and_reject_junk() {
        let id = MessageId::generate();
        assert_eq!(id.as_str().len(), ID_LEN);
        assert_eq!(id.as_str().parse::<MessageId>(), Ok(id.clone()));
        assert!("short".parse::<MessageId>().is_err());
        assert!("../../../../etc/passwd_xx".parse::<MessageId>().is_err());
        assert_ne!(MessageId::generate(), MessageId::generate());
    }
}
