//! # tts-http
//!
//! The reference server of TTS: the documented REST API (the seed's wire contract) on axum, with JWT
//! authentication, object-level authorization (delegated to the engine), keyed rate limits, OpenAPI and
//! Swagger UI, and the `tts-server` binary.
//!
//! Embedding: build an [`AppState`] from your [`tts_core::Engine`] and identity adapter, then mount
//! [`router`]:
//!
//! ```no_run
//! # async fn run(engine: std::sync::Arc<tts_core::Engine>, identity: std::sync::Arc<dyn tts_core::ports::Identity>) {
//! let state = tts_http::AppState::new(engine, identity, tts_http::HttpConfig::new(vec![7u8; 32]));
//! let app = tts_http::router(state);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await.unwrap();
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
//! # }
//! ```
//!
//! Choices where the contract is silent (documented here so clients can rely on them):
//! - `DELETE /tickets/{id}/` withdraws the ticket (tickets and their audit trail are never erased);
//! - `PUT /tickets/{id}/` needs `subject` and `category`; other fields left out stay as they are;
//! - a `POST /tickets/` replay with the same `Idempotency-Key` and body answers 200 with the first ticket;
//! - access tokens carry the roles at issue time (15 minutes by default); deactivating a user or
//!   changing a password revokes their refresh tokens at once;
//! - rate-limit counters are per process.

pub mod app;
pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod live;
pub mod openapi;
pub mod pagination;
pub mod rate_limit;
pub mod routes;
pub mod schema;
pub mod server;
pub mod state;

pub use app::{openapi, router};
pub use config::{HttpConfig, Limit, RateLimits};
pub use error::{ApiError, ApiResult};
pub use state::AppState;
