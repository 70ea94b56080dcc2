//! Dead letters: messages no consumer will try again (a malformed event, a ticket that vanished, nobody
//! to assign, or too many failed deliveries), for admins to read, replay or delete.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Query;
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tts_core::{DeadLetter, MessageId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dead_letters))
        .routes(routes!(delete_dead_letter))
        .routes(routes!(replay_dead_letter))
}

/// A message that will not be delivered again until an admin replays it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterOut {
    /// The message id (kept on replay, so consumers still deduplicate it).
    #[schema(value_type = String, format = Uuid)]
    pub id: MessageId,
    /// The queue it was on.
    pub queue: String,
    /// The event type, e.g. `ticket.created`.
    pub kind: String,
    /// The message as it was received.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Why its last delivery failed.
    pub error: String,
    /// Deliveries tried.
    pub attempts: u32,
    /// When the message was written.
    pub created_at: DateTime<Utc>,
    /// When it became a dead letter.
    pub failed_at: DateTime<Utc>,
}

impl From<DeadLetter> for DeadLetterOut {
    fn from(d: DeadLetter) -> Self {
        DeadLetterOut {
            id: d.id,
            queue: d.queue,
            kind: d.kind,
            payload: d.payload,
            error: d.error,
            attempts: d.attempts,
            created_at: d.created_at,
            failed_at: d.failed_at,
        }
    }
}

/// Dead letters, newest first (admin only).
#[utoipa::path(get, path = "/admin/dead-letters/", tag = "admin", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Paginated<DeadLetterOut>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<DeadLetterOut>>> {
    let page = paging.request()?;
    let list = state.engine.dead_letters(caller.actor(), page).await?;
    Ok(Json(Paginated::from_page(list, page, &url, DeadLetterOut::from)))
}

/// Puts a dead letter back on the queue of the consumer that handles it (admin only); 409 when it is not
/// an event any consumer handles (delete it instead).
#[utoipa::path(post, path = "/admin/dead-letters/{id}/replay/", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = DeadLetterOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn replay_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeadLetterOut>)> {
    let id: MessageId = super::path_id("dead letter", &id)?;
    let letter = state.engine.replay_dead_letter(caller.actor(), id).await?;
    Ok((StatusCode::ACCEPTED, Json(letter.into())))
}

/// Deletes a dead letter for good (admin only).
#[utoipa::path(delete, path = "/admin/dead-letters/{id}/", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: MessageId = super::path_id("dead letter", &id)?;
    state.engine.delete_dead_letter(caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
