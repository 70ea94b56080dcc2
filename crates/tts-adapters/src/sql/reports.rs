//! [`Reports`] for both SQL stores: each report is one or two statements of grouped aggregates over the
//! key columns (times, statuses, the copied workflow and step ids), each part of a `UNION ALL` reading
//! the index of its own range; only the small grouped rows come back, and are summed per key here.
//!
//! The definitions are those of [`tts_core::domain::report`]; p90s are the nearest rank, read per group
//! by walking an index ordered by the group and then the duration (see `Statement::p90`), in the same
//! read transaction as the counts. The conformance suite compares every report with a brute-force
//! count.

use super::dialect::{Dialect, Reader, Snapshot};
use super::values::{Arg, Row, storable};
use async_trait::async_trait;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::str::FromStr;
use tts_core::domain::report::{
    AgentFigures, Count, Durations, FlowPoint, ReportQuery, SlaByStep, SlaByWorkflow, SlaCounts, SlaPoint, SlaReport,
    StepFigures, TicketReport, UnroutableGroup, UnroutableReport, p90_rank,
};
use tts_core::ids::{StepId, UserId, WorkflowId};
use tts_core::ports::store::Reports;
use tts_core::{Error, ErrorKind, Result};

/// Bound arguments, numbered as they are added.
#[derive(Default)]
struct Params(Vec<Arg>);

impl Params {
    /// Binds `arg` and returns its placeholder.
    fn bind(&mut self, arg: Arg) -> String {
        self.0.push(arg);
        format!("${}", self.0.len())
    }
}

/// One report statement: the dialect, the range's placeholders and the filter's conditions.
struct Statement {
    dialect: Dialect,
    params: Params,
    from: String,
    to: String,
    /// Conditions on tickets `t`.
    tickets: String,
    /// Conditions on assignments `a` (joined to their ticket `t` when `join` is set).
    assignments: String,
    join: &'static str,
}

impl Statement {
    fn new(dialect: Dialect, q: &ReportQuery) -> Self {
        let mut params = Params::default();
        let from = params.bind(Arg::Time(storable(q.range.from())));
        let to = params.bind(Arg::Time(storable(q.range.to())));
        let f = &q.filter;
        let mut keys = String::new();
        if let Some(c) = &f.category {
            keys += &format!(" AND t.category_key = {}", params.bind(Arg::Text(c.to_lowercase())));
        }
        if let Some(d) = &f.department {
            keys += &format!(" AND t.department_key = {}", params.bind(Arg::Text(d.to_lowercase())));
        }
        if let Some(p) = f.priority {
            keys += &format!(" AND t.priority = {}", params.bind(Arg::Text(p.as_str().into())));
        }
        let workflow = f.workflow.map(|w| params.bind(Arg::Text(w.to_string())));
        let agent = f.agent.map(|u| params.bind(Arg::Uuid(u.0)));
        let mut tickets = keys.clone();
        let mut assignments = String::new();
        if let Some(w) = &workflow {
            tickets += &format!(" AND t.id IN (SELECT ticket_id FROM tasks WHERE workflow_id = {w})");
            assignments += &format!(" AND a.workflow_id = {w}");
        }
        if let Some(u) = &agent {
            tickets += &format!(" AND t.id IN (SELECT ticket_id FROM assignments WHERE user_id = {u})");
            assignments += &format!(" AND a.user_id = {u}");
        }
        assignments += &keys;
        let join = if keys.is_empty() {
            ""
        } else {
            " JOIN tickets t ON t.id = a.ticket_id"
        };
        Statement {
            dialect,
            params,
            from,
            to,
            tickets,
            assignments,
            join,
        }
    }

    /// `column` within the range.
    fn within(&self, column: &str) -> String {
        format!("{column} >= {} AND {column} < {}", self.from, self.to)
    }

    fn bucket(&self, q: &ReportQuery, column: &str) -> String {
        self.dialect.bucket_start(q.range.bucket(), column)
    }

