//! Charts for the HTML reports, as inline SVG written by hand (like [`crate::badge`]): no
//! script, no font files, no network; the same input gives the same bytes, so a page can be
//! snapshot-tested and prints exactly as it shows. Pure: numbers in, SVG text out.
//!
//! Three shapes cover the reports: [`delta_bars`] (each metric's change from its baseline,
//! with its limit), [`status_bars`] (how often each metric passed or failed), and [`lines`]
//! (values per release, with an optional limit line). Colour is never the only carrier: every
//! bar and point is labelled with its value or count, and limits are dashed.
//!
//! Non-finite values are left out, never drawn; coordinates have one decimal.

use crate::numfmt::{num, pct};
use crate::report::xml_escape as esc;

/// Colours that read on white paper and in greyscale.
pub const GREEN: &str = "#2e7d32";
pub const RED: &str = "#c62828";
pub const AMBER: &str = "#b7791f";
pub const BLUE: &str = "#1f5fa8";
pub const GREY: &str = "#8a8a8a";
const INK: &str = "#222";
const RULE: &str = "#d0d0d0";

/// Width of every chart, in CSS pixels (scaled down to fit the page by CSS).
pub const WIDTH: f64 = 720.0;
const FONT: &str = "font-family=\"Helvetica,Arial,DejaVu Sans,sans-serif\"";

/// The colour of a metric status.
pub fn status_color(status: &str) -> &'static str {
    match status {
        "PASS" => GREEN,
        "FAIL" => RED,
        "INCONCLUSIVE" => AMBER,
        "WAIVED" => BLUE,
        _ => GREY,
    }
}

/// One coordinate, one decimal, no `-0.0`.
fn c(v: f64) -> String {
    // A coordinate past any page (a value near f64::MAX on a finite axis) is drawn at the edge
    // of a huge canvas rather than as `inf` or `NaN`, which no SVG reader accepts.
    let v = if v.is_nan() { 0.0 } else { v.clamp(-1e6, 1e6) };
    let s = format!("{:.1}", v);
    if s == "-0.0" { "0.0".into() } else { s }
}

/// One bar of [`delta_bars`].
#[derive(Debug, Clone)]
pub struct DeltaBar {
    pub name: String,
    /// Relative change from the baseline (`0.05` = +5%).
    pub delta: Option<f64>,
    /// The allowed increase, relative (`0.10`), drawn as a dashed mark on the right.
    pub up: Option<f64>,
    /// The allowed decrease, relative and positive (`0.05` = -5%), drawn on the left.
    pub down: Option<f64>,
    pub status: String,
}

