//! Auth and users: login, refresh with rotation, logout, own profile, admin user management.

use crate::auth::Caller;
use crate::auth::jwt::{RoleClaim, TokenType};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tts_core::ports::RefreshSession;
use tts_core::{NewUser, Session, SessionId, User, UserId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(obtain_token))
        .routes(routes!(refresh_token))
        .routes(routes!(logout))
        .routes(routes!(profile, update_profile))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// Identifier.
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    /// Login e-mail.
    pub email: String,
    /// Same as the e-mail.
    pub username: String,
    /// Display name.
    pub full_name: String,
    /// Inactive users cannot log in and receive no work.
    pub is_active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            id: u.id,
            username: u.email.clone(),
            email: u.email,
            full_name: u.full_name,
            is_active: u.is_active,
            created_at: u.created_at,
        }
    }
}

/// A user with the active roles they hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileOut {
    /// The user.
    #[serde(flatten)]
    pub user: UserOut,
    /// Active roles as `{system, role}`.
    pub roles: Vec<RoleClaim>,
}

impl From<Session> for ProfileOut {
    fn from(s: Session) -> Self {
        ProfileOut {
            roles: s.roles.iter().map(RoleClaim::from).collect(),
            user: s.user.into(),
        }
    }
}

/// Login form: `username` is the e-mail.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// The login e-mail.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A successful login.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Access token (Bearer).
    pub access: String,
    /// Refresh token; use once at `/api/v1/users/token/refresh/`.
    pub refresh: String,
    /// The user and roles.
    pub user: ProfileOut,
}

/// Refresh form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The current refresh token.
    pub refresh: String,
}

/// A rotated token pair; the presented refresh token is spent.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshedPair {
    /// New access token.
    pub access: String,
    /// New refresh token.
    pub refresh: String,
}

/// Logs in with e-mail and password and starts a session.
#[utoipa::path(post, path = "/api/v1/users/token/", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn obtain_token(State(state): State<AppState>, Body(form): Body<TokenRequest>) -> ApiResult<Json<TokenPair>> {
    if form.username.len() > 254 || form.password.len() > 1024 {
        return Err(ApiError::Unauthorized("invalid e-mail or password".into()));
    }
    let session = state.engine.login(&form.username, &form.password).await?;
    let now = Utc::now();
    let sid = SessionId(uuid::Uuid::now_v7());
    let refresh = state.keys.issue(&session, sid, TokenType::Refresh, now)?;
    state
        .identity
        .start_session(&RefreshSession {
            id: sid,
            user: session.user.id,
            current: refresh.jti,
            expires_at: refresh.expires_at,
        })
        .await?;
    let access = state.keys.issue(&session, sid, TokenType::Access, now)?;
    Ok(Json(TokenPair {
        access: access.token,
        refresh: refresh.token,
        user: session.into(),
    }))
}

/// Trades a refresh token for a new pair. Each refresh token works once: presenting a spent one
/// revokes the whole session.
#[utoipa::path(post, path = "/api/v1/users/token/refresh/", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = RefreshedPair), (status = 401, body = ErrorBody)))]
pub async fn refresh_token(
    State(state): State<AppState>,
    Body(form): Body<RefreshRequest>,
) -> ApiResult<Json<RefreshedPair>> {
    let claims = state.keys.verify(&form.refresh, TokenType::Refresh)?;
    let session = state.engine.session(claims.user_id).await?;
    if !session.user.is_active {
        state.identity.end_user_sessions(session.user.id).await?;
        return Err(ApiError::Unauthorized("the account is inactive".into()));
    }
    let now = Utc::now();
    let refresh = state.keys.issue(&session, claims.sid, TokenType::Refresh, now)?;
    state
        .identity
        .rotate_session(claims.sid, claims.jti, refresh.jti, refresh.expires_at, now)
        .await?;
    let access = state.keys.issue(&session, claims.sid, TokenType::Access, now)?;
    Ok(Json(RefreshedPair {
        access: access.token,
        refresh: refresh.token,
    }))
}

