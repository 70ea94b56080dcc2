//! The worker loops: the two consumers, the outbox relay (only with a broker), the SLA scheduler and
//! retention, on tokio.
//!
//! The engine's steps are runtime-free (`pump`, `consume_batch`, `sla_sweep`, `prune`); these loops only
//! call them, wait when idle, back off after errors, and stop when the shutdown signal fires. Stopping
//! loses nothing: a loop finishes the step it is in, and messages not yet consumed stay in the outbox
//! (or with the broker), never only in memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tts_core::engine::Wakeup;
use tts_core::ports::BlobStore;
use tts_core::{Consumer, Engine};

/// The default of [`WorkerConfig::consumers_per_queue`].
pub const CONSUMERS_PER_QUEUE: usize = 4;

/// The default of [`WorkerConfig::consumer_linger`].
pub const CONSUMER_LINGER: Duration = Duration::from_millis(5);

/// Timings of the worker loops.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often the relay looks at the outbox when nothing signals new messages.
    pub relay_interval: Duration,
    /// How long a consumer waits on an empty queue before polling again.
    pub idle_poll: Duration,
    /// How often the SLA sweep runs.
    pub sla_interval: Duration,
    /// How often old bookkeeping is deleted (`Engine::prune`; what is old is `EngineConfig::retention`).
    pub prune_interval: Duration,
    /// First back-off after an error; doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest back-off.
    pub max_backoff: Duration,
    /// Loops per consumer queue, so several messages are in flight: their units then share commits
    /// (SQLite group commit) or run in parallel (PostgreSQL) instead of waiting for each other.
    pub consumers_per_queue: usize,
    /// Most messages one consumer loop takes per unit of work (`Engine::consume_batch`): allocations,
    /// and notifications when e-mail is off; 1 handles one message per unit.
    pub consumer_batch: usize,
    /// How long a consumer loop woken by a new message waits before it takes what is ready, so that
    /// the messages of several commits share one unit of work. Without it, at a moderate rate every
    /// batch of creates costs an allocation unit and a notification unit of its own, each with its
    /// commit. Meanwhile the other loops of the queue leave the messages to the one that waits; a
    /// loop that took a full batch goes on at once. Zero takes every message as soon as it is
    /// signalled.
    pub consumer_linger: Duration,
    /// The attachments' blob store, whose unused blobs the retention loop deletes (`Engine::sweep_blobs`);
    /// none when this process keeps no files.
    pub blobs: Option<Arc<dyn BlobStore>>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            relay_interval: Duration::from_millis(20),
            idle_poll: Duration::from_millis(250),
            sla_interval: Duration::from_secs(30),
            prune_interval: Duration::from_secs(60 * 60),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            consumers_per_queue: CONSUMERS_PER_QUEUE,
            consumer_batch: 32,
            consumer_linger: CONSUMER_LINGER,
            blobs: None,
        }
    }
}

/// Most unused blobs one retention run deletes.
const BLOB_SWEEP_BATCH: usize = 1_000;

/// The longest [`Workers::stop`] waits for running steps.
pub const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// Tells the loops to stop; dropping it stops them too.
#[derive(Debug)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    /// Signals every loop to finish its current step and return.
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

/// Running worker loops.
#[derive(Debug)]
pub struct Workers {
    shutdown: Shutdown,
    tasks: JoinSet<()>,
}

