//! Server-drawn SVG charts and a usage gauge for the dashboard pages. Our own writer rather than
//! `plotters`/`charming`: the CSP is `style-src 'self'`, so the output carries classes and
//! presentation attributes but never `style="..."`; every colour comes from `app.css` (custom
//! properties with `light-dark()`), so charts follow the theme; and a chart stays a few kilobytes.
// used by the dashboard pages (issue 23), which land next
#![cfg_attr(not(test), allow(dead_code))]

use std::fmt::Write as _;

/// The chart's coordinate system; CSS scales it to the container's width (`preserveAspectRatio`
/// keeps its default, `xMidYMid meet`, so nothing is stretched).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
/// The plot area. Y tick labels sit inside it, above their gridlines, so a long formatted value
/// never needs a gutter sized for text the server cannot measure.
const LEFT: f64 = 8.0;
const RIGHT: f64 = 632.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 208.0;
/// At most this many x labels are drawn; on phones CSS hides every other one (`chart-minor`).
const MAX_X_LABELS: usize = 12;
/// `app.css` defines `.series-0` to `.series-7`; more series reuse the colours in order.
const PALETTE: usize = 8;
const GAUGE_WIDTH: f64 = 320.0;

/// One model, provider or source: a value per bucket, in the order of [`Chart::labels`].
pub(crate) struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

#[derive(Clone, Copy)]
pub(crate) enum ChartKind {
    StackedBars,
    Lines,
}

/// A chart of usage or spend per bucket. Negative, NaN and infinite values are drawn as 0; a
/// series shorter than `labels` is padded with zeros.
pub(crate) struct Chart<'a> {
    /// Rendered as `<title>`; the `<title>`/`<desc>` ids derive from it, so the titles of the
    /// charts on one page must differ.
    pub title: &'a str,
    /// Rendered as `<desc>`.
    pub description: &'a str,
    /// One x label per bucket, e.g. "Dec 1", "W49", "2026-12".
    pub labels: &'a [String],
    pub series: &'a [Series],
    pub kind: ChartKind,
    /// Formats the y ticks and the tooltips, e.g. dollars or token counts.
    pub format_value: fn(f64) -> String,
}

