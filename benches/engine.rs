//! Benchmarks of engine commands on the in-memory adapters, on a tokio current-thread runtime.
//!
//! Every sample gets a fresh engine (`Engine::in_memory().build()`: memory store, its outbox the queue,
//! system clock, UUIDv7 ids) set up by `Actor::system()`: a role with 5 users and a published 3-step round-robin
//! workflow (`Triage -> Work -> Review -> complete`, with reject back-edges). A fresh engine per sample
//! keeps memory bounded and every sample measuring the same store size.
//!
//! Groups (one element = one ticket or one action; criterion prints elem/s):
//! - `engine/create_ticket`: `create_ticket` alone (one command).
//! - `engine/create_and_allocate`: `create_ticket` then `allocate` for each ticket (two commands).
//! - `engine/perform_action`: one action by the assignee on a fresh task; `transition` moves step 1 to
//!   step 2 (and assigns it), `complete` completes the task from step 3 (and resolves the ticket). The
//!   tasks are created, allocated and advanced in untimed setup; the actor is the holder named by
//!   `Allocation::Allocated { assignment, .. }` (or by the previous action's new assignment).
//!
//! The outbox: each command writes its events to the store's outbox, which only shrinks when the relay
//! pumps it. Every [`CHUNK`] elements the timer stops, `pump_all` moves the outbox to the memory queue
//! and the queue is emptied (received and acked), then the timer restarts. So the numbers are the cost
//! of the commands themselves (including writing their outbox rows), with a relay that keeps up; the
//! relay's own cost is not included.
//!
//! Target: at least 100 000 commands/s on one core.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tts_core::ports::IdGen;
use tts_core::ports::store::UnitOptions;
use tts_core::{
    ActionId, ActionOutcome, Actor, Allocation, AssignmentStrategy, Engine, MatchKey, NewTicket, NewUser, Position,
    Priority, RoleId, Sla, Step, StepId, TaskId, Transition, UserId, WorkflowDefinition,
};

/// Elements timed between two untimed outbox pumps.
const CHUNK: u64 = 1_000;
/// Holders of the role every step is assigned in.
const USERS: usize = 5;

/// A fresh engine with its workflow, and the ids the benchmarks need.
struct Fixture {
    engine: Engine,
    requester: Actor,
    approve: ActionId,
    done: ActionId,
    close: ActionId,
}

/// A current-thread runtime: one core, no work stealing.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// The 3-step workflow: Triage -(Approve)-> Work -(Done)-> Review -(Close)-> complete, with `Reject`
/// from Work back to Triage and `Reopen` from Review back to Work.
fn definition(role: RoleId, ids: &dyn IdGen) -> (WorkflowDefinition, [ActionId; 3]) {
    let step = |i: usize, name: &str, weight: u32| Step {
        id: StepId(ids.new_id()),
        name: name.into(),
        role_id: role,
        description: String::new(),
        instruction: format!("Do the {name} step"),
        weight,
        escalate_to: None,
        is_start: i == 0,
        is_end: i == 2,
        position: Position {
            x: 200.0 * f64::from(u32::try_from(i).unwrap_or(0)),
            y: 0.0,
        },
        strategy: AssignmentStrategy::RoundRobin,
    };
    let steps = vec![step(0, "Triage", 1), step(1, "Work", 3), step(2, "Review", 1)];
    let action = |name: &str, from: usize, to: Option<usize>| Transition {
        id: ActionId(ids.new_id()),
        name: name.into(),
        from_step: steps[from].id,
        to_step: to.map(|t| steps[t].id),
    };
    let transitions = vec![
        action("Approve", 0, Some(1)),
        action("Done", 1, Some(2)),
        action("Close", 2, None),
        action("Reject", 1, Some(0)),
        action("Reopen", 2, Some(1)),
    ];
    let used = [transitions[0].id, transitions[1].id, transitions[2].id];
    let def = WorkflowDefinition {
        name: "IT Support".into(),
        description: "Triage, work, review".into(),
        match_key: MatchKey {
            category: "IT Support".into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla {
            low: Some(7 * 86_400),
            medium: Some(3 * 86_400),
            high: Some(86_400),
            critical: Some(4 * 3_600),
        },
        steps,
        transitions,
    };
    (def, used)
}

/// Builds a fresh engine and sets it up as the system operator; allocates one ticket so the match
/// index is cached before any timing.
async fn fixture() -> Fixture {
    let engine = Engine::in_memory().build().expect("default engine");
    let admin = Actor::system();
    let new_user = |i: usize| NewUser {
        email: format!("user{i}@example.com"),
        full_name: format!("User {i}"),
        password: None,
    };
    let requester = engine.create_user(admin, new_user(0)).await.expect("requester");
    let role = engine.create_role(admin, "tts", "Service Desk").await.expect("role");
    for i in 1..=USERS {
        let user = engine.create_user(admin, new_user(i)).await.expect("user");
        engine
            .set_membership(admin, role.id, user.id, true)
            .await
            .expect("membership");
    }
    let (def, [approve, done, close]) = definition(role.id, &tts_core::memory::UuidV7);
    let workflow = engine.create_workflow(admin, def).await.expect("workflow");
    engine.publish_workflow(admin, workflow.id).await.expect("publish");
    let fixture = Fixture {
        engine,
        requester: Actor::user(requester.id),
        approve,
        done,
        close,
    };
    fixture.open_task().await;
    drain(&fixture.engine).await;
    fixture
}

/// One ticket to create; priorities vary so SLA targets do.
fn new_ticket(i: u64) -> NewTicket {
    let priority = Priority::ALL[usize::try_from(i % 4).unwrap_or(0)];
    NewTicket::new(format!("Printer {i} jammed"), "IT Support")
        .priority(priority)
        .description("Paper stuck in tray 2")
}

impl Fixture {
    /// Creates and allocates a ticket; returns its task and the first assignee.
    async fn open_task(&self) -> (TaskId, UserId) {
        let ticket = self
            .engine
            .create_ticket(self.requester, new_ticket(0), None)
            .await
            .expect("ticket")
            .ticket;
        match self.engine.allocate(ticket.id).await.expect("allocate") {
            Allocation::Allocated { task, assignment } => (task.id, assignment.user),
            other => panic!("expected an allocation, got {other:?}"),
        }
    }

    /// Takes `action` as `holder` and returns who holds the next step.
    async fn act(&self, task: TaskId, holder: UserId, action: ActionId) -> UserId {
        match self
            .engine
            .perform_action(Actor::user(holder), task, action, "")
            .await
            .expect("action")
        {
            ActionOutcome::Transitioned { assignment, .. } => assignment.user,
            ActionOutcome::Completed { .. } => holder,
        }
    }

    /// `n` tasks at step 1 (`steps_done == 0`) or further along, each with its current holder.
    async fn pool(&self, n: u64, steps_done: usize) -> Vec<(TaskId, UserId)> {
        let path = [self.approve, self.done];
        let mut pool = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for _ in 0..n {
            let (task, mut holder) = self.open_task().await;
            for &action in &path[..steps_done] {
                holder = self.act(task, holder, action).await;
            }
            pool.push((task, holder));
        }
        pool
    }
}

/// Empties the outbox without consuming it (untimed bookkeeping between chunks).
async fn drain(engine: &Engine) {
    let mut tx = engine.store().begin(UnitOptions::background()).await.expect("unit");
    let ids: Vec<_> = tx
        .unsent_outbox(usize::MAX)
        .await
        .expect("outbox")
        .iter()
        .map(|m| m.id)
        .collect();
    tx.finish_outbox(&ids).await.expect("finish");
    tx.commit().await.expect("commit");
}

/// Times `iters` elements on a fresh fixture, `CHUNK` at a time: `prepare` (untimed) builds a chunk's
/// inputs, `run` (timed) handles them, and the outbox is drained (untimed) after each chunk.
async fn timed<P, R>(iters: u64, prepare: P, run: R) -> Duration
where
    P: AsyncFn(&Fixture, u64) -> Vec<(TaskId, UserId)>,
    R: AsyncFn(&Fixture, u64, &[(TaskId, UserId)]),
{
    let fixture = fixture().await;
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = CHUNK.min(iters - done);
        let inputs = prepare(&fixture, n).await;
        let start = Instant::now();
        run(&fixture, n, &inputs).await;
        total += start.elapsed();
        drain(&fixture.engine).await;
        done += n;
    }
    total
}

