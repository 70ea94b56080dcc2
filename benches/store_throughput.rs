//! Store throughput: tickets per second on the SQL stores, measured against the floor of the database
//! itself (one-row commits per second through the same pool).
//!
//! A plain `main` (no criterion): `cargo bench -p tts-benches --bench store_throughput [-- BACKEND...]`,
//! where `BACKEND` is `sqlite` (both SQLite configurations), `sqlite-full`, `sqlite-normal` or
//! `postgres` (any part of a name selects, like criterion's filters; a filter naming no backend runs
//! nothing); no argument runs all three; `--test` is a smoke run of a few operations each. Everything
//! runs on a tokio multi-thread runtime with 2 workers.
//!
//! Backend configurations, each through its store's own pool of [`POOL`] connections:
//! - `sqlite-full`: a database file in a temporary directory, WAL, `Durability::Full` (fsync per commit);
//! - `sqlite-normal`: the same with `Durability::Normal` (fsync at checkpoints only);
//! - `postgres`: a fresh database `tts_bench_<uuid>` on `postgres://postgres@127.0.0.1:5432/postgres`
//!   (`TTS_BENCH_PG_URL` overrides it), dropped at the end (`DROP DATABASE ... WITH (FORCE)`). An
//!   unreachable server stops the run before anything is measured, with a message saying so.
//!
//! Measurements, each with 1 client and with [`CLIENTS`] concurrent clients (tokio tasks sharing the pool):
//! - the floor: one-row commits per second on a scratch table `bench_floor (id BIGINT PRIMARY KEY, v
//!   TEXT)`; one op = begin (`BEGIN IMMEDIATE` on SQLite), one `INSERT`, commit;
//! - tickets: `Engine::create_ticket` then `Engine::allocate` per ticket (two commits per ticket) on an
//!   engine built on the store, set up with one role of 5 users and a published one-step round-robin
//!   workflow matching the tickets' category. The outbox is never pumped, so it only grows (4 rows per
//!   ticket); the relay and consumers cost nothing here.
//!
//! Since a ticket needs two commits, half the floor is the ceiling for tickets; the report gives tickets/s
//! as a share of it. Targets: at least 80% of the ceiling on both databases, and at least 1,500
//! tickets/s on PostgreSQL with 8 clients (on a 2-core machine running the server too).
//!
//! "Where the time goes" (cheap extras): the mean latency of `create_ticket` and of `allocate`
//! separately; the cost of one more statement inside a transaction (a transaction of [`WIDE`] inserts
//! against the 1-insert floor); the bytes written per floor commit and per ticket (SQLite: this
//! process's `write` calls, i.e. WAL frames and checkpoints; PostgreSQL: WAL generated, server-wide,
//! from `pg_current_wal_lsn()`); and the floor when every transaction also updates one shared row first
//! (how commits queue behind a hot row lock, like the ticket-number counter and the role cursor).
//!
//! - the pipeline: the server's own path, clients creating while a relay loop and allocation loops
//!   (`Engine::consume_batch`) run beside them, timed until every ticket is allocated.
//!
//! Environment: `TTS_BENCH_POOL` sets the PostgreSQL pool size (default [`POOL`]);
//! `TTS_BENCH_TICKETS_ONLY` runs only the tickets at the highest concurrency, for profilers.
//!
//! Sizing: each measurement first warms up for a fixed time at its concurrency, then runs a fixed number
//! of operations sized from the warm-up rate to take about [`TARGET`] (`TTS_BENCH_SECS` overrides it).

use sqlx::Connection;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::sql::sqlite::{Durability, SqliteConfig, SqliteStore};
use tts_benches::pg::{PgDb, pg_admin};
use tts_core::uuid::Uuid;
use tts_core::{Actor, Allocation, ConsumeOutcome, Consumer, Engine, NewTicket, UserId};

/// The concurrency levels measured.
const CLIENTS: [usize; 2] = [1, 8];
/// Connections in every pool.
const POOL: u32 = 8;
/// The PostgreSQL server (its maintenance database) when `TTS_BENCH_PG_URL` is not set.
/// How long a main measurement should take.
const TARGET: Duration = Duration::from_secs(5);
/// Warm-up before a main measurement (also sizes it).
const WARM_UP: Duration = Duration::from_secs(1);
/// Inserts in one transaction of the statement-cost probe.
const WIDE: i64 = 8;
/// The category every ticket carries: the one `tts_core::testkit::fixture::one_step` routes.
const CATEGORY: &str = "Load";
/// The text stored in every floor row (32 bytes).
const VALUE: &str = "0123456789abcdef0123456789abcdef";

