//! Workflow matching: the most specific active workflow for a ticket, in constant time.
//!
//! Among active workflows whose category (and department, when the workflow sets one) equal the ticket's,
//! the most specific wins: subcategory+priority, then subcategory, then priority, then category only; within
//! a tier a workflow naming the department beats one that does not. Then the default workflow; else none.
//! Keys compare case- and space-insensitively. Publishing refuses two active workflows with one key, so
//! the decision never depends on the order workflows were added.

use super::priority::Priority;
use super::workflow::{MatchKey, Workflow, WorkflowStatus};
use crate::ids::WorkflowId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// How specific the winning workflow's key was; lower tiers are more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Category, subcategory and priority matched.
    SubcategoryAndPriority,
    /// Category and subcategory matched.
    Subcategory,
    /// Category and priority matched.
    Priority,
    /// Only the category (and department, if the workflow sets one) matched.
    Category,
    /// Nothing matched; the default workflow took the ticket.
    Default,
}

impl Tier {
    /// Every tier, most specific first.
    pub const ALL: [Tier; 5] = [
        Tier::SubcategoryAndPriority,
        Tier::Subcategory,
        Tier::Priority,
        Tier::Category,
        Tier::Default,
    ];
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::SubcategoryAndPriority => "subcategory_and_priority",
            Tier::Subcategory => "subcategory",
            Tier::Priority => "priority",
            Tier::Category => "category",
            Tier::Default => "default",
        })
    }
}

/// The routing fields of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TicketKey {
    /// Category.
    pub category: String,
    /// Subcategory.
    #[serde(default)]
    pub subcategory: Option<String>,
    /// Department.
    #[serde(default)]
    pub department: Option<String>,
    /// Priority.
    #[serde(default)]
    pub priority: Priority,
}

impl From<&super::ticket::Ticket> for TicketKey {
    fn from(t: &super::ticket::Ticket) -> Self {
        TicketKey {
            category: t.category.clone(),
            subcategory: t.subcategory.clone(),
            department: t.department.clone(),
            priority: t.priority,
        }
    }
}

/// The decision: which workflow, at which tier, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// The chosen workflow.
    pub workflow: WorkflowId,
    /// How specific the match was.
    pub tier: Tier,
    /// Whether the workflow's key named the ticket's department.
    pub department_specific: bool,
    /// A sentence for humans.
    pub reason: String,
}

/// Normalizes a routing key: trimmed, inner whitespace collapsed, lower case.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Probe {
    category: String,
    department: Option<String>,
    subcategory: Option<String>,
    priority: Option<Priority>,
}

/// An index of the active workflows, answering "which workflow takes this ticket" in O(1).
#[derive(Debug, Clone, Default)]
pub struct MatchIndex {
    by_key: HashMap<Probe, (WorkflowId, String)>,
    default: Option<(WorkflowId, String)>,
}

