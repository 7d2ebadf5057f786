//! SMTP ingestion benchmark for Mailsink.
//!
//! How many messages per second does Mailsink accept, and what does each one
//! cost in server CPU and memory? Absolute rates depend on the machine, so
//! every load also runs against Postfix's `smtp-sink`, a server that accepts
//! mail and throws it away: it shows what the same client on the same
//! machine can push, and the ratio Mailsink ÷ smtp-sink is the figure that
//! travels between machines. The loads alternate between the two servers
//! (smtp-sink, Mailsink, smtp-sink, …) and the table shows medians, so a
//! noisy machine slows both alike.
//!
//! Loads:
//!
//! - Postfix's `smtp-source` with 1, 20 and 50 parallel sessions, 1 KB and
//!   100 KB bodies, one connection per message or reused connections.
//! - A pipelining client of our own (50 connections by default), sending
//!   MAIL, RCPT and DATA in one write (RFC 2920), or the whole message as one
//!   BDAT chunk (RFC 3030) where the server offers CHUNKING. smtp-source waits
//!   for every reply, so this is the load that finds Mailsink's own ceiling.
//!
//! After the table come server CPU time per message under the 50-session
//! loads and Mailsink's resident memory. `--memory-test` instead sends
//! 100,000 messages of 100 KB (about 10 GB; the database goes to `$TMPDIR`)
//! and reports memory and database size.
//!
//! Messages are not counted in the database afterwards: Mailsink replies 250
//! only once a message is committed, and smtp-source exits non-zero on any
//! other reply, so a clean run means every message was stored.
//!
//! `--api` instead measures the REST API's latency with a full mailbox while
//! mail keeps arriving. Mailsink starts with its HTTP listener on a free
//! loopback port and is filled with 100,000 messages of 1 KB
//! (`--api-messages`) by the pipelining client: message n has subject
//! `order n` and goes to `user{n % 1000}@example.com`, so a search for one
//! recipient is selective. Then, while the pipelining client keeps sending
//! from a thread of its own (`--api-ingest-connections`, 10 by default,
//! paced to `--api-ingest-rate`, 100 msg/s by default, 0 for as fast as
//! Mailsink answers), the benchmark times 2,000 requests of each kind
//! (`--api-requests`), one at a time over keep-alive connections:
//! `GET /api/v1/messages?limit=50`, a search
//! `GET /api/v1/search?query=to:userN@example.com&limit=50` for a random N,
//! and `GET /api/v1/message/{ID}?peek=1` for a random stored message. It
//! reports p50, p90, p99 and maximum latency against a target of p99 under
//! 10 ms, failed requests, the ingestion rate meanwhile, and Mailsink's
//! resident memory after filling and after the requests (target under
//! 100 MiB). With `--quick` it uses a tenth of the messages and requests.
//! It needs no Postfix tools.
//!
//! `--pop3` instead measures how fast one POP3 session downloads a full
//! maildrop. Mailsink starts with its POP3 listener on a free loopback port
//! and is filled by the pipelining client with 10,000 messages of 1 KB
//! (`--pop3-messages`), all to `pop@example.com`. Then one plain-TCP
//! session logs in as that mailbox (`USER`, `PASS`: Mailsink snapshots the
//! maildrop at login), sends `STAT`, and retrieves every message with
//! `RETR 1` … `RETR N` pipelined 100 commands per write, reading each
//! answer to its final `.` line, then says `QUIT`. It reports the login and
//! `STAT` times, `RETR` throughput in messages and MB per second, the
//! messages retrieved against those sent, failed `RETR`s (an `-ERR` or an
//! empty body), and Mailsink's resident memory afterwards. `--quick` uses a
//! tenth of the messages. It needs no Postfix tools either.
//!
//! `--startup` instead times Mailsink from spawn to its first SMTP banner
//! over `--startup-runs` runs (50 by default) with its default listeners and
//! temporary database, reports the median and p95 against a target of
//! 100 ms, then reads the resident memory of an idle instance (target under
//! 30 MiB). It needs no Postfix tools.
//!
//! `--ui` instead weighs the web inbox page with --api-messages messages
//! stored (the HTML and everything it links) and times the inbox's newest
//! page, a keyset page near the oldest message, a search page and a message
//! page, next to the API's OFFSET page at the same depth (see `ui.rs`).
//!
//! `--imap` instead measures IMAP with a full mailbox: `SELECT` and
//! `FETCH 1:* (FLAGS ENVELOPE)` over 10,000 messages of 1 KB
//! (`--imap-messages`), then `SEARCH` on flags and size and on the Subject
//! over 100,000 (`--imap-search-messages`), and the latency of IDLE
//! notifications from the SMTP `250` to the untagged `EXISTS`. `--quick`
//! uses a tenth of the messages. It needs no Postfix tools.
//!
//! Every mode starts Mailsink with the listeners it does not use turned off
//! (`--http-addr off`, `--pop3-addr off`, `--imap-addr off`), so the benchmark never collides
//! with whatever holds their default ports.
//!
//! # Running
//!
//! It needs `smtp-source` and `smtp-sink` from Debian's `postfix` package
//! (except for `--api` and `--pop3`):
//!
//! ```text
//! echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
//! DEBIAN_FRONTEND=noninteractive apt-get install -y postfix
//! cargo build --release --bin mailsink --bin bench
//! cargo run --release --bin bench -- --quick      # smoke run, about a minute
//! cargo run --release --bin bench > bench.md      # full run, a few minutes
//! cargo run --release --bin bench -- --api > api.md   # API latency, a few minutes
//! cargo run --release --bin bench -- --pop3 > pop3.md # POP3 download, under a minute
//! cargo run --release --bin bench -- --startup        # start-up and idle memory, seconds
//! cargo run --release --bin bench -- --ui > ui.md     # web UI pages, a few minutes
//! cargo run --release --bin bench -- --imap > imap.md # IMAP FETCH, SEARCH, IDLE
//! ```
//!
//! The report goes to stdout as Markdown, progress to stderr. All traffic
//! stays on 127.0.0.1, and both servers are stopped when the benchmark ends,
//! fails or is interrupted with Ctrl-C. It is a tool for people, not a test:
//! it asserts nothing about speed.

