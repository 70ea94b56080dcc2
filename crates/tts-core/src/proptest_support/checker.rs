//! The workflow checker: validation plus many seeded random walks, summed up in one report.

use super::strategies::{WalkGraph, walks};
use crate::domain::validation::{Problem, validate};
use crate::domain::workflow::WorkflowDefinition;
use crate::ids::{ActionId, StepId};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// How hard [`check_workflow`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckConfig {
    /// Random walks to take (default 256).
    pub walks: u32,
    /// Most actions one walk takes before it gives up (default 64).
    pub max_walk_len: usize,
    /// Seed of the walks: the same seed and definition give the same walks, hence the same report.
    pub seed: u64,
    /// Most steps the exact longest-path search may enter (default 1,000,000). Past it the report gives
    /// the longest path found so far and says the search was cut short.
    pub max_path_search: usize,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            walks: 256,
            max_walk_len: 64,
            seed: 0x5454_5357_414c_4b53,
            max_path_search: 1_000_000,
        }
    }
}

/// What [`check_workflow`] found out about a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The workflow's name.
    pub workflow: String,
    /// Every rule the definition breaks ([`validate`]); publishing is refused while any exist.
    pub validation_problems: Vec<Problem>,
    /// True when from every step any walk reached, some path still completes the task (and the
    /// definition has a unique start step). False means a task can get stuck: see `stuck_steps`.
    pub every_walk_can_complete: bool,
    /// Steps some walk reached from which no path completes the task (dead ends, exit-less cycles).
    pub stuck_steps: Vec<StepId>,
    /// Steps no path from the start step reaches, in definition order (every step when there is no
    /// unique start step: no task could start).
    pub unreachable_steps: Vec<StepId>,
    /// Steps on the longest path from the start step to a completing action that visits no step twice
    /// (equal to the number of actions along it, the last one completing); 0 when nothing completes.
    /// Found by exhaustive search of the graph, within `max_path_search`.
    pub longest_acyclic_path: usize,
    /// False when the longest-path search hit `max_path_search`: the real longest path may be longer.
    pub longest_path_exact: bool,
    /// Actions no walk was ever offered, because no walk reached the step they leave, in definition
    /// order. Actions of unreachable steps are always here; others mean the walks were too few or short.
    pub never_available_actions: Vec<ActionId>,
    /// Walks taken.
    pub walks: usize,
    /// Most actions per walk.
    pub max_walk_len: usize,
    /// Walks that completed the task within `max_walk_len` actions.
    pub completed_walks: usize,
    /// Fewest actions any completed walk took.
    pub shortest_completion: Option<usize>,
    /// Step names, for display.
    pub step_names: BTreeMap<StepId, String>,
    /// Action names, for display.
    pub action_names: BTreeMap<ActionId, String>,
}

impl CheckReport {
    /// True when the definition is sound: no validation problem, no unreachable step, and no walk can get
    /// stuck. (Actions the walks never offered and walks that never completed are reported but are not
    /// failures: they depend on the walk budget.)
    pub fn is_ok(&self) -> bool {
        self.validation_problems.is_empty() && self.every_walk_can_complete && self.unreachable_steps.is_empty()
    }

    fn step(&self, id: StepId) -> String {
        self.step_names
            .get(&id)
            .map_or_else(|| id.to_string(), |n| format!("{n:?}"))
    }

    fn action(&self, id: ActionId) -> String {
        self.action_names
            .get(&id)
            .map_or_else(|| id.to_string(), |n| format!("{n:?}"))
    }
}

fn list<T: Copy>(items: &[T], name: impl Fn(T) -> String) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.iter().map(|&i| name(i)).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.is_ok() { "OK" } else { "PROBLEMS FOUND" };
        writeln!(f, "workflow {:?}: {verdict}", self.workflow)?;
        if self.validation_problems.is_empty() {
            writeln!(f, "  validation: no problems")?;
        } else {
            writeln!(f, "  validation: {} problem(s)", self.validation_problems.len())?;
            for p in &self.validation_problems {
                // Problems name steps and actions by id; show their names too.
                let mut text = p.to_string();
                let names = self.step_names.iter().map(|(id, n)| (id.to_string(), n));
                for (id, name) in names.chain(self.action_names.iter().map(|(id, n)| (id.to_string(), n))) {
                    text = text.replace(&id, &format!("{name:?} ({id})"));
                }
                writeln!(f, "    - {text}")?;
            }
        }
        writeln!(
            f,
            "  unreachable steps: {}",
            list(&self.unreachable_steps, |s| self.step(s))
        )?;
        let shortest = self
            .shortest_completion
            .map_or_else(String::new, |n| format!(", shortest in {n} actions"));
        writeln!(
            f,
            "  walks: {} of at most {} actions; {} completed{shortest}",
            self.walks, self.max_walk_len, self.completed_walks
        )?;
        if self.every_walk_can_complete {
            writeln!(f, "  every step reached on a walk can still complete: yes")?;
        } else if self.stuck_steps.is_empty() {
            writeln!(
                f,
                "  every step reached on a walk can still complete: no (no unique start step)"
            )?;
        } else {
            writeln!(
                f,
                "  every step reached on a walk can still complete: no; stuck at {}",
                list(&self.stuck_steps, |s| self.step(s))
            )?;
        }
        let bound = if self.longest_path_exact { "" } else { "at least " };
        writeln!(
            f,
            "  longest path to completion visiting no step twice: {bound}{} steps",
            self.longest_acyclic_path
        )?;
        write!(
            f,
            "  actions never available on a walk: {}",
            list(&self.never_available_actions, |a| self.action(a))
        )
    }
}

