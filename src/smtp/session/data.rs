//! The message itself: DATA and BDAT (RFC 3030), the trace headers, and the
//! commit that must succeed before the 250.

use std::net::SocketAddr;

use chrono::Utc;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Chunks, Context, Greeting, Next, Phase, Session, TOO_LARGE, Transaction};
use crate::net::conn::Interrupt;
use crate::smtp::conn::Body;
use crate::smtp::trace;
use crate::store::{Envelope, MessageId, NewMessage};

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(super) async fn data(&mut self) -> Result<Next, Interrupt> {
        let (greeting, tx) = match &self.phase {
            Phase::Mail(_, tx) if tx.chunks.is_some() => {
                self.conn.reply("503 5.5.1 Error: DATA after BDAT");
                return Ok(Next::Continue);
            }
            Phase::Mail(greeting, tx) if !tx.recipients.is_empty() => (greeting, tx),
            phase => {
                self.conn.reply(not_ready(phase));
                return Ok(Next::Continue);
            }
        };
        self.conn.reply("354 End data with <CR><LF>.<CR><LF>");
        let id = MessageId::generate();
        let client = Client::of(self.peer, self.tls, &self.auth_user);
        let mut data = trace_headers(&self.ctx, &client, greeting, tx, &id);
        let max = self.ctx.settings.max_message_size;
        match self.conn.data(&mut data, max).await? {
            Body::TooLarge => {
                self.end_transaction();
                self.ctx.stats.rejected();
                self.conn.reply(TOO_LARGE);
            }
            Body::Complete => self.deliver(id, data).await,
        }
        Ok(Next::Continue)
    }

    pub(super) async fn bdat(&mut self, size: usize, last: bool) -> Result<Next, Interrupt> {
        let max = self.ctx.settings.max_message_size;
        let (greeting, tx) = match &mut self.phase {
            Phase::Mail(greeting, tx) if !tx.recipients.is_empty() => (greeting, tx),
            phase => {
                let reply = not_ready(phase);
                // RFC 3030 §3: the chunk is read even when the command is refused.
                self.conn.chunk(size, None).await?;
                self.conn.reply(reply);
                return Ok(Next::Continue);
            }
        };
        if tx.chunks.is_none() {
            let id = MessageId::generate();
            let client = Client::of(self.peer, self.tls, &self.auth_user);
            let data = trace_headers(&self.ctx, &client, greeting, tx, &id);
            tx.chunks = Some(Chunks {
                id,
                header_len: data.len(),
                data,
                too_large: false,
            });
        }
        let chunks = tx.chunks.as_mut().expect("the chunk buffer exists now");
        if !chunks.too_large && chunks.data.len() - chunks.header_len + size <= max {
            self.conn.chunk(size, Some(&mut chunks.data)).await?;
        } else {
            chunks.too_large = true;
            chunks.data.truncate(chunks.header_len);
            self.conn.chunk(size, None).await?;
        }
        if !last {
            let reply = if chunks.too_large {
                TOO_LARGE.to_owned()
            } else {
                format!("250 2.0.0 {size} octets received")
            };
            self.conn.reply(&reply);
            return Ok(Next::Continue);
        }
        let chunks = tx.chunks.take().expect("the chunk buffer exists now");
        if chunks.too_large {
            self.end_transaction();
            self.ctx.stats.rejected();
            self.conn.reply(TOO_LARGE);
        } else {
            self.deliver(chunks.id, chunks.data).await;
        }
        Ok(Next::Continue)
    }

    /// Commits the message, then answers: 250 only once it is durable.
    pub(super) async fn deliver(&mut self, id: MessageId, data: Vec<u8>) {
        let Phase::Mail(greeting, tx) = std::mem::take(&mut self.phase) else {
            unreachable!("deliver is only called inside a transaction");
        };
        let envelope = Envelope {
            mail_from: tx.mail_from,
            recipients: tx.recipients,
            helo: greeting.name.clone(),
            client_addr: self.peer.to_string(),
            auth_user: self.auth_user.clone(),
            tls: self.tls,
            dsn_ret: tx.dsn_ret,
            dsn_envid: tx.dsn_envid,
        };
        self.phase = Phase::Greeted(greeting);
        let size = data.len();
        let recipients = envelope.recipients.len();
        let message = NewMessage::new(id, Utc::now(), envelope, data);
        match self.ctx.store.insert(message).await {
            Ok(meta) => {
                self.ctx.stats.accepted(size);
                tracing::info!(
                    id = %meta.id,
                    from = %meta.envelope.mail_from,
                    recipients,
                    size,
                    client = %self.peer,
                    "message accepted"
                );
                self.conn
                    .reply(&format!("250 2.0.0 Ok: queued as {}", meta.id));
            }
            Err(error) => {
                self.ctx.stats.rejected();
                tracing::error!(%error, client = %self.peer, "cannot store a message");
                self.conn
                    .reply("451 4.3.0 Error: cannot store the message, try again later");
            }
        }
    }
}

/// Why DATA or BDAT cannot start a message in this phase.
fn not_ready(phase: &Phase) -> &'static str {
    match phase {
        Phase::Mail(..) => "554 5.5.1 Error: no valid recipients",
        Phase::Connected | Phase::Greeted(_) => "503 5.5.1 Error: need RCPT command",
    }
}

/// What the trace headers say about the client.
struct Client<'a> {
    peer: SocketAddr,
    tls: bool,
    auth_user: &'a Option<String>,
}

impl<'a> Client<'a> {
    fn of(peer: SocketAddr, tls: bool, auth_user: &'a Option<String>) -> Self {
        Self {
            peer,
            tls,
            auth_user,
        }
    }
}

fn trace_headers(
    ctx: &Context,
    client: &Client<'_>,
    greeting: &Greeting,
    tx: &Transaction,
    id: &MessageId,
) -> Vec<u8> {
    trace::headers(&trace::Trace {
        mail_from: &tx.mail_from,
        helo: &greeting.name,
        peer: client.peer.ip(),
        hostname: &ctx.settings.hostname,
        id,
        protocol: trace::protocol(
            greeting.extended,
            tx.smtputf8,
            client.tls,
            client.auth_user.is_some(),
        ),
        at: Utc::now(),
    })
}
