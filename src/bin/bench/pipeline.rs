//! Our own load client. smtp-source waits for each reply before sending the
//! next command, so with it the client's round trips can be the limit. This
//! client keeps many connections open and pipelines every transaction
//! (RFC 2920: MAIL, RCPT and DATA in one write, then the body), or sends it
//! whole as one BDAT chunk (RFC 3030), to find the server's own ceiling.
//!
//! The API benchmark uses it too: with numbered messages to many recipients,
//! so that searches can be selective, and as a background load that runs
//! until it is told to stop.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use tokio::task::JoinSet;
use tokio::time::{MissedTickBehavior, interval, sleep};

use crate::smtp::{CLIENT_NAME, Connection, RECIPIENT, Reply, SENDER};

/// Body line length (without CRLF), under RFC 5322's 78-character advice.
const BODY_LINE_CHARS: usize = 76;
/// Distinct recipients of numbered messages: message `n` goes to
/// `user{n % USERS}@example.com`.
pub const USERS: u64 = 1000;

/// Who each message goes to and what its subject says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// Every message to one recipient ([`RECIPIENT`] for the throughput
    /// loads), subject `Mailsink bench C.S`.
    Fixed(&'static str),
    /// Message number `n` goes to [`numbered_recipient`]`(n)` with subject
    /// `order n`. Numbers start at `first` and interleave the connections
    /// (connection `c` sends `first + c`, `first + c + connections`, …), so
    /// a run that ends early leaves few gaps.
    Numbered { first: u64 },
}

/// The recipient of numbered message `n`.
pub fn numbered_recipient(n: u64) -> String {
    format!("user{}@example.com", n % USERS)
}

/// One run of the client.
#[derive(Debug, Clone, Copy)]
pub struct PipelineLoad {
    pub connections: u32,
    pub messages_per_connection: u32,
    /// Body size in bytes, headers not included, as smtp-source's `-l`.
    pub body_bytes: usize,
    /// Send each message as one `BDAT n LAST` chunk instead of DATA.
    pub bdat: bool,
    pub addressing: Addressing,
    /// Least time between the starts of two messages on one connection;
    /// `None` sends as fast as the server answers.
    pub pace: Option<Duration>,
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
    /// Messages the server refused (part of `failed`).
    pub rejected: u64,
    /// Connections that broke or could not be opened.
    pub connection_errors: u64,
    pub elapsed: Duration,
    /// The first rejection or connection error, to show in the report.
    pub first_error: Option<String>,
}

/// What the connection tasks share.
#[derive(Default)]
struct Shared {
    accepted: AtomicU64,
    rejected: AtomicU64,
    connection_errors: AtomicU64,
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
    /// MAIL and RCPT, which open every transaction, for fixed addressing.
    envelope: Vec<u8>,
    body: Vec<u8>,
    date: String,
    /// Distinguishes Message-IDs of different runs into the same database.
    run_id: u64,
    addressing: Addressing,
    connections: u32,
}

impl Payload {
    fn new(load: &PipelineLoad) -> Self {
        let to = match load.addressing {
            Addressing::Fixed(to) => to,
            Addressing::Numbered { .. } => RECIPIENT,
        };
        Self {
            envelope: format!("MAIL FROM:<{SENDER}>\r\nRCPT TO:<{to}>\r\n").into_bytes(),
            body: message_body(load.body_bytes),
            date: chrono::Utc::now().to_rfc2822(),
            run_id: rand::random(),
            addressing: load.addressing,
            connections: load.connections,
        }
    }

    /// The number of a numbered message.
    fn number(&self, first: u64, connection: u32, sequence: u32) -> u64 {
        first + u64::from(sequence) * u64::from(self.connections) + u64::from(connection)
    }

    /// MAIL and RCPT for one message.
    fn envelope(&self, connection: u32, sequence: u32) -> Cow<'_, [u8]> {
        match self.addressing {
            Addressing::Fixed(_) => Cow::Borrowed(&self.envelope),
            Addressing::Numbered { first } => {
                let to = numbered_recipient(self.number(first, connection, sequence));
                Cow::Owned(format!("MAIL FROM:<{SENDER}>\r\nRCPT TO:<{to}>\r\n").into_bytes())
            }
        }
    }

    /// Headers with a unique Message-ID, as a real client would send.
    fn header(&self, connection: u32, sequence: u32) -> Vec<u8> {
        let (run, date) = (self.run_id, &self.date);
        match self.addressing {
            Addressing::Fixed(to) => format!(
                "From: <{SENDER}>\r\nTo: <{to}>\r\nDate: {date}\r\n\
                 Subject: Mailsink bench {connection}.{sequence}\r\n\
                 Message-ID: <{run:016x}.{connection}.{sequence}@{CLIENT_NAME}>\r\n\r\n"
            ),
            Addressing::Numbered { first } => {
                let n = self.number(first, connection, sequence);
                let to = numbered_recipient(n);
                format!(
                    "From: <{SENDER}>\r\nTo: <{to}>\r\nDate: {date}\r\n\
                     Subject: order {n}\r\n\
                     Message-ID: <{run:016x}.{n}@{CLIENT_NAME}>\r\n\r\n"
                )
            }
        }
        .into_bytes()
    }
}

