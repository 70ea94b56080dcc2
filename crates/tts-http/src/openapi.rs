//! The OpenAPI document: paths come from the handlers (`#[utoipa::path]`), this adds the frame and the
//! error answers every operation shares ([`StandardResponses`]), so the document says exactly which
//! statuses the server can give.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};

/// The document's frame: title, bearer scheme, tags, shared error answers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "TTS: Ticket Tracking System", description = "Tickets, workflows, tasks and notifications. \
        Errors are `{code, detail, fields}`; lists are `{count, next, previous, results}`."),
    modifiers(&BearerScheme),
    components(schemas(crate::error::ErrorBody)),
    tags((name = "auth"), (name = "users"), (name = "roles"), (name = "tickets"), (name = "comments"), (name = "attachments"), (name = "workflows"),
        (name = "tasks"), (name = "notifications"), (name = "live"), (name = "ops"), (name = "admin"), (name = "reports"))
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Paths the rate limiter never counts (see `rate_limit::bucket_of`).
const UNLIMITED: [&str; 2] = ["/healthz", "/readyz"];

/// Adds the error answers that follow from how the router is built rather than from one handler, to
/// every operation they apply to (answers a handler documents itself are kept):
///
/// - 401 (with `WWW-Authenticate`) on operations that need a bearer token;
/// - 429 (with `Retry-After`) on every rate-limited operation;
/// - 400 where a body or query parameters are read (malformed JSON, a bad parameter);
/// - 413, 415 and 422 where a JSON body is read (too large, not JSON, invalid fields);
/// - 404 where the path names an object (no such object, or not one the caller may see);
/// - 409 on writes (a state conflict or a concurrent change);
/// - 503 everywhere (the request timed out, or a backend is unavailable).
#[derive(Debug)]
pub struct StandardResponses;

fn error(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
            .build(),
    )
}

fn header_of(ty: Type, description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(ty)))
        .description(Some(description))
        .build()
}

fn standard(path: &str, method: &str, op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let has_path = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let limited = !UNLIMITED.contains(&path);
    let write = method != "get";
    let auth_flow = path.starts_with("/api/v1/users/token/") || path == "/api/v1/users/logout/";
    let responses = &mut op.responses.responses;
    // A handler may document these statuses itself; they still carry the headers always sent with them.
    for (status, name, ty, about) in [
        ("401", "WWW-Authenticate", Type::String, "`Bearer`"),
        (
            "429",
            "Retry-After",
            Type::Integer,
            "seconds until the next request is allowed",
        ),
    ] {
        if let Some(RefOr::T(r)) = responses.get_mut(status) {
            r.headers
                .entry(name.to_string())
                .or_insert_with(|| RefOr::T(header_of(ty, about)));
        }
    }
    let mut add = |status: u16, response: ResponseBuilder| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(response.build()));
    };
    if secured {
        add(
            401,
            error("missing, malformed, expired or revoked access token")
                .header("WWW-Authenticate", header_of(Type::String, "`Bearer`")),
        );
    }
    if limited {
        add(
            429,
            error("rate limit exceeded").header(
                "Retry-After",
                header_of(Type::Integer, "seconds until the next request is allowed"),
            ),
        );
    }
    if has_body || has_query {
        add(400, error("malformed JSON body or query parameter (`fields` names it)"));
    }
    if has_body {
        add(413, error("request body larger than the configured limit"));
        add(415, error("request body is not `application/json`"));
        add(422, error("invalid input (`fields` names every field at fault)"));
    }
    if has_path {
        add(404, error("no such object, or not one the caller may see"));
    }
    if write && !auth_flow {
        add(
            409,
            error("the change conflicts with the object's state or a concurrent change"),
        );
    }
    add(
        503,
        error("the request took too long, or a backend is unavailable; retry later"),
    );
}

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            for (method, op) in [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ] {
                if let Some(op) = op {
                    standard(path, method, op);
                }
            }
        }
    }
}
