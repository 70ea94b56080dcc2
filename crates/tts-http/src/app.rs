//! The router with every layer: auth and rate limits, body limit, timeout, CORS, request ids, tracing,
//! JSON 404/405, OpenAPI and Swagger UI.

use crate::error::ApiError;
use crate::openapi::{ApiDoc, StandardResponses};
use crate::rate_limit::authenticate_and_limit;
use crate::routes;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The documented API (routes and OpenAPI document) before layers are added.
pub fn api() -> (Router<AppState>, OpenApiDoc) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::api())
        .split_for_parts();
    StandardResponses.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document of the API.
pub fn openapi() -> OpenApiDoc {
    api().1
}

/// The complete HTTP application for `state`: mount it with `axum::serve`, or nest it in your own router.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api();
    let config = state.config.clone();
    let timeout = config.request_timeout;
    let app = api.merge(SwaggerUi::new("/api/docs/").url("/api/openapi.json", doc));
    #[cfg(feature = "ui")]
    let app = {
        let mut ui = crate::ui::UiConfig::new("/ui");
        ui.secure_cookies = config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        let home = axum::routing::get(|| async { axum::response::Redirect::to("/ui") });
        app.nest("/ui", crate::ui::router(ui))
            .route("/", home.clone())
            .route("/ui/", home)
    };
    app.fallback(|| async { ApiError::RouteNotFound })
        .layer(middleware::from_fn_with_state(state.clone(), authenticate_and_limit))
        .layer(DefaultBodyLimit::max(config.body_limit))
        // tower-http answers a request that runs out of time with an empty 503; `json_errors` (outside
        // it) gives that answer the JSON body of `ApiError::Timeout`.
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(middleware::from_fn(json_errors))
        .layer(cors(&config.cors_origins))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn_with_state(state.clone(), crate::metrics::track))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// The probes and metrics alone (`/healthz`, `/readyz`, `/metrics`), for a process that serves no API:
/// `tts-server worker` with `--bind`.
pub fn probe_router(state: AppState) -> Router {
    let (probes, _) = OpenApiRouter::new().merge(routes::ops::router()).split_for_parts();
    probes
        .fallback(|| async { ApiError::RouteNotFound })
        .layer(middleware::from_fn(json_errors))
        .with_state(state)
}

/// The span of one request: method, path (never the query, which may hold secrets), the request id,
/// and the user and ticket once known (recorded by the auth middleware and the ticket routes).
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        user_id = tracing::field::Empty,
        ticket = tracing::field::Empty,
    )
}

/// Gives the plain-text or empty answers of axum and tower-http (405, 413, 404, the timeout's 503) the
/// JSON error body.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    // The web UI answers with its own HTML pages.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_json || is_page || response.status().is_success() || response.status().is_redirection() {
        return response;
    }
    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut r = ApiError::MethodNotAllowed.into_response();
            if let Some(allow) = allow {
                r.headers_mut().insert(header::ALLOW, allow);
            }
            r
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge.into_response(),
        StatusCode::NOT_FOUND => ApiError::RouteNotFound.into_response(),
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Timeout.into_response(),
        _ => response,
    }
}

fn cors(origins: &[String]) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            REQUEST_ID,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
            header::RETRY_AFTER,
        ]);
    if origins.iter().any(|o| o == "*") {
        base.allow_origin(Any)
    } else {
        let list: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
        base.allow_origin(AllowOrigin::list(list))
    }
}
