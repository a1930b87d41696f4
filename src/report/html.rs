//! The `html` format: one self-contained page (inline CSS, inline SVG charts, no script, no
//! fetch of anything: a Content-Security-Policy forbids it) for one comparison: the current vs
//! baseline table and a chart of each metric's change with its limit. It also holds the page
//! shell and the metric table that `perfcert report`'s history page
//! ([`super::releases_html`]) shares, so both look the same on screen and on A4 paper.
//!
//! Every string that comes from a file (service, version, metric names, reasons, paths) is
//! escaped; a version `<script>` shows as text.

use std::io::{self, Write};

use super::chart::{self, DeltaBar};
use super::{Renderer, Report, delta_text, headline, limit_text, slo_text, source_label, value_text, xml_escape};
use crate::compare::{Row, Status};
use crate::numfmt::{diff_with_unit, pct, with_unit};
use crate::policy::Tolerance;

pub struct Html;

/// Text safe in HTML content and attribute values.
pub fn esc(text: &str) -> String {
    xml_escape(text)
}

/// Print-first styles: white paper, A4, no section split across pages where avoidable.
const CSS: &str = "\
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, 'DejaVu Sans', sans-serif; color: #222; background: #fff;
  margin: 24px auto; max-width: 760px; font-size: 13px; line-height: 1.4; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 22px 0 6px; border-bottom: 1px solid #ccc; padding-bottom: 2px;
  break-after: avoid; page-break-after: avoid; }
