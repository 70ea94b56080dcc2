//! [`Sessions`] in memory.

use super::MemoryUnit;
use crate::domain::session::{EndSessions, RefreshSession};
use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::ports::store::Sessions;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl Sessions for MemoryUnit {
    async fn start_session(&mut self, session: &RefreshSession) -> Result<()> {
        if self.s().sessions.contains_key(&session.id) {
            return Err(Error::conflict(format!("session {} exists", session.id)));
        }
        self.set(|s| &mut s.sessions, session.id, *session);
        Ok(())
    }

    async fn session(&mut self, id: SessionId) -> Result<Option<RefreshSession>> {
        Ok(self.s().sessions.get(&id).copied())
    }

    async fn save_session(&mut self, session: &RefreshSession) -> Result<()> {
        if !self.s().sessions.contains_key(&session.id) {
            return Err(Error::not_found("session", session.id));
        }
        self.set(|s| &mut s.sessions, session.id, *session);
        Ok(())
    }

    async fn end_sessions(&mut self, which: EndSessions, at: DateTime<Utc>) -> Result<Vec<SessionId>> {
        let live: Vec<RefreshSession> = self
            .s()
            .sessions
            .values()
            .filter(|x| x.ended_at.is_none())
            .filter(|x| match which {
                EndSessions::One(id) => x.id == id,
                EndSessions::OfUser { user, keep } => x.user == user && Some(x.id) != keep,
            })
            .copied()
            .collect();
        let mut ended = Vec::with_capacity(live.len());
        for mut x in live {
            x.ended_at = Some(at);
            self.set(|s| &mut s.sessions, x.id, x);
            ended.push(x.id);
        }
        ended.sort();
        Ok(ended)
    }
}
