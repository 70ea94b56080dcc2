//! The same-run ceilings: what this HTTP stack and this database do with nothing of TTS's work in the
//! way, measured in the same run as the creates so the shares compare like with like.
//!
//! - **bare echo**: an axum `POST /echo` that parses the JSON body and returns it;
//! - **authenticated echo**: the same behind tts-http's `Caller` extractor (token check and session
//!   gate; `tts_benches::auth_echo`); the two take turns over several rounds ([`echo_pair`]), since
//!   the bare echo alone moved by half between runs;
//! - **one-row commits**: units of work of the store the server used, opened on its database after it
//!   stopped, each inserting one row (`record_processed`) and committing, from as many concurrent
//!   tasks as the closed loop had connections: the pool, the SQLite group commit and the fsync policy
//!   are the server's own.

use crate::drive::{MakeRequest, clients, closed_loop, post_payload};
use crate::server::Backend;
use crate::stats::Samples;
use axum::Router;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tts_adapters::sql::postgres::{PgConfig, PgStore};
use tts_adapters::sql::sqlite::{Durability, SqliteConfig, SqliteStore};
use tts_core::ports::Store;
use tts_core::ports::store::UnitOptions;

/// Serves `router` on a free port in this process; returns its `/echo` URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("the echo server's address");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("the echo server") });
    format!("http://{addr}/echo")
}

/// Rounds of the echo pair: the bare and the authenticated echo take turns, each round a third of the
/// phase, so a machine that is slower for a while slows both alike.
pub const ECHO_ROUNDS: usize = 3;

/// Both echoes, alternating for [`ECHO_ROUNDS`] rounds of `duration / ECHO_ROUNDS` each (one warm-up
/// each first).
pub async fn echo_pair(
    bare_url: String,
    auth_url: String,
    token: String,
    connections: usize,
    warm_up: Duration,
    duration: Duration,
) -> Echoes {
    let clients = clients(connections);
    let bare_make: MakeRequest = post_payload(bare_url, token.clone());
    let auth_make: MakeRequest = post_payload(auth_url, token);
    closed_loop(&clients, &bare_make, warm_up).await;
    closed_loop(&clients, &auth_make, warm_up).await;
    let round = duration / ECHO_ROUNDS as u32;
    let (mut bare, mut auth, mut shares) = (Samples::default(), Samples::default(), Vec::new());
    for r in 0..ECHO_ROUNDS {
        let b = closed_loop(&clients, &bare_make, round).await;
        let a = closed_loop(&clients, &auth_make, round).await;
        let share = a.rate() / b.rate().max(1e-9);
        eprintln!(
            "echo round {}: bare {:.0}, authenticated {:.0} requests/s, share {share:.2}",
            r + 1,
            b.rate(),
            a.rate()
        );
        shares.push(share);
        for (all, one) in [(&mut bare, b), (&mut auth, a)] {
            all.elapsed += one.elapsed;
            all.merge(one);
        }
    }
    Echoes { bare, auth, shares }
}

/// The echo ceilings of a run.
#[derive(Debug)]
pub struct Echoes {
    /// The bare echo, all rounds.
    pub bare: Samples,
    /// The authenticated echo, all rounds.
    pub auth: Samples,
    /// The authenticated echo's share of the bare one, per round.
    pub shares: Vec<f64>,
}

impl Echoes {
    /// The median of the rounds' shares.
    pub fn share(&self) -> f64 {
        let mut s = self.shares.clone();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied().unwrap_or(0.0)
    }
}

/// One-row commits per second through a store on `url` (see the module docs), with their latencies.
pub async fn one_row_commits(backend: Backend, url: &str, tasks: usize, duration: Duration) -> Samples {
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite(sync) => {
            let mut config = SqliteConfig::new(url);
            config.durability = if sync == "normal" {
                Durability::Normal
            } else {
                Durability::Full
            };
            Arc::new(
                SqliteStore::connect(&config)
                    .await
                    .expect("open the server's SQLite database"),
            )
        }
        Backend::Postgres => Arc::new(
            PgStore::connect(&PgConfig::new(url))
                .await
                .expect("connect to the server's PostgreSQL database"),
        ),
    };
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for _ in 0..tasks {
        let store = Arc::clone(&store);
        workers.spawn(async move {
            let mut samples = Samples::default();
            while Instant::now() < deadline {
                let began = Instant::now();
                let id = tts_core::MessageId(uuid::Uuid::now_v7());
                let result = async {
                    let mut unit = store.begin(UnitOptions::write()).await?;
                    unit.record_processed("bench-floor", id, chrono::Utc::now()).await?;
                    unit.commit().await
                }
                .await;
                let outcome = match result {
                    Ok(()) => crate::stats::Outcome::Status(200),
                    Err(e) => crate::stats::Outcome::Error(e.to_string()),
                };
                samples.record(outcome, began.elapsed());
            }
            samples
        });
    }
    crate::stats::gather(workers, start).await
}
