//! [proptest](mod@proptest) strategies over an application's own workflows: tickets they take or miss,
//! walks through a definition, and role memberships.
//!
//! Every strategy copies what it needs from its arguments, so it can outlive them (`+ use<>`).

use crate::domain::matching::{MatchIndex, TicketKey, Tier, normalize};
use crate::domain::priority::Priority;
use crate::domain::ticket::{MAX_KEY_CHARS, NewTicket};
use crate::domain::user::Membership;
use crate::domain::workflow::{Workflow, WorkflowDefinition, WorkflowStatus};
use crate::ids::{ActionId, RoleId, StepId, UserId};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// The routing key of a ticket request, as the matcher sees it: feed it to [`MatchIndex::find`].
pub fn ticket_key(ticket: &NewTicket) -> TicketKey {
    TicketKey {
        category: ticket.category.clone(),
        subcategory: ticket.subcategory.clone(),
        department: ticket.department.clone(),
        priority: ticket.priority,
    }
}

/// Whether some active workflow's match key takes the ticket (the default workflow does not count).
fn hits(index: &MatchIndex, ticket: &NewTicket) -> bool {
    index.find(&ticket_key(ticket)).is_some_and(|m| m.tier != Tier::Default)
}

/// A match key in normalized form; unset and blank parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    category: String,
    subcategory: Option<String>,
    department: Option<String>,
    priority: Option<Priority>,
}

/// The keys of the active workflows with a category, in the order given.
fn active_keys(workflows: &[Workflow]) -> Vec<Key> {
    let part = |p: &Option<String>| p.as_deref().map(normalize).filter(|s| !s.is_empty());
    workflows
        .iter()
        .filter(|w| w.status == WorkflowStatus::Active)
        .map(|w| &w.definition.match_key)
        .map(|k| Key {
            category: normalize(&k.category),
            subcategory: part(&k.subcategory),
            department: part(&k.department),
            priority: k.priority,
        })
        .filter(|k| !k.category.is_empty())
        .collect()
}

/// One way of writing a key: letter case, padding and the whitespace between words. The matcher ignores
/// all of it, so every spelling of a key must route the same way.
#[derive(Debug, Clone)]
struct Spelling {
    upper: Vec<bool>,
    lead: &'static str,
    trail: &'static str,
    gaps: Vec<&'static str>,
}

