//! `--pop3`: how fast one POP3 session downloads a full maildrop.
//!
//! Mailsink is filled by the pipelining client with messages all addressed
//! to [`MAILBOX`]. One plain-TCP POP3 session then logs in as that mailbox
//! (Mailsink snapshots the maildrop at PASS), asks for STAT, and retrieves
//! every message with `RETR` commands pipelined in batches, reading each
//! answer up to its terminating `.` line.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::time::{sleep, timeout};

use crate::machine::{self, Machine};
use crate::pipeline::{self, Addressing, PipelineOutcome};
use crate::report;
use crate::server::{self, Server};
use crate::throughput::{per_second, run_limit};

/// The one recipient of every message, and the POP3 login.
const MAILBOX: &str = "pop@example.com";
/// Any password is accepted: Mailsink starts without POP3 credentials.
const PASSWORD: &str = "x";
/// Body size of every message.
const BODY_BYTES: usize = 1024;
/// RETR commands sent in one write.
const BATCH: u32 = 100;
/// Batches written before their answers are read: one answered while the
/// next is already queued, so the server never waits for the client.
const BATCHES_IN_FLIGHT: u32 = 2;
/// How long the POP3 listener may take to greet, and one command to answer.
const READY_LIMIT: Duration = Duration::from_secs(30);
const COMMAND_LIMIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);
/// Characters of an unexpected line quoted in a failure.
const QUOTE_CHARS: usize = 200;

/// What `--pop3` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Messages in the maildrop.
    pub messages: u32,
    /// Connections of the pipelining client while filling.
    pub fill_connections: u32,
}

/// How the download went.
struct Download {
    /// Time from USER's write to PASS's `+OK`: the maildrop snapshot.
    login: Duration,
    /// Time from STAT's write to its answer.
    stat: Duration,
    /// The message count STAT reported.
    stat_count: u64,
    /// Time from the first RETR write to the last message's final line.
    retr: Duration,
    /// Messages that came back with `+OK` and a non-empty body.
    retrieved: u64,
    /// RETRs answered `-ERR` or with an empty body.
    failed: u64,
    /// Body bytes received, dot-stuffing included, status and final lines
    /// not.
    bytes: u64,
    first_failure: Option<String>,
}

pub async fn run(
    mailsink_binary: &Path,
    machine: &Machine,
    settings: Settings,
    dir: &Path,
) -> Result<String> {
    let mut mailsink = server::start_mailsink_with_pop3(mailsink_binary, dir).await?;
    let pop3_addr = mailsink
        .pop3_addr()
        .context("Mailsink was started without POP3")?;
    let expected = u64::from(settings.messages);
    eprintln!(
        "pop3: filling Mailsink with {expected} messages of {} to {MAILBOX} ({} connections)",
        report::size_label(BODY_BYTES),
        settings.fill_connections
    );
    let fill = fill(&mailsink, settings).await;
    mailsink.ensure_running()?;
    ensure!(
        fill.failed == 0,
        "filling failed: {} of {expected} messages not accepted; first error: {}",
        fill.failed,
        fill.first_error.as_deref().unwrap_or("none recorded")
    );
    eprintln!(
        "pop3: filled in {:.1} s ({:.0} msg/s)",
        fill.elapsed.as_secs_f64(),
        per_second(fill.accepted, fill.elapsed)
    );
    let stream = connect(pop3_addr, &mut mailsink).await?;
    eprintln!("pop3: retrieving {expected} messages over one connection");
    let limit = run_limit(expected);
    let download = timeout(limit, download(stream, settings.messages))
        .await
        .map_err(|_| anyhow!("the download did not finish within {limit:?}"))??;
    mailsink.ensure_running()?;
    let rss = machine::memory_kib(mailsink.pid(), "VmRSS")?;
    eprintln!(
        "pop3: {} retrieved, {} failed in {:.2} s",
        download.retrieved,
        download.failed,
        download.retr.as_secs_f64()
    );
    let mut out = String::new();
    write_report(
        &mut out, machine, &mailsink, settings, &fill, &download, rss,
    )
    .context("formatting the report")?;
    Ok(out)
}

/// Fills the maildrop: an equal share per connection, then the remainder
/// one per connection.
async fn fill(mailsink: &Server, settings: Settings) -> PipelineOutcome {
    pipeline::fill(
        mailsink.addr(),
        settings.messages,
        settings.fill_connections,
        BODY_BYTES,
        |_| Addressing::Fixed(MAILBOX),
    )
    .await
}

