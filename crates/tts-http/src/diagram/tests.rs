//! Examples of the layout, the marks and the SVG on small hand-written workflows, and the helpers the
//! property tests ([`super::props`]) share.

use super::layout::clip;
use super::svg::escape;
use super::*;
use std::collections::BTreeMap;
use tts_core::chrono::{DateTime, Duration, Utc};
use tts_core::uuid::Uuid;
use tts_core::{
    ActionId, Assignment, AssignmentId, Origin, RoleId, Step, StepId, Task, TaskId, TaskStatus, TicketId, Transition,
    UserId, WorkflowDefinition, WorkflowId,
};

pub(super) fn step_id(i: usize) -> StepId {
    StepId(Uuid::from_u128(0x100 + i as u128))
}

pub(super) fn role_id(i: usize) -> RoleId {
    RoleId(Uuid::from_u128(0x200 + i as u128))
}

/// A definition with steps `names` (the first is the start; `ends` complete the task) and actions
/// `edges` between step indexes.
pub(super) fn def(names: &[&str], ends: &[usize], edges: &[(usize, usize)]) -> WorkflowDefinition {
    let steps = names
        .iter()
        .enumerate()
        .map(|(i, name)| Step {
            id: step_id(i),
            name: (*name).to_string(),
            role_id: role_id(i % 3),
            description: String::new(),
            instruction: String::new(),
            weight: 1,
            escalate_to: None,
            is_start: i == 0,
            is_end: ends.contains(&i),
            position: Default::default(),
            strategy: Default::default(),
        })
        .collect();
    let mut transitions: Vec<Transition> = edges
        .iter()
        .enumerate()
        .map(|(j, &(from, to))| Transition {
            id: ActionId(Uuid::from_u128(0x300 + j as u128)),
            name: format!("Go {j}"),
            from_step: step_id(from),
            to_step: Some(step_id(to)),
        })
        .collect();
    for (k, &e) in ends.iter().enumerate() {
        transitions.push(Transition {
            id: ActionId(Uuid::from_u128(0x400 + k as u128)),
            name: "Done".into(),
            from_step: step_id(e),
            to_step: None,
        });
    }
    WorkflowDefinition {
        name: "Test".into(),
        description: String::new(),
        match_key: Default::default(),
        is_default: false,
        sla: Default::default(),
        steps,
        transitions,
    }
}

pub(super) fn roles() -> BTreeMap<RoleId, String> {
    [
        (role_id(0), "Agent".to_string()),
        (role_id(1), "Manager <&>".to_string()),
    ]
    .into()
}

pub(super) fn task(current: usize, status: TaskStatus) -> Task {
    let now = DateTime::<Utc>::UNIX_EPOCH;
    Task {
        id: TaskId(Uuid::from_u128(0x500)),
        ticket: TicketId(1),
        workflow_id: WorkflowId(Uuid::from_u128(0x600)),
        workflow_version: 1,
        current_step: step_id(current),
        status,
        target_resolution: None,
        resolved_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// Assignments of the task, one per `(step, origin)`, a second apart.
pub(super) fn history(task: &Task, turns: &[(usize, Origin)]) -> Vec<Assignment> {
    turns
        .iter()
        .enumerate()
        .map(|(i, &(step, origin))| {
            let at = DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(i as i64);
            let id = AssignmentId(Uuid::from_u128(0x700 + i as u128));
            let user = UserId(Uuid::from_u128(0x800));
            Assignment::new(id, task.id, user, role_id(0), step_id(step), origin, at, None)
        })
        .collect()
}

/// Checks that `svg` is a balanced tree of tags with no raw `<` or `&` in text (what an XML parser
/// would refuse), returning how many elements it has.
pub(super) fn check_well_formed(svg: &str) -> usize {
    let mut stack: Vec<&str> = Vec::new();
    let mut elements = 0;
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
                "raw & in {text:?}"
            );
        }
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "< inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
        } else {
            elements += 1;
            let name = tag.split(' ').next().unwrap_or_default().trim_end_matches('/');
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert!(rest.is_empty(), "text after the root: {rest}");
    elements
}

