//! A state-machine test: random sequences of create / allocate / act / escalate / transfer / withdraw /
//! sweep drive the engine and a simple model side by side.
//!
//! The model predicts every outcome (including who round-robin picks); after each step the engine must
//! agree, and the invariants hold: every open task has exactly one open assignment, on its current step,
//! held by the predicted user; completed tasks have resolved tickets; cancelled ones withdrawn tickets;
//! every successful command leaves exactly one audit entry and at least one outbox message, a failed
//! one leaves neither. The ticket list's scopes follow the model for every user: what they created,
//! hold, acted on (their own action, escalation or transfer: not an admin's on their behalf), done
//! tickets, all they may see, and (admins only) the unallocated ones, with the counts per priority.

use chrono::{DateTime, Duration};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::collections::BTreeSet;
use std::sync::Arc;
use tts_core::memory::ManualClock;
use tts_core::ports::store::{PageRequest, PriorityCounts, TicketOrdering, TicketQuery};
use tts_core::testkit::fixture::{Fixture, three_step};
use tts_core::*;

/// Users by index: 0-1 admins, 2-4 agents, 5 senior, 6 requester (ids ascend in this order).
const ADMINS: [usize; 2] = [0, 1];
const AGENTS: [usize; 3] = [2, 3, 4];
const SENIOR: [usize; 1] = [5];
const REQUESTER: usize = 6;
const USERS: usize = 7;
/// Role of each step: Triage (admin), Resolve (agent), Finalize (admin); escalations go to the senior.
const STEP_ROLE: [usize; 3] = [0, 1, 0];
const ROLE_SENIOR: usize = 2;
/// Actions: Submit 0->1, Approve 1->2, Reject 1->0, Close 2->done.
const ACTIONS: [(usize, Option<usize>); 4] = [(0, Some(1)), (1, Some(2)), (1, Some(0)), (2, None)];

fn members(role: usize) -> &'static [usize] {
    match role {
        0 => &ADMINS,
        1 => &AGENTS,
        _ => &SENIOR,
    }
}

