//! Delivering events to consumers: when a failed message is tried again, and what is kept of a message
//! that will not be tried again (a dead letter an admin can read, replay or delete).

use crate::ids::MessageId;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How failed deliveries are retried: exponential back-off with jitter, then the dead-letter table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Deliveries of a failing message before it becomes a dead letter (at least 1).
    pub max_deliveries: u32,
    /// Wait before the second delivery, in milliseconds; doubles with every further failure.
    pub base_delay_ms: u64,
    /// Longest wait between two deliveries, in milliseconds.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_deliveries: 5,
            base_delay_ms: 1_000,
            max_delay_ms: 5 * 60 * 1_000,
        }
    }
}

impl RetryPolicy {
    /// Whether a message that failed on delivery number `delivery` (from 1) gets another one.
    pub fn retries_after(&self, delivery: u32) -> bool {
        delivery < self.max_deliveries
    }

    /// How long to wait after failed delivery number `delivery` (from 1): `base * 2^(delivery-1)`, capped
    /// at `max_delay_ms`, then scaled into its upper half by `jitter` (0.0..=1.0), so that messages which
    /// failed together (a database restart) do not all come back in the same instant.
    pub fn delay(&self, delivery: u32, jitter: f64) -> Duration {
        let doublings = delivery.saturating_sub(1).min(40);
        let full = self
            .base_delay_ms
            .saturating_mul(1u64 << doublings)
            .min(self.max_delay_ms);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let ms = (full as f64 * (0.5 + 0.5 * jitter)).round() as i64;
        Duration::milliseconds(ms)
    }
}

/// A message taken off a queue for good: it failed permanently (a malformed payload, a ticket that does
/// not exist, nobody to assign) or failed on every delivery. Kept until an admin replays or deletes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The message's id; a replay puts it back under the same id, so consumers still deduplicate it.
    pub id: MessageId,
    /// The queue it was on.
    pub queue: String,
    /// The event type (`ticket.created`), or what the message claimed to be when it could not be read.
    pub kind: String,
    /// The message as it was received (a domain event when it could be read).
    pub payload: serde_json::Value,
    /// Why the last delivery failed.
    pub error: String,
    /// How many deliveries were tried.
    pub attempts: u32,
    /// When the message was first written.
    pub created_at: DateTime<Utc>,
    /// When it became a dead letter.
    pub failed_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_cap_and_jitter_stays_in_the_upper_half() {
        let p = RetryPolicy {
            max_deliveries: 5,
            base_delay_ms: 100,
            max_delay_ms: 1_000,
        };
        assert_eq!(p.delay(1, 1.0), Duration::milliseconds(100));
        assert_eq!(p.delay(2, 1.0), Duration::milliseconds(200));
        assert_eq!(p.delay(3, 0.0), Duration::milliseconds(200));
        assert_eq!(p.delay(5, 1.0), Duration::milliseconds(1_000));
        assert_eq!(p.delay(u32::MAX, 1.0), Duration::milliseconds(1_000));
        assert_eq!(p.delay(2, f64::NAN), Duration::milliseconds(100));
        assert!(p.retries_after(4));
        assert!(!p.retries_after(5));
    }
}
