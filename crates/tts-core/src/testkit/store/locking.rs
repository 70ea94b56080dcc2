//! The locking rules of the [`Store`](crate::ports::store::Store) contract and of each trait that locks,
//! raced on two handles on one database (two "servers") with real parallelism: round-robin slots, batches
//! across roles, concurrent actions, ticket numbers, idempotency keys, refresh sessions, first picks of a
//! role, outbox relays, throttle counters, ticket rows, and what other units see of a commit.
//!
//! Every case takes [`Handles`]: both handles, the [`Runtime`](super::Runtime) to spawn on, and the
//! [`Scale`](super::Scale). A unit that loses a race may report a retryable conflict
//! (`Error::is_retryable`); the cases then run it again, as the engine's command runner does.

use super::Handles;
use super::support::{
    at, commit, engine, id, insert_role_with, insert_ticket, insert_users, new_ticket_in, read, retrying, session, t0,
    write,
};
use super::units::{visible_rows, write_one_of_each};
use crate::domain::login::{Throttle, ThrottleKey};
use crate::domain::ticket::{NewTicket, TicketStatus};
use crate::domain::user::Actor;
use crate::engine::tickets::IdempotencyKey;
use crate::engine::{Allocation, ConsumeOutcome, Consumer, Engine};
use crate::error::{ErrorKind, Result};
use crate::ids::{TicketId, TokenId, UserId};
use crate::memory::MemoryQueue;
use crate::ports::store::{NotificationQuery, PageRequest, TicketQuery, UnitOptions};
use crate::testkit::fixture::{one_step, one_step_for, three_step};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a case lets one side hold its locks while the other tries to take them.
const HOLD: Duration = Duration::from_millis(50);

/// Two engines, one per handle, sharing `queue` (else each with its own).
fn engines(h: &Handles, queue: Option<&Arc<MemoryQueue>>) -> [Arc<Engine>; 2] {
    [&h.a, &h.b].map(|store| Arc::new(engine(Arc::clone(store), queue.cloned())))
}

