//! The [`Outbox`](crate::ports::store::Outbox) contract: outbox messages in write order until sent,
//! consumer dedup records, and `prune` for every kind of [`Bookkeeping`]. Two relays never taking the
//! same message is in [`locking`](super::locking).

use super::support::{at, commit, id, insert_ticket, insert_users, read, session, t0, write};
use crate::domain::event::{DomainEvent, OutboxMessage};
use crate::domain::login::{Throttle, ThrottleKey};
use crate::domain::priority::Priority;
use crate::domain::session::EndSessions;
use crate::domain::ticket::NewTicket;
use crate::domain::ticket_number::TicketNumber;
use crate::ids::{MessageId, TicketId, UserId};
use crate::ports::store::{Bookkeeping, Claimed, IdempotencyRecord, Store};
use chrono::Duration;

/// An outbox message of `ticket.created` for ticket `n`, created at `at(n)`.
pub(crate) fn message(n: i64) -> OutboxMessage {
    OutboxMessage {
        id: id::<MessageId>(),
        event: DomainEvent::TicketCreated {
            ticket: TicketId(n),
            ticket_id: TicketNumber::new(2025, 1 + n as u32).expect("number"),
            priority: Priority::Low,
        },
        created_at: at(n),
        queue: Some("tickets".into()),
    }
}

/// `message(n)` on another queue (or none).
pub(crate) fn message_on(n: i64, queue: Option<&str>) -> OutboxMessage {
    OutboxMessage {
        queue: queue.map(str::to_string),
        ..message(n)
    }
}

/// Messages read back intact in write order (one call or several, one unit or several), not by time or
/// id, at most `limit`.
pub async fn outbox_messages_read_back_in_write_order(store: &dyn Store) {
    let mut msgs: Vec<OutboxMessage> = (0..5).map(message).collect();
    // Times and ids out of order: only the write order gives the order.
    msgs[1].created_at = at(100);
    msgs.swap(2, 3);
    let mut tx = write(store).await;
    tx.insert_outbox(msgs[..1].to_vec()).await.expect("write one message");
    tx.insert_outbox(msgs[1..3].to_vec()).await.expect("write a batch");
    commit(tx, "outbox messages").await;
    let mut tx = write(store).await;
    tx.insert_outbox(msgs[3..].to_vec()).await.expect("write a later batch");
    commit(tx, "later outbox messages").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.unsent_outbox(100).await.expect("unsent"),
        msgs,
        "messages read back intact, in write order"
    );
    assert_eq!(
        tx.unsent_outbox(2).await.expect("unsent"),
        msgs[..2].to_vec(),
        "at most `limit`, oldest first"
    );
}

/// Messages marked sent never come back; the others keep their order; marking unknown or already sent
/// ids is harmless.
pub async fn sent_messages_never_come_back(store: &dyn Store) {
    let msgs: Vec<OutboxMessage> = (0..4).map(message).collect();
    let mut tx = write(store).await;
    tx.insert_outbox(msgs.clone()).await.expect("write messages");
    commit(tx, "outbox messages").await;
    let mut tx = write(store).await;
    tx.finish_outbox(&[msgs[0].id, msgs[2].id]).await.expect("mark sent");
    commit(tx, "marking sent").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.unsent_outbox(100).await.expect("unsent"),
        vec![msgs[1].clone(), msgs[3].clone()],
        "sent messages never come back; the rest keep their order"
    );
    tx.finish_outbox(&[msgs[0].id, id()])
        .await
        .expect("mark sent again, and an unknown id");
    tx.finish_outbox(&[msgs[1].id, msgs[3].id])
        .await
        .expect("mark the rest sent");
    commit(tx, "marking the rest sent").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.unsent_outbox(100).await.expect("unsent"),
        Vec::new(),
        "all sent: nothing comes back"
    );
}

