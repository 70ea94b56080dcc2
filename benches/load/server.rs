//! The `tts-server` under test: started per mode on a fresh database, logged in to, drained, scraped for
//! its store traffic, and measured from `/proc` (CPU time, resident memory).

use crate::drive::client;
use reqwest::Client;
use serde_json::Value;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tts_benches::pg::PgDb;
use tts_benches::server::{free_port, rss_kib};
use tts_core::ports::StoreTraffic;

/// The demo users' password (`TTS_DEMO_PASSWORD`).
pub const PASSWORD: &str = "bench-pass-123";
/// The bearer token of the server's `/metrics`.
const METRICS_TOKEN: &str = "bench-metrics-token";
/// How long to wait for a started server to answer `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How often [`Server::drain`] looks at the backlog.
const DRAIN_POLL: Duration = Duration::from_millis(50);
/// How long [`Server::drain`] waits at most.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Which database a mode runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a temporary directory, with this `--sqlite-sync` value.
    Sqlite(&'static str),
    /// A fresh PostgreSQL database on the local server (`TTS_BENCH_PG_URL`).
    Postgres,
}

/// Where the server's data lives.
#[derive(Debug)]
pub struct Database {
    /// The `--database-url`.
    pub url: String,
    /// The PostgreSQL database, dropped by [`Database::drop_now`].
    pg: Option<PgDb>,
    /// The SQLite database, data dir and log; removed when dropped.
    _dir: Option<TempDir>,
}

/// A running `tts-server`, killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its database.
    pub db: Database,
    log: PathBuf,
    /// The directory of the SQLite database, data dir and log, until [`Server::stop`] hands it over.
    dir: Option<TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `binary` on a fresh database of `backend` and a free port, with the demo seed and no rate
    /// limits, and waits until it answers `GET /healthz`.
    pub async fn start(binary: &Path, backend: Backend) -> Server {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let log = dir.path().join("server.log");
        let out = File::create(&log).expect("the server log");
        let err = out.try_clone().expect("the server log");
        let (db, sync) = match backend {
            Backend::Sqlite(sync) => {
                let url = format!("sqlite://{}", dir.path().join("tts.db").display());
                (
                    Database {
                        url,
                        pg: None,
                        _dir: None,
                    },
                    sync,
                )
            }
            Backend::Postgres => {
                let pg = PgDb::create().await;
                (
                    Database {
                        url: pg.url.clone(),
                        pg: Some(pg),
                        _dir: None,
                    },
                    "full",
                )
            }
        };
        let child = Command::new(binary)
            .env("TTS_DEMO_PASSWORD", PASSWORD)
            .env("TTS_METRICS_TOKEN", METRICS_TOKEN)
            .arg("--database-url")
            .arg(&db.url)
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
            db,
            log,
            dir: Some(dir),
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

    /// Stops the server; returns its database (still there, for the ceilings), and the server's `WARN`
    /// and `ERROR` lines.
    pub fn stop(mut self) -> (Database, Vec<String>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let problems = self.problems();
        let db = Database {
            url: self.db.url.clone(),
            pg: self.db.pg.take(),
            _dir: self.dir.take(),
        };
        (db, problems)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
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
    pub async fn login(&self, client: &Client, email: &str) -> String {
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

    /// The store traffic counters from `/metrics`.
    pub async fn traffic(&self, client: &Client) -> StoreTraffic {
        let text = client
            .get(format!("{}/metrics", self.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("the metrics text");
        let value = |kind: &str| {
            let key = format!("tts_db_traffic_total{{kind=\"{kind}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(key.as_str()))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map_or(0, |v| v as u64)
        };
        StoreTraffic {
            statements: value("statements"),
            round_trips: value("round_trips"),
            commits: value("commits"),
            units: value("units"),
        }
    }

    /// Waits until no ticket is unallocated; returns the count at the first look and the time it took.
    pub async fn drain(&self, client: &Client, token: &str) -> Drain {
        let start = Instant::now();
        let mut backlog = None;
        loop {
            match self.unallocated(client, token).await {
                Ok(n) => {
                    let first = *backlog.get_or_insert(n);
                    if n == 0 || start.elapsed() > DRAIN_TIMEOUT {
                        if n > 0 {
                            eprintln!("  allocation backlog did not drain within {DRAIN_TIMEOUT:?}: {n} left");
                        }
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

    async fn unallocated(&self, client: &Client, token: &str) -> Result<u64, String> {
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
}

impl Database {
    /// Drops the PostgreSQL database (a SQLite file goes with its directory).
    pub async fn drop_now(self) {
        if let Some(pg) = self.pg {
            pg.drop_now().await;
        }
    }
}

/// An allocation backlog and how long it took to drain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Drain {
    /// Unallocated tickets at the first look.
    pub backlog: u64,
    /// Until none was left.
    pub time: Duration,
    /// Still unallocated when the drain gave up.
    pub left: u64,
}

/// CPU time (user + system) of one process so far, or of every process whose command is `comm`.
#[derive(Debug, Clone, Copy)]
pub enum Cpu {
    /// One process id.
    Pid(u32),
    /// Every process with this command name (e.g. `postgres`: the server and its backends).
    Named(&'static str),
}

impl Cpu {
    /// The CPU time so far, in clock ticks.
    pub fn ticks(self) -> u64 {
        match self {
            Cpu::Pid(pid) => process_ticks(pid).map_or(0, |(_, t)| t),
            Cpu::Named(comm) => std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(process_ticks)
                .filter(|(name, _)| name == comm)
                .map(|(_, t)| t)
                .sum(),
        }
    }
}

/// A process's command name and its user + system CPU ticks (`/proc/<pid>/stat` fields 2, 14 and 15).
fn process_ticks(pid: u32) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let name = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 when it cannot be asked).
pub fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// PostgreSQL's own log files (`/var/log/postgresql/*.log`, Debian's place) and how long each was, so
/// that what the server logged during a run can be read afterwards.
#[derive(Debug, Default)]
pub struct PgLog(Vec<(PathBuf, u64)>);

impl PgLog {
    /// Marks the current end of every log file.
    pub fn mark() -> PgLog {
        let files = std::fs::read_dir("/var/log/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .map(|p| {
                let len = std::fs::metadata(&p).map_or(0, |m| m.len());
                (p, len)
            })
            .collect();
        PgLog(files)
    }

    /// The `WARNING` and `ERROR` lines written since [`PgLog::mark`]; `None` when no log could be read.
    pub fn problems_since(&self) -> Option<Vec<String>> {
        if self.0.is_empty() {
            return None;
        }
        let mut lines = Vec::new();
        for (path, len) in &self.0 {
            let text = std::fs::read(path).ok()?;
            let new = String::from_utf8_lossy(text.get(*len as usize..).unwrap_or_default());
            lines.extend(
                new.lines()
                    .filter(|l| l.contains("WARNING:") || l.contains("ERROR:") || l.contains("FATAL:"))
                    .map(str::to_string),
            );
        }
        Some(lines)
    }
}
