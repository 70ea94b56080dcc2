//! What every page shares: the chrome (base path, user, CSRF token, unread badge, asset URLs), the
//! rendering of a template into a response, and the error pages.

use super::Ui;
use super::assets;
use super::session::UiSession;
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tts_core::ports::PageRequest;

/// The frame around every page.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    /// The UI's base path; every link starts with it.
    pub base: String,
    /// The dashboard's URL (the base path, or `/` at the root).
    pub home: String,
    /// The page's title.
    pub title: String,
    /// The signed-in user's name, when signed in.
    pub user: Option<String>,
    /// Whether the user is an admin / an agent (for the menu).
    pub is_admin: bool,
    pub is_agent: bool,
    /// The session's CSRF token (empty when signed out).
    pub csrf: String,
    /// Unread notifications (the header's badge).
    pub unread: u64,
    /// The hashed URLs of the stylesheet and the script.
    pub css: String,
    pub js: String,
}

impl Chrome {
    /// The frame of a page for someone not signed in.
    pub fn anonymous(ui: &Ui, title: &str) -> Self {
        Chrome {
            base: ui.0.base_path.clone(),
            home: if ui.0.base_path.is_empty() {
                "/".into()
            } else {
                ui.0.base_path.clone()
            },
            title: title.into(),
            user: None,
            is_admin: false,
            is_agent: false,
            csrf: String::new(),
            unread: 0,
            css: format!("{}/assets/{}", ui.0.base_path, assets::STYLE.name()),
            js: format!("{}/assets/{}", ui.0.base_path, assets::SCRIPT.name()),
        }
    }

    /// The frame of a page for `session`, with its unread count.
    pub async fn signed_in(state: &AppState, ui: &Ui, session: &UiSession, title: &str) -> Result<Self, UiError> {
        let unread = state
            .engine
            .notifications(session.actor(), Some(false), PageRequest { page: 1, page_size: 1 })
            .await
            .map_err(UiError::from_core)?
            .total;
        let actor = session.actor();
        Ok(Chrome {
            user: Some(session.claims.full_name.clone()),
            is_admin: actor.is_admin,
            is_agent: actor.is_agent,
            csrf: session.csrf.clone(),
            unread,
            ..Chrome::anonymous(ui, title)
        })
    }
}

/// A template rendered into an HTML response (a rendering failure is a logged 500 page).
pub(crate) fn render(page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>Internal error."),
            )
                .into_response()
        }
    }
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// Not signed in (or the session ended): go to the sign-in page.
    #[error("sign in")]
    SignIn,
    /// A form without this session's CSRF token, or from another origin.
    #[error("the form has expired or comes from another site; reload the page and try again")]
    Csrf,
    /// What the API would have answered.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl UiError {
    /// An engine error, told as the API tells it.
    pub fn from_core(e: tts_core::Error) -> Self {
        UiError::Api(ApiError::Core(e))
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "ui/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    heading: String,
    detail: String,
}

/// The error page for `status` with `detail`, in a signed-out frame.
pub(crate) fn error_page(ui: &Ui, status: StatusCode, detail: String) -> Response {
    let heading = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        StatusCode::SERVICE_UNAVAILABLE => "Unavailable",
        s if s.is_client_error() => "Cannot do that",
        _ => "Something went wrong",
    };
    let mut response = render(ErrorPage {
        chrome: Chrome::anonymous(ui, heading),
        status: status.as_u16(),
        heading: heading.into(),
        detail,
    });
    *response.status_mut() = status;
    response
}

impl UiError {
    /// The response for this error under `ui`.
    pub(crate) fn respond(self, ui: &Ui) -> Response {
        match self {
            UiError::SignIn => Redirect::to(&format!("{}/signin", ui.0.base_path)).into_response(),
            UiError::Csrf => error_page(ui, StatusCode::FORBIDDEN, UiError::Csrf.to_string()),
            UiError::Api(e) => {
                let (status, body) = e.explain();
                if status == StatusCode::UNAUTHORIZED {
                    return Redirect::to(&format!("{}/signin?problem=ended", ui.0.base_path)).into_response();
                }
                error_page(ui, status, body.detail)
            }
        }
    }
}

/// A UI error not yet turned into a page: the router's layer (which knows the base path) renders it.
#[derive(Debug, Clone)]
pub(crate) struct Pending(pub std::sync::Arc<std::sync::Mutex<Option<UiError>>>);

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        // The base path is not known here: leave the error for `guard::headers` to render.
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response
            .extensions_mut()
            .insert(Pending(std::sync::Arc::new(std::sync::Mutex::new(Some(self)))));
        response
    }
}

/// The fallback: a 404 page.
pub(crate) async fn not_found(Extension(ui): Extension<Ui>) -> Response {
    error_page(&ui, StatusCode::NOT_FOUND, "There is no such page.".into())
}

/// The page a browser gets when the rate limiter refuses a UI request (the limiter runs outside the
/// UI's router, so this page carries the UI's headers itself): 429 with `Retry-After`.
pub fn too_many_requests(refusal: &ApiError) -> Response {
    use axum::http::{HeaderValue, header};
    let retry = match refusal {
        ApiError::RateLimited { retry_after } => *retry_after,
        _ => 1,
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Too many requests</title>\
         <h1>Too many requests</h1><p>{refusal}</p><p>Try again in {retry} s.</p></html>"
    );
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Html(body)).into_response();
    let h = response.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry.max(1)));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(super::guard::CONTENT_SECURITY_POLICY),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
