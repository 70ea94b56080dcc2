//! HTTP load (issue 4, item 13): authenticated `POST /tickets/` end to end against a real `tts-server`,
//! next to a bare axum JSON echo server as the ceiling of the HTTP stack on this machine.
//!
//! A plain `main` (no criterion): `cargo bench -p tts-benches --bench http_load [-- MODE...]`, where
//! `MODE` selects the SQLite durability (`sqlite-full`, `sqlite-normal`; any part of a name selects, like
//! criterion's filters; a filter naming neither runs nothing); no argument runs both; `--test` is a smoke
//! run (4 connections, 1 s per phase, 10 samples).
//!
//! The server is the release binary `target/release/tts-server` (`$CARGO_TARGET_DIR/release/...` when
//! that is set; `TTS_LOAD_SERVER` names another binary). When it is missing the bench builds it first with
//! `cargo build --release -j2 -p tts-http --bin tts-server`; an existing binary is used as it is, so
//! rebuild it after changing the server. Per durability mode the bench starts the server as a child
//! process on a database in a fresh temporary directory and a free port:
//! `TTS_DEMO_PASSWORD=bench-pass-123 tts-server --database-url sqlite://DIR/tts.db --data-dir DIR/data
//! --sqlite-sync MODE serve --demo --no-rate-limits --bind 127.0.0.1:PORT` (its output goes to
//! `DIR/server.log`, scanned for `WARN` and `ERROR` lines at the end), and kills it afterwards (also on
//! a panic). The demo seeds the requester `employee@demo.tts.example` and a default workflow that
//! assigns every ticket to an admin at its "Triage Ticket" step.
//!
//! Phases per mode, all as the requester, logged in once (`POST /api/v1/users/token/`):
//! 1. warm-up: 1 s of creates (discarded), then wait until every ticket is allocated;
//! 2. **create, closed loop**: `TTS_LOAD_CONNECTIONS` (default 32) connections, one client and one
//!    keep-alive connection each, each sending `POST /tickets/` back to back for `TTS_LOAD_SECS` (default
//!    10 s); throughput is 2xx responses per second, latency is send to full response body. Allocation
//!    runs concurrently inside the server; the tickets still unallocated when the phase ends (the
//!    *backlog*) are then waited for (`GET /tickets/?is_task_allocated=false`, every 50 ms), which gives an
//!    end-to-end rate: tickets created / (phase + drain time);
//! 3. **create → assignment**: `TTS_LOAD_SAMPLES` tickets (default 200) created at `TTS_LOAD_SAMPLE_RATE`
//!    per second (default 20), each then polled with `GET /tickets/{id}/` every 2 ms until
//!    `is_task_allocated` is true (at most 10 s); timed from the 201 response (and from the send);
//! 4. **half rate, open loop**: creates at a constant arrival rate of half the closed-loop throughput for
//!    `TTS_LOAD_OPEN_SECS` (default 5 s), through one client with as many connections as it needs; then
//!    the same at 80% of the end-to-end (created and assigned) rate, a load the server sustains;
//!    latency counts from each request's scheduled send time, so a server (or a load generator) that falls
//!    behind shows up in the latency (tokio's 1 ms timer makes sends up to ~1 ms late; the report gives
//!    that lag); then the backlog is drained again.
//!
//! The echo server (in this process, on the same tokio runtime as the load generator, one `POST /echo`
//! route that parses the JSON body and returns it) is measured like phase 2 with the same body and
//! headers, after the `tts-server` runs, when nothing else runs. Everything shares the machine's cores:
//! the load generator runs on a 2-worker tokio runtime, the server on its own default runtime.
//!
//! Targets (issue 4): at least **1,000 creates/s** fully durable (`sqlite-full`), and p99 at most
//! **10 ms** at half the maximum rate. The bench reports them; it asserts nothing.

use axum::routing::post;
use axum::{Json, Router};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, RequestBuilder};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::task::JoinSet;
use tts_benches::server::server_binary;

