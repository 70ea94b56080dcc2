//! The [`Store`] contract. Expects a fresh, empty store.

use crate::domain::audit::AuditEntry;
use crate::domain::event::{DomainEvent, OutboxMessage};
use crate::domain::notification::{Notification, NotificationType};
use crate::domain::priority::Priority;
use crate::domain::task::{Assignment, AssignmentStatus, Origin, Task, TaskStatus};
use crate::domain::ticket::{NewTicket, Ticket, TicketStatus};
use crate::domain::ticket_number::TicketNumber;
use crate::domain::user::{Membership, Role, User};
use crate::domain::workflow::{MatchKey, Sla, Step, Transition, Workflow, WorkflowDefinition, WorkflowStatus};
use crate::error::{Error, ErrorKind};
use crate::ids::*;
use crate::ports::store::{
    Access, AssignmentQuery, Bookkeeping, IdempotencyRecord, NotificationQuery, PageRequest, Store, TicketOrdering,
    TicketQuery, UnitOfWork,
};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Runs every store check, in an order that lets later checks rely on earlier data being absent.
pub async fn run_all(store: &dyn Store) {
    ticket_numbers_are_sequential(store).await;
    tickets_round_trip(store).await;
    rollback_discards_everything(store).await;
    held_back_writes(store).await;
    version_checks(store).await;
    ticket_list_filters(store).await;
    workflows_and_versions(store).await;
    users_roles_and_candidates(store).await;
    tasks_and_assignments(store).await;
    audit_trail(store).await;
    outbox_and_dedup(store).await;
    notifications(store).await;
    idempotency_records(store).await;
    bookkeeping_retention(store).await;
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("valid timestamp")
}

fn id<T: From<Uuid>>() -> T {
    T::from(Uuid::now_v7())
}

/// The error of a write that must fail: stores may report it at the write or when the unit next flushes
/// (see [`UnitOfWork::flush`]).
async fn write_error(tx: &mut dyn UnitOfWork, written: crate::error::Result<()>, what: &str) -> Error {
    match written {
        Err(e) => e,
        Ok(()) => tx.flush().await.expect_err(what),
    }
}

async fn write(store: &dyn Store) -> Box<dyn UnitOfWork> {
    store.begin(Access::Write).await.expect("begin write")
}

async fn read(store: &dyn Store) -> Box<dyn UnitOfWork> {
    store.begin(Access::Read).await.expect("begin read")
}

/// Inserts a ticket with store-allocated id and number in its own committed unit.
pub async fn insert_ticket(store: &dyn Store, new: NewTicket, by: UserId, at: DateTime<Utc>) -> Ticket {
    let mut tx = write(store).await;
    let year = 2025;
    let seq = tx.next_ticket_seq(year).await.expect("seq");
    let tid = tx.next_ticket_id().await.expect("id");
    let ticket = new.into_ticket(tid, TicketNumber::new(year, seq).expect("number"), by, at);
    tx.insert_ticket(&ticket).await.expect("insert ticket");
    tx.commit().await.expect("commit");
    ticket
}

/// Per-year sequences start at 1 and have no gaps; years are independent; ticket ids are unique.
pub async fn ticket_numbers_are_sequential(store: &dyn Store) {
    let mut tx = write(store).await;
    let seqs: Vec<u32> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(tx.next_ticket_seq(2031).await.expect("seq"));
        }
        v
    };
    assert_eq!(
        seqs,
        [1, 2, 3],
        "a year's sequence starts at 1 and counts up without gaps"
    );
    assert_eq!(tx.next_ticket_seq(2032).await.expect("seq"), 1, "years are independent");
    let a = tx.next_ticket_id().await.expect("id");
    let b = tx.next_ticket_id().await.expect("id");
    assert_ne!(a, b, "ticket ids are never reused");
    let (c, seq) = tx.next_ticket_keys(2032).await.expect("keys");
    assert_eq!(seq, 2, "keys take the same year's sequence");
    assert!(c != a && c != b, "keys take a fresh ticket id");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    assert_eq!(
        tx.next_ticket_seq(2031).await.expect("seq"),
        4,
        "committed counters persist"
    );
    drop(tx);
    let mut tx = write(store).await;
    assert_eq!(
        tx.next_ticket_keys(2031).await.expect("keys").1,
        4,
        "a rolled-back unit leaves no gap"
    );
}

/// A ticket reads back equal, by id and by number; duplicate numbers are conflicts.
pub async fn tickets_round_trip(store: &dyn Store) {
    let mut new = NewTicket::new("Login issue", "Technical Support")
        .priority(Priority::High)
        .department("IT");
    new.employee.name = "John Doe".into();
    new.employee.email = "john@example.com".into();
    new.employee.id = Some(serde_json::json!(123));
    let t = insert_ticket(store, new.validated().expect("valid"), id(), t0()).await;
    let mut tx = read(store).await;
    assert_eq!(tx.ticket(t.id).await.expect("get").as_ref(), Some(&t));
    assert_eq!(
        tx.ticket_by_number(t.ticket_id).await.expect("by number").as_ref(),
        Some(&t)
    );
    assert_eq!(tx.ticket(TicketId(-5)).await.expect("missing"), None);
    drop(tx);
    let mut tx = write(store).await;
    let mut dup = t.clone();
    dup.id = tx.next_ticket_id().await.expect("id");
    let written = tx.insert_ticket(&dup).await;
    let err = write_error(tx.as_mut(), written, "duplicate number").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a duplicate ticket number is a conflict"
    );
}

