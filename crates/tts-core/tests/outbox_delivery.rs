//! Delivery without a broker: the outbox is the queue. Messages stay in the store until their effect
//! commits, failures are retried with back-off and then become dead letters an admin can replay or
//! delete, and a ticket no workflow matches is marked unroutable with its admins told.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tts_core::memory::{ManualClock, MemoryMailer, MemoryStore};
use tts_core::ports::store::{PageRequest, Store, UnitOptions};
use tts_core::testkit::fixture::{Fixture, three_step};
use tts_core::*;

struct World {
    engine: Engine,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    mailer: Arc<MemoryMailer>,
    fx: Fixture,
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_546_400, 0).expect("valid") // 2025-11-19T10:00:00Z
}

async fn world() -> World {
    let clock = Arc::new(ManualClock::new(start()));
    let mailer = Arc::new(MemoryMailer::new());
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(store.clone())
        .passwords(Arc::new(tts_core::memory::MemoryPasswords::new()))
        .clock(clock.clone())
        .mailer(mailer.clone())
        .config(EngineConfig {
            retry: RetryPolicy {
                max_deliveries: 3,
                base_delay_ms: 1_000,
                max_delay_ms: 60_000,
            },
            ..EngineConfig::default()
        })
        .build()
        .expect("engine");
    let fx = three_step(&engine, 2, 3).await.expect("fixture");
    World {
        engine,
        store,
        clock,
        mailer,
        fx,
    }
}

fn asset_ticket(subject: &str) -> NewTicket {
    NewTicket::new(subject, "Asset Check In")
        .department("Asset Department")
        .priority(Priority::High)
}

/// Messages waiting in the outbox, of any queue.
async fn waiting(store: &MemoryStore) -> usize {
    let mut tx = store.begin(UnitOptions::read()).await.expect("unit");
    tx.unsent_outbox(10_000).await.expect("outbox").len()
}

/// Puts an allocation request for a ticket that does not exist on the allocation queue: a message that
/// can never succeed.
async fn ghost(w: &World) -> OutboxMessage {
    let ghost = OutboxMessage {
        id: MessageId(uuid::Uuid::now_v7()),
        event: DomainEvent::AllocationRequested {
            ticket: TicketId(9_999),
        },
        created_at: start(),
        queue: Some(w.engine.consumer_queue(Consumer::Allocation).to_string()),
    };
    let mut tx = w.store.begin(UnitOptions::write()).await.expect("unit");
    tx.insert_outbox(vec![ghost.clone()]).await.expect("write");
    tx.commit().await.expect("commit");
    ghost
}

fn all() -> PageRequest {
    PageRequest::new(1, 100).expect("page")
}

#[tokio::test]
async fn messages_stay_in_the_outbox_until_their_effect_commits() {
    let w = world().await;
    assert!(w.engine.queue().is_none(), "no broker: the outbox is the queue");
    let t = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Printer"), None)
        .await
        .expect("create")
        .ticket;
    assert_eq!(
        w.engine.pump().await.expect("pump"),
        0,
        "nothing to relay without a broker"
    );
    assert_eq!(waiting(&w.store).await, 1, "ticket.created waits in the outbox");
    assert_eq!(
        w.engine
            .consume_batch(Consumer::Notifications, 8)
            .await
            .expect("other queue"),
        [],
        "another consumer's queue does not take it"
    );
    assert_eq!(
        w.engine.consume_batch(Consumer::Allocation, 8).await.expect("allocate"),
        [ConsumeOutcome::Done]
    );
    let ticket = w
        .engine
        .ticket(w.fx.requester_actor(), t.id.into())
        .await
        .expect("ticket");
    assert!(ticket.is_task_allocated);
    assert_eq!(
        waiting(&w.store).await,
        1,
        "the allocation left one notification request"
    );
    assert_eq!(w.engine.drain(Consumer::Notifications).await.expect("notify"), 1);
    assert_eq!(waiting(&w.store).await, 1, "the notification asked for its e-mail");
    assert_eq!(w.engine.drain(Consumer::Mail).await.expect("mail"), 1);
    assert_eq!(waiting(&w.store).await, 0, "consumed messages are gone");
    assert_eq!(w.mailer.sent().len(), 1, "one e-mail for the assignment");
    assert_eq!(w.engine.drain(Consumer::Allocation).await.expect("again"), 0);
}

