//! The [`Idempotency`](crate::ports::store::Idempotency) contract: records per user and key, read back
//! whole, written once. Two units racing on one key are in [`locking`](super::locking).

use super::support::{at, commit, id, insert_ticket, read, t0, write, write_error};
use crate::domain::ticket::NewTicket;
use crate::error::ErrorKind;
use crate::ids::UserId;
use crate::ports::store::{IdempotencyRecord, Store};
use uuid::Uuid;

fn record(user: UserId, key: &str, ticket: crate::ids::TicketId) -> IdempotencyRecord {
    IdempotencyRecord {
        user,
        key: key.into(),
        fingerprint: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        ticket,
        created_at: t0(),
    }
}

/// A record reads back whole, in its own unit and after commit; unknown keys have none.
pub async fn idempotency_records_read_back_whole(store: &dyn Store) {
    let alice = id::<UserId>();
    let ticket = insert_ticket(store, NewTicket::new("Idempotent", "C"), alice, t0()).await;
    // Characters SQL and LIKE treat specially must not matter.
    let key = format!("Key-{}-%_'\"\\", Uuid::now_v7());
    let r = record(alice, &key, ticket.id);
    let mut tx = write(store).await;
    assert_eq!(
        tx.idempotency_record(alice, &key).await.expect("lookup"),
        None,
        "an unused key has no record"
    );
    tx.insert_idempotency_record(&r).await.expect("insert a record");
    assert_eq!(
        tx.idempotency_record(alice, &key).await.expect("lookup").as_ref(),
        Some(&r),
        "a unit reads its own record"
    );
    commit(tx, "an idempotency record").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.idempotency_record(alice, &key).await.expect("lookup").as_ref(),
        Some(&r),
        "a committed record reads back whole"
    );
    assert_eq!(
        tx.idempotency_record(alice, "Key-").await.expect("lookup"),
        None,
        "a prefix of a key is another key"
    );
}

/// Keys are scoped per user and compared exactly (case matters): the same key of another user is
/// another record.
pub async fn idempotency_keys_are_per_user_and_case_sensitive(store: &dyn Store) {
    let (alice, bob) = (id::<UserId>(), id::<UserId>());
    let ta = insert_ticket(store, NewTicket::new("Alice's", "C"), alice, t0()).await;
    let tb = insert_ticket(store, NewTicket::new("Bob's", "C"), bob, t0()).await;
    let ra = record(alice, "Retry-Key", ta.id);
    let mut rb = record(bob, "Retry-Key", tb.id);
    rb.fingerprint = "bob's body".into();
    rb.created_at = at(5);
    let mut tx = write(store).await;
    tx.insert_idempotency_record(&ra).await.expect("insert alice's record");
    commit(tx, "alice's record").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.idempotency_record(bob, "Retry-Key").await.expect("lookup"),
        None,
        "keys are scoped per user"
    );
    assert_eq!(
        tx.idempotency_record(alice, "retry-key").await.expect("lookup"),
        None,
        "keys are case-sensitive"
    );
    drop(tx);
    let mut tx = write(store).await;
    tx.insert_idempotency_record(&rb)
        .await
        .expect("the same key of another user is another record");
    commit(tx, "bob's record").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.idempotency_record(alice, "Retry-Key").await.expect("lookup"),
        Some(ra),
        "alice keeps hers"
    );
    assert_eq!(
        tx.idempotency_record(bob, "Retry-Key").await.expect("lookup"),
        Some(rb),
        "bob has his"
    );
}

/// A key the user already used is a conflict, whatever the fingerprint, and the first record stays.
pub async fn a_used_idempotency_key_is_a_conflict(store: &dyn Store) {
    let alice = id::<UserId>();
    let ticket = insert_ticket(store, NewTicket::new("Idempotent", "C"), alice, t0()).await;
    let first = record(alice, "once", ticket.id);
    let mut tx = write(store).await;
    tx.insert_idempotency_record(&first).await.expect("insert a record");
    commit(tx, "a record").await;
    for fingerprint in [first.fingerprint.clone(), "another body".to_string()] {
        let again = IdempotencyRecord {
            fingerprint,
            created_at: at(5),
            ..first.clone()
        };
        let mut tx = write(store).await;
        let written = tx.insert_idempotency_record(&again).await;
        let err = write_error(tx.as_mut(), written, "recording a used key again").await;
        assert_eq!(err.kind(), ErrorKind::Conflict, "a used key is a conflict: {err}");
    }
    let mut tx = read(store).await;
    assert_eq!(
        tx.idempotency_record(alice, "once").await.expect("lookup"),
        Some(first),
        "the first record stays"
    );
}
