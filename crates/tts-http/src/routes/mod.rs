//! The REST resources, one module each; [`api`] joins them into one documented router.

pub mod attachments;
pub mod comments;
pub mod dead_letters;
pub mod notifications;
pub mod ops;
pub mod reports;
pub mod roles;
pub mod tasks;
pub mod tickets;
pub mod users;
pub mod workflows;

use crate::error::ApiError;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Parses an object id from the path; one that cannot be an id of `entity` is simply not found.
pub(crate) fn path_id<T: std::str::FromStr>(entity: &'static str, raw: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::Core(tts_core::Error::not_found(entity, raw)))
}

/// Every documented route.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::router())
        .merge(roles::router())
        .merge(tickets::router())
        .merge(comments::router())
        .merge(attachments::router())
        .merge(workflows::router())
        .merge(tasks::router())
        .merge(notifications::router())
        .merge(ops::router())
        .merge(dead_letters::router())
        .merge(reports::router())
        .merge(crate::live::router())
}
