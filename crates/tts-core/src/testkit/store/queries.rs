//! The [`Queries`](crate::ports::store::Queries) contract: every filter holds, the documented order with
//! ties broken so pages never overlap or skip, totals across pages, and pages past the end. (The sessions
//! query is checked with the sessions, in [`sessions`](super::sessions).)

use super::support::{at, commit, id, insert_users, new_ticket_in, notification, role, task_of, user, write};
use crate::domain::priority::Priority;
use crate::domain::task::{Assignment, AssignmentStatus, Origin};
use crate::domain::ticket::{NewTicket, Ticket, TicketStatus};
use crate::domain::user::{Membership, User};
use crate::ids::{TicketId, UserId};
use crate::ports::store::{AssignmentQuery, NotificationQuery, PageRequest, Store, TicketOrdering, TicketQuery};

fn page(page: u32, size: u32) -> PageRequest {
    PageRequest::new(page, size).expect("a valid page")
}

/// Five tickets of two requesters with different keys, statuses and times (see the cases).
async fn five_tickets(store: &dyn Store) -> (Vec<Ticket>, UserId, UserId) {
    let (alice, bob) = (id::<UserId>(), id::<UserId>());
    let specs = [
        (
            alice,
            "Printer jammed",
            "",
            "Hardware",
            Some("IT Department"),
            Priority::High,
        ),
        (
            alice,
            "Printer toner",
            "",
            "hardware",
            Some("it department"),
            Priority::Low,
        ),
        (
            alice,
            "Budget request",
            "Needs the PRINTER budget",
            "Budget",
            Some("Finance"),
            Priority::Critical,
        ),
        (alice, "VPN down", "", "Network", None, Priority::Medium),
        (
            bob,
            "Monitor flicker",
            "",
            "Hardware",
            Some("IT Department"),
            Priority::High,
        ),
    ];
    let mut tx = write(store).await;
    let mut tickets = Vec::new();
    for (i, (by, subject, description, category, department, priority)) in specs.into_iter().enumerate() {
        let mut new = NewTicket::new(subject, category)
            .priority(priority)
            .description(description);
        if let Some(d) = department {
            new = new.department(d);
        }
        tickets.push(new_ticket_in(tx.as_mut(), 2025, new, by, at(i as i64)).await);
    }
    let mut update = async |i: usize, f: &dyn Fn(&mut Ticket), secs: i64| {
        let t = &mut tickets[i];
        f(t);
        t.touch(at(secs));
        tx.update_ticket(t).await.expect("update a ticket");
    };
    update(1, &|t| t.move_to(TicketStatus::InProgress, at(100)).expect("move"), 100).await;
    update(3, &|t| t.is_task_allocated = true, 50).await;
    update(4, &|t| t.move_to(TicketStatus::OnHold, at(200)).expect("move"), 200).await;
    commit(tx, "tickets").await;
    (tickets, alice, bob)
}

async fn ids_of(store: &dyn Store, query: TicketQuery) -> (Vec<TicketId>, u64) {
    let p = store.list_tickets(&query).await.expect("list tickets");
    (p.items.iter().map(|t| t.id).collect(), p.total)
}

