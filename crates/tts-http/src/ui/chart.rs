//! Small SVG charts for the dashboard: pure functions from numbers to markup. Every bar is a link to
//! the filtered ticket list and carries its number in a `<title>`; the page shows the same numbers in a
//! table beside the chart, so nothing is only in the picture.

use crate::diagram::svg::escape;
use std::fmt::Write;

/// One bar: its label, value and the page it links to.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Under the bar.
    pub label: String,
    /// Its height.
    pub value: u64,
    /// Where a click leads (a path on this site).
    pub href: String,
    /// A class for its colour (e.g. the priority).
    pub class: String,
}

/// A bar chart of `bars` titled `title` (for screen readers), to inline in a page. Many bars get
/// narrower slots and every few a label, so a month of days stays readable.
pub fn bars(title: &str, bars: &[Bar]) -> String {
    const HEIGHT: u64 = 140;
    let many = bars.len() > 12;
    let slot: usize = if many { 22 } else { 44 };
    let bar_width = slot - if many { 6 } else { 12 };
    let label_every = bars.len().div_ceil(10).max(1);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let width = (bars.len() * slot).max(slot);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {width} {h}\" width=\"{width}\" height=\"{h}\" role=\"img\" \
         aria-label=\"{t}\">",
        h = HEIGHT + 34,
        t = escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let height = b.value * HEIGHT / max;
        let x = i * slot + (slot - bar_width) / 2;
        let y = HEIGHT - height + 14;
        let cx = x + bar_width / 2;
        let _ = write!(
            out,
            "<a href=\"{href}\" class=\"bar {class}\"><title>{label}: {value}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{bar_width}\" height=\"{height}\"/>",
            href = escape(&b.href),
            class = escape(&b.class),
            label = escape(&b.label),
            value = b.value,
        );
        if b.value > 0 || !many {
            let _ = write!(
                out,
                "<text class=\"value\" x=\"{cx}\" y=\"{vy}\" text-anchor=\"middle\">{}</text>",
                b.value,
                vy = y.saturating_sub(3).max(10),
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                out,
                "<text class=\"label\" x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\">{}</text>",
                escape(&b.label.chars().take(8).collect::<String>()),
                ly = HEIGHT + 30,
            );
        }
        out.push_str("</a>");
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: u64) -> Bar {
        Bar {
            label: label.into(),
            value,
            href: format!("/ui/tickets/?priority={label}"),
            class: label.into(),
        }
    }

    #[test]
    fn every_bar_is_a_link_with_its_number_and_the_tallest_fills_the_height() {
        let svg = bars("By priority", &[bar("low", 1), bar("high", 4), bar("none", 0)]);
        assert_eq!(svg.matches("<a href=").count(), 3);
        assert!(svg.contains("<title>high: 4</title>"));
        assert!(
            svg.contains("height=\"140\"/>"),
            "the largest bar is full height: {svg}"
        );
        assert!(svg.contains("height=\"0\"/>"), "an empty bar is flat");
        assert!(!svg.contains("style="));
    }

    #[test]
    fn labels_and_links_are_escaped() {
        let svg = bars(
            "<t>",
            &[Bar {
                label: "<script>".into(),
                value: 1,
                href: "/a?b=1&c=\"".into(),
                class: "x".into(),
            }],
        );
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
        assert!(svg.contains("href=\"/a?b=1&amp;c=&quot;\""));
    }

    #[test]
    fn a_month_of_days_gets_narrow_slots_and_a_label_every_few_bars() {
        let days: Vec<Bar> = (0..30).map(|d| bar(&format!("d{d:02}"), d % 3)).collect();
        let svg = bars("month", &days);
        assert!(svg.contains("width=\"660\""), "22 units a day");
        assert_eq!(svg.matches("class=\"label\"").count(), 10);
        assert_eq!(svg.matches("<a href=").count(), 30, "every bar is still a link");
    }

    #[test]
    fn no_bars_give_an_empty_chart() {
        assert!(bars("none", &[]).starts_with("<svg"));
    }
}
