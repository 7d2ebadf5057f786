//! One SMTP session: RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
//! ENHANCEDSTATUSCODES, CHUNKING, DSN, STARTTLS and AUTH.
//!
//! Commands are parsed by smtp-proto; this file holds the behaviour. Protocol
//! errors become replies; only I/O ends a session early.

use std::net::SocketAddr;
use std::sync::Arc;

use smtp_proto::{MAIL_BODY_BINARYMIME, MAIL_SMTPUTF8, Request};
use tokio::io::{AsyncRead, AsyncWrite};

mod auth;
mod data;

use super::Context;
use super::conn::{Conn, Interrupt, Line};
use crate::net::starttls::Outcome;
use crate::store::{MessageId, Recipient};

/// RFC 4954 §4: a server must accept AUTH lines of at least 12288 octets.
const MAX_AUTH_LINE: usize = 12288;
const TOO_LARGE: &str = "552 5.3.4 Error: message size exceeds fixed maximum message size";

/// The client's HELO/EHLO.
#[derive(Debug, Clone)]
struct Greeting {
    name: String,
    extended: bool,
}

/// A mail transaction between MAIL and the end of its data.
#[derive(Debug)]
struct Transaction {
    mail_from: String,
    smtputf8: bool,
    dsn_ret: Option<String>,
    dsn_envid: Option<String>,
    recipients: Vec<Recipient>,
    /// BDAT chunks received so far, once the first chunk arrives.
    chunks: Option<Chunks>,
}

#[derive(Debug)]
struct Chunks {
    id: MessageId,
    data: Vec<u8>,
    /// Length of the trace headers at the start of `data`.
    header_len: usize,
    too_large: bool,
}

/// Where the session is in RFC 5321's command sequence.
#[derive(Debug, Default)]
enum Phase {
    #[default]
    Connected,
    Greeted(Greeting),
    Mail(Greeting, Transaction),
}

pub(crate) struct Session<S> {
    conn: Conn<S>,
    ctx: Arc<Context>,
    peer: SocketAddr,
    tls: bool,
    phase: Phase,
    auth_user: Option<String>,
}

/// What the command loop does next.
enum Next {
    Continue,
    Quit,
    StartTls,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(crate) fn new(stream: S, ctx: Arc<Context>, peer: SocketAddr, tls: bool) -> Self {
        let conn = Conn::new(stream, ctx.settings.idle_timeout, ctx.cancel.child_token());
        Self {
            conn,
            ctx,
            peer,
            tls,
            phase: Phase::Connected,
            auth_user: None,
        }
    }

    /// Serves the session. `greet` is false after STARTTLS (RFC 3207: no new greeting).
    pub(crate) async fn run(mut self, greet: bool) -> std::io::Result<Outcome<S>> {
        if greet {
            let greeting = format!("220 {} ESMTP Mailsink ready", self.ctx.settings.hostname);
            self.conn.reply(&greeting);
        }
        let next = match self.serve().await {
            Ok(next) => next,
            Err(interrupt) => return self.interrupted(interrupt).await,
        };
        match next {
            Next::StartTls => {
                self.conn.flush().await?;
                Ok(Outcome::StartTls(self.conn.into_stream()))
            }
            Next::Quit | Next::Continue => {
                self.conn.close().await?;
                Ok(Outcome::Closed)
            }
        }
    }

    async fn interrupted(mut self, interrupt: Interrupt) -> std::io::Result<Outcome<S>> {
        let host = &self.ctx.settings.hostname;
        let farewell = match interrupt {
            Interrupt::Eof => None,
            Interrupt::Io(e) => return Err(e),
            Interrupt::Timeout => Some(format!("421 4.4.2 {host} Error: timeout exceeded")),
            Interrupt::Shutdown => Some(format!("421 4.3.2 {host} Service shutting down")),
        };
        if let Some(line) = farewell {
            self.conn.reply(&line);
            let _ = self.conn.close().await;
        }
        Ok(Outcome::Closed)
    }

