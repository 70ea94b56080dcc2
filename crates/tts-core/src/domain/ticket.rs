//! Tickets: what a requester asks for, and the status table every status change goes through.

use super::priority::Priority;
use super::ticket_number::TicketNumber;
use crate::error::{Error, Problems, Result};
use crate::ids::{TicketId, UserId, WorkflowId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest subject accepted, in characters.
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// Longest category, subcategory or department, in characters.
pub const MAX_KEY_CHARS: usize = 100;

/// Where a ticket is in its life. Wire values are snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Submitted, not yet worked on.
    Open,
    /// Someone acted on its task.
    InProgress,
    /// Paused by staff.
    OnHold,
    /// Waiting for the requester or a third party.
    Pending,
    /// The task completed.
    Resolved,
    /// Done for good.
    Closed,
    /// Refused by staff.
    Rejected,
    /// Taken back by the requester.
    Withdrawn,
}

impl TicketStatus {
    /// Every status.
    pub const ALL: [TicketStatus; 8] = [
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::OnHold,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
        TicketStatus::Rejected,
        TicketStatus::Withdrawn,
    ];

    /// The allowed moves: the one status table of TTS. Anything not listed is an illegal move.
    pub fn allowed_next(self) -> &'static [TicketStatus] {
        use TicketStatus::*;
        match self {
            Open => &[InProgress, OnHold, Pending, Rejected, Withdrawn],
            InProgress => &[OnHold, Pending, Resolved, Rejected, Withdrawn],
            OnHold => &[InProgress, Withdrawn, Rejected],
            Pending => &[InProgress, Withdrawn, Rejected],
            Resolved => &[Closed],
            Closed | Rejected | Withdrawn => &[],
        }
    }

    /// Whether the table allows moving from `self` to `to`.
    pub fn can_move_to(self, to: TicketStatus) -> bool {
        self.allowed_next().contains(&to)
    }

    /// Closed, rejected and withdrawn tickets never change again.
    pub fn is_terminal(self) -> bool {
        self.allowed_next().is_empty()
    }

    /// The statuses a helpdesk user calls closed: no more work is expected on the ticket. Resolved (the
    /// work is done, only the confirming close may follow) and the terminal ones: closed, rejected,
    /// withdrawn. The ticket list's `closed` scope lists these; the reports' `done_at` is when a ticket
    /// first entered one of them.
    pub const DONE: [TicketStatus; 4] = [
        TicketStatus::Resolved,
        TicketStatus::Closed,
        TicketStatus::Rejected,
        TicketStatus::Withdrawn,
    ];

    /// Whether the status is one of [`TicketStatus::DONE`] (resolved or terminal).
    pub fn is_done(self) -> bool {
        self == TicketStatus::Resolved || self.is_terminal()
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        use TicketStatus::*;
        match self {
            Open => "open",
            InProgress => "in_progress",
            OnHold => "on_hold",
            Pending => "pending",
            Resolved => "resolved",
            Closed => "closed",
            Rejected => "rejected",
            Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TicketStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TicketStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::invalid("status", format!("unknown ticket status {s:?}")))
    }
}

/// The requester as the ticket records it (the seed's `employee` object).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Employee {
    /// The requester's id in the source system, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Contact e-mail.
    #[serde(default)]
    pub email: String,
}

pub use super::attachment::AttachmentMeta;

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Store-assigned integer id.
    pub id: TicketId,
    /// `TKT-YYYY-NNNN`.
    pub ticket_id: TicketNumber,
    /// One-line summary, 1..=255 characters.
    pub subject: String,
    /// Free text.
    pub description: String,
    /// Routing key: category.
    pub category: String,
    /// Routing key: subcategory.
    pub subcategory: Option<String>,
    /// Routing key: department.
    pub department: Option<String>,
    /// Drives the SLA.
    pub priority: Priority,
    /// Life-cycle status; changes only through [`Ticket::move_to`].
    pub status: TicketStatus,
    /// The requester.
    pub employee: Employee,
    /// The user who created the ticket (sees it as a requester).
    pub created_by: UserId,
    /// Attached files.
    pub attachments: Vec<AttachmentMeta>,
    /// True once a task runs for the ticket.
    pub is_task_allocated: bool,
    /// The workflow its task runs, once it has one.
    #[serde(default)]
    pub workflow_id: Option<WorkflowId>,
    /// Why the ticket could not be allocated (no active workflow matches it), until it is; admins are
    /// notified when it is set.
    #[serde(default)]
    pub unroutable: Option<String>,
    /// When the ticket was resolved (its task completed), if it was.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the ticket reached an end (closed, rejected or withdrawn), if it did.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, +1 on every change.
    pub version: u32,
}

