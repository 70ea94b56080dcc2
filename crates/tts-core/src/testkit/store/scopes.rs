//! The ticket list's scope filters of [`TicketQuery`] (`created_by`, `assigned_to`, `acted_by`,
//! `is_done`, and [`TicketQuery::in_scope`] over them) and
//! [`Queries::count_tickets_by_priority`](crate::ports::store::Queries::count_tickets_by_priority): each
//! filter alone and with the others on a small hand-made set, then every scope for every user, with and
//! without visibility, against the rule ([`TicketScope::admits`]) over a generated history.

use super::support::{Rng, at, commit, id, insert_users, task_of, write};
use crate::domain::priority::Priority;
use crate::domain::scope::TicketScope;
use crate::domain::task::{Assignment, AssignmentStatus, Origin};
use crate::domain::ticket::{NewTicket, Ticket, TicketStatus};
use crate::domain::ticket_number::TicketNumber;
use crate::ids::{RoleId, TicketId, UserId};
use crate::ports::store::PageRequest;
use crate::ports::store::{PriorityCounts, Store, TicketOrdering, TicketQuery, UnitOfWork};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

fn page(page: u32, size: u32) -> PageRequest {
    PageRequest::new(page, size).expect("a valid page")
}

/// Inserts a ticket of 2025 by `by` created at `at(secs)`, shaped by `shape` first (status, allocation).
async fn ticket_in(
    tx: &mut dyn UnitOfWork,
    by: UserId,
    priority: Priority,
    secs: i64,
    shape: impl FnOnce(&mut Ticket),
) -> Ticket {
    let (tid, seq) = tx.take_ticket_keys(2025).await.expect("take ticket keys");
    let number = TicketNumber::new(2025, seq).expect("a valid ticket number");
    let mut t = NewTicket::new(format!("Scoped {seq}"), "Scopes")
        .priority(priority)
        .validated()
        .expect("a valid ticket")
        .into_ticket(tid, number, by, at(secs));
    shape(&mut t);
    tx.insert_ticket(&t).await.expect("insert a ticket");
    t
}

/// Walks `t` through `moves` of the status table.
fn walk(t: &mut Ticket, moves: &[TicketStatus]) {
    for (i, to) in moves.iter().enumerate() {
        t.move_to(*to, at(100 + i as i64)).expect("a move the table allows");
    }
}

/// Stores `last` (a turn that started as `first`): inserted as it ends when `direct`, else inserted as
/// it started and then updated, so that both write paths keep the scope columns.
async fn store_turn(tx: &mut dyn UnitOfWork, first: &Assignment, mut last: Assignment, direct: bool) -> Assignment {
    if direct || &last == first {
        tx.insert_assignment(&last).await.expect("insert an assignment");
    } else {
        tx.insert_assignment(first).await.expect("insert an assignment");
        last.version = first.version + 1;
        tx.update_assignment(&last).await.expect("update an assignment");
    }
    last
}

async fn listed(store: &dyn Store, query: TicketQuery) -> (Vec<TicketId>, u64) {
    let p = store.list_tickets(&query).await.expect("list tickets");
    (p.items.iter().map(|t| t.id).collect(), p.total)
}

fn counts(tickets: &[&Ticket]) -> PriorityCounts {
    let mut c = PriorityCounts::default();
    for t in tickets {
        c.add(t.priority, 1);
    }
    c
}