/// A consumer's claim returns only due messages of its queue, oldest first, at most `limit`, each with
/// its queue and no failed delivery yet.
pub async fn claims_take_due_messages_of_one_queue_in_write_order(store: &dyn Store) {
    let msgs = vec![
        message_on(1, Some("tickets")),
        message_on(2, Some("mail")),
        message_on(3, None),
        message_on(4, Some("tickets")),
        message_on(5, Some("tickets")),
        message_on(50, Some("tickets")),
    ];
    let mut tx = write(store).await;
    tx.insert_outbox(msgs.clone()).await.expect("write messages");
    commit(tx, "outbox messages").await;
    let fresh = |m: &OutboxMessage| Claimed {
        message: m.clone(),
        attempts: 0,
    };
    let mut tx = write(store).await;
    assert_eq!(
        tx.claim_outbox("tickets", 100, at(10)).await.expect("claim"),
        vec![fresh(&msgs[0]), fresh(&msgs[3]), fresh(&msgs[4])],
        "only the queue's messages, in write order, and only those due (created by then)"
    );
    assert_eq!(
        tx.claim_outbox("tickets", 2, at(100)).await.expect("claim"),
        vec![fresh(&msgs[0]), fresh(&msgs[3])],
        "at most `limit`, oldest first"
    );
    assert_eq!(
        tx.claim_outbox("mail", 100, at(100)).await.expect("claim"),
        vec![fresh(&msgs[1])],
        "another queue has its own messages"
    );
    assert_eq!(
        tx.claim_outbox("nobody", 100, at(100)).await.expect("claim"),
        Vec::new(),
        "an unknown queue has none"
    );
    assert_eq!(
        tx.outbox_message(msgs[2].id).await.expect("read one"),
        Some(fresh(&msgs[2])),
        "a message without a queue is still kept (for a relay)"
    );
}

/// A failed delivery is counted and the message is not due again until the time given; finishing a
/// message removes it for good.
pub async fn a_retried_message_counts_its_failures_and_waits_until_due(store: &dyn Store) {
    let msgs: Vec<OutboxMessage> = (1..=2).map(message).collect();
    let mut tx = write(store).await;
    tx.insert_outbox(msgs.clone()).await.expect("write messages");
    commit(tx, "outbox messages").await;
    let mut tx = write(store).await;
    tx.retry_outbox(msgs[0].id, at(60), "the database was busy")
        .await
        .expect("count a failure");
    commit(tx, "a failed delivery").await;
    let mut tx = write(store).await;
    let due: Vec<_> = tx
        .claim_outbox("tickets", 10, at(59))
        .await
        .expect("claim")
        .into_iter()
        .map(|c| c.message.id)
        .collect();
    assert_eq!(due, vec![msgs[1].id], "the retried message waits until it is due");
    let again = tx.claim_outbox("tickets", 10, at(60)).await.expect("claim");
    assert_eq!(
        again.iter().map(|c| (c.message.id, c.attempts)).collect::<Vec<_>>(),
        vec![(msgs[0].id, 1), (msgs[1].id, 0)],
        "once due it comes back in write order, with its failure counted"
    );
    tx.retry_outbox(msgs[0].id, at(120), "still busy")
        .await
        .expect("count again");
    tx.finish_outbox(&[msgs[1].id]).await.expect("finish");
    commit(tx, "another failure and a delivery").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.outbox_message(msgs[0].id).await.expect("read").map(|c| c.attempts),
        Some(2),
        "failures add up"
    );
    assert_eq!(
        tx.outbox_message(msgs[1].id).await.expect("read"),
        None,
        "a finished message is gone"
    );
    assert_eq!(
        tx.claim_outbox("tickets", 10, at(1_000)).await.expect("claim").len(),
        1,
        "and never claimed again"
    );
}

/// A leased message is not claimed until its lease ends, and the lease counts no failure.
pub async fn a_leased_message_waits_without_counting_a_failure(store: &dyn Store) {
    let msgs: Vec<OutboxMessage> = (1..=2).map(message).collect();
    let mut tx = write(store).await;
    tx.insert_outbox(msgs.clone()).await.expect("write messages");
    commit(tx, "outbox messages").await;
    let mut tx = write(store).await;
    tx.lease_outbox(msgs[0].id, at(60)).await.expect("lease");
    commit(tx, "a lease").await;
    let mut tx = write(store).await;
    let due: Vec<_> = tx
        .claim_outbox("tickets", 10, at(59))
        .await
        .expect("claim")
        .into_iter()
        .map(|c| c.message.id)
        .collect();
    assert_eq!(due, vec![msgs[1].id], "the leased message is held until the lease ends");
    let again = tx.claim_outbox("tickets", 10, at(60)).await.expect("claim");
    assert_eq!(
        again.iter().map(|c| (c.message.id, c.attempts)).collect::<Vec<_>>(),
        vec![(msgs[0].id, 0), (msgs[1].id, 0)],
        "then it comes back in write order, no failure counted"
    );
}