    /// The nearest-rank p90 of the turn durations (`a.turn_ms`) of one group's `n` assignments
    /// matching `condition`: the [`p90_rank`]-th shortest, read by walking `index` (ordered by the
    /// group's columns and then `turn_ms`) in order, so no sort and no window runs; `group` pairs each
    /// grouping column with the group's value.
    async fn p90(
        &self,
        snapshot: &mut Snapshot,
        index: &str,
        group: Vec<(&str, Arg)>,
        condition: &str,
        n: u64,
    ) -> Result<Option<i64>> {
        if n == 0 {
            return Ok(None);
        }
        let mut params = Params(self.params.0.clone());
        let keys: Vec<String> = group
            .into_iter()
            .map(|(column, value)| format!("{column} = {}", params.bind(value)))
            .collect();
        let sql = format!(
            "SELECT a.turn_ms FROM assignments a{indexed}{join} WHERE {keys} AND {condition}{filter} \
             ORDER BY a.turn_ms LIMIT 1 OFFSET {offset}",
            indexed = self.dialect.indexed_by(index),
            join = self.join,
            keys = keys.join(" AND "),
            filter = self.assignments,
            offset = p90_rank(n) - 1,
        );
        let found = snapshot.fetch(sql.into(), params.0, |r| r.opt_i64(0)).await?;
        Ok(found.into_iter().next().flatten())
    }
}

fn corrupt(backend: &'static str, what: &str) -> Error {
    Error::Backend {
        backend,
        kind: ErrorKind::Internal,
        message: format!("a report row has {what}"),
    }
}

fn count(r: &Row<'_>, i: usize) -> Result<u64> {
    Ok(r.opt_i64(i)?.unwrap_or(0).max(0) as u64)
}

fn day(backend: &'static str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| corrupt(backend, "a bad bucket"))
}

fn parsed<T: FromStr>(backend: &'static str, text: Option<&str>, what: &str) -> Result<T> {
    text.and_then(|t| t.parse().ok()).ok_or_else(|| corrupt(backend, what))
}

