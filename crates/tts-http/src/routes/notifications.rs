//! In-app notifications: the caller's own list, read flags, and the service/admin send.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Query, lenient_bool};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::schema;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tts_core::{Notification, NotificationId, NotificationRequest, NotificationType, TaskId, TicketNumber, UserId};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications, send_notification))
        .routes(routes!(mark_notification))
        .routes(routes!(mark_all_read))
}

/// A notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    /// Identifier.
    #[schema(value_type = String, format = Uuid)]
    pub id: NotificationId,
    /// The recipient.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// Why it was sent, e.g. `task_assignment`.
    #[serde(rename = "type")]
    #[schema(value_type = schema::NotificationType)]
    pub kind: NotificationType,
    /// Short subject.
    pub subject: String,
    /// Body.
    pub message: String,
    /// The ticket it is about.
    pub related_ticket: Option<String>,
    /// The task it is about.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub related_task: Option<TaskId>,
    /// Read flag.
    pub is_read: bool,
    /// When it was read.
    pub read_at: Option<DateTime<Utc>>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationOut {
    fn from(n: Notification) -> Self {
        NotificationOut {
            id: n.id,
            user_id: n.user_id,
            kind: n.kind,
            subject: n.subject,
            message: n.message,
            related_ticket: n.related_ticket.map(|t| t.to_string()),
            related_task: n.related_task,
            is_read: n.is_read,
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

/// A read-flag change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkIn {
    /// True marks read, false unread.
    pub is_read: bool,
}

/// How many notifications changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedOut {
    /// Notifications marked read.
    pub marked: u64,
}

/// A notification to send (service/admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationIn {
    /// The recipient.
    #[schema(value_type = String, format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub user_id: UserId,
    /// Kind (default `system`).
    #[serde(default, rename = "type")]
    #[schema(value_type = Option<schema::NotificationType>)]
    pub kind: Option<NotificationType>,
    /// Short subject (not blank, at most 255 characters).
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 255
    )]
    pub subject: String,
    /// Body (at most 5,000 characters).
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub message: String,
    /// Related ticket number, e.g. `TKT-2025-0001`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^TKT-[1-9][0-9]{3}-(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3,8})$")]
    pub related_ticket: Option<TicketNumber>,
    /// Related task.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid, pattern = r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")]
    pub related_task: Option<TaskId>,
}

/// The filters of `GET /notifications/`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationFilters {
    /// Only read (or only unread) notifications.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_read: Option<bool>,
}

/// The caller's notifications, newest first (`?is_read=` filters).
#[utoipa::path(get, path = "/notifications/", tag = "notifications", security(("bearer" = [])),
    params(NotificationFilters, PageParams),
    responses((status = 200, body = Paginated<NotificationOut>), (status = 400, body = ErrorBody)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<PageParams>,
    Query(filters): Query<NotificationFilters>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<NotificationOut>>> {
    let page = paging.request()?;
    let list = state
        .engine
        .notifications(caller.actor(), filters.is_read, page)
        .await?;
    Ok(Json(Paginated::from_page(list, page, &url, NotificationOut::from)))
}

/// Sends an in-app notification to a user (admin or service account).
#[utoipa::path(post, path = "/notifications/", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationIn,
    responses((status = 201, body = NotificationOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_notification(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<NotificationIn>,
) -> ApiResult<(StatusCode, Json<NotificationOut>)> {
    let n = state
        .engine
        .send_notification(
            caller.actor(),
            NotificationRequest {
                user_id: input.user_id,
                kind: input.kind.unwrap_or(NotificationType::System),
                subject: input.subject,
                message: input.message,
                related_ticket: input.related_ticket,
                related_task: input.related_task,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(n.into())))
}

/// Marks one of the caller's notifications read or unread.
#[utoipa::path(patch, path = "/notifications/{id}/", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = MarkIn,
    responses((status = 200, body = NotificationOut), (status = 404, body = ErrorBody)))]
pub async fn mark_notification(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(input): Body<MarkIn>,
) -> ApiResult<Json<NotificationOut>> {
    let id: NotificationId = super::path_id("notification", &id)?;
    let n = state
        .engine
        .mark_notification(caller.actor(), id, input.is_read)
        .await?;
    Ok(Json(n.into()))
}

/// Marks all the caller's notifications read.
#[utoipa::path(post, path = "/notifications/mark-all-read/", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = MarkedOut), (status = 401, body = ErrorBody)))]
pub async fn mark_all_read(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<MarkedOut>> {
    let marked = state.engine.mark_all_notifications_read(caller.actor()).await?;
    Ok(Json(MarkedOut { marked }))
}
