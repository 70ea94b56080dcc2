//! Driving a real `tts-server` process for the fault tests: start it on a database, load it with ticket
//! creates, stop it by a signal, wait until everything acknowledged is allocated, and check the database
//! afterwards.

#![allow(dead_code, missing_docs)]

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tts_core::ports::{AssignmentQuery, NotificationQuery, PageRequest, Store, TicketQuery, UnitOptions};
use tts_core::{NotificationType, TicketId};

pub const PASSWORD: &str = "demo-pass-123";
pub const EMPLOYEE: &str = "employee@demo.tts.example";
pub const ADMIN: &str = "admin@demo.tts.example";

/// Where the processes of one test keep their state: the database, the data directory (the JWT secret)
/// and, for the broker variants, RabbitMQ with queue names of their own.
#[derive(Debug, Clone)]
pub struct Site {
    pub db: String,
    pub data: std::path::PathBuf,
    pub broker: Option<Broker>,
    /// More `TTS_*` settings for every process.
    pub env: Vec<(String, String)>,
}

impl Site {
    /// No broker: the database's outbox is the queue.
    pub fn new(db: &str, data: &std::path::Path) -> Site {
        Site {
            db: db.to_string(),
            data: data.to_path_buf(),
            broker: None,
            env: Vec::new(),
        }
    }

    /// With RabbitMQ when `with_broker`, else without: the two variants of one test.
    pub fn variant(db: &str, data: &std::path::Path, with_broker: bool) -> Site {
        if with_broker {
            Site::with_broker(db, data)
        } else {
            Site::new(db, data)
        }
    }

    /// With RabbitMQ at 127.0.0.1:5672 under a unique prefix.
    pub fn with_broker(db: &str, data: &std::path::Path) -> Site {
        Site {
            broker: Some(Broker::new()),
            ..Site::new(db, data)
        }
    }
}

/// RabbitMQ for one test: the shared broker, queue and exchange names under a unique prefix.
#[derive(Debug, Clone)]
pub struct Broker {
    pub url: String,
    pub prefix: String,
}

impl Broker {
    pub fn new() -> Broker {
        Broker {
            url: std::env::var("TTS_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            prefix: format!("tts-test-{}.", uuid::Uuid::now_v7().simple()),
        }
    }

    /// Deletes this test's queues and live-feed exchange.
    pub async fn delete(&self) {
        use tts_adapters::amqp::{AmqpConfig, AmqpQueue};
        let queue = AmqpQueue::connect(AmqpConfig::new(self.url.clone()))
            .await
            .expect("RabbitMQ at 127.0.0.1:5672");
        let names = tts_core::engine::QueueNames::default();
        for q in [names.tickets, names.notifications] {
            queue
                .delete_queue(&format!("{}{q}", self.prefix))
                .await
                .expect("delete queue");
        }
        queue
            .delete_exchange(&format!("{}{}", self.prefix, tts_http::server::LIVE_EXCHANGE))
            .await
            .expect("delete exchange");
        queue.close().await;
    }
}

/// The binary on the site's database and broker, rate limits off.
pub fn server(site: &Site) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tts-server"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TTS_DATABASE_URL", &site.db)
        .env("TTS_DATA_DIR", &site.data)
        .env("TTS_NO_RATE_LIMITS", "true")
        .env("TTS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(b) = &site.broker {
        c.env("TTS_AMQP_URL", &b.url).env("TTS_AMQP_PREFIX", &b.prefix);
    }
    c.envs(site.env.iter().map(|(k, v)| (k, v)));
    c
}

