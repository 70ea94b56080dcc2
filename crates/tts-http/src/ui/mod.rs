//! The web UI: server-rendered pages of the helpdesk (DESIGN section 8).
//!
//! Pages are askama templates (compile-time checked, HTML-escaped) under `templates/ui/`, rendered by
//! handlers that call the engine in process with the caller's [`tts_core::Actor`], so the UI has
//! exactly the REST API's authorization. Every page and action works without JavaScript: links, and
//! forms that answer `303 See Other` to a page (post, redirect, get). One small hand-written script
//! (`assets/ui/ui.js`) only adds conveniences.
//!
//! Security: the session is an `HttpOnly`, `SameSite=Lax` cookie holding the session's refresh token
//! (no token is readable by scripts; signing out or any event that ends the session ends the cookie's
//! use at once); every form carries a per-session CSRF token (an HMAC of the session id, [`hmac`]) and
//! every POST must come from the page's own origin when the browser says where it comes from; every
//! answer has a strict Content-Security-Policy (`script-src 'self'`, no inline scripts or styles).
//! Assets are embedded in the binary under content-hashed names and cached for a year.
//!
//! Live updates: `GET {base}/live` is the live feed of [`crate::live`] authenticated by the same
//! session cookie (sent there because it lies under the cookie's path) instead of an access token. Its
//! WebSocket handshake is refused (403) unless its `Origin` names the request's own host, since no CSRF
//! token can protect a handshake; without a live session it answers 401 JSON, not the sign-in redirect.
//! The feed closes with `4003` within a second of sign-out. The script uses it to refresh the regions of
//! a ticket page an event concerns and the header's unread badge; without the script nothing changes
//! but the need to reload.
//!
//! Mount with [`router`] under any base path (the base path itself is the dashboard):
//!
//! ```no_run
//! # fn app(state: tts_http::AppState) -> axum::Router {
//! let ui = tts_http::ui::router(tts_http::ui::UiConfig::new("/helpdesk"));
//! axum::Router::new().nest("/helpdesk", ui).with_state(state)
//! # }
//! ```

mod assets;
mod chart;
mod dashboard;
mod guard;
mod live;
mod notifications;
mod page;
mod profile;
mod reports;
mod session;
mod ticket;
mod tickets;
mod users;
mod workflow;
mod workflow_edit;
mod workflow_form;
mod workflows;

use crate::state::AppState;
use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use std::sync::Arc;

pub use page::{UiError, too_many_requests};
pub use session::{UiSession, session_user};

/// How the UI is mounted.
#[derive(Debug, Clone)]
pub struct UiConfig {
    /// The path the router is nested under (`/ui`), without a trailing slash; every link and asset
    /// URL starts with it.
    pub base_path: String,
    /// Whether the session cookie is `Secure` (sent over HTTPS only). On by default; turn it off only
    /// for plain-HTTP development on localhost.
    pub secure_cookies: bool,
}

impl UiConfig {
    /// The UI under `base_path` (`"/ui"`; a trailing slash is dropped), with secure cookies.
    pub fn new(base_path: &str) -> Self {
        UiConfig {
            base_path: base_path.trim_end_matches('/').to_string(),
            secure_cookies: true,
        }
    }
}

/// The UI's settings as its handlers see them.
#[derive(Debug, Clone)]
pub(crate) struct Ui(pub Arc<UiConfig>);

/// The UI's pages and actions, to nest under `config.base_path`.
pub fn router(config: UiConfig) -> Router<AppState> {
    let ui = Ui(Arc::new(config));
    Router::new()
        .route("/", get(dashboard::show))
        .route("/signin", get(session::signin_page).post(session::signin))
        .route("/signout", post(session::signout))
        .route("/live", get(live::feed))
        .route("/tickets/", get(tickets::list))
        .route("/tickets/new", get(tickets::new_form).post(tickets::create))
        .route("/tickets/{number}/", get(ticket::show))
        .route("/tickets/{number}/act", post(ticket::act))
        .route("/tickets/{number}/transfer", post(ticket::transfer))
        // Files stream to the blob store under the upload limit, not the 1 MiB body limit of forms.
        .route(
            "/tickets/{number}/attachments",
            post(ticket::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/tickets/{number}/attachments/{id}", get(ticket::download))
        .route("/tickets/{number}/comments", post(ticket::comment))
        .route("/notifications/", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route("/users/", get(users::show).post(users::create))
        .route("/users/active", post(users::set_active))
        .route("/roles/members", post(users::membership))
        .route("/workflows/", get(workflows::list).post(workflow_edit::create))
        .route("/workflows/{id}/", get(workflow::show))
        .route("/workflows/{id}/details", post(workflow_edit::details))
        .route("/workflows/{id}/steps", post(workflow_edit::steps))
        .route("/workflows/{id}/transitions", post(workflow_edit::transitions))
        .route("/workflows/{id}/status", post(workflow_edit::status))
        .route("/reports/", get(reports::show))
        .route("/reports/{file}", get(reports::csv))
        .route("/profile", get(profile::show).post(profile::save_details))
        .route("/profile/password", post(profile::change_password))
        .route("/assets/{name}", get(assets::serve))
        .fallback(page::not_found)
        .layer(middleware::from_fn_with_state(ui.clone(), guard::headers))
        .layer(axum::Extension(ui))
}
