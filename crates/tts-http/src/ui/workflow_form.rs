//! The workflow editor's forms and how each one changes a definition: pure functions from a posted form
//! and the current definition to the next definition, or the field at fault. The handlers
//! (`workflow_edit`) save the result as one engine command; the validator then judges the whole.

use crate::error::ApiError;
use serde::Deserialize;
use std::collections::BTreeMap;
use tts_core::Priority;
use tts_core::domain::workflow::{AssignmentStrategy, Position, Step, Transition, WorkflowDefinition};
use tts_core::ids::{ActionId, RoleId, StepId};

/// The details form: name, description, match key, default flag and the SLA per priority in hours.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetaForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub subcategory: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub priority: String,
    /// Present (`on`) when the box is ticked.
    #[serde(default)]
    pub is_default: Option<String>,
    #[serde(default)]
    pub sla_critical: String,
    #[serde(default)]
    pub sla_high: String,
    #[serde(default)]
    pub sla_medium: String,
    #[serde(default)]
    pub sla_low: String,
}

/// One row of the steps table: `op` is `save`, `add` or `delete`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StepForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub op: String,
    /// The step's id (empty when adding).
    #[serde(default)]
    pub step: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub weight: String,
    #[serde(default)]
    pub escalate_to: String,
    #[serde(default)]
    pub strategy: String,
    #[serde(default)]
    pub is_start: Option<String>,
    #[serde(default)]
    pub is_end: Option<String>,
}

/// One row of the transitions table: `op` is `save`, `add` or `delete`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TransitionForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub op: String,
    /// The transition's id (empty when adding).
    #[serde(default)]
    pub transition: String,
    #[serde(default)]
    pub from: String,
    /// The next step's id; empty completes the task.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub name: String,
}

/// What the editor writes: a step's or transition's field, in the API's words.
fn bad(field: &str, message: &str) -> ApiError {
    ApiError::invalid_field(field, message)
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Hours as typed (`4`, `0.5`, empty for none) to seconds.
pub(crate) fn hours(field: &str, raw: &str) -> Result<Option<u64>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<f64>() {
        Ok(h) if h.is_finite() && h > 0.0 && h <= 1e6 => Ok(Some((h * 3600.0).round().max(1.0) as u64)),
        _ => Err(bad(
            field,
            "hours: a number above 0 (up to 1,000,000), or empty for no target",
        )),
    }
}

/// Seconds as hours for the form (`4`, `0.5`), empty for none.
pub(crate) fn as_hours(seconds: Option<u64>) -> String {
    match seconds {
        None => String::new(),
        Some(s) if s % 3600 == 0 => (s / 3600).to_string(),
        Some(s) => {
            let text = format!("{:.4}", s as f64 / 3600.0);
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

/// The definition with the details form applied.
pub(crate) fn apply_meta(mut def: WorkflowDefinition, form: &MetaForm) -> Result<WorkflowDefinition, ApiError> {
    let name = form.name.trim();
    if name.is_empty() {
        return Err(bad("name", "must not be empty"));
    }
    let category = form.category.trim();
    if category.is_empty() {
        return Err(bad(
            "category",
            "must not be empty: the category is what tickets are matched on",
        ));
    }
    def.name = name.to_string();
    def.description = form.description.trim().to_string();
    def.match_key.category = category.to_string();
    def.match_key.subcategory = optional(&form.subcategory);
    def.match_key.department = optional(&form.department);
    def.match_key.priority = match form.priority.trim() {
        "" => None,
        p => Some(
            p.parse::<Priority>()
                .map_err(|_| bad("priority", "low, medium, high, critical, or empty for any"))?,
        ),
    };
    def.is_default = form.is_default.is_some();
    def.sla.critical = hours("sla_critical", &form.sla_critical)?;
    def.sla.high = hours("sla_high", &form.sla_high)?;
    def.sla.medium = hours("sla_medium", &form.sla_medium)?;
    def.sla.low = hours("sla_low", &form.sla_low)?;
    Ok(def)
}

fn step_id(raw: &str) -> Result<StepId, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| bad("step", "not a step of this workflow"))
}

fn role(field: &str, raw: &str, roles: &BTreeMap<RoleId, String>) -> Result<RoleId, ApiError> {
    raw.trim()
        .parse()
        .ok()
        .filter(|r| roles.contains_key(r))
        .ok_or_else(|| bad(field, "choose one of the roles"))
}

/// The definition with one steps-table row saved, added or deleted. Deleting a step also deletes the
/// transitions that leave it or lead to it (they could not be kept).
pub(crate) fn apply_step(
    mut def: WorkflowDefinition,
    form: &StepForm,
    roles: &BTreeMap<RoleId, String>,
    new_id: StepId,
) -> Result<WorkflowDefinition, ApiError> {
    if form.op == "delete" {
        let id = step_id(&form.step)?;
        let before = def.steps.len();
        def.steps.retain(|s| s.id != id);
        if def.steps.len() == before {
            return Err(bad("step", "not a step of this workflow"));
        }
        def.transitions.retain(|t| t.from_step != id && t.to_step != Some(id));
        return Ok(def);
    }
    let name = form.name.trim();
    if name.is_empty() {
        return Err(bad("name", "a step needs a name"));
    }
    let weight = form
        .weight
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|w| (1..=1000).contains(w))
        .ok_or_else(|| bad("weight", "a whole number from 1 to 1000 (the step's share of the SLA)"))?;
    let role_id = role("role", &form.role, roles)?;
    let escalate_to = match form.escalate_to.trim() {
        "" => None,
        raw => Some(role("escalate_to", raw, roles)?),
    };
    let strategy = match form.strategy.trim() {
        "" | "round_robin" => AssignmentStrategy::RoundRobin,
        "least_loaded" => AssignmentStrategy::LeastLoaded,
        _ => return Err(bad("strategy", "round_robin or least_loaded")),
    };
    let fill = |s: &mut Step| {
        s.name = name.to_string();
        s.role_id = role_id;
        s.weight = weight;
        s.escalate_to = escalate_to;
        s.strategy = strategy;
        s.is_start = form.is_start.is_some();
        s.is_end = form.is_end.is_some();
    };
    match form.op.as_str() {
        "add" => {
            let mut step = Step {
                id: new_id,
                name: String::new(),
                role_id,
                description: String::new(),
                instruction: String::new(),
                weight,
                escalate_to: None,
                is_start: false,
                is_end: false,
                position: Position::default(),
                strategy,
            };
            fill(&mut step);
            def.steps.push(step);
        }
        "save" => {
            let id = step_id(&form.step)?;
            let step = def
                .steps
                .iter_mut()
                .find(|s| s.id == id)
                .ok_or_else(|| bad("step", "not a step of this workflow"))?;
            fill(step);
        }
        _ => return Err(bad("op", "save, add or delete")),
    }
    Ok(def)
}

