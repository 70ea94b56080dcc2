//! Domain events: what happened, as plain serde values the outbox carries and live feeds push.

use super::notification::NotificationRequest;
use super::priority::Priority;
use super::ticket::TicketStatus;
use super::ticket_number::TicketNumber;
use crate::ids::{
    ActionId, AssignmentId, AttachmentId, CommentId, MessageId, NotificationId, StepId, TaskId, TicketId, UserId,
    WorkflowId,
};
use crate::ports::mailer::Email;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Something that happened in the domain. Serialized with a `type` tag such as `ticket.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DomainEvent {
    /// A ticket was opened; the allocation consumer routes it.
    #[serde(rename = "ticket.created")]
    TicketCreated {
        /// The ticket.
        ticket: TicketId,
        /// Its number.
        ticket_id: TicketNumber,
        /// Its priority.
        priority: Priority,
    },
    /// Someone asked to (re)run allocation for a ticket (`push_to_workflow`).
    #[serde(rename = "ticket.allocation_requested")]
    AllocationRequested {
        /// The ticket.
        ticket: TicketId,
    },
    /// A ticket's fields were edited.
    #[serde(rename = "ticket.updated")]
    TicketUpdated {
        /// The ticket.
        ticket: TicketId,
    },
    /// A ticket's status changed.
    #[serde(rename = "ticket.status_changed")]
    TicketStatusChanged {
        /// The ticket.
        ticket: TicketId,
        /// Before.
        from: TicketStatus,
        /// After.
        to: TicketStatus,
    },
    /// A task was created for a ticket.
    #[serde(rename = "task.created")]
    TaskCreated {
        /// The task.
        task: TaskId,
        /// The ticket.
        ticket: TicketId,
        /// The matched workflow.
        workflow: WorkflowId,
        /// The pinned version.
        version: u32,
        /// When the ticket was opened (so that allocation latency is known wherever the event is seen).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opened_at: Option<DateTime<Utc>>,
    },
    /// Work was assigned to a user.
    #[serde(rename = "task.assigned")]
    TaskAssigned {
        /// The task.
        task: TaskId,
        /// The ticket.
        ticket: TicketId,
        /// The assignment.
        assignment: AssignmentId,
        /// The assignee.
        user: UserId,
        /// The step.
        step: StepId,
    },
    /// An action moved the task to another step.
    #[serde(rename = "task.transitioned")]
    TaskTransitioned {
        /// The task.
        task: TaskId,
        /// The ticket.
        ticket: TicketId,
        /// The action taken.
        action: ActionId,
        /// From.
        from_step: StepId,
        /// To.
        to_step: StepId,
        /// Who acted.
        by: UserId,
    },
    /// A completing action finished the task.
    #[serde(rename = "task.completed")]
    TaskCompleted {
        /// The task.
        task: TaskId,
        /// The ticket.
        ticket: TicketId,
        /// Who acted.
        by: UserId,
    },
    /// The task was cancelled with its ticket.
    #[serde(rename = "task.cancelled")]
    TaskCancelled {
        /// The task.
        task: TaskId,
        /// The ticket.
        ticket: TicketId,
    },
    /// Work was escalated to another role.
    #[serde(rename = "task.escalated")]
    TaskEscalated {
        /// The task.
        task: TaskId,
        /// The closed assignment.
        from: AssignmentId,
        /// The new assignment.
        to: AssignmentId,
    },
    /// Work was transferred to another user.
    #[serde(rename = "task.transferred")]
    TaskTransferred {
        /// The task.
        task: TaskId,
        /// The closed assignment.
        from: AssignmentId,
        /// The new assignment.
        to: AssignmentId,
    },
    /// An assignment is near its SLA target.
    #[serde(rename = "sla.warning")]
    SlaWarning {
        /// The assignment.
        assignment: AssignmentId,
        /// Its target.
        target: DateTime<Utc>,
    },
    /// An assignment passed its SLA target.
    #[serde(rename = "sla.breached")]
    SlaBreached {
        /// The assignment.
        assignment: AssignmentId,
        /// Its target.
        target: DateTime<Utc>,
    },
    /// A comment was written on a ticket.
    #[serde(rename = "comment.added")]
    CommentAdded {
        /// The ticket.
        ticket: TicketId,
        /// The comment.
        comment: CommentId,
        /// Whether it is an internal note (staff only).
        is_internal: bool,
    },
    /// A comment's text was edited.
    #[serde(rename = "comment.edited")]
    CommentEdited {
        /// The ticket.
        ticket: TicketId,
        /// The comment.
        comment: CommentId,
        /// Whether it is an internal note (staff only).
        is_internal: bool,
    },
    /// A comment was deleted (its place in the thread stays).
    #[serde(rename = "comment.deleted")]
    CommentDeleted {
        /// The ticket.
        ticket: TicketId,
        /// The comment.
        comment: CommentId,
        /// Whether it is an internal note (staff only).
        is_internal: bool,
    },
    /// A file was attached to a ticket (or to one of its comments).
    #[serde(rename = "attachment.added")]
    AttachmentAdded {
        /// The ticket.
        ticket: TicketId,
        /// The attachment.
        attachment: AttachmentId,
        /// Whether it belongs to an internal note (staff only).
        is_internal: bool,
    },
    /// An attachment was removed.
    #[serde(rename = "attachment.removed")]
    AttachmentRemoved {
        /// The ticket.
        ticket: TicketId,
        /// The attachment.
        attachment: AttachmentId,
        /// Whether it belonged to an internal note (staff only).
        is_internal: bool,
    },
    /// A notification should be delivered.
    #[serde(rename = "notification.requested")]
    NotificationRequested {
        /// What to deliver to whom.
        request: NotificationRequest,
    },
    /// A notification's e-mail should be sent (by the mail consumer, outside any unit of work).
    #[serde(rename = "email.requested")]
    EmailRequested {
        /// The in-app notification it copies.
        notification: NotificationId,
        /// The message.
        email: Email,
    },
}

impl DomainEvent {
    /// The event's type tag, e.g. `ticket.created`.
    pub fn kind(&self) -> &'static str {
        match self {
            DomainEvent::TicketCreated { .. } => "ticket.created",
            DomainEvent::AllocationRequested { .. } => "ticket.allocation_requested",
            DomainEvent::TicketUpdated { .. } => "ticket.updated",
            DomainEvent::TicketStatusChanged { .. } => "ticket.status_changed",
            DomainEvent::TaskCreated { .. } => "task.created",
            DomainEvent::TaskAssigned { .. } => "task.assigned",
            DomainEvent::TaskTransitioned { .. } => "task.transitioned",
            DomainEvent::TaskCompleted { .. } => "task.completed",
            DomainEvent::TaskCancelled { .. } => "task.cancelled",
            DomainEvent::TaskEscalated { .. } => "task.escalated",
            DomainEvent::TaskTransferred { .. } => "task.transferred",
            DomainEvent::SlaWarning { .. } => "sla.warning",
            DomainEvent::SlaBreached { .. } => "sla.breached",
            DomainEvent::CommentAdded { .. } => "comment.added",
            DomainEvent::CommentEdited { .. } => "comment.edited",
            DomainEvent::CommentDeleted { .. } => "comment.deleted",
            DomainEvent::AttachmentAdded { .. } => "attachment.added",
            DomainEvent::AttachmentRemoved { .. } => "attachment.removed",
            DomainEvent::NotificationRequested { .. } => "notification.requested",
            DomainEvent::EmailRequested { .. } => "email.requested",
        }
    }
}

/// An event waiting in (or sent from) the transactional outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Message id; consumers deduplicate by it.
    pub id: MessageId,
    /// The event.
    pub event: DomainEvent,
    /// When it was written (with the change that caused it).
    pub created_at: DateTime<Utc>,
    /// The queue whose consumer handles it, decided when the event was raised; `None` for events only a
    /// relay publishes (to integrations, through a broker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}
