//! Renderers: one file per output format, each behind [`Renderer`], writing to a writer it is
//! given. They format a finished [`Comparison`]; they decide nothing.

pub mod chart;
mod columns;
pub mod history;
pub mod html;
pub mod json;
mod junit;
mod markdown;
pub mod releases_html;
mod table;

use std::io::{self, Write};

use crate::compare::{Comparison, Row, Status};
use crate::model::RunResults;
use crate::numfmt::{diff_with_unit, pct, with_unit};
use crate::policy::Tolerance;

pub use columns::columns;
pub use html::Html;
pub use json::Json;
pub use junit::Junit;
pub use markdown::Markdown;
pub use table::Table;

/// The output formats, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Junit,
    Html,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Table, Format::Json, Format::Markdown, Format::Junit, Format::Html];

    /// The name flags take.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
            Format::Html => "html",
        }
    }

    /// What it is, for help.
    pub fn help(self) -> &'static str {
        match self {
            Format::Table => "Aligned columns for people (colour on a terminal)",
            Format::Json => "Stable machine-readable JSON (schemas/report.schema.json)",
            Format::Markdown => "GitHub-flavoured Markdown, for a PR comment or $GITHUB_STEP_SUMMARY",
            Format::Junit => "JUnit XML, one test case per metric",
            Format::Html => "A self-contained HTML page (inline CSS and SVG charts) that prints on A4",
        }
    }

    pub fn renderer(self, color: bool) -> Box<dyn Renderer> {
        match self {
            Format::Table => Box::new(Table { color }),
            Format::Json => Box::new(Json),
            Format::Markdown => Box::new(Markdown),
            Format::Junit => Box::new(Junit),
            Format::Html => Box::new(Html),
        }
    }
}

/// One input file as reports show it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub file: &'a str,
    pub results: &'a RunResults,
    /// How many runs the side has; `results` is their summary when more than one.
    pub runs: usize,
}

/// Everything a report shows: the comparison and where its inputs came from.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub comparison: &'a Comparison,
    pub baseline: Source<'a>,
    pub current: Source<'a>,
    pub thresholds_file: &'a str,
    /// How a statistical verdict was reached, with the look; `None` under the threshold method.
    pub decision: Option<&'a crate::record::Decision>,
    /// `--reference`: what the cumulative limits judged against; `None` without one.
    pub reference: Option<Source<'a>>,
}

