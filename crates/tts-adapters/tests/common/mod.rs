//! Scenarios every SQL store runs (SQLite and PostgreSQL): the engine story, and the concurrency
//! guarantees across two connection pools standing in for two servers. (The store conformance suite and
//! these locking scenarios move into `tts_core::testkit::store`; this file goes when they land.)
#![allow(dead_code, missing_docs)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tts_core::memory::{MemoryPasswords, MemoryQueue};
use tts_core::ports::Store;
use tts_core::ports::store::PageRequest;
use tts_core::testkit::fixture::{one_step, one_step_for, three_step};
use tts_core::uuid::Uuid;
use tts_core::*;

/// An engine over `store`; the fixtures' users get fast test hashes.
fn engine(store: Arc<dyn Store>) -> Engine {
    builder(store).build().expect("engine")
}

fn builder(store: Arc<dyn Store>) -> EngineBuilder {
    Engine::builder(store).passwords(Arc::new(MemoryPasswords::new()))
}

async fn create(e: &Engine, actor: Actor, new: NewTicket) -> Ticket {
    e.create_ticket(actor, new, None).await.expect("create").ticket
}

/// The seed's story on a real store: create, allocate through the consumer, act to completion.
pub async fn engine_story(store: Arc<dyn Store>) {
    let engine = engine(store);
    let fx = three_step(&engine, 2, 3).await.expect("fixture");
    let new = NewTicket::new("Laptop check-in", "Asset Check In")
        .department("Asset Department")
        .priority(Priority::High);
    let t = create(&engine, fx.requester_actor(), new).await;
    assert_eq!(t.ticket_id.seq(), 1);
    engine.pump_all().await.expect("pump");
    assert_eq!(engine.drain(Consumer::Allocation).await.expect("allocate"), 1);
    engine.pump_all().await.expect("pump");
    engine.drain(Consumer::Notifications).await.expect("notify");
    let task = engine
        .task_for_ticket(fx.requester_actor(), t.id.into())
        .await
        .expect("task")
        .expect("allocated");
    let admin = fx.actor(&fx.admins[0]);
    let out = engine
        .perform_action(admin, task.id, fx.submit, "ok")
        .await
        .expect("submit");
    let ActionOutcome::Transitioned { assignee, .. } = out else {
        panic!("expected a transition")
    };
    assert_eq!(assignee.id, fx.agents[0].id);
    let agent = fx.actor(&fx.agents[0]);
    let out = engine
        .perform_action(agent, task.id, fx.approve, "done")
        .await
        .expect("approve");
    let ActionOutcome::Transitioned { assignee, .. } = out else {
        panic!("expected a transition")
    };
    assert_eq!(assignee.id, fx.admins[1].id);
    let out = engine
        .perform_action(fx.actor(&fx.admins[1]), task.id, fx.close, "closed")
        .await
        .expect("close");
    assert!(matches!(out, ActionOutcome::Completed { .. }));
    let ticket = engine.ticket(fx.requester_actor(), t.id.into()).await.expect("ticket");
    assert_eq!(ticket.status, TicketStatus::Resolved);
    let history = engine
        .ticket_history(fx.requester_actor(), t.id.into())
        .await
        .expect("history");
    assert_eq!(history.len(), 5);
    let notes = engine
        .notifications(admin, None, Default::default())
        .await
        .expect("notes");
    assert_eq!(notes.total, 1);
    let listed = engine
        .list_tickets(agent, Default::default())
        .await
        .expect("agent list");
    assert_eq!(listed.total, 1, "agents see tickets whose task they held");
}

/// Two pools (two "servers"), `tasks_per_pool` concurrent tasks each, create and allocate `tickets` for
/// one role of 5 users: every user gets exactly tickets/5, distinct tasks, numbers 1..=tickets.
pub async fn two_pools_allocate_fairly(a: Arc<dyn Store>, b: Arc<dyn Store>, tasks_per_pool: usize, tickets: usize) {
    let engines = [Arc::new(engine(a)), Arc::new(engine(b))];
    let users = one_step(&engines[0], 5).await.expect("workflow").users;
    let next = Arc::new(AtomicUsize::new(0));
    let requester = Actor::user(UserId(Uuid::now_v7()));
    let mut handles = Vec::new();
    for e in &engines {
        for _ in 0..tasks_per_pool {
            let (e, next) = (Arc::clone(e), Arc::clone(&next));
            handles.push(tokio::spawn(async move {
                let mut out = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < tickets {
                    let t = create(&e, requester, NewTicket::new("Load", "Load")).await;
                    match e.allocate(t.id).await.expect("allocate") {
                        Allocation::Allocated { task, assignment } => out.push((t.ticket_id, task.id, assignment.user)),
                        other => panic!("expected an allocation, got {other:?}"),
                    }
                }
                out
            }));
        }
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("worker"));
    }
    assert_eq!(all.len(), tickets);
    let seqs: HashSet<u32> = all.iter().map(|(n, _, _)| n.seq()).collect();
    assert_eq!(
        seqs,
        (1..=tickets as u32).collect(),
        "ticket numbers without gap or duplicate"
    );
    assert_eq!(
        all.iter().map(|(_, t, _)| *t).collect::<HashSet<_>>().len(),
        tickets,
        "distinct tasks"
    );
    let mut per_user: HashMap<UserId, usize> = HashMap::new();
    for (_, _, u) in &all {
        *per_user.entry(*u).or_default() += 1;
    }
    for u in &users {
        assert_eq!(
            per_user.get(&u.id),
            Some(&(tickets / 5)),
            "{} got {:?}: {per_user:?}",
            u.full_name,
            per_user.get(&u.id)
        );
    }
}

