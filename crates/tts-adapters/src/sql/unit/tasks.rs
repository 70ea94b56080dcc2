//! [`Tasks`] in SQL: `tasks` (one per ticket) and `assignments`, both version-checked.

use super::{Deferred, Expect, SqlUnit};
use crate::sql::values::Arg;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tts_core::domain::report::{millis_between, was_breached};
use tts_core::ports::Tasks;
use tts_core::{Assignment, Origin, Result, Task, TaskId, TicketId};

#[async_trait]
impl Tasks for SqlUnit {
    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        let data = self.json(t)?;
        self.remember_task(t);
        self.defer(Deferred::any(
            "INSERT INTO tasks (id, ticket_id, status, version, data, workflow_id, workflow_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Arg::Uuid(t.id.0),
                Arg::I64(t.ticket.0),
                Arg::Text(t.status.as_str().into()),
                Arg::I64(i64::from(t.version)),
                data,
                Arg::Text(t.workflow_id.to_string()),
                Arg::I64(i64::from(t.workflow_version)),
            ],
            Some(format!("tasks:{}", t.id.0)),
        ))
        .await
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        let data = self.json(t)?;
        self.defer(Deferred {
            sql: "UPDATE tasks SET status = $2, version = $3, data = $4 WHERE id = $1 AND version = $5".into(),
            args: vec![
                Arg::Uuid(t.id.0),
                Arg::Text(t.status.as_str().into()),
                Arg::I64(i64::from(t.version)),
                data,
                Arg::I64(i64::from(t.version) - 1),
            ],
            expect: Expect::Versioned {
                entity: "task",
                exists: "SELECT 1 FROM tasks WHERE id = $1",
                id: Arg::Uuid(t.id.0),
                shown: t.id.to_string(),
            },
            row: Some(format!("tasks:{}", t.id.0)),
        })
        .await
    }

    async fn task(&mut self, id: TaskId) -> Result<Option<Task>> {
        let sql = format!("SELECT data FROM tasks WHERE id = $1{}", self.lock());
        let task: Option<Task> = self.one_doc(sql, vec![Arg::Uuid(id.0)]).await?;
        task.iter().for_each(|t| self.remember_task(t));
        Ok(task)
    }

    async fn task_for_ticket(&mut self, ticket: TicketId) -> Result<Option<Task>> {
        let sql = format!("SELECT data FROM tasks WHERE ticket_id = $1{}", self.lock());
        let task: Option<Task> = self.one_doc(sql, vec![Arg::I64(ticket.0)]).await?;
        task.iter().for_each(|t| self.remember_task(t));
        Ok(task)
    }

    async fn insert_assignment(&mut self, a: &Assignment) -> Result<()> {
        let data = self.json(a)?;
        // The task's keys come along for the reports: from the task this unit wrote or read (one
        // statement of a PostgreSQL batch cannot see another's insert), else from the stored task.
        let (sql, task_keys) = match self.task_keys.get(&a.task) {
            Some(&(ticket, ref workflow, version)) => (
                "INSERT INTO assignments (id, task_id, user_id, status, is_open, assigned_at, warn_at, target, \
                 sla_warned, history_len, version, data, step_id, origin, acted_at, breached, turn_ms, \
                 ended_by_holder, ticket_id, workflow_id, workflow_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                vec![Arg::I64(ticket), Arg::Text(workflow.clone()), Arg::I64(version)],
            ),
            None => (
                "INSERT INTO assignments (id, task_id, user_id, status, is_open, assigned_at, warn_at, target, \
                 sla_warned, history_len, version, data, step_id, origin, acted_at, breached, turn_ms, \
                 ended_by_holder, ticket_id, workflow_id, workflow_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, (SELECT ticket_id FROM tasks WHERE id = $2), \
                 (SELECT workflow_id FROM tasks WHERE id = $2), (SELECT workflow_version FROM tasks WHERE id = $2))",
                Vec::new(),
            ),
        };
        let mut args = vec![
            Arg::Uuid(a.id.0),
            Arg::Uuid(a.task.0),
            Arg::Uuid(a.user.0),
            Arg::Text(a.status.as_str().into()),
            Arg::Bool(a.status.is_open()),
            Arg::Time(a.assigned_at),
            Arg::OptTime(a.warn_at),
            Arg::OptTime(a.target_resolution),
            Arg::Bool(a.sla_warned),
            Arg::I64(a.history.len() as i64),
            Arg::I64(i64::from(a.version)),
            data,
            Arg::Text(a.step.to_string()),
            Arg::Text(origin_name(a.origin).into()),
            Arg::OptTime(a.acted_at),
            Arg::Bool(was_breached(a)),
            Arg::OptI64(turn_ms(a)),
            Arg::Bool(a.ended_by_holder()),
        ];
        args.extend(task_keys);
        self.defer(Deferred::any(sql, args, Some(format!("assignments:{}", a.id.0))))
            .await
    }

    async fn update_assignment(&mut self, a: &Assignment) -> Result<()> {
        let data = self.json(a)?;
        self.defer(Deferred {
            // The history only grows: a shorter one matches no row, reported as a conflict.
            sql: "UPDATE assignments SET status = $2, is_open = $3, warn_at = $4, target = $5, sla_warned = $6, \
                  history_len = $7, version = $8, data = $9, acted_at = $11, breached = $12, turn_ms = $13, \
                  ended_by_holder = $14 WHERE id = $1 AND version = $10 AND history_len <= $7"
                .into(),
            args: vec![
                Arg::Uuid(a.id.0),
                Arg::Text(a.status.as_str().into()),
                Arg::Bool(a.status.is_open()),
                Arg::OptTime(a.warn_at),
                Arg::OptTime(a.target_resolution),
                Arg::Bool(a.sla_warned),
                Arg::I64(a.history.len() as i64),
                Arg::I64(i64::from(a.version)),
                data,
                Arg::I64(i64::from(a.version) - 1),
                Arg::OptTime(a.acted_at),
                Arg::Bool(was_breached(a)),
                Arg::OptI64(turn_ms(a)),
                Arg::Bool(a.ended_by_holder()),
            ],
            expect: Expect::Versioned {
                entity: "assignment",
                exists: "SELECT 1 FROM assignments WHERE id = $1",
                id: Arg::Uuid(a.id.0),
                shown: a.id.to_string(),
            },
            row: Some(format!("assignments:{}", a.id.0)),
        })
        .await
    }

    async fn task_assignments(&mut self, task: TaskId) -> Result<Vec<Assignment>> {
        let sql = format!(
            "SELECT data FROM assignments WHERE task_id = $1 ORDER BY assigned_at, id{}",
            self.lock()
        );
        self.all_docs(sql, vec![Arg::Uuid(task.0)]).await
    }

    async fn assignments_due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Assignment>> {
        let sql = format!(
            "SELECT data FROM assignments WHERE is_open AND ((NOT sla_warned AND warn_at <= $1) \
             OR (status <> 'breached' AND target <= $1)) ORDER BY target, id LIMIT $2{}",
            self.lock()
        );
        self.all_docs(sql, vec![Arg::Time(now), Arg::count(limit)]).await
    }
}

/// How long the turn lasted, in whole milliseconds, once it ended (the reports' durations).
fn turn_ms(a: &Assignment) -> Option<i64> {
    a.acted_at.map(|end| millis_between(a.assigned_at, end))
}

/// The wire name of an assignment's origin, as the `origin` column keeps it.
pub(crate) fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::System => "system",
        Origin::Transferred => "transferred",
        Origin::Escalated => "escalated",
    }
}

impl SqlUnit {
    /// Remembers a task's keys for the assignments this unit may insert on it.
    fn remember_task(&mut self, t: &Task) {
        self.task_keys.insert(
            t.id,
            (t.ticket.0, t.workflow_id.to_string(), i64::from(t.workflow_version)),
        );
    }
}