/// Dropping a unit without commit discards all its writes.
pub async fn rollback_discards_everything(store: &dyn Store) {
    let mut tx = write(store).await;
    let user = User {
        id: id(),
        email: format!("rollback-{}@example.com", Uuid::now_v7()),
        full_name: "R".into(),
        is_active: true,
        created_at: t0(),
    };
    tx.insert_user(&user).await.expect("insert user");
    let role = Role {
        id: id(),
        system: "tts".into(),
        name: format!("Rollback {}", Uuid::now_v7()),
    };
    tx.insert_role(&role).await.expect("insert role");
    tx.set_cursor(role.id, user.id).await.expect("cursor");
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.user(user.id).await.expect("user"),
        None,
        "rolled-back user must not exist"
    );
    assert_eq!(
        tx.role(role.id).await.expect("role"),
        None,
        "rolled-back role must not exist"
    );
    assert_eq!(tx.cursor(role.id).await.expect("cursor"), None);
}

/// Writes a store holds back (see [`UnitOfWork::flush`]) are seen by the unit's own reads; a failed one
/// fails the commit and nothing of the unit is kept.
pub async fn held_back_writes(store: &dyn Store) {
    let mut tx = write(store).await;
    let (tid, seq) = tx.next_ticket_keys(2029).await.expect("keys");
    let ticket = NewTicket::new("Held back", "C")
        .validated()
        .expect("valid")
        .into_ticket(tid, TicketNumber::new(2029, seq).expect("number"), id(), t0());
    tx.insert_ticket(&ticket).await.expect("insert");
    assert_eq!(
        tx.ticket(tid).await.expect("read own write").as_ref(),
        Some(&ticket),
        "a unit reads its own writes"
    );
    let mut moved = ticket.clone();
    moved.move_to(TicketStatus::InProgress, t0()).expect("move");
    tx.update_ticket(&moved).await.expect("update");
    let mut again = moved.clone();
    again.move_to(TicketStatus::OnHold, t0()).expect("move again");
    tx.update_ticket(&again).await.expect("second update of the same row");
    assert_eq!(
        tx.ticket_by_number(ticket.ticket_id).await.expect("by number").as_ref(),
        Some(&again),
        "two writes of one row apply in order"
    );
    tx.commit().await.expect("commit");

    let mut tx = write(store).await;
    let (tid, seq) = tx.next_ticket_keys(2029).await.expect("keys");
    let lost = NewTicket::new("Lost with the unit", "C")
        .validated()
        .expect("valid")
        .into_ticket(tid, TicketNumber::new(2029, seq).expect("number"), id(), t0());
    let written = tx.insert_ticket(&lost).await;
    assert!(written.is_ok(), "a fresh ticket inserts");
    let stale = tx.update_ticket(&moved).await;
    let err = match stale {
        Err(e) => {
            drop(tx);
            e
        }
        Ok(()) => tx.commit().await.expect_err("a stale write fails the commit"),
    };
    assert_eq!(err.kind(), ErrorKind::Conflict, "a stale version is a conflict");
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket(lost.id).await.expect("read"),
        None,
        "nothing of a unit whose write failed is kept"
    );
    assert_eq!(tx.ticket(again.id).await.expect("read").as_ref(), Some(&again));
}

/// Updates must carry the next version; stale ones are conflicts and missing rows not found.
pub async fn version_checks(store: &dyn Store) {
    let t = insert_ticket(store, NewTicket::new("Versioned", "C"), id(), t0()).await;
    let mut tx = write(store).await;
    let mut next = t.clone();
    next.move_to(TicketStatus::InProgress, t0()).expect("move");
    tx.update_ticket(&next).await.expect("update with next version");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let written = tx.update_ticket(&next).await;
    let err = write_error(tx.as_mut(), written, "same version again").await;
    assert_eq!(err.kind(), ErrorKind::Conflict, "a stale version is a conflict");
    drop(tx);
    let mut tx = write(store).await;
    let mut ghost = next.clone();
    ghost.id = TicketId(i64::MAX - 7);
    let written = tx.update_ticket(&ghost).await;
    assert_eq!(
        write_error(tx.as_mut(), written, "missing row").await.kind(),
        ErrorKind::NotFound
    );
    drop(tx);
    let mut tx = read(store).await;
    let stored = tx.ticket(t.id).await.expect("get").expect("exists");
    assert_eq!(stored.status, TicketStatus::InProgress);
    assert_eq!(stored.version, t.version + 1);
}

