//! One workflow, read-only: its metadata, SLA per priority, the diagram, the steps and transitions
//! tables, and (for admins) the problems the validator finds.

use super::Ui;
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use std::collections::BTreeMap;
use tts_core::WorkflowId;
use tts_core::domain::workflow::AssignmentStrategy;

/// A step row.
pub(crate) struct StepRow {
    name: String,
    role: String,
    start: bool,
    end: bool,
    weight: u32,
    escalate_to: String,
    strategy: &'static str,
}

/// A transition row.
pub(crate) struct TransitionRow {
    from: String,
    to: String,
    action: String,
}

#[derive(Template)]
#[template(path = "ui/workflow.html")]
struct WorkflowPage {
    chrome: Chrome,
    name: String,
    description: String,
    status: &'static str,
    version: u32,
    is_default: bool,
    sla: Vec<(&'static str, String)>,
    diagram: String,
    steps: Vec<StepRow>,
    transitions: Vec<TransitionRow>,
    problems: Option<Vec<String>>,
}

/// Seconds as hours (or minutes under an hour).
fn target(seconds: Option<u64>) -> String {
    match seconds {
        None => "none".into(),
        Some(s) if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        Some(s) => format!("{} min", s.div_ceil(60)),
    }
}

/// `GET /workflows/{id}/`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let not_found = || UiError::from_core(tts_core::Error::not_found("workflow", &id));
    let id: WorkflowId = id.parse().map_err(|_| not_found())?;
    let engine = &state.engine;
    let actor = session.actor();
    let workflow = engine.workflow(id).await.map_err(UiError::from_core)?;
    let roles: BTreeMap<_, _> = engine
        .roles()
        .await
        .map_err(UiError::from_core)?
        .into_iter()
        .map(|r| (r.id, r.name))
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
    let problems = if actor.is_admin {
        let report = engine.validate_workflow(id).await.map_err(UiError::from_core)?;
        Some(report.problems.iter().map(ToString::to_string).collect())
    } else {
        None
    };
    let drawn = crate::diagram::layout(def, &roles);
    Ok(render(WorkflowPage {
        chrome: Chrome::signed_in(&state, &ui, &session, &def.name).await?,
        name: def.name.clone(),
        description: def.description.clone(),
        status: workflow.status.as_str(),
        version: workflow.version,
        is_default: def.is_default,
        sla: vec![
            ("critical", target(def.sla.critical)),
            ("high", target(def.sla.high)),
            ("medium", target(def.sla.medium)),
            ("low", target(def.sla.low)),
        ],
        diagram: crate::diagram::svg_inline(&drawn, None),
        steps: def
            .steps
            .iter()
            .map(|s| StepRow {
                name: s.name.clone(),
                role: role(s.role_id),
                start: s.is_start,
                end: s.is_end,
                weight: s.weight,
                escalate_to: s.escalate_to.map(role).unwrap_or_else(|| "-".into()),
                strategy: match s.strategy {
                    AssignmentStrategy::RoundRobin => "round robin",
                    AssignmentStrategy::LeastLoaded => "least loaded",
                },
            })
            .collect(),
        transitions: def
            .transitions
            .iter()
            .map(|t| TransitionRow {
                from: name_of(t.from_step),
                to: t.to_step.map(name_of).unwrap_or_else(|| "(completes the task)".into()),
                action: t.name.clone(),
            })
            .collect(),
        problems,
    }))
}
