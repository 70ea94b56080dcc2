//! Fault test (a) of the durable-messaging issue: the embedded server (SQLite, outbox as the queue) is
//! killed with SIGKILL in the middle of a burst of creates, restarted on the same file, then stopped with
//! SIGTERM in the middle of a second burst and restarted again. Every acknowledged ticket must end
//! allocated exactly once, with its assignment notification, and nothing may be left in the outbox or
//! the dead-letter table. The test prints the acknowledged / lost / duplicated counts.

mod process;

use process::{EMPLOYEE, Running, Sent};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tts_adapters::sql::sqlite::{SqliteConfig, SqliteStore};

/// Acknowledged creates per burst before the server is stopped.
const BURST: usize = 300;
/// Concurrent clients.
const CLIENTS: usize = 8;

/// Creates tickets from several clients until `BURST` were acknowledged, then stops the server with
/// `sig` while creates are still in flight; returns the ids of the acknowledged tickets.
async fn burst_then_stop(server: &mut Running, sig: &str) -> Vec<i64> {
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {}", process::token(&client, &server.base, EMPLOYEE).await);
    let acked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (client, bearer, base) = (client.clone(), bearer.clone(), server.base.clone());
        let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                match process::create(&client, &base, &bearer, &format!("crash test {c}-{n}")).await {
                    Sent::Created(id) => acked.lock().expect("acked").push(id),
                    _ => return,
                }
            }
        }));
    }
    let start = Instant::now();
    while acked.lock().expect("acked").len() < BURST {
        assert!(start.elapsed() < Duration::from_secs(60), "the burst took over 60 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    process::signal(&server.child, sig);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    process::wait_exit(&mut server.child, Duration::from_secs(30));
    acked.lock().expect("acked").clone()
}

async fn open(db: &str) -> SqliteStore {
    SqliteStore::connect(&SqliteConfig::new(db))
        .await
        .expect("open the database")
}

/// What a stopped server left for the next start.
async fn left_over(db: &str, after: &str) {
    let store = open(db).await;
    let (unallocated, outbox) = process::left_over(&store).await;
    store.close().await;
    println!("after {after}: {unallocated} tickets unallocated, {outbox} messages waiting in the outbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_tickets_survive_kill_9_and_sigterm_and_are_allocated_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("tts.db").display());
    let data = dir.path().join("data");
    let site = process::Site::new(&db, &data);
    process::seed(&site);

    let mut first = process::start(&site).await;
    let mut acknowledged = burst_then_stop(&mut first, "-KILL").await;
    left_over(&db, "SIGKILL").await;
    let mut second = process::start(&site).await;
    acknowledged.extend(burst_then_stop(&mut second, "-TERM").await);
    left_over(&db, "SIGTERM").await;
    let mut last = process::start(&site).await;
    process::wait_settled(&last, Duration::from_secs(120)).await;
    process::signal(&last.child, "-TERM");
    process::wait_exit(&mut last.child, Duration::from_secs(30));

    let store = open(&db).await;
    let (lost, duplicated) = process::audit(&store, &acknowledged).await;
    store.close().await;
    println!(
        "crash test (SIGKILL, then SIGTERM, mid-burst): acknowledged={} lost={lost} duplicated={duplicated}",
        acknowledged.len()
    );
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "every acknowledged ticket allocated exactly once"
    );
}
