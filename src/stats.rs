//! Counters since start-up, for `GET /api/v1/info`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What the server has done since it started.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    smtp_accepted: AtomicU64,
    smtp_accepted_bytes: AtomicU64,
    smtp_rejected: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            smtp_accepted: AtomicU64::new(0),
            smtp_accepted_bytes: AtomicU64::new(0),
            smtp_rejected: AtomicU64::new(0),
        }
    }
}

/// A reading of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub uptime_secs: u64,
    pub smtp_accepted: u64,
    pub smtp_accepted_bytes: u64,
    pub smtp_rejected: u64,
}

impl Stats {
    /// A message was committed after its DATA or BDAT.
    pub fn accepted(&self, bytes: usize) {
        self.smtp_accepted.fetch_add(1, Ordering::Relaxed);
        self.smtp_accepted_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// A message was refused after its data (too large, or not stored).
    pub fn rejected(&self) {
        self.smtp_rejected.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            uptime_secs: self.started.elapsed().as_secs(),
            smtp_accepted: self.smtp_accepted.load(Ordering::Relaxed),
            smtp_accepted_bytes: self.smtp_accepted_bytes.load(Ordering::Relaxed),
            smtp_rejected: self.smtp_rejected.load(Ordering::Relaxed),
        }
    }
}

/// This process's resident memory in bytes, where the platform tells.
pub fn resident_memory() -> u64 {
    // /proc/self/statm: size resident shared … in pages.
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
