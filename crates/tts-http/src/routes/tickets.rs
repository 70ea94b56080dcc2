//! Tickets: open (idempotently), list with filters, read, edit, withdraw, push to a workflow, history.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Params, RawBody, parse_json, query_bool, query_param};
use crate::pagination::{Paginated, page_request};
use crate::state::AppState;
use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tts_core::domain::audit::AuditEntry;
use tts_core::ports::store::{TicketOrdering, TicketQuery};
use tts_core::{Employee, IdempotencyKey, NewTicket, Priority, Ticket, TicketEdit, TicketRef, TicketStatus, UserId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets, create_ticket))
        .routes(routes!(get_ticket, put_ticket, patch_ticket, delete_ticket))
        .routes(routes!(push_to_workflow))
        .routes(routes!(ticket_history))
}

/// The requester as a ticket records it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct EmployeeDto {
    /// The requester's id in the source system (any JSON value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub id: Option<serde_json::Value>,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Contact e-mail.
    #[serde(default)]
    pub email: String,
}

/// A ticket as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketOut {
    /// Integer id.
    pub id: i64,
    /// `TKT-YYYY-NNNN`.
    #[schema(example = "TKT-2025-0001")]
    pub ticket_id: String,
    /// One-line summary.
    pub subject: String,
    /// Free text.
    pub description: String,
    /// Routing key.
    pub category: String,
    /// Routing key.
    pub subcategory: Option<String>,
    /// Routing key.
    pub department: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    #[schema(value_type = String, example = "high")]
    pub priority: Priority,
    /// `open`, `in_progress`, `on_hold`, `pending`, `resolved`, `closed`, `rejected` or `withdrawn`.
    #[schema(value_type = String, example = "open")]
    pub status: TicketStatus,
    /// The requester.
    pub employee: EmployeeDto,
    /// The user who opened it.
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    /// True once a workflow task runs for it.
    pub is_task_allocated: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Increases by one on every change.
    pub version: u32,
}

impl From<Ticket> for TicketOut {
    fn from(t: Ticket) -> Self {
        TicketOut {
            id: t.id.0,
            ticket_id: t.ticket_id.to_string(),
            subject: t.subject,
            description: t.description,
            category: t.category,
            subcategory: t.subcategory,
            department: t.department,
            priority: t.priority,
            status: t.status,
            employee: EmployeeDto {
                id: t.employee.id,
                name: t.employee.name,
                email: t.employee.email,
            },
            created_by: t.created_by,
            is_task_allocated: t.is_task_allocated,
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

/// A new ticket (the seed's create body).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TicketIn {
    /// One-line summary (1..=255 characters).
    pub subject: String,
    /// Free text (at most 20,000 characters).
    #[serde(default)]
    pub description: String,
    /// Routing key (required).
    pub category: String,
    /// Routing key.
    #[serde(default)]
    pub subcategory: Option<String>,
    /// Routing key.
    #[serde(default)]
    pub department: Option<String>,
    /// `low`, `medium` (default), `high` or `critical`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub priority: Option<Priority>,
    /// The requester; defaults to the caller's own name and e-mail.
    #[serde(default)]
    pub employee: Option<EmployeeDto>,
}

/// Changes to a ticket: every field optional (PATCH); PUT needs `subject` and `category`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    /// New subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New category (before allocation, or admins).
    #[serde(default)]
    pub category: Option<String>,
    /// New subcategory; empty clears.
    #[serde(default)]
    pub subcategory: Option<String>,
    /// New department; empty clears.
    #[serde(default)]
    pub department: Option<String>,
    /// New priority (before allocation, or admins).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub priority: Option<Priority>,
    /// A status move allowed by the status table for the caller (e.g. the requester may close a resolved
    /// ticket).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub status: Option<TicketStatus>,
}

/// One entry of an audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (none for the system).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub actor: Option<UserId>,
    /// What, e.g. `ticket.created`, `task.transitioned`.
    pub action: String,
    /// The task involved, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub task: Option<tts_core::TaskId>,
    /// State before.
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    /// State after.
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
}

