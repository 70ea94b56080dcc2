//! Tasks: the caller's work, a task's detail, the actions available now, taking an action, escalating,
//! transferring, and the task's history.

use super::tickets::{AuditOut, TicketOut};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query, lenient_bool};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tts_core::{
    ActionId, ActionOutcome, Assignment, AssignmentId, AssignmentStatus, Origin, RoleId, StepId, TaskId, TaskStatus,
    UserId, WorkflowId,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks))
        .routes(routes!(get_task))
        .routes(routes!(available_actions))
        .routes(routes!(perform_action))
        .routes(routes!(escalate))
        .routes(routes!(transfer))
        .routes(routes!(task_history))
}

/// One user's assignment on one step of a task.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentOut {
    /// The assignment.
    #[schema(value_type = String, format = Uuid)]
    pub assignment_id: AssignmentId,
    /// Its task (`/tasks/{task_id}/`).
    #[schema(value_type = String, format = Uuid)]
    pub task_id: TaskId,
    /// The assignee.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// The role the work came through.
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    /// The step.
    #[schema(value_type = String, format = Uuid)]
    pub step_id: StepId,
    /// `system`, `transferred` or `escalated`.
    #[schema(value_type = String)]
    pub origin: Origin,
    /// `new`, `in_progress`, `breached` (open) or a closed status.
    #[schema(value_type = String)]
    pub status: AssignmentStatus,
    /// When it was assigned.
    pub assigned_at: DateTime<Utc>,
    /// When the SLA share of this step runs out.
    pub target_resolution: Option<DateTime<Utc>>,
    /// When the holder acted.
    pub acted_at: Option<DateTime<Utc>>,
    /// Transfer or escalation notes.
    pub notes: String,
}

impl From<Assignment> for AssignmentOut {
    fn from(a: Assignment) -> Self {
        AssignmentOut {
            assignment_id: a.id,
            task_id: a.task,
            user_id: a.user,
            role_id: a.role,
            step_id: a.step,
            origin: a.origin,
            status: a.status,
            assigned_at: a.assigned_at,
            target_resolution: a.target_resolution,
            acted_at: a.acted_at,
            notes: a.notes,
        }
    }
}

/// A step, briefly.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepOut {
    /// The step.
    #[schema(value_type = String, format = Uuid)]
    pub step_id: StepId,
    /// Its name.
    pub name: String,
    /// What the assignee should do.
    pub instruction: String,
}

/// A task with its ticket, current step and assignments.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    /// The task.
    #[schema(value_type = String, format = Uuid)]
    pub task_id: TaskId,
    /// `in_progress`, `completed` or `cancelled`...
    #[schema(value_type = String)]
    pub status: TaskStatus,
    /// Its ticket.
    pub ticket: TicketOut,
    /// The workflow.
    #[schema(value_type = String, format = Uuid)]
    pub workflow_id: WorkflowId,
    /// The workflow's name.
    pub workflow_name: String,
    /// The version the task is pinned to.
    pub workflow_version: u32,
    /// Where work is.
    pub current_step: StepOut,
    /// Every assignment, oldest first.
    pub assignments: Vec<AssignmentOut>,
    /// The task's SLA target.
    pub target_resolution: Option<DateTime<Utc>>,
    /// When it completed.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// One action the holder could take.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionOut {
    /// The id to send as `action_id`.
    #[schema(value_type = String, format = Uuid)]
    pub action_id: ActionId,
    /// Button label.
    pub name: String,
    /// Where it leads; none completes the task.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub to_step: Option<StepId>,
    /// That step's name.
    pub to_step_name: Option<String>,
}

/// The actions on the current step.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableActionsOut {
    /// Where work is.
    pub current_step: StepOut,
    /// Its actions.
    pub actions: Vec<ActionOut>,
    /// True when the caller holds the open assignment and may act.
    pub can_act: bool,
}

/// An action to take.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    /// One of the available actions.
    #[schema(value_type = String, format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub action_id: ActionId,
    /// A note recorded in the history (at most 5,000 characters).
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub comment: String,
}

/// Where work went after an action.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextStepOut {
    /// The step.
    #[schema(value_type = String, format = Uuid)]
    pub step_id: StepId,
    /// Its name.
    pub name: String,
    /// The new assignee's e-mail.
    pub assigned_to: String,
}

/// The answer of an action: `{status: "transitioned", next_step: {...}}` or `{status: "completed",
/// next_step: null}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionResultOut {
    /// `transitioned` or `completed`.
    pub status: &'static str,
    /// The next step, none when the task completed.
    pub next_step: Option<NextStepOut>,
}

/// An escalation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateIn {
    /// Why (required, not blank, at most 5,000 characters).
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 5000
    )]
    pub reason: String,
}

/// A transfer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    /// Who takes over (must hold the step's role).
    #[schema(value_type = String, format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub user_id: UserId,
    /// Handover notes (at most 5,000 characters).
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub notes: String,
}

fn task_id(raw: &str) -> Result<TaskId, ApiError> {
    super::path_id("task", raw)
}