impl Spelling {
    /// Writes a normalized key this way; falls back to the key itself when the spelling would not
    /// normalize back to it (rare Unicode case mappings) or would be longer than a ticket accepts.
    fn apply(&self, normalized: &str) -> String {
        let mut out = String::from(self.lead);
        let mut letter = 0usize;
        for (i, word) in normalized.split(' ').enumerate() {
            if i > 0 {
                out.push_str(self.gaps.get((i - 1) % self.gaps.len().max(1)).copied().unwrap_or(" "));
            }
            for c in word.chars() {
                if !self.upper.is_empty() && self.upper[letter % self.upper.len()] {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                letter += 1;
            }
        }
        out.push_str(self.trail);
        let fits = out.trim().chars().count() <= MAX_KEY_CHARS;
        if fits && normalize(&out) == normalized {
            out
        } else {
            normalized.to_string()
        }
    }
}

fn spelling() -> impl Strategy<Value = Spelling> {
    static PADS: [&str; 5] = ["", "", " ", "  ", "\t "];
    static GAPS: [&str; 4] = [" ", " ", "  ", " \t "];
    (
        vec(any::<bool>(), 0..12),
        select(&PADS[..]),
        select(&PADS[..]),
        vec(select(&GAPS[..]), 0..4),
    )
        .prop_map(|(upper, lead, trail, gaps)| Spelling {
            upper,
            lead,
            trail,
            gaps,
        })
}

/// One or two random lower-case words.
fn word() -> impl Strategy<Value = String> {
    "[a-z]{1,10}( [a-z]{1,8})?"
}

fn subject() -> impl Strategy<Value = String> {
    "[A-Z][a-z]{0,12}( [a-z]{1,12}){0,5}"
}

fn priority() -> impl Strategy<Value = Priority> {
    select(Priority::ALL.to_vec())
}

/// The parts of a ticket that are drawn at random whatever the key.
#[derive(Debug, Clone)]
struct Filler {
    subject: String,
    description: String,
    subcategory: Option<String>,
    department: Option<String>,
    priority: Priority,
    spellings: [Spelling; 3],
}

fn filler() -> impl Strategy<Value = Filler> {
    (
        subject(),
        "[a-zA-Z0-9 .,]{0,60}",
        proptest::option::of(word()),
        proptest::option::of(word()),
        priority(),
        [spelling(), spelling(), spelling()],
    )
        .prop_map(
            |(subject, description, subcategory, department, priority, spellings)| Filler {
                subject,
                description,
                subcategory,
                department,
                priority,
                spellings,
            },
        )
}

impl Filler {
    /// A ticket with this category and, where `key` leaves a part unset, the random part.
    fn ticket(&self, category: &str, key: Option<&Key>) -> NewTicket {
        let [s_cat, s_sub, s_dept] = &self.spellings;
        let subcategory = key
            .and_then(|k| k.subcategory.clone())
            .or_else(|| self.subcategory.clone());
        let department = key
            .and_then(|k| k.department.clone())
            .or_else(|| self.department.clone());
        let mut ticket = NewTicket::new(self.subject.clone(), s_cat.apply(category))
            .description(self.description.clone())
            .priority(key.and_then(|k| k.priority).unwrap_or(self.priority));
        ticket.subcategory = subcategory.map(|s| s_sub.apply(&s));
        ticket.department = department.map(|d| s_dept.apply(&d));
        ticket
    }
}

/// Tickets that one of the **active** workflows among `workflows` takes by its match key.
///
/// Each ticket starts from an active workflow's key: set parts are copied in a random spelling (letter
/// case, padding, inner whitespace: the matcher ignores them), unset parts (subcategory, department,
/// priority) are random. The ticket may end up with a more specific workflow than the one it started
/// from; either way [`MatchIndex::find`] over `workflows` gives `Some` decision at a tier other than
/// [`Tier::Default`] (this is checked; anything else is regenerated). Subject and description are random
/// and the tickets pass [`NewTicket::validated`] as long as the keys are at most
/// [`MAX_KEY_CHARS`] characters.
///
/// # Panics
/// When no workflow in `workflows` is active with a non-blank category: then no ticket can hit.
pub fn tickets_hitting(workflows: &[Workflow]) -> impl Strategy<Value = NewTicket> + use<> {
    let keys = active_keys(workflows);
    assert!(
        !keys.is_empty(),
        "tickets_hitting: none of the {} workflows is active with a category",
        workflows.len()
    );
    let index = MatchIndex::build(workflows);
    (select(keys), filler())
        .prop_map(|(key, filler)| filler.ticket(&key.category, Some(&key)))
        .prop_filter("an active workflow's match key must take the ticket", move |t| {
            hits(&index, t)
        })
}

/// Tickets that none of the **active** workflows among `workflows` takes by its match key.
///
/// Such a ticket goes to the active default workflow when there is one ([`MatchIndex::find`] gives a
/// [`Tier::Default`] decision), and otherwise stays unallocated (`None`). Half the tickets are near
/// misses (the category of an active workflow with random subcategory, department and priority that
/// none takes); when a near miss turns out to hit, or there is no active workflow, the ticket gets a
/// random category no active workflow names. Every ticket is checked against the index.
pub fn tickets_missing(workflows: &[Workflow]) -> impl Strategy<Value = NewTicket> + use<> {
    let keys = active_keys(workflows);
    let known: BTreeSet<String> = keys.iter().map(|k| k.category.clone()).collect();
    let categories: Vec<String> = known.iter().cloned().collect();
    let index = Arc::new(MatchIndex::build(workflows));
    let check = Arc::clone(&index);
    (any::<bool>(), any::<Index>(), word(), filler())
        .prop_map(move |(near, pick, fresh, filler)| {
            if near && !categories.is_empty() {
                let ticket = filler.ticket(&categories[pick.index(categories.len())], None);
                if !hits(&index, &ticket) {
                    return ticket;
                }
            }
            let mut category = fresh;
            while known.contains(&normalize(&category)) {
                category.push('x');
            }
            filler.ticket(&category, None)
        })
        .prop_filter("no active workflow's match key may take the ticket", move |t| {
            !hits(&check, t)
        })
}

/// A definition's action graph, as walks see it.
#[derive(Debug, Clone)]
pub(crate) struct WalkGraph {
    /// The unique start step.
    pub(crate) start: Option<StepId>,
    /// The actions leaving each step, in definition order, with their targets (`None` completes).
    /// Actions naming a step the definition lacks are left out: the engine could not take them.
    pub(crate) actions: HashMap<StepId, Vec<(ActionId, Option<StepId>)>>,
}

/// One walk: the actions taken and the steps visited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Walk {
    /// The actions, in order.
    pub(crate) actions: Vec<ActionId>,
    /// The steps the task was at, starting with the start step (empty without one).
    pub(crate) visited: Vec<StepId>,
    /// Whether the last action completed the task.
    pub(crate) completed: bool,
}

