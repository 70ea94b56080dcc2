//! Creates in batches: `POST /tickets/` requests that arrive while a batch is being written wait for the
//! next one, and each batch is one engine command ([`tts_core::Engine::create_tickets`]: one unit, one
//! move of the year's counter, one commit), so concurrent creates share the database's work the way a
//! group commit shares an fsync. Each request still gets its own answer (its ticket, or its own error),
//! and only after the batch's commit is durable.
//!
//! **Hand-off.** A request puts its ticket on a bounded channel (tokio's `mpsc`) and waits for its
//! answer on a `oneshot`. One task gathers the batches: once a slot is free (one by default,
//! [`crate::HttpConfig::create_batches_in_flight`]) it takes
//! whatever waits (up to [`crate::HttpConfig::create_batch`] tickets) and hands the batch to a task of
//! its own, which runs the command and answers. A client that goes away only drops its own wait: a
//! batch, once taken, runs to its end in its task, so a cancelled request never leaves a batch half
//! written (its ticket is then created, like a create whose answer was lost on the network). A batch
//! that panics answers its own requests with 503 and leaves the next batches alone. Creates under an
//! `Idempotency-Key` do not go through here (their replay rules need a command each).
//!
//! **One in flight by default.** A batch is gathered only when the last one has answered. With two in
//! flight the next batch reads and prepares while the last one commits, and on PostgreSQL writes with
//! keys chained after the last one's (`tts-adapters`, `sql/forecast.rs`): in the runs of sessions 13
//! and 18 the closed loop was never faster (smaller batches, more calls per ticket) and p99 at half
//! rate stayed within the runs' spread; benches/README.md has the runs.
//!
//! **Timings.** At `debug` level each batch logs its size, how long its oldest request waited for it and
//! how long it took to answer (`create batch answered`).

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tts_core::{CreateRequest, Engine, Error, ErrorKind, Result, Ticket};

/// One waiting create.
struct Job {
    request: CreateRequest,
    /// When the request joined the queue (for the debug log).
    queued: Instant,
    answer: oneshot::Sender<Result<Ticket>>,
}

/// The sending side of the batch task; dropping every clone ends the task (the batches already taken
/// run to their end).
#[derive(Debug, Clone)]
pub struct CreateBatcher {
    jobs: mpsc::Sender<Job>,
}

impl CreateBatcher {
    /// Starts the batch task on the current tokio runtime: batches of at most `max` tickets, at most
    /// `in_flight` of them being written at once.
    pub fn start(engine: Arc<Engine>, max: usize, in_flight: usize) -> Self {
        let max = max.max(1);
        let (jobs, mut waiting) = mpsc::channel::<Job>(max * 4);
        let slots = Arc::new(Semaphore::new(in_flight.max(1)));
        tokio::spawn(async move {
            loop {
                // A free slot first, so that requests keep gathering while every slot is busy.
                let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                    return;
                };
                let mut batch = Vec::with_capacity(max);
                if waiting.recv_many(&mut batch, max).await == 0 {
                    return;
                }
                let engine = Arc::clone(&engine);
                tokio::spawn(async move {
                    let _slot = slot;
                    let started = Instant::now();
                    let oldest = batch.iter().map(|j| j.queued).min().unwrap_or(started);
                    let (requests, answers): (Vec<_>, Vec<_>) =
                        batch.into_iter().map(|j| (j.request, j.answer)).unzip();
                    let size = requests.len();
                    let results = engine.create_tickets(requests).await;
                    tracing::debug!(
                        size,
                        waited_us = micros(started.duration_since(oldest)),
                        took_us = micros(started.elapsed()),
                        "create batch answered"
                    );
                    for (answer, result) in answers.into_iter().zip(results) {
                        // A client that went away no longer waits; its ticket stays created.
                        let _ = answer.send(result);
                    }
                });
            }
        });
        CreateBatcher { jobs }
    }

    /// Creates one ticket in the next batch; its own answer once the batch is durable.
    pub async fn create(&self, request: CreateRequest) -> Result<Ticket> {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Job {
                request,
                queued: Instant::now(),
                answer,
            })
            .await
            .map_err(|_| stopped("the create batch task has stopped"))?;
        answered
            .await
            .map_err(|_| stopped("the create batch task stopped before answering"))?
    }
}

/// A duration in whole microseconds, for the debug log.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn stopped(message: &str) -> Error {
    Error::Backend {
        backend: "http",
        kind: ErrorKind::Unavailable,
        message: message.into(),
    }
}
