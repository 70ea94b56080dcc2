//! The RabbitMQ adapter against the real broker at `TTS_TEST_AMQP_URL` (default
//! `amqp://guest:guest@127.0.0.1:5672/%2f`): the queue conformance suite on quorum and classic queues,
//! redelivery after a lost consumer, foreign messages, and the live feed between two processes' feeds.
//! Every queue name is unique and deleted at the end.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tts_adapters::amqp::{AmqpConfig, AmqpFeed, AmqpQueue, QueueKind};
use tts_core::domain::event::DomainEvent;
use tts_core::ids::MessageId;
use tts_core::ports::feed::EventFeed;
use tts_core::ports::queue::{Queue, QueueMessage};
use tts_core::testkit::queue::{next, queue_names, run_all, unique_prefix};

fn url() -> String {
    std::env::var("TTS_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

async fn connect(kind: QueueKind) -> AmqpQueue {
    let config = AmqpConfig {
        queue_kind: kind,
        ..AmqpConfig::new(url())
    };
    AmqpQueue::connect(config)
        .await
        .expect("RabbitMQ must be running at 127.0.0.1:5672 (see DEVELOPERS.md)")
}

/// Runs `body` bounded in time, then deletes `queues` whatever happened (a failed assertion included).
async fn bounded(queue: &AmqpQueue, queues: &[String], body: impl std::future::Future<Output = ()>) {
    use futures_util::FutureExt;
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        std::panic::AssertUnwindSafe(body).catch_unwind(),
    )
    .await;
    // Every queue is deleted before any failure is reported, so a failed deletion leaves no others.
    let mut failed = Vec::new();
    for q in queues {
        if let Err(e) = queue.delete_queue(q).await {
            failed.push(format!("{q}: {e}"));
        }
    }
    assert!(failed.is_empty(), "test queues not deleted: {failed:?}");
    if let Ok(Err(panic)) = outcome {
        std::panic::resume_unwind(panic);
    }
    outcome.expect("the case finished within 60 s").expect("no panic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_queues_conform() {
    let queue = connect(QueueKind::Quorum).await;
    let prefix = unique_prefix("amqp-quorum");
    bounded(&queue, &queue_names(&prefix), run_all(&queue, &prefix)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_queues_conform() {
    let queue = connect(QueueKind::Classic).await;
    let prefix = unique_prefix("amqp-classic");
    bounded(&queue, &queue_names(&prefix), run_all(&queue, &prefix)).await;
}

fn message(n: u32) -> QueueMessage {
    QueueMessage {
        id: MessageId(uuid::Uuid::now_v7()),
        kind: "ticket.created".into(),
        payload: serde_json::json!({"n": n}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_of_a_lost_consumer_comes_back_with_the_next_attempt() {
    for kind in [QueueKind::Quorum, QueueKind::Classic] {
        let q = format!("{}-lost", unique_prefix("amqp"));
        let first = connect(kind).await;
        let keeper = connect(kind).await;
        bounded(&keeper, std::slice::from_ref(&q), async {
            let m = message(1);
            first.publish(&q, &m).await.expect("publish");
            let d = next(&first, &q).await;
            assert_eq!((d.message.id, d.attempt), (m.id, 1));
            // The worker dies before it acks: the broker gives the message to the next consumer.
            first.close().await;
            let again = next(&keeper, &q).await;
            assert_eq!(again.message, m, "{kind:?}: nothing lost");
            assert_eq!(again.attempt, 2, "{kind:?}: the redelivery counts as an attempt");
            keeper.ack(&again).await.expect("ack");
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_counts_the_messages_ready_in_a_queue() {
    let queue = connect(QueueKind::Quorum).await;
    let q = format!("{}-depth", unique_prefix("amqp"));
    bounded(&queue, std::slice::from_ref(&q), async {
        assert_eq!(queue.depth(&q).await.expect("depth of a missing queue"), None);
        let batch: Vec<(&str, QueueMessage)> = (0..3).map(|n| (q.as_str(), message(n))).collect();
        queue.publish_all(&batch).await.expect("publish");
        let started = std::time::Instant::now();
        loop {
            let depth = queue.depth(&q).await.expect("depth");
            if depth == Some(3) {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "depth stayed {depth:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_another_program_is_received_never_a_panic() {
    let queue = connect(QueueKind::Quorum).await;
    let q = format!("{}-foreign", unique_prefix("amqp"));
    bounded(&queue, std::slice::from_ref(&q), async {
        let raw = lapin::Connection::connect(&url(), lapin::ConnectionProperties::default())
            .await
            .expect("raw connection");
        let channel = raw.create_channel().await.expect("channel");
        // Declared as the adapter declares it, so the raw publish below has a queue to land in.
        let mut args = lapin::types::FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            lapin::types::AMQPValue::LongString(b"quorum".to_vec().into()),
        );
        channel
            .queue_declare(q.as_str().into(), lapin::options::QueueDeclareOptions::durable(), args)
            .await
            .expect("declare");
        channel
            .basic_publish(
                "".into(),
                q.as_str().into(),
                lapin::options::BasicPublishOptions::default(),
                b"\xff not json",
                lapin::BasicProperties::default(),
            )
            .await
            .expect("raw publish");
        let d = next(&queue, &q).await;
        assert_eq!(d.attempt, 1);
        assert_eq!(d.message.kind, "");
        assert!(
            d.message.payload.as_str().is_some_and(|s| s.ends_with("not json")),
            "{:?}",
            d.message
        );
        queue.ack(&d).await.expect("ack");
        let _ = raw.close(200, "done".into()).await;
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_broker_is_named_without_its_password() {
    let config = AmqpConfig::new("amqp://tts:hunter2@127.0.0.1:1/%2f");
    let err = AmqpQueue::connect(config).await.expect_err("nothing listens on port 1");
    let text = err.to_string();
    assert!(text.contains("amqp://tts:***@127.0.0.1:1"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(err.kind(), tts_core::ErrorKind::Unavailable);
}

/// A feed that remembers what it was shown.
#[derive(Debug, Default)]
struct Seen(Mutex<Vec<DomainEvent>>);

impl EventFeed for Seen {
    fn publish(&self, events: &[tts_core::OutboxMessage]) {
        self.0
            .lock()
            .expect("seen")
            .extend(events.iter().map(|m| m.event.clone()));
    }
}

impl Seen {
    fn count(&self) -> usize {
        self.0.lock().expect("seen").len()
    }
}

fn event(n: u32) -> tts_core::OutboxMessage {
    tts_core::OutboxMessage {
        id: tts_core::ids::MessageId(tts_core::uuid::Uuid::now_v7()),
        event: DomainEvent::TicketCreated {
            ticket: tts_core::ids::TicketId(i64::from(n)),
            ticket_id: tts_core::TicketNumber::new(2026, n + 1).expect("number"),
            priority: tts_core::Priority::Medium,
        },
        created_at: tts_core::chrono::Utc::now(),
        queue: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_reaches_the_other_servers_once() {
    let exchange = format!("{}-live", unique_prefix("amqp"));
    let (seen_a, seen_b) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
    let a = AmqpFeed::start(AmqpConfig::new(url()), &exchange, seen_a.clone())
        .await
        .expect("feed a");
    let b = AmqpFeed::start(AmqpConfig::new(url()), &exchange, seen_b.clone())
        .await
        .expect("feed b");
    // Both listeners bind before the first event counts.
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            a.publish(&[event(0)]);
            tokio::time::sleep(Duration::from_millis(50)).await;
            if seen_b.count() > 0 {
                break;
            }
        }
    })
    .await
    .expect("b hears a");
    let (before_a, before_b) = (seen_a.count(), seen_b.count());
    b.publish(&[event(1), event(2)]);
    tokio::time::timeout(Duration::from_secs(10), async {
        while seen_a.count() < before_a + 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a hears b");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        seen_b.count(),
        before_b + 2,
        "b shows its own events once, not again from the broker"
    );
    assert_eq!(seen_a.count(), before_a + 2);
    drop((a, b));
    delete_exchange(&exchange).await;
}

async fn delete_exchange(exchange: &str) {
    let raw = lapin::Connection::connect(&url(), lapin::ConnectionProperties::default())
        .await
        .expect("raw connection");
    let channel = raw.create_channel().await.expect("channel");
    channel
        .exchange_delete(exchange.into(), lapin::options::ExchangeDeleteOptions::default())
        .await
        .expect("delete exchange");
    let _ = raw.close(200, "done".into()).await;
}

/// The engine over RabbitMQ: allocation through the tickets queue, notifications, then e-mails; an e-mail
/// whose send fails comes back through the retry queue after its back-off and is sent once; one that
/// keeps failing, and a malformed message, end as dead-letter rows with their attempts, acked at the
/// broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_retries_through_the_broker_and_dead_letters_into_the_store() {
    use tts_core::memory::MemoryMailer;
    use tts_core::ports::PageRequest;
    use tts_core::{Actor, ConsumeOutcome, Consumer, Engine, EngineConfig, NewTicket, QueueNames, RetryPolicy};

    let prefix = unique_prefix("amqp-engine");
    let queues = QueueNames {
        tickets: format!("{prefix}-tickets"),
        notifications: format!("{prefix}-notifications"),
        mail: format!("{prefix}-mail"),
        events: None,
    };
    let names = [
        queues.tickets.clone(),
        queues.notifications.clone(),
        queues.mail.clone(),
    ];
    let broker = Arc::new(connect(QueueKind::Quorum).await);
    let mailer = Arc::new(MemoryMailer::new());
    let config = EngineConfig {
        queues,
        retry: RetryPolicy {
            max_deliveries: 2,
            base_delay_ms: 300,
            max_delay_ms: 300,
        },
        ..EngineConfig::default()
    };
    let engine = Engine::in_memory()
        .queue(broker.clone())
        .mailer(mailer.clone())
        .config(config)
        .build()
        .expect("engine");
    let fx = tts_core::testkit::fixture::three_step(&engine, 2, 3)
        .await
        .expect("fixture");
    // The next outcome of a consumer, waiting for the broker as a worker does.
    let next_outcome = async |consumer: Consumer| loop {
        if let Some(outcome) = engine.consume_one(consumer).await.expect("consume") {
            return outcome;
        }
        broker.wait(engine.consumer_queue(consumer)).await;
    };
    bounded(&broker, &names, async {
        let ticket = NewTicket::new("Broker path", "Asset Check In");
        engine
            .create_ticket(fx.requester_actor(), ticket, None)
            .await
            .expect("create");
        engine.pump_all().await.expect("relay");
        assert_eq!(next_outcome(Consumer::Allocation).await, ConsumeOutcome::Done);

        let notifications = engine.pump_all().await.expect("relay");
        assert!(notifications > 0);
        for _ in 0..notifications {
            assert_eq!(next_outcome(Consumer::Notifications).await, ConsumeOutcome::Done);
        }
        let emails = engine.pump_all().await.expect("relay");
        assert!(emails > 0);
        mailer.set_failing(true);
        let failed_at = std::time::Instant::now();
        for _ in 0..emails {
            assert!(matches!(
                next_outcome(Consumer::Mail).await,
                ConsumeOutcome::Retrying { .. }
            ));
        }
        mailer.set_failing(false);
        for _ in 0..emails {
            assert_eq!(next_outcome(Consumer::Mail).await, ConsumeOutcome::Done);
            assert!(
                failed_at.elapsed() >= Duration::from_millis(150),
                "came back after its back-off"
            );
        }
        assert_eq!(mailer.sent().len(), emails, "one e-mail per request");

        let ticket = NewTicket::new("Mail down", "Asset Check In");
        engine
            .create_ticket(fx.requester_actor(), ticket, None)
            .await
            .expect("create");
        engine.pump_all().await.expect("relay");
        assert_eq!(next_outcome(Consumer::Allocation).await, ConsumeOutcome::Done);
        for _ in 0..engine.pump_all().await.expect("relay") {
            assert_eq!(next_outcome(Consumer::Notifications).await, ConsumeOutcome::Done);
        }
        let failing = engine.pump_all().await.expect("relay");
        mailer.set_failing(true);
        for _ in 0..failing {
            assert!(matches!(
                next_outcome(Consumer::Mail).await,
                ConsumeOutcome::Retrying { .. }
            ));
        }
        for _ in 0..failing {
            assert!(matches!(
                next_outcome(Consumer::Mail).await,
                ConsumeOutcome::DeadLettered { .. }
            ));
        }

        let bad = QueueMessage {
            id: MessageId(uuid::Uuid::now_v7()),
            kind: "ticket.created".into(),
            payload: serde_json::json!({"type": "nope"}),
        };
        broker
            .publish(engine.consumer_queue(Consumer::Allocation), &bad)
            .await
            .expect("publish");
        assert!(matches!(
            next_outcome(Consumer::Allocation).await,
            ConsumeOutcome::DeadLettered { .. }
        ));

        let letters = engine
            .dead_letters(Actor::system(), PageRequest::default())
            .await
            .expect("dead letters")
            .items;
        let mut attempts: Vec<(String, u32)> = letters.iter().map(|l| (l.kind.clone(), l.attempts)).collect();
        attempts.sort();
        let mut expected = vec![("email.requested".to_string(), 2); failing];
        expected.push(("ticket.created".to_string(), 1));
        assert_eq!(
            attempts, expected,
            "the last attempts and the malformed message are rows"
        );
        for q in &names {
            assert!(
                broker.receive(q).await.expect("receive").is_none(),
                "{q}: acked at the broker"
            );
        }
    })
    .await;
}