/// `record_processed_many` answers per id in order like `record_processed` one by one: true the first
/// time, false for an id recorded before (in this call, this unit or a committed one), per consumer;
/// every id is then `processed`.
pub async fn record_processed_many_answers_per_id_in_order(store: &dyn Store) {
    let (a, b, c) = (id::<MessageId>(), id::<MessageId>(), id::<MessageId>());
    let mut tx = write(store).await;
    assert!(tx.record_processed("allocation", b, t0()).await.expect("record"));
    commit(tx, "one record").await;
    let mut tx = write(store).await;
    assert!(
        tx.record_processed("allocation", c, t0())
            .await
            .expect("record in this unit")
    );
    let fresh = tx
        .record_processed_many("allocation", &[a, b, a, c], t0())
        .await
        .expect("record many");
    assert_eq!(
        fresh,
        [true, false, false, false],
        "new, committed before, repeated in the call, recorded earlier in the unit"
    );
    assert_eq!(
        tx.record_processed_many("notifications", &[b, c], t0())
            .await
            .expect("another consumer"),
        [true, true],
        "consumers are independent"
    );
    assert!(
        tx.record_processed_many("allocation", &[], t0())
            .await
            .expect("none")
            .is_empty()
    );
    commit(tx, "many records").await;
    let mut tx = write(store).await;
    for m in [a, b, c] {
        assert!(
            tx.processed("allocation", m).await.expect("read"),
            "every id is recorded"
        );
    }
}

/// `record_processed` is true the first time a consumer records a message id and false after, in the
/// same unit and in later ones; consumers are independent; `processed` reads the record.
pub async fn record_processed_is_true_only_the_first_time_per_consumer(store: &dyn Store) {
    let m = id::<MessageId>();
    let mut tx = write(store).await;
    assert!(
        !tx.processed("allocation", m).await.expect("read"),
        "nothing recorded yet"
    );
    assert!(
        tx.record_processed("allocation", m, t0()).await.expect("record"),
        "the first record is true"
    );
    assert!(
        !tx.record_processed("allocation", m, t0()).await.expect("record again"),
        "recording the same message again is false, in the same unit"
    );
    assert!(
        tx.record_processed("notifications", m, t0())
            .await
            .expect("record for another consumer"),
        "consumers are independent"
    );
    assert!(
        tx.processed("allocation", m).await.expect("read"),
        "seen in its own unit"
    );
    commit(tx, "dedup records").await;
    let mut tx = write(store).await;
    assert!(
        tx.processed("notifications", m).await.expect("read"),
        "and after the commit"
    );
    assert!(!tx.processed("mail", m).await.expect("read"), "per consumer");
    assert!(
        !tx.record_processed("allocation", m, at(1))
            .await
            .expect("record after commit"),
        "a committed record stays: recording again in a later unit is false"
    );
    assert!(
        tx.record_processed("allocation", id(), at(1))
            .await
            .expect("record another message"),
        "another message is recorded"
    );
}

