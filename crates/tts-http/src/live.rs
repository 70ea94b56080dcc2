//! The live feed: domain events, as the outbox relay publishes them, pushed over a WebSocket to each
//! connected user who may see them (ticket events by the ticket's visibility rules, notification
//! requests to their recipient).
//!
//! The hub is the engine's [`EventFeed`]: it gets the events of every unit this process commits, right
//! after the commit. With one process that is every event; with several servers each feed carries the
//! events committed through its own process.

use crate::auth::caller::verify_bearer;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::broadcast;
use tts_core::ports::EventFeed;
use tts_core::{Actor, DomainEvent, TicketId, TicketRef};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Fans published events out to every connected feed.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Arc<DomainEvent>>,
    closed: tokio::sync::watch::Sender<bool>,
}

impl LiveHub {
    /// A hub keeping up to `capacity` events for slow subscribers (they are told what they missed).
    pub fn new(capacity: usize) -> Self {
        LiveHub {
            tx: broadcast::channel(capacity.max(1)).0,
            closed: tokio::sync::watch::channel(false).0,
        }
    }

    /// Ends every open feed (on shutdown, so draining connections does not wait for WebSocket clients).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Publishes an event to the connected feeds (nothing happens when none is connected).
    pub fn send(&self, event: DomainEvent) {
        let _ = self.tx.send(Arc::new(event));
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<DomainEvent>> {
        self.tx.subscribe()
    }
}

impl EventFeed for LiveHub {
    fn publish(&self, events: &[DomainEvent]) {
        for event in events {
            self.send(event.clone());
        }
    }
}

/// The parameters of `GET /ws/`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveParams {
    /// The access token, when the client cannot send an `Authorization` header.
    pub token: Option<String>,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live))
}

/// Opens the live feed. Authenticate with `Authorization: Bearer <access>` or, for browsers that cannot
/// set headers on a WebSocket, `?token=<access>`. The server sends one JSON object per event: domain
/// events as `{"type": "ticket.created", ...}` for tickets the user may see, and `{"type":
/// "notification", ...}` for the user's own notifications; `{"type": "lagged", "missed": n}` when the
/// client fell behind.
#[utoipa::path(get, path = "/ws/", tag = "live", security(("bearer" = [])),
    params(LiveParams),
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 400, body = ErrorBody, description = "not a WebSocket upgrade request"),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn live(State(state): State<AppState>, Query(params): Query<LiveParams>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let claims = match verify_bearer(&parts, &state) {
        Some(result) => result,
        None => match params.token.as_deref() {
            Some(token) => state
                .keys
                .verify(token, crate::auth::TokenType::Access)
                .map_err(|e| e.to_string()),
            None => Err("authentication credentials were not provided".into()),
        },
    };
    let claims = match claims {
        Ok(c) => c,
        Err(why) => return ApiError::Unauthorized(why).into_response(),
    };
    match state.engine.session_ended(claims.sid).await {
        Ok(false) => {}
        Ok(true) => return ApiError::Unauthorized("the session has ended; log in again".into()).into_response(),
        Err(e) => return ApiError::Core(e).into_response(),
    }
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
    let actor = crate::auth::Caller { claims }.actor();
    let receiver = hub.subscribe();
    let closed = hub.closed.subscribe();
    upgrade.on_upgrade(move |socket| feed(socket, state, actor, receiver, closed))
}

async fn feed(
    mut socket: WebSocket,
    state: AppState,
    actor: Actor,
    mut events: broadcast::Receiver<Arc<DomainEvent>>,
    mut closed: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *closed.borrow() {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
        tokio::select! {
            _ = closed.changed() => {}
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            event = events.recv() => {
                let message = match event {
                    Ok(event) => match visible(&state, actor, &event).await {
                        Some(v) => v,
                        None => continue,
                    },
                    Err(broadcast::error::RecvError::Lagged(missed)) => json!({"type": "lagged", "missed": missed}),
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if socket.send(Message::Text(message.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The message for `actor` about `event`, if they may see it.
async fn visible(state: &AppState, actor: Actor, event: &DomainEvent) -> Option<Value> {
    if let DomainEvent::EmailRequested { .. } = event {
        // The notification itself is shown; its e-mail is the mail consumer's business.
        return None;
    }
    if let DomainEvent::NotificationRequested { request } = event {
        return (request.user_id == actor.user).then(|| {
            json!({
                "type": "notification",
                "kind": request.kind,
                "subject": request.subject,
                "message": request.message,
                "related_ticket": request.related_ticket,
                "related_task": request.related_task,
            })
        });
    }
    let value = serde_json::to_value(event).ok()?;
    let ticket = TicketId(value.get("ticket")?.as_i64()?);
    state.engine.ticket(actor, TicketRef::Id(ticket)).await.ok()?;
    Some(value)
}
