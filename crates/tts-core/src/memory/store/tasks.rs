//! [`Tasks`] in memory.

use super::MemoryUnit;
use crate::domain::task::{Assignment, AssignmentStatus, Task};
use crate::error::{Error, Result};
use crate::ids::{TaskId, TicketId};
use crate::ports::store::Tasks;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl Tasks for MemoryUnit {
    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        if self.s().tasks.contains_key(&t.id) || self.s().task_by_ticket.contains_key(&t.ticket) {
            return Err(Error::conflict(format!("ticket {} already has a task", t.ticket)));
        }
        self.set(|s| &mut s.task_by_ticket, t.ticket, t.id);
        self.set(|s| &mut s.tasks, t.id, Box::new(t.clone()));
        Ok(())
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        let stored = self.s().tasks.get(&t.id).map(|x| x.version);
        super::check_version("task", stored, t.version, t.id)?;
        self.set(|s| &mut s.tasks, t.id, Box::new(t.clone()));
        Ok(())
    }

    async fn task(&mut self, id: TaskId) -> Result<Option<Task>> {
        Ok(self.s().tasks.get(&id).map(|t| (**t).clone()))
    }

    async fn task_for_ticket(&mut self, ticket: TicketId) -> Result<Option<Task>> {
        let s = self.s();
        Ok(s.task_by_ticket
            .get(&ticket)
            .and_then(|id| s.tasks.get(id))
            .map(|t| (**t).clone()))
    }

    async fn insert_assignment(&mut self, a: &Assignment) -> Result<()> {
        if self.s().assignments.contains_key(&a.id) {
            return Err(Error::conflict(format!("assignment {} exists", a.id)));
        }
        if !self.s().tasks.contains_key(&a.task) {
            return Err(Error::not_found("task", a.task));
        }
        self.set(|s| &mut s.assignments, a.id, Box::new(a.clone()));
        self.push_index(|s| &mut s.task_assignments, a.task, a.id);
        self.push_index(|s| &mut s.user_assignments, a.user, a.id);
        Ok(())
    }

    async fn update_assignment(&mut self, a: &Assignment) -> Result<()> {
        let stored = self.s().assignments.get(&a.id).map(|x| (x.version, x.history.len()));
        super::check_version("assignment", stored.map(|x| x.0), a.version, a.id)?;
        if stored.is_some_and(|(_, len)| a.history.len() < len) {
            return Err(Error::conflict("assignment history is append-only"));
        }
        self.set(|s| &mut s.assignments, a.id, Box::new(a.clone()));
        Ok(())
    }

    async fn task_assignments(&mut self, task: TaskId) -> Result<Vec<Assignment>> {
        let s = self.s();
        Ok(s.task_assignments
            .get(&task)
            .into_iter()
            .flatten()
            .filter_map(|id| s.assignments.get(id).map(|a| &**a))
            .cloned()
            .collect())
    }

    async fn assignments_due(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Assignment>> {
        let mut due: Vec<&Assignment> = self
            .s()
            .assignments
            .values()
            .map(|a| &**a)
            .filter(|a| a.status.is_open())
            .filter(|a| {
                let warn = !a.sla_warned && a.warn_at.is_some_and(|w| w <= now);
                let breach = a.status != AssignmentStatus::Breached && a.target_resolution.is_some_and(|t| t <= now);
                warn || breach
            })
            .collect();
        due.sort_by_key(|a| (a.target_resolution, a.id));
        Ok(due.into_iter().take(limit).cloned().collect())
    }
}