impl Workers {
    /// Starts the consumers (the mail consumer when e-mail is on), the relay (with a broker), the SLA scheduler and retention on the current
    /// tokio runtime.
    pub fn spawn(engine: Arc<Engine>, config: WorkerConfig) -> Workers {
        let (tx, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        if engine.queue().is_some() {
            tasks.spawn(relay(Arc::clone(&engine), config.clone(), rx.clone()));
        }
        let mut consumers = vec![Consumer::Allocation, Consumer::Notifications];
        // E-mails go one at a time per loop (each waits on the mail server, outside any unit).
        if engine.config().email_notifications {
            consumers.push(Consumer::Mail);
        }
        for c in consumers {
            let gathering = Arc::new(AtomicBool::new(false));
            for _ in 0..config.consumers_per_queue.max(1) {
                let gate = Arc::clone(&gathering);
                tasks.spawn(consume(Arc::clone(&engine), c, config.clone(), gate, rx.clone()));
            }
        }
        tasks.spawn(sla(Arc::clone(&engine), config.clone(), rx.clone()));
        tasks.spawn(prune(engine, config, rx));
        Workers {
            shutdown: Shutdown(tx),
            tasks,
        }
    }

    /// Stops the loops and waits for them to finish their current step, at most [`STOP_DEADLINE`]; a step
    /// still running then (a backend that does not answer) is abandoned: what it held stays in the
    /// database or with the broker and is delivered again (at least once).
    pub async fn stop(mut self) {
        self.shutdown.trigger();
        let drained =
            tokio::time::timeout(STOP_DEADLINE, async { while self.tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(deadline = ?STOP_DEADLINE, "worker steps still running at shutdown; abandoned");
            self.tasks.abort_all();
        }
    }
}

fn stopped(rx: &watch::Receiver<bool>) -> bool {
    *rx.borrow()
}

/// Sleeps for `d` unless shutdown comes first; returns false on shutdown.
async fn pause(rx: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => !stopped(rx),
        _ = rx.changed() => false,
    }
}

/// Runs one step of a loop on its own task, so that a panic in an effect (a bug) fails the step like an
/// error instead of ending the loop: its unit is dropped, so its messages stay in the outbox (or with the
/// broker) and are tried again after the back-off.
async fn guarded<T: Send + 'static>(
    step: impl std::future::Future<Output = tts_core::Result<T>> + Send + 'static,
) -> tts_core::Result<T> {
    match tokio::spawn(step).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "a worker step panicked; its work is rolled back and will be retried");
            Err(tts_core::Error::Backend {
                backend: "worker",
                kind: tts_core::ErrorKind::Internal,
                message: format!("a worker step panicked: {e}"),
            })
        }
    }
}

fn next_backoff(current: Duration, config: &WorkerConfig) -> Duration {
    (current * 2).min(config.max_backoff)
}

async fn relay(engine: Arc<Engine>, config: WorkerConfig, mut rx: watch::Receiver<bool>) {
    let mut backoff = config.backoff;
    while !stopped(&rx) {
        // Read before pumping, so a commit during the pump is not missed while waiting below.
        let seen = engine.outbox_signal().current();
        match engine.pump().await {
            Ok(n) if n > 0 => backoff = config.backoff,
            Ok(_) => {
                // Woken by a commit in this process; the interval catches other processes' writes.
                tokio::select! {
                    _ = engine.outbox_signal().after(seen) => {}
                    _ = tokio::time::sleep(config.relay_interval) => {}
                    _ = rx.changed() => return,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, ?backoff, "outbox relay failed; retrying");
                if !pause(&mut rx, backoff).await {
                    return;
                }
                backoff = next_backoff(backoff, &config);
            }
        }
    }
}

/// Why a consumer loop stopped waiting.
enum Wake {
    /// A message may be ready (a commit in this process, or the broker's buffer).
    Message,
    /// The idle poll fell due (other processes' writes, retries falling due).
    Poll,
    /// Shutdown.
    Stop,
}

/// Waits until a message for `queue` may be ready: with a broker, its buffer has one; without, a
/// commit of this process wrote to the queue after `seen` was read from `wakeup`.
async fn wait_for_message(
    engine: &Engine,
    queue: &str,
    wakeup: &Wakeup,
    seen: u64,
    config: &WorkerConfig,
    rx: &mut watch::Receiver<bool>,
) -> Wake {
    let woken = async {
        match engine.queue() {
            Some(q) => q.wait(queue).await,
            None => wakeup.after(seen).await,
        }
    };
    tokio::select! {
        _ = woken => Wake::Message,
        _ = tokio::time::sleep(config.idle_poll) => Wake::Poll,
        _ = rx.changed() => Wake::Stop,
    }
}

