//! `--imap`: IMAP against a full mailbox.
//!
//! Mailsink is filled by the pipelining client with messages all addressed
//! to [`MAILBOX`]. One plain-TCP IMAP session logs in as that mailbox and
//! times `SELECT INBOX` and `FETCH 1:* (FLAGS ENVELOPE)` over the first
//! `messages` (SPEC §11: under 1 s for 10,000). The mailbox is then filled
//! up to `search_messages` and the session times two searches: one on flags
//! and size, which the view answers without reading a message, and one on
//! the Subject, which reads and decodes every message. Last, a second
//! session idles on INBOX while mail is sent over SMTP one message at a
//! time; each notification's latency is the time from the SMTP `250` to the
//! untagged `EXISTS` (SPEC §6: under 100 ms).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::time::{sleep, timeout};

use crate::machine::{self, Machine};
use crate::pipeline::{self, Addressing, PipelineOutcome};
use crate::report;
use crate::server::{self, Server};
use crate::smtp::{CLIENT_NAME, Connection, SENDER};
use crate::throughput::per_second;

/// The one recipient of every message, and the IMAP login.
const MAILBOX: &str = "imap@example.com";
/// Body size of every message.
const BODY_BYTES: usize = 1024;
/// IDLE notifications timed.
const IDLE_ROUNDS: u32 = 50;
const READY_LIMIT: Duration = Duration::from_secs(30);
const COMMAND_LIMIT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(100);

/// What `--imap` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Messages in the mailbox for FETCH.
    pub messages: u32,
    /// Messages in the mailbox for SEARCH (at least `messages`).
    pub search_messages: u32,
    /// Connections of the pipelining client while filling.
    pub fill_connections: u32,
}

/// One timed command.
struct Timed {
    elapsed: Duration,
    /// Untagged responses counted (FETCH responses, SEARCH hits).
    count: u64,
}

pub async fn run(
    mailsink_binary: &Path,
    machine: &Machine,
    settings: Settings,
    dir: &Path,
) -> Result<String> {
    let mut mailsink = server::start_mailsink_with_imap(mailsink_binary, dir).await?;
    let imap_addr = mailsink
        .imap_addr()
        .context("Mailsink was started without IMAP")?;
    let fetch_fill = fill(&mut mailsink, settings.messages, settings.fill_connections).await?;
    let mut session = Session::connect(imap_addr, &mut mailsink).await?;
    session.command("LOGIN imap@example.com x").await?;
    let select = session.timed("SELECT INBOX", "EXISTS").await?;
    eprintln!(
        "imap: FETCH 1:* (FLAGS ENVELOPE) of {} messages",
        settings.messages
    );
    let fetch = session.timed("FETCH 1:* (FLAGS ENVELOPE)", "FETCH").await?;

    let more = settings.search_messages.saturating_sub(settings.messages);
    let search_fill = if more > 0 {
        Some(fill(&mut mailsink, more, settings.fill_connections).await?)
    } else {
        None
    };
    session.command("SELECT INBOX").await?;
    eprintln!("imap: SEARCH over {} messages", settings.search_messages);
    let search_index = session
        .timed("SEARCH UNSEEN LARGER 100 NOT DELETED", "SEARCH")
        .await?;
    let search_content = session
        .timed("SEARCH SUBJECT \"nothing-matches\"", "SEARCH")
        .await?;

    eprintln!("imap: {IDLE_ROUNDS} IDLE notifications");
    let idle = idle_latencies(imap_addr, mailsink.addr(), &mut mailsink).await?;
    mailsink.ensure_running()?;
    let rss = machine::memory_kib(mailsink.pid(), "VmRSS")?;
    let mut out = String::new();
    let report = Report {
        settings,
        fetch_fill: &fetch_fill,
        search_fill: search_fill.as_ref(),
        select: &select,
        fetch: &fetch,
        search_index: &search_index,
        search_content: &search_content,
        idle: &idle,
        rss,
    };
    write_report(&mut out, machine, &mailsink, &report).context("formatting the report")?;
    Ok(out)
}

/// Sends `messages` messages to [`MAILBOX`] with the pipelining client.
async fn fill(mailsink: &mut Server, messages: u32, connections: u32) -> Result<PipelineOutcome> {
    eprintln!(
        "imap: filling Mailsink with {messages} messages of {} to {MAILBOX}",
        report::size_label(BODY_BYTES)
    );
    let outcome = pipeline::fill(mailsink.addr(), messages, connections, BODY_BYTES, |_| {
        Addressing::Fixed(MAILBOX)
    })
    .await;
    mailsink.ensure_running()?;
    ensure!(
        outcome.failed == 0,
        "filling failed: {} of {messages} messages not accepted; first error: {}",
        outcome.failed,
        outcome.first_error.as_deref().unwrap_or("none recorded")
    );
    Ok(outcome)
}