/// Password of every demo account.
const PASSWORD: &str = "bench-pass-123";
/// The requester who opens every ticket.
const REQUESTER: &str = "employee@demo.tts.example";
/// The body of every create request, and of every echo request.
const PAYLOAD: &str =
    r#"{"subject": "Load test: laptop does not boot", "category": "Technical Support", "priority": "high"}"#;
/// The durability modes, by the name filters select them with, and the `--sqlite-sync` value.
const MODES: [(&str, &str); 2] = [("sqlite-full", "full"), ("sqlite-normal", "normal")];
/// Warm-up before a closed-loop measurement.
const WARM_UP: Duration = Duration::from_secs(1);
/// How often create → assignment polls the ticket.
const POLL: Duration = Duration::from_millis(2);
/// Longest wait for one ticket's assignment.
const ASSIGN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the backlog drain counts the unallocated tickets.
const DRAIN_POLL: Duration = Duration::from_millis(50);
/// Longest wait for the allocation backlog to drain.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(180);
/// Longest wait for the server to answer `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Timeout of a single request (a stuck request counts as an error instead of hanging the bench).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The issue's throughput target, creates per second on `sqlite-full`.
const TARGET_RATE: f64 = 1000.0;
/// The issue's latency target: p99 at half the maximum rate.
const TARGET_P99: Duration = Duration::from_millis(10);

/// What to run, from the command line and the `TTS_LOAD_*` environment variables.
#[derive(Debug, Clone)]
struct Settings {
    /// Concurrent connections of the closed-loop phases.
    connections: usize,
    /// Length of a closed-loop phase.
    duration: Duration,
    /// Length of the open-loop phase.
    open_duration: Duration,
    /// Warm-up before a closed-loop phase.
    warm_up: Duration,
    /// Tickets timed from create to assignment.
    samples: usize,
    /// Creates per second of the create → assignment phase.
    sample_rate: f64,
    /// The selected durability modes: (name, `--sqlite-sync` value).
    modes: Vec<(&'static str, &'static str)>,
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
        if args.iter().any(|a| a == "--test") {
            return Settings {
                connections: 4,
                duration: Duration::from_secs(1),
                open_duration: Duration::from_secs(1),
                warm_up: Duration::from_millis(200),
                samples: 10,
                sample_rate: 20.0,
                modes,
            };
        }
        Settings {
            connections: env_or("TTS_LOAD_CONNECTIONS", 32usize).max(1),
            duration: Duration::from_secs_f64(env_or("TTS_LOAD_SECS", 10.0f64)),
            open_duration: Duration::from_secs_f64(env_or("TTS_LOAD_OPEN_SECS", 5.0f64)),
            warm_up: WARM_UP,
            samples: env_or("TTS_LOAD_SAMPLES", 200usize),
            sample_rate: env_or("TTS_LOAD_SAMPLE_RATE", 20.0f64),
            modes,
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

/// The outcome of one request.
#[derive(Debug)]
enum Outcome {
    /// A response, read to the end of its body.
    Status(u16),
    /// No response: connection, timeout or body error.
    Error(String),
}

/// Sends a request and reads the whole response body.
async fn send(request: RequestBuilder) -> Outcome {
    match request.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            match resp.bytes().await {
                Ok(_) => Outcome::Status(status),
                Err(e) => Outcome::Error(format!("reading the body: {e}")),
            }
        }
        Err(e) => Outcome::Error(e.to_string()),
    }
}

/// The results of one measured phase.
#[derive(Debug, Default)]
struct Samples {
    /// Latency of every 2xx response.
    latencies: Vec<Duration>,
    /// Non-2xx responses by status.
    statuses: BTreeMap<u16, u64>,
    /// Requests without a response.
    errors: u64,
    /// The first error's message.
    first_error: Option<String>,
    /// Wall time of the phase, until the last response.
    elapsed: Duration,
}