/// `prune(Processed)` deletes dedup records older than the cutoff, at most `limit` per call, and says
/// how many; younger records stay (a pruned message would be handled again, a kept one not).
pub async fn prune_deletes_old_dedup_records_up_to_the_limit(store: &dyn Store) {
    let (old, new, cutoff) = (
        t0() - Duration::days(10),
        t0() - Duration::days(1),
        t0() - Duration::days(5),
    );
    let (m1, m2, m3, fresh) = (
        id::<MessageId>(),
        id::<MessageId>(),
        id::<MessageId>(),
        id::<MessageId>(),
    );
    let mut tx = write(store).await;
    assert!(tx.record_processed("allocation", m1, old).await.expect("record"));
    assert!(tx.record_processed("notifications", m2, old).await.expect("record"));
    assert!(tx.record_processed("allocation", m3, old).await.expect("record"));
    assert!(tx.record_processed("allocation", fresh, new).await.expect("record"));
    commit(tx, "dedup records").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.prune(Bookkeeping::Processed, cutoff, 2).await.expect("prune"),
        2,
        "at most `limit` per call"
    );
    assert_eq!(
        tx.prune(Bookkeeping::Processed, cutoff, 100).await.expect("prune"),
        1,
        "then the rest"
    );
    assert_eq!(
        tx.prune(Bookkeeping::Processed, cutoff, 100).await.expect("prune"),
        0,
        "then none"
    );
    commit(tx, "pruning").await;
    let mut tx = write(store).await;
    for (consumer, m) in [("allocation", m1), ("notifications", m2), ("allocation", m3)] {
        assert!(
            tx.record_processed(consumer, m, t0()).await.expect("record"),
            "a pruned dedup record is gone"
        );
    }
    assert!(
        !tx.record_processed("allocation", fresh, t0()).await.expect("record"),
        "a dedup record younger than the cutoff stays"
    );
}

/// `prune(IdempotencyKeys)` deletes idempotency records created before the cutoff; younger ones stay.
pub async fn prune_deletes_old_idempotency_records(store: &dyn Store) {
    let (old, new, cutoff) = (
        t0() - Duration::days(10),
        t0() - Duration::days(1),
        t0() - Duration::days(5),
    );
    let user = id::<UserId>();
    let ticket = insert_ticket(store, NewTicket::new("Retention", "C"), user, t0()).await;
    let record = |key: &str, created_at| IdempotencyRecord {
        user,
        key: key.into(),
        fingerprint: "body".into(),
        ticket: ticket.id,
        created_at,
    };
    let mut tx = write(store).await;
    for r in [record("old-1", old), record("old-2", old), record("new", new)] {
        tx.insert_idempotency_record(&r).await.expect("record a key");
    }
    commit(tx, "idempotency records").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.prune(Bookkeeping::IdempotencyKeys, cutoff, 1).await.expect("prune"),
        1,
        "at most `limit`"
    );
    assert_eq!(
        tx.prune(Bookkeeping::IdempotencyKeys, cutoff, 100)
            .await
            .expect("prune"),
        1,
        "then the rest"
    );
    commit(tx, "pruning").await;
    let mut tx = read(store).await;
    for key in ["old-1", "old-2"] {
        assert_eq!(
            tx.idempotency_record(user, key).await.expect("lookup"),
            None,
            "a pruned key is gone"
        );
    }
    assert_eq!(
        tx.idempotency_record(user, "new").await.expect("lookup"),
        Some(record("new", new)),
        "a key younger than the cutoff stays"
    );
}

/// `prune(Sessions)` deletes sessions whose refresh token expired before the cutoff, ended or not;
/// others stay.
pub async fn prune_deletes_expired_sessions(store: &dyn Store) {
    let users = insert_users(store, "Session", 1).await;
    let cutoff = t0();
    let expired = session(users[0].id, cutoff - Duration::days(2));
    let mut ended = session(users[0].id, cutoff - Duration::days(1));
    let live = session(users[0].id, cutoff + Duration::days(1));
    let mut tx = write(store).await;
    for s in [&expired, &ended, &live] {
        tx.start_session(s).await.expect("start a session");
    }
    tx.end_sessions(EndSessions::One(ended.id), cutoff - Duration::days(3))
        .await
        .expect("end a session");
    ended.ended_at = Some(cutoff - Duration::days(3));
    commit(tx, "sessions").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.prune(Bookkeeping::Sessions, cutoff, 100).await.expect("prune"),
        2,
        "both expired sessions go"
    );
    commit(tx, "pruning").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.session(expired.id).await.expect("read"),
        None,
        "an expired session is pruned"
    );
    assert_eq!(
        tx.session(ended.id).await.expect("read"),
        None,
        "an expired, ended session is pruned"
    );
    assert_eq!(
        tx.session(live.id).await.expect("read"),
        Some(live),
        "a session not yet expired stays"
    );
}

