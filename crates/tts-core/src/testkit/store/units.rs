//! The [`Store`] contract itself: units of work. Commit makes every write visible, drop discards every
//! write (ticket numbers included), a unit reads its own held-back writes, a failing held-back write fails
//! the commit with nothing kept, and a write error surfaces at the write or at the next flush. That other
//! units see a commit all at once is in [`locking`](super::locking).

use super::support::{
    at, commit, credential, id, new_ticket_in, notification, read, role, session, t0, task_of, user, write,
};
use crate::domain::audit::AuditEntry;
use crate::domain::login::{Throttle, ThrottleKey};
use crate::domain::task::{Assignment, Origin};
use crate::domain::ticket::{NewTicket, TicketStatus};
use crate::domain::user::Membership;
use crate::error::ErrorKind;
use crate::ids::{MessageId, UserId};
use crate::ports::store::{IdempotencyRecord, Store, UnitOfWork, UnitOptions};

/// Everything [`write_one_of_each`] wrote.
pub(crate) struct OneOfEach {
    pub(crate) user: crate::domain::user::User,
    role: crate::domain::user::Role,
    ticket: crate::domain::ticket::Ticket,
    task: crate::domain::task::Task,
    notification: crate::domain::notification::Notification,
    session: crate::domain::session::RefreshSession,
    throttle: ThrottleKey,
    message: MessageId,
}

/// Writes one row of every aggregate in `tx`.
pub(crate) async fn write_one_of_each(tx: &mut dyn UnitOfWork) -> OneOfEach {
    let u = user("Everything");
    let r = role("Everything");
    tx.insert_user(&u).await.expect("insert a user");
    tx.insert_role(&r).await.expect("insert a role");
    tx.set_membership(Membership {
        role: r.id,
        user: u.id,
        is_active: true,
    })
    .await
    .expect("set a membership");
    tx.lock_pick_state(r.id, false).await.expect("lock the pick state");
    tx.set_cursor(r.id, u.id).await.expect("set the cursor");
    let ticket = new_ticket_in(tx, 2025, NewTicket::new("Everything", "C"), u.id, t0()).await;
    let task = task_of(&ticket);
    tx.insert_task(&task).await.expect("insert a task");
    let assignment = Assignment::new(id(), task.id, u.id, r.id, task.current_step, Origin::System, t0(), None);
    tx.insert_assignment(&assignment).await.expect("insert an assignment");
    tx.insert_audit(AuditEntry {
        id: id(),
        at: t0(),
        actor: Some(u.id),
        action: "ticket.created".into(),
        ticket: Some(ticket.id),
        task: None,
        before: serde_json::Value::Null,
        after: serde_json::Value::Null,
    })
    .await
    .expect("append an audit entry");
    let msg = super::outbox::message(1);
    let message = msg.id;
    tx.insert_outbox(vec![msg]).await.expect("write an outbox message");
    tx.record_processed("allocation", message, t0())
        .await
        .expect("record a message");
    let n = notification(u.id, "Everything", 0);
    tx.insert_notification(&n).await.expect("insert a notification");
    tx.insert_idempotency_record(&IdempotencyRecord {
        user: u.id,
        key: "everything".into(),
        fingerprint: "f".into(),
        ticket: ticket.id,
        created_at: t0(),
    })
    .await
    .expect("record an idempotency key");
    tx.set_credential(&credential(u.id, &u.email, "$hash$"))
        .await
        .expect("set a credential");
    let throttle = ThrottleKey::new(&u.email, "10.0.0.1");
    tx.set_throttle(
        &throttle,
        Some(&Throttle {
            failures: 1,
            retry_at: None,
            updated_at: t0(),
        }),
    )
    .await
    .expect("write a throttle counter");
    let s = session(u.id, at(3600));
    tx.start_session(&s).await.expect("start a session");
    OneOfEach {
        user: u,
        role: r,
        ticket,
        task,
        notification: n,
        session: s,
        throttle,
        message,
    }
}

