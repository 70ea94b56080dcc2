//! The profile page: the user's own details and roles, name and e-mail notifications, and changing the
//! password (which needs the current one and ends the user's other sessions, not this one).

use super::Ui;
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use tts_core::ProfileChange;

#[derive(Template)]
#[template(path = "ui/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    email: String,
    full_name: String,
    roles: Vec<String>,
    email_notifications: bool,
    /// What was saved (`?saved=`), shown once.
    saved: Option<&'static str>,
    /// The API's reasons per field after a refused change.
    errors: BTreeMap<String, Vec<String>>,
}

impl ProfilePage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).map(|e| e.join("; ")).unwrap_or_default()
    }
}

/// `?saved=details|password`.
#[derive(Debug, Deserialize)]
pub(crate) struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

async fn page(
    state: &AppState,
    ui: &Ui,
    session: &UiSession,
    saved: Option<&'static str>,
    errors: BTreeMap<String, Vec<String>>,
) -> Result<Response, UiError> {
    let me = state
        .engine
        .session(session.claims.user_id)
        .await
        .map_err(UiError::from_core)?;
    Ok(render(ProfilePage {
        chrome: Chrome::signed_in(state, ui, session, "Profile").await?,
        email: me.user.email,
        full_name: me.user.full_name,
        roles: me.roles.iter().map(|r| format!("{}:{}", r.system, r.name)).collect(),
        email_notifications: me.user.email_notifications,
        saved,
        errors,
    }))
}

/// `GET /profile`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Query(q): Query<Saved>,
) -> Result<Response, UiError> {
    let saved = match q.saved.as_deref() {
        Some("details") => Some("Your details were saved."),
        Some("password") => Some("Your password was changed; your other sessions have ended."),
        _ => None,
    };
    page(&state, &ui, &session, saved, BTreeMap::new()).await
}

/// The details form.
#[derive(Debug, Deserialize)]
pub(crate) struct DetailsForm {
    csrf: String,
    full_name: String,
    #[serde(default)]
    email_notifications: Option<String>,
}

/// The password form.
#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

/// Applies `change`; on a refusal with reasons per field, the page again (422) with them.
async fn apply(
    state: &AppState,
    ui: &Ui,
    session: &UiSession,
    change: ProfileChange,
    saved: &str,
) -> Result<Response, UiError> {
    match state
        .engine
        .update_profile(session.actor(), Some(session.claims.sid), change)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("{}/profile?saved={saved}", ui.0.base_path)).into_response()),
        Err(e) => {
            let e = crate::ApiError::Core(e);
            let (status, body) = e.explain();
            if status != StatusCode::UNPROCESSABLE_ENTITY || body.fields.is_empty() {
                return Err(UiError::Api(e));
            }
            let mut response = page(state, ui, session, None, body.fields).await?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// `POST /profile`: name and e-mail notifications.
pub(crate) async fn save_details(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<DetailsForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let change = ProfileChange {
        full_name: Some(form.full_name),
        email_notifications: Some(form.email_notifications.is_some()),
        ..ProfileChange::default()
    };
    apply(&state, &ui, &session, change, "details").await
}

/// `POST /profile/password`.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<PasswordForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let change = ProfileChange {
        new_password: Some(form.new_password),
        current_password: Some(form.current_password),
        ..ProfileChange::default()
    };
    apply(&state, &ui, &session, change, "password").await
}
