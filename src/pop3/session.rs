//! One POP3 session (RFC 1939 with CAPA, RESP-CODES and PIPELINING from RFC
//! 2449, STLS from RFC 2595, SASL from RFC 5034). Bad input is answered with
//! `-ERR` and the session goes on; only I/O ends it early.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncWrite};

use super::Context;
use super::command::{Command, ParseError};
use super::maildrop::{Maildrop, served};
use crate::auth::{Credentials, Exchange, Mechanism, Step};
use crate::net::conn::{Conn, Interrupt, Line};
use crate::net::starttls::Outcome;
use crate::store::Owner;

/// Longest command line accepted (RFC 2449 allows 255 octets; clients send less).
const MAX_LINE: usize = 1024;
/// SASL responses may be long (RFC 5034 §4).
const MAX_AUTH_LINE: usize = 12288;

/// RFC 1939's states. TRANSACTION holds the maildrop snapshotted at login.
enum State {
    Authorization { user: Option<String> },
    Transaction { owner: Owner, drop: Maildrop },
}

enum Next {
    Continue,
    Quit,
    StartTls,
}

pub(crate) struct Session<S> {
    conn: Conn<S>,
    ctx: Arc<Context>,
    peer: SocketAddr,
    tls: bool,
    state: State,
    /// The APOP timestamp of this session's greeting.
    timestamp: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(crate) fn new(stream: S, ctx: Arc<Context>, peer: SocketAddr, tls: bool) -> Self {
        let conn = Conn::new(stream, ctx.settings.idle_timeout, ctx.cancel.child_token());
        let timestamp = format!(
            "<{}.{}@{}>",
            std::process::id(),
            rand::random::<u64>(),
            ctx.settings.hostname
        );
        Self {
            conn,
            ctx,
            peer,
            tls,
            state: State::Authorization { user: None },
            timestamp,
        }
    }

    /// Serves the session. `greet` is false after STLS (no new greeting).
    pub(crate) async fn run(mut self, greet: bool) -> std::io::Result<Outcome<S>> {
        if greet {
            let greeting = format!("+OK Mailsink POP3 server ready {}", self.timestamp);
            self.conn.reply(&greeting);
        }
        match self.serve().await {
            Ok(Next::StartTls) => {
                self.conn.flush().await?;
                Ok(Outcome::StartTls(self.conn.into_stream()))
            }
            Ok(Next::Quit | Next::Continue) => {
                self.conn.close().await?;
                Ok(Outcome::Closed)
            }
            Err(Interrupt::Io(e)) => Err(e),
            Err(Interrupt::Eof) => Ok(Outcome::Closed),
            Err(Interrupt::Timeout) => {
                // RFC 1939 §3: an autologout timer; nothing is deleted.
                self.conn
                    .reply("-ERR [SYS/TEMP] autologout: idle for too long");
                let _ = self.conn.close().await;
                Ok(Outcome::Closed)
            }
            Err(Interrupt::Shutdown) => {
                self.conn.reply("-ERR [SYS/TEMP] server shutting down");
                let _ = self.conn.close().await;
                Ok(Outcome::Closed)
            }
        }
    }

    async fn serve(&mut self) -> Result<Next, Interrupt> {
        loop {
            let line = match self.conn.line(MAX_LINE).await? {
                Line::Complete(line) => line,
                Line::TooLong => {
                    self.conn.reply("-ERR line too long");
                    continue;
                }
            };
            let next = match Command::parse(&line) {
                Ok(command) => self.command(command).await?,
                Err(error) => {
                    self.refuse(&error);
                    Next::Continue
                }
            };
            if !matches!(next, Next::Continue) {
                return Ok(next);
            }
        }
    }

    fn refuse(&mut self, error: &ParseError) {
        self.conn.reply(&format!("-ERR {error}"));
    }

    async fn command(&mut self, command: Command) -> Result<Next, Interrupt> {
        match (&mut self.state, command) {
            (_, Command::Capa) => self.capabilities(),
            (_, Command::Noop) => self.conn.reply("+OK"),
            (State::Authorization { .. }, Command::Quit) => {
                self.conn.reply("+OK Mailsink POP3 server signing off");
                return Ok(Next::Quit);
            }
            (State::Transaction { .. }, Command::Quit) => return Ok(self.update().await),
            (State::Authorization { .. }, Command::Stls) => return Ok(self.starttls()),
            (State::Authorization { user }, Command::User(name)) => {
                *user = Some(name);
                self.conn.reply("+OK send PASS");
            }
            (State::Authorization { user }, Command::Pass(pass)) => match user.take() {
                None => self.conn.reply("-ERR USER first"),
                Some(name) => {
                    let ok = self.ctx.settings.credentials.check(&name, &pass);
                    self.login(name, ok).await;
                }
            },
            (State::Authorization { .. }, Command::Apop { user, digest }) => {
                let ok = apop_valid(
                    &self.ctx.settings.credentials,
                    &user,
                    &self.timestamp,
                    &digest,
                );
                self.login(user, ok).await;
            }
            (State::Authorization { .. }, Command::Auth { mechanism, initial }) => {
                self.authenticate(mechanism, initial).await?;
            }
            (State::Transaction { drop, .. }, command) => {
                transaction(&mut self.conn, drop, &self.ctx, command).await?;
            }
            (State::Authorization { .. }, _) => {
                self.conn.reply("-ERR log in first");
            }
        }
        Ok(Next::Continue)
    }

