//! Reports: the figures admins manage by (agents get their own), as JSON or as CSV (`?format=csv`, one
//! table at a time, chosen with `table`). Every report takes the same range (`from`, `to`, `bucket`) and
//! filters (`category`, `department`, `priority`, `workflow`, `agent`); see `tts_core::domain::report`
//! for what each figure counts. CSV is written by the `csv` crate.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::schema;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tts_core::domain::report::{
    AgentFigures, Bucket, Count, FlowPoint, ReportFilter, ReportQuery, ReportRange, SlaByStep, SlaByWorkflow,
    SlaCounts, SlaPoint, StepFigures, UnroutableGroup, midnight,
};
use tts_core::{Priority, UserId, WorkflowId};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ticket_report))
        .routes(routes!(sla_report))
        .routes(routes!(agent_report))
        .routes(routes!(step_report))
        .routes(routes!(unroutable_report))
}

/// How long a range is when `from` is left out.
const DEFAULT_DAYS: i64 = 30;

/// JSON or CSV.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// The whole report as JSON (the default).
    #[default]
    Json,
    /// One table of the report as CSV with a header row.
    Csv,
}

/// The range, filters and format every report takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Start of the range, inclusive: an RFC 3339 time or a date (midnight UTC). Default: 30 days
    /// before `to`.
    #[param(max_length = 64)]
    pub from: Option<String>,
    /// End of the range, exclusive: an RFC 3339 time or a date (midnight UTC). Default: now.
    #[param(max_length = 64)]
    pub to: Option<String>,
    /// How the range is cut (default `day`; at most 1,000 buckets).
    #[param(value_type = Option<schema::Bucket>, inline)]
    pub bucket: Option<Bucket>,
    /// Only tickets of this category (case-insensitive; empty: any).
    #[param(max_length = 255)]
    pub category: Option<String>,
    /// Only tickets of this department (case-insensitive; empty: any).
    #[param(max_length = 255)]
    pub department: Option<String>,
    /// Only tickets of this priority.
    #[param(value_type = Option<schema::Priority>, inline)]
    pub priority: Option<Priority>,
    /// Only tickets whose task runs this workflow (an id).
    #[param(value_type = Option<String>, format = Uuid)]
    pub workflow: Option<String>,
    /// Only this agent's figures (an id); agents may only name themselves.
    #[param(value_type = Option<String>, format = Uuid)]
    pub agent: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<Format>, inline)]
    pub format: Option<Format>,
    /// With `format=csv`, the table to write; each report lists its tables (default: the first).
    #[param(max_length = 32)]
    pub table: Option<String>,
}

/// A time parameter: RFC 3339, or a date meaning its midnight UTC; years 1 to 9999.
fn instant(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let bad = || ApiError::bad_field(field, format!("{raw:?} is not an RFC 3339 time or a YYYY-MM-DD date"));
    if raw.len() > 64 {
        return Err(bad());
    }
    let t = match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(midnight)
            .map_err(|_| bad())?,
    };
    if !(1..=9999).contains(&chrono::Datelike::year(&t)) {
        return Err(ApiError::bad_field(field, "the year must be between 1 and 9999"));
    }
    Ok(t)
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.is_empty())
}

/// An id parameter; an empty one is not an id (400), unlike an empty text filter.
fn id_param<T: std::str::FromStr>(field: &str, v: &Option<String>) -> Result<Option<T>, ApiError> {
    v.as_deref()
        .map(|raw| {
            raw.parse()
                .map_err(|_| ApiError::bad_field(field, format!("{raw:?} is not an id")))
        })
        .transpose()
}

