//! HTTP load (issues 4 and 15): authenticated `POST /tickets/` end to end against a real `tts-server` on
//! SQLite and on PostgreSQL, with the same-run ceilings next to it.
//!
//! A plain `main` (no criterion): `cargo bench -p tts-benches --bench http_load [-- MODE...]`, where
//! `MODE` selects `sqlite-full`, `sqlite-normal`, `postgres` or `echo` (the echo ceilings alone; any part
//! of a name selects, like criterion's filters: `sqlite` runs both SQLite modes; a filter naming none
//! runs nothing); no argument runs all of them; `--test` is a smoke run (4 connections, 1 s phases, 10 samples, a fill to 300).
//!
//! The server is the release binary `target/release/tts-server` (`$CARGO_TARGET_DIR/release/...` when
//! that is set; `TTS_LOAD_SERVER` names another binary). When it is missing the bench builds it first
//! with `cargo build --release -j2 -p tts-http --bin tts-server`; an existing binary is used as it is, so
//! rebuild it after changing the server. Per mode the bench starts it as a child process on a fresh
//! database (SQLite: a file in a temporary directory, `--sqlite-sync full|normal`; PostgreSQL: a new
//! database on `TTS_BENCH_PG_URL`, default the local server, dropped at the end) and a free port:
//! `TTS_DEMO_PASSWORD=... TTS_METRICS_TOKEN=... tts-server --database-url URL --data-dir DIR/data
//! --sqlite-sync MODE serve --demo --no-rate-limits --bind 127.0.0.1:PORT`. Its output goes to a log
//! that is scanned for `WARN` and `ERROR` lines. The demo seeds the requester
//! `employee@demo.tts.example` and a default workflow that assigns every ticket at its first step.
//!
//! Phases per mode, as the requester:
//! 1. **memory at idle**: resident memory after start, then after 100 logins (4 at a time);
//! 2. warm-up: 1 s of creates (discarded), then wait until every ticket is allocated;
//! 3. **create, closed loop**: `TTS_LOAD_CONNECTIONS` (default 32) connections, one client and one
//!    keep-alive connection each, sending `POST /tickets/` back to back for `TTS_LOAD_SECS` (default
//!    10 s); latency is send to full response body. Allocation runs inside the server meanwhile; the
//!    tickets still unallocated at the end are waited for (`GET /tickets/?is_task_allocated=false` every
//!    50 ms): **created and assigned tickets/s** = tickets / (phase + drain). Over the phase and its
//!    drain the bench also reads the server's `tts_db_traffic_total` (statements, calls, commits and
//!    units of work its store sent) and the CPU time of the server and of every `postgres` process
//!    (`/proc/<pid>/stat`), per ticket;
//! 4. **create → assignment**: `TTS_LOAD_SAMPLES` tickets (default 200) at `TTS_LOAD_SAMPLE_RATE` per
//!    second (default 20), each polled every 2 ms until allocated; timed from the 201 and from the send;
//! 5. **half rate, open loop**: creates at a constant arrival rate of half the closed loop's for
//!    `TTS_LOAD_OPEN_SECS` (default 5 s); latency counts from each request's scheduled send time (no
//!    coordinated omission; tokio's 1 ms timer makes sends up to ~2 ms late, the *send lag*, which is
//!    inside the latency); then drained; its traffic and CPU per ticket are read as in phase 3.
//!    `TTS_LOAD_OPEN_RATE` sets another rate, to compare two servers at one rate;
//! 6. **memory under data**: creates until the requester has `TTS_LOAD_FILL` tickets (default
//!    100,000), drained, then resident memory 2 s later;
//! 7. **one-row commits** (after the server stopped, on its database; see `ceilings.rs`).
//!
//! On PostgreSQL the bench also reports the `WARNING`, `ERROR` and `FATAL` lines PostgreSQL logged
//! meanwhile (`/var/log/postgresql/*.log`, when readable).
//!
//! After the modes, in this process: the bare and the authenticated echo, taking turns over three rounds
//! (`ceilings.rs`; the share reported is the median round's). The load generator runs on a 2-worker
//! tokio runtime; everything shares the machine's cores.
//!
//! Targets (issue 15), reported, not asserted: created and assigned **≥ 3,000/s** on `sqlite-full`
//! and **≥ 1,500/s** on `postgres`; p99 **≤ 10 ms** at half the closed-loop rate; the authenticated
//! echo **≥ 0.7** of the bare one; **≤ 30 MB** resident after start and 100 logins, **≤ 100 MB** after
//! 100,000 tickets.

