//! Retention: `--max-messages` and `--max-age`, applied by a background task
//! in small chunks so that ingestion never waits long behind a prune.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Store;
use super::changes::PRUNE_CHUNK;

/// How long the task waits between passes.
const INTERVAL: Duration = Duration::from_secs(1);

/// The limits; both off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    pub max_messages: Option<u64>,
    pub max_age: Option<Duration>,
}

impl Retention {
    pub fn is_off(&self) -> bool {
        self.max_messages.is_none() && self.max_age.is_none()
    }
}

/// Prunes until cancelled. Each pass removes chunks until nothing is left to remove.
pub async fn run(store: Store, retention: Retention, cancel: CancellationToken) {
    if retention.is_off() {
        return;
    }
    let mut ticker = tokio::time::interval(INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        loop {
            match store.prune(retention).await {
                Ok(n) if n == PRUNE_CHUNK => continue,
                Ok(0) => break,
                Ok(n) => {
                    tracing::debug!(pruned = n, "retention pass");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "retention pass failed");
                    break;
                }
            }
        }
    }
}