.meta { color: #444; margin: 2px 0; }
.note { border-left: 4px solid #b7791f; padding: 4px 10px; margin: 10px 0; background: #fff8e6; }
section { break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 11px; overflow-wrap: anywhere; }
td.name code, td.nowrap { white-space: nowrap; }
.PASS { color: #2e7d32; font-weight: bold; }
.FAIL { color: #c62828; font-weight: bold; }
.INCONCLUSIVE { color: #b7791f; font-weight: bold; }
.WAIVED { color: #1f5fa8; font-weight: bold; }
svg { max-width: 100%; height: auto; display: block; margin: 4px 0; }
footer { margin-top: 24px; color: #555; font-size: 11px; border-top: 1px solid #ccc; padding-top: 6px; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
";

/// A whole page: `title` in the tab, `body` (already HTML) inside.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"perfcert {}\">\n<title>{}</title>\n<style>\n{CSS}</style>\n\
         </head>\n<body>\n{body}</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    )
}

/// A status word, coloured by class (the word itself carries the meaning in greyscale).
pub fn status(s: &str) -> String {
    let class = if matches!(s, "PASS" | "FAIL" | "INCONCLUSIVE" | "WAIVED") { s } else { "other" };
    format!("<span class=\"{class}\">{}</span>", esc(s))
}

/// One metric as the table and the delta chart show it, whatever it was read from.
#[derive(Debug, Clone)]
pub struct MetricLine {
    pub name: String,
    pub baseline: String,
    pub current: String,
    pub delta: Option<f64>,
    pub delta_text: String,
    pub limit_text: String,
    pub slo_text: String,
    pub status: String,
    pub reasons: String,
    /// The allowed increase and decrease, relative to the baseline, for the chart.
    pub up: Option<f64>,
    pub down: Option<f64>,
}

impl MetricLine {
    /// A row of a comparison.
    pub fn of_row(r: &Row) -> MetricLine {
        let rel = |t: Option<Tolerance>| match t? {
            Tolerance::Relative(f) => Some(f),
            Tolerance::Absolute(a) => r.baseline.filter(|b| *b > 0.0).map(|b| a / b),
        };
        MetricLine {
            name: r.name.clone(),
            baseline: value_text(r.baseline, r),
            current: value_text(r.current, r),
            delta: r.delta,
            delta_text: delta_text(r),
            limit_text: limit_text(r),
            slo_text: slo_text(r),
            status: r.status.as_str().to_string(),
            reasons: r.reasons.join("; "),
            up: r.policy.as_ref().and_then(|p| rel(p.max_increase)),
            down: r.policy.as_ref().and_then(|p| rel(p.max_decrease)),
        }
    }

    /// A row as recorded in a certificate's `comparison` (the JSON report's `metrics`); `None`
    /// when it has no name.
    pub fn of_record(v: &serde_json::Value) -> Option<MetricLine> {
        let name = v.get("name")?.as_str()?.to_string();
        let unit = v.get("unit").and_then(|u| u.as_str());
        let number = |key: &str| v.get(key).and_then(serde_json::Value::as_f64).filter(|x| x.is_finite());
        let (baseline, current, delta, change) =
            (number("baseline"), number("current"), number("delta"), number("change"));
        let limits = v.get("limits").filter(|l| l.is_object());
        let limit = |key: &str| limits.and_then(|l| l.get(key));
        // A tolerance: "10%" (relative) or a number (absolute, in the unit).
        let tolerance = |key: &str| -> Option<Tolerance> {
            match limit(key)? {
                serde_json::Value::String(s) => {
                    s.trim().strip_suffix('%')?.trim().parse::<f64>().ok().map(|p| Tolerance::Relative(p / 100.0))
                }
                n => n.as_f64().map(Tolerance::Absolute),
            }
            .filter(|t| match t {
                Tolerance::Relative(x) | Tolerance::Absolute(x) => x.is_finite(),
            })
        };
        let (inc, dec) = (tolerance("max_increase"), tolerance("max_decrease"));
        let show = |t: Tolerance, sign: f64| match t {
            Tolerance::Relative(f) => pct(sign * f),
            Tolerance::Absolute(a) => diff_with_unit(sign * a, unit),
        };
        let limit_text = match (inc, dec) {
            (Some(i), Some(d)) => format!("{} / {}", show(i, 1.0), show(d, -1.0)),
            (Some(i), None) => show(i, 1.0),
            (None, Some(d)) => show(d, -1.0),
            (None, None) => "-".into(),
        };
        let bound = |key: &str| limit(key).and_then(serde_json::Value::as_f64).filter(|x| x.is_finite());
        let slo: Vec<String> = [
            bound("max").map(|m| format!("<= {}", with_unit(m, unit))),
            bound("min").map(|m| format!(">= {}", with_unit(m, unit))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let absolute = matches!(inc.or(dec), Some(Tolerance::Absolute(_)));
        let delta_text = match (absolute, change, delta) {
            (true, Some(c), _) => diff_with_unit(c, unit),
            (false, _, Some(d)) => pct(d),
            _ => "-".into(),
        };
        let rel = |t: Option<Tolerance>| match t? {
            Tolerance::Relative(f) => Some(f),
            Tolerance::Absolute(a) => baseline.filter(|b| *b > 0.0).map(|b| a / b),
        };
        let value = |x: Option<f64>| x.map(|x| with_unit(x, unit)).unwrap_or_else(|| "-".into());
        let reasons: Vec<&str> =
            v.get("reasons").and_then(|r| r.as_array()).into_iter().flatten().filter_map(|r| r.as_str()).collect();
        Some(MetricLine {
            name,
            baseline: value(baseline),
            current: value(current),
            delta,
            delta_text,
            limit_text,
            slo_text: if slo.is_empty() { "-".into() } else { slo.join(", ") },
            status: v.get("status").and_then(|s| s.as_str()).unwrap_or("").to_string(),
            reasons: reasons.join("; "),
            up: rel(inc),
            down: rel(dec),
        })
    }
}

/// The current vs baseline table, then the chart of each gated metric's change (untracked
/// metrics are in the table only, below the gated ones).
pub fn metrics_section(rows: &[MetricLine]) -> String {
    let mut s = String::from(
        "<table>\n<thead><tr><th>Metric</th><th>Baseline</th><th>Current</th><th>Change</th>\
         <th>Limit</th><th>SLO</th><th>Status</th><th>Why</th></tr></thead>\n<tbody>\n",
    );
    let (gated, untracked): (Vec<&MetricLine>, Vec<&MetricLine>) = rows.iter().partition(|r| r.status != "UNTRACKED");
    for r in gated.iter().chain(&untracked) {
        s.push_str(&format!(
            "<tr><td class=\"name\"><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&r.name),
            esc(&r.baseline),
            esc(&r.current),
            esc(&r.delta_text),
            esc(&r.limit_text),
            esc(&r.slo_text),
            status(&r.status),
            esc(&r.reasons)
        ));
    }
    s.push_str("</tbody>\n</table>\n");
    let bars: Vec<DeltaBar> = gated
        .iter()
        .filter(|r| r.delta.is_some_and(f64::is_finite))
        .map(|r| DeltaBar { name: r.name.clone(), delta: r.delta, up: r.up, down: r.down, status: r.status.clone() })
        .collect();
    s.push_str(
        "<p class=\"meta\">Change from the baseline, relative; the dashed red marks are the allowed change \
         (an absolute limit is shown relative to the baseline).</p>\n",
    );
    s.push_str(&chart::delta_bars(&bars));
    s.push('\n');
    s
}

impl Renderer for Html {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let c = report.comparison;
        let mut body = String::new();
        body.push_str(&format!("<h1>perfcert: {}</h1>\n", status(c.verdict.as_str())));
        body.push_str(&format!("<p class=\"meta\"><strong>{}</strong></p>\n", esc(&headline(c))));
        body.push_str(&format!(
            "<p class=\"meta\">Baseline: <code>{}</code><br>Current: <code>{}</code><br>Policy: <code>{}</code><br>\
             Waivers judged as of {}</p>\n",
            esc(&source_label(&report.baseline)),
            esc(&source_label(&report.current)),
            esc(report.thresholds_file),
            esc(&c.as_of.to_string())
        ));
        if let Some(d) = report.decision {
            body.push_str(&format!("<p class=\"meta\">Decision: {}</p>\n", esc(&d.line())));
        }
        body.push_str("<section>\n<h2>Current vs baseline</h2>\n");
        let rows: Vec<MetricLine> = c.rows.iter().map(MetricLine::of_row).collect();
        body.push_str(&metrics_section(&rows));
        body.push_str("</section>\n");
        if !c.warnings.is_empty() {
            body.push_str("<section>\n<h2>Warnings</h2>\n<ul>\n");
            for w in &c.warnings {
                body.push_str(&format!("<li>{}</li>\n", esc(w)));
            }
            body.push_str("</ul>\n</section>\n");
        }
        let untracked = c.rows.iter().filter(|r| r.status == Status::Untracked).count();
        body.push_str(&format!(
            "<footer>perfcert {}: one comparison{}. A report, not a certificate: nothing here is signed.</footer>\n",
            env!("CARGO_PKG_VERSION"),
            if untracked > 0 {
                format!("; {untracked} untracked metric(s) shown but not gating")
            } else {
                String::new()
            }
        ));
        out.write_all(page(&format!("perfcert {}", headline(c)), &body).as_bytes())
    }
}