/// Connects to the POP3 listener, retrying while it starts.
async fn connect(addr: SocketAddr, mailsink: &mut Server) -> Result<TcpStream> {
    let deadline = Instant::now() + READY_LIMIT;
    loop {
        mailsink.ensure_running()?;
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(error) => ensure!(
                Instant::now() < deadline,
                "Mailsink's POP3 listener on {addr} did not accept within {READY_LIMIT:?}: {error}"
            ),
        }
        sleep(POLL).await;
    }
}

/// One POP3 session over `stream`: login, STAT, RETR 1 … `messages`, QUIT.
async fn download(mut stream: TcpStream, messages: u32) -> Result<Download> {
    let (read, mut write) = stream.split();
    let mut read = BufReader::new(read);
    let mut line = Vec::new();
    expect_ok(&mut read, &mut line, "the greeting").await?;

    let started = Instant::now();
    send(&mut write, format!("USER {MAILBOX}\r\n").as_bytes()).await?;
    expect_ok(&mut read, &mut line, "USER").await?;
    send(&mut write, format!("PASS {PASSWORD}\r\n").as_bytes()).await?;
    expect_ok(&mut read, &mut line, "PASS").await?;
    let login = started.elapsed();

    let started = Instant::now();
    send(&mut write, b"STAT\r\n").await?;
    let stat_line = expect_ok(&mut read, &mut line, "STAT").await?;
    let stat = started.elapsed();
    let stat_count = stat_line
        .split_whitespace()
        .nth(1)
        .and_then(|count| count.parse().ok())
        .with_context(|| format!("STAT: no message count in {stat_line:?}"))?;

    let mut result = Download {
        login,
        stat,
        stat_count,
        retr: Duration::ZERO,
        retrieved: 0,
        failed: 0,
        bytes: 0,
        first_failure: None,
    };
    let batches = messages.div_ceil(BATCH);
    let batch = |index: u32| {
        let first = index * BATCH + 1;
        let last = (first + BATCH - 1).min(messages);
        (first..=last).fold(String::new(), |mut commands, n| {
            let _ = write!(commands, "RETR {n}\r\n");
            commands
        })
    };
    let started = Instant::now();
    for index in 0..BATCHES_IN_FLIGHT.min(batches) {
        send(&mut write, batch(index).as_bytes()).await?;
    }
    for index in 0..batches {
        if index + BATCHES_IN_FLIGHT < batches {
            send(&mut write, batch(index + BATCHES_IN_FLIGHT).as_bytes()).await?;
        }
        let first = index * BATCH + 1;
        let last = (first + BATCH - 1).min(messages);
        for n in first..=last {
            retrieve(&mut read, &mut line, n, &mut result).await?;
        }
    }
    result.retr = started.elapsed();

    send(&mut write, b"QUIT\r\n").await?;
    expect_ok(&mut read, &mut line, "QUIT").await?;
    Ok(result)
}

/// Reads the answer to `RETR n` into `result`.
async fn retrieve(
    read: &mut BufReader<ReadHalf<'_>>,
    line: &mut Vec<u8>,
    n: u32,
    result: &mut Download,
) -> Result<()> {
    read_line(read, line).await?;
    if !line.starts_with(b"+OK") {
        result.failed += 1;
        result
            .first_failure
            .get_or_insert_with(|| format!("RETR {n}: {}", quote(line)));
        return Ok(());
    }
    let mut body = 0;
    loop {
        read_line(read, line).await?;
        if line == b".\r\n" {
            break;
        }
        body += line.len() as u64;
    }
    result.bytes += body;
    if body == 0 {
        result.failed += 1;
        result
            .first_failure
            .get_or_insert_with(|| format!("RETR {n}: empty message"));
    } else {
        result.retrieved += 1;
    }
    Ok(())
}

async fn send(write: &mut WriteHalf<'_>, bytes: &[u8]) -> Result<()> {
    timeout(COMMAND_LIMIT, write.write_all(bytes))
        .await
        .map_err(|_| anyhow!("could not send within {COMMAND_LIMIT:?}"))?
        .context("sending to the POP3 server")
}

