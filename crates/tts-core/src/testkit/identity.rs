//! The [`Identity`] contract.

use crate::error::ErrorKind;
use crate::ids::UserId;
use crate::ports::identity::Identity;
use chrono::{DateTime, Duration, Utc};

/// Runs every identity check; `max_failures` and `lockout` are the adapter's configured policy.
pub async fn run_all(identity: &dyn Identity, max_failures: u32, lockout: Duration) {
    verify_matches_password(identity).await;
    unknown_and_wrong_look_alike(identity).await;
    lockout_after_failures(identity, max_failures, lockout).await;
    change_email_moves_the_login(identity).await;
}

fn fresh() -> (UserId, String) {
    let id = uuid::Uuid::now_v7();
    (UserId(id), format!("user-{id}@example.com"))
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).expect("valid timestamp")
}

/// The right password verifies (e-mail case-insensitively); replacing it retires the old one.
pub async fn verify_matches_password(identity: &dyn Identity) {
    let (user, email) = fresh();
    identity
        .set_password(user, &email, "correct horse battery")
        .await
        .expect("set password");
    assert_eq!(
        identity
            .verify(&email, "correct horse battery", t0())
            .await
            .expect("verify"),
        user
    );
    assert_eq!(
        identity
            .verify(&email.to_uppercase(), "correct horse battery", t0())
            .await
            .expect("verify upper"),
        user
    );
    identity
        .set_password(user, &email, "a new secret!")
        .await
        .expect("replace password");
    assert_eq!(
        identity
            .verify(&email, "correct horse battery", t0())
            .await
            .expect_err("old password")
            .kind(),
        ErrorKind::Unauthorized
    );
    assert_eq!(
        identity
            .verify(&email, "a new secret!", t0())
            .await
            .expect("new password"),
        user
    );
}

/// An unknown e-mail and a wrong password fail the same way.
pub async fn unknown_and_wrong_look_alike(identity: &dyn Identity) {
    let (user, email) = fresh();
    identity
        .set_password(user, &email, "correct horse battery")
        .await
        .expect("set password");
    let wrong = identity.verify(&email, "nope", t0()).await.expect_err("wrong password");
    let (_, other) = fresh();
    let unknown = identity.verify(&other, "nope", t0()).await.expect_err("unknown e-mail");
    assert_eq!(wrong.kind(), ErrorKind::Unauthorized);
    assert_eq!(unknown.kind(), ErrorKind::Unauthorized);
    assert_eq!(
        wrong.to_string(),
        unknown.to_string(),
        "the error must not reveal which part was wrong"
    );
}

/// `max_failures` failures lock the account, even for the right password, until `lockout` has passed.
pub async fn lockout_after_failures(identity: &dyn Identity, max_failures: u32, lockout: Duration) {
    let (user, email) = fresh();
    identity
        .set_password(user, &email, "correct horse battery")
        .await
        .expect("set password");
    for _ in 0..max_failures.saturating_sub(1) {
        identity
            .verify(&email, "wrong", t0())
            .await
            .expect_err("wrong password");
    }
    assert_eq!(
        identity
            .verify(&email, "correct horse battery", t0())
            .await
            .expect("one below the limit"),
        user
    );
    for _ in 0..max_failures {
        identity
            .verify(&email, "wrong", t0())
            .await
            .expect_err("wrong password");
    }
    let locked = identity
        .verify(&email, "correct horse battery", t0() + Duration::seconds(1))
        .await;
    assert_eq!(locked.expect_err("locked").kind(), ErrorKind::Unauthorized);
    let later = t0() + lockout + Duration::seconds(1);
    assert_eq!(
        identity
            .verify(&email, "correct horse battery", later)
            .await
            .expect("lock expired"),
        user
    );
}

/// After an e-mail change the new e-mail logs in and the old one does not; taken e-mails conflict.
pub async fn change_email_moves_the_login(identity: &dyn Identity) {
    let (user, email) = fresh();
    let (other, other_email) = fresh();
    identity
        .set_password(user, &email, "correct horse battery")
        .await
        .expect("set password");
    identity
        .set_password(other, &other_email, "another secret")
        .await
        .expect("set other");
    let (_, new_email) = fresh();
    identity
        .change_email(user, &new_email.to_uppercase())
        .await
        .expect("change e-mail");
    assert_eq!(
        identity
            .verify(&new_email, "correct horse battery", t0())
            .await
            .expect("new e-mail"),
        user
    );
    let old = identity.verify(&email, "correct horse battery", t0()).await;
    assert_eq!(old.expect_err("old e-mail").kind(), ErrorKind::Unauthorized);
    let taken = identity
        .change_email(user, &other_email)
        .await
        .expect_err("taken e-mail");
    assert_eq!(taken.kind(), ErrorKind::Conflict);
    let (nobody, _) = fresh();
    identity
        .change_email(nobody, "nobody@example.com")
        .await
        .expect("no credentials: no-op");
}
