//! Workflows: drafts, validation, publishing (frozen versions), pause, archive, matching dry run, and
//! the transitions (actions) of a workflow.

use crate::auth::Caller;
use crate::diagram::{self, Diagram};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query, RawBody, from_json_value, parse_json_value};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::schema;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tts_core::domain::matching::TicketKey;
use tts_core::{Priority, Problem, RoleId, TaskId, Workflow, WorkflowDefinition, WorkflowId, WorkflowStatus};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workflows, create_workflow))
        .routes(routes!(get_workflow, put_workflow, archive_workflow))
        .routes(routes!(publish_workflow))
        .routes(routes!(pause_workflow))
        .routes(routes!(validate_workflow))
        .routes(routes!(match_workflow))
        .routes(routes!(list_transitions))
        .routes(routes!(workflow_diagram))
}

/// A workflow: `id`, `status` (`draft`, `active`, `paused`, `archived`), `version` (0 until published),
/// and its definition fields (`name`, `description`, `match_key`, `is_default`, `sla`, `steps`,
/// `transitions`), `created_at`, `updated_at`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = schema::Workflow)]
pub struct WorkflowOut(pub Workflow);

/// A workflow definition as an admin writes it: `name`, `description`, `match_key {category,
/// subcategory, department, priority}`, `is_default`, `sla {low, medium, high, critical}` (seconds),
/// `steps [{id, name, role_id, weight, is_start, is_end, escalate_to, strategy}]` and `transitions [{id,
/// name, from_step, to_step}]`; step and transition ids are UUIDs chosen by the client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = schema::WorkflowDefinition)]
pub struct WorkflowIn(pub WorkflowDefinition);

impl WorkflowIn {
    /// Reads a definition from a JSON body: serde alone would also read the nested objects from arrays,
    /// and SLA targets are bounded as the document says (at most `i64::MAX` seconds, what every store
    /// keeps).
    pub fn from_body(headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let value = parse_json_value(headers, body)?;
        let expect = |path: String, v: Option<&serde_json::Value>, array: bool| match v {
            Some(v) if !(if array { v.is_array() } else { v.is_object() }) => Err(ApiError::invalid_field(
                path,
                format!(
                    "invalid type: {}, expected {}",
                    crate::extract::kind_of(v),
                    if array { "an array" } else { "an object" }
                ),
            )),
            _ => Ok(()),
        };
        expect("match_key".into(), value.get("match_key"), false)?;
        expect("sla".into(), value.get("sla").filter(|v| !v.is_null()), false)?;
        for list in ["steps", "transitions"] {
            expect(list.into(), value.get(list), true)?;
            for (i, item) in value
                .get(list)
                .and_then(|l| l.as_array())
                .into_iter()
                .flatten()
                .enumerate()
            {
                expect(format!("{list}[{i}]"), Some(item), false)?;
                if list == "steps" {
                    expect(format!("{list}[{i}].position"), item.get("position"), false)?;
                }
            }
        }
        let def: WorkflowDefinition = from_json_value(value)?;
        let sla = def.sla;
        for (name, v) in [
            ("low", sla.low),
            ("medium", sla.medium),
            ("high", sla.high),
            ("critical", sla.critical),
        ] {
            if v.is_some_and(|v| i64::try_from(v).is_err()) {
                return Err(ApiError::invalid_field(
                    format!("sla.{name}"),
                    format!("must be at most {} seconds", i64::MAX),
                ));
            }
        }
        Ok(WorkflowIn(def))
    }
}

/// A validation report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationOut {
    /// True when the definition can be published.
    pub valid: bool,
    /// Every rule broken, in words.
    pub problems: Vec<String>,
    /// The same problems, machine-readable.
    #[schema(value_type = Vec<Object>)]
    pub problem_codes: Vec<Problem>,
    /// Roles of the steps that no active user holds: tickets would wait there.
    #[schema(value_type = Vec<String>)]
    pub roles_without_active_users: Vec<RoleId>,
}

/// The routing fields of a hypothetical ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchIn {
    /// Category (not blank).
    #[schema(pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]")]
    pub category: String,
    /// Subcategory.
    #[serde(default)]
    pub subcategory: Option<String>,
    /// Department.
    #[serde(default)]
    pub department: Option<String>,
    /// Priority (default `medium`).
    #[serde(default)]
    #[schema(value_type = Option<schema::Priority>)]
    pub priority: Option<Priority>,
}