/// Reads one line, CRLF included, into `line`; fails at end of stream.
async fn read_line(read: &mut BufReader<ReadHalf<'_>>, line: &mut Vec<u8>) -> Result<()> {
    line.clear();
    let count = timeout(COMMAND_LIMIT, read.read_until(b'\n', line))
        .await
        .map_err(|_| anyhow!("no answer within {COMMAND_LIMIT:?}"))?
        .context("reading from the POP3 server")?;
    if count == 0 || !line.ends_with(b"\n") {
        bail!("the POP3 server closed the connection");
    }
    Ok(())
}

/// Reads a single-line answer, which must be `+OK`, and returns it.
async fn expect_ok(
    read: &mut BufReader<ReadHalf<'_>>,
    line: &mut Vec<u8>,
    what: &str,
) -> Result<String> {
    read_line(read, line)
        .await
        .with_context(|| format!("waiting for the answer to {what}"))?;
    ensure!(line.starts_with(b"+OK"), "{what}: {}", quote(line));
    Ok(String::from_utf8_lossy(line).trim_end().to_owned())
}

fn quote(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end()
        .chars()
        .take(QUOTE_CHARS)
        .collect()
}

fn write_report(
    out: &mut String,
    machine: &Machine,
    mailsink: &Server,
    settings: Settings,
    fill: &PipelineOutcome,
    download: &Download,
    rss: u64,
) -> std::fmt::Result {
    let messages = u64::from(settings.messages);
    writeln!(out, "# Mailsink POP3 download benchmark\n")?;
    report::machine_lines(out, machine)?;
    writeln!(
        out,
        "- Maildrop: {messages} messages of {} body to `{MAILBOX}`, sent by the pipelining \
         client over {} connections in {:.1} s ({:.0} msg/s).",
        report::size_label(BODY_BYTES),
        settings.fill_connections.min(settings.messages),
        fill.elapsed.as_secs_f64(),
        per_second(fill.accepted, fill.elapsed),
    )?;
    writeln!(
        out,
        "- Download: one plain POP3 connection over loopback: `USER`, `PASS` (Mailsink \
         snapshots the maildrop here), `STAT`, then `RETR 1` … `RETR {messages}` pipelined \
         {BATCH} commands per write with up to {BATCHES_IN_FLIGHT} writes unanswered, \
         each answer read to its final `.` line; then `QUIT`. A RETR answered `-ERR` or \
         with an empty body counts as failed. The client and Mailsink share the machine.\n"
    )?;
    let secs = download.retr.as_secs_f64().max(1e-6);
    writeln!(out, "| measure | value |")?;
    writeln!(out, "|---|---:|")?;
    writeln!(
        out,
        "| login (`USER` + `PASS`, maildrop snapshot) | {:.2} ms |",
        download.login.as_secs_f64() * 1000.0
    )?;
    writeln!(
        out,
        "| `STAT` (reported {} messages) | {:.2} ms |",
        download.stat_count,
        download.stat.as_secs_f64() * 1000.0
    )?;
    writeln!(out, "| `RETR` wall time | {secs:.2} s |")?;
    writeln!(
        out,
        "| `RETR` throughput | {:.0} msg/s |",
        per_second(download.retrieved, download.retr)
    )?;
    writeln!(
        out,
        "| `RETR` throughput | {:.1} MB/s ({} bytes) |",
        download.bytes as f64 / 1e6 / secs,
        download.bytes
    )?;
    writeln!(
        out,
        "| messages retrieved | {} of {messages} |",
        download.retrieved
    )?;
    writeln!(out, "| failed `RETR` | {} |", download.failed)?;
    writeln!(out, "| Mailsink VmRSS after | {} |", report::mib(rss))?;
    writeln!(
        out,
        "\nMB is 10⁶ bytes of message text as sent on the wire (dot-stuffed, \
         CRLF line ends), status and final `.` lines not counted."
    )?;
    if download.retrieved != messages || download.stat_count != messages {
        writeln!(
            out,
            "\n**Mismatch:** {messages} messages sent, STAT reported {}, {} retrieved.",
            download.stat_count, download.retrieved
        )?;
    }
    if let Some(failure) = &download.first_failure {
        writeln!(
            out,
            "\nFailures: {} failed; first: {failure}",
            download.failed
        )?;
    }
    writeln!(out, "\nMailsink: `{}`", mailsink.command_line())
}
