//! Creating tickets in batches: the tickets of several concurrent requests in one command (one unit of
//! work, one move of the year's counter, their rows written together, one commit), each request still
//! answered on its own. What the shell does with it: a server gathers the creates that arrive while the
//! previous batch commits and hands them over together (`tts_http::batch`).

use super::Engine;
use super::tickets::{for_requester, insert_ticket_with};
use crate::domain::ticket::{NewTicket, Ticket};
use crate::domain::user::{Actor, User};
use crate::error::{Error, ErrorKind, Result};
use crate::ids::UserId;
use crate::ports::store::UnitOptions;
use chrono::Datelike;
use std::collections::HashMap;
use std::sync::Arc;

/// One create of a batch: who files the ticket, and what. (A create under an idempotency key is not
/// batched: it goes through [`Engine::create_ticket`].)
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Who files it.
    pub actor: Actor,
    /// The ticket.
    pub new: NewTicket,
}

impl Engine {
    /// Creates the tickets of several requests in one command and answers each request on its own: the
    /// i-th result is the i-th request's, with the same rules and outcome as [`Engine::create_ticket`].
    ///
    /// A request that fails its own checks (validation, a requester filing for someone else) gets its
    /// error and the others go on. The rest share one unit: one `take_ticket_keys_many`, their rows,
    /// audit entries and `ticket.created` events, one commit; every `Ok` is durable when this returns.
    /// If the database refuses that unit (a constraint, a conflict: the unit is surely rolled back),
    /// each of those tickets is created again alone, so one ticket's failure is never its neighbours'
    /// (their answers are then exactly what `create_ticket` gives). If the unit fails for want of the
    /// database (unavailable: the outcome of a commit may be unknown), nothing is run again and each of
    /// those requests gets that error, as a lone create would.
    pub async fn create_tickets(&self, requests: Vec<CreateRequest>) -> Vec<Result<Ticket>> {
        let mut results: Vec<Option<Result<Ticket>>> = Vec::with_capacity(requests.len());
        let mut ready: Vec<(usize, Actor, NewTicket)> = Vec::with_capacity(requests.len());
        let mut profiles: HashMap<UserId, Option<User>> = HashMap::new();
        for (i, CreateRequest { actor, new }) in requests.into_iter().enumerate() {
            results.push(None);
            match self.checked(actor, new, &mut profiles).await {
                Ok(new) => ready.push((i, actor, new)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !ready.is_empty() {
            let shared = Arc::new(ready);
            let batch = Arc::clone(&shared);
            let outcome = self
                .run(UnitOptions::write(), None, async move |cmd| {
                    let keys = cmd
                        .tx
                        .take_ticket_keys_many(cmd.now.year(), count(batch.len())?)
                        .await?;
                    let mut tickets = Vec::with_capacity(batch.len());
                    for ((_, actor, new), keys) in batch.iter().zip(keys) {
                        cmd.actor = actor.audit_user();
                        tickets.push(insert_ticket_with(cmd, *actor, new, keys).await?);
                    }
                    Ok(tickets)
                })
                .await;
            match outcome {
                Ok(tickets) => {
                    for ((i, _, _), ticket) in shared.iter().zip(tickets) {
                        results[*i] = Some(Ok(ticket));
                    }
                }
                // The database refused something of the batch, and the unit is surely rolled back: find out
                // whose ticket it was by creating each alone.
                Err(e) if refused(&e) => {
                    for (i, actor, new) in shared.iter() {
                        results[*i] = Some(self.create_ticket(*actor, new.clone(), None).await.map(|c| c.ticket));
                    }
                }
                // An outage (or a commit whose outcome is unknown): running the creates again could
                // write them twice, so every request of the batch gets the error, as a lone create would.
                Err(e) => {
                    for (i, _, _) in shared.iter() {
                        results[*i] = Some(Err(Error::Backend {
                            backend: "engine",
                            kind: e.kind(),
                            message: e.to_string(),
                        }));
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::Backend {
                        backend: "engine",
                        kind: ErrorKind::Internal,
                        message: "a batched create was not answered".into(),
                    })
                })
            })
            .collect()
    }

    /// A request's own checks, before any unit: the ticket's fields, and for a requester their profile
    /// (read once per user per batch).
    async fn checked(
        &self,
        actor: Actor,
        new: NewTicket,
        profiles: &mut HashMap<UserId, Option<User>>,
    ) -> Result<NewTicket> {
        let new = new.validated()?;
        if actor.is_staff() {
            return Ok(new);
        }
        let me = match profiles.get(&actor.user) {
            Some(me) => me.clone(),
            None => {
                let me = self.store.user(actor.user).await?;
                profiles.insert(actor.user, me.clone());
                me
            }
        };
        for_requester(me, new)
    }
}

/// Whether a failed batch was refused by the rules or the database's constraints (so its unit is surely
/// rolled back, and one of its tickets is to blame), rather than cut off by an outage.
fn refused(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound | ErrorKind::Forbidden | ErrorKind::Internal
    )
}

/// A batch's size as the store takes it.
fn count(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::invalid("tickets", "too many tickets in one batch"))
}