/// Ends the caller's session: its refresh token stops working (access tokens expire on their own).
#[utoipa::path(post, path = "/api/v1/users/logout/", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.identity.end_session(caller.claims.sid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's profile and roles.
#[utoipa::path(get, path = "/api/v1/users/profile/", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = ProfileOut), (status = 401, body = ErrorBody)))]
pub async fn profile(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ProfileOut>> {
    Ok(Json(state.engine.session(caller.claims.user_id).await?.into()))
}

/// Changes to the caller's own profile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// New display name (not blank, at most 150 characters).
    #[serde(default)]
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 150
    )]
    pub full_name: Option<String>,
    /// New password (8..=128 characters); needs `current_password`.
    #[serde(default)]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// The current password, required to set a new one.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// Changes the caller's name or password. A new password ends every other session of the user.
#[utoipa::path(patch, path = "/api/v1/users/profile/", tag = "users", security(("bearer" = [])),
    request_body = ProfilePatch,
    responses((status = 200, body = ProfileOut), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    Body(patch): Body<ProfilePatch>,
) -> ApiResult<Json<ProfileOut>> {
    let actor = caller.actor();
    if let Some(password) = &patch.password {
        let current = patch
            .current_password
            .as_deref()
            .ok_or_else(|| ApiError::invalid_field("current_password", "required to set a new password"))?;
        state
            .engine
            .login(&caller.claims.email, current)
            .await
            .map_err(|_| ApiError::invalid_field("current_password", "does not match"))?;
        state.engine.set_password(actor, actor.user, password).await?;
        state.identity.end_user_sessions(actor.user).await?;
    }
    if patch.full_name.is_some() {
        state
            .engine
            .update_user(actor, actor.user, patch.full_name, None, None)
            .await?;
    }
    Ok(Json(state.engine.session(actor.user).await?.into()))
}

/// Every user, ordered by e-mail (admin only).
#[utoipa::path(get, path = "/api/v1/users/", tag = "users", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Paginated<UserOut>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<UserOut>>> {
    let actor = caller.require_admin()?;
    let page = paging.request()?;
    let users = state.engine.list_users(actor, page).await?;
    Ok(Json(Paginated::from_page(users, page, &url, UserOut::from)))
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    /// Login e-mail (unique).
    #[schema(
        pattern = r"^[\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^.\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^.\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$",
        max_length = 254
    )]
    pub email: String,
    /// Display name (not blank, at most 150 characters).
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 150
    )]
    pub full_name: String,
    /// Initial password (8..=128 characters); omit for users who log in later.
    #[serde(default)]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

/// Creates a user (admin only).
#[utoipa::path(post, path = "/api/v1/users/", tag = "users", security(("bearer" = [])), request_body = UserIn,
    responses((status = 201, body = UserOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<UserIn>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let actor = caller.require_admin()?;
    let user = state
        .engine
        .create_user(
            actor,
            NewUser {
                email: new.email,
                full_name: new.full_name,
                password: new.password,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Changes to a user (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New e-mail.
    #[serde(default)]
    #[schema(
        pattern = r"^[\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^.\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^.\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$",
        max_length = 254
    )]
    pub email: Option<String>,
    /// New display name (not blank, at most 150 characters).
    #[serde(default)]
    #[schema(
        pattern = r"[^\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
        max_length = 150
    )]
    pub full_name: Option<String>,
    /// False deactivates: the user can no longer log in or refresh, and gets no new work.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// New password (8..=128 characters).
    #[serde(default)]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

/// Changes a user (admin only). Deactivating or setting a password ends the user's sessions.
#[utoipa::path(patch, path = "/api/v1/users/{id}/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")), request_body = UserPatch,
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(patch): Body<UserPatch>,
) -> ApiResult<Json<UserOut>> {
    let actor = caller.require_admin()?;
    let id: UserId = super::path_id("user", &id)?;
    if let Some(pw) = &patch.password {
        tts_core::engine::check_password(pw)?;
    }
    let user = state
        .engine
        .update_user(actor, id, patch.full_name, patch.email, patch.is_active)
        .await?;
    if let Some(pw) = &patch.password {
        state.engine.set_password(actor, id, pw).await?;
    }
    if patch.password.is_some() || patch.is_active == Some(false) {
        state.identity.end_user_sessions(id).await?;
    }
    Ok(Json(user.into()))
}
