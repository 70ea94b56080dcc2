//! Delivery through a broker ([`Queue`]): receive, apply the effect in one unit (with the message id
//! recorded for dedup), then ack. A failure that may pass goes back to the broker for another delivery after
//! the retry back-off; after the last delivery, or at once when it cannot pass (a malformed message included), the
//! message is written to the dead-letter table and then acked, so it is never lost and never retried
//! forever.

use super::Engine;
use super::consumers::{ConsumeOutcome, Consumer, apply, is_transient, not_handled, unless_panic};
use super::delivery_outbox::done;
use crate::domain::delivery::DeadLetter;
use crate::domain::event::DomainEvent;
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::ports::queue::{Delivery, Queue};
use std::sync::Arc;

impl Engine {
    /// One step of a broker consumer: receive up to `max` deliveries, handle them (together when they may
    /// share a unit), settle each.
    pub(super) async fn consume_from_broker(
        &self,
        queue: Arc<dyn Queue>,
        consumer: Consumer,
        max: usize,
    ) -> Result<Vec<ConsumeOutcome>> {
        let name = self.consumer_queue(consumer).to_string();
        let limit = max.max(1);
        let mut deliveries = Vec::new();
        while deliveries.len() < limit {
            match queue.receive(&name).await {
                Ok(Some(d)) => deliveries.push(d),
                Ok(None) => break,
                Err(e) if deliveries.is_empty() => return Err(e),
                // Handle what was received; the error will show again on the next call.
                Err(_) => break,
            }
        }
        let mut outcomes = Vec::with_capacity(deliveries.len());
        let mut good: Vec<(&Delivery, (MessageId, DomainEvent))> = Vec::with_capacity(deliveries.len());
        for delivery in &deliveries {
            match parse(consumer, delivery) {
                Ok(message) => good.push((delivery, message)),
                Err(e) => outcomes.push(self.settle(Arc::clone(&queue), delivery, Err(e)).await?),
            }
        }
        if good.len() > 1 {
            let messages: Vec<_> = good.iter().map(|(_, m)| m.clone()).collect();
            if let Ok(fresh) =
                unless_panic(self.background(async move |cmd| apply(cmd, consumer, messages.clone()).await)).await
            {
                for ((delivery, _), fresh) in good.iter().zip(fresh) {
                    outcomes.push(self.settle(Arc::clone(&queue), delivery, Ok(fresh)).await?);
                }
                return Ok(outcomes);
            }
        }
        for (delivery, message) in good {
            let one = [message];
            let handled = unless_panic(self.background(async move |cmd| apply(cmd, consumer, one.to_vec()).await))
                .await
                .map(|fresh| fresh.first().copied().unwrap_or(false));
            outcomes.push(self.settle(Arc::clone(&queue), delivery, handled).await?);
        }
        Ok(outcomes)
    }

    /// Acks a handled delivery; nacks a failed one for another delivery, or dead-letters it and acks.
    pub(super) async fn settle(
        &self,
        queue: Arc<dyn Queue>,
        delivery: &Delivery,
        handled: Result<bool>,
    ) -> Result<ConsumeOutcome> {
        let error = match handled {
            Ok(fresh) => {
                queue.ack(delivery).await?;
                return Ok(done(fresh));
            }
            Err(e) => e,
        };
        let message = error.to_string();
        if is_transient(&error) && self.config.retry.retries_after(delivery.attempt) {
            queue.retry(delivery, self.retry_delay(delivery.attempt)).await?;
            return Ok(ConsumeOutcome::Retrying { error: message });
        }
        let letter = DeadLetter {
            id: delivery.message.id,
            queue: delivery.queue.clone(),
            kind: delivery.message.kind.clone(),
            payload: delivery.message.payload.clone(),
            error: message.clone(),
            attempts: delivery.attempt,
            created_at: self.clock.now(),
            failed_at: self.clock.now(),
        };
        let kept = self
            .background(async move |cmd| cmd.tx.insert_dead_letter(&letter).await)
            .await;
        match kept {
            Ok(_) => {
                queue.ack(delivery).await?;
                Ok(ConsumeOutcome::DeadLettered { error: message })
            }
            Err(e) => {
                // Not written: leave it with the broker rather than lose it.
                queue.retry(delivery, self.retry_delay(delivery.attempt)).await?;
                Err(e)
            }
        }
    }
}

impl Engine {
    /// The back-off before the next delivery after failed delivery number `attempt`.
    fn retry_delay(&self, attempt: u32) -> std::time::Duration {
        self.config
            .retry
            .delay(attempt, self.jitter())
            .to_std()
            .unwrap_or_default()
    }
}

/// The message id and event of a delivery, if `consumer` handles it.
pub(super) fn parse(consumer: Consumer, delivery: &Delivery) -> Result<(MessageId, DomainEvent)> {
    let event: DomainEvent = serde_json::from_value(delivery.message.payload.clone())
        .map_err(|e| Error::invalid("payload", format!("not a domain event: {e}")))?;
    if !consumer.handles(&event) {
        return Err(not_handled(consumer, &event));
    }
    Ok((delivery.message.id, event))
}
