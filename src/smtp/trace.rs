//! The trace headers a receiving MTA prepends (RFC 5321 §4.4): `Return-Path:`
//! and `Received:`. The `Received:` header names no recipient, so a blind copy
//! stays blind in the bytes served to mailboxes.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::session::printable;
use crate::store::MessageId;

/// What the trace headers record.
pub(crate) struct Trace<'a> {
    pub mail_from: &'a str,
    pub helo: &'a str,
    pub peer: IpAddr,
    pub hostname: &'a str,
    pub id: &'a MessageId,
    pub protocol: &'static str,
    pub at: DateTime<Utc>,
}

/// The `with` protocol name of RFC 3848 (and RFC 6531 for SMTPUTF8).
pub(crate) fn protocol(
    extended: bool,
    smtputf8: bool,
    tls: bool,
    authenticated: bool,
) -> &'static str {
    match (extended, smtputf8, tls, authenticated) {
        (false, _, _, _) => "SMTP",
        (true, false, false, false) => "ESMTP",
        (true, false, true, false) => "ESMTPS",
        (true, false, false, true) => "ESMTPA",
        (true, false, true, true) => "ESMTPSA",
        (true, true, false, false) => "UTF8SMTP",
        (true, true, true, false) => "UTF8SMTPS",
        (true, true, false, true) => "UTF8SMTPA",
        (true, true, true, true) => "UTF8SMTPSA",
    }
}

/// The header block, CRLF-terminated, ready to precede the client's bytes.
pub(crate) fn headers(t: &Trace<'_>) -> Vec<u8> {
    let literal = match t.peer {
        IpAddr::V4(ip) => format!("[{ip}]"),
        IpAddr::V6(ip) => format!("[IPv6:{ip}]"),
    };
    format!(
        "Return-Path: <{from}>\r\n\
         Received: from {helo} ({literal})\r\n\
         \tby {host} (Mailsink) with {proto} id {id};\r\n\
         \t{date}\r\n",
        from = printable(t.mail_from),
        helo = printable(t.helo),
        host = t.hostname,
        proto = t.protocol,
        id = t.id,
        date = t.at.to_rfc2822(),
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_header_names_no_recipient() {
        let id: MessageId = "abcdefghijklmnopqrstuv".parse().expect("valid ID");
        let at = DateTime::from_timestamp(1_795_428_000, 0).expect("valid time");
        let text = String::from_utf8(headers(&Trace {
            mail_from: "a@b",
            helo: "client.test",
            peer: "127.0.0.1".parse().expect("ip"),
            hostname: "mailsink",
            id: &id,
            protocol: protocol(true, false, true, true),
            at,
        }))
        .expect("ASCII");
        assert_eq!(
            text,
            "Return-Path: <a@b>\r\n\
             Received: from client.test ([127.0.0.1])\r\n\
             \tby mailsink (Mailsink) with ESMTPSA id abcdefghijklmnopqrstuv;\r\n\
             \tMon, 23 Nov 2026 10:00:00 +0000\r\n"
        );
    }

    #[test]
    fn client_text_cannot_inject_headers() {
        let id = MessageId::generate();
        let text = headers(&Trace {
            mail_from: "a@b>\r\nX-Evil: 1",
            helo: "h\r\nX-Evil: 2",
            peer: "::1".parse().expect("ip"),
            hostname: "mailsink",
            id: &id,
            protocol: "SMTP",
            at: Utc::now(),
        });
        let text = String::from_utf8(text).expect("ASCII");
        assert!(!text.contains("\r\nX-Evil"), "{text}");
        assert!(text.contains("[IPv6:::1]"));
    }
}