mod ceilings;
mod drive;
mod report;
mod server;
mod stats;

use ceilings::ECHO_ROUNDS;
use drive::{Assignment, OpenLoop, client, clients, closed_loop, closed_loop_count, open_loop, post_payload};
use server::{Backend, Cpu, Drain, PgLog, Server, ticks_per_second};
use stats::Samples;
use std::path::Path;
use std::time::Duration;
use tokio::task::JoinSet;
use tts_benches::server::server_binary;
use tts_core::ports::StoreTraffic;

/// The requester every create is sent as.
const REQUESTER: &str = "employee@demo.tts.example";
/// The modes: name and backend.
const MODES: [(&str, Backend); 3] = [
    ("sqlite-full", Backend::Sqlite("full")),
    ("sqlite-normal", Backend::Sqlite("normal")),
    ("postgres", Backend::Postgres),
];
/// Logins before the idle memory is read (the "100 logins").
const LOGINS: usize = 100;

/// What to run, from the command line and the `TTS_LOAD_*` environment variables.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Concurrent connections of the closed-loop phases (and tasks of the one-row commits).
    pub connections: usize,
    /// Length of a closed-loop phase.
    pub duration: Duration,
    /// Length of the open-loop phase.
    pub open_duration: Duration,
    /// The open loop's rate instead of half the closed loop's (`TTS_LOAD_OPEN_RATE`), to compare two
    /// servers at one rate.
    pub open_rate: Option<f64>,
    /// Warm-up before a closed-loop phase.
    pub warm_up: Duration,
    /// Tickets timed from create to assignment.
    pub samples: usize,
    /// Creates per second of the create → assignment phase.
    pub sample_rate: f64,
    /// Tickets the requester has before the memory under data is read.
    pub fill: u64,
    /// The selected modes.
    pub modes: Vec<(&'static str, Backend)>,
    /// Whether the echo ceilings run (no filter, or one that `echo` contains).
    pub echoes: bool,
}

impl Settings {
    /// Reads the command line (filters, `--test`) and the environment.
    fn from_env() -> Settings {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let modes = MODES
            .into_iter()
            .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
            .collect();
        let echoes = filters.is_empty() || filters.iter().any(|f| "echo".contains(f.as_str()));
        if args.iter().any(|a| a == "--test") {
            return Settings {
                connections: 4,
                duration: Duration::from_secs(1),
                open_duration: Duration::from_secs(1),
                open_rate: None,
                warm_up: Duration::from_millis(200),
                samples: 10,
                sample_rate: 20.0,
                fill: 300,
                modes,
                echoes,
            };
        }
        Settings {
            connections: env_or("TTS_LOAD_CONNECTIONS", 32usize).max(1),
            duration: Duration::from_secs_f64(env_or("TTS_LOAD_SECS", 10.0f64)),
            open_duration: Duration::from_secs_f64(env_or("TTS_LOAD_OPEN_SECS", 5.0f64)),
            open_rate: Some(env_or("TTS_LOAD_OPEN_RATE", 0.0f64)).filter(|r| *r > 0.0),
            warm_up: Duration::from_secs(1),
            samples: env_or("TTS_LOAD_SAMPLES", 200usize),
            sample_rate: env_or("TTS_LOAD_SAMPLE_RATE", 20.0f64),
            fill: env_or("TTS_LOAD_FILL", 100_000u64),
            modes,
            echoes,
        }
    }
}

/// The value of the environment variable `name`, or `default` when it is unset; exits on a bad value.
fn env_or<T: std::str::FromStr + Copy>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Err(_) => default,
        Ok(s) => match s.trim().parse() {
            Ok(v) => v,
            Err(_) => {
                eprintln!("http_load: {name}={s:?} is not a valid number");
                std::process::exit(2);
            }
        },
    }
}

/// The machine's load average (`/proc/loadavg`, first three fields).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// What a load phase and its drain cost, per ticket.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cost {
    /// Tickets created in the phase.
    pub tickets: u64,
    /// What the store sent meanwhile.
    pub traffic: StoreTraffic,
    /// CPU seconds of the server.
    pub server_cpu: f64,
    /// CPU seconds of every `postgres` process (PostgreSQL modes).
    pub db_cpu: Option<f64>,
}

/// The counters a [`Cost`] is the difference of: the store's traffic and the CPU ticks so far.
struct Meter {
    traffic: StoreTraffic,
    server_ticks: u64,
    db_ticks: u64,
}

