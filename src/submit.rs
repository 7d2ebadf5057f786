//! The SMTP client side of the companion commands: `mailsink sendmail` and
//! `mailsink ingest` hand messages to a running Mailsink exactly as an
//! application would, over one reused SMTP connection (lettre's).
//!
//! Also the message surgery both need: local files end lines with LF where
//! SMTP wants CRLF, recipients come from the To/Cc/Bcc headers, and Bcc is
//! removed from the bytes before they leave, as sendmail does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::client::SmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use mail_parser::MessageParser;

/// Why a message was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached or the connection broke.
    #[error("cannot talk to {addr}: {reason}")]
    Connection { addr: SocketAddr, reason: String },
    /// The server answered 4xx: trying again later may work.
    #[error("refused for now: {0}")]
    Transient(String),
    /// The server answered 5xx.
    #[error("refused: {0}")]
    Permanent(String),
    /// An address that is not `local@domain`.
    #[error("bad address {0:?}")]
    Address(String),
    /// No recipient at all.
    #[error("no recipients")]
    NoRecipients,
}

/// How long one SMTP exchange may take before the connection is given up.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A client for one server, connecting on first use and reconnecting after a
/// failure (lettre closes the connection when a command fails).
pub struct Submitter {
    addr: SocketAddr,
    connection: Option<SmtpConnection>,
}

impl Submitter {
    /// A client for the server at `addr`. An unspecified address (0.0.0.0 or
    /// [::], as a server's listen address may be) means this host.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr: connectable(addr),
            connection: None,
        }
    }

    /// Sends `message` (bytes as they will be stored) from `sender` (`None`
    /// for the null reverse-path `<>`) to `recipients`; returns the server's
    /// final reply.
    pub fn submit(
        &mut self,
        sender: Option<&str>,
        recipients: &[String],
        message: &[u8],
    ) -> Result<String, Error> {
        let from = match sender {
            Some(s) if !s.trim().trim_matches(['<', '>']).is_empty() => Some(parse_address(s)?),
            _ => None,
        };
        let to = recipients
            .iter()
            .map(|r| parse_address(r))
            .collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(from, to).map_err(|_| Error::NoRecipients)?;
        let connection = match &mut self.connection {
            Some(connection) if !connection.has_broken() => connection,
            _ => self.connection.insert(
                SmtpConnection::connect(
                    self.addr,
                    Some(TIMEOUT),
                    &ClientId::Domain("localhost".to_owned()),
                    None,
                    None,
                )
                .map_err(|e| self.connection_error(&e))?,
            ),
        };
        // lettre ends DATA with CRLF "." CRLF, whose first CRLF ends the
        // last line (RFC 5321 §4.1.1.4): the message's own must not be sent twice.
        let message = message.strip_suffix(b"\r\n").unwrap_or(message);
        match connection.send(&envelope, message) {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(error) => {
                self.connection = None;
                Err(if error.is_permanent() {
                    Error::Permanent(error.to_string())
                } else if error.is_transient() {
                    Error::Transient(error.to_string())
                } else {
                    self.connection_error(&error)
                })
            }
        }
    }

    fn connection_error(&self, error: &lettre::transport::smtp::Error) -> Error {
        Error::Connection {
            addr: self.addr,
            reason: error.to_string(),
        }
    }

    /// Says QUIT if connected.
    pub fn finish(mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = connection.quit();
        }
    }
}

fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

fn parse_address(text: &str) -> Result<Address, Error> {
    let bare = text.trim().trim_start_matches('<').trim_end_matches('>');
    bare.parse().map_err(|_| Error::Address(text.to_owned()))
}

/// `message` with every line ending in CRLF (a lone LF becomes CRLF).
pub fn crlf(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 32);
    let mut previous = 0u8;
    for &byte in message {
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        previous = byte;
    }
    out
}