/// Which rows of [`OneOfEach`] the unit `tx` sees (all but the dedup record, which reads by writing).
pub(crate) async fn visible_rows(tx: &mut dyn UnitOfWork, w: &OneOfEach) -> Vec<(&'static str, bool)> {
    vec![
        ("user", tx.user(w.user.id).await.expect("read").is_some()),
        ("role", tx.role(w.role.id).await.expect("read").is_some()),
        (
            "membership",
            !tx.role_members(w.role.id).await.expect("read").is_empty(),
        ),
        (
            "candidate",
            tx.candidates(w.role.id, false).await.expect("read").len() == 1,
        ),
        ("ticket", tx.ticket(w.ticket.id).await.expect("read").is_some()),
        ("task", tx.task(w.task.id).await.expect("read").is_some()),
        (
            "assignment",
            !tx.task_assignments(w.task.id).await.expect("read").is_empty(),
        ),
        (
            "audit entry",
            !tx.ticket_audit(w.ticket.id).await.expect("read").is_empty(),
        ),
        (
            "outbox message",
            tx.unsent_outbox(100)
                .await
                .expect("read")
                .iter()
                .any(|m| m.id == w.message),
        ),
        (
            "notification",
            tx.notification(w.notification.id).await.expect("read").is_some(),
        ),
        (
            "idempotency record",
            tx.idempotency_record(w.user.id, "everything")
                .await
                .expect("read")
                .is_some(),
        ),
        (
            "credential",
            tx.credential(&w.user.email).await.expect("read").is_some(),
        ),
        (
            "throttle counter",
            tx.throttle(&w.throttle).await.expect("read").is_some(),
        ),
        ("session", tx.session(w.session.id).await.expect("read").is_some()),
    ]
}

/// How many of the rows of [`OneOfEach`] units see after the fact, with what is missing.
async fn count_visible(store: &dyn Store, w: &OneOfEach) -> (usize, Vec<&'static str>) {
    let mut tx = read(store).await;
    let mut rows = visible_rows(tx.as_mut(), w).await;
    drop(tx);
    // The dedup record reads by writing: check it in a unit that is dropped.
    let mut tx = write(store).await;
    let dedup_seen = !tx
        .record_processed("allocation", w.message, t0())
        .await
        .expect("record");
    drop(tx);
    let mut tx = write(store).await;
    rows.push((
        "cursor position",
        tx.lock_pick_state(w.role.id, false).await.expect("read").last.is_some(),
    ));
    rows.push(("dedup record", dedup_seen));
    let seen = rows.iter().filter(|(_, seen)| *seen).count();
    (
        seen,
        rows.into_iter()
            .filter(|(_, seen)| !seen)
            .map(|(what, _)| what)
            .collect(),
    )
}

/// A committed unit's writes of every aggregate are all visible to units that begin after the commit,
/// and to the queries.
pub async fn commit_makes_every_write_visible(store: &dyn Store) {
    let mut tx = write(store).await;
    let w = write_one_of_each(tx.as_mut()).await;
    commit(tx, "one row of every aggregate").await;
    let (_, missing) = count_visible(store, &w).await;
    assert!(
        missing.is_empty(),
        "after commit every write is visible; missing: {missing:?}"
    );
    let listed = store.list_tickets(&Default::default()).await.expect("list tickets");
    assert_eq!(listed.items, vec![w.ticket], "after commit the queries see the writes");
}

/// Dropping a unit without commit discards every write of every aggregate.
pub async fn drop_discards_every_write(store: &dyn Store) {
    let mut tx = write(store).await;
    let w = write_one_of_each(tx.as_mut()).await;
    drop(tx);
    let (n, _) = count_visible(store, &w).await;
    assert_eq!(n, 0, "nothing of a unit dropped without commit is kept");
    assert_eq!(
        store.list_tickets(&Default::default()).await.expect("list").total,
        0,
        "queries see nothing either"
    );
}

/// Dropping a unit gives back the ticket numbers it took: the next unit takes the same number, so
/// committed numbers have no gaps.
pub async fn drop_gives_back_taken_ticket_numbers(store: &dyn Store) {
    let mut tx = write(store).await;
    let (_, first) = tx.take_ticket_keys(2029).await.expect("take keys");
    commit(tx, "a ticket number").await;
    let mut tx = write(store).await;
    let taken = [
        tx.take_ticket_keys(2029).await.expect("take keys").1,
        tx.take_ticket_keys(2029).await.expect("take keys").1,
    ];
    assert_eq!(taken, [first + 1, first + 2], "numbers count up within a unit");
    drop(tx);
    let mut tx = write(store).await;
    assert_eq!(
        tx.take_ticket_keys(2029).await.expect("take keys").1,
        first + 1,
        "a unit dropped without commit gives its ticket numbers back"
    );
}

