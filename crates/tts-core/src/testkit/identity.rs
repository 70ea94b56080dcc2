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
