//! The authenticated caller of a request, extracted from `Authorization: Bearer <access JWT>`.

use super::jwt::{Claims, TokenType};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tts_core::Actor;

/// The verified access token of a request: handlers that take it are protected (401 without it).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's claims.
    pub claims: Claims,
}

impl Caller {
    /// The engine's view of the caller: admin or agent by the token's roles (a role change ends the
    /// user's sessions, so the roles of a working token are current).
    pub fn actor(&self) -> Actor {
        let mut actor = Actor::user(self.claims.user_id);
        for r in &self.claims.roles {
            if r.system == tts_core::domain::user::TTS_SYSTEM && r.role == tts_core::domain::user::ADMIN_ROLE {
                actor.is_admin = true;
            } else {
                actor.is_agent = true;
            }
        }
        actor
    }

    /// Refuses non-admins with 403.
    pub fn require_admin(&self) -> Result<Actor, ApiError> {
        if self.claims.is_admin() {
            Ok(self.actor())
        } else {
            Err(ApiError::Core(tts_core::Error::Forbidden(
                "this needs the tts:Admin role".into(),
            )))
        }
    }
}

/// The outcome of checking a request's bearer token once, shared by the rate limiter and [`Caller`].
#[derive(Debug, Clone)]
pub(crate) struct Verified(pub Result<Claims, String>);

/// Reads and verifies the bearer token of a request (`None` when there is no `Authorization` header).
pub(crate) fn verify_bearer(parts: &Parts, state: &AppState) -> Option<Result<Claims, String>> {
    if let Some(v) = parts.extensions.get::<Verified>() {
        return Some(v.0.clone());
    }
    let header = parts.headers.get(AUTHORIZATION)?;
    let result = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| "the Authorization header must be `Bearer <token>`".to_string())
        .and_then(|token| {
            state.keys.verify(token, TokenType::Access).map_err(|e| match e {
                ApiError::Unauthorized(why) => why,
                other => other.to_string(),
            })
        });
    Some(result)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match verify_bearer(parts, state) {
            None => Err(ApiError::Unauthorized(
                "authentication credentials were not provided".into(),
            )),
            Some(Err(why)) => Err(ApiError::Unauthorized(why)),
            // An ended session (logout, password change, deactivation, role change) stops its tokens
            // from the next request on, not when they expire.
            Some(Ok(claims)) if state.engine.session_ended(claims.sid).await? => {
                Err(ApiError::Unauthorized("the session has ended; log in again".into()))
            }
            Some(Ok(claims)) => Ok(Caller { claims }),
        }
    }
}

/// Who a request comes from, for throttling failed logins per account and client:
/// [`crate::client::client_key`] (the client address, `X-Forwarded-For` only from trusted proxies, IPv6
/// by its /64), as the rate limits key clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(pub String);

impl FromRequestParts<AppState> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientKey(match peer {
            Some(peer) => crate::client::client_key(peer, &parts.headers, &state.config.trusted_proxies),
            None => String::new(),
        }))
    }
}
