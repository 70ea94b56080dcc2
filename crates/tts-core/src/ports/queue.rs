//! Message queues between the outbox relay and the consumers.

use crate::error::Result;
use crate::ids::MessageId;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::time::Duration;

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

/// A durable work queue with acknowledgements and delayed redelivery.
///
/// Contract:
/// - `publish` / `publish_all` return once the broker holds the messages (for a broker: after its
///   confirms); messages are delivered at least once;
/// - one queue delivers each message to one consumer at a time, in publish order when not redelivered;
/// - `receive` never blocks: it returns a message that is ready here or `None`. A published message
///   becomes ready soon, not necessarily at once (a broker pushes it to this process): shells loop
///   `receive` / `wait`, and `wait` resolves when a message may be ready (spurious wake-ups allowed);
/// - an acked delivery is never delivered again;
/// - `retry` hands a delivery back: it is delivered again, no sooner than `delay`, with `attempt + 1`.
///   A delivery neither acked nor retried comes back when its consumer's connection drops;
/// - there is no dead-letter queue here: what fails for good becomes a dead-letter row in the store
///   ([`crate::ports::store::DeadLetters`]), written by the engine before it acks.
#[async_trait]
pub trait Queue: Send + Sync + Debug + 'static {
    /// Publishes a message to a queue (creating the queue if needed).
    async fn publish(&self, queue: &str, message: &QueueMessage) -> Result<()>;
    /// Publishes several messages, each to its queue; returns once all are held. A broker publishes
    /// them all before waiting for the confirms (one round trip for the batch, not one per message).
    async fn publish_all(&self, messages: &[(&str, QueueMessage)]) -> Result<()> {
        for (queue, message) in messages {
            self.publish(queue, message).await?;
        }
        Ok(())
    }
    /// A message that is ready, without waiting.
    async fn receive(&self, queue: &str) -> Result<Option<Delivery>>;
    /// Resolves when a message may be ready on `queue`.
    async fn wait(&self, queue: &str);
    /// Confirms a delivery was handled; it is never delivered again.
    async fn ack(&self, delivery: &Delivery) -> Result<()>;
    /// Hands a delivery back to be delivered again after `delay`, as attempt `attempt + 1`.
    async fn retry(&self, delivery: &Delivery, delay: Duration) -> Result<()>;

    /// How many messages wait in `queue` now (for metrics); `None` when the queue does not exist or the
    /// adapter cannot tell.
    async fn depth(&self, queue: &str) -> Result<Option<u64>> {
        let _ = queue;
        Ok(None)
    }

    /// Whether the broker answers now (for readiness probes): `Unavailable` when it does not; in-process
    /// queues are always ready.
    async fn ready(&self) -> Result<()> {
        Ok(())
    }
}