/// Horizontal bars of each metric's change from its baseline, around a zero line, with the
/// allowed change as dashed marks. A bar past its limit is red whatever the status says, and
/// the label gives the change and the status in words.
pub fn delta_bars(bars: &[DeltaBar]) -> String {
    const ROW: f64 = 26.0;
    const LABEL: f64 = 220.0;
    const RIGHT: f64 = 130.0;
    const TOP: f64 = 24.0;
    let fin = |x: Option<f64>| x.filter(|v| v.is_finite());
    // The scale fits the changes, and the limits near them: a limit far past every change (an
    // absolute +0.2 pp on a 0.15% error rate is +133%) would squeeze every bar to a sliver, so it
    // is drawn at the edge with its value written beside it.
    let changes = bars.iter().filter_map(|b| fin(b.delta)).map(f64::abs).fold(0.05_f64, f64::max);
    let near = (3.0 * changes).max(0.25);
    let extent = bars
        .iter()
        .flat_map(|b| [fin(b.up), fin(b.down)])
        .flatten()
        .map(f64::abs)
        .filter(|l| *l <= near)
        .fold(changes, f64::max)
        * 1.1;
    // Rounded up to 1, 2, 2.5 or 5 x 10^k, so the scale reads -20%, -10%, 0, +10%, +20%.
    let mag = 10f64.powf(extent.log10().floor());
    let extent = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|e| *e >= extent).unwrap_or(10.0 * mag);
    let plot = WIDTH - LABEL - RIGHT;
    let zero = LABEL + plot / 2.0;
    let x = |f: f64| zero + (f / extent).clamp(-1.0, 1.0) * plot / 2.0;
    let height = TOP + ROW * bars.len().max(1) as f64 + 22.0;
    let mut s = open(height, "Change of each metric from its baseline, with its allowed change dashed");
    // Scale: -extent, 0, +extent.
    let bottom = TOP + ROW * bars.len().max(1) as f64;
    for f in [-extent, -extent / 2.0, 0.0, extent / 2.0, extent] {
        let stroke = if f == 0.0 { INK } else { RULE };
        s.push_str(&format!(
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"1\"/>",
            c(TOP - 6.0),
            c(bottom),
            x = c(x(f))
        ));
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\" text-anchor=\"middle\">{}</text>",
            c(x(f)),
            c(bottom + 15.0),
            esc(&if f == 0.0 { "0".to_string() } else { pct(f) })
        ));
    }
    if bars.is_empty() {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\">no metric has a baseline</text>",
            c(LABEL),
            c(TOP + 16.0)
        ));
    }
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let mid = y + ROW / 2.0;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\" text-anchor=\"end\">{}</text>",
            c(LABEL - 8.0),
            c(mid + 4.0),
            esc(&b.name)
        ));
        let over = match fin(b.delta) {
            Some(d) => fin(b.up).is_some_and(|u| d > u) || fin(b.down).is_some_and(|l| d < -l),
            None => false,
        };
        let fill = if over { RED } else { status_color(&b.status) };
        let label = match fin(b.delta) {
            Some(d) => {
                let (x0, x1) = (x(0.0), x(d));
                s.push_str(&format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" fill-opacity=\"0.85\"/>",
                    c(x0.min(x1)),
                    c(y + 6.0),
                    c((x1 - x0).abs().max(1.0)),
                    c(ROW - 12.0)
                ));
                format!("{} {}", pct(d), b.status)
            }
            None => format!("- {}", b.status),
        };
        for (limit, sign) in [(fin(b.up), 1.0), (fin(b.down), -1.0)] {
            let Some(l) = limit else { continue };
            s.push_str(&format!(
                "<line x1=\"{lx}\" y1=\"{}\" x2=\"{lx}\" y2=\"{}\" stroke=\"{RED}\" stroke-width=\"2\" \
                 stroke-dasharray=\"3,2\"><title>limit {}</title></line>",
                c(y + 2.0),
                c(y + ROW - 2.0),
                esc(&pct(sign * l)),
                lx = c(x(sign * l))
            ));
            if l > extent {
                s.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" font-size=\"9\" fill=\"{RED}\" text-anchor=\"{}\">{}</text>",
                    c(x(sign * l) - sign * 4.0),
                    c(y + 9.0),
                    if sign > 0.0 { "end" } else { "start" },
                    esc(&pct(sign * l))
                ));
            }
        }
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{}</text>",
            c(WIDTH - RIGHT + 8.0),
            c(mid + 4.0),
            esc(&label)
        ));
    }
    s.push_str("</svg>");
    s
}

