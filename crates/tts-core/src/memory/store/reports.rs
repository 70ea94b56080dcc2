//! [`Reports`] in memory: one pass over the tickets or assignments, under the store's lock.

use super::{MemoryStore, State};
use crate::domain::report::{
    AgentFigures, AgentMarks, Count, Durations, FlowPoint, ReportQuery, SlaByStep, SlaByWorkflow, SlaCounts, SlaPoint,
    SlaReport, StepFigures, TicketReport, UnroutableGroup, UnroutableReport, is_finished_turn, left_backlog_at,
    millis_between, was_breached,
};
use crate::domain::task::{Assignment, Task};
use crate::domain::ticket::Ticket;
use crate::error::Result;
use crate::ids::{StepId, TicketId, UserId, WorkflowId};
use crate::ports::store::Reports;
use async_trait::async_trait;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashSet};

/// The tickets the query counts, each with its task.
fn tickets<'s>(s: &'s State, q: &ReportQuery) -> Vec<(&'s Ticket, Option<&'s Task>)> {
    let held: Option<HashSet<TicketId>> = q.filter.agent.map(|u| {
        s.user_assignments
            .get(&u)
            .into_iter()
            .flatten()
            .filter_map(|a| s.assignments.get(a))
            .filter_map(|a| s.tasks.get(&a.task))
            .map(|t| t.ticket)
            .collect()
    });
    s.tickets
        .values()
        .map(|t| {
            (
                &**t,
                s.task_by_ticket.get(&t.id).and_then(|k| s.tasks.get(k)).map(|k| &**k),
            )
        })
        .filter(|(t, k)| q.filter.admits_keys(t, k.map(|k| k.workflow_id)))
        .filter(|(t, _)| held.as_ref().is_none_or(|h| h.contains(&t.id)))
        .collect()
}

/// The assignments the query counts, each with its task.
fn assignments<'s>(s: &'s State, q: &ReportQuery) -> Vec<(&'s Assignment, &'s Task)> {
    s.assignments
        .values()
        .filter(|a| q.filter.agent.is_none_or(|u| a.user == u))
        .filter_map(|a| {
            let task = s.tasks.get(&a.task)?;
            let ticket = s.tickets.get(&task.ticket)?;
            q.filter
                .admits_keys(ticket, Some(task.workflow_id))
                .then_some((&**a, &**task))
        })
        .collect()
}

fn counts<K: ToString>(keys: impl Iterator<Item = K>) -> Vec<Count> {
    let mut map: BTreeMap<String, u64> = BTreeMap::new();
    for k in keys {
        *map.entry(k.to_string()).or_default() += 1;
    }
    map.into_iter()
        .map(|(key, count)| Count { key, count, name: None })
        .collect()
}

fn ticket_report(s: &State, q: &ReportQuery) -> TicketReport {
    let range = &q.range;
    let rows = tickets(s, q);
    let bucket = |t| range.bucket().start_of(t);
    let mut flow: BTreeMap<NaiveDate, FlowPoint> = range
        .buckets()
        .into_iter()
        .map(|b| {
            (
                b,
                FlowPoint {
                    bucket: b,
                    created: 0,
                    resolved: 0,
                    closed: 0,
                    backlog: 0,
                },
            )
        })
        .collect();
    let mut left: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut backlog: i64 = 0;
    for (t, _) in &rows {
        let done = left_backlog_at(t);
        if t.created_at < range.from() {
            backlog += 1;
        }
        if done.is_some_and(|d| d < range.from()) {
            backlog -= 1;
        }
        let mut count = |at: Option<chrono::DateTime<chrono::Utc>>, f: fn(&mut FlowPoint)| {
            if let Some(at) = at.filter(|&at| range.contains(at)) {
                flow.get_mut(&bucket(at)).map(f);
            }
        };
        count(Some(t.created_at), |p| p.created += 1);
        count(t.resolved_at, |p| p.resolved += 1);
        count(t.closed_at, |p| p.closed += 1);
        if let Some(d) = done.filter(|&d| range.contains(d)) {
            *left.entry(bucket(d)).or_default() += 1;
        }
    }
    for (b, point) in flow.iter_mut() {
        backlog += point.created as i64 - left.get(b).copied().unwrap_or(0) as i64;
        point.backlog = backlog.max(0) as u64;
    }
    let created: Vec<_> = rows.iter().filter(|(t, _)| range.contains(t.created_at)).collect();
    TicketReport {
        flow: flow.into_values().collect(),
        by_status: counts(created.iter().map(|(t, _)| t.status.as_str())),
        by_priority: counts(created.iter().map(|(t, _)| t.priority.as_str())),
        by_category: counts(created.iter().map(|(t, _)| t.category.to_lowercase())),
        by_workflow: counts(
            created
                .iter()
                .map(|(_, k)| k.map(|k| k.workflow_id.to_string()).unwrap_or_default()),
        ),
    }
}

