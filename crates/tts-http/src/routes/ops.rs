//! Liveness and readiness probes, and the Prometheus metrics.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;
use tts_core::ports::UnitOptions;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Each dependency and its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` when every required dependency answers, else `unavailable`.
    pub status: &'static str,
    /// Per dependency (`database`, `broker` when configured, `mail` when e-mail is on): `ok` or what is
    /// wrong. The database and the broker are required; mail is retried later and only reported.
    pub checks: BTreeMap<&'static str, String>,
}

/// The process can serve: the database answers, and the broker when one is configured (503 otherwise).
/// The mail server, when e-mail is on, is reported but not required (e-mails wait and are retried).
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let engine = &state.engine;
    let mut checks = BTreeMap::new();
    let mut ready = true;
    let database = async {
        let mut unit = engine.store().begin(UnitOptions::read()).await?;
        unit.workflows_revision().await.map(|_| ())
    }
    .await;
    ready &= database.is_ok();
    checks.insert("database", state_of(database));
    if let Some(queue) = engine.queue() {
        let broker = queue.ready().await;
        ready &= broker.is_ok();
        checks.insert("broker", state_of(broker));
    }
    if engine.config().email_notifications {
        checks.insert("mail", state_of(engine.mailer().ready().await));
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        status: if ready { "ok" } else { "unavailable" },
        checks,
    };
    (status, Json(body)).into_response()
}

fn state_of(result: tts_core::Result<()>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

/// Prometheus metrics in the text format (see `tts_http::metrics` for the series). Send
/// `Authorization: Bearer <TTS_METRICS_TOKEN>`; without a configured token the endpoint is off (404).
#[utoipa::path(get, path = "/metrics", tag = "ops", security(("bearer" = [])),
    responses((status = 200, description = "metrics in the Prometheus text format", content_type = "text/plain"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let (Some(token), Some(metrics)) = (state.config.metrics_token.as_deref(), state.metrics.as_ref()) else {
        return Err(ApiError::RouteNotFound);
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // `subtle` compares in time that does not depend on where the bytes differ.
    if !bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
        return Err(ApiError::Unauthorized(
            "send the metrics token as a bearer token".into(),
        ));
    }
    let feeds = state.live.as_ref().map_or(0, |hub| hub.open_feeds());
    let text = metrics.render(&state.engine, feeds).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}