mod api;
mod http;
mod imap;
mod machine;
mod memory;
mod pipeline;
mod pop3;
mod report;
mod server;
mod smtp;
mod source;
mod startup;
mod throughput;
mod tools;
mod ui;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, ensure};
use clap::Parser;

use crate::machine::Machine;
use crate::smtp::{CLIENT_NAME, RECIPIENT, SENDER};
use crate::throughput::{Counts, Target};
use crate::tools::Tools;

/// `--quick` divides the message counts by this.
const QUICK_DIVISOR: u32 = 10;
/// The pace of the mail sent while API requests are timed, in messages per
/// second: steady traffic that keeps the writer busy without growing the
/// mailbox much during the measurement.
const DEFAULT_INGEST_RATE: u32 = 100;

/// Measures Mailsink's SMTP ingestion against Postfix's smtp-sink and prints
/// a Markdown report.
#[derive(Debug, Parser)]
#[command(name = "bench", version)]
struct Args {
    /// Times each load runs against each server; the table shows medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    repeats: u32,

    /// Messages per run with 1 KB bodies. A run must span several of the
    /// full-text index's batches (`store::index` sets their size), or the
    /// index work it caused runs between runs, unmeasured.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    messages: u32,

    /// Messages per run with 100 KB bodies. A run must write more than the
    /// WAL holds before the writer checkpoints it (`store::schema`), or that
    /// checkpoint runs between runs, unmeasured.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    large_messages: u32,

    /// Connections the pipelining client opens.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pipeline_connections: u32,

    /// Smoke run of the throughput comparison: one repeat and a tenth of the
    /// messages.
    #[arg(long)]
    quick: bool,

    /// Instead of the throughput table, send --memory-messages messages of
    /// 100 KB and report Mailsink's memory and database size. Takes long.
    #[arg(long)]
    memory_test: bool,