pub trait Renderer {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// "FAIL: 1 of 6 gated metrics failed (1 waived, 2 untracked)".
pub fn headline(c: &Comparison) -> String {
    let s = c.summary();
    let mut extras = vec![];
    if s.waived > 0 {
        extras.push(format!("{} waived", s.waived));
    }
    if s.no_baseline > 0 {
        extras.push(format!("{} without baseline", s.no_baseline));
    }
    if s.untracked > 0 {
        extras.push(format!("{} untracked", s.untracked));
    }
    let extras = if extras.is_empty() { String::new() } else { format!(" ({})", extras.join(", ")) };
    let plural = if s.gated == 1 { "" } else { "s" };
    match c.verdict {
        crate::compare::Verdict::Pass => {
            format!("PASS: {} gated metric{plural} within limits{extras}", s.gated)
        }
        crate::compare::Verdict::Fail => {
            format!("FAIL: {} of {} gated metric{plural} failed{extras}", s.failed, s.gated)
        }
        crate::compare::Verdict::Inconclusive => {
            let advice = match c.runs_needed {
                Some(n) if c.duet => format!("; {n} more duet runs would settle it"),
                Some(n) => format!("; {n} more runs per side would settle it"),
                None => "; the reasons say what would settle it".into(),
            };
            format!(
                "INCONCLUSIVE: {} of {} gated metric{plural} could not be settled{extras}{advice}",
                s.inconclusive, s.gated
            )
        }
    }
}

/// The change shown in a report: absolute when the metric's limit is absolute, else relative.
pub fn delta_text(row: &Row) -> String {
    let absolute =
        row.policy.as_ref().is_some_and(|p| matches!(p.max_increase.or(p.max_decrease), Some(Tolerance::Absolute(_))));
    match (absolute, row.change, row.delta) {
        (true, Some(change), _) => diff_with_unit(change, row.unit.as_deref()),
        (false, _, Some(delta)) => pct(delta),
        _ => "-".into(),
    }
}

/// The tolerance: `+10%`, `-5%`, `±5%`, `+0.2 pp`, or `-`.
pub fn limit_text(row: &Row) -> String {
    let Some(p) = &row.policy else { return "-".into() };
    tolerance_text(p.max_increase, p.max_decrease, row.unit.as_deref())
}

/// The cumulative limits against the reference, as [`limit_text`].
pub fn total_limit_text(row: &Row) -> String {
    let Some(p) = &row.policy else { return "-".into() };
    tolerance_text(p.max_total_increase, p.max_total_decrease, row.unit.as_deref())
}

/// The reference's value of a row, or `-`.
pub fn reference_text(row: &Row) -> String {
    value_text(row.reference.as_ref().and_then(|v| v.value), row)
}

/// The cumulative change since the reference: absolute when the cumulative limit is, else
/// relative; `-` without a reference value.
pub fn total_text(row: &Row) -> String {
    let Some(v) = &row.reference else { return "-".into() };
    let absolute = row
        .policy
        .as_ref()
        .is_some_and(|p| matches!(p.max_total_increase.or(p.max_total_decrease), Some(Tolerance::Absolute(_))));
    match (absolute, v.change, v.delta) {
        (true, Some(change), _) => diff_with_unit(change, row.unit.as_deref()),
        (false, _, Some(delta)) => pct(delta),
        _ => "-".into(),
    }
}

fn tolerance_text(increase: Option<Tolerance>, decrease: Option<Tolerance>, unit: Option<&str>) -> String {
    let show = |t: Tolerance, sign: f64| match t {
        Tolerance::Relative(f) => pct(sign * f),
        Tolerance::Absolute(a) => diff_with_unit(sign * a, unit),
    };
    match (increase, decrease) {
        (Some(Tolerance::Relative(a)), Some(Tolerance::Relative(b))) if a == b => {
            format!("±{}", &pct(a)[1..])
        }
        (Some(i), Some(d)) => format!("{} / {}", show(i, 1.0), show(d, -1.0)),
        (Some(i), None) => show(i, 1.0),
        (None, Some(d)) => show(d, -1.0),
        (None, None) => "-".into(),
    }
}

/// The SLO: `<= 300 ms`, `>= 10000 req/min`, both joined, or `-`.
pub fn slo_text(row: &Row) -> String {
    let Some(p) = &row.policy else { return "-".into() };
    let unit = row.unit.as_deref();
    let parts: Vec<String> =
        [p.max.map(|m| format!("<= {}", with_unit(m, unit))), p.min.map(|m| format!(">= {}", with_unit(m, unit)))]
            .into_iter()
            .flatten()
            .collect();
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

/// A value in its unit, or `-` when absent.
pub fn value_text(v: Option<f64>, row: &Row) -> String {
    v.map(|v| with_unit(v, row.unit.as_deref())).unwrap_or_else(|| "-".into())
}

/// Rows whose reasons a reader needs to see: anything but a plain PASS or UNTRACKED.
pub fn noteworthy(row: &Row) -> bool {
    matches!(row.status, Status::Fail | Status::Waived | Status::NoBaseline | Status::Inconclusive)
}

/// `file (service version (commit))` or just `file`; with several runs, how many and which
/// means the values are.
pub fn source_label(s: &Source) -> String {
    let mut notes: Vec<String> = s.results.label().into_iter().collect();
    notes.extend(s.results.provenance.as_ref().map(crate::model::Provenance::label));
    if s.runs > 1 {
        notes.push(format!(
            "{} runs: values are geometric means for relative limits, arithmetic means for absolute limits and SLOs",
            s.runs
        ));
    }
    if notes.is_empty() { s.file.to_string() } else { format!("{} ({})", s.file, notes.join("; ")) }
}

/// Escapes text for XML attributes and content.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
