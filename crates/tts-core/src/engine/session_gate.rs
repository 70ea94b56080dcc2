//! The session gate: which login sessions have ended, known to every request of this process at once
//! and to other processes within a poll interval, so that an access token stops working when its session
//! ends (logout, password change, deactivation, role change) instead of when it expires.
//!
//! Sessions ended by this process are recorded as their command commits. Others are read from the store
//! ([`crate::ports::Queries::sessions_ended_since`]) at most once per poll interval, by the request that
//! finds the view stale (the others go on with the view they have: a refresh never makes requests
//! wait, except the very first). Ended sessions are remembered for `remember`, longer than any access
//! token lives.

use super::Engine;
use crate::error::Result;
use crate::ids::SessionId;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::RwLock;

/// How the session gate follows other processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionGateConfig {
    /// How often, at most, ended sessions are read from the store, in milliseconds (default 1000): the
    /// longest a session ended by *another* process keeps working here.
    pub poll_ms: u64,
    /// How long an ended session is remembered, in seconds (default one day); must exceed the lifetime
    /// of access tokens.
    pub remember_secs: u64,
}

impl Default for SessionGateConfig {
    fn default() -> Self {
        SessionGateConfig {
            poll_ms: 1_000,
            remember_secs: 24 * 60 * 60,
        }
    }
}

/// How far back each poll reads again, to catch sessions whose ending committed late or was stamped by
/// a clock slightly behind this one.
const OVERLAP: TimeDelta = TimeDelta::seconds(30);

#[derive(Debug, Default)]
struct View {
    ended: HashMap<SessionId, DateTime<Utc>>,
    /// When the store was last read (this process's clock), if ever.
    polled_at: Option<DateTime<Utc>>,
}

/// Ended sessions as this process knows them.
#[derive(Debug, Default)]
pub(crate) struct SessionGate {
    view: RwLock<View>,
    /// Held by the one request that reads the store.
    polling: async_lock::Mutex<()>,
}

impl SessionGate {
    /// Records sessions this process ended at `at`.
    pub(crate) fn ended(&self, ids: &[SessionId], at: DateTime<Utc>) {
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            view.ended.entry(*id).or_insert(at);
        }
    }

    fn is_ended(&self, id: SessionId) -> bool {
        let view = self.view.read().unwrap_or_else(|p| p.into_inner());
        view.ended.contains_key(&id)
    }

    fn polled_at(&self) -> Option<DateTime<Utc>> {
        self.view.read().unwrap_or_else(|p| p.into_inner()).polled_at
    }
}

impl Engine {
    /// Whether a login session has ended (its access tokens must be refused). Cheap: a map lookup, plus
    /// a store read at most once per [`SessionGateConfig::poll_ms`] in the whole process.
    pub async fn session_ended(&self, id: SessionId) -> Result<bool> {
        let gate = &self.sessions;
        let now = self.clock.now();
        let poll = TimeDelta::milliseconds(i64::try_from(self.config.session_gate.poll_ms).unwrap_or(i64::MAX));
        let stale = gate.polled_at().is_none_or(|at| now - at >= poll);
        if stale {
            // The first read must finish before anyone is answered; later ones are done by whoever
            // gets the lock, while the rest use the view they have.
            let guard = if gate.polled_at().is_none() {
                Some(gate.polling.lock().await)
            } else {
                gate.polling.try_lock()
            };
            if let Some(_guard) = guard
                && gate.polled_at().is_none_or(|at| now - at >= poll)
            {
                self.poll_ended_sessions(now).await?;
            }
        }
        Ok(gate.is_ended(id))
    }

    async fn poll_ended_sessions(&self, now: DateTime<Utc>) -> Result<()> {
        let gate = &self.sessions;
        let remember = TimeDelta::seconds(i64::try_from(self.config.session_gate.remember_secs).unwrap_or(i64::MAX));
        let forget_before = now.checked_sub_signed(remember).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let since = gate.polled_at().map_or(forget_before, |at| {
            at.checked_sub_signed(OVERLAP).unwrap_or(DateTime::<Utc>::MIN_UTC)
        });
        let ended = self.store.sessions_ended_since(since).await?;
        let mut view = gate.view.write().unwrap_or_else(|p| p.into_inner());
        for (id, at) in ended {
            view.ended.entry(id).or_insert(at);
        }
        view.ended.retain(|_, at| *at >= forget_before);
        view.polled_at = Some(now);
        Ok(())
    }
}
