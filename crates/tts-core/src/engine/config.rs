//! Engine configuration.

use super::session_gate::SessionGateConfig;
use crate::domain::delivery::RetryPolicy;
use crate::domain::login::ThrottlePolicy;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Queue names the outbox relay publishes to (the seed's names by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueNames {
    /// Where `ticket.created` goes; the allocation consumer reads it.
    pub tickets: String,
    /// Where `notification.requested` goes; the notification consumer reads it.
    pub notifications: String,
    /// Where `email.requested` goes; the mail consumer reads it (only when e-mail is on).
    #[serde(default = "default_mail_queue")]
    pub mail: String,
    /// Where every other domain event goes (live feeds, integrations); `None` drops them after the outbox.
    pub events: Option<String>,
}

impl Default for QueueNames {
    fn default() -> Self {
        QueueNames {
            tickets: "TICKET_TASKS_PRODUCTION".into(),
            notifications: "notification-queue-default".into(),
            mail: default_mail_queue(),
            events: None,
        }
    }
}

fn default_mail_queue() -> String {
    "email-queue-default".into()
}

/// How long bookkeeping is kept before [`super::Engine::prune`] deletes it, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Retention {
    /// A consumer's record that it handled a message (default 7 days): a redelivery later than this would
    /// be handled again, so it must outlast any redelivery the queue can make.
    pub processed_secs: u64,
    /// An `Idempotency-Key` (default 24 hours, as payment APIs keep them): a retry later than this creates
    /// a new ticket.
    pub idempotency_secs: u64,
    /// An expired login session (default 7 days after it expired): kept a while so a late refresh is
    /// refused as "expired" in logs rather than "unknown".
    pub expired_session_secs: u64,
    /// A login throttle counter nobody touched (default one day); must outlast the longest wait of
    /// [`EngineConfig::login_throttle`].
    pub login_throttle_secs: u64,
}

impl Default for Retention {
    fn default() -> Self {
        const DAY: u64 = 24 * 60 * 60;
        Retention {
            processed_secs: 7 * DAY,
            idempotency_secs: DAY,
            expired_session_secs: 7 * DAY,
            login_throttle_secs: DAY,
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
    /// How failing messages are retried before they become dead letters.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Send e-mail for notifications (in-app rows are always written) to users who want it.
    pub email_notifications: bool,
    /// The URL users reach the service at (e.g. `https://tts.example.com`), for links in e-mails.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Messages the relay moves per unit of work.
    pub relay_batch: usize,
    /// How long bookkeeping is kept.
    #[serde(default)]
    pub retention: Retention,
    /// How failed logins slow down a client guessing an account's password.
    #[serde(default)]
    pub login_throttle: ThrottlePolicy,
    /// How ended sessions reach every request.
    #[serde(default)]
    pub session_gate: SessionGateConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            queues: QueueNames::default(),
            sla_warning_percent: crate::domain::sla::DEFAULT_WARNING_SHARE_PERCENT,
            auto_escalate_on_breach: false,
            max_retries: 8,
            retry: RetryPolicy::default(),
            email_notifications: true,
            public_url: None,
            relay_batch: 256,
            retention: Retention::default(),
            login_throttle: ThrottlePolicy::default(),
            session_gate: SessionGateConfig::default(),
        }
    }
}

impl EngineConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.sla_warning_percent) {
            return Err(Error::invalid("sla_warning_percent", "must be between 1 and 100"));
        }
        if self.retry.max_deliveries == 0 {
            return Err(Error::invalid("retry.max_deliveries", "must be at least 1"));
        }
        if self.retry.base_delay_ms == 0 || self.retry.max_delay_ms < self.retry.base_delay_ms {
            return Err(Error::invalid(
                "retry.max_delay_ms",
                "the base delay must be at least 1 ms and at most the longest delay",
            ));
        }
        if self.relay_batch == 0 {
            return Err(Error::invalid("relay_batch", "must be at least 1"));
        }
        /// Longer than any clock can subtract (about 100 years).
        const MAX_RETENTION: u64 = 100 * 366 * 24 * 60 * 60;
        let r = &self.retention;
        for (field, secs) in [
            ("retention.processed_secs", r.processed_secs),
            ("retention.idempotency_secs", r.idempotency_secs),
            ("retention.login_throttle_secs", r.login_throttle_secs),
            ("session_gate.remember_secs", self.session_gate.remember_secs),
        ] {
            if secs == 0 || secs > MAX_RETENTION {
                return Err(Error::invalid(field, "must be between 1 second and 100 years"));
            }
        }
        if r.expired_session_secs > MAX_RETENTION {
            return Err(Error::invalid(
                "retention.expired_session_secs",
                "must be at most 100 years",
            ));
        }
        if r.login_throttle_secs < self.login_throttle.max_delay_secs {
            return Err(Error::invalid(
                "retention.login_throttle_secs",
                "must be at least login_throttle.max_delay_secs",
            ));
        }
        if self.login_throttle.max_delay_secs > MAX_RETENTION {
            return Err(Error::invalid(
                "login_throttle.max_delay_secs",
                "must be at most 100 years",
            ));
        }
        if self.session_gate.poll_ms == 0 || self.session_gate.poll_ms > 3_600_000 {
            return Err(Error::invalid(
                "session_gate.poll_ms",
                "must be between 1 ms and one hour",
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::invalid("public_url", "must start with http:// or https://"));
        }
        if self.queues.tickets.trim().is_empty()
            || self.queues.notifications.trim().is_empty()
            || self.queues.mail.trim().is_empty()
        {
            return Err(Error::invalid("queues", "queue names must not be empty"));
        }
        Ok(())
    }
}
