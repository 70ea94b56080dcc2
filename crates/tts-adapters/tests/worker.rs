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