/// The definition with one transitions-table row saved, added or deleted.
pub(crate) fn apply_transition(
    mut def: WorkflowDefinition,
    form: &TransitionForm,
    new_id: ActionId,
) -> Result<WorkflowDefinition, ApiError> {
    let transition_id = || -> Result<ActionId, ApiError> {
        form.transition
            .trim()
            .parse()
            .map_err(|_| bad("transition", "not a transition of this workflow"))
    };
    if form.op == "delete" {
        let id = transition_id()?;
        let before = def.transitions.len();
        def.transitions.retain(|t| t.id != id);
        if def.transitions.len() == before {
            return Err(bad("transition", "not a transition of this workflow"));
        }
        return Ok(def);
    }
    let known = |field: &str, raw: &str| -> Result<StepId, ApiError> {
        raw.trim()
            .parse()
            .ok()
            .filter(|id| def.steps.iter().any(|s| s.id == *id))
            .ok_or_else(|| bad(field, "choose one of the workflow's steps"))
    };
    let from_step = known("from", &form.from)?;
    let to_step = match form.to.trim() {
        "" => None,
        raw => Some(known("to", raw)?),
    };
    let name = form.name.trim();
    if name.is_empty() {
        return Err(bad("name", "an action needs a name: it is the button's label"));
    }
    match form.op.as_str() {
        "add" => def.transitions.push(Transition {
            id: new_id,
            name: name.to_string(),
            from_step,
            to_step,
        }),
        "save" => {
            let id = transition_id()?;
            let t = def
                .transitions
                .iter_mut()
                .find(|t| t.id == id)
                .ok_or_else(|| bad("transition", "not a transition of this workflow"))?;
            t.name = name.to_string();
            t.from_step = from_step;
            t.to_step = to_step;
        }
        _ => return Err(bad("op", "save, add or delete")),
    }
    Ok(def)
}

/// A new draft's definition: a name and a category, no steps yet.
pub(crate) fn draft(name: &str, category: &str) -> Result<WorkflowDefinition, ApiError> {
    let form = MetaForm {
        name: name.into(),
        category: category.into(),
        ..MetaForm::default()
    };
    let empty = WorkflowDefinition {
        name: String::new(),
        description: String::new(),
        match_key: Default::default(),
        is_default: false,
        sla: Default::default(),
        steps: Vec::new(),
        transitions: Vec::new(),
    };
    apply_meta(empty, &form)
}

#[cfg(test)]
mod tests;