/// Every filter set in a ticket query holds for every item, alone and together, and `total` counts the
/// matches: status, priority, category and department (case-insensitive), allocation, and search
/// (case-insensitive, in subject, description and ticket number).
pub async fn ticket_list_filters_each_hold_and_count_the_total(store: &dyn Store) {
    let (t, _, _) = five_tickets(store).await;
    let ids = |list: &[usize]| list.iter().map(|&i| t[i].id).collect::<Vec<_>>();
    let oldest = |q: TicketQuery| TicketQuery {
        ordering: TicketOrdering::OldestFirst,
        page: page(1, 100),
        ..q
    };
    let cases: Vec<(&str, TicketQuery, Vec<TicketId>)> = vec![
        ("no filter", TicketQuery::default(), ids(&[0, 1, 2, 3, 4])),
        (
            "status",
            TicketQuery {
                status: Some(TicketStatus::InProgress),
                ..Default::default()
            },
            ids(&[1]),
        ),
        (
            "priority",
            TicketQuery {
                priority: Some(Priority::High),
                ..Default::default()
            },
            ids(&[0, 4]),
        ),
        (
            "category, case-insensitive",
            TicketQuery {
                category: Some("HARDWARE".into()),
                ..Default::default()
            },
            ids(&[0, 1, 4]),
        ),
        (
            "department, case-insensitive",
            TicketQuery {
                department: Some("iT dEPARTMENT".into()),
                ..Default::default()
            },
            ids(&[0, 1, 4]),
        ),
        (
            "allocated",
            TicketQuery {
                is_task_allocated: Some(true),
                ..Default::default()
            },
            ids(&[3]),
        ),
        (
            "not allocated",
            TicketQuery {
                is_task_allocated: Some(false),
                ..Default::default()
            },
            ids(&[0, 1, 2, 4]),
        ),
        (
            "search in subject and description, case-insensitive",
            TicketQuery {
                search: Some("pRiNtEr".into()),
                ..Default::default()
            },
            ids(&[0, 1, 2]),
        ),
        (
            "search by ticket number",
            TicketQuery {
                search: Some(t[3].ticket_id.to_string().to_lowercase()),
                ..Default::default()
            },
            ids(&[3]),
        ),
        (
            "filters together",
            TicketQuery {
                category: Some("hardware".into()),
                priority: Some(Priority::High),
                search: Some("monitor".into()),
                ..Default::default()
            },
            ids(&[4]),
        ),
        (
            "nothing matches",
            TicketQuery {
                status: Some(TicketStatus::Closed),
                ..Default::default()
            },
            Vec::new(),
        ),
    ];
    for (what, query, expected) in cases {
        assert_eq!(
            ids_of(store, oldest(query.clone())).await,
            (expected.clone(), expected.len() as u64),
            "ticket filter: {what}"
        );
        let first = ids_of(
            store,
            TicketQuery {
                page: page(1, 1),
                ..oldest(query)
            },
        )
        .await;
        assert_eq!(
            first,
            (expected.iter().take(1).copied().collect(), expected.len() as u64),
            "ticket filter: {what}: the total counts every page"
        );
    }
}

/// `visible_to` lists the tickets the user created and those whose task they hold or held an assignment
/// on, and no others.
pub async fn ticket_list_visible_to_is_own_and_held_tickets(store: &dyn Store) {
    let (t, alice, bob) = five_tickets(store).await;
    let agent = user("Agent");
    let r = role("Agents");
    let mut tx = write(store).await;
    tx.insert_user(&agent).await.expect("insert a user");
    // Alice requested one ticket and, as an agent too, worked on another: assignments name real users.
    let alice_user = User {
        id: alice,
        ..user("Alice")
    };
    tx.insert_user(&alice_user).await.expect("insert a user");
    tx.insert_role(&r).await.expect("insert a role");
    tx.set_membership(Membership {
        role: r.id,
        user: agent.id,
        is_active: true,
    })
    .await
    .expect("set a membership");
    for (i, holder, close) in [(4usize, alice, true), (2, agent.id, false)] {
        let task = task_of(&t[i]);
        tx.insert_task(&task).await.expect("insert a task");
        let mut a = Assignment::new(
            id(),
            task.id,
            holder,
            r.id,
            task.current_step,
            Origin::System,
            at(300),
            None,
        );
        if close {
            a.move_to(AssignmentStatus::Resolved, Some(holder), at(301))
                .expect("resolve");
        }
        tx.insert_assignment(&a).await.expect("insert an assignment");
    }
    commit(tx, "tasks and assignments").await;
    let visible = |user| TicketQuery {
        visible_to: Some(user),
        ordering: TicketOrdering::OldestFirst,
        page: page(1, 100),
        ..Default::default()
    };
    let ids = |list: &[usize]| list.iter().map(|&i| t[i].id).collect::<Vec<_>>();
    assert_eq!(
        ids_of(store, visible(alice)).await,
        (ids(&[0, 1, 2, 3, 4]), 5),
        "a requester sees their own tickets and those whose task they held (closed assignments too)"
    );
    assert_eq!(
        ids_of(store, visible(bob)).await,
        (ids(&[4]), 1),
        "a requester sees only their own"
    );
    assert_eq!(
        ids_of(store, visible(agent.id)).await,
        (ids(&[2]), 1),
        "an agent sees tickets whose task they hold"
    );
    assert_eq!(
        ids_of(store, visible(id())).await,
        (Vec::new(), 0),
        "a stranger sees none"
    );
    assert_eq!(
        ids_of(
            store,
            TicketQuery {
                priority: Some(Priority::High),
                ..visible(alice)
            }
        )
        .await,
        (ids(&[0, 4]), 2),
        "visibility combines with the other filters"
    );
}

