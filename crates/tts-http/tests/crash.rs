//! Fault test (a) of the durable-messaging issue: the embedded server (SQLite, outbox as the queue) is
//! killed with SIGKILL in the middle of a burst of creates, restarted on the same file, then stopped with
//! SIGTERM in the middle of a second burst and restarted again. Every acknowledged ticket must end
//! allocated exactly once, with its assignment notification, and nothing may be left in the outbox or
//! the dead-letter table. The test prints the acknowledged / lost / duplicated counts.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tts_adapters::sql::sqlite::{SqliteConfig, SqliteStore};
use tts_core::ports::{AssignmentQuery, NotificationQuery, PageRequest, Queries, Store, TicketQuery, UnitOptions};
use tts_core::{NotificationType, TicketId};

const PASSWORD: &str = "demo-pass-123";
const EMPLOYEE: &str = "employee@demo.tts.example";
const ADMIN: &str = "admin@demo.tts.example";
/// Acknowledged creates per burst before the server is stopped.
const BURST: usize = 300;
/// Concurrent clients.
const CLIENTS: usize = 8;

/// The binary on the test's database file, keeping its data (the JWT secret) beside it.
fn server(db: &str) -> Command {
    let file = db.trim_start_matches("sqlite://");
    let data = std::path::Path::new(file).with_file_name("data");
    let mut c = Command::new(env!("CARGO_BIN_EXE_tts-server"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TTS_DATABASE_URL", db)
        .env("TTS_DATA_DIR", data)
        .env("TTS_NO_RATE_LIMITS", "true")
        .env("TTS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    c
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

struct Running {
    child: Child,
    base: String,
}

async fn start(db: &str) -> Running {
    let port = free_port();
    let mut child = server(db)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .spawn()
        .expect("start tts-server");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return Running { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not become ready in 30 s");
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill {sig}");
}

fn wait_exit(child: &mut Child, within: Duration) {
    let start = Instant::now();
    while start.elapsed() < within {
        if child.try_wait().expect("wait").is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not exit within {within:?}");
}

async fn token(client: &reqwest::Client, base: &str, email: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/users/token/"))
        .json(&serde_json::json!({"username": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert!(r.status().is_success(), "login of {email}: {}", r.status());
    let body: serde_json::Value = r.json().await.expect("token body");
    body["access"].as_str().expect("access token").to_string()
}

/// Creates tickets from several clients until `BURST` were acknowledged, then stops the server with
/// `sig` while creates are still in flight; returns the ids of the acknowledged tickets.
async fn burst_then_stop(server: &mut Running, sig: &str) -> Vec<i64> {
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {}", token(&client, &server.base, EMPLOYEE).await);
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
                let sent = client
                    .post(format!("{base}/tickets/"))
                    .header("Authorization", &bearer)
                    .json(&serde_json::json!({
                        "subject": format!("crash test {c}-{n}"),
                        "description": "filed while the server dies",
                        "category": "Technical Support",
                        "priority": "high",
                    }))
                    .send()
                    .await;
                let Ok(response) = sent else { return };
                if response.status().as_u16() != 201 {
                    return;
                }
                // A 201 whose body was lost to the kill is not counted as acknowledged.
                let Ok(body) = response.json::<serde_json::Value>().await else {
                    return;
                };
                acked
                    .lock()
                    .expect("acked")
                    .push(body["id"].as_i64().expect("ticket id"));
            }
        }));
    }
    let start = Instant::now();
    while acked.lock().expect("acked").len() < BURST {
        assert!(start.elapsed() < Duration::from_secs(60), "the burst took over 60 s");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    signal(&server.child, sig);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    wait_exit(&mut server.child, Duration::from_secs(30));
    acked.lock().expect("acked").clone()
}

/// Waits until every ticket is allocated and the admin (who holds every first step) has one
/// notification per ticket.
async fn wait_settled(server: &Running, within: Duration) {
    let client = reqwest::Client::new();
    let bearer = format!("Bearer {}", token(&client, &server.base, ADMIN).await);
    let count = |path: &'static str| {
        let (client, bearer, base) = (client.clone(), bearer.clone(), server.base.clone());
        async move {
            let r = client
                .get(format!("{base}{path}"))
                .header("Authorization", &bearer)
                .send()
                .await
                .expect("list");
            assert!(r.status().is_success(), "{path}: {}", r.status());
            let body: serde_json::Value = r.json().await.expect("list body");
            body["count"].as_u64().expect("count")
        }
    };
    let start = Instant::now();
    loop {
        let tickets = count("/tickets/?page_size=1").await;
        let waiting = count("/tickets/?is_task_allocated=false&page_size=1").await;
        let notified = count("/notifications/?page_size=1").await;
        if waiting == 0 && notified == tickets {
            return;
        }
        assert!(
            start.elapsed() < within,
            "not settled after {within:?}: {waiting} of {tickets} tickets unallocated, {notified} notifications"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Counts what the database holds after the last stop.
async fn audit(db: &str, acknowledged: &[i64]) -> (usize, usize) {
    let store = SqliteStore::connect(&SqliteConfig::new(db))
        .await
        .expect("open the database");
    let all = PageRequest::new(1, 1).expect("page");
    let tickets = store
        .list_tickets(&TicketQuery {
            page: all,
            ..TicketQuery::default()
        })
        .await
        .expect("tickets")
        .total;
    let assignments = store
        .list_assignments(&AssignmentQuery {
            page: all,
            ..AssignmentQuery::default()
        })
        .await
        .expect("assignments")
        .total;
    let mut notified = 0;
    let mut page = 1;
    loop {
        let list = store
            .list_notifications(&NotificationQuery {
                page: PageRequest::new(page, 100).expect("page"),
                ..NotificationQuery::default()
            })
            .await
            .expect("notifications");
        if list.items.is_empty() {
            break;
        }
        notified += list
            .items
            .iter()
            .filter(|n| n.kind == NotificationType::TaskAssignment)
            .count();
        page += 1;
    }
    let mut tx = store.begin(UnitOptions::read()).await.expect("read unit");
    let mut lost = 0;
    let mut seen = HashSet::new();
    for id in acknowledged {
        seen.insert(*id);
        match tx.ticket_with_task(TicketId(*id)).await.expect("ticket") {
            Some((_, Some(_))) => {}
            _ => lost += 1,
        }
    }
    let leftover = tx.unsent_outbox(10).await.expect("outbox").len();
    drop(tx);
    let dead = store.list_dead_letters(all).await.expect("dead letters").total;
    store.close().await;
    assert_eq!(
        seen.len(),
        acknowledged.len(),
        "the API never acknowledged one ticket twice"
    );
    assert_eq!(leftover, 0, "nothing is left in the outbox");
    assert_eq!(dead, 0, "no message became a dead letter");
    assert_eq!(
        notified as u64, assignments,
        "one assignment notification per assignment"
    );
    // Each ticket has at most one task (a store rule) and nobody acted, so one assignment per ticket.
    let duplicated = assignments.saturating_sub(tickets) as usize;
    assert!(
        assignments >= tickets,
        "{tickets} tickets but only {assignments} assignments"
    );
    (lost, duplicated)
}

/// What a stopped server left for the next start: unallocated tickets and messages in the outbox.
async fn left_over(db: &str) -> (u64, usize) {
    let store = SqliteStore::connect(&SqliteConfig::new(db))
        .await
        .expect("open the database");
    let unallocated = store
        .list_tickets(&TicketQuery {
            is_task_allocated: Some(false),
            page: PageRequest::new(1, 1).expect("page"),
            ..TicketQuery::default()
        })
        .await
        .expect("tickets")
        .total;
    let mut tx = store.begin(UnitOptions::read()).await.expect("read unit");
    let outbox = tx.unsent_outbox(100_000).await.expect("outbox").len();
    drop(tx);
    store.close().await;
    (unallocated, outbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_tickets_survive_kill_9_and_sigterm_and_are_allocated_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("tts.db").display());
    let demo = server(&db)
        .args(["demo", "--password", PASSWORD])
        .status()
        .expect("demo");
    assert!(demo.success(), "demo seeding failed");

    let mut first = start(&db).await;
    let mut acknowledged = burst_then_stop(&mut first, "-KILL").await;
    let (unallocated, outbox) = left_over(&db).await;
    println!("after SIGKILL: {unallocated} tickets unallocated, {outbox} messages waiting in the outbox");
    let mut second = start(&db).await;
    acknowledged.extend(burst_then_stop(&mut second, "-TERM").await);
    let (unallocated, outbox) = left_over(&db).await;
    println!("after SIGTERM: {unallocated} tickets unallocated, {outbox} messages waiting in the outbox");
    let last = start(&db).await;
    wait_settled(&last, Duration::from_secs(120)).await;
    let mut last = last;
    signal(&last.child, "-TERM");
    wait_exit(&mut last.child, Duration::from_secs(30));

    let (lost, duplicated) = audit(&db, &acknowledged).await;
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
