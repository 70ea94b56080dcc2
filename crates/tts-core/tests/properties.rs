//! Property tests of the pure rules: matching tiers and validation of generated workflow graphs.

use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use tts_core::domain::matching::normalize;
use tts_core::*;
use uuid::Uuid;

// ---------- matching ----------

fn pick_str(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(options.to_vec()).prop_map(str::to_string)
}

fn opt_str(options: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    prop::option::of(pick_str(options))
}

fn key() -> impl Strategy<Value = MatchKey> {
    (
        pick_str(&["IT Support", "Assets"]),
        opt_str(&["Laptop", "Printer"]),
        opt_str(&["IT", "Finance"]),
        prop::option::of(prop::sample::select(Priority::ALL.to_vec())),
    )
        .prop_map(|(category, subcategory, department, priority)| MatchKey {
            category,
            subcategory,
            department,
            priority,
        })
}

/// Case and whitespace variations a user might type.
fn messy(s: String) -> impl Strategy<Value = String> {
    (any::<bool>(), any::<bool>()).prop_map(move |(upper, pad)| {
        let s = if upper { s.to_uppercase() } else { s.to_lowercase() };
        if pad {
            format!("  {}  ", s.replace(' ', "   "))
        } else {
            s.clone()
        }
    })
}

fn ticket_key() -> impl Strategy<Value = TicketKey> {
    (
        pick_str(&["IT Support", "Assets", "Catering"]),
        opt_str(&["Laptop", "Printer", "Desk"]),
        opt_str(&["IT", "Finance", "Legal"]),
        prop::sample::select(Priority::ALL.to_vec()),
    )
        .prop_flat_map(|(c, s, d, p)| {
            (
                messy(c),
                s.map_or_else(|| Just(None).boxed(), |s| messy(s).prop_map(Some).boxed()),
                d.map_or_else(|| Just(None).boxed(), |d| messy(d).prop_map(Some).boxed()),
                Just(p),
            )
        })
        .prop_map(|(category, subcategory, department, priority)| TicketKey {
            category,
            subcategory,
            department,
            priority,
        })
}

fn workflow(key: MatchKey, status: WorkflowStatus, is_default: bool) -> Workflow {
    let now = chrono::DateTime::UNIX_EPOCH;
    Workflow {
        id: WorkflowId(Uuid::now_v7()),
        status,
        version: 1,
        definition: WorkflowDefinition {
            name: format!("{key:?}"),
            description: String::new(),
            match_key: key,
            is_default,
            sla: Sla::default(),
            steps: vec![],
            transitions: vec![],
        },
        created_at: now,
        updated_at: now,
    }
}

/// Distinct keys (as publishing guarantees for active workflows), random statuses, maybe one default.
fn workflows() -> impl Strategy<Value = Vec<Workflow>> {
    (
        prop::collection::vec(
            (
                key(),
                prop::sample::select(vec![
                    WorkflowStatus::Active,
                    WorkflowStatus::Active,
                    WorkflowStatus::Draft,
                    WorkflowStatus::Paused,
                ]),
            ),
            0..24,
        ),
        any::<bool>(),
    )
        .prop_map(|(raw, with_default)| {
            let mut seen = HashSet::new();
            let mut out: Vec<Workflow> = raw
                .into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .map(|(k, s)| workflow(k, s, false))
                .collect();
            if with_default {
                out.push(workflow(
                    MatchKey {
                        category: "Anything".into(),
                        ..MatchKey::default()
                    },
                    WorkflowStatus::Active,
                    true,
                ));
            }
            out
        })
}

fn tier_of(k: &MatchKey) -> Tier {
    match (k.subcategory.is_some(), k.priority.is_some()) {
        (true, true) => Tier::SubcategoryAndPriority,
        (true, false) => Tier::Subcategory,
        (false, true) => Tier::Priority,
        (false, false) => Tier::Category,
    }
}