/// Each scope filter holds alone and with the others (visibility, priority, status), `total` counts
/// every page, and the priority counts count every match per priority whatever the priority filter:
/// `created_by`; `assigned_to` (open assignments only, breached included); `acted_by` (only what the
/// holder's own move ended: not an SLA escalation, not an admin's transfer); `is_done` (resolved,
/// closed, rejected, withdrawn); `unassigned` (not allocated and not done).
pub async fn ticket_scope_filters_each_hold_and_count_the_total(store: &dyn Store) {
    use Priority::{Critical, High, Low, Medium};
    use TicketStatus::{Closed, InProgress, OnHold, Rejected, Resolved};
    let users = insert_users(store, "Scoped", 4).await;
    let (r, a, b, m) = (users[0].id, users[1].id, users[2].id, users[3].id);
    let role: RoleId = id();
    let specs: [(UserId, Priority, &[TicketStatus], bool); 7] = [
        (r, High, &[], true),
        (r, Critical, &[InProgress], true),
        (a, Low, &[InProgress, Resolved], true),
        (r, High, &[], false),
        (b, Medium, &[InProgress, Resolved, Closed], true),
        (r, Low, &[Rejected], false),
        (r, High, &[OnHold], false),
    ];
    let mut tx = write(store).await;
    let mut t = Vec::new();
    for (i, (by, priority, moves, allocated)) in specs.into_iter().enumerate() {
        let ticket = ticket_in(tx.as_mut(), by, priority, i as i64, |t| {
            walk(t, moves);
            t.is_task_allocated = allocated;
        })
        .await;
        t.push(ticket);
    }
    // Turns: (ticket, holder, its last move: status and by whom, if any; written directly or updated).
    type Move = Option<(AssignmentStatus, Option<UserId>)>;
    let turns: [(usize, UserId, Move, bool); 7] = [
        (0, a, None, true),
        (1, a, Some((AssignmentStatus::Resolved, Some(a))), false),
        (1, b, Some((AssignmentStatus::InProgress, Some(b))), true),
        (2, a, Some((AssignmentStatus::Escalated, None)), true),
        (2, b, Some((AssignmentStatus::Resolved, Some(b))), false),
        (4, a, Some((AssignmentStatus::Reassigned, Some(m))), false),
        (4, m, Some((AssignmentStatus::Resolved, Some(m))), true),
    ];
    let mut tasks = HashMap::new();
    for (i, holder, end, direct) in turns {
        let task = match tasks.entry(i) {
            Entry::Occupied(task) => task.into_mut(),
            Entry::Vacant(slot) => {
                let task = task_of(&t[i]);
                tx.insert_task(&task).await.expect("insert a task");
                slot.insert(task)
            }
        };
        let first = Assignment::new(
            id(),
            task.id,
            holder,
            role,
            task.current_step,
            Origin::System,
            at(200),
            None,
        );
        let mut last = first.clone();
        if let Some((status, by)) = end {
            last.move_to(status, by, at(300)).expect("end the turn");
        }
        store_turn(tx.as_mut(), &first, last, direct).await;
    }
    commit(tx, "tickets, tasks and assignments").await;

    let ids = |list: &[usize]| list.iter().map(|&i| t[i].id).collect::<Vec<_>>();
    let q = TicketQuery::default;
    let cases: Vec<(&str, TicketQuery, Vec<TicketId>)> = vec![
        (
            "created by the requester",
            q().in_scope(TicketScope::Mine, r),
            ids(&[0, 1, 3, 5, 6]),
        ),
        ("created by an agent", q().in_scope(TicketScope::Mine, a), ids(&[2])),
        (
            "assigned: an open new assignment",
            q().in_scope(TicketScope::Assigned, a),
            ids(&[0]),
        ),
        (
            "assigned: an open started one",
            q().in_scope(TicketScope::Assigned, b),
            ids(&[1]),
        ),
        (
            "assigned: only ended ones",
            q().in_scope(TicketScope::Assigned, m),
            Vec::new(),
        ),
        (
            "acted: not an SLA escalation nor an admin's transfer",
            q().in_scope(TicketScope::Acted, a),
            ids(&[1]),
        ),
        ("acted: an action", q().in_scope(TicketScope::Acted, b), ids(&[2])),
        (
            "acted: the admin's own action",
            q().in_scope(TicketScope::Acted, m),
            ids(&[4]),
        ),
        ("acted: a requester", q().in_scope(TicketScope::Acted, r), Vec::new()),
        (
            "closed: resolved, closed, rejected",
            q().in_scope(TicketScope::Closed, r),
            ids(&[2, 4, 5]),
        ),
        (
            "not done",
            TicketQuery {
                is_done: Some(false),
                ..q()
            },
            ids(&[0, 1, 3, 6]),
        ),
        (
            "unassigned: not allocated and not done",
            q().in_scope(TicketScope::Unassigned, m),
            ids(&[3, 6]),
        ),
        ("all", q().in_scope(TicketScope::All, r), ids(&[0, 1, 2, 3, 4, 5, 6])),
        (
            "closed and visible to the requester",
            TicketQuery {
                visible_to: Some(r),
                ..q()
            }
            .in_scope(TicketScope::Closed, r),
            ids(&[5]),
        ),
        (
            "closed and visible to an agent who held them",
            TicketQuery {
                visible_to: Some(a),
                ..q()
            }
            .in_scope(TicketScope::Closed, a),
            ids(&[2, 4]),
        ),
        (
            "mine with a priority",
            TicketQuery {
                priority: Some(High),
                ..q()
            }
            .in_scope(TicketScope::Mine, r),
            ids(&[0, 3, 6]),
        ),
        (
            "acted with a status",
            TicketQuery {
                status: Some(InProgress),
                ..q()
            }
            .in_scope(TicketScope::Acted, a),
            ids(&[1]),
        ),
        (
            "acted with another status",
            TicketQuery {
                status: Some(Resolved),
                ..q()
            }
            .in_scope(TicketScope::Acted, a),
            Vec::new(),
        ),
        (
            "two scope filters together",
            TicketQuery {
                created_by: Some(r),
                acted_by: Some(a),
                ..q()
            },
            ids(&[1]),
        ),
    ];
    for (what, query, expected) in cases {
        let query = TicketQuery {
            ordering: TicketOrdering::OldestFirst,
            page: page(1, 100),
            ..query
        };
        assert_eq!(
            listed(store, query.clone()).await,
            (expected.clone(), expected.len() as u64),
            "ticket scope: {what}"
        );
        assert_eq!(
            listed(
                store,
                TicketQuery {
                    page: page(1, 1),
                    ..query.clone()
                }
            )
            .await,
            (expected.iter().take(1).copied().collect(), expected.len() as u64),
            "ticket scope: {what}: the total counts every page"
        );
        let matched: Vec<&Ticket> = t.iter().filter(|x| expected.contains(&x.id)).collect();
        if query.priority.is_none() {
            assert_eq!(
                store.count_tickets_by_priority(&query).await.expect("count"),
                counts(&matched),
                "ticket scope: {what}: counted per priority"
            );
        }
    }

    let count = async |query: TicketQuery| store.count_tickets_by_priority(&query).await.expect("count");
    let all = PriorityCounts {
        low: 2,
        medium: 1,
        high: 3,
        critical: 1,
    };
    assert_eq!(count(q()).await, all, "every ticket, per priority");
    assert_eq!(all.total(), 7);
    assert_eq!(
        count(TicketQuery {
            priority: Some(High),
            ordering: TicketOrdering::PriorityDesc,
            page: page(3, 1),
            ..q()
        })
        .await,
        all,
        "the priority filter, the order and the page do not change the counts"
    );
    assert_eq!(
        count(TicketQuery {
            visible_to: Some(a),
            ..q()
        })
        .await,
        PriorityCounts {
            low: 1,
            medium: 1,
            high: 1,
            critical: 1,
        },
        "counts keep visibility"
    );
    assert_eq!(
        count(q().in_scope(TicketScope::Mine, m)).await,
        PriorityCounts::default(),
        "nothing matches: all zero"
    );
}