/// One metric's statuses, for [`status_bars`].
#[derive(Debug, Clone)]
pub struct StatusCounts {
    pub name: String,
    /// (status, count) in drawing order; zero counts are skipped.
    pub counts: Vec<(&'static str, u32)>,
}

/// Stacked horizontal bars: per metric, how many releases it passed, failed, ... The scale is
/// the number of releases, so bars of metrics judged in fewer releases are shorter.
pub fn status_bars(rows: &[StatusCounts], releases: usize) -> String {
    const ROW: f64 = 24.0;
    const LABEL: f64 = 220.0;
    const RIGHT: f64 = 150.0;
    const TOP: f64 = 10.0;
    let most = rows.iter().map(|r| r.counts.iter().map(|(_, n)| *n).sum::<u32>()).max().unwrap_or(0);
    let scale = (releases as f64).max(f64::from(most)).max(1.0);
    let plot = WIDTH - LABEL - RIGHT;
    let legend_y = TOP + ROW * rows.len().max(1) as f64 + 10.0;
    let height = legend_y + 18.0;
    let mut s = open(height, "Statuses of each metric over the releases shown");
    if rows.is_empty() {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\">no metric was judged</text>",
            c(LABEL),
            c(TOP + 16.0)
        ));
    }
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\" text-anchor=\"end\">{}</text>",
            c(LABEL - 8.0),
            c(y + ROW / 2.0 + 4.0),
            esc(&r.name)
        ));
        let mut at = LABEL;
        let mut words = vec![];
        for &(status, n) in &r.counts {
            if n == 0 {
                continue;
            }
            let w = plot * f64::from(n) / scale;
            s.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1\"/>",
                c(at),
                c(y + 4.0),
                c(w),
                c(ROW - 8.0),
                status_color(status)
            ));
            if w >= 18.0 {
                s.push_str(&format!(
                    "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#fff\" text-anchor=\"middle\">{n}</text>",
                    c(at + w / 2.0),
                    c(y + ROW / 2.0 + 4.0)
                ));
            }
            at += w;
            words.push(format!("{n} {}", status.to_lowercase()));
        }
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{}</text>",
            c(WIDTH - RIGHT + 8.0),
            c(y + ROW / 2.0 + 4.0),
            esc(&words.join(", "))
        ));
    }
    let mut lx = LABEL;
    for status in ["PASS", "FAIL", "INCONCLUSIVE", "WAIVED", "OTHER"] {
        s.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{status}</text>",
            c(lx),
            c(legend_y),
            status_color(status),
            c(lx + 14.0),
            c(legend_y + 9.0)
        ));
        lx += 14.0 + 8.0 * status.len() as f64 + 14.0;
    }
    s.push_str("</svg>");
    s
}

/// One line of [`lines`].
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// One value per x label; `None` (or non-finite) leaves a gap.
    pub values: Vec<Option<f64>>,
    pub color: &'static str,
    /// Dashed, without value labels: a limit that moves with the release.
    pub dashed: bool,
}