/// The rule written the slow way: filter every workflow, sort by specificity, take the first.
fn oracle(all: &[Workflow], t: &TicketKey) -> Option<(WorkflowId, Tier)> {
    let eq = |a: &str, b: &str| normalize(a) == normalize(b);
    let opt_eq =
        |w: &Option<String>, t: &Option<String>| w.as_deref().is_none_or(|w| t.as_deref().is_some_and(|t| eq(w, t)));
    let mut hits: Vec<(Tier, bool, WorkflowId)> = all
        .iter()
        .filter(|w| w.status == WorkflowStatus::Active)
        .map(|w| (w, &w.definition.match_key))
        .filter(|(_, k)| {
            eq(&k.category, &t.category)
                && opt_eq(&k.department, &t.department)
                && opt_eq(&k.subcategory, &t.subcategory)
                && k.priority.is_none_or(|p| p == t.priority)
        })
        .map(|(w, k)| (tier_of(k), k.department.is_none(), w.id))
        .collect();
    hits.sort();
    hits.first().map(|(tier, _, id)| (*id, *tier)).or_else(|| {
        all.iter()
            .find(|w| w.status == WorkflowStatus::Active && w.definition.is_default)
            .map(|w| (w.id, Tier::Default))
    })
}

fn persisted(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(prop::test_runner::FileFailurePersistence::Direct(
            "proptest-regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(persisted(256))]

    #[test]
    fn the_most_specific_active_workflow_wins(all in workflows(), t in ticket_key()) {
        let index = MatchIndex::build(&all);
        let got = index.find(&t).map(|m| (m.workflow, m.tier));
        prop_assert_eq!(got, oracle(&all, &t));
    }

    #[test]
    fn the_order_workflows_were_added_does_not_matter(all in workflows(), t in ticket_key(), seed in any::<u64>()) {
        let mut shuffled = all.clone();
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) >> 33) as usize % (i + 1);
            shuffled.swap(i, j);
        }
        prop_assert_eq!(MatchIndex::build(&all).find(&t), MatchIndex::build(&shuffled).find(&t));
    }

    #[test]
    fn explain_agrees_with_the_decision(all in workflows(), t in ticket_key()) {
        let index = MatchIndex::build(&all);
        let explanation = index.explain(&t);
        prop_assert_eq!(&explanation.decision, &index.find(&t));
        prop_assert!(!explanation.tried.is_empty());
        if let Some(m) = &explanation.decision {
            let last = explanation.tried.last().expect("probes");
            prop_assert_eq!(last.tier, m.tier);
            prop_assert_eq!(last.department_specific, m.department_specific);
            prop_assert!(explanation.reason.contains(m.tier.to_string().as_str()) || m.tier == Tier::Default);
        }
        let tiers: Vec<Tier> = explanation.tried.iter().map(|p| p.tier).collect();
        prop_assert!(tiers.windows(2).all(|w| w[0] <= w[1]), "probes go from most to least specific");
    }

    #[test]
    fn no_match_is_none_never_a_panic(t in ticket_key(), junk in "\\PC*") {
        prop_assert_eq!(MatchIndex::default().find(&t), None);
        let odd = TicketKey { category: junk.clone(), subcategory: Some(junk.clone()), department: Some(junk), priority: Priority::Low };
        let _ = MatchIndex::default().explain(&odd);
    }
}

// ---------- validation ----------