/// Ticket list filters, visibility, search, ordering and paging.
pub async fn ticket_list_filters(store: &dyn Store) {
    let (alice, bob) = (id::<UserId>(), id::<UserId>());
    let tag = Uuid::now_v7().simple().to_string();
    let mut mine = Vec::new();
    for i in 0..5u32 {
        let prio = if i % 2 == 0 { Priority::High } else { Priority::Low };
        let new = NewTicket::new(format!("Printer {tag} #{i}"), "Hardware")
            .priority(prio)
            .department("IT Department");
        mine.push(insert_ticket(store, new, alice, t0() + Duration::seconds(i64::from(i))).await);
    }
    insert_ticket(
        store,
        NewTicket::new(format!("Budget {tag}"), "Budget"),
        bob,
        t0() + Duration::seconds(10),
    )
    .await;
    let mut tx = read(store).await;
    let base = TicketQuery {
        search: Some(tag.clone()),
        page: PageRequest::new(1, 100).expect("page"),
        ..TicketQuery::default()
    };
    let all = tx.list_tickets(&base).await.expect("list");
    assert_eq!(all.total, 6);
    assert_eq!(all.items[0].subject, format!("Budget {tag}"), "newest first by default");
    let q = TicketQuery {
        visible_to: Some(alice),
        ..base.clone()
    };
    assert_eq!(
        tx.list_tickets(&q).await.expect("list").total,
        5,
        "requesters see their own tickets"
    );
    let q = TicketQuery {
        priority: Some(Priority::High),
        ..base.clone()
    };
    assert_eq!(tx.list_tickets(&q).await.expect("list").total, 3);
    let q = TicketQuery {
        category: Some("hardware".into()),
        department: Some("it department".into()),
        ..base.clone()
    };
    assert_eq!(
        tx.list_tickets(&q).await.expect("list").total,
        5,
        "category and department compare case-insensitively"
    );
    let q = TicketQuery {
        search: Some(format!("PRINTER {}", tag.to_uppercase())),
        ..base.clone()
    };
    assert_eq!(
        tx.list_tickets(&q).await.expect("list").total,
        5,
        "search is case-insensitive"
    );
    let q = TicketQuery {
        is_task_allocated: Some(true),
        ..base.clone()
    };
    assert_eq!(tx.list_tickets(&q).await.expect("list").total, 0);
    let q = TicketQuery {
        ordering: TicketOrdering::OldestFirst,
        page: PageRequest::new(2, 2).expect("page"),
        ..base.clone()
    };
    let page = tx.list_tickets(&q).await.expect("list");
    assert_eq!(page.total, 6);
    assert_eq!(
        page.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![mine[2].id, mine[3].id],
        "pages slice the order"
    );
    let q = TicketQuery {
        ordering: TicketOrdering::PriorityDesc,
        ..base.clone()
    };
    assert_eq!(
        tx.list_tickets(&q).await.expect("list").items[0].priority,
        Priority::High
    );
    let q = TicketQuery {
        status: Some(TicketStatus::Closed),
        ..base
    };
    assert_eq!(tx.list_tickets(&q).await.expect("list").total, 0);
}

/// A small valid workflow definition for store checks.
pub fn sample_definition(name: &str, role: RoleId) -> WorkflowDefinition {
    let (a, b) = (StepId(Uuid::now_v7()), StepId(Uuid::now_v7()));
    let step = |id, name: &str, start, end| Step {
        id,
        name: name.into(),
        role_id: role,
        description: String::new(),
        instruction: String::new(),
        weight: 1,
        escalate_to: None,
        is_start: start,
        is_end: end,
        position: Default::default(),
        strategy: Default::default(),
    };
    WorkflowDefinition {
        name: name.into(),
        description: "sample".into(),
        match_key: MatchKey {
            category: "Sample".into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            low: Some(4000),
            medium: Some(3000),
            high: Some(2000),
            critical: Some(1000),
        },
        steps: vec![step(a, "First", true, false), step(b, "Last", false, true)],
        transitions: vec![
            Transition {
                id: ActionId(Uuid::now_v7()),
                name: "Next".into(),
                from_step: a,
                to_step: Some(b),
            },
            Transition {
                id: ActionId(Uuid::now_v7()),
                name: "Done".into(),
                from_step: b,
                to_step: None,
            },
        ],
    }
}