impl Samples {
    /// Counts one request.
    fn record(&mut self, outcome: Outcome, latency: Duration) {
        match outcome {
            Outcome::Status(s) if (200..300).contains(&s) => self.latencies.push(latency),
            Outcome::Status(s) => *self.statuses.entry(s).or_default() += 1,
            Outcome::Error(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    /// Adds another worker's counts (not its elapsed time).
    fn merge(&mut self, other: Samples) {
        self.latencies.extend(other.latencies);
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Non-2xx responses.
    fn non_2xx(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// 2xx responses per second.
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Sorts the latencies (needed before [`Samples::pct`]).
    fn sort(&mut self) {
        self.latencies.sort_unstable();
    }

    /// The `p`-quantile of the (sorted) latencies.
    fn pct(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    /// Non-2xx statuses and errors in one line, or an empty string.
    fn problems(&self) -> String {
        let mut parts: Vec<String> = self.statuses.iter().map(|(s, n)| format!("{n} × {s}")).collect();
        if let Some(e) = &self.first_error {
            parts.push(format!("{} errors, first: {e}", self.errors));
        }
        parts.join("; ")
    }
}

/// The nearest-rank `p`-quantile of sorted durations (zero when empty).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with two decimals.
fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// A number with thousands separators and no decimals.
fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A client for `max_idle` keep-alive connections per host.
fn client(max_idle: usize) -> Client {
    Client::builder()
        .pool_max_idle_per_host(max_idle)
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client")
}

/// Builds one request of a phase on a given client.
type MakeRequest = Arc<dyn Fn(&Client) -> RequestBuilder + Send + Sync>;

/// `POST {url}` with the bearer token and [`PAYLOAD`]: the create request, or the same at the echo server.
fn post_payload(url: String, token: String) -> MakeRequest {
    Arc::new(move |c: &Client| {
        c.post(&url)
            .bearer_auth(&token)
            .header(CONTENT_TYPE, "application/json")
            .body(PAYLOAD)
    })
}

/// Closed loop: one worker per client, each sending requests back to back until `duration` has passed.
async fn closed_loop(clients: &[Client], make: &MakeRequest, duration: Duration) -> Samples {
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for c in clients {
        let (c, make) = (c.clone(), Arc::clone(make));
        workers.spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let outcome = send(make(&c)).await;
                samples.record(outcome, sent.elapsed());
            }
            samples
        });
    }
    let mut all = Samples::default();
    while let Some(worker) = workers.join_next().await {
        all.merge(worker.expect("a load worker"));
    }
    all.elapsed = start.elapsed();
    all.sort();
    all
}

/// An open-loop run: the results and how late the sends left.
#[derive(Debug)]
struct OpenLoop {
    /// Latency from each request's scheduled send time.
    samples: Samples,
    /// Requests per second scheduled.
    rate: f64,
    /// p99 of (actual send − scheduled send): the load generator's own lateness.
    lag_p99: Duration,
}

/// Open loop: requests scheduled at a constant `rate` for `duration`, each sent at its time whether or not
/// the earlier ones have been answered; latency counts from the scheduled time.
async fn open_loop(client: &Client, make: &MakeRequest, rate: f64, duration: Duration) -> OpenLoop {
    let count = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
    let start = tokio::time::Instant::now() + Duration::from_millis(5);
    let mut requests = JoinSet::new();
    for i in 0..count {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at).await;
        let request = make(client);
        requests.spawn(async move {
            let lag = at.elapsed();
            let outcome = send(request).await;
            (outcome, at.elapsed(), lag)
        });
    }
    let mut samples = Samples::default();
    let mut lags = Vec::with_capacity(count as usize);
    while let Some(r) = requests.join_next().await {
        let (outcome, latency, lag) = r.expect("an open-loop request");
        samples.record(outcome, latency);
        lags.push(lag);
    }
    samples.elapsed = start.elapsed();
    samples.sort();
    lags.sort_unstable();
    OpenLoop {
        samples,
        rate,
        lag_p99: percentile(&lags, 0.99),
    }
}

/// A running `tts-server`, killed when dropped.
#[derive(Debug)]
struct Server {
    /// The child process.
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base: String,
    /// Its stdout and stderr.
    log: PathBuf,
    /// Database, data dir and log; removed after the child is killed.
    _dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `binary` with `--sqlite-sync sync` on a fresh database and a free port, and waits until it
    /// answers `GET /healthz`.
    async fn start(binary: &Path, sync: &str) -> Server {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.path().join("server.log");
        let out = File::create(&log).expect("the server log");
        let err = out.try_clone().expect("the server log");
        let child = Command::new(binary)
            .env("TTS_DEMO_PASSWORD", PASSWORD)
            .arg("--database-url")
            .arg(format!("sqlite://{}", dir.path().join("tts.db").display()))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--sqlite-sync", sync, "serve", "--demo", "--no-rate-limits", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let probe = client(1);
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("tts-server exited at start ({status}):\n{}", server.log_text());
            }
            if let Ok(r) = probe.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "tts-server did not answer /healthz within {START_TIMEOUT:?}:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's output so far, without terminal colours.
    fn log_text(&self) -> String {
        let raw = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // Skip a CSI sequence: ESC [ ... final letter.
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The server's `WARN` and `ERROR` log lines.
    fn problems(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
            .map(str::to_string)
            .collect()
    }

    /// Logs in and returns the access token.
    async fn login(&self, client: &Client, email: &str) -> String {
        let resp = client
            .post(format!("{}/api/v1/users/token/", self.base))
            .json(&serde_json::json!({ "username": email, "password": PASSWORD }))
            .send()
            .await
            .expect("the login request");
        let status = resp.status();
        let body: Value = resp.json().await.expect("a JSON login answer");
        assert!(status.is_success(), "login as {email}: {status} {body}");
        body["access"].as_str().expect("an access token").to_string()
    }

    /// Waits until no ticket is unallocated; returns the count at the first look and the time it took.
    async fn drain(&self, client: &Client, token: &str) -> Drain {
        let start = Instant::now();
        let mut backlog = None;
        loop {
            let count = async {
                let resp = client
                    .get(format!("{}/tickets/?is_task_allocated=false&page_size=1", self.base))
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = resp.status();
                let body: Value = resp.json().await.map_err(|e| e.to_string())?;
                body["count"].as_u64().ok_or(format!("{status}: {body}"))
            }
            .await;
            match count {
                Ok(n) => {
                    let first = *backlog.get_or_insert(n);
                    if n == 0 {
                        return Drain {
                            backlog: first,
                            time: start.elapsed(),
                            left: 0,
                        };
                    }
                    if start.elapsed() > DRAIN_TIMEOUT {
                        eprintln!("  allocation backlog did not drain within {DRAIN_TIMEOUT:?}: {n} left");
                        return Drain {
                            backlog: first,
                            time: start.elapsed(),
                            left: n,
                        };
                    }
                }
                Err(e) => eprintln!("  counting unallocated tickets: {e}"),
            }
            tokio::time::sleep(DRAIN_POLL).await;
        }
    }
}

/// Creates a ticket and polls it every [`POLL`] until it is allocated; returns (from the send, from
/// the 201 response).
async fn create_to_assignment(client: &Client, base: &str, token: &str) -> Result<(Duration, Duration), String> {
    let sent = Instant::now();
    let resp = client
        .post(format!("{base}/tickets/"))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "application/json")
        .body(PAYLOAD)
        .send()
        .await
        .map_err(|e| format!("create: {e}"))?;
    if resp.status().as_u16() != 201 {
        return Err(format!("create: {}", resp.status()));
    }
    let ticket: Value = resp.json().await.map_err(|e| format!("create: {e}"))?;
    let created = Instant::now();
    let id = ticket["id"].as_u64().ok_or(format!("create: no id in {ticket}"))?;
    let mut allocated = ticket["is_task_allocated"].as_bool() == Some(true);
    while !allocated {
        if created.elapsed() > ASSIGN_TIMEOUT {
            return Err(format!("ticket {id} not allocated within {ASSIGN_TIMEOUT:?}"));
        }
        tokio::time::sleep(POLL).await;
        let resp = client
            .get(format!("{base}/tickets/{id}/"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| format!("poll: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("poll: {}", resp.status()));
        }
        let ticket: Value = resp.json().await.map_err(|e| format!("poll: {e}"))?;
        allocated = ticket["is_task_allocated"].as_bool() == Some(true);
    }
    let done = Instant::now();
    Ok((done - sent, done - created))
}

/// An allocation backlog and how long it took to drain.
#[derive(Debug, Clone, Copy, Default)]
struct Drain {
    /// Unallocated tickets at the first look.
    backlog: u64,
    /// Until none was left.
    time: Duration,
    /// Still unallocated when the drain gave up.
    left: u64,
}

/// Create → assignment timings.
#[derive(Debug, Default)]
struct Assignment {
    /// From the 201 response to the first poll seeing `is_task_allocated`, sorted.
    from_created: Vec<Duration>,
    /// From the create request's send, sorted.
    from_sent: Vec<Duration>,
    /// Failed samples (non-201, poll errors, timeouts).
    failures: Vec<String>,
}

/// Everything measured on one durability mode.
#[derive(Debug)]
struct ModeReport {
    /// `sqlite-full` or `sqlite-normal`.
    name: &'static str,
    /// The closed-loop create phase.
    create: Samples,
    /// The backlog after it.
    create_drain: Drain,
    /// Create → assignment.
    assignment: Assignment,
    /// The open-loop phase at half the closed-loop rate.
    half: OpenLoop,
    /// The backlog after it.
    half_drain: Drain,
    /// The open-loop phase at 80% of the end-to-end (created and assigned) rate: a load the server
    /// sustains, allocations included.
    sustained: OpenLoop,
    /// The backlog after it.
    sustained_drain: Drain,
    /// The server's `WARN` and `ERROR` lines.
    server_problems: Vec<String>,
    /// The access token (reused as the echo request's header).
    token: String,
}

/// Runs every phase against a fresh server with `--sqlite-sync sync`.
async fn bench_mode(binary: &Path, name: &'static str, sync: &str, settings: &Settings) -> ModeReport {
    eprintln!("{name}: starting {} --sqlite-sync {sync}", binary.display());
    let server = Server::start(binary, sync).await;
    let shared = client(usize::MAX);
    let token = server.login(&shared, REQUESTER).await;
    let clients: Vec<Client> = (0..settings.connections).map(|_| client(1)).collect();
    let create = post_payload(format!("{}/tickets/", server.base), token.clone());

    eprintln!("{name}: warm-up {:?}", settings.warm_up);
    let warm = closed_loop(&clients, &create, settings.warm_up).await;
    server.drain(&shared, &token).await;
    eprintln!("{name}: warm-up {:.0} creates/s", warm.rate());

    eprintln!(
        "{name}: closed loop, {} connections, {:?}",
        settings.connections, settings.duration
    );
    let created = closed_loop(&clients, &create, settings.duration).await;
    eprintln!(
        "{name}: {:.0} creates/s, p50 {} ms, p99 {} ms; draining the allocation backlog",
        created.rate(),
        ms(created.pct(0.5)),
        ms(created.pct(0.99))
    );
    let create_drain = server.drain(&shared, &token).await;
    drop(clients);

    eprintln!(
        "{name}: create → assignment, {} tickets at {}/s",
        settings.samples, settings.sample_rate
    );
    let assignment = sample_assignments(&server, &shared, &token, settings).await;
    server.drain(&shared, &token).await;

    let rate = (created.rate() / 2.0).max(1.0);
    eprintln!("{name}: open loop at {rate:.0}/s for {:?}", settings.open_duration);
    let half = open_loop(&shared, &create, rate, settings.open_duration).await;
    let half_drain = server.drain(&shared, &token).await;
    let end_to_end = created.latencies.len() as f64 / (created.elapsed + create_drain.time).as_secs_f64();
    let rate = (end_to_end * 0.8).max(1.0);
    eprintln!(
        "{name}: open loop at {rate:.0}/s (80% of end to end) for {:?}",
        settings.open_duration
    );
    let sustained = open_loop(&shared, &create, rate, settings.open_duration).await;
    let sustained_drain = server.drain(&shared, &token).await;
    let server_problems = server.problems();
    drop(server);
    ModeReport {
        name,
        create: created,
        create_drain,
        assignment,
        half,
        half_drain,
        sustained,
        sustained_drain,
        server_problems,
        token,
    }
}

/// Creates `settings.samples` tickets at `settings.sample_rate` per second, each timed to its assignment.
async fn sample_assignments(server: &Server, client: &Client, token: &str, settings: &Settings) -> Assignment {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / settings.sample_rate.max(0.1)));
    let mut running = JoinSet::new();
    for _ in 0..settings.samples {
        tick.tick().await;
        let (client, base, token) = (client.clone(), server.base.clone(), token.to_string());
        running.spawn(async move { create_to_assignment(&client, &base, &token).await });
    }
    let mut samples = Vec::with_capacity(settings.samples);
    while let Some(r) = running.join_next().await {
        samples.push(r.expect("a create → assignment sample"));
    }
    let mut out = Assignment::default();
    for s in samples {
        match s {
            Ok((sent, created)) => {
                out.from_sent.push(sent);
                out.from_created.push(created);
            }
            Err(e) => out.failures.push(e),
        }
    }
    out.from_sent.sort_unstable();
    out.from_created.sort_unstable();
    out
}

/// The echo handler: returns the JSON body it was given.
async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(body)
}

/// Starts the echo server on a free port in this process; returns its `/echo` URL.
async fn start_echo() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("the echo server's address");
    let app = Router::new().route("/echo", post(echo));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the echo server") });
    format!("http://{addr}/echo")
}