    /// Messages the memory test sends.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    memory_messages: u32,

    /// Instead of the throughput table, fill Mailsink with --api-messages
    /// messages and time REST API requests while mail keeps arriving.
    #[arg(long, conflicts_with = "memory_test")]
    api: bool,

    /// Instead of the throughput table, fill Mailsink with --api-messages
    /// messages, weigh the web inbox page and what it links, and time
    /// --api-requests requests of each UI page.
    #[arg(long, conflicts_with_all = ["memory_test", "api"])]
    ui: bool,

    /// Messages in the mailbox before the API requests start.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    api_messages: u32,

    /// Timed API requests of each kind.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    api_requests: u32,

    /// Connections that keep sending mail while the API requests are timed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    api_ingest_connections: u32,

    /// Messages per second, over all its connections, that the mail sent
    /// while the API requests are timed is paced to; 0 sends as fast as
    /// Mailsink answers.
    #[arg(long, value_name = "MSG_PER_SEC", default_value_t = DEFAULT_INGEST_RATE,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    api_ingest_rate: u32,

    /// Instead of the throughput table, fill one mailbox with
    /// --pop3-messages messages and time downloading them over one POP3
    /// connection.
    #[arg(long, conflicts_with_all = ["memory_test", "api"])]
    pop3: bool,

    /// Messages in the maildrop the POP3 benchmark downloads.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pop3_messages: u32,

    /// Instead of the throughput table, time start-up to the first SMTP
    /// banner over --startup-runs runs and read an idle instance's memory.
    #[arg(long, conflicts_with_all = ["memory_test", "api", "pop3"])]
    startup: bool,

    /// Runs the start-up measurement makes.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    startup_runs: u32,

    /// Instead of the throughput table, time IMAP's FETCH over
    /// --imap-messages messages, SEARCH over --imap-search-messages, and
    /// IDLE notifications.
    #[arg(long, conflicts_with_all = ["memory_test", "api", "pop3"])]
    imap: bool,

    /// Messages in the mailbox the IMAP FETCH is timed over.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    imap_messages: u32,

    /// Messages in the mailbox the IMAP SEARCH is timed over.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    imap_search_messages: u32,

    /// The Mailsink binary [default: `mailsink` next to this binary].
    #[arg(long, value_name = "PATH")]
    mailsink: Option<PathBuf>,
}

impl Args {
    fn repeats(&self) -> u32 {
        if self.quick { 1 } else { self.repeats }
    }

    fn counts(&self) -> Counts {
        let scale = |count: u32| {
            if self.quick {
                (count / QUICK_DIVISOR).max(1)
            } else {
                count
            }
        };
        Counts {
            small: scale(self.messages),
            large: scale(self.large_messages),
            pipeline_connections: self.pipeline_connections,
        }
    }

    fn api_settings(&self) -> api::Settings {
        let scale = |count: u32| {
            if self.quick {
                (count / QUICK_DIVISOR).max(1)
            } else {
                count
            }
        };
        api::Settings {
            messages: scale(self.api_messages),
            requests: scale(self.api_requests),
            fill_connections: self.pipeline_connections,
            ingest_connections: self.api_ingest_connections,
            ingest_rate: (self.api_ingest_rate > 0).then_some(self.api_ingest_rate),
        }
    }

    fn imap_settings(&self) -> imap::Settings {
        let scale = |count: u32| {
            if self.quick {
                (count / QUICK_DIVISOR).max(1)
            } else {
                count
            }
        };
        imap::Settings {
            messages: scale(self.imap_messages),
            search_messages: scale(self.imap_search_messages),
            fill_connections: self.pipeline_connections,
        }
    }

