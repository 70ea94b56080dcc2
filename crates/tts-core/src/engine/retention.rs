//! Retention: deleting bookkeeping that has outlived its purpose (consumer dedup records, idempotency
//! keys, expired login sessions), so that no table grows with every message and request forever.

use super::Engine;
use crate::error::{Error, Result};
use crate::ports::store::Bookkeeping;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Rows deleted per unit of work: short units that never hold the writer (or row locks) for long.
const PRUNE_BATCH: usize = 500;

/// What one [`Engine::prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Consumer dedup records.
    pub processed: u64,
    /// Idempotency records.
    pub idempotency_keys: u64,
    /// Expired login sessions.
    pub sessions: u64,
    /// Login throttle counters nobody touched for a while.
    pub login_throttles: u64,
}

impl Engine {
    /// Deletes bookkeeping older than [`super::EngineConfig::retention`] allows, as of `now`, in batches
    /// of short units. The worker calls it on a timer; tests pass any `now`. Safe to run from several
    /// processes at once: each deletes what is there.
    pub async fn prune(&self, now: DateTime<Utc>) -> Result<PruneReport> {
        let r = self.config.retention;
        let processed = self
            .prune_store(Bookkeeping::Processed, cutoff(now, r.processed_secs)?)
            .await?;
        let idempotency_keys = self
            .prune_store(Bookkeeping::IdempotencyKeys, cutoff(now, r.idempotency_secs)?)
            .await?;
        let sessions = self
            .prune_store(Bookkeeping::Sessions, cutoff(now, r.expired_session_secs)?)
            .await?;
        let login_throttles = self
            .prune_store(Bookkeeping::LoginThrottles, cutoff(now, r.login_throttle_secs)?)
            .await?;
        Ok(PruneReport {
            processed,
            idempotency_keys,
            sessions,
            login_throttles,
        })
    }

    async fn prune_store(&self, kind: Bookkeeping, before: DateTime<Utc>) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self
                .background(async move |cmd| cmd.tx.prune(kind, before, PRUNE_BATCH).await)
                .await?;
            total += n;
            if n < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

/// `now` minus `secs` (the configuration bounds `secs`, so this only fails on a clock near the epoch).
fn cutoff(now: DateTime<Utc>, secs: u64) -> Result<DateTime<Utc>> {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| Error::invalid("retention", "reaches before the earliest representable time"))
}
