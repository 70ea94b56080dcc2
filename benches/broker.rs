//! Durable messaging (issue 11, item 9). A plain `main`: `cargo bench -p tts-benches --bench broker
//! [-- PART...]` with `PART` `fanout` and/or `cluster` (default both); `--test` is a smoke run.
//!
//! **fanout**: `TTS_BROKER_MESSAGES` (default 20,000) notification messages published in batches of 100
//! and consumed (receive + ack, one consumer) through the `Queue` port: the in-process `MemoryQueue`, and
//! `AmqpQueue` on RabbitMQ (persistent, publisher confirms per batch, prefetch 64) with quorum and with
//! classic queues; next to a raw lapin floor measured in the same run, doing the same work with no
//! adapter in between (confirm-mode channel, batch publish then wait for the confirms, `basic.consume`
//! with prefetch 64, one ack per message). Target: the adapter reaches >= 50% of the floor.
//!
//! **cluster**: end to end on PostgreSQL with the release `tts-server` (built when missing; see
//! `http_load`): two `serve --no-worker` and two `worker` processes, with RabbitMQ (`TTS_AMQP_URL`,
//! a unique `TTS_AMQP_PREFIX`) and without (the outbox is the queue). Phase 1: `TTS_LOAD_CONNECTIONS`
//! (default 16) connections split over both APIs create tickets back to back for `TTS_LOAD_SECS`
//! (default 10 s), then the backlog is drained: created/s, created-and-assigned/s (created / (phase +
//! drain)), create p50/p99. Phase 2: half the created-and-assigned rate as an open loop for 5 s while a
//! sampler creates one ticket every 50 ms and polls it every 2 ms until it is allocated: create p50/p99
//! at half load and create -> assigned p50/p99, an upper bound of the outbox lag (commit -> relay
//! publish -> consumer). Target: outbox lag p99 <= 100 ms at half load.

use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use reqwest::Client;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tts_adapters::amqp::{AmqpConfig, AmqpQueue, QueueKind};
use tts_benches::server::{free_port, server_binary};
use tts_core::ids::MessageId;
use tts_core::memory::MemoryQueue;
use tts_core::ports::queue::{Queue, QueueMessage};

const BATCH: usize = 100;
const PASSWORD: &str = "bench-pass-123";
const REQUESTER: &str = "employee@demo.tts.example";
const PAYLOAD: &str =
    r#"{"subject": "Load test: laptop does not boot", "category": "Technical Support", "priority": "high"}"#;

