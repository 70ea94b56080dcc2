//! [`Reports`](crate::ports::store::Reports): every report, for several ranges, buckets and filters,
//! equals a brute-force count over a generated history.
//!
//! The history is made of the engine's own domain moves (tickets through the status table, assignments
//! through theirs), at whole-millisecond times, from a fixed seed: about 160 tickets over 120 days, with
//! unallocated, unroutable, withdrawn, rejected, resolved and closed ones, and assignments that are
//! acted on, escalated, transferred, breached, cancelled or still open. Tickets and assignments are
//! inserted as new and then updated to their final state, so both write paths keep the report columns.
//!
//! The brute force walks the history once per bucket and per key, straight from the definitions in
//! [`crate::domain::report`].

use super::support::{Rng, commit, id, insert_users, new_ticket_in, write};
use crate::domain::priority::Priority;
use crate::domain::report::{
    AgentFigures, AgentMarks, Bucket, Count, Durations, FlowPoint, ReportFilter, ReportQuery, ReportRange, SlaByStep,
    SlaByWorkflow, SlaCounts, SlaPoint, SlaReport, StepFigures, TicketReport, UnroutableGroup, UnroutableReport,
    is_finished_turn, midnight, millis_between, was_breached,
};
use crate::domain::task::{Assignment, AssignmentStatus, Origin, Task, TaskStatus};
use crate::domain::ticket::{NewTicket, Ticket, TicketStatus};
use crate::ids::{RoleId, StepId, UserId, WorkflowId};
use crate::ports::store::Store;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

/// Monday 2026-01-05, midnight UTC: the history starts here.
fn base() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_571_200, 0).expect("valid timestamp")
}

fn ms(n: u64) -> Duration {
    Duration::milliseconds(n as i64)
}

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

/// The generated history: what the store holds, as the domain sees it.
struct History {
    tickets: Vec<Ticket>,
    tasks: Vec<Task>,
    assignments: Vec<Assignment>,
    agents: Vec<UserId>,
    workflows: [WorkflowId; 2],
}

impl History {
    fn task_of(&self, a: &Assignment) -> &Task {
        self.tasks
            .iter()
            .find(|t| t.id == a.task)
            .expect("every assignment has its task")
    }

    fn ticket_of(&self, task: &Task) -> &Ticket {
        self.tickets
            .iter()
            .find(|t| t.id == task.ticket)
            .expect("every task has its ticket")
    }

    fn workflow_of(&self, ticket: &Ticket) -> Option<WorkflowId> {
        self.tasks.iter().find(|k| k.ticket == ticket.id).map(|k| k.workflow_id)
    }
}

/// A ticket's final state, its turns (as inserted, as updated) and its task.
type Final = (Ticket, Vec<(Assignment, Assignment)>, Option<Task>);

/// One assignment's life: its turn ends by `status` at `end` (or stays open), breached first if `breach`.
fn live(mut a: Assignment, rng: &mut Rng, status: Option<AssignmentStatus>, end: DateTime<Utc>) -> Assignment {
    if let Some(target) = a.target_resolution {
        a.warn_at = Some(target - ms(HOUR / 2));
        a.sla_warned = rng.below(3) == 0;
        if rng.below(4) == 0 && target < end {
            a.move_to(AssignmentStatus::Breached, None, target).expect("breach");
        }
    }
    if rng.below(3) == 0 && a.status == AssignmentStatus::New {
        a.move_to(AssignmentStatus::InProgress, Some(a.user), a.assigned_at + ms(1000))
            .expect("start");
    }
    if let Some(status) = status {
        a.move_to(status, Some(a.user), end).expect("close the turn");
    }
    a
}

