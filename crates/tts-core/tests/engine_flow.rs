//! The engine end to end on the memory adapters: the seed's story, bad input, authorization, the async
//! path (outbox relay and consumers), escalation, transfer, SLA and ticket status changes.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use tts_core::memory::{ManualClock, MemoryMailer, MemoryQueue};
use tts_core::ports::queue::{Queue, QueueMessage};
use tts_core::ports::store::PageRequest;
use tts_core::testkit::fixture::{Fixture, three_step};
use tts_core::*;

struct World {
    engine: Engine,
    clock: Arc<ManualClock>,
    mailer: Arc<MemoryMailer>,
    queue: Arc<MemoryQueue>,
    fx: Fixture,
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_763_546_400, 0).expect("valid") // 2025-11-19T10:00:00Z
}

async fn world_with(config: EngineConfig) -> World {
    let clock = Arc::new(ManualClock::new(start()));
    let mailer = Arc::new(MemoryMailer::new());
    let queue = Arc::new(MemoryQueue::new());
    let engine = Engine::in_memory()
        .clock(clock.clone())
        .mailer(mailer.clone())
        .queue(queue.clone())
        .config(config)
        .build()
        .expect("engine");
    let fx = three_step(&engine, 2, 3).await.expect("fixture");
    World {
        engine,
        clock,
        mailer,
        queue,
        fx,
    }
}

async fn world() -> World {
    // Retries due within a millisecond, so a test sees the redelivery at once.
    let retry = RetryPolicy {
        base_delay_ms: 1,
        max_delay_ms: 1,
        ..RetryPolicy::default()
    };
    world_with(EngineConfig {
        retry,
        ..EngineConfig::default()
    })
    .await
}

fn asset_ticket(subject: &str) -> NewTicket {
    NewTicket::new(subject, "Asset Check In")
        .department("Asset Department")
        .priority(Priority::High)
}

async fn allocated(w: &World, subject: &str) -> (Ticket, Task, Assignment) {
    let t = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket(subject), None)
        .await
        .expect("create")
        .ticket;
    match w.engine.allocate(t.id).await.expect("allocate") {
        Allocation::Allocated { task, assignment } => (t, task, assignment),
        other => panic!("expected allocation, got {other:?}"),
    }
}

fn holder(w: &World, a: &Assignment) -> Actor {
    let user =
        w.fx.admins
            .iter()
            .chain(&w.fx.agents)
            .chain(&w.fx.seniors)
            .find(|u| u.id == a.user)
            .expect("known user");
    w.fx.actor(user)
}

