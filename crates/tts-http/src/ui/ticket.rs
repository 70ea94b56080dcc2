//! The ticket page: the ticket's fields and status, its task's step and SLA, the actions the core
//! offers the user (act with notes, escalate with a reason), the comments with a form, and the history.

use super::Ui;
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use tts_core::TicketRef;
use tts_core::domain::ticket_number::TicketNumber;
use tts_core::ids::ActionId;
use tts_core::ports::PageRequest;
use tts_core::{NewComment, Ticket};

/// One comment as shown.
pub(crate) struct CommentRow {
    author: String,
    at: String,
    content: String,
    is_internal: bool,
    is_deleted: bool,
}

/// One history line.
pub(crate) struct HistoryRow {
    at: String,
    action: String,
}

/// One step in the plain list beside the diagram, with its state for this ticket's task.
pub(crate) struct StepItem {
    name: String,
    state: &'static str,
}

/// An action button.
pub(crate) struct ActionButton {
    id: String,
    name: String,
    leads_to: String,
}

#[derive(Template)]
#[template(path = "ui/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    t: Ticket,
    number: String,
    /// The ticket's task id (empty before allocation): the live script also refreshes the page on the
    /// events that name only the task (escalation, transfer).
    task_id: String,
    status: &'static str,
    priority: &'static str,
    created: String,
    step: Option<String>,
    /// `ok`, `warning` or `breached`, with the time left or over.
    sla: Option<(&'static str, String)>,
    can_act: bool,
    actions: Vec<ActionButton>,
    /// The files on the ticket the user may see: (id, name, size in KiB, internal).
    files: Vec<(String, String, u64, bool)>,
    /// Who the current step can be handed to: the step role's active members but the user, as
    /// (id, name).
    transfer_to: Vec<(String, String)>,
    comments: Vec<CommentRow>,
    history: Vec<HistoryRow>,
    may_write_internal: bool,
    /// The workflow diagram with the task's visited, current and pending steps (our own SVG writer's
    /// output: every text in it is escaped there), and the same steps as a list.
    diagram: Option<String>,
    steps: Vec<StepItem>,
}

fn parse_number(number: &str) -> Result<TicketRef, UiError> {
    number.parse::<TicketNumber>().map(TicketRef::Number).map_err(|_| {
        UiError::from_core(tts_core::Error::NotFound {
            entity: "ticket",
            id: number.to_string(),
        })
    })
}

/// Hours and minutes of a span, for the SLA countdown.
fn span(minutes: i64) -> String {
    let m = minutes.abs();
    if m >= 60 * 24 {
        format!("{} d {} h", m / (60 * 24), (m / 60) % 24)
    } else {
        format!("{} h {} min", m / 60, m % 60)
    }
}