    fn capabilities(&mut self) {
        self.conn.reply("+OK capability list follows");
        for capability in [
            "TOP",
            "USER",
            "UIDL",
            "SASL PLAIN LOGIN",
            "RESP-CODES",
            "PIPELINING",
        ] {
            self.conn.reply(capability);
        }
        if !self.tls && matches!(self.state, State::Authorization { .. }) {
            self.conn.reply("STLS");
        }
        self.conn.reply("IMPLEMENTATION Mailsink");
        self.conn.reply(".");
    }

    fn starttls(&mut self) -> Next {
        if self.tls {
            self.conn.reply("-ERR TLS already active");
            return Next::Continue;
        }
        if self.conn.has_input() {
            // Commands pipelined behind STLS would cross into the TLS session.
            self.conn.reply("-ERR commands pipelined after STLS");
            return Next::Quit;
        }
        self.conn.reply("+OK begin TLS negotiation");
        Next::StartTls
    }

    /// Enters TRANSACTION with the owner's maildrop, or refuses the login.
    async fn login(&mut self, user: String, valid: bool) {
        if !valid {
            tracing::debug!(%user, client = %self.peer, "POP3 login refused");
            self.conn.reply("-ERR [AUTH] invalid user name or password");
            return;
        }
        let owner = Owner::of_login(&user);
        match self.ctx.store.maildrop(owner.clone()).await {
            Ok(entries) => {
                let drop = Maildrop::new(entries);
                let (count, octets) = drop.stat();
                self.conn.reply(&format!(
                    "+OK {user}'s maildrop has {count} messages ({octets} octets)"
                ));
                self.state = State::Transaction { owner, drop };
            }
            Err(error) => {
                tracing::error!(%error, "cannot read a maildrop");
                self.conn.reply("-ERR [SYS/TEMP] cannot open the maildrop");
            }
        }
    }

    async fn authenticate(
        &mut self,
        mechanism: Option<String>,
        initial: Option<String>,
    ) -> Result<(), Interrupt> {
        let Some(name) = mechanism else {
            // RFC 5034 §4: AUTH without a mechanism lists them.
            self.conn.reply("+OK");
            self.conn.reply("PLAIN");
            self.conn.reply("LOGIN");
            self.conn.reply(".");
            return Ok(());
        };
        let Some(mechanism) = Mechanism::parse(&name).filter(|m| *m != Mechanism::CramMd5) else {
            self.conn.reply("-ERR unsupported authentication mechanism");
            return Ok(());
        };
        let credentials = self.ctx.settings.credentials.clone();
        let (mut exchange, mut step) = Exchange::start(
            mechanism,
            initial.as_deref(),
            &self.ctx.settings.hostname,
            &credentials,
        );
        loop {
            match step {
                Step::Challenge(challenge) => {
                    self.conn.reply(&format!("+ {}", BASE64.encode(challenge)));
                    let line = match self.conn.line(MAX_AUTH_LINE).await? {
                        Line::Complete(line) => line,
                        Line::TooLong => {
                            self.conn.reply("-ERR line too long");
                            return Ok(());
                        }
                    };
                    step = exchange.respond(&String::from_utf8_lossy(&line), &credentials);
                }
                Step::Success(user) => {
                    self.login(user, true).await;
                    return Ok(());
                }
                Step::Failure => {
                    self.conn.reply("-ERR [AUTH] invalid user name or password");
                    return Ok(());
                }
                Step::Malformed => {
                    self.conn
                        .reply("-ERR cannot decode the authentication response");
                    return Ok(());
                }
                Step::Cancelled => {
                    self.conn.reply("-ERR authentication cancelled");
                    return Ok(());
                }
            }
        }
    }

    /// RFC 1939's UPDATE state: deletions take effect, then the session ends.
    async fn update(&mut self) -> Next {
        let State::Transaction { owner, drop } = &self.state else {
            unreachable!("UPDATE follows TRANSACTION");
        };
        let marked = drop.marked();
        let count = marked.len();
        let reply = if marked.is_empty() {
            "+OK Mailsink POP3 server signing off".to_owned()
        } else {
            match self
                .ctx
                .store
                .remove_from_mailbox(owner.clone(), marked)
                .await
            {
                Ok(_) => format!("+OK Mailsink POP3 server signing off ({count} messages deleted)"),
                Err(error) => {
                    tracing::error!(%error, "POP3 deletions failed");
                    "-ERR [SYS/TEMP] some deleted messages not removed".to_owned()
                }
            }
        };
        self.conn.reply(&reply);
        Next::Quit
    }
}

