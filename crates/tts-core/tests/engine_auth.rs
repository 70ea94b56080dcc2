//! Users, logins and sessions through the engine: every command commits all or nothing, failed logins
//! slow down one client on one account only, and an ended session stops its tokens at once.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tts_core::memory::{ManualClock, MemoryPasswords, MemoryStore};
use tts_core::ports::store::{PageRequest, UnitOptions};
use tts_core::ports::{Passwords, Store};
use tts_core::testkit::faults::FaultyStore;
use tts_core::testkit::fixture::three_step;
use tts_core::*;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("time")
}

struct World {
    engine: Engine,
    store: FaultyStore,
    clock: Arc<ManualClock>,
}

fn world_on(store: FaultyStore, passwords: Arc<dyn Passwords>) -> World {
    let clock = Arc::new(ManualClock::new(t0()));
    let engine = Engine::builder(Arc::new(store.clone()))
        .passwords(passwords)
        .clock(clock.clone())
        .build()
        .expect("engine");
    World { engine, store, clock }
}

fn world() -> World {
    world_on(
        FaultyStore::new(Arc::new(MemoryStore::new())),
        Arc::new(MemoryPasswords::new()),
    )
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        full_name: "Ada Lovelace".into(),
        password: Some("a long secret".into()),
    }
}

fn attempt(email: &str, password: &str, client: &str) -> LoginAttempt {
    LoginAttempt {
        email: email.into(),
        password: password.into(),
        client: client.into(),
    }
}

fn new_session(w: &World) -> NewSession {
    NewSession {
        id: SessionId(uuid::Uuid::now_v7()),
        refresh: TokenId(uuid::Uuid::now_v7()),
        expires_at: tts_core::ports::Clock::now(&*w.clock) + Duration::days(7),
    }
}

async fn user_count(w: &World) -> u64 {
    w.engine
        .list_users(Actor::system(), PageRequest::default())
        .await
        .expect("list")
        .total
}

/// A hasher whose hashing fails, as a broken or exhausted one would.
#[derive(Debug)]
struct BrokenHasher;

#[async_trait]
impl Passwords for BrokenHasher {
    async fn hash(&self, _password: &str) -> Result<String> {
        Err(Error::Backend {
            backend: "hasher",
            kind: ErrorKind::Unavailable,
            message: "out of memory".into(),
        })
    }
    async fn verify(&self, _hash: Option<&str>, _password: &str) -> Result<bool> {
        Ok(false)
    }
}

#[tokio::test]
async fn a_user_and_their_password_commit_together() {
    let w = world();
    let user = w
        .engine
        .create_user(Actor::system(), new_user("Ada@Example.com"))
        .await
        .expect("create");
    let session = w
        .engine
        .login(attempt("ada@example.com", "a long secret", "c"), None)
        .await
        .expect("the password set at creation logs in");
    assert_eq!(session.user.id, user.id);

    // The credential write fails: the user is not created either, and a retry is not a conflict.
    w.store.fail_next("set_credential");
    let err = w
        .engine
        .create_user(Actor::system(), new_user("bob@example.com"))
        .await
        .expect_err("injected");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(user_count(&w).await, 1, "no user without their password");
    w.engine
        .create_user(Actor::system(), new_user("bob@example.com"))
        .await
        .expect("a retry creates the user");
}

#[tokio::test]
async fn e_mails_are_checked_as_sent_and_stored_trimmed_in_lower_case() {
    let w = world();
    let padded = format!("  {}  ", "Ada@Example.com");
    let user = w
        .engine
        .create_user(Actor::system(), new_user(&padded))
        .await
        .expect("spaces around an address are trimmed");
    assert_eq!(user.email, "ada@example.com");
    // 254 characters as sent is the limit, spaces included: a long address does not pass by leading
    // whitespace (here U+0085, which `trim` removes) that brings it under the limit once trimmed.
    let long = format!("{}{}@example.com", "\u{85}".repeat(8), "a".repeat(240));
    let refused = [
        long.as_str(),
        "ada\u{15}@example.com",
        "ada lovelace@example.com",
        "ada@example",
        "@example.com",
        "ada@.example.com",
    ];
    for email in refused {
        let err = w
            .engine
            .create_user(Actor::system(), new_user(email))
            .await
            .expect_err(email);
        assert!(
            matches!(&err, Error::Validation(f) if f.iter().any(|f| f.field == "email")),
            "{email:?}: {err:?}"
        );
    }
    assert_eq!(user_count(&w).await, 1, "no refused address was stored");
}

