//! The throughput comparison: every load runs against smtp-sink and then
//! Mailsink, and that pair repeats, so both servers see the same machine
//! conditions and their ratio holds even when the machine is noisy.

use std::time::Duration;

use anyhow::Result;

use crate::machine;
use crate::pipeline::{self, Addressing, PipelineLoad};
use crate::report::size_label;
use crate::server::Server;
use crate::smtp::RECIPIENT;
use crate::source::{self, SourceLoad};
use crate::tools::Tools;

/// Where each server's results sit in [`LoadResult::sides`]: the targets
/// are passed to [`run_all`] in this order.
pub const SINK: usize = 0;
pub const MAILSINK: usize = 1;

/// Message body sizes: a typical notification and one with an attachment.
pub const BODY_SIZES: [usize; 2] = [1024, 100 * 1024];
/// Parallel sessions per smtp-source load.
const SESSION_COUNTS: [u32; 3] = [1, 20, 50];
/// Loads with this many sessions also report server CPU time per message.
const CPU_SESSIONS: u32 = 50;
/// Time a run may take before it is stopped: a fixed allowance plus a
/// generous per-message one, far above any sane server's pace.
const RUN_LIMIT_BASE: Duration = Duration::from_secs(60);
const RUN_LIMIT_PER_MESSAGE: Duration = Duration::from_millis(20);

/// One load: which client sends what.
#[derive(Debug, Clone, Copy)]
pub enum Load {
    SmtpSource(SourceLoad),
    Pipelined(PipelineLoad),
}

impl Load {
    /// The client that sends it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SmtpSource(_) => "smtp-source",
            Self::Pipelined(_) => "pipelining client",
        }
    }

    pub fn mode(&self) -> &'static str {
        match self {
            Self::SmtpSource(load) if load.reuse_connections => "reused connections",
            Self::SmtpSource(_) => "connection per message",
            Self::Pipelined(load) if load.bdat => "reused, pipelined BDAT",
            Self::Pipelined(_) => "reused, pipelined DATA",
        }
    }

    pub fn sessions(&self) -> u32 {
        match self {
            Self::SmtpSource(load) => load.sessions,
            Self::Pipelined(load) => load.connections,
        }
    }

    pub fn body_bytes(&self) -> usize {
        match self {
            Self::SmtpSource(load) => load.body_bytes,
            Self::Pipelined(load) => load.body_bytes,
        }
    }

    pub fn messages(&self) -> u64 {
        match self {
            Self::SmtpSource(load) => u64::from(load.messages),
            Self::Pipelined(load) => load.total_messages(),
        }
    }

    /// Client, sessions, size and mode, as one phrase.
    pub fn describe(&self) -> String {
        let sessions = self.sessions();
        let plural = if sessions == 1 { "" } else { "s" };
        format!(
            "{}, {sessions} session{plural}, {}, {}",
            self.name(),
            size_label(self.body_bytes()),
            self.mode()
        )
    }

    /// Whether the report shows server CPU time per message for this load.
    pub fn reports_cpu(&self) -> bool {
        self.sessions() == CPU_SESSIONS
    }

    /// The EHLO keyword a server must announce for this load to apply.
    fn required_extension(&self) -> Option<&'static str> {
        match self {
            Self::SmtpSource(_) => None,
            Self::Pipelined(load) if load.bdat => Some("CHUNKING"),
            Self::Pipelined(_) => Some("PIPELINING"),
        }
    }
}

/// Message counts per run, chosen so that a run lasts a second or a few.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub small: u32,
    pub large: u32,
    pub pipeline_connections: u32,
}

/// Every load of the comparison, in table order.
pub fn plan(counts: Counts) -> Vec<Load> {
    let mut loads = Vec::new();
    for body_bytes in BODY_SIZES {
        let messages = if body_bytes == BODY_SIZES[0] {
            counts.small
        } else {
            counts.large
        };
        for sessions in SESSION_COUNTS {
            for reuse_connections in [false, true] {
                loads.push(Load::SmtpSource(SourceLoad {
                    sessions,
                    body_bytes,
                    messages,
                    reuse_connections,
                }));
            }
        }
        let connections = counts.pipeline_connections;
        for bdat in [false, true] {
            loads.push(Load::Pipelined(PipelineLoad {
                connections,
                // At least one each, so every connection takes part.
                messages_per_connection: (messages / connections).max(1),
                body_bytes,
                bdat,
                addressing: Addressing::Fixed(RECIPIENT),
                pace: None,
            }));
        }
    }
    loads
}

