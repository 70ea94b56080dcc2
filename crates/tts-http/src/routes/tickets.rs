//! Tickets: open (idempotently), list with filters, read, edit, withdraw, push to a workflow, history.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query, RawBody, lenient_bool, parse_json};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::schema;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tts_core::domain::audit::AuditEntry;
use tts_core::ports::store::{TicketOrdering, TicketQuery};
use tts_core::{
    Employee, IdempotencyKey, NewTicket, Priority, Ticket, TicketEdit, TicketRef, TicketScope, TicketStatus, UserId,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets, create_ticket))
        .routes(routes!(get_ticket, put_ticket, patch_ticket, delete_ticket))
        .routes(routes!(push_to_workflow))
        .routes(routes!(ticket_history))
        .routes(routes!(ticket_events))
}

/// The requester as a ticket records it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct EmployeeDto {
    /// The requester's id in the source system (any JSON value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Value)]
    pub id: Option<serde_json::Value>,
    /// Display name (at most 255 characters).
    #[serde(default)]
    #[schema(max_length = 255)]
    pub name: String,
    /// Contact e-mail (at most 255 characters).
    #[serde(default)]
    #[schema(max_length = 255)]
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
    #[schema(value_type = schema::Priority, example = "high")]
    pub priority: Priority,
    /// `open`, `in_progress`, `on_hold`, `pending`, `resolved`, `closed`, `rejected` or `withdrawn`.
    #[schema(value_type = schema::TicketStatus, example = "open")]
    pub status: TicketStatus,
    /// The requester.
    pub employee: EmployeeDto,
    /// The user who opened it.
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    /// True once a workflow task runs for it.
    pub is_task_allocated: bool,
    /// The workflow its task runs, once it has one.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub workflow_id: Option<tts_core::WorkflowId>,
    /// Why no workflow task could be started (no active workflow matches the ticket); admins are notified.
    /// Cleared once it is allocated.
    pub unroutable: Option<String>,
    /// The ticket's files (those of internal notes only for admins; see `GET /tickets/{id}/attachments/`).
    pub attachments: Vec<super::attachments::AttachmentOut>,
    /// When it was resolved, if it was.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was closed, rejected or withdrawn, if it was.
    pub closed_at: Option<DateTime<Utc>>,
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
            workflow_id: t.workflow_id,
            unroutable: t.unroutable,
            attachments: t.attachments.into_iter().map(Into::into).collect(),
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

/// A new ticket (the seed's create body). Unknown fields are refused (422 naming them), so a misspelt
/// routing field such as `sub_category` cannot silently change where the ticket goes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketIn {
    /// One-line summary (1..=255 characters, not blank).
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 255
    )]
    pub subject: String,
    /// Free text (at most 20,000 characters).
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: String,
    /// Routing key (required, not blank, at most 100 characters).
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 100
    )]
    pub category: String,
    /// Routing key (at most 100 characters; blank means none).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub subcategory: Option<String>,
    /// Routing key (at most 100 characters; blank means none).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub department: Option<String>,
    /// `low`, `medium` (default), `high` or `critical`.
    #[serde(default)]
    #[schema(value_type = Option<schema::Priority>)]
    pub priority: Option<Priority>,
    /// The requester; defaults to the caller's own name and e-mail.
    #[serde(default, deserialize_with = "crate::extract::object")]
    pub employee: Option<EmployeeDto>,
}

/// Changes to a ticket: every field optional (PATCH); PUT needs `subject` and `category`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    /// New subject (not blank, at most 255 characters).
    #[serde(default)]
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 255
    )]
    pub subject: Option<String>,
    /// New description (at most 20,000 characters).
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// New category (before allocation, or admins; not blank, at most 100 characters).
    #[serde(default)]
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 100
    )]
    pub category: Option<String>,
    /// New subcategory; empty clears.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub subcategory: Option<String>,
    /// New department; empty clears.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub department: Option<String>,
    /// New priority (before allocation, or admins).
    #[serde(default)]
    #[schema(value_type = Option<schema::Priority>)]
    pub priority: Option<Priority>,
    /// A status move allowed by the status table for the caller (e.g. the requester may close a resolved
    /// ticket).
    #[serde(default)]
    #[schema(value_type = Option<schema::TicketStatus>)]
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
    /// Who, by display name (none for the system).
    pub actor_name: Option<String>,
    /// What, e.g. `ticket.created`, `task.transitioned`.
    pub action: String,
    /// The task involved, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub task: Option<tts_core::TaskId>,
    /// State before (any JSON value; null when there was none).
    #[schema(value_type = Value)]
    pub before: serde_json::Value,
    /// State after (any JSON value; null when there is none).
    #[schema(value_type = Value)]
    pub after: serde_json::Value,
}

