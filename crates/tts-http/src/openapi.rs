//! The OpenAPI document: paths come from the handlers (`#[utoipa::path]`), this adds the frame.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame: title, bearer scheme, tags.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "TTS: Ticket Tracking System", description = "Tickets, workflows, tasks and notifications. \
        Errors are `{code, detail, fields}`; lists are `{count, next, previous, results}`."),
    modifiers(&BearerScheme),
    components(schemas(crate::error::ErrorBody)),
    tags((name = "auth"), (name = "users"), (name = "roles"), (name = "tickets"), (name = "workflows"),
        (name = "tasks"), (name = "notifications"), (name = "live"), (name = "ops"))
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
