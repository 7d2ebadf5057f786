//! AUTH (RFC 4954): PLAIN, LOGIN and CRAM-MD5 through the shared SASL
//! exchanges of [`crate::auth`].

use tokio::io::{AsyncRead, AsyncWrite};

use super::{Line, MAX_AUTH_LINE, Next, Phase, Session};
use crate::auth::{Exchange, Mechanism, Step};
use crate::net::conn::Interrupt;

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(super) async fn auth(
        &mut self,
        mechanism: u64,
        initial: String,
    ) -> Result<Next, Interrupt> {
        if self.auth_user.is_some() {
            self.conn.reply("503 5.5.1 Error: already authenticated");
            return Ok(Next::Continue);
        }
        match self.phase {
            Phase::Connected => {
                self.conn.reply("503 5.5.1 Error: send EHLO first");
                return Ok(Next::Continue);
            }
            Phase::Mail(..) => {
                self.conn
                    .reply("503 5.5.1 Error: MAIL transaction in progress");
                return Ok(Next::Continue);
            }
            Phase::Greeted(_) => {}
        }
        let mechanism = match mechanism {
            smtp_proto::AUTH_PLAIN => Mechanism::Plain,
            smtp_proto::AUTH_LOGIN => Mechanism::Login,
            smtp_proto::AUTH_CRAM_MD5 => Mechanism::CramMd5,
            _ => {
                self.conn
                    .reply("504 5.5.4 Error: unrecognized authentication type");
                return Ok(Next::Continue);
            }
        };
        let initial = (!initial.is_empty()).then_some(initial.as_str());
        let credentials = &self.ctx.settings.credentials;
        let (mut exchange, mut step) =
            Exchange::start(mechanism, initial, &self.ctx.settings.hostname, credentials);
        loop {
            match step {
                Step::Challenge(challenge) => {
                    use base64::Engine;
                    let encoded = base64::engine::general_purpose::STANDARD.encode(challenge);
                    self.conn.reply(&format!("334 {encoded}"));
                    let line = match self.conn.line(MAX_AUTH_LINE).await? {
                        Line::Complete(line) => line,
                        Line::TooLong => {
                            self.conn
                                .reply("500 5.5.6 Error: authentication line too long");
                            return Ok(Next::Continue);
                        }
                    };
                    let text = String::from_utf8_lossy(&line);
                    step = exchange.respond(&text, &self.ctx.settings.credentials);
                }
                Step::Success(user) => {
                    tracing::debug!(%user, client = %self.peer, "authenticated");
                    self.auth_user = Some(user);
                    self.conn.reply("235 2.7.0 Authentication successful");
                    return Ok(Next::Continue);
                }
                Step::Failure => {
                    self.conn.reply("535 5.7.8 Error: authentication failed");
                    return Ok(Next::Continue);
                }
                Step::Malformed => {
                    self.conn
                        .reply("501 5.5.2 Error: cannot decode the authentication response");
                    return Ok(Next::Continue);
                }
                Step::Cancelled => {
                    self.conn.reply("501 5.7.0 Error: authentication cancelled");
                    return Ok(Next::Continue);
                }
            }
        }
    }
}