/// A line-level IMAP session.
struct Session {
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
    tag: u32,
    line: Vec<u8>,
}

impl Session {
    async fn connect(addr: SocketAddr, mailsink: &mut Server) -> Result<Self> {
        let deadline = Instant::now() + READY_LIMIT;
        let stream = loop {
            mailsink.ensure_running()?;
            match TcpStream::connect(addr).await {
                Ok(stream) => break stream,
                Err(error) => ensure!(
                    Instant::now() < deadline,
                    "Mailsink's IMAP listener on {addr} did not accept within {READY_LIMIT:?}: {error}"
                ),
            }
            sleep(POLL).await;
        };
        let (read, write) = stream.into_split();
        let mut session = Self {
            read: BufReader::new(read),
            write,
            tag: 0,
            line: Vec::new(),
        };
        session.read_line().await?;
        ensure!(
            session.line.starts_with(b"* OK"),
            "greeting: {}",
            session.quote()
        );
        Ok(session)
    }

    /// Reads one response line; a literal at its end is read and skipped.
    async fn read_line(&mut self) -> Result<()> {
        self.line.clear();
        loop {
            let start = self.line.len();
            let n = timeout(COMMAND_LIMIT, self.read.read_until(b'\n', &mut self.line))
                .await
                .map_err(|_| anyhow!("no answer within {COMMAND_LIMIT:?}"))?
                .context("reading from the IMAP server")?;
            if n == 0 {
                bail!("the IMAP server closed the connection");
            }
            let Some(length) = literal_length(&self.line[start..]) else {
                return Ok(());
            };
            let mut skip = vec![0; length];
            self.read
                .read_exact(&mut skip)
                .await
                .context("reading a literal")?;
        }
    }

    fn quote(&self) -> String {
        String::from_utf8_lossy(&self.line)
            .trim_end()
            .chars()
            .take(200)
            .collect()
    }

    /// Sends a command and counts the untagged responses naming `counted`
    /// until the tagged OK.
    async fn timed(&mut self, command: &str, counted: &str) -> Result<Timed> {
        let started = Instant::now();
        let count = self.run(command, counted).await?;
        Ok(Timed {
            elapsed: started.elapsed(),
            count,
        })
    }

    async fn command(&mut self, command: &str) -> Result<()> {
        self.run(command, "").await.map(|_| ())
    }

    async fn run(&mut self, command: &str, counted: &str) -> Result<u64> {
        self.tag += 1;
        let tag = format!("b{}", self.tag);
        self.write
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .await
            .context("sending to the IMAP server")?;
        let tagged = format!("{tag} ");
        let mut count = 0;
        loop {
            self.read_line().await?;
            if self.line.starts_with(tagged.as_bytes()) {
                ensure!(
                    self.line[tagged.len()..].starts_with(b"OK"),
                    "{command}: {}",
                    self.quote()
                );
                return Ok(count);
            }
            if counted.is_empty() || !self.line.starts_with(b"* ") {
                continue;
            }
            let text = String::from_utf8_lossy(&self.line);
            if counted == "SEARCH" {
                if let Some(hits) = text.trim_end().strip_prefix("* SEARCH") {
                    count += hits.split_whitespace().count() as u64;
                }
            } else if text.split_whitespace().nth(2) == Some(counted)
                || text.split_whitespace().nth(1) == Some(counted)
            {
                count += 1;
            }
        }
    }
}

