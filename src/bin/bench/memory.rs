//! The long memory test: many large messages into one Mailsink, then its
//! resident memory and database size. It shows whether memory stays flat
//! while the store grows, which a short throughput run cannot.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::pin::pin;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

use crate::machine::{self, Machine};
use crate::report::{self, mib};
use crate::server::{self, Server};
use crate::source::{self, SourceLoad, SourceOutcome};
use crate::throughput::{per_second, run_limit};
use crate::tools::Tools;

/// The load: 100 KB messages over 20 reused connections.
const SESSIONS: u32 = 20;
const BODY_BYTES: usize = 100 * 1024;
/// The resident memory Mailsink should stay under, in KiB.
const RSS_TARGET_KIB: u64 = 50 * 1024;
/// How often progress is printed on stderr while the load runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Runs the test and returns its Markdown report.
pub async fn run(
    tools: &Tools,
    mailsink_binary: &Path,
    machine: &Machine,
    messages: u32,
    dir: &Path,
) -> Result<String> {
    let mut mailsink = server::start_mailsink(mailsink_binary, dir).await?;
    let load = SourceLoad {
        sessions: SESSIONS,
        body_bytes: BODY_BYTES,
        messages,
        reuse_connections: true,
    };
    eprintln!(
        "memory test: {messages} messages of {} to Mailsink; progress every {PROGRESS_EVERY:?}",
        report::size_label(BODY_BYTES)
    );
    let outcome = run_with_progress(tools, &mailsink, &load, dir).await?;
    mailsink.ensure_running()?;
    let rss = machine::memory_kib(mailsink.pid(), "VmRSS")?;
    let peak = machine::memory_kib(mailsink.pid(), "VmHWM")?;
    let database = database_size(dir);
    let mut out = String::new();
    write_report(
        &mut out,
        machine,
        &mailsink,
        &load,
        &outcome,
        [rss, peak],
        &database,
    )
    .context("formatting the report")?;
    Ok(out)
}

/// Runs smtp-source, printing Mailsink's memory and the database size now
/// and then so that a long run shows it is alive.
async fn run_with_progress(
    tools: &Tools,
    mailsink: &Server,
    load: &SourceLoad,
    dir: &Path,
) -> Result<SourceOutcome> {
    let limit = run_limit(u64::from(load.messages));
    let started = Instant::now();
    let mut run = pin!(source::run(
        &tools.smtp_source,
        mailsink.addr(),
        load,
        limit
    ));
    // The first report after one period: at the start there is nothing to see.
    let mut progress = interval_at(Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    progress.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Ends when the run does, which its own time limit bounds.
    loop {
        tokio::select! {
            outcome = &mut run => return outcome,
            _ = progress.tick() => {
                let rss = machine::memory_kib(mailsink.pid(), "VmRSS")
                    .map_or_else(|e| format!("unknown ({e:#})"), mib);
                eprintln!(
                    "  {:>5} s: Mailsink VmRSS {rss}, database {}",
                    started.elapsed().as_secs(),
                    database_size(dir).total
                );
            }
        }
    }
}

/// The database's size, with SQLite's write-ahead log and shared memory
/// files, which hold recent writes until a checkpoint.
struct DatabaseSize {
    total: String,
    parts: String,
}

fn database_size(dir: &Path) -> DatabaseSize {
    let mut total = 0;
    let mut parts = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("bench.db{suffix}");
        if let Ok(meta) = fs::metadata(dir.join(&name)) {
            total += meta.len();
            parts.push(format!("{name} {}", report::file_size(meta.len())));
        }
    }
    DatabaseSize {
        total: report::file_size(total),
        parts: parts.join(" + "),
    }
}

fn write_report(
    out: &mut String,
    machine: &Machine,
    mailsink: &Server,
    load: &SourceLoad,
    outcome: &SourceOutcome,
    [rss, peak]: [u64; 2],
    database: &DatabaseSize,
) -> std::fmt::Result {
    writeln!(out, "# Mailsink memory test\n")?;
    report::machine_lines(out, machine)?;
    let result = match &outcome.error {
        None => format!(
            "all accepted in {:.0} s ({:.0} msg/s)",
            outcome.elapsed.as_secs_f64(),
            per_second(u64::from(load.messages), outcome.elapsed)
        ),
        Some(error) => format!(
            "FAILED after {:.0} s: {error}",
            outcome.elapsed.as_secs_f64()
        ),
    };
    let verdict = if rss < RSS_TARGET_KIB {
        "met"
    } else {
        "NOT met"
    };
    writeln!(out, "\n| measure | value |\n|---|---|")?;
    writeln!(
        out,
        "| load | {} messages of {} body, smtp-source, {} sessions, reused connections |",
        load.messages,
        report::size_label(load.body_bytes),
        load.sessions
    )?;
    writeln!(out, "| result | {result} |")?;
    writeln!(
        out,
        "| Mailsink VmRSS after the load | {} (target under {}: {verdict}) |",
        mib(rss),
        mib(RSS_TARGET_KIB)
    )?;
    writeln!(out, "| Mailsink peak VmHWM | {} |", mib(peak))?;
    writeln!(
        out,
        "| database | {} ({}) |",
        database.total, database.parts
    )?;
    writeln!(out, "\nMailsink: `{}`", mailsink.command_line())?;
    let args = load.args(mailsink.addr()).join(" ");
    writeln!(out, "\nLoad: `smtp-source {args}`")
}
