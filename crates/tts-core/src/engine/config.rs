//! Engine configuration.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Queue names the outbox relay publishes to (the seed's names by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueNames {
    /// Where `ticket.created` goes; the allocation consumer reads it.
    pub tickets: String,
    /// Where `notification.requested` goes; the notification consumer reads it.
    pub notifications: String,
    /// Where every other domain event goes (live feeds, integrations); `None` drops them after the outbox.
    pub events: Option<String>,
}

impl Default for QueueNames {
    fn default() -> Self {
        QueueNames {
            tickets: "TICKET_TASKS_PRODUCTION".into(),
            notifications: "notification-queue-default".into(),
            events: None,
        }
    }
}

/// How the engine behaves. Every field has a sensible default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Queue names.
    pub queues: QueueNames,
    /// Share of an assignment's SLA time after which a warning goes out (1..=100, default 75).
    pub sla_warning_percent: u8,
    /// Escalate breached assignments automatically when the step has an escalation role.
    pub auto_escalate_on_breach: bool,
    /// Retries of a command whose unit of work lost a race.
    pub max_retries: u32,
    /// Deliveries of a failing message before it goes to the dead-letter queue.
    pub max_deliveries: u32,
    /// Send e-mail for notifications (in-app rows are always written).
    pub email_notifications: bool,
    /// Messages the relay moves per unit of work.
    pub relay_batch: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            queues: QueueNames::default(),
            sla_warning_percent: crate::domain::sla::DEFAULT_WARNING_SHARE_PERCENT,
            auto_escalate_on_breach: false,
            max_retries: 8,
            max_deliveries: 5,
            email_notifications: true,
            relay_batch: 256,
        }
    }
}

impl EngineConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.sla_warning_percent) {
            return Err(Error::invalid("sla_warning_percent", "must be between 1 and 100"));
        }
        if self.max_deliveries == 0 {
            return Err(Error::invalid("max_deliveries", "must be at least 1"));
        }
        if self.relay_batch == 0 {
            return Err(Error::invalid("relay_batch", "must be at least 1"));
        }
        if self.queues.tickets.trim().is_empty() || self.queues.notifications.trim().is_empty() {
            return Err(Error::invalid("queues", "queue names must not be empty"));
        }
        Ok(())
    }
}
