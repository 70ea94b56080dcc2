//! Reports at size (issue 13, item 2). A plain `main`: `cargo bench -p tts-benches --bench reports
//! [-- sqlite|postgres]` (default both); `--test` is a smoke run of 2,000 tickets.
//!
//! For each database: the release `tts-server` seeds the demo (migrations, roles, the five workflows),
//! then a bulk loader writes `TTS_BENCH_TICKETS` (default 100,000) tickets through the store's units
//! (not the API), created over the last 365 days, with their tasks, assignments (triage, resolve,
//! finalize; escalations, transfers, SLA warnings and breaches, open work on recent tickets) and audit
//! trail, on 30 agents. Then `tts-server serve` runs on the loaded database and every report is asked
//! for over HTTP, `TTS_BENCH_ROUNDS` (default 20) times each after one warm-up, over the last 90 days by
//! day and by week: p50, p95 and max latency per report, and the server's resident memory after the
//! reports.

use reqwest::Client;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::sql::sqlite::{SqliteConfig, SqliteStore};
use tts_benches::pg::PgDb;
use tts_benches::server::{free_port, rss_kib, server_binary};
use tts_core::domain::sla::step_target;
use tts_core::ports::store::{Store, UnitOfWork, UnitOptions};
use tts_core::uuid::Uuid;
use tts_core::{
    Assignment, AssignmentStatus, AuditEntry, NewTicket, Origin, Priority, Task, TaskStatus, TicketNumber,
    TicketStatus, User, UserId, Workflow, WorkflowStatus,
};

const PASSWORD: &str = "bench-pass-123";
const ADMIN: &str = "admin@demo.tts.example";
const AGENTS: usize = 30;
const REPORTS: [&str; 5] = ["tickets", "sla", "agents", "steps", "unroutable"];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// splitmix64, so every run loads the same history.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A duration of roughly `mean` milliseconds, skewed (a few are much longer).
    fn skewed_ms(&mut self, mean: u64) -> chrono::Duration {
        let u = (self.below(1_000_000) as f64 + 1.0) / 1_000_001.0;
        chrono::Duration::milliseconds((-(u.ln()) * mean as f64) as i64 + 1)
    }
}

/// The database under test: where it is and what keeps it alive.
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(PgDb),
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(dir) => format!("sqlite://{}/tts.db", dir.display()),
            Db::Postgres(db) => db.url.clone(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        }
    }

    async fn store(&self) -> Arc<dyn Store> {
        match self {
            Db::Sqlite(_) => Arc::new(
                SqliteStore::connect(&SqliteConfig::new(self.url()))
                    .await
                    .expect("sqlite"),
            ),
            Db::Postgres(_) => Arc::new(PgStore::connect(&PgConfig::new(self.url())).await.expect("postgres")),
        }
    }
}

/// `tts-server` with `args` on the database, its output muted.
fn server(db: &Db, data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(server_binary());
    c.env("TTS_DATABASE_URL", db.url())
        .env("TTS_DATA_DIR", data)
        .env("TTS_NO_RATE_LIMITS", "true")
        .env("TTS_LOG", "error")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    c
}

/// A running server, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn audit(
    at: chrono::DateTime<chrono::Utc>,
    actor: Option<UserId>,
    action: &str,
    t: &tts_core::Ticket,
    task: Option<&Task>,
) -> AuditEntry {
    AuditEntry {
        id: Uuid::now_v7().into(),
        at,
        actor,
        action: action.into(),
        ticket: Some(t.id),
        task: task.map(|k| k.id),
        before: Value::Null,
        after: serde_json::json!({"status": t.status}),
    }
}