const FLOOR_TABLE: &str = "CREATE TABLE bench_floor (id BIGINT PRIMARY KEY, v TEXT)";
const HOT_TABLE: &str = "CREATE TABLE bench_hot (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)";
const HOT_ROW: &str = "INSERT INTO bench_hot (id, n) VALUES (1, 0)";
const INSERT: &str = "INSERT INTO bench_floor (id, v) VALUES ($1, $2)";
const BUMP: &str = "UPDATE bench_hot SET n = n + 1 WHERE id = 1";

/// One backend configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    SqliteFull,
    SqliteNormal,
    Postgres,
}

impl Backend {
    const ALL: [Backend; 3] = [Backend::SqliteFull, Backend::SqliteNormal, Backend::Postgres];

    fn name(self) -> &'static str {
        match self {
            Backend::SqliteFull => "sqlite-full",
            Backend::SqliteNormal => "sqlite-normal",
            Backend::Postgres => "postgres",
        }
    }
}

/// The backends the command-line filters select, like criterion's filters: a backend runs when a filter
/// is part of its name (`pg` also names `postgres`), all run when there is no filter, none when no filter
/// matches (so a criterion filter for another bench runs nothing here). `--flags` are ignored.
fn selected() -> Vec<Backend> {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    Backend::ALL
        .into_iter()
        .filter(|b| {
            filters.is_empty()
                || filters
                    .iter()
                    .any(|f| b.name().contains(f.as_str()) || (f == "pg" && *b == Backend::Postgres))
        })
        .collect()
}