/// Runs the load against `addr`; connections still busy after `limit` are
/// abandoned and their unsent messages count as failed.
pub async fn run(addr: SocketAddr, load: PipelineLoad, limit: Duration) -> PipelineOutcome {
    let (mut outcome, finished) = run_until(addr, load, sleep(limit)).await;
    if !finished {
        outcome
            .first_error
            .get_or_insert(format!("connections still busy after {limit:?}"));
    }
    outcome
}

/// Sends `messages` messages of `body_bytes` over `connections` pipelining
/// connections: an equal share per connection, then the remainder one per
/// connection. `addressing` gets the number of the first message of a run.
pub async fn fill(
    addr: SocketAddr,
    messages: u32,
    connections: u32,
    body_bytes: usize,
    addressing: fn(u64) -> Addressing,
) -> PipelineOutcome {
    let connections = connections.min(messages).max(1);
    let share = messages / connections;
    let remainder = messages % connections;
    let limit = crate::throughput::run_limit(u64::from(messages));
    let load = |connections, messages_per_connection, first| PipelineLoad {
        connections,
        messages_per_connection,
        body_bytes,
        bdat: false,
        addressing: addressing(first),
        pace: None,
    };
    let mut outcome = run(addr, load(connections, share, 0), limit).await;
    if remainder > 0 {
        let first = u64::from(connections) * u64::from(share);
        let rest = run(addr, load(remainder, 1, first), limit).await;
        outcome.accepted += rest.accepted;
        outcome.failed += rest.failed;
        outcome.rejected += rest.rejected;
        outcome.connection_errors += rest.connection_errors;
        outcome.elapsed += rest.elapsed;
        outcome.first_error = outcome.first_error.or(rest.first_error);
    }
    outcome
}

/// Runs the load against `addr` until every connection is done or `stop`
/// completes; connections still busy then are abandoned mid-message. The
/// flag says whether every connection finished.
pub async fn run_until(
    addr: SocketAddr,
    load: PipelineLoad,
    stop: impl Future<Output = ()>,
) -> (PipelineOutcome, bool) {
    let payload = Arc::new(Payload::new(&load));
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
    let finished = tokio::select! {
        () = all_done => true,
        () = stop => false,
    };
    if !finished {
        tasks.abort_all();
    }
    let elapsed = started.elapsed();
    let accepted = shared.accepted.load(Ordering::Relaxed);
    let first_error = shared
        .first_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let outcome = PipelineOutcome {
        accepted,
        failed: load.total_messages().saturating_sub(accepted),
        rejected: shared.rejected.load(Ordering::Relaxed),
        connection_errors: shared.connection_errors.load(Ordering::Relaxed),
        elapsed,
        first_error,
    };
    (outcome, finished)
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
                .connection_errors
                .fetch_add(1, Ordering::Relaxed);
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
        let mut pace = self.load.pace.map(|period| {
            let mut ticks = interval(period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks
        });
        for sequence in 0..self.load.messages_per_connection {
            if let Some(ticks) = &mut pace {
                ticks.tick().await;
            }
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
                    self.shared.rejected.fetch_add(1, Ordering::Relaxed);
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
    conn.send(&payload.envelope(connection, sequence)).await?;
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
    conn.send(&payload.envelope(connection, sequence)).await?;
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

    fn load(addressing: Addressing) -> PipelineLoad {
        PipelineLoad {
            connections: 3,
            messages_per_connection: 2,
            body_bytes: 100,
            bdat: false,
            addressing,
            pace: None,
        }
    }

    #[test]
    fn numbered_messages_interleave_connections_and_spread_recipients() {
        let payload = Payload::new(&load(Addressing::Numbered { first: 1998 }));
        // Connection 1, second message: 1998 + 1 * 3 + 1.
        let header = String::from_utf8(payload.header(1, 1)).expect("ASCII");
        assert!(header.contains("To: <user2@example.com>\r\n"), "{header}");
        assert!(header.contains("Subject: order 2002\r\n"), "{header}");
        let envelope = payload.envelope(1, 1);
        assert_eq!(
            envelope.as_ref(),
            b"MAIL FROM:<bench@example.com>\r\nRCPT TO:<user2@example.com>\r\n"
        );
        let mut numbers: Vec<u64> = (0..3)
            .flat_map(|c| (0..2).map(move |s| (c, s)))
            .map(|(c, s)| payload.number(1998, c, s))
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1998..2004).collect::<Vec<_>>());
    }

    #[test]
    fn fixed_messages_keep_the_one_recipient() {
        let payload = Payload::new(&load(Addressing::Fixed(RECIPIENT)));
        let header = String::from_utf8(payload.header(2, 1)).expect("ASCII");
        assert!(
            header.contains(&format!("To: <{RECIPIENT}>\r\n")),
            "{header}"
        );
        assert!(
            header.contains("Subject: Mailsink bench 2.1\r\n"),
            "{header}"
        );
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