/// Which workflow a ticket would get, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchOut {
    /// The chosen workflow, if any.
    pub workflow: Option<WorkflowOut>,
    /// How specific the match was: `subcategory_and_priority`, `subcategory`, `priority`, `category` or
    /// `default`.
    pub tier: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}

/// One action of a workflow.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionOut {
    /// The action id (`action_id` of `POST /tasks/{id}/action/`).
    #[schema(value_type = String, format = Uuid)]
    pub id: tts_core::ActionId,
    /// Button label.
    pub name: String,
    /// The step it leaves.
    #[schema(value_type = String, format = Uuid)]
    pub from_step: tts_core::StepId,
    /// The step's name.
    pub from_step_name: String,
    /// The step it leads to; none completes the task.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub to_step: Option<tts_core::StepId>,
    /// That step's name.
    pub to_step_name: Option<String>,
}

fn workflow_id(raw: &str) -> Result<WorkflowId, ApiError> {
    super::path_id("workflow", raw)
}

/// The filters of `GET /workflows/`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowFilters {
    /// Only workflows with this status.
    #[param(value_type = Option<schema::WorkflowStatus>, inline)]
    pub status: Option<WorkflowStatus>,
}

/// Every workflow, by name (`?status=` filters), paginated.
#[utoipa::path(get, path = "/workflows/", tag = "workflows", security(("bearer" = [])),
    params(WorkflowFilters, PageParams),
    responses((status = 200, body = Paginated<WorkflowOut>), (status = 400, body = ErrorBody)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    _caller: Caller,
    Query(paging): Query<PageParams>,
    Query(filters): Query<WorkflowFilters>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<WorkflowOut>>> {
    let page = paging.request()?;
    let all = state.engine.workflows(filters.status).await?;
    Ok(Json(Paginated::from_vec(all, page, &url, WorkflowOut)))
}

/// Creates a draft (admin only); drafts take no tickets until published.
#[utoipa::path(post, path = "/workflows/", tag = "workflows", security(("bearer" = [])), request_body = WorkflowIn,
    responses((status = 201, body = WorkflowOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_workflow(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<WorkflowOut>)> {
    let actor = caller.require_admin()?;
    let def = WorkflowIn::from_body(&headers, &body)?;
    let w = state.engine.create_workflow(actor, def.0).await?;
    Ok((StatusCode::CREATED, Json(WorkflowOut(w))))
}

/// One workflow.
#[utoipa::path(get, path = "/workflows/{id}/", tag = "workflows", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = WorkflowOut), (status = 404, body = ErrorBody)))]
pub async fn get_workflow(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowOut>> {
    Ok(Json(WorkflowOut(state.engine.workflow(workflow_id(&id)?).await?)))
}

/// Replaces the definition (admin only). Running tasks keep the version they started on.
#[utoipa::path(put, path = "/workflows/{id}/", tag = "workflows", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = WorkflowIn,
    responses((status = 200, body = WorkflowOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<WorkflowOut>> {
    let actor = caller.require_admin()?;
    let def = WorkflowIn::from_body(&headers, &body)?;
    let w = state.engine.update_workflow(actor, workflow_id(&id)?, def.0).await?;
    Ok(Json(WorkflowOut(w)))
}

/// Archives a workflow (admin only): it takes no new tickets; running tasks finish on it.
#[utoipa::path(delete, path = "/workflows/{id}/", tag = "workflows", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn archive_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = caller.require_admin()?;
    state.engine.archive_workflow(actor, workflow_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The parameters of `GET /workflows/{id}/diagram/`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiagramParams {
    /// A task of this workflow to mark: each step's state for it and the moves it made.
    #[param(value_type = Option<String>, format = Uuid)]
    pub task: Option<uuid::Uuid>,
}

/// The workflow's diagram: a box per step and an arrow per action, laid out top to bottom from the
/// start step. `?task=` adds that task's progress (drawn on the version it is pinned to); a task the
/// caller may not see, or of another workflow, is not found.
#[utoipa::path(get, path = "/workflows/{id}/diagram/", tag = "workflows", security(("bearer" = [])),
    params(("id" = String, Path), DiagramParams),
    responses((status = 200, body = Diagram), (status = 404, body = ErrorBody)))]
pub async fn workflow_diagram(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<DiagramParams>,
) -> ApiResult<Json<Diagram>> {
    let w = state.engine.workflow(workflow_id(&id)?).await?;
    let task = params.task.map(TaskId);
    Ok(Json(diagram::diagram(&state.engine, caller.actor(), w, task).await?))
}

/// Validates and publishes (admin only): freezes a new version that new tickets match. A definition
/// with problems gets 422 listing every one under `fields.definition`.
#[utoipa::path(post, path = "/workflows/{id}/publish/", tag = "workflows", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = WorkflowOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowOut>> {
    let actor = caller.require_admin()?;
    Ok(Json(WorkflowOut(
        state.engine.publish_workflow(actor, workflow_id(&id)?).await?,
    )))
}

/// Pauses an active workflow (admin only): it takes no new tickets until published again.
#[utoipa::path(post, path = "/workflows/{id}/pause/", tag = "workflows", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = WorkflowOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn pause_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowOut>> {
    let actor = caller.require_admin()?;
    Ok(Json(WorkflowOut(
        state.engine.pause_workflow(actor, workflow_id(&id)?).await?,
    )))
}

/// Checks a workflow without publishing it.
#[utoipa::path(get, path = "/workflows/{id}/validate/", tag = "workflows", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ValidationOut), (status = 404, body = ErrorBody)))]
pub async fn validate_workflow(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ValidationOut>> {
    let report = state.engine.validate_workflow(workflow_id(&id)?).await?;
    Ok(Json(ValidationOut {
        valid: report.problems.is_empty(),
        problems: report.problems.iter().map(ToString::to_string).collect(),
        problem_codes: report.problems,
        roles_without_active_users: report.roles_without_active_users,
    }))
}

/// Which active workflow a ticket with these routing fields would get (dry run; nothing changes).
#[utoipa::path(post, path = "/workflows/match/", tag = "workflows", security(("bearer" = [])),
    request_body = MatchIn, responses((status = 200, body = MatchOut), (status = 422, body = ErrorBody)))]
pub async fn match_workflow(
    State(state): State<AppState>,
    _caller: Caller,
    Body(key): Body<MatchIn>,
) -> ApiResult<Json<MatchOut>> {
    if key.category.trim().is_empty() {
        return Err(ApiError::invalid_field("category", "must not be empty"));
    }
    let key = TicketKey {
        category: key.category,
        subcategory: key.subcategory,
        department: key.department,
        priority: key.priority.unwrap_or_default(),
    };
    let run = state.engine.match_dry_run(&key).await?;
    Ok(Json(MatchOut {
        tier: run.explanation.decision.map(|m| m.tier.to_string()),
        reason: run.explanation.reason,
        workflow: run.workflow.map(WorkflowOut),
    }))
}

/// The parameters of `GET /transitions/`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransitionFilters {
    /// The workflow whose actions to list.
    #[param(value_type = String, format = Uuid)]
    pub workflow_id: uuid::Uuid,
}

/// The actions of a workflow (`?workflow_id=` required), paginated.
#[utoipa::path(get, path = "/transitions/", tag = "workflows", security(("bearer" = [])),
    params(TransitionFilters, PageParams),
    responses((status = 200, body = Paginated<TransitionOut>), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_transitions(
    State(state): State<AppState>,
    _caller: Caller,
    Query(paging): Query<PageParams>,
    Query(filters): Query<TransitionFilters>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<TransitionOut>>> {
    let page = paging.request()?;
    let w = state.engine.workflow(WorkflowId(filters.workflow_id)).await?;
    let def = &w.definition;
    let name = |s: tts_core::StepId| def.step(s).map(|s| s.name.clone());
    let all: Vec<TransitionOut> = def
        .transitions
        .iter()
        .map(|t| TransitionOut {
            id: t.id,
            name: t.name.clone(),
            from_step: t.from_step,
            from_step_name: name(t.from_step).unwrap_or_default(),
            to_step: t.to_step,
            to_step_name: t.to_step.and_then(name),
        })
        .collect();
    Ok(Json(Paginated::from_vec(all, page, &url, |t| t)))
}
