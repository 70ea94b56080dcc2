//! [`Tickets`] in memory.

use super::MemoryUnit;
use crate::domain::task::Task;
use crate::domain::ticket::Ticket;
use crate::domain::ticket_number::TicketNumber;
use crate::error::{Error, Result};
use crate::ids::TicketId;
use crate::ports::store::Tickets;
use async_trait::async_trait;

#[async_trait]
impl Tickets for MemoryUnit {
    async fn take_ticket_keys(&mut self, year: i32) -> Result<(TicketId, u32)> {
        let seq = self.s().year_seq.get(&year).copied().unwrap_or(0) + 1;
        self.set(|s| &mut s.year_seq, year, seq);
        let id = self.s().last_ticket_id + 1;
        self.bump(|s| &mut s.last_ticket_id, id);
        Ok((TicketId(id), seq))
    }

    async fn insert_ticket(&mut self, ticket: &Ticket) -> Result<()> {
        if self.s().tickets.contains_key(&ticket.id) {
            return Err(Error::conflict(format!("ticket id {} exists", ticket.id)));
        }
        if self.s().ticket_numbers.contains_key(&ticket.ticket_id) {
            return Err(Error::conflict(format!("ticket number {} exists", ticket.ticket_id)));
        }
        self.set(|s| &mut s.ticket_numbers, ticket.ticket_id, ticket.id);
        self.set(|s| &mut s.tickets, ticket.id, Box::new(ticket.clone()));
        Ok(())
    }

    async fn update_ticket(&mut self, ticket: &Ticket) -> Result<()> {
        let stored = self.s().tickets.get(&ticket.id).map(|t| t.version);
        super::check_version("ticket", stored, ticket.version, ticket.id)?;
        self.set(|s| &mut s.tickets, ticket.id, Box::new(ticket.clone()));
        Ok(())
    }

    async fn ticket(&mut self, id: TicketId) -> Result<Option<Ticket>> {
        Ok(self.s().tickets.get(&id).map(|t| (**t).clone()))
    }

    async fn ticket_by_number(&mut self, number: TicketNumber) -> Result<Option<Ticket>> {
        let s = self.s();
        Ok(s.ticket_numbers
            .get(&number)
            .and_then(|id| s.tickets.get(id))
            .map(|t| (**t).clone()))
    }

    async fn ticket_with_task(&mut self, id: TicketId) -> Result<Option<(Ticket, Option<Task>)>> {
        let s = self.s();
        let Some(ticket) = s.tickets.get(&id).map(|t| (**t).clone()) else {
            return Ok(None);
        };
        let task = s
            .task_by_ticket
            .get(&id)
            .and_then(|t| s.tasks.get(t))
            .map(|t| (**t).clone());
        Ok(Some((ticket, task)))
    }
}
