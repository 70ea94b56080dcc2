//! The [`Queue`] contract, run on every queue adapter (memory, RabbitMQ).
//!
//! Each case uses its own queue, named `{prefix}-{case}`, so a shared broker is fine; a backend whose
//! queues outlive the test deletes [`queue_names`] afterwards. A broker delivers asynchronously, so the
//! cases receive with `receive` / `wait` loops ([`next`]); a backend's test bounds the whole run with a
//! timeout.

use crate::ids::MessageId;
use crate::ports::queue::{Delivery, Queue, QueueMessage};
use std::time::{Duration, Instant};

/// The cases, by the suffix of the queue each one uses.
pub const CASES: [&str; 7] = ["empty", "order", "ack", "retry", "delay", "batch-a", "batch-b"];

/// Runs every queue check on queues named `{prefix}-{case}`; `prefix` must be unique per run.
pub async fn run_all(queue: &dyn Queue, prefix: &str) {
    let name = |case: &str| format!("{prefix}-{case}");
    empty_queue_gives_none(queue, &name("empty")).await;
    publish_receive_in_order(queue, &name("order")).await;
    ack_removes(queue, &name("ack")).await;
    retry_redelivers_with_next_attempt(queue, &name("retry")).await;
    retry_waits_its_delay(queue, &name("delay")).await;
    publish_all_delivers_each_to_its_queue(queue, &name("batch-a"), &name("batch-b")).await;
}

/// Every queue [`run_all`] uses with `prefix`, for backends that delete them afterwards.
pub fn queue_names(prefix: &str) -> Vec<String> {
    CASES.iter().map(|c| format!("{prefix}-{c}")).collect()
}

/// A unique prefix for [`run_all`].
pub fn unique_prefix(label: &str) -> String {
    format!("tts-testkit-{label}-{}", uuid::Uuid::now_v7().simple())
}

fn message(n: u32) -> QueueMessage {
    QueueMessage {
        id: MessageId(uuid::Uuid::now_v7()),
        kind: "ticket.created".into(),
        payload: serde_json::json!({"type": "ticket.created", "n": n}),
    }
}

/// The next delivery of `q`, waiting for it as a consumer does.
pub async fn next(queue: &dyn Queue, q: &str) -> Delivery {
    loop {
        if let Some(d) = queue.receive(q).await.expect("receive") {
            return d;
        }
        queue.wait(q).await;
    }
}

/// Receiving from an empty (or never used) queue returns `None` at once.
pub async fn empty_queue_gives_none(queue: &dyn Queue, q: &str) {
    assert!(queue.receive(q).await.expect("receive").is_none());
}

/// Messages arrive once each, in publish order, with attempt 1 and their payload intact.
pub async fn publish_receive_in_order(queue: &dyn Queue, q: &str) {
    let sent: Vec<QueueMessage> = (0..5).map(message).collect();
    for m in &sent {
        queue.publish(q, m).await.expect("publish");
    }
    for m in &sent {
        let d = next(queue, q).await;
        assert_eq!(&d.message, m, "messages arrive in publish order, intact");
        assert_eq!(d.attempt, 1);
        assert_eq!(d.queue, q);
        queue.ack(&d).await.expect("ack");
    }
    assert!(queue.receive(q).await.expect("receive").is_none());
}

/// An acked message is never delivered again; the others stay.
pub async fn ack_removes(queue: &dyn Queue, q: &str) {
    let (a, b) = (message(1), message(2));
    queue.publish(q, &a).await.expect("publish");
    queue.publish(q, &b).await.expect("publish");
    let d = next(queue, q).await;
    assert_eq!(d.message, a);
    queue.ack(&d).await.expect("ack");
    let d2 = next(queue, q).await;
    assert_eq!(d2.message, b);
    queue.ack(&d2).await.expect("ack");
    assert!(queue.receive(q).await.expect("receive").is_none());
}

/// A retried message comes back, intact, with the next attempt number, once per retry.
pub async fn retry_redelivers_with_next_attempt(queue: &dyn Queue, q: &str) {
    let m = message(7);
    queue.publish(q, &m).await.expect("publish");
    let d = next(queue, q).await;
    queue.retry(&d, Duration::ZERO).await.expect("retry");
    let again = next(queue, q).await;
    assert_eq!(again.message, m);
    assert_eq!(again.attempt, 2, "redeliveries count attempts");
    queue.retry(&again, Duration::from_millis(10)).await.expect("retry");
    let third = next(queue, q).await;
    assert_eq!((third.message.id, third.attempt), (m.id, 3));
    queue.ack(&third).await.expect("ack");
    assert!(queue.receive(q).await.expect("receive").is_none(), "acked: gone");
}

/// A retry is not delivered before its delay; messages behind it are not held up by it.
pub async fn retry_waits_its_delay(queue: &dyn Queue, q: &str) {
    let (slow, other) = (message(1), message(2));
    queue.publish(q, &slow).await.expect("publish");
    let d = next(queue, q).await;
    let delay = Duration::from_millis(400);
    let retried_at = Instant::now();
    queue.retry(&d, delay).await.expect("retry");
    queue.publish(q, &other).await.expect("publish");
    let first = next(queue, q).await;
    assert_eq!(first.message, other, "the delayed message does not block the queue");
    queue.ack(&first).await.expect("ack");
    let back = next(queue, q).await;
    assert_eq!((back.message.id, back.attempt), (slow.id, 2));
    assert!(
        retried_at.elapsed() >= delay,
        "redelivered after {:?}, before its delay of {delay:?}",
        retried_at.elapsed()
    );
    queue.ack(&back).await.expect("ack");
}

/// `publish_all` delivers every message to its own queue, in order per queue.
pub async fn publish_all_delivers_each_to_its_queue(queue: &dyn Queue, a: &str, b: &str) {
    let batch: Vec<(&str, QueueMessage)> = (0..40).map(|n| (if n % 2 == 0 { a } else { b }, message(n))).collect();
    queue.publish_all(&batch).await.expect("publish all");
    for q in [a, b] {
        for (_, m) in batch.iter().filter(|(to, _)| *to == q) {
            let d = next(queue, q).await;
            assert_eq!(&d.message, m, "{q}: every message, in order");
            queue.ack(&d).await.expect("ack");
        }
        assert!(queue.receive(q).await.expect("receive").is_none());
    }
}
