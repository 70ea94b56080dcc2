//! Reading request bodies and query strings with errors that name the field at fault.
//!
//! Malformed JSON is a 400; well-formed JSON with a wrong type, a missing field or an unknown enum value
//! is a 422 naming the field (`priority`, `steps[2].weight`); a body over the limit is a 413; a body
//! that is not `application/json` is a 415.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

/// A JSON body parsed with field-level errors; use instead of `axum::Json` in handlers.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let bytes = RawBody::from_request(req, state).await?.0;
        parse_json(&headers, &bytes).map(Body)
    }
}

/// The raw body bytes, with the size limit mapped to 413.
#[derive(Debug, Clone)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(RawBody).map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_field("body", e.body_text())
            }
        })
    }
}

/// Parses a JSON body, checking the content type first.
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|m| m.eq_ignore_ascii_case("application/json") || m.ends_with("+json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    // Syntax first (no allocation), so malformed JSON is a 400 even when fields are also missing.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::bad_field("body", format!("malformed JSON: {}", strip_position(&e.to_string()))))?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { "body".to_string() } else { path };
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::invalid_field(field, message),
            _ => ApiError::bad_field("body", format!("malformed JSON: {message}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_field("body", format!("malformed JSON: {}", strip_position(&e.to_string()))))?;
    Ok(value)
}

/// Drops serde_json's " at line 1 column 9" suffix: positions mean little to API clients.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Parses an optional query parameter with `FromStr`, naming the parameter on failure (400).
pub fn query_param<T: std::str::FromStr>(name: &str, value: Option<&str>) -> Result<Option<T>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_field(name, format!("{v:?} is not a valid value"))),
    }
}

/// Parses `true`/`false` (also `1`/`0`, `True`/`False` as Django accepts).
pub fn query_bool(name: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some("true" | "True" | "1") => Ok(Some(true)),
        Some("false" | "False" | "0") => Ok(Some(false)),
        Some(v) => Err(ApiError::bad_field(
            name,
            format!("{v:?} is not a boolean (true or false)"),
        )),
    }
}

/// The query string as name/value pairs (later duplicates win); bad encoding is a 400.
#[derive(Debug, Clone, Default)]
pub struct Params(pub std::collections::HashMap<String, String>);

impl Params {
    /// The value of one parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .map(|pairs| Params(pairs.into_iter().collect()))
            .map_err(|e| ApiError::bad_field("query", format!("malformed query string: {e}")))
    }
}