    fn pop3_settings(&self) -> pop3::Settings {
        pop3::Settings {
            messages: if self.quick {
                (self.pop3_messages / QUICK_DIVISOR).max(1)
            } else {
                self.pop3_messages
            },
            fill_connections: self.pipeline_connections,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    // On Ctrl-C the benchmark future is dropped, and with it the server
    // guards, which stop the servers.
    let outcome = tokio::select! {
        outcome = run(&args) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    match outcome {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs what the arguments ask for and returns the report.
async fn run(args: &Args) -> Result<String> {
    if args.startup {
        let mailsink = mailsink_binary(args.mailsink.as_deref())?;
        return startup::run(&mailsink, &Machine::detect(), args.startup_runs).await;
    }
    // The API, POP3, UI and IMAP benchmarks need no Postfix tools.
    let tools = if args.api || args.pop3 || args.ui || args.imap {
        None
    } else {
        Some(Tools::locate()?)
    };
    let mailsink = mailsink_binary(args.mailsink.as_deref())?;
    let machine = Machine::detect();
    // Holds both servers' logs and Mailsink's database; removed at the end,
    // after the servers, which are declared later and so dropped first.
    let dir = tempfile::Builder::new()
        .prefix("mailsink-bench-")
        .tempdir()
        .context("creating a temporary directory")?;
    let Some(tools) = tools else {
        // Only --api, --pop3, --ui and --imap leave `tools` empty.
        if args.ui {
            return ui::run(&mailsink, &machine, args.api_settings(), dir.path()).await;
        }
        if args.imap {
            return imap::run(&mailsink, &machine, args.imap_settings(), dir.path()).await;
        }
        if args.pop3 {
            return pop3::run(&mailsink, &machine, args.pop3_settings(), dir.path()).await;
        }
        return api::run(&mailsink, &machine, args.api_settings(), dir.path()).await;
    };
    if args.memory_test {
        return memory::run(
            &tools,
            &mailsink,
            &machine,
            args.memory_messages,
            dir.path(),
        )
        .await;
    }
    throughput(args, &tools, &mailsink, &machine, dir.path()).await
}

/// The throughput comparison and its report.
async fn throughput(
    args: &Args,
    tools: &Tools,
    mailsink_binary: &Path,
    machine: &Machine,
    dir: &Path,
) -> Result<String> {
    let clock_ticks = machine::clock_ticks_per_second();
    let mut sink = server::start_smtp_sink(&tools.smtp_sink, dir).await?;
    let mut mailsink = server::start_mailsink(mailsink_binary, dir).await?;
    let counts = args.counts();
    let loads = throughput::plan(counts);
    let results = {
        // In the order of throughput::SINK and throughput::MAILSINK.
        let mut targets = [
            Target::new(&mut sink).await?,
            Target::new(&mut mailsink).await?,
        ];
        throughput::run_all(tools, &loads, &mut targets, args.repeats()).await?
    };
    let memory = report::Memory {
        mailsink_rss: machine::memory_kib(mailsink.pid(), "VmRSS")?,
        mailsink_peak: machine::memory_kib(mailsink.pid(), "VmHWM")?,
        sink_rss: machine::memory_kib(sink.pid(), "VmRSS")?,
    };
    let ctx = report::Context {
        machine,
        repeats: args.repeats(),
        small_messages: counts.small,
        large_messages: counts.large,
        clock_ticks,
        servers: [
            (sink.name(), sink.command_line()),
            (mailsink.name(), mailsink.command_line()),
        ],
        source_command: format!(
            "{} -s SESSIONS -l BODY_BYTES -m MESSAGES [-d] -M {CLIENT_NAME} -f {SENDER} -t {RECIPIENT} 127.0.0.1:PORT",
            tools.smtp_source.display()
        ),
        memory,
    };
    report::throughput(&ctx, &results).context("formatting the report")
}

/// The Mailsink binary to benchmark: the one given, or the one built next
/// to this benchmark.
fn mailsink_binary(given: Option<&Path>) -> Result<PathBuf> {
    let path = match given {
        Some(path) => path.to_owned(),
        None => {
            let exe = std::env::current_exe().context("locating the bench binary")?;
            let dir = exe.parent().context("the bench binary has no directory")?;
            dir.join("mailsink")
        }
    };
    ensure!(
        path.is_file(),
        "no Mailsink binary at {}: build it with `cargo build --release --bin mailsink` \
         or pass --mailsink PATH",
        path.display()
    );
    Ok(path)
}
