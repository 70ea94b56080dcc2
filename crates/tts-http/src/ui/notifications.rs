//! The notifications page: the user's notifications, newest first, and marking them read.

use super::Ui;
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tts_core::ids::NotificationId;
use tts_core::ports::PageRequest;

/// One notification as shown.
pub(crate) struct Item {
    id: String,
    subject: String,
    message: String,
    ticket: Option<String>,
    at: String,
    is_read: bool,
}

#[derive(Template)]
#[template(path = "ui/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    items: Vec<Item>,
}

/// `GET /notifications/`: the latest 100.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
) -> Result<Response, UiError> {
    let page = state
        .engine
        .notifications(
            session.actor(),
            None,
            PageRequest {
                page: 1,
                page_size: 100,
            },
        )
        .await
        .map_err(UiError::from_core)?;
    let items = page
        .items
        .into_iter()
        .map(|n| Item {
            id: n.id.to_string(),
            subject: n.subject,
            message: n.message,
            ticket: n.related_ticket.map(|t| t.to_string()),
            at: n.created_at.format("%Y-%m-%d %H:%M").to_string(),
            is_read: n.is_read,
        })
        .collect();
    Ok(render(NotificationsPage {
        chrome: Chrome::signed_in(&state, &ui, &session, "Notifications").await?,
        items,
    }))
}

/// Mark one (`id`) or all (no `id`) read.
#[derive(Debug, Deserialize)]
pub(crate) struct MarkForm {
    csrf: String,
    #[serde(default)]
    id: Option<String>,
}

/// `POST /notifications/read`.
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<MarkForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.actor();
    match form.id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            let id = id
                .parse::<NotificationId>()
                .map_err(|_| UiError::Api(crate::ApiError::invalid_field("id", "not a notification id")))?;
            state
                .engine
                .mark_notification(actor, id, true)
                .await
                .map_err(UiError::from_core)?;
        }
        None => {
            state
                .engine
                .mark_all_notifications_read(actor)
                .await
                .map_err(UiError::from_core)?;
        }
    }
    Ok(Redirect::to(&format!("{}/notifications/", ui.0.base_path)).into_response())
}
