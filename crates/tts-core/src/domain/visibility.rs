//! Who sees what of a ticket: one rule, used by every read path (task views, both histories, and the
//! feeds and pages that show them).
//!
//! - **Staff**: admins, and agents who hold or held an assignment of the ticket's task. They see
//!   everything, the agents' own words included: assignment notes, action comments, transfer notes,
//!   escalation reasons.
//! - **Requester**: the person who filed the ticket (and is not staff on it). They see what happened
//!   (status, steps, actions and who acted) and the public comments, but none of the agents' words:
//!   no internal note (nor its trail in the history), assignment note, action comment, transfer note
//!   or escalation reason.
//! - Anyone else does not see the ticket at all (it is "not found" to them).

use super::attachment::AttachmentMeta;
use super::audit::AuditEntry;
use super::comment::Comment;
use super::task::Assignment;
use super::ticket::Ticket;
use super::user::Actor;
use crate::ids::UserId;

/// What part of a ticket an actor sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Admins and the agents who hold or held the ticket: everything.
    Staff,
    /// The requester: everything but the agents' words.
    Requester,
}

/// Fields of an audit entry that carry the agents' words.
pub const STAFF_ONLY_FIELDS: [&str; 3] = ["notes", "comment", "reason"];

/// Audit actions of work on a task, whose [`STAFF_ONLY_FIELDS`] the requester does not see.
pub const TASK_WORK_ACTIONS: [&str; 4] = ["task.action", "task.completed", "task.transferred", "task.escalated"];

/// What `actor` sees of a ticket filed by `requester` whose task was or is held by `holders`; `None`
/// when they may not see it.
pub fn audience(actor: Actor, requester: UserId, holders: &[UserId]) -> Option<Audience> {
    if actor.is_admin || holders.contains(&actor.user) {
        Some(Audience::Staff)
    } else if actor.user == requester {
        Some(Audience::Requester)
    } else {
        None
    }
}

/// Who may see one event of a live feed, decided once per event and checked per viewer without any
/// read (see [`Reach::admits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// An event of a ticket: whoever the rule lets see the ticket; with `staff_only` (an internal note),
    /// staff only.
    Ticket {
        /// Who filed the ticket.
        requester: UserId,
        /// Who holds or held its task's assignments.
        holders: Vec<UserId>,
        /// Only staff may see it.
        staff_only: bool,
    },
    /// One user's own event (their notification).
    User(UserId),
}

impl Reach {
    /// Whether `actor` may see the event.
    pub fn admits(&self, actor: Actor) -> bool {
        match self {
            Reach::User(user) => *user == actor.user,
            Reach::Ticket {
                requester,
                holders,
                staff_only,
            } => audience(actor, *requester, holders).is_some_and(|seen| !staff_only || seen == Audience::Staff),
        }
    }
}

/// Audit actions of comments and attachments; their entries carry `is_internal`, and the requester sees
/// none of an internal note's (nor of a file attached to one).
pub const COMMENT_ACTIONS: [&str; 5] = [
    "comment.added",
    "comment.edited",
    "comment.deleted",
    "attachment.added",
    "attachment.removed",
];

impl Audience {
    /// Whether this audience sees a comment: staff all, the requester the public ones.
    pub fn sees_comment(self, comment: &Comment) -> bool {
        self == Audience::Staff || !comment.is_internal
    }

    /// Whether this audience sees an attachment: staff all, the requester those not on internal notes.
    pub fn sees_attachment(self, attachment: &AttachmentMeta) -> bool {
        self == Audience::Staff || !attachment.is_internal
    }

    /// A ticket as this audience sees it: the requester does not see the files of internal notes.
    pub fn ticket(self, mut ticket: Ticket) -> Ticket {
        ticket.attachments.retain(|a| self.sees_attachment(a));
        ticket
    }

    /// Whether this audience sees an audit entry at all: the requester sees no entry about an internal
    /// note.
    pub fn sees_audit(self, entry: &AuditEntry) -> bool {
        self == Audience::Staff
            || !COMMENT_ACTIONS.contains(&entry.action.as_str())
            || ![&entry.before, &entry.after]
                .iter()
                .any(|side| side.get("is_internal").and_then(serde_json::Value::as_bool) == Some(true))
    }

    /// A history as this audience sees it: the entries it may see, each with what it may see of them.
    pub fn history(self, entries: Vec<AuditEntry>) -> Vec<AuditEntry> {
        entries
            .into_iter()
            .filter(|e| self.sees_audit(e))
            .map(|e| self.audit(e))
            .collect()
    }

    /// An assignment as this audience sees it: the requester does not see its notes.
    pub fn assignment(self, mut assignment: Assignment) -> Assignment {
        if self == Audience::Requester {
            assignment.notes.clear();
        }
        assignment
    }