/// The addresses in the To, Cc and Bcc headers, in that order, without repeats.
pub fn header_recipients(message: &[u8]) -> Vec<String> {
    let Some(parsed) = MessageParser::default().parse_headers(message) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for list in [parsed.to(), parsed.cc(), parsed.bcc()]
        .into_iter()
        .flatten()
    {
        for addr in list.iter() {
            if let Some(address) = addr.address()
                && !out.iter().any(|seen| seen.eq_ignore_ascii_case(address))
            {
                out.push(address.to_owned());
            }
        }
    }
    out
}

/// The address in the Return-Path header, else the first one in From.
/// `Some("")` for `Return-Path: <>`.
pub fn header_sender(message: &[u8]) -> Option<String> {
    let parsed = MessageParser::default().parse_headers(message)?;
    if let Some(path) = parsed.header_raw("Return-Path") {
        let path = path.trim().trim_start_matches('<').trim_end_matches('>');
        return Some(path.trim().to_owned());
    }
    parsed
        .from()
        .and_then(|from| from.first())
        .and_then(|addr| addr.address())
        .map(str::to_owned)
}

/// `message` without its Bcc header fields (RFC 5322 §3.6.3: the blind
/// recipients must not be shown to the others).
pub fn remove_bcc(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut rest = message;
    let mut dropping = false;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        if line == b"\r\n" || line == b"\n" {
            // The blank line: the body follows untouched.
            out.extend_from_slice(rest);
            return out;
        }
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            dropping = line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"bcc:");
        }
        if !dropping {
            out.extend_from_slice(line);
        }
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_line_feeds_become_crlf() {
        assert_eq!(crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert_eq!(crlf(b""), b"");
        assert_eq!(crlf(b"\n\n"), b"\r\n\r\n");
    }

    #[test]
    fn recipients_come_from_to_cc_and_bcc() {
        let message = b"From: a@example.com\r\nTo: Bob <bob@example.com>, carol@example.com\r\n\
            Cc: dave@example.com\r\nBcc: eve@example.com,\r\n BOB@example.com\r\n\r\nTo: x@y\r\n";
        assert_eq!(
            header_recipients(message),
            [
                "bob@example.com",
                "carol@example.com",
                "dave@example.com",
                "eve@example.com"
            ]
        );
        assert!(header_recipients(b"Subject: none\r\n\r\n").is_empty());
        assert!(header_recipients(b"To: undisclosed-recipients:;\r\n\r\n").is_empty());
    }

    #[test]
    fn bcc_is_removed_with_its_continuation_lines_and_nothing_else() {
        let message = b"To: a@example.com\nBCC: b@example.com,\n\tc@example.com\nSubject: s\n\nBcc: body stays\n";
        assert_eq!(
            remove_bcc(message),
            b"To: a@example.com\nSubject: s\n\nBcc: body stays\n"
        );
        assert_eq!(remove_bcc(b"Bcc: x@y\r\n"), b"");
        assert_eq!(
            remove_bcc(b"Subject: no bcc\r\n\r\n"),
            b"Subject: no bcc\r\n\r\n"
        );
    }

    #[test]
    fn sender_from_return_path_then_from() {
        assert_eq!(
            header_sender(b"Return-Path: <bounce@example.com>\r\nFrom: a@example.com\r\n\r\n"),
            Some("bounce@example.com".to_owned())
        );
        assert_eq!(
            header_sender(b"From: Ann <ann@example.com>\r\n\r\n"),
            Some("ann@example.com".to_owned())
        );
        assert_eq!(
            header_sender(b"Return-Path: <>\r\n\r\n"),
            Some(String::new())
        );
        assert_eq!(header_sender(b"Subject: x\r\n\r\n"), None);
    }

    #[test]
    fn unspecified_addresses_mean_this_host() {
        let any: SocketAddr = "0.0.0.0:1025".parse().expect("addr");
        assert_eq!(connectable(any).to_string(), "127.0.0.1:1025");
        let any6: SocketAddr = "[::]:1025".parse().expect("addr");
        assert_eq!(connectable(any6).to_string(), "[::1]:1025");
    }
}
