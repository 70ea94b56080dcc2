//! The PostgreSQL store against the real server at 127.0.0.1:5432, each test in its own database: the
//! store conformance suite (one test per case, `postgres_store::<trait>::<rule>`, the locking cases on
//! two pools standing in for two servers), and what only a server has (concurrent migrations, a server
//! that is down).

use std::time::Duration;
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::testkit::TestDb;
use tts_core::testkit::store::Fresh;

async fn store(db: &TestDb, connections: u32) -> PgStore {
    let mut config = PgConfig::new(db.url.clone());
    config.max_connections = connections;
    PgStore::connect(&config).await.expect("connect to the test database")
}

tts_core::store_conformance! {
    /// The store suite on PostgreSQL: a throw-away database per case (dropped after the handles, also
    /// when the case panics); the locking cases race two pools of 8 connections on it.
    mod postgres_store {
        fresh: async || {
            let db = TestDb::create().await;
            Fresh::new(store(&db, 4).await).keep(db)
        },
        two_handles: async || {
            let db = TestDb::create().await;
            let (a, b) = (store(&db, 8).await, store(&db, 8).await);
            Fresh::two(a, b).keep(db)
        },
    }
}

/// `Store::traffic` counts what a unit sends: `BEGIN`, each statement, `COMMIT`, one call each.
#[tokio::test]
async fn traffic_counts_every_call_and_commit() {
    use tts_core::ports::Store;
    use tts_core::ports::store::UnitOptions;
    let db = TestDb::create().await;
    let store = store(&db, 2).await;
    let before = store.traffic().expect("a SQL store counts");
    let mut unit = store.begin(UnitOptions::write()).await.expect("begin");
    let id = tts_core::MessageId(tts_core::uuid::Uuid::now_v7());
    let now = tts_core::chrono::Utc::now();
    assert!(unit.record_processed("bench", id, now).await.expect("insert"));
    unit.commit().await.expect("commit");
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(after.units - before.units, 1);
    assert_eq!(after.round_trips - before.round_trips, 3, "{before:?} -> {after:?}");
    assert_eq!(after.statements - before.statements, 3, "{before:?} -> {after:?}");
    assert_eq!(after.commits - before.commits, 1, "{before:?} -> {after:?}");
}

/// A read unit is a pooled connection without a transaction: its statements are its only calls (no
/// `BEGIN`, no `ROLLBACK`), and a write sent in it is refused before it reaches the database, since
/// nothing would hold it back until a commit.
#[tokio::test]
async fn a_read_unit_sends_only_its_statements_and_refuses_writes() {
    use tts_core::ports::Store;
    use tts_core::ports::store::UnitOptions;
    let db = TestDb::create().await;
    let store = store(&db, 2).await;
    let before = store.traffic().expect("a SQL store counts");
    let mut unit = store.begin(UnitOptions::read()).await.expect("begin");
    let id = tts_core::MessageId(tts_core::uuid::Uuid::now_v7());
    assert!(!unit.processed("bench", id).await.expect("a read"));
    drop(unit);
    let after = store.traffic().expect("a SQL store counts");
    assert_eq!(
        (
            after.units - before.units,
            after.round_trips - before.round_trips,
            after.commits - before.commits
        ),
        (1, 1, 0),
        "{before:?} -> {after:?}"
    );

    let mut unit = store.begin(UnitOptions::read()).await.expect("begin");
    let now = tts_core::chrono::Utc::now();
    let refused = unit
        .record_processed("bench", id, now)
        .await
        .expect_err("a write in a read unit");
    assert_eq!(refused.kind(), tts_core::ErrorKind::Internal, "{refused}");
    drop(unit);
    let mut unit = store.begin(UnitOptions::read()).await.expect("begin");
    assert!(
        !unit.processed("bench", id).await.expect("a read"),
        "the refused write left nothing"
    );
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let db = TestDb::create().await;
    let s = store(&db, 2).await;
    s.migrate().await.expect("second migrate is a no-op");
    store(&db, 2)
        .await
        .migrate()
        .await
        .expect("another server migrating is a no-op");
}

#[tokio::test]
async fn a_down_server_gives_a_clear_error_not_a_hang() {
    let mut config = PgConfig::new("postgres://tts:hunter2@127.0.0.1:1/tts");
    config.acquire_timeout = Duration::from_secs(2);
    let err = PgStore::connect(&config).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("hunter2"), "the password must not leak: {text}");
    assert_eq!(err.kind(), tts_core::ErrorKind::Unavailable);
}