/// Generates and stores the history.
async fn history(store: &dyn Store) -> History {
    let mut rng = Rng(0x7715_2026);
    let agents: Vec<UserId> = insert_users(store, "Reported", 4).await.iter().map(|u| u.id).collect();
    let role: RoleId = id();
    let workflows = [id::<WorkflowId>(), id::<WorkflowId>()];
    let steps: Vec<StepId> = (0..3).map(|_| id()).collect();
    let mut h = History {
        tickets: Vec::new(),
        tasks: Vec::new(),
        assignments: Vec::new(),
        agents: agents.clone(),
        workflows,
    };
    for chunk in 0..8 {
        let mut tx = write(store).await;
        let mut updates: Vec<Final> = Vec::new();
        for _ in 0..20 {
            let created = base() + ms(rng.below(120 * DAY));
            let mut new = NewTicket::new(
                format!("Reported {chunk}"),
                *rng.pick(&["Network", "network", "Hardware", "Access"]),
            );
            new.department = rng
                .pick(&[Some("IT"), Some("it"), Some("Finance"), None])
                .map(str::to_string);
            new.priority = *rng.pick(&[Priority::Low, Priority::Medium, Priority::High, Priority::Critical]);
            let first = new_ticket_in(tx.as_mut(), 2026, new, id(), created).await;
            let mut t = first.clone();
            let mut turns = Vec::new();
            let mut task = None;
            match rng.below(20) {
                0 | 1 => {} // waiting for allocation
                2 | 3 => t.unroutable = Some("no active workflow matches".into()),
                4 => t
                    .move_to(TicketStatus::Withdrawn, created + ms(rng.below(10 * DAY)))
                    .expect("withdraw"),
                _ => {
                    let k = allocate(&mut rng, &mut t, &agents, role, &workflows, &steps, &mut turns);
                    task = Some(k);
                }
            }
            t.touch(t.updated_at.max(created + ms(1)));
            updates.push((t, turns, task));
        }
        tx.flush().await.expect("insert the tickets");
        for (t, turns, task) in updates {
            tx.update_ticket(&t).await.expect("update a ticket to its final state");
            if let Some(task) = &task {
                tx.insert_task(task).await.expect("insert a task");
            }
            for (first, mut last) in turns {
                tx.insert_assignment(&first).await.expect("insert an assignment");
                if last != first {
                    last.version = first.version + 1;
                    tx.update_assignment(&last).await.expect("update an assignment");
                }
                h.assignments.push(last);
            }
            h.tasks.extend(task);
            h.tickets.push(t);
        }
        commit(tx, "a chunk of the history").await;
    }
    h
}

/// Allocates `t`: a task on one of the workflows and its turns, moving the ticket along.
fn allocate(
    rng: &mut Rng,
    t: &mut Ticket,
    agents: &[UserId],
    role: RoleId,
    workflows: &[WorkflowId; 2],
    steps: &[StepId],
    turns: &mut Vec<(Assignment, Assignment)>,
) -> Task {
    let start = t.created_at + ms(1 + rng.below(HOUR));
    let mut task = Task {
        id: id(),
        ticket: t.id,
        workflow_id: *rng.pick(workflows),
        workflow_version: 1 + rng.below(2) as u32,
        current_step: steps[0],
        status: TaskStatus::Pending,
        target_resolution: None,
        resolved_at: None,
        created_at: start,
        updated_at: start,
        version: 1,
    };
    t.is_task_allocated = true;
    t.workflow_id = Some(task.workflow_id);
    let (mut step, mut origin, mut clock) = (0usize, Origin::System, start);
    for _ in 0..5 {
        let target = (rng.below(5) != 0).then(|| clock + ms(HOUR + rng.below(3 * DAY)));
        let a = Assignment::new(
            id(),
            task.id,
            *rng.pick(agents),
            role,
            steps[step],
            origin,
            clock,
            target,
        );
        let end = clock + ms(1 + rng.below(4 * DAY));
        let roll = rng.below(20);
        let outcome = match roll {
            0..=2 => None,
            3 | 4 => Some(AssignmentStatus::Escalated),
            5 | 6 => Some(AssignmentStatus::Reassigned),
            7 => Some(AssignmentStatus::Cancelled),
            _ => Some(AssignmentStatus::Resolved),
        };
        let last = live(a.clone(), rng, outcome, end);
        turns.push((a, last));
        if outcome.is_some() && t.status == TicketStatus::Open && outcome != Some(AssignmentStatus::Cancelled) {
            t.move_to(TicketStatus::InProgress, end).expect("start the ticket");
        }
        match outcome {
            None => return task,
            Some(AssignmentStatus::Cancelled) => {
                task.move_to(TaskStatus::Cancelled, end).expect("cancel the task");
                t.move_to(TicketStatus::Rejected, end).expect("reject the ticket");
                return task;
            }
            Some(AssignmentStatus::Escalated) => origin = Origin::Escalated,
            Some(AssignmentStatus::Reassigned) => origin = Origin::Transferred,
            Some(_) => {
                origin = Origin::System;
                if task.status == TaskStatus::Pending {
                    task.move_to(TaskStatus::InProgress, end).expect("progress");
                }
                step += 1;
                if step == steps.len() {
                    task.move_to(TaskStatus::Completed, end).expect("complete");
                    t.move_to(TicketStatus::Resolved, end).expect("resolve");
                    if rng.below(2) == 0 {
                        t.move_to(TicketStatus::Closed, end + ms(1 + rng.below(5 * DAY)))
                            .expect("close");
                    }
                    return task;
                }
                task.current_step = steps[step];
            }
        }
        clock = end;
    }
    task
}

