//! Comments on a ticket: the thread as the caller may see it, new comments and internal notes,
//! replies one level deep, edits and soft deletes.

use super::path_id;
use super::tickets::ticket_ref;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Query};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tts_core::{Comment, CommentId, NewComment, UserId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(edit_comment, delete_comment))
}

/// A comment as the API shows it. `content` is Markdown for the client to render (escaped); it is
/// empty once the comment is deleted, which keeps its place in the thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentOut {
    /// Identifier.
    #[schema(value_type = String, format = Uuid)]
    pub id: CommentId,
    /// The ticket's integer id.
    pub ticket: i64,
    /// The author.
    #[schema(value_type = String, format = Uuid)]
    pub author: UserId,
    /// The author's display name.
    pub author_name: String,
    /// Markdown text (empty when deleted).
    pub content: String,
    /// An internal note (only admins and the agents who hold or held the ticket see it).
    pub is_internal: bool,
    /// The top-level comment this replies to (replies nest one level).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<CommentId>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When its text last changed.
    pub edited_at: Option<DateTime<Utc>>,
    /// Whether it was deleted.
    pub is_deleted: bool,
    /// When it was deleted.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<Comment> for CommentOut {
    fn from(c: Comment) -> Self {
        CommentOut {
            id: c.id,
            ticket: c.ticket.0,
            author: c.author,
            author_name: c.author_name,
            content: c.content,
            is_internal: c.is_internal,
            parent_id: c.parent_id,
            created_at: c.created_at,
            edited_at: c.edited_at,
            is_deleted: c.deleted_at.is_some(),
            deleted_at: c.deleted_at,
        }
    }
}

/// A new comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    /// Markdown text, 1 to 10,000 characters; never HTML for the server to trust.
    #[schema(
        min_length = 1,
        max_length = 10000,
        example = "Replaced the cable; @ann@example.com please confirm."
    )]
    pub content: String,
    /// An internal note: admins and the agents working on the ticket only (403 for others).
    #[serde(default)]
    pub is_internal: bool,
    /// Reply to this top-level comment of the same ticket (replies nest one level; a reply to an
    /// internal note must be internal).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<CommentId>,
}

/// A comment's new text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentPatch {
    /// Markdown text, 1 to 10,000 characters.
    #[schema(min_length = 1, max_length = 10000)]
    pub content: String,
}

/// A ticket's comments, oldest first: internal notes only for admins and the agents who hold or held
/// the ticket. Another user's ticket is 404.
#[utoipa::path(get, path = "/tickets/{id}/comments/", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number"), PageParams),
    responses((status = 200, body = Paginated<CommentOut>), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<CommentOut>>> {
    let page = paging.request()?;
    let list = state.engine.comments(caller.actor(), ticket_ref(&id)?, page).await?;
    Ok(Json(Paginated::from_page(list, page, &url, CommentOut::from)))
}

/// Comments on a ticket (the requester, the agents who hold or held it, admins). Notifies the requester
/// (public comments) and the current assignees (`comment_added`), and each `@user@example.com`
/// mentioned who may see the comment (`mention`); mentions of anyone else are ignored.
#[utoipa::path(post, path = "/tickets/{id}/comments/", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number")), request_body = CommentIn,
    responses((status = 201, body = CommentOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(input): Body<CommentIn>,
) -> ApiResult<(StatusCode, Json<CommentOut>)> {
    let new = NewComment {
        content: input.content,
        is_internal: input.is_internal,
        parent_id: input.parent_id,
    };
    let c = state.engine.add_comment(caller.actor(), ticket_ref(&id)?, new).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Replaces a comment's text (its author or an admin); the previous text stays in the ticket's
/// history.
#[utoipa::path(patch, path = "/tickets/{id}/comments/{cid}/", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number"), ("cid" = String, Path, description = "comment id")),
    request_body = CommentPatch,
    responses((status = 200, body = CommentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cid)): Path<(String, String)>,
    Body(patch): Body<CommentPatch>,
) -> ApiResult<Json<CommentOut>> {
    let cid: CommentId = path_id("comment", &cid)?;
    let c = state
        .engine
        .edit_comment(caller.actor(), ticket_ref(&id)?, cid, patch.content)
        .await?;
    Ok(Json(c.into()))
}

/// Deletes a comment (its author or an admin): its text goes, its place in the thread stays.
#[utoipa::path(delete, path = "/tickets/{id}/comments/{cid}/", tag = "comments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number"), ("cid" = String, Path, description = "comment id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let cid: CommentId = path_id("comment", &cid)?;
    state
        .engine
        .delete_comment(caller.actor(), ticket_ref(&id)?, cid)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
