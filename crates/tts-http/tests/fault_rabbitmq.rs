//! Fault test (c) of the durable-messaging issue: two APIs and two workers on PostgreSQL + RabbitMQ;
//! eight clients create tickets while RabbitMQ is stopped for 10 s (`rabbitmqctl stop_app`) and started
//! again. The APIs keep acknowledging (the outbox holds what the broker cannot take), the relays and
//! consumers reconnect by themselves, and every acknowledged ticket ends allocated exactly once with its
//! notification. Prints the counts.
//!
//! It stops the machine's RabbitMQ, so it is the only test in its binary (cargo runs test binaries one
//! after another), and a guard starts RabbitMQ again even when the test fails.
#![cfg(all(feature = "postgres", feature = "amqp"))]

mod process;

use process::EMPLOYEE;
use std::process::Command;
use std::time::{Duration, Instant};
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::testkit::TestDb;

const CLIENTS: usize = 8;
/// Load before the outage, the outage, and load after it.
const BEFORE: Duration = Duration::from_secs(2);
const OUTAGE: Duration = Duration::from_secs(10);
const AFTER: Duration = Duration::from_secs(3);

fn rabbitmqctl(args: &[&str]) -> bool {
    Command::new("rabbitmqctl")
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn answering() -> bool {
    std::net::TcpStream::connect_timeout(&"127.0.0.1:5672".parse().expect("address"), Duration::from_secs(1)).is_ok()
}

/// Starts RabbitMQ again when dropped (also when the test panics) and waits until it answers.
struct Outage;

impl Outage {
    fn begin() -> Outage {
        assert!(rabbitmqctl(&["stop_app"]), "could not stop RabbitMQ");
        Outage
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        rabbitmqctl(&["start_app"]);
        let start = Instant::now();
        while !answering() && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_loses_nothing_and_recovers_by_itself() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let site = process::Site::with_broker(&db.url, &data);
    process::seed(&site);
    let mut cluster = process::Cluster::start(&site).await;
    let client = reqwest::Client::new();
    let bearer = format!(
        "Bearer {}",
        process::token(&client, &cluster.apis[0].base, EMPLOYEE).await
    );

    let load = process::Load::start(&cluster, &bearer, CLIENTS, "broker away");
    tokio::time::sleep(BEFORE).await;
    let before = load.acknowledged();
    let outage = Outage::begin();
    tokio::time::sleep(OUTAGE / 2).await;
    let readiness = |base: String| {
        let client = client.clone();
        async move {
            let r = client.get(format!("{base}/readyz")).send().await.expect("readyz");
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.expect("readiness body"))
        }
    };
    let (status, body) = readiness(cluster.apis[0].base.clone()).await;
    assert_eq!(status, 503, "not ready without the broker: {body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    assert_ne!(body["checks"]["broker"], "ok", "{body}");
    tokio::time::sleep(OUTAGE / 2).await;
    let during = load.acknowledged() - before;
    drop(outage);
    tokio::time::sleep(AFTER).await;
    let (acknowledged, refused) = load.finish().await;
    process::wait_settled(&cluster.apis[0], Duration::from_secs(120)).await;
    let (status, body) = readiness(cluster.apis[0].base.clone()).await;
    assert_eq!(status, 200, "ready again with the broker back: {body}");
    cluster.stop();
    if let Some(broker) = &site.broker {
        broker.delete().await;
    }

    let store = PgStore::connect(&PgConfig::new(db.url.clone())).await.expect("connect");
    let (lost, duplicated) = process::audit(&store, &acknowledged).await;
    store.close().await;
    println!(
        "2 APIs + 2 workers on PostgreSQL + RabbitMQ, RabbitMQ stopped for {OUTAGE:?}: acknowledged={} \
         (during the outage {during}) lost={lost} duplicated={duplicated}; refused={}",
        acknowledged.len(),
        refused.len()
    );
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "every acknowledged ticket allocated exactly once"
    );
    assert!(during > 0, "the APIs kept acknowledging while the broker was away");
    assert!(refused.is_empty(), "the APIs never failed a create: {refused:?}");
}
