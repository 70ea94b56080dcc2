//! Access and refresh tokens: HS256 JWTs with the claims of the seed (`user_id`, `email`, `roles`...),
//! a `token_type` that keeps refresh tokens out of the access path, and a session id for rotation.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tts_core::{Role, Session, SessionId, TokenId, UserId};
use utoipa::ToSchema;

/// Which kind of token a JWT is; an access endpoint refuses a refresh token and vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    /// Short-lived; sent as `Authorization: Bearer`.
    Access,
    /// Long-lived; only accepted by the refresh and logout endpoints, once.
    Refresh,
}

/// A role as tokens and profiles carry it: `{system, role}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleClaim {
    /// The system, e.g. `tts`.
    pub system: String,
    /// The role's name, e.g. `Admin`.
    pub role: String,
}

impl From<&Role> for RoleClaim {
    fn from(r: &Role) -> Self {
        RoleClaim {
            system: r.system.clone(),
            role: r.name.clone(),
        }
    }
}

/// The claims of both token types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (string form), the standard subject.
    pub sub: String,
    /// The user id.
    pub user_id: UserId,
    /// Login e-mail.
    pub email: String,
    /// Same as the e-mail (the seed logs in with `username` = e-mail).
    pub username: String,
    /// Display name.
    pub full_name: String,
    /// Active roles at issue time.
    pub roles: Vec<RoleClaim>,
    /// Access or refresh.
    pub token_type: TokenType,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    pub iat: i64,
    /// This token's id.
    pub jti: TokenId,
    /// The session (refresh-token family) the token belongs to.
    pub sid: SessionId,
}

impl Claims {
    /// Whether the token carries `tts:Admin`.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r.system == "tts" && r.role == "Admin")
    }
}

/// Signs and checks tokens with one HS256 secret; the algorithm is pinned, `exp`, `iat` and `sub` are
/// required.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

/// A freshly issued token with its id and expiry.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The encoded JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: TokenId,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
}

impl TokenKeys {
    /// Keys from a secret and the lifetimes; `leeway` is the tolerated clock skew on `exp`.
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration, leeway: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = leeway.as_secs();
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    /// The lifetime of refresh tokens.
    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// When a token of `kind` issued at `now` expires.
    pub fn expires_at(&self, kind: TokenType, now: DateTime<Utc>) -> DateTime<Utc> {
        let ttl = match kind {
            TokenType::Access => self.access_ttl,
            TokenType::Refresh => self.refresh_ttl,
        };
        now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX)
    }

    /// Issues a token of `kind` for the session's user in session `sid`, with a fresh id.
    pub fn issue(
        &self,
        session: &Session,
        sid: SessionId,
        kind: TokenType,
        now: DateTime<Utc>,
    ) -> Result<Issued, ApiError> {
        self.issue_as(session, sid, kind, now, TokenId(uuid::Uuid::new_v4()))
    }

    /// Issues a token of `kind` with the id `jti` (a refresh token whose id the session already records).
    pub fn issue_as(
        &self,
        session: &Session,
        sid: SessionId,
        kind: TokenType,
        now: DateTime<Utc>,
        jti: TokenId,
    ) -> Result<Issued, ApiError> {
        let expires_at = self.expires_at(kind, now);
        let claims = Claims {
            sub: session.user.id.to_string(),
            user_id: session.user.id,
            email: session.user.email.clone(),
            username: session.user.email.clone(),
            full_name: session.user.full_name.clone(),
            roles: session.roles.iter().map(RoleClaim::from).collect(),
            token_type: kind,
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            jti,
            sid,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            ApiError::Core(tts_core::Error::Backend {
                backend: "jwt",
                kind: tts_core::ErrorKind::Internal,
                message: e.to_string(),
            })
        })?;
        Ok(Issued { token, jti, expires_at })
    }

    /// Checks signature, algorithm, expiry and claims, and that the token is of `kind`.
    pub fn verify(&self, token: &str, kind: TokenType) -> Result<Claims, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            ApiError::Unauthorized(
                match e.kind() {
                    K::ExpiredSignature => "token expired",
                    K::InvalidSignature => "token signature invalid",
                    K::InvalidAlgorithm | K::InvalidAlgorithmName => "token algorithm not accepted",
                    K::MissingRequiredClaim(_) | K::Json(_) => "token claims missing or malformed",
                    _ => "token invalid",
                }
                .into(),
            )
        })?;
        let claims = data.claims;
        if claims.token_type != kind {
            return Err(ApiError::Unauthorized(match kind {
                TokenType::Access => "a refresh token is not an access token".into(),
                TokenType::Refresh => "an access token is not a refresh token".into(),
            }));
        }
        if claims.sub != claims.user_id.to_string() {
            return Err(ApiError::Unauthorized("token subject and user_id disagree".into()));
        }
        Ok(claims)
    }
}