impl Meter {
    /// Reads the server's store traffic (`/metrics`) and the CPU ticks of the server and of PostgreSQL.
    async fn read(server: &Server, client: &reqwest::Client) -> Meter {
        Meter {
            traffic: server.traffic(client).await,
            server_ticks: Cpu::Pid(server.pid()).ticks(),
            db_ticks: Cpu::Named("postgres").ticks(),
        }
    }

    /// What happened between `before` and this reading, for `tickets` tickets.
    fn cost_since(&self, before: &Meter, tickets: u64, backend: Backend) -> Cost {
        let (now, then) = (&self.traffic, &before.traffic);
        let hz = ticks_per_second();
        Cost {
            tickets,
            traffic: StoreTraffic {
                statements: now.statements - then.statements,
                round_trips: now.round_trips - then.round_trips,
                commits: now.commits - then.commits,
                units: now.units - then.units,
            },
            server_cpu: (self.server_ticks - before.server_ticks) as f64 / hz,
            db_cpu: (backend == Backend::Postgres).then(|| self.db_ticks.saturating_sub(before.db_ticks) as f64 / hz),
        }
    }
}

/// Resident memory of the server at the points the issue names, KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// After start (`serve --demo`).
    pub started: u64,
    /// After 100 logins.
    pub logins: u64,
    /// After the load phases, drained.
    pub loaded: u64,
    /// After the fill, drained, 2 s later.
    pub filled: u64,
    /// The requester's tickets at that point.
    pub filled_tickets: u64,
}

/// Everything measured on one mode.
#[derive(Debug)]
pub struct ModeReport {
    /// `sqlite-full`, `sqlite-normal` or `postgres`.
    pub name: &'static str,
    /// Its database.
    pub backend: Backend,
    /// The closed-loop create phase.
    pub create: Samples,
    /// The backlog after it.
    pub create_drain: Drain,
    /// Its cost.
    pub cost: Cost,
    /// Create → assignment.
    pub assignment: Assignment,
    /// The open-loop phase at half the closed-loop rate.
    pub half: OpenLoop,
    /// The backlog after it.
    pub half_drain: Drain,
    /// The open loop's and its drain's cost.
    pub half_cost: Cost,
    /// Resident memory.
    pub memory: Memory,
    /// One-row commits on the server's database after it stopped.
    pub commits: Samples,
    /// The server's `WARN` and `ERROR` lines.
    pub server_problems: Vec<String>,
    /// PostgreSQL's `WARNING`, `ERROR` and `FATAL` log lines during the mode (PostgreSQL modes whose log
    /// could be read).
    pub pg_problems: Option<Vec<String>>,
}

impl ModeReport {
    /// Created and assigned tickets per second: the closed loop's tickets over the phase and its drain.
    pub fn end_to_end(&self) -> f64 {
        self.create.latencies.len() as f64 / (self.create.elapsed + self.create_drain.time).as_secs_f64()
    }
}