/// Writes one ticket's life: the ticket, and for most a task with its turns and their trail.
#[allow(clippy::too_many_arguments)]
async fn load_one(
    tx: &mut dyn UnitOfWork,
    rng: &mut Rng,
    keys: (tts_core::TicketId, TicketNumber),
    created: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    workflows: &[Workflow],
    admins: &[UserId],
    agents: &[UserId],
) {
    let requester = UserId(Uuid::now_v7());
    let flow = &workflows[rng.below(workflows.len() as u64) as usize];
    let def = &flow.definition;
    let mut new = NewTicket::new(format!("Bench ticket {}", keys.1), def.match_key.category.clone());
    new.department = def.match_key.department.clone();
    new.priority = [Priority::Low, Priority::Medium, Priority::High, Priority::Critical][rng.below(4) as usize];
    let mut t = new
        .validated()
        .expect("valid")
        .into_ticket(keys.0, keys.1, requester, created);
    let mut trail = vec![audit(created, Some(requester), "ticket.created", &t, None)];
    let roll = rng.below(100);
    let fresh = now - created < chrono::Duration::hours(2);
    if roll < 3 || (roll < 5 && fresh) {
        if roll < 3 {
            t.unroutable = Some("no active workflow matches this ticket".into());
        }
        tx.insert_ticket(&t).await.expect("ticket");
        for e in trail {
            tx.insert_audit(e).await.expect("audit");
        }
        return;
    }
    if roll < 6 {
        let at = created + rng.skewed_ms(3_600_000);
        if at < now {
            t.move_to(TicketStatus::Withdrawn, at).expect("withdraw");
            trail.push(audit(at, Some(requester), "ticket.withdrawn", &t, None));
        }
        tx.insert_ticket(&t).await.expect("ticket");
        for e in trail {
            tx.insert_audit(e).await.expect("audit");
        }
        return;
    }
    let start = created + chrono::Duration::milliseconds(50 + rng.below(2_000) as i64);
    let mut task = Task {
        id: Uuid::now_v7().into(),
        ticket: t.id,
        workflow_id: flow.id,
        workflow_version: flow.version,
        current_step: def.steps[0].id,
        status: TaskStatus::Pending,
        target_resolution: tts_core::domain::sla::task_target(def, t.priority, start),
        resolved_at: None,
        created_at: start,
        updated_at: start,
        version: 1,
    };
    t.is_task_allocated = true;
    t.workflow_id = Some(flow.id);
    trail.push(audit(start, None, "task.allocated", &t, Some(&task)));
    let mut turns: Vec<Assignment> = Vec::new();
    let (mut step, mut origin, mut clock) = (0usize, Origin::System, start);
    let pool = |step: usize| if step == 1 { agents } else { admins };
    while turns.len() < 8 {
        let s = &def.steps[step];
        let holders = pool(step);
        let user = holders[rng.below(holders.len() as u64) as usize];
        let target = step_target(def, s.id, t.priority, clock);
        let mut a = Assignment::new(
            Uuid::now_v7().into(),
            task.id,
            user,
            s.role_id,
            s.id,
            origin,
            clock,
            target,
        );
        a.warn_at = target.map(|x| tts_core::domain::sla::warning_at(clock, x, 75));
        let end = clock + rng.skewed_ms(if step == 1 { 8 * 3_600_000 } else { 2 * 3_600_000 });
        a.sla_warned = a.warn_at.is_some_and(|w| w < end.min(now));
        if let Some(x) = target.filter(|&x| x < end.min(now)) {
            a.move_to(AssignmentStatus::Breached, None, x).expect("breach");
        }
        if end >= now {
            turns.push(a);
            break;
        }
        let r = rng.below(100);
        let outcome = match r {
            0..=3 => AssignmentStatus::Escalated,
            4..=7 => AssignmentStatus::Reassigned,
            _ => AssignmentStatus::Resolved,
        };
        a.move_to(outcome, Some(user), end).expect("close the turn");
        turns.push(a);
        if t.status == TicketStatus::Open {
            t.move_to(TicketStatus::InProgress, end).expect("start");
            task.move_to(TaskStatus::InProgress, end).expect("start");
        }
        trail.push(audit(end, Some(user), "task.action", &t, Some(&task)));
        clock = end;
        match outcome {
            AssignmentStatus::Escalated => origin = Origin::Escalated,
            AssignmentStatus::Reassigned => origin = Origin::Transferred,
            _ => {
                origin = Origin::System;
                step += 1;
                if step == def.steps.len() {
                    task.move_to(TaskStatus::Completed, end).expect("complete");
                    t.move_to(TicketStatus::Resolved, end).expect("resolve");
                    trail.push(audit(end, None, "ticket.resolved", &t, Some(&task)));
                    let closing = end + rng.skewed_ms(2 * 86_400_000);
                    if closing < now && rng.below(10) < 6 {
                        t.move_to(TicketStatus::Closed, closing).expect("close");
                        trail.push(audit(closing, Some(requester), "ticket.closed", &t, Some(&task)));
                    }
                    break;
                }
                task.current_step = def.steps[step].id;
            }
        }
    }
    tx.insert_ticket(&t).await.expect("ticket");
    tx.insert_task(&task).await.expect("task");
    for a in &turns {
        tx.insert_assignment(a).await.expect("assignment");
    }
    for e in trail {
        tx.insert_audit(e).await.expect("audit");
    }
}