/// A line chart over releases (x: the labels, oldest left), with a horizontal dashed limit
/// line when one is known. Every solid point is labelled with its value; the y axis starts at
/// zero, so a small change does not look like a large one.
pub fn lines(labels: &[String], series: &[Series], limit: Option<(f64, String)>, unit: Option<&str>) -> String {
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 14.0;
    const PLOT_H: f64 = 170.0;
    let values = || series.iter().flat_map(|s| s.values.iter().flatten().copied()).filter(|v| v.is_finite());
    let limit = limit.filter(|(v, _)| v.is_finite());
    let top_value = values().chain(limit.as_ref().map(|(v, _)| *v)).fold(0.0_f64, f64::max);
    let bottom_value = values().fold(0.0_f64, f64::min);
    let (lo, hi) = nice_range(bottom_value, top_value);
    let plot_w = WIDTH - LEFT - RIGHT;
    let n = labels.len().max(1);
    let x = |i: usize| LEFT + plot_w * (i as f64 + 0.5) / n as f64;
    let y = |v: f64| TOP + PLOT_H * (1.0 - (v - lo) / (hi - lo));
    let axis_y = TOP + PLOT_H;
    let legend_y = axis_y + 40.0;
    let height = legend_y + 16.0;
    let mut s = open(height, "Values per release");
    // Grid and y labels: five steps.
    for k in 0..=4 {
        let v = lo + (hi - lo) * (f64::from(k) / 4.0);
        s.push_str(&format!(
            "<line x1=\"{}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"{}\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\" text-anchor=\"end\">{}</text>",
            c(LEFT),
            c(WIDTH - RIGHT),
            if k == 0 { INK } else { RULE },
            c(LEFT - 6.0),
            c(y(v) + 4.0),
            esc(&num(round_tick(v))),
            yy = c(y(v))
        ));
    }
    if let Some(u) = unit {
        s.push_str(&format!("<text x=\"4\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{}</text>", c(TOP + 4.0), esc(u)));
    }
    for (i, l) in labels.iter().enumerate() {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\" text-anchor=\"middle\">{}</text>",
            c(x(i)),
            c(axis_y + 16.0),
            esc(l)
        ));
    }
    if labels.is_empty() {
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{INK}\">no values</text>",
            c(LEFT + 10.0),
            c(TOP + 20.0)
        ));
    }
    if let Some((v, label)) = &limit {
        s.push_str(&format!(
            "<line x1=\"{}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"{RED}\" stroke-width=\"2\" stroke-dasharray=\"6,4\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{RED}\" text-anchor=\"end\">{}</text>",
            c(LEFT),
            c(WIDTH - RIGHT),
            c(WIDTH - RIGHT - 2.0),
            c(y(*v) - 4.0),
            esc(label),
            yy = c(y(*v))
        ));
    }
    for sr in series {
        let dash = if sr.dashed { " stroke-dasharray=\"4,3\"" } else { "" };
        // Segments between consecutive known points; a gap breaks the line.
        let mut run: Vec<String> = vec![];
        let flush = |run: &mut Vec<String>, s: &mut String| {
            if run.len() > 1 {
                s.push_str(&format!(
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
                    run.join(" "),
                    sr.color
                ));
            }
            run.clear();
        };
        for (i, v) in sr.values.iter().enumerate().take(labels.len()) {
            match v.filter(|v| v.is_finite()) {
                Some(v) => run.push(format!("{},{}", c(x(i)), c(y(v)))),
                None => flush(&mut run, &mut s),
            }
        }
        flush(&mut run, &mut s);
        if sr.dashed {
            continue;
        }
        for (i, v) in sr.values.iter().enumerate().take(labels.len()) {
            let Some(v) = v.filter(|v| v.is_finite()) else { continue };
            s.push_str(&format!(
                "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\" text-anchor=\"middle\">{}</text>",
                c(x(i)),
                c(y(v)),
                sr.color,
                c(x(i)),
                c(y(v) - 8.0),
                esc(&num(v))
            ));
        }
    }
    // Legend: each series, then the limit.
    let mut lx = LEFT;
    for sr in series {
        let dash = if sr.dashed { " stroke-dasharray=\"4,3\"" } else { "" };
        s.push_str(&format!(
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{}</text>",
            c(lx),
            c(lx + 18.0),
            sr.color,
            c(lx + 22.0),
            c(legend_y + 4.0),
            esc(&sr.name),
            ly = c(legend_y)
        ));
        lx += 22.0 + 6.5 * sr.name.chars().count() as f64 + 16.0;
    }
    if let Some((_, label)) = &limit {
        s.push_str(&format!(
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{RED}\" stroke-width=\"2\" stroke-dasharray=\"6,4\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{}</text>",
            c(lx),
            c(lx + 18.0),
            c(lx + 22.0),
            c(legend_y + 4.0),
            esc(label),
            ly = c(legend_y)
        ));
    }
    s.push_str("</svg>");
    s
}

/// An axis from `lo` to `hi` (both including zero) in four equal steps of a round size
/// (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 or 8 x 10^k), so every grid line has a round value.
fn nice_range(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return (0.0, 1.0);
    }
    let mut mag = 10f64.powf((span / 4.0).log10().floor());
    loop {
        for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5, 8.0] {
            let step = m * mag;
            let bottom = (lo / step).floor() * step;
            if bottom + 4.0 * step >= hi {
                let top = bottom + 4.0 * step;
                // Values near f64::MAX: no round axis fits; the values' own range does.
                return if top.is_finite() && bottom.is_finite() { (bottom, top) } else { (lo, hi) };
            }
        }
        mag *= 10.0;
    }
}

/// A tick value without floating-point dust (0.30000000000000004 -> 0.3).
fn round_tick(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let digits = 6 - v.abs().log10().floor() as i32;
    let f = 10f64.powi(digits.clamp(0, 12));
    (v * f).round() / f
}

