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
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

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

/// The decision: which workflow (and published version), at which tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// The chosen workflow.
    pub workflow: WorkflowId,
    /// Its active published version when the index was built.
    pub version: u32,
    /// How specific the match was.
    pub tier: Tier,
    /// Whether the workflow's key named the ticket's department.
    pub department_specific: bool,
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

/// [`normalize`] without allocating when the text is already normal (the common case for stored keys).
fn normalized(s: &str) -> Cow<'_, str> {
    let mut prev_space = true;
    let clean = s.chars().all(|c| {
        let ok = if c.is_whitespace() {
            c == ' ' && !prev_space
        } else {
            c.to_lowercase().eq(std::iter::once(c))
        };
        prev_space = c.is_whitespace();
        ok
    }) && !s.ends_with(' ');
    if clean {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(normalize(s))
    }
}

/// FNV-1a over the probe's parts, with separators so ("ab", "c") and ("a", "bc") differ.
fn probe_hash(category: &str, department: Option<&str>, subcategory: Option<&str>, priority: Option<Priority>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(category.as_bytes());
    for part in [department, subcategory] {
        match part {
            Some(p) => {
                eat(&[0xff]);
                eat(p.as_bytes());
            }
            None => eat(&[0xfe]),
        }
    }
    eat(&[priority.map_or(0xfd, |p| p as u8)]);
    h
}

/// Passes the precomputed probe hash through unchanged.
#[derive(Debug, Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    category: String,
    department: Option<String>,
    subcategory: Option<String>,
    priority: Option<Priority>,
    workflow: WorkflowId,
    version: u32,
    name: String,
}

impl Entry {
    fn is(
        &self,
        category: &str,
        department: Option<&str>,
        subcategory: Option<&str>,
        priority: Option<Priority>,
    ) -> bool {
        self.category == category
            && self.department.as_deref() == department
            && self.subcategory.as_deref() == subcategory
            && self.priority == priority
    }
}

/// An index of the active workflows, answering "which workflow takes this ticket" in O(1): at most eight
/// hash probes, whatever the number of workflows.
#[derive(Debug, Clone, Default)]
pub struct MatchIndex {
    by_key: HashMap<u64, Vec<Entry>, BuildHasherDefault<PassThrough>>,
    default: Option<Entry>,
    len: usize,
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
                    w.version,
                    &w.definition.name,
                    &w.definition.match_key,
                    w.definition.is_default,
                );
            }
        }
        index
    }

    /// Adds one active workflow at its published version.
    pub fn insert(&mut self, id: WorkflowId, version: u32, name: &str, key: &MatchKey, is_default: bool) {
        let norm = |o: &Option<String>| o.as_deref().map(normalize).filter(|s| !s.is_empty());
        let entry = Entry {
            category: normalize(&key.category),
            department: norm(&key.department),
            subcategory: norm(&key.subcategory),
            priority: key.priority,
            workflow: id,
            version,
            name: name.to_string(),
        };
        if is_default && self.default.as_ref().is_none_or(|d| id < d.workflow) {
            self.default = Some(entry.clone());
        }
        let hash = probe_hash(
            &entry.category,
            entry.department.as_deref(),
            entry.subcategory.as_deref(),
            entry.priority,
        );
        let bucket = self.by_key.entry(hash).or_default();
        let same = |e: &Entry| {
            e.is(
                &entry.category,
                entry.department.as_deref(),
                entry.subcategory.as_deref(),
                entry.priority,
            )
        };
        match bucket.iter_mut().find(|e| same(e)) {
            Some(existing) if id < existing.workflow => *existing = entry,
            Some(_) => {}
            None => {
                bucket.push(entry);
                self.len += 1;
            }
        }
    }

    /// Number of indexed keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no workflow is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.default.is_none()
    }

    /// The workflow that takes a ticket with this key, or `None` (the ticket stays unallocated).
    pub fn find(&self, ticket: &TicketKey) -> Option<Match> {
        self.search(ticket, |_, _| {}).map(|(m, _)| m)
    }

    /// The decision, a sentence saying why, and every probe tried, most specific first, for a dry run.
    pub fn explain(&self, ticket: &TicketKey) -> Explanation {
        let mut tried = Vec::new();
        let hit = self.search(ticket, |tier, dept| {
            tried.push(ProbeStep {
                tier,
                department_specific: dept,
            });
        });
        let reason = match &hit {
            Some((m, name)) => reason(name, m, ticket),
            None => format!(
                "no active workflow matches category {:?} and there is no default workflow; the ticket stays unallocated",
                ticket.category
            ),
        };
        Explanation {
            decision: hit.map(|(m, _)| m),
            reason,
            tried,
        }
    }

    /// The name of the workflow a decision chose (for messages).
    pub fn name_of(&self, m: &Match) -> Option<&str> {
        if m.tier == Tier::Default {
            return self.default.as_ref().map(|d| d.name.as_str());
        }
        self.by_key
            .values()
            .flatten()
            .find(|e| e.workflow == m.workflow)
            .map(|e| e.name.as_str())
    }

    fn search(&self, ticket: &TicketKey, mut on_probe: impl FnMut(Tier, bool)) -> Option<(Match, &str)> {
        let category = normalized(&ticket.category);
        let sub = ticket.subcategory.as_deref().map(normalized).filter(|s| !s.is_empty());
        let dept = ticket.department.as_deref().map(normalized).filter(|s| !s.is_empty());
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
            let subcategory = if use_sub { sub.as_deref() } else { None };
            let priority = use_prio.then_some(ticket.priority);
            for with_dept in [true, false] {
                if with_dept && dept.is_none() {
                    continue;
                }
                let department = if with_dept { dept.as_deref() } else { None };
                on_probe(tier, with_dept);
                let hash = probe_hash(&category, department, subcategory, priority);
                let hit = self
                    .by_key
                    .get(&hash)
                    .and_then(|b| b.iter().find(|e| e.is(&category, department, subcategory, priority)));
                if let Some(e) = hit {
                    let m = Match {
                        workflow: e.workflow,
                        version: e.version,
                        tier,
                        department_specific: with_dept,
                    };
                    return Some((m, &e.name));
                }
            }
        }
        on_probe(Tier::Default, false);
        self.default.as_ref().map(|d| {
            (
                Match {
                    workflow: d.workflow,
                    version: d.version,
                    tier: Tier::Default,
                    department_specific: false,
                },
                d.name.as_str(),
            )
        })
    }
}

fn reason(name: &str, m: &Match, t: &TicketKey) -> String {
    if m.tier == Tier::Default {
        return format!(
            "no active workflow matches category {:?}; default workflow {name:?} takes it",
            t.category
        );
    }
    let mut parts = vec![format!("category {:?}", t.category)];
    if matches!(m.tier, Tier::SubcategoryAndPriority | Tier::Subcategory) {
        parts.push(format!(
            "subcategory {:?}",
            t.subcategory.as_deref().unwrap_or_default()
        ));
    }
    if matches!(m.tier, Tier::SubcategoryAndPriority | Tier::Priority) {
        parts.push(format!("priority {}", t.priority));
    }
    if m.department_specific {
        parts.push(format!("department {:?}", t.department.as_deref().unwrap_or_default()));
    }
    format!(
        "workflow {name:?} matches {} (tier {}); no more specific active workflow exists",
        parts.join(", "),
        m.tier
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
    /// Why, in a sentence.
    pub reason: String,
    /// Probes in the order tried; the last one is the hit when there is a decision.
    pub tried: Vec<ProbeStep>,
}
