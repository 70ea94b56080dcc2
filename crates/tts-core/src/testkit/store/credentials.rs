//! The [`Credentials`](crate::ports::store::Credentials) contract: one credential per user, found by
//! e-mail (trimmed, case-insensitive), moves and conflicts of e-mails, and throttle counters per key.
//! That a counter is locked in a write unit is in [`locking`](super::locking).

use super::support::{at, commit, credential, insert_users, read, write, write_error};
use crate::domain::login::{Throttle, ThrottleKey};
use crate::error::ErrorKind;
use crate::ports::store::Store;

/// A credential is found by its e-mail, trimmed and case-insensitive, and by its user; unknown e-mails
/// and users have none.
pub async fn credentials_are_found_by_email_ignoring_case_and_spaces(store: &dyn Store) {
    let users = insert_users(store, "Login", 2).await;
    let c = credential(users[0].id, "ada@example.com", "$hash$1");
    let mut tx = write(store).await;
    tx.set_credential(&c).await.expect("set a credential");
    commit(tx, "a credential").await;
    let mut tx = read(store).await;
    for email in ["ada@example.com", "  ADA@Example.COM ", "Ada@example.com"] {
        assert_eq!(
            tx.credential(email).await.expect("lookup").as_ref(),
            Some(&c),
            "a credential is found by e-mail {email:?}, trimmed and case-insensitive"
        );
    }
    assert_eq!(
        tx.credential_of(users[0].id).await.expect("lookup").as_ref(),
        Some(&c),
        "found by user"
    );
    assert_eq!(
        tx.credential("bob@example.com").await.expect("lookup"),
        None,
        "an unknown e-mail has none"
    );
    assert_eq!(
        tx.credential_of(users[1].id).await.expect("lookup"),
        None,
        "a user without one has none"
    );
}

/// A user has one credential: setting it again (same e-mail, new hash) replaces it.
pub async fn setting_a_credential_again_replaces_it(store: &dyn Store) {
    let users = insert_users(store, "Login", 1).await;
    let first = credential(users[0].id, "ada@example.com", "$hash$1");
    let second = credential(users[0].id, "ada@example.com", "$hash$2");
    let mut tx = write(store).await;
    tx.set_credential(&first).await.expect("set a credential");
    commit(tx, "a credential").await;
    let mut tx = write(store).await;
    tx.set_credential(&second).await.expect("set it again");
    commit(tx, "a new password").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.credential("ada@example.com").await.expect("lookup"),
        Some(second.clone()),
        "the new hash replaced the old"
    );
    assert_eq!(
        tx.credential_of(users[0].id).await.expect("lookup"),
        Some(second),
        "one credential per user"
    );
}

/// Setting a user's credential under another e-mail moves it: the old e-mail stops logging in and can be
/// taken by someone else.
pub async fn a_credential_under_a_new_email_frees_the_old_one(store: &dyn Store) {
    let users = insert_users(store, "Login", 2).await;
    let old = credential(users[0].id, "old@example.com", "$hash$1");
    let moved = credential(users[0].id, "new@example.com", "$hash$1");
    let mut tx = write(store).await;
    tx.set_credential(&old).await.expect("set a credential");
    commit(tx, "a credential").await;
    let mut tx = write(store).await;
    tx.set_credential(&moved).await.expect("move it to another e-mail");
    commit(tx, "an e-mail change").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.credential("old@example.com").await.expect("lookup"),
        None,
        "the old e-mail stops logging in"
    );
    assert_eq!(
        tx.credential("new@example.com").await.expect("lookup"),
        Some(moved.clone()),
        "the new one logs in"
    );
    assert_eq!(
        tx.credential_of(users[0].id).await.expect("lookup"),
        Some(moved),
        "still one credential per user"
    );
    drop(tx);
    let taker = credential(users[1].id, "old@example.com", "$hash$2");
    let mut tx = write(store).await;
    tx.set_credential(&taker)
        .await
        .expect("another user takes the freed e-mail");
    commit(tx, "a freed e-mail taken").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.credential("OLD@example.com").await.expect("lookup"),
        Some(taker),
        "the freed e-mail is the taker's"
    );
}

