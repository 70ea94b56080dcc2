//! The SQLite store against real database files: the unchanged conformance suite, the engine story,
//! and the concurrency guarantees across two pools on one file.

mod common;

use std::sync::Arc;
use tts_adapters::sql::sqlite::{Durability, SqliteConfig, SqliteStore};
use tts_core::ports::Store;

async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    let url = format!("sqlite://{}", dir.path().join("tts.db").display());
    SqliteStore::connect(&SqliteConfig::new(url))
        .await
        .expect("open sqlite")
}

#[tokio::test]
async fn sqlite_store_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::conformance(&store(&dir).await).await;
}

#[tokio::test]
async fn sqlite_runs_the_engine_story() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::engine_story(Arc::new(store(&dir).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_pools_allocate_fairly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (store(&dir).await, store(&dir).await);
    common::two_pools_allocate_fairly(Arc::new(a), Arc::new(b), 8, 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_actions_one_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (store(&dir).await, store(&dir).await);
    common::concurrent_actions_one_wins(Arc::new(a), Arc::new(b)).await;
}

#[tokio::test]
async fn migrations_are_idempotent_and_data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = store(&dir).await;
    let mut tx = first.begin(tts_core::ports::Access::Write).await.expect("begin");
    assert_eq!(tx.next_ticket_seq(2030).await.expect("seq"), 1);
    tx.commit().await.expect("commit");
    first.close().await;
    let mut config = SqliteConfig::new(format!("sqlite://{}", dir.path().join("tts.db").display()));
    config.durability = Durability::Normal;
    let again = SqliteStore::connect(&config).await.expect("reopen");
    let mut tx = again.begin(tts_core::ports::Access::Write).await.expect("begin");
    assert_eq!(
        tx.next_ticket_seq(2030).await.expect("seq"),
        2,
        "counters survive a restart"
    );
}

#[tokio::test]
async fn an_unopenable_database_names_the_url() {
    let err = SqliteStore::connect(&SqliteConfig::new("sqlite:///nonexistent-dir/deeper/tts.db"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/nonexistent-dir/deeper/tts.db"), "{text}");
    assert_eq!(err.kind(), tts_core::ErrorKind::Unavailable);
}

#[tokio::test]
async fn engine_on_sqlite_with_local_identity_logs_users_in() {
    use tts_adapters::identity::{IdentityConfig, LocalIdentity};
    use tts_core::{Actor, Engine, NewUser};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir).await;
    let identity = LocalIdentity::sqlite(store.writer().clone(), IdentityConfig::default());
    let engine = Engine::builder()
        .store(Arc::new(store))
        .identity(Arc::new(identity))
        .build()
        .expect("engine");
    let new = NewUser {
        email: "Ada@Example.com".into(),
        full_name: "Ada".into(),
        password: Some("a long secret".into()),
    };
    let user = engine
        .create_user(Actor::system(), new)
        .await
        .expect("a user with a password is created");
    assert_eq!(
        engine
            .login("ada@example.com", "a long secret")
            .await
            .expect("login")
            .user
            .id,
        user.id
    );
    engine
        .update_user(
            Actor::user(user.id),
            user.id,
            None,
            Some("ada@new.example.com".into()),
            None,
        )
        .await
        .expect("rename");
    assert_eq!(
        engine
            .login("ada@new.example.com", "a long secret")
            .await
            .expect("new e-mail")
            .user
            .id,
        user.id
    );
    assert!(
        engine.login("ada@example.com", "a long secret").await.is_err(),
        "the old e-mail no longer logs in"
    );
}

/// Group commit: concurrent write units share commits, yet each is atomic on its own. Units dropped
/// without commit (interleaved with committing ones) leave nothing, not even a gap in ticket numbers;
/// every ticket acknowledged is visible to readers at once and survives reopening the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_keeps_units_atomic_and_durable() {
    use tts_core::ports::Access;
    use tts_core::{Engine, NewTicket, TicketStatus};
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Arc::new(store(&dir).await);
    let engine = Arc::new(Engine::builder().store(s.clone()).build().expect("engine"));
    let user = tts_core::Actor::user(tts_core::UserId(tts_core::uuid::Uuid::now_v7()));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..96 {
        let (engine, s) = (engine.clone(), s.clone());
        tasks.spawn(async move {
            if i % 3 == 2 {
                // Takes a number and a ticket id, then gives up: must roll back inside its group.
                let mut unit = s.begin(Access::Write).await.expect("begin");
                unit.next_ticket_seq(2026).await.expect("seq");
                unit.next_ticket_id().await.expect("id");
                drop(unit);
                None
            } else {
                let t = engine
                    .create_ticket(user, NewTicket::new(format!("t{i}"), "Group"))
                    .await
                    .expect("create");
                // Acknowledged means committed: a read unit on another connection sees it.
                let seen = engine.ticket(user, t.id.into()).await.expect("visible after commit");
                assert_eq!(seen.status, TicketStatus::Open);
                Some(t.ticket_id.seq())
            }
        });
    }
    let mut seqs = Vec::new();
    while let Some(r) = tasks.join_next().await {
        seqs.extend(r.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=64).collect::<Vec<u32>>(), "no gap, no duplicate");
    s.close().await;
    let reopened = store(&dir).await;
    let engine = Engine::builder().store(Arc::new(reopened)).build().expect("engine");
    let page = engine
        .list_tickets(tts_core::Actor::admin(user.user), Default::default())
        .await
        .expect("list");
    assert_eq!(page.total, 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_servers_allocate_in_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (store(&dir).await, store(&dir).await);
    common::two_servers_allocate_in_batches(Arc::new(a), Arc::new(b), 1_000).await;
}