fn group<'c>(c: &'c mut Criterion, case: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(format!("engine/{case}"));
    group.throughput(Throughput::Elements(1));
    group
}

fn bench_create_ticket(c: &mut Criterion) {
    let rt = runtime();
    let mut group = group(c, "create_ticket");
    group.bench_function(BenchmarkId::from_parameter("open"), |b| {
        b.to_async(&rt).iter_custom(|iters| {
            timed(
                iters,
                async |_, _| Vec::new(),
                async |f, n, _| {
                    for i in 0..n {
                        black_box(
                            f.engine
                                .create_ticket(f.requester, new_ticket(i), None)
                                .await
                                .expect("ticket")
                                .ticket,
                        );
                    }
                },
            )
        });
    });
    group.finish();
}

fn bench_create_and_allocate(c: &mut Criterion) {
    let rt = runtime();
    let mut group = group(c, "create_and_allocate");
    group.bench_function(BenchmarkId::from_parameter(format!("{USERS}_users")), |b| {
        b.to_async(&rt).iter_custom(|iters| {
            timed(
                iters,
                async |_, _| Vec::new(),
                async |f, n, _| {
                    for i in 0..n {
                        let ticket = f
                            .engine
                            .create_ticket(f.requester, new_ticket(i), None)
                            .await
                            .expect("ticket")
                            .ticket;
                        let allocation = f.engine.allocate(ticket.id).await.expect("allocate");
                        assert!(matches!(allocation, Allocation::Allocated { .. }));
                        black_box(allocation);
                    }
                },
            )
        });
    });
    group.finish();
}

fn bench_perform_action(c: &mut Criterion) {
    let rt = runtime();
    let mut group = group(c, "perform_action");
    for (case, steps_done) in [("transition", 0), ("complete", 2)] {
        group.bench_function(BenchmarkId::from_parameter(case), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                timed(
                    iters,
                    async move |f, n| f.pool(n, steps_done).await,
                    async move |f, _, pool| {
                        let action = if steps_done == 0 { f.approve } else { f.close };
                        for &(task, holder) in pool {
                            let outcome = f.engine.perform_action(Actor::user(holder), task, action, "ok").await;
                            let completed = matches!(outcome, Ok(ActionOutcome::Completed { .. }));
                            assert_eq!(completed, steps_done == 2, "{outcome:?}");
                            black_box(outcome.expect("action"));
                        }
                    },
                )
            });
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_create_ticket, bench_create_and_allocate, bench_perform_action
}
criterion_main!(benches);