/// Tickets come newest first by default, or oldest first, most urgent first (then newest), or most
/// recently updated first.
pub async fn ticket_list_orderings(store: &dyn Store) {
    let (t, _, _) = five_tickets(store).await;
    let ids = |list: &[usize]| list.iter().map(|&i| t[i].id).collect::<Vec<_>>();
    for (ordering, expected) in [
        (TicketOrdering::NewestFirst, ids(&[4, 3, 2, 1, 0])),
        (TicketOrdering::OldestFirst, ids(&[0, 1, 2, 3, 4])),
        (TicketOrdering::PriorityDesc, ids(&[2, 4, 0, 3, 1])),
        (TicketOrdering::UpdatedDesc, ids(&[4, 1, 3, 2, 0])),
    ] {
        let query = TicketQuery {
            ordering,
            page: page(1, 100),
            ..Default::default()
        };
        assert_eq!(
            ids_of(store, query).await,
            (expected, 5),
            "ticket ordering {ordering:?}"
        );
    }
    assert_eq!(
        TicketQuery::default().ordering,
        TicketOrdering::NewestFirst,
        "the default ordering is newest first"
    );
    let listed = store.list_tickets(&TicketQuery::default()).await.expect("list tickets");
    assert_eq!(
        listed.items,
        t.iter().rev().cloned().collect::<Vec<_>>(),
        "listed tickets read back equal"
    );
}

/// Pages slice the order: with ties (equal times, equal priorities) broken consistently, consecutive
/// pages never overlap or skip, under every ordering; each page reports the full total; a page past the
/// end is empty with the total.
pub async fn ticket_pages_never_overlap_or_skip_and_past_the_end_is_empty(store: &dyn Store) {
    let by = id::<UserId>();
    let mut tx = write(store).await;
    for i in 0..7 {
        // Same creation time for all: only the tie-break orders them.
        new_ticket_in(
            tx.as_mut(),
            2025,
            NewTicket::new(format!("Same time {i}"), "Ties"),
            by,
            at(0),
        )
        .await;
    }
    commit(tx, "tickets with equal times").await;
    for ordering in [
        TicketOrdering::NewestFirst,
        TicketOrdering::OldestFirst,
        TicketOrdering::PriorityDesc,
        TicketOrdering::UpdatedDesc,
    ] {
        let query = |p: PageRequest| TicketQuery {
            ordering,
            page: p,
            ..Default::default()
        };
        let (all, total) = ids_of(store, query(page(1, 100))).await;
        assert_eq!(total, 7, "{ordering:?}: the total");
        let mut paged = Vec::new();
        for p in 1..=4 {
            let (items, total) = ids_of(store, query(page(p, 2))).await;
            assert_eq!(total, 7, "{ordering:?}: every page reports the full total");
            paged.extend(items);
        }
        assert_eq!(
            paged, all,
            "{ordering:?}: pages of 2 concatenate to the whole list, no overlap, no gap"
        );
        assert_eq!(
            ids_of(store, query(page(10, 2))).await,
            (Vec::new(), 7),
            "{ordering:?}: a page past the end is empty and keeps the total"
        );
    }
}