#[tokio::test]
async fn the_seed_story_end_to_end() {
    let w = world().await;
    let t = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Laptop check-in"), None)
        .await
        .expect("create")
        .ticket;
    assert_eq!(t.ticket_id.to_string(), "TKT-2025-0001");
    assert_eq!(t.status, TicketStatus::Open);
    assert!(!t.is_task_allocated);

    // async path: relay -> allocation consumer -> relay -> notification consumer
    assert!(w.engine.pump_all().await.expect("pump") >= 1);
    assert_eq!(w.engine.drain(Consumer::Allocation).await.expect("allocate"), 1);
    let t = w
        .engine
        .ticket(w.fx.requester_actor(), t.id.into())
        .await
        .expect("ticket");
    assert!(t.is_task_allocated, "allocation consumer allocated the ticket");
    w.engine.pump_all().await.expect("pump");
    assert_eq!(w.engine.drain(Consumer::Notifications).await.expect("notify"), 1);
    assert!(
        w.mailer.sent().is_empty(),
        "the e-mail is its own message, sent outside the unit"
    );
    w.engine.pump_all().await.expect("pump");
    assert_eq!(w.engine.drain(Consumer::Mail).await.expect("mail"), 1);

    let task = w
        .engine
        .task_for_ticket(w.fx.requester_actor(), t.id.into())
        .await
        .expect("task")
        .expect("has task");
    assert_eq!(task.current_step, w.fx.steps[0]);
    let view = w.engine.task(w.fx.requester_actor(), task.id).await.expect("view");
    let triage = view.assignments[0].clone();
    assert_eq!(triage.user, w.fx.admins[0].id, "round-robin starts at the lowest id");
    assert_eq!(
        triage.target_resolution,
        Some(start() + Duration::milliseconds(8 * 3600 * 1000 * 20 / 100)),
        "SLA 8 h * 20%"
    );
    let admin = holder(&w, &triage);
    let notes = w
        .engine
        .notifications(admin, Some(false), PageRequest::default())
        .await
        .expect("notes");
    assert_eq!(notes.total, 1);
    assert_eq!(notes.items[0].kind, NotificationType::TaskAssignment);
    assert_eq!(w.mailer.sent().len(), 1);
    assert_eq!(w.mailer.sent()[0].to, w.fx.admins[0].email);

    let avail = w.engine.available_actions(admin, task.id).await.expect("actions");
    assert!(avail.can_act);
    assert_eq!(
        avail.actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["Submit"]
    );

    w.clock.advance(Duration::minutes(30));
    let out = w
        .engine
        .perform_action(admin, task.id, w.fx.submit, "Looks valid")
        .await
        .expect("submit");
    let ActionOutcome::Transitioned {
        next_step,
        assignee,
        assignment,
        task: moved,
    } = out
    else {
        panic!("expected a transition")
    };
    assert_eq!(next_step.name, "Resolve Ticket");
    assert_eq!(assignee.id, w.fx.agents[0].id);
    assert_eq!(moved.status, TaskStatus::InProgress);
    assert_eq!(
        assignment.target_resolution,
        Some(start() + Duration::minutes(30) + Duration::milliseconds(8 * 3600 * 1000 * 60 / 100))
    );
    assert_eq!(
        w.engine.ticket(admin, t.id.into()).await.expect("t").status,
        TicketStatus::InProgress,
        "first action -> in_progress"
    );

    // acting twice on the same step is refused
    let again = w
        .engine
        .perform_action(admin, task.id, w.fx.submit, "again")
        .await
        .expect_err("twice");
    assert_eq!(again.kind(), ErrorKind::Conflict);

    let agent = holder(&w, &assignment);
    let out = w
        .engine
        .perform_action(agent, task.id, w.fx.reject, "Missing serial")
        .await
        .expect("reject");
    let ActionOutcome::Transitioned { assignee, .. } = out else {
        panic!("expected a transition")
    };
    assert_eq!(
        assignee.id, w.fx.admins[1].id,
        "the back edge assigns the next admin in rotation"
    );
    let admin2 = w.fx.actor(&w.fx.admins[1]);
    let out = w
        .engine
        .perform_action(admin2, task.id, w.fx.submit, "Serial added")
        .await
        .expect("submit again");
    let ActionOutcome::Transitioned { assignee, .. } = out else {
        panic!("expected a transition")
    };
    assert_eq!(assignee.id, w.fx.agents[1].id, "agents rotate too");
    let agent2 = w.fx.actor(&w.fx.agents[1]);
    let out = w
        .engine
        .perform_action(agent2, task.id, w.fx.approve, "Checked in")
        .await
        .expect("approve");
    let ActionOutcome::Transitioned { assignee, .. } = out else {
        panic!("expected a transition")
    };
    assert_eq!(assignee.id, w.fx.admins[0].id, "admins wrap around");
    let out = w
        .engine
        .perform_action(admin, task.id, w.fx.close, "Done")
        .await
        .expect("close");
    let ActionOutcome::Completed { task: done, ticket } = out else {
        panic!("expected completion")
    };
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(ticket.status, TicketStatus::Resolved, "completion -> resolved");

    let history = w
        .engine
        .ticket_history(w.fx.requester_actor(), t.id.into())
        .await
        .expect("history");
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "ticket.created",
            "task.allocated",
            "task.action",
            "task.action",
            "task.action",
            "task.action",
            "task.completed"
        ]
    );
    let view = w.engine.task(admin, task.id).await.expect("view");
    assert_eq!(
        view.assignments.len(),
        5,
        "triage, resolve, triage again, resolve again, finalize"
    );
    assert!(view.assignments.iter().all(|a| a.status == AssignmentStatus::Resolved));
    assert!(view.assignments.iter().all(|a| a.history.len() == 2));

    w.engine.pump_all().await.expect("pump");
    w.engine.drain(Consumer::Notifications).await.expect("notify");
    let mine = w
        .engine
        .notifications(w.fx.requester_actor(), None, PageRequest::default())
        .await
        .expect("requester notes");
    assert_eq!(mine.items[0].kind, NotificationType::TaskCompleted);
    assert_eq!(
        w.engine
            .mark_all_notifications_read(w.fx.requester_actor())
            .await
            .expect("mark"),
        1
    );
}