/// The queries every report is checked with: ranges aligned and not, each bucket, each filter.
fn queries(h: &History) -> Vec<ReportQuery> {
    let range = |from_ms: u64, to_ms: u64, bucket| {
        ReportRange::new(base() + ms(from_ms), base() + ms(to_ms), bucket).expect("a valid range")
    };
    let none = ReportFilter::default();
    vec![
        ReportQuery {
            range: range(10 * DAY, 100 * DAY, Bucket::Day),
            filter: none.clone(),
        },
        ReportQuery {
            range: range(0, 130 * DAY, Bucket::Week),
            filter: none.clone(),
        },
        ReportQuery {
            range: range(7 * DAY / 2, 77 * DAY + HOUR * 6, Bucket::Month),
            filter: none.clone(),
        },
        ReportQuery {
            range: range(0, 130 * DAY, Bucket::Month),
            filter: ReportFilter {
                category: Some("NETWORK".into()),
                ..none.clone()
            },
        },
        ReportQuery {
            range: range(20 * DAY, 80 * DAY, Bucket::Week),
            filter: ReportFilter {
                department: Some("it".into()),
                priority: Some(Priority::High),
                ..none.clone()
            },
        },
        ReportQuery {
            range: range(0, 130 * DAY, Bucket::Week),
            filter: ReportFilter {
                workflow: Some(h.workflows[0]),
                ..none.clone()
            },
        },
        ReportQuery {
            range: range(5 * DAY, 95 * DAY, Bucket::Day),
            filter: ReportFilter {
                agent: Some(h.agents[1]),
                category: Some("hardware".into()),
                ..none.clone()
            },
        },
        ReportQuery {
            range: range(0, 130 * DAY, Bucket::Month),
            filter: ReportFilter {
                agent: Some(h.agents[2]),
                ..none
            },
        },
    ]
}

/// Whether the query counts `t`.
fn counts_ticket(h: &History, q: &ReportQuery, t: &Ticket) -> bool {
    let held = |u: UserId| h.assignments.iter().any(|a| a.user == u && h.task_of(a).ticket == t.id);
    q.filter.admits_keys(t, h.workflow_of(t)) && q.filter.agent.is_none_or(held)
}

/// Whether the query counts `a`.
fn counts_assignment(h: &History, q: &ReportQuery, a: &Assignment) -> bool {
    let task = h.task_of(a);
    q.filter.agent.is_none_or(|u| a.user == u) && q.filter.admits_keys(h.ticket_of(task), Some(task.workflow_id))
}