fn sla_report(s: &State, q: &ReportQuery) -> SlaReport {
    let range = &q.range;
    let mut per_bucket: BTreeMap<NaiveDate, SlaCounts> =
        range.buckets().into_iter().map(|b| (b, SlaCounts::default())).collect();
    let mut per_workflow: BTreeMap<WorkflowId, SlaCounts> = BTreeMap::new();
    let mut per_step: BTreeMap<(WorkflowId, u32, StepId), (u64, u64)> = BTreeMap::new();
    for (a, task) in assignments(s, q) {
        let Some(due) = a.target_resolution.filter(|&t| range.contains(t)) else {
            continue;
        };
        if let Some(c) = per_bucket.get_mut(&range.bucket().start_of(due)) {
            c.add(a);
        }
        per_workflow.entry(task.workflow_id).or_default().add(a);
        let step = per_step
            .entry((task.workflow_id, task.workflow_version, a.step))
            .or_default();
        step.0 += 1;
        step.1 += u64::from(was_breached(a));
    }
    SlaReport {
        per_bucket: per_bucket
            .into_iter()
            .map(|(bucket, counts)| SlaPoint { bucket, counts })
            .collect(),
        per_workflow: per_workflow
            .into_iter()
            .map(|(workflow, counts)| SlaByWorkflow {
                workflow,
                workflow_name: None,
                counts,
            })
            .collect(),
        per_step: per_step
            .into_iter()
            .map(|((workflow, workflow_version, step), (due, breached))| SlaByStep {
                workflow,
                workflow_version,
                step,
                step_name: None,
                due,
                breached,
                breach_rate: breached as f64 / due as f64,
            })
            .collect(),
    }
}

fn agent_report(s: &State, q: &ReportQuery) -> Vec<AgentFigures> {
    let mut figures: BTreeMap<UserId, (AgentFigures, Vec<i64>)> = BTreeMap::new();
    for (a, _) in assignments(s, q) {
        let m = AgentMarks::of(a, &q.range);
        let (f, times) = figures
            .entry(a.user)
            .or_insert_with(|| (AgentFigures::zero(a.user), Vec::new()));
        f.open += u64::from(m.open);
        f.acted += u64::from(m.acted);
        f.escalations_in += u64::from(m.escalation_in);
        f.escalations_out += u64::from(m.escalation_out);
        f.transfers_in += u64::from(m.transfer_in);
        f.transfers_out += u64::from(m.transfer_out);
        if let (true, Some(acted)) = (m.acted, a.acted_at) {
            times.push(millis_between(a.assigned_at, acted));
        }
    }
    figures
        .into_values()
        .map(|(mut f, times)| {
            f.time_to_act = Durations::of(times);
            f
        })
        .filter(|f| !f.is_empty())
        .collect()
}

fn step_report(s: &State, q: &ReportQuery) -> Vec<StepFigures> {
    let mut steps: BTreeMap<(WorkflowId, u32, StepId), (u64, Vec<i64>)> = BTreeMap::new();
    for (a, task) in assignments(s, q) {
        let Some(acted) = a.acted_at.filter(|_| is_finished_turn(a, &q.range)) else {
            continue;
        };
        let entry = steps
            .entry((task.workflow_id, task.workflow_version, a.step))
            .or_default();
        entry.0 += u64::from(a.status != crate::domain::task::AssignmentStatus::Resolved);
        entry.1.push(millis_between(a.assigned_at, acted));
    }
    steps
        .into_iter()
        .map(|((workflow, workflow_version, step), (handed_on, times))| StepFigures {
            workflow,
            workflow_version,
            step,
            step_name: None,
            handed_on,
            time: Durations::of(times),
        })
        .collect()
}

fn unroutable_report(s: &State, q: &ReportQuery) -> UnroutableReport {
    let mut groups: BTreeMap<(String, Option<String>), UnroutableGroup> = BTreeMap::new();
    let mut report = UnroutableReport::default();
    let waiting = tickets(s, q)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| q.range.contains(t.created_at) && !t.is_task_allocated && !t.status.is_terminal());
    for t in waiting {
        let key = (
            t.category.to_lowercase(),
            t.department.as_deref().map(str::to_lowercase),
        );
        let g = groups.entry(key.clone()).or_insert_with(|| UnroutableGroup {
            category: key.0,
            department: key.1,
            unroutable: 0,
            unallocated: 0,
            oldest: t.created_at,
        });
        g.oldest = g.oldest.min(t.created_at);
        if t.unroutable.is_some() {
            g.unroutable += 1;
            report.unroutable += 1;
        } else {
            g.unallocated += 1;
            report.unallocated += 1;
        }
    }
    report.groups = groups.into_values().collect();
    report
}

#[async_trait]
impl Reports for MemoryStore {
    async fn ticket_report(&self, query: &ReportQuery) -> Result<TicketReport> {
        Ok(ticket_report(&*self.state.lock().await, query))
    }

    async fn sla_report(&self, query: &ReportQuery) -> Result<SlaReport> {
        Ok(sla_report(&*self.state.lock().await, query))
    }

    async fn agent_report(&self, query: &ReportQuery) -> Result<Vec<AgentFigures>> {
        Ok(agent_report(&*self.state.lock().await, query))
    }

    async fn step_report(&self, query: &ReportQuery) -> Result<Vec<StepFigures>> {
        Ok(step_report(&*self.state.lock().await, query))
    }

    async fn unroutable_report(&self, query: &ReportQuery) -> Result<UnroutableReport> {
        Ok(unroutable_report(&*self.state.lock().await, query))
    }
}