/// Assignments come newest first, filtered by user and by open status, with totals across pages and an
/// empty page past the end.
pub async fn assignment_list_filters_by_user_and_open_newest_first(store: &dyn Store) {
    let users = insert_users(store, "Worker", 2).await;
    let r = role("Workers");
    let mut tx = write(store).await;
    tx.insert_role(&r).await.expect("insert a role");
    let ticket = new_ticket_in(tx.as_mut(), 2025, NewTicket::new("Work", "C"), id(), at(0)).await;
    let task = task_of(&ticket);
    tx.insert_task(&task).await.expect("insert a task");
    let make = |u: &User, secs, status: AssignmentStatus| {
        let mut a = Assignment::new(
            id(),
            task.id,
            u.id,
            r.id,
            task.current_step,
            Origin::System,
            at(secs),
            None,
        );
        if status != AssignmentStatus::New {
            a.move_to(status, None, at(secs)).expect("move");
        }
        a
    };
    let a0 = make(&users[0], 0, AssignmentStatus::New);
    let a1 = make(&users[0], 2, AssignmentStatus::Resolved);
    let a2 = make(&users[0], 4, AssignmentStatus::Breached);
    let b = make(&users[1], 3, AssignmentStatus::New);
    for a in [&a0, &a1, &a2, &b] {
        tx.insert_assignment(a).await.expect("insert an assignment");
    }
    commit(tx, "assignments").await;
    let list = async |user: Option<UserId>, open_only, p| {
        let page = store
            .list_assignments(&AssignmentQuery {
                user,
                open_only,
                page: p,
            })
            .await
            .expect("list assignments");
        (page.items, page.total)
    };
    assert_eq!(
        list(Some(users[0].id), false, page(1, 100)).await,
        (vec![a2.clone(), a1.clone(), a0.clone()], 3),
        "a user's assignments, newest first, intact"
    );
    assert_eq!(
        list(Some(users[0].id), true, page(1, 100)).await,
        (vec![a2.clone(), a0.clone()], 2),
        "open only: new, in progress and breached"
    );
    assert_eq!(
        list(None, true, page(1, 100)).await,
        (vec![a2.clone(), b.clone(), a0.clone()], 3),
        "everyone's open assignments"
    );
    assert_eq!(
        list(None, false, page(2, 2)).await,
        (vec![a1, a0], 4),
        "pages slice the order; the total counts all"
    );
    assert_eq!(
        list(None, false, page(3, 2)).await,
        (Vec::new(), 4),
        "a page past the end is empty with the total"
    );
    assert_eq!(
        list(Some(id()), false, page(1, 10)).await,
        (Vec::new(), 0),
        "a user without assignments has none"
    );
}

/// Notifications come newest first, filtered by recipient and read flag, with totals across pages and an
/// empty page past the end.
pub async fn notification_list_filters_by_user_and_read_newest_first(store: &dyn Store) {
    let (me, other) = (id::<UserId>(), id::<UserId>());
    let mine: Vec<_> = (0..4).map(|i| notification(me, &format!("n{i}"), i)).collect();
    let mut tx = write(store).await;
    for n in &mine {
        tx.insert_notification(n).await.expect("insert a notification");
    }
    tx.insert_notification(&notification(other, "theirs", 9))
        .await
        .expect("insert another's");
    let mut read_one = mine[1].clone();
    read_one.is_read = true;
    read_one.read_at = Some(at(20));
    tx.update_notification(&read_one).await.expect("read one");
    commit(tx, "notifications").await;
    let list = async |user: Option<UserId>, is_read, p| {
        let page = store
            .list_notifications(&NotificationQuery { user, is_read, page: p })
            .await
            .expect("list notifications");
        (
            page.items.iter().map(|n| n.subject.clone()).collect::<Vec<_>>(),
            page.total,
        )
    };
    let names = |list: &[&str]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        list(Some(me), None, page(1, 100)).await,
        (names(&["n3", "n2", "n1", "n0"]), 4),
        "mine, newest first"
    );
    assert_eq!(
        list(Some(me), Some(false), page(1, 100)).await,
        (names(&["n3", "n2", "n0"]), 3),
        "unread only"
    );
    assert_eq!(
        list(Some(me), Some(true), page(1, 100)).await,
        (names(&["n1"]), 1),
        "read only"
    );
    assert_eq!(
        list(None, None, page(1, 2)).await,
        (names(&["theirs", "n3"]), 5),
        "everyone's, paged"
    );
    assert_eq!(
        list(Some(me), None, page(2, 3)).await,
        (names(&["n0"]), 4),
        "the last page"
    );
    assert_eq!(
        list(Some(me), None, page(3, 3)).await,
        (Vec::new(), 4),
        "a page past the end is empty with the total"
    );
    let page_one = store
        .list_notifications(&NotificationQuery {
            user: Some(me),
            is_read: Some(true),
            page: page(1, 1),
        })
        .await
        .expect("list notifications");
    assert_eq!(page_one.items, vec![read_one], "listed notifications read back equal");
}