/// Two handles creating and allocating tickets for one role of 5 users, `workers` tasks each, never
/// assign one round-robin slot twice: every user gets exactly `tickets / 5`, every ticket its own task,
/// and ticket numbers run 1..=tickets without gap or duplicate.
pub async fn two_handles_never_assign_a_round_robin_slot_twice(h: &Handles) {
    let tickets = h.scale.tickets();
    let engines = engines(h, None);
    let users = one_step(&engines[0], 5).await.expect("a one-step workflow").users;
    let next = Arc::new(AtomicUsize::new(0));
    let requester = Actor::user(id());
    let mut workers = Vec::new();
    for i in 0..2 * h.scale.workers.max(1) {
        let (e, next) = (Arc::clone(&engines[i % 2]), Arc::clone(&next));
        workers.push(h.spawn(async move {
            let mut out = Vec::new();
            while next.fetch_add(1, Ordering::SeqCst) < tickets {
                let t = e
                    .create_ticket(requester, NewTicket::new("Load", "Load"), None)
                    .await
                    .expect("create a ticket")
                    .ticket;
                match e.allocate(t.id).await.expect("allocate") {
                    Allocation::Allocated { task, assignment } => out.push((t.ticket_id, task.id, assignment.user)),
                    other => panic!("expected an allocation, got {other:?}"),
                }
            }
            out
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await);
    }
    assert_eq!(all.len(), tickets, "every ticket allocated once");
    let seqs: HashSet<u32> = all.iter().map(|(n, _, _)| n.seq()).collect();
    assert_eq!(
        seqs,
        (1..=tickets as u32).collect(),
        "ticket numbers without gap or duplicate"
    );
    let tasks: HashSet<_> = all.iter().map(|(_, t, _)| *t).collect();
    assert_eq!(tasks.len(), tickets, "one task per ticket");
    let mut per_user: HashMap<UserId, usize> = HashMap::new();
    for (_, _, u) in &all {
        *per_user.entry(*u).or_default() += 1;
    }
    for u in &users {
        assert_eq!(
            per_user.get(&u.id).copied().unwrap_or(0),
            tickets / 5,
            "round-robin is exact across handles: {} got {:?} of {tickets}: {per_user:?}",
            u.full_name,
            per_user.get(&u.id)
        );
    }
}

/// Two servers share one queue; each runs its outbox relay and two allocation loops taking batches of up
/// to 16 messages, while `2 * workers` tasks create tickets alternating between two workflows (two
/// roles of 5 users: batches lock several cursors). Nothing deadlocks, every message is handled once and
/// without error, and every user gets exactly `tickets / 10`.
pub async fn batches_on_two_servers_with_two_roles_never_deadlock(h: &Handles) {
    let tickets = h.scale.tickets();
    let queue = Arc::new(MemoryQueue::new());
    let engines = engines(h, Some(&queue));
    let mut roles = Vec::new();
    for category in ["Load A", "Load B"] {
        roles.push(
            one_step_for(&engines[0], 5, category)
                .await
                .expect("a one-step workflow"),
        );
    }
    let requester = Actor::user(id());
    let (next, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut creators = Vec::new();
    for i in 0..2 * h.scale.workers.max(1) {
        let (e, next) = (Arc::clone(&engines[i % 2]), Arc::clone(&next));
        creators.push(h.spawn(async move {
            let mut seqs = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= tickets {
                    return seqs;
                }
                let category = if n % 2 == 0 { "Load A" } else { "Load B" };
                let created = e
                    .create_ticket(requester, NewTicket::new("Load", category), None)
                    .await
                    .expect("create a ticket");
                seqs.push(created.ticket.ticket_id.seq());
            }
        }));
    }
    let mut loops = Vec::new();
    for i in 0..4 {
        let (e, done, h2) = (Arc::clone(&engines[i % 2]), Arc::clone(&done), h.clone());
        loops.push(h.spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            while done.load(Ordering::SeqCst) < tickets {
                assert!(
                    Instant::now() < deadline,
                    "allocation stalled: a deadlock, or a lost message"
                );
                e.pump().await.expect("relay the outbox");
                let outcomes = e
                    .consume_batch(Consumer::Allocation, 16)
                    .await
                    .expect("consume a batch");
                for outcome in &outcomes {
                    assert_eq!(
                        outcome,
                        &ConsumeOutcome::Done,
                        "every message handled once, without error"
                    );
                }
                done.fetch_add(outcomes.len(), Ordering::SeqCst);
                if outcomes.is_empty() {
                    h2.sleep(Duration::from_millis(2)).await;
                }
            }
        }));
    }
    let mut seqs = HashSet::new();
    for c in creators {
        seqs.extend(c.await);
    }
    assert_eq!(
        seqs,
        (1..=tickets as u32).collect(),
        "ticket numbers without gap or duplicate"
    );
    for l in loops {
        l.await;
    }
    assert_eq!(done.load(Ordering::SeqCst), tickets, "one message handled per ticket");
    let page = PageRequest { page: 1, page_size: 1 };
    for fx in &roles {
        for u in &fx.users {
            let mine = engines[1]
                .assignments(Actor::user(u.id), false, false, page)
                .await
                .expect("list assignments");
            assert_eq!(
                mine.total as usize,
                tickets / 10,
                "round-robin is exact per role across batches: {} of {}",
                u.full_name,
                fx.role.name
            );
        }
    }
}