fn keyed(mut keys: Vec<String>) -> Vec<Count> {
    let distinct: BTreeSet<String> = keys.iter().cloned().collect();
    keys.sort();
    distinct
        .into_iter()
        .map(|k| Count {
            count: keys.iter().filter(|x| **x == k).count() as u64,
            key: k,
            name: None,
        })
        .collect()
}

fn brute_tickets(h: &History, q: &ReportQuery) -> TicketReport {
    let r = &q.range;
    let tickets: Vec<&Ticket> = h.tickets.iter().filter(|t| counts_ticket(h, q, t)).collect();
    let done = |t: &Ticket| [t.resolved_at, t.closed_at].into_iter().flatten().min();
    let flow = r
        .buckets()
        .into_iter()
        .map(|b| {
            let (from, to) = (midnight(b).max(r.from()), r.bucket_end(b));
            let within = |at: Option<DateTime<Utc>>| at.is_some_and(|at| from <= at && at < to);
            FlowPoint {
                bucket: b,
                created: tickets.iter().filter(|t| within(Some(t.created_at))).count() as u64,
                resolved: tickets.iter().filter(|t| within(t.resolved_at)).count() as u64,
                closed: tickets.iter().filter(|t| within(t.closed_at)).count() as u64,
                backlog: tickets
                    .iter()
                    .filter(|t| t.created_at < to && done(t).is_none_or(|d| d >= to))
                    .count() as u64,
            }
        })
        .collect();
    let created: Vec<&&Ticket> = tickets.iter().filter(|t| r.contains(t.created_at)).collect();
    TicketReport {
        flow,
        by_status: keyed(created.iter().map(|t| t.status.as_str().to_string()).collect()),
        by_priority: keyed(created.iter().map(|t| t.priority.as_str().to_string()).collect()),
        by_category: keyed(created.iter().map(|t| t.category.to_lowercase()).collect()),
        by_workflow: keyed(
            created
                .iter()
                .map(|t| h.workflow_of(t).map(|w| w.to_string()).unwrap_or_default())
                .collect(),
        ),
    }
}

fn brute_sla(h: &History, q: &ReportQuery) -> SlaReport {
    let r = &q.range;
    let due: Vec<&Assignment> = h
        .assignments
        .iter()
        .filter(|a| counts_assignment(h, q, a) && a.target_resolution.is_some_and(|t| r.contains(t)))
        .collect();
    let tally = |set: &mut dyn Iterator<Item = &&Assignment>| {
        let mut c = SlaCounts::default();
        for a in set {
            c.add(a);
        }
        c
    };
    let per_bucket = r
        .buckets()
        .into_iter()
        .map(|b| {
            let (from, to) = (midnight(b).max(r.from()), r.bucket_end(b));
            let counts = tally(
                &mut due
                    .iter()
                    .filter(|a| a.target_resolution.is_some_and(|t| from <= t && t < to)),
            );
            SlaPoint { bucket: b, counts }
        })
        .collect();
    let workflows: BTreeSet<WorkflowId> = due.iter().map(|a| h.task_of(a).workflow_id).collect();
    let per_workflow = workflows
        .into_iter()
        .map(|w| SlaByWorkflow {
            workflow: w,
            workflow_name: None,
            counts: tally(&mut due.iter().filter(|a| h.task_of(a).workflow_id == w)),
        })
        .collect();
    let steps: BTreeSet<(WorkflowId, u32, StepId)> = due
        .iter()
        .map(|a| {
            let k = h.task_of(a);
            (k.workflow_id, k.workflow_version, a.step)
        })
        .collect();
    let per_step = steps
        .into_iter()
        .map(|(w, v, s)| {
            let on: Vec<&&Assignment> = due
                .iter()
                .filter(|a| {
                    let k = h.task_of(a);
                    (k.workflow_id, k.workflow_version, a.step) == (w, v, s)
                })
                .collect();
            let breached = on.iter().filter(|a| was_breached(a)).count() as u64;
            SlaByStep {
                workflow: w,
                workflow_version: v,
                step: s,
                step_name: None,
                due: on.len() as u64,
                breached,
                breach_rate: breached as f64 / on.len() as f64,
            }
        })
        .collect();
    SlaReport {
        per_bucket,
        per_workflow,
        per_step,
    }
}