impl MatchIndex {
    /// Indexes the active workflows among `workflows`; others are ignored.
    ///
    /// If two active workflows share a key (publishing prevents it), the smaller id wins, so the index
    /// is the same whatever order the workflows come in.
    pub fn build<'a>(workflows: impl IntoIterator<Item = &'a Workflow>) -> Self {
        let mut index = MatchIndex::default();
        for w in workflows {
            if w.status == WorkflowStatus::Active {
                index.insert(
                    w.id,
                    &w.definition.name,
                    &w.definition.match_key,
                    w.definition.is_default,
                );
            }
        }
        index
    }

    /// Adds one active workflow.
    pub fn insert(&mut self, id: WorkflowId, name: &str, key: &MatchKey, is_default: bool) {
        let entry = (id, name.to_string());
        let keep_smaller = |slot: &mut (WorkflowId, String)| {
            if id < slot.0 {
                *slot = entry.clone();
            }
        };
        if is_default {
            match &mut self.default {
                Some(slot) => keep_smaller(slot),
                None => self.default = Some(entry.clone()),
            }
        }
        let probe = Probe {
            category: normalize(&key.category),
            department: key.department.as_deref().map(normalize).filter(|d| !d.is_empty()),
            subcategory: key.subcategory.as_deref().map(normalize).filter(|d| !d.is_empty()),
            priority: key.priority,
        };
        match self.by_key.get_mut(&probe) {
            Some(slot) => keep_smaller(slot),
            None => {
                self.by_key.insert(probe, entry);
            }
        }
    }

    /// Number of indexed keys.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when no workflow is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty() && self.default.is_none()
    }

    /// The workflow that takes a ticket with this key, or `None` (the ticket stays unallocated).
    pub fn find(&self, ticket: &TicketKey) -> Option<Match> {
        self.search(ticket, |_, _| {})
    }

    /// The decision plus every probe tried, most specific first, for a dry run.
    pub fn explain(&self, ticket: &TicketKey) -> Explanation {
        let mut tried = Vec::new();
        let decision = self.search(ticket, |tier, dept| {
            tried.push(ProbeStep {
                tier,
                department_specific: dept,
            });
        });
        Explanation { decision, tried }
    }

    fn search(&self, ticket: &TicketKey, mut on_probe: impl FnMut(Tier, bool)) -> Option<Match> {
        let category = normalize(&ticket.category);
        let sub = ticket.subcategory.as_deref().map(normalize).filter(|s| !s.is_empty());
        let dept = ticket.department.as_deref().map(normalize).filter(|s| !s.is_empty());
        let mut probe = Probe {
            category,
            department: None,
            subcategory: None,
            priority: None,
        };
        for tier in [
            Tier::SubcategoryAndPriority,
            Tier::Subcategory,
            Tier::Priority,
            Tier::Category,
        ] {
            let (use_sub, use_prio) = match tier {
                Tier::SubcategoryAndPriority => (true, true),
                Tier::Subcategory => (true, false),
                Tier::Priority => (false, true),
                _ => (false, false),
            };
            if use_sub && sub.is_none() {
                continue;
            }
            probe.subcategory = if use_sub { sub.clone() } else { None };
            probe.priority = use_prio.then_some(ticket.priority);
            for with_dept in [true, false] {
                if with_dept && dept.is_none() {
                    continue;
                }
                probe.department = if with_dept { dept.clone() } else { None };
                on_probe(tier, with_dept);
                if let Some((id, name)) = self.by_key.get(&probe) {
                    return Some(Match {
                        workflow: *id,
                        tier,
                        department_specific: with_dept,
                        reason: reason(name, tier, with_dept, ticket),
                    });
                }
            }
        }
        on_probe(Tier::Default, false);
        self.default.as_ref().map(|(id, name)| Match {
            workflow: *id,
            tier: Tier::Default,
            department_specific: false,
            reason: format!(
                "no active workflow matches category {:?}; default workflow {name:?} takes it",
                ticket.category
            ),
        })
    }
}

fn reason(name: &str, tier: Tier, dept: bool, t: &TicketKey) -> String {
    let mut parts = vec![format!("category {:?}", t.category)];
    if matches!(tier, Tier::SubcategoryAndPriority | Tier::Subcategory) {
        parts.push(format!(
            "subcategory {:?}",
            t.subcategory.as_deref().unwrap_or_default()
        ));
    }
    if matches!(tier, Tier::SubcategoryAndPriority | Tier::Priority) {
        parts.push(format!("priority {}", t.priority));
    }
    if dept {
        parts.push(format!("department {:?}", t.department.as_deref().unwrap_or_default()));
    }
    format!(
        "workflow {name:?} matches {} (tier {tier}); no more specific active workflow exists",
        parts.join(", ")
    )
}

/// One key the matcher looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeStep {
    /// The tier of the probe.
    pub tier: Tier,
    /// Whether the probe included the department.
    pub department_specific: bool,
}

/// A dry-run answer: the decision and the probes tried before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The same answer [`MatchIndex::find`] gives.
    pub decision: Option<Match>,
    /// Probes in the order tried; the last one is the hit when there is a decision.
    pub tried: Vec<ProbeStep>,
}