/// `--test` (what `cargo bench -- --test` passes): a smoke run, every measurement only a few operations.
fn smoke_test() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn target() -> Duration {
    if smoke_test() {
        return Duration::from_millis(20);
    }
    std::env::var("TTS_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map_or(TARGET, Duration::from_secs_f64)
}

/// The store's own pool, used for the floor.
#[derive(Clone)]
enum Floor {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// One transaction: optionally bump the hot row, insert `n` rows from `first`, commit.
macro_rules! floor_tx {
    ($begin:expr, $first:expr, $n:expr, $hot:expr) => {{
        let mut tx = $begin.await?;
        if $hot {
            sqlx::query(BUMP).execute(&mut *tx).await?;
        }
        for id in $first..$first + $n {
            sqlx::query(INSERT).bind(id).bind(VALUE).execute(&mut *tx).await?;
        }
        tx.commit().await
    }};
}

impl Floor {
    async fn setup(&self) -> Result<(), sqlx::Error> {
        for sql in [FLOOR_TABLE, HOT_TABLE, HOT_ROW] {
            match self {
                Floor::Sqlite(pool) => {
                    sqlx::query(sql).execute(pool).await?;
                }
                Floor::Pg(pool) => {
                    sqlx::query(sql).execute(pool).await?;
                }
            }
        }
        Ok(())
    }

    async fn commit(&self, first: i64, n: i64, hot: bool) -> Result<(), sqlx::Error> {
        match self {
            Floor::Sqlite(pool) => floor_tx!(pool.begin_with("BEGIN IMMEDIATE"), first, n, hot),
            Floor::Pg(pool) => floor_tx!(pool.begin(), first, n, hot),
        }
    }

    /// Bytes written so far: on SQLite by this process's `write` calls (WAL frames and checkpoints, as
    /// `wchar` in `/proc/self/io`); on PostgreSQL the WAL the server generated (`pg_current_wal_lsn()`,
    /// server-wide). `None` when unavailable.
    async fn written(&self) -> Option<u64> {
        match self {
            Floor::Sqlite(_) => std::fs::read_to_string("/proc/self/io")
                .ok()?
                .lines()
                .find_map(|l| l.strip_prefix("wchar:"))
                .and_then(|v| v.trim().parse().ok()),
            Floor::Pg(pool) => sqlx::query_scalar::<_, i64>("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::BIGINT")
                .fetch_one(pool)
                .await
                .ok()
                .and_then(|v| u64::try_from(v).ok()),
        }
    }

    async fn close(&self) {
        match self {
            Floor::Sqlite(pool) => pool.close().await,
            Floor::Pg(pool) => pool.close().await,
        }
    }
}

/// What one operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// begin, one insert, commit.
    Floor,
    /// begin, [`WIDE`] inserts, commit.
    Wide,
    /// begin, update the one hot row, one insert, commit.
    Hot,
    /// `create_ticket` then `allocate`.
    Ticket,
    /// `create_ticket` only (the pipeline's clients; allocation runs in the background).
    Create,
}

/// Everything the clients share.
struct Ctx {
    engine: Engine,
    floor: Floor,
    requester: Actor,
    next_row: AtomicI64,
    next_ticket: AtomicU64,
}

impl Ctx {
    /// Runs one operation; returns the time of its two phases (`create_ticket`, `allocate`), or of the
    /// whole floor transaction in the first.
    async fn op(&self, work: Work) -> [Duration; 2] {
        let start = Instant::now();
        let floor = |n: i64, hot: bool| {
            let first = self.next_row.fetch_add(n, Ordering::Relaxed);
            self.floor.commit(first, n, hot)
        };
        match work {
            Work::Floor => floor(1, false).await.expect("floor commit"),
            Work::Wide => floor(WIDE, false).await.expect("wide commit"),
            Work::Hot => floor(1, true).await.expect("hot-row commit"),
            Work::Create => {
                let n = self.next_ticket.fetch_add(1, Ordering::Relaxed);
                let new = NewTicket::new(format!("Load {n}"), CATEGORY);
                self.engine
                    .create_ticket(self.requester, new, None)
                    .await
                    .expect("create_ticket");
            }
            Work::Ticket => {
                let n = self.next_ticket.fetch_add(1, Ordering::Relaxed);
                let new = NewTicket::new(format!("Load {n}"), CATEGORY);
                let ticket = self
                    .engine
                    .create_ticket(self.requester, new, None)
                    .await
                    .expect("create_ticket")
                    .ticket;
                let created = Instant::now();
                let allocation = self.engine.allocate(ticket.id).await.expect("allocate");
                assert!(matches!(allocation, Allocation::Allocated { .. }), "{allocation:?}");
                return [created - start, created.elapsed()];
            }
        }
        [start.elapsed(), Duration::ZERO]
    }
}

/// One timed run.
#[derive(Debug, Clone, Copy)]
struct Run {
    ops: u64,
    elapsed: Duration,
    /// Summed per-op time of each phase (over all clients).
    phases: [Duration; 2],
    /// Bytes written during the run (see [`Floor::written`]).
    written: Option<u64>,
}

impl Run {
    const ZERO: Run = Run {
        ops: 0,
        elapsed: Duration::ZERO,
        phases: [Duration::ZERO; 2],
        written: None,
    };

    fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Mean latency of a phase, in µs.
    fn mean_us(&self, phase: usize) -> f64 {
        self.phases[phase].as_secs_f64() * 1e6 / self.ops.max(1) as f64
    }

    /// Kilobytes written per op, as text.
    fn kb_per_op(&self) -> String {
        self.written.map_or_else(
            || "-".into(),
            |b| format!("{:.1}", b as f64 / 1024.0 / self.ops.max(1) as f64),
        )
    }
}

/// `clients` tasks take operations from one counter until `ops` are done or `deadline` passes.
async fn drive(ctx: &Arc<Ctx>, work: Work, clients: usize, ops: u64, deadline: Option<Instant>) -> Run {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (ctx, next) = (Arc::clone(ctx), Arc::clone(&next));
            tokio::spawn(async move {
                let (mut done, mut phases) = (0u64, [Duration::ZERO; 2]);
                while deadline.is_none_or(|d| Instant::now() < d) && next.fetch_add(1, Ordering::Relaxed) < ops {
                    let [a, b] = ctx.op(work).await;
                    phases[0] += a;
                    phases[1] += b;
                    done += 1;
                }
                (done, phases)
            })
        })
        .collect();
    let mut run = Run::ZERO;
    for handle in handles {
        let (done, [a, b]) = handle.await.expect("client task");
        run.ops += done;
        run.phases[0] += a;
        run.phases[1] += b;
    }
    run.elapsed = start.elapsed();
    run
}