async fn consume(
    engine: Arc<Engine>,
    consumer: Consumer,
    config: WorkerConfig,
    gathering: Arc<AtomicBool>,
    mut rx: watch::Receiver<bool>,
) {
    let queue = engine.consumer_queue(consumer).to_string();
    // Woken only by commits that wrote to this queue, one waiting loop per commit (see `OutboxSignal`).
    let wakeup = engine.outbox_signal().queue(&queue);
    let mut backoff = config.backoff;
    // `consume_batch` decides whether a batch shares a unit (notifications only without e-mail).
    let batch = config.consumer_batch.max(1);
    // Whether this loop was woken by a message, and so lingers before it takes (see `consumer_linger`).
    let mut linger = false;
    while !stopped(&rx) {
        if linger && !config.consumer_linger.is_zero() {
            // Without a broker one loop gathers at a time: its claim comes after this wake-up's commit,
            // so the others wait again. (A broker's buffer wakes every loop; taking from it is cheap.)
            if engine.queue().is_none() && gathering.swap(true, Ordering::AcqRel) {
                match wait_for_message(&engine, &queue, &wakeup, wakeup.current(), &config, &mut rx).await {
                    Wake::Message => {}
                    Wake::Poll => linger = false,
                    Wake::Stop => return,
                }
                continue;
            }
            let go_on = pause(&mut rx, config.consumer_linger).await;
            if engine.queue().is_none() {
                gathering.store(false, Ordering::Release);
            }
            if !go_on {
                return;
            }
        }
        // Read before consuming, so a commit during the step is not missed while waiting below.
        let seen = wakeup.current();
        // Woken by a commit that wrote to this queue: the messages are there, so it claims without
        // looking first (`Engine::consume_signalled`).
        let signalled = linger;
        let step = {
            let engine = Arc::clone(&engine);
            guarded(async move {
                if signalled {
                    engine.consume_signalled(consumer, batch).await
                } else {
                    engine.consume_batch(consumer, batch).await
                }
            })
        };
        match step.await {
            // A full batch: more may be waiting.
            Ok(outcomes) if outcomes.len() >= batch => {
                tracing::debug!(consumer = consumer.name(), ?outcomes, "messages handled");
                backoff = config.backoff;
                linger = false;
            }
            // Fewer than a batch: the queue had no more ready for this loop, so it waits instead of
            // looking again (a commit during the step has moved `seen`, and then it looks at once).
            Ok(outcomes) => {
                if !outcomes.is_empty() {
                    tracing::debug!(consumer = consumer.name(), ?outcomes, "messages handled");
                    backoff = config.backoff;
                }
                match wait_for_message(&engine, &queue, &wakeup, seen, &config, &mut rx).await {
                    Wake::Message => linger = true,
                    Wake::Poll => linger = false,
                    Wake::Stop => return,
                }
            }
            Err(e) => {
                tracing::warn!(consumer = consumer.name(), error = %e, ?backoff, "consumer failed; retrying");
                if !pause(&mut rx, backoff).await {
                    return;
                }
                backoff = next_backoff(backoff, &config);
                linger = false;
            }
        }
    }
}

async fn sla(engine: Arc<Engine>, config: WorkerConfig, mut rx: watch::Receiver<bool>) {
    loop {
        let sweep = {
            let engine = Arc::clone(&engine);
            guarded(async move { engine.sla_sweep(engine.clock().now()).await })
        };
        if let Err(e) = sweep.await {
            tracing::warn!(error = %e, "SLA sweep failed");
        }
        if !pause(&mut rx, config.sla_interval).await {
            return;
        }
    }
}

async fn prune(engine: Arc<Engine>, config: WorkerConfig, mut rx: watch::Receiver<bool>) {
    loop {
        match engine.prune(engine.clock().now()).await {
            Ok(report) if report != tts_core::PruneReport::default() => {
                tracing::info!(?report, "old bookkeeping deleted");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention run failed"),
        }
        if let Some(blobs) = &config.blobs {
            match engine.sweep_blobs(blobs.as_ref(), BLOB_SWEEP_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "unused attachment blobs deleted"),
                Err(e) => tracing::warn!(error = %e, "blob sweep failed"),
            }
        }
        if !pause(&mut rx, config.prune_interval).await {
            return;
        }
    }
}