impl From<AuditEntry> for AuditOut {
    fn from(e: AuditEntry) -> Self {
        AuditOut {
            at: e.at,
            actor: e.actor,
            action: e.action,
            task: e.task,
            before: e.before,
            after: e.after,
        }
    }
}

/// The answer of `push_to_workflow`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushOut {
    /// `queued` (allocation will run shortly) or `unchanged` (the ticket already has a task or ended).
    pub status: &'static str,
    /// The ticket.
    pub ticket_id: String,
}

pub(crate) fn ticket_ref(raw: &str) -> Result<TicketRef, ApiError> {
    super::path_id("ticket", raw)
}

fn ordering(raw: Option<&str>) -> Result<TicketOrdering, ApiError> {
    Ok(match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("-created_at") => TicketOrdering::NewestFirst,
        Some("created_at") => TicketOrdering::OldestFirst,
        Some("-priority") => TicketOrdering::PriorityDesc,
        Some("-updated_at") => TicketOrdering::UpdatedDesc,
        Some(other) => {
            return Err(ApiError::bad_field(
                "ordering",
                format!("{other:?} is not one of -created_at, created_at, -priority, -updated_at"),
            ));
        }
    })
}

/// The tickets the caller may see, filtered and paginated.
#[utoipa::path(get, path = "/tickets/", tag = "tickets", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("page_size" = Option<u32>, Query, description = "1..=100"),
        ("status" = Option<String>, Query), ("priority" = Option<String>, Query),
        ("category" = Option<String>, Query), ("department" = Option<String>, Query),
        ("is_task_allocated" = Option<bool>, Query),
        ("search" = Option<String>, Query, description = "substring of subject, description or number"),
        ("ordering" = Option<String>, Query, description = "-created_at (default), created_at, -priority, -updated_at")),
    responses((status = 200, body = Paginated<TicketOut>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Paginated<TicketOut>>> {
    let page = page_request(&params)?;
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match params.get(name).map(str::trim).filter(|s| !s.is_empty()) {
            Some(v) if v.chars().count() > 255 => Err(ApiError::bad_field(name, "must be at most 255 characters")),
            v => Ok(v.map(str::to_string)),
        }
    };
    let query = TicketQuery {
        visible_to: None,
        status: query_param("status", params.get("status"))?,
        priority: query_param("priority", params.get("priority"))?,
        category: text("category")?,
        department: text("department")?,
        is_task_allocated: query_bool("is_task_allocated", params.get("is_task_allocated"))?,
        search: text("search")?,
        ordering: ordering(params.get("ordering"))?,
        page,
    };
    let tickets = state.engine.list_tickets(caller.actor(), query).await?;
    Ok(Json(Paginated::from_page(tickets, page, &uri, TicketOut::from)))
}

/// Opens a ticket; allocation to a workflow follows asynchronously (`is_task_allocated` turns true).
///
/// With an `Idempotency-Key` header, a retry with the same key and body returns the first response
/// (200, nothing created); the same key with a different body gets 422.
#[utoipa::path(post, path = "/tickets/", tag = "tickets", security(("bearer" = [])), request_body = TicketIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "1..=255 visible ASCII characters")),
    responses((status = 201, body = TicketOut), (status = 200, body = TicketOut, description = "idempotent replay"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<TicketOut>)> {
    let input: TicketIn = parse_json(&headers, &body)?;
    let employee = input.employee.unwrap_or_else(|| EmployeeDto {
        id: None,
        name: caller.claims.full_name.clone(),
        email: caller.claims.email.clone(),
    });
    let new = NewTicket {
        subject: input.subject,
        description: input.description,
        category: input.category,
        subcategory: input.subcategory,
        department: input.department,
        priority: input.priority.unwrap_or_default(),
        employee: Employee {
            id: employee.id,
            name: employee.name,
            email: employee.email,
        },
        attachments: Vec::new(),
    };
    let key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::invalid_field("Idempotency-Key", "must be visible ASCII"))
        })
        .transpose()?;
    let key = key.map(|key| IdempotencyKey {
        key,
        fingerprint: tts_core::ports::blob::sha256_hex(&body),
    });
    let created = state.engine.create_ticket(caller.actor(), new, key).await?;
    let status = if created.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(created.ticket.into())))
}