/// A generated history: the users, the tickets (oldest first) and each ticket's turns.
struct History {
    users: Vec<UserId>,
    tickets: Vec<Ticket>,
    turns: HashMap<TicketId, Vec<Assignment>>,
}

impl History {
    fn turns_of(&self, t: &Ticket) -> &[Assignment] {
        self.turns.get(&t.id).map_or(&[], Vec::as_slice)
    }

    /// The visibility rule: own tickets and those whose task the user holds or held.
    fn visible(&self, user: UserId, t: &Ticket) -> bool {
        t.created_by == user || self.turns_of(t).iter().any(|a| a.user == user)
    }

    /// The brute force: the tickets `user` lists in `scope` (seeing only what they may when
    /// `visibility`), with `priority` when set, oldest first.
    fn expected(&self, user: UserId, scope: TicketScope, visibility: bool, priority: Option<Priority>) -> Vec<&Ticket> {
        self.tickets
            .iter()
            .filter(|t| !visibility || self.visible(user, t))
            .filter(|t| scope.admits(user, t, self.turns_of(t)))
            .filter(|t| priority.is_none_or(|p| t.priority == p))
            .collect()
    }
}

/// Generates and stores 60 tickets of 5 users: each walked a few steps through the status table,
/// allocated or not, with up to 4 turns of random holders that stay open, breach, or end by their
/// holder, the system or someone else.
async fn history(store: &dyn Store) -> History {
    let mut rng = Rng(0x5c0e_2026);
    let users: Vec<UserId> = insert_users(store, "Scoped", 5).await.iter().map(|u| u.id).collect();
    let role: RoleId = id();
    let mut h = History {
        users: users.clone(),
        tickets: Vec::new(),
        turns: HashMap::new(),
    };
    let mut tx = write(store).await;
    for i in 0..60 {
        let by = *rng.pick(&users);
        let priority = *rng.pick(&Priority::ALL);
        let steps = rng.below(4);
        let allocated = rng.below(3) != 0;
        let mut moves = Vec::new();
        let mut status = TicketStatus::Open;
        for _ in 0..steps {
            let next = status.allowed_next();
            if next.is_empty() {
                break;
            }
            status = *rng.pick(next);
            moves.push(status);
        }
        let t = ticket_in(tx.as_mut(), by, priority, i, |t| {
            walk(t, &moves);
            t.is_task_allocated = allocated;
        })
        .await;
        if allocated {
            let task = task_of(&t);
            tx.insert_task(&task).await.expect("insert a task");
            let mut turns = Vec::new();
            for k in 0..rng.below(5) {
                let holder = *rng.pick(&users);
                let first = Assignment::new(
                    id(),
                    task.id,
                    holder,
                    role,
                    task.current_step,
                    Origin::System,
                    at(1000 + k as i64),
                    None,
                );
                let mut last = first.clone();
                let end = at(2000 + k as i64);
                if rng.below(4) == 0 {
                    last.move_to(AssignmentStatus::InProgress, Some(holder), end)
                        .expect("start");
                }
                if rng.below(4) == 0 {
                    last.move_to(AssignmentStatus::Breached, None, end).expect("breach");
                }
                if rng.below(4) != 0 {
                    let status = *rng.pick(&[
                        AssignmentStatus::Resolved,
                        AssignmentStatus::Escalated,
                        AssignmentStatus::Reassigned,
                        AssignmentStatus::Cancelled,
                    ]);
                    let other = *rng.pick(&users);
                    let by = *rng.pick(&[Some(holder), Some(holder), None, Some(other)]);
                    last.move_to(status, by, end).expect("end the turn");
                }
                let direct = rng.below(2) == 0;
                turns.push(store_turn(tx.as_mut(), &first, last, direct).await);
            }
            h.turns.insert(t.id, turns);
        }
        h.tickets.push(t);
    }
    commit(tx, "the generated history").await;
    h
}

