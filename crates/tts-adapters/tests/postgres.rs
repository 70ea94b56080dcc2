//! The PostgreSQL store against the real server at 127.0.0.1:5432, each test in its own database:
//! the engine story, the concurrency guarantees across two pools, and what only a server has
//! (concurrent migrations, a server that is down).

mod common;

use std::sync::Arc;
use std::time::Duration;
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::testkit::TestDb;

async fn store(db: &TestDb, connections: u32) -> PgStore {
    let mut config = PgConfig::new(db.url.clone());
    config.max_connections = connections;
    PgStore::connect(&config).await.expect("connect to the test database")
}

#[tokio::test]
async fn postgres_runs_the_engine_story() {
    let db = TestDb::create().await;
    common::engine_story(Arc::new(store(&db, 4).await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_pools_allocate_fairly() {
    let db = TestDb::create().await;
    let (a, b) = (store(&db, 8).await, store(&db, 8).await);
    common::two_pools_allocate_fairly(Arc::new(a), Arc::new(b), 8, 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_actions_one_wins() {
    let db = TestDb::create().await;
    let (a, b) = (store(&db, 4).await, store(&db, 4).await);
    common::concurrent_actions_one_wins(Arc::new(a), Arc::new(b)).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_servers_allocate_in_batches() {
    let db = TestDb::create().await;
    let (a, b) = (store(&db, 8).await, store(&db, 8).await);
    common::two_servers_allocate_in_batches(Arc::new(a), Arc::new(b), 1_000).await;
}
