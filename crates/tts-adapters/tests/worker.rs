//! The worker loops route tickets and deliver notifications without anyone calling the engine's steps.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tts_adapters::worker::{WorkerConfig, Workers};
use tts_core::memory::MemoryMailer;
use tts_core::ports::store::PageRequest;
use tts_core::testkit::fixture::three_step;
use tts_core::{Engine, NewTicket, Priority};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_allocate_and_notify_then_stop() {
    let mailer = Arc::new(MemoryMailer::new());
    let engine = Arc::new(Engine::in_memory().mailer(mailer.clone()).build().expect("engine"));
    let fx = three_step(&engine, 2, 2).await.expect("fixture");
    let workers = Workers::spawn(Arc::clone(&engine), WorkerConfig::default());
    let new = NewTicket::new("Laptop", "Asset Check In")
        .department("Asset Department")
        .priority(Priority::High);
    let ticket = engine
        .create_ticket(fx.requester_actor(), new, None)
        .await
        .expect("create")
        .ticket;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let t = engine
            .ticket(fx.requester_actor(), ticket.id.into())
            .await
            .expect("ticket");
        let notes = engine
            .notifications(fx.actor(&fx.admins[0]), None, PageRequest::default())
            .await
            .expect("notes");
        if t.is_task_allocated && notes.total == 1 && mailer.sent().len() == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "workers did not allocate and notify within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), workers.stop())
        .await
        .expect("workers stop promptly");
}

/// An idle server for a minute: the consumers wake every `idle_poll` (250 ms by default) and give up
/// their wait on the queue each time. The waits they give up unregister, so the queue holds at most one
/// waiter per consumer loop at any moment, not one per poll.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_idle_minute_piles_up_no_waiters() {
    let queue = Arc::new(tts_core::memory::MemoryQueue::new());
    let engine = Arc::new(Engine::in_memory().queue(queue.clone()).build().expect("engine"));
    let config = WorkerConfig::default();
    let loops = config.consumers_per_queue;
    let idle_poll = config.idle_poll;
    let workers = Workers::spawn(Arc::clone(&engine), config);
    let tickets = engine.config().queues.tickets.clone();
    let mut most = 0;
    for _ in 0..(60_000 / idle_poll.as_millis().max(1)) {
        tokio::time::sleep(idle_poll).await;
        most = most.max(queue.waiters(&tickets));
    }
    assert!(most >= 1, "the consumers were waiting on the queue");
    assert!(
        most <= loops,
        "{most} waiters on the ticket queue with {loops} consumer loops after an idle minute"
    );
    workers.stop().await;
    assert_eq!(queue.waiters(&tickets), 0, "stopped consumers leave no waiter behind");
}

/// A mailer that panics on its first e-mail (a bug in an effect), then works.
#[derive(Debug, Default)]
struct PanicsOnce {
    calls: std::sync::atomic::AtomicUsize,
    inner: MemoryMailer,
}

#[async_trait::async_trait]
impl tts_core::ports::Mailer for PanicsOnce {
    async fn send(&self, email: &tts_core::ports::Email) -> tts_core::Result<()> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            panic!("a bug in the mailer");
        }
        self.inner.send(email).await
    }
}

/// A panic inside a consumer's effect fails that step like an error: the loop lives on, the message stays
/// in the outbox and is delivered on a later attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_effect_is_retried_and_the_loop_lives_on() {
    let mailer = Arc::new(PanicsOnce::default());
    let engine = Arc::new(Engine::in_memory().mailer(mailer.clone()).build().expect("engine"));
    let fx = three_step(&engine, 1, 1).await.expect("fixture");
    let config = WorkerConfig {
        consumers_per_queue: 1,
        backoff: Duration::from_millis(10),
        ..WorkerConfig::default()
    };
    let workers = Workers::spawn(Arc::clone(&engine), config);
    let new = NewTicket::new("Laptop", "Asset Check In").department("Asset Department");
    engine
        .create_ticket(fx.requester_actor(), new, None)
        .await
        .expect("create");
    let deadline = Instant::now() + Duration::from_secs(20);
    while mailer.inner.sent().is_empty() {
        assert!(Instant::now() < deadline, "the e-mail never went out after the panic");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        mailer.calls.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the first attempt panicked"
    );
    assert_eq!(mailer.inner.sent().len(), 1, "one e-mail, not two");
    workers.stop().await;
}

/// Creates three tickets 100 ms apart under workers with `linger`, waits until all are allocated, and
/// returns the times their tasks were created.
async fn task_times_with_linger(linger: Duration) -> Vec<tts_core::chrono::DateTime<tts_core::chrono::Utc>> {
    let engine = Arc::new(Engine::in_memory().build().expect("engine"));
    let fx = three_step(&engine, 2, 2).await.expect("fixture");
    let config = WorkerConfig {
        consumer_linger: linger,
        idle_poll: Duration::from_secs(60),
        ..WorkerConfig::default()
    };
    let workers = Workers::spawn(Arc::clone(&engine), config);
    // The loops' first look at the queue (at start, without lingering) finds nothing, then they wait.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut tickets = Vec::new();
    for _ in 0..3 {
        let new = NewTicket::new("Laptop", "Asset Check In").department("Asset Department");
        let created = engine
            .create_ticket(fx.requester_actor(), new, None)
            .await
            .expect("create");
        tickets.push(created.ticket.id);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut times = Vec::new();
    for id in tickets {
        loop {
            let task = engine
                .task_for_ticket(fx.requester_actor(), id.into())
                .await
                .expect("task");
            if let Some(task) = task {
                times.push(task.created_at);
                break;
            }
            assert!(Instant::now() < deadline, "ticket {id:?} not allocated within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    workers.stop().await;
    times
}

/// A consumer woken by a commit waits `consumer_linger` before it takes what is ready, and the other
/// loops of its queue leave the messages to it: three creates within the linger are allocated by one
/// unit (one clock reading for all three tasks). Without a linger each create's commit gets a unit of
/// its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_within_the_linger_share_one_allocation_unit() {
    let lingered = task_times_with_linger(Duration::from_secs(1)).await;
    assert!(
        lingered.iter().all(|t| *t == lingered[0]),
        "one unit allocated all three: {lingered:?}"
    );
    let at_once = task_times_with_linger(Duration::ZERO).await;
    assert!(
        at_once.iter().any(|t| *t != at_once[0]),
        "more than one unit: {at_once:?}"
    );
}