/// Runs every phase of one mode against a fresh server.
async fn bench_mode(binary: &Path, name: &'static str, backend: Backend, settings: &Settings) -> ModeReport {
    eprintln!("{name}: starting {} on {backend:?}", binary.display());
    let pg_log = (backend == Backend::Postgres).then(PgLog::mark);
    let server = Server::start(binary, backend).await;
    let shared = client(usize::MAX);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut memory = Memory {
        started: server.rss_kib(),
        ..Memory::default()
    };
    let mut logins = JoinSet::new();
    for i in 0..LOGINS {
        if i >= 4 {
            logins.join_next().await;
        }
        let (c, base) = (shared.clone(), server.base.clone());
        logins.spawn(async move { login(&c, &base).await });
    }
    logins.join_all().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    memory.logins = server.rss_kib();
    eprintln!(
        "{name}: resident {} MiB after start, {} MiB after {LOGINS} logins",
        stats::mib(memory.started),
        stats::mib(memory.logins)
    );

    let token = server.login(&shared, REQUESTER).await;
    let conns = clients(settings.connections);
    let create = post_payload(format!("{}/tickets/", server.base), token.clone());
    let warm = closed_loop(&conns, &create, settings.warm_up).await;
    server.drain(&shared, &token).await;
    eprintln!("{name}: warm-up {:.0} creates/s", warm.rate());

    let before = Meter::read(&server, &shared).await;
    let created = closed_loop(&conns, &create, settings.duration).await;
    eprintln!(
        "{name}: {:.0} creates/s, p50 {} ms, p99 {} ms; draining",
        created.rate(),
        stats::ms(created.pct(0.5)),
        stats::ms(created.pct(0.99))
    );
    let create_drain = server.drain(&shared, &token).await;
    let cost = Meter::read(&server, &shared)
        .await
        .cost_since(&before, created.latencies.len() as u64, backend);

    eprintln!(
        "{name}: create → assignment, {} at {}/s",
        settings.samples, settings.sample_rate
    );
    let assignment =
        drive::sample_assignments(&shared, &server.base, &token, settings.samples, settings.sample_rate).await;
    server.drain(&shared, &token).await;

    let rate = settings.open_rate.unwrap_or((created.rate() / 2.0).max(1.0));
    eprintln!("{name}: open loop at {rate:.0}/s for {:?}", settings.open_duration);
    let before = Meter::read(&server, &shared).await;
    let half = open_loop(&shared, &create, rate, settings.open_duration).await;
    let half_drain = server.drain(&shared, &token).await;
    let half_cost =
        Meter::read(&server, &shared)
            .await
            .cost_since(&before, half.samples.latencies.len() as u64, backend);
    memory.loaded = server.rss_kib();

    let have = ticket_count(&shared, &server.base, &token).await;
    if have < settings.fill {
        eprintln!(
            "{name}: creating {} more tickets (to {})",
            settings.fill - have,
            settings.fill
        );
        closed_loop_count(&conns, &create, settings.fill - have).await;
        server.drain(&shared, &token).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    memory.filled = server.rss_kib();
    memory.filled_tickets = ticket_count(&shared, &server.base, &token).await;
    eprintln!(
        "{name}: resident {} MiB with {} tickets",
        stats::mib(memory.filled),
        memory.filled_tickets
    );
    drop(conns);
    let (db, server_problems) = server.stop();
    let pg_problems = pg_log.and_then(|log| log.problems_since());

    eprintln!(
        "{name}: one-row commits, {} tasks, {:?}",
        settings.connections, settings.duration
    );
    let commits = ceilings::one_row_commits(backend, &db.url, settings.connections, settings.duration).await;
    db.drop_now().await;
    ModeReport {
        name,
        backend,
        create: created,
        create_drain,
        cost,
        assignment,
        half,
        half_drain,
        half_cost,
        memory,
        commits,
        server_problems,
        pg_problems,
    }
}

/// One login as the requester (the idle-memory phase; the token is not used).
async fn login(client: &reqwest::Client, base: &str) {
    let resp = client
        .post(format!("{base}/api/v1/users/token/"))
        .json(&serde_json::json!({ "username": REQUESTER, "password": server::PASSWORD }))
        .send()
        .await
        .expect("a login");
    assert!(resp.status().is_success(), "login: {}", resp.status());
}

/// The requester's tickets (`count` of the first page).
async fn ticket_count(client: &reqwest::Client, base: &str, token: &str) -> u64 {
    let body: serde_json::Value = client
        .get(format!("{base}/tickets/?page_size=1"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the ticket list")
        .json()
        .await
        .expect("a JSON list");
    body["count"].as_u64().unwrap_or(0)
}

fn main() {
    let settings = Settings::from_env();
    if settings.modes.is_empty() && !settings.echoes {
        println!("http_load: no mode matches the filter; nothing to run");
        return;
    }
    let binary = server_binary();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "http_load: {} on {cpus} CPUs, load average {} at start; {} connections, closed loops {:?} (+{:?} \
         warm-up), open loop {:?}, {} create → assignment samples at {}/s, fill to {} tickets",
        settings.modes.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        load_average(),
        settings.connections,
        settings.duration,
        settings.warm_up,
        settings.open_duration,
        settings.samples,
        settings.sample_rate,
        settings.fill,
    );
    rt.block_on(async {
        let mut reports = Vec::new();
        for (name, backend) in &settings.modes {
            reports.push(bench_mode(&binary, name, *backend, &settings).await);
        }
        let echoes = if settings.echoes {
            let signed = tts_benches::auth_echo::signed_in().await;
            let (conns, warm, secs) = (settings.connections, settings.warm_up, settings.duration);
            let bare_url = ceilings::serve(tts_benches::auth_echo::bare_router()).await;
            let auth_url = ceilings::serve(tts_benches::auth_echo::authenticated_router(&signed)).await;
            eprintln!("echoes: {bare_url} and {auth_url}, {conns} connections, {ECHO_ROUNDS} rounds in {secs:?}");
            Some(ceilings::echo_pair(bare_url, auth_url, signed.token.clone(), conns, warm, secs).await)
        } else {
            None
        };
        report::print(&settings, echoes.as_ref(), &reports);
    });
    println!("load average {} at end", load_average());
}
