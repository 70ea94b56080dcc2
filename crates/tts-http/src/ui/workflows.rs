//! The workflows list: every workflow with its status, version, match key and default flag, and a
//! match dry run ("which workflow would this ticket get, and why"), a GET form since it changes
//! nothing.

use super::Ui;
use super::page::{Chrome, UiError, render};
use super::session::UiSession;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use tts_core::{Priority, TicketKey};

/// One workflow row.
pub(crate) struct Row {
    id: String,
    name: String,
    status: &'static str,
    version: u32,
    match_key: String,
    is_default: bool,
    steps: usize,
}

/// The dry run's answer.
pub(crate) struct DryRun {
    workflow: Option<String>,
    tier: Option<String>,
    reason: String,
}

/// The dry run's form (also shown filled in with what was asked).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DryRunForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    subcategory: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    priority: String,
}

#[derive(Template)]
#[template(path = "ui/workflows.html")]
struct WorkflowsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    form: DryRunForm,
    priorities: Vec<(&'static str, bool)>,
    dry_run: Option<DryRun>,
    problem: Option<String>,
}

/// A match key in words: category / subcategory / department / priority, the parts that are set.
pub(crate) fn match_key_text(k: &tts_core::domain::workflow::MatchKey) -> String {
    [
        Some(k.category.as_str()),
        k.subcategory.as_deref(),
        k.department.as_deref(),
    ]
    .into_iter()
    .flatten()
    .chain(k.priority.map(Priority::as_str))
    .collect::<Vec<_>>()
    .join(" / ")
}

/// `GET /workflows/`, with `?category=...` a dry run.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    RawQuery(raw): RawQuery,
) -> Result<Response, UiError> {
    let form: DryRunForm = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| UiError::Api(crate::ApiError::bad_field("query", e.to_string())))?;
    let engine = &state.engine;
    let rows = engine
        .workflows(None)
        .await
        .map_err(UiError::from_core)?
        .into_iter()
        .map(|w| {
            let match_key = match_key_text(&w.definition.match_key);
            Row {
                id: w.id.to_string(),
                name: w.definition.name.clone(),
                status: w.status.as_str(),
                version: w.version,
                match_key,
                is_default: w.definition.is_default,
                steps: w.definition.steps.len(),
            }
        })
        .collect();
    let (mut dry_run, mut problem) = (None, None);
    if !form.category.trim().is_empty() {
        let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let priority = match form.priority.as_str() {
            "" => Ok(Priority::default()),
            p => p.parse::<Priority>(),
        };
        match priority {
            Err(_) => problem = Some("priority: low, medium, high or critical".to_string()),
            Ok(priority) => {
                let key = TicketKey {
                    category: form.category.trim().to_string(),
                    subcategory: optional(&form.subcategory),
                    department: optional(&form.department),
                    priority,
                };
                let run = engine.match_dry_run(&key).await.map_err(UiError::from_core)?;
                dry_run = Some(DryRun {
                    workflow: run.workflow.map(|w| w.definition.name),
                    tier: run.explanation.decision.map(|m| m.tier.to_string()),
                    reason: run.explanation.reason,
                });
            }
        }
    }
    let priorities = Priority::ALL
        .iter()
        .map(|p| {
            (
                p.as_str(),
                p.as_str() == form.priority || (form.priority.is_empty() && *p == Priority::default()),
            )
        })
        .collect();
    Ok(render(WorkflowsPage {
        chrome: Chrome::signed_in(&state, &ui, &session, "Workflows").await?,
        rows,
        form,
        priorities,
        dry_run,
        problem,
    }))
}
