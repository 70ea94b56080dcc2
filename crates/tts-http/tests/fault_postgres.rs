//! Fault test (d) of the durable-messaging issue: PostgreSQL is stopped for 5 s while eight clients create
//! tickets through a server on it, then started again. While the database is away the API answers 503
//! with `Retry-After` (never a 500, never a hang), the server recovers by itself, and every acknowledged
//! ticket ends allocated exactly once with its notification. Prints the counts.
//!
//! It stops and starts the machine's PostgreSQL cluster (`pg_ctlcluster`), so it is the only test in its
//! binary (cargo runs test binaries one after another), and a guard starts the cluster again even when
//! the test fails.
#![cfg(feature = "postgres")]

mod process;

use process::{EMPLOYEE, Sent};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::testkit::TestDb;

const CLIENTS: usize = 8;
/// Load before the outage, the outage, and load after it.
const BEFORE: Duration = Duration::from_secs(2);
const OUTAGE: Duration = Duration::from_secs(5);
const AFTER: Duration = Duration::from_secs(3);

fn cluster(action: &str) -> bool {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql: a Debian PostgreSQL cluster")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .next()
        .expect("a PostgreSQL version");
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .status()
        .is_ok_and(|s| s.success())
}

fn ready() -> bool {
    Command::new("pg_isready")
        .args(["-h", "127.0.0.1", "-p", "5432", "-q"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts PostgreSQL again when dropped (also when the test panics) and waits until it answers.
struct Outage;

impl Outage {
    fn begin() -> Outage {
        assert!(cluster("stop"), "could not stop PostgreSQL");
        Outage
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if !ready() {
            cluster("start");
        }
        let start = Instant::now();
        while !ready() && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[derive(Default)]
struct Tally {
    acknowledged: Vec<i64>,
    unavailable: usize,
    without_retry_after: usize,
    other: Vec<u16>,
    no_answer: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_503_then_recovers_and_loses_nothing() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let site = process::Site::new(&db.url, &data);
    process::seed(&site);
    let mut server = process::start(&site).await;
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {}", process::token(&client, &server.base, EMPLOYEE).await);

    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (client, bearer, base) = (client.clone(), bearer.clone(), server.base.clone());
        let (tally, stop) = (Arc::clone(&tally), Arc::clone(&stop));
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let sent = process::create(&client, &base, &bearer, &format!("outage {c}-{n}")).await;
                let created = matches!(sent, Sent::Created(_));
                {
                    let mut t = tally.lock().expect("tally");
                    match sent {
                        Sent::Created(id) => t.acknowledged.push(id),
                        Sent::Refused(503, retry_after) => {
                            t.unavailable += 1;
                            t.without_retry_after += usize::from(!retry_after);
                        }
                        Sent::Refused(status, _) => t.other.push(status),
                        Sent::Failed => t.no_answer += 1,
                    }
                }
                if !created {
                    // A client honouring Retry-After would wait longer; a short pause keeps the test brief.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    tokio::time::sleep(BEFORE).await;
    let outage = Outage::begin();
    tokio::time::sleep(OUTAGE).await;
    drop(outage);
    tokio::time::sleep(AFTER).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    process::wait_settled(&server, Duration::from_secs(120)).await;
    process::signal(&server.child, "-TERM");
    process::wait_exit(&mut server.child, Duration::from_secs(30));

    let store = PgStore::connect(&PgConfig::new(db.url.clone())).await.expect("connect");
    let tally = std::mem::take(&mut *tally.lock().expect("tally"));
    let (lost, duplicated) = process::audit(&store, &tally.acknowledged).await;
    store.close().await;
    println!(
        "PostgreSQL stopped for {OUTAGE:?} under load: acknowledged={} lost={lost} duplicated={duplicated}; \
         503={} (without Retry-After: {}), other statuses={:?}, no answer={}",
        tally.acknowledged.len(),
        tally.unavailable,
        tally.without_retry_after,
        tally.other,
        tally.no_answer
    );
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "every acknowledged ticket allocated exactly once"
    );
    assert!(
        tally.other.is_empty(),
        "only 201 or 503 while the database was away: {:?}",
        tally.other
    );
    assert_eq!(tally.no_answer, 0, "the server kept answering");
    assert_eq!(tally.without_retry_after, 0, "every 503 says when to retry");
    assert!(tally.unavailable > 0, "the outage was seen by the clients");
}