fn amqp_url() -> String {
    std::env::var("TTS_BENCH_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn message(n: usize) -> QueueMessage {
    QueueMessage {
        id: MessageId(uuid::Uuid::now_v7()),
        kind: "notification.requested".into(),
        payload: serde_json::json!({"type": "notification.requested", "user": uuid::Uuid::now_v7(),
            "kind": "task_assignment", "title": format!("Ticket TKT-2026-{n:04} assigned to you"),
            "ticket": n}),
    }
}

/// Messages per second through the port: a producer publishing batches and a consumer acking each.
async fn through_port(queue: &dyn Queue, q: &str, n: usize) -> f64 {
    let messages: Vec<(&str, QueueMessage)> = (0..n).map(|i| (q, message(i))).collect();
    let start = Instant::now();
    let produce = async {
        for chunk in messages.chunks(BATCH) {
            queue.publish_all(chunk).await.expect("publish");
        }
    };
    let consume = async {
        let mut got = 0;
        while got < n {
            match queue.receive(q).await.expect("receive") {
                Some(d) => {
                    queue.ack(&d).await.expect("ack");
                    got += 1;
                }
                None => queue.wait(q).await,
            }
        }
    };
    tokio::join!(produce, consume);
    n as f64 / start.elapsed().as_secs_f64()
}

/// The same work on lapin alone.
async fn raw_lapin(kind: QueueKind, n: usize) -> f64 {
    use futures_util::StreamExt;
    let q = format!("tts-bench-raw-{}", uuid::Uuid::now_v7().simple());
    let conn = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ");
    let publisher = conn.create_channel().await.expect("channel");
    publisher
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from(kind.as_str().as_bytes().to_vec())),
    );
    publisher
        .queue_declare(q.as_str().into(), QueueDeclareOptions::durable(), args)
        .await
        .expect("declare");
    let consumer_channel = conn.create_channel().await.expect("channel");
    consumer_channel
        .basic_qos(64, BasicQosOptions::default())
        .await
        .expect("qos");
    let mut stream = consumer_channel
        .basic_consume(
            q.as_str().into(),
            "raw".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let bodies: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let m = message(i);
            (m.id.0.to_string(), serde_json::to_vec(&m.payload).expect("json"))
        })
        .collect();
    let start = Instant::now();
    let produce = async {
        for chunk in bodies.chunks(BATCH) {
            let mut confirms = Vec::with_capacity(chunk.len());
            for (id, body) in chunk {
                let props = BasicProperties::default()
                    .with_message_id(id.as_str().into())
                    .with_delivery_mode(2);
                confirms.push(
                    publisher
                        .basic_publish(
                            "".into(),
                            q.as_str().into(),
                            BasicPublishOptions::default(),
                            body,
                            props,
                        )
                        .await
                        .expect("publish"),
                );
            }
            for c in confirms {
                assert!(c.await.expect("confirm").is_ack());
            }
        }
    };
    let consume = async {
        for _ in 0..n {
            let d = stream.next().await.expect("open").expect("delivery");
            d.ack(BasicAckOptions::default()).await.expect("ack");
        }
    };
    tokio::join!(produce, consume);
    let rate = n as f64 / start.elapsed().as_secs_f64();
    publisher
        .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
        .await
        .expect("delete");
    let _ = conn.close(200, "done".into()).await;
    rate
}

async fn fanout(n: usize) {
    println!("\n### Notification fan-out through the Queue port ({n} messages, batches of {BATCH})\n");
    println!("| path | messages/s | share of the raw lapin floor |");
    println!("| --- | --- | --- |");
    let memory = through_port(&MemoryQueue::new(), "bench", n).await;
    println!("| in-process MemoryQueue | {memory:.0} | - |");
    for kind in [QueueKind::Quorum, QueueKind::Classic] {
        let raw = raw_lapin(kind, n).await;
        let queue = AmqpQueue::connect(AmqpConfig {
            queue_kind: kind,
            ..AmqpConfig::new(amqp_url())
        })
        .await
        .expect("RabbitMQ");
        let q = format!("tts-bench-port-{}", uuid::Uuid::now_v7().simple());
        let port = through_port(&queue, &q, n).await;
        queue.delete_queue(&q).await.expect("delete");
        queue.close().await;
        let name = kind.as_str();
        println!("| raw lapin, {name} | {raw:.0} | 100% |");
        println!("| AmqpQueue, {name} | {port:.0} | {:.0}% |", 100.0 * port / raw);
    }
}

// ---------------------------------------------------------------------------------------------------
// cluster

struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Site {
    binary: PathBuf,
    db: String,
    data: PathBuf,
    amqp: Option<(String, String)>,
}

impl Site {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.env("TTS_DATABASE_URL", &self.db)
            .env("TTS_DATA_DIR", &self.data)
            .env("TTS_NO_RATE_LIMITS", "true")
            .env("TTS_LOG", "error")
            .env("TTS_DEMO_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some((url, prefix)) = &self.amqp {
            c.env("TTS_AMQP_URL", url).env("TTS_AMQP_PREFIX", prefix);
        }
        c
    }
}

async fn ready(client: &Client, base: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} not ready in 60 s");
}