impl ReportParams {
    /// The checked query; `now` ends the range when `to` is left out.
    fn query(&self, now: DateTime<Utc>) -> Result<ReportQuery, ApiError> {
        let to = non_empty(&self.to)
            .map(|t| instant("to", t))
            .transpose()?
            .unwrap_or(now);
        let from = match non_empty(&self.from) {
            Some(f) => instant("from", f)?,
            None => to - Duration::days(DEFAULT_DAYS),
        };
        let range = ReportRange::new(from, to, self.bucket.unwrap_or_default()).map_err(|e| match e {
            tts_core::Error::Validation(problems) => {
                let p = problems.into_iter().next();
                let (field, message) = p
                    .map(|p| (p.field, p.message))
                    .unwrap_or(("from".into(), "bad range".into()));
                ApiError::bad_field(field, message)
            }
            other => ApiError::Core(other),
        })?;
        for (field, value, max) in [
            ("category", &self.category, 255),
            ("department", &self.department, 255),
            ("table", &self.table, 32),
        ] {
            if value.as_deref().is_some_and(|v| v.chars().count() > max) {
                return Err(ApiError::bad_field(field, format!("must be at most {max} characters")));
            }
        }
        Ok(ReportQuery {
            range,
            filter: ReportFilter {
                category: non_empty(&self.category).map(str::to_string),
                department: non_empty(&self.department).map(str::to_string),
                priority: self.priority,
                workflow: id_param::<WorkflowId>("workflow", &self.workflow)?,
                agent: id_param::<UserId>("agent", &self.agent)?,
            },
        })
    }
}

/// The range a report covers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RangeOut {
    /// Start, inclusive.
    pub from: DateTime<Utc>,
    /// End, exclusive.
    pub to: DateTime<Utc>,
    /// How it is cut.
    #[schema(value_type = schema::Bucket)]
    pub bucket: Bucket,
}

impl From<&ReportQuery> for RangeOut {
    fn from(q: &ReportQuery) -> Self {
        RangeOut {
            from: q.range.from(),
            to: q.range.to(),
            bucket: q.range.bucket(),
        }
    }
}

/// One bucket of the ticket flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowOut {
    /// The bucket's first day.
    pub bucket: NaiveDate,
    /// Tickets created in it.
    pub created: u64,
    /// Tickets resolved in it.
    pub resolved: u64,
    /// Tickets closed, rejected or withdrawn in it.
    pub closed: u64,
    /// Tickets open at its end.
    pub backlog: u64,
}

impl From<FlowPoint> for FlowOut {
    fn from(p: FlowPoint) -> Self {
        FlowOut {
            bucket: p.bucket,
            created: p.created,
            resolved: p.resolved,
            closed: p.closed,
            backlog: p.backlog,
        }
    }
}

/// A count under a key.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountOut {
    /// A status, a priority, a category (lower case) or a workflow id (empty: no task yet).
    pub key: String,
    /// How many tickets.
    pub count: u64,
    /// The workflow's name, for workflow keys.
    #[schema(nullable)]
    pub name: Option<String>,
}

impl From<Count> for CountOut {
    fn from(c: Count) -> Self {
        CountOut {
            key: c.key,
            count: c.count,
            name: c.name,
        }
    }
}

/// Tickets: the flow per bucket and the range's tickets by key.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketReportOut {
    /// The range.
    pub range: RangeOut,
    /// Created, resolved, ended and open per bucket (table `flow`).
    pub flow: Vec<FlowOut>,
    /// Tickets created in the range by current status (table `by_status`).
    pub by_status: Vec<CountOut>,
    /// ... by priority (table `by_priority`).
    pub by_priority: Vec<CountOut>,
    /// ... by category (table `by_category`).
    pub by_category: Vec<CountOut>,
    /// ... by workflow (table `by_workflow`).
    pub by_workflow: Vec<CountOut>,
}

/// SLA figures of one bucket (by the due date of the targets).
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaBucketOut {
    /// The bucket's first day.
    pub bucket: NaiveDate,
    /// Assignments with a target due in it.
    pub due: u64,
    /// Acted on, escalated or transferred without a breach.
    pub met: u64,
    /// Breached.
    pub breached: u64,
    /// Still open, not breached.
    pub open: u64,
    /// Warned first.
    pub warned: u64,
}

impl From<SlaPoint> for SlaBucketOut {
    fn from(p: SlaPoint) -> Self {
        let SlaCounts {
            due,
            met,
            breached,
            open,
            warned,
        } = p.counts;
        SlaBucketOut {
            bucket: p.bucket,
            due,
            met,
            breached,
            open,
            warned,
        }
    }
}

/// SLA figures of one workflow.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaWorkflowOut {
    /// The workflow.
    #[schema(value_type = String, format = Uuid)]
    pub workflow_id: WorkflowId,
    /// Its name.
    #[schema(nullable)]
    pub workflow_name: Option<String>,
    /// Assignments due in the range.
    pub due: u64,
    /// Met.
    pub met: u64,
    /// Breached.
    pub breached: u64,
    /// Open.
    pub open: u64,
    /// Warned.
    pub warned: u64,
}

