//! The workflow editor's actions (admins): create a draft, save the details, save / add / delete a
//! step or a transition, and publish, pause or archive. Each is one engine command on the definition
//! as stored now, then `303` back to the editor, which validates the result and redraws the diagram. A
//! change the API would refuse shows the editor again with the API's status and reasons, and keeps a
//! row being added as typed. Every form carries the workflow's `updated_at` as it was shown: a change
//! made on a page that someone else's save has made stale is refused (409), never silently merged.

use super::Ui;
use super::page::UiError;
use super::session::UiSession;
use super::workflow::{Fault, Typed, page, workflow_id};
use super::workflow_form::{MetaForm, StepForm, TransitionForm, apply_meta, apply_step, apply_transition, draft};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tts_core::domain::workflow::{Workflow, WorkflowDefinition};
use tts_core::ids::{ActionId, StepId, WorkflowId};
use tts_core::{Actor, Error as CoreError};
use uuid::Uuid;

/// The stamp a form carries: the workflow's last change, to the nanosecond.
pub(crate) fn stamp(w: &Workflow) -> String {
    w.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The new-workflow form of the workflows list.
#[derive(Debug, Deserialize)]
pub(crate) struct NewForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
}

/// `POST /workflows/`: a new draft, then its editor.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<NewForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.require_admin()?;
    let def = draft(&form.name, &form.category)?;
    let w = state
        .engine
        .create_workflow(actor, def)
        .await
        .map_err(UiError::from_core)?;
    Ok(Redirect::to(&format!("{}/workflows/{}/", ui.0.base_path, w.id)).into_response())
}

fn back(ui: &Ui, id: WorkflowId, what: &str) -> Response {
    Redirect::to(&format!("{}/workflows/{id}/?saved={what}", ui.0.base_path)).into_response()
}

/// The API's answer to a refused change, as the editor's fault line.
fn fault(place: String, e: &ApiError) -> (axum::http::StatusCode, Fault) {
    let (status, body) = e.explain();
    let mut message = body.detail;
    for (field, reasons) in body.fields {
        let reasons = reasons.join("; ");
        if !message.contains(&reasons) {
            message.push_str(&format!(" {field}: {reasons}."));
        }
    }
    (status, Fault { place, message })
}

/// Applies `change` to the stored definition and saves it: `Ok(Err(_))` is the API's refusal, for the
/// editor to show.
async fn edit_result(
    state: &AppState,
    session: &UiSession,
    id: WorkflowId,
    seen: &str,
    change: impl FnOnce(WorkflowDefinition) -> Result<WorkflowDefinition, ApiError>,
) -> Result<Result<(), ApiError>, UiError> {
    let actor: Actor = session.require_admin()?;
    let engine = &state.engine;
    let current = engine.workflow(id).await.map_err(UiError::from_core)?;
    if stamp(&current) != seen {
        return Ok(Err(ApiError::Core(CoreError::conflict(
            "someone else changed this workflow after this page was loaded; the page now shows their \
             version: make your change again",
        ))));
    }
    let def = match change(current.definition) {
        Ok(def) => def,
        Err(e) => return Ok(Err(e)),
    };
    Ok(engine
        .update_workflow(actor, id, def)
        .await
        .map(|_| ())
        .map_err(ApiError::Core))
}

/// The stamp every editor form carries.
#[derive(Debug, Deserialize)]
pub(crate) struct Stamped<F> {
    #[serde(default)]
    stamp: String,
    #[serde(flatten)]
    form: F,
}

/// `POST /workflows/{id}/details`.
pub(crate) async fn details(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(id): Path<String>,
    Form(Stamped { stamp, form }): Form<Stamped<MetaForm>>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let id = workflow_id(&id)?;
    match edit_result(&state, &session, id, &stamp, |def| apply_meta(def, &form)).await? {
        Ok(()) => Ok(back(&ui, id, "1")),
        Err(e) => {
            let fault = fault("Details".into(), &e);
            page(&state, &ui, &session, id, None, Some(fault), Typed::default()).await
        }
    }
}

/// `POST /workflows/{id}/steps`.
pub(crate) async fn steps(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(id): Path<String>,
    Form(Stamped { stamp, form }): Form<Stamped<StepForm>>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let id = workflow_id(&id)?;
    let roles = state
        .engine
        .roles()
        .await
        .map_err(UiError::from_core)?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let place = match form.op.as_str() {
        "add" => "New step".to_string(),
        _ if form.name.trim().is_empty() => "Step".to_string(),
        _ => format!("Step \u{201c}{}\u{201d}", form.name.trim()),
    };
    let change = |def| apply_step(def, &form, &roles, StepId(Uuid::new_v4()));
    let result = edit_result(&state, &session, id, &stamp, change).await?;
    match result {
        Ok(()) => Ok(back(&ui, id, "1")),
        Err(e) => {
            let typed = Typed {
                step: (form.op == "add").then_some(form),
                transition: None,
            };
            page(&state, &ui, &session, id, None, Some(fault(place, &e)), typed).await
        }
    }
}

/// `POST /workflows/{id}/transitions`.
pub(crate) async fn transitions(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(id): Path<String>,
    Form(Stamped { stamp, form }): Form<Stamped<TransitionForm>>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let id = workflow_id(&id)?;
    let place = match form.op.as_str() {
        "add" => "New transition".to_string(),
        _ => format!("Transition \u{201c}{}\u{201d}", form.name.trim()),
    };
    let change = |def| apply_transition(def, &form, ActionId(Uuid::new_v4()));
    let result = edit_result(&state, &session, id, &stamp, change).await?;
    match result {
        Ok(()) => Ok(back(&ui, id, "1")),
        Err(e) => {
            let typed = Typed {
                step: None,
                transition: (form.op == "add").then_some(form),
            };
            page(&state, &ui, &session, id, None, Some(fault(place, &e)), typed).await
        }
    }
}

/// A life-cycle button: `to` is `publish`, `pause` or `archive`.
#[derive(Debug, Deserialize)]
pub(crate) struct StatusForm {
    csrf: String,
    #[serde(default)]
    to: String,
}

/// `POST /workflows/{id}/status`: publish (validates and freezes a version), pause or archive.
pub(crate) async fn status(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.require_admin()?;
    let id = workflow_id(&id)?;
    let engine = &state.engine;
    let (result, done, place) = match form.to.as_str() {
        "publish" => (engine.publish_workflow(actor, id).await, "published", "Publish"),
        "pause" => (engine.pause_workflow(actor, id).await, "paused", "Pause"),
        "archive" => (engine.archive_workflow(actor, id).await, "archived", "Archive"),
        _ => {
            return Err(UiError::Api(ApiError::invalid_field("to", "publish, pause or archive")));
        }
    };
    match result {
        Ok(_) => Ok(back(&ui, id, done)),
        Err(e) => {
            let fault = fault(place.into(), &ApiError::Core(e));
            page(&state, &ui, &session, id, None, Some(fault), Typed::default()).await
        }
    }
}
