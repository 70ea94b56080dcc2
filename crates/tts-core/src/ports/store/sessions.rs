//! Login sessions: refresh token families.

use crate::domain::session::{EndSessions, RefreshSession};
use crate::error::Result;
use crate::ids::SessionId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Sessions.
///
/// Contract (checked by `tts_core::testkit::store::sessions`):
/// - a session reads back as written; starting a session with a used id is a conflict;
/// - `session` locks the row in a write unit, so of two refreshes presenting the same token one waits
///   for the other and sees its rotation;
/// - `save_session` replaces a session's current token, expiry and end ("not found" if missing);
/// - `end_sessions` sets `ended_at` on every live session it selects and returns their ids (sessions
///   that had ended keep their first end); ended sessions show in `Queries::sessions_ended_since`.
#[async_trait]
pub trait Sessions: Send {
    /// Starts a session.
    async fn start_session(&mut self, session: &RefreshSession) -> Result<()>;
    /// A session by id.
    async fn session(&mut self, id: SessionId) -> Result<Option<RefreshSession>>;
    /// Replaces a session.
    async fn save_session(&mut self, session: &RefreshSession) -> Result<()>;
    /// Ends live sessions at `at`; returns the ids ended now.
    async fn end_sessions(&mut self, which: EndSessions, at: DateTime<Utc>) -> Result<Vec<SessionId>>;
}