/// Measures the echo server like the closed-loop create phase (same body, same headers).
async fn bench_echo(token: String, settings: &Settings) -> Samples {
    let url = start_echo().await;
    eprintln!(
        "echo: {url}, closed loop, {} connections, {:?}",
        settings.connections, settings.duration
    );
    let clients: Vec<Client> = (0..settings.connections).map(|_| client(1)).collect();
    let make = post_payload(url, token);
    closed_loop(&clients, &make, settings.warm_up).await;
    let samples = closed_loop(&clients, &make, settings.duration).await;
    eprintln!("echo: {:.0} requests/s", samples.rate());
    samples
}

/// "met" or "not met", bold, for the target columns.
fn verdict(met: bool) -> &'static str {
    if met { "**met**" } else { "**not met**" }
}

/// One row of the latency table.
fn latency_row(run: &str, connections: &str, s: &Samples) {
    println!(
        "| {run} | {connections} | {} | {} | {} | {} | {} | {} | {} |",
        thousands(s.latencies.len() as f64),
        thousands(s.non_2xx() as f64),
        thousands(s.errors as f64),
        thousands(s.rate()),
        ms(s.pct(0.5)),
        ms(s.pct(0.99)),
        ms(s.latencies.last().copied().unwrap_or_default()),
    );
}

