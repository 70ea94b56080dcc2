//! An authenticated echo: `POST /echo` behind tts-http's own authentication (the `Caller` extractor:
//! the access token's signature, expiry and claims, then the session gate), returning the JSON body it
//! was given. The `auth` bench times it in process; `http_load` serves it over HTTP as the ceiling of an
//! authenticated request, next to a bare echo.

use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;
use tts_core::memory::MemoryPasswords;
use tts_core::{Actor, Engine, LoginAttempt, NewSession, NewUser, SessionId, TokenId};
use tts_http::auth::{Caller, TokenType};
use tts_http::{AppState, HttpConfig};

/// A signed-in user of an in-memory engine, and the app state that checks their token.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The state whose keys issued the token.
    pub state: AppState,
    /// A valid access token.
    pub token: String,
    /// Its session.
    pub sid: SessionId,
}

/// An engine on the in-memory adapters with one user, signed in.
pub async fn signed_in() -> Signed {
    let engine = Arc::new(
        Engine::in_memory()
            .passwords(Arc::new(MemoryPasswords::new()))
            .build()
            .expect("engine"),
    );
    let new = NewUser {
        email: "ada@example.com".into(),
        full_name: "Ada".into(),
        password: Some("a long secret".into()),
    };
    engine.create_user(Actor::system(), new).await.expect("user");
    let now = chrono::Utc::now();
    let state = AppState::new(engine.clone(), HttpConfig::new(vec![7u8; 32]));
    let s = NewSession {
        id: SessionId(uuid::Uuid::now_v7()),
        refresh: TokenId(uuid::Uuid::now_v7()),
        expires_at: now + chrono::Duration::days(1),
    };
    let attempt = LoginAttempt {
        email: "ada@example.com".into(),
        password: "a long secret".into(),
        client: String::new(),
    };
    let session = engine.login(attempt, Some(s)).await.expect("login");
    let token = state
        .keys
        .issue(&session, s.id, TokenType::Access, now)
        .expect("token")
        .token;
    Signed {
        state,
        token,
        sid: s.id,
    }
}

/// The handler: authenticates the caller, then returns the body.
pub async fn echo_as_caller(_caller: Caller, body: Json<Value>) -> Json<Value> {
    body
}

/// The bare handler: returns the body.
pub async fn echo(body: Json<Value>) -> Json<Value> {
    body
}

/// `POST /echo` behind the caller's authentication, on `signed`'s state.
pub fn authenticated_router(signed: &Signed) -> Router {
    Router::new()
        .route("/echo", post(echo_as_caller))
        .with_state(signed.state.clone())
}

/// `POST /echo` with no authentication.
pub fn bare_router() -> Router {
    Router::new().route("/echo", post(echo))
}