#[derive(Debug, Clone)]
struct Graph {
    n: usize,
    starts: Vec<bool>,
    ends: Vec<bool>,
    weights: Vec<u32>,
    edges: Vec<(usize, Option<usize>, &'static str)>,
}

fn graph() -> impl Strategy<Value = Graph> {
    (1usize..7)
        .prop_flat_map(|n| {
            let edge = (
                0..n,
                prop::option::weighted(0.8, 0..n),
                prop::sample::select(vec!["Approve", "Reject", "Submit", "approve", "Close"]),
            );
            let chain = any::<bool>();
            (
                Just(n),
                prop::collection::vec(prop::bool::weighted(0.15), n),
                prop::collection::vec(prop::bool::weighted(0.9), n),
                prop::collection::vec(prop::bool::weighted(0.97), n),
                prop::collection::vec(edge, 0..(2 * n + 2)),
                chain,
                prop::bool::weighted(0.85),
            )
        })
        .prop_map(
            |(n, extra_start, end_ok, weight_ok, mut edges, chain, consistent_ends)| {
                if chain {
                    // a backbone that makes valid graphs common: 0 -> 1 -> ... -> n-1 -> done
                    for i in 0..n {
                        edges.insert(
                            0,
                            (
                                i,
                                if i + 1 < n { Some(i + 1) } else { None },
                                if i + 1 < n { "Next" } else { "Done" },
                            ),
                        );
                    }
                }
                let mut starts: Vec<bool> = extra_start;
                starts[0] = true;
                let completing: Vec<bool> = (0..n)
                    .map(|i| edges.iter().any(|e| e.0 == i && e.1.is_none()))
                    .collect();
                let ends = (0..n)
                    .map(|i| {
                        if consistent_ends || end_ok[i] {
                            completing[i]
                        } else {
                            !completing[i]
                        }
                    })
                    .collect();
                let weights = weight_ok.iter().map(|&ok| u32::from(ok)).collect();
                Graph {
                    n,
                    starts,
                    ends,
                    weights,
                    edges,
                }
            },
        )
}

fn definition(g: &Graph) -> WorkflowDefinition {
    let ids: Vec<StepId> = (0..g.n).map(|i| StepId(Uuid::from_u128(i as u128 + 1))).collect();
    WorkflowDefinition {
        name: "generated".into(),
        description: String::new(),
        match_key: MatchKey {
            category: "Generated".into(),
            ..MatchKey::default()
        },
        is_default: false,
        sla: Sla::default(),
        steps: (0..g.n)
            .map(|i| Step {
                id: ids[i],
                name: format!("S{i}"),
                role_id: RoleId(Uuid::nil()),
                description: String::new(),
                instruction: String::new(),
                weight: g.weights[i],
                escalate_to: None,
                is_start: g.starts[i],
                is_end: g.ends[i],
                position: Position::default(),
                strategy: AssignmentStrategy::RoundRobin,
            })
            .collect(),
        transitions: g
            .edges
            .iter()
            .enumerate()
            .map(|(k, (f, t, name))| Transition {
                id: ActionId(Uuid::from_u128(1000 + k as u128)),
                name: (*name).into(),
                from_step: ids[*f],
                to_step: t.map(|t| ids[t]),
            })
            .collect(),
    }
}

/// An independent oracle: boolean reachability matrices (Warshall), no graph search.
fn oracle_accepts(g: &Graph) -> bool {
    let n = g.n;
    if g.starts.iter().filter(|s| **s).count() != 1 || g.weights.contains(&0) {
        return false;
    }
    let mut names: HashMap<(usize, String), usize> = HashMap::new();
    for (f, t, name) in &g.edges {
        if *t == Some(*f) {
            return false;
        }
        *names.entry((*f, name.to_lowercase())).or_default() += 1;
    }
    if names.values().any(|&c| c > 1) {
        return false;
    }
    // node n = "done"
    let mut reach = vec![vec![false; n + 1]; n + 1];
    for (i, row) in reach.iter_mut().enumerate() {
        row[i] = true;
    }
    for (f, t, _) in &g.edges {
        reach[*f][t.unwrap_or(n)] = true;
    }
    for k in 0..=n {
        for i in 0..=n {
            for j in 0..=n {
                if reach[i][k] && reach[k][j] {
                    reach[i][j] = true;
                }
            }
        }
    }
    let start = g.starts.iter().position(|s| *s).expect("one start");
    let ends_ok = (0..n).all(|i| g.ends[i] == g.edges.iter().any(|e| e.0 == i && e.1.is_none()));
    (0..n).all(|i| reach[start][i] && reach[i][n]) && ends_ok
}

proptest! {
    #![proptest_config(persisted(512))]

    #[test]
    fn validate_accepts_exactly_what_the_oracle_accepts(g in graph()) {
        let def = definition(&g);
        let problems = validate(&def);
        prop_assert_eq!(problems.is_empty(), oracle_accepts(&g), "problems: {:?}", problems);
    }

    #[test]
    fn every_problem_names_a_real_step_or_transition(g in graph()) {
        let def = definition(&g);
        let steps: HashSet<StepId> = def.steps.iter().map(|s| s.id).collect();
        for p in validate(&def) {
            match p {
                Problem::Unreachable { step } | Problem::DeadEnd { step } | Problem::CannotComplete { step }
                | Problem::EndFlagMismatch { step } | Problem::NonPositiveWeight { step } => prop_assert!(steps.contains(&step)),
                Problem::DuplicateActionName { step, .. } => prop_assert!(steps.contains(&step)),
                Problem::SelfLoop { transition } => prop_assert!(def.transition(transition).is_some()),
                _ => {}
            }
        }
    }

    #[test]
    fn sla_must_shrink_with_urgency(low in prop::option::of(0u64..100), medium in prop::option::of(0u64..100), high in prop::option::of(0u64..100), critical in prop::option::of(0u64..100)) {
        let g = Graph { n: 1, starts: vec![true], ends: vec![true], weights: vec![1], edges: vec![(0, None, "Done")] };
        let mut def = definition(&g);
        def.sla = Sla { low, medium, high, critical };
        let set: Vec<u64> = [critical, high, medium, low].into_iter().flatten().collect();
        let ordered = set.windows(2).all(|w| w[0] < w[1]) && !set.contains(&0);
        prop_assert_eq!(validate(&def).is_empty(), ordered);
    }
}

#[test]
fn the_seed_broken_workflow_is_refused_with_every_problem() {
    // BROKEN TEST Workflow: the start is a dead end, steps 2 and 3 are orphaned.
    let g = Graph {
        n: 3,
        starts: vec![true, false, false],
        ends: vec![false, false, true],
        weights: vec![1, 1, 1],
        edges: vec![(1, Some(2), "Next"), (2, None, "Done")],
    };
    let problems = validate(&definition(&g));
    let s = |i: u128| StepId(Uuid::from_u128(i));
    assert!(problems.contains(&Problem::DeadEnd { step: s(1) }));
    assert!(problems.contains(&Problem::Unreachable { step: s(2) }));
    assert!(problems.contains(&Problem::Unreachable { step: s(3) }));
}

// ---------- parsers ----------

proptest! {
    #![proptest_config(persisted(512))]

    #[test]
    fn parsers_never_panic(s in "\\PC*") {
        let _ = s.parse::<Priority>();
        let _ = s.parse::<TicketStatus>();
        let _ = s.parse::<TicketNumber>();
        let _ = s.parse::<TicketRef>();
        let _ = serde_json::from_str::<NewTicket>(&s);
        let _ = serde_json::from_str::<WorkflowDefinition>(&s);
    }

    #[test]
    fn ticket_refs_parse_numbers_and_ids(id in any::<i64>(), year in 1000i32..=9999, seq in 1u32..100_000) {
        prop_assert_eq!(id.to_string().parse::<TicketRef>().unwrap(), TicketRef::Id(TicketId(id)));
        let n = TicketNumber::new(year, seq).unwrap();
        prop_assert_eq!(n.to_string().parse::<TicketRef>().unwrap(), TicketRef::Number(n));
    }
}

#[test]
fn engine_handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<std::sync::Arc<dyn tts_core::ports::Store>>();
    assert_send_sync::<std::sync::Arc<dyn tts_core::ports::Queue>>();
}

