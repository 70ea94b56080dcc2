//! Message queues between the outbox relay and the consumers.

use crate::error::Result;
use crate::ids::MessageId;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// A message on a queue: an outbox event with its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMessage {
    /// The outbox message id; consumers deduplicate by it.
    pub id: MessageId,
    /// The event type, e.g. `ticket.created`.
    pub kind: String,
    /// The event as JSON.
    pub payload: serde_json::Value,
}

/// One received message, to be acked or nacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The queue it came from.
    pub queue: String,
    /// Adapter-specific handle for ack/nack.
    pub tag: u64,
    /// Which delivery of this message this is, from 1.
    pub attempt: u32,
    /// The message.
    pub message: QueueMessage,
}

/// A durable work queue with acknowledgements and a dead-letter queue per queue.
///
/// Contract:
/// - `publish` returns once the broker holds the message; messages are delivered at least once;
/// - one queue delivers each message to one consumer at a time, in publish order when not redelivered;
/// - `receive` never blocks: it returns the next ready message or `None`; `wait` resolves when a message
///   may be ready (spurious wake-ups allowed), so shells loop `receive` / `wait`;
/// - an un-acked delivery is redelivered with `attempt + 1` after `nack(requeue = true)` (or when the
///   consumer's connection drops); `nack(requeue = false)` moves it to the dead-letter queue;
/// - `dead_letters` lists what was dead-lettered, `replay_dead_letters` puts it back on the queue.
#[async_trait]
pub trait Queue: Send + Sync + Debug + 'static {
    /// Publishes a message to a queue (creating the queue if needed).
    async fn publish(&self, queue: &str, message: &QueueMessage) -> Result<()>;
    /// The next ready message, without waiting.
    async fn receive(&self, queue: &str) -> Result<Option<Delivery>>;
    /// Resolves when a message may be ready on `queue`.
    async fn wait(&self, queue: &str);
    /// Confirms a delivery was handled; it is never delivered again.
    async fn ack(&self, delivery: &Delivery) -> Result<()>;
    /// Refuses a delivery: back on the queue (`requeue`) or to the dead-letter queue.
    async fn nack(&self, delivery: &Delivery, requeue: bool) -> Result<()>;
    /// Up to `limit` dead-lettered messages of a queue, oldest first.
    async fn dead_letters(&self, queue: &str, limit: usize) -> Result<Vec<QueueMessage>>;
    /// Moves every dead-lettered message of a queue back onto it; returns how many.
    async fn replay_dead_letters(&self, queue: &str) -> Result<usize>;
}