/// Rounds to two significant digits.
fn round2(x: f64) -> u64 {
    if x < 100.0 {
        return x.round() as u64;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    ((x / scale).round() * scale) as u64
}

/// Warms up for `warm_up`, then times a fixed number of operations sized to take about `target`.
async fn measure(ctx: &Arc<Ctx>, work: Work, clients: usize, warm_up: Duration, target: Duration) -> Run {
    let warm = drive(ctx, work, clients, u64::MAX, Some(Instant::now() + warm_up)).await;
    let ops = round2(warm.rate() * target.as_secs_f64()).max(20 * clients as u64);
    let label = format!("{work:?} x{clients}");
    timed(ctx, &label, "ops", drive(ctx, work, clients, ops, None)).await
}

/// Runs one sized measurement, adds the bytes written during it and prints it.
async fn timed(ctx: &Arc<Ctx>, label: &str, unit: &str, run: impl Future<Output = Run>) -> Run {
    let before = ctx.floor.written().await;
    let mut run = run.await;
    let after = ctx.floor.written().await;
    run.written = before.zip(after).map(|(b, a)| a.saturating_sub(b));
    println!(
        "    {label}: {} {unit} in {:.2} s = {} {unit}/s",
        run.ops,
        run.elapsed.as_secs_f64(),
        thousands(run.rate())
    );
    run
}

/// Allocation loops of the pipeline (the worker's `consumers_per_queue`), beside one relay loop.
const PIPELINE_LOOPS: usize = 4;
/// Most messages one allocation loop takes per unit (the worker's default).
const PIPELINE_BATCH: usize = 32;

/// The server's own path: `clients` tasks create `ops` tickets while a relay loop and
/// [`PIPELINE_LOOPS`] allocation loops run as the worker runs them (the relay pumps when a commit signals
/// the outbox; the loops take batches from the queue with `Engine::consume_batch` and wait on it when it
/// is empty); timed until every ticket is allocated. Phase 0 is the mean `create_ticket` latency.
async fn pipeline(ctx: &Arc<Ctx>, clients: usize, ops: u64) -> Run {
    // Earlier measurements left their messages in the outbox; hand them over first so that only this
    // run's tickets are counted.
    ctx.engine.pump_all().await.expect("relay");
    while !ctx
        .engine
        .consume_batch(Consumer::Allocation, PIPELINE_BATCH)
        .await
        .expect("drain")
        .is_empty()
    {}
    let allocated = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let start = Instant::now();
    let relay = {
        let (ctx, stop) = (Arc::clone(ctx), Arc::clone(&stop));
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let seen = ctx.engine.outbox_signal().current();
                if ctx.engine.pump().await.expect("relay") == 0 {
                    tokio::select! {
                        _ = ctx.engine.outbox_signal().after(seen) => {}
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    }
                }
            }
        })
    };
    let queue = ctx.engine.consumer_queue(Consumer::Allocation).to_string();
    let loops: Vec<_> = (0..PIPELINE_LOOPS)
        .map(|_| {
            let (ctx, allocated, queue) = (Arc::clone(ctx), Arc::clone(&allocated), queue.clone());
            tokio::spawn(async move {
                while allocated.load(Ordering::Relaxed) < ops {
                    let seen = ctx.engine.outbox_signal().current();
                    let outcomes = ctx
                        .engine
                        .consume_batch(Consumer::Allocation, PIPELINE_BATCH)
                        .await
                        .expect("allocate");
                    assert!(outcomes.iter().all(|o| *o == ConsumeOutcome::Done), "{outcomes:?}");
                    allocated.fetch_add(outcomes.len() as u64, Ordering::Relaxed);
                    if outcomes.is_empty() {
                        tokio::select! {
                            _ = wake(&ctx.engine, &queue, seen) => {}
                            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                        }
                    }
                }
            })
        })
        .collect();
    let mut run = drive(ctx, Work::Create, clients, ops, None).await;
    for l in loops {
        l.await.expect("allocation loop");
    }
    run.elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    relay.await.expect("relay loop");
    run
}

/// Resolves when a message may be ready for `queue`: on the broker, or (without one) after an outbox
/// commit in this process since `seen`.
async fn wake(engine: &Engine, queue: &str, seen: u64) {
    match engine.queue() {
        Some(q) => q.wait(queue).await,
        None => engine.outbox_signal().after(seen).await,
    }
}

/// Sizes and runs [`pipeline`] like [`measure`] does.
async fn measure_pipeline(ctx: &Arc<Ctx>, clients: usize, warm_up: Duration, target: Duration) -> Run {
    // A first guess (500 tickets/s) sizes the warm-up; the warm-up's rate sizes the run.
    let warm_ops = round2(500.0 * warm_up.as_secs_f64()).max(20 * clients as u64);
    let warm = pipeline(ctx, clients, warm_ops).await;
    let ops = round2(warm.rate() * target.as_secs_f64()).max(20 * clients as u64);
    let label = format!("Pipeline x{clients}");
    timed(ctx, &label, "tickets", pipeline(ctx, clients, ops)).await
}