/// The result of one run against one server.
pub enum Sample {
    /// Accepted messages per second; `failed` messages were rejected or
    /// lost, with the first reason in `note`.
    Rate {
        per_second: f64,
        failed: u64,
        note: Option<String>,
    },
    /// The run failed as a whole (smtp-source gave up or timed out).
    Failed(String),
    /// The load does not apply to this server.
    Skipped(String),
}

/// CPU time a server used over the runs of one load.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuTally {
    pub ticks: u64,
    pub messages: u64,
}

/// Everything measured for one server under one load.
#[derive(Default)]
pub struct SideResult {
    pub samples: Vec<Sample>,
    pub cpu: CpuTally,
}

pub struct LoadResult {
    pub load: Load,
    /// Indexed like the `targets` passed to [`run_all`].
    pub sides: Vec<SideResult>,
}

/// A server with the extensions it announced.
pub struct Target<'a> {
    pub server: &'a mut Server,
    pub extensions: Vec<String>,
}

impl<'a> Target<'a> {
    pub async fn new(server: &'a mut Server) -> Result<Self> {
        let extensions = server.ehlo_keywords().await?;
        Ok(Self { server, extensions })
    }
}

/// Runs every load `repeats` times against each target in turn.
pub async fn run_all(
    tools: &Tools,
    loads: &[Load],
    targets: &mut [Target<'_>],
    repeats: u32,
) -> Result<Vec<LoadResult>> {
    let mut results = Vec::with_capacity(loads.len());
    for (index, load) in loads.iter().enumerate() {
        let mut sides: Vec<SideResult> = targets.iter().map(|_| SideResult::default()).collect();
        for repeat in 1..=repeats {
            for (target, side) in targets.iter_mut().zip(&mut sides) {
                eprintln!(
                    "[{}/{}] {}: {} (run {repeat}/{repeats})",
                    index + 1,
                    loads.len(),
                    load.describe(),
                    target.server.name(),
                );
                let (sample, cpu) = run_once(tools, load, target).await?;
                side.samples.push(sample);
                side.cpu.ticks += cpu.ticks;
                side.cpu.messages += cpu.messages;
            }
        }
        results.push(LoadResult { load: *load, sides });
    }
    Ok(results)
}

/// One run of `load` against `target`, with the server's CPU time. Fails
/// only if the server died or could not be observed.
async fn run_once(
    tools: &Tools,
    load: &Load,
    target: &mut Target<'_>,
) -> Result<(Sample, CpuTally)> {
    if let Some(extension) = load.required_extension()
        && !target.extensions.iter().any(|e| e == extension)
    {
        let sample = Sample::Skipped(format!("no {extension}"));
        return Ok((sample, CpuTally::default()));
    }
    let server = &mut *target.server;
    let limit = run_limit(load.messages());
    let ticks_before = machine::cpu_ticks(server.pid())?;
    let (sample, accepted) = match load {
        Load::SmtpSource(source_load) => {
            let outcome =
                source::run(&tools.smtp_source, server.addr(), source_load, limit).await?;
            match outcome.error {
                None => {
                    let messages = u64::from(source_load.messages);
                    let sample = Sample::Rate {
                        per_second: per_second(messages, outcome.elapsed),
                        failed: 0,
                        note: None,
                    };
                    (sample, messages)
                }
                Some(error) => (Sample::Failed(error), 0),
            }
        }
        Load::Pipelined(pipeline_load) => {
            let outcome = pipeline::run(server.addr(), *pipeline_load, limit).await;
            let sample = Sample::Rate {
                per_second: per_second(outcome.accepted, outcome.elapsed),
                failed: outcome.failed,
                note: outcome.first_error,
            };
            (sample, outcome.accepted)
        }
    };
    server.ensure_running()?;
    let ticks_after = machine::cpu_ticks(server.pid())?;
    // A run that stored nothing would add CPU time without messages to
    // divide it by.
    let cpu = if accepted == 0 {
        CpuTally::default()
    } else {
        CpuTally {
            ticks: ticks_after.saturating_sub(ticks_before),
            messages: accepted,
        }
    };
    Ok((sample, cpu))
}

/// How long a run of `messages` messages may take before it is stopped.
pub fn run_limit(messages: u64) -> Duration {
    let per_message = u32::try_from(messages).unwrap_or(u32::MAX);
    RUN_LIMIT_BASE.saturating_add(RUN_LIMIT_PER_MESSAGE.saturating_mul(per_message))
}

pub fn per_second(messages: u64, elapsed: Duration) -> f64 {
    // Seconds are floored at a microsecond so a zero-length run cannot divide by zero.
    messages as f64 / elapsed.as_secs_f64().max(1e-6)
}