/// Two servers act on one assignment at once, `rounds` times: exactly one action succeeds, the other
/// gets a conflict, and the task moved exactly once.
pub async fn of_two_concurrent_actions_on_one_assignment_exactly_one_wins(h: &Handles) {
    let [ea, eb] = engines(h, None);
    let fx = three_step(&ea, 2, 3).await.expect("the three-step fixture");
    for round in 0..h.scale.rounds.max(1) {
        let new = NewTicket::new(format!("Race {round}"), "Asset Check In").department("Asset Department");
        let t = ea
            .create_ticket(fx.requester_actor(), new, None)
            .await
            .expect("create a ticket")
            .ticket;
        let Allocation::Allocated { task, assignment } = ea.allocate(t.id).await.expect("allocate") else {
            panic!("expected an allocation")
        };
        let holder = fx.actor(
            fx.admins
                .iter()
                .find(|u| u.id == assignment.user)
                .expect("an admin holds it"),
        );
        let (a, b, submit, task_id) = (Arc::clone(&ea), Arc::clone(&eb), fx.submit, task.id);
        let x = h.spawn(async move { a.perform_action(holder, task_id, submit, "from server A").await });
        let y = h.spawn(async move { b.perform_action(holder, task_id, submit, "from server B").await });
        let (x, y) = (x.await, y.await);
        let oks = [x.is_ok(), y.is_ok()].iter().filter(|o| **o).count();
        assert_eq!(oks, 1, "exactly one of two concurrent actions succeeds: {x:?} / {y:?}");
        let err = x.err().or(y.err()).expect("one failed");
        assert_eq!(err.kind(), ErrorKind::Conflict, "the loser gets a conflict: {err}");
        let view = ea.task(Actor::system(), task.id).await.expect("view the task");
        assert_eq!(
            view.assignments.len(),
            2,
            "one resolved assignment and one new: the task moved once"
        );
        assert_eq!(
            view.assignments.iter().filter(|a| a.status.is_open()).count(),
            1,
            "one open assignment"
        );
        assert_eq!(view.task.current_step, fx.steps[1], "the task is at the next step");
    }
}

/// Units on both handles taking ticket keys of one year at once (a third of them dropped after taking
/// theirs) commit consecutive numbers: 1..=n, no gap, no duplicate, and distinct ticket ids.
pub async fn concurrent_units_take_consecutive_ticket_numbers(h: &Handles) {
    let units = h.scale.tickets();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for i in 0..2 * h.scale.workers.max(1) {
        let (store, next) = (h.handle(i), Arc::clone(&next));
        workers.push(h.spawn(async move {
            let mut kept = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= units {
                    return kept;
                }
                let keys = retrying!({
                    let mut tx = store.begin(UnitOptions::write()).await?;
                    let (tid, seq) = tx.take_ticket_keys(2040).await?;
                    let number = crate::domain::ticket_number::TicketNumber::new(2040, seq)?;
                    let ticket =
                        NewTicket::new(format!("Key {n}"), "Keys").into_ticket(tid, number, UserId(Uuid::nil()), t0());
                    tx.insert_ticket(&ticket).await?;
                    if n % 3 == 2 {
                        drop(tx);
                        return Ok(None);
                    }
                    tx.commit().await?;
                    Ok(Some((tid, seq)))
                })
                .expect("a unit taking ticket keys");
                kept.extend(keys);
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await);
    }
    let committed = (0..units).filter(|n| n % 3 != 2).count();
    let mut seqs: Vec<u32> = all.iter().map(|(_, s)| *s).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=committed as u32).collect::<Vec<_>>(),
        "committed numbers are consecutive: no gap (dropped units gave theirs back), no duplicate"
    );
    let ids: HashSet<TicketId> = all.iter().map(|(t, _)| *t).collect();
    assert_eq!(ids.len(), committed, "ticket ids are distinct");
}

