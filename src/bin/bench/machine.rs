//! What the benchmark reads from Linux's `/proc`: the machine it runs on and
//! the CPU time and memory of the server processes.

use std::fs;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Clock ticks per second assumed when `getconf CLK_TCK` cannot be run; it is
/// 100 on every mainstream Linux architecture.
const DEFAULT_CLOCK_TICKS: u64 = 100;

/// The machine the figures were taken on, printed above the table because
/// the absolute rates mean nothing without it.
pub struct Machine {
    pub cpu_model: String,
    pub cpus: usize,
    pub memory_kib: u64,
    pub kernel: String,
}

impl Machine {
    /// Reads the description; parts that cannot be read show as "unknown"
    /// rather than stopping the benchmark.
    pub fn detect() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let memory_kib = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| status_field_kib(&text, "MemTotal"))
            .unwrap_or(0);
        // The same string `uname -r` prints, without spawning it.
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned());
        Self {
            cpu_model,
            cpus,
            memory_kib,
            kernel,
        }
    }
}

/// The process's user plus system CPU time so far, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_stat_ticks(&stat).with_context(|| format!("parsing {path}"))
}

/// Sums utime and stime (fields 14 and 15 of `/proc/PID/stat`, see proc(5)).
/// The command name (field 2) is in parentheses and may itself contain
/// spaces and parentheses, so fields are counted from the last `)`.
fn parse_stat_ticks(stat: &str) -> Result<u64> {
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        bail!("no command name in {stat:?}");
    };
    // Field 3 (state) is the first one after the name.
    let mut fields = after_name.split_whitespace().skip(14 - 3);
    let mut next_number = |name: &str| -> Result<u64> {
        let field = fields.next().with_context(|| format!("no {name} field"))?;
        field
            .parse()
            .with_context(|| format!("{name} field {field:?}"))
    };
    let utime = next_number("utime")?;
    let stime = next_number("stime")?;
    Ok(utime + stime)
}

/// A memory figure such as `VmRSS` or `VmHWM` from `/proc/PID/status`, in KiB.
pub fn memory_kib(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status_field_kib(&status, field).with_context(|| format!("no {field} in {path}"))
}

/// Finds `FIELD:   1234 kB` in a `/proc` status-style text.
fn status_field_kib(text: &str, field: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        if key != field {
            return None;
        }
        value.split_whitespace().next()?.parse().ok()
    })
}

/// The kernel's clock tick rate, which `/proc/PID/stat` times are counted in.
pub fn clock_ticks_per_second() -> u64 {
    let asked = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&ticks| ticks > 0);
    asked.unwrap_or_else(|| {
        eprintln!("note: `getconf CLK_TCK` failed; assuming {DEFAULT_CLOCK_TICKS} ticks/s");
        DEFAULT_CLOCK_TICKS
    })
}

/// This process's effective user id, from the `Uid:` line of
/// `/proc/self/status` (real, effective, saved, filesystem).
pub fn effective_uid() -> Result<u32> {
    let status = fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .context("no effective uid in /proc/self/status")?;
    uid.parse()
        .with_context(|| format!("effective uid {uid:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_utime_and_stime_even_with_odd_command_names() -> Result<()> {
        let stat = "4242 (odd) name) S 1 4242 4242 0 -1 4194304 150 0 0 0 37 5 0 0 20 0 1 0";
        assert_eq!(parse_stat_ticks(stat)?, 42);
        Ok(())
    }

    #[test]
    fn rejects_truncated_stat() {
        assert!(parse_stat_ticks("4242 (x) S 1 2").is_err());
        assert!(parse_stat_ticks("garbage").is_err());
    }

    #[test]
    fn reads_kib_fields() {
        let status = "Name:\tmailsink\nVmHWM:\t   30720 kB\nVmRSS:\t   20480 kB\n";
        assert_eq!(status_field_kib(status, "VmRSS"), Some(20480));
        assert_eq!(status_field_kib(status, "VmHWM"), Some(30720));
        assert_eq!(status_field_kib(status, "VmSwap"), None);
    }
}