async fn ticket_report(reader: Reader<'_>, q: &ReportQuery) -> Result<TicketReport> {
    let backend = reader.dialect().backend();
    let s = Statement::new(reader.dialect(), q);
    let f = &s.tickets;
    let flow_part = |kind: &str, column: &str| {
        format!(
            "SELECT '{kind}', {b}, COUNT(*) FROM tickets t WHERE {w}{f} GROUP BY {b}",
            b = s.bucket(q, column),
            w = s.within(column)
        )
    };
    let sql = [
        flow_part("c", "t.created_at"),
        flow_part("r", "t.resolved_at"),
        flow_part("x", "t.closed_at"),
        flow_part("d", "t.done_at"),
        format!(
            "SELECT 'c0', '', COUNT(*) FROM tickets t WHERE t.created_at < {}{f}",
            s.from
        ),
        format!(
            "SELECT 'd0', '', COUNT(*) FROM tickets t WHERE t.done_at < {}{f}",
            s.from
        ),
    ]
    .join(" UNION ALL ");
    let rows = reader
        .fetch(sql.into(), s.params.0, |r| {
            Ok((r.text(0)?.to_string(), r.text(1)?.to_string(), count(&r, 2)?))
        })
        .await?;
    let mut flow: BTreeMap<NaiveDate, (FlowPoint, u64)> = q
        .range
        .buckets()
        .into_iter()
        .map(|b| {
            (
                b,
                (
                    FlowPoint {
                        bucket: b,
                        created: 0,
                        resolved: 0,
                        closed: 0,
                        backlog: 0,
                    },
                    0,
                ),
            )
        })
        .collect();
    let mut backlog: i64 = 0;
    for (kind, bucket, n) in rows {
        match kind.as_str() {
            "c0" => backlog += n as i64,
            "d0" => backlog -= n as i64,
            _ => {
                let Some((point, left)) = flow.get_mut(&day(backend, &bucket)?) else {
                    continue;
                };
                match kind.as_str() {
                    "c" => point.created += n,
                    "r" => point.resolved += n,
                    "x" => point.closed += n,
                    _ => *left += n,
                }
            }
        }
    }
    let flow = flow
        .into_values()
        .map(|(mut point, left)| {
            backlog += point.created as i64 - left as i64;
            point.backlog = backlog.max(0) as u64;
            point
        })
        .collect();

    // One pass over the range's tickets, grouped by all four keys at once; each key's totals are summed
    // here from those (few) groups.
    let s = Statement::new(reader.dialect(), q);
    let sql = format!(
        "SELECT t.status, t.priority, t.category_key, COALESCE(t.workflow_id, ''), COUNT(*) FROM tickets t \
         WHERE {w}{f} GROUP BY t.status, t.priority, t.category_key, COALESCE(t.workflow_id, '')",
        w = s.within("t.created_at"),
        f = s.tickets,
    );
    let rows = reader
        .fetch(sql.into(), s.params.0, |r| {
            Ok((
                [
                    r.text(0)?.to_string(),
                    r.text(1)?.to_string(),
                    r.text(2)?.to_string(),
                    r.text(3)?.to_string(),
                ],
                count(&r, 4)?,
            ))
        })
        .await?;
    let mut keyed: [BTreeMap<String, u64>; 4] = Default::default();
    for (keys, n) in rows {
        for (map, key) in keyed.iter_mut().zip(keys) {
            *map.entry(key).or_default() += n;
        }
    }
    let [by_status, by_priority, by_category, by_workflow] = keyed.map(|m| {
        m.into_iter()
            .map(|(key, count)| Count { key, count, name: None })
            .collect()
    });
    Ok(TicketReport {
        flow,
        by_status,
        by_priority,
        by_category,
        by_workflow,
    })
}

async fn sla_report(reader: Reader<'_>, q: &ReportQuery) -> Result<SlaReport> {
    let backend = reader.dialect().backend();
    let s = Statement::new(reader.dialect(), q);
    let sql = format!(
        "SELECT {b}, a.workflow_id, a.workflow_version, a.step_id, COUNT(*), \
         CAST(SUM(CASE WHEN a.breached THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN NOT a.breached AND a.status IN ('resolved', 'escalated', 'reassigned') THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN NOT a.breached AND a.status IN ('new', 'in_progress') THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN a.sla_warned THEN 1 ELSE 0 END) AS BIGINT) \
         FROM assignments a{join} WHERE {w}{f} GROUP BY {b}, a.workflow_id, a.workflow_version, a.step_id",
        b = s.bucket(q, "a.target"),
        w = s.within("a.target"),
        join = s.join,
        f = s.assignments,
    );
    let rows = reader
        .fetch(sql.into(), s.params.0, |r| {
            let counts = SlaCounts {
                due: count(&r, 4)?,
                breached: count(&r, 5)?,
                met: count(&r, 6)?,
                open: count(&r, 7)?,
                warned: count(&r, 8)?,
            };
            Ok((
                day(backend, r.text(0)?)?,
                parsed::<WorkflowId>(backend, r.opt_text(1)?, "no workflow")?,
                r.opt_i64(2)?.unwrap_or(0) as u32,
                parsed::<StepId>(backend, r.opt_text(3)?, "no step")?,
                counts,
            ))
        })
        .await?;
    let mut per_bucket: BTreeMap<NaiveDate, SlaCounts> = q
        .range
        .buckets()
        .into_iter()
        .map(|b| (b, SlaCounts::default()))
        .collect();
    let mut per_workflow: BTreeMap<WorkflowId, SlaCounts> = BTreeMap::new();
    let mut per_step: BTreeMap<(WorkflowId, u32, StepId), (u64, u64)> = BTreeMap::new();
    for (bucket, workflow, version, step, c) in rows {
        if let Some(total) = per_bucket.get_mut(&bucket) {
            add(total, &c);
        }
        add(per_workflow.entry(workflow).or_default(), &c);
        let s = per_step.entry((workflow, version, step)).or_default();
        s.0 += c.due;
        s.1 += c.breached;
    }
    Ok(SlaReport {
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
    })
}

