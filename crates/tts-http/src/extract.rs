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
    from_json_value(parse_json_value(headers, bytes)?)
}

/// Checks the content type and the syntax of a JSON body, which must be an object.
pub fn parse_json_value(headers: &HeaderMap, bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|m| m.eq_ignore_ascii_case("application/json") || m.ends_with("+json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_field("body", format!("malformed JSON: {}", strip_position(&e.to_string()))))?;
    // Every body is a JSON object: serde would otherwise read a struct from an array (`[1, 2]`).
    if !value.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    integral_floats_as_integers(&mut value);
    Ok(value)
}

/// Reads `T` from a parsed body; a wrong type, a missing or an unknown field is a 422 naming the field.
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = strip_position(&e.into_inner().to_string());
        let (field, message) = field_error(&path, &message);
        ApiError::invalid_field(field, message)
    })
}

/// JSON has one number type: `3.0` is the integer 3 to JSON Schema (and to most clients). serde reads
/// integers only from integer literals, so numbers with no fractional part become integers first.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
            {
                if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                    *value = Value::from(f as u64);
                } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

/// Deserializes an optional nested object strictly: serde would also read a struct from a JSON array.
/// Use with `#[serde(default, deserialize_with = "object")]`; errors keep their path (`employee.name`).
pub fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::de::value::MapAccessDeserializer;
    use serde::de::{MapAccess, Visitor};
    use std::marker::PhantomData;

    struct Obj<T>(PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> Visitor<'de> for Obj<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_option(Obj(PhantomData))
}

/// What kind of JSON value this is, for messages.
pub fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// The field a serde error is about, and what to say: `unknown field `x`` and `missing field `x``
/// name the field itself (inside the object at `path`) instead of the object.
fn field_error(path: &str, message: &str) -> (String, String) {
    let prefix = if path == "." { String::new() } else { format!("{path}.") };
    for (marker, say) in [("unknown field `", "unknown field"), ("missing field `", "required")] {
        if let Some(rest) = message.strip_prefix(marker)
            && let Some(end) = rest.find('`')
        {
            let name = &rest[..end];
            // serde_path_to_error's path already ends at an unknown key, not at a missing one.
            let field = if path == name || path.ends_with(&format!(".{name}")) {
                path.to_string()
            } else {
                format!("{prefix}{name}")
            };
            return (field, say.to_string());
        }
    }
    let field = if path == "." {
        "body".to_string()
    } else {
        path.to_string()
    };
    (field, message.to_string())
}

/// Drops serde_json's " at line 1 column 9" suffix: positions mean little to API clients.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A query string parsed into `T` (a `#[derive(Deserialize, IntoParams)]` struct, which is also the
/// operation's documented parameters), with errors that name the parameter (400).
///
/// Values are trimmed; an empty value is what the field makes of it (an empty text filter filters
/// nothing, an empty number or status is a 400); a parameter given twice is refused; parameters `T` does
/// not know are ignored. Booleans accept `true`/`false`
/// (see [`lenient_bool`] for the fields that also take Django's `True`/`1`).
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(Query)
    }
}

/// Parses a query string into `T` the way [`Query`] does.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::bad_field("query", format!("malformed query string: {e}")))?;
    // A known parameter given twice is a 400 naming it ("duplicate field"); unknown ones are ignored.
    let cleaned: Vec<(String, String)> = pairs.into_iter().map(|(k, v)| (k, v.trim().to_string())).collect();
    let encoded = serde_urlencoded::to_string(&cleaned).unwrap_or_default();
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let (field, message) = field_error(&path, &message);
        let message = match cleaned.iter().find(|(k, _)| *k == field) {
            Some((_, v)) => format!("{v:?} is not valid: {message}"),
            None => message,
        };
        ApiError::bad_field(field, message)
    })
}

/// Deserializes an optional boolean query value from `true`/`false`, and `True`/`False`/`1`/`0` as
/// Django accepts them; use with `#[serde(default, deserialize_with = "lenient_bool")]`.
pub fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    match s.as_ref() {
        "true" | "True" | "1" => Ok(Some(true)),
        "false" | "False" | "0" => Ok(Some(false)),
        other => Err(serde::de::Error::custom(format!(
            "{other:?} is not a boolean (true or false)"
        ))),
    }
}
