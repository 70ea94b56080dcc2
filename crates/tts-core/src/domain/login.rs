//! Logins: the stored credential of a user, and the throttle that slows down password guessing.
//!
//! Throttling is keyed by account *and* client (the server passes the client's address, IPv6 by /64), so
//! someone who knows an e-mail address can slow down their own guesses but never lock its owner out:
//! the owner logs in from another address as usual. The first [`ThrottlePolicy::free_failures`]
//! failures of a client on an account cost nothing; each further one doubles the wait before that client
//! may try that account again, up to [`ThrottlePolicy::max_delay_secs`]. A success resets the pair.

use crate::ids::UserId;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// A user's login: the e-mail it logs in with and the password hash (PHC string of the
/// [`crate::ports::Passwords`] adapter). One per user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Whose login it is.
    pub user: UserId,
    /// The login e-mail, trimmed and lower-case (unique).
    pub email: String,
    /// The password hash; never the password.
    pub hash: String,
}

/// Which throttle counter a login attempt counts against: an account (by e-mail, known or not) seen
/// from one client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ThrottleKey {
    /// The e-mail tried, trimmed and lower-case.
    pub email: String,
    /// The client, as the shell identifies it (an address, IPv6 by /64); empty when unknown.
    pub client: String,
}

impl ThrottleKey {
    /// The key of `email` tried from `client`.
    pub fn new(email: &str, client: &str) -> Self {
        ThrottleKey {
            email: email.trim().to_lowercase(),
            client: client.to_string(),
        }
    }
}

/// A throttle counter: failures in a row and when the client may try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    /// Failed attempts in a row.
    pub failures: u32,
    /// Attempts before this time are refused without checking the password.
    pub retry_at: Option<DateTime<Utc>>,
    /// When the counter last changed (old counters are pruned).
    pub updated_at: DateTime<Utc>,
}

/// How login failures slow a client down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottlePolicy {
    /// Failures of one client on one account that cost no wait (default 5).
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones, in seconds; doubles with each further one
    /// (default 2).
    pub base_delay_secs: u64,
    /// The longest wait, in seconds (default 900 = 15 minutes).
    pub max_delay_secs: u64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 5,
            base_delay_secs: 2,
            max_delay_secs: 900,
        }
    }
}

impl ThrottlePolicy {
    /// Seconds to wait before the next attempt is allowed at `now`, if any.
    pub fn wait(&self, throttle: Option<&Throttle>, now: DateTime<Utc>) -> Option<u64> {
        let retry_at = throttle?.retry_at?;
        let left = (retry_at - now).num_milliseconds();
        (left > 0).then(|| (left as u64).div_ceil(1000))
    }

    /// The counter after one more failure at `now`.
    pub fn after_failure(&self, throttle: Option<&Throttle>, now: DateTime<Utc>) -> Throttle {
        let failures = throttle.map_or(0, |t| t.failures).saturating_add(1);
        let retry_at = (failures > self.free_failures).then(|| {
            let doublings = (failures - self.free_failures - 1).min(40);
            let secs = self
                .base_delay_secs
                .saturating_mul(1u64 << doublings)
                .min(self.max_delay_secs);
            now + TimeDelta::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1_000_000))
        });
        Throttle {
            failures,
            retry_at,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Over any policy and any run of failures: the first `free_failures` cost nothing, waits never
        /// shrink while failures go on, never exceed the cap, and end when their time has passed.
        #[test]
        fn waits_grow_with_failures_within_the_cap(
            free in 0u32..10, base in 1u64..120, cap in 1u64..100_000, failures in 1usize..80,
        ) {
            let p = ThrottlePolicy { free_failures: free, base_delay_secs: base, max_delay_secs: cap };
            let mut t: Option<Throttle> = None;
            let mut last = 0;
            for n in 1..=failures {
                let next = p.after_failure(t.as_ref(), t0());
                let wait = p.wait(Some(&next), t0()).unwrap_or(0);
                if n as u32 <= free {
                    prop_assert_eq!(wait, 0);
                } else {
                    prop_assert!(wait >= last && wait <= cap.max(1), "wait {} after {} (cap {})", wait, n, cap);
                    prop_assert_eq!(p.wait(Some(&next), t0() + TimeDelta::seconds(wait as i64)), None);
                }
                last = wait;
                t = Some(next);
            }
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }

    #[test]
    fn free_failures_then_doubling_waits_up_to_the_cap() {
        let p = ThrottlePolicy::default();
        let mut t: Option<Throttle> = None;
        let mut waits = Vec::new();
        for _ in 0..14 {
            let next = p.after_failure(t.as_ref(), t0());
            waits.push(p.wait(Some(&next), t0()).unwrap_or(0));
            t = Some(next);
        }
        assert_eq!(waits, [0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        let capped = p.after_failure(t.as_ref(), t0());
        assert_eq!(p.wait(Some(&capped), t0()), Some(900));
        assert_eq!(p.wait(Some(&capped), t0() + TimeDelta::seconds(900)), None);
    }
}
