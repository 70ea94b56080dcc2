//! The consumers and what they do: allocation (`ticket.created` -> allocate), notifications
//! (`notification.requested` -> in-app row, and an `email.requested` for users who want e-mail) and
//! mail (`email.requested` -> the mailer). Allocation and notifications are idempotent by message id:
//! the id is recorded in the same unit as the effect. Where the messages come from (the outbox itself,
//! or a broker) is `delivery_outbox` / `delivery_broker`; sending mail, which no unit can take back, is
//! `delivery_mail`; this module is the effect.

use super::Engine;
use super::allocation::{Route, Routed, assign_routed, route_loaded};
use super::assign::write_picked_cursors;
use super::command::Cmd;
use crate::domain::event::DomainEvent;
use crate::domain::notification::Notification;
use crate::error::{Error, ErrorKind, Result};
use crate::ids::{MessageId, TicketId};
use serde::{Deserialize, Serialize};

/// Which consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consumer {
    /// Routes new tickets and assigns their first step.
    Allocation,
    /// Writes in-app notifications and asks for their e-mails.
    Notifications,
    /// Sends e-mails, outside any unit of work.
    Mail,
}

impl Consumer {
    /// The name recorded with processed message ids.
    pub fn name(self) -> &'static str {
        match self {
            Consumer::Allocation => "allocation",
            Consumer::Notifications => "notifications",
            Consumer::Mail => "mail",
        }
    }

    /// Whether this consumer handles `event`.
    pub fn handles(self, event: &DomainEvent) -> bool {
        matches!(
            (self, event),
            (
                Consumer::Allocation,
                DomainEvent::TicketCreated { .. } | DomainEvent::AllocationRequested { .. }
            ) | (Consumer::Notifications, DomainEvent::NotificationRequested { .. })
                | (Consumer::Mail, DomainEvent::EmailRequested { .. })
        )
    }
}

/// What handling one delivery did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ConsumeOutcome {
    /// Handled.
    Done,
    /// Seen before; finished without effect.
    Duplicate,
    /// Failed; it will be delivered again later.
    Retrying {
        /// Why.
        error: String,
    },
    /// Failed for good (or too often); now a dead letter.
    DeadLettered {
        /// Why.
        error: String,
    },
}

/// Whether a failure may go away by itself (a busy or unreachable backend), so the message is worth
/// another delivery; anything else (a bad payload, an unknown ticket, nobody to assign) is dead-lettered
/// at once so an admin can fix the cause and replay it.
pub(crate) fn is_transient(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Internal) || e.is_retryable()
}

/// Runs a consumer's unit, turning a panic in an effect (a bug) into an error, so the message is counted
/// as a failed delivery and, if it keeps panicking, ends as a dead letter instead of being retried for
/// ever. The unit is dropped while the panic unwinds, so nothing of it is kept.
pub(crate) async fn unless_panic<T>(unit: impl Future<Output = Result<T>>) -> Result<T> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(unit).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            Err(Error::Backend {
                backend: "consumer",
                kind: ErrorKind::Internal,
                message: format!("the effect panicked: {what}"),
            })
        }
    }
}

/// Whether an outbox consumer step first looks for due messages with a read (cheap, and off the
/// writer) before it claims them in a write unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lookout {
    /// Look first: the caller does not know whether anything is due.
    LookFirst,
    /// Claim at once: the caller was just told that something is.
    ClaimAtOnce,
}

/// The permanent error for an event a consumer does not handle.
pub(crate) fn not_handled(consumer: Consumer, event: &DomainEvent) -> Error {
    Error::invalid(
        "payload",
        format!("consumer {} does not handle {}", consumer.name(), event.kind()),
    )
}

impl Engine {
    /// The queue a consumer reads.
    pub fn consumer_queue(&self, consumer: Consumer) -> &str {
        match consumer {
            Consumer::Allocation => &self.config.queues.tickets,
            Consumer::Notifications => &self.config.queues.notifications,
            Consumer::Mail => &self.config.queues.mail,
        }
    }