impl Chart<'_> {
    pub(crate) fn to_svg(&self) -> String {
        let n = self.labels.len();
        let value = |s: &Series, i: usize| clean(s.values.get(i).copied().unwrap_or(0.0));
        let cells = |i| self.series.iter().map(move |s| value(s, i));
        let max = match self.kind {
            ChartKind::StackedBars => (0..n).map(|i| cells(i).sum()).fold(0.0, f64::max),
            ChartKind::Lines => (0..n).flat_map(cells).fold(0.0, f64::max),
        };
        let ticks = nice_ticks(max);
        let top = ticks.last().copied().filter(|t| *t > 0.0).unwrap_or(1.0);
        let y = |v: f64| r1(BOTTOM - v.min(top) / top * (BOTTOM - TOP));
        let band = (RIGHT - LEFT) / n.max(1) as f64;
        let x = |i: usize| LEFT + (i as f64 + 0.5) * band;
        let tip = |i: usize, s: &Series, v: f64| {
            let (label, name, value) = (&self.labels[i], &s.name, (self.format_value)(v));
            esc(&format!("{label} · {name}: {value}"))
        };

        let id = format!("chart-{:08x}", fnv(self.title));
        let (title, desc) = (esc(self.title), esc(self.description));
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
             role=\"img\" aria-labelledby=\"{id}-t {id}-d\" class=\"chart\"><title id=\"{id}-t\">\
             {title}</title><desc id=\"{id}-d\">{desc}</desc><g class=\"chart-grid\">"
        );
        for tick in &ticks[1..] {
            let ty = num(y(*tick));
            let _ = write!(
                out,
                r#"<line x1="{LEFT}" y1="{ty}" x2="{RIGHT}" y2="{ty}"/>"#
            );
        }
        match self.kind {
            ChartKind::StackedBars => {
                out.push_str(r#"</g><g class="chart-bars">"#);
                let (w, mut stacks) = (r1((band * 0.7).min(48.0)), vec![0.0; n]);
                for (k, s) in self.series.iter().enumerate() {
                    let mut group = String::new();
                    for (i, acc) in stacks.iter_mut().enumerate() {
                        let v = value(s, i);
                        if v > 0.0 {
                            let (y0, y1) = (y(*acc), y(*acc + v));
                            *acc += v;
                            let (bx, by, bw, bh) =
                                (num(x(i) - w / 2.0), num(y1), num(w), num(y0 - y1));
                            let tip = tip(i, s, v);
                            let _ = write!(
                                group,
                                r#"<rect x="{bx}" y="{by}" width="{bw}" height="{bh}"><title>{tip}</title></rect>"#
                            );
                        }
                    }
                    if !group.is_empty() {
                        let _ = write!(out, r#"<g class="series-{}">{group}</g>"#, k % PALETTE);
                    }
                }
            }
            ChartKind::Lines => {
                out.push_str(r#"</g><g class="chart-lines">"#);
                for (k, s) in self.series.iter().enumerate() {
                    let pts: Vec<_> = (0..n)
                        .map(|i| format!("{},{}", num(x(i)), num(y(value(s, i)))))
                        .collect();
                    let (class, pts) = (k % PALETTE, pts.join(" "));
                    let _ = write!(
                        out,
                        r#"<g class="series-{class}"><polyline points="{pts}"/>"#
                    );
                    // Points only where there was usage: the line already shows the zeros.
                    for i in (0..n).filter(|&i| value(s, i) > 0.0) {
                        let v = value(s, i);
                        let (cx, cy, tip) = (num(x(i)), num(y(v)), tip(i, s, v));
                        let _ = write!(
                            out,
                            r#"<circle cx="{cx}" cy="{cy}" r="3"><title>{tip}</title></circle>"#
                        );
                    }
                    out.push_str("</g>");
                }
            }
        }
        let _ = write!(
            out,
            r#"</g><line class="chart-axis" x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}"/>"#
        );
        if max == 0.0 {
            let (cx, cy) = (WIDTH / 2.0, (TOP + BOTTOM) / 2.0);
            let _ = write!(
                out,
                r#"<text class="chart-label chart-empty" x="{cx}" y="{cy}" text-anchor="middle">No usage in this range</text>"#
            );
        }
        out.push_str(r#"<g class="chart-label chart-tick">"#);
        for tick in &ticks {
            let (ty, text) = (num(y(*tick) - 4.0), esc(&(self.format_value)(*tick)));
            let _ = write!(out, r#"<text x="{}" y="{ty}">{text}</text>"#, LEFT + 2.0);
        }
        out.push_str(r#"</g><g class="chart-label chart-x">"#);
        let step = n.div_ceil(MAX_X_LABELS).max(1);
        let many = n.div_ceil(step) > 6;
        for (k, i) in (0..n).step_by(step).enumerate() {
            let minor = if many && k % 2 == 1 {
                r#" class="chart-minor""#
            } else {
                ""
            };
            // The outermost labels hug the edges instead of being cut off by them.
            let (lx, anchor) = match x(i) {
                c if c < LEFT + 40.0 => (LEFT, "start"),
                c if c > RIGHT - 40.0 => (RIGHT, "end"),
                c => (c, "middle"),
            };
            let (lx, ly, text) = (num(lx), HEIGHT - 12.0, esc(&self.labels[i]));
            let _ = write!(
                out,
                r#"<text{minor} x="{lx}" y="{ly}" text-anchor="{anchor}">{text}</text>"#
            );
        }
        out.push_str("</g></svg>");
        out
    }
}

/// The legend for a chart's series, as HTML to sit under the SVG (it wraps on narrow screens,
/// which text inside the SVG cannot). Empty when there are no series.
pub(crate) fn legend_html(series: &[Series]) -> String {
    if series.is_empty() {
        return String::new();
    }
    let mut out = String::from("<ul class=\"chart-legend\">");
    for (k, s) in series.iter().enumerate() {
        let _ = write!(
            out,
            "<li><span class=\"swatch series-{}\"></span>{}</li>",
            k % PALETTE,
            esc(&s.name)
        );
    }
    out.push_str("</ul>");
    out
}

/// A gauge for "tokens used this month against the monthly limit": a horizontal bar (simpler
/// than an arc and readable at 390px), filled in proportion to `used / limit`, classed
/// `gauge-ok` below 80%, `gauge-warn` from 80% and `gauge-over` from 100% (a limit of 0 or less
/// counts as reached). Without a limit the bar stays empty and `label` says the rest. The ids
/// derive from `title`, so the gauges on one page need different titles.
pub(crate) fn gauge_svg(title: &str, used: f64, limit: Option<f64>, label: &str) -> String {
    let (id, title, label) = (format!("gauge-{:08x}", fnv(title)), esc(title), esc(label));
    let (used, track) = (clean(used), GAUGE_WIDTH - 1.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {GAUGE_WIDTH} 44\" role=\"img\" \
         aria-labelledby=\"{id}-t {id}-l\" class=\"gauge\"><title id=\"{id}-t\">{title}</title>\
         <rect class=\"gauge-track\" x=\"0.5\" y=\"0.5\" width=\"{track}\" height=\"15\" rx=\"4\"/>"
    );
    if let Some(l) = limit.filter(|l| !l.is_nan()) {
        let r = if l > 0.0 { used / l } else { f64::INFINITY };
        let class = match r {
            r if r >= 1.0 => "gauge-over",
            r if r >= 0.8 => "gauge-warn",
            _ => "gauge-ok",
        };
        let width = num(r.clamp(0.0, 1.0) * track);
        let _ = write!(
            out,
            r#"<rect class="gauge-fill {class}" x="0.5" y="0.5" width="{width}" height="15" rx="4"/>"#
        );
    }
    let _ = write!(
        out,
        r#"<text id="{id}-l" class="chart-label gauge-label" x="0" y="36">{label}</text></svg>"#
    );
    out
}

/// 0, then up to 5 equal steps of 1, 2 or 5 × 10ⁿ, the last reaching `max`; `[0]` for no data.
fn nice_ticks(max: f64) -> Vec<f64> {
    if max.is_nan() || max <= 0.0 {
        return vec![0.0];
    }
    let max = max.clamp(1e-300, 1e300);
    let mut exp = max.log10().floor() as i32 - 1;
    loop {
        for m in [1.0, 2.0, 5.0] {
            let steps = (max / exact(m, exp) - 1e-9).ceil().max(1.0);
            if steps <= 5.0 {
                return (0..=steps as u32)
                    .map(|i| exact(f64::from(i) * m, exp))
                    .collect();
            }
        }
        exp += 1;
    }
}

/// m × 10^e, dividing for negative e so that 3 × 0.2 comes out as 0.6, not 0.6000000000000001.
fn exact(m: f64, e: i32) -> f64 {
    let p = 10f64.powi(e.abs());
    if e < 0 { m / p } else { m * p }
}

/// Usage is never negative; NaN and infinities would poison every coordinate.
fn clean(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(0.0, 1e300)
    } else {
        0.0
    }
}

fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A coordinate with at most one decimal: `12`, `12.5`.
fn num(v: f64) -> String {
    let mut s = format!("{:.1}", v + 0.0);
    if s.ends_with(".0") {
        s.truncate(s.len() - 2);
    }
    s
}

/// Text for XML content and attribute values. Control characters XML 1.0 cannot carry are dropped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// FNV-1a, for element ids that stay the same between renders of the same title.
fn fnv(text: &str) -> u32 {
    let mut h = 0x811c_9dc5_u32;
    for b in text.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChartKind::{Lines, StackedBars};

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("d{i}")).collect()
    }

    fn series(name: &str, values: &[f64]) -> Series {
        let (name, values) = (name.to_owned(), values.to_vec());
        Series { name, values }
    }

    fn chart<'a>(labels: &'a [String], series: &'a [Series], kind: ChartKind) -> Chart<'a> {
        let (title, description) = ("Spend", "Spend per day");
        let format_value = |v: f64| format!("${v:.2}");
        Chart {
            title,
            description,
            labels,
            series,
            kind,
            format_value,
        }
    }

    fn svg(labels: &[String], series: &[Series], kind: ChartKind) -> String {
        chart(labels, series, kind).to_svg()
    }

    /// Balanced or self-closed tags, even quotes inside tags, and no `&` but our entities.
    fn well_formed(doc: &str) -> bool {
        let entities = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];
        let stray = |(i, _)| !entities.iter().any(|e| doc[i..].starts_with(e));
        let (mut open, mut rest) = (Vec::new(), doc);
        while let Some(start) = rest.find('<') {
            let Some(len) = rest[start..].find('>') else {
                return false;
            };
            let tag = &rest[start + 1..start + len];
            rest = &rest[start + len + 1..];
            if tag.contains('<') || tag.matches('"').count() % 2 == 1 {
                return false;
            } else if let Some(name) = tag.strip_prefix('/') {
                if open.pop() != Some(name) {
                    return false;
                }
            } else if !tag.ends_with('/') {
                open.push(tag.split(' ').next().unwrap_or(tag));
            }
        }
        open.is_empty() && !rest.contains('>') && !doc.match_indices('&').any(stray)
    }

    fn sane(doc: &str) {
        assert!(
            doc.starts_with("<svg ") && doc.ends_with("</svg>") && well_formed(doc),
            "{doc}"
        );
        for bad in ["NaN", "inf", "style=", "#", "=\"-"] {
            assert!(!doc.contains(bad), "{bad} in {doc}");
        }
    }

    /// The values of one numeric attribute, in document order.
    fn attrs(doc: &str, name: &str) -> Vec<f64> {
        let key = format!(" {name}=\"");
        let value = |t: &str| t[..t.find('"').unwrap()].parse().unwrap();
        doc.split(&key).skip(1).map(value).collect()
    }

    #[test]
    fn hostile_text_is_escaped() {
        let evil = "<script>alert(1)</script>\"&'";
        let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;";
        let labels = vec![evil.to_owned(), "ok".to_owned()];
        let series = [series(evil, &[1.0, 2.0]), series("b", &[0.5, 0.0])];
        for kind in [StackedBars, Lines] {
            let mut chart = chart(&labels, &series, kind);
            (chart.title, chart.description, chart.format_value) = (evil, evil, |_| "<b>&".into());
            let doc = chart.to_svg();
            assert!(
                well_formed(&doc) && !doc.contains("<script") && !doc.contains("<b>"),
                "{doc}"
            );
            assert_eq!(
                doc.matches(escaped).count(),
                2 + 2 + 3,
                "title, desc, tips, x label: {doc}"
            );
        }
        let legend = legend_html(&series);
        assert!(well_formed(&legend), "{legend}");
        let first = format!(
            r#"<ul class="chart-legend"><li><span class="swatch series-0"></span>{escaped}</li>"#
        );
        assert!(legend.starts_with(&first), "{legend}");
        let gauge = gauge_svg(evil, 1.0, Some(2.0), evil);
        assert!(
            well_formed(&gauge) && gauge.matches(escaped).count() == 2,
            "{gauge}"
        );
        assert_eq!(esc("a\u{0}b\u{7}c\nd"), "abc d");
        let broken = [
            "<g><rect></g>",
            "<text>a & b</text>",
            "<t a=\"\"\">x</t>",
            "<g>",
        ];
        assert!(broken.iter().all(|doc| !well_formed(doc)));
    }

    #[test]
    fn degenerate_data_never_yields_nan_or_inf() {
        let wild = [
            series("a", &[1e308, f64::NAN, f64::INFINITY, -5.0]),
            series("b", &[1e308, 1.0]),
        ];
        let cases: [(&str, Vec<String>, Vec<Series>); 6] = [
            (
                "all zero",
                labels(5),
                vec![series("a", &[0.0; 5]), series("b", &[])],
            ),
            ("no series", labels(5), vec![]),
            ("no buckets", labels(0), vec![series("a", &[])]),
            ("one bucket", labels(1), vec![series("a", &[3.0])]),
            ("huge and broken", labels(4), wild.into()),
            ("tiny", labels(3), vec![series("a", &[5e-324, 0.0, 1e-12])]),
        ];
        for (case, labels, series) in &cases {
            for kind in [StackedBars, Lines] {
                let doc = svg(labels, series, kind);
                sane(&doc);
                let empty = case.starts_with("all") || case.starts_with("no ");
                assert_eq!(
                    doc.contains(">No usage in this range</text>"),
                    empty,
                    "{case}: {doc}"
                );
                assert!(doc.contains(r#"<line class="chart-axis""#));
            }
        }
    }

    #[test]
    fn one_rect_per_nonzero_cell_each_with_a_tooltip() {
        let labels = vec!["Dec 1".to_owned(), "Dec 2".to_owned(), "Dec 3".to_owned()];
        let a = series("gpt-4o", &[0.12, 0.0, 3.0]);
        let data = [
            a,
            series("claude", &[0.0, 0.0, 1.0]),
            series("idle", &[0.0; 3]),
        ];
        let doc = svg(&labels, &data, StackedBars);
        sane(&doc);
        assert_eq!(doc.matches("<rect ").count(), 3);
        assert_eq!(doc.matches("</title></rect>").count(), 3);
        assert!(
            doc.contains("<title>Dec 1 · gpt-4o: $0.12</title></rect>"),
            "{doc}"
        );
        assert!(
            doc.contains(r#"<g class="series-1">"#) && !doc.contains("series-2"),
            "{doc}"
        );
    }

    #[test]
    fn the_tallest_stack_reaches_the_plot_top_when_its_total_is_nice() {
        let data = [series("a", &[3.0, 1.0, 0.5]), series("b", &[5.0, 0.0, 2.0])];
        let doc = svg(&labels(3), &data, StackedBars);
        sane(&doc);
        let (ys, hs) = (attrs(&doc, "y"), attrs(&doc, "height"));
        let ys: Vec<f64> = ys[..hs.len()].to_vec(); // rects come before any text
        assert_eq!(ys.iter().copied().fold(f64::MAX, f64::min), TOP);
        // a's three rects, then b's two; in bucket 0 b sits exactly on a, up to the plot top.
        assert_eq!((ys[0] + hs[0], ys[3]), (BOTTOM, TOP));
        assert!((ys[3] + hs[3] - ys[0]).abs() < 1e-9, "{doc}");
    }

    #[test]
    fn ticks_are_nice_numbers() {
        assert_eq!(nice_ticks(7.3), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(8.0), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(10.0), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.55), [0.0, 0.2, 0.4, 0.6]);
        assert_eq!(nice_ticks(123_456.0), [0.0, 50_000.0, 100_000.0, 150_000.0]);
        assert_eq!(
            (nice_ticks(0.0), nice_ticks(f64::NAN)),
            (vec![0.0], vec![0.0])
        );
        let mut max = 1e-6;
        while max < 1e12 {
            let t = nice_ticks(max);
            let ok = (5..=6).contains(&t.len()) || t.len() == 4;
            assert!(
                ok && t[t.len() - 1] >= max && t[t.len() - 2] < max,
                "{max}: {t:?}"
            );
            max *= 1.37;
        }
        let doc = svg(&labels(2), &[series("a", &[7.3, 1.0])], Lines);
        let ticks: Vec<&str> = doc
            .split("<text x=\"10\" y=\"")
            .skip(1)
            .map(|t| &t[t.find('>').unwrap() + 1..t.find('<').unwrap()])
            .collect();
        assert_eq!(ticks, ["$0.00", "$2.00", "$4.00", "$6.00", "$8.00"]);
    }

    #[test]
    fn many_buckets_thin_the_labels() {
        let x_labels = |doc: &str| doc[doc.find("chart-x").unwrap()..].matches("<text").count();
        let values: Vec<f64> = (0..366).map(|i| f64::from(i % 7)).collect();
        for kind in [StackedBars, Lines] {
            let doc = svg(&labels(366), &[series("a", &values)], kind);
            sane(&doc);
            assert!((6..=13).contains(&x_labels(&doc)), "{doc}");
            assert!(doc.contains(r#"text-anchor="start">d0<"#) && doc.contains("chart-minor"));
        }
        let doc = svg(&labels(5), &[series("a", &[1.0; 5])], Lines);
        assert_eq!((x_labels(&doc), doc.matches("<circle").count()), (5, 5));
        assert!(!doc.contains("chart-minor") && doc.contains(r#"<polyline points="70.4,24 "#));
    }

    #[test]
    fn svg_root_and_legend() {
        let doc = svg(&labels(2), &[series("a", &[1.0, 2.0])], StackedBars);
        let id = format!("chart-{:08x}", fnv("Spend"));
        assert!(doc.starts_with(&format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 240" role="img" aria-labelledby="{id}-t {id}-d" class="chart"><title id="{id}-t">Spend</title><desc id="{id}-d">Spend per day</desc>"#
        )));
        let nine: Vec<Series> = (0..9).map(|i| series(&format!("s{i}"), &[1.0])).collect();
        let legend = legend_html(&nine);
        assert!(legend.contains(
            r#"series-7"></span>s7</li><li><span class="swatch series-0"></span>s8</li></ul>"#
        ));
        assert_eq!(legend_html(&[]), "");
    }

    #[test]
    fn gauge_classes_follow_the_share_used() {
        let label = "12,345 of 100,000 tokens · 18 days left";
        let fill = |used: f64, limit: Option<f64>| {
            let doc = gauge_svg("Tokens this month", used, limit, label);
            sane(&doc);
            assert!(doc.contains(&format!(">{label}</text>")));
            let class = ["gauge-ok", "gauge-warn", "gauge-over"]
                .into_iter()
                .find(|c| doc.contains(c));
            class.map(|c| (c, attrs(&doc, "width")[1]))
        };
        assert_eq!(fill(79.0, Some(100.0)), Some(("gauge-ok", 252.0)));
        assert_eq!(fill(80.0, Some(100.0)), Some(("gauge-warn", 255.2)));
        assert_eq!(fill(100.0, Some(100.0)), Some(("gauge-over", 319.0)));
        assert_eq!(fill(150.0, Some(100.0)), Some(("gauge-over", 319.0)));
        assert_eq!(fill(0.0, Some(100.0)), Some(("gauge-ok", 0.0)));
        assert_eq!(fill(5.0, Some(0.0)), Some(("gauge-over", 319.0)));
        assert_eq!(fill(f64::NAN, Some(100.0)), Some(("gauge-ok", 0.0)));
        assert_eq!(
            (fill(500.0, None), fill(500.0, Some(f64::NAN))),
            (None, None)
        );
    }
}
