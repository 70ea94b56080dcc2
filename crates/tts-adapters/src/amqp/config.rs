//! How to reach RabbitMQ and how to shape the queues.

use std::time::Duration;

/// The kind of the work queues (`TICKET_TASKS_PRODUCTION`, `notification-queue-default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueKind {
    /// Replicated Raft queues (RabbitMQ >= 3.8): what a production broker should hold work in. A queue
    /// that already exists as classic is used as it is.
    #[default]
    Quorum,
    /// Classic durable queues: a single broker's disk.
    Classic,
}

impl QueueKind {
    /// The `x-queue-type` argument value.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::Quorum => "quorum",
            QueueKind::Classic => "classic",
        }
    }
}

/// Settings of [`super::AmqpQueue`] and [`super::AmqpFeed`].
#[derive(Clone)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost` (the vhost `/` is written `%2f`).
    pub url: String,
    /// Quorum or classic work queues.
    pub queue_kind: QueueKind,
    /// Unacknowledged deliveries the broker pushes to each consumer of this process (`basic.qos`).
    pub prefetch: u16,
    /// The first wait before reconnecting after the broker went away; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// The longest wait between reconnection attempts.
    pub reconnect_max: Duration,
    /// The name this process shows in the broker's connection list.
    pub connection_name: String,
}

impl AmqpConfig {
    /// Defaults for `url`: quorum queues, prefetch 64, reconnect between 100 ms and 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            queue_kind: QueueKind::Quorum,
            prefetch: 64,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            connection_name: "tts".into(),
        }
    }
}

impl std::fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpConfig")
            .field("url", &crate::redact::redact_url(&self.url))
            .field("queue_kind", &self.queue_kind)
            .field("prefetch", &self.prefetch)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("connection_name", &self.connection_name)
            .finish()
    }
}