    async fn serve(&mut self) -> Result<Next, Interrupt> {
        loop {
            let max = self.ctx.settings.max_line_length;
            // Only AUTH may exceed the command limit, so read up to the larger
            // bound and apply the smaller one to everything else.
            let line = match self.conn.line(max.max(MAX_AUTH_LINE)).await? {
                Line::Complete(line) if line.len() <= max || is_auth(&line) => line,
                Line::Complete(_) | Line::TooLong => {
                    self.conn.reply("500 5.5.6 Error: line too long");
                    continue;
                }
            };
            if self.phase_is_fresh() && line.first() == Some(&0x16) {
                // A TLS ClientHello on the plaintext port: say so instead of
                // waiting for a line end that will never come.
                self.conn
                    .reply("554 5.7.0 Error: TLS handshake on the plaintext port; use STARTTLS or the SMTPS port");
                return Ok(Next::Quit);
            }
            let next = match Request::parse(&mut line.iter()) {
                Ok(request) => self.command(request.into_owned()).await?,
                Err(error) => {
                    self.syntax_error(&line, error);
                    Next::Continue
                }
            };
            match next {
                Next::Continue => {}
                other => return Ok(other),
            }
        }
    }

    fn phase_is_fresh(&self) -> bool {
        matches!(self.phase, Phase::Connected) && self.auth_user.is_none()
    }

    fn syntax_error(&mut self, line: &[u8], error: smtp_proto::Error) {
        use smtp_proto::Error as E;
        let reply = match error {
            E::UnknownCommand => "500 5.5.2 Error: command not recognized".to_owned(),
            E::InvalidSenderAddress => "501 5.1.7 Error: bad sender address syntax".to_owned(),
            E::InvalidRecipientAddress => {
                "501 5.1.3 Error: bad recipient address syntax".to_owned()
            }
            E::SyntaxError { .. } if is_auth(line) => {
                "504 5.5.4 Error: unrecognized authentication type".to_owned()
            }
            E::SyntaxError { syntax } => format!("501 5.5.4 Syntax: {syntax}"),
            E::InvalidParameter { param } => format!("501 5.5.4 Error: invalid {param} parameter"),
            E::UnsupportedParameter { param } => {
                format!(
                    "555 5.5.4 Error: unsupported parameter {}",
                    printable(&param)
                )
            }
            E::NeedsMoreData { .. } | E::ResponseTooLong | E::InvalidResponse { .. } => {
                "500 5.5.2 Error: bad syntax".to_owned()
            }
        };
        self.conn.reply(&reply);
    }

    async fn command(&mut self, request: Request<String>) -> Result<Next, Interrupt> {
        match request {
            Request::Ehlo { host } => self.hello(host, true),
            Request::Helo { host } => self.hello(host, false),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to),
            Request::Data => return self.data().await,
            Request::Bdat {
                chunk_size,
                is_last,
            } => return self.bdat(chunk_size, is_last).await,
            Request::Auth {
                mechanism,
                initial_response,
            } => return self.auth(mechanism, initial_response).await,
            Request::StartTls => return Ok(self.starttls()),
            Request::Rset => {
                self.end_transaction();
                self.conn.reply("250 2.0.0 Ok");
            }
            Request::Noop { .. } => self.conn.reply("250 2.0.0 Ok"),
            Request::Vrfy { .. } => self
                .conn
                .reply("252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery"),
            Request::Help { .. } => {
                self.conn.reply("214-2.0.0 Commands supported:");
                self.conn.reply(
                    "214-2.0.0 EHLO HELO MAIL RCPT DATA BDAT AUTH STARTTLS RSET NOOP VRFY HELP QUIT",
                );
                self.conn
                    .reply("214 2.0.0 Mailsink catches all mail; nothing is delivered");
            }
            Request::Quit => {
                let bye = format!("221 2.0.0 {} Bye", self.ctx.settings.hostname);
                self.conn.reply(&bye);
                return Ok(Next::Quit);
            }
            Request::Expn { .. }
            | Request::Lhlo { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.conn.reply("502 5.5.1 Error: command not implemented"),
        }
        Ok(Next::Continue)
    }

    fn hello(&mut self, name: String, extended: bool) {
        // RFC 5321 §4.1.4: a new EHLO/HELO resets any transaction.
        let host = &self.ctx.settings.hostname;
        if !extended {
            self.conn.reply(&format!("250 {host}"));
        } else {
            let settings = &self.ctx.settings;
            let mut lines = vec![
                format!("{host} Hello {}", printable(&name)),
                "PIPELINING".to_owned(),
                format!("SIZE {}", settings.max_message_size),
                "8BITMIME".to_owned(),
                "SMTPUTF8".to_owned(),
                "ENHANCEDSTATUSCODES".to_owned(),
                "CHUNKING".to_owned(),
                "DSN".to_owned(),
            ];
            if !self.tls {
                lines.push("STARTTLS".to_owned());
            }
            lines.push("AUTH PLAIN LOGIN CRAM-MD5".to_owned());
            lines.push("HELP".to_owned());
            let last = lines.len() - 1;
            for (i, line) in lines.iter().enumerate() {
                let sep = if i == last { ' ' } else { '-' };
                self.conn.reply(&format!("250{sep}{line}"));
            }
        }
        self.phase = Phase::Greeted(Greeting { name, extended });
    }