/// The e-mail consumer fails here (its mailer is down): its row is leased while the mailer works (no
/// failure counted for the lease), each failed send is counted once and retried after its back-off, the
/// last one is a dead letter an admin can replay.
#[tokio::test]
async fn a_signalled_step_claims_without_looking_first_and_takes_only_its_own_queue() {
    let w = world().await;
    assert_eq!(
        w.engine
            .consume_signalled(Consumer::Allocation, 8)
            .await
            .expect("empty queue"),
        [],
        "a signal whose messages another loop took finds nothing and fails nothing"
    );
    let t = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Scanner"), None)
        .await
        .expect("create")
        .ticket;
    assert_eq!(
        w.engine
            .consume_signalled(Consumer::Notifications, 8)
            .await
            .expect("other queue"),
        [],
        "another consumer's queue does not take it"
    );
    assert_eq!(waiting(&w.store).await, 1, "ticket.created still waits");
    assert_eq!(
        w.engine
            .consume_signalled(Consumer::Allocation, 8)
            .await
            .expect("allocate"),
        [ConsumeOutcome::Done]
    );
    let ticket = w
        .engine
        .ticket(w.fx.requester_actor(), t.id.into())
        .await
        .expect("ticket");
    assert!(ticket.is_task_allocated);
    assert_eq!(
        w.engine
            .consume_signalled(Consumer::Allocation, 8)
            .await
            .expect("again"),
        [],
        "a consumed message is not claimed twice"
    );
}

