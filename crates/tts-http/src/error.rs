//! The one error type of the HTTP layer, and the one place where errors become status codes.
//!
//! Every error body has the shape `{"code": "snake_case", "detail": "message", "fields": {"name": ["why"]}}`
//! (`fields` only when input fields are at fault). Nothing a client sends produces a 500: internal errors
//! are logged with the request id and answered with a generic message, and so are backend failures
//! (503): their text (hosts, paths, driver messages) stays in the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use tts_core::{ErrorKind, FieldError};
use utoipa::ToSchema;

/// `Retry-After` of a 503 from a backend that is down: long enough for a database restart to begin.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// The detail of every 503 caused by a backend (the real error goes to the log only).
pub const UNAVAILABLE_DETAIL: &str = "a backend is unavailable; retry later";

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The engine or an adapter refused or failed.
    #[error(transparent)]
    Core(#[from] tts_core::Error),
    /// The body or a parameter could not be read (malformed JSON, bad query string).
    #[error("bad request: {detail}")]
    BadRequest {
        /// What was wrong.
        detail: String,
        /// The fields at fault.
        fields: Vec<FieldError>,
    },
    /// Well-formed input with invalid values (wrong type, unknown enum value, rule broken).
    #[error("invalid input: {detail}")]
    Unprocessable {
        /// What was wrong.
        detail: String,
        /// The fields at fault.
        fields: Vec<FieldError>,
    },
    /// Missing, malformed, expired or revoked credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The body is larger than the configured limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body is not `application/json`.
    #[error("unsupported media type: expected application/json")]
    UnsupportedMediaType,
    /// No route matches.
    #[error("no such endpoint")]
    RouteNotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A rate limit was hit; retry after the given seconds.
    #[error("rate limit exceeded; retry in {retry_after} s")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after: u64,
    },
    /// The request took longer than the configured timeout.
    #[error("the request took too long")]
    Timeout,
    /// An uploaded file is larger than the configured limit.
    #[error("the file is larger than {limit} bytes")]
    FileTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// An uploaded file's bytes are of a type not accepted.
    #[error("files of this type are not accepted ({detected})")]
    FileTypeRefused {
        /// What the bytes look like.
        detected: String,
    },
}

impl ApiError {
    /// A 400 about one field.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let e = FieldError::new(field, message);
        ApiError::BadRequest {
            detail: e.to_string(),
            fields: vec![e],
        }
    }

    /// A 422 about one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let e = FieldError::new(field, message);
        ApiError::Unprocessable {
            detail: e.to_string(),
            fields: vec![e],
        }
    }

    /// The status, code and fields of this error: the single mapping of errors to HTTP.
    fn parts(&self) -> (StatusCode, &'static str, Vec<FieldError>) {
        use tts_core::Error as E;
        match self {
            ApiError::Core(e) => match e {
                E::Validation(fields) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_error", fields.clone()),
                E::InvalidWorkflow(problems) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_workflow",
                    problems
                        .iter()
                        .map(|p| FieldError::new("definition", p.to_string()))
                        .collect(),
                ),
                E::IllegalTransition { .. } => (StatusCode::CONFLICT, "illegal_transition", Vec::new()),
                E::NoEligibleAssignee { .. } => (StatusCode::CONFLICT, "no_eligible_assignee", Vec::new()),
                E::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled", Vec::new()),
                _ => match e.kind() {
                    ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found", Vec::new()),
                    ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict", Vec::new()),
                    ErrorKind::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, "validation_error", Vec::new()),
                    ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden", Vec::new()),
                    ErrorKind::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", Vec::new()),
                    ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", Vec::new()),
                    _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", Vec::new()),
                },
            },
            ApiError::BadRequest { fields, .. } => (StatusCode::BAD_REQUEST, "bad_request", fields.clone()),
            ApiError::Unprocessable { fields, .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_error", fields.clone())
            }
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "not_authenticated", Vec::new()),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", Vec::new()),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", Vec::new())
            }
            ApiError::RouteNotFound => (StatusCode::NOT_FOUND, "not_found", Vec::new()),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", Vec::new()),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "throttled", Vec::new()),
            ApiError::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout", Vec::new()),
            ApiError::FileTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                vec![FieldError::new("file", self.to_string())],
            ),
            ApiError::FileTypeRefused { .. } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_file_type",
                vec![FieldError::new(
                    "file",
                    format!(
                        "{self}; accepted: {}",
                        tts_core::domain::attachment::ALLOWED_TYPES.join(", ")
                    ),
                )],
            ),
        }
    }
}

/// The error body every failing endpoint returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_error`, `not_found`, `throttled`.
    pub code: &'static str,
    /// Human-readable message.
    pub detail: String,
    /// Per-field reasons, when input fields are at fault.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(required = false)]
    pub fields: BTreeMap<String, Vec<String>>,
}

impl ApiError {
    /// What a client is told: the status, the code, the message and the reasons per field (the JSON
    /// error body's content; the web UI shows the same next to its form fields). Internal and backend
    /// errors are logged here and told in general words.
    pub fn explain(&self) -> (StatusCode, ErrorBody) {
        let (status, code, field_errors) = self.parts();
        let detail = match (status, self) {
            (StatusCode::INTERNAL_SERVER_ERROR, _) => {
                tracing::error!(error = %self, "internal error");
                "internal error; the server log has the details".to_string()
            }
            (StatusCode::SERVICE_UNAVAILABLE, ApiError::Timeout) => self.to_string(),
            // Backend errors can name hosts, users, files or driver details: the log gets them, the
            // client a generic answer.
            (StatusCode::SERVICE_UNAVAILABLE, _) => {
                tracing::warn!(error = %self, "backend unavailable");
                UNAVAILABLE_DETAIL.to_string()
            }
            _ => self.to_string(),
        };
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in field_errors {
            fields.entry(f.field).or_default().push(f.message);
        }
        (status, ErrorBody { code, detail, fields })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.explain();
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Core(ref e) if e.kind() == ErrorKind::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::Core(tts_core::Error::Throttled { retry_after_secs }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
            }
            // A backend that is down (the database restarting): the client may try again shortly.
            ApiError::Core(ref e) if e.kind() == ErrorKind::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS));
            }
            _ => {}
        }
        response
    }
}