/// Two servers share one queue; each runs its outbox relay and two allocation loops taking batches of
/// up to 16 messages, while 8 tasks create `tickets` tickets alternating between two workflows (two roles
/// of 5 users, two cursors, so concurrent batches lock several cursors). Every message is handled once and
/// without error, every ticket is allocated once, and every user gets exactly tickets/10.
pub async fn two_servers_allocate_in_batches(a: Arc<dyn Store>, b: Arc<dyn Store>, tickets: usize) {
    let queue = Arc::new(MemoryQueue::new());
    let engines: Vec<Arc<Engine>> = [a, b]
        .into_iter()
        .map(|s| Arc::new(builder(s).queue(queue.clone()).build().expect("engine")))
        .collect();
    let mut roles = Vec::new();
    for category in ["Load A", "Load B"] {
        roles.push(one_step_for(&engines[0], 5, category).await.expect("workflow"));
    }
    let requester = Actor::user(UserId(Uuid::now_v7()));
    let (next, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut creators = Vec::new();
    for i in 0..8 {
        let (e, next) = (Arc::clone(&engines[i % 2]), Arc::clone(&next));
        creators.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= tickets {
                    return seqs;
                }
                let category = if n % 2 == 0 { "Load A" } else { "Load B" };
                let t = create(&e, requester, NewTicket::new("Load", category)).await;
                seqs.push(t.ticket_id.seq());
            }
        }));
    }
    let mut loops = Vec::new();
    for i in 0..4 {
        let (e, done) = (Arc::clone(&engines[i % 2]), Arc::clone(&done));
        loops.push(tokio::spawn(async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
            while done.load(Ordering::SeqCst) < tickets {
                assert!(std::time::Instant::now() < deadline, "allocation stalled");
                e.pump().await.expect("relay");
                let outcomes = e.consume_batch(Consumer::Allocation, 16).await.expect("consume");
                for outcome in &outcomes {
                    assert_eq!(
                        outcome,
                        &ConsumeOutcome::Done,
                        "every message handled once, without error"
                    );
                }
                done.fetch_add(outcomes.len(), Ordering::SeqCst);
                if outcomes.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
            }
        }));
    }
    let mut seqs = HashSet::new();
    for c in creators {
        seqs.extend(c.await.expect("creator"));
    }
    assert_eq!(
        seqs,
        (1..=tickets as u32).collect(),
        "ticket numbers without gap or duplicate"
    );
    for l in loops {
        l.await.expect("allocation loop");
    }
    assert_eq!(done.load(Ordering::SeqCst), tickets, "one message per ticket");
    let page = PageRequest { page: 1, page_size: 1 };
    for fx in &roles {
        for u in &fx.users {
            let mine = engines[1]
                .assignments(Actor::user(u.id), false, false, page)
                .await
                .expect("assignments");
            assert_eq!(mine.total as usize, tickets / 10, "{} of {}", u.full_name, fx.role.name);
        }
    }
}

/// Two servers act on the same assignment at once: exactly one succeeds, the other gets a conflict,
/// and the task moved exactly once.
pub async fn concurrent_actions_one_wins(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let (ea, eb) = (Arc::new(engine(a)), Arc::new(engine(b)));
    let fx = three_step(&ea, 2, 3).await.expect("fixture");
    for round in 0..5 {
        let new = NewTicket::new(format!("Race {round}"), "Asset Check In").department("Asset Department");
        let t = create(&ea, fx.requester_actor(), new).await;
        let Allocation::Allocated { task, assignment } = ea.allocate(t.id).await.expect("allocate") else {
            panic!("expected an allocation")
        };
        let holder = fx.actor(fx.admins.iter().find(|u| u.id == assignment.user).expect("admin"));
        let (x, y) = tokio::join!(
            ea.perform_action(holder, task.id, fx.submit, "from server A"),
            eb.perform_action(holder, task.id, fx.submit, "from server B"),
        );
        let oks = [x.is_ok(), y.is_ok()].iter().filter(|o| **o).count();
        assert_eq!(oks, 1, "exactly one of two concurrent actions succeeds: {x:?} / {y:?}");
        let err = x.err().or(y.err()).expect("one failed");
        assert_eq!(err.kind(), ErrorKind::Conflict, "the loser gets a conflict: {err}");
        let view = ea.task(Actor::system(), task.id).await.expect("view");
        assert_eq!(view.assignments.len(), 2, "one resolved assignment, one new");
        assert_eq!(view.assignments.iter().filter(|a| a.status.is_open()).count(), 1);
        assert_eq!(view.task.current_step, fx.steps[1]);
    }
}
