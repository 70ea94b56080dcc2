//! Placing a workflow's steps (boxes) and actions (arrows) on a plane, top to bottom.
//!
//! The `dagre` crate (a port of dagre.js: Sugiyama layering, network-simplex ranks, barycenter
//! ordering, Brandes–Köpf coordinates) does the work behind [`layout`]; nothing of it leaks into the
//! types here, so it can be swapped for another layered layout without touching the SVG writer, the
//! JSON or its clients.
//!
//! What we decide before handing the graph over, so the picture reads the way a workflow runs:
//! - cycles are broken by us, not by dagre: steps are ordered by a depth-first search from the start
//!   step (reversed postorder) with the start steps moved to the front, and every action pointing
//!   backwards in that order is laid out reversed (its arrow still points the way it goes). Every
//!   action into the start step is therefore drawn upwards;
//! - the start step is the only step in the first rank: besides the actions, invisible edges lead
//!   from it to every other step nothing leads to (unreachable steps or a second start step of a
//!   draft), so every other step is ranked below it (with several start steps, the first is "the"
//!   start step);
//! - node sizes follow the label lengths (a fixed width per character, deterministic), and action
//!   names get room of their own (dagre's edge labels) so they do not sit on boxes.
//!
//! Identical definitions give identical layouts: dagre iterates in insertion order, we insert in
//! definition order and keep no hash map of our own; coordinates are rounded to tenths.

use dagre::graph::{Graph, GraphOptions};
use dagre::{EdgeLabel, LayoutOptions, NodeLabel, RankDir};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use tts_core::{ActionId, RoleId, StepId, WorkflowDefinition};
use utoipa::ToSchema;

/// Width of one character of a label, in user units (a 12px sans-serif font, a little generous).
const CHAR_WIDTH: f64 = 7.0;
/// Longest step name or role shown in a box; longer ones are clipped with `…` (the `<title>` has all).
pub const MAX_LABEL_CHARS: usize = 32;
/// Longest action name shown on an arrow.
pub const MAX_ACTION_CHARS: usize = 24;
/// Horizontal padding inside a box, each side.
const PAD_X: f64 = 12.0;
/// The narrowest box.
const MIN_NODE_WIDTH: f64 = 96.0;
/// Every box's height: two lines (name, role).
pub const NODE_HEIGHT: f64 = 44.0;
/// An action label's height.
const EDGE_LABEL_HEIGHT: f64 = 16.0;
/// Empty space around the drawing.
const MARGIN: f64 = 16.0;

/// A point of the drawing, in user units from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Point {
    /// Rightwards.
    pub x: f64,
    /// Downwards.
    pub y: f64,
}

/// A step's box.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NodeBox {
    /// The step.
    #[schema(value_type = String, format = Uuid)]
    pub step_id: StepId,
    /// Its full name (a drawing may clip it to [`MAX_LABEL_CHARS`]).
    pub name: String,
    /// The role that works on it.
    #[schema(value_type = String, format = Uuid)]
    pub role_id: RoleId,
    /// That role's name (its id when the role is unknown).
    pub role: String,
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The layer, from 0 at the top; the start step (when there is one) is alone in layer 0.
    pub rank: u32,
    /// The step a task starts at.
    pub is_start: bool,
    /// A step with an action that completes the task.
    pub is_end: bool,
}

/// An action's arrow from one step to another (actions that complete the task have none; their step
/// is marked `is_end`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EdgePath {
    /// The action.
    #[schema(value_type = String, format = Uuid)]
    pub action_id: ActionId,
    /// Its name (the button label).
    pub action: String,
    /// The step it leaves.
    #[schema(value_type = String, format = Uuid)]
    pub from_step: StepId,
    /// The step it leads to (the same step for an action that loops).
    #[schema(value_type = String, format = Uuid)]
    pub to_step: StepId,
    /// The polyline, from the border of `from_step`'s box to the border of `to_step`'s.
    pub points: Vec<Point>,
    /// The centre of the action's name.
    pub label: Point,
}

/// A whole drawing: its size, the boxes (in definition order) and the arrows (in definition order).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Layout {
    /// Width of the drawing (every box, arrow and label lies within it).
    pub width: f64,
    /// Height of the drawing.
    pub height: f64,
    /// One box per step.
    pub nodes: Vec<NodeBox>,
    /// One arrow per action between two steps.
    pub edges: Vec<EdgePath>,
}