#[tokio::test]
async fn allocation_is_idempotent_and_routing_is_explained() {
    let w = world().await;
    let (t, task, _) = allocated(&w, "Idempotent").await;
    match w.engine.allocate(t.id).await.expect("second allocate") {
        Allocation::AlreadyAllocated { task: same } => assert_eq!(same.id, task.id),
        other => panic!("expected AlreadyAllocated, got {other:?}"),
    }
    let view = w.engine.task(w.fx.requester_actor(), task.id).await.expect("view");
    assert_eq!(view.assignments.len(), 1, "a second allocate changes nothing");

    let other = w
        .engine
        .create_ticket(w.fx.requester_actor(), NewTicket::new("Lunch", "Catering"), None)
        .await
        .expect("create")
        .ticket;
    assert_eq!(
        w.engine.allocate(other.id).await.expect("allocate"),
        Allocation::Unroutable
    );
    let dry = w
        .engine
        .match_dry_run(&TicketKey {
            category: "  asset   CHECK in ".into(),
            department: Some("asset department".into()),
            ..TicketKey::default()
        })
        .await
        .expect("dry run");
    let decision = dry.explanation.decision.expect("matches");
    assert_eq!(decision.tier, Tier::Category);
    assert!(decision.department_specific);
    assert_eq!(dry.workflow.map(|w| w.id), Some(w.fx.workflow.id));
}

