//! Reports: aggregates over the tickets, tasks and assignments, computed where the data lives.

use crate::domain::report::{AgentFigures, ReportQuery, SlaReport, StepFigures, TicketReport, UnroutableReport};
use crate::error::Result;
use async_trait::async_trait;

/// The figures of [`crate::domain::report`], read without a unit and without locks.
///
/// Contract (checked by `tts_core::testkit::store::reports` against a brute-force count over a generated
/// history): each report follows its definition in [`crate::domain::report`] exactly, for every filter
/// of the query; buckets come in order, one per bucket of the range (zeros included); keyed lists come
/// ordered by their keys, and leave out keys with nothing to count. Names (`*_name`) are left `None`:
/// the engine fills them.
#[async_trait]
pub trait Reports: Send + Sync {
    /// Created, resolved, ended and open tickets per bucket, and the range's tickets by key.
    async fn ticket_report(&self, query: &ReportQuery) -> Result<TicketReport>;
    /// SLA outcomes of the assignments due in the range, per bucket, workflow and step.
    async fn sla_report(&self, query: &ReportQuery) -> Result<SlaReport>;
    /// Per agent: open work, actions and their speed, escalations and transfers, ordered by user id.
    async fn agent_report(&self, query: &ReportQuery) -> Result<Vec<AgentFigures>>;
    /// Time spent per step of each workflow version, ordered by workflow, version and step id.
    async fn step_report(&self, query: &ReportQuery) -> Result<Vec<StepFigures>>;
    /// Tickets created in the range that wait without a task.
    async fn unroutable_report(&self, query: &ReportQuery) -> Result<UnroutableReport>;
}