/// Workflows: unique names, updates, status filter, frozen versions and the revision counter.
pub async fn workflows_and_versions(store: &dyn Store) {
    let name = format!("WF {}", Uuid::now_v7());
    let mut w = Workflow {
        id: id(),
        status: WorkflowStatus::Draft,
        version: 0,
        definition: sample_definition(&name, id()),
        created_at: t0(),
        updated_at: t0(),
    };
    let mut tx = write(store).await;
    let rev0 = tx.workflows_revision().await.expect("revision");
    tx.insert_workflow(&w).await.expect("insert workflow");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let mut clash = w.clone();
    clash.id = id();
    assert_eq!(
        tx.insert_workflow(&clash).await.expect_err("same name").kind(),
        ErrorKind::Conflict,
        "workflow names are unique"
    );
    drop(tx);
    let mut tx = write(store).await;
    w.version = 1;
    w.status = WorkflowStatus::Active;
    tx.insert_workflow_version(&w).await.expect("freeze version");
    tx.update_workflow(&w).await.expect("update");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    assert_eq!(
        tx.insert_workflow_version(&w).await.expect_err("same version").kind(),
        ErrorKind::Conflict
    );
    drop(tx);
    let mut tx = write(store).await;
    tx.update_workflow(&w).await.expect("update");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    assert!(
        tx.workflows_revision().await.expect("revision") > rev0,
        "writes move the revision"
    );
    assert_eq!(tx.workflow(w.id).await.expect("get").as_ref(), Some(&w));
    assert_eq!(
        tx.workflow_version(w.id, 1).await.expect("version").as_deref(),
        Some(&w)
    );
    assert_eq!(tx.workflow_version(w.id, 2).await.expect("version"), None);
    let active = tx.workflows(Some(WorkflowStatus::Active)).await.expect("active");
    assert!(active.iter().any(|x| x.id == w.id));
    assert!(
        !tx.workflows(Some(WorkflowStatus::Draft))
            .await
            .expect("drafts")
            .iter()
            .any(|x| x.id == w.id)
    );
    let mut edited = w.clone();
    edited.definition.steps[0].name = "Renamed".into();
    edited.status = WorkflowStatus::Paused;
    tx.update_workflow(&edited).await.expect("edit");
    tx.commit().await.expect("commit");
    let mut tx = read(store).await;
    assert_eq!(
        tx.workflow_version(w.id, 1)
            .await
            .expect("version")
            .expect("frozen")
            .definition
            .steps[0]
            .name,
        "First",
        "versions are frozen"
    );
}

/// Users, roles, memberships, candidates (active = membership and user active, ordered by id) and cursor.
pub async fn users_roles_and_candidates(store: &dyn Store) {
    let mut tx = write(store).await;
    let role = Role {
        id: id(),
        system: "tts".into(),
        name: format!("Agents {}", Uuid::now_v7()),
    };
    tx.insert_role(&role).await.expect("role");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let mut dup = role.clone();
    dup.id = id();
    dup.name = dup.name.to_uppercase();
    assert_eq!(
        tx.insert_role(&dup).await.expect_err("duplicate role").kind(),
        ErrorKind::Conflict,
        "role names are unique per system"
    );
    drop(tx);
    let mut tx = write(store).await;
    let mut users = Vec::new();
    for i in 0..4 {
        let u = User {
            id: id(),
            email: format!("Agent{i}-{}@Example.com", Uuid::now_v7()),
            full_name: format!("Agent {i}"),
            is_active: i != 3,
            created_at: t0(),
        };
        tx.insert_user(&u).await.expect("user");
        users.push(u);
    }
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let mut clash = users[0].clone();
    clash.id = id();
    clash.email = clash.email.to_uppercase();
    assert_eq!(
        tx.insert_user(&clash).await.expect_err("same e-mail").kind(),
        ErrorKind::Conflict,
        "e-mails are unique, case-insensitively"
    );
    drop(tx);
    let mut tx = write(store).await;
    for (i, u) in users.iter().enumerate().rev() {
        tx.upsert_membership(Membership {
            role: role.id,
            user: u.id,
            is_active: i != 1,
        })
        .await
        .expect("membership");
    }
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let missing = tx
        .upsert_membership(Membership {
            role: id(),
            user: users[0].id,
            is_active: true,
        })
        .await;
    assert_eq!(missing.expect_err("unknown role").kind(), ErrorKind::NotFound);
    drop(tx);

    let mut tx = write(store).await;
    assert_eq!(
        tx.user_by_email(&users[0].email.to_lowercase())
            .await
            .expect("by email")
            .map(|u| u.id),
        Some(users[0].id)
    );
    let c = tx.candidates(role.id, false).await.expect("candidates");
    assert_eq!(
        c.iter().map(|c| c.user).collect::<Vec<_>>(),
        users.iter().map(|u| u.id).collect::<Vec<_>>(),
        "candidates are ordered by user id"
    );
    assert_eq!(
        c.iter().map(|c| c.active).collect::<Vec<_>>(),
        [true, false, true, false],
        "inactive membership or user is inactive"
    );
    assert_eq!(tx.role_members(role.id).await.expect("members").len(), 4);
    assert_eq!(
        tx.user_roles(users[1].id).await.expect("roles"),
        vec![Membership {
            role: role.id,
            user: users[1].id,
            is_active: false
        }]
    );
    assert_eq!(tx.cursor(role.id).await.expect("cursor"), None);
    tx.set_cursor(role.id, users[2].id).await.expect("set cursor");
    assert_eq!(tx.cursor(role.id).await.expect("cursor"), Some(users[2].id));
    for with_load in [false, true] {
        let (both, cursor) = tx
            .candidates_and_cursor(role.id, with_load)
            .await
            .expect("candidates and cursor");
        assert_eq!(
            both,
            tx.candidates(role.id, with_load).await.expect("candidates"),
            "candidates_and_cursor reads the same candidates"
        );
        assert_eq!(cursor, Some(users[2].id), "and the same cursor");
    }
    tx.set_cursor(role.id, users[0].id).await.expect("move cursor");
    assert!(tx.remove_membership(role.id, users[3].id).await.expect("remove"));
    assert!(!tx.remove_membership(role.id, users[3].id).await.expect("remove again"));
    let mut renamed = users[2].clone();
    renamed.full_name = "Renamed".into();
    renamed.is_active = false;
    tx.update_user(&renamed).await.expect("update user");
    tx.commit().await.expect("commit");
    let mut tx = read(store).await;
    assert_eq!(tx.cursor(role.id).await.expect("cursor"), Some(users[0].id));
    assert_eq!(tx.role_members(role.id).await.expect("members").len(), 3);
    assert_eq!(
        tx.user(users[2].id).await.expect("user").expect("exists").full_name,
        "Renamed"
    );
    let page = tx
        .list_users(PageRequest::new(1, 100).expect("page"))
        .await
        .expect("users");
    assert!(page.total >= 4);
    assert!(tx.roles().await.expect("roles").iter().any(|r| r.id == role.id));
}

