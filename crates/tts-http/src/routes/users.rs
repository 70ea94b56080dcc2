//! Auth and users: login, refresh with rotation, logout, own profile, admin user management.

use crate::auth::jwt::{RoleClaim, TokenType};
use crate::auth::{Caller, ClientKey};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Body, Query};
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tts_core::{
    LoginAttempt, NewSession, NewUser, ProfileChange, Rotation, Session, SessionId, TokenId, User, UserChange, UserId,
};
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
    /// Whether the user gets notifications by e-mail too (their choice, in their profile).
    pub email_notifications: bool,
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
            email_notifications: u.email_notifications,
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

/// New tokens. With rotation (the default) the presented refresh token is spent and a new one comes
/// back; with `TTS_REFRESH_ROTATION=off` only `access` comes back and the refresh token stays valid.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshedPair {
    /// New access token.
    pub access: String,
    /// New refresh token (absent when rotation is off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
}

/// Logs in with e-mail and password and starts a session.
#[utoipa::path(post, path = "/api/v1/users/token/", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn obtain_token(
    State(state): State<AppState>,
    client: ClientKey,
    Body(form): Body<TokenRequest>,
) -> ApiResult<Json<TokenPair>> {
    if form.username.chars().count() > 254 || form.password.len() > 1024 {
        return Err(ApiError::Unauthorized("invalid e-mail or password".into()));
    }
    let now = Utc::now();
    let new = NewSession {
        id: SessionId(uuid::Uuid::now_v7()),
        refresh: TokenId(uuid::Uuid::new_v4()),
        expires_at: state.keys.expires_at(TokenType::Refresh, now),
    };
    let attempt = LoginAttempt {
        email: form.username,
        password: form.password,
        client: client.0,
    };
    let session = state.engine.login(attempt, Some(new)).await?;
    let refresh = state
        .keys
        .issue_as(&session, new.id, TokenType::Refresh, now, new.refresh)?;
    let access = state.keys.issue(&session, new.id, TokenType::Access, now)?;
    Ok(Json(TokenPair {
        access: access.token,
        refresh: refresh.token,
        user: session.into(),
    }))
}

/// Trades a refresh token for new tokens. With rotation (the default) each refresh token works once:
/// presenting a spent one ends the whole session.
#[utoipa::path(post, path = "/api/v1/users/token/refresh/", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = RefreshedPair), (status = 401, body = ErrorBody)))]
pub async fn refresh_token(
    State(state): State<AppState>,
    Body(form): Body<RefreshRequest>,
) -> ApiResult<Json<RefreshedPair>> {
    let claims = state.keys.verify(&form.refresh, TokenType::Refresh)?;
    let now = Utc::now();
    let next = TokenId(uuid::Uuid::new_v4());
    let rotation = if state.config.refresh_rotation {
        Rotation::Rotate {
            next,
            expires_at: state.keys.expires_at(TokenType::Refresh, now),
        }
    } else {
        Rotation::Keep
    };
    let session = state.engine.refresh(claims.sid, claims.jti, rotation).await?;
    let refresh = match rotation {
        Rotation::Rotate { next, .. } => Some(
            state
                .keys
                .issue_as(&session, claims.sid, TokenType::Refresh, now, next)?
                .token,
        ),
        Rotation::Keep => None,
    };
    let access = state.keys.issue(&session, claims.sid, TokenType::Access, now)?;
    Ok(Json(RefreshedPair {
        access: access.token,
        refresh,
    }))
}

/// Ends the caller's session: its refresh token and its access tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/users/logout/", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.engine.logout(caller.actor(), caller.claims.sid).await?;
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
    /// Whether to get notifications by e-mail too (when the server sends e-mail).
    #[serde(default)]
    pub email_notifications: Option<bool>,
}

/// Changes the caller's name, password or e-mail choice in one command. A new password ends every other session of
/// the user (the caller's own goes on).
#[utoipa::path(patch, path = "/api/v1/users/profile/", tag = "users", security(("bearer" = [])),
    request_body = ProfilePatch,
    responses((status = 200, body = ProfileOut), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    Body(patch): Body<ProfilePatch>,
) -> ApiResult<Json<ProfileOut>> {
    let actor = caller.actor();
    let change = ProfileChange {
        full_name: patch.full_name,
        new_password: patch.password,
        current_password: patch.current_password,
        email_notifications: patch.email_notifications,
    };
    state
        .engine
        .update_profile(actor, Some(caller.claims.sid), change)
        .await?;
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
    /// Login e-mail (unique; spaces around it are trimmed, and it is stored in lower case; no spaces or
    /// control characters inside, at most 254 characters as sent).
    #[schema(
        pattern = r"^[\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^.\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^.\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$",
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
        pattern = r"^[\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^.\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^.\x00-\x1F\x7F-\x9F\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$",
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
    let change = UserChange {
        email: patch.email,
        full_name: patch.full_name,
        is_active: patch.is_active,
        password: patch.password,
    };
    Ok(Json(state.engine.update_user(actor, id, change).await?.into()))
}
