//! Tickets and their yearly numbers.

use crate::domain::task::Task;
use crate::domain::ticket::Ticket;
use crate::domain::ticket_number::TicketNumber;
use crate::error::Result;
use crate::ids::TicketId;
use async_trait::async_trait;

/// Tickets.
///
/// Contract (checked by `tts_core::testkit::store::tickets`):
/// - `take_ticket_keys(year)` gives a never used ticket id and the next number of `year`'s sequence:
///   sequences start at 1, years are independent, and committed numbers have no gaps and no duplicates
///   (a unit dropped without commit gives its number back); a write unit holds the year's counter until
///   it ends, so concurrent units take consecutive numbers; a store may instead hand out the keys it
///   foresees and move the counter at the commit, checked: a unit whose keys another took first then
///   fails with a retryable conflict ([`crate::Error::is_retryable`]) and keeps nothing;
/// - `take_ticket_keys_many(year, n)` gives `n` such keys at once: distinct ids and the next `n`
///   numbers of the sequence, in increasing order, exactly as `n` calls of `take_ticket_keys` would;
/// - a ticket reads back equal to what was written, by id and by number; a duplicate number is a
///   conflict; `update_ticket` checks the version (see `Store`);
/// - in a write unit, `ticket`, `ticket_by_number` and `ticket_with_task` lock the ticket's row.
#[async_trait]
pub trait Tickets: Send {
    /// A new ticket's id and its number in `year`'s sequence, taken together.
    async fn take_ticket_keys(&mut self, year: i32) -> Result<(TicketId, u32)>;
    /// `n` new tickets' ids and numbers, taken together: what a batch of creates needs, in one call where
    /// the store can (one counter move instead of `n`). The default takes them one at a time.
    async fn take_ticket_keys_many(&mut self, year: i32, n: u32) -> Result<Vec<(TicketId, u32)>> {
        let mut keys = Vec::with_capacity(n as usize);
        for _ in 0..n {
            keys.push(self.take_ticket_keys(year).await?);
        }
        Ok(keys)
    }
    /// Inserts a ticket.
    async fn insert_ticket(&mut self, ticket: &Ticket) -> Result<()>;
    /// Replaces a ticket (version check).
    async fn update_ticket(&mut self, ticket: &Ticket) -> Result<()>;
    /// A ticket by id.
    async fn ticket(&mut self, id: TicketId) -> Result<Option<Ticket>>;
    /// A ticket by number.
    async fn ticket_by_number(&mut self, number: TicketNumber) -> Result<Option<Ticket>>;
    /// A ticket and its task, if it has one: what an allocation reads first, in one call.
    async fn ticket_with_task(&mut self, id: TicketId) -> Result<Option<(Ticket, Option<Task>)>>;
    /// Several tickets, each with its task if it has one, in ascending id order, each id once; unknown ids
    /// are left out. A write unit locks the tickets in that order (the order every batch of allocations
    /// locks in, so two batches never deadlock). What a batch of allocations reads first, in one call
    /// where the backend can.
    async fn tickets_with_tasks(&mut self, ids: &[TicketId]) -> Result<Vec<(Ticket, Option<Task>)>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.ticket_with_task(id).await?);
        }
        Ok(found)
    }
}
