//! The [`Identity`] contract.

use crate::error::{Error, ErrorKind};
use crate::ids::{SessionId, TokenId, UserId};
use crate::ports::identity::{Identity, RefreshSession};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Runs every identity check; `max_failures` and `lockout` are the adapter's configured policy.
pub async fn run_all(identity: &dyn Identity, max_failures: u32, lockout: Duration) {
    verify_matches_password(identity).await;
    unknown_and_wrong_look_alike(identity).await;
    lockout_after_failures(identity, max_failures, lockout).await;
    change_email_moves_the_login(identity).await;
    sessions_rotate_once(identity).await;
    reused_token_revokes_the_family(identity).await;
    expired_sessions_never_come_back(identity).await;
    ended_sessions_never_come_back(identity).await;
    ending_a_users_sessions(identity).await;
    unknown_and_duplicate_sessions(identity).await;
    expired_sessions_are_pruned(identity).await;
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

fn token() -> TokenId {
    TokenId(Uuid::now_v7())
}

/// Starts a fresh session of `user` at `t0()` whose current token expires after an hour.
async fn start(identity: &dyn Identity, user: UserId) -> RefreshSession {
    let session = RefreshSession {
        id: SessionId(Uuid::now_v7()),
        user,
        current: token(),
        expires_at: t0() + Duration::hours(1),
    };
    identity.start_session(&session).await.expect("start session");
    session
}

#[track_caller]
fn assert_unauthorized(result: crate::error::Result<UserId>, why: &str) {
    match result {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unauthorized, "{why}: {e}"),
        Ok(user) => panic!("{why}: the rotation succeeded for {user}"),
    }
}

/// The current token rotates (returning the user), and the new one is current next time.
pub async fn sessions_rotate_once(identity: &dyn Identity) {
    let (user, _) = fresh();
    let s = start(identity, user).await;
    let (t1, t2) = (token(), token());
    assert_eq!(
        identity
            .rotate_session(s.id, s.current, t1, t0() + Duration::hours(2), t0())
            .await
            .expect("rotate the current token"),
        user
    );
    assert_eq!(
        identity
            .rotate_session(s.id, t1, t2, t0() + Duration::hours(3), t0() + Duration::minutes(90))
            .await
            .expect("the new token is current, with the new expiry"),
        user
    );
}

/// Presenting a token that is no longer current revokes the family: even the current token then fails.
pub async fn reused_token_revokes_the_family(identity: &dyn Identity) {
    let (user, _) = fresh();
    let s = start(identity, user).await;
    let t1 = token();
    identity
        .rotate_session(s.id, s.current, t1, t0() + Duration::hours(2), t0())
        .await
        .expect("rotate");
    let reused = identity
        .rotate_session(
            s.id,
            s.current,
            token(),
            t0() + Duration::hours(2),
            t0() + Duration::minutes(1),
        )
        .await;
    assert_unauthorized(reused, "a used refresh token is refused");
    let after = identity
        .rotate_session(
            s.id,
            t1,
            token(),
            t0() + Duration::hours(2),
            t0() + Duration::minutes(2),
        )
        .await;
    assert_unauthorized(after, "a reused token revokes the whole family, the current token too");
    let unknown_token = start(identity, user).await;
    let stranger = identity
        .rotate_session(unknown_token.id, token(), token(), t0() + Duration::hours(2), t0())
        .await;
    assert_unauthorized(stranger, "a token that was never current is refused");
    let current = identity
        .rotate_session(
            unknown_token.id,
            unknown_token.current,
            token(),
            t0() + Duration::hours(2),
            t0(),
        )
        .await;
    assert_unauthorized(current, "a foreign token revokes the family too");
}

/// A token is refused from its expiry on, and its session stays dead.
pub async fn expired_sessions_never_come_back(identity: &dyn Identity) {
    let (user, _) = fresh();
    let s = start(identity, user).await;
    let at_expiry = identity
        .rotate_session(s.id, s.current, token(), t0() + Duration::hours(3), s.expires_at)
        .await;
    assert_unauthorized(at_expiry, "a token is refused at its expiry");
    let later = identity
        .rotate_session(
            s.id,
            s.current,
            token(),
            t0() + Duration::hours(3),
            s.expires_at + Duration::days(1),
        )
        .await;
    assert_unauthorized(later, "an expired session is refused");
    let s = start(identity, user).await;
    let t1 = token();
    identity
        .rotate_session(
            s.id,
            s.current,
            t1,
            t0() + Duration::minutes(30),
            t0() + Duration::minutes(10),
        )
        .await
        .expect("rotate before expiry");
    let shortened = identity
        .rotate_session(
            s.id,
            t1,
            token(),
            t0() + Duration::hours(3),
            t0() + Duration::minutes(45),
        )
        .await;
    assert_unauthorized(shortened, "a rotation sets the new token's expiry");
}

