//! Roles and memberships: who may take which steps of a workflow.

use super::users::UserOut;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query, RawBody, parse_json};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use tts_core::ports::store::Member;
use tts_core::{Role, RoleId, UserId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(role_users))
        .routes(routes!(put_member, delete_member))
}

/// A role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleOut {
    /// Identifier.
    #[schema(value_type = String, format = Uuid)]
    pub id: RoleId,
    /// The system, e.g. `tts`.
    pub system: String,
    /// The role's name, e.g. `Admin`.
    pub role: String,
}

impl From<Role> for RoleOut {
    fn from(r: Role) -> Self {
        RoleOut {
            id: r.id,
            system: r.system,
            role: r.name,
        }
    }
}

/// A new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleIn {
    /// The system, e.g. `tts` (not blank, at most 50 characters).
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 50
    )]
    pub system: String,
    /// The role's name (not blank, at most 150 characters).
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 150
    )]
    pub role: String,
}

/// A member of a role.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    /// The user.
    pub user: UserOut,
    /// Whether the membership is active (inactive members keep the role but take no work).
    pub is_active: bool,
}

impl From<Member> for MemberOut {
    fn from(m: Member) -> Self {
        MemberOut {
            user: m.user.into(),
            is_active: m.is_active,
        }
    }
}

/// Membership settings.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    /// Whether the member takes work; defaults to true.
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// Every role, ordered by system and name, paginated.
#[utoipa::path(get, path = "/api/v1/tts/roles/", tag = "roles", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Paginated<RoleOut>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn list_roles(
    State(state): State<AppState>,
    _caller: Caller,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<RoleOut>>> {
    let page = paging.request()?;
    let roles = state.engine.roles().await?;
    Ok(Json(Paginated::from_vec(roles, page, &url, RoleOut::from)))
}

/// Creates a role (admin only).
#[utoipa::path(post, path = "/api/v1/tts/roles/", tag = "roles", security(("bearer" = [])), request_body = RoleIn,
    responses((status = 201, body = RoleOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_role(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<RoleIn>,
) -> ApiResult<(StatusCode, Json<RoleOut>)> {
    let actor = caller.require_admin()?;
    let role = state.engine.create_role(actor, &new.system, &new.role).await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

fn role_id(raw: &str) -> Result<RoleId, ApiError> {
    super::path_id("role", raw)
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    super::path_id("user", raw)
}

/// The members of a role, active or not, paginated (admins and agents only: it lists e-mails).
#[utoipa::path(get, path = "/api/v1/tts/roles/{role_id}/users/", tag = "roles", security(("bearer" = [])),
    params(("role_id" = String, Path), PageParams),
    responses((status = 200, body = Paginated<MemberOut>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn role_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(role): Path<String>,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<MemberOut>>> {
    let page = paging.request()?;
    // One query for the members and their profiles.
    let members = state.engine.role_members(caller.actor(), role_id(&role)?).await?;
    Ok(Json(Paginated::from_vec(members, page, &url, MemberOut::from)))
}

/// Grants a role to a user, or changes whether the member takes work (admin only).
#[utoipa::path(put, path = "/api/v1/tts/roles/{role_id}/users/{user_id}/", tag = "roles",
    security(("bearer" = [])), params(("role_id" = String, Path), ("user_id" = String, Path)),
    request_body(content = Option<MemberIn>, description = "optional: without a body (or with an empty one, or \
        `null`) the member takes work (`is_active` true)"),
    responses((status = 200, body = MemberOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((role, user)): Path<(String, String)>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<MemberOut>> {
    let actor = caller.require_admin()?;
    let (role, user) = (role_id(&role)?, user_id(&user)?);
    let settings: MemberIn = if body.trim_ascii().is_empty() || body.trim_ascii() == b"null" {
        MemberIn::default()
    } else {
        parse_json(&headers, &body)?
    };
    let is_active = settings.is_active.unwrap_or(true);
    let member = state.engine.set_membership(actor, role, user, is_active).await?;
    Ok(Json(member.into()))
}

/// Revokes a role from a user (admin only); their open work stays with them.
#[utoipa::path(delete, path = "/api/v1/tts/roles/{role_id}/users/{user_id}/", tag = "roles",
    security(("bearer" = [])), params(("role_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((role, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let actor = caller.require_admin()?;
    state
        .engine
        .remove_membership(actor, role_id(&role)?, user_id(&user)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