/// `text` cut to `max` characters, the last one replaced by `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn text_width(text: &str, max: usize) -> f64 {
    clip(text, max).chars().count() as f64 * CHAR_WIDTH
}

fn round(v: f64) -> f64 {
    // `+ 0.0` turns -0.0 into 0.0, so the JSON and the SVG never say "-0".
    (v * 10.0).round() / 10.0 + 0.0
}

/// The steps laid out, ids unique (the first of a repeated id wins, as a draft may repeat one).
fn unique_steps(def: &WorkflowDefinition) -> Vec<&tts_core::Step> {
    let mut seen = BTreeSet::new();
    def.steps.iter().filter(|s| seen.insert(s.id)).collect()
}

/// Steps in an order where few actions point backwards: reversed DFS postorder from the start steps
/// first (then the others in definition order), with the start steps moved to the front.
fn step_order(n: usize, starts: &[usize], out: &[Vec<usize>]) -> Vec<usize> {
    let mut done = vec![false; n];
    let mut post = Vec::with_capacity(n);
    let roots = starts.iter().copied().chain(0..n);
    for root in roots {
        if done[root] {
            continue;
        }
        done[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some((v, next)) = stack.last_mut() {
            if let Some(&w) = out[*v].get(*next) {
                *next += 1;
                if !done[w] {
                    done[w] = true;
                    stack.push((w, 0));
                }
            } else {
                post.push(*v);
                stack.pop();
            }
        }
    }
    post.reverse();
    let mut order: Vec<usize> = starts.to_vec();
    order.extend(post.into_iter().filter(|v| !starts.contains(v)));
    order
}

/// Lays out a workflow definition top to bottom. `role_names` gives the role names shown in the
/// boxes (a missing one shows the role id). Actions whose steps do not exist (a broken draft) are left
/// out; a definition without steps gives an empty layout.
pub fn layout(def: &WorkflowDefinition, role_names: &BTreeMap<RoleId, String>) -> Layout {
    let steps = unique_steps(def);
    if steps.is_empty() {
        return Layout {
            width: 2.0 * MARGIN,
            height: 2.0 * MARGIN,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
    }
    let index: BTreeMap<StepId, usize> = steps.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let mut seen_actions = BTreeSet::new();
    let actions: Vec<(usize, usize, &tts_core::Transition)> = def
        .transitions
        .iter()
        .filter(|t| seen_actions.insert(t.id))
        .filter_map(|t| Some((*index.get(&t.from_step)?, *index.get(&t.to_step?)?, t)))
        .collect();
    let role_of = |s: &tts_core::Step| {
        role_names
            .get(&s.role_id)
            .cloned()
            .unwrap_or_else(|| s.role_id.to_string())
    };
    let sizes: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| {
            let text = text_width(&s.name, MAX_LABEL_CHARS).max(text_width(&role_of(s), MAX_LABEL_CHARS));
            ((text + 2.0 * PAD_X).max(MIN_NODE_WIDTH), NODE_HEIGHT)
        })
        .collect();

    let n = steps.len();
    let starts: Vec<usize> = (0..n).filter(|&i| steps[i].is_start).collect();
    let mut out = vec![Vec::new(); n];
    for &(v, w, _) in &actions {
        out[v].push(w);
    }
    let order = step_order(n, &starts, &out);
    let mut position = vec![0usize; n];
    for (p, &v) in order.iter().enumerate() {
        position[v] = p;
    }

    let mut g: Graph<NodeLabel, EdgeLabel> = Graph::with_options(GraphOptions {
        directed: true,
        multigraph: true,
        compound: true,
    });
    let node = |i: usize| format!("n{i}");
    for (i, &(width, height)) in sizes.iter().enumerate() {
        let label = NodeLabel {
            width,
            height,
            ..NodeLabel::default()
        };
        g.set_node(node(i), Some(label));
    }
    // Laid out from earlier to later in `order`; `flipped` remembers which arrows to turn back.
    let mut flipped = Vec::with_capacity(actions.len());
    let mut has_in = vec![false; n];
    for (j, &(v, w, t)) in actions.iter().enumerate() {
        let flip = position[w] < position[v];
        let (a, b) = if flip { (w, v) } else { (v, w) };
        has_in[b] |= a != b;
        flipped.push(flip);
        let label = EdgeLabel {
            width: text_width(&t.name, MAX_ACTION_CHARS) + 8.0,
            height: EDGE_LABEL_HEIGHT,
            // Beside the line, not on it: no background needed behind the text.
            labelpos: dagre::layout::types::LabelPos::Right,
            ..EdgeLabel::default()
        };
        g.set_edge(node(a), node(b), Some(label), Some(&format!("e{j}")));
    }
    if let Some(&start) = starts.first() {
        for (i, _) in has_in.iter().enumerate().filter(|&(i, &has)| !has && i != start) {
            let label = EdgeLabel {
                weight: 0,
                ..EdgeLabel::default()
            };
            g.set_edge(node(start), node(i), Some(label), Some(&format!("force{i}")));
        }
    }

    dagre::layout(
        &mut g,
        Some(LayoutOptions {
            rankdir: RankDir::TB,
            nodesep: 40.0,
            edgesep: 16.0,
            ranksep: 48.0,
            ..LayoutOptions::default()
        }),
    );

    let mut nodes = Vec::with_capacity(n);
    for (i, s) in steps.iter().enumerate() {
        let placed = g.node(&node(i));
        let (cx, cy) = placed.map_or((0.0, 0.0), |p| (p.x.unwrap_or(0.0), p.y.unwrap_or(0.0)));
        let (width, height) = sizes[i];
        nodes.push(NodeBox {
            step_id: s.id,
            name: s.name.clone(),
            role_id: s.role_id,
            role: role_of(s),
            x: cx - width / 2.0,
            y: cy - height / 2.0,
            width,
            height,
            rank: placed.and_then(|p| p.rank).unwrap_or(0).max(0) as u32,
            is_start: s.is_start,
            is_end: s.is_end,
        });
    }
    let mut edges = Vec::with_capacity(actions.len());
    for (j, &(v, w, t)) in actions.iter().enumerate() {
        let (a, b) = if flipped[j] { (w, v) } else { (v, w) };
        let placed = g.edge(&node(a), &node(b), Some(&format!("e{j}")));
        let mut points: Vec<Point> = placed
            .map(|e| e.points.iter().map(|p| Point { x: p.x, y: p.y }).collect())
            .unwrap_or_default();
        if flipped[j] {
            points.reverse();
        }
        let middle = points
            .get(points.len() / 2)
            .copied()
            .unwrap_or(Point { x: 0.0, y: 0.0 });
        let label = placed.and_then(|e| Some(Point { x: e.x?, y: e.y? })).unwrap_or(middle);
        edges.push(EdgePath {
            action_id: t.id,
            action: t.name.clone(),
            from_step: steps[v].id,
            to_step: steps[w].id,
            points,
            label,
        });
    }
    finish(nodes, edges)
}

/// Dense ranks, everything moved so the drawing starts at the margin, its size from every box,
/// arrow and label, and every number rounded.
fn finish(mut nodes: Vec<NodeBox>, mut edges: Vec<EdgePath>) -> Layout {
    let ranks: BTreeSet<u32> = nodes.iter().map(|b| b.rank).collect();
    let dense: BTreeMap<u32, u32> = ranks.into_iter().zip(0..).collect();
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut cover = |x0: f64, y0: f64, x1: f64, y1: f64| {
        min_x = min_x.min(x0);
        min_y = min_y.min(y0);
        max_x = max_x.max(x1);
        max_y = max_y.max(y1);
    };
    for b in &nodes {
        cover(b.x, b.y, b.x + b.width, b.y + b.height);
    }
    for e in &edges {
        for p in &e.points {
            cover(p.x, p.y, p.x, p.y);
        }
        let half = text_width(&e.action, MAX_ACTION_CHARS) / 2.0 + 4.0;
        let (lx, ly) = (e.label.x, e.label.y);
        cover(
            lx - half,
            ly - EDGE_LABEL_HEIGHT / 2.0,
            lx + half,
            ly + EDGE_LABEL_HEIGHT / 2.0,
        );
    }
    let (dx, dy) = (MARGIN - min_x, MARGIN - min_y);
    let at = |p: Point| Point {
        x: round(p.x + dx),
        y: round(p.y + dy),
    };
    for b in &mut nodes {
        b.rank = dense[&b.rank];
        b.x = round(b.x + dx);
        b.y = round(b.y + dy);
        b.width = round(b.width);
        b.height = round(b.height);
    }
    for e in &mut edges {
        e.points = e.points.iter().map(|&p| at(p)).collect();
        e.label = at(e.label);
    }
    Layout {
        width: round(max_x - min_x + 2.0 * MARGIN).ceil(),
        height: round(max_y - min_y + 2.0 * MARGIN).ceil(),
        nodes,
        edges,
    }
}