impl From<SlaByWorkflow> for SlaWorkflowOut {
    fn from(w: SlaByWorkflow) -> Self {
        let SlaCounts {
            due,
            met,
            breached,
            open,
            warned,
        } = w.counts;
        SlaWorkflowOut {
            workflow_id: w.workflow,
            workflow_name: w.workflow_name,
            due,
            met,
            breached,
            open,
            warned,
        }
    }
}

/// Breaches of one step of a workflow version.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaStepOut {
    /// The workflow.
    #[schema(value_type = String, format = Uuid)]
    pub workflow_id: WorkflowId,
    /// The version the tasks ran.
    pub workflow_version: u32,
    /// The step.
    #[schema(value_type = String, format = Uuid)]
    pub step_id: tts_core::ids::StepId,
    /// Its name.
    #[schema(nullable)]
    pub step_name: Option<String>,
    /// Assignments on it due in the range.
    pub due: u64,
    /// Of those, breached.
    pub breached: u64,
    /// `breached / due`.
    pub breach_rate: f64,
}

impl From<SlaByStep> for SlaStepOut {
    fn from(s: SlaByStep) -> Self {
        SlaStepOut {
            workflow_id: s.workflow,
            workflow_version: s.workflow_version,
            step_id: s.step,
            step_name: s.step_name,
            due: s.due,
            breached: s.breached,
            breach_rate: s.breach_rate,
        }
    }
}

/// SLA outcomes per bucket, workflow and step.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaReportOut {
    /// The range.
    pub range: RangeOut,
    /// Per bucket of due date (table `per_bucket`).
    pub per_bucket: Vec<SlaBucketOut>,
    /// Per workflow (table `per_workflow`).
    pub per_workflow: Vec<SlaWorkflowOut>,
    /// Per step (table `per_step`).
    pub per_step: Vec<SlaStepOut>,
}

/// One agent's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentOut {
    /// The agent.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// Their name.
    #[schema(nullable)]
    pub name: Option<String>,
    /// Assignments they hold open now.
    pub open: u64,
    /// Assignments they acted on in the range.
    pub acted: u64,
    /// Mean time from assignment to action, in milliseconds.
    #[schema(nullable)]
    pub avg_time_to_act_ms: Option<i64>,
    /// p90 of that time, in milliseconds.
    #[schema(nullable)]
    pub p90_time_to_act_ms: Option<i64>,
    /// Received by escalation.
    pub escalations_in: u64,
    /// Escalated by them.
    pub escalations_out: u64,
    /// Transferred to them.
    pub transfers_in: u64,
    /// Transferred away by them.
    pub transfers_out: u64,
}

impl From<AgentFigures> for AgentOut {
    fn from(a: AgentFigures) -> Self {
        AgentOut {
            user_id: a.user,
            name: a.name,
            open: a.open,
            acted: a.acted,
            avg_time_to_act_ms: a.time_to_act.average_ms(),
            p90_time_to_act_ms: a.time_to_act.p90_ms,
            escalations_in: a.escalations_in,
            escalations_out: a.escalations_out,
            transfers_in: a.transfers_in,
            transfers_out: a.transfers_out,
        }
    }
}

/// Agents' figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentReportOut {
    /// The range.
    pub range: RangeOut,
    /// One row per agent with anything to count, by id (table `agents`).
    pub agents: Vec<AgentOut>,
}

/// Time spent on one step of a workflow version.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepTimeOut {
    /// The workflow.
    #[schema(value_type = String, format = Uuid)]
    pub workflow_id: WorkflowId,
    /// The version.
    pub workflow_version: u32,
    /// The step.
    #[schema(value_type = String, format = Uuid)]
    pub step_id: tts_core::ids::StepId,
    /// Its name.
    #[schema(nullable)]
    pub step_name: Option<String>,
    /// Turns on the step that ended in the range.
    pub turns: u64,
    /// Of those, handed on by escalation or transfer.
    pub handed_on: u64,
    /// Mean time per turn, in milliseconds.
    #[schema(nullable)]
    pub avg_ms: Option<i64>,
    /// p90 time per turn, in milliseconds.
    #[schema(nullable)]
    pub p90_ms: Option<i64>,
}