/// Prints the three result tables and whatever went wrong.
fn print_report(settings: &Settings, echo: &Samples, reports: &[ModeReport]) {
    let conns = settings.connections.to_string();
    println!();
    println!("| Run | Connections | 2xx | Non-2xx | Errors | Requests/s | p50 ms | p99 ms | max ms |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    latency_row("echo (axum, in-process), closed loop", &conns, echo);
    for r in reports {
        latency_row(&format!("create, {}, closed loop", r.name), &conns, &r.create);
        latency_row(
            &format!("create, {}, open loop at {:.0}/s", r.name, r.half.rate),
            "as needed",
            &r.half.samples,
        );
        latency_row(
            &format!(
                "create, {}, open loop at {:.0}/s (80% of end to end; backlog after: {})",
                r.name, r.sustained.rate, r.sustained_drain.backlog
            ),
            "as needed",
            &r.sustained.samples,
        );
    }
    println!();
    println!(
        "| Mode | Creates/s | Create / echo | ≥ 1,000/s | Half rate | p99 at half rate | (send lag p99) | ≤ 10 ms |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in reports {
        let p99 = r.half.samples.pct(0.99);
        println!(
            "| {} | {} | {:.1}% | {} | {}/s | {} ms | {} ms | {} |",
            r.name,
            thousands(r.create.rate()),
            100.0 * r.create.rate() / echo.rate().max(1e-9),
            verdict(r.create.rate() >= TARGET_RATE),
            thousands(r.half.rate),
            ms(p99),
            ms(r.half.lag_p99),
            verdict(p99 <= TARGET_P99 && r.half.samples.non_2xx() + r.half.samples.errors == 0),
        );
    }
    println!();
    println!(
        "| Mode | Backlog after closed loop | Drain s | End-to-end tickets/s | Backlog after half rate | \
         Create → assigned p50 / p99 ms (from 201) | (from send) | Samples (failed) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in reports {
        let a = &r.assignment;
        let tickets = r.create.latencies.len() as f64;
        let end_to_end = tickets / (r.create.elapsed + r.create_drain.time).as_secs_f64();
        println!(
            "| {} | {}{} | {:.2} | {} | {} | {} / {} | {} / {} | {} ({}) |",
            r.name,
            thousands(r.create_drain.backlog as f64),
            if r.create_drain.left > 0 {
                format!(" ({} never allocated)", r.create_drain.left)
            } else {
                String::new()
            },
            r.create_drain.time.as_secs_f64(),
            thousands(end_to_end),
            thousands(r.half_drain.backlog as f64),
            ms(percentile(&a.from_created, 0.5)),
            ms(percentile(&a.from_created, 0.99)),
            ms(percentile(&a.from_sent, 0.5)),
            ms(percentile(&a.from_sent, 0.99)),
            a.from_created.len() + a.failures.len(),
            a.failures.len(),
        );
    }
    println!();
    let mut quiet = true;
    for (name, s) in std::iter::once(("echo", echo)).chain(reports.iter().flat_map(|r| {
        [
            (r.name, &r.create),
            (r.name, &r.half.samples),
            (r.name, &r.sustained.samples),
        ]
    })) {
        let problems = s.problems();
        if !problems.is_empty() {
            quiet = false;
            println!("{name}: {problems}");
        }
    }
    for r in reports {
        if let Some(first) = r.assignment.failures.first() {
            quiet = false;
            println!(
                "{}: {} create → assignment samples failed, first: {first}",
                r.name,
                r.assignment.failures.len()
            );
        }
        if !r.server_problems.is_empty() {
            quiet = false;
            println!(
                "{}: {} WARN/ERROR lines in the server log:",
                r.name,
                r.server_problems.len()
            );
            for line in r.server_problems.iter().take(5) {
                println!("  {line}");
            }
        }
    }
    if quiet {
        println!("No non-2xx responses, no request errors, no WARN/ERROR lines in the server logs.");
    }
}

fn main() {
    let settings = Settings::from_env();
    if settings.modes.is_empty() {
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
         warm-up), open loop {:?}, {} create → assignment samples at {}/s",
        settings.modes.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
        load_average(),
        settings.connections,
        settings.duration,
        settings.warm_up,
        settings.open_duration,
        settings.samples,
        settings.sample_rate,
    );
    rt.block_on(async {
        let mut reports = Vec::new();
        for (name, sync) in &settings.modes {
            reports.push(bench_mode(&binary, name, sync, &settings).await);
        }
        let token = reports.last().map(|r| r.token.clone()).unwrap_or_default();
        let echo = bench_echo(token, &settings).await;
        print_report(&settings, &echo, &reports);
    });
    println!("load average {} at end", load_average());
}