/// A logged-out session cannot be refreshed; ending an unknown session is a no-op.
pub async fn ended_sessions_never_come_back(identity: &dyn Identity) {
    let (user, _) = fresh();
    let s = start(identity, user).await;
    identity.end_session(s.id).await.expect("end session");
    let after = identity
        .rotate_session(s.id, s.current, token(), t0() + Duration::hours(2), t0())
        .await;
    assert_unauthorized(after, "an ended session is refused");
    identity.end_session(s.id).await.expect("end again");
    identity
        .end_session(SessionId(Uuid::now_v7()))
        .await
        .expect("ending an unknown session is ignored");
}

/// Ending a user's sessions ends every live one of that user, counts them, and no other user's.
pub async fn ending_a_users_sessions(identity: &dyn Identity) {
    let ((user, _), (other, _)) = (fresh(), fresh());
    let mine = [start(identity, user).await, start(identity, user).await];
    let ended = start(identity, user).await;
    identity.end_session(ended.id).await.expect("end one");
    let theirs = start(identity, other).await;
    assert_eq!(
        identity.end_user_sessions(user).await.expect("end user sessions"),
        2,
        "counts the live sessions only"
    );
    for s in &mine {
        let r = identity
            .rotate_session(s.id, s.current, token(), t0() + Duration::hours(2), t0())
            .await;
        assert_unauthorized(r, "every session of the user is ended");
    }
    assert_eq!(
        identity
            .rotate_session(theirs.id, theirs.current, token(), t0() + Duration::hours(2), t0())
            .await
            .expect("another user's session lives on"),
        other
    );
    assert_eq!(
        identity.end_user_sessions(user).await.expect("again"),
        0,
        "nothing left to end"
    );
    let (nobody, _) = fresh();
    assert_eq!(identity.end_user_sessions(nobody).await.expect("no sessions"), 0);
}

/// Unknown sessions are unauthorized; starting a session id twice is a conflict that changes nothing.
pub async fn unknown_and_duplicate_sessions(identity: &dyn Identity) {
    let unknown = identity
        .rotate_session(
            SessionId(Uuid::now_v7()),
            token(),
            token(),
            t0() + Duration::hours(1),
            t0(),
        )
        .await;
    assert_unauthorized(unknown, "an unknown session is refused");
    let (user, _) = fresh();
    let s = start(identity, user).await;
    let (thief, _) = fresh();
    let again = RefreshSession {
        user: thief,
        current: token(),
        ..s
    };
    let err: Error = identity.start_session(&again).await.expect_err("duplicate session id");
    assert_eq!(err.kind(), ErrorKind::Conflict, "a session id is started once: {err}");
    assert_eq!(
        identity
            .rotate_session(s.id, s.current, token(), t0() + Duration::hours(2), t0())
            .await
            .expect("the first session is unchanged"),
        user
    );
}

/// `prune_sessions` deletes sessions that expired before the cutoff (at most `limit` per call), and
/// keeps the rest usable.
pub async fn expired_sessions_are_pruned(identity: &dyn Identity) {
    let (user, _) = fresh();
    let session = |days_ago: i64| RefreshSession {
        id: SessionId(Uuid::now_v7()),
        user,
        current: token(),
        expires_at: t0() - Duration::days(days_ago),
    };
    let (gone, gone_too, kept) = (session(40), session(35), session(20));
    for s in [&gone, &gone_too, &kept] {
        identity.start_session(s).await.expect("start session");
    }
    let cutoff = t0() - Duration::days(30);
    assert_eq!(
        identity.prune_sessions(cutoff, 1).await.expect("prune one"),
        1,
        "at most `limit`"
    );
    assert_eq!(identity.prune_sessions(cutoff, 100).await.expect("prune the rest"), 1);
    assert_eq!(identity.prune_sessions(cutoff, 100).await.expect("prune again"), 0);
    let before_expiry = t0() - Duration::days(25);
    for s in [&gone, &gone_too] {
        let refreshed = identity
            .rotate_session(s.id, s.current, token(), t0(), t0() - Duration::days(50))
            .await;
        assert_unauthorized(refreshed, "a pruned session is unknown");
    }
    assert_eq!(
        identity
            .rotate_session(kept.id, kept.current, token(), t0(), before_expiry)
            .await
            .expect("a session expiring after the cutoff is kept"),
        user
    );
}
