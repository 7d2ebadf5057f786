//! Our own load client. smtp-source waits for each reply before sending the
//! next command, so with it the client's round trips can be the limit. This
//! client keeps many connections open and pipelines every transaction
//! (RFC 2920: MAIL, RCPT and DATA in one write, then the body), or sends it
//! whole as one BDAT chunk (RFC 3030), to find the server's own ceiling.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::smtp::{CLIENT_NAME, Connection, RECIPIENT, Reply, SENDER};

/// Body line length (without CRLF), under RFC 5322's 78-character advice.
const BODY_LINE_CHARS: usize = 76;

/// One run of the client.
#[derive(Debug, Clone, Copy)]
pub struct PipelineLoad {
    pub connections: u32,
    pub messages_per_connection: u32,
    /// Body size in bytes, headers not included, as smtp-source's `-l`.
    pub body_bytes: usize,
    /// Send each message as one `BDAT n LAST` chunk instead of DATA.
    pub bdat: bool,
}

impl PipelineLoad {
    pub fn total_messages(&self) -> u64 {
        u64::from(self.connections) * u64::from(self.messages_per_connection)
    }
}

/// How one run went.
pub struct PipelineOutcome {
    /// Messages that got a 2xx for their final reply.
    pub accepted: u64,
    /// Messages rejected, or never sent because their connection failed.
    pub failed: u64,
    pub elapsed: Duration,
    /// The first rejection or connection error, to show in the report.
    pub first_error: Option<String>,
}

/// What the connection tasks share.
#[derive(Default)]
struct Shared {
    accepted: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn note_error(&self, error: String) {
        // A poisoned lock only means another task panicked mid-update of an
        // Option; its content is still usable.
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(error);
    }
}

/// What every message of a run has in common, built once per run.
struct Payload {
    /// MAIL and RCPT, which open every transaction.
    envelope: Vec<u8>,
    body: Vec<u8>,
    date: String,
    /// Distinguishes Message-IDs of different runs into the same database.
    run_id: u64,
}

impl Payload {
    fn new(body_bytes: usize) -> Self {
        Self {
            envelope: format!("MAIL FROM:<{SENDER}>\r\nRCPT TO:<{RECIPIENT}>\r\n").into_bytes(),
            body: message_body(body_bytes),
            date: chrono::Utc::now().to_rfc2822(),
            run_id: rand::random(),
        }
    }

    /// Headers with a unique Message-ID, as a real client would send.
    fn header(&self, connection: u32, sequence: u32) -> Vec<u8> {
        let (run, date) = (self.run_id, &self.date);
        format!(
            "From: <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nDate: {date}\r\n\
             Subject: Mailsink bench {connection}.{sequence}\r\n\
             Message-ID: <{run:016x}.{connection}.{sequence}@{CLIENT_NAME}>\r\n\r\n"
        )
        .into_bytes()
    }
}

/// Runs the load against `addr`; connections still busy after `limit` are
/// abandoned and their unsent messages count as failed.
pub async fn run(addr: SocketAddr, load: PipelineLoad, limit: Duration) -> PipelineOutcome {
    let payload = Arc::new(Payload::new(load.body_bytes));
    let shared = Arc::new(Shared::default());
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for connection in 0..load.connections {
        let client = Client {
            addr,
            load,
            connection,
            payload: Arc::clone(&payload),
            shared: Arc::clone(&shared),
        };
        tasks.spawn(client.run());
    }
    let all_done = async { while tasks.join_next().await.is_some() {} };
    if timeout(limit, all_done).await.is_err() {
        shared.note_error(format!("connections still busy after {limit:?}"));
        tasks.abort_all();
    }
    let elapsed = started.elapsed();
    let accepted = shared.accepted.load(Ordering::Relaxed);
    let first_error = shared
        .first_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    PipelineOutcome {
        accepted,
        failed: load.total_messages().saturating_sub(accepted),
        elapsed,
        first_error,
    }
}

/// One connection's share of the load.
struct Client {
    addr: SocketAddr,
    load: PipelineLoad,
    connection: u32,
    payload: Arc<Payload>,
    shared: Arc<Shared>,
}

impl Client {
    async fn run(self) {
        if let Err(error) = self.send_all().await {
            self.shared
                .note_error(format!("connection {}: {error:#}", self.connection));
        }
    }

    async fn send_all(&self) -> Result<()> {
        let (mut conn, greeting) = Connection::open(self.addr).await?;
        ensure!(greeting.code == 220, "greeted with {greeting}");
        let keywords = conn.ehlo().await?.ehlo_keywords();
        let needed = if self.load.bdat {
            "CHUNKING"
        } else {
            "PIPELINING"
        };
        ensure!(
            keywords.iter().any(|k| k == "PIPELINING") && keywords.iter().any(|k| k == needed),
            "the server does not announce {needed}"
        );
        for sequence in 0..self.load.messages_per_connection {
            let verdict = if self.load.bdat {
                send_bdat(&mut conn, &self.payload, self.connection, sequence).await?
            } else {
                send_data(&mut conn, &self.payload, self.connection, sequence).await?
            };
            match verdict {
                Ok(()) => {
                    self.shared.accepted.fetch_add(1, Ordering::Relaxed);
                }
                Err(rejection) => {
                    self.shared.note_error(format!("rejected: {rejection}"));
                    // Clear whatever part of the transaction was accepted so
                    // the next MAIL is not refused as nested.
                    let reset = conn.command("RSET").await?;
                    ensure!(reset.is_completion(), "RSET refused: {reset}");
                }
            }
        }
        conn.quit().await;
        Ok(())
    }
}