/// An e-mail another user logs in with is a conflict (also differing in case), and changes nothing.
pub async fn an_email_another_user_logs_in_with_is_a_conflict(store: &dyn Store) {
    let users = insert_users(store, "Login", 2).await;
    let ada = credential(users[0].id, "ada@example.com", "$hash$1");
    let bob = credential(users[1].id, "bob@example.com", "$hash$2");
    let mut tx = write(store).await;
    tx.set_credential(&ada).await.expect("set a credential");
    tx.set_credential(&bob).await.expect("set another");
    commit(tx, "credentials").await;
    let mut tx = write(store).await;
    let written = tx
        .set_credential(&credential(users[1].id, "ADA@example.com", "$hash$3"))
        .await;
    let err = write_error(tx.as_mut(), written, "taking another user's login e-mail").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "an e-mail another user logs in with is a conflict: {err}"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.credential("ada@example.com").await.expect("lookup"),
        Some(ada),
        "the owner keeps it"
    );
    assert_eq!(
        tx.credential_of(users[1].id).await.expect("lookup"),
        Some(bob),
        "the refused user keeps theirs"
    );
}

/// Throttle counters read back as written and are independent per e-mail and client; the key's e-mail
/// is compared as `ThrottleKey::new` normalizes it.
pub async fn throttle_counters_are_independent_per_email_and_client(store: &dyn Store) {
    let key = |email: &str, client: &str| ThrottleKey::new(email, client);
    let counter = |failures, retry: Option<i64>| Throttle {
        failures,
        retry_at: retry.map(at),
        updated_at: at(i64::from(failures)),
    };
    let writes = [
        (key("ada@example.com", "10.0.0.1"), counter(6, Some(60))),
        (key("ada@example.com", "2001:db8::/64"), counter(1, None)),
        (key("bob@example.com", "10.0.0.1"), counter(2, None)),
    ];
    let mut tx = write(store).await;
    for (k, t) in &writes {
        tx.set_throttle(k, Some(t)).await.expect("write a counter");
    }
    commit(tx, "throttle counters").await;
    let mut tx = read(store).await;
    for (k, t) in &writes {
        assert_eq!(
            tx.throttle(k).await.expect("read").as_ref(),
            Some(t),
            "{k:?} reads back as written"
        );
    }
    assert_eq!(
        tx.throttle(&key(" ADA@example.com ", "10.0.0.1"))
            .await
            .expect("read")
            .as_ref(),
        Some(&writes[0].1),
        "the key's e-mail is normalized"
    );
    assert_eq!(
        tx.throttle(&key("ada@example.com", "")).await.expect("read"),
        None,
        "another client has none"
    );
    drop(tx);
    let mut tx = write(store).await;
    tx.set_throttle(&writes[1].0, Some(&counter(2, None)))
        .await
        .expect("overwrite a counter");
    commit(tx, "a counter update").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.throttle(&writes[1].0).await.expect("read"),
        Some(counter(2, None)),
        "a write replaces the counter"
    );
    assert_eq!(
        tx.throttle(&writes[0].0).await.expect("read"),
        Some(writes[0].1),
        "other counters are untouched"
    );
}

/// `set_throttle(key, None)` deletes the counter (and deleting a missing one is fine); others stay.
pub async fn setting_a_throttle_to_none_deletes_it(store: &dyn Store) {
    let (a, b) = (
        ThrottleKey::new("ada@example.com", "1"),
        ThrottleKey::new("ada@example.com", "2"),
    );
    let t = Throttle {
        failures: 5,
        retry_at: Some(at(10)),
        updated_at: at(1),
    };
    let mut tx = write(store).await;
    tx.set_throttle(&a, Some(&t)).await.expect("write a counter");
    tx.set_throttle(&b, Some(&t)).await.expect("write a counter");
    commit(tx, "throttle counters").await;
    let mut tx = write(store).await;
    tx.set_throttle(&a, None).await.expect("delete a counter");
    tx.set_throttle(&ThrottleKey::new("nobody@example.com", ""), None)
        .await
        .expect("delete a missing counter");
    commit(tx, "deleting a counter").await;
    let mut tx = read(store).await;
    assert_eq!(tx.throttle(&a).await.expect("read"), None, "a deleted counter is gone");
    assert_eq!(tx.throttle(&b).await.expect("read"), Some(t), "other counters stay");
}