fn brute_agents(h: &History, q: &ReportQuery) -> Vec<AgentFigures> {
    let mut users = h.agents.clone();
    users.sort();
    users
        .into_iter()
        .map(|u| {
            let mine: Vec<(&Assignment, AgentMarks)> = h
                .assignments
                .iter()
                .filter(|a| a.user == u && counts_assignment(h, q, a))
                .map(|a| (a, AgentMarks::of(a, &q.range)))
                .collect();
            let n = |f: fn(&AgentMarks) -> bool| mine.iter().filter(|(_, m)| f(m)).count() as u64;
            let times = mine
                .iter()
                .filter(|(_, m)| m.acted)
                .map(|(a, _)| millis_between(a.assigned_at, a.acted_at.expect("acted")))
                .collect();
            AgentFigures {
                open: n(|m| m.open),
                acted: n(|m| m.acted),
                time_to_act: Durations::of(times),
                escalations_in: n(|m| m.escalation_in),
                escalations_out: n(|m| m.escalation_out),
                transfers_in: n(|m| m.transfer_in),
                transfers_out: n(|m| m.transfer_out),
                ..AgentFigures::zero(u)
            }
        })
        .filter(|f| !f.is_empty())
        .collect()
}

fn brute_steps(h: &History, q: &ReportQuery) -> Vec<StepFigures> {
    let turns: Vec<&Assignment> = h
        .assignments
        .iter()
        .filter(|a| counts_assignment(h, q, a) && is_finished_turn(a, &q.range))
        .collect();
    let key = |a: &Assignment| {
        let k = h.task_of(a);
        (k.workflow_id, k.workflow_version, a.step)
    };
    let keys: BTreeSet<(WorkflowId, u32, StepId)> = turns.iter().map(|a| key(a)).collect();
    keys.into_iter()
        .map(|(w, v, s)| {
            let on: Vec<&&Assignment> = turns.iter().filter(|a| key(a) == (w, v, s)).collect();
            StepFigures {
                workflow: w,
                workflow_version: v,
                step: s,
                step_name: None,
                handed_on: on.iter().filter(|a| a.status != AssignmentStatus::Resolved).count() as u64,
                time: Durations::of(
                    on.iter()
                        .map(|a| millis_between(a.assigned_at, a.acted_at.expect("ended")))
                        .collect(),
                ),
            }
        })
        .collect()
}

fn brute_unroutable(h: &History, q: &ReportQuery) -> UnroutableReport {
    let waiting: Vec<&Ticket> = h
        .tickets
        .iter()
        .filter(|t| counts_ticket(h, q, t) && q.range.contains(t.created_at))
        .filter(|t| !t.is_task_allocated && !t.status.is_terminal())
        .collect();
    let key = |t: &Ticket| {
        (
            t.category.to_lowercase(),
            t.department.as_deref().map(str::to_lowercase),
        )
    };
    let keys: BTreeSet<(String, Option<String>)> = waiting.iter().map(|t| key(t)).collect();
    let groups = keys
        .into_iter()
        .map(|(category, department)| {
            let of: Vec<&&Ticket> = waiting
                .iter()
                .filter(|t| key(t) == (category.clone(), department.clone()))
                .collect();
            UnroutableGroup {
                unroutable: of.iter().filter(|t| t.unroutable.is_some()).count() as u64,
                unallocated: of.iter().filter(|t| t.unroutable.is_none()).count() as u64,
                oldest: of.iter().map(|t| t.created_at).min().expect("a group has tickets"),
                category,
                department,
            }
        })
        .collect();
    UnroutableReport {
        unroutable: waiting.iter().filter(|t| t.unroutable.is_some()).count() as u64,
        unallocated: waiting.iter().filter(|t| t.unroutable.is_none()).count() as u64,
        groups,
    }
}

