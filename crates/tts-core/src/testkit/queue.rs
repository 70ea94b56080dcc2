//! The [`Queue`] contract. Queue names are unique per call, so a shared broker is fine.

use crate::ids::MessageId;
use crate::ports::queue::{Queue, QueueMessage};

/// Runs every queue check.
pub async fn run_all(queue: &dyn Queue) {
    empty_queue_gives_none(queue).await;
    publish_receive_in_order(queue).await;
    ack_removes(queue).await;
    nack_requeues_with_next_attempt(queue).await;
    nack_dead_letters_and_replay(queue).await;
    wait_resolves_when_ready(queue).await;
}

/// A unique queue name.
pub fn unique_queue(prefix: &str) -> String {
    format!("tts-testkit-{prefix}-{}", uuid::Uuid::now_v7().simple())
}

fn message(n: u32) -> QueueMessage {
    QueueMessage {
        id: MessageId(uuid::Uuid::now_v7()),
        kind: "ticket.created".into(),
        payload: serde_json::json!({"type": "ticket.created", "n": n}),
    }
}

/// Receiving from an empty (or never used) queue returns `None` at once.
pub async fn empty_queue_gives_none(queue: &dyn Queue) {
    let q = unique_queue("empty");
    assert!(queue.receive(&q).await.expect("receive").is_none());
}

/// Messages arrive once each, in publish order, with attempt 1 and their payload intact.
pub async fn publish_receive_in_order(queue: &dyn Queue) {
    let q = unique_queue("order");
    let sent: Vec<QueueMessage> = (0..5).map(message).collect();
    for m in &sent {
        queue.publish(&q, m).await.expect("publish");
    }
    for m in &sent {
        let d = queue.receive(&q).await.expect("receive").expect("a message is ready");
        assert_eq!(&d.message, m, "messages arrive in publish order, intact");
        assert_eq!(d.attempt, 1);
        assert_eq!(d.queue, q);
        queue.ack(&d).await.expect("ack");
    }
    assert!(queue.receive(&q).await.expect("receive").is_none());
}

/// An acked message is never delivered again; the others stay.
pub async fn ack_removes(queue: &dyn Queue) {
    let q = unique_queue("ack");
    let (a, b) = (message(1), message(2));
    queue.publish(&q, &a).await.expect("publish");
    queue.publish(&q, &b).await.expect("publish");
    let d = queue.receive(&q).await.expect("receive").expect("first");
    queue.ack(&d).await.expect("ack");
    let d2 = queue.receive(&q).await.expect("receive").expect("second");
    assert_eq!(d2.message, b);
    queue.ack(&d2).await.expect("ack");
    assert!(queue.receive(&q).await.expect("receive").is_none());
}

/// A nacked (requeued) message comes back with the next attempt number.
pub async fn nack_requeues_with_next_attempt(queue: &dyn Queue) {
    let q = unique_queue("requeue");
    let m = message(7);
    queue.publish(&q, &m).await.expect("publish");
    let d = queue.receive(&q).await.expect("receive").expect("message");
    queue.nack(&d, true).await.expect("nack requeue");
    let again = queue.receive(&q).await.expect("receive").expect("redelivered");
    assert_eq!(again.message, m);
    assert_eq!(again.attempt, 2, "redeliveries count attempts");
    queue.ack(&again).await.expect("ack");
}

/// A nack without requeue dead-letters the message; replay puts it back.
pub async fn nack_dead_letters_and_replay(queue: &dyn Queue) {
    let q = unique_queue("dlq");
    let m = message(9);
    queue.publish(&q, &m).await.expect("publish");
    let d = queue.receive(&q).await.expect("receive").expect("message");
    queue.nack(&d, false).await.expect("nack to dead letters");
    assert!(
        queue.receive(&q).await.expect("receive").is_none(),
        "dead letters are not redelivered"
    );
    let dead = queue.dead_letters(&q, 10).await.expect("dead letters");
    assert_eq!(dead, vec![m.clone()]);
    assert_eq!(queue.replay_dead_letters(&q).await.expect("replay"), 1);
    assert!(queue.dead_letters(&q, 10).await.expect("dead letters").is_empty());
    let back = queue.receive(&q).await.expect("receive").expect("replayed");
    assert_eq!(back.message, m);
    queue.ack(&back).await.expect("ack");
}

/// `wait` resolves when a message is ready.
pub async fn wait_resolves_when_ready(queue: &dyn Queue) {
    let q = unique_queue("wait");
    queue.publish(&q, &message(1)).await.expect("publish");
    queue.wait(&q).await;
    let d = queue.receive(&q).await.expect("receive").expect("ready after wait");
    queue.ack(&d).await.expect("ack");
}