/// Users come ordered by e-mail, paged, with the total and an empty page past the end.
pub async fn user_list_is_ordered_by_email_with_totals(store: &dyn Store) {
    let mut tx = write(store).await;
    let mut users = Vec::new();
    for name in ["carol", "alice", "dave", "bob", "erin"] {
        let mut u = user(name);
        u.email = format!("{name}@example.com");
        tx.insert_user(&u).await.expect("insert a user");
        users.push(u);
    }
    commit(tx, "users").await;
    users.sort_by(|a, b| a.email.cmp(&b.email));
    let all = store.list_users(page(1, 100)).await.expect("list users");
    assert_eq!(
        (all.items, all.total),
        (users.clone(), 5),
        "users ordered by e-mail, intact"
    );
    let second = store.list_users(page(2, 2)).await.expect("list users");
    assert_eq!(
        (second.items, second.total),
        (users[2..4].to_vec(), 5),
        "pages slice the order"
    );
    let past = store.list_users(page(4, 2)).await.expect("list users");
    assert_eq!(
        (past.items, past.total),
        (Vec::new(), 5),
        "a page past the end is empty with the total"
    );
}

/// `Queries::user` reads a committed profile without a unit, and nothing for an unknown id or for a user
/// whose unit was dropped.
pub async fn a_user_is_read_by_id_without_a_unit(store: &dyn Store) {
    let ada = user("Ada");
    let mut tx = write(store).await;
    tx.insert_user(&ada).await.expect("insert a user");
    commit(tx, "a user").await;
    assert_eq!(
        store.user(ada.id).await.expect("read").as_ref(),
        Some(&ada),
        "a user reads back whole"
    );
    let ghost = user("Ghost");
    let mut tx = write(store).await;
    tx.insert_user(&ghost).await.expect("insert a user");
    drop(tx);
    assert_eq!(
        store.user(ghost.id).await.expect("read"),
        None,
        "a dropped unit's user is not there"
    );
    assert_eq!(store.user(id()).await.expect("read"), None, "an unknown id is none");
}

/// Dead letters list newest first (ties by id, newest id first), with the total, paged.
pub async fn dead_letter_list_is_newest_first_with_totals(store: &dyn Store) {
    let mut letters: Vec<_> = [30, 10, 20, 20]
        .iter()
        .map(|s| super::dead_letters::letter("q", *s))
        .collect();
    let mut tx = write(store).await;
    for l in &letters {
        tx.insert_dead_letter(l).await.expect("keep a letter");
    }
    commit(tx, "dead letters").await;
    letters.sort_by_key(|l| std::cmp::Reverse((l.failed_at, l.id)));
    let all = store.list_dead_letters(page(1, 100)).await.expect("list");
    assert_eq!((all.items, all.total), (letters.clone(), 4), "newest first, intact");
    let second = store.list_dead_letters(page(2, 3)).await.expect("list");
    assert_eq!(
        (second.items, second.total),
        (letters[3..].to_vec(), 4),
        "pages slice the order"
    );
}
