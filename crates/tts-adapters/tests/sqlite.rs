//! The SQLite store against real database files: the store conformance suite (one test per case,
//! `sqlite_store::<trait>::<rule>`, the locking cases on two pools on one file), and what only SQLite has
//! (migrations on a file, group commit).

use std::sync::Arc;
use tts_adapters::identity::Argon2Passwords;
use tts_adapters::sql::sqlite::{Durability, SqliteConfig, SqliteStore};
use tts_core::chrono::{Datelike, Utc};
use tts_core::ports::Store;
use tts_core::ports::store::UnitOptions;
use tts_core::testkit::store::Fresh;
use tts_core::{Actor, Engine, ErrorKind, LoginAttempt, NewTicket, NewUser, TicketStatus, UserChange};

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("tts.db").display())
}

async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::connect(&SqliteConfig::new(url(dir)))
        .await
        .expect("open sqlite")
}

tts_core::store_conformance! {
    /// The store suite on SQLite: a database file in a new temporary directory per case; the locking
    /// cases race two stores (two pools, two writers) on one file.
    mod sqlite_store {
        fresh: async || {
            let dir = tempfile::tempdir().expect("tempdir");
            Fresh::new(store(&dir).await).keep(dir)
        },
        two_handles: async || {
            let dir = tempfile::tempdir().expect("tempdir");
            let (a, b) = (store(&dir).await, store(&dir).await);
            Fresh::two(a, b).keep(dir)
        },
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = store(&dir).await;
    first.migrate().await.expect("a second migrate is a no-op");
    let mut tx = first.begin(UnitOptions::write()).await.expect("begin");
    assert_eq!(tx.take_ticket_keys(2030).await.expect("keys").1, 1);
    tx.commit().await.expect("commit");
    first.close().await;
    let mut config = SqliteConfig::new(url(&dir));
    config.durability = Durability::Normal;
    let again = SqliteStore::connect(&config).await.expect("reopen");
    let mut tx = again.begin(UnitOptions::write()).await.expect("begin");
    assert_eq!(
        tx.take_ticket_keys(2030).await.expect("keys").1,
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
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

/// The real password adapter on the real store: a user created with a password logs in (e-mail in any
/// case), the login moves with an e-mail change, and the old e-mail stops working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_on_sqlite_logs_users_in_with_argon2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::builder(Arc::new(store(&dir).await))
        .passwords(Arc::new(Argon2Passwords::new()))
        .build()
        .expect("engine");
    let login = |email: &str| LoginAttempt {
        email: email.into(),
        password: "a long secret".into(),
        client: "192.0.2.1".into(),
    };
    let new = NewUser {
        email: "Ada@Example.com".into(),
        full_name: "Ada".into(),
        password: Some("a long secret".into()),
    };
    let user = engine
        .create_user(Actor::system(), new)
        .await
        .expect("a user with a password is created");
    let session = engine.login(login("ada@example.com"), None).await.expect("login");
    assert_eq!(session.user.id, user.id);
    let change = UserChange {
        email: Some("ada@new.example.com".into()),
        ..UserChange::default()
    };
    engine
        .update_user(Actor::user(user.id), user.id, change)
        .await
        .expect("new e-mail");
    let session = engine.login(login("ADA@new.example.com"), None).await.expect("login");
    assert_eq!(session.user.id, user.id);
    let err = engine.login(login("ada@example.com"), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "the old e-mail no longer logs in");
}

/// Group commit: concurrent write units share commits, yet each is atomic on its own. Units dropped
/// without commit (interleaved with committing ones) leave nothing, not even a gap in ticket numbers;
/// every ticket acknowledged is visible to readers at once and survives reopening the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_keeps_units_atomic_and_durable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Arc::new(store(&dir).await);
    let engine = Arc::new(Engine::builder(s.clone()).build().expect("engine"));
    let user = Actor::user(tts_core::UserId(tts_core::uuid::Uuid::now_v7()));
    let year = Utc::now().year();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..96 {
        let (engine, s) = (engine.clone(), s.clone());
        tasks.spawn(async move {
            if i % 3 == 2 {
                // Takes a number and a ticket id, then gives up (background units too): must roll back
                // inside its group.
                let options = if i % 2 == 0 {
                    UnitOptions::write()
                } else {
                    UnitOptions::background()
                };
                let mut unit = s.begin(options).await.expect("begin");
                unit.take_ticket_keys(year).await.expect("keys");
                drop(unit);
                None
            } else {
                let t = engine
                    .create_ticket(user, NewTicket::new(format!("t{i}"), "Group"), None)
                    .await
                    .expect("create")
                    .ticket;
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
    let engine = Engine::builder(Arc::new(reopened)).build().expect("engine");
    let page = engine
        .list_tickets(Actor::admin(user.user), Default::default())
        .await
        .expect("list");
    assert_eq!(page.total, 64);
}

/// `Store::traffic` counts what a unit sends: a grouped write unit opens with one call of three
/// statements (`BEGIN IMMEDIATE; SAVEPOINT; SELECT` the outbox watermark), each write is one call, and
/// the group's `COMMIT` is one more call and one commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traffic_counts_calls_statements_and_the_group_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(&dir).await;
    let before = store.traffic().expect("a SQL store counts");
    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    let id = tts_core::MessageId(tts_core::uuid::Uuid::now_v7());
    assert!(unit.record_processed("bench", id, Utc::now()).await.expect("insert"));
    unit.commit().await.expect("commit");
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(after.units - before.units, 1);
    assert_eq!(after.round_trips - before.round_trips, 3, "{before:?} -> {after:?}");
    assert_eq!(after.statements - before.statements, 5, "{before:?} -> {after:?}");
    assert_eq!(after.commits - before.commits, 1, "{before:?} -> {after:?}");
}

/// Writes `units` units of 2,000 dedup records each (about 10 MB of WAL for 50 units).
async fn fill_wal(store: &SqliteStore, units: usize) {
    for _ in 0..units {
        let ids: Vec<tts_core::MessageId> = (0..2_000)
            .map(|_| tts_core::MessageId(tts_core::uuid::Uuid::now_v7()))
            .collect();
        let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
        unit.record_processed_many("checkpoint-test", &ids, Utc::now())
            .await
            .expect("insert");
        unit.commit().await.expect("commit");
    }
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// With a checkpoint interval no commit checkpoints: the database file stays as it was however large
/// the WAL grows, until the background task copies the WAL into it, which it does within a few
/// intervals of the writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_is_checkpointed_in_the_background_not_by_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, wal) = (dir.path().join("tts.db"), dir.path().join("tts.db-wal"));
    let mut config = SqliteConfig::new(url(&dir));
    config.checkpoint_interval = Some(std::time::Duration::from_secs(3_600));
    let idle = SqliteStore::connect(&config).await.expect("open sqlite");
    let migrated = file_len(&db);
    fill_wal(&idle, 50).await;
    assert!(
        file_len(&wal) > 8 << 20,
        "the WAL grew past SQLite's 1,000-page checkpoint: {}",
        file_len(&wal)
    );
    assert_eq!(
        file_len(&db),
        migrated,
        "no commit copied the WAL into the database file"
    );
    idle.close().await;
    drop(idle);

    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("tts.db");
    let mut config = SqliteConfig::new(url(&dir));
    config.checkpoint_interval = Some(std::time::Duration::from_millis(50));
    let store = SqliteStore::connect(&config).await.expect("open sqlite");
    let migrated = file_len(&db);
    fill_wal(&store, 50).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while file_len(&db) < migrated + (8 << 20) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        file_len(&db) >= migrated + (8 << 20),
        "the background checkpoint copied the WAL into the database file: {} -> {} bytes",
        migrated,
        file_len(&db)
    );
}