/// The 32-byte ChaCha seed for a 64-bit seed (splitmix64).
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut state = seed;
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes
}

/// Every step reachable from `seeds` along `edges`.
fn closure(seeds: impl IntoIterator<Item = StepId>, edges: &HashMap<StepId, Vec<StepId>>) -> HashSet<StepId> {
    let mut seen = HashSet::new();
    let mut stack: Vec<StepId> = seeds.into_iter().collect();
    while let Some(s) = stack.pop() {
        if seen.insert(s) {
            stack.extend(edges.get(&s).into_iter().flatten().copied());
        }
    }
    seen
}

/// The most steps on a path from `start` that visits no step twice and ends at a step in `completing`,
/// and whether the search finished within `budget` entered steps. Only steps that can complete are
/// entered, since no other step lies on such a path.
fn longest_simple_path(
    start: StepId,
    forward: &HashMap<StepId, Vec<StepId>>,
    completing: &HashSet<StepId>,
    can_complete: &HashSet<StepId>,
    budget: usize,
) -> (usize, bool) {
    if !can_complete.contains(&start) {
        return (0, true);
    }
    let next = |s: StepId| forward.get(&s).map_or(&[][..], Vec::as_slice);
    let mut on_path = HashSet::from([start]);
    let mut stack: Vec<(StepId, usize)> = vec![(start, 0)];
    let mut best = usize::from(completing.contains(&start));
    let mut entered = 1usize;
    while let Some(top) = stack.last_mut() {
        let (step, i) = *top;
        let Some(&to) = next(step).get(i) else {
            on_path.remove(&step);
            stack.pop();
            continue;
        };
        top.1 += 1;
        if on_path.contains(&to) || !can_complete.contains(&to) {
            continue;
        }
        if entered >= budget {
            return (best, false);
        }
        entered += 1;
        on_path.insert(to);
        stack.push((to, 0));
        if completing.contains(&to) {
            best = best.max(stack.len());
        }
    }
    (best, true)
}