fn open(height: f64, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         role=\"img\" aria-label=\"{label}\" {FONT}>",
        w = c(WIDTH),
        h = c(height),
        label = esc(label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_names_and_draw_nothing_for_non_finite_values() {
        let bar = DeltaBar {
            name: "<script>alert(1)</script>".into(),
            delta: Some(f64::NAN),
            up: Some(f64::INFINITY),
            down: None,
            status: "PASS".into(),
        };
        let svg = delta_bars(&[bar]);
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"), "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(!svg.contains("<rect"), "no bar for a NaN change: {svg}");

        let series = Series {
            name: "p95 <b>".into(),
            values: vec![Some(1.0), Some(f64::NAN), Some(3.0)],
            color: BLUE,
            dashed: false,
        };
        let labels: Vec<String> = ["v1", "v2", "</svg>"].iter().map(|s| s.to_string()).collect();
        let svg = lines(&labels, &[series], Some((f64::NAN, "limit".into())), Some("ms"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert_eq!(svg.matches("</svg>").count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2, "the NaN point is a gap: {svg}");
        assert!(!svg.contains("<polyline"), "a gap breaks the line into single points: {svg}");

        // Values near f64::MAX: the axis and its grid stay finite (the grid once overflowed).
        let huge = Series { name: "p95".into(), values: vec![Some(1e308), Some(1.0)], color: BLUE, dashed: false };
        let svg = lines(&labels[..2], &[huge], Some((1.7e308, "limit".into())), None);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn a_limit_far_past_every_change_does_not_set_the_scale() {
        let bars = [
            DeltaBar { name: "p95".into(), delta: Some(0.03), up: Some(0.1), down: None, status: "PASS".into() },
            DeltaBar { name: "errors".into(), delta: Some(0.02), up: Some(1.33), down: None, status: "PASS".into() },
        ];
        let svg = delta_bars(&bars);
        assert!(svg.contains(">+20%<") && !svg.contains(">+200%<"), "the scale fits the changes: {svg}");
        assert!(svg.contains(">+133%<"), "the far limit is written at the edge: {svg}");
    }

    #[test]
    fn bars_past_their_limit_are_red_and_limits_are_drawn() {
        let bars = [
            DeltaBar { name: "a".into(), delta: Some(0.2), up: Some(0.1), down: None, status: "WAIVED".into() },
            DeltaBar { name: "b".into(), delta: Some(-0.02), up: Some(0.1), down: Some(0.05), status: "PASS".into() },
        ];
        let svg = delta_bars(&bars);
        let rects: Vec<&str> = svg.split("<rect").skip(1).collect();
        assert!(rects[0].contains(RED), "over its limit: {}", rects[0]);
        assert!(rects[1].contains(GREEN), "{}", rects[1]);
        assert_eq!(svg.matches("stroke-dasharray").count(), 3, "three limit marks: {svg}");
        assert!(svg.contains("+20% WAIVED"), "{svg}");
        assert_eq!(delta_bars(&bars), svg, "deterministic");
    }

    #[test]
    fn the_axis_includes_zero_and_the_limit() {
        assert_eq!(nice_range(0.0, 212.4), (0.0, 240.0));
        assert_eq!(nice_range(0.0, 300.0), (0.0, 300.0));
        assert_eq!(nice_range(0.0, 0.0), (0.0, 1.0));
        assert_eq!(nice_range(0.0, 1e308), (0.0, 1e308), "no round axis past f64::MAX");
        assert_eq!(c(f64::INFINITY), "1000000.0");
        assert_eq!(c(f64::NAN), "0.0");
        let (lo, hi) = nice_range(0.0, 0.0049);
        assert!(lo == 0.0 && (0.0049..0.01).contains(&hi), "{hi}");
        let svg = lines(&["v1".into()], &[], Some((300.0, "SLO 300 ms".into())), None);
        assert!(svg.contains("SLO 300 ms"), "{svg}");
    }
}
