//! The SLA sweep: warnings at a share of the time, breaches at the target, optional auto-escalation.

use super::Engine;
use super::actions::{escalate_assignment, load_task};
use super::command::Cmd;
use super::views::SweepReport;
use crate::domain::event::DomainEvent;
use crate::domain::notification::{NotificationRequest, NotificationType};
use crate::domain::task::AssignmentStatus;
use crate::domain::user::Actor;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Assignments handled per sweep unit.
const SWEEP_BATCH: usize = 200;

impl Engine {
    /// Sends due SLA warnings and marks breached assignments as of `now` (escalating them when
    /// [`super::EngineConfig::auto_escalate_on_breach`] is set). The worker calls it on a timer; tests pass
    /// any `now`. Each assignment is handled once per kind: a second sweep at the same time does nothing.
    pub async fn sla_sweep(&self, now: DateTime<Utc>) -> Result<SweepReport> {
        let mut total = SweepReport::default();
        loop {
            let batch = self.background(async move |cmd| sweep_batch(cmd, now).await).await?;
            let handled = batch.warned + batch.breached;
            total.warned += batch.warned;
            total.breached += batch.breached;
            total.escalated += batch.escalated;
            if handled < SWEEP_BATCH as u32 {
                return Ok(total);
            }
        }
    }
}

/// One batch of the sweep in the caller's unit, as of `now`.
async fn sweep_batch(cmd: &mut Cmd<'_>, now: DateTime<Utc>) -> Result<SweepReport> {
    {
        cmd.now = now;
        let due = cmd.tx.assignments_due(now, SWEEP_BATCH).await?;
        let mut report = SweepReport::default();
        for mut a in due {
            let ctx = load_task(cmd, Actor::system(), a.task).await?;
            let number = ctx.ticket.ticket_id;
            let breach = a
                .target_resolution
                .filter(|t| *t <= now && a.status != AssignmentStatus::Breached);
            if let Some(target) = breach {
                a.sla_warned = true;
                a.move_to(AssignmentStatus::Breached, None, now)?;
                cmd.tx.update_assignment(&a).await?;
                cmd.emit(DomainEvent::SlaBreached {
                    assignment: a.id,
                    target,
                });
                cmd.notify(NotificationRequest {
                    user_id: a.user,
                    kind: NotificationType::SlaBreach,
                    subject: format!("{number} is past its SLA target"),
                    message: format!("Your assignment on ticket {number} passed its target of {target}."),
                    related_ticket: Some(number),
                    related_task: Some(a.task),
                });
                cmd.audit(
                    "sla.breached",
                    Some(ctx.ticket.id),
                    Some(a.task),
                    json!({"status": "open"}),
                    json!({"assignment": a.id, "target": target}),
                )
                .await?;
                report.breached += 1;
                let step = ctx.current_step()?;
                if cmd.engine.config.auto_escalate_on_breach && step.escalate_to.is_some() && step.id == a.step {
                    match escalate_assignment(cmd, &ctx, a, "SLA target passed", None).await {
                        Ok(_) => report.escalated += 1,
                        Err(Error::NoEligibleAssignee { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            } else if let Some(warn_at) = a.warn_at.filter(|w| *w <= now && !a.sla_warned) {
                a.sla_warned = true;
                a.version += 1;
                cmd.tx.update_assignment(&a).await?;
                let target = a.target_resolution.unwrap_or(warn_at);
                cmd.emit(DomainEvent::SlaWarning {
                    assignment: a.id,
                    target,
                });
                cmd.notify(NotificationRequest {
                    user_id: a.user,
                    kind: NotificationType::SlaWarning,
                    subject: format!("{number} is nearing its SLA target"),
                    message: format!("Your assignment on ticket {number} is due by {target}."),
                    related_ticket: Some(number),
                    related_task: Some(a.task),
                });
                cmd.audit(
                    "sla.warning",
                    Some(ctx.ticket.id),
                    Some(a.task),
                    serde_json::Value::Null,
                    json!({"assignment": a.id, "target": target}),
                )
                .await?;
                report.warned += 1;
            }
        }
        Ok(report)
    }
}