/// `GET /tickets/{number}/`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(number): Path<String>,
) -> Result<Response, UiError> {
    let actor = session.actor();
    let r = parse_number(&number)?;
    let engine = &state.engine;
    let t = engine.ticket(actor, r).await.map_err(UiError::from_core)?;
    let task = engine.task_for_ticket(actor, r).await.map_err(UiError::from_core)?;
    let (mut step, mut sla, mut can_act, mut actions) = (None, None, false, Vec::new());
    let mut transfer_to = Vec::new();
    let (mut diagram, mut steps) = (None, Vec::new());
    if let Some(task) = &task {
        let workflow = engine.workflow(task.workflow_id).await.map_err(UiError::from_core)?;
        let drawn = crate::diagram::diagram(engine, actor, workflow, Some(task.id))
            .await
            .map_err(UiError::from_core)?;
        if let Some(marks) = &drawn.marks {
            steps = drawn
                .layout
                .nodes
                .iter()
                .map(|n| StepItem {
                    name: n.name.clone(),
                    state: marks.state(n.step_id).as_str(),
                })
                .collect();
        }
        diagram = Some(crate::diagram::svg_inline(&drawn.layout, drawn.marks.as_ref()));
        if let Ok(available) = engine.available_actions(actor, task.id).await {
            step = Some(available.current_step.name.clone());
            can_act = available.can_act;
            if can_act {
                transfer_to = engine
                    .role_members(actor, available.current_step.role_id)
                    .await
                    .map_err(UiError::from_core)?
                    .into_iter()
                    .filter(|m| m.is_active && m.user.is_active && m.user.id != actor.user)
                    .map(|m| {
                        (
                            m.user.id.to_string(),
                            format!("{} <{}>", m.user.full_name, m.user.email),
                        )
                    })
                    .collect();
            }
            actions = available
                .actions
                .iter()
                .map(|a| ActionButton {
                    id: a.action_id.to_string(),
                    name: a.name.clone(),
                    leads_to: a.to_step_name.clone().unwrap_or_else(|| "done".into()),
                })
                .collect();
        }
        if let (Some(target), None) = (task.target_resolution, task.resolved_at) {
            let left = (target - Utc::now()).num_minutes();
            sla = Some(if left < 0 {
                ("breached", format!("overdue by {}", span(left)))
            } else if left < 60 {
                ("warning", format!("{} left", span(left)))
            } else {
                ("ok", format!("{} left", span(left)))
            });
        }
    }
    let comments = engine
        .comments(
            actor,
            r,
            PageRequest {
                page: 1,
                page_size: 100,
            },
        )
        .await
        .map_err(UiError::from_core)?
        .items
        .into_iter()
        .map(|c| CommentRow {
            author: c.author_name,
            at: c.created_at.format("%Y-%m-%d %H:%M").to_string(),
            is_deleted: c.deleted_at.is_some(),
            content: c.content,
            is_internal: c.is_internal,
        })
        .collect();
    let history = engine
        .ticket_history(actor, r)
        .await
        .map_err(UiError::from_core)?
        .into_iter()
        .map(|h| HistoryRow {
            at: h.at.format("%Y-%m-%d %H:%M").to_string(),
            action: h.action,
        })
        .collect();
    let files = engine
        .attachments(actor, r)
        .await
        .map_err(UiError::from_core)?
        .into_iter()
        .map(|a| (a.id.to_string(), a.file_name, a.size.div_ceil(1024), a.is_internal))
        .collect();
    let title = format!("{} {}", t.ticket_id, t.subject);
    Ok(render(TicketPage {
        chrome: Chrome::signed_in(&state, &ui, &session, &title).await?,
        number: t.ticket_id.to_string(),
        task_id: task.as_ref().map(|task| task.id.to_string()).unwrap_or_default(),
        status: t.status.as_str(),
        priority: t.priority.as_str(),
        created: t.created_at.format("%Y-%m-%d %H:%M").to_string(),
        may_write_internal: actor.is_admin || actor.is_agent,
        t,
        step,
        sla,
        can_act,
        actions,
        transfer_to,
        files,
        comments,
        history,
        diagram,
        steps,
    }))
}

/// The action form: act (`action` set) or escalate (`escalate` set), with notes or a reason.
#[derive(Debug, Deserialize)]
pub(crate) struct ActForm {
    csrf: String,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    escalate: Option<String>,
    #[serde(default)]
    notes: String,
}

/// `POST /tickets/{number}/act`: performs the chosen action or escalates, then back to the ticket.
pub(crate) async fn act(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(number): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.actor();
    let r = parse_number(&number)?;
    let engine = &state.engine;
    let task = task_of(engine, actor, r, &number).await?;
    if form.escalate.is_some() {
        engine
            .escalate(actor, task.id, &form.notes)
            .await
            .map_err(UiError::from_core)?;
    } else {
        let action = form
            .action
            .as_deref()
            .and_then(|a| a.parse::<ActionId>().ok())
            .ok_or_else(|| UiError::Api(crate::ApiError::invalid_field("action", "choose one of the actions")))?;
        engine
            .perform_action(actor, task.id, action, &form.notes)
            .await
            .map_err(UiError::from_core)?;
    }
    Ok(Redirect::to(&format!("{}/tickets/{number}/", ui.0.base_path)).into_response())
}

/// The comment form.
#[derive(Debug, Deserialize)]
pub(crate) struct CommentForm {
    csrf: String,
    content: String,
    #[serde(default)]
    internal: Option<String>,
}

/// `POST /tickets/{number}/comments`: adds a comment (or an internal note), then back to the ticket.
pub(crate) async fn comment(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(number): Path<String>,
    Form(form): Form<CommentForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let r = parse_number(&number)?;
    let new = NewComment {
        content: form.content,
        is_internal: form.internal.is_some(),
        parent_id: None,
    };
    state
        .engine
        .add_comment(session.actor(), r, new)
        .await
        .map_err(UiError::from_core)?;
    Ok(Redirect::to(&format!("{}/tickets/{number}/#comments", ui.0.base_path)).into_response())
}

