//! # tts-http
//!
//! The reference server of TTS: the documented REST API (the seed's wire contract) on axum, with JWT
//! authentication, object-level authorization (delegated to the engine), keyed rate limits, OpenAPI and
//! Swagger UI, the server-rendered web UI ([`ui`], feature `ui`, mounted at `/ui`), and the `tts-server`
//! binary.
//!
//! Embedding: build an [`AppState`] from your [`tts_core::Engine`] (with a `Passwords` adapter), then mount
//! [`router`]:
//!
//! ```no_run
//! # async fn run(engine: std::sync::Arc<tts_core::Engine>) {
//! let state = tts_http::AppState::new(engine, tts_http::HttpConfig::new(vec![7u8; 32]));
//! let app = tts_http::router(state);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await.unwrap();
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
//! # }
//! ```
//!
//! Crates doing the work instead of hand-written parts:
//! - [`governor`]: the keyed GCRA rate limiters of [`rate_limit`] (no double burst across a window edge;
//!   idle keys dropped once a minute with `retain_recent` + `shrink_to_fit`);
//! - [`ipnet`]: the addresses and CIDR blocks of `TTS_TRUSTED_PROXIES` ([`client::TrustedProxies`]);
//! - [`utoipa`] (`ToSchema`, `IntoParams`) with `serde_urlencoded` and `serde_path_to_error`: every
//!   query string is a `#[derive(Deserialize, IntoParams)]` struct, read by [`extract::Query`] and
//!   documented from the same struct, with 400s that name the parameter; bodies likewise via
//!   [`extract::Body`] (422s that name the field);
//! - [`tower_http`]: the request timeout (`TimeoutLayer`, answered with the JSON 503 of
//!   [`ApiError::Timeout`]), body limit, CORS, request ids and tracing;
//! - [`url`]: parsing `TTS_PUBLIC_URL` (and, in tts-adapters, redacting database URLs);
//! - [`jsonwebtoken`] for tokens, [`clap`] for the command line, [`utoipa_swagger_ui`] for the docs;
//! - `dagre` for the workflow diagram's layout ([`diagram`], behind our own types);
//! - with the `ui` feature: `askama` for the web UI's compile-time checked, escaping templates and
//!   `hmac` (with `sha2`) for its CSRF tokens ([`ui`]);
//! - `tikv-jemallocator`: the `tts-server` binary's allocator (it returns freed memory that glibc's
//!   per-thread heaps kept; see `src/main.rs`).
//!
//! Choices where the contract is silent (documented here so clients can rely on them):
//! - `DELETE /tickets/{id}/` withdraws the ticket (tickets and their audit trail are never erased);
//! - `PUT /tickets/{id}/` needs `subject` and `category`; other fields left out stay as they are;
//! - a `POST /tickets/` replay with the same `Idempotency-Key` and body answers 200 with the first ticket;
//! - access tokens carry the roles at issue time (15 minutes by default); deactivating a user or
//!   changing a password revokes their refresh tokens at once;
//! - rate-limit counters are per process; `X-RateLimit-Reset` is the number of seconds (an upper bound)
//!   until the full limit is available again, and `Retry-After` on a 429 the seconds until the next
//!   request is allowed;
//! - `X-Forwarded-For`, `-Proto` and `-Host` count only from `TTS_TRUSTED_PROXIES`
//!   ([`client::client_key`]); IPv6 clients are limited per /64;
//! - list links (`next`, `previous`) are absolute URLs from `TTS_PUBLIC_URL` or the request's host;
//! - ticket bodies (`POST`, `PUT`, `PATCH`) refuse unknown fields with a 422 naming them;
//! - a 503 never carries backend error text (the log has it).

pub mod app;
pub mod auth;
pub mod batch;
pub mod cli;
pub mod client;
pub mod config;
pub mod demo;
pub mod diagram;
pub mod error;
pub mod extract;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod rate_limit;
pub mod routes;
pub mod schema;
pub mod server;
pub mod sniff;
pub mod state;
#[cfg(feature = "ui")]
pub mod ui;

pub use app::{openapi, probe_router, router};
pub use config::{HttpConfig, Limit, RateLimits};
pub use error::{ApiError, ApiResult};
pub use state::AppState;
