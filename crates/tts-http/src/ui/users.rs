//! Users and roles (admins): every user with active or inactive and a button to change it, a form to
//! create a user, and each role's members with add, remove, activate and deactivate. Every change is one
//! engine command with the REST API's rules (admin only; a user who is changed loses their sessions
//! where the engine says so).

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
use tts_core::ids::{RoleId, UserId};
use tts_core::ports::PageRequest;
use tts_core::{NewUser, UserChange};

/// One user row.
pub(crate) struct UserRow {
    id: String,
    email: String,
    name: String,
    active: bool,
}

/// One role with its members.
pub(crate) struct RoleBlock {
    id: String,
    name: String,
    members: Vec<UserRow>,
}

#[derive(Template)]
#[template(path = "ui/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    roles: Vec<RoleBlock>,
    form: NewUserForm,
    errors: BTreeMap<String, Vec<String>>,
    saved: bool,
    /// This page of the users, the previous and next page numbers, and the total.
    page: u32,
    previous: Option<u32>,
    next: Option<u32>,
    total: u64,
}

/// Users per page.
const PAGE_SIZE: u32 = 50;

impl UsersPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).map(|e| e.join("; ")).unwrap_or_default()
    }
}

/// The create-user form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    password: String,
}

/// `?saved=1` after a change, `?page=` of the users.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Saved {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

async fn page(
    state: &AppState,
    ui: &Ui,
    session: &UiSession,
    form: NewUserForm,
    errors: BTreeMap<String, Vec<String>>,
    saved: bool,
    page_number: u32,
) -> Result<Response, UiError> {
    let actor = session.actor();
    let engine = &state.engine;
    let err = UiError::from_core;
    let row = |u: &tts_core::domain::user::User, active: bool| UserRow {
        id: u.id.to_string(),
        email: u.email.clone(),
        name: u.full_name.clone(),
        active,
    };
    let listed = engine
        .list_users(
            actor,
            PageRequest {
                page: page_number,
                page_size: PAGE_SIZE,
            },
        )
        .await
        .map_err(err)?;
    let users = listed.items.iter().map(|u| row(u, u.is_active)).collect();
    let pages = listed.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let mut roles = Vec::new();
    for role in engine.roles().await.map_err(err)? {
        let members = engine.role_members(actor, role.id).await.map_err(err)?;
        roles.push(RoleBlock {
            id: role.id.to_string(),
            name: format!("{}:{}", role.system, role.name),
            members: members.iter().map(|m| row(&m.user, m.is_active)).collect(),
        });
    }
    Ok(render(UsersPage {
        chrome: Chrome::signed_in(state, ui, session, "Users and roles").await?,
        users,
        roles,
        form,
        errors,
        saved,
        page: page_number,
        previous: (page_number > 1).then(|| page_number - 1),
        next: (u64::from(page_number) < pages).then(|| page_number + 1),
        total: listed.total,
    }))
}

/// `GET /users/`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Query(q): Query<Saved>,
) -> Result<Response, UiError> {
    session.require_admin()?;
    let number = match q.page.as_deref() {
        None | Some("") => 1,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or_else(|| UiError::Api(crate::ApiError::bad_field("page", "a page number from 1")))?,
    };
    page(
        &state,
        &ui,
        &session,
        NewUserForm::default(),
        BTreeMap::new(),
        q.saved.is_some(),
        number,
    )
    .await
}

fn back(ui: &Ui) -> Response {
    Redirect::to(&format!("{}/users/?saved=1", ui.0.base_path)).into_response()
}

/// `POST /users/`: creates a user, or shows the form again (422) with the reasons next to the fields.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<NewUserForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.require_admin()?;
    let new = NewUser {
        email: form.email.trim().to_string(),
        full_name: form.full_name.trim().to_string(),
        password: Some(form.password.clone()).filter(|p| !p.is_empty()),
    };
    match state.engine.create_user(actor, new).await {
        Ok(_) => Ok(back(&ui)),
        Err(e) => {
            let e = crate::ApiError::Core(e);
            let (status, body) = e.explain();
            if !matches!(status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT) {
                return Err(UiError::Api(e));
            }
            let mut errors = body.fields;
            if errors.is_empty() {
                errors.insert("email".into(), vec![body.detail]);
            }
            let form = NewUserForm {
                password: String::new(),
                ..form
            };
            let mut response = page(&state, &ui, &session, form, errors, false, 1).await?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// Activate or deactivate a user.
#[derive(Debug, Deserialize)]
pub(crate) struct ActiveForm {
    csrf: String,
    user: String,
    active: bool,
}

fn user_id(raw: &str) -> Result<UserId, UiError> {
    raw.parse()
        .map_err(|_| UiError::Api(crate::ApiError::invalid_field("user", "not a user id")))
}

fn role_id(raw: &str) -> Result<RoleId, UiError> {
    raw.parse()
        .map_err(|_| UiError::Api(crate::ApiError::invalid_field("role", "not a role id")))
}

/// `POST /users/active`.
pub(crate) async fn set_active(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<ActiveForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.require_admin()?;
    let change = UserChange {
        is_active: Some(form.active),
        ..UserChange::default()
    };
    state
        .engine
        .update_user(actor, user_id(&form.user)?, change)
        .await
        .map_err(UiError::from_core)?;
    Ok(back(&ui))
}

/// A membership change: `add` (by e-mail), `activate`, `deactivate` or `remove`.
#[derive(Debug, Deserialize)]
pub(crate) struct MembershipForm {
    csrf: String,
    role: String,
    op: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    email: String,
}

/// `POST /roles/members`.
pub(crate) async fn membership(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<MembershipForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.require_admin()?;
    let engine = &state.engine;
    let role = role_id(&form.role)?;
    let err = UiError::from_core;
    match form.op.as_str() {
        "add" => {
            let email = form.email.trim().to_lowercase();
            let users = engine
                .list_users(
                    actor,
                    PageRequest {
                        page: 1,
                        page_size: 500,
                    },
                )
                .await
                .map_err(err)?;
            let user = users
                .items
                .iter()
                .find(|u| u.email.to_lowercase() == email)
                .ok_or_else(|| UiError::Api(crate::ApiError::invalid_field("email", "no user has this e-mail")))?;
            engine.set_membership(actor, role, user.id, true).await.map_err(err)?;
        }
        "activate" | "deactivate" => {
            let active = form.op == "activate";
            engine
                .set_membership(actor, role, user_id(&form.user)?, active)
                .await
                .map_err(err)?;
        }
        "remove" => engine
            .remove_membership(actor, role, user_id(&form.user)?)
            .await
            .map_err(err)?,
        _ => {
            return Err(UiError::Api(crate::ApiError::invalid_field(
                "op",
                "add, activate, deactivate or remove",
            )));
        }
    }
    Ok(back(&ui))
}
