//! Who sees what of a ticket: one rule, used by every read path (task views, both histories, and the
//! feeds and pages that show them).
//!
//! - **Staff**: admins, and agents who hold or held an assignment of the ticket's task. They see
//!   everything, the agents' own words included: assignment notes, action comments, transfer notes,
//!   escalation reasons.
//! - **Requester**: the person who filed the ticket (and is not staff on it). They see what happened
//!   (status, steps, actions and who acted) but none of the agents' words.
//! - Anyone else does not see the ticket at all (it is "not found" to them).

use super::audit::AuditEntry;
use super::task::Assignment;
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

impl Audience {
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

    #[test]
    fn other_entries_are_shown_as_they_are() {
        let e = entry(
            "ticket.unroutable",
            serde_json::json!({"reason": "no workflow matches"}),
        );
        assert_eq!(Audience::Requester.audit(e.clone()), e);
    }
}