/// A page of a trail with who acted by display name.
pub(crate) async fn trail_page(
    state: &AppState,
    trail: Vec<AuditEntry>,
    page: tts_core::ports::PageRequest,
    url: &PageUrl,
) -> ApiResult<Paginated<AuditOut>> {
    let mut actors: Vec<UserId> = trail.iter().filter_map(|e| e.actor).collect();
    actors.sort();
    actors.dedup();
    let names = state.engine.display_names(&actors).await?;
    Ok(Paginated::from_vec(trail, page, url, |e| {
        let actor_name = e.actor.and_then(|a| names.get(&a).cloned());
        AuditOut {
            actor_name,
            ..AuditOut::from(e)
        }
    }))
}

impl From<AuditEntry> for AuditOut {
    fn from(e: AuditEntry) -> Self {
        AuditOut {
            at: e.at,
            actor: e.actor,
            actor_name: None,
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
    let r: TicketRef = super::path_id("ticket", raw)?;
    tracing::Span::current().record("ticket", tracing::field::display(&r));
    Ok(r)
}

/// How `GET /tickets/` orders.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
pub enum Ordering {
    /// Newest first (the default).
    #[default]
    #[serde(rename = "-created_at")]
    NewestFirst,
    /// Oldest first.
    #[serde(rename = "created_at")]
    OldestFirst,
    /// Most urgent first.
    #[serde(rename = "-priority")]
    PriorityDesc,
    /// Most recently changed first.
    #[serde(rename = "-updated_at")]
    UpdatedDesc,
}

impl From<Ordering> for TicketOrdering {
    fn from(o: Ordering) -> Self {
        match o {
            Ordering::NewestFirst => TicketOrdering::NewestFirst,
            Ordering::OldestFirst => TicketOrdering::OldestFirst,
            Ordering::PriorityDesc => TicketOrdering::PriorityDesc,
            Ordering::UpdatedDesc => TicketOrdering::UpdatedDesc,
        }
    }
}

/// The filters of `GET /tickets/`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketFilters {
    /// Which of the tickets the caller may see (default `all`): `mine` (created by the caller),
    /// `assigned` (the caller holds an open assignment on its task: new, in progress or breached),
    /// `acted` (an assignment of the caller on its task ended by the caller's own action, escalation or
    /// transfer), `closed` (resolved, closed, rejected or withdrawn), `all`, or `unassigned` (not
    /// allocated to a workflow and not closed; admins only, others get 403).
    #[param(value_type = Option<schema::TicketScope>, inline)]
    pub scope: Option<TicketScope>,
    /// Only tickets with this status.
    #[param(value_type = Option<schema::TicketStatus>, inline)]
    pub status: Option<TicketStatus>,
    /// Only tickets with this priority.
    #[param(value_type = Option<schema::Priority>, inline)]
    pub priority: Option<Priority>,
    /// Only this category (case-insensitive; empty: any).
    #[param(max_length = 255)]
    pub category: Option<String>,
    /// Only this department (case-insensitive; empty: any).
    #[param(max_length = 255)]
    pub department: Option<String>,
    /// Only tickets that have (or have not) got a workflow task.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_task_allocated: Option<bool>,
    /// A substring of the subject, the description or the ticket number (empty: any).
    #[param(max_length = 255)]
    pub search: Option<String>,
    /// The order (default `-created_at`).
    #[param(value_type = Option<Ordering>, inline)]
    pub ordering: Option<Ordering>,
}

fn at_most_255(name: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    match v.filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > 255 => Err(ApiError::bad_field(name, "must be at most 255 characters")),
        v => Ok(v),
    }
}