async fn login(client: &Client, base: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/users/token/"))
        .json(&serde_json::json!({"username": REQUESTER, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    format!("Bearer {}", r["access"].as_str().expect("access"))
}

async fn create(client: &Client, base: &str, bearer: &str) -> Option<i64> {
    let r = client
        .post(format!("{base}/tickets/"))
        .header("Authorization", bearer)
        .header("Content-Type", "application/json")
        .body(PAYLOAD)
        .send()
        .await
        .ok()?;
    if r.status().as_u16() != 201 {
        return None;
    }
    r.json::<Value>().await.ok()?["id"].as_i64()
}

async fn unallocated(client: &Client, base: &str, bearer: &str) -> u64 {
    let r: Value = client
        .get(format!("{base}/tickets/?is_task_allocated=false&page_size=1"))
        .header("Authorization", bearer)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("list body");
    r["count"].as_u64().unwrap_or(u64::MAX)
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat` (0 when gone).
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14, 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(14) + ticks(15)) / 100.0
}

/// Pids of the processes named exactly `name`.
fn pids(name: &str) -> Vec<u32> {
    let out = Command::new("pgrep").args(["-x", name]).output().expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// CPU seconds so far of: the API processes, the workers, PostgreSQL, RabbitMQ.
fn cpu_split(children: &Processes) -> [f64; 4] {
    let sum = |ps: &[u32]| ps.iter().map(|p| cpu_secs(*p)).sum::<f64>();
    let ids: Vec<u32> = children.0.iter().map(Child::id).collect();
    [
        sum(&ids[..2]),
        sum(&ids[2..]),
        sum(&pids("postgres")),
        sum(&pids("beam.smp")),
    ]
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn cluster(with_broker: bool, connections: usize, secs: u64, cpu_rows: &mut Vec<String>) {
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    let name = format!("tts_bench_{}", uuid::Uuid::now_v7().simple());
    let psql = |sql: String| {
        let ok = Command::new("psql")
            .args([admin, "-qAtc", &sql])
            .status()
            .expect("psql");
        assert!(ok.success(), "{sql}");
    };
    psql(format!("CREATE DATABASE {name}"));
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = format!("tts-bench-{}.", uuid::Uuid::now_v7().simple());
    let site = Site {
        binary: server_binary(),
        db: format!("postgres://postgres@127.0.0.1:5432/{name}"),
        data: dir.path().join("data"),
        amqp: with_broker.then(|| (amqp_url(), prefix.clone())),
    };
    assert!(site.command().arg("demo").status().expect("demo").success());
    let ports = [free_port(), free_port()];
    let mut children = Processes(Vec::new());
    for port in ports {
        let bind = format!("127.0.0.1:{port}");
        children.0.push(
            site.command()
                .args(["serve", "--no-worker", "--bind", &bind])
                .spawn()
                .expect("api"),
        );
    }
    for _ in 0..2 {
        children.0.push(site.command().arg("worker").spawn().expect("worker"));
    }
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let client = Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    for b in &bases {
        ready(&client, b).await;
    }
    let bearer = login(&client, &bases[0]).await;

    // Phase 1: closed loop, then drain.
    let cpu_before = cpu_split(&children);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let (client, base, bearer) = (client.clone(), bases[c % 2].clone(), bearer.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match create(&client, &base, &bearer).await {
                    Some(_) => latencies.push(t.elapsed()),
                    None => failed += 1,
                }
            }
            (latencies, failed)
        });
    }
    let started = Instant::now();
    let (mut latencies, mut failed) = (Vec::new(), 0);
    while let Some(r) = tasks.join_next().await {
        let (l, f) = r.expect("client");
        latencies.extend(l);
        failed += f;
    }
    let phase = started.elapsed();
    let backlog = unallocated(&client, &bases[0], &bearer).await;
    while unallocated(&client, &bases[0], &bearer).await > 0 {
        assert!(started.elapsed() < Duration::from_secs(300), "backlog not drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = started.elapsed();
    let cpu_after = cpu_split(&children);
    latencies.sort_unstable();
    let created = latencies.len() as f64;
    let e2e = created / total.as_secs_f64();
    let setup = if with_broker {
        "PostgreSQL + RabbitMQ"
    } else {
        "PostgreSQL, outbox as queue"
    };
    println!(
        "| {setup} | closed loop, {connections} conn | {:.0} | {e2e:.0} | {backlog} | {:.1} | {:.1} | {failed} |",
        created / phase.as_secs_f64(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99)
    );
    let per_ticket: Vec<String> = cpu_before
        .iter()
        .zip(cpu_after)
        .map(|(b, a)| format!("{:.2}", (a - b) * 1000.0 / created))
        .collect();
    cpu_rows.push(format!(
        "| {setup} | {} | {} | {} | {} |",
        per_ticket[0], per_ticket[1], per_ticket[2], per_ticket[3]
    ));

    // Phase 2: half the end-to-end rate, open loop, with a create -> assigned sampler.
    let rate = (e2e / 2.0).max(1.0);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let until = Instant::now() + Duration::from_secs(5);
    let mut sends = tokio::task::JoinSet::new();
    let sampler = {
        let (client, base, bearer) = (client.clone(), bases[1].clone(), bearer.clone());
        tokio::spawn(async move {
            let mut lags = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                if let Some(id) = create(&client, &base, &bearer).await {
                    loop {
                        let r: Value = client
                            .get(format!("{base}/tickets/{id}/"))
                            .header("Authorization", &bearer)
                            .send()
                            .await
                            .expect("get")
                            .json()
                            .await
                            .expect("ticket");
                        if r["is_task_allocated"] == true {
                            lags.push(t.elapsed());
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            lags
        })
    };
    let mut next = Instant::now();
    let mut i = 0usize;
    while next < until {
        tokio::time::sleep_until(next.into()).await;
        let (client, base, bearer, scheduled) = (client.clone(), bases[i % 2].clone(), bearer.clone(), next);
        sends.spawn(async move { create(&client, &base, &bearer).await.map(|_| scheduled.elapsed()) });
        next += interval;
        i += 1;
    }
    let mut half = Vec::new();
    while let Some(r) = sends.join_next().await {
        half.extend(r.expect("send"));
    }
    half.sort_unstable();
    let mut lags = sampler.await.expect("sampler");
    lags.sort_unstable();
    println!(
        "| {setup} | open loop at {rate:.0}/s | - | - | - | {:.1} | {:.1} | create -> assigned p50 {:.1} ms, p99 {:.1} ms ({} samples) |",
        pct(&half, 0.5),
        pct(&half, 0.99),
        pct(&lags, 0.5),
        pct(&lags, 0.99),
        lags.len()
    );
    drop(children);
    if with_broker {
        let queue = AmqpQueue::connect(AmqpConfig::new(amqp_url())).await.expect("RabbitMQ");
        for q in ["TICKET_TASKS_PRODUCTION", "notification-queue-default"] {
            queue.delete_queue(&format!("{prefix}{q}")).await.expect("delete");
        }
        queue
            .delete_exchange(&format!("{prefix}tts.live"))
            .await
            .expect("delete exchange");
        queue.close().await;
    }
    psql(format!("DROP DATABASE {name} WITH (FORCE)"));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let smoke = args.iter().any(|a| a == "--test");
    let parts: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let wants = |p: &str| parts.is_empty() || parts.iter().any(|a| p.contains(a.as_str()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if wants("fanout") {
            let n = if smoke { 1_000 } else { env_or("TTS_BROKER_MESSAGES", 20_000) as usize };
            fanout(n).await;
        }
        if wants("cluster") {
            let connections = env_or("TTS_LOAD_CONNECTIONS", if smoke { 4 } else { 16 }) as usize;
            let secs = env_or("TTS_LOAD_SECS", if smoke { 1 } else { 10 });
            println!("\n### Two APIs and two workers on PostgreSQL, created and assigned\n");
            println!("| setup | load | created/s | created and assigned/s | backlog at end | create p50 ms | create p99 ms | failed / lag |");
            println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
            let mut cpu = Vec::new();
            cluster(false, connections, secs, &mut cpu).await;
            cluster(true, connections, secs, &mut cpu).await;
            println!("\nCPU ms per created ticket during phase 1 and its drain (/proc/<pid>/stat):\n");
            println!("| setup | 2 APIs | 2 workers | PostgreSQL | RabbitMQ |");
            println!("| --- | --- | --- | --- | --- |");
            for row in cpu {
                println!("{row}");
            }
        }
    });
}