impl Ticket {
    /// Moves the ticket to `to` if the status table allows it. The version is not bumped here: a command
    /// may move a ticket several times and saves it once, after one [`Ticket::touch`].
    pub fn move_to(&mut self, to: TicketStatus, now: DateTime<Utc>) -> Result<()> {
        if !self.status.can_move_to(to) {
            return Err(Error::IllegalTransition {
                entity: "ticket",
                from: self.status.to_string(),
                to: to.to_string(),
            });
        }
        self.status = to;
        self.updated_at = now;
        if to == TicketStatus::Resolved {
            self.resolved_at = Some(now);
        }
        if to.is_terminal() {
            self.closed_at = Some(now);
        }
        Ok(())
    }

    /// Records a change about to be saved: bumps the version (once per saved change: the store checks
    /// that it is one more than the stored one) and the update time.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}

/// A validated request to open a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    /// One-line summary.
    pub subject: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Routing key: category.
    pub category: String,
    /// Routing key: subcategory.
    #[serde(default)]
    pub subcategory: Option<String>,
    /// Routing key: department.
    #[serde(default)]
    pub department: Option<String>,
    /// Defaults to `medium`.
    #[serde(default)]
    pub priority: Priority,
    /// The requester; defaults to the creating user's profile in the shells.
    #[serde(default)]
    pub employee: Employee,
    /// Attached files (already stored in a blob store).
    #[serde(default)]
    pub attachments: Vec<AttachmentMeta>,
}

