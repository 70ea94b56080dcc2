//! The REST resources, one module each; [`api`] joins them into one documented router.

pub mod notifications;
pub mod ops;
pub mod roles;
pub mod tasks;
pub mod tickets;
pub mod users;
pub mod workflows;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every documented route.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::router())
        .merge(roles::router())
        .merge(tickets::router())
        .merge(workflows::router())
        .merge(tasks::router())
        .merge(notifications::router())
        .merge(ops::router())
        .merge(crate::live::router())
}