#[derive(Clone, Debug)]
enum Cmd {
    Create {
        routable: bool,
        priority: Priority,
    },
    Allocate {
        ticket: prop::sample::Index,
    },
    Act {
        ticket: prop::sample::Index,
        action: usize,
        who: usize,
    },
    /// The holder takes one of the actions valid on the current step.
    Work {
        ticket: prop::sample::Index,
        choice: prop::sample::Index,
    },
    Escalate {
        ticket: prop::sample::Index,
        who: usize,
    },
    Transfer {
        ticket: prop::sample::Index,
        who: usize,
        to: usize,
    },
    Withdraw {
        ticket: prop::sample::Index,
    },
    Sweep {
        hours: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
enum Expect {
    Ok,
    Alloc(&'static str),
    Err(Vec<ErrorKind>),
}

#[derive(Clone, Debug)]
struct MTask {
    step: usize,
    holder: usize,
    holder_role: usize,
    status: TaskStatus,
    participants: BTreeSet<usize>,
    /// Users who ended a turn of theirs by their own move (the `acted` scope).
    acted: BTreeSet<usize>,
}

#[derive(Clone, Debug)]
struct MTicket {
    routable: bool,
    /// An allocation found no workflow and said why (once: the reason does not change).
    marked_unroutable: bool,
    status: TicketStatus,
    task: Option<MTask>,
}

#[derive(Clone, Debug, Default)]
struct Model {
    tickets: Vec<MTicket>,
    cursor: [Option<usize>; 3],
    expect: Option<Expect>,
    /// Who the last `Act`/`Work` ran as and which action it took.
    last_act: (usize, usize),
    /// The ticket the last command addressed.
    last_ticket: usize,
    /// The last command changed something although its result does not say so.
    changed_anyway: bool,
}

impl Model {
    /// The ticket a command addresses: `Work` prefers open tasks, `Allocate` unallocated tickets, so
    /// sequences make progress; an `Act` rewritten from `Work` carries the resolved position itself.
    fn resolve(&self, cmd: &Cmd) -> usize {
        let n = self.tickets.len();
        let among = |idx: &prop::sample::Index, keep: &dyn Fn(&MTicket) -> bool| {
            let hits: Vec<usize> = (0..n).filter(|&i| keep(&self.tickets[i])).collect();
            if hits.is_empty() {
                idx.index(n)
            } else {
                hits[idx.index(hits.len())]
            }
        };
        match cmd {
            Cmd::Create { .. } | Cmd::Sweep { .. } => n,
            Cmd::Work { ticket, .. } => among(ticket, &|t| t.task.as_ref().is_some_and(|t| !t.status.is_closed())),
            Cmd::Allocate { ticket } => among(ticket, &|t| t.task.is_none()),
            Cmd::Act { ticket, .. }
            | Cmd::Escalate { ticket, .. }
            | Cmd::Transfer { ticket, .. }
            | Cmd::Withdraw { ticket } => ticket.index(n),
        }
    }

    fn pick(&mut self, role: usize, exclude: Option<usize>) -> Option<usize> {
        let candidates: Vec<usize> = members(role).iter().copied().filter(|&u| Some(u) != exclude).collect();
        let last = self.cursor[role];
        let next = candidates
            .iter()
            .copied()
            .find(|&u| last.is_none_or(|l| u > l))
            .or(candidates.first().copied());
        if next.is_some() {
            self.cursor[role] = next;
        }
        next
    }
}

fn is_admin(u: usize) -> bool {
    ADMINS.contains(&u)
}

fn visible(task: &MTask, who: usize) -> bool {
    is_admin(who) || who == REQUESTER || task.participants.contains(&who)
}

use Expect::Err as Fail;

struct EngineModel;

impl ReferenceStateMachine for EngineModel {
    type State = Model;
    type Transition = Cmd;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::default()).boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Cmd> {
        let create = (prop::bool::weighted(0.9), prop::sample::select(Priority::ALL.to_vec()))
            .prop_map(|(routable, priority)| Cmd::Create { routable, priority });
        if state.tickets.is_empty() {
            return create.boxed();
        }
        let idx = any::<prop::sample::Index>;
        prop_oneof![
            2 => create,
            5 => idx().prop_map(|ticket| Cmd::Allocate { ticket }),
            3 => (idx(), 0..ACTIONS.len(), 0..USERS).prop_map(|(ticket, action, who)| Cmd::Act { ticket, action, who }),
            // most acts are the holder taking a valid action, so work actually flows
            12 => (idx(), idx()).prop_map(|(ticket, choice)| Cmd::Work { ticket, choice }),
            2 => (idx(), 0..USERS).prop_map(|(ticket, who)| Cmd::Escalate { ticket, who }),
            2 => (idx(), 0..USERS, 0..USERS).prop_map(|(ticket, who, to)| Cmd::Transfer { ticket, who, to }),
            1 => idx().prop_map(|ticket| Cmd::Withdraw { ticket }),
            1 => (1u32..30).prop_map(|hours| Cmd::Sweep { hours }),
        ]
        .boxed()
    }

    fn apply(mut s: Model, cmd: &Cmd) -> Model {
        s.last_ticket = s.resolve(cmd);
        if let Cmd::Work { choice, .. } = cmd {
            let i = s.last_ticket;
            let (who, action) = match &s.tickets[i].task {
                Some(t) => {
                    let valid: Vec<usize> = (0..ACTIONS.len()).filter(|&a| ACTIONS[a].0 == t.step).collect();
                    (t.holder, valid[choice.index(valid.len())])
                }
                None => (REQUESTER, 0),
            };
            return step(
                s,
                &Cmd::Act {
                    ticket: *choice,
                    action,
                    who,
                },
            );
        }
        step(s, cmd)
    }
}

/// Applies a command to the model at the already resolved `s.last_ticket`.
fn step(mut s: Model, cmd: &Cmd) -> Model {
    s.changed_anyway = false;
    {
        let expect = match cmd {
            Cmd::Create { routable, .. } => {
                s.tickets.push(MTicket {
                    routable: *routable,
                    marked_unroutable: false,
                    status: TicketStatus::Open,
                    task: None,
                });
                Expect::Ok
            }
            Cmd::Sweep { .. } => Expect::Ok,
            Cmd::Work { .. } => unreachable!("rewritten to Act above"),
            Cmd::Allocate { .. } => {
                let i = s.last_ticket;
                let t = &s.tickets[i];
                if t.task.is_some() {
                    Expect::Alloc("already")
                } else if t.status.is_terminal() {
                    Expect::Alloc("skipped")
                } else if !t.routable {
                    // The first failed routing records the reason on the ticket: a change.
                    s.changed_anyway = !t.marked_unroutable;
                    s.tickets[i].marked_unroutable = true;
                    Expect::Alloc("unroutable")
                } else {
                    let holder = s.pick(0, None).expect("admins exist");
                    s.tickets[i].task = Some(MTask {
                        step: 0,
                        holder,
                        holder_role: 0,
                        status: TaskStatus::Pending,
                        participants: [holder].into(),
                        acted: BTreeSet::new(),
                    });
                    Expect::Alloc("allocated")
                }
            }
            Cmd::Act { action, who, .. } => {
                let i = s.last_ticket;
                let Some(task) = s.tickets[i].task.clone() else {
                    return with(s, Fail(vec![ErrorKind::NotFound]));
                };
                let who = *who;
                s.last_act = (who, *action);
                if !visible(&task, who) {
                    Fail(vec![ErrorKind::NotFound])
                } else if task.status.is_closed() {
                    Fail(vec![ErrorKind::Conflict])
                } else if who != task.holder {
                    Fail(vec![ErrorKind::Forbidden, ErrorKind::Conflict])
                } else if ACTIONS[*action].0 != task.step {
                    Fail(vec![ErrorKind::Invalid])
                } else {
                    let mut task = task;
                    task.acted.insert(who);
                    match ACTIONS[*action].1 {
                        Some(next) => {
                            let holder = s.pick(STEP_ROLE[next], None).expect("members exist");
                            task.step = next;
                            task.holder = holder;
                            task.holder_role = STEP_ROLE[next];
                            task.participants.insert(holder);
                            task.status = TaskStatus::InProgress;
                            s.tickets[i].status = TicketStatus::InProgress;
                        }
                        None => {
                            task.status = TaskStatus::Completed;
                            s.tickets[i].status = TicketStatus::Resolved;
                        }
                    }
                    s.tickets[i].task = Some(task);
                    Expect::Ok
                }
            }
            Cmd::Escalate { who, .. } => {
                let i = s.last_ticket;
                let Some(mut task) = s.tickets[i].task.clone() else {
                    return with(s, Fail(vec![ErrorKind::NotFound]));
                };
                if !visible(&task, *who) {
                    Fail(vec![ErrorKind::NotFound])
                } else if task.status.is_closed() {
                    Fail(vec![ErrorKind::Conflict])
                } else if *who != task.holder && !is_admin(*who) {
                    Fail(vec![ErrorKind::Forbidden, ErrorKind::Conflict])
                } else {
                    match s.pick(ROLE_SENIOR, Some(task.holder)) {
                        None => Fail(vec![ErrorKind::Conflict]),
                        Some(senior) => {
                            if *who == task.holder {
                                task.acted.insert(*who);
                            }
                            task.holder = senior;
                            task.holder_role = ROLE_SENIOR;
                            task.participants.insert(senior);
                            s.tickets[i].task = Some(task);
                            Expect::Ok
                        }
                    }
                }
            }
            Cmd::Transfer { who, to, .. } => {
                let i = s.last_ticket;
                let Some(mut task) = s.tickets[i].task.clone() else {
                    return with(s, Fail(vec![ErrorKind::NotFound]));
                };
                if !visible(&task, *who) {
                    Fail(vec![ErrorKind::NotFound])
                } else if task.status.is_closed() {
                    Fail(vec![ErrorKind::Conflict])
                } else if *who != task.holder && !is_admin(*who) {
                    Fail(vec![ErrorKind::Forbidden, ErrorKind::Conflict])
                } else if *to == task.holder || !members(task.holder_role).contains(to) {
                    Fail(vec![ErrorKind::Invalid])
                } else {
                    if *who == task.holder {
                        task.acted.insert(*who);
                    }
                    task.holder = *to;
                    task.participants.insert(*to);
                    s.tickets[i].task = Some(task);
                    Expect::Ok
                }
            }
            Cmd::Withdraw { .. } => {
                let i = s.last_ticket;
                let t = &mut s.tickets[i];
                if t.status.can_move_to(TicketStatus::Withdrawn) {
                    t.status = TicketStatus::Withdrawn;
                    if let Some(task) = t.task.as_mut().filter(|task| !task.status.is_closed()) {
                        task.status = TaskStatus::Cancelled;
                    }
                    Expect::Ok
                } else {
                    Fail(vec![ErrorKind::Conflict])
                }
            }
        };
        with(s, expect)
    }
}

fn with(mut s: Model, e: Expect) -> Model {
    s.expect = Some(e);
    s
}

/// Counts the events the engine shows on its live feed after each commit.
#[derive(Debug, Default)]
struct Recorder(std::sync::atomic::AtomicUsize);

impl tts_core::ports::EventFeed for Recorder {
    fn publish(&self, events: &[tts_core::OutboxMessage]) {
        self.0.fetch_add(events.len(), std::sync::atomic::Ordering::SeqCst);
    }
}

struct Sut {
    rt: tokio::runtime::Runtime,
    engine: Engine,
    events: Arc<Recorder>,
    clock: Arc<ManualClock>,
    fx: Fixture,
    users: Vec<User>,
    tickets: Vec<Ticket>,
}

impl Sut {
    fn actor(&self, u: usize) -> Actor {
        if is_admin(u) {
            Actor::admin(self.users[u].id)
        } else {
            Actor::agent(self.users[u].id)
        }
    }

    fn index(&self, u: UserId) -> usize {
        self.users.iter().position(|x| x.id == u).expect("known user")
    }

    async fn counts(&self, ticket: Option<TicketId>) -> (usize, usize) {
        let audit = match ticket {
            Some(t) => self
                .engine
                .ticket_history(Actor::system(), t.into())
                .await
                .expect("history")
                .len(),
            None => 0,
        };
        (audit, self.events.0.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Every scope of the ticket list, for every user, lists (oldest first) and counts per priority what
    /// the model says: the scope's tickets among those the user may see; `unassigned` is refused to
    /// non-admins.
    async fn check_scopes(&self, model: &Model) {
        for u in 0..USERS {
            let actor = self.actor(u);
            let sees = |m: &MTicket| {
                is_admin(u) || u == REQUESTER || m.task.as_ref().is_some_and(|t| t.participants.contains(&u))
            };
            for scope in TicketScope::ALL {
                let admits = |m: &MTicket| match scope {
                    TicketScope::Mine => u == REQUESTER,
                    TicketScope::Assigned => m.task.as_ref().is_some_and(|t| !t.status.is_closed() && t.holder == u),
                    TicketScope::Acted => m.task.as_ref().is_some_and(|t| t.acted.contains(&u)),
                    TicketScope::Closed => m.status.is_done(),
                    TicketScope::All => true,
                    TicketScope::Unassigned => m.task.is_none() && !m.status.is_done(),
                };
                let query = TicketQuery {
                    ordering: TicketOrdering::OldestFirst,
                    page: PageRequest::new(1, 100).expect("page"),
                    ..TicketQuery::default()
                };
                let listed = self.engine.list_tickets_in(actor, scope, query.clone()).await;
                let counted = self.engine.count_tickets_by_priority(actor, scope, query).await;
                if !is_admin(u) && scope == TicketScope::Unassigned {
                    assert_eq!(
                        listed.map(|_| ()).unwrap_err().kind(),
                        ErrorKind::Forbidden,
                        "user {u}: {scope}"
                    );
                    assert_eq!(
                        counted.map(|_| ()).unwrap_err().kind(),
                        ErrorKind::Forbidden,
                        "user {u}: {scope}"
                    );
                    continue;
                }
                let expected: Vec<&Ticket> = self
                    .tickets
                    .iter()
                    .zip(&model.tickets)
                    .filter(|(_, m)| sees(m) && admits(m))
                    .map(|(t, _)| t)
                    .collect();
                let listed = listed.expect("list");
                assert_eq!(
                    listed.items.iter().map(|t| t.id).collect::<Vec<_>>(),
                    expected.iter().map(|t| t.id).collect::<Vec<_>>(),
                    "user {u}: the {scope} list follows the model"
                );
                let mut counts = PriorityCounts::default();
                expected.iter().for_each(|t| counts.add(t.priority, 1));
                assert_eq!(
                    counted.expect("count"),
                    counts,
                    "user {u}: {scope} counted per priority"
                );
            }
        }
    }

    async fn task_id(&self, ticket: TicketId) -> TaskId {
        self.engine
            .task_for_ticket(Actor::system(), ticket.into())
            .await
            .expect("lookup")
            .map_or(TaskId(uuid::Uuid::now_v7()), |t| t.id)
    }
}

struct EngineTest;

fn check(kind: &str, expect: &Expect, got: &Result<&'static str, Error>) {
    match (expect, got) {
        (Expect::Ok, Ok("ok")) => {}
        (Expect::Alloc(a), Ok(b)) if a == b => {}
        (Fail(kinds), Err(e)) if kinds.contains(&e.kind()) => {}
        _ => panic!("{kind}: model expected {expect:?}, engine gave {got:?}"),
    }
}

impl StateMachineTest for EngineTest {
    type SystemUnderTest = Sut;
    type Reference = EngineModel;

    fn init_test(_: &Model) -> Sut {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let clock = Arc::new(ManualClock::new(
            DateTime::from_timestamp(1_763_546_400, 0).expect("t0"),
        ));
        let events = Arc::new(Recorder::default());
        let engine = Engine::in_memory()
            .clock(clock.clone())
            .feed(events.clone())
            .build()
            .expect("engine");
        let fx = rt.block_on(three_step(&engine, 2, 3)).expect("fixture");
        let mut users: Vec<User> = fx.admins.iter().chain(&fx.agents).chain(&fx.seniors).cloned().collect();
        users.push(fx.requester.clone());
        assert!(
            users.windows(2).take(5).all(|w| w[0].id < w[1].id),
            "user ids ascend in model order"
        );
        Sut {
            rt,
            engine,
            events,
            clock,
            fx,
            users,
            tickets: Vec::new(),
        }
    }

    fn apply(mut sut: Sut, model: &Model, cmd: Cmd) -> Sut {
        let expect = model.expect.clone().expect("model sets an expectation");
        let rt = std::mem::replace(
            &mut sut.rt,
            tokio::runtime::Builder::new_current_thread().build().expect("rt"),
        );
        rt.block_on(async {
            let target = match &cmd {
                Cmd::Create { .. } | Cmd::Sweep { .. } => None,
                _ => Some(sut.tickets[model.last_ticket].id),
            };
            let before = sut.counts(target).await;
            let result: Result<&'static str, Error> = match &cmd {
                Cmd::Create { routable, priority } => {
                    let new = if *routable {
                        NewTicket::new("Check in", "asset check in").department(" Asset  Department")
                    } else {
                        NewTicket::new("Lunch", "Catering")
                    };
                    let t = sut
                        .engine
                        .create_ticket(sut.actor(REQUESTER), new.priority(*priority), None)
                        .await
                        .map(|c| c.ticket);
                    t.map(|t| {
                        assert_eq!(
                            t.ticket_id.seq() as usize,
                            sut.tickets.len() + 1,
                            "numbers count up without gaps"
                        );
                        sut.tickets.push(t);
                        "ok"
                    })
                }
                Cmd::Allocate { .. } => sut.engine.allocate(target.expect("ticket")).await.map(|a| match a {
                    Allocation::Allocated { .. } => "allocated",
                    Allocation::AlreadyAllocated { .. } => "already",
                    Allocation::Unroutable => "unroutable",
                    Allocation::Skipped => "skipped",
                }),
                Cmd::Act { .. } | Cmd::Work { .. } => {
                    let (who, action) = model.last_act;
                    let action = [sut.fx.submit, sut.fx.approve, sut.fx.reject, sut.fx.close][action];
                    let task = sut.task_id(target.expect("ticket")).await;
                    sut.engine
                        .perform_action(sut.actor(who), task, action, "model says so")
                        .await
                        .map(|_| "ok")
                }
                Cmd::Escalate { who, .. } => {
                    let task = sut.task_id(target.expect("ticket")).await;
                    sut.engine
                        .escalate(sut.actor(*who), task, "too hard")
                        .await
                        .map(|_| "ok")
                }
                Cmd::Transfer { who, to, .. } => {
                    let task = sut.task_id(target.expect("ticket")).await;
                    sut.engine
                        .transfer(sut.actor(*who), task, sut.users[*to].id, "")
                        .await
                        .map(|_| "ok")
                }
                Cmd::Withdraw { .. } => sut
                    .engine
                    .change_ticket_status(
                        sut.actor(REQUESTER),
                        target.expect("ticket").into(),
                        TicketStatus::Withdrawn,
                    )
                    .await
                    .map(|_| "ok"),
                Cmd::Sweep { hours } => {
                    sut.clock.advance(Duration::hours(i64::from(*hours)));
                    let now = sut.engine.clock().now();
                    sut.engine.sla_sweep(now).await.map(|_| "ok")
                }
            };
            let changed = matches!(result, Ok("ok" | "allocated")) || model.changed_anyway;
            let after = sut.counts(target).await;
            check(&format!("{cmd:?}"), &expect, &result);
            if target.is_some() {
                let audits = if changed { 1 } else { 0 };
                assert_eq!(
                    after.0,
                    before.0 + audits,
                    "{cmd:?}: one audit entry per effective command"
                );
                assert_eq!(
                    after.1 > before.1,
                    changed,
                    "{cmd:?}: events on the feed iff the command changed something"
                );
            }
        });
        sut.rt = rt;
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        sut.rt.block_on(async {
            for (t, m) in sut.tickets.iter().zip(&model.tickets) {
                let ticket = sut.engine.ticket(Actor::system(), t.id.into()).await.expect("ticket");
                assert_eq!(ticket.status, m.status, "ticket status follows the model");
                let task = sut
                    .engine
                    .task_for_ticket(Actor::system(), t.id.into())
                    .await
                    .expect("task");
                assert_eq!(task.is_some(), m.task.is_some(), "task presence follows the model");
                assert_eq!(ticket.is_task_allocated, task.is_some());
                let (Some(task), Some(mt)) = (task, m.task.as_ref()) else {
                    continue;
                };
                let view = sut.engine.task(Actor::system(), task.id).await.expect("view");
                assert!(view.assignments.iter().all(|a| a.task == task.id));
                assert_eq!(task.status, mt.status, "task status follows the model");
                let open: Vec<&Assignment> = view.assignments.iter().filter(|a| a.status.is_open()).collect();
                if task.status.is_closed() {
                    assert!(open.is_empty(), "closed tasks have no open assignment");
                } else {
                    assert_eq!(open.len(), 1, "an open task has exactly one open assignment");
                    assert_eq!(open[0].step, task.current_step, "on its current step");
                    assert_eq!(
                        sut.index(open[0].user),
                        mt.holder,
                        "held by the user the model predicts"
                    );
                    assert_eq!(task.current_step, sut.fx.steps[mt.step]);
                }
                match task.status {
                    TaskStatus::Completed => assert_eq!(ticket.status, TicketStatus::Resolved),
                    TaskStatus::Cancelled => assert_eq!(ticket.status, TicketStatus::Withdrawn),
                    _ => assert!(!ticket.status.is_terminal()),
                }
                for a in &view.assignments {
                    assert_eq!(
                        a.history.last().map(|h| h.status),
                        Some(a.status),
                        "status is the last history entry"
                    );
                    assert_eq!(a.history[0].status, AssignmentStatus::New);
                }
            }
            sut.check_scopes(model).await;
        });
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        max_shrink_iters: 2000,
        failure_persistence: Some(Box::new(prop::test_runner::FileFailurePersistence::Direct(
            "proptest-regressions/engine_state_machine.txt",
        ))),
        ..ProptestConfig::default()
    })]
    #[test]
    fn engine_follows_the_model(sequential 1..80 => EngineTest);
}