impl From<StepFigures> for StepTimeOut {
    fn from(s: StepFigures) -> Self {
        StepTimeOut {
            workflow_id: s.workflow,
            workflow_version: s.workflow_version,
            step_id: s.step,
            step_name: s.step_name,
            turns: s.time.count,
            handed_on: s.handed_on,
            avg_ms: s.time.average_ms(),
            p90_ms: s.time.p90_ms,
        }
    }
}

/// Time per step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepReportOut {
    /// The range.
    pub range: RangeOut,
    /// One row per step of each workflow version (table `steps`).
    pub steps: Vec<StepTimeOut>,
}

/// Waiting tickets of one category and department.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnroutableGroupOut {
    /// Category (lower case).
    pub category: String,
    /// Department (lower case).
    #[schema(nullable)]
    pub department: Option<String>,
    /// No active workflow matches them.
    pub unroutable: u64,
    /// Allocation still pending.
    pub unallocated: u64,
    /// When the oldest was created.
    pub oldest: DateTime<Utc>,
}

impl From<UnroutableGroup> for UnroutableGroupOut {
    fn from(g: UnroutableGroup) -> Self {
        UnroutableGroupOut {
            category: g.category,
            department: g.department,
            unroutable: g.unroutable,
            unallocated: g.unallocated,
            oldest: g.oldest,
        }
    }
}

/// Tickets created in the range that wait without a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnroutableReportOut {
    /// The range.
    pub range: RangeOut,
    /// All unroutable ones.
    pub unroutable: u64,
    /// All whose allocation is pending.
    pub unallocated: u64,
    /// By category and department (table `groups`).
    pub groups: Vec<UnroutableGroupOut>,
}

/// Writes one table of a report `T` as CSV.
type CsvTable<T> = dyn Fn(&T) -> Result<Vec<u8>, csv::Error>;