#[tokio::test]
async fn a_failing_delivery_backs_off_then_becomes_a_dead_letter_an_admin_can_replay() {
    let w = world().await;
    w.engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Mail fails"), None)
        .await
        .expect("create");
    w.engine.drain(Consumer::Allocation).await.expect("allocate");
    w.engine.drain(Consumer::Notifications).await.expect("notify");
    w.mailer.set_failing(true);
    assert!(matches!(
        w.engine.consume_one(Consumer::Mail).await.expect("first"),
        Some(ConsumeOutcome::Retrying { .. })
    ));
    assert_eq!(
        w.engine.consume_one(Consumer::Mail).await.expect("too soon"),
        None,
        "the failed message waits out its back-off"
    );
    // Delivery 1 failed: 0.5..=1 s; delivery 2 failed: 1..=2 s.
    w.clock.advance(Duration::seconds(1));
    assert!(matches!(
        w.engine.consume_one(Consumer::Mail).await.expect("second"),
        Some(ConsumeOutcome::Retrying { .. })
    ));
    w.clock.advance(Duration::seconds(2));
    assert!(matches!(
        w.engine.consume_one(Consumer::Mail).await.expect("last"),
        Some(ConsumeOutcome::DeadLettered { .. })
    ));
    assert_eq!(waiting(&w.store).await, 0, "a dead letter leaves the outbox");
    let admin = Actor::system();
    let letters = w.engine.dead_letters(admin, all()).await.expect("list").items;
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (letters[0].attempts, letters[0].kind.as_str()),
        (3, "email.requested"),
        "three deliveries, each counted once"
    );
    assert!(letters[0].error.contains("mail"), "{}", letters[0].error);
    assert_eq!(
        w.engine
            .notifications(Actor::user(w.fx.admins[0].id), None, all())
            .await
            .expect("n")
            .total
            + w.engine
                .notifications(Actor::user(w.fx.admins[1].id), None, all())
                .await
                .expect("n")
                .total,
        1,
        "the in-app notification does not wait for its e-mail"
    );
    assert!(matches!(
        w.engine.dead_letters(w.fx.requester_actor(), all()).await,
        Err(Error::Forbidden(_))
    ));

    w.mailer.set_failing(false);
    let replayed = w.engine.replay_dead_letter(admin, letters[0].id).await.expect("replay");
    assert_eq!(replayed.id, letters[0].id);
    assert_eq!(w.engine.dead_letters(admin, all()).await.expect("list").total, 0);
    assert_eq!(
        w.engine.consume_one(Consumer::Mail).await.expect("replayed"),
        Some(ConsumeOutcome::Done)
    );
    assert_eq!(w.mailer.sent().len(), 1, "the replayed message was delivered once");
    assert_eq!(waiting(&w.store).await, 0, "a sent e-mail leaves nothing behind");
    assert!(matches!(
        w.engine.replay_dead_letter(admin, letters[0].id).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_message_that_cannot_succeed_is_dead_lettered_at_once_and_can_be_deleted() {
    let w = world().await;
    let ghost = ghost(&w).await;
    assert!(matches!(
        w.engine.consume_one(Consumer::Allocation).await.expect("consume"),
        Some(ConsumeOutcome::DeadLettered { .. })
    ));
    let admin = Actor::system();
    let letters = w.engine.dead_letters(admin, all()).await.expect("list").items;
    assert_eq!((letters.len(), letters[0].id, letters[0].attempts), (1, ghost.id, 1));
    // Replaying it fails the same way: it comes back as a dead letter.
    w.engine.replay_dead_letter(admin, ghost.id).await.expect("replay");
    w.engine.drain(Consumer::Allocation).await.expect("consume");
    assert_eq!(w.engine.dead_letters(admin, all()).await.expect("list").total, 1);
    w.engine.delete_dead_letter(admin, ghost.id).await.expect("delete");
    assert_eq!(w.engine.dead_letters(admin, all()).await.expect("list").total, 0);
    assert!(matches!(
        w.engine.delete_dead_letter(admin, ghost.id).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn one_bad_message_in_a_batch_holds_back_nothing_else() {
    let w = world().await;
    let mut good = Vec::new();
    for i in 0..3 {
        good.push(
            w.engine
                .create_ticket(w.fx.requester_actor(), asset_ticket(&format!("Batch {i}")), None)
                .await
                .expect("create")
                .ticket,
        );
    }
    ghost(&w).await;
    let outcomes = w.engine.consume_batch(Consumer::Allocation, 10).await.expect("batch");
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert_eq!(
        outcomes[..3],
        [ConsumeOutcome::Done, ConsumeOutcome::Done, ConsumeOutcome::Done]
    );
    assert!(matches!(outcomes[3], ConsumeOutcome::DeadLettered { .. }));
    for t in good {
        assert!(
            w.engine
                .ticket(Actor::system(), t.id.into())
                .await
                .expect("t")
                .is_task_allocated
        );
    }
}

#[tokio::test]
async fn an_unroutable_ticket_says_why_and_tells_the_admins_until_a_workflow_takes_it() {
    let w = world().await;
    let t = w
        .engine
        .create_ticket(
            w.fx.requester_actor(),
            NewTicket::new("Coffee machine", "Kitchen"),
            None,
        )
        .await
        .expect("create")
        .ticket;
    assert_eq!(w.engine.drain(Consumer::Allocation).await.expect("route"), 1);
    let ticket = w.engine.ticket(Actor::system(), t.id.into()).await.expect("ticket");
    assert!(!ticket.is_task_allocated);
    let reason = ticket.unroutable.expect("a reason");
    assert!(reason.contains("Kitchen"), "{reason}");
    assert_eq!(
        w.engine.dead_letters(Actor::system(), all()).await.expect("dl").total,
        0,
        "not a failure"
    );
    w.engine.drain(Consumer::Notifications).await.expect("notify");
    for admin in &w.fx.admins {
        let mine = w
            .engine
            .notifications(Actor::user(admin.id), None, all())
            .await
            .expect("n")
            .items;
        assert_eq!(
            mine.iter().map(|n| n.kind).collect::<Vec<_>>(),
            [NotificationType::TicketUnroutable],
            "each admin is told once"
        );
    }
    // Pushing it again without a new workflow changes nothing and tells nobody again.
    w.engine
        .request_allocation(Actor::system(), t.id.into())
        .await
        .expect("push");
    w.engine.drain(Consumer::Allocation).await.expect("route again");
    assert_eq!(w.engine.drain(Consumer::Notifications).await.expect("notify"), 0);

    // A workflow for it, then a push: allocated, and the reason is gone.
    let mut def = w.fx.workflow.definition.clone();
    def.name = "Kitchen Workflow".into();
    def.match_key = MatchKey {
        category: "Kitchen".into(),
        subcategory: None,
        department: None,
        priority: None,
    };
    let admin = Actor::system();
    let kitchen = w.engine.create_workflow(admin, def).await.expect("workflow");
    w.engine.publish_workflow(admin, kitchen.id).await.expect("publish");
    w.engine
        .request_allocation(Actor::system(), t.id.into())
        .await
        .expect("push");
    w.engine.drain(Consumer::Allocation).await.expect("allocate");
    let ticket = w.engine.ticket(Actor::system(), t.id.into()).await.expect("ticket");
    assert!(ticket.is_task_allocated);
    assert_eq!(ticket.unroutable, None);
}

/// A mailer with a bug: it panics on every e-mail.
#[derive(Debug)]
struct Panics;

#[async_trait::async_trait]
impl tts_core::ports::Mailer for Panics {
    async fn send(&self, _email: &tts_core::ports::Email) -> Result<()> {
        panic!("the mailer has a bug");
    }
}

#[tokio::test]
async fn an_effect_that_always_panics_ends_as_a_dead_letter_not_a_loop() {
    let clock = Arc::new(ManualClock::new(start()));
    let engine = Engine::in_memory()
        .clock(clock.clone())
        .mailer(Arc::new(Panics))
        .config(EngineConfig {
            retry: RetryPolicy {
                max_deliveries: 2,
                base_delay_ms: 1_000,
                max_delay_ms: 1_000,
            },
            ..EngineConfig::default()
        })
        .build()
        .expect("engine");
    let fx = three_step(&engine, 1, 1).await.expect("fixture");
    engine
        .create_ticket(fx.requester_actor(), asset_ticket("Poison"), None)
        .await
        .expect("create");
    engine.drain(Consumer::Allocation).await.expect("allocate");
    engine.drain(Consumer::Notifications).await.expect("notify");
    let first = engine.consume_one(Consumer::Mail).await.expect("first");
    assert!(
        matches!(&first, Some(ConsumeOutcome::Retrying { error }) if error.contains("panicked")),
        "{first:?}"
    );
    clock.advance(Duration::seconds(1));
    assert!(matches!(
        engine.consume_one(Consumer::Mail).await.expect("second"),
        Some(ConsumeOutcome::DeadLettered { .. })
    ));
    let letters = engine.dead_letters(Actor::system(), all()).await.expect("list").items;
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].error.contains("the mailer has a bug"),
        "{}",
        letters[0].error
    );
}