/// Two requests with one idempotency key on two servers at once, `rounds` times: one ticket is created,
/// and both requests get it back.
pub async fn racing_requests_on_one_idempotency_key_create_one_ticket(h: &Handles) {
    let [ea, eb] = engines(h, None);
    let actor = Actor::user(id());
    let rounds = h.scale.rounds.max(1);
    for round in 0..rounds {
        let key = IdempotencyKey {
            key: format!("race-{round}-{}", Uuid::now_v7()),
            fingerprint: format!("body-{round}"),
        };
        let spawn = |e: &Arc<Engine>| {
            let (e, key) = (Arc::clone(e), key.clone());
            h.spawn(async move {
                e.create_ticket(actor, NewTicket::new(format!("Idempotent {round}"), "Idem"), Some(key))
                    .await
            })
        };
        let (x, y) = (spawn(&ea), spawn(&eb));
        let (x, y) = (
            x.await.expect("a request under an idempotency key"),
            y.await.expect("a racing request under the same key"),
        );
        assert_eq!(
            [x.created, y.created].iter().filter(|c| **c).count(),
            1,
            "exactly one of two racing requests creates the ticket"
        );
        assert_eq!(x.ticket, y.ticket, "both requests get the same ticket");
    }
    let listed =
        h.a.list_tickets(&TicketQuery {
            category: Some("Idem".into()),
            page: PageRequest::new(1, 100).expect("page"),
            ..Default::default()
        })
        .await
        .expect("list tickets");
    assert_eq!(listed.total as usize, rounds, "one ticket per key, whatever the race");
    let mut seqs: Vec<u32> = listed.items.iter().map(|t| t.ticket_id.seq()).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=rounds as u32).collect::<Vec<_>>(),
        "the loser's dropped unit left no gap"
    );
}

/// Two refreshes presenting one session's current token at once, `rounds` times: the session row lock
/// makes one wait for the other, so exactly one rotates and the other sees the rotation.
pub async fn a_session_row_lock_serializes_two_refreshes(h: &Handles) {
    let users = insert_users(&*h.a, "Refresher", 1).await;
    for _ in 0..h.scale.rounds.max(1) {
        let s = session(users[0].id, at(3600));
        let mut tx = write(&*h.a).await;
        tx.start_session(&s).await.expect("start a session");
        commit(tx, "a session").await;
        let refresh = |i: usize| {
            let (store, h2) = (h.handle(i), h.clone());
            let mine = id::<TokenId>();
            h.spawn(async move {
                let seen = retrying!({
                    let mut tx = store.begin(UnitOptions::write()).await?;
                    let mut current = tx.session(s.id).await?.expect("the session exists");
                    if current.current != s.current {
                        return Ok(Err(current.current));
                    }
                    // Widen the window between the read and the write.
                    h2.sleep(Duration::from_millis(5)).await;
                    current.current = mine;
                    tx.save_session(&current).await?;
                    tx.commit().await?;
                    Ok(Ok(mine))
                })
                .expect("a refresh");
                (mine, seen)
            })
        };
        let (x, y) = (refresh(0), refresh(1));
        let (x, y) = (x.await, y.await);
        let rotated: Vec<TokenId> = [x, y].iter().filter_map(|(_, r)| r.ok()).collect();
        assert_eq!(
            rotated.len(),
            1,
            "exactly one of two concurrent refreshes rotates: {x:?} / {y:?}"
        );
        let saw = [x, y]
            .iter()
            .find_map(|(_, r)| r.err())
            .expect("the other saw a rotated session");
        assert_eq!(saw, rotated[0], "the waiting refresh sees the winner's rotation");
        let mut tx = read(&*h.a).await;
        assert_eq!(
            tx.session(s.id).await.expect("read").map(|x| x.current),
            Some(rotated[0]),
            "the session holds the winner's token"
        );
    }
}

/// While one unit holds a role's pick state, even for a role never assigned before (whose cursor does
/// not exist yet), another unit's `lock_pick_state` waits, and then sees the first unit's cursor.
pub async fn lock_pick_state_serializes_even_the_first_pick_of_a_role(h: &Handles) {
    let users = insert_users(&*h.a, "Picker", 3).await;
    for round in 0..h.scale.rounds.max(1) {
        let role = insert_role_with(&*h.a, &format!("First pick {round}"), &users).await;
        let mut first = write(&*h.a).await;
        let state = first
            .lock_pick_state(role.id, false)
            .await
            .expect("lock the pick state");
        assert_eq!(state.last, None, "a new role has no cursor");
        let (store, picked, role_id) = (Arc::clone(&h.b), users[2].id, role.id);
        let second = h.spawn(async move {
            retrying!({
                let mut tx = store.begin(UnitOptions::write()).await?;
                let seen = tx.lock_pick_state(role_id, false).await?.last;
                tx.set_cursor(role_id, picked).await?;
                tx.commit().await?;
                Ok(seen)
            })
            .expect("the second pick")
        });
        h.sleep(HOLD).await;
        first.set_cursor(role.id, users[0].id).await.expect("move the cursor");
        commit(first, "the first pick").await;
        assert_eq!(
            second.await,
            Some(users[0].id),
            "the second unit waited for the first pick and saw its cursor"
        );
        let mut tx = write(&*h.a).await;
        assert_eq!(
            tx.lock_pick_state(role.id, false)
                .await
                .expect("lock the pick state")
                .last,
            Some(picked),
            "the second pick moved the cursor after the first"
        );
    }
}