/// The transfer form: to whom, with optional notes.
#[derive(Debug, Deserialize)]
pub(crate) struct TransferForm {
    csrf: String,
    to: String,
    #[serde(default)]
    notes: String,
}

/// `POST /tickets/{number}/transfer`: hands the current step to another member of its role.
pub(crate) async fn transfer(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(number): Path<String>,
    Form(form): Form<TransferForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    let actor = session.actor();
    let r = parse_number(&number)?;
    let engine = &state.engine;
    let task = task_of(engine, actor, r, &number).await?;
    let to = form
        .to
        .parse()
        .map_err(|_| UiError::Api(crate::ApiError::invalid_field("to", "choose a member of the role")))?;
    engine
        .transfer(actor, task.id, to, &form.notes)
        .await
        .map_err(UiError::from_core)?;
    Ok(Redirect::to(&format!("{}/tickets/{number}/", ui.0.base_path)).into_response())
}

/// `GET /tickets/{number}/attachments/{id}`: a file, streamed by the REST download handler for the
/// session's user (same access rules, same headers: attachment disposition, sniffed type, nosniff).
pub(crate) async fn download(
    State(state): State<AppState>,
    session: UiSession,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, UiError> {
    let caller = crate::auth::Caller { claims: session.claims };
    crate::routes::attachments::download_attachment(State(state), caller, Path((number, id)))
        .await
        .map_err(UiError::Api)
}

/// `POST /tickets/{number}/attachments` (`multipart/form-data`: `csrf` first, then `file`): stores the
/// file on the ticket with the API's rules (size limit, sniffed type, who may attach), then back to the
/// ticket. The token is read before a byte of the file is kept.
pub(crate) async fn upload(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(number): Path<String>,
    headers: axum::http::HeaderMap,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, UiError> {
    use crate::routes::attachments::{FRAMING, blob_store, record_file, small_field, stage_file};
    let api = UiError::Api;
    let r = parse_number(&number)?;
    let limit = state.config.max_upload_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(FRAMING)) {
        return Err(api(crate::ApiError::FileTooLarge { limit }));
    }
    let mut multipart = multipart.map_err(|e| api(crate::ApiError::bad_field("file", e.body_text())))?;
    let csrf = match next_field(&mut multipart).await? {
        Some(field) if field.name() == Some("csrf") => small_field(field, "csrf").await.map_err(api)?,
        _ => return Err(UiError::Csrf),
    };
    session.check_csrf(&csrf)?;
    let actor = session.actor();
    state
        .engine
        .may_attach(actor, r, None)
        .await
        .map_err(UiError::from_core)?;
    let blobs = blob_store(&state).map_err(api)?;
    match next_field(&mut multipart).await? {
        Some(field) if field.name() == Some("file") => {
            let file = stage_file(blobs.as_ref(), field, limit).await.map_err(api)?;
            record_file(&state, actor, r, None, &mut multipart, file)
                .await
                .map_err(api)?;
        }
        _ => return Err(api(crate::ApiError::invalid_field("file", "choose a file"))),
    }
    Ok(Redirect::to(&format!("{}/tickets/{number}/", ui.0.base_path)).into_response())
}

/// The next part of a multipart form.
async fn next_field(
    multipart: &mut axum::extract::Multipart,
) -> Result<Option<axum::extract::multipart::Field<'_>>, UiError> {
    multipart
        .next_field()
        .await
        .map_err(|e| UiError::Api(crate::ApiError::bad_field("file", e.body_text())))
}

/// The task of ticket `r` (shown to the user as `number`), which must have one by now.
async fn task_of(
    engine: &tts_core::Engine,
    actor: tts_core::Actor,
    r: TicketRef,
    number: &str,
) -> Result<tts_core::Task, UiError> {
    engine
        .task_for_ticket(actor, r)
        .await
        .map_err(UiError::from_core)?
        .ok_or_else(|| {
            UiError::from_core(tts_core::Error::NotFound {
                entity: "task of ticket",
                id: number.to_string(),
            })
        })
}
