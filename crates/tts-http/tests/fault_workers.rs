//! Fault test (b): two API processes (`serve --no-worker`) and two `worker` processes on one PostgreSQL,
//! without a broker and with RabbitMQ; eight clients create tickets through both APIs while a worker is
//! killed with SIGKILL every 1.5 s and a new one started. Every acknowledged ticket ends allocated
//! exactly once with its notification. Prints the counts.
#![cfg(all(feature = "postgres", feature = "amqp"))]

mod process;

use process::EMPLOYEE;
use std::time::Duration;
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::testkit::TestDb;

const CLIENTS: usize = 8;
const LOAD: Duration = Duration::from_secs(8);
const KILL_EVERY: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_on_postgres_lose_nothing_and_allocate_once() {
    killed_workers(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_on_postgres_and_rabbitmq_lose_nothing_and_allocate_once() {
    killed_workers(true).await;
}

/// The variants run one after the other: each loads both cores on its own.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn killed_workers(with_broker: bool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let site = process::Site::variant(&db.url, &data, with_broker);
    process::seed(&site);
    let mut cluster = process::Cluster::start(&site).await;
    let client = reqwest::Client::new();
    let bearer = format!(
        "Bearer {}",
        process::token(&client, &cluster.apis[0].base, EMPLOYEE).await
    );

    let load = process::Load::start(&cluster, &bearer, CLIENTS, "workers die");
    let mut kills = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < LOAD {
        tokio::time::sleep(KILL_EVERY).await;
        let victim = kills % cluster.workers.len();
        process::signal(&cluster.workers[victim], "-KILL");
        let _ = cluster.workers[victim].wait();
        cluster.workers[victim] = process::start_worker(&site);
        kills += 1;
    }
    let (acknowledged, refused) = load.finish().await;
    process::wait_settled(&cluster.apis[0], Duration::from_secs(120)).await;
    cluster.stop();
    if let Some(broker) = &site.broker {
        broker.delete().await;
    }

    let store = PgStore::connect(&PgConfig::new(db.url.clone())).await.expect("connect");
    let (lost, duplicated) = process::audit(&store, &acknowledged).await;
    store.close().await;
    let setup = if with_broker {
        "PostgreSQL + RabbitMQ"
    } else {
        "PostgreSQL"
    };
    println!(
        "2 APIs + 2 workers on {setup}, a worker SIGKILLed every {KILL_EVERY:?} ({kills} kills): \
         acknowledged={} lost={lost} duplicated={duplicated}; refused={}",
        acknowledged.len(),
        refused.len()
    );
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "every acknowledged ticket allocated exactly once"
    );
    assert!(refused.is_empty(), "the APIs never failed a create: {refused:?}");
}