/// Every report, for every query, equals the brute-force count (and the history exercises each figure).
pub async fn every_report_equals_a_brute_force_count(store: &dyn Store) {
    let h = history(store).await;
    for (i, q) in queries(&h).iter().enumerate() {
        let what = |report: &str| format!("{report} report of query {i} ({q:?})");
        assert_eq!(
            store.ticket_report(q).await.expect("ticket report"),
            brute_tickets(&h, q),
            "{}",
            what("ticket")
        );
        assert_eq!(
            store.sla_report(q).await.expect("SLA report"),
            brute_sla(&h, q),
            "{}",
            what("SLA")
        );
        assert_eq!(
            store.agent_report(q).await.expect("agent report"),
            brute_agents(&h, q),
            "{}",
            what("agent")
        );
        assert_eq!(
            store.step_report(q).await.expect("step report"),
            brute_steps(&h, q),
            "{}",
            what("step")
        );
        assert_eq!(
            store.unroutable_report(q).await.expect("unroutable report"),
            brute_unroutable(&h, q),
            "{}",
            what("unroutable")
        );
    }
    // The history is rich enough that no figure is vacuously equal.
    let all = &queries(&h)[1];
    let t = brute_tickets(&h, all);
    let sla = brute_sla(&h, all);
    let agents = brute_agents(&h, all);
    let sum = |f: fn(&AgentFigures) -> u64| agents.iter().map(f).sum::<u64>();
    let flow = |f: fn(&FlowPoint) -> u64| t.flow.iter().map(f).sum::<u64>();
    let u = brute_unroutable(&h, all);
    for (figure, n) in [
        ("created", flow(|p| p.created)),
        ("resolved", flow(|p| p.resolved)),
        ("closed", flow(|p| p.closed)),
        ("backlog", flow(|p| p.backlog)),
        ("met", sla.per_bucket.iter().map(|p| p.counts.met).sum()),
        ("breached", sla.per_bucket.iter().map(|p| p.counts.breached).sum()),
        ("warned", sla.per_bucket.iter().map(|p| p.counts.warned).sum()),
        ("sla open", sla.per_bucket.iter().map(|p| p.counts.open).sum()),
        ("open", sum(|a| a.open)),
        ("acted", sum(|a| a.acted)),
        ("escalations", sum(|a| a.escalations_in + a.escalations_out)),
        ("transfers", sum(|a| a.transfers_in + a.transfers_out)),
        ("steps", brute_steps(&h, all).len() as u64),
        ("unroutable", u.unroutable),
        ("unallocated", u.unallocated),
    ] {
        assert!(n > 0, "the generated history must exercise `{figure}`");
    }
}

/// An empty store reports zeros in every bucket and empty keyed lists.
pub async fn reports_of_an_empty_store_are_zeros(store: &dyn Store) {
    let range = ReportRange::new(base(), base() + ms(10 * DAY), Bucket::Day).expect("a valid range");
    let q = ReportQuery {
        range,
        filter: ReportFilter::default(),
    };
    let t = store.ticket_report(&q).await.expect("ticket report");
    assert_eq!(t.flow.len(), 10, "one point per bucket");
    assert!(
        t.flow
            .iter()
            .all(|p| p.created + p.resolved + p.closed + p.backlog == 0)
    );
    assert!(t.by_status.is_empty() && t.by_workflow.is_empty());
    let sla = store.sla_report(&q).await.expect("SLA report");
    assert_eq!(sla.per_bucket.len(), 10);
    assert!(sla.per_workflow.is_empty() && sla.per_step.is_empty());
    assert!(store.agent_report(&q).await.expect("agents").is_empty());
    assert!(store.step_report(&q).await.expect("steps").is_empty());
    assert_eq!(
        store.unroutable_report(&q).await.expect("unroutable"),
        UnroutableReport::default()
    );
}