impl WalkGraph {
    pub(crate) fn new(def: &WorkflowDefinition) -> Self {
        let steps: HashSet<StepId> = def.steps.iter().map(|s| s.id).collect();
        let mut actions: HashMap<StepId, Vec<(ActionId, Option<StepId>)>> = HashMap::new();
        for t in &def.transitions {
            if steps.contains(&t.from_step) && t.to_step.is_none_or(|to| steps.contains(&to)) {
                actions.entry(t.from_step).or_default().push((t.id, t.to_step));
            }
        }
        WalkGraph {
            start: def.start_step().map(|s| s.id),
            actions,
        }
    }

    /// The actions leaving `step`.
    pub(crate) fn leaving(&self, step: StepId) -> &[(ActionId, Option<StepId>)] {
        self.actions.get(&step).map_or(&[], Vec::as_slice)
    }

    /// Walks from the start step, taking action `choices[i]` (among those leaving the current step) at
    /// move `i`, until the task completes, a step has no action, or the choices run out.
    pub(crate) fn walk<C: Choice>(&self, choices: &[C]) -> Walk {
        let mut walk = Walk {
            actions: Vec::new(),
            visited: Vec::new(),
            completed: false,
        };
        let Some(mut current) = self.start else {
            return walk;
        };
        walk.visited.push(current);
        for choice in choices {
            let options = self.leaving(current);
            if options.is_empty() {
                break;
            }
            let (action, to) = options[choice.pick(options.len())];
            walk.actions.push(action);
            match to {
                None => {
                    walk.completed = true;
                    break;
                }
                Some(next) => {
                    walk.visited.push(next);
                    current = next;
                }
            }
        }
        walk
    }
}

/// Which of `n` options a walk takes.
pub(crate) trait Choice {
    /// An index below `n` (`n > 0`).
    fn pick(&self, n: usize) -> usize;
}

impl Choice for Index {
    fn pick(&self, n: usize) -> usize {
        self.index(n)
    }
}

impl Choice for usize {
    fn pick(&self, n: usize) -> usize {
        self % n
    }
}

/// Walks through `graph` of at most `max_len` actions.
pub(crate) fn walks(graph: Arc<WalkGraph>, max_len: usize) -> impl Strategy<Value = Walk> {
    vec(any::<Index>(), max_len).prop_map(move |choices| graph.walk(&choices))
}

/// Sequences of actions a task on `def` could take: starting at the start step, each action leaves the
/// step the previous one led to, and the walk stops when an action completes the task, when it reaches
/// a step without actions (a dead end), or after `max_len` actions.
///
/// Without a unique start step every walk is empty. Actions naming a step the definition lacks are never
/// taken. Shrinking prefers the first action of each step.
pub fn random_walk(def: &WorkflowDefinition, max_len: usize) -> impl Strategy<Value = Vec<ActionId>> + use<> {
    walks(Arc::new(WalkGraph::new(def)), max_len).prop_map(|w| w.actions)
}

