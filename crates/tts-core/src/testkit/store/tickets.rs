//! The [`Tickets`](crate::ports::store::Tickets) contract: ticket keys per year, tickets read back equal
//! by id and by number, unique numbers, version checks. Giving numbers back on drop is in
//! [`units`](super::units); concurrent units taking numbers are in [`locking`](super::locking).

use super::support::{commit, id, insert_ticket, new_ticket_in, read, seed_task, t0, write, write_error};
use crate::domain::priority::Priority;
use crate::domain::ticket::{NewTicket, TicketStatus};
use crate::error::ErrorKind;
use crate::ids::TicketId;
use crate::ports::store::Store;
use std::collections::HashSet;

/// `take_ticket_keys(year)`: a year's sequence starts at 1 and counts up without gaps, years are
/// independent, and every call gives a ticket id never given before.
pub async fn ticket_keys_count_per_year_from_one_with_fresh_ids(store: &dyn Store) {
    let mut tx = write(store).await;
    let mut ids = HashSet::new();
    let mut seqs = Vec::new();
    for _ in 0..3 {
        let (tid, seq) = tx.take_ticket_keys(2031).await.expect("take keys");
        assert!(ids.insert(tid), "ticket ids are never given twice: {tid} again");
        seqs.push(seq);
    }
    assert_eq!(
        seqs,
        [1, 2, 3],
        "a year's sequence starts at 1 and counts up without gaps"
    );
    let (tid, seq) = tx.take_ticket_keys(2032).await.expect("take keys");
    assert_eq!(seq, 1, "years are independent: 2032 starts at 1 after three of 2031");
    assert!(ids.insert(tid), "ticket ids are unique across years");
    let (tid, seq) = tx.take_ticket_keys(2031).await.expect("take keys");
    assert_eq!(seq, 4, "2031 continues where it was after a key of 2032");
    assert!(ids.insert(tid), "ticket ids are unique");
    commit(tx, "ticket keys").await;
}

/// `take_ticket_keys_many(year, n)`: `n` fresh ids and the next `n` numbers in order, continuing from and
/// continued by single takes, years independent, and `n = 0` takes nothing; committed, the next unit
/// goes on after the batch.
pub async fn ticket_keys_in_batches_continue_the_sequence(store: &dyn Store) {
    let mut tx = write(store).await;
    let mut ids = HashSet::new();
    let (tid, seq) = tx.take_ticket_keys(2033).await.expect("take keys");
    assert_eq!(seq, 1);
    ids.insert(tid);
    let batch = tx.take_ticket_keys_many(2033, 5).await.expect("take five keys");
    let seqs: Vec<u32> = batch.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, [2, 3, 4, 5, 6], "a batch takes the next numbers in order");
    for (tid, _) in &batch {
        assert!(ids.insert(*tid), "every id of a batch is new: {tid} again");
    }
    assert!(tx.take_ticket_keys_many(2033, 0).await.expect("take none").is_empty());
    let other = tx.take_ticket_keys_many(2034, 2).await.expect("another year");
    assert_eq!(
        other.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [1, 2],
        "years are independent"
    );
    for (tid, _) in &other {
        assert!(ids.insert(*tid), "ids are unique across years");
    }
    let (tid, seq) = tx.take_ticket_keys(2033).await.expect("take keys");
    assert_eq!(seq, 7, "a single take continues after the batch");
    assert!(ids.insert(tid));
    commit(tx, "ticket keys in batches").await;
    let mut tx = write(store).await;
    let next = tx.take_ticket_keys_many(2033, 3).await.expect("take three keys");
    assert_eq!(
        next.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [8, 9, 10],
        "committed batches persist"
    );
    for (tid, _) in &next {
        assert!(ids.insert(*tid), "a committed id is never given again");
    }
}

/// Committed ticket numbers persist: the next unit continues the year's sequence, with new ticket ids.
pub async fn committed_ticket_keys_continue_in_the_next_unit(store: &dyn Store) {
    let mut tx = write(store).await;
    let first = tx.take_ticket_keys(2031).await.expect("take keys");
    let second = tx.take_ticket_keys(2031).await.expect("take keys");
    commit(tx, "ticket keys").await;
    let mut tx = write(store).await;
    let (tid, seq) = tx.take_ticket_keys(2031).await.expect("take keys");
    assert_eq!(seq, 3, "a committed sequence continues in the next unit");
    assert!(
        tid != first.0 && tid != second.0,
        "a committed ticket id is never given again"
    );
}

