//! The outbox relay, used only with a broker: publish unsent outbox messages to their queues, then remove
//! them from the outbox. Without a broker there is nothing to relay: consumers read the outbox itself.

use super::Engine;
use crate::domain::event::{DomainEvent, OutboxMessage};
use crate::domain::user::Actor;
use crate::error::{Error, ErrorKind, Result};
use crate::ports::queue::QueueMessage;

impl Engine {
    /// The queue an event goes to, if any: allocation and notification requests to their consumers'
    /// queues; every other event to [`super::QueueNames::events`] when a broker carries them (in-process,
    /// nothing would consume them: the live feed gets them straight after their commit).
    pub fn route(&self, event: &DomainEvent) -> Option<&str> {
        let q = &self.config.queues;
        match event {
            DomainEvent::TicketCreated { .. } | DomainEvent::AllocationRequested { .. } => Some(&q.tickets),
            DomainEvent::NotificationRequested { .. } => Some(&q.notifications),
            DomainEvent::EmailRequested { .. } => Some(&q.mail),
            _ if self.queue.is_some() => q.events.as_deref(),
            _ => None,
        }
    }

    /// With a broker, moves up to one batch of unsent outbox messages to their queues and removes them
    /// from the outbox; returns how many. Runtime-free: shells call it in a loop. A crash between publish
    /// and removal re-publishes the batch later (at-least-once); consumers deduplicate by message id.
    /// Without a broker it does nothing and returns 0.
    pub async fn pump(&self) -> Result<usize> {
        if self.queue.is_none() {
            return Ok(0);
        }
        // Peek without write locks first: an idle relay then never competes with commands for the writer.
        let peek = self
            .read(Actor::system(), async |cmd| cmd.tx.unsent_outbox(1).await)
            .await?;
        if peek.is_empty() {
            return Ok(0);
        }
        self.background(async |cmd| {
            let batch = cmd.tx.unsent_outbox(cmd.engine.config.relay_batch).await?;
            let mut routed = Vec::with_capacity(batch.len());
            for message in &batch {
                if let Some(name) = &message.queue {
                    routed.push((name.as_str(), to_queue_message(message)?));
                }
            }
            // One batch, one wait for the broker's confirms; rows go only once every message is held.
            if let (Some(queue), false) = (&cmd.engine.queue, routed.is_empty()) {
                queue.publish_all(&routed).await?;
            }
            let ids: Vec<_> = batch.iter().map(|m| m.id).collect();
            if !ids.is_empty() {
                cmd.tx.finish_outbox(&ids).await?;
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