/// A unit reads its own writes, also those a store holds back: a ticket it inserted, by id and number,
/// and two updates of one row applied in order.
pub async fn a_unit_reads_its_own_held_back_writes(store: &dyn Store) {
    let mut tx = write(store).await;
    let ticket = new_ticket_in(tx.as_mut(), 2029, NewTicket::new("Held back", "C"), id(), t0()).await;
    assert_eq!(
        tx.ticket(ticket.id).await.expect("read").as_ref(),
        Some(&ticket),
        "a unit reads its own insert"
    );
    let mut moved = ticket.clone();
    moved.move_to(TicketStatus::InProgress, at(1)).expect("move");
    moved.touch(at(1));
    tx.update_ticket(&moved).await.expect("update");
    let mut again = moved.clone();
    again.move_to(TicketStatus::OnHold, at(2)).expect("move");
    again.touch(at(2));
    tx.update_ticket(&again).await.expect("a second update of the same row");
    assert_eq!(
        tx.ticket_by_number(ticket.ticket_id).await.expect("read").as_ref(),
        Some(&again),
        "two updates of one row in one unit apply in order"
    );
    assert_eq!(
        tx.ticket_with_task(ticket.id).await.expect("read"),
        Some((again.clone(), None)),
        "every read sees the unit's writes"
    );
    commit(tx, "held-back writes").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket(ticket.id).await.expect("read"),
        Some(again),
        "the last write is what commits"
    );
}

/// A held-back write that fails makes the commit fail, and nothing of the unit is kept, not even its
/// good writes before and after.
pub async fn a_failing_held_back_write_fails_the_commit_and_keeps_nothing(store: &dyn Store) {
    let mut tx = write(store).await;
    let stored = new_ticket_in(tx.as_mut(), 2029, NewTicket::new("Stored", "C"), id(), t0()).await;
    commit(tx, "a ticket").await;

    let (good, result) = {
        let mut tx = write(store).await;
        let good = new_ticket_in(tx.as_mut(), 2029, NewTicket::new("Lost with the unit", "C"), id(), t0()).await;
        let mut stale = stored.clone();
        stale.version += 5;
        let result = match tx.update_ticket(&stale).await {
            Err(e) => Err(e),
            Ok(()) => match tx.insert_user(&user("After the failure")).await {
                Err(e) => Err(e),
                Ok(()) => tx.commit().await,
            },
        };
        (good, result)
    };
    let err = result.expect_err("a stale write fails the write, or the unit's commit");
    assert_eq!(err.kind(), ErrorKind::Conflict, "a stale version is a conflict: {err}");
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket(good.id).await.expect("read"),
        None,
        "nothing of a unit whose write failed is kept"
    );
    assert_eq!(
        tx.ticket(stored.id).await.expect("read"),
        Some(stored),
        "the stale write changed nothing"
    );
    drop(tx);
    let mut tx = write(store).await;
    assert_eq!(
        tx.take_ticket_keys(2029).await.expect("take keys").1,
        good.ticket_id.seq(),
        "the failed unit's ticket number is given back"
    );
}

/// A write that breaks a rule fails at the write or at the unit's next `flush`; a flush of good writes
/// succeeds and the unit commits them.
pub async fn write_errors_surface_at_the_write_or_the_next_flush(store: &dyn Store) {
    let u = user("Unique");
    let mut tx = write(store).await;
    tx.insert_user(&u).await.expect("insert a user");
    tx.flush().await.expect("a flush of good writes succeeds");
    commit(tx, "a flushed unit").await;

    let mut clash = user("Clash");
    clash.email = u.email.clone();
    let mut tx = write(store).await;
    let written = tx.insert_user(&clash).await;
    let err = match written {
        Err(e) => e,
        Ok(()) => tx
            .flush()
            .await
            .expect_err("a held-back write that breaks a rule fails the next flush"),
    };
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "the error is the write's own (a duplicate e-mail): {err}"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.user(clash.id).await.expect("read"),
        None,
        "the refused user is not kept"
    );
    assert_eq!(tx.user(u.id).await.expect("read"), Some(u), "the first stays");
}

/// A background unit reads and writes like a foreground one, and its commit is as visible.
pub async fn background_units_write_like_foreground_ones(store: &dyn Store) {
    let mut tx = store
        .begin(UnitOptions::background())
        .await
        .expect("begin a background unit");
    let w = write_one_of_each(tx.as_mut()).await;
    commit(tx, "a background unit").await;
    let (_, missing) = count_visible(store, &w).await;
    assert!(
        missing.is_empty(),
        "a background unit's commit is visible; missing: {missing:?}"
    );
    let mut tx = store
        .begin(UnitOptions::background())
        .await
        .expect("begin a background unit");
    let unused = id::<UserId>();
    assert_eq!(tx.user(unused).await.expect("read"), None, "a background unit reads");
}