/// The length of a literal announced at the end of `line` (`{n}\r\n`).
fn literal_length(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\r\n")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = line[open + 1..].strip_suffix(b"}")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Times IDLE notifications: a session idles on INBOX; each round sends one
/// message over SMTP and waits for the untagged EXISTS.
async fn idle_latencies(
    imap: SocketAddr,
    smtp: SocketAddr,
    mailsink: &mut Server,
) -> Result<Vec<Duration>> {
    let mut session = Session::connect(imap, mailsink).await?;
    session.command("LOGIN imap@example.com x").await?;
    session.command("SELECT INBOX").await?;
    session
        .write
        .write_all(b"idle IDLE\r\n")
        .await
        .context("sending IDLE")?;
    session.read_line().await?;
    ensure!(session.line.starts_with(b"+"), "IDLE: {}", session.quote());
    let (mut smtp, _) = Connection::open(smtp).await?;
    smtp.command(&format!("EHLO {CLIENT_NAME}")).await?;
    let mut latencies = Vec::with_capacity(IDLE_ROUNDS as usize);
    for round in 0..IDLE_ROUNDS {
        smtp.command(&format!("MAIL FROM:<{SENDER}>")).await?;
        smtp.command(&format!("RCPT TO:<{MAILBOX}>")).await?;
        smtp.command("DATA").await?;
        smtp.send(format!("Subject: idle {round}\r\n\r\nWake up.\r\n.\r\n").as_bytes())
            .await?;
        smtp.flush().await?;
        let reply = smtp.reply().await?;
        let accepted = Instant::now();
        ensure!(reply.code == 250, "DATA: {reply}");
        loop {
            session.read_line().await?;
            if session.line.ends_with(b" EXISTS\r\n") {
                break;
            }
        }
        latencies.push(accepted.elapsed());
    }
    smtp.quit().await;
    session
        .write
        .write_all(b"DONE\r\n")
        .await
        .context("ending IDLE")?;
    Ok(latencies)
}

struct Report<'a> {
    settings: Settings,
    fetch_fill: &'a PipelineOutcome,
    search_fill: Option<&'a PipelineOutcome>,
    select: &'a Timed,
    fetch: &'a Timed,
    search_index: &'a Timed,
    search_content: &'a Timed,
    idle: &'a [Duration],
    rss: u64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn write_report(
    out: &mut String,
    machine: &Machine,
    mailsink: &Server,
    r: &Report<'_>,
) -> std::fmt::Result {
    let s = r.settings;
    writeln!(out, "# Mailsink IMAP benchmark\n")?;
    report::machine_lines(out, machine)?;
    writeln!(
        out,
        "- Mailbox: messages of {} body to `{MAILBOX}`, sent by the pipelining client \
         ({} messages in {:.1} s, {:.0} msg/s).",
        report::size_label(BODY_BYTES),
        s.messages,
        r.fetch_fill.elapsed.as_secs_f64(),
        per_second(r.fetch_fill.accepted, r.fetch_fill.elapsed),
    )?;
    if let Some(fill) = r.search_fill {
        writeln!(
            out,
            "- Then filled up to {} messages for SEARCH ({:.1} s).",
            s.search_messages,
            fill.elapsed.as_secs_f64()
        )?;
    }
    writeln!(
        out,
        "- One plain IMAP connection over loopback, commands one at a time; each time \
         runs from the command's write to its tagged `OK`. IDLE latency runs from the \
         SMTP `250` to the untagged `EXISTS` on another connection idling on INBOX. \
         The clients and Mailsink share the machine.\n"
    )?;
    writeln!(out, "| measure | value | target |")?;
    writeln!(out, "|---|---:|---:|")?;
    writeln!(
        out,
        "| `SELECT INBOX` ({} messages) | {:.1} ms | |",
        s.messages,
        ms(r.select.elapsed)
    )?;
    writeln!(
        out,
        "| `FETCH 1:* (FLAGS ENVELOPE)` ({} FETCH responses) | {:.0} ms | < 1000 ms |",
        r.fetch.count,
        ms(r.fetch.elapsed)
    )?;
    writeln!(
        out,
        "| `SEARCH UNSEEN LARGER 100 NOT DELETED` over {} ({} hits) | {:.0} ms | |",
        s.search_messages,
        r.search_index.count,
        ms(r.search_index.elapsed)
    )?;
    writeln!(
        out,
        "| `SEARCH SUBJECT …` over {} (reads every message) | {:.0} ms | |",
        s.search_messages,
        ms(r.search_content.elapsed)
    )?;
    let mut idle = r.idle.to_vec();
    idle.sort();
    if !idle.is_empty() {
        let pick = |q: f64| idle[((idle.len() - 1) as f64 * q).round() as usize];
        writeln!(
            out,
            "| IDLE notification, {} rounds: p50 / p90 / max | {:.2} / {:.2} / {:.2} ms | < 100 ms |",
            idle.len(),
            ms(pick(0.5)),
            ms(pick(0.9)),
            ms(pick(1.0))
        )?;
    }
    writeln!(out, "| Mailsink VmRSS after | {} | |", report::mib(r.rss))?;
    writeln!(out, "\nMailsink: `{}`", mailsink.command_line())
}
