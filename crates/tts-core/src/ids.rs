//! Typed identifiers, so a task id can never be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }
    )*};
}

uuid_id! {
    /// A user (requester, agent or admin).
    UserId,
    /// A role such as `tts:Admin`.
    RoleId,
    /// A workflow definition (all its versions share the id).
    WorkflowId,
    /// A step of a workflow.
    StepId,
    /// A transition of a workflow; the API calls it an action (`action_id`).
    ActionId,
    /// One run of a workflow for a ticket.
    TaskId,
    /// One user's assignment on one step of a task.
    AssignmentId,
    /// An in-app notification.
    NotificationId,
    /// An outbox/queue message; consumers deduplicate by it.
    MessageId,
    /// An audit trail entry.
    AuditId,
    /// A login session: one family of rotating refresh tokens.
    SessionId,
    /// One refresh token of a session (its JWT `jti`).
    TokenId,
    /// A comment (or internal note) on a ticket.
    CommentId,
    /// A file attached to a ticket (or to one of its comments).
    AttachmentId,
}

/// A ticket's store-assigned integer id (the seed's `"id": 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketId(pub i64);

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