async fn seed_task(store: &dyn Store) -> (Ticket, Task, Role, Vec<User>) {
    let ticket = insert_ticket(store, NewTicket::new("Task host", "C"), id(), t0()).await;
    let mut tx = write(store).await;
    let role = Role {
        id: id(),
        system: "tts".into(),
        name: format!("Workers {}", Uuid::now_v7()),
    };
    tx.insert_role(&role).await.expect("role");
    let mut users = Vec::new();
    for i in 0..2 {
        let u = User {
            id: id(),
            email: format!("w{i}-{}@example.com", Uuid::now_v7()),
            full_name: "W".into(),
            is_active: true,
            created_at: t0(),
        };
        tx.insert_user(&u).await.expect("user");
        tx.upsert_membership(Membership {
            role: role.id,
            user: u.id,
            is_active: true,
        })
        .await
        .expect("member");
        users.push(u);
    }
    let task = Task {
        id: id(),
        ticket: ticket.id,
        workflow_id: id(),
        workflow_version: 1,
        current_step: id(),
        status: TaskStatus::Pending,
        target_resolution: Some(t0() + Duration::hours(8)),
        resolved_at: None,
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    };
    tx.insert_task(&task).await.expect("task");
    tx.commit().await.expect("commit");
    (ticket, task, role, users)
}

