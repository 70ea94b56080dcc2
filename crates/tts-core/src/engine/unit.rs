//! One command's unit of work, with the helpers every command uses: ids, audit, events.

use super::Engine;
use crate::domain::audit::AuditEntry;
use crate::domain::event::{DomainEvent, OutboxMessage};
use crate::domain::notification::NotificationRequest;
use crate::error::Result;
use crate::ids::{AuditId, MessageId, TaskId, TicketId, UserId};
use crate::ports::store::{Access, UnitOfWork};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An open unit of work plus the command's time and actor.
pub(crate) struct Cmd<'e> {
    pub(crate) tx: Box<dyn UnitOfWork>,
    pub(crate) engine: &'e Engine,
    pub(crate) now: DateTime<Utc>,
    pub(crate) actor: Option<UserId>,
    /// Events raised so far, written to the outbox in one call at commit.
    pending: Vec<OutboxMessage>,
}

impl<'e> Cmd<'e> {
    /// Opens a unit; reads the clock once.
    pub(crate) async fn open(engine: &'e Engine, access: Access, actor: Option<UserId>) -> Result<Cmd<'e>> {
        let tx = engine.store.begin(access).await?;
        Ok(Cmd::with(engine, tx, actor))
    }

    /// Opens a unit for background work (relay, consumers, sweeps): see `Store::begin_background`.
    pub(crate) async fn open_background(engine: &'e Engine, access: Access) -> Result<Cmd<'e>> {
        let tx = engine.store.begin_background(access).await?;
        Ok(Cmd::with(engine, tx, None))
    }

    fn with(engine: &'e Engine, tx: Box<dyn UnitOfWork>, actor: Option<UserId>) -> Cmd<'e> {
        Cmd {
            tx,
            engine,
            now: engine.clock.now(),
            actor,
            pending: Vec::new(),
        }
    }

    /// A fresh id of any id type.
    pub(crate) fn id<T: From<Uuid>>(&self) -> T {
        T::from(self.engine.ids.new_id())
    }

    /// Appends the command's audit entry.
    pub(crate) async fn audit(
        &mut self,
        action: &str,
        ticket: Option<TicketId>,
        task: Option<TaskId>,
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> Result<()> {
        let entry = AuditEntry {
            id: self.id::<AuditId>(),
            at: self.now,
            actor: self.actor,
            action: action.to_string(),
            ticket,
            task,
            before,
            after,
        };
        self.tx.insert_audit(entry).await
    }

    /// Raises an event: it goes to the outbox with this unit's commit.
    pub(crate) async fn emit(&mut self, event: DomainEvent) -> Result<()> {
        let message = OutboxMessage {
            id: self.id::<MessageId>(),
            event,
            created_at: self.now,
        };
        self.pending.push(message);
        Ok(())
    }

    /// Asks for a notification (delivered by the notification consumer).
    pub(crate) async fn notify(&mut self, request: NotificationRequest) -> Result<()> {
        self.emit(DomainEvent::NotificationRequested { request }).await
    }

    /// Writes the pending outbox messages, then commits the unit.
    pub(crate) async fn commit(mut self) -> Result<()> {
        let wrote_outbox = !self.pending.is_empty();
        if wrote_outbox {
            let pending = std::mem::take(&mut self.pending);
            self.tx.insert_outbox(pending).await?;
        }
        self.tx.commit().await?;
        if wrote_outbox {
            self.engine.outbox_signal.notify();
        }
        Ok(())
    }
}
