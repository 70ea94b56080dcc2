//! The two consumers: allocation (`ticket.created` -> allocate) and notifications
//! (`notification.requested` -> in-app row + e-mail). Both are idempotent by message id: the id is
//! recorded in the same unit as the effect.

use super::Engine;
use super::allocation::{Route, Routed, allocate_in, assign_routed, route};
use crate::domain::event::DomainEvent;
use crate::domain::notification::Notification;
use crate::error::{Error, ErrorKind, Result};
use crate::ports::mailer::Email;
use crate::ports::queue::Delivery;
use serde::{Deserialize, Serialize};

/// Which consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consumer {
    /// Routes new tickets and assigns their first step.
    Allocation,
    /// Writes in-app notifications and sends e-mail.
    Notifications,
}

impl Consumer {
    /// The name recorded with processed message ids.
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Allocation => "allocation",
            Consumer::Notifications => "notifications",
        }
    }
}

/// What handling one delivery did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ConsumeOutcome {
    /// Handled and acked.
    Done,
    /// Seen before; acked without effect.
    Duplicate,
    /// Failed; put back for another attempt.
    Retrying {
        /// Why.
        error: String,
    },
    /// Failed for good (or too often); moved to the dead-letter queue.
    DeadLettered {
        /// Why.
        error: String,
    },
}

impl Engine {
    /// The queue a consumer reads.
    pub fn consumer_queue(&self, consumer: Consumer) -> &str {
        match consumer {
            Consumer::Allocation => &self.config.queues.tickets,
            Consumer::Notifications => &self.config.queues.notifications,
        }
    }

    /// Receives and handles one message for `consumer`, acking or nacking it; `None` when the queue is
    /// empty. Transient failures are retried up to [`super::EngineConfig::max_deliveries`] deliveries,
    /// then dead-lettered; permanent failures (bad payload, unknown ticket, nobody to assign) are
    /// dead-lettered at once so an admin can fix the cause and replay them.
    pub async fn consume_one(&self, consumer: Consumer) -> Result<Option<ConsumeOutcome>> {
        let queue = self.consumer_queue(consumer).to_string();
        let Some(delivery) = self.queue.receive(&queue).await? else {
            return Ok(None);
        };
        let handled = self.handle(consumer, &delivery).await;
        Ok(Some(self.settle(&delivery, handled).await?))
    }