/// A ticket reads back equal to what was written, by id, by number and with its (absent) task; unknown
/// ids and numbers read as none.
pub async fn tickets_read_back_equal_by_id_and_number(store: &dyn Store) {
    let mut new = NewTicket::new("Login issue", "Technical Support")
        .priority(Priority::High)
        .department("IT")
        .subcategory("Accounts")
        .description("Cannot log in since Monday. ünïcödé, quotes ' \" and backslash \\");
    new.employee.name = "John Doe".into();
    new.employee.email = "john@example.com".into();
    new.employee.id = Some(serde_json::json!(123));
    let t = insert_ticket(store, new, id(), t0()).await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket(t.id).await.expect("read by id").as_ref(),
        Some(&t),
        "a ticket reads back equal by id"
    );
    assert_eq!(
        tx.ticket_by_number(t.ticket_id).await.expect("read by number").as_ref(),
        Some(&t),
        "a ticket reads back equal by number"
    );
    assert_eq!(
        tx.ticket_with_task(t.id).await.expect("read with task"),
        Some((t.clone(), None)),
        "a ticket without a task reads with none"
    );
    assert_eq!(
        tx.ticket(TicketId(t.id.0 + 1_000)).await.expect("read a missing id"),
        None,
        "an unknown id reads as none"
    );
    let unknown = crate::domain::ticket_number::TicketNumber::new(2025, 9_999).expect("number");
    assert_eq!(
        tx.ticket_by_number(unknown).await.expect("read a missing number"),
        None,
        "an unknown number reads as none"
    );
    assert_eq!(
        tx.ticket_with_task(TicketId(t.id.0 + 1_000))
            .await
            .expect("read a missing id"),
        None,
        "an unknown id reads as none with its task"
    );
}

/// `tickets_with_tasks` reads several tickets with their tasks in ascending id order, each once, and
/// leaves unknown ids out; in a write unit too (where it locks them).
pub async fn tickets_with_tasks_read_in_id_order_each_once(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let plain = insert_ticket(store, NewTicket::new("Batch read", "Hardware"), id(), t0()).await;
    let unknown = TicketId(plain.id.0.max(seeded.ticket.id.0) + 1_000);
    let ids = [unknown, plain.id, seeded.ticket.id, plain.id];
    let mut expected = vec![
        (plain.clone(), None),
        (seeded.ticket.clone(), Some(seeded.task.clone())),
    ];
    expected.sort_by_key(|(t, _)| t.id);
    let mut tx = read(store).await;
    assert_eq!(
        tx.tickets_with_tasks(&ids).await.expect("read a batch"),
        expected,
        "known ids once each, ascending, with their tasks"
    );
    assert_eq!(tx.tickets_with_tasks(&[]).await.expect("read nothing"), Vec::new());
    drop(tx);
    let mut tx = write(store).await;
    assert_eq!(
        tx.tickets_with_tasks(&ids).await.expect("read and lock a batch"),
        expected,
        "the same in a write unit"
    );
}

/// `ticket_with_task` brings the ticket's task along once it has one.
pub async fn ticket_with_task_brings_the_task(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.ticket_with_task(seeded.ticket.id).await.expect("read with task"),
        Some((seeded.ticket.clone(), Some(seeded.task.clone()))),
        "a ticket reads with its task"
    );
}

/// Inserting a second ticket with a number already used is a conflict, and the first stays as it was.
pub async fn duplicate_ticket_number_is_a_conflict(store: &dyn Store) {
    let t = insert_ticket(store, NewTicket::new("Original", "C"), id(), t0()).await;
    let mut tx = write(store).await;
    let (other_id, _) = tx.take_ticket_keys(2030).await.expect("take keys");
    let mut dup = t.clone();
    dup.id = other_id;
    dup.subject = "Duplicate".into();
    let written = tx.insert_ticket(&dup).await;
    let err = write_error(tx.as_mut(), written, "a duplicate ticket number is a conflict").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a duplicate ticket number is a conflict: {err}"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket_by_number(t.ticket_id).await.expect("read").as_ref(),
        Some(&t),
        "a refused duplicate leaves the first ticket as it was"
    );
}

/// `update_ticket` needs the stored version plus one: the next version is stored; the same version
/// again, or one that skips, is a conflict and changes nothing.
pub async fn update_ticket_requires_the_next_version(store: &dyn Store) {
    let t = insert_ticket(store, NewTicket::new("Versioned", "C"), id(), t0()).await;
    let mut next = t.clone();
    next.move_to(TicketStatus::InProgress, t0()).expect("move");
    next.touch(t0());
    let mut tx = write(store).await;
    tx.update_ticket(&next).await.expect("an update with the next version");
    commit(tx, "a ticket update").await;
    for (stale, why) in [
        (next.clone(), "the same version again"),
        (t.clone(), "an older version"),
    ] {
        let mut tx = write(store).await;
        let written = tx.update_ticket(&stale).await;
        let err = write_error(tx.as_mut(), written, why).await;
        assert_eq!(err.kind(), ErrorKind::Conflict, "{why} is a conflict: {err}");
    }
    let mut skipping = next.clone();
    skipping.version += 2;
    let mut tx = write(store).await;
    let written = tx.update_ticket(&skipping).await;
    let err = write_error(tx.as_mut(), written, "a version that skips one").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a version that skips one is a conflict: {err}"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.ticket(t.id).await.expect("read").as_ref(),
        Some(&next),
        "refused updates change nothing"
    );
}

/// Updating a ticket that does not exist is "not found".
pub async fn update_of_a_missing_ticket_is_not_found(store: &dyn Store) {
    let mut tx = write(store).await;
    let mut ghost = new_ticket_in(tx.as_mut(), 2025, NewTicket::new("Ghost", "C"), id(), t0()).await;
    drop(tx);
    ghost.touch(t0());
    let mut tx = write(store).await;
    let written = tx.update_ticket(&ghost).await;
    let err = write_error(tx.as_mut(), written, "updating a missing ticket fails").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "updating a missing ticket is not found: {err}"
    );
}
