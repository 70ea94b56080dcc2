//! The [`Tasks`](crate::ports::store::Tasks) contract: one task per ticket, version checks, assignments
//! oldest first with an append-only history, and due SLA work.

use super::support::{Seeded, at, commit, id, read, seed_task, t0, task_of, write, write_error};
use crate::domain::task::{Assignment, AssignmentStatus, Origin, TaskStatus};
use crate::error::ErrorKind;
use crate::ports::store::Store;
use chrono::{DateTime, Utc};

fn assignment(seeded: &Seeded, user: usize, secs: i64, target: Option<DateTime<Utc>>) -> Assignment {
    Assignment::new(
        id(),
        seeded.task.id,
        seeded.users[user].id,
        seeded.role.id,
        seeded.task.current_step,
        Origin::System,
        at(secs),
        target,
    )
}

/// A task reads back equal by id and by ticket; unknown ones read as none.
pub async fn tasks_read_back_by_id_and_by_ticket(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.task(seeded.task.id).await.expect("read").as_ref(),
        Some(&seeded.task),
        "a task reads back equal"
    );
    assert_eq!(
        tx.task_for_ticket(seeded.ticket.id)
            .await
            .expect("read by ticket")
            .as_ref(),
        Some(&seeded.task),
        "a task reads back by its ticket"
    );
    assert_eq!(
        tx.task(id()).await.expect("read a missing one"),
        None,
        "an unknown task reads as none"
    );
    assert_eq!(
        tx.task_assignments(seeded.task.id).await.expect("assignments"),
        Vec::new(),
        "a new task has none"
    );
}

/// A ticket has at most one task: a second one is a conflict, and the first stays.
pub async fn a_ticket_has_at_most_one_task(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let second = task_of(&seeded.ticket);
    let mut tx = write(store).await;
    let written = tx.insert_task(&second).await;
    let err = write_error(tx.as_mut(), written, "a second task for one ticket").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a second task for one ticket is a conflict: {err}"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.task_for_ticket(seeded.ticket.id)
            .await
            .expect("read by ticket")
            .map(|t| t.id),
        Some(seeded.task.id),
        "the ticket keeps its first task"
    );
    assert_eq!(
        tx.task(second.id).await.expect("read"),
        None,
        "the refused task is not kept"
    );
}

/// `update_task` needs the stored version plus one; a stale version is a conflict, a missing task
/// "not found".
pub async fn update_task_requires_the_next_version(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let mut next = seeded.task.clone();
    next.move_to(TaskStatus::InProgress, at(5)).expect("move");
    let mut tx = write(store).await;
    tx.update_task(&next).await.expect("an update with the next version");
    commit(tx, "a task update").await;
    let mut tx = write(store).await;
    let written = tx.update_task(&seeded.task).await;
    let err = write_error(tx.as_mut(), written, "a stale task version").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a stale task version is a conflict: {err}"
    );
    drop(tx);
    let mut ghost = task_of(&seeded.ticket);
    ghost.version = 2;
    let mut tx = write(store).await;
    let written = tx.update_task(&ghost).await;
    let err = write_error(tx.as_mut(), written, "updating a missing task").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "updating a missing task is not found: {err}"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.task(next.id).await.expect("read").as_ref(),
        Some(&next),
        "refused updates change nothing"
    );
}

/// A task's assignments read back intact, oldest first, across units; other tasks' are not listed.
pub async fn task_assignments_read_back_oldest_first(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let other = seed_task(store).await;
    let mut first = assignment(&seeded, 0, 0, Some(at(7200)));
    first.warn_at = Some(at(5400));
    first.notes = "first".into();
    let second = assignment(&seeded, 1, 1, None);
    let third = assignment(&seeded, 0, 2, Some(at(3600)));
    let mut tx = write(store).await;
    tx.insert_assignment(&first).await.expect("insert an assignment");
    tx.insert_assignment(&second).await.expect("insert an assignment");
    tx.insert_assignment(&assignment(&other, 0, 0, None))
        .await
        .expect("insert another task's");
    commit(tx, "assignments").await;
    let mut tx = write(store).await;
    tx.insert_assignment(&third).await.expect("insert an assignment");
    commit(tx, "a later assignment").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.task_assignments(seeded.task.id).await.expect("assignments"),
        vec![first, second, third],
        "a task's assignments read back intact, oldest first"
    );
}