/// Memberships of 1..=`max_users` random users (ids from random non-zero `u128`s) in `roles`.
///
/// Each user holds each role or not, and each membership is active or not, at random; but every role has
/// at least one active member, so a step done by any of the roles can always be assigned. Memberships
/// come grouped by role, in the order of `roles` (repeated roles count once), users in id order.
///
/// # Panics
/// When `max_users` is 0 and `roles` is not empty.
pub fn role_memberships(roles: &[RoleId], max_users: usize) -> impl Strategy<Value = Vec<Membership>> + use<> {
    assert!(
        max_users > 0 || roles.is_empty(),
        "role_memberships: every role needs a member, but max_users is 0"
    );
    let mut seen = HashSet::new();
    let roles: Vec<RoleId> = roles.iter().copied().filter(|r| seen.insert(*r)).collect();
    let max_users = max_users.max(1);
    let holds = vec(vec(proptest::option::of(any::<bool>()), max_users), roles.len());
    let fallback = vec(any::<Index>(), roles.len());
    (btree_set(1..=u128::MAX, 1..=max_users), holds, fallback).prop_map(move |(ids, holds, fallback)| {
        let users: Vec<UserId> = ids.into_iter().map(|n| UserId(Uuid::from_u128(n))).collect();
        let mut memberships = Vec::new();
        for ((role, held), pick) in roles.iter().zip(holds).zip(fallback) {
            let mut held: Vec<Option<bool>> = held.into_iter().take(users.len()).collect();
            if !held.contains(&Some(true)) {
                held[pick.index(users.len())] = Some(true);
            }
            for (user, is_active) in users.iter().zip(held) {
                if let Some(is_active) = is_active {
                    memberships.push(Membership {
                        role: *role,
                        user: *user,
                        is_active,
                    });
                }
            }
        }
        memberships
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::MatchKey;
    use crate::proptest_support::fixtures::{action, canonical, definition, id, step, workflow};
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn key(category: &str, sub: Option<&str>, dept: Option<&str>, priority: Option<Priority>) -> MatchKey {
        MatchKey {
            category: category.into(),
            subcategory: sub.map(Into::into),
            department: dept.map(Into::into),
            priority,
        }
    }

    /// Active workflows of every key shape, plus a draft and a paused one that must be ignored.
    fn workflows() -> Vec<Workflow> {
        vec![
            workflow(1, WorkflowStatus::Active, key("IT Support", None, None, None), false),
            workflow(
                2,
                WorkflowStatus::Active,
                key("Hardware", Some("Laptop  Repair"), None, None),
                false,
            ),
            workflow(
                3,
                WorkflowStatus::Active,
                key(" hardware", None, Some("Finance"), Some(Priority::High)),
                false,
            ),
            workflow(
                4,
                WorkflowStatus::Active,
                key("Facilities", Some("Desk"), Some("HR Dept"), Some(Priority::Low)),
                false,
            ),
            workflow(5, WorkflowStatus::Active, key("Straße Ärger", None, None, None), false),
            workflow(6, WorkflowStatus::Draft, key("Drafted", None, None, None), false),
            workflow(7, WorkflowStatus::Paused, key("Paused", None, None, None), false),
        ]
    }

    fn with_default() -> Vec<Workflow> {
        let mut all = workflows();
        all.push(workflow(
            8,
            WorkflowStatus::Active,
            key("Everything Else", None, None, None),
            true,
        ));
        all
    }

    fn validated_hits(index: &MatchIndex, t: &NewTicket) -> bool {
        let valid = t.clone().validated().expect("generated tickets are valid");
        hits(index, &valid)
    }

    proptest! {
        #[test]
        fn tickets_hitting_always_match(t in tickets_hitting(&workflows())) {
            let index = MatchIndex::build(&workflows());
            let decision = index.find(&ticket_key(&t));
            prop_assert!(decision.as_ref().is_some_and(|m| m.tier != Tier::Default), "{t:?} -> {decision:?}");
            let id = decision.unwrap().workflow;
            prop_assert!(workflows().iter().any(|w| w.id == id && w.status == WorkflowStatus::Active));
            prop_assert!(validated_hits(&index, &t));
        }

        #[test]
        fn tickets_hitting_with_a_default_never_use_it(t in tickets_hitting(&with_default())) {
            let index = MatchIndex::build(&with_default());
            prop_assert!(hits(&index, &t));
        }

        #[test]
        fn tickets_missing_never_match(t in tickets_missing(&workflows())) {
            let index = MatchIndex::build(&workflows());
            prop_assert_eq!(index.find(&ticket_key(&t)), None);
            let valid = t.validated().expect("generated tickets are valid");
            prop_assert_eq!(index.find(&ticket_key(&valid)), None);
        }

        #[test]
        fn tickets_missing_fall_to_the_default(t in tickets_missing(&with_default())) {
            let index = MatchIndex::build(&with_default());
            let decision = index.find(&ticket_key(&t)).expect("the default takes every ticket");
            prop_assert_eq!(decision.tier, Tier::Default);
            prop_assert_eq!(decision.workflow, id(8));
        }

        #[test]
        fn tickets_missing_without_workflows_are_anything(t in tickets_missing(&[])) {
            prop_assert!(t.validated().is_ok());
        }

        #[test]
        fn walks_only_take_actions_of_the_current_step(walk in random_walk(&canonical(), 20)) {
            let def = canonical();
            prop_assert!(walk.len() <= 20);
            let mut current = def.start_step().map(|s| s.id);
            for (i, a) in walk.iter().enumerate() {
                let at = current.expect("no action after completion");
                let t = def.transition(*a).expect("known action");
                prop_assert_eq!(t.from_step, at, "action {} does not leave the current step", i);
                current = t.to_step;
            }
            // It stopped because it completed or ran out of moves (the canonical graph has no dead end).
            prop_assert!(current.is_none() || walk.len() == 20);
        }

        #[test]
        fn memberships_give_every_role_an_active_member(
            roles in vec(0u128..6, 0..5),
            max_users in 1usize..6,
            seed in any::<u64>(),
        ) {
            let roles: Vec<RoleId> = roles.into_iter().map(id).collect();
            let mut runner = TestRunner::new_with_rng(
                proptest::test_runner::Config::default(),
                proptest::test_runner::TestRng::from_seed(
                    proptest::test_runner::RngAlgorithm::ChaCha,
                    &[seed.to_le_bytes(); 4].concat(),
                ),
            );
            let memberships = role_memberships(&roles, max_users).new_tree(&mut runner).unwrap().current();
            for role in &roles {
                prop_assert!(memberships.iter().any(|m| m.role == *role && m.is_active), "role {role} has no active member");
            }
            let users: BTreeSet<UserId> = memberships.iter().map(|m| m.user).collect();
            prop_assert!(users.len() <= max_users);
            prop_assert!(users.iter().all(|u| !u.0.is_nil()));
            let pairs: HashSet<(RoleId, UserId)> = memberships.iter().map(|m| (m.role, m.user)).collect();
            prop_assert_eq!(pairs.len(), memberships.len(), "a user holds a role twice");
            prop_assert!(memberships.iter().all(|m| roles.contains(&m.role)));
        }
    }

    #[test]
    fn tickets_hitting_vary_the_spelling() {
        let mut runner = TestRunner::deterministic();
        let strategy = tickets_hitting(&workflows());
        let tickets: Vec<NewTicket> = (0..300)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .collect();
        assert!(
            tickets.iter().any(|t| t.category != normalize(&t.category)),
            "no case or space variation"
        );
        assert!(tickets.iter().any(|t| t.category.contains(char::is_uppercase)));
        assert!(tickets.iter().any(|t| t.category.starts_with(char::is_whitespace)));
        let categories: BTreeSet<String> = tickets.iter().map(|t| normalize(&t.category)).collect();
        let expected: BTreeSet<String> = ["it support", "hardware", "facilities", "straße ärger"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(categories, expected, "every active workflow's key is used, no other");
        assert!(tickets.iter().any(|t| t.subcategory.is_none()) && tickets.iter().any(|t| t.department.is_some()));
    }

    #[test]
    fn tickets_missing_include_near_misses() {
        let mut runner = TestRunner::deterministic();
        let strategy = tickets_missing(&workflows());
        let near = (0..300)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .filter(|t| normalize(&t.category) == "hardware" || normalize(&t.category) == "facilities")
            .count();
        assert!(near > 0, "no near miss in 300 tickets");
    }

    #[test]
    #[should_panic(expected = "active")]
    fn tickets_hitting_needs_an_active_workflow() {
        let _ = tickets_hitting(&workflows()[5..]);
    }

    #[test]
    fn walks_stop_at_dead_ends_and_follow_choices() {
        // Start -> Dead end (no action), or Start -> completes.
        let def = definition(
            "dead",
            MatchKey::default(),
            vec![step(1, "Start", true, true), step(2, "Dead end", false, false)],
            vec![
                action(11, "Go", 1, Some(2)),
                action(12, "Done", 1, None),
                action(13, "Nowhere", 1, Some(99)),
            ],
        );
        let graph = WalkGraph::new(&def);
        assert_eq!(
            graph.leaving(id(1)).len(),
            2,
            "the action to an unknown step is left out"
        );
        let walk = graph.walk(&[0usize, 0, 0]);
        assert_eq!(walk.actions, vec![id::<ActionId>(11)]);
        assert_eq!(walk.visited, vec![id::<StepId>(1), id(2)]);
        assert!(!walk.completed);
        let no_start = definition(
            "x",
            MatchKey::default(),
            vec![step(1, "A", false, true)],
            vec![action(1, "Done", 1, None)],
        );
        assert_eq!(
            WalkGraph::new(&no_start).walk(&[0usize]),
            Walk {
                actions: vec![],
                visited: vec![],
                completed: false
            }
        );
    }
}