/// Everything measured on one backend.
struct Report {
    backend: Backend,
    /// Per entry of [`CLIENTS`].
    floor: Vec<Run>,
    tickets: Vec<Run>,
    /// Per entry of [`CLIENTS`]: creates by the clients, allocation in batches in the background.
    pipeline: Vec<Run>,
    /// 1 client.
    wide: Run,
    /// The largest entry of [`CLIENTS`].
    hot: Run,
}

async fn bench_backend(backend: Backend) -> Report {
    println!("{}:", backend.name());
    let mut dir = None;
    let mut pg = None;
    let (store, floor): (Arc<dyn tts_core::ports::Store>, Floor) = match backend {
        Backend::SqliteFull | Backend::SqliteNormal => {
            let tmp = tempfile::tempdir().expect("tempdir");
            let path = tmp.path().join("bench.db");
            println!("    database file {}", path.display());
            let mut config = SqliteConfig::new(format!("sqlite://{}", path.display()));
            config.durability = if backend == Backend::SqliteFull {
                Durability::Full
            } else {
                Durability::Normal
            };
            config.max_connections = POOL;
            let store = SqliteStore::connect(&config).await.expect("SQLite store");
            dir = Some(tmp);
            let floor = Floor::Sqlite(store.writer().clone());
            (Arc::new(store), floor)
        }
        Backend::Postgres => {
            let db = PgDb::create().await;
            println!("    database {}", db.name);
            let mut config = PgConfig::new(db.url.clone());
            config.max_connections = std::env::var("TTS_BENCH_POOL")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(POOL);
            let store = PgStore::connect(&config).await.expect("PostgreSQL store");
            pg = Some(db);
            let floor = Floor::Pg(store.pool().clone());
            (Arc::new(store), floor)
        }
    };
    floor.setup().await.expect("floor tables");
    let engine = Engine::builder(store).build().expect("engine");
    tts_core::testkit::fixture::one_step(&engine, 5)
        .await
        .expect("workflow");
    let ctx = Arc::new(Ctx {
        engine,
        floor: floor.clone(),
        requester: Actor::user(UserId(Uuid::now_v7())),
        next_row: AtomicI64::new(1),
        next_ticket: AtomicU64::new(0),
    });

    let (target, warm_up) = if smoke_test() {
        (target(), target())
    } else {
        (target(), WARM_UP)
    };
    let mut report = Report {
        backend,
        floor: Vec::new(),
        tickets: Vec::new(),
        pipeline: Vec::new(),
        wide: Run::ZERO,
        hot: Run::ZERO,
    };
    if std::env::var_os("TTS_BENCH_TICKETS_ONLY").is_some() {
        // For profilers: only the tickets at the highest concurrency, then stop.
        measure(&ctx, Work::Ticket, CLIENTS[CLIENTS.len() - 1], warm_up, target).await;
        std::process::exit(0);
    }
    for clients in CLIENTS {
        report
            .floor
            .push(measure(&ctx, Work::Floor, clients, warm_up, target).await);
    }
    for clients in CLIENTS {
        report
            .tickets
            .push(measure(&ctx, Work::Ticket, clients, warm_up, target).await);
    }
    for clients in CLIENTS {
        report
            .pipeline
            .push(measure_pipeline(&ctx, clients, warm_up, target).await);
    }
    let (short_warm, short) = (warm_up / 2, target / 2);
    report.wide = measure(&ctx, Work::Wide, 1, short_warm, short).await;
    report.hot = measure(&ctx, Work::Hot, CLIENTS[CLIENTS.len() - 1], short_warm, short).await;

    drop(ctx);
    floor.close().await;
    if let Some(db) = pg {
        db.drop_now().await;
    }
    drop(dir);
    report
}

fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The targets, as the report states them: at least 80% of the ceiling everywhere, and at least 1,500
/// tickets/s on PostgreSQL with 8 clients.
fn verdict(backend: Backend, clients: usize, share: f64, tickets: f64) -> String {
    let mut verdict = if share >= 80.0 { "met" } else { "NOT met" }.to_string() + " (>= 80%)";
    if backend == Backend::Postgres && clients == 8 {
        let met = if tickets >= 1_500.0 { "met" } else { "NOT met" };
        verdict += &format!("; {met} (>= 1,500/s)");
    }
    verdict
}