// ---------- retry back-off ----------

fn retry_policy() -> impl Strategy<Value = RetryPolicy> {
    (1u32..20, 1u64..100_000, 0u64..10_000_000).prop_map(|(max_deliveries, base, extra)| RetryPolicy {
        max_deliveries,
        base_delay_ms: base,
        max_delay_ms: base + extra,
    })
}

proptest! {
    /// The wait after a failed delivery is never longer than the cap, never shorter than half of the
    /// uncapped doubling (or of the cap), grows (or stays) with each further failure for the same jitter,
    /// and the last allowed delivery is the only one that gets no retry.
    #[test]
    fn retry_delays_double_within_bounds_and_stop_at_the_last_delivery(
        policy in retry_policy(),
        delivery in 1u32..64,
        jitter in 0.0f64..=1.0,
    ) {
        let ms = policy.delay(delivery, jitter).num_milliseconds();
        let full = policy
            .base_delay_ms
            .saturating_mul(1u64 << (delivery - 1).min(40))
            .min(policy.max_delay_ms) as i64;
        prop_assert!(ms <= policy.max_delay_ms as i64, "{ms} ms over the cap");
        prop_assert!(ms <= full && 2 * ms + 1 >= full, "{ms} ms not in the upper half of {full} ms");
        prop_assert!(policy.delay(delivery + 1, jitter) >= policy.delay(delivery, jitter));
        prop_assert_eq!(policy.retries_after(delivery), delivery < policy.max_deliveries);
    }
}
