//! Delivery without a broker: the outbox is the queue. A consumer claims due messages of its queue in
//! the unit that applies their effect and removes them there, so a message leaves the database exactly
//! when its effect commits; a crash or a shutdown at any point leaves it for the next claim. A failed
//! delivery is counted on the row and tried again after a back-off; after the last one, or at once when
//! the failure cannot pass, the row becomes a dead letter in the same unit that removes it.

use super::Engine;
use super::consumers::{ConsumeOutcome, Consumer, Lookout, apply, is_transient, unless_panic};
use crate::domain::delivery::DeadLetter;
use crate::domain::user::Actor;
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::ports::store::Claimed;
use std::sync::{Arc, Mutex};

impl Engine {
    /// One step of an outbox consumer: claim up to `max` due messages (one when they may not share a
    /// unit), apply them, remove them; on failure, handle each claimed message on its own.
    pub(super) async fn consume_from_outbox(
        &self,
        consumer: Consumer,
        max: usize,
        lookout: Lookout,
    ) -> Result<Vec<ConsumeOutcome>> {
        let queue = self.consumer_queue(consumer).to_string();
        let limit = max.max(1);
        // Look without write locks first, unless the caller was told messages arrived: loops that poll
        // an idle queue then never compete with commands for the writer.
        if lookout == Lookout::LookFirst && !self.outbox_has_due(&queue).await? {
            return Ok(Vec::new());
        }
        // What the last attempt claimed, so a failed unit still says which messages it held.
        let taken: Arc<Mutex<Vec<Claimed>>> = Arc::default();
        let holder = Arc::clone(&taken);
        let result = unless_panic(self.background(async move |cmd| {
            let claimed = cmd.tx.claim_outbox(&queue, limit, cmd.now).await?;
            holder.lock().unwrap_or_else(|p| p.into_inner()).clone_from(&claimed);
            if claimed.is_empty() {
                return Ok(Vec::new());
            }
            let messages: Vec<_> = claimed
                .iter()
                .map(|c| (c.message.id, c.message.event.clone()))
                .collect();
            let ids: Vec<MessageId> = messages.iter().map(|(id, _)| *id).collect();
            let fresh = apply(cmd, consumer, messages).await?;
            cmd.tx.finish_outbox(&ids).await?;
            Ok(fresh.into_iter().map(done).collect())
        }))
        .await;
        let taken = std::mem::take(&mut *taken.lock().unwrap_or_else(|p| p.into_inner()));
        match result {
            Ok(outcomes) => Ok(outcomes),
            Err(e) if taken.len() == 1 => Ok(vec![self.outbox_failed(consumer, &taken[0], &e).await?]),
            Err(_) if taken.len() > 1 => {
                let mut outcomes = Vec::with_capacity(taken.len());
                for claimed in &taken {
                    outcomes.push(self.consume_outbox_message(consumer, claimed.message.id).await?);
                }
                Ok(outcomes)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether `queue` has a due message, by a read without write locks: how a consumer that polls
    /// looks before it claims, so that idle loops never compete with commands for the writer.
    pub(super) async fn outbox_has_due(&self, queue: &str) -> Result<bool> {
        let queue = queue.to_string();
        let due = self
            .read(Actor::system(), async move |cmd| {
                cmd.tx.claim_outbox(&queue, 1, cmd.now).await
            })
            .await?;
        Ok(!due.is_empty())
    }

    /// Handles one outbox message in its own unit (after its batch failed); a message another consumer
    /// finished meanwhile counts as a duplicate.
    async fn consume_outbox_message(&self, consumer: Consumer, id: MessageId) -> Result<ConsumeOutcome> {
        let seen: Arc<Mutex<Option<Claimed>>> = Arc::default();
        let holder = Arc::clone(&seen);
        let result = unless_panic(self.background(async move |cmd| {
            let Some(claimed) = cmd.tx.outbox_message(id).await? else {
                return Ok(ConsumeOutcome::Duplicate);
            };
            *holder.lock().unwrap_or_else(|p| p.into_inner()) = Some(claimed.clone());
            let fresh = apply(cmd, consumer, vec![(id, claimed.message.event)]).await?;
            cmd.tx.finish_outbox(&[id]).await?;
            Ok(done(fresh.first().copied().unwrap_or(false)))
        }))
        .await;
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).take();
        match (result, seen) {
            (Ok(outcome), _) => Ok(outcome),
            (Err(e), Some(claimed)) => self.outbox_failed(consumer, &claimed, &e).await,
            (Err(e), None) => Err(e),
        }
    }

    /// Records a failed delivery of `claimed`: another attempt after a back-off, or a dead letter. Does
    /// nothing when the message changed since (another consumer finished or counted it).
    pub(super) async fn outbox_failed(
        &self,
        consumer: Consumer,
        claimed: &Claimed,
        error: &Error,
    ) -> Result<ConsumeOutcome> {
        let id = claimed.message.id;
        let delivery = claimed.attempts + 1;
        let retry = is_transient(error) && self.config.retry.retries_after(delivery);
        let message = error.to_string();
        let jitter = self.jitter();
        let claimed = claimed.clone();
        self.background(async move |cmd| {
            match cmd.tx.outbox_message(id).await? {
                Some(now) if now.attempts == claimed.attempts => {}
                _ => return Ok(ConsumeOutcome::Duplicate),
            }
            if retry {
                let due = cmd.now + cmd.engine.config.retry.delay(delivery, jitter);
                cmd.tx.retry_outbox(id, due, &message).await?;
                return Ok(ConsumeOutcome::Retrying { error: message.clone() });
            }
            let letter = DeadLetter {
                id,
                queue: cmd.engine.consumer_queue(consumer).to_string(),
                kind: claimed.message.event.kind().to_string(),
                payload: serde_json::to_value(&claimed.message.event).unwrap_or_default(),
                error: message.clone(),
                attempts: delivery,
                created_at: claimed.message.created_at,
                failed_at: cmd.now,
            };
            cmd.tx.insert_dead_letter(&letter).await?;
            cmd.tx.finish_outbox(&[id]).await?;
            Ok(ConsumeOutcome::DeadLettered { error: message.clone() })
        })
        .await
    }

    /// A number in 0.0..=1.0 from the id generator's random bits, to spread retries.
    pub(super) fn jitter(&self) -> f64 {
        let bits = self.ids.new_id().as_u128() as u64;
        bits as f64 / u64::MAX as f64
    }
}

/// The outcome of a handled message.
pub(super) fn done(fresh: bool) -> ConsumeOutcome {
    if fresh {
        ConsumeOutcome::Done
    } else {
        ConsumeOutcome::Duplicate
    }
}