/// One ticket, by integer id or `TKT-...` number.
#[utoipa::path(get, path = "/tickets/{id}/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path, description = "integer id or TKT-YYYY-NNNN")),
    responses((status = 200, body = TicketOut), (status = 404, body = ErrorBody)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TicketOut>> {
    Ok(Json(
        state.engine.ticket(caller.actor(), ticket_ref(&id)?).await?.into(),
    ))
}

async fn apply_patch(state: &AppState, caller: &Caller, r: TicketRef, patch: TicketPatch) -> ApiResult<Ticket> {
    let actor = caller.actor();
    let edit = TicketEdit {
        subject: patch.subject,
        description: patch.description,
        category: patch.category,
        subcategory: patch.subcategory,
        department: patch.department,
        priority: patch.priority,
        status: patch.status,
    };
    if edit.is_empty() {
        return Ok(state.engine.ticket(actor, r).await?);
    }
    // Fields and status in one command: both apply or neither does.
    Ok(state.engine.update_ticket(actor, r, edit).await?)
}

/// Replaces a ticket's editable fields (`subject` and `category` required).
#[utoipa::path(put, path = "/tickets/{id}/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TicketPatch,
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(patch): Body<TicketPatch>,
) -> ApiResult<Json<TicketOut>> {
    let r = ticket_ref(&id)?;
    let mut missing = Vec::new();
    if patch.subject.is_none() {
        missing.push(tts_core::FieldError::new("subject", "required"));
    }
    if patch.category.is_none() {
        missing.push(tts_core::FieldError::new("category", "required"));
    }
    if !missing.is_empty() {
        return Err(ApiError::Core(tts_core::Error::Validation(missing)));
    }
    Ok(Json(apply_patch(&state, &caller, r, patch).await?.into()))
}

/// Changes some of a ticket's fields, or its status.
#[utoipa::path(patch, path = "/tickets/{id}/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TicketPatch,
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(patch): Body<TicketPatch>,
) -> ApiResult<Json<TicketOut>> {
    let r = ticket_ref(&id)?;
    Ok(Json(apply_patch(&state, &caller, r, patch).await?.into()))
}

/// Withdraws a ticket (the requester or an admin). Tickets are never erased: the record and its audit
/// trail stay; a running task is cancelled.
#[utoipa::path(delete, path = "/tickets/{id}/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let r = ticket_ref(&id)?;
    state
        .engine
        .change_ticket_status(caller.actor(), r, TicketStatus::Withdrawn)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues allocation for a ticket that has no task yet (e.g. after publishing a workflow for it).
#[utoipa::path(post, path = "/tickets/{id}/push_to_workflow/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = PushOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn push_to_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<PushOut>)> {
    let r = ticket_ref(&id)?;
    let queued = state.engine.request_allocation(caller.actor(), r).await?;
    let ticket = state.engine.ticket(caller.actor(), r).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PushOut {
            status: if queued { "queued" } else { "unchanged" },
            ticket_id: ticket.ticket_id.to_string(),
        }),
    ))
}

/// The audit trail of a ticket and its task, oldest first.
#[utoipa::path(get, path = "/tickets/{id}/history/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<AuditOut>), (status = 404, body = ErrorBody)))]
pub async fn ticket_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let trail = state.engine.ticket_history(caller.actor(), ticket_ref(&id)?).await?;
    Ok(Json(trail.into_iter().map(AuditOut::from).collect()))
}