    /// Whether several messages of `consumer` may share one unit: allocations and notifications do;
    /// e-mails go one by one, each sent outside any unit (a rollback cannot take one back).
    pub(crate) fn batches(&self, consumer: Consumer) -> bool {
        consumer != Consumer::Mail
    }

    /// Takes up to `max` ready messages for `consumer` and handles them; empty when none is ready. Messages
    /// that may share a unit are handled together (one commit, and one hold of a role's cursor for a
    /// batch of allocations, which is what lets allocation keep up with ticket creation). If a batch
    /// fails, each of its messages is handled on its own, so one bad message never holds back the others;
    /// a failing message is retried with back-off ([`super::EngineConfig::retry`]) when the failure may
    /// pass, and becomes a dead letter when it cannot or after its last delivery.
    pub async fn consume_batch(&self, consumer: Consumer, max: usize) -> Result<Vec<ConsumeOutcome>> {
        self.consume(consumer, max, Lookout::LookFirst).await
    }

    /// As [`Engine::consume_batch`], for a caller just told that a commit wrote to the consumer's queue
    /// (a worker loop woken by the outbox signal): the messages are almost surely there, so without a
    /// broker it claims them at once instead of first looking with a read. That read is what keeps
    /// idle loops off the writer; here it would only cost a round trip per step, and when another loop
    /// took the messages meanwhile the claim finds nothing and commits nothing.
    pub async fn consume_signalled(&self, consumer: Consumer, max: usize) -> Result<Vec<ConsumeOutcome>> {
        self.consume(consumer, max, Lookout::ClaimAtOnce).await
    }

    async fn consume(&self, consumer: Consumer, max: usize, lookout: Lookout) -> Result<Vec<ConsumeOutcome>> {
        if self.batches(consumer) {
            return self.consume_step(consumer, max.max(1), lookout).await;
        }
        let mut outcomes = Vec::new();
        while outcomes.len() < max.max(1) {
            match self.consume_step(consumer, 1, lookout).await {
                Ok(step) if step.is_empty() => break,
                Ok(step) => outcomes.extend(step),
                // What was handled is committed; the error will show again on the next call.
                Err(_) if !outcomes.is_empty() => break,
                Err(e) => return Err(e),
            }
        }
        Ok(outcomes)
    }

    /// Takes up to `max` messages into one unit, from the broker or the outbox.
    async fn consume_step(&self, consumer: Consumer, max: usize, lookout: Lookout) -> Result<Vec<ConsumeOutcome>> {
        if consumer == Consumer::Mail {
            return Ok(self.send_one_email().await?.into_iter().collect());
        }
        match self.queue.clone() {
            Some(queue) => self.consume_from_broker(queue, consumer, max).await,
            None => self.consume_from_outbox(consumer, max, lookout).await,
        }
    }

    /// Handles one ready message for `consumer`; `None` when none is ready.
    pub async fn consume_one(&self, consumer: Consumer) -> Result<Option<ConsumeOutcome>> {
        Ok(self.consume_batch(consumer, 1).await?.into_iter().next())
    }

    /// Handles everything ready for the consumer; returns how many messages were handled.
    pub async fn drain(&self, consumer: Consumer) -> Result<usize> {
        let mut n = 0;
        while self.consume_one(consumer).await?.is_some() {
            n += 1;
        }
        Ok(n)
    }
}

/// Applies the effect of `messages` (each handled by `consumer`) in the caller's unit; per message, false
/// for a duplicate. Any error fails the whole unit.
///
/// The messages are owned (a command may run several times, so callers clone them per attempt): a
/// future borrowing its command closure's captures is not provably `Send` where shells spawn it.
pub(crate) async fn apply(
    cmd: &mut Cmd<'_>,
    consumer: Consumer,
    messages: Vec<(MessageId, DomainEvent)>,
) -> Result<Vec<bool>> {
    if let Some((_, event)) = messages.iter().find(|(_, e)| !consumer.handles(e)) {
        return Err(not_handled(consumer, event));
    }
    match consumer {
        Consumer::Allocation => allocate_all(cmd, &messages).await,
        Consumer::Notifications => notify_all(cmd, &messages).await,
        // Never in a unit: `delivery_mail` sends outside one.
        Consumer::Mail => Err(Error::Backend {
            backend: "engine",
            kind: ErrorKind::Internal,
            message: "e-mails are sent outside units of work".into(),
        }),
    }
}

