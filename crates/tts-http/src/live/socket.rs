//! One open feed: events the user may see, pings, and closing with a code that says why.
//!
//! Close codes: `1001` the server is shutting down; `4001` the token expired (the access token of
//! `GET /ws/`, or the refresh token a web UI session's cookie holds); `4003` the session
//! ended (logout, password change, deactivation, a role change); `4008` no answer to pings for
//! [`IDLE_TIMEOUT`]; `4029` the client fell more than the hub's capacity behind, or took longer than
//! [`SEND_TIMEOUT`] to take one message (a slow client is dropped; memory stays bounded).

use super::hub::{LiveEvent, Slot};
use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tts_core::{Actor, SessionId};

/// How often the feed checks its token and session.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How often the server pings.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a client may stay silent (no pong, no frame) before the feed closes.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for a client to take one message.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// What a feed needs to know about its user.
pub(super) struct Viewer {
    pub actor: Actor,
    pub session: SessionId,
    /// Expiry of the token that opened the feed, seconds since the epoch: an access token's, or for the
    /// web UI's feed the session cookie's refresh token's (its session check still ends it on sign-out).
    pub expires: i64,
    /// Holds the user's place in the hub's counts.
    pub _slot: Slot,
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

pub(super) async fn feed(
    mut socket: WebSocket,
    state: AppState,
    viewer: Viewer,
    mut events: broadcast::Receiver<Arc<LiveEvent>>,
    mut closed: tokio::sync::watch::Receiver<bool>,
) {
    let mut check = tokio::time::interval(CHECK_EVERY);
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut heard = Instant::now();
    loop {
        if *closed.borrow() {
            return close(&mut socket, 1001, "the server is shutting down").await;
        }
        tokio::select! {
            _ = closed.changed() => {}
            _ = check.tick() => {
                if chrono::Utc::now().timestamp() >= viewer.expires {
                    return close(&mut socket, 4001, "the token expired").await;
                }
                if !matches!(state.engine.session_ended(viewer.session).await, Ok(false)) {
                    return close(&mut socket, 4003, "the session ended").await;
                }
                if heard.elapsed() >= IDLE_TIMEOUT {
                    return close(&mut socket, 4008, "no answer to pings").await;
                }
            }
            _ = ping.tick() => {
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Vec::new().into()))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => heard = Instant::now(),
            },
            event = events.recv() => {
                let event = match event {
                    Ok(event) if event.reach.admits(viewer.actor) => event,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return close(&mut socket, 4029, "too slow: events were missed; reconnect").await;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(event.text.clone()))).await;
                match sent {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return,
                    Err(_) => return close(&mut socket, 4029, "too slow to take messages").await,
                }
            }
        }
    }
}
