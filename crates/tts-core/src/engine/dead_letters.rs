//! Dead letters for admins: list them, put one back on its queue, or delete it.

use super::Engine;
use super::users::require_admin;
use crate::domain::delivery::DeadLetter;
use crate::domain::event::{DomainEvent, OutboxMessage};
use crate::domain::user::Actor;
use crate::error::{Error, Result};
use crate::ids::MessageId;
use crate::ports::store::{Page, PageRequest};
use serde_json::json;

impl Engine {
    /// A page of dead letters, newest first (admin only).
    pub async fn dead_letters(&self, actor: Actor, page: PageRequest) -> Result<Page<DeadLetter>> {
        require_admin(actor)?;
        self.store.list_dead_letters(page).await
    }

    /// Puts a dead letter back on the queue of the consumer that handles it, under its own id (so a
    /// consumer that did handle it after all skips it), with a fresh count of deliveries; returns it
    /// (admin only). A letter that is not a domain event, or that no consumer handles, cannot be replayed:
    /// `Error::Conflict`, delete it instead.
    pub async fn replay_dead_letter(&self, actor: Actor, id: MessageId) -> Result<DeadLetter> {
        require_admin(actor)?;
        let letter = self
            .write(actor, async move |cmd| {
                let letter = cmd
                    .tx
                    .dead_letter(id)
                    .await?
                    .ok_or_else(|| Error::not_found("dead letter", id))?;
                let event: DomainEvent = serde_json::from_value(letter.payload.clone()).map_err(|e| {
                    Error::conflict(format!(
                        "dead letter {id} is not a domain event ({e}); delete it instead"
                    ))
                })?;
                let queue = cmd.engine.route(&event).map(str::to_string).ok_or_else(|| {
                    Error::conflict(format!("no consumer handles {}; delete it instead", event.kind()))
                })?;
                cmd.tx.delete_dead_letter(id).await?;
                let message = OutboxMessage {
                    id,
                    event,
                    created_at: cmd.now,
                    queue: Some(queue),
                };
                cmd.tx.insert_outbox(vec![message]).await?;
                cmd.audit(
                    "dead_letter.replayed",
                    None,
                    None,
                    json!({"id": id, "queue": letter.queue, "error": letter.error, "attempts": letter.attempts}),
                    serde_json::Value::Null,
                )
                .await?;
                Ok(letter)
            })
            .await?;
        self.outbox_signal.notify();
        Ok(letter)
    }

    /// Deletes a dead letter for good (admin only).
    pub async fn delete_dead_letter(&self, actor: Actor, id: MessageId) -> Result<()> {
        require_admin(actor)?;
        self.write(actor, async move |cmd| {
            let letter = cmd
                .tx
                .dead_letter(id)
                .await?
                .ok_or_else(|| Error::not_found("dead letter", id))?;
            cmd.tx.delete_dead_letter(id).await?;
            cmd.audit(
                "dead_letter.deleted",
                None,
                None,
                json!({"id": id, "queue": letter.queue, "kind": letter.kind, "error": letter.error}),
                serde_json::Value::Null,
            )
            .await
        })
        .await
    }
}