/// The tickets the caller may see, narrowed to a scope, filtered and paginated.
#[utoipa::path(get, path = "/tickets/", tag = "tickets", security(("bearer" = [])),
    params(PageParams, TicketFilters),
    responses((status = 200, body = Paginated<TicketOut>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`scope=unassigned` asked by a non-admin")))]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<PageParams>,
    Query(filters): Query<TicketFilters>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<TicketOut>>> {
    let page = paging.request()?;
    let query = TicketQuery {
        status: filters.status,
        priority: filters.priority,
        category: at_most_255("category", filters.category)?,
        department: at_most_255("department", filters.department)?,
        is_task_allocated: filters.is_task_allocated,
        search: at_most_255("search", filters.search)?,
        ordering: filters.ordering.unwrap_or_default().into(),
        page,
        ..TicketQuery::default()
    };
    let scope = filters.scope.unwrap_or_default();
    let tickets = state.engine.list_tickets_in(caller.actor(), scope, query).await?;
    Ok(Json(Paginated::from_page(tickets, page, &url, TicketOut::from)))
}

/// Opens a ticket; allocation to a workflow follows asynchronously (`is_task_allocated` turns true).
///
/// With an `Idempotency-Key` header, a retry with the same key and body returns the first response
/// (200, nothing created); the same key with a different body gets 422.
#[utoipa::path(post, path = "/tickets/", tag = "tickets", security(("bearer" = [])), request_body = TicketIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "1..=255 visible ASCII characters",
        pattern = r"^[!-~]{1,255}$")),
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
    let created = match key {
        // Without a key, concurrent creates share one command (see `crate::batch`).
        None if state.config.create_batch > 1 => {
            let request = tts_core::CreateRequest {
                actor: caller.actor(),
                new,
            };
            let ticket = state.creates().create(request).await?;
            tts_core::Created { ticket, created: true }
        }
        key => state.engine.create_ticket(caller.actor(), new, key).await?,
    };
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

/// A ticket's editable fields as `PUT` replaces them: `subject` and `category` are required; fields
/// left out stay as they are.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPut {
    /// New subject (not blank, at most 255 characters).
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]", max_length = 255)]
    pub subject: Option<String>,
    /// New description (at most 20,000 characters).
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// New category (before allocation, or admins; not blank, at most 100 characters).
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]", max_length = 100)]
    pub category: Option<String>,
    /// New subcategory; empty clears.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub subcategory: Option<String>,
    /// New department; empty clears.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub department: Option<String>,
    /// New priority (before allocation, or admins).
    #[serde(default)]
    #[schema(value_type = Option<schema::Priority>)]
    pub priority: Option<Priority>,
    /// A status move allowed by the status table for the caller.
    #[serde(default)]
    #[schema(value_type = Option<schema::TicketStatus>)]
    pub status: Option<TicketStatus>,
}

/// Replaces a ticket's editable fields (`subject` and `category` required).
#[utoipa::path(put, path = "/tickets/{id}/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = TicketPut,
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(put): Body<TicketPut>,
) -> ApiResult<Json<TicketOut>> {
    let r = ticket_ref(&id)?;
    let mut missing = Vec::new();
    if put.subject.is_none() {
        missing.push(tts_core::FieldError::new("subject", "required"));
    }
    if put.category.is_none() {
        missing.push(tts_core::FieldError::new("category", "required"));
    }
    if !missing.is_empty() {
        return Err(ApiError::Core(tts_core::Error::Validation(missing)));
    }
    let patch = TicketPatch {
        subject: put.subject,
        description: put.description,
        category: put.category,
        subcategory: put.subcategory,
        department: put.department,
        priority: put.priority,
        status: put.status,
    };
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
    params(("id" = String, Path), PageParams),
    responses((status = 200, body = Paginated<AuditOut>), (status = 404, body = ErrorBody)))]
pub async fn ticket_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<AuditOut>>> {
    let page = paging.request()?;
    let trail = state.engine.ticket_history(caller.actor(), ticket_ref(&id)?).await?;
    Ok(Json(trail_page(&state, trail, page, &url).await?))
}

/// Where `GET /tickets/{id}/events/` starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsAfter {
    /// RFC 3339 time: only what happened after it (the `at` of the last live-feed event seen).
    #[param(value_type = String, format = DateTime, example = "2026-11-29T10:00:00Z")]
    pub after: DateTime<Utc>,
}

/// What happened to a ticket after a time, as the caller may see it (entries of its history): a live
/// feed client that reconnects asks with the `at` of the last event it saw, then follows the feed.
#[utoipa::path(get, path = "/tickets/{id}/events/", tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path), EventsAfter, PageParams),
    responses((status = 200, body = Paginated<AuditOut>), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn ticket_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(after): Query<EventsAfter>,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<AuditOut>>> {
    let page = paging.request()?;
    let entries = state
        .engine
        .ticket_events(caller.actor(), ticket_ref(&id)?, after.after)
        .await?;
    Ok(Json(trail_page(&state, entries, page, &url).await?))
}
