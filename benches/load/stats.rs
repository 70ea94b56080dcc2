//! What a phase measured: outcomes, latencies, quantiles, and how numbers are printed.

use reqwest::RequestBuilder;
use std::collections::BTreeMap;
use std::time::Duration;

/// The outcome of one request.
#[derive(Debug)]
pub enum Outcome {
    /// A response, read to the end of its body.
    Status(u16),
    /// No response: connection, timeout or body error.
    Error(String),
}

/// Sends a request and reads the whole response body.
pub async fn send(request: RequestBuilder) -> Outcome {
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
pub struct Samples {
    /// Latency of every 2xx response.
    pub latencies: Vec<Duration>,
    /// Non-2xx responses by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests without a response.
    pub errors: u64,
    /// The first error's message.
    pub first_error: Option<String>,
    /// Wall time of the phase, until the last response.
    pub elapsed: Duration,
}

impl Samples {
    /// Counts one request.
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
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
    pub fn merge(&mut self, other: Samples) {
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
    pub fn non_2xx(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// 2xx responses per second.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Sorts the latencies (needed before [`Samples::pct`]).
    pub fn sort(&mut self) {
        self.latencies.sort_unstable();
    }

    /// The `p`-quantile of the (sorted) latencies.
    pub fn pct(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    /// Non-2xx statuses and errors in one line, or an empty string.
    pub fn problems(&self) -> String {
        let mut parts: Vec<String> = self.statuses.iter().map(|(s, n)| format!("{n} × {s}")).collect();
        if let Some(e) = &self.first_error {
            parts.push(format!("{} errors, first: {e}", self.errors));
        }
        parts.join("; ")
    }
}

/// Waits for every worker of a phase that began at `start` and merges their samples, sorted.
pub async fn gather(mut workers: tokio::task::JoinSet<Samples>, start: std::time::Instant) -> Samples {
    let mut all = Samples::default();
    while let Some(worker) = workers.join_next().await {
        all.merge(worker.expect("a load worker"));
    }
    all.elapsed = start.elapsed();
    all.sort();
    all
}

/// The nearest-rank `p`-quantile of sorted durations (zero when empty).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// A number with thousands separators and no decimals.
pub fn thousands(x: f64) -> String {
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

/// Mebibytes from KiB, one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}