fn step_out(s: &tts_core::Step) -> StepOut {
    StepOut {
        step_id: s.id,
        name: s.name.clone(),
        instruction: s.instruction.clone(),
    }
}

/// The filters of `GET /tasks/`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilters {
    /// Only open assignments.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub open: Option<bool>,
    /// Everyone's assignments, not only the caller's (admins only; others get 403).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub all: Option<bool>,
}

/// The caller's assignments, newest first (`?open=true` only open ones; admins may pass `?all=true`).
#[utoipa::path(get, path = "/tasks/", tag = "tasks", security(("bearer" = [])),
    params(TaskFilters, PageParams),
    responses((status = 200, body = Paginated<AssignmentOut>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<PageParams>,
    Query(filters): Query<TaskFilters>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<AssignmentOut>>> {
    let page = paging.request()?;
    let open = filters.open.unwrap_or(false);
    let all = filters.all.unwrap_or(false);
    if all {
        caller.require_admin()?;
    }
    let list = state.engine.assignments(caller.actor(), open, all, page).await?;
    Ok(Json(Paginated::from_page(list, page, &url, AssignmentOut::from)))
}

/// A task the caller may see.
#[utoipa::path(get, path = "/tasks/{id}/", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TaskOut), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TaskOut>> {
    let v = state.engine.task(caller.actor(), task_id(&id)?).await?;
    Ok(Json(TaskOut {
        task_id: v.task.id,
        status: v.task.status,
        workflow_id: v.task.workflow_id,
        workflow_name: v.workflow_name,
        workflow_version: v.task.workflow_version,
        current_step: step_out(&v.current_step),
        assignments: v.assignments.into_iter().map(AssignmentOut::from).collect(),
        target_resolution: v.task.target_resolution,
        resolved_at: v.task.resolved_at,
        created_at: v.task.created_at,
        ticket: v.ticket.into(),
    }))
}

/// The actions of the task's current step, and whether the caller may take them.
#[utoipa::path(get, path = "/tasks/{id}/available-actions/", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = AvailableActionsOut), (status = 404, body = ErrorBody)))]
pub async fn available_actions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AvailableActionsOut>> {
    let a = state.engine.available_actions(caller.actor(), task_id(&id)?).await?;
    Ok(Json(AvailableActionsOut {
        current_step: step_out(&a.current_step),
        actions: a
            .actions
            .into_iter()
            .map(|x| ActionOut {
                action_id: x.action_id,
                name: x.name,
                to_step: x.to_step,
                to_step_name: x.to_step_name,
            })
            .collect(),
        can_act: a.can_act,
    }))
}

/// Takes an action on the current step: moves work to the next step (and assigns it) or completes the
/// task and resolves the ticket. Only the holder of the open assignment may act, once.
#[utoipa::path(post, path = "/tasks/{id}/action/", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ActionIn,
    responses((status = 200, body = ActionResultOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn perform_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(input): Body<ActionIn>,
) -> ApiResult<Json<ActionResultOut>> {
    let outcome = state
        .engine
        .perform_action(caller.actor(), task_id(&id)?, input.action_id, &input.comment)
        .await?;
    Ok(Json(match outcome {
        ActionOutcome::Transitioned {
            next_step, assignee, ..
        } => ActionResultOut {
            status: "transitioned",
            next_step: Some(NextStepOut {
                step_id: next_step.id,
                name: next_step.name,
                assigned_to: assignee.email,
            }),
        },
        ActionOutcome::Completed { .. } => ActionResultOut {
            status: "completed",
            next_step: None,
        },
    }))
}

/// Escalates the caller's open assignment to the step's escalation role.
#[utoipa::path(post, path = "/tasks/{id}/escalate/", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = EscalateIn,
    responses((status = 200, body = AssignmentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn escalate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(input): Body<EscalateIn>,
) -> ApiResult<Json<AssignmentOut>> {
    let a = state
        .engine
        .escalate(caller.actor(), task_id(&id)?, &input.reason)
        .await?;
    Ok(Json(a.into()))
}

/// Hands the caller's open assignment (or, for admins, the current one) to another holder of the role.
#[utoipa::path(post, path = "/tasks/{id}/transfer/", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TransferIn,
    responses((status = 200, body = AssignmentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(input): Body<TransferIn>,
) -> ApiResult<Json<AssignmentOut>> {
    let a = state
        .engine
        .transfer(caller.actor(), task_id(&id)?, input.user_id, &input.notes)
        .await?;
    Ok(Json(a.into()))
}

/// The audit trail of a task, oldest first.
#[utoipa::path(get, path = "/tasks/{id}/history/", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path), PageParams),
    responses((status = 200, body = Paginated<AuditOut>), (status = 404, body = ErrorBody)))]
pub async fn task_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<AuditOut>>> {
    let page = paging.request()?;
    let trail = state.engine.task_history(caller.actor(), task_id(&id)?).await?;
    Ok(Json(super::tickets::trail_page(&state, trail, page, &url).await?))
}