fn add(total: &mut SlaCounts, c: &SlaCounts) {
    total.due += c.due;
    total.met += c.met;
    total.breached += c.breached;
    total.open += c.open;
    total.warned += c.warned;
}

async fn agent_report(reader: Reader<'_>, q: &ReportQuery) -> Result<Vec<AgentFigures>> {
    let s = Statement::new(reader.dialect(), q);
    let (join, f) = (s.join, &s.assignments);
    let acted = s.within("a.acted_at");
    let sql = format!(
        "SELECT a.user_id, 'open', COUNT(*), 0 FROM assignments a{join} WHERE a.is_open{f} GROUP BY a.user_id \
         UNION ALL SELECT a.user_id, 'status:' || a.status, COUNT(*), CAST(SUM(a.turn_ms) AS BIGINT) \
         FROM assignments a{join} WHERE {acted} AND a.status IN ('resolved', 'escalated', 'reassigned'){f} \
         GROUP BY a.user_id, a.status \
         UNION ALL SELECT a.user_id, 'origin:' || a.origin, COUNT(*), 0 FROM assignments a{join} \
         WHERE a.origin <> 'system' AND {assigned}{f} GROUP BY a.user_id, a.origin",
        assigned = s.within("a.assigned_at"),
    );
    let mut snapshot = reader.snapshot().await?;
    let rows = snapshot
        .fetch(sql.into(), s.params.0.clone(), |r| {
            Ok((
                UserId(r.uuid(0)?),
                r.text(1)?.to_string(),
                count(&r, 2)?,
                r.opt_i64(3)?.unwrap_or(0),
            ))
        })
        .await?;
    let mut figures: BTreeMap<UserId, AgentFigures> = BTreeMap::new();
    for (user, kind, n, ms) in rows {
        let f = figures.entry(user).or_insert_with(|| AgentFigures::zero(user));
        match kind.as_str() {
            "open" => f.open += n,
            "status:resolved" => {
                f.acted += n;
                f.time_to_act.count += n;
                f.time_to_act.total_ms += ms;
            }
            "status:escalated" => f.escalations_out += n,
            "status:reassigned" => f.transfers_out += n,
            "origin:escalated" => f.escalations_in += n,
            "origin:transferred" => f.transfers_in += n,
            _ => {}
        }
    }
    let resolved = format!("a.status = 'resolved' AND {acted}");
    for f in figures.values_mut() {
        let group = vec![("a.user_id", Arg::Uuid(f.user.0))];
        f.time_to_act.p90_ms = s
            .p90(
                &mut snapshot,
                "assignments_agent_turns",
                group,
                &resolved,
                f.time_to_act.count,
            )
            .await?;
    }
    snapshot.end().await?;
    Ok(figures.into_values().filter(|f| !f.is_empty()).collect())
}