/// One task per ticket; assignments with append-only history; load counts; due assignments; visibility.
pub async fn tasks_and_assignments(store: &dyn Store) {
    let (ticket, mut task, role, users) = seed_task(store).await;
    let mut tx = write(store).await;
    let mut second = task.clone();
    second.id = id();
    let written = tx.insert_task(&second).await;
    assert_eq!(
        write_error(tx.as_mut(), written, "second task").await.kind(),
        ErrorKind::Conflict,
        "one task per ticket"
    );
    drop(tx);
    let mut tx = write(store).await;
    assert_eq!(
        tx.ticket_with_task(ticket.id).await.expect("ticket with task"),
        Some((ticket.clone(), Some(task.clone()))),
        "a ticket reads with its task"
    );
    assert_eq!(tx.ticket_with_task(TicketId(-9)).await.expect("missing"), None);
    drop(tx);
    let mut tx = read(store).await;
    let revision = tx.workflows_revision().await.expect("revision");
    drop(tx);
    let mut tx = write(store).await;
    tx.ticket_with_task(ticket.id).await.expect("ticket with task");
    assert_eq!(
        tx.workflows_revision().await.expect("revision after a ticket read"),
        revision,
        "the workflow revision after reading a ticket is the store's"
    );
    let w = Workflow {
        id: id(),
        status: WorkflowStatus::Draft,
        version: 0,
        definition: sample_definition(&format!("WF {}", Uuid::now_v7()), id()),
        created_at: t0(),
        updated_at: t0(),
    };
    tx.insert_workflow(&w).await.expect("insert workflow");
    assert!(
        tx.workflows_revision().await.expect("revision after a workflow write") > revision,
        "a unit's own workflow writes move the revision it reads"
    );
    drop(tx);
    let lone = insert_ticket(store, NewTicket::new("No task yet", "C"), id(), t0()).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket_with_task(lone.id).await.expect("ticket without task"),
        Some((lone, None))
    );
    drop(tx);
    let mut tx = write(store).await;
    let mut a = Assignment::new(
        id(),
        task.id,
        users[0].id,
        role.id,
        task.current_step,
        Origin::System,
        t0(),
        Some(t0() + Duration::hours(2)),
    );
    a.warn_at = Some(t0() + Duration::minutes(90));
    tx.insert_assignment(&a).await.expect("assignment");
    let b = Assignment::new(
        id(),
        task.id,
        users[1].id,
        role.id,
        task.current_step,
        Origin::Escalated,
        t0() + Duration::seconds(1),
        None,
    );
    tx.insert_assignment(&b).await.expect("assignment");
    task.move_to(TaskStatus::InProgress, t0()).expect("move");
    tx.update_task(&task).await.expect("update task");
    tx.commit().await.expect("commit");

    let mut tx = write(store).await;
    assert_eq!(tx.task(task.id).await.expect("task").as_ref(), Some(&task));
    assert_eq!(
        tx.task_for_ticket(ticket.id).await.expect("by ticket").map(|t| t.id),
        Some(task.id)
    );
    assert_eq!(
        tx.task_assignments(task.id).await.expect("list"),
        vec![a.clone(), b.clone()],
        "assignments oldest first, intact"
    );
    let load = tx.candidates(role.id, true).await.expect("candidates");
    assert!(
        load.iter().all(|c| c.open_assignments == 1),
        "each worker holds one open assignment: {load:?}"
    );
    let due = tx
        .assignments_due(t0() + Duration::minutes(100), 10)
        .await
        .expect("due");
    assert_eq!(
        due.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![a.id],
        "warning due, no target on b"
    );
    assert!(
        tx.assignments_due(t0() + Duration::minutes(10), 10)
            .await
            .expect("due")
            .is_empty()
    );
    let mut acted = a.clone();
    acted
        .move_to(
            AssignmentStatus::Resolved,
            Some(users[0].id),
            t0() + Duration::minutes(5),
        )
        .expect("resolve");
    tx.update_assignment(&acted).await.expect("update");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let mut shrunk = acted.clone();
    shrunk.history.truncate(1);
    shrunk.version += 1;
    let written = tx.update_assignment(&shrunk).await;
    write_error(tx.as_mut(), written, "history is append-only").await;
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(tx.assignment(a.id).await.expect("get").as_ref(), Some(&acted));
    let q = AssignmentQuery {
        user: Some(users[0].id),
        open_only: true,
        page: PageRequest::default(),
    };
    assert_eq!(tx.list_assignments(&q).await.expect("open").total, 0);
    let q = AssignmentQuery {
        user: Some(users[0].id),
        open_only: false,
        page: PageRequest::default(),
    };
    assert_eq!(tx.list_assignments(&q).await.expect("all").total, 1);
    let q = AssignmentQuery {
        user: None,
        open_only: true,
        page: PageRequest::default(),
    };
    assert!(
        tx.list_assignments(&q)
            .await
            .expect("everyone")
            .items
            .iter()
            .any(|x| x.id == b.id)
    );
    assert!(
        tx.assignments_due(t0() + Duration::days(1), 10)
            .await
            .expect("due")
            .iter()
            .all(|x| x.id != a.id),
        "closed assignments are never due"
    );
    let visible = TicketQuery {
        visible_to: Some(users[1].id),
        page: PageRequest::default(),
        ..TicketQuery::default()
    };
    assert_eq!(
        tx.list_tickets(&visible)
            .await
            .expect("visible")
            .items
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        vec![ticket.id],
        "agents see tickets whose task they hold"
    );
}

/// Audit entries come back per ticket and per task, oldest first.
pub async fn audit_trail(store: &dyn Store) {
    let (ticket, task, _, _) = seed_task(store).await;
    let mut tx = write(store).await;
    let entry = |action: &str, at: i64, with_task: bool| AuditEntry {
        id: id(),
        at: t0() + Duration::seconds(at),
        actor: Some(id()),
        action: action.into(),
        ticket: Some(ticket.id),
        task: with_task.then_some(task.id),
        before: serde_json::Value::Null,
        after: serde_json::json!({"n": at}),
    };
    let entries = [
        entry("ticket.created", 0, false),
        entry("task.allocated", 1, true),
        entry("task.action", 2, true),
    ];
    for e in &entries {
        tx.insert_audit(e.clone()).await.expect("audit");
    }
    tx.commit().await.expect("commit");
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket_audit(ticket.id).await.expect("ticket audit"),
        entries.to_vec()
    );
    assert_eq!(tx.task_audit(task.id).await.expect("task audit"), entries[1..].to_vec());
}