/// Seeds the agents and loads `n` tickets.
async fn load(store: &dyn Store, n: usize) {
    let now = chrono::Utc::now();
    let mut tx = store.begin(UnitOptions::write()).await.expect("unit");
    let workflows = tx.workflows(Some(WorkflowStatus::Active)).await.expect("workflows");
    assert!(!workflows.is_empty(), "the demo has active workflows");
    let admin = tx.user_by_email(ADMIN).await.expect("admin").expect("the demo admin");
    let mut agents = Vec::new();
    for i in 0..AGENTS {
        let u = User {
            id: Uuid::now_v7().into(),
            email: format!("bench.agent{i}@example.com"),
            full_name: format!("Bench Agent {i}"),
            is_active: true,
            email_notifications: false,
            created_at: now,
        };
        tx.insert_user(&u).await.expect("agent");
        agents.push(u.id);
    }
    tx.commit().await.expect("agents");
    let admins = [vec![admin.id], agents[..5].to_vec()].concat();
    let mut rng = Rng(0x1007_2026);
    let started = Instant::now();
    let chunk = 500;
    let mut done = 0;
    while done < n {
        let mut tx = store.begin(UnitOptions::write()).await.expect("unit");
        let size = chunk.min(n - done);
        let mut created: Vec<_> = (0..size)
            .map(|_| now - chrono::Duration::milliseconds(rng.below(365 * 86_400_000) as i64))
            .collect();
        created.sort();
        let mut keys = Vec::with_capacity(size);
        for c in &created {
            let year = chrono::Datelike::year(c);
            let (id, seq) = tx.take_ticket_keys(year).await.expect("keys");
            keys.push((id, TicketNumber::new(year, seq).expect("number")));
        }
        for (i, (k, c)) in keys.into_iter().zip(created).enumerate() {
            load_one(tx.as_mut(), &mut rng, k, c, now, &workflows, &admins, &agents).await;
            if i % 20 == 19 {
                tx.flush().await.expect("flush");
            }
        }
        tx.commit().await.expect("commit");
        done += size;
        if done % 10_000 == 0 {
            eprintln!("  loaded {done} tickets in {:.0?}", started.elapsed());
        }
    }
    eprintln!("  loaded {n} tickets in {:.1?}", started.elapsed());
}

