//! In-app notifications and the requests that produce them.

use super::ticket_number::TicketNumber;
use crate::ids::{NotificationId, TaskId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a notification was sent. Wire values are snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationType {
    /// Work was assigned to the recipient.
    TaskAssignment,
    /// Work was transferred to the recipient.
    TaskTransferIn,
    /// The recipient's work was transferred away.
    TaskTransferOut,
    /// Escalated work arrived.
    TaskEscalationIn,
    /// The recipient's work was escalated away.
    TaskEscalationOut,
    /// The task completed.
    TaskCompleted,
    /// The ticket's status changed.
    TicketStatusUpdate,
    /// The SLA target is near.
    SlaWarning,
    /// The SLA target passed.
    SlaBreach,
    /// A comment was added.
    CommentAdded,
    /// The recipient was mentioned.
    Mention,
    /// A ticket matches no active workflow and waits for an admin (sent to admins).
    TicketUnroutable,
    /// Anything else.
    System,
}

/// What the engine asks the notification consumer to deliver (in-app row + e-mail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRequest {
    /// Recipient.
    pub user_id: UserId,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: NotificationType,
    /// Short subject.
    pub subject: String,
    /// Body.
    pub message: String,
    /// The ticket it is about.
    pub related_ticket: Option<TicketNumber>,
    /// The task it is about.
    pub related_task: Option<TaskId>,
}

impl NotificationRequest {
    /// Checks the text fields (subject 1..=255 characters, message at most 5,000) and trims the subject.
    pub fn validated(mut self) -> crate::error::Result<Self> {
        let mut p = crate::error::Problems::default();
        self.subject = self.subject.trim().to_string();
        if self.subject.is_empty() {
            p.push("subject", "must not be empty");
        } else if self.subject.chars().count() > 255 {
            p.push("subject", "must be at most 255 characters");
        }
        if self.message.chars().count() > 5_000 {
            p.push("message", "must be at most 5000 characters");
        }
        p.finish(self)
    }
}

/// A delivered in-app notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Identifier.
    pub id: NotificationId,
    /// Recipient.
    pub user_id: UserId,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: NotificationType,
    /// Short subject.
    pub subject: String,
    /// Body.
    pub message: String,
    /// The ticket it is about.
    pub related_ticket: Option<TicketNumber>,
    /// The task it is about.
    pub related_task: Option<TaskId>,
    /// Whether the recipient read it.
    pub is_read: bool,
    /// When it was read.
    pub read_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Notification {
    /// The row a request becomes.
    pub fn from_request(id: NotificationId, req: NotificationRequest, now: DateTime<Utc>) -> Self {
        Notification {
            id,
            user_id: req.user_id,
            kind: req.kind,
            subject: req.subject,
            message: req.message,
            related_ticket: req.related_ticket,
            related_task: req.related_task,
            is_read: false,
            read_at: None,
            created_at: now,
        }
    }
}