/// The outbox returns unsent messages oldest first until marked; dedup records are per consumer.
pub async fn outbox_and_dedup(store: &dyn Store) {
    let mut tx = write(store).await;
    let already = tx.unsent_outbox(1000).await.expect("unsent").len();
    let msgs: Vec<OutboxMessage> = (0..3)
        .map(|i| OutboxMessage {
            id: id(),
            event: DomainEvent::TicketCreated {
                ticket: TicketId(i),
                ticket_id: TicketNumber::new(2025, 1 + i as u32).expect("n"),
                priority: Priority::Low,
            },
            created_at: t0() + Duration::seconds(i),
        })
        .collect();
    tx.insert_outbox(msgs[..1].to_vec()).await.expect("one message");
    tx.insert_outbox(msgs[1..].to_vec()).await.expect("a batch");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let unsent = tx.unsent_outbox(1000).await.expect("unsent");
    assert_eq!(unsent.len(), already + 3);
    assert_eq!(&unsent[already..], &msgs[..], "oldest first, intact");
    tx.mark_outbox_sent(&[msgs[0].id, msgs[1].id], t0())
        .await
        .expect("mark");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let unsent = tx.unsent_outbox(1000).await.expect("unsent");
    assert_eq!(unsent.last(), Some(&msgs[2]));
    assert!(
        !unsent.iter().any(|m| m.id == msgs[0].id),
        "sent messages are not returned"
    );
    let mid = MessageId(Uuid::now_v7());
    assert!(tx.record_processed("allocation", mid, t0()).await.expect("first"));
    assert!(
        !tx.record_processed("allocation", mid, t0()).await.expect("second"),
        "a message is processed once per consumer"
    );
    assert!(
        tx.record_processed("notifications", mid, t0())
            .await
            .expect("other consumer")
    );
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    assert!(
        !tx.record_processed("allocation", mid, t0())
            .await
            .expect("after commit")
    );
}

/// Notifications: per-user lists, read filter, newest first, mark all read.
pub async fn notifications(store: &dyn Store) {
    let (me, other) = (id::<UserId>(), id::<UserId>());
    let mut tx = write(store).await;
    let make = |user, i: i64| Notification {
        id: id(),
        user_id: user,
        kind: NotificationType::TaskAssignment,
        subject: format!("n{i}"),
        message: "m".into(),
        related_ticket: TicketNumber::new(2025, 1).ok(),
        related_task: None,
        is_read: false,
        read_at: None,
        created_at: t0() + Duration::seconds(i),
    };
    let mine: Vec<Notification> = (0..3).map(|i| make(me, i)).collect();
    for n in &mine {
        tx.insert_notification(n).await.expect("insert");
    }
    tx.insert_notification(&make(other, 9)).await.expect("insert other");
    let mut read_one = mine[0].clone();
    read_one.is_read = true;
    read_one.read_at = Some(t0());
    tx.update_notification(&read_one).await.expect("update");
    tx.commit().await.expect("commit");
    let mut tx = write(store).await;
    let q = NotificationQuery {
        user: Some(me),
        is_read: Some(false),
        page: PageRequest::default(),
    };
    let page = tx.list_notifications(&q).await.expect("list");
    assert_eq!(
        page.items.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(),
        ["n2", "n1"],
        "unread, newest first"
    );
    assert_eq!(
        tx.notification(mine[0].id).await.expect("get").map(|n| n.is_read),
        Some(true)
    );
    assert_eq!(tx.mark_all_notifications_read(me, t0()).await.expect("mark all"), 2);
    assert_eq!(tx.mark_all_notifications_read(me, t0()).await.expect("again"), 0);
    tx.commit().await.expect("commit");
    let mut tx = read(store).await;
    let q = NotificationQuery {
        user: Some(other),
        is_read: Some(false),
        page: PageRequest::default(),
    };
    assert_eq!(
        tx.list_notifications(&q).await.expect("other").total,
        1,
        "others' notifications are untouched"
    );
    let missing = tx.notification(id()).await.expect("missing");
    assert!(missing.is_none());
    let err: Error = Error::not_found("notification", "x");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// Idempotency records: per user and key, written once, transactional, read back whole.
pub async fn idempotency_records(store: &dyn Store) {
    let (alice, bob) = (id::<UserId>(), id::<UserId>());
    let ticket = insert_ticket(store, NewTicket::new("Idempotent", "C"), alice, t0()).await;
    let key = format!("Key-{}-%_'\"\\", Uuid::now_v7());
    let record = IdempotencyRecord {
        user: alice,
        key: key.clone(),
        fingerprint: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        ticket: ticket.id,
        created_at: t0(),
    };
    let mut tx = write(store).await;
    assert_eq!(tx.idempotency_record(alice, &key).await.expect("lookup"), None);
    tx.insert_idempotency_record(&record).await.expect("insert record");
    assert_eq!(
        tx.idempotency_record(alice, &key).await.expect("lookup").as_ref(),
        Some(&record),
        "a unit reads its own record"
    );
    tx.commit().await.expect("commit");

    let mut tx = read(store).await;
    assert_eq!(
        tx.idempotency_record(alice, &key).await.expect("lookup").as_ref(),
        Some(&record),
        "a committed record reads back whole"
    );
    assert_eq!(
        tx.idempotency_record(alice, "never-used").await.expect("lookup"),
        None,
        "an unknown key has no record"
    );
    assert_eq!(
        tx.idempotency_record(bob, &key).await.expect("lookup"),
        None,
        "keys are scoped per user"
    );
    assert_eq!(
        tx.idempotency_record(alice, &key.to_lowercase()).await.expect("lookup"),
        None,
        "keys are case-sensitive"
    );
    drop(tx);

    let mut tx = write(store).await;
    let again = IdempotencyRecord {
        fingerprint: "another body".into(),
        created_at: t0() + Duration::seconds(5),
        ..record.clone()
    };
    let written = tx.insert_idempotency_record(&again).await;
    assert_eq!(
        write_error(tx.as_mut(), written, "same key").await.kind(),
        ErrorKind::Conflict,
        "a user's key is recorded once"
    );
    drop(tx);

    let other_ticket = insert_ticket(store, NewTicket::new("Idempotent too", "C"), bob, t0()).await;
    let bobs = IdempotencyRecord {
        user: bob,
        ticket: other_ticket.id,
        fingerprint: "bob's body".into(),
        ..record.clone()
    };
    let mut tx = write(store).await;
    tx.insert_idempotency_record(&bobs)
        .await
        .expect("the same key of another user is fine");
    tx.commit().await.expect("commit");

    let dropped = IdempotencyRecord {
        key: format!("dropped-{}", Uuid::now_v7()),
        ..record.clone()
    };
    let mut tx = write(store).await;
    tx.insert_idempotency_record(&dropped).await.expect("insert");
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        tx.idempotency_record(alice, &key).await.expect("lookup").as_ref(),
        Some(&record),
        "a refused insert changes nothing"
    );
    assert_eq!(
        tx.idempotency_record(bob, &key).await.expect("lookup").as_ref(),
        Some(&bobs)
    );
    assert_eq!(
        tx.idempotency_record(alice, &dropped.key).await.expect("lookup"),
        None,
        "a dropped unit leaves no record"
    );
}