impl NewTicket {
    /// A request with the required fields; the rest default.
    pub fn new(subject: impl Into<String>, category: impl Into<String>) -> Self {
        NewTicket {
            subject: subject.into(),
            description: String::new(),
            category: category.into(),
            subcategory: None,
            department: None,
            priority: Priority::default(),
            employee: Employee::default(),
            attachments: Vec::new(),
        }
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the department.
    pub fn department(mut self, department: impl Into<String>) -> Self {
        self.department = Some(department.into());
        self
    }

    /// Sets the subcategory.
    pub fn subcategory(mut self, subcategory: impl Into<String>) -> Self {
        self.subcategory = Some(subcategory.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Checks every field and reports all bad ones; trims text and drops empty optional keys.
    pub fn validated(mut self) -> Result<Self> {
        let mut p = Problems::default();
        self.subject = self.subject.trim().to_string();
        self.category = self.category.trim().to_string();
        let chars = |s: &str| s.chars().count();
        if self.subject.is_empty() {
            p.push("subject", "must not be empty");
        } else if chars(&self.subject) > MAX_SUBJECT_CHARS {
            p.push("subject", format!("must be at most {MAX_SUBJECT_CHARS} characters"));
        }
        if chars(&self.description) > MAX_DESCRIPTION_CHARS {
            p.push(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            );
        }
        if self.category.is_empty() {
            p.push("category", "must not be empty");
        } else if chars(&self.category) > MAX_KEY_CHARS {
            p.push("category", format!("must be at most {MAX_KEY_CHARS} characters"));
        }
        for (name, value) in [
            ("subcategory", &mut self.subcategory),
            ("department", &mut self.department),
        ] {
            if let Some(v) = value.take() {
                let v = v.trim().to_string();
                if chars(&v) > MAX_KEY_CHARS {
                    p.push(name, format!("must be at most {MAX_KEY_CHARS} characters"));
                }
                *value = (!v.is_empty()).then_some(v);
            }
        }
        if chars(&self.employee.name) > MAX_SUBJECT_CHARS {
            p.push(
                "employee.name",
                format!("must be at most {MAX_SUBJECT_CHARS} characters"),
            );
        }
        if chars(&self.employee.email) > MAX_SUBJECT_CHARS {
            p.push(
                "employee.email",
                format!("must be at most {MAX_SUBJECT_CHARS} characters"),
            );
        }
        p.finish(self)
    }

    /// Builds the stored ticket from a validated request and store-allocated identifiers.
    pub fn into_ticket(self, id: TicketId, number: TicketNumber, created_by: UserId, now: DateTime<Utc>) -> Ticket {
        Ticket {
            id,
            ticket_id: number,
            subject: self.subject,
            description: self.description,
            category: self.category,
            subcategory: self.subcategory,
            department: self.department,
            priority: self.priority,
            status: TicketStatus::Open,
            employee: self.employee,
            created_by,
            attachments: self.attachments,
            is_task_allocated: false,
            workflow_id: None,
            unroutable: None,
            resolved_at: None,
            closed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn status() -> impl Strategy<Value = TicketStatus> {
        proptest::sample::select(TicketStatus::ALL.to_vec())
    }

    #[test]
    fn subject_rules() {
        let err = NewTicket::new("  ", "").validated().unwrap_err();
        let Error::Validation(fields) = err else {
            panic!("expected validation error")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["subject", "category"]);
        assert!(NewTicket::new("x".repeat(256), "c").validated().is_err());
        assert!(NewTicket::new("x".repeat(255), "c").validated().is_ok());
    }

    #[test]
    fn done_is_resolved_or_terminal_and_only_closing_leaves_it() {
        let done: Vec<_> = TicketStatus::ALL.into_iter().filter(|s| s.is_done()).collect();
        assert_eq!(done, TicketStatus::DONE);
        for s in TicketStatus::DONE {
            assert!(
                s.allowed_next().iter().all(|n| n.is_done()),
                "{s}: a done ticket never goes back to work"
            );
        }
    }

    #[test]
    fn unknown_status_is_named() {
        let err = "done".parse::<TicketStatus>().unwrap_err();
        assert!(err.to_string().contains("status"));
    }

    proptest! {
        #[test]
        fn walks_only_follow_the_table(start in status(), moves in proptest::collection::vec(status(), 0..30)) {
            let now = chrono::DateTime::UNIX_EPOCH;
            let mut t = NewTicket::new("s", "c").validated().unwrap()
                .into_ticket(TicketId(1), TicketNumber::new(2025, 1).unwrap(), UserId(uuid::Uuid::nil()), now);
            t.status = start;
            t.resolved_at = (start == TicketStatus::Resolved).then_some(now);
            t.closed_at = start.is_terminal().then_some(now);
            for (i, to) in moves.into_iter().enumerate() {
                let before = t.clone();
                let at = now + chrono::Duration::seconds(i as i64);
                match t.move_to(to, at) {
                    Ok(()) => prop_assert!(before.status.can_move_to(to) && t.status == to),
                    Err(_) => prop_assert!(!before.status.can_move_to(to) && t == before),
                }
                // The end times are set when the status is first entered, and never move after.
                prop_assert_eq!(t.resolved_at.is_some(), before.resolved_at.is_some() || t.status == TicketStatus::Resolved);
                prop_assert!(before.resolved_at.is_none() || t.resolved_at == before.resolved_at);
                prop_assert_eq!(t.closed_at.is_some(), t.status.is_terminal());
                prop_assert!(before.closed_at.is_none() || t.closed_at == before.closed_at);
            }
        }

        #[test]
        fn status_parse_never_panics(s in "\\PC*") {
            let _ = s.parse::<TicketStatus>();
        }
    }
}

/// A partial change of a ticket (PUT/PATCH): its fields and, optionally, its status, applied together;
/// `None` leaves a field as it is, and an empty subcategory or department clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketEdit {
    /// New subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New category (a routing key: only before allocation, or by an admin).
    #[serde(default)]
    pub category: Option<String>,
    /// New subcategory (routing key).
    #[serde(default)]
    pub subcategory: Option<String>,
    /// New department (routing key).
    #[serde(default)]
    pub department: Option<String>,
    /// New priority (drives the SLA: only before allocation, or by an admin).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// New status, moved through the status table after the fields change.
    #[serde(default)]
    pub status: Option<TicketStatus>,
}

impl TicketEdit {
    /// True when the edit changes a field (not only the status).
    pub fn touches_fields(&self) -> bool {
        TicketEdit {
            status: None,
            ..self.clone()
        } != TicketEdit::default()
    }

    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &TicketEdit::default()
    }

    /// True when the edit touches a routing key or the priority.
    pub fn touches_routing(&self) -> bool {
        self.category.is_some() || self.subcategory.is_some() || self.department.is_some() || self.priority.is_some()
    }

    /// The ticket with the edit applied, every field validated as on creation.
    pub fn apply(self, ticket: &Ticket, now: DateTime<Utc>) -> Result<Ticket> {
        let merged = NewTicket {
            subject: self.subject.unwrap_or_else(|| ticket.subject.clone()),
            description: self.description.unwrap_or_else(|| ticket.description.clone()),
            category: self.category.unwrap_or_else(|| ticket.category.clone()),
            subcategory: self.subcategory.or_else(|| ticket.subcategory.clone()),
            department: self.department.or_else(|| ticket.department.clone()),
            priority: self.priority.unwrap_or(ticket.priority),
            employee: ticket.employee.clone(),
            attachments: ticket.attachments.clone(),
        }
        .validated()?;
        let mut next = ticket.clone();
        next.subject = merged.subject;
        next.description = merged.description;
        next.category = merged.category;
        next.subcategory = merged.subcategory;
        next.department = merged.department;
        next.priority = merged.priority;
        next.updated_at = now;
        Ok(next)
    }
}
