//! Who may take a role's work, and the role's round-robin cursor.

use crate::domain::assignment::Candidate;
use crate::error::Result;
use crate::ids::{RoleId, UserId};
use async_trait::async_trait;

/// What a pick needs: the role's holders and the last user the role's work went to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PickState {
    /// Holders of the role ordered by user id (see [`Cursors::candidates`]).
    pub candidates: Vec<Candidate>,
    /// The role's cursor: the last user assigned, if any.
    pub last: Option<UserId>,
}

/// Candidates and cursors.
///
/// Contract (checked by `tts_core::testkit::store::cursors` and the locking cases):
/// - `candidates` lists a role's holders ordered by user id, `active` when both the membership and the
///   user are active; `open_assignments` counts the user's open assignments when `with_load`, else 0;
/// - `lock_pick_state` reads the candidates and the cursor together and, in a write unit, locks the
///   cursor (creating it if the role has none yet) until the unit ends, so two units never pick from
///   the same cursor position: this is what makes round-robin exact across processes;
/// - `set_cursor` moves the cursor; the move is visible to the next `lock_pick_state` after commit.
#[async_trait]
pub trait Cursors: Send {
    /// The holders of a role.
    async fn candidates(&mut self, role: RoleId, with_load: bool) -> Result<Vec<Candidate>>;
    /// The holders of a role and its cursor, the cursor locked in a write unit.
    async fn lock_pick_state(&mut self, role: RoleId, with_load: bool) -> Result<PickState>;
    /// Moves a role's cursor to the user just assigned.
    async fn set_cursor(&mut self, role: RoleId, last: UserId) -> Result<()>;
}