/// Retention: `prune` deletes dedup and idempotency records written before the cutoff, at most `limit`
/// per call, nothing newer, and nothing at all when its unit is rolled back.
pub async fn bookkeeping_retention(store: &dyn Store) {
    let (old, new) = (t0() - Duration::days(10), t0() - Duration::days(1));
    let cutoff = t0() - Duration::days(5);
    let (m_old, m_old2, m_new) = (
        MessageId(Uuid::now_v7()),
        MessageId(Uuid::now_v7()),
        MessageId(Uuid::now_v7()),
    );
    let user = id::<UserId>();
    let ticket = insert_ticket(store, NewTicket::new("Retention", "C"), user, t0()).await;
    let record = |key: &str, at| IdempotencyRecord {
        user,
        key: key.into(),
        fingerprint: "body".into(),
        ticket: ticket.id,
        created_at: at,
    };
    let mut tx = write(store).await;
    assert!(tx.record_processed("allocation", m_old, old).await.expect("old"));
    assert!(
        tx.record_processed("notifications", m_old2, old)
            .await
            .expect("old, other consumer")
    );
    assert!(tx.record_processed("allocation", m_new, new).await.expect("new"));
    tx.insert_idempotency_record(&record("old-key", old))
        .await
        .expect("old key");
    tx.insert_idempotency_record(&record("new-key", new))
        .await
        .expect("new key");
    tx.commit().await.expect("commit");

    let mut tx = write(store).await;
    assert_eq!(tx.prune(Bookkeeping::Processed, cutoff, 100).await.expect("prune"), 2);
    drop(tx);
    let mut tx = write(store).await;
    assert!(
        !tx.record_processed("allocation", m_old, t0())
            .await
            .expect("after a rolled-back prune"),
        "a rolled-back prune deletes nothing"
    );
    drop(tx);

    let mut tx = write(store).await;
    assert_eq!(
        tx.prune(Bookkeeping::Processed, cutoff, 1).await.expect("prune one"),
        1,
        "at most `limit` per call"
    );
    assert_eq!(
        tx.prune(Bookkeeping::Processed, cutoff, 100)
            .await
            .expect("prune the rest"),
        1
    );
    assert_eq!(
        tx.prune(Bookkeeping::Processed, cutoff, 100)
            .await
            .expect("prune again"),
        0
    );
    assert_eq!(
        tx.prune(Bookkeeping::IdempotencyKeys, cutoff, 100)
            .await
            .expect("prune keys"),
        1
    );
    tx.commit().await.expect("commit");

    let mut tx = write(store).await;
    assert!(
        tx.record_processed("allocation", m_old, t0()).await.expect("pruned"),
        "a pruned record is gone"
    );
    assert!(
        !tx.record_processed("allocation", m_new, t0()).await.expect("kept"),
        "a record newer than the cutoff is kept"
    );
    assert_eq!(tx.idempotency_record(user, "old-key").await.expect("old key"), None);
    assert_eq!(
        tx.idempotency_record(user, "new-key").await.expect("new key"),
        Some(record("new-key", new))
    );
    drop(tx);
}
