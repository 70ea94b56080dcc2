//! Concurrency on the memory store: 1,000 tickets created and allocated from 8 concurrent tokio tasks
//! for one role of 5 users: every user gets exactly 200, every ticket one distinct task, numbers 1..1000.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tts_core::ports::store::PageRequest;
use tts_core::uuid::Uuid;
use tts_core::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_allocations_from_eight_tasks_are_exactly_fair() {
    const TICKETS: usize = 1_000;
    const WORKERS: usize = 8;
    let engine = Arc::new(Engine::in_memory().build().expect("engine"));
    let users = tts_core::testkit::fixture::one_step(&engine, 5)
        .await
        .expect("workflow")
        .users;
    let requester = Actor::user(UserId(Uuid::now_v7()));

    let mut handles = Vec::new();
    for w in 0..WORKERS {
        let engine = Arc::clone(&engine);
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..TICKETS / WORKERS {
                let t = engine
                    .create_ticket(requester, NewTicket::new(format!("Load {w}-{i}"), "Load"), None)
                    .await
                    .expect("create")
                    .ticket;
                mine.push(t);
                tokio::task::yield_now().await;
            }
            let mut assigned = Vec::new();
            for t in &mine {
                match engine.allocate(t.id).await.expect("allocate") {
                    Allocation::Allocated { task, assignment } => {
                        assigned.push((t.ticket_id, task.id, assignment.user));
                    }
                    other => panic!("expected an allocation, got {other:?}"),
                }
                tokio::task::yield_now().await;
            }
            assigned
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("worker"));
    }
    assert_eq!(all.len(), TICKETS);
    let seqs: HashSet<u32> = all.iter().map(|(n, _, _)| n.seq()).collect();
    assert_eq!(
        seqs,
        (1..=TICKETS as u32).collect(),
        "ticket numbers 1..1000 without gap or duplicate"
    );
    let tasks: HashSet<TaskId> = all.iter().map(|(_, t, _)| *t).collect();
    assert_eq!(tasks.len(), TICKETS, "1,000 distinct tasks");
    let mut per_user: HashMap<UserId, usize> = HashMap::new();
    for (_, _, u) in &all {
        *per_user.entry(*u).or_default() += 1;
    }
    assert_eq!(per_user.len(), 5);
    for u in &users {
        assert_eq!(
            per_user.get(&u.id),
            Some(&200),
            "{} got {:?}",
            u.full_name,
            per_user.get(&u.id)
        );
    }
    // the store agrees with what the commands returned
    let listed = engine
        .assignments(Actor::system(), true, true, PageRequest::new(1, 100).expect("page"))
        .await
        .expect("list");
    assert_eq!(listed.total, TICKETS as u64);
}
