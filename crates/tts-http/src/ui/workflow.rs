//! One workflow: its metadata, SLA per priority, the diagram, the steps and transitions tables, and for
//! admins the validator's problems. For admins a draft or paused workflow is an editor (screen 8): every
//! table row is a form, each save re-validates, and the problem list and the diagram preview sit beside
//! the forms; publish, pause and archive are buttons. The changes themselves are in `workflow_edit`.

use super::Ui;
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use super::workflow_form::{StepForm, TransitionForm, as_hours};
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use tts_core::WorkflowId;
use tts_core::domain::workflow::{AssignmentStrategy, WorkflowStatus};

/// A step row: names for reading, ids for the editor's selects.
pub(crate) struct StepRow {
    id: String,
    name: String,
    role: String,
    role_id: String,
    start: bool,
    end: bool,
    weight: u32,
    escalate_to: String,
    escalate_id: String,
    strategy: &'static str,
    strategy_key: &'static str,
}

/// A transition row.
pub(crate) struct TransitionRow {
    id: String,
    from: String,
    from_id: String,
    to: String,
    to_id: String,
    action: String,
}

/// The details form's values.
pub(crate) struct Meta {
    name: String,
    description: String,
    category: String,
    subcategory: String,
    department: String,
    priority: String,
    is_default: bool,
    /// `(priority, hours)`, most urgent first.
    sla: Vec<(&'static str, String)>,
}

/// What went wrong with the last change, shown above the forms.
pub(crate) struct Fault {
    /// Where: `Details`, `Step "Triage"`, `Publish`...
    pub place: String,
    /// The API's message and the reasons per field.
    pub message: String,
}

/// What the editor keeps of a rejected form, so nothing typed is lost.
#[derive(Default)]
pub(crate) struct Typed {
    /// A step being added.
    pub step: Option<StepForm>,
    /// A transition being added.
    pub transition: Option<TransitionForm>,
}

#[derive(Template)]
#[template(path = "ui/workflow.html")]
struct WorkflowPage {
    chrome: Chrome,
    id: String,
    /// The workflow's `updated_at` as shown; every editor form sends it back.
    stamp: String,
    status: &'static str,
    version: u32,
    meta: Meta,
    match_key: String,
    diagram: String,
    steps: Vec<StepRow>,
    transitions: Vec<TransitionRow>,
    problems: Option<Vec<String>>,
    idle_roles: Vec<String>,
    editable: bool,
    is_admin: bool,
    can_publish: bool,
    can_pause: bool,
    can_archive: bool,
    roles: Vec<(String, String)>,
    step_options: Vec<(String, String)>,
    priorities: [&'static str; 4],
    new_step: StepForm,
    new_transition: TransitionForm,
    notice: Option<&'static str>,
    fault: Option<Fault>,
}

/// Seconds as hours (or minutes under an hour).
fn target(seconds: Option<u64>) -> String {
    match seconds {
        None => "none".into(),
        Some(s) if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        Some(s) => format!("{} min", s.div_ceil(60)),
    }
}

/// `?saved=` after a change: what to confirm.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Notice {
    #[serde(default)]
    saved: Option<String>,
}

/// The workflow id in a path; anything else is the API's 404.
pub(crate) fn workflow_id(raw: &str) -> Result<WorkflowId, UiError> {
    raw.parse()
        .map_err(|_| UiError::from_core(tts_core::Error::not_found("workflow", raw)))
}

/// `GET /workflows/{id}/`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(id): Path<String>,
    Query(q): Query<Notice>,
) -> Result<Response, UiError> {
    let notice = match q.saved.as_deref() {
        Some("published") => Some("Published: this version is frozen and takes tickets."),
        Some("paused") => Some("Paused: no new tickets; running tasks go on. You can edit it now."),
        Some("archived") => Some("Archived."),
        Some(_) => Some("Saved."),
        None => None,
    };
    page(&state, &ui, &session, workflow_id(&id)?, notice, None, Typed::default()).await
}

