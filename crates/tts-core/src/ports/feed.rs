//! Live views of what happens: committed domain events handed to whoever shows them (a WebSocket hub).

use crate::domain::event::OutboxMessage;
use std::fmt::Debug;

/// Receives the domain events of every unit this process commits, right after the commit, in the order
/// they were raised, each with its message id and time (so a client can say what it saw last). Not durable and not a queue: a feed shows what happens now (consumers that must
/// not miss an event read the outbox or a broker instead).
///
/// Contract: `publish` must not block or fail; it runs on the committing task.
pub trait EventFeed: Send + Sync + Debug + 'static {
    /// Shows committed events.
    fn publish(&self, events: &[OutboxMessage]);
}

/// Several feeds shown the same events, in order (e.g. a WebSocket hub and a metrics collector).
#[derive(Debug, Default)]
pub struct Feeds(pub Vec<std::sync::Arc<dyn EventFeed>>);

impl EventFeed for Feeds {
    fn publish(&self, events: &[OutboxMessage]) {
        for feed in &self.0 {
            feed.publish(events);
        }
    }
}