#[test]
fn a_chain_is_drawn_top_to_bottom_one_step_per_rank() {
    let d = def(&["Triage", "Fix", "Check"], &[2], &[(0, 1), (1, 2)]);
    let l = layout(&d, &roles());
    let ranks: Vec<u32> = l.nodes.iter().map(|b| b.rank).collect();
    assert_eq!(ranks, [0, 1, 2]);
    assert!(l.nodes.windows(2).all(|w| w[0].y + w[0].height < w[1].y));
    assert_eq!(l.edges.len(), 2, "the completing action has no arrow");
    for e in &l.edges {
        assert!(e.points.first().unwrap().y < e.points.last().unwrap().y, "{e:?}");
    }
    assert_eq!(l.nodes[0].role, "Agent");
    assert_eq!(l.nodes[2].role, role_id(2).to_string(), "unknown role: its id");
    assert!(l.nodes[2].is_end && l.nodes[0].is_start);
}

#[test]
fn an_action_back_to_the_start_keeps_the_start_on_top_and_points_back() {
    // Without our own cycle breaking, dagre may put "Review" above "Draft".
    let d = def(&["Draft", "Review", "Approve"], &[2], &[(1, 0), (0, 1), (1, 2), (2, 0)]);
    let l = layout(&d, &roles());
    assert_eq!(l.nodes[0].rank, 0);
    assert!(l.nodes[1..].iter().all(|b| b.rank > 0));
    let back = l
        .edges
        .iter()
        .find(|e| e.from_step == step_id(1) && e.to_step == step_id(0))
        .unwrap();
    let (first, last) = (back.points.first().unwrap(), back.points.last().unwrap());
    assert!(first.y > last.y, "the arrow runs from Review up to Draft: {back:?}");
}

#[test]
fn loops_parallel_actions_and_unreachable_steps_are_laid_out() {
    let d = def(
        &["Start", "Loop", "Orphan", "Orphan child"],
        &[1],
        &[(0, 1), (0, 1), (1, 1), (2, 3)],
    );
    let l = layout(&d, &roles());
    assert_eq!(l.edges.len(), 4);
    let looped = &l.edges[2];
    assert_eq!((looped.from_step, looped.to_step), (step_id(1), step_id(1)));
    assert!(looped.points.len() >= 2);
    assert_ne!(
        l.edges[0].points, l.edges[1].points,
        "parallel actions get their own arrows"
    );
    assert_eq!(l.nodes.iter().filter(|b| b.rank == 0).count(), 1, "{:?}", l.nodes);
    assert_eq!(l.nodes[0].rank, 0);
}

#[test]
fn broken_drafts_still_get_a_drawing() {
    let mut d = def(&["A", "B", "B again"], &[], &[(0, 1)]);
    d.steps[2].id = step_id(1);
    d.steps[1].is_start = true;
    d.transitions.push(Transition {
        id: ActionId(Uuid::from_u128(0x999)),
        name: "Nowhere".into(),
        from_step: step_id(0),
        to_step: Some(step_id(42)),
    });
    let l = layout(&d, &roles());
    assert_eq!(l.nodes.len(), 2, "a repeated step id is drawn once");
    assert_eq!(l.edges.len(), 1, "an action to an unknown step is left out");
    assert_eq!(l.nodes[0].rank, 0, "the first of two start steps is on top");

    d.steps.clear();
    let empty = layout(&d, &roles());
    assert!(empty.nodes.is_empty() && empty.edges.is_empty() && empty.width > 0.0);
    assert_eq!(check_well_formed(&svg(&empty, None)), 6);

    let mut no_start = def(&["A", "B"], &[], &[(1, 0)]);
    no_start.steps[0].is_start = false;
    assert_eq!(layout(&no_start, &roles()).nodes.len(), 2);
}

