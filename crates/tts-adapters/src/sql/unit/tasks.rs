//! [`Tasks`] in SQL: `tasks` (one per ticket) and `assignments`, both version-checked.

use super::{Deferred, Expect, SqlUnit};
use crate::sql::values::Arg;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tts_core::ports::Tasks;
use tts_core::{Assignment, Result, Task, TaskId, TicketId};

#[async_trait]
impl Tasks for SqlUnit {
    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        let data = self.json(t)?;
        self.defer(Deferred::any(
            "INSERT INTO tasks (id, ticket_id, status, version, data) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::Uuid(t.id.0),
                Arg::I64(t.ticket.0),
                Arg::Text(t.status.as_str().into()),
                Arg::I64(i64::from(t.version)),
                data,
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
        self.one_doc(sql, vec![Arg::Uuid(id.0)]).await
    }

    async fn task_for_ticket(&mut self, ticket: TicketId) -> Result<Option<Task>> {
        let sql = format!("SELECT data FROM tasks WHERE ticket_id = $1{}", self.lock());
        self.one_doc(sql, vec![Arg::I64(ticket.0)]).await
    }

    async fn insert_assignment(&mut self, a: &Assignment) -> Result<()> {
        let data = self.json(a)?;
        self.defer(Deferred::any(
            "INSERT INTO assignments (id, task_id, user_id, status, is_open, assigned_at, warn_at, target, \
             sla_warned, history_len, version, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            vec![
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
            ],
            Some(format!("assignments:{}", a.id.0)),
        ))
        .await
    }

    async fn update_assignment(&mut self, a: &Assignment) -> Result<()> {
        let data = self.json(a)?;
        self.defer(Deferred {
            // The history only grows: a shorter one matches no row, reported as a conflict.
            sql: "UPDATE assignments SET status = $2, is_open = $3, warn_at = $4, target = $5, sla_warned = $6, \
                  history_len = $7, version = $8, data = $9 WHERE id = $1 AND version = $10 AND history_len <= $7"
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
