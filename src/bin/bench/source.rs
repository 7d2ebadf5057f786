//! Runs Postfix's `smtp-source` load generator once and times it.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::process::Command;
use tokio::time::timeout;

use crate::smtp::{CLIENT_NAME, RECIPIENT, SENDER};

/// One smtp-source invocation.
#[derive(Debug, Clone, Copy)]
pub struct SourceLoad {
    /// Parallel SMTP sessions (`-s`).
    pub sessions: u32,
    /// Message body size in bytes, headers not included (`-l`).
    pub body_bytes: usize,
    /// Messages in total over all sessions (`-m`).
    pub messages: u32,
    /// Send every message of a session over one connection (`-d`) instead
    /// of one connection per message.
    pub reuse_connections: bool,
}

impl SourceLoad {
    /// The command-line arguments, without the program name.
    pub fn args(&self, addr: SocketAddr) -> Vec<String> {
        let mut args = vec![
            "-s".to_owned(),
            self.sessions.to_string(),
            "-l".to_owned(),
            self.body_bytes.to_string(),
            "-m".to_owned(),
            self.messages.to_string(),
        ];
        if self.reuse_connections {
            args.push("-d".to_owned());
        }
        for (flag, value) in [("-M", CLIENT_NAME), ("-f", SENDER), ("-t", RECIPIENT)] {
            args.push(flag.to_owned());
            args.push(value.to_owned());
        }
        args.push(addr.to_string());
        args
    }
}

/// How one run went.
pub struct SourceOutcome {
    /// Wall time from starting smtp-source to its exit.
    pub elapsed: Duration,
    /// Why the run failed. smtp-source exits non-zero on the first reply it
    /// did not expect, so `None` means every message got its 250.
    pub error: Option<String>,
}

/// Runs smtp-source against `addr`, killing it if it outlives `limit`.
/// Only a failure to start it is an `Err`; a failed run is an outcome.
pub async fn run(
    binary: &Path,
    addr: SocketAddr,
    load: &SourceLoad,
    limit: Duration,
) -> Result<SourceOutcome> {
    let mut command = Command::new(binary);
    command
        .args(load.args(addr))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Dropping the output future on timeout then stops the process.
        .kill_on_drop(true);
    let started = Instant::now();
    let finished = timeout(limit, command.output()).await;
    let elapsed = started.elapsed();
    let Ok(output) = finished else {
        return Ok(SourceOutcome {
            elapsed,
            error: Some(format!("still running after {limit:?}; killed")),
        });
    };
    let output = output.with_context(|| format!("running {}", binary.display()))?;
    let error = (!output.status.success()).then(|| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last_line = stderr.lines().last().unwrap_or("(no output)");
        format!("smtp-source {}: {last_line}", output.status)
    });
    Ok(SourceOutcome { elapsed, error })
}