#[test]
fn long_names_make_wider_boxes_up_to_a_limit() {
    let l = layout(&def(&["A", &"x".repeat(20), &"y".repeat(200)], &[], &[]), &roles());
    assert_eq!(l.nodes[0].width, 96.0);
    assert!(l.nodes[1].width > l.nodes[0].width);
    assert!(l.nodes[2].width < 300.0);
    assert_eq!(clip("abcdef", 4), "abc…");
    assert_eq!(clip("abcd", 4), "abcd");
}

#[test]
fn marks_come_from_the_assignments_not_the_step_order() {
    // Steps 0 -> 2 -> 1 -> 2 (step 3 never reached); a transfer and an escalation on step 2.
    let d = def(&["A", "B", "C", "D"], &[3], &[(0, 2), (2, 1), (1, 2), (2, 3)]);
    let t = task(2, TaskStatus::InProgress);
    use Origin::*;
    let h = history(
        &t,
        &[
            (0, System),
            (2, System),
            (2, Transferred),
            (1, System),
            (2, System),
            (2, Escalated),
        ],
    );
    let mut shuffled = h.clone();
    shuffled.reverse();
    let m = marks(&d, &t, &shuffled);
    let states: Vec<StepState> = m.steps.iter().map(|s| s.state).collect();
    use StepState::*;
    assert_eq!(states, [Visited, Visited, Current, Pending]);
    let moves: Vec<(StepId, StepId)> = m.traversed.iter().map(|t| (t.from_step, t.to_step)).collect();
    assert_eq!(
        moves,
        [
            (step_id(0), step_id(2)),
            (step_id(2), step_id(1)),
            (step_id(1), step_id(2))
        ]
    );
    assert!(m.is_traversed(step_id(1), step_id(2)) && !m.is_traversed(step_id(2), step_id(3)));

    let done = task(3, TaskStatus::Completed);
    let h = history(&done, &[(0, System), (3, System)]);
    let m = marks(&def(&["A", "B", "C", "D"], &[3], &[(0, 3)]), &done, &h);
    assert!(
        m.steps.iter().all(|s| s.state != Current),
        "a finished task has no current step"
    );
    assert_eq!(m.state(step_id(3)), Visited);
    assert_eq!(m.state(step_id(99)), Pending);

    let looping = task(0, TaskStatus::InProgress);
    let h = history(&looping, &[(0, System), (0, Transferred), (0, System)]);
    let m = marks(&def(&["A"], &[], &[(0, 0)]), &looping, &h);
    assert_eq!(m.traversed.len(), 1, "a transfer is no move, a looping action is");
}

#[test]
fn the_svg_has_classes_and_escaped_text_only() {
    let d = def(
        &["<script>alert(1)</script>", "Fix & \"check\"", "Done"],
        &[2],
        &[(0, 1), (1, 2), (2, 0)],
    );
    let l = layout(&d, &roles());
    let t = task(1, TaskStatus::InProgress);
    let m = marks(&d, &t, &history(&t, &[(0, Origin::System), (1, Origin::System)]));
    let out = svg(&l, Some(&m));
    check_well_formed(&out);
    assert!(out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && out.ends_with("</svg>"));
    assert!(!out.contains("<script") && !out.contains("style="));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(out.contains("Fix &amp; &quot;check&quot;") && out.contains("Manager &lt;&amp;&gt;"));
    assert!(out.contains(&format!("class=\"node start visited\" data-step-id=\"{}\"", step_id(0))));
    assert!(out.contains(&format!("class=\"node current\" data-step-id=\"{}\"", step_id(1))));
    assert!(out.contains(&format!("class=\"node end pending\" data-step-id=\"{}\"", step_id(2))));
    assert_eq!(out.matches("class=\"edge traversed\"").count(), 1);
    assert_eq!(out.matches("marker-end=\"url(#tts-diagram-arrow)\"").count(), 3);
    assert!(out.contains(&format!("viewBox=\"0 0 {} {}\"", l.width, l.height)));
    let plain = svg(&l, None);
    assert!(!plain.contains(" current\"") && !plain.contains("traversed"));
    assert_eq!(escape("a\u{1}b"), "a\u{FFFD}b");
}