    /// Acks or nacks a delivery by how handling it went.
    async fn settle(&self, delivery: &Delivery, handled: Result<bool>) -> Result<ConsumeOutcome> {
        Ok(match handled {
            Ok(true) => {
                self.queue.ack(delivery).await?;
                ConsumeOutcome::Done
            }
            Ok(false) => {
                self.queue.ack(delivery).await?;
                ConsumeOutcome::Duplicate
            }
            Err(e) => {
                let transient = matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Internal) || e.is_retryable();
                if transient && delivery.attempt < self.config.max_deliveries {
                    self.queue.nack(delivery, true).await?;
                    ConsumeOutcome::Retrying { error: e.to_string() }
                } else {
                    self.queue.nack(delivery, false).await?;
                    ConsumeOutcome::DeadLettered { error: e.to_string() }
                }
            }
        })
    }

    /// Receives up to `max` ready messages for `consumer` and handles them, acking or nacking each;
    /// empty when the queue is. Allocations are handled together in one unit of work: one commit and one
    /// hold of a role's cursor for the lot instead of one per ticket, which is what lets allocation keep
    /// up with ticket creation. Notifications are too when e-mail is off (a sent e-mail cannot be taken
    /// back by a rollback, so with e-mail they go one by one). If any message of a batch fails, its unit
    /// is rolled back and each message is handled on its own as [`Self::consume_one`] would, so one bad
    /// message never holds back the others.
    pub async fn consume_batch(&self, consumer: Consumer, max: usize) -> Result<Vec<ConsumeOutcome>> {
        let queue = self.consumer_queue(consumer).to_string();
        let mut deliveries = Vec::new();
        while deliveries.len() < max.max(1) {
            match self.queue.receive(&queue).await {
                Ok(Some(d)) => deliveries.push(d),
                Ok(None) => break,
                Err(e) if deliveries.is_empty() => return Err(e),
                // Handle what was received; the error will show again on the next call.
                Err(_) => break,
            }
        }
        let batched = match consumer {
            _ if deliveries.len() < 2 => None,
            Consumer::Allocation => self.allocate_batch(&deliveries).await.ok(),
            Consumer::Notifications if !self.config.email_notifications => self.notify_batch(&deliveries).await.ok(),
            Consumer::Notifications => None,
        };
        if let Some(handled) = batched {
            let mut outcomes = Vec::with_capacity(deliveries.len());
            for (delivery, fresh) in deliveries.iter().zip(handled) {
                self.queue.ack(delivery).await?;
                outcomes.push(if fresh {
                    ConsumeOutcome::Done
                } else {
                    ConsumeOutcome::Duplicate
                });
            }
            return Ok(outcomes);
        }
        let mut outcomes = Vec::with_capacity(deliveries.len());
        for delivery in &deliveries {
            outcomes.push(self.settle(delivery, self.handle(consumer, delivery).await).await?);
        }
        Ok(outcomes)
    }

    /// Allocates the tickets of several `ticket.created` deliveries in one unit; per delivery, false for a
    /// duplicate. Any error (a bad payload included) fails the whole unit, which is then rolled back.
    ///
    /// Lock order, so that concurrent batches (in this process or another) never deadlock: first every
    /// ticket row, in ticket id order; then the role cursors, in role id order. A single allocation locks
    /// its ticket, then its cursor, which agrees.
    async fn allocate_batch(&self, deliveries: &[Delivery]) -> Result<Vec<bool>> {
        let mut wanted = Vec::with_capacity(deliveries.len());
        for (i, delivery) in deliveries.iter().enumerate() {
            match serde_json::from_value(delivery.message.payload.clone()) {
                Ok(DomainEvent::TicketCreated { ticket, .. } | DomainEvent::AllocationRequested { ticket }) => {
                    wanted.push((ticket, i, delivery.message.id));
                }
                _ => return Err(Error::invalid("payload", "not a ticket to allocate")),
            }
        }
        wanted.sort_unstable_by_key(|(ticket, i, _)| (*ticket, *i));
        let count = deliveries.len();
        self.background(async move |cmd| {
            let mut handled = vec![false; count];
            let mut ready = Vec::with_capacity(wanted.len());
            for &(ticket, i, message) in &wanted {
                let fresh = cmd
                    .tx
                    .record_processed(Consumer::Allocation.name(), message, cmd.now)
                    .await?;
                handled[i] = fresh;
                // A second message for a ticket already routed in this batch is settled by the first.
                if fresh
                    && !ready.iter().any(|r: &Routed| r.ticket_id() == ticket)
                    && let Route::Ready(routed) = route(cmd, ticket).await?
                {
                    ready.push(routed);
                }
            }
            ready.sort_by_key(|r| (r.role, r.ticket_id()));
            for routed in ready {
                assign_routed(cmd, routed).await?;
            }
            Ok(handled)
        })
        .await
    }

    /// Writes the in-app notifications of several `notification.requested` deliveries in one unit (only
    /// without e-mail: a sent e-mail cannot be rolled back with the unit); per delivery, false for a
    /// duplicate. Any error fails the whole unit.
    async fn notify_batch(&self, deliveries: &[Delivery]) -> Result<Vec<bool>> {
        let mut requests = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            let Ok(DomainEvent::NotificationRequested { request }) =
                serde_json::from_value(delivery.message.payload.clone())
            else {
                return Err(Error::invalid("payload", "not a notification request"));
            };
            requests.push((delivery.message.id, request));
        }
        self.background(async move |cmd| {
            let mut handled = Vec::with_capacity(requests.len());
            for (message, request) in &requests {
                let fresh = cmd
                    .tx
                    .record_processed(Consumer::Notifications.name(), *message, cmd.now)
                    .await?;
                if fresh {
                    let notification = Notification::from_request(cmd.id(), request.clone(), cmd.now);
                    cmd.tx.insert_notification(&notification).await?;
                }
                handled.push(fresh);
            }
            Ok(handled)
        })
        .await
    }

    /// Handles everything ready on the consumer's queue; returns how many deliveries were handled.
    pub async fn drain(&self, consumer: Consumer) -> Result<usize> {
        let mut n = 0;
        while self.consume_one(consumer).await?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Handles one delivery; `Ok(false)` for a duplicate.
    pub async fn handle(&self, consumer: Consumer, delivery: &Delivery) -> Result<bool> {
        let event: DomainEvent = serde_json::from_value(delivery.message.payload.clone())
            .map_err(|e| Error::invalid("payload", format!("not a domain event: {e}")))?;
        match (consumer, &event) {
            (Consumer::Allocation, DomainEvent::TicketCreated { .. } | DomainEvent::AllocationRequested { .. })
            | (Consumer::Notifications, DomainEvent::NotificationRequested { .. }) => {}
            (c, e) => {
                return Err(Error::invalid(
                    "payload",
                    format!("consumer {} does not handle {}", c.name(), e.kind()),
                ));
            }
        }
        let message = delivery.message.id;
        self.background(async move |cmd| {
            if !cmd.tx.record_processed(consumer.name(), message, cmd.now).await? {
                return Ok(false);
            }
            match &event {
                DomainEvent::TicketCreated { ticket, .. } | DomainEvent::AllocationRequested { ticket } => {
                    // Unroutable tickets are recorded as processed; they stay listed as unallocated
                    // until pushed again.
                    allocate_in(cmd, *ticket).await?;
                }
                DomainEvent::NotificationRequested { request } => {
                    let user = cmd.tx.user(request.user_id).await?;
                    let notification = Notification::from_request(cmd.id(), request.clone(), cmd.now);
                    cmd.tx.insert_notification(&notification).await?;
                    if cmd.engine.config.email_notifications
                        && let Some(user) = user.filter(|u| u.is_active)
                    {
                        let email = Email {
                            to: user.email,
                            subject: notification.subject.clone(),
                            body: notification.message.clone(),
                        };
                        cmd.engine.mailer.send(&email).await?;
                    }
                }
                _ => {}
            }
            Ok(true)
        })
        .await
    }
}
