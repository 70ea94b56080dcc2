//! Scopes of the ticket list: which of the tickets a user may see a list shows (the web UI's tabs, the
//! API's `?scope=`).
//!
//! | scope | tickets | who may ask |
//! |---|---|---|
//! | `all` (default) | every ticket the user may see (admins: every ticket) | everyone |
//! | `mine` | those the user created | everyone |
//! | `closed` | those in a done status ([`TicketStatus::DONE`](super::ticket::TicketStatus::DONE): resolved, closed, rejected, withdrawn) | everyone |
//! | `assigned` | those whose task the user holds an open assignment on (`new`, `in_progress`, `breached`) | everyone (agents' tab) |
//! | `acted` | those whose task has an assignment of the user that their own move ended ([`Assignment::ended_by_holder`]) | everyone (agents' tab) |
//! | `unassigned` | those not allocated to a workflow and not done | admins only |
//!
//! A scope narrows the list; it never widens what a user may see: for non-admins the list also keeps the
//! visibility rule (own tickets and those whose task they hold or held), which every scope but
//! `unassigned` implies anyway. [`TicketScope::admits`] is the rule as a predicate; the stores implement it
//! as the filters of [`TicketQuery`](crate::ports::store::TicketQuery) and the store conformance suite
//! checks them against it.

use super::task::Assignment;
use super::ticket::Ticket;
use super::user::Actor;
use crate::error::{Error, Result};
use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which tickets a ticket list shows. Wire values are snake_case; the default is `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketScope {
    /// Tickets the user created.
    Mine,
    /// Tickets whose task the user holds an open assignment on now.
    Assigned,
    /// Tickets whose task has an assignment of the user that their own move ended.
    Acted,
    /// Tickets in a done status ([`TicketStatus::is_done`](super::ticket::TicketStatus::is_done)).
    Closed,
    /// Every ticket the user may see.
    #[default]
    All,
    /// Tickets not allocated to a workflow and not done (admins only).
    Unassigned,
}

impl TicketScope {
    /// Every scope, in the order the web UI shows them as tabs.
    pub const ALL: [TicketScope; 6] = [
        TicketScope::All,
        TicketScope::Mine,
        TicketScope::Assigned,
        TicketScope::Acted,
        TicketScope::Closed,
        TicketScope::Unassigned,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketScope::Mine => "mine",
            TicketScope::Assigned => "assigned",
            TicketScope::Acted => "acted",
            TicketScope::Closed => "closed",
            TicketScope::All => "all",
            TicketScope::Unassigned => "unassigned",
        }
    }

    /// Whether `actor` may list this scope: `unassigned` (the admins' triage queue) is for admins only,
    /// every other scope for everyone (it only narrows what they may see).
    pub fn is_allowed_for(self, actor: Actor) -> bool {
        self != TicketScope::Unassigned || actor.is_admin
    }

    /// The scopes worth offering `actor` (the web UI's tabs), in [`TicketScope::ALL`] order: requesters
    /// hold no assignments, so they get `all`, `mine` and `closed`; agents also `assigned` and `acted`;
    /// admins also `unassigned`.
    pub fn offered_to(actor: Actor) -> Vec<TicketScope> {
        TicketScope::ALL
            .into_iter()
            .filter(|s| match s {
                TicketScope::Assigned | TicketScope::Acted => actor.is_agent || actor.is_admin,
                TicketScope::Unassigned => actor.is_admin,
                _ => true,
            })
            .collect()
    }

    /// Checks that `actor` may list this scope (see [`TicketScope::is_allowed_for`]).
    pub fn check(self, actor: Actor) -> Result<()> {
        if self.is_allowed_for(actor) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("the {self} ticket list is for admins only")))
        }
    }

    /// The rule: whether `ticket`, whose task has `assignments` (all of them, of every user; empty when
    /// it has no task), is in this scope for `user`. Visibility is not part of it (see the module doc).
    pub fn admits(self, user: UserId, ticket: &Ticket, assignments: &[Assignment]) -> bool {
        let mine = |a: &&Assignment| a.user == user;
        match self {
            TicketScope::Mine => ticket.created_by == user,
            TicketScope::Assigned => assignments.iter().filter(mine).any(|a| a.status.is_open()),
            TicketScope::Acted => assignments.iter().filter(mine).any(Assignment::ended_by_holder),
            TicketScope::Closed => ticket.status.is_done(),
            TicketScope::All => true,
            TicketScope::Unassigned => !ticket.is_task_allocated && !ticket.status.is_done(),
        }
    }
}

impl fmt::Display for TicketScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TicketScope {
    type Err = Error;

    /// Accepts the wire names.
    fn from_str(s: &str) -> Result<Self> {
        TicketScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "scope",
                    format!("unknown scope {s:?}; expected mine, assigned, acted, closed, all or unassigned"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn actor(is_admin: bool, is_agent: bool) -> Actor {
        Actor {
            user: UserId(Uuid::nil()),
            is_admin,
            is_agent,
        }
    }

    #[test]
    fn wire_names_round_trip_and_unknown_ones_name_the_field() {
        for scope in TicketScope::ALL {
            assert_eq!(scope.as_str().parse::<TicketScope>().expect("parse"), scope);
            assert_eq!(serde_json::to_value(scope).expect("json"), scope.as_str());
        }
        let err = "everything".parse::<TicketScope>().unwrap_err();
        assert!(err.to_string().contains("scope"), "{err}");
        assert_eq!(TicketScope::default(), TicketScope::All);
    }

    #[test]
    fn each_role_is_offered_what_it_may_list_and_only_admins_the_unassigned() {
        use TicketScope::*;
        let (requester, agent, admin) = (actor(false, false), actor(false, true), actor(true, false));
        assert_eq!(TicketScope::offered_to(requester), [All, Mine, Closed]);
        assert_eq!(TicketScope::offered_to(agent), [All, Mine, Assigned, Acted, Closed]);
        assert_eq!(TicketScope::offered_to(admin), TicketScope::ALL);
        for who in [requester, agent, admin] {
            for scope in TicketScope::offered_to(who) {
                assert!(scope.check(who).is_ok(), "{scope} offered and allowed");
            }
        }
        assert!(Unassigned.check(agent).is_err() && Unassigned.check(requester).is_err());
        assert_eq!(
            Unassigned.check(agent).unwrap_err().kind(),
            crate::error::ErrorKind::Forbidden
        );
    }
}