/// Every scope, for every user, with and without visibility, with and without a priority, lists exactly
/// what the rule admits (oldest first, with the total), and counts it per priority.
pub async fn ticket_scopes_equal_the_rule_over_a_generated_history(store: &dyn Store) {
    let h = history(store).await;
    let turns = || h.turns.values().flatten();
    assert!(
        turns().any(Assignment::ended_by_holder)
            && turns().any(|a| !a.status.is_open() && !a.ended_by_holder())
            && turns().any(|a| a.status.is_open()),
        "the history has open turns, turns their holder ended and turns others ended"
    );
    let mut non_empty = HashMap::new();
    for (n, &user) in h.users.iter().enumerate() {
        for scope in TicketScope::ALL {
            for visibility in [false, true] {
                for priority in [None, Some(Priority::ALL[n % 4])] {
                    let query = TicketQuery {
                        visible_to: visibility.then_some(user),
                        priority,
                        ordering: TicketOrdering::OldestFirst,
                        page: page(1, 100),
                        ..TicketQuery::default()
                    }
                    .in_scope(scope, user);
                    let expected = h.expected(user, scope, visibility, priority);
                    let what = format!("user {n}, scope {scope}, visibility {visibility}, priority {priority:?}");
                    assert_eq!(
                        listed(store, query.clone()).await,
                        (expected.iter().map(|t| t.id).collect(), expected.len() as u64),
                        "{what}: the list"
                    );
                    assert_eq!(
                        store.count_tickets_by_priority(&query).await.expect("count"),
                        counts(&h.expected(user, scope, visibility, None)),
                        "{what}: the counts per priority"
                    );
                    *non_empty.entry(scope).or_insert(0) += usize::from(!expected.is_empty());
                }
            }
        }
    }
    for scope in TicketScope::ALL {
        assert!(
            non_empty.get(&scope).copied().unwrap_or(0) > 0,
            "the history must give scope {scope} something to list"
        );
    }
}
