//! The web UI's live feed: `GET {base}/live`, the same feed as `GET /ws/` (see [`crate::live`]) opened
//! with the session cookie, so pages can show new comments and step moves without reloading.
//!
//! The route sits inside the UI's router because the session cookie's `Path` is the UI's base path: a
//! browser sends the cookie to `{base}/live` and to nothing outside the base. A cookie goes with every
//! request to its site, whichever page asks, and a WebSocket handshake is not held back by CORS; so
//! before anything else the handshake must come from the UI's own origin (browsers always send
//! `Origin` with it), or another site could open a feed with the user's cookie and read their tickets
//! (cross-site WebSocket hijacking). Then the session is checked as for every page ([`UiSession`]: a
//! valid refresh token whose session has not ended), and the feed opens with the API feed's machinery.
//!
//! Refusals are JSON, as the API's feed answers them (a script, not a person, reads them): 403 from
//! another origin or none, 401 without a live session (never the sign-in redirect pages get), then the
//! feed's own 400, 429 and 503.

use super::guard::from_own_origin;
use super::page::UiError;
use super::session::UiSession;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};

/// `GET {base}/live`: upgrades a same-origin handshake with a live session cookie to the live feed. It
/// closes like the API's feed: `4003` within a second of sign-out (or any end of the session), `4001`
/// when the session's refresh token expires, `1001` on shutdown.
pub(crate) async fn feed(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    if !from_own_origin(&parts.headers, &parts.uri) {
        return ApiError::Core(tts_core::Error::Forbidden(
            "the live feed opens only from this site's own pages (the Origin header must name this host)".into(),
        ))
        .into_response();
    }
    let session = match UiSession::from_request_parts(&mut parts, &state).await {
        Ok(session) => session,
        Err(UiError::SignIn) => {
            return ApiError::Unauthorized("no session: sign in again".into()).into_response();
        }
        Err(UiError::Api(e)) => return e.into_response(),
        Err(UiError::Csrf) => {
            return ApiError::Core(tts_core::Error::Forbidden(UiError::Csrf.to_string())).into_response();
        }
    };
    crate::live::open_feed(state, parts, session.claims).await
}
