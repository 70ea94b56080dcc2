//! Sending e-mail: the one effect no unit of work can take back, so it happens outside any unit.
//!
//! - From the outbox: a unit claims one due `email.requested` row and leases it (due again after
//!   [`MAIL_LEASE`], no failure counted) and commits; the mailer sends; a second unit records the send
//!   (dedup record) and removes the row. A failed send is counted like any failed delivery (back-off,
//!   then a dead letter).
//! - From a broker: receive; if the dedup record exists, ack (a redelivery); else send, record the send
//!   in a unit, then ack.
//!
//! The window that remains: the mailer accepted the message but the process died (or the database went
//! away) before the record committed. The message is then delivered again and the e-mail sent a second
//! time. Nothing is ever lost; at worst one duplicate e-mail per crash.

use super::Engine;
use super::consumers::{ConsumeOutcome, Consumer, not_handled, unless_panic};
use crate::domain::event::DomainEvent;
use crate::domain::user::Actor;
use crate::error::Result;
use crate::ids::MessageId;
use crate::ports::queue::Queue;
use std::sync::Arc;

/// How long a claimed e-mail is held by its sender before another consumer may take it: longer than
/// any mailer waits for a server.
pub const MAIL_LEASE: chrono::Duration = chrono::Duration::minutes(5);

impl Engine {
    /// Sends at most one requested e-mail; `None` when none is ready.
    pub(super) async fn send_one_email(&self) -> Result<Option<ConsumeOutcome>> {
        match self.queue.clone() {
            Some(queue) => self.email_from_broker(queue).await,
            None => self.email_from_outbox().await,
        }
    }

    async fn email_from_outbox(&self) -> Result<Option<ConsumeOutcome>> {
        let queue = self.consumer_queue(Consumer::Mail).to_string();
        if !self.outbox_has_due(&queue).await? {
            return Ok(None);
        }
        let claimed = self
            .background(async move |cmd| {
                let Some(first) = cmd.tx.claim_outbox(&queue, 1, cmd.now).await?.pop() else {
                    return Ok(None);
                };
                cmd.tx.lease_outbox(first.message.id, cmd.now + MAIL_LEASE).await?;
                Ok(Some(first))
            })
            .await?;
        let Some(claimed) = claimed else {
            return Ok(None);
        };
        let id = claimed.message.id;
        match self.send_email(id, &claimed.message.event).await {
            Ok(fresh) => {
                self.record_email(id, true).await?;
                Ok(Some(super::delivery_outbox::done(fresh)))
            }
            Err(e) => Ok(Some(self.outbox_failed(Consumer::Mail, &claimed, &e).await?)),
        }
    }

    async fn email_from_broker(&self, queue: Arc<dyn Queue>) -> Result<Option<ConsumeOutcome>> {
        let name = self.consumer_queue(Consumer::Mail).to_string();
        let Some(delivery) = queue.receive(&name).await? else {
            return Ok(None);
        };
        let handled = match super::delivery_broker::parse(Consumer::Mail, &delivery) {
            Ok((id, event)) => match self.send_email(id, &event).await {
                Ok(true) => self.record_email(id, false).await.map(|()| true),
                other => other,
            },
            Err(e) => Err(e),
        };
        self.settle(queue, &delivery, handled).await.map(Some)
    }

    /// Sends the e-mail of `event` unless message `id` was sent before; true when it was sent now.
    async fn send_email(&self, id: MessageId, event: &DomainEvent) -> Result<bool> {
        let DomainEvent::EmailRequested { email, .. } = event else {
            return Err(not_handled(Consumer::Mail, event));
        };
        let sent_before = self
            .read(Actor::system(), async move |cmd| {
                cmd.tx.processed(Consumer::Mail.name(), id).await
            })
            .await?;
        if sent_before {
            return Ok(false);
        }
        unless_panic(self.mailer.send(email)).await?;
        Ok(true)
    }

    /// Records that message `id` was sent (and removes its outbox row when it came from the outbox).
    async fn record_email(&self, id: MessageId, from_outbox: bool) -> Result<()> {
        self.background(async move |cmd| {
            cmd.tx.record_processed(Consumer::Mail.name(), id, cmd.now).await?;
            if from_outbox {
                cmd.tx.finish_outbox(&[id]).await?;
            }
            Ok(())
        })
        .await
    }
}