/// The workflow page, read-only or as the editor, with a fault from the last change if any (then the
/// answer has `status`).
pub(crate) async fn page(
    state: &AppState,
    ui: &Ui,
    session: &UiSession,
    id: WorkflowId,
    notice: Option<&'static str>,
    fault: Option<(StatusCode, Fault)>,
    typed: Typed,
) -> Result<Response, UiError> {
    let engine = &state.engine;
    let actor = session.actor();
    let workflow = engine.workflow(id).await.map_err(UiError::from_core)?;
    let roles: BTreeMap<_, _> = engine
        .roles()
        .await
        .map_err(UiError::from_core)?
        .into_iter()
        .map(|r| (r.id, format!("{}:{}", r.system, r.name)))
        .collect();
    let role = |r| roles.get(&r).cloned().unwrap_or_else(|| format!("unknown role {r}"));
    let def = &workflow.definition;
    let step_name: BTreeMap<_, _> = def.steps.iter().map(|s| (s.id, s.name.clone())).collect();
    let name_of = |s| {
        step_name
            .get(&s)
            .cloned()
            .unwrap_or_else(|| format!("unknown step {s}"))
    };
    let (problems, idle_roles) = if actor.is_admin {
        let report = engine.validate_workflow(id).await.map_err(UiError::from_core)?;
        (
            Some(report.problems.iter().map(ToString::to_string).collect()),
            report.roles_without_active_users.into_iter().map(role).collect(),
        )
    } else {
        (None, Vec::new())
    };
    let drawn = crate::diagram::layout(def, &roles);
    let status = workflow.status;
    let k = &def.match_key;
    let match_key = super::workflows::match_key_text(k);
    let (code, fault) = match fault {
        Some((code, fault)) => (code, Some(fault)),
        None => (StatusCode::OK, None),
    };
    let mut response = render(WorkflowPage {
        chrome: Chrome::signed_in(state, ui, session, &def.name).await?,
        id: id.to_string(),
        stamp: super::workflow_edit::stamp(&workflow),
        status: status.as_str(),
        version: workflow.version,
        meta: Meta {
            name: def.name.clone(),
            description: def.description.clone(),
            category: k.category.clone(),
            subcategory: k.subcategory.clone().unwrap_or_default(),
            department: k.department.clone().unwrap_or_default(),
            priority: k.priority.map(|p| p.as_str().to_string()).unwrap_or_default(),
            is_default: def.is_default,
            sla: vec![
                ("critical", as_hours(def.sla.critical)),
                ("high", as_hours(def.sla.high)),
                ("medium", as_hours(def.sla.medium)),
                ("low", as_hours(def.sla.low)),
            ],
        },
        match_key,
        diagram: crate::diagram::svg_inline(&drawn, None),
        steps: def
            .steps
            .iter()
            .map(|s| StepRow {
                id: s.id.to_string(),
                name: s.name.clone(),
                role: role(s.role_id),
                role_id: s.role_id.to_string(),
                start: s.is_start,
                end: s.is_end,
                weight: s.weight,
                escalate_to: s.escalate_to.map(role).unwrap_or_else(|| "-".into()),
                escalate_id: s.escalate_to.map(|r| r.to_string()).unwrap_or_default(),
                strategy: match s.strategy {
                    AssignmentStrategy::RoundRobin => "round robin",
                    AssignmentStrategy::LeastLoaded => "least loaded",
                },
                strategy_key: match s.strategy {
                    AssignmentStrategy::RoundRobin => "round_robin",
                    AssignmentStrategy::LeastLoaded => "least_loaded",
                },
            })
            .collect(),
        transitions: def
            .transitions
            .iter()
            .map(|t| TransitionRow {
                id: t.id.to_string(),
                from: name_of(t.from_step),
                from_id: t.from_step.to_string(),
                to: t.to_step.map(name_of).unwrap_or_else(|| "(completes the task)".into()),
                to_id: t.to_step.map(|s| s.to_string()).unwrap_or_default(),
                action: t.name.clone(),
            })
            .collect(),
        problems,
        idle_roles,
        editable: actor.is_admin && status.is_editable(),
        is_admin: actor.is_admin,
        can_publish: actor.is_admin && status.can_move_to(WorkflowStatus::Active),
        can_pause: actor.is_admin && status.can_move_to(WorkflowStatus::Paused),
        can_archive: actor.is_admin && status.can_move_to(WorkflowStatus::Archived),
        roles: roles.iter().map(|(id, name)| (id.to_string(), name.clone())).collect(),
        step_options: def.steps.iter().map(|s| (s.id.to_string(), s.name.clone())).collect(),
        priorities: ["critical", "high", "medium", "low"],
        new_step: typed.step.unwrap_or_else(|| StepForm {
            weight: "1".into(),
            ..StepForm::default()
        }),
        new_transition: typed.transition.unwrap_or_default(),
        notice,
        fault,
    });
    *response.status_mut() = code;
    Ok(response)
}

impl WorkflowPage {
    /// The SLA targets as read-only text.
    fn sla_text(&self) -> Vec<(&'static str, String)> {
        self.meta
            .sla
            .iter()
            .map(|(p, h)| (*p, target(super::workflow_form::hours(p, h).ok().flatten())))
            .collect()
    }
}