/// One table of a report as a CSV download, or the report as JSON.
fn respond<T: Serialize>(
    params: &ReportParams,
    report: &str,
    body: T,
    tables: &[(&str, &CsvTable<T>)],
) -> ApiResult<Response> {
    if params.format.unwrap_or_default() == Format::Json {
        return Ok(Json(body).into_response());
    }
    let wanted = non_empty(&params.table).unwrap_or(tables[0].0);
    let Some((name, write)) = tables.iter().find(|(name, _)| *name == wanted) else {
        let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
        return Err(ApiError::bad_field(
            "table",
            format!(
                "{wanted:?} is not a table of this report: use one of {}",
                names.join(", ")
            ),
        ));
    };
    let bytes = write(&body).map_err(|e| {
        ApiError::Core(tts_core::Error::Backend {
            backend: "csv",
            kind: tts_core::ErrorKind::Internal,
            message: format!("writing CSV: {e}"),
        })
    })?;
    let disposition = format!("attachment; filename=\"{report}-{name}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// Rows as CSV with a header row (the field names).
fn csv_of<R: Serialize>(rows: &[R]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Tickets created, resolved and closed per bucket, the open backlog at each bucket's end, and the
/// range's tickets by status, priority, category and workflow. Admins see all; agents the tickets they
/// hold or held an assignment on. CSV tables: `flow`, `by_status`, `by_priority`, `by_category`,
/// `by_workflow`.
#[utoipa::path(get, path = "/reports/tickets/", tag = "reports", security(("bearer" = [])),
    params(ReportParams),
    responses((status = 200, content((TicketReportOut = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn ticket_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
) -> ApiResult<Response> {
    let query = params.query(state.engine.clock().now())?;
    let r = state.engine.ticket_report(caller.actor(), query.clone()).await?;
    let counts = |list: Vec<Count>| list.into_iter().map(CountOut::from).collect();
    let body = TicketReportOut {
        range: RangeOut::from(&query),
        flow: r.flow.into_iter().map(FlowOut::from).collect(),
        by_status: counts(r.by_status),
        by_priority: counts(r.by_priority),
        by_category: counts(r.by_category),
        by_workflow: counts(r.by_workflow),
    };
    respond(
        &params,
        "tickets",
        body,
        &[
            ("flow", &|b: &TicketReportOut| csv_of(&b.flow)),
            ("by_status", &|b: &TicketReportOut| csv_of(&b.by_status)),
            ("by_priority", &|b: &TicketReportOut| csv_of(&b.by_priority)),
            ("by_category", &|b: &TicketReportOut| csv_of(&b.by_category)),
            ("by_workflow", &|b: &TicketReportOut| csv_of(&b.by_workflow)),
        ],
    )
}

/// SLA outcomes of the assignments whose target fell due in the range: met, breached, open and warned
/// per bucket and per workflow, and the breach rate per step. Agents see their own assignments. CSV
/// tables: `per_bucket`, `per_workflow`, `per_step`.
#[utoipa::path(get, path = "/reports/sla/", tag = "reports", security(("bearer" = [])),
    params(ReportParams),
    responses((status = 200, content((SlaReportOut = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sla_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
) -> ApiResult<Response> {
    let query = params.query(state.engine.clock().now())?;
    let r = state.engine.sla_report(caller.actor(), query.clone()).await?;
    let body = SlaReportOut {
        range: RangeOut::from(&query),
        per_bucket: r.per_bucket.into_iter().map(SlaBucketOut::from).collect(),
        per_workflow: r.per_workflow.into_iter().map(SlaWorkflowOut::from).collect(),
        per_step: r.per_step.into_iter().map(SlaStepOut::from).collect(),
    };
    respond(
        &params,
        "sla",
        body,
        &[
            ("per_bucket", &|b: &SlaReportOut| csv_of(&b.per_bucket)),
            ("per_workflow", &|b: &SlaReportOut| csv_of(&b.per_workflow)),
            ("per_step", &|b: &SlaReportOut| csv_of(&b.per_step)),
        ],
    )
}

/// Per agent: open assignments now, and in the range: actions with their average and p90 time to act,
/// escalations and transfers in and out. An agent gets their own row only. CSV table: `agents`.
#[utoipa::path(get, path = "/reports/agents/", tag = "reports", security(("bearer" = [])),
    params(ReportParams),
    responses((status = 200, content((AgentReportOut = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn agent_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
) -> ApiResult<Response> {
    let query = params.query(state.engine.clock().now())?;
    let rows = state.engine.agent_report(caller.actor(), query.clone()).await?;
    let body = AgentReportOut {
        range: RangeOut::from(&query),
        agents: rows.into_iter().map(AgentOut::from).collect(),
    };
    respond(
        &params,
        "agents",
        body,
        &[("agents", &|b: &AgentReportOut| csv_of(&b.agents))],
    )
}

/// Time spent per step of each workflow version: every turn on the step that ended in the range by an
/// action, an escalation or a transfer, with its average and p90. Agents see their own turns. CSV
/// table: `steps`.
#[utoipa::path(get, path = "/reports/steps/", tag = "reports", security(("bearer" = [])),
    params(ReportParams),
    responses((status = 200, content((StepReportOut = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn step_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
) -> ApiResult<Response> {
    let query = params.query(state.engine.clock().now())?;
    let rows = state.engine.step_report(caller.actor(), query.clone()).await?;
    let body = StepReportOut {
        range: RangeOut::from(&query),
        steps: rows.into_iter().map(StepTimeOut::from).collect(),
    };
    respond(
        &params,
        "steps",
        body,
        &[("steps", &|b: &StepReportOut| csv_of(&b.steps))],
    )
}

/// Tickets created in the range that wait without a task and have not ended: unroutable (no active
/// workflow matches) and unallocated (allocation pending), by category and department (admin only).
/// CSV table: `groups`.
#[utoipa::path(get, path = "/reports/unroutable/", tag = "reports", security(("bearer" = [])),
    params(ReportParams),
    responses((status = 200, content((UnroutableReportOut = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn unroutable_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
) -> ApiResult<Response> {
    let query = params.query(state.engine.clock().now())?;
    let r = state.engine.unroutable_report(caller.actor(), query.clone()).await?;
    let body = UnroutableReportOut {
        range: RangeOut::from(&query),
        unroutable: r.unroutable,
        unallocated: r.unallocated,
        groups: r.groups.into_iter().map(UnroutableGroupOut::from).collect(),
    };
    respond(
        &params,
        "unroutable",
        body,
        &[("groups", &|b: &UnroutableReportOut| csv_of(&b.groups))],
    )
}