#[tokio::test]
async fn consumers_are_idempotent_by_message_id() {
    let w = world().await;
    let t = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Dedup"), None)
        .await
        .expect("create")
        .ticket;
    w.engine.pump_all().await.expect("pump");
    let q = w.engine.consumer_queue(Consumer::Allocation).to_string();
    let d = w.queue.receive(&q).await.expect("receive").expect("message");
    // the same message delivered twice (at-least-once) has one effect
    w.queue.publish(&q, &d.message).await.expect("duplicate publish");
    w.queue
        .retry(&d, std::time::Duration::ZERO)
        .await
        .expect("back on the queue");
    assert_eq!(
        w.engine.consume_one(Consumer::Allocation).await.expect("first"),
        Some(ConsumeOutcome::Done)
    );
    assert_eq!(
        w.engine.consume_one(Consumer::Allocation).await.expect("second"),
        Some(ConsumeOutcome::Duplicate)
    );
    assert!(
        w.engine
            .ticket(w.fx.requester_actor(), t.id.into())
            .await
            .expect("t")
            .is_task_allocated
    );

    // a malformed payload is dead-lettered, not retried forever
    let bad = QueueMessage {
        id: MessageId(uuid::Uuid::now_v7()),
        kind: "ticket.created".into(),
        payload: serde_json::json!({"type": "nope"}),
    };
    w.queue.publish(&q, &bad).await.expect("publish");
    assert!(matches!(
        w.engine.consume_one(Consumer::Allocation).await.expect("bad"),
        Some(ConsumeOutcome::DeadLettered { .. })
    ));
    let letters = w
        .engine
        .dead_letters(Actor::system(), PageRequest::default())
        .await
        .expect("dead letters")
        .items;
    assert_eq!(
        letters
            .iter()
            .map(|l| (l.id, &l.payload, l.attempts))
            .collect::<Vec<_>>(),
        [(bad.id, &bad.payload, 1)],
        "a dead letter is a row, with the message as received"
    );
    assert_eq!(
        w.queue.receive(&q).await.expect("receive"),
        None,
        "and acked at the broker"
    );

    // a failing mailer makes the e-mail retry, then succeed once it recovers; the notification itself
    // was written regardless
    w.engine.pump_all().await.expect("pump");
    assert_eq!(
        w.engine.consume_one(Consumer::Notifications).await.expect("notify"),
        Some(ConsumeOutcome::Done)
    );
    w.engine.pump_all().await.expect("pump");
    w.mailer.set_failing(true);
    assert!(matches!(
        w.engine.consume_one(Consumer::Mail).await.expect("fail"),
        Some(ConsumeOutcome::Retrying { .. })
    ));
    w.mailer.set_failing(false);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        w.engine.consume_one(Consumer::Mail).await.expect("retry"),
        Some(ConsumeOutcome::Done)
    );
    assert_eq!(w.mailer.sent().len(), 1);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let w = world().await;
    let r = w.fx.requester_actor();
    let fields = |e: Error| match e {
        Error::Validation(f) => f.into_iter().map(|f| f.field).collect::<Vec<_>>(),
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(
        fields(
            w.engine
                .create_ticket(r, NewTicket::new("", "x"), None)
                .await
                .unwrap_err()
        ),
        ["subject"]
    );
    assert_eq!(
        fields(
            w.engine
                .create_ticket(r, NewTicket::new("x".repeat(256), "x"), None)
                .await
                .unwrap_err()
        ),
        ["subject"]
    );
    assert_eq!(fields("urgentest".parse::<Priority>().unwrap_err()), ["priority"]);
    assert_eq!(fields("TKT-2025-1".parse::<TicketRef>().unwrap_err()), ["id"]);

    let (_, task, a) = allocated(&w, "Bad input").await;
    let admin = holder(&w, &a);
    // an action that does not leave the current step (B-2 in the seed)
    let e = w
        .engine
        .perform_action(admin, task.id, w.fx.close, "skip")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["action_id"]);
    let e = w
        .engine
        .perform_action(admin, task.id, ActionId(uuid::Uuid::now_v7()), "")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["action_id"]);
    let e = w
        .engine
        .perform_action(admin, task.id, w.fx.submit, &"x".repeat(5001))
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["comment"]);
    // someone else's assignment
    let other_admin = w.fx.actor(&w.fx.admins[1]);
    let e = w
        .engine
        .perform_action(other_admin, task.id, w.fx.submit, "mine?")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    let e = w.engine.escalate(admin, task.id, "  ").await.unwrap_err();
    assert_eq!(fields(e), ["reason"]);
    let e = w
        .engine
        .transfer(admin, task.id, w.fx.agents[0].id, "")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["user_id"], "agents do not hold the admin role of Triage");
    assert_eq!(
        w.engine
            .ticket(r, "TKT-2025-9999".parse().unwrap())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn objects_of_others_are_not_found() {
    let w = world().await;
    let (t, task, a) = allocated(&w, "Private").await;
    let stranger = Actor::user(w.fx.agents[2].id);
    assert_eq!(
        w.engine.ticket(stranger, t.id.into()).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        w.engine.task(stranger, task.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        w.engine.ticket_history(stranger, t.id.into()).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        w.engine.available_actions(stranger, task.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        w.engine
            .perform_action(stranger, task.id, w.fx.submit, "")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let q = tts_core::ports::store::TicketQuery::default();
    assert_eq!(w.engine.list_tickets(stranger, q.clone()).await.expect("list").total, 0);
    assert_eq!(
        w.engine
            .list_tickets(w.fx.requester_actor(), q.clone())
            .await
            .expect("list")
            .total,
        1
    );
    // the assignee sees the ticket; after acting, still (held)
    let admin = holder(&w, &a);
    assert_eq!(
        w.engine
            .list_tickets(Actor::user(admin.user), q)
            .await
            .expect("list")
            .total,
        1
    );
    w.engine
        .perform_action(admin, task.id, w.fx.submit, "")
        .await
        .expect("act");
    assert!(w.engine.ticket(Actor::user(admin.user), t.id.into()).await.is_ok());
    // workflow writes are admin-only
    let e = w
        .engine
        .pause_workflow(w.fx.requester_actor(), w.fx.workflow.id)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    let n = w
        .engine
        .notifications(stranger, None, PageRequest::default())
        .await
        .expect("own notes");
    assert_eq!(n.total, 0);
}

#[tokio::test]
async fn escalation_and_transfer() {
    let w = world().await;
    let (_, task, a) = allocated(&w, "Escalate me").await;
    let admin = holder(&w, &a);
    let esc = w
        .engine
        .escalate(admin, task.id, "Needs a senior")
        .await
        .expect("escalate");
    assert_eq!(esc.origin, Origin::Escalated);
    assert_eq!(esc.user, w.fx.seniors[0].id);
    assert_eq!(esc.step, w.fx.steps[0]);
    let view = w.engine.task(admin, task.id).await.expect("view");
    assert_eq!(view.assignments[0].status, AssignmentStatus::Escalated);
    assert_eq!(view.assignments[0].notes, "Needs a senior");
    // the senior acts on the escalated step
    let senior = w.fx.actor(&w.fx.seniors[0]);
    w.engine
        .perform_action(senior, task.id, w.fx.submit, "handled")
        .await
        .expect("senior acts");

    let (_, task2, a2) = allocated(&w, "Transfer me").await;
    let from = holder(&w, &a2);
    let to =
        w.fx.admins
            .iter()
            .find(|u| u.id != a2.user)
            .expect("other admin")
            .clone();
    let moved = w
        .engine
        .transfer(from, task2.id, to.id, "on leave")
        .await
        .expect("transfer");
    assert_eq!(moved.origin, Origin::Transferred);
    assert_eq!(
        moved.target_resolution, a2.target_resolution,
        "transfer keeps the deadline"
    );
    assert_eq!(
        w.engine
            .perform_action(from, task2.id, w.fx.submit, "")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    w.engine
        .perform_action(w.fx.actor(&to), task2.id, w.fx.submit, "")
        .await
        .expect("new holder acts");
}

#[tokio::test]
async fn sla_sweep_warns_breaches_and_escalates() {
    let config = EngineConfig {
        auto_escalate_on_breach: true,
        ..EngineConfig::default()
    };
    let w = world_with(config).await;
    let (_, task, a) = allocated(&w, "Slow").await;
    let target = a.target_resolution.expect("target");
    let warn = a.warn_at.expect("warn at");
    assert_eq!(
        w.engine.sla_sweep(warn - Duration::seconds(1)).await.expect("sweep"),
        Default::default()
    );
    let r = w.engine.sla_sweep(warn).await.expect("sweep");
    assert_eq!((r.warned, r.breached), (1, 0));
    assert_eq!(
        w.engine.sla_sweep(warn).await.expect("sweep again").warned,
        0,
        "warned once"
    );
    let r = w.engine.sla_sweep(target).await.expect("sweep");
    assert_eq!((r.breached, r.escalated), (1, 1));
    let view = w.engine.task(Actor::system(), task.id).await.expect("view");
    assert_eq!(view.assignments[0].status, AssignmentStatus::Escalated);
    assert!(
        view.assignments[0]
            .history
            .iter()
            .any(|h| h.status == AssignmentStatus::Breached)
    );
    assert_eq!(view.assignments[1].user, w.fx.seniors[0].id);
}

#[tokio::test]
async fn withdrawing_a_ticket_cancels_its_task() {
    let w = world().await;
    let (t, task, a) = allocated(&w, "Withdraw").await;
    let r = w.fx.requester_actor();
    assert_eq!(
        w.engine
            .change_ticket_status(r, t.id.into(), TicketStatus::OnHold)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    let t2 = w
        .engine
        .change_ticket_status(r, t.id.into(), TicketStatus::Withdrawn)
        .await
        .expect("withdraw");
    assert_eq!(t2.status, TicketStatus::Withdrawn);
    let view = w.engine.task(r, task.id).await.expect("view");
    assert_eq!(view.task.status, TaskStatus::Cancelled);
    assert_eq!(view.assignments[0].status, AssignmentStatus::Cancelled);
    assert_eq!(
        w.engine
            .perform_action(holder(&w, &a), task.id, w.fx.submit, "")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    let e = w
        .engine
        .change_ticket_status(Actor::system(), t.id.into(), TicketStatus::Open)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::IllegalTransition { .. }));
}

#[tokio::test]
async fn a_ticket_edit_and_its_status_move_apply_together_or_not_at_all() {
    let w = world().await;
    let r = w.fx.requester_actor();
    let t = w
        .engine
        .create_ticket(r, asset_ticket("Before"), None)
        .await
        .expect("create")
        .ticket;
    // The fields are fine, the status move is not allowed: nothing of the edit is kept.
    let edit = TicketEdit {
        subject: Some("After".into()),
        status: Some(TicketStatus::Resolved),
        ..TicketEdit::default()
    };
    let err = w.engine.update_ticket(r, t.id.into(), edit).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let kept = w.engine.ticket(r, t.id.into()).await.expect("ticket");
    assert_eq!((kept.subject.as_str(), kept.version), ("Before", t.version));
    let illegal = TicketEdit {
        subject: Some("After".into()),
        status: Some(TicketStatus::Closed),
        ..TicketEdit::default()
    };
    let err = w
        .engine
        .update_ticket(Actor::system(), t.id.into(), illegal)
        .await
        .expect_err("open -> closed is not in the table");
    assert!(matches!(err, Error::IllegalTransition { .. }), "{err}");
    assert_eq!(w.engine.ticket(r, t.id.into()).await.expect("ticket").subject, "Before");
    // Both parts at once: one version step.
    let both = TicketEdit {
        subject: Some("After".into()),
        status: Some(TicketStatus::Withdrawn),
        ..TicketEdit::default()
    };
    let done = w
        .engine
        .update_ticket(r, t.id.into(), both)
        .await
        .expect("edit and withdraw");
    assert_eq!((done.subject.as_str(), done.status), ("After", TicketStatus::Withdrawn));
    assert_eq!(done.version, t.version + 1);
}

#[tokio::test]
async fn a_one_step_workflow_resolves_an_open_ticket_in_one_action() {
    let engine = Engine::in_memory().build().expect("engine");
    let fx = tts_core::testkit::fixture::one_step(&engine, 2)
        .await
        .expect("workflow");
    let requester = Actor::user(UserId(uuid::Uuid::now_v7()));
    let t = engine
        .create_ticket(requester, NewTicket::new("Quick", "Load"), None)
        .await
        .expect("create")
        .ticket;
    let Allocation::Allocated { task, assignment } = engine.allocate(t.id).await.expect("allocate") else {
        panic!("expected an allocation")
    };
    let out = engine
        .perform_action(Actor::agent(assignment.user), task.id, fx.done, "done")
        .await
        .expect("the ticket goes open -> in progress -> resolved in one command");
    let ActionOutcome::Completed { ticket, .. } = out else {
        panic!("expected completion")
    };
    assert_eq!(ticket.status, TicketStatus::Resolved);
}

#[tokio::test]
async fn publishing_reports_every_problem_and_pins_versions() {
    let w = world().await;
    let sys = Actor::system();
    let mut def = tts_core::testkit::fixture::three_step_definition(
        "Broken",
        w.fx.admin_role.id,
        w.fx.agent_role.id,
        RoleId(uuid::Uuid::now_v7()),
    );
    def.transitions.retain(|t| t.name != "Approve");
    def.steps[0].weight = 0;
    let draft = w.engine.create_workflow(sys, def).await.expect("draft");
    let Error::InvalidWorkflow(problems) = w.engine.publish_workflow(sys, draft.id).await.unwrap_err() else {
        panic!("expected problems")
    };
    assert!(problems.iter().any(|p| matches!(p, Problem::NonPositiveWeight { .. })));
    assert!(problems.iter().any(|p| matches!(p, Problem::Unreachable { .. })));
    assert!(problems.iter().any(|p| matches!(p, Problem::CannotComplete { .. })));
    assert!(problems.iter().any(|p| matches!(p, Problem::UnknownRole { .. })));
    assert!(problems.iter().any(|p| matches!(p, Problem::DuplicateMatchKey { .. })));

    // editing needs a pause; a running task keeps its version
    let (_, task, _) = allocated(&w, "Pinned").await;
    let wf = w.fx.workflow.id;
    assert_eq!(
        w.engine
            .update_workflow(sys, wf, w.fx.workflow.definition.clone())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    w.engine.pause_workflow(sys, wf).await.expect("pause");
    let mut edited = w.fx.workflow.definition.clone();
    edited.steps[1].name = "Resolve (v2)".into();
    w.engine.update_workflow(sys, wf, edited).await.expect("edit");
    let v2 = w.engine.publish_workflow(sys, wf).await.expect("publish v2");
    assert_eq!(v2.version, 2);
    let view = w.engine.task(sys, task.id).await.expect("view");
    assert_eq!(view.task.workflow_version, 1, "running tasks keep their version");
    let (_, task2, _) = allocated(&w, "New version").await;
    assert_eq!(task2.workflow_version, 2);
}

#[tokio::test]
async fn prune_forgets_only_bookkeeping_past_its_retention() {
    let w = world().await;
    let key = IdempotencyKey {
        key: "retry-me".into(),
        fingerprint: "body".into(),
    };
    let first = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Kept"), Some(key.clone()))
        .await
        .expect("create");
    w.engine.pump_all().await.expect("pump");
    assert_eq!(
        w.engine.consume_one(Consumer::Allocation).await.expect("allocate"),
        Some(ConsumeOutcome::Done)
    );
    assert_eq!(
        w.engine.prune(start() + Duration::hours(1)).await.expect("prune"),
        PruneReport::default(),
        "nothing is old enough after an hour"
    );
    let retry = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Kept"), Some(key.clone()))
        .await
        .expect("retry");
    assert_eq!(
        (retry.created, retry.ticket.id),
        (false, first.ticket.id),
        "the key still holds"
    );

    let day_later = w.engine.prune(start() + Duration::hours(25)).await.expect("prune");
    assert_eq!(
        (day_later.idempotency_keys, day_later.processed),
        (1, 0),
        "keys go after a day"
    );
    let week_later = w.engine.prune(start() + Duration::days(8)).await.expect("prune");
    assert_eq!(week_later.processed, 1, "dedup records go after a week");

    let after = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("Kept"), Some(key))
        .await
        .expect("create after the key expired");
    assert!(
        after.created && after.ticket.id != first.ticket.id,
        "a forgotten key creates anew"
    );
}

#[tokio::test]
async fn retention_settings_are_checked() {
    let mut config = EngineConfig::default();
    config.retention.idempotency_secs = 0;
    let err = Engine::in_memory().config(config).build().expect_err("zero retention");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.to_string().contains("retention.idempotency_secs"), "{err}");
}

#[tokio::test]
async fn consumer_batches_share_a_unit_and_isolate_a_bad_message() {
    let w = world().await;
    let q = w.engine.consumer_queue(Consumer::Allocation).to_string();
    let mut tickets = Vec::new();
    for i in 0..4 {
        let t = w
            .engine
            .create_ticket(w.fx.requester_actor(), asset_ticket(&format!("Batch {i}")), None)
            .await
            .expect("create")
            .ticket;
        tickets.push(t);
    }
    w.engine.pump_all().await.expect("pump");
    // a redelivered copy of the first message rides in the same batch
    let first = w.queue.receive(&q).await.expect("receive").expect("message");
    w.queue.publish(&q, &first.message).await.expect("copy");
    w.queue.publish(&q, &first.message).await.expect("copy");
    w.queue.ack(&first).await.expect("ack");
    let outcomes = w.engine.consume_batch(Consumer::Allocation, 10).await.expect("batch");
    assert_eq!(
        outcomes,
        [
            ConsumeOutcome::Done,
            ConsumeOutcome::Done,
            ConsumeOutcome::Done,
            ConsumeOutcome::Done,
            ConsumeOutcome::Duplicate
        ]
    );
    let mut holders = Vec::new();
    for t in &tickets {
        let task = w
            .engine
            .task_for_ticket(w.fx.requester_actor(), t.id.into())
            .await
            .expect("task")
            .expect("allocated");
        let view = w.engine.task(Actor::system(), task.id).await.expect("view");
        holders.push(view.assignments[0].user);
    }
    let admins: Vec<UserId> = w.fx.admins.iter().map(|u| u.id).collect();
    assert_eq!(
        holders,
        [admins[0], admins[1], admins[0], admins[1]],
        "round-robin in ticket order"
    );

    // one bad message: the batch falls back to one unit per message; the good ones still go through
    let late = w
        .engine
        .create_ticket(w.fx.requester_actor(), asset_ticket("After the bad one"), None)
        .await
        .expect("create")
        .ticket;
    let bad = QueueMessage {
        id: MessageId(uuid::Uuid::now_v7()),
        kind: "ticket.created".into(),
        payload: serde_json::json!({"type": "nope"}),
    };
    w.queue.publish(&q, &bad).await.expect("publish");
    w.engine.pump_all().await.expect("pump");
    let outcomes = w.engine.consume_batch(Consumer::Allocation, 10).await.expect("batch");
    assert!(
        matches!(outcomes[0], ConsumeOutcome::DeadLettered { .. }),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1..], [ConsumeOutcome::Done]);
    assert!(
        w.engine
            .ticket(w.fx.requester_actor(), late.id.into())
            .await
            .expect("ticket")
            .is_task_allocated
    );
    assert_eq!(
        w.engine.consume_batch(Consumer::Allocation, 10).await.expect("empty"),
        []
    );
}

#[tokio::test]
async fn notification_batches_share_a_unit_and_emails_go_one_by_one() {
    for email in [false, true] {
        let w = world_with(EngineConfig {
            email_notifications: email,
            ..EngineConfig::default()
        })
        .await;
        let mut holders = Vec::new();
        for i in 0..3 {
            let (_, _, a) = allocated(&w, &format!("Notify {i}")).await;
            holders.push(a.user);
        }
        w.engine.pump_all().await.expect("pump");
        let outcomes = w
            .engine
            .consume_batch(Consumer::Notifications, 10)
            .await
            .expect("batch");
        assert_eq!(
            outcomes,
            [ConsumeOutcome::Done, ConsumeOutcome::Done, ConsumeOutcome::Done]
        );
        assert!(w.mailer.sent().is_empty(), "no e-mail inside a unit");
        w.engine.pump_all().await.expect("pump");
        let mails = w.engine.consume_batch(Consumer::Mail, 10).await.expect("mail");
        assert_eq!(mails.len(), if email { 3 } else { 0 }, "e-mail {email}");
        assert_eq!(w.mailer.sent().len(), if email { 3 } else { 0 }, "e-mail {email}");
        holders.sort();
        holders.dedup();
        let mut written = 0;
        for user in holders {
            let holder =
                w.fx.admins
                    .iter()
                    .find(|u| u.id == user)
                    .map(|u| w.fx.actor(u))
                    .expect("an admin holds the first step");
            let notes = w
                .engine
                .notifications(holder, None, Default::default())
                .await
                .expect("notes");
            written += notes.total;
        }
        assert_eq!(written, 3, "one in-app notification per assignment");
    }
}

#[tokio::test]
async fn emails_follow_the_profile_link_the_ticket_and_go_out_once() {
    let w = world_with(EngineConfig {
        public_url: Some("https://tts.example.com".into()),
        ..EngineConfig::default()
    })
    .await;
    // Every admin but the first turns e-mail off in their profile.
    for admin in &w.fx.admins[1..] {
        let off = ProfileChange {
            email_notifications: Some(false),
            ..ProfileChange::default()
        };
        let user = w
            .engine
            .update_profile(w.fx.actor(admin), None, off)
            .await
            .expect("profile");
        assert!(!user.email_notifications);
    }
    let mut tickets = Vec::new();
    for i in 0..w.fx.admins.len() {
        let (t, _, a) = allocated(&w, &format!("Mail {i}")).await;
        tickets.push((t, a));
    }
    w.engine.pump_all().await.expect("pump");
    w.engine.drain(Consumer::Notifications).await.expect("notify");
    w.engine.pump_all().await.expect("pump");
    let q = w.engine.consumer_queue(Consumer::Mail).to_string();
    let d = w
        .queue
        .receive(&q)
        .await
        .expect("receive")
        .expect("one e-mail requested");
    assert_eq!(
        w.queue.receive(&q).await.expect("receive"),
        None,
        "only the one who wants e-mail"
    );
    // Delivered twice (a redelivery after a lost ack): sent once.
    w.queue.publish(&q, &d.message).await.expect("duplicate");
    w.queue.retry(&d, std::time::Duration::ZERO).await.expect("back");
    assert_eq!(
        w.engine.consume_one(Consumer::Mail).await.expect("send"),
        Some(ConsumeOutcome::Done)
    );
    assert_eq!(
        w.engine.consume_one(Consumer::Mail).await.expect("again"),
        Some(ConsumeOutcome::Duplicate)
    );
    let sent = w.mailer.sent();
    assert_eq!(sent.len(), 1);
    let (ticket, _) = tickets
        .iter()
        .find(|(_, a)| a.user == w.fx.admins[0].id)
        .expect("the first admin holds a ticket");
    let link = format!("https://tts.example.com/ui/tickets/{}/", ticket.ticket_id);
    assert_eq!(sent[0].to, w.fx.admins[0].email);
    assert!(sent[0].body.contains(&link), "{}", sent[0].body);
    assert!(sent[0].html.as_deref().is_some_and(|h| h.contains(&link)));
}
