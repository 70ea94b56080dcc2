//! Retention: deleting bookkeeping that has outlived its purpose (consumer dedup records, idempotency
//! keys, expired login sessions), so that no table grows with every message and request forever.

use super::{Engine, retrying};
use crate::error::{Error, Result};
use crate::ports::store::{Access, Bookkeeping};
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
        let expired_before = cutoff(now, r.expired_session_secs)?;
        let mut sessions = 0;
        loop {
            let n = self.identity.prune_sessions(expired_before, PRUNE_BATCH).await?;
            sessions += n;
            if n < PRUNE_BATCH as u64 {
                break;
            }
        }
        Ok(PruneReport {
            processed,
            idempotency_keys,
            sessions,
        })
    }

    async fn prune_store(&self, kind: Bookkeeping, before: DateTime<Utc>) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = retrying!(self, self.prune_once(kind, before))?;
            total += n;
            if n < PRUNE_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn prune_once(&self, kind: Bookkeeping, before: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.store.begin_background(Access::Write).await?;
        let n = tx.prune(kind, before, PRUNE_BATCH).await?;
        tx.commit().await?;
        Ok(n)
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