async fn token(client: &Client, base: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/users/token/"))
        .json(&serde_json::json!({"username": ADMIN, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("token");
    r["access"].as_str().expect("access").to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn run(db: Db, tickets: usize, rounds: usize) {
    println!("\n{}: {tickets} tickets", db.name());
    let data = tempfile::tempdir().expect("data dir");
    let seeded = server(&db, data.path(), &["demo", "--password", PASSWORD])
        .status()
        .expect("demo");
    assert!(seeded.success(), "seeding the demo failed");
    {
        let store = db.store().await;
        load(store.as_ref(), tickets).await;
    }
    if let Db::Postgres(pg) = &db {
        pg.settle().await;
    }
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let child = Running(
        server(&db, data.path(), &["serve", "--bind", &bind])
            .spawn()
            .expect("serve"),
    );
    let base = format!("http://{bind}");
    let client = Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the server was not ready in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_idle = rss_kib(child.0.id());
    let token = token(&client, &base).await;
    let from = (chrono::Utc::now() - chrono::Duration::days(90)).format("%Y-%m-%d");
    println!(
        "  {:<12} {:>6} {:>9} {:>9} {:>9} {:>8}",
        "report", "bucket", "p50 ms", "p95 ms", "max ms", "bytes"
    );
    let mut worst = Duration::ZERO;
    for bucket in ["day", "week"] {
        for report in REPORTS {
            let url = format!("{base}/reports/{report}/?from={from}&bucket={bucket}");
            let mut times = Vec::with_capacity(rounds);
            let mut bytes = 0;
            for round in 0..=rounds {
                let t = Instant::now();
                let r = client.get(&url).bearer_auth(&token).send().await.expect("report");
                assert!(r.status().is_success(), "{url}: {}", r.status());
                bytes = r.bytes().await.expect("body").len();
                if round > 0 {
                    times.push(t.elapsed());
                }
            }
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            worst = worst.max(percentile(&times, 0.95));
            println!(
                "  {report:<12} {bucket:>6} {:>9.1} {:>9.1} {:>9.1} {bytes:>8}",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.95)),
                ms(times[times.len() - 1]),
            );
        }
    }
    let rss = rss_kib(child.0.id());
    // The allocator hands freed memory back after a delay (jemalloc's dirty-page decay, 10 s), and a
    // health check's allocations give it the occasion: what an idle server holds a little later.
    for _ in 0..15 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = client.get(format!("{base}/healthz")).send().await;
    }
    let rss_settled = rss_kib(child.0.id());
    println!(
        "  worst p95 {:.1} ms; server RSS {:.1} MiB after start, {:.1} MiB right after the reports, \
         {:.1} MiB 15 s later",
        worst.as_secs_f64() * 1000.0,
        rss_idle as f64 / 1024.0,
        rss as f64 / 1024.0,
        rss_settled as f64 / 1024.0
    );
    drop(child);
    match db {
        Db::Postgres(pg) => pg.drop_now().await,
        Db::Sqlite(dir) if std::env::var_os("TTS_BENCH_SQLITE_DIR").is_none() => {
            let _ = std::fs::remove_dir_all(dir);
        }
        Db::Sqlite(dir) => println!("  kept {}", dir.display()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--test");
    let wants = |b: &str| !args.iter().any(|a| a == "sqlite" || a == "postgres") || args.iter().any(|a| a == b);
    let (tickets, rounds) = if smoke {
        (2_000, 2)
    } else {
        (
            env_or("TTS_BENCH_TICKETS", 100_000) as usize,
            env_or("TTS_BENCH_ROUNDS", 20) as usize,
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if wants("sqlite") {
            // `TTS_BENCH_SQLITE_DIR` keeps the loaded database there (to study its query plans).
            let dir = match std::env::var_os("TTS_BENCH_SQLITE_DIR") {
                Some(d) => tempfile::Builder::new()
                    .prefix("reports-")
                    .tempdir_in(d)
                    .expect("dir")
                    .keep(),
                None => tempfile::tempdir().expect("temp dir").keep(),
            };
            run(Db::Sqlite(dir), tickets, rounds).await;
        }
        if wants("postgres") {
            run(Db::Postgres(PgDb::create().await), tickets, rounds).await;
        }
    });
}
