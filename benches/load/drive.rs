//! Driving load: HTTP clients, the closed and open loops, and create → assignment samples.

use crate::stats::{Samples, gather, percentile, send};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, RequestBuilder};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// The body of every create (and echo) request: the README's example ticket.
pub const PAYLOAD: &str =
    r#"{"subject": "Load test: laptop does not boot", "category": "Technical Support", "priority": "high"}"#;
/// How often a create → assignment sample polls its ticket.
const POLL: Duration = Duration::from_millis(2);
/// How long a sample waits for its assignment before it counts as failed.
const ASSIGN_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for `max_idle` keep-alive connections per host.
pub fn client(max_idle: usize) -> Client {
    Client::builder()
        .pool_max_idle_per_host(max_idle)
        .tcp_nodelay(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("an HTTP client")
}

/// `count` clients of one keep-alive connection each.
pub fn clients(count: usize) -> Vec<Client> {
    (0..count).map(|_| client(1)).collect()
}

/// Builds one request of a phase on a given client.
pub type MakeRequest = Arc<dyn Fn(&Client) -> RequestBuilder + Send + Sync>;

/// `POST {url}` with the bearer token and [`PAYLOAD`]: the create request, or the same at an echo server.
pub fn post_payload(url: String, token: String) -> MakeRequest {
    Arc::new(move |c: &Client| {
        c.post(&url)
            .bearer_auth(&token)
            .header(CONTENT_TYPE, "application/json")
            .body(PAYLOAD)
    })
}

/// Closed loop: one worker per client, each sending requests back to back until `duration` has passed.
pub async fn closed_loop(clients: &[Client], make: &MakeRequest, duration: Duration) -> Samples {
    let deadline = Instant::now() + duration;
    closed_loop_while(clients, make, move || Instant::now() < deadline).await
}

/// Closed loop until `count` requests have been sent (any answer): how the bench fills a database.
pub async fn closed_loop_count(clients: &[Client], make: &MakeRequest, count: u64) -> Samples {
    let left = Arc::new(AtomicU64::new(count));
    let take = move || {
        left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    };
    closed_loop_while(clients, make, take).await
}

/// One worker per client, each sending requests back to back while `go()` says so.
async fn closed_loop_while(
    clients: &[Client],
    make: &MakeRequest,
    go: impl Fn() -> bool + Clone + Send + 'static,
) -> Samples {
    let start = Instant::now();
    let mut workers = JoinSet::new();
    for c in clients {
        let (c, make, go) = (c.clone(), Arc::clone(make), go.clone());
        workers.spawn(async move {
            let mut samples = Samples::default();
            while go() {
                let sent = Instant::now();
                let outcome = send(make(&c)).await;
                samples.record(outcome, sent.elapsed());
            }
            samples
        });
    }
    gather(workers, start).await
}

/// An open-loop run: the results and how late the sends left.
#[derive(Debug)]
pub struct OpenLoop {
    /// Latency from each request's scheduled send time.
    pub samples: Samples,
    /// Requests per second scheduled.
    pub rate: f64,
    /// p99 of (actual send − scheduled send): the load generator's own lateness.
    pub lag_p99: Duration,
}

/// Open loop: requests scheduled at a constant `rate` for `duration`, each sent at its time whether or not
/// the earlier ones have been answered; latency counts from the scheduled time.
pub async fn open_loop(client: &Client, make: &MakeRequest, rate: f64, duration: Duration) -> OpenLoop {
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

/// Create → assignment timings.
#[derive(Debug, Default)]
pub struct Assignment {
    /// From the 201 response to the first poll seeing `is_task_allocated`, sorted.
    pub from_created: Vec<Duration>,
    /// From the create request's send, sorted.
    pub from_sent: Vec<Duration>,
    /// Failed samples (non-201, poll errors, timeouts).
    pub failures: Vec<String>,
}

/// Creates `samples` tickets at `rate` per second, each timed to its assignment.
pub async fn sample_assignments(client: &Client, base: &str, token: &str, samples: usize, rate: f64) -> Assignment {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
    let mut running = JoinSet::new();
    for _ in 0..samples {
        tick.tick().await;
        let (client, base, token) = (client.clone(), base.to_string(), token.to_string());
        running.spawn(async move { create_to_assignment(&client, &base, &token).await });
    }
    let mut out = Assignment::default();
    while let Some(r) = running.join_next().await {
        match r.expect("a create → assignment sample") {
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
