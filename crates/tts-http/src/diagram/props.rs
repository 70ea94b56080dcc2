//! Properties of the layout, the marks and the SVG over generated workflows: 1 to 11 steps, a random
//! start step, random actions (acyclic ones, or any with cycles, loops and parallel actions),
//! hostile names.

use super::tests::{check_well_formed, def, history, roles, task};
use super::*;
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::BTreeSet;
use tts_core::{Origin, StepId, TaskStatus, WorkflowDefinition};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 <>&\"'é]{0,40}",
        Just("<script>alert(1)</script>".to_string()),
        Just("]]><!--".to_string()),
    ]
}

/// A workflow and whether its actions were kept acyclic.
fn workflow() -> impl Strategy<Value = WorkflowDefinition> {
    (1usize..12, any::<bool>())
        .prop_flat_map(|(n, dag)| {
            (
                proptest::collection::vec(name(), n),
                proptest::collection::vec((0..n, 0..n), 0..=2 * n),
                proptest::collection::vec(0..n, 0..3),
                Just(dag),
                0..n,
            )
        })
        .prop_map(|(names, edges, ends, dag, start)| {
            let edges: Vec<(usize, usize)> = edges.into_iter().filter(|(a, b)| !dag || a < b).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut d = def(&names, &ends, &edges);
            for (i, s) in d.steps.iter_mut().enumerate() {
                s.is_start = i == start;
            }
            d
        })
}

fn start_of(d: &WorkflowDefinition) -> StepId {
    d.start_step().expect("one start step").id
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn every_step_gets_a_box_and_no_two_boxes_overlap(d in workflow()) {
        let l = layout(&d, &roles());
        let ids: Vec<StepId> = l.nodes.iter().map(|b| b.step_id).collect();
        let want: Vec<StepId> = d.steps.iter().map(|s| s.id).collect();
        prop_assert_eq!(ids, want);
        for (i, a) in l.nodes.iter().enumerate() {
            prop_assert!(a.width > 0.0 && a.height > 0.0);
            prop_assert!(a.x >= 0.0 && a.y >= 0.0 && a.x + a.width <= l.width && a.y + a.height <= l.height,
                "{:?} outside {} x {}", a, l.width, l.height);
            for b in &l.nodes[i + 1..] {
                let apart = a.x + a.width <= b.x || b.x + b.width <= a.x
                    || a.y + a.height <= b.y || b.y + b.height <= a.y;
                prop_assert!(apart, "{:?} overlaps {:?}", a, b);
            }
        }
        let arrows = d.transitions.iter().filter(|t| t.to_step.is_some()).count();
        prop_assert_eq!(l.edges.len(), arrows);
        for e in &l.edges {
            prop_assert!(e.points.len() >= 2, "{:?}", e);
            for p in e.points.iter().chain([&e.label]) {
                prop_assert!(p.x.is_finite() && p.y.is_finite());
                prop_assert!(p.x >= 0.0 && p.y >= 0.0 && p.x <= l.width && p.y <= l.height, "{:?}", p);
            }
        }
    }

    #[test]
    fn the_start_step_is_alone_in_the_first_rank(d in workflow()) {
        let l = layout(&d, &roles());
        let start = start_of(&d);
        for b in &l.nodes {
            prop_assert_eq!(b.rank == 0, b.step_id == start, "{:?}", l.nodes);
        }
        let top = l.nodes.iter().find(|b| b.step_id == start).unwrap();
        prop_assert!(l.nodes.iter().all(|b| b.step_id == start || b.y > top.y));
        let ranks: BTreeSet<u32> = l.nodes.iter().map(|b| b.rank).collect();
        let top_rank = ranks.last().copied().unwrap_or(0);
        prop_assert_eq!(ranks, (0..=top_rank).collect::<BTreeSet<u32>>(), "dense ranks");
    }

    #[test]
    fn identical_input_gives_identical_output(d in workflow(), current in any::<Index>()) {
        let copy = d.clone();
        let (a, b) = (layout(&d, &roles()), layout(&copy, &roles()));
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        let t = task(current.index(d.steps.len()), TaskStatus::InProgress);
        let h = history(&t, &[(current.index(d.steps.len()), Origin::System)]);
        let (ma, mb) = (marks(&d, &t, &h), marks(&copy, &t, &h));
        prop_assert_eq!(&ma, &mb);
        prop_assert_eq!(svg(&a, Some(&ma)), svg(&b, Some(&mb)));
    }

    #[test]
    fn marks_follow_the_history(
        d in workflow(),
        choices in proptest::collection::vec((any::<Index>(), 0u8..4), 0..12),
        open in any::<bool>(),
    ) {
        // A walk along the actions from the start step; some turns are transfers or escalations.
        let index_of = |id: StepId| d.steps.iter().position(|s| s.id == id).unwrap();
        let mut at = index_of(start_of(&d));
        let mut turns = vec![(at, Origin::System)];
        let mut path = vec![at];
        for (pick, kind) in choices {
            match kind {
                0 => turns.push((at, Origin::Transferred)),
                1 => turns.push((at, Origin::Escalated)),
                _ => {
                    let out: Vec<usize> = d.transitions.iter()
                        .filter(|t| t.from_step == d.steps[at].id)
                        .filter_map(|t| t.to_step.map(index_of)).collect();
                    if out.is_empty() { continue; }
                    at = out[pick.index(out.len())];
                    turns.push((at, Origin::System));
                    path.push(at);
                }
            }
        }
        let status = if open { TaskStatus::InProgress } else { TaskStatus::Completed };
        let t = task(at, status);
        let m = marks(&d, &t, &history(&t, &turns));
        let current: Vec<StepId> = m.steps.iter().filter(|s| s.state == StepState::Current).map(|s| s.step_id).collect();
        prop_assert_eq!(current, if open { vec![d.steps[at].id] } else { vec![] });
        for (i, s) in d.steps.iter().enumerate() {
            let was_there = turns.iter().any(|&(step, _)| step == i);
            let want = match (open && i == at, was_there) {
                (true, _) => StepState::Current,
                (false, true) => StepState::Visited,
                (false, false) => StepState::Pending,
            };
            prop_assert_eq!(m.state(s.id), want);
        }
        let mut moves: Vec<(StepId, StepId)> = Vec::new();
        for w in path.windows(2) {
            let pair = (d.steps[w[0]].id, d.steps[w[1]].id);
            if !moves.contains(&pair) { moves.push(pair); }
        }
        let got: Vec<(StepId, StepId)> = m.traversed.iter().map(|t| (t.from_step, t.to_step)).collect();
        prop_assert_eq!(got, moves);
    }

    #[test]
    fn the_svg_has_one_box_per_step_and_escapes_every_name(d in workflow(), open in any::<bool>()) {
        let l = layout(&d, &roles());
        let status = if open { TaskStatus::InProgress } else { TaskStatus::Cancelled };
        let t = task(0, status);
        let m = marks(&d, &t, &history(&t, &[(0, Origin::System)]));
        for (out, currents) in [(svg(&l, None), 0), (svg(&l, Some(&m)), usize::from(open))] {
            check_well_formed(&out);
            prop_assert_eq!(out.matches("data-step-id=").count(), d.steps.len());
            for s in &d.steps {
                let needle = format!("data-step-id=\"{}\"", s.id);
                prop_assert_eq!(out.matches(&needle).count(), 1);
            }
            prop_assert!(!out.contains("<script") && !out.contains("style=") && !out.contains("]]>"));
            prop_assert_eq!(out.matches("<polyline").count(), l.edges.len());
            prop_assert_eq!(out.matches(" current\"").count(), currents);
        }
    }
}