/// Two servers sweeping SLAs at the same moment (four sweeps in parallel) breach each late assignment
/// once between them: no double breach, no double notification; a later sweep finds nothing.
pub async fn two_servers_sweeping_slas_at_once_breach_each_assignment_once(h: &Handles) {
    let engines = engines(h, None);
    one_step(&engines[0], 5).await.expect("a one-step workflow with an SLA");
    let n = h.scale.tickets().min(60);
    let requester = Actor::user(id());
    for _ in 0..n {
        let t = engines[0]
            .create_ticket(requester, NewTicket::new("Late", "Load"), None)
            .await
            .expect("create a ticket")
            .ticket;
        engines[0].allocate(t.id).await.expect("allocate");
    }
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let mut sweeps = Vec::new();
    for i in 0..4 {
        let e = Arc::clone(&engines[i % 2]);
        sweeps.push(h.spawn(async move { e.sla_sweep(later).await.expect("sweep").breached }));
    }
    let mut breached = 0;
    for s in sweeps {
        breached += s.await;
    }
    assert_eq!(breached as usize, n, "each assignment breached once across the servers");
    assert_eq!(
        engines[1].sla_sweep(later).await.expect("sweep again").breached,
        0,
        "a later sweep finds nothing left"
    );
}

/// Two consumers of one queue: messages one unit claimed are never claimed by another unit until it
/// ends; after it finished them they never come back, so each message is consumed once.
pub async fn two_consumers_never_claim_the_same_outbox_message(h: &Handles) {
    for _ in 0..h.scale.rounds.max(1) {
        let queue = super::support::tag();
        let msgs: Vec<_> = (0..6).map(|n| super::outbox::message_on(n, Some(&queue))).collect();
        let mut tx = write(&*h.a).await;
        tx.insert_outbox(msgs.clone()).await.expect("write messages");
        commit(tx, "outbox messages").await;
        let now = super::support::at(1_000);
        let mut first = write(&*h.a).await;
        let mine: Vec<_> = first
            .claim_outbox(&queue, 4, now)
            .await
            .expect("claim messages")
            .iter()
            .map(|c| c.message.id)
            .collect();
        assert_eq!(
            mine,
            msgs[..4].iter().map(|m| m.id).collect::<Vec<_>>(),
            "the oldest four"
        );
        let (store, q) = (Arc::clone(&h.b), queue.clone());
        let second = h.spawn(async move {
            retrying!({
                let mut tx = store.begin(UnitOptions::background()).await?;
                let theirs: Vec<_> = tx
                    .claim_outbox(&q, 100, now)
                    .await?
                    .iter()
                    .map(|c| c.message.id)
                    .collect();
                tx.finish_outbox(&theirs).await?;
                tx.commit().await?;
                Ok(theirs)
            })
            .expect("the second consumer")
        });
        h.sleep(HOLD).await;
        first.finish_outbox(&mine).await.expect("finish");
        commit(first, "the first consumer").await;
        let theirs = second.await;
        assert!(
            theirs.iter().all(|m| !mine.contains(m)),
            "the second consumer never got a message the first held: {theirs:?}"
        );
        let mut all: HashSet<_> = mine.into_iter().collect();
        all.extend(theirs);
        assert_eq!(all.len(), msgs.len(), "between them the consumers took every message");
        let mut tx = write(&*h.a).await;
        assert_eq!(
            tx.claim_outbox(&queue, 100, now).await.expect("claim"),
            Vec::new(),
            "nothing is left"
        );
    }
}