    fn mail(&mut self, from: smtp_proto::MailFrom<String>) {
        let greeting = match std::mem::take(&mut self.phase) {
            Phase::Greeted(greeting) => greeting,
            Phase::Connected => {
                return self.conn.reply("503 5.5.1 Error: send HELO/EHLO first");
            }
            phase @ Phase::Mail(..) => {
                self.phase = phase;
                return self.conn.reply("503 5.5.1 Error: nested MAIL command");
            }
        };
        if self.ctx.settings.credentials.required() && self.auth_user.is_none() {
            self.phase = Phase::Greeted(greeting);
            return self.conn.reply("530 5.7.0 Authentication required");
        }
        let max = self.ctx.settings.max_message_size;
        if from.size > max {
            self.phase = Phase::Greeted(greeting);
            return self.conn.reply(TOO_LARGE);
        }
        if from.flags & MAIL_BODY_BINARYMIME != 0 {
            self.phase = Phase::Greeted(greeting);
            return self
                .conn
                .reply("555 5.5.4 Error: BODY=BINARYMIME is not supported");
        }
        let dsn_ret = if from.flags & smtp_proto::MAIL_RET_FULL != 0 {
            Some("FULL".to_owned())
        } else if from.flags & smtp_proto::MAIL_RET_HDRS != 0 {
            Some("HDRS".to_owned())
        } else {
            None
        };
        self.phase = Phase::Mail(
            greeting,
            Transaction {
                mail_from: from.address,
                smtputf8: from.flags & MAIL_SMTPUTF8 != 0,
                dsn_ret,
                dsn_envid: from.env_id,
                recipients: Vec::new(),
                chunks: None,
            },
        );
        self.conn.reply("250 2.1.0 Ok");
    }

    fn rcpt(&mut self, to: smtp_proto::RcptTo<String>) {
        let max = self.ctx.settings.max_recipients;
        let Phase::Mail(_, tx) = &mut self.phase else {
            return self.conn.reply("503 5.5.1 Error: need MAIL command");
        };
        if to.address.is_empty() {
            return self
                .conn
                .reply("501 5.1.3 Error: bad recipient address syntax");
        }
        if tx.recipients.len() >= max {
            return self.conn.reply("452 4.5.3 Error: too many recipients");
        }
        tx.recipients.push(Recipient {
            address: to.address,
            notify: notify_text(to.flags),
            // smtp-proto accepts only the rfc822 address type and strips it.
            orcpt: to.orcpt.map(|address| format!("rfc822;{address}")),
        });
        self.conn.reply("250 2.1.5 Ok");
    }

    fn end_transaction(&mut self) {
        self.phase = match std::mem::take(&mut self.phase) {
            Phase::Mail(greeting, _) => Phase::Greeted(greeting),
            other => other,
        };
    }

    fn starttls(&mut self) -> Next {
        if self.tls {
            self.conn.reply("503 5.5.1 Error: TLS already active");
            return Next::Continue;
        }
        if self.conn.has_input() {
            // Commands pipelined behind STARTTLS would cross into the TLS
            // session unauthenticated (RFC 3207 §4.2): refuse them.
            self.conn
                .reply("501 5.5.4 Error: commands pipelined after STARTTLS");
            return Next::Quit;
        }
        self.conn.reply("220 2.0.0 Ready to start TLS");
        Next::StartTls
    }
}

fn is_auth(line: &[u8]) -> bool {
    line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"AUTH ")
}

/// RFC 3461 NOTIFY as text: "NEVER" or a comma list of SUCCESS, FAILURE, DELAY.
fn notify_text(flags: u64) -> Option<String> {
    use smtp_proto::{
        RCPT_NOTIFY_DELAY, RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_NEVER, RCPT_NOTIFY_SUCCESS,
    };
    if flags & RCPT_NOTIFY_NEVER != 0 {
        return Some("NEVER".to_owned());
    }
    let names: Vec<&str> = [
        (RCPT_NOTIFY_SUCCESS, "SUCCESS"),
        (RCPT_NOTIFY_FAILURE, "FAILURE"),
        (RCPT_NOTIFY_DELAY, "DELAY"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| name)
    .collect();
    (!names.is_empty()).then(|| names.join(","))
}

/// Client-supplied text made safe to echo in a reply or a header.
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