#[tokio::test]
async fn a_failed_hash_writes_nothing() {
    let w = world_on(FaultyStore::new(Arc::new(MemoryStore::new())), Arc::new(BrokenHasher));
    w.engine
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect_err("hashing fails");
    assert_eq!(user_count(&w).await, 0, "nothing was written before the hash");
}

#[tokio::test]
async fn without_a_password_adapter_passwords_are_refused_not_weakly_hashed() {
    let engine = Engine::builder(Arc::new(MemoryStore::new())).build().expect("engine");
    let err = engine
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect_err("no hasher");
    assert!(err.to_string().contains("Passwords"), "{err}");
}

#[tokio::test]
async fn an_email_change_moves_the_login_or_nothing_changes() {
    let w = world();
    let user = w
        .engine
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect("create");
    let change = UserChange {
        email: Some("ada@new.example.com".into()),
        ..UserChange::default()
    };
    w.store.fail_next("set_credential");
    w.engine
        .update_user(Actor::system(), user.id, change.clone())
        .await
        .expect_err("injected");
    let kept = w.engine.session(user.id).await.expect("session").user;
    assert_eq!(
        kept.email, "ada@example.com",
        "the e-mail did not change without its login"
    );
    w.engine
        .login(attempt("ada@example.com", "a long secret", "c"), None)
        .await
        .expect("the old login still works");

    w.engine
        .update_user(Actor::system(), user.id, change)
        .await
        .expect("change");
    w.engine
        .login(attempt("ada@new.example.com", "a long secret", "c"), None)
        .await
        .expect("the login moved with the e-mail");
    let err = w
        .engine
        .login(attempt("ada@example.com", "a long secret", "c"), None)
        .await
        .expect_err("the old e-mail no longer logs in");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn a_profile_change_is_all_or_nothing() {
    let w = world();
    let user = w
        .engine
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect("create");
    let me = Actor::user(user.id);
    let (mine, other) = (new_session(&w), new_session(&w));
    for s in [mine, other] {
        w.engine
            .login(attempt("ada@example.com", "a long secret", "c"), Some(s))
            .await
            .expect("login");
    }
    let change = ProfileChange {
        full_name: Some("Countess of Lovelace".into()),
        new_password: Some("an even longer secret".into()),
        current_password: Some("a long secret".into()),
        email_notifications: None,
    };
    // The last part (ending the other sessions) fails: the name and password stay as they were.
    w.store.fail_next("end_sessions");
    w.engine
        .update_profile(me, Some(mine.id), change.clone())
        .await
        .expect_err("injected");
    assert_eq!(
        w.engine.session(user.id).await.expect("me").user.full_name,
        "Ada Lovelace"
    );
    w.engine
        .login(attempt("ada@example.com", "a long secret", "c"), None)
        .await
        .expect("the old password still works");
    assert!(!w.engine.session_ended(other.id).await.expect("gate"));

    // A wrong current password: a field error, nothing changes.
    let wrong = ProfileChange {
        current_password: Some("not it at all".into()),
        ..change.clone()
    };
    let err = w
        .engine
        .update_profile(me, Some(mine.id), wrong)
        .await
        .expect_err("wrong");
    assert!(
        matches!(&err, Error::Validation(f) if f[0].field == "current_password"),
        "{err}"
    );
    assert_eq!(
        w.engine.session(user.id).await.expect("me").user.full_name,
        "Ada Lovelace"
    );

    let updated = w
        .engine
        .update_profile(me, Some(mine.id), change)
        .await
        .expect("change");
    assert_eq!(updated.full_name, "Countess of Lovelace");
    assert!(
        w.engine.session_ended(other.id).await.expect("gate"),
        "the other session ended"
    );
    assert!(
        !w.engine.session_ended(mine.id).await.expect("gate"),
        "the session that changed the password goes on"
    );
    w.engine
        .login(attempt("ada@example.com", "an even longer secret", "c"), None)
        .await
        .expect("the new password works");
}

#[tokio::test]
async fn failed_logins_slow_down_one_client_and_never_lock_the_owner_out() {
    let w = world();
    w.engine
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect("create");
    let policy = ThrottlePolicy::default();
    for i in 0..=policy.free_failures {
        let err = w
            .engine
            .login(attempt("ada@example.com", "guess", "attacker"), None)
            .await
            .expect_err("wrong password");
        assert_eq!(err.kind(), ErrorKind::Unauthorized, "failure {i} is a plain refusal");
    }
    // The attacker now waits, even with the right password.
    let err = w
        .engine
        .login(attempt("ada@example.com", "a long secret", "attacker"), None)
        .await
        .expect_err("throttled");
    let Error::Throttled { retry_after_secs } = err else {
        panic!("expected a throttle, got {err}")
    };
    assert_eq!(retry_after_secs, policy.base_delay_secs);
    // The owner, from their own address, logs in at once.
    w.engine
        .login(attempt("ada@example.com", "a long secret", "owner"), None)
        .await
        .expect("the owner is not locked out");
    // An unknown account is throttled the same way (no hint that it does not exist).
    for _ in 0..=policy.free_failures {
        w.engine
            .login(attempt("nobody@example.com", "guess", "attacker"), None)
            .await
            .expect_err("unknown");
    }
    assert_eq!(
        w.engine
            .login(attempt("nobody@example.com", "guess", "attacker"), None)
            .await
            .expect_err("throttled")
            .kind(),
        ErrorKind::Throttled
    );
    // After the wait the attacker's client may try again; a success resets its count.
    w.clock
        .advance(Duration::seconds(i64::try_from(retry_after_secs).expect("secs")));
    w.engine
        .login(attempt("ada@example.com", "a long secret", "attacker"), None)
        .await
        .expect("after the wait");
    w.engine
        .login(attempt("ada@example.com", "guess", "attacker"), None)
        .await
        .expect_err("wrong");
    w.engine
        .login(attempt("ada@example.com", "a long secret", "attacker"), None)
        .await
        .expect("one failure after a reset costs no wait");
}

#[tokio::test]
async fn inactive_users_cannot_log_in_or_refresh_and_their_tokens_stop() {
    let w = world();
    let user = w
        .engine
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect("create");
    let s = new_session(&w);
    w.engine
        .login(attempt("ada@example.com", "a long secret", "c"), Some(s))
        .await
        .expect("login");
    let off = UserChange {
        is_active: Some(false),
        ..UserChange::default()
    };
    w.engine
        .update_user(Actor::system(), user.id, off)
        .await
        .expect("deactivate");
    assert!(
        w.engine.session_ended(s.id).await.expect("gate"),
        "access tokens stop at once"
    );
    let err = w
        .engine
        .refresh(s.id, s.refresh, Rotation::Keep)
        .await
        .expect_err("ended");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let err = w
        .engine
        .login(attempt("ada@example.com", "a long secret", "c"), None)
        .await
        .expect_err("inactive");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_ends_the_session() {
    let w = world();
    w.engine
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect("create");
    let s = new_session(&w);
    w.engine
        .login(attempt("ada@example.com", "a long secret", "c"), Some(s))
        .await
        .expect("login");
    let next = TokenId(uuid::Uuid::now_v7());
    let rotate = Rotation::Rotate {
        next,
        expires_at: t0() + Duration::days(7),
    };
    w.engine.refresh(s.id, s.refresh, rotate).await.expect("rotate");
    // The spent token again: somebody holds a copy; the session ends for everybody.
    let err = w.engine.refresh(s.id, s.refresh, rotate).await.expect_err("reused");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(w.engine.session_ended(s.id).await.expect("gate"));
    let again = Rotation::Rotate {
        next: TokenId(uuid::Uuid::now_v7()),
        expires_at: t0() + Duration::days(7),
    };
    w.engine
        .refresh(s.id, next, again)
        .await
        .expect_err("the current token died with its session");

    // Without rotation the same token works until it expires.
    let s = new_session(&w);
    w.engine
        .login(attempt("ada@example.com", "a long secret", "c"), Some(s))
        .await
        .expect("login");
    for _ in 0..3 {
        w.engine.refresh(s.id, s.refresh, Rotation::Keep).await.expect("keep");
    }
    w.clock.advance(Duration::days(8));
    w.engine
        .refresh(s.id, s.refresh, Rotation::Keep)
        .await
        .expect_err("expired");
}

#[tokio::test]
async fn an_ended_session_reaches_other_servers_within_the_poll_interval() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let engine = |store: Arc<MemoryStore>| {
        Engine::builder(store)
            .passwords(Arc::new(MemoryPasswords::new()))
            .clock(clock.clone())
            .build()
            .expect("engine")
    };
    let (a, b) = (engine(store.clone()), engine(store));
    let user = a
        .create_user(Actor::system(), new_user("ada@example.com"))
        .await
        .expect("create");
    let s = NewSession {
        id: SessionId(uuid::Uuid::now_v7()),
        refresh: TokenId(uuid::Uuid::now_v7()),
        expires_at: t0() + Duration::days(7),
    };
    a.login(attempt("ada@example.com", "a long secret", "c"), Some(s))
        .await
        .expect("login");
    assert!(!b.session_ended(s.id).await.expect("gate"), "live on server b");
    a.logout(Actor::user(user.id), s.id).await.expect("logout on server a");
    assert!(a.session_ended(s.id).await.expect("gate"), "server a refuses at once");
    let poll = Duration::milliseconds(i64::try_from(EngineConfig::default().session_gate.poll_ms).expect("ms"));
    clock.advance(poll);
    assert!(
        b.session_ended(s.id).await.expect("gate"),
        "server b learns it within one poll interval"
    );
    let err = a
        .logout(Actor::user(UserId(uuid::Uuid::now_v7())), s.id)
        .await
        .expect_err("someone else's session");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn role_changes_end_sessions_and_members_are_listed_to_staff_only() {
    let w = world();
    let fx = three_step(&w.engine, 1, 2).await.expect("fixture");
    let agent = &fx.agents[0];
    let credential = UserChange {
        password: Some("a long secret".into()),
        ..UserChange::default()
    };
    w.engine
        .update_user(Actor::system(), agent.id, credential)
        .await
        .expect("password");
    let s = new_session(&w);
    w.engine
        .login(attempt(&agent.email, "a long secret", "c"), Some(s))
        .await
        .expect("login");
    w.engine
        .set_membership(Actor::system(), fx.senior_role.id, agent.id, true)
        .await
        .expect("grant");
    assert!(
        w.engine.session_ended(s.id).await.expect("gate"),
        "tokens carrying the old roles stop"
    );
    let members = w
        .engine
        .role_members(fx.actor(agent), fx.agent_role.id)
        .await
        .expect("agents see members");
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|m| m.is_active && !m.user.email.is_empty()));
    let err = w
        .engine
        .role_members(fx.requester_actor(), fx.agent_role.id)
        .await
        .expect_err("requesters do not see e-mails of staff");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
}

#[tokio::test]
async fn requesters_file_tickets_for_themselves_staff_on_behalf_of_others() {
    let w = world();
    let fx = three_step(&w.engine, 1, 1).await.expect("fixture");
    let mut for_someone = NewTicket::new("Printer", "IT");
    for_someone.employee.email = "boss@example.com".into();
    let err = w
        .engine
        .create_ticket(fx.requester_actor(), for_someone.clone(), None)
        .await
        .expect_err("a requester cannot file as someone else");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let mine = w
        .engine
        .create_ticket(fx.requester_actor(), NewTicket::new("Printer", "IT"), None)
        .await
        .expect("own ticket")
        .ticket;
    assert_eq!(mine.employee.email, fx.requester.email, "filled from the profile");
    assert_eq!(mine.employee.name, fx.requester.full_name);
    let agent = fx.actor(&fx.agents[0]);
    let theirs = w
        .engine
        .create_ticket(agent, for_someone, None)
        .await
        .expect("an agent files on someone's behalf")
        .ticket;
    assert_eq!(theirs.employee.email, "boss@example.com");
    let mut reads = w.store.begin(UnitOptions::read()).await.expect("begin");
    assert!(reads.ticket(theirs.id).await.expect("read").is_some());
}