/// Checks a workflow definition: runs [`validate`], takes `config.walks` random walks of at most
/// `config.max_walk_len` actions from the start step (see [`random_walk`](super::random_walk); seeded by
/// `config.seed`, so the report is the same on every run), and searches the graph for the longest path to
/// completion. Assert [`CheckReport::is_ok`] and print the report when it fails.
pub fn check_workflow(def: &WorkflowDefinition, config: CheckConfig) -> CheckReport {
    let graph = Arc::new(WalkGraph::new(def));
    let mut forward: HashMap<StepId, Vec<StepId>> = HashMap::new();
    let mut backward: HashMap<StepId, Vec<StepId>> = HashMap::new();
    let mut completing: HashSet<StepId> = HashSet::new();
    for (&from, actions) in &graph.actions {
        for &(_, to) in actions {
            match to {
                None => {
                    completing.insert(from);
                }
                Some(to) if to != from => {
                    let targets = forward.entry(from).or_default();
                    if !targets.contains(&to) {
                        targets.push(to);
                        backward.entry(to).or_default().push(from);
                    }
                }
                Some(_) => {}
            }
        }
    }
    // Deterministic search order whatever the hash map's: definition order of the actions.
    let order: HashMap<StepId, usize> = def.steps.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    for targets in forward.values_mut() {
        targets.sort_by_key(|s| order.get(s).copied().unwrap_or(usize::MAX));
    }
    let can_complete = closure(completing.iter().copied(), &backward);
    let reachable = graph.start.map(|s| closure([s], &forward)).unwrap_or_default();

    let runner_config = Config {
        cases: config.walks,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(config.seed));
    let mut runner = TestRunner::new_with_rng(runner_config, rng);
    let strategy = walks(Arc::clone(&graph), config.max_walk_len);
    let mut reached: HashSet<StepId> = HashSet::new();
    let (mut completed_walks, mut shortest_completion) = (0usize, None::<usize>);
    for _ in 0..config.walks {
        let walk = strategy
            .new_tree(&mut runner)
            .expect("walk strategies never reject")
            .current();
        reached.extend(walk.visited.iter().copied());
        if walk.completed {
            completed_walks += 1;
            shortest_completion = Some(shortest_completion.map_or(walk.actions.len(), |s| s.min(walk.actions.len())));
        }
    }

    let mut stuck_steps = Vec::new();
    for s in &def.steps {
        if reached.contains(&s.id) && !can_complete.contains(&s.id) && !stuck_steps.contains(&s.id) {
            stuck_steps.push(s.id);
        }
    }
    let (longest_acyclic_path, longest_path_exact) = match graph.start {
        Some(start) => longest_simple_path(start, &forward, &completing, &can_complete, config.max_path_search),
        None => (0, true),
    };
    CheckReport {
        workflow: def.name.clone(),
        validation_problems: validate(def),
        every_walk_can_complete: graph.start.is_some() && stuck_steps.is_empty(),
        stuck_steps,
        unreachable_steps: def
            .steps
            .iter()
            .map(|s| s.id)
            .filter(|s| !reachable.contains(s))
            .collect(),
        longest_acyclic_path,
        longest_path_exact,
        never_available_actions: def
            .transitions
            .iter()
            .filter(|t| !reached.contains(&t.from_step))
            .map(|t| t.id)
            .collect(),
        walks: config.walks as usize,
        max_walk_len: config.max_walk_len,
        completed_walks,
        shortest_completion,
        step_names: def.steps.iter().map(|s| (s.id, s.name.clone())).collect(),
        action_names: def.transitions.iter().map(|t| (t.id, t.name.clone())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::MatchKey;
    use crate::proptest_support::fixtures::{action, canonical, definition, id, step};

    fn key() -> MatchKey {
        MatchKey {
            category: "Test".into(),
            ..MatchKey::default()
        }
    }

    #[test]
    fn the_canonical_workflow_passes() {
        let report = check_workflow(&canonical(), CheckConfig::default());
        assert!(report.is_ok(), "{report}");
        assert!(report.validation_problems.is_empty());
        assert!(report.every_walk_can_complete);
        assert!(report.unreachable_steps.is_empty() && report.stuck_steps.is_empty());
        assert!(report.never_available_actions.is_empty(), "{report}");
        assert_eq!(report.longest_acyclic_path, 3);
        assert!(report.longest_path_exact);
        assert_eq!(report.walks, 256);
        assert!(report.completed_walks > 200, "{report}");
        assert_eq!(report.shortest_completion, Some(3));
        let text = report.to_string();
        assert!(
            text.contains("\"IT Support\": OK") && text.contains("3 steps"),
            "{text}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_report() {
        let config = CheckConfig {
            walks: 50,
            max_walk_len: 6,
            ..CheckConfig::default()
        };
        assert_eq!(
            check_workflow(&canonical(), config),
            check_workflow(&canonical(), config)
        );
        let other = check_workflow(&canonical(), CheckConfig { seed: 7, ..config });
        assert_eq!(other.walks, 50);
    }

    #[test]
    fn short_walks_rarely_complete_but_are_not_failures() {
        // Two moves reach Finalize, where Close is offered, but never take it.
        let report = check_workflow(
            &canonical(),
            CheckConfig {
                max_walk_len: 2,
                ..CheckConfig::default()
            },
        );
        assert_eq!(report.completed_walks, 0);
        assert_eq!(report.shortest_completion, None);
        assert!(report.never_available_actions.is_empty(), "{report}");
        assert!(report.is_ok(), "{report}");
        // One move never reaches Finalize, so Close is never offered.
        let report = check_workflow(
            &canonical(),
            CheckConfig {
                max_walk_len: 1,
                ..CheckConfig::default()
            },
        );
        assert_eq!(report.never_available_actions, vec![id::<ActionId>(14)]);
        assert!(report.is_ok(), "{report}");
        assert!(
            report.to_string().contains("never available on a walk: \"Close\""),
            "{report}"
        );
    }

    #[test]
    fn a_dead_end_is_flagged() {
        // Triage -> Review (no action at all), or Triage -> Done.
        let def = definition(
            "dead end",
            key(),
            vec![
                step(1, "Triage", true, false),
                step(2, "Review", false, false),
                step(3, "Done", false, true),
            ],
            vec![
                action(11, "Review", 1, Some(2)),
                action(12, "Finish", 1, Some(3)),
                action(13, "Close", 3, None),
            ],
        );
        let report = check_workflow(&def, CheckConfig::default());
        assert!(!report.is_ok());
        assert!(report.validation_problems.contains(&Problem::DeadEnd { step: id(2) }));
        assert!(!report.every_walk_can_complete);
        assert_eq!(report.stuck_steps, vec![id::<StepId>(2)]);
        assert!(report.unreachable_steps.is_empty());
        assert_eq!(report.longest_acyclic_path, 2);
        assert!(report.to_string().contains("stuck at \"Review\""), "{report}");
        let dead_end = format!("step \"Review\" ({}) has no action", id::<StepId>(2));
        assert!(report.to_string().contains(&dead_end), "{report}");
    }

    #[test]
    fn an_unreachable_step_is_flagged() {
        let def = definition(
            "orphan",
            key(),
            vec![
                step(1, "Triage", true, false),
                step(2, "Resolve", false, true),
                step(3, "Orphan", false, false),
            ],
            vec![
                action(11, "Accept", 1, Some(2)),
                action(12, "Close", 2, None),
                action(13, "Back", 3, Some(1)),
            ],
        );
        let report = check_workflow(&def, CheckConfig::default());
        assert!(!report.is_ok());
        assert_eq!(report.unreachable_steps, vec![id::<StepId>(3)]);
        assert!(
            report
                .validation_problems
                .contains(&Problem::Unreachable { step: id(3) })
        );
        assert_eq!(report.never_available_actions, vec![id::<ActionId>(13)]);
        assert!(report.every_walk_can_complete, "the orphan is never walked to");
        assert!(report.to_string().contains("unreachable steps: \"Orphan\""), "{report}");
    }

    #[test]
    fn an_exit_less_cycle_is_flagged() {
        // Triage -> Loop A <-> Loop B with no way out, or Triage -> completes.
        let def = definition(
            "cycle",
            key(),
            vec![
                step(1, "Triage", true, true),
                step(2, "Loop A", false, false),
                step(3, "Loop B", false, false),
            ],
            vec![
                action(11, "Into the loop", 1, Some(2)),
                action(12, "Close", 1, None),
                action(13, "Forth", 2, Some(3)),
                action(14, "Back", 3, Some(2)),
            ],
        );
        let report = check_workflow(&def, CheckConfig::default());
        assert!(!report.is_ok());
        assert!(
            report
                .validation_problems
                .contains(&Problem::CannotComplete { step: id(2) })
        );
        assert!(!report.every_walk_can_complete);
        assert_eq!(report.stuck_steps, vec![id::<StepId>(2), id(3)]);
        assert_eq!(report.longest_acyclic_path, 1);
        assert_eq!(report.shortest_completion, Some(1));
    }

    #[test]
    fn no_start_step_means_nothing_runs() {
        let mut def = canonical();
        def.steps[0].is_start = false;
        let report = check_workflow(&def, CheckConfig::default());
        assert!(!report.is_ok());
        assert!(report.validation_problems.contains(&Problem::NoStartStep));
        assert!(!report.every_walk_can_complete);
        assert_eq!(report.unreachable_steps.len(), 3);
        assert_eq!(report.completed_walks, 0);
        assert_eq!(report.never_available_actions.len(), 4);
        assert!(report.to_string().contains("no unique start step"), "{report}");
    }

    #[test]
    fn the_longest_path_is_exact_and_bounded() {
        // 1 -> 2 -> 3 -> 4 (completes); shortcuts 1 -> 4 and 2 -> 4; back edge 3 -> 1.
        let def = definition(
            "ladder",
            key(),
            vec![
                step(1, "A", true, false),
                step(2, "B", false, false),
                step(3, "C", false, false),
                step(4, "D", false, true),
            ],
            vec![
                action(11, "Skip", 1, Some(4)),
                action(12, "Next", 1, Some(2)),
                action(13, "Skip", 2, Some(4)),
                action(14, "Next", 2, Some(3)),
                action(15, "Next", 3, Some(4)),
                action(16, "Restart", 3, Some(1)),
                action(17, "Close", 4, None),
            ],
        );
        let report = check_workflow(&def, CheckConfig::default());
        assert!(report.is_ok(), "{report}");
        assert_eq!((report.longest_acyclic_path, report.longest_path_exact), (4, true));
        assert_eq!(report.shortest_completion, Some(2));
        let cut = check_workflow(
            &def,
            CheckConfig {
                max_path_search: 2,
                ..CheckConfig::default()
            },
        );
        assert!(!cut.longest_path_exact);
        assert!(cut.longest_acyclic_path <= 4);
        assert!(cut.to_string().contains("at least"), "{cut}");
    }
}