    /// An audit entry as this audience sees it: the requester sees task work without the words.
    pub fn audit(self, mut entry: AuditEntry) -> AuditEntry {
        if self == Audience::Requester && TASK_WORK_ACTIONS.contains(&entry.action.as_str()) {
            for side in [&mut entry.before, &mut entry.after] {
                if let Some(fields) = side.as_object_mut() {
                    fields.retain(|key, _| !STAFF_ONLY_FIELDS.contains(&key.as_str()));
                }
            }
        }
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(n: u8) -> UserId {
        UserId(uuid::Uuid::from_u128(u128::from(n) + 1))
    }

    fn entry(action: &str, after: serde_json::Value) -> AuditEntry {
        AuditEntry {
            id: crate::ids::AuditId(uuid::Uuid::nil()),
            at: chrono::DateTime::from_timestamp(0, 0).expect("time"),
            actor: None,
            action: action.into(),
            ticket: None,
            task: None,
            before: serde_json::Value::Null,
            after,
        }
    }

    proptest! {
        /// Over random actors and tickets: admins and holders (present or past) are staff, the requester
        /// who holds nothing is the requester, everyone else sees nothing.
        #[test]
        fn the_rule_over_random_actors_and_tickets(
            actor in 0u8..6,
            is_admin: bool,
            requester in 0u8..6,
            holders in proptest::collection::vec(0u8..6, 0..4),
        ) {
            let holders: Vec<UserId> = holders.into_iter().map(user).collect();
            let who = Actor { user: user(actor), is_admin, is_agent: false };
            let got = audience(who, user(requester), &holders);
            let want = if is_admin || holders.contains(&user(actor)) {
                Some(Audience::Staff)
            } else if actor == requester {
                Some(Audience::Requester)
            } else {
                None
            };
            prop_assert_eq!(got, want);
        }

        /// Whatever words an agent wrote into task work, none reaches the requester; staff see all.
        #[test]
        fn no_agent_words_reach_the_requester(
            action in proptest::sample::select(TASK_WORK_ACTIONS.to_vec()),
            words in "[a-z ]{1,40}",
            field in proptest::sample::select(STAFF_ONLY_FIELDS.to_vec()),
        ) {
            let secret = format!("secret {words}");
            let e = entry(action, serde_json::json!({ field: secret.clone(), "step": "Triage" }));
            let shown = Audience::Requester.audit(e.clone());
            prop_assert!(!shown.after.to_string().contains(&secret));
            prop_assert_eq!(&shown.after["step"], "Triage");
            prop_assert_eq!(Audience::Staff.audit(e.clone()), e);
        }
    }

    proptest! {
        /// An internal note's trail never reaches the requester, whatever the entry says; public
        /// comments' entries do; staff see every entry.
        #[test]
        fn internal_notes_leave_no_trail_for_the_requester(
            action in proptest::sample::select(COMMENT_ACTIONS.to_vec()),
            internal: bool,
            in_before: bool,
            words in "[a-z ]{1,40}",
        ) {
            let side = serde_json::json!({"comment": "c1", "is_internal": internal, "content": words});
            let mut e = entry(action, serde_json::Value::Null);
            if in_before { e.before = side } else { e.after = side }
            let shown = Audience::Requester.history(vec![e.clone()]);
            prop_assert_eq!(shown.is_empty(), internal);
            prop_assert_eq!(Audience::Staff.history(vec![e.clone()]), vec![e]);
        }
    }

    proptest! {
        /// A feed event reaches exactly whom the rule lets see it: a ticket's event the actors who see
        /// the ticket (staff only for an internal note), a user's event that user.
        #[test]
        fn reach_agrees_with_the_rule(
            actor in 0u8..6,
            is_admin: bool,
            requester in 0u8..6,
            holders in proptest::collection::vec(0u8..6, 0..4),
            staff_only: bool,
        ) {
            let holders: Vec<UserId> = holders.into_iter().map(user).collect();
            let who = Actor { user: user(actor), is_admin, is_agent: false };
            let reach = Reach::Ticket { requester: user(requester), holders: holders.clone(), staff_only };
            let seen = audience(who, user(requester), &holders);
            prop_assert_eq!(reach.admits(who), seen == Some(Audience::Staff) || (!staff_only && seen.is_some()));
            prop_assert_eq!(Reach::User(user(requester)).admits(who), actor == requester);
        }
    }

    #[test]
    fn other_entries_are_shown_as_they_are() {
        let e = entry(
            "ticket.unroutable",
            serde_json::json!({"reason": "no workflow matches"}),
        );
        assert_eq!(Audience::Requester.audit(e.clone()), e);
    }
}