/// Seeds the demo accounts and workflows.
pub fn seed(site: &Site) {
    let ok = server(site)
        .args(["demo", "--password", PASSWORD])
        .status()
        .expect("run demo");
    assert!(ok.success(), "demo seeding failed");
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A running server.
pub struct Running {
    pub child: Child,
    pub base: String,
}

/// Starts `serve` (API and workers) and waits until it is ready.
pub async fn start(site: &Site) -> Running {
    start_serve(site, &[]).await
}

/// Starts `serve` with `extra` options (e.g. `--no-worker`) and waits until it is ready.
pub async fn start_serve(site: &Site, extra: &[&str]) -> Running {
    let port = free_port();
    let mut child = server(site)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(extra)
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

/// Starts a `worker` process (relay, consumers, SLA sweep; no API).
pub fn start_worker(site: &Site) -> Child {
    server(site).arg("worker").spawn().expect("start a worker")
}

/// Two API processes (`serve --no-worker`) and two `worker` processes on one database.
pub struct Cluster {
    pub apis: Vec<Running>,
    pub workers: Vec<Child>,
}

impl Cluster {
    /// Starts the four processes and waits until both APIs are ready.
    pub async fn start(site: &Site) -> Cluster {
        Cluster {
            apis: vec![
                start_serve(site, &["--no-worker"]).await,
                start_serve(site, &["--no-worker"]).await,
            ],
            workers: vec![start_worker(site), start_worker(site)],
        }
    }

    /// Stops every process with SIGTERM and waits for each.
    pub fn stop(&mut self) {
        for w in &mut self.workers {
            signal(w, "-TERM");
            wait_exit(w, Duration::from_secs(30));
        }
        for api in &mut self.apis {
            signal(&api.child, "-TERM");
            wait_exit(&mut api.child, Duration::from_secs(30));
        }
    }
}

/// A test that fails midway leaves no server behind: whatever still runs is killed.
impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self
            .workers
            .iter_mut()
            .chain(self.apis.iter_mut().map(|a| &mut a.child))
        {
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Clients creating tickets back to back through the cluster's APIs (client `c` on API `c % 2`) until
/// [`Load::finish`].
pub struct Load {
    acked: std::sync::Arc<std::sync::Mutex<Vec<i64>>>,
    refused: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts `clients` clients creating tickets as `bearer`, with subjects starting with `label`.
    pub fn start(cluster: &Cluster, bearer: &str, clients: usize, label: &str) -> Load {
        use std::sync::Arc;
        let load = Load {
            acked: Arc::default(),
            refused: Arc::default(),
            stop: Arc::default(),
            clients: Vec::new(),
        };
        let client = reqwest::Client::new();
        let handles = (0..clients)
            .map(|c| {
                let (client, bearer, base) = (client.clone(), bearer.to_string(), cluster.apis[c % 2].base.clone());
                let (acked, refused, stop) = (
                    Arc::clone(&load.acked),
                    Arc::clone(&load.refused),
                    Arc::clone(&load.stop),
                );
                let label = label.to_string();
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        n += 1;
                        match create(&client, &base, &bearer, &format!("{label} {c}-{n}")).await {
                            Sent::Created(id) => acked.lock().expect("acked").push(id),
                            other => refused.lock().expect("refused").push(format!("{other:?}")),
                        }
                    }
                })
            })
            .collect();
        Load {
            clients: handles,
            ..load
        }
    }

    /// Tickets acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        self.acked.lock().expect("acked").len()
    }

    /// Stops the clients; the acknowledged ticket ids and the refusals.
    pub async fn finish(self) -> (Vec<i64>, Vec<String>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in self.clients {
            c.await.expect("client");
        }
        let acked = std::mem::take(&mut *self.acked.lock().expect("acked"));
        let refused = std::mem::take(&mut *self.refused.lock().expect("refused"));
        (acked, refused)
    }
}

/// Sends `sig` (`-KILL`, `-TERM`) to the process.
pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill {sig}");
}

/// Waits for the process to exit (killing it after `within`).
pub fn wait_exit(child: &mut Child, within: Duration) {
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

/// An access token of `email`.
pub async fn token(client: &reqwest::Client, base: &str, email: &str) -> String {
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

/// What one create request got.
#[derive(Debug)]
pub enum Sent {
    /// 201 with the ticket's id.
    Created(i64),
    /// Any other status, and whether it came with `Retry-After`.
    Refused(u16, bool),
    /// No answer (connection refused or cut).
    Failed,
}

/// Opens one ticket as the demo employee (the default workflow gives its first step to the admin).
pub async fn create(client: &reqwest::Client, base: &str, bearer: &str, subject: &str) -> Sent {
    let sent = client
        .post(format!("{base}/tickets/"))
        .header("Authorization", bearer)
        .json(&serde_json::json!({
            "subject": subject,
            "description": "filed while something breaks",
            "category": "Technical Support",
            "priority": "high",
        }))
        .send()
        .await;
    let Ok(response) = sent else { return Sent::Failed };
    let status = response.status().as_u16();
    if status != 201 {
        return Sent::Refused(status, response.headers().contains_key("retry-after"));
    }
    // A 201 whose body was lost is not counted as acknowledged.
    match response.json::<serde_json::Value>().await {
        Ok(body) => Sent::Created(body["id"].as_i64().expect("ticket id")),
        Err(_) => Sent::Failed,
    }
}

/// Waits until every ticket is allocated and the admin (who holds every first step) has one
/// notification per ticket.
pub async fn wait_settled(server: &Running, within: Duration) {
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

/// Unallocated tickets and messages waiting in the outbox.
pub async fn left_over(store: &dyn Store) -> (u64, usize) {
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
    (unallocated, outbox)
}

/// Checks the database after the last stop; returns the acknowledged tickets that are lost (missing or
/// never allocated) and the duplicated assignments.
pub async fn audit(store: &dyn Store, acknowledged: &[i64]) -> (usize, usize) {
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
    assert!(
        assignments >= tickets,
        "{tickets} tickets but only {assignments} assignments"
    );
    (lost, (assignments - tickets) as usize)
}