/// The TRANSACTION commands.
async fn transaction<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    drop: &mut Maildrop,
    ctx: &Context,
    command: Command,
) -> Result<(), Interrupt> {
    match command {
        Command::Stat => {
            let (count, octets) = drop.stat();
            conn.reply(&format!("+OK {count} {octets}"));
        }
        Command::List(None) => {
            let (count, octets) = drop.stat();
            conn.reply(&format!("+OK {count} messages ({octets} octets)"));
            for (number, entry) in drop.live() {
                conn.reply(&format!("{number} {}", entry.served_size));
            }
            conn.reply(".");
        }
        Command::List(Some(number)) => match drop.get(number) {
            Ok(entry) => conn.reply(&format!("+OK {number} {}", entry.served_size)),
            Err(missing) => conn.reply(&missing.reply(number)),
        },
        Command::Uidl(None) => {
            conn.reply("+OK unique-id listing follows");
            for (number, entry) in drop.live() {
                conn.reply(&format!("{number} {}", entry.id));
            }
            conn.reply(".");
        }
        Command::Uidl(Some(number)) => match drop.get(number) {
            Ok(entry) => conn.reply(&format!("+OK {number} {}", entry.id)),
            Err(missing) => conn.reply(&missing.reply(number)),
        },
        Command::Retr(number) => send(conn, drop, ctx, number, None).await?,
        Command::Top { message, lines } => send(conn, drop, ctx, message, Some(lines)).await?,
        Command::Dele(number) => match drop.delete(number) {
            Ok(()) => conn.reply(&format!("+OK message {number} deleted")),
            Err(missing) => conn.reply(&missing.reply(number)),
        },
        Command::Rset => {
            drop.reset();
            let (count, octets) = drop.stat();
            conn.reply(&format!(
                "+OK maildrop has {count} messages ({octets} octets)"
            ));
        }
        Command::User(_) | Command::Pass(_) | Command::Apop { .. } | Command::Auth { .. } => {
            conn.reply("-ERR already logged in");
        }
        Command::Stls => conn.reply("-ERR STLS only before logging in"),
        Command::Capa | Command::Noop | Command::Quit => {
            unreachable!("handled in every state")
        }
    }
    Ok(())
}

/// RETR (all of it) and TOP (headers and `body_lines` lines).
async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    drop: &Maildrop,
    ctx: &Context,
    number: u32,
    body_lines: Option<u32>,
) -> Result<(), Interrupt> {
    let entry = match drop.get(number) {
        Ok(entry) => entry,
        Err(missing) => {
            conn.reply(&missing.reply(number));
            return Ok(());
        }
    };
    let data = match ctx.store.raw(&entry.id).await {
        Ok(Some(data)) => data,
        // Deleted by someone else since the snapshot.
        Ok(None) => {
            conn.reply(&format!("-ERR message {number} is no longer available"));
            return Ok(());
        }
        Err(error) => {
            tracing::error!(%error, "cannot read a message for POP3");
            conn.reply("-ERR [SYS/TEMP] cannot read the message");
            return Ok(());
        }
    };
    match body_lines {
        None => conn.reply(&format!("+OK {} octets", entry.served_size)),
        Some(_) => conn.reply("+OK top of message follows"),
    }
    conn.write(&served(&data, body_lines)).await?;
    conn.reply(".");
    Ok(())
}

/// RFC 1939 §7: the digest is MD5(timestamp + secret) in lower-case hex.
fn apop_valid(credentials: &Credentials, user: &str, timestamp: &str, digest: &str) -> bool {
    match credentials {
        Credentials::AcceptAny => true,
        Credentials::Users(users) => users.get(user).is_some_and(|secret| {
            let expected = Md5::digest(format!("{timestamp}{secret}"));
            let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
            hex.eq_ignore_ascii_case(digest)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apop_digest_of_rfc_1939() {
        let users: Credentials = "mrose:tanstaaf".parse().expect("valid");
        let timestamp = "<1896.697170952@dbc.mtview.ca.us>";
        assert!(apop_valid(
            &users,
            "mrose",
            timestamp,
            "c4c9334bac560ecc979e58001b3e22fb"
        ));
        assert!(!apop_valid(
            &users,
            "mrose",
            timestamp,
            "00000000000000000000000000000000"
        ));
        assert!(!apop_valid(
            &users,
            "nobody",
            timestamp,
            "c4c9334bac560ecc979e58001b3e22fb"
        ));
        assert!(apop_valid(&Credentials::AcceptAny, "x", timestamp, "junk"));
    }
}
