//! The command runner: every engine command is one closure run in one unit of work, committed when it
//! succeeds, dropped (rolled back) when it fails, and run again from the start when it lost a race.
//!
//! Commands never open units themselves: they call [`Engine::run`] (or its shorthands [`Engine::read`],
//! [`Engine::write`], [`Engine::background`]) with an `async` closure over a [`Cmd`]. The closure may
//! run several times, so it captures only owned values and reaches the engine through [`Cmd::engine`].

use super::Engine;
use crate::domain::audit::AuditEntry;
use crate::domain::event::{DomainEvent, OutboxMessage};
use crate::domain::notification::NotificationRequest;
use crate::domain::user::Actor;
use crate::error::Result;
use crate::ids::{AuditId, MessageId, RoleId, SessionId, TaskId, TicketId, UserId};
use crate::ports::store::{PickState, UnitOfWork, UnitOptions};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// An open unit of work plus the command's time and actor.
pub(crate) struct Cmd<'e> {
    /// The unit.
    pub(crate) tx: Box<dyn UnitOfWork>,
    /// The engine, for its ports and configuration.
    pub(crate) engine: &'e Engine,
    /// The command's time: the clock is read once per attempt.
    pub(crate) now: DateTime<Utc>,
    /// Who the audit trail names.
    pub(crate) actor: Option<UserId>,
    /// Events raised so far, written to the outbox in one call at commit.
    pending: Vec<OutboxMessage>,
    /// Sessions this command ended, announced to the session gate after commit.
    ended: Vec<SessionId>,
    /// While a batch of allocations runs: each role's pick state, read and locked once for the whole
    /// batch and carried forward in memory (see `assign::pick`); `None` otherwise.
    pub(crate) picks: Option<HashMap<RoleId, Picks>>,
}

/// A role's pick state held through a batch of allocations.
pub(crate) struct Picks {
    /// The candidates (with their open assignments, when `with_load`) and the last user picked.
    pub(crate) state: PickState,
    /// Whether the candidates' open assignments were read.
    pub(crate) with_load: bool,
}

impl<'e> Cmd<'e> {
    /// Opens a unit; reads the clock once.
    async fn open(engine: &'e Engine, options: UnitOptions, actor: Option<UserId>) -> Result<Cmd<'e>> {
        let tx = engine.store.begin(options).await?;
        Ok(Cmd {
            tx,
            engine,
            now: engine.clock.now(),
            actor,
            pending: Vec::new(),
            ended: Vec::new(),
            picks: None,
        })
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

    /// Raises an event: it goes to the outbox with this unit's commit (when something will consume or
    /// relay it) and to the live feed after the commit.
    pub(crate) fn emit(&mut self, event: DomainEvent) {
        let message = OutboxMessage {
            id: self.id::<MessageId>(),
            queue: self.engine.route(&event).map(str::to_string),
            event,
            created_at: self.now,
        };
        self.pending.push(message);
    }

    /// Asks for a notification (delivered by the notification consumer).
    pub(crate) fn notify(&mut self, request: NotificationRequest) {
        self.emit(DomainEvent::NotificationRequested { request });
    }

    /// Records sessions this command ended, so that their tokens stop working in this process as soon as
    /// the unit commits (other processes learn it from the store).
    pub(crate) fn ended_sessions(&mut self, ids: impl IntoIterator<Item = SessionId>) {
        self.ended.extend(ids);
    }

    /// Writes the pending outbox messages, commits the unit, then tells this process's listeners: the
    /// outbox signal, the live feed and the session gate.
    async fn commit(mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        // With a broker the relay publishes every event; without one only consumed events are written.
        let relayed = self.engine.queue.is_some();
        let (outbox, events) = match &self.engine.feed {
            Some(_) => (pending.clone(), pending),
            None => (pending, Vec::new()),
        };
        let outbox: Vec<OutboxMessage> = outbox.into_iter().filter(|m| relayed || m.queue.is_some()).collect();
        let wrote_outbox = !outbox.is_empty();
        // Which queues' consumers to wake (without a broker; with one, the broker wakes them).
        let mut queues: Vec<String> = Vec::new();
        for q in outbox.iter().filter_map(|m| m.queue.as_ref()) {
            if !queues.contains(q) {
                queues.push(q.clone());
            }
        }
        if wrote_outbox {
            self.tx.insert_outbox(outbox).await?;
        }
        self.tx.commit().await?;
        if wrote_outbox {
            self.engine
                .outbox_signal
                .notify_queues(queues.iter().map(String::as_str));
        }
        if let Some(feed) = &self.engine.feed
            && !events.is_empty()
        {
            feed.publish(&events);
        }
        if !self.ended.is_empty() {
            self.engine.sessions.ended(&self.ended, self.now);
        }
        Ok(())
    }
}

impl Engine {
    /// Runs one command: opens a unit with `options`, runs `command` in it, and commits when it returns
    /// `Ok` (a read unit is only closed). When the command or its commit fails, the unit is dropped, so
    /// nothing of it is kept; a retryable failure (a lost race, a busy database) runs the command again
    /// from the start, up to [`super::EngineConfig::max_retries`] times.
    pub(crate) async fn run<T>(
        &self,
        options: UnitOptions,
        actor: Option<UserId>,
        mut command: impl AsyncFnMut(&mut Cmd<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut attempt = 0u32;
        loop {
            let result: Result<T> = async {
                let mut cmd = Cmd::open(self, options, actor).await?;
                let value = command(&mut cmd).await?;
                if options.writes() {
                    cmd.commit().await?;
                }
                Ok(value)
            }
            .await;
            match result {
                Err(e) if e.is_retryable() && attempt < self.config.max_retries => attempt += 1,
                other => {
                    self.counters.finished(other.is_ok(), attempt);
                    return other;
                }
            }
        }
    }

    /// Runs a read-only command for `actor`.
    pub(crate) async fn read<T>(&self, actor: Actor, command: impl AsyncFnMut(&mut Cmd<'_>) -> Result<T>) -> Result<T> {
        self.run(UnitOptions::read(), actor.audit_user(), command).await
    }

    /// Runs a writing command for `actor`.
    pub(crate) async fn write<T>(
        &self,
        actor: Actor,
        command: impl AsyncFnMut(&mut Cmd<'_>) -> Result<T>,
    ) -> Result<T> {
        self.run(UnitOptions::write(), actor.audit_user(), command).await
    }

    /// Runs a writing command nobody waits on (relay, consumers, sweeps, retention).
    pub(crate) async fn background<T>(&self, command: impl AsyncFnMut(&mut Cmd<'_>) -> Result<T>) -> Result<T> {
        self.run(UnitOptions::background(), None, command).await
    }
}