/// The outer `Result` is a broken connection, the inner one a rejection.
type Verdict = Result<Result<(), Reply>>;

/// MAIL, RCPT and DATA in one write; after the 354, the message and the
/// end-of-data dot in one write.
async fn send_data(
    conn: &mut Connection,
    payload: &Payload,
    connection: u32,
    sequence: u32,
) -> Verdict {
    conn.send(&payload.envelope).await?;
    conn.send(b"DATA\r\n").await?;
    conn.flush().await?;
    let mail = conn.reply().await?;
    let rcpt = conn.reply().await?;
    let data = conn.reply().await?;
    if data.code != 354 {
        return Ok(Err(first_refusal([mail, rcpt, data])));
    }
    // The body has no line starting with '.', so it needs no dot-stuffing.
    conn.send(&payload.header(connection, sequence)).await?;
    conn.send(&payload.body).await?;
    conn.send(b".\r\n").await?;
    conn.flush().await?;
    let done = conn.reply().await?;
    Ok(check_all([mail, rcpt, done]))
}

/// MAIL, RCPT and the whole message as one `BDAT n LAST` chunk, in one write.
async fn send_bdat(
    conn: &mut Connection,
    payload: &Payload,
    connection: u32,
    sequence: u32,
) -> Verdict {
    let header = payload.header(connection, sequence);
    let size = header.len() + payload.body.len();
    conn.send(&payload.envelope).await?;
    conn.send(format!("BDAT {size} LAST\r\n").as_bytes())
        .await?;
    conn.send(&header).await?;
    conn.send(&payload.body).await?;
    conn.flush().await?;
    let mail = conn.reply().await?;
    let rcpt = conn.reply().await?;
    let bdat = conn.reply().await?;
    Ok(check_all([mail, rcpt, bdat]))
}

/// Succeeds if every reply is a 2xx.
fn check_all(replies: [Reply; 3]) -> Result<(), Reply> {
    match replies.iter().find(|reply| !reply.is_completion()) {
        None => Ok(()),
        Some(refusal) => Err(refusal.clone()),
    }
}

/// The first reply that was not positive (2xx, or the 354 that asks for
/// data); the last reply if, oddly, none was.
fn first_refusal(replies: [Reply; 3]) -> Reply {
    let [mail, rcpt, data] = replies;
    [mail, rcpt]
        .into_iter()
        .find(|reply| !reply.is_completion())
        .unwrap_or(data)
}

/// A body of exactly `bytes` bytes (at least one CRLF) of short lines ending
/// in CRLF; no line starts with '.', so it is sent as is.
fn message_body(bytes: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut remaining = bytes.max(2);
    let mut body = Vec::with_capacity(remaining);
    let mut line = 0usize;
    // Every line takes at least its CRLF, so this ends.
    while remaining > 0 {
        let mut chars = (remaining - 2).min(BODY_LINE_CHARS);
        // One byte left over would fit no line; leave two, an empty line.
        if remaining - 2 - chars == 1 {
            chars -= 1;
        }
        // Start each line at a different letter so the body is not one
        // repeated block, which some storage would compress to nothing.
        body.extend((0..chars).map(|i| ALPHABET[(line + i) % ALPHABET.len()]));
        body.extend_from_slice(b"\r\n");
        remaining -= chars + 2;
        line += 1;
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_requested_size_and_needs_no_stuffing() {
        for bytes in [0, 1, 2, 3, 4, 77, 78, 79, 80, 81, 1024, 102_400] {
            let body = message_body(bytes);
            assert_eq!(body.len(), bytes.max(2), "size {bytes}");
            assert!(body.ends_with(b"\r\n"), "size {bytes}");
            let text = String::from_utf8_lossy(&body);
            assert!(text.split("\r\n").all(|line| !line.starts_with('.')));
            assert!(text.split("\r\n").all(|line| line.len() <= BODY_LINE_CHARS));
        }
    }

    fn reply(code: u16) -> Reply {
        Reply {
            code,
            lines: vec!["text".to_owned()],
        }
    }

    #[test]
    fn any_non_2xx_reply_fails_the_message() {
        assert!(check_all([reply(250), reply(250), reply(250)]).is_ok());
        assert_eq!(
            check_all([reply(250), reply(550), reply(250)]),
            Err(reply(550))
        );
        assert_eq!(
            check_all([reply(250), reply(250), reply(354)]),
            Err(reply(354))
        );
    }

    #[test]
    fn refusal_names_the_command_that_failed() {
        assert_eq!(
            first_refusal([reply(250), reply(550), reply(554)]),
            reply(550)
        );
        assert_eq!(
            first_refusal([reply(250), reply(250), reply(451)]),
            reply(451)
        );
    }
}
