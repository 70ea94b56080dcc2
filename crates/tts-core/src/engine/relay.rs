//! The outbox relay step: publish unsent outbox messages to their queues, then mark them sent.

use super::Engine;
use crate::domain::event::{DomainEvent, OutboxMessage};
use crate::domain::user::Actor;
use crate::error::{Error, ErrorKind, Result};
use crate::ports::queue::QueueMessage;

impl Engine {
    /// The queue an event goes to, if any.
    pub fn route(&self, event: &DomainEvent) -> Option<&str> {
        let q = &self.config.queues;
        match event {
            DomainEvent::TicketCreated { .. } | DomainEvent::AllocationRequested { .. } => Some(&q.tickets),
            DomainEvent::NotificationRequested { .. } => Some(&q.notifications),
            _ => q.events.as_deref(),
        }
    }

    /// Moves up to one batch of unsent outbox messages to their queues and marks them sent; returns how
    /// many. Runtime-free: shells call it in a loop. A crash between publish and mark re-publishes the
    /// batch later (at-least-once); consumers deduplicate by message id.
    pub async fn pump(&self) -> Result<usize> {
        // Peek without write locks first: an idle relay then never competes with commands for the writer.
        let peek = self
            .read(Actor::system(), async |cmd| cmd.tx.unsent_outbox(1).await)
            .await?;
        if peek.is_empty() {
            return Ok(0);
        }
        self.background(async |cmd| {
            let batch = cmd.tx.unsent_outbox(cmd.engine.config.relay_batch).await?;
            for message in &batch {
                if let Some(queue) = cmd.engine.route(&message.event) {
                    cmd.engine.queue.publish(queue, &to_queue_message(message)?).await?;
                }
            }
            let ids: Vec<_> = batch.iter().map(|m| m.id).collect();
            if !ids.is_empty() {
                cmd.tx.mark_outbox_sent(&ids).await?;
            }
            Ok(batch.len())
        })
        .await
    }

    /// Pumps until the outbox is empty; returns how many messages moved.
    pub async fn pump_all(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            match self.pump().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }
}

fn to_queue_message(m: &OutboxMessage) -> Result<QueueMessage> {
    let payload = serde_json::to_value(&m.event).map_err(|e| Error::Backend {
        backend: "outbox",
        kind: ErrorKind::Internal,
        message: e.to_string(),
    })?;
    Ok(QueueMessage {
        id: m.id,
        kind: m.event.kind().to_string(),
        payload,
    })
}
