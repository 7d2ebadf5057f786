//! `--startup`: how long Mailsink takes from being spawned to greeting on
//! SMTP, and how much memory an idle instance holds.
//!
//! Each run spawns `mailsink serve` with its default listeners (SMTP, HTTP
//! and POP3, each on a free loopback port) and its default temporary
//! database, then connects to the SMTP port every 200 µs until a `220`
//! banner arrives; the time from spawn to the banner is the run's figure.
//! The instance is stopped with SIGTERM (so it removes its temporary
//! database) before the next run. Afterwards one more instance starts, is
//! left idle for a few seconds, and its resident memory is read from /proc.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::machine::{self, Machine};
use crate::report::{self, mib};

/// Start-up to the SMTP banner should take less than this.
const TARGET: Duration = Duration::from_millis(100);
/// An idle instance should hold less resident memory than this, in KiB.
const RSS_TARGET_KIB: u64 = 30 * 1024;
/// How long the idle instance is left alone before its memory is read.
const IDLE: Duration = Duration::from_secs(3);
/// A run that has not greeted by then has failed.
const LIMIT: Duration = Duration::from_secs(10);

/// Runs the measurement and returns its Markdown report.
pub async fn run(mailsink_binary: &Path, machine: &Machine, runs: u32) -> Result<String> {
    eprintln!("startup: {runs} runs of {}", mailsink_binary.display());
    let mut times = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let mut instance = Instance::spawn(mailsink_binary)?;
        let took = instance.until_banner().await?;
        instance.stop()?;
        times.push(took);
    }
    times.sort_unstable();

    let mut idle = Instance::spawn(mailsink_binary)?;
    idle.until_banner().await?;
    tokio::time::sleep(IDLE).await;
    let rss = machine::memory_kib(idle.child.id(), "VmRSS")?;
    let peak = machine::memory_kib(idle.child.id(), "VmHWM")?;
    idle.stop()?;

    let mut out = String::new();
    writeln!(out, "## Start-up and idle memory\n")?;
    report::machine_lines(&mut out, machine)?;
    writeln!(out, "- Binary: `{}`", mailsink_binary.display())?;
    writeln!(
        out,
        "- Each run: `mailsink serve` with SMTP, HTTP and POP3 on free loopback ports and a \
         temporary database; time from spawn to the SMTP `220` banner\n"
    )?;
    writeln!(
        out,
        "| runs | median ms | p95 ms | min ms | max ms | p95 under 100 ms |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|---:|---|")?;
    let median = percentile(&times, 50);
    let p95 = percentile(&times, 95);
    writeln!(
        out,
        "| {runs} | {} | {} | {} | {} | {} |\n",
        ms(median),
        ms(p95),
        ms(times[0]),
        ms(times[times.len() - 1]),
        if p95 < TARGET { "met" } else { "missed" }
    )?;
    writeln!(
        out,
        "Idle ({}s after start-up): {} resident (peak {}); target under {}: {}.",
        IDLE.as_secs(),
        mib(rss),
        mib(peak),
        mib(RSS_TARGET_KIB),
        if rss < RSS_TARGET_KIB {
            "met"
        } else {
            "missed"
        }
    )?;
    Ok(out)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// One spawned `mailsink serve`, killed if dropped before `stop`.
struct Instance {
    child: Child,
    smtp: SocketAddr,
    spawned: Instant,
}

impl Instance {
    fn spawn(binary: &Path) -> Result<Self> {
        let [smtp, http, pop3] = [free_addr()?, free_addr()?, free_addr()?];
        let mut command = Command::new(binary);
        // The developer's own MAILSINK_* settings stay out of the figures.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("MAILSINK_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .args(["--smtp-addr", &smtp.to_string()])
            .args(["--http-addr", &http.to_string()])
            .args(["--pop3-addr", &pop3.to_string()])
            .args(["--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let spawned = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self {
            child,
            smtp,
            spawned,
        })
    }

    /// Connects until the SMTP banner arrives; the time since spawn.
    async fn until_banner(&mut self) -> Result<Duration> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("mailsink exited during start-up: {status}");
            }
            ensure!(
                self.spawned.elapsed() < LIMIT,
                "no SMTP banner within {LIMIT:?}"
            );
            if let Ok(mut stream) = TcpStream::connect(self.smtp).await {
                let mut banner = [0u8; 4];
                stream
                    .read_exact(&mut banner)
                    .await
                    .context("reading the banner")?;
                let took = self.spawned.elapsed();
                ensure!(&banner == b"220 ", "unexpected banner {banner:?}");
                return Ok(took);
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// SIGTERM, so the temporary database is removed, then wait.
    fn stop(mut self) -> Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("running kill")?;
        ensure!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + LIMIT;
        while self.child.try_wait()?.is_none() {
            ensure!(
                Instant::now() < deadline,
                "mailsink did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Nothing better to do with a failure while cleaning up.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    listener.local_addr().context("reading the free port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let times: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        assert_eq!(percentile(&times, 50), Duration::from_millis(10));
        assert_eq!(percentile(&times, 95), Duration::from_millis(19));
        assert_eq!(percentile(&[Duration::ZERO], 95), Duration::ZERO);
    }
}