/// `update_assignment` needs the stored version plus one and a history that does not shrink; a missing
/// assignment is "not found".
pub async fn update_assignment_checks_the_version_and_an_append_only_history(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let a = assignment(&seeded, 0, 0, Some(at(7200)));
    let mut tx = write(store).await;
    tx.insert_assignment(&a).await.expect("insert an assignment");
    commit(tx, "an assignment").await;
    let mut acted = a.clone();
    acted
        .move_to(AssignmentStatus::InProgress, Some(seeded.users[0].id), at(60))
        .expect("start");
    acted
        .move_to(AssignmentStatus::Resolved, Some(seeded.users[0].id), at(120))
        .expect("resolve");
    acted.version = a.version + 1;
    acted.notes = "done".into();
    let mut tx = write(store).await;
    tx.update_assignment(&acted)
        .await
        .expect("an update with the next version");
    commit(tx, "an assignment update").await;

    let mut tx = write(store).await;
    let written = tx.update_assignment(&acted).await;
    let err = write_error(tx.as_mut(), written, "a stale assignment version").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a stale assignment version is a conflict: {err}"
    );
    drop(tx);

    let mut shrunk = acted.clone();
    shrunk.history.truncate(1);
    shrunk.version += 1;
    let mut tx = write(store).await;
    let written = tx.update_assignment(&shrunk).await;
    let err = write_error(tx.as_mut(), written, "an assignment history that shrinks").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "an assignment history only grows: a shorter one is a conflict: {err}"
    );
    drop(tx);

    let mut ghost = assignment(&seeded, 1, 0, None);
    ghost.version = 2;
    let mut tx = write(store).await;
    let written = tx.update_assignment(&ghost).await;
    let err = write_error(tx.as_mut(), written, "updating a missing assignment").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "updating a missing assignment is not found: {err}"
    );
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        tx.task_assignments(seeded.task.id).await.expect("assignments"),
        vec![acted],
        "refused updates change nothing"
    );
}

/// `assignments_due(now, limit)` lists open assignments whose warning is due and not sent, or whose
/// target passed and that are not breached yet, oldest target first, at most `limit`; nothing else.
pub async fn assignments_due_lists_due_warnings_and_breaches_oldest_target_first(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let now = at(10_000);
    let with = |secs, target: Option<i64>, warn: Option<i64>| {
        let mut a = assignment(&seeded, 0, secs, target.map(at));
        a.warn_at = warn.map(at);
        a
    };
    // Due: a warning due and not sent (target in the future).
    let warn_due = with(0, Some(20_000), Some(9_000));
    // Due: the target passed (warned already).
    let mut breach_due = with(1, Some(9_500), Some(5_000));
    breach_due.sla_warned = true;
    // Due: the target passed long ago, never warned; oldest target.
    let oldest = with(2, Some(8_000), Some(4_000));
    // Not due: warned, target in the future.
    let mut warned = with(3, Some(20_000), Some(9_000));
    warned.sla_warned = true;
    // Not due: breached and warned already.
    let mut breached = with(4, Some(9_000), Some(5_000));
    breached.sla_warned = true;
    breached
        .move_to(AssignmentStatus::Breached, None, at(9_000))
        .expect("breach");
    // Not due: closed.
    let mut closed = with(5, Some(1_000), Some(500));
    closed
        .move_to(AssignmentStatus::Resolved, None, at(600))
        .expect("resolve");
    // Not due: nothing set.
    let plain = with(6, None, None);
    // Not due: warning in the future.
    let later = with(7, Some(30_000), Some(20_000));
    let mut tx = write(store).await;
    for a in [
        &warn_due,
        &breach_due,
        &oldest,
        &warned,
        &breached,
        &closed,
        &plain,
        &later,
    ] {
        tx.insert_assignment(a).await.expect("insert an assignment");
    }
    commit(tx, "assignments").await;
    let mut tx = write(store).await;
    let due = tx.assignments_due(now, 10).await.expect("due assignments");
    assert_eq!(
        due.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![oldest.id, breach_due.id, warn_due.id],
        "due warnings and breaches of open assignments, oldest target first, and nothing else"
    );
    assert_eq!(due[0], oldest, "due assignments read back intact");
    assert_eq!(
        tx.assignments_due(now, 2)
            .await
            .expect("due assignments")
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![oldest.id, breach_due.id],
        "at most `limit`, the oldest targets first"
    );
    assert_eq!(
        tx.assignments_due(t0(), 10).await.expect("nothing due yet"),
        Vec::new(),
        "nothing is due before its time"
    );
}
