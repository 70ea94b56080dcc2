//! Reports: the figures admins manage by, defined once here so that every store computes the same
//! numbers (the conformance suite compares each store with a brute-force count of these definitions).
//!
//! Every report covers a half-open range `[from, to)` cut into UTC buckets (day, ISO week starting on
//! Monday, or month) and takes the same filters. Durations are whole milliseconds; an average is the sum
//! over the count, rounded half away from zero; a p90 is the nearest-rank percentile (the smallest value
//! at least 90% of the values do not exceed).

use super::priority::Priority;
use super::task::{Assignment, AssignmentStatus, Origin};
use super::ticket::Ticket;
use crate::error::{Error, Result};
use crate::ids::{StepId, UserId, WorkflowId};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Most buckets one report may have (e.g. a little over two and a half years by day).
pub const MAX_BUCKETS: usize = 1000;

/// How a report's range is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// Calendar days (UTC).
    #[default]
    Day,
    /// ISO weeks, Monday to Sunday (UTC).
    Week,
    /// Calendar months (UTC).
    Month,
}

impl Bucket {
    /// The first day of the bucket `t` falls in.
    pub fn start_of(self, t: DateTime<Utc>) -> NaiveDate {
        let day = t.date_naive();
        match self {
            Bucket::Day => day,
            Bucket::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Bucket::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the bucket after the one starting on `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => start + Days::new(1),
            Bucket::Week => start + Days::new(7),
            Bucket::Month => start + Months::new(1),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }
}

impl FromStr for Bucket {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [Bucket::Day, Bucket::Week, Bucket::Month]
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| Error::invalid("bucket", format!("unknown bucket {s:?}: use day, week or month")))
    }
}

/// Midnight UTC of `day`.
pub fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// A checked report range: `from < to`, at most [`MAX_BUCKETS`] buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRange {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
}

impl ReportRange {
    /// The range `[from, to)` by `bucket`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, bucket: Bucket) -> Result<Self> {
        if from >= to {
            return Err(Error::invalid("from", "must be before `to`"));
        }
        let range = ReportRange { from, to, bucket };
        let mut n = 0usize;
        let mut start = bucket.start_of(from);
        while midnight(start) < to {
            n += 1;
            if n > MAX_BUCKETS {
                return Err(Error::invalid(
                    "to",
                    format!("the range spans more than {MAX_BUCKETS} buckets: use a longer bucket"),
                ));
            }
            start = bucket.next(start);
        }
        Ok(range)
    }

    /// Where the range starts (inclusive).
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// Where the range ends (exclusive).
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// How it is cut.
    pub fn bucket(&self) -> Bucket {
        self.bucket
    }

    /// Whether `t` falls in the range.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }

    /// The first day of every bucket the range touches, in order (the first and last may be partial).
    pub fn buckets(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut start = self.bucket.start_of(self.from);
        while midnight(start) < self.to {
            out.push(start);
            start = self.bucket.next(start);
        }
        out
    }

    /// Where the bucket starting on `start` ends within the range: its end, or `to` if sooner.
    pub fn bucket_end(&self, start: NaiveDate) -> DateTime<Utc> {
        midnight(self.bucket.next(start)).min(self.to)
    }
}

/// Which tickets (and their assignments) a report counts. Every set filter must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFilter {
    /// Category equals (case-insensitive).
    pub category: Option<String>,
    /// Department equals (case-insensitive).
    pub department: Option<String>,
    /// Priority equals.
    pub priority: Option<Priority>,
    /// The ticket's task runs this workflow.
    pub workflow: Option<WorkflowId>,
    /// Only this agent's figures: assignments they hold or held, tickets they hold or held one on. The
    /// engine sets it for every non-admin.
    pub agent: Option<UserId>,
}

impl ReportFilter {
    /// Whether a ticket's keys pass the category, department, priority and workflow filters (`workflow`
    /// is the workflow its task runs, if it has one). The agent filter is the caller's: it means a
    /// different thing for tickets and for assignments.
    pub fn admits_keys(&self, ticket: &Ticket, workflow: Option<WorkflowId>) -> bool {
        let same = |want: &Option<String>, have: Option<&str>| {
            want.as_deref()
                .is_none_or(|w| have.is_some_and(|h| h.to_lowercase() == w.to_lowercase()))
        };
        same(&self.category, Some(&ticket.category))
            && same(&self.department, ticket.department.as_deref())
            && self.priority.is_none_or(|p| ticket.priority == p)
            && self.workflow.is_none_or(|w| workflow == Some(w))
    }
}

/// One report request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    /// The range and its buckets.
    pub range: ReportRange,
    /// The filters.
    pub filter: ReportFilter,
}

/// One bucket of the ticket flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowPoint {
    /// The bucket's first day.
    pub bucket: NaiveDate,
    /// Tickets created in the bucket.
    pub created: u64,
    /// Tickets resolved in the bucket.
    pub resolved: u64,
    /// Tickets that reached an end (closed, rejected or withdrawn) in the bucket.
    pub closed: u64,
    /// Tickets open at the end of the bucket: created by then and neither resolved nor ended by then.
    pub backlog: u64,
}

/// When a ticket left the backlog: when it was resolved or reached an end, whichever came first.
pub fn left_backlog_at(t: &Ticket) -> Option<DateTime<Utc>> {
    match (t.resolved_at, t.closed_at) {
        (Some(r), Some(c)) => Some(r.min(c)),
        (r, c) => r.or(c),
    }
}

/// A count under a key (a status, a priority, a category, a workflow id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Count {
    /// The key: a wire name, a lower-case category, or a workflow id (`""` for tickets without a task).
    pub key: String,
    /// How many.
    pub count: u64,
    /// The workflow's name, for workflow keys (filled by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The ticket report: the flow per bucket and what the tickets created in the range are now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketReport {
    /// Created, resolved, ended and open per bucket.
    pub flow: Vec<FlowPoint>,
    /// Tickets created in the range by current status, ordered by key.
    pub by_status: Vec<Count>,
    /// ... by priority.
    pub by_priority: Vec<Count>,
    /// ... by category (lower case).
    pub by_category: Vec<Count>,
    /// ... by workflow id (`""`: no task yet).
    pub by_workflow: Vec<Count>,
}

/// What became of assignments whose SLA target fell due: each counts once in `met`, `breached`, `open`
/// or (the rest) cancelled; `warned` counts those warned first, whatever came after.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaCounts {
    /// Assignments with a target in the range.
    pub due: u64,
    /// Acted on, escalated or transferred without a breach.
    pub met: u64,
    /// Marked breached (whatever happened after).
    pub breached: u64,
    /// Still open and not breached.
    pub open: u64,
    /// Got the SLA warning.
    pub warned: u64,
}

/// The SLA outcome of one assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaOutcome {
    /// Closed by an action, an escalation or a transfer, never breached.
    Met,
    /// Marked breached.
    Breached,
    /// Open, not breached.
    Open,
    /// Cancelled with its task, never breached.
    Cancelled,
}

/// Whether an assignment was ever marked breached.
pub fn was_breached(a: &Assignment) -> bool {
    a.history.iter().any(|h| h.status == AssignmentStatus::Breached)
}

impl SlaOutcome {
    /// The outcome of `a`.
    pub fn of(a: &Assignment) -> Self {
        if was_breached(a) {
            SlaOutcome::Breached
        } else if a.status.is_open() {
            SlaOutcome::Open
        } else if a.status == AssignmentStatus::Cancelled {
            SlaOutcome::Cancelled
        } else {
            SlaOutcome::Met
        }
    }
}

impl SlaCounts {
    /// Counts one assignment.
    pub fn add(&mut self, a: &Assignment) {
        self.due += 1;
        match SlaOutcome::of(a) {
            SlaOutcome::Met => self.met += 1,
            SlaOutcome::Breached => self.breached += 1,
            SlaOutcome::Open => self.open += 1,
            SlaOutcome::Cancelled => {}
        }
        self.warned += u64::from(a.sla_warned);
    }
}

/// SLA figures of one bucket (by the targets falling due in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPoint {
    /// The bucket's first day.
    pub bucket: NaiveDate,
    /// The figures.
    #[serde(flatten)]
    pub counts: SlaCounts,
}

/// SLA figures of one workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaByWorkflow {
    /// The workflow.
    pub workflow: WorkflowId,
    /// Its name (filled by the engine).
    #[serde(default)]
    pub workflow_name: Option<String>,
    /// The figures.
    #[serde(flatten)]
    pub counts: SlaCounts,
}

/// Breaches of one step of one workflow version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaByStep {
    /// The workflow.
    pub workflow: WorkflowId,
    /// The version the tasks ran.
    pub workflow_version: u32,
    /// The step.
    pub step: StepId,
    /// Its name (filled by the engine).
    #[serde(default)]
    pub step_name: Option<String>,
    /// Assignments on the step with a target in the range.
    pub due: u64,
    /// Of those, breached.
    pub breached: u64,
    /// `breached / due`.
    pub breach_rate: f64,
}

/// The SLA report: per bucket of due date, per workflow, and the breach rate per step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaReport {
    /// Per bucket.
    pub per_bucket: Vec<SlaPoint>,
    /// Per workflow, ordered by id.
    pub per_workflow: Vec<SlaByWorkflow>,
    /// Per step, ordered by workflow, version and step id.
    pub per_step: Vec<SlaByStep>,
}

/// A set of durations in whole milliseconds: how many, their sum, and their nearest-rank p90.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    /// How many.
    pub count: u64,
    /// Their sum.
    pub total_ms: i64,
    /// Their p90 (none when there are none).
    pub p90_ms: Option<i64>,
}

impl Durations {
    /// The figures of `values` (any order).
    pub fn of(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        Durations {
            count: values.len() as u64,
            total_ms: values.iter().sum(),
            p90_ms: values
                .get(p90_rank(values.len() as u64).saturating_sub(1) as usize)
                .copied(),
        }
    }

    /// The mean, rounded half away from zero (none when there are none).
    pub fn average_ms(&self) -> Option<i64> {
        (self.count > 0).then(|| (self.total_ms as f64 / self.count as f64).round() as i64)
    }
}

/// The 1-based rank of the nearest-rank p90 among `n` sorted values: `ceil(0.9 n)`.
pub fn p90_rank(n: u64) -> u64 {
    (9 * n).div_ceil(10)
}

/// Whole milliseconds from `from` to `to`.
pub fn millis_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_milliseconds()
}

/// One agent's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentFigures {
    /// The agent.
    pub user: UserId,
    /// Their name (filled by the engine).
    #[serde(default)]
    pub name: Option<String>,
    /// Assignments they hold open now (whatever the range).
    pub open: u64,
    /// Assignments they acted on in the range.
    pub acted: u64,
    /// From assignment to action, over those.
    pub time_to_act: Durations,
    /// Assignments they received by escalation in the range.
    pub escalations_in: u64,
    /// Assignments they escalated in the range.
    pub escalations_out: u64,
    /// Assignments transferred to them in the range.
    pub transfers_in: u64,
    /// Assignments they transferred away in the range.
    pub transfers_out: u64,
}

impl AgentFigures {
    /// All zero for `user`.
    pub fn zero(user: UserId) -> Self {
        AgentFigures {
            user,
            name: None,
            open: 0,
            acted: 0,
            time_to_act: Durations::default(),
            escalations_in: 0,
            escalations_out: 0,
            transfers_in: 0,
            transfers_out: 0,
        }
    }

    /// Whether any figure is not zero.
    pub fn is_empty(&self) -> bool {
        self.open == 0
            && self.acted == 0
            && self.escalations_in == 0
            && self.escalations_out == 0
            && self.transfers_in == 0
            && self.transfers_out == 0
    }
}

/// How an assignment counts in the agent report, given the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentMarks {
    /// Counts as open now.
    pub open: bool,
    /// Acted on in the range (its time to act counts).
    pub acted: bool,
    /// Received by escalation in the range.
    pub escalation_in: bool,
    /// Escalated in the range.
    pub escalation_out: bool,
    /// Transferred in within the range.
    pub transfer_in: bool,
    /// Transferred away in the range.
    pub transfer_out: bool,
}

impl AgentMarks {
    /// The marks of `a` for `range`.
    pub fn of(a: &Assignment, range: &ReportRange) -> Self {
        let closed_in = |status| a.status == status && a.acted_at.is_some_and(|t| range.contains(t));
        let came_in = |origin| a.origin == origin && range.contains(a.assigned_at);
        AgentMarks {
            open: a.status.is_open(),
            acted: closed_in(AssignmentStatus::Resolved),
            escalation_in: came_in(Origin::Escalated),
            escalation_out: closed_in(AssignmentStatus::Escalated),
            transfer_in: came_in(Origin::Transferred),
            transfer_out: closed_in(AssignmentStatus::Reassigned),
        }
    }
}

/// Time spent on one step of one workflow version: every turn (assignment) on the step that ended in
/// the range by an action, an escalation or a transfer (cancelled turns do not count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFigures {
    /// The workflow.
    pub workflow: WorkflowId,
    /// The version the tasks ran.
    pub workflow_version: u32,
    /// The step.
    pub step: StepId,
    /// Its name (filled by the engine).
    #[serde(default)]
    pub step_name: Option<String>,
    /// Of the turns, those handed on by escalation or transfer.
    pub handed_on: u64,
    /// From assignment to the end of the turn.
    pub time: Durations,
}

/// Whether an assignment is a finished turn for the step report: ended in the range and not cancelled.
pub fn is_finished_turn(a: &Assignment, range: &ReportRange) -> bool {
    matches!(
        a.status,
        AssignmentStatus::Resolved | AssignmentStatus::Escalated | AssignmentStatus::Reassigned
    ) && a.acted_at.is_some_and(|t| range.contains(t))
}

/// Tickets waiting without a task, by category and department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnroutableGroup {
    /// Category (lower case).
    pub category: String,
    /// Department (lower case), if any.
    pub department: Option<String>,
    /// No active workflow matches them.
    pub unroutable: u64,
    /// Not allocated yet and not (yet) found unroutable: the allocation is pending.
    pub unallocated: u64,
    /// When the oldest of them was created.
    pub oldest: DateTime<Utc>,
}

/// Tickets created in the range that have no task and have not ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnroutableReport {
    /// All unroutable ones.
    pub unroutable: u64,
    /// All unallocated (pending) ones.
    pub unallocated: u64,
    /// By category and department, ordered by both.
    pub groups: Vec<UnroutableGroup>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("in range")
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let sunday = "2026-11-29T23:59:59Z".parse().expect("time");
        assert_eq!(Bucket::Week.start_of(sunday).to_string(), "2026-11-23");
        assert_eq!(Bucket::Month.start_of(sunday).to_string(), "2026-11-01");
        assert_eq!(Bucket::Day.start_of(sunday).to_string(), "2026-11-29");
    }

    #[test]
    fn ranges_are_checked() {
        assert!(ReportRange::new(t(10), t(10), Bucket::Day).is_err());
        assert!(ReportRange::new(t(0), t(86_400 * 1001), Bucket::Day).is_err());
        assert!(ReportRange::new(t(0), t(86_400 * 1001), Bucket::Week).is_ok());
    }

    #[test]
    fn p90_is_nearest_rank() {
        assert_eq!(Durations::of(vec![]).p90_ms, None);
        assert_eq!(Durations::of(vec![5]).p90_ms, Some(5));
        assert_eq!(Durations::of((1..=10).collect()).p90_ms, Some(9));
        assert_eq!(Durations::of((1..=11).collect()).p90_ms, Some(10));
        assert_eq!(
            Durations::of(vec![1, 2]).average_ms(),
            Some(2),
            "1.5 rounds away from zero"
        );
    }

    proptest! {
        // Buckets tile the range: each instant of it falls in exactly one bucket, the one `start_of` names.
        #[test]
        fn buckets_tile_the_range(from in 0i64..4_000_000_000, len in 1i64..40_000_000, probe in 0f64..1.0, b in 0usize..3) {
            let bucket = [Bucket::Day, Bucket::Week, Bucket::Month][b];
            let range = ReportRange::new(t(from), t(from + len), bucket).expect("a valid range");
            let buckets = range.buckets();
            prop_assert!(!buckets.is_empty());
            let instant = t(from + (len as f64 * probe) as i64).min(t(from + len - 1));
            let hits: Vec<_> = buckets.iter().filter(|&&s| midnight(s).max(range.from()) <= instant && instant < range.bucket_end(s)).collect();
            prop_assert_eq!(hits.len(), 1);
            prop_assert_eq!(*hits[0], bucket.start_of(instant));
            prop_assert!(buckets.windows(2).all(|w| bucket.next(w[0]) == w[1]));
        }

        #[test]
        fn p90_bounds_ninety_percent(values in proptest::collection::vec(-1000i64..1000, 1..60)) {
            let d = Durations::of(values.clone());
            let p = d.p90_ms.expect("some values");
            let at_most = values.iter().filter(|&&v| v <= p).count() as f64;
            prop_assert!(at_most >= 0.9 * values.len() as f64);
            let below = values.iter().filter(|&&v| v < p).count() as f64;
            prop_assert!(below < 0.9 * values.len() as f64, "the smallest such value");
        }
    }
}