/// Two relays: messages one unit took with `unsent_outbox` are never returned to another unit until it
/// ends; after it marked them sent they never come back, so each message goes out once.
pub async fn two_relays_never_claim_the_same_outbox_message(h: &Handles) {
    for _ in 0..h.scale.rounds.max(1) {
        let msgs: Vec<_> = (0..6).map(super::outbox::message).collect();
        let mut tx = write(&*h.a).await;
        tx.insert_outbox(msgs.clone()).await.expect("write messages");
        commit(tx, "outbox messages").await;
        let mut first = write(&*h.a).await;
        let mine: Vec<_> = first
            .unsent_outbox(4)
            .await
            .expect("claim messages")
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(
            mine,
            msgs[..4].iter().map(|m| m.id).collect::<Vec<_>>(),
            "the oldest four"
        );
        let store = Arc::clone(&h.b);
        let second = h.spawn(async move {
            retrying!({
                let mut tx = store.begin(UnitOptions::background()).await?;
                let theirs: Vec<_> = tx.unsent_outbox(100).await?.iter().map(|m| m.id).collect();
                tx.finish_outbox(&theirs).await?;
                tx.commit().await?;
                Ok(theirs)
            })
            .expect("the second relay")
        });
        h.sleep(HOLD).await;
        first.finish_outbox(&mine).await.expect("mark sent");
        commit(first, "the first relay").await;
        let theirs = second.await;
        assert!(
            theirs.iter().all(|m| !mine.contains(m)),
            "the second relay never got a message the first held: {theirs:?}"
        );
        let mut all: HashSet<_> = mine.into_iter().collect();
        all.extend(theirs);
        assert_eq!(all.len(), msgs.len(), "between them the relays sent every message");
        let mut tx = write(&*h.a).await;
        assert_eq!(
            tx.unsent_outbox(100).await.expect("unsent"),
            Vec::new(),
            "nothing is left unsent"
        );
    }
}

/// Units on both handles bumping one throttle counter at once (read it, write it plus one) lose no
/// failure: `throttle` locks the counter in a write unit.
pub async fn a_throttle_counter_is_locked_so_concurrent_failures_all_count(h: &Handles) {
    let key = ThrottleKey::new(&format!("target-{}@example.com", Uuid::now_v7()), "10.0.0.1");
    let mut tx = write(&*h.a).await;
    let start = Throttle {
        failures: 0,
        retry_at: None,
        updated_at: t0(),
    };
    tx.set_throttle(&key, Some(&start)).await.expect("write a counter");
    commit(tx, "a throttle counter").await;
    let (tasks, rounds) = (2 * h.scale.workers.max(1), h.scale.rounds.max(1));
    let mut workers = Vec::new();
    for i in 0..tasks {
        let (store, key) = (h.handle(i), key.clone());
        workers.push(h.spawn(async move {
            for _ in 0..rounds {
                retrying!({
                    let mut tx = store.begin(UnitOptions::write()).await?;
                    let mut t = tx.throttle(&key).await?.expect("the counter exists");
                    t.failures += 1;
                    tx.set_throttle(&key, Some(&t)).await?;
                    tx.commit().await
                })
                .expect("count a failure");
            }
        }));
    }
    for w in workers {
        w.await;
    }
    let mut tx = read(&*h.a).await;
    assert_eq!(
        tx.throttle(&key).await.expect("read").map(|t| t.failures),
        Some((tasks * rounds) as u32),
        "every concurrent failure is counted: none lost"
    );
}