async fn step_report(reader: Reader<'_>, q: &ReportQuery) -> Result<Vec<StepFigures>> {
    let backend = reader.dialect().backend();
    let s = Statement::new(reader.dialect(), q);
    let group = "a.workflow_id, a.workflow_version, a.step_id";
    let turn = format!(
        "a.status IN ('resolved', 'escalated', 'reassigned') AND {}",
        s.within("a.acted_at")
    );
    let sql = format!(
        "SELECT {group}, COUNT(*), CAST(SUM(CASE WHEN a.status <> 'resolved' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(a.turn_ms) AS BIGINT) FROM assignments a{join} WHERE {turn}{f} GROUP BY {group}",
        join = s.join,
        f = s.assignments,
    );
    let mut snapshot = reader.snapshot().await?;
    let rows = snapshot
        .fetch(sql.into(), s.params.0.clone(), |r| {
            Ok((
                parsed::<WorkflowId>(backend, r.opt_text(0)?, "no workflow")?,
                r.opt_i64(1)?.unwrap_or(0),
                parsed::<StepId>(backend, r.opt_text(2)?, "no step")?,
                count(&r, 3)?,
                count(&r, 4)?,
                r.opt_i64(5)?.unwrap_or(0),
            ))
        })
        .await?;
    let mut steps = Vec::with_capacity(rows.len());
    for (workflow, version, step, n, handed_on, total_ms) in rows {
        let group = vec![
            ("a.workflow_id", Arg::Text(workflow.to_string())),
            ("a.workflow_version", Arg::I64(version)),
            ("a.step_id", Arg::Text(step.to_string())),
        ];
        let p90_ms = s.p90(&mut snapshot, "assignments_step_turns", group, &turn, n).await?;
        steps.push(StepFigures {
            workflow,
            workflow_version: version as u32,
            step,
            step_name: None,
            handed_on,
            time: Durations {
                count: n,
                total_ms,
                p90_ms,
            },
        });
    }
    snapshot.end().await?;
    steps.sort_by_key(|f| (f.workflow, f.workflow_version, f.step));
    Ok(steps)
}

async fn unroutable_report(reader: Reader<'_>, q: &ReportQuery) -> Result<UnroutableReport> {
    let s = Statement::new(reader.dialect(), q);
    let sql = format!(
        "SELECT t.category_key, t.department_key, \
         CAST(SUM(CASE WHEN t.is_unroutable THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN t.is_unroutable THEN 0 ELSE 1 END) AS BIGINT), MIN(t.created_at) \
         FROM tickets t WHERE NOT t.is_task_allocated AND t.status NOT IN ('closed', 'rejected', 'withdrawn') \
         AND {w}{f} GROUP BY t.category_key, t.department_key",
        w = s.within("t.created_at"),
        f = s.tickets,
    );
    let mut groups = reader
        .fetch(sql.into(), s.params.0, |r| {
            Ok(UnroutableGroup {
                category: r.text(0)?.to_string(),
                department: r.opt_text(1)?.map(str::to_string),
                unroutable: count(&r, 2)?,
                unallocated: count(&r, 3)?,
                oldest: r.time(4)?,
            })
        })
        .await?;
    groups.sort_by(|a, b| (&a.category, &a.department).cmp(&(&b.category, &b.department)));
    Ok(UnroutableReport {
        unroutable: groups.iter().map(|g| g.unroutable).sum(),
        unallocated: groups.iter().map(|g| g.unallocated).sum(),
        groups,
    })
}

macro_rules! reports_for {
    ($store:ty) => {
        #[async_trait]
        impl Reports for $store {
            async fn ticket_report(&self, query: &ReportQuery) -> Result<TicketReport> {
                ticket_report(self.reader(), query).await
            }

            async fn sla_report(&self, query: &ReportQuery) -> Result<SlaReport> {
                sla_report(self.reader(), query).await
            }

            async fn agent_report(&self, query: &ReportQuery) -> Result<Vec<AgentFigures>> {
                agent_report(self.reader(), query).await
            }

            async fn step_report(&self, query: &ReportQuery) -> Result<Vec<StepFigures>> {
                step_report(self.reader(), query).await
            }

            async fn unroutable_report(&self, query: &ReportQuery) -> Result<UnroutableReport> {
                unroutable_report(self.reader(), query).await
            }
        }
    };
}

#[cfg(feature = "sqlite")]
reports_for!(super::sqlite::SqliteStore);
#[cfg(feature = "postgres")]
reports_for!(super::postgres::PgStore);