/// Allocates the tickets of several messages in one unit.
///
/// Lock order, so that concurrent batches (in this process or another) never deadlock: first every
/// ticket row, in ticket id order; then the role cursors, in role id order. A single allocation locks
/// its ticket, then its cursor, which agrees.
async fn allocate_all(cmd: &mut Cmd<'_>, messages: &[(MessageId, DomainEvent)]) -> Result<Vec<bool>> {
    let mut wanted: Vec<(TicketId, usize, MessageId)> = Vec::with_capacity(messages.len());
    for (i, (id, event)) in messages.iter().enumerate() {
        if let DomainEvent::TicketCreated { ticket, .. } | DomainEvent::AllocationRequested { ticket } = event {
            wanted.push((*ticket, i, *id));
        }
    }
    wanted.sort_unstable_by_key(|(ticket, i, _)| (*ticket, *i));
    let ids: Vec<MessageId> = wanted.iter().map(|(_, _, message)| *message).collect();
    let fresh_ids = cmd
        .tx
        .record_processed_many(Consumer::Allocation.name(), &ids, cmd.now)
        .await?;
    let mut handled = vec![false; messages.len()];
    // The tickets to route, ascending, each once: a second message for a ticket is settled by the first.
    let mut tickets: Vec<TicketId> = Vec::with_capacity(wanted.len());
    for ((ticket, i, _), fresh) in wanted.into_iter().zip(fresh_ids) {
        handled[i] = fresh;
        if fresh && tickets.last() != Some(&ticket) {
            tickets.push(ticket);
        }
    }
    // One read (and lock, in id order) for the whole batch.
    let mut loaded = cmd.tx.tickets_with_tasks(&tickets).await?.into_iter().peekable();
    let mut ready: Vec<Routed> = Vec::with_capacity(tickets.len());
    for ticket in tickets {
        let found = loaded
            .next_if(|(t, _)| t.id == ticket)
            .ok_or_else(|| Error::not_found("ticket", ticket))?;
        if let Route::Ready(routed) = route_loaded(cmd, found).await? {
            ready.push(routed);
        }
    }
    ready.sort_by_key(|r| (r.role, r.ticket_id()));
    // Each role's pick state is read and locked once for the batch (see `assign::pick`).
    cmd.picks = Some(Default::default());
    for routed in ready {
        assign_routed(cmd, routed).await?;
    }
    write_picked_cursors(cmd).await?;
    Ok(handled)
}

/// Writes the in-app notifications of several messages, and asks for their e-mails (when e-mail is on
/// and the recipient wants it) in the same unit.
async fn notify_all(cmd: &mut Cmd<'_>, messages: &[(MessageId, DomainEvent)]) -> Result<Vec<bool>> {
    let ids: Vec<MessageId> = messages.iter().map(|(id, _)| *id).collect();
    let handled = cmd
        .tx
        .record_processed_many(Consumer::Notifications.name(), &ids, cmd.now)
        .await?;
    for ((_, event), fresh) in messages.iter().zip(&handled) {
        let DomainEvent::NotificationRequested { request } = event else {
            return Err(not_handled(Consumer::Notifications, event));
        };
        if *fresh {
            let notification = Notification::from_request(cmd.id(), request.clone(), cmd.now);
            cmd.tx.insert_notification(&notification).await?;
            if cmd.engine.config.email_notifications
                && let Some(user) = cmd
                    .tx
                    .user(request.user_id)
                    .await?
                    .filter(|u| u.is_active && u.email_notifications)
            {
                let public_url = cmd.engine.config.public_url.as_deref();
                let email = crate::domain::email::compose(&notification, &user.email, public_url);
                cmd.emit(DomainEvent::EmailRequested {
                    notification: notification.id,
                    email,
                });
            }
        }
    }
    Ok(handled)
}