/// `prune(LoginThrottles)` deletes throttle counters last changed before the cutoff; others stay.
pub async fn prune_deletes_stale_login_throttles(store: &dyn Store) {
    let cutoff = t0();
    let stale_key = ThrottleKey::new("stale@example.com", "10.0.0.1");
    let fresh_key = ThrottleKey::new("stale@example.com", "10.0.0.2");
    let counter = |updated_at| Throttle {
        failures: 3,
        retry_at: None,
        updated_at,
    };
    let mut tx = write(store).await;
    tx.set_throttle(&stale_key, Some(&counter(cutoff - Duration::hours(1))))
        .await
        .expect("write a counter");
    tx.set_throttle(&fresh_key, Some(&counter(cutoff + Duration::hours(1))))
        .await
        .expect("write a counter");
    commit(tx, "throttle counters").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.prune(Bookkeeping::LoginThrottles, cutoff, 100).await.expect("prune"),
        1,
        "the stale counter goes"
    );
    commit(tx, "pruning").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.throttle(&stale_key).await.expect("read"),
        None,
        "a stale counter is pruned"
    );
    assert_eq!(
        tx.throttle(&fresh_key).await.expect("read"),
        Some(counter(cutoff + Duration::hours(1))),
        "a counter changed after the cutoff stays"
    );
}

/// A prune in a unit dropped without commit deletes nothing.
pub async fn a_dropped_prune_deletes_nothing(store: &dyn Store) {
    let m = id::<MessageId>();
    let users = insert_users(store, "Pruned", 1).await;
    let s = session(users[0].id, t0() - Duration::days(1));
    let key = ThrottleKey::new("p@example.com", "");
    let mut tx = write(store).await;
    tx.record_processed("allocation", m, t0() - Duration::days(10))
        .await
        .expect("record");
    tx.start_session(&s).await.expect("start a session");
    tx.set_throttle(
        &key,
        Some(&Throttle {
            failures: 1,
            retry_at: None,
            updated_at: t0() - Duration::days(10),
        }),
    )
    .await
    .expect("write a counter");
    commit(tx, "bookkeeping").await;
    let mut tx = write(store).await;
    for kind in [
        Bookkeeping::Processed,
        Bookkeeping::Sessions,
        Bookkeeping::LoginThrottles,
    ] {
        assert_eq!(
            tx.prune(kind, t0(), 100).await.expect("prune"),
            1,
            "{kind:?}: one old record to prune"
        );
    }
    drop(tx);
    let mut tx = write(store).await;
    assert!(
        !tx.record_processed("allocation", m, t0()).await.expect("record"),
        "a dropped prune keeps the dedup record"
    );
    assert_eq!(
        tx.session(s.id).await.expect("read").map(|x| x.id),
        Some(s.id),
        "a dropped prune keeps the session"
    );
    assert!(
        tx.throttle(&key).await.expect("read").is_some(),
        "a dropped prune keeps the counter"
    );
}

/// `Queries::outbox_backlog` counts the waiting messages per queue with the oldest one's time, relay-only
/// messages (no queue) first, and forgets sent ones.
pub async fn outbox_backlog_counts_waiting_messages_per_queue(store: &dyn Store) {
    let mut a1 = message_on(1, Some("a"));
    a1.created_at = at(30);
    let mut a2 = message_on(2, Some("a"));
    a2.created_at = at(10);
    let b = message_on(3, Some("b"));
    let relayed = message_on(4, None);
    let mut tx = write(store).await;
    tx.insert_outbox(vec![a1.clone(), a2.clone(), b.clone(), relayed.clone()])
        .await
        .expect("write messages");
    commit(tx, "outbox messages").await;
    let backlog = store.outbox_backlog().await.expect("backlog");
    let seen: Vec<(Option<String>, u64, Option<chrono::DateTime<chrono::Utc>>)> =
        backlog.into_iter().map(|q| (q.queue, q.messages, q.oldest)).collect();
    assert_eq!(
        seen,
        vec![
            (None, 1, Some(relayed.created_at)),
            (Some("a".into()), 2, Some(at(10))),
            (Some("b".into()), 1, Some(b.created_at)),
        ],
        "per queue, relay-only first, with the oldest time"
    );
    let mut tx = write(store).await;
    tx.finish_outbox(&[a1.id, a2.id, b.id, relayed.id])
        .await
        .expect("finish");
    commit(tx, "sent").await;
    assert!(
        store.outbox_backlog().await.expect("backlog").is_empty(),
        "nothing waits"
    );
}
