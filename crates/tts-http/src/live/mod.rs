//! The live feed: committed domain events pushed over a WebSocket to each connected user who may see
//! them (ticket events by the ticket's visibility rule, notification requests to their recipient).
//!
//! The hub is the engine's [`EventFeed`](tts_core::ports::EventFeed): it gets the events of every unit
//! this process commits, right after the commit; with a broker, the other servers' events too.
//!
//! Two doors lead to the same feed. `GET /ws/` ([`live`]) authenticates with an access token (the
//! `Authorization` header, or the `tts.bearer` protocol from a browser script that holds a token). The
//! web UI's `GET {base}/live` authenticates with the session cookie, which holds the session's refresh
//! token (scripts cannot read it), after checking that the handshake comes from the UI's own origin
//! (see `crate::ui`). Both then call `open_feed`: the same slots and caps, the same feed loop, the same
//! close codes. A feed ends when its token expires (`4001`: an access token's short life, or the UI
//! session's refresh expiry) and when its session ends (`4003`, checked every second).

mod hub;
mod socket;

pub use hub::{LiveHub, SOCKETS_PER_PROCESS, SOCKETS_PER_USER};
pub use socket::{CHECK_EVERY, IDLE_TIMEOUT, PING_EVERY, SEND_TIMEOUT};

use crate::auth::Claims;
use crate::auth::caller::verify_bearer;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use hub::Full;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live))
}

/// The protocol a browser offers to carry its token: `Sec-WebSocket-Protocol: tts.bearer, <access token>`
/// (browsers cannot set headers on a WebSocket). The server answers with this protocol.
pub const TOKEN_PROTOCOL: &str = "tts.bearer";

/// Opens the live feed. Authenticate with `Authorization: Bearer <access>` or, from a browser, by
/// offering the protocols `tts.bearer` and the access token (`new WebSocket(url, ["tts.bearer",
/// token])`); never in the URL (a `token` query parameter is refused: URLs end up in logs). The server
/// sends one JSON object per event: domain events as `{"type": "ticket.created", ...}` for tickets the
/// user may see, and `{"type": "notification", ...}` for the user's own notifications. It pings every
/// 20 s and closes the feed with a code saying why: `1001` shutdown, `4001` token expired, `4003`
/// session ended (logout, password or role change, deactivation), `4008` no answer to pings, `4029`
/// too slow. At most 8 feeds per user and 10,000 per process by default (429 beyond); client messages
/// are limited to 4 KiB. Each event carries its message `id` and its time `at`: a client that reconnects
/// catches up with `GET /tickets/{id}/events/?after=<at>`.
#[utoipa::path(get, path = "/ws/", tag = "live", security(("bearer" = [])),
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 400, body = ErrorBody, description = "not a WebSocket upgrade request, or a token in the URL"),
        (status = 401, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn live(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let query = parts.uri.query().unwrap_or("");
    if query
        .split('&')
        .any(|pair| pair == "token" || pair.starts_with("token="))
    {
        return ApiError::bad_field(
            "token",
            "never put a token in the URL: send `Authorization: Bearer <token>` or offer the protocols \
             `tts.bearer, <token>`",
        )
        .into_response();
    }
    let claims = match verify_bearer(&parts, &state).or_else(|| protocol_token(&parts, &state)) {
        Some(Ok(c)) => c,
        Some(Err(why)) => return ApiError::Unauthorized(why).into_response(),
        None => return ApiError::Unauthorized("authentication credentials were not provided".into()).into_response(),
    };
    match state.engine.session_ended(claims.sid).await {
        Ok(false) => {}
        Ok(true) => return ApiError::Unauthorized("the session has ended; log in again".into()).into_response(),
        Err(e) => return ApiError::Core(e).into_response(),
    }
    open_feed(state, parts, claims).await
}

/// Upgrades an authenticated request to a live feed for the user of `claims`: the part of opening a
/// feed that does not depend on how the user proved who they are, shared by `GET /ws/` and the web UI's
/// cookie-authenticated feed so both get the same caps, feed loop and close codes.
///
/// The caller has verified `claims` (signature, token type, expiry) and checked that their session has
/// not ended. The feed closes with `4001` at `claims.exp` (the access token's expiry, or the refresh
/// expiry of a UI session) and with `4003` within [`CHECK_EVERY`] of the session ending. Answers 503
/// when this server runs no live feed, 400 for a request that is not a WebSocket upgrade, and 429 past
/// the per-user or per-process cap.
pub(crate) async fn open_feed(state: AppState, mut parts: Parts, claims: Claims) -> Response {
    let Some(hub) = state.live.clone() else {
        return ApiError::Core(tts_core::Error::Backend {
            backend: "live",
            kind: tts_core::ErrorKind::Unavailable,
            message: "this server runs no live feed".into(),
        })
        .into_response();
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(e) => return ApiError::bad_field("upgrade", e.body_text()).into_response(),
    };
    let actor = crate::auth::Caller { claims: claims.clone() }.actor();
    let (per_user, per_process) = (state.config.live_feeds_per_user, state.config.live_feeds_per_process);
    let slot = match hub.take_slot(actor.user, per_user, per_process) {
        Ok(slot) => slot,
        Err(full) => {
            match full {
                Full::User => tracing::info!(user = %actor.user, "live feed refused: {per_user} open already"),
                Full::Process => tracing::warn!("live feed refused: {per_process} open in this process"),
            }
            return ApiError::RateLimited { retry_after: 5 }.into_response();
        }
    };
    let viewer = socket::Viewer {
        actor,
        session: claims.sid,
        expires: claims.exp,
        _slot: slot,
    };
    let receiver = hub.subscribe();
    let closed = hub.closed.subscribe();
    upgrade
        .protocols([TOKEN_PROTOCOL])
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        // Small buffers: an idle feed holds a few KiB, and a client that does not read is cut off once
        // its unsent frames pass the cap (then the send times out and the feed closes with 4029).
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .on_upgrade(move |socket| socket::feed(socket, state, viewer, receiver, closed))
}

/// The largest message a client may send (it only needs pongs and a close).
pub const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// The read buffer of a feed's socket.
pub const READ_BUFFER: usize = 4 * 1024;
/// The most unsent bytes a feed's socket keeps for a client that does not read.
pub const MAX_WRITE_BUFFER: usize = 256 * 1024;

/// The token offered as `Sec-WebSocket-Protocol: tts.bearer, <token>`, verified.
fn protocol_token(parts: &Parts, state: &AppState) -> Option<Result<Claims, String>> {
    let offered: Vec<String> = parts
        .headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()).collect::<Vec<_>>())
        .collect();
    let at = offered.iter().position(|p| p == TOKEN_PROTOCOL)?;
    let token = offered.get(at + 1)?;
    Some(
        state
            .keys
            .verify(token, crate::auth::TokenType::Access)
            .map_err(|e| e.to_string()),
    )
}