/// Units on both handles updating one ticket at once (read it, change it, write the next version) lose
/// no update: a write unit's ticket read locks the row, and a unit that loses a race gets a retryable
/// conflict, never a lost update or a plain version conflict.
pub async fn concurrent_updates_of_one_ticket_lose_nothing(h: &Handles) {
    let ticket = insert_ticket(&*h.a, NewTicket::new("Contended", "C"), id(), t0()).await;
    let ticket_id = ticket.id;
    let (tasks, rounds) = (2 * h.scale.workers.max(1), h.scale.rounds.max(1));
    let mut workers = Vec::new();
    for i in 0..tasks {
        let store = h.handle(i);
        workers.push(h.spawn(async move {
            for r in 0..rounds {
                let done: Result<()> = retrying!({
                    let mut tx = store.begin(UnitOptions::write()).await?;
                    let mut t = tx.ticket(ticket_id).await?.expect("the ticket exists");
                    t.description.push_str(&format!("[{i}.{r}]"));
                    t.touch(t0());
                    tx.update_ticket(&t).await?;
                    tx.commit().await
                });
                done.unwrap_or_else(|e| panic!("an update of a locked ticket row failed: {e}"));
            }
        }));
    }
    for w in workers {
        w.await;
    }
    let mut tx = read(&*h.a).await;
    let stored = tx.ticket(ticket.id).await.expect("read").expect("the ticket exists");
    let total = tasks * rounds;
    assert_eq!(
        stored.version as usize,
        1 + total,
        "every update bumped the version once"
    );
    assert_eq!(stored.description.matches('[').count(), total, "no update was lost");
    assert_eq!(stored.status, TicketStatus::Open);
}

/// Other units see a unit's writes only once it commits, and a commit's rows of one list all at once: a
/// reader on the other handle never sees any of them before the commit starts, and never part of a list
/// written together.
pub async fn other_units_see_a_commit_all_at_once_and_never_before(h: &Handles) {
    let mut writer = write(&*h.a).await;
    let w = write_one_of_each(writer.as_mut()).await;
    let user = w.user.id;
    for i in 0..4 {
        let n = super::support::notification(user, &format!("together {i}"), i);
        writer.insert_notification(&n).await.expect("insert a notification");
    }
    new_ticket_in(writer.as_mut(), 2025, NewTicket::new("Together", "C"), user, t0()).await;
    writer.flush().await.expect("flush the writes");
    let committing = Arc::new(AtomicBool::new(false));
    let (store, flag, h2) = (Arc::clone(&h.b), Arc::clone(&committing), h.clone());
    let reader = h.spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut looks = 0;
        loop {
            looks += 1;
            assert!(Instant::now() < deadline, "the commit never became visible");
            let notes = store
                .list_notifications(&NotificationQuery {
                    user: Some(user),
                    is_read: None,
                    page: PageRequest::new(1, 100).expect("page"),
                })
                .await
                .expect("list notifications")
                .total;
            let tickets = store
                .list_tickets(&TicketQuery {
                    visible_to: Some(user),
                    ..Default::default()
                })
                .await
                .expect("list tickets")
                .total;
            let mut tx = store.begin(UnitOptions::read()).await.expect("begin a read unit");
            let rows = visible_rows(tx.as_mut(), &w).await;
            drop(tx);
            let seen: Vec<_> = rows.iter().filter(|(_, s)| *s).map(|(what, _)| *what).collect();
            if !flag.load(Ordering::SeqCst) {
                assert!(
                    seen.is_empty() && notes == 0 && tickets == 0,
                    "nothing of a unit is visible before it commits; seen: {seen:?}, {notes} notifications, {tickets} tickets"
                );
            }
            assert!(notes == 0 || notes == 5, "five notifications written together show all at once, not {notes}");
            assert!(tickets == 0 || tickets == 2, "two tickets written together show all at once, not {tickets}");
            if seen.len() == rows.len() && notes == 5 && tickets == 2 {
                return looks;
            }
            h2.sleep(Duration::from_millis(1)).await;
        }
    });
    h.sleep(HOLD).await;
    committing.store(true, Ordering::SeqCst);
    commit(writer, "the writer").await;
    let looks = reader.await;
    assert!(looks >= 1, "the reader looked");
}
