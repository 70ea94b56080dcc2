//! Delivery bookkeeping: the outbox, consumer dedup records, and deleting bookkeeping that has served.

use crate::domain::event::OutboxMessage;
use crate::error::Result;
use crate::ids::MessageId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Bookkeeping a store may forget once it is old (see [`Outbox::prune`]): rows that only exist to make
/// retries safe or to throttle, and that would otherwise grow with every message and request forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bookkeeping {
    /// Consumer dedup records, by when they were recorded: a message redelivered after its record is gone
    /// would be handled again.
    Processed,
    /// Idempotency records, by `created_at`: a retry after its record is gone creates a new ticket.
    IdempotencyKeys,
    /// Login sessions, by when their refresh token expires.
    Sessions,
    /// Login throttle counters, by when they last changed.
    LoginThrottles,
}

/// The outbox and consumer idempotency.
///
/// Contract (checked by `tts_core::testkit::store::outbox`):
/// - outbox messages are written in the unit of the change that raised them and read back in write
///   order;
/// - `unsent_outbox` in a write unit locks what it returns, skipping rows another unit holds, so two
///   relays never publish one message concurrently; sent messages never come back;
/// - `record_processed` is true the first time a consumer records a message id, false after (also
///   across units);
/// - `prune(kind, before, limit)` deletes at most `limit` records of `kind` older than `before` and says
///   how many; younger records stay.
#[async_trait]
pub trait Outbox: Send {
    /// Writes outbox messages, in order.
    async fn insert_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<()>;
    /// Up to `limit` unsent messages, oldest first.
    async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>>;
    /// Marks messages sent (a store may delete them).
    async fn mark_outbox_sent(&mut self, ids: &[MessageId]) -> Result<()>;
    /// Records that `consumer` handled message `id` at `at`; false if it already had.
    async fn record_processed(&mut self, consumer: &str, id: MessageId, at: DateTime<Utc>) -> Result<bool>;
    /// Deletes up to `limit` records of `kind` older than `before`; returns how many went.
    async fn prune(&mut self, kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> Result<u64>;
}