fn print_reports(reports: &[Report]) {
    println!();
    println!("Throughput (ceiling = floor / 2: a ticket is two commits; outbox never pumped)");
    println!(
        "{:<14} {:>7} {:>16} {:>18} {:>10} {:>11}  target",
        "backend", "clients", "floor commits/s", "ceiling tickets/s", "tickets/s", "of ceiling"
    );
    for r in reports {
        for (i, clients) in CLIENTS.iter().enumerate() {
            let (floor, tickets) = (r.floor[i].rate(), r.tickets[i].rate());
            let share = 100.0 * tickets / (floor / 2.0);
            let verdict = verdict(r.backend, *clients, share, tickets);
            println!(
                "{:<14} {:>7} {:>16} {:>18} {:>10} {:>10.1}%  {verdict}",
                r.backend.name(),
                clients,
                thousands(floor),
                thousands(floor / 2.0),
                thousands(tickets),
                share
            );
        }
    }
    println!();
    println!(
        "Pipeline (the server's path: clients create; a relay loop and {PIPELINE_LOOPS} loops allocate in batches of \
         up to {PIPELINE_BATCH}; timed until all are allocated; same ceiling)"
    );
    println!(
        "{:<14} {:>7} {:>18} {:>10} {:>11} {:>14}  target",
        "backend", "clients", "ceiling tickets/s", "tickets/s", "of ceiling", "create_ticket"
    );
    for r in reports {
        for (i, clients) in CLIENTS.iter().enumerate() {
            let (ceiling, tickets) = (r.floor[i].rate() / 2.0, r.pipeline[i].rate());
            let share = 100.0 * tickets / ceiling;
            let verdict = verdict(r.backend, *clients, share, tickets);
            println!(
                "{:<14} {:>7} {:>18} {:>10} {:>10.1}% {:>14.0}  {verdict}",
                r.backend.name(),
                clients,
                thousands(ceiling),
                thousands(tickets),
                share,
                r.pipeline[i].mean_us(0)
            );
        }
    }
    println!();
    println!("Where the time goes: mean latency per call (µs), bytes written per op (KB), a hot row");
    println!("  +1 stmt = one more INSERT inside a transaction ({WIDE}-insert transaction vs the floor, 1 client);");
    println!("  KB = SQLite: this process's write() bytes (WAL + checkpoints); PostgreSQL: server-wide WAL bytes;");
    println!("  hot row = floor commits/s when each transaction first updates one shared row (floor in brackets)");
    println!(
        "{:<14} {:>7} {:>9} {:>8} {:>14} {:>9} {:>15} {:>10} {:>22}",
        "backend",
        "clients",
        "floor µs",
        "+1 stmt",
        "create_ticket",
        "allocate",
        "floor KB/commit",
        "KB/ticket",
        "hot row commits/s"
    );
    let last = CLIENTS.len() - 1;
    for r in reports {
        let stmt = (r.wide.mean_us(0) - r.floor[0].mean_us(0)) / (WIDE - 1) as f64;
        for (i, clients) in CLIENTS.iter().enumerate() {
            let hot = if i == last {
                format!("{} ({})", thousands(r.hot.rate()), thousands(r.floor[last].rate()))
            } else {
                String::new()
            };
            let stmt = if i == 0 { format!("{stmt:.0}") } else { String::new() };
            println!(
                "{:<14} {:>7} {:>9.0} {:>8} {:>14.0} {:>9.0} {:>15} {:>10} {:>22}",
                r.backend.name(),
                clients,
                r.floor[i].mean_us(0),
                stmt,
                r.tickets[i].mean_us(0),
                r.tickets[i].mean_us(1),
                r.floor[i].kb_per_op(),
                r.tickets[i].kb_per_op(),
                hot
            );
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    let backends = selected();
    if backends.is_empty() {
        println!("store_throughput: no backend matches the filter; nothing to run");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "store_throughput: {} on {cpus} CPUs, load average {} at start; pools of {POOL}, clients {CLIENTS:?}",
        backends.iter().map(|b| b.name()).collect::<Vec<_>>().join(", "),
        load_average()
    );
    rt.block_on(async {
        if backends.contains(&Backend::Postgres) {
            // Fail before measuring anything when the server is not there.
            let _ = pg_admin().await.close().await;
        }
        let mut reports = Vec::new();
        for backend in backends {
            reports.push(bench_backend(backend).await);
        }
        print_reports(&reports);
    });
    println!("load average {} at end", load_average());
}
