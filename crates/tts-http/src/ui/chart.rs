//! Small SVG charts for the dashboard: pure functions from numbers to markup. Every bar is a link to
//! the filtered ticket list and carries its number in a `<title>`; the page shows the same numbers in a
//! table beside the chart, so nothing is only in the picture.

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

/// Escapes text for XML and HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A bar chart of `bars` titled `title` (for screen readers), to inline in a page.
pub fn bars(title: &str, bars: &[Bar]) -> String {
    const HEIGHT: u64 = 140;
    const SLOT: usize = 44;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let width = (bars.len() * SLOT).max(SLOT);
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
        let x = i * SLOT + 6;
        let y = HEIGHT - height + 14;
        let _ = write!(
            out,
            "<a href=\"{href}\" class=\"bar {class}\"><title>{label}: {value}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"32\" height=\"{height}\"/>\
             <text class=\"value\" x=\"{cx}\" y=\"{vy}\" text-anchor=\"middle\">{value}</text>\
             <text class=\"label\" x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\">{short}</text></a>",
            href = escape(&b.href),
            class = escape(&b.class),
            label = escape(&b.label),
            value = b.value,
            cx = x + 16,
            vy = y.saturating_sub(3).max(10),
            ly = HEIGHT + 30,
            short = escape(&b.label.chars().take(6).collect::<String>()),
        );
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
    fn no_bars_give_an_empty_chart() {
        assert!(bars("none", &[]).starts_with("<svg"));
    }
}
