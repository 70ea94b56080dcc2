//! Delivery bookkeeping: the outbox (which is also the in-process queue), consumer dedup records, and
//! deleting bookkeeping that has served.

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

/// An outbox message taken by a consumer's unit, with how many deliveries of it failed before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    /// The message.
    pub message: OutboxMessage,
    /// Failed deliveries so far (0 for a fresh message).
    pub attempts: u32,
}

/// The outbox and consumer idempotency.
///
/// Without a broker the outbox *is* the queue: a consumer claims due messages of its queue in the unit
/// that applies their effect and finishes them there, so a message leaves the database exactly when its
/// effect commits, and a crash at any point leaves it for the next claim.
///
/// Contract (checked by `tts_core::testkit::store::outbox`):
/// - outbox messages are written in the unit of the change that raised them and read back in write
///   order, with their queue;
/// - `unsent_outbox` and `claim_outbox` in a write unit lock what they return, skipping rows another unit
///   holds, so two relays or consumers never take one message concurrently; finished messages never come
///   back;
/// - `claim_outbox(queue, limit, now)` returns only messages of `queue` that are due (`now` is not before
///   the time their last failure set), oldest first;
/// - `retry_outbox` counts a failed delivery and makes the message due again at the given time (a store
///   may keep the error for operators); `lease_outbox` makes it due later without counting anything (a
///   consumer that works outside a unit, such as sending an e-mail, holds it that way); `outbox_message`
///   reads one message (locked) with its count;
/// - `record_processed` is true the first time a consumer records a message id, false after (also
///   across units); `processed` says whether it was recorded, without recording;
/// - `prune(kind, before, limit)` deletes at most `limit` records of `kind` older than `before` and says
///   how many; younger records stay.
#[async_trait]
pub trait Outbox: Send {
    /// Writes outbox messages, in order, due at once.
    async fn insert_outbox(&mut self, messages: Vec<OutboxMessage>) -> Result<()>;
    /// Up to `limit` unsent messages of any queue, oldest first (for a relay to a broker).
    async fn unsent_outbox(&mut self, limit: usize) -> Result<Vec<OutboxMessage>>;
    /// Up to `limit` messages of `queue` due at `now`, oldest first, locked until the unit ends.
    async fn claim_outbox(&mut self, queue: &str, limit: usize, now: DateTime<Utc>) -> Result<Vec<Claimed>>;
    /// One message with its failure count, locked until the unit ends; `None` once it is finished.
    async fn outbox_message(&mut self, id: MessageId) -> Result<Option<Claimed>>;
    /// Counts a failed delivery of `id` and makes it due again at `due`.
    async fn retry_outbox(&mut self, id: MessageId, due: DateTime<Utc>, error: &str) -> Result<()>;
    /// Makes `id` due again at `until` without counting a failure.
    async fn lease_outbox(&mut self, id: MessageId, until: DateTime<Utc>) -> Result<()>;
    /// Removes messages that were delivered (published to a broker, or consumed).
    async fn finish_outbox(&mut self, ids: &[MessageId]) -> Result<()>;
    /// Records that `consumer` handled message `id` at `at`; false if it already had.
    async fn record_processed(&mut self, consumer: &str, id: MessageId, at: DateTime<Utc>) -> Result<bool>;
    /// Records that `consumer` handled each of `ids` at `at`; per id, in order, false if it already had
    /// (also when the same id came earlier in `ids`). What a batch of deliveries records, in one call
    /// where the store can; the default records them one at a time.
    async fn record_processed_many(
        &mut self,
        consumer: &str,
        ids: &[MessageId],
        at: DateTime<Utc>,
    ) -> Result<Vec<bool>> {
        let mut fresh = Vec::with_capacity(ids.len());
        for id in ids {
            fresh.push(self.record_processed(consumer, *id, at).await?);
        }
        Ok(fresh)
    }
    /// Whether `consumer` recorded message `id`.
    async fn processed(&mut self, consumer: &str, id: MessageId) -> Result<bool>;
    /// Deletes up to `limit` records of `kind` older than `before`; returns how many went.
    async fn prune(&mut self, kind: Bookkeeping, before: DateTime<Utc>, limit: usize) -> Result<u64>;
}
