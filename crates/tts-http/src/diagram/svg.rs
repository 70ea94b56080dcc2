//! Writing a [`Layout`] (and optionally a task's [`Marks`]) as one standalone `<svg>` element.
//!
//! The output is meant to be inlined in a page under a strict CSP: no `style=` attributes and no
//! scripts, only classes for a stylesheet to hook (`node`, `start`, `end`, `current`, `visited`,
//! `pending`; `edge`, `traversed`; `step-name`, `step-role`, `edge-label`, `arrowhead`) and `data-`
//! attributes naming the steps and actions. A few presentation attributes (`fill="none"`,
//! `stroke="currentColor"`, the 12px sans-serif font the box widths are measured for) keep it legible
//! without any stylesheet; CSS rules override them.
//! Every text is XML-escaped, so a step named `<script>` is drawn as those characters.

use super::layout::{Layout, MAX_ACTION_CHARS, MAX_LABEL_CHARS, Point, clip};
use super::marks::Marks;
use std::fmt::Write;

/// The id of the arrowhead `<marker>`. Inlining two diagrams in one page defines it twice, with the
/// same content, which browsers resolve to the first: harmless.
pub const ARROW_ID: &str = "tts-diagram-arrow";

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for XML text and attribute values, and the control
/// characters XML 1.0 cannot carry replaced by U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `v` to tenths, so sums of rounded numbers print without float noise (`34.3`, not `34.300000000000004`).
fn num(v: f64) -> f64 {
    (v * 10.0).round() / 10.0 + 0.0
}

fn points(ps: &[Point]) -> String {
    let mut out = String::new();
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{},{}", p.x, p.y);
    }
    out
}

/// The SVG of `layout`: arrows first (so boxes are drawn over their ends), then boxes. With `marks`,
/// every box gets its step's state as a class and every arrow of a move the task made gets
/// `traversed`.
pub fn svg(layout: &Layout, marks: Option<&Marks>) -> String {
    draw(layout, marks, " xmlns=\"http://www.w3.org/2000/svg\"")
}

/// [`svg()`] for inlining in an HTML page, where the parser puts `<svg>` in the SVG namespace: without
/// the `xmlns` attribute, so the page names no absolute URL.
pub fn svg_inline(layout: &Layout, marks: Option<&Marks>) -> String {
    draw(layout, marks, "")
}

fn draw(layout: &Layout, marks: Option<&Marks>, namespace: &str) -> String {
    let mut out = String::new();
    let (w, h) = (layout.width, layout.height);
    let _ = write!(
        out,
        "<svg{namespace} class=\"workflow-diagram\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" \
         aria-label=\"Workflow diagram\">"
    );
    let _ = write!(
        out,
        "<defs><marker id=\"{ARROW_ID}\" class=\"arrowhead\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"currentColor\"/></marker></defs>"
    );
    out.push_str("<g class=\"edges\">");
    for e in &layout.edges {
        let traversed = marks.is_some_and(|m| m.is_traversed(e.from_step, e.to_step));
        let class = if traversed { "edge traversed" } else { "edge" };
        let _ = write!(
            out,
            "<g class=\"{class}\" data-action-id=\"{}\" data-from-step=\"{}\" data-to-step=\"{}\">",
            e.action_id, e.from_step, e.to_step
        );
        let _ = write!(out, "<title>{}</title>", escape(&e.action));
        if e.points.len() >= 2 {
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"currentColor\" marker-end=\"url(#{ARROW_ID})\"/>",
                points(&e.points)
            );
        }
        let _ = write!(
            out,
            "<text class=\"edge-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" dominant-baseline=\"middle\">{}</text></g>",
            e.label.x,
            e.label.y,
            escape(&clip(&e.action, MAX_ACTION_CHARS))
        );
    }
    out.push_str("</g><g class=\"nodes\">");
    for b in &layout.nodes {
        let mut class = String::from("node");
        if b.is_start {
            class.push_str(" start");
        }
        if b.is_end {
            class.push_str(" end");
        }
        if let Some(m) = marks {
            class.push(' ');
            class.push_str(m.state(b.step_id).as_str());
        }
        let cx = num(b.x + b.width / 2.0);
        let _ = write!(
            out,
            "<g class=\"{class}\" data-step-id=\"{}\"><title>{} ({})</title>\
             <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"none\" stroke=\"currentColor\"/>\
             <text class=\"step-name\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
             <text class=\"step-role\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            b.step_id,
            escape(&b.name),
            escape(&b.role),
            b.x,
            b.y,
            b.width,
            b.height,
            num(b.y + 18.0),
            escape(&clip(&b.name, MAX_LABEL_CHARS)),
            num(b.y + 34.0),
            escape(&clip(&b.role, MAX_LABEL_CHARS)),
        );
    }
    out.push_str("</g></svg>");
    out
}
