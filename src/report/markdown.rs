//! The `markdown` format: a PR comment or `$GITHUB_STEP_SUMMARY` section (GitHub-flavoured).
//!
//! Starts with a hidden marker, `<!-- perfcert:report -->`, so a workflow can find and update its
//! earlier comment instead of adding a new one.

use std::io::{self, Write};

use super::{
    Renderer, Report, delta_text, headline, limit_text, noteworthy, reference_text, slo_text, source_label,
    total_limit_text, total_text, value_text,
};
use crate::compare::{Status, Verdict};

pub struct Markdown;

/// The marker that starts every Markdown report.
pub const MARKER: &str = "<!-- perfcert:report -->";

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Waived => "⚠️",
        Status::NoBaseline => "➖",
        Status::Untracked => "·",
        Status::Inconclusive => "❔",
    }
}

/// Text safe inside a table cell: pipes escaped, newlines flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Inline code that survives any backticks in the text.
fn code(text: &str) -> String {
    let fence = if text.contains('`') { "``" } else { "`" };
    format!("{fence}{}{fence}", cell(text))
}

/// The rows as a table; with a reference, its value, the change since it and the cumulative
/// limit as three more columns.
fn write_rows(out: &mut dyn Write, rows: &[&crate::compare::Row], reference: bool) -> io::Result<()> {
    if reference {
        writeln!(
            out,
            "| Metric | Baseline | Current | Delta | Limit | Reference | Total | Total limit | SLO | Status |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---|---:|---:|---|---|---|")?;
    } else {
        writeln!(out, "| Metric | Baseline | Current | Delta | Limit | SLO | Status |")?;
        writeln!(out, "|---|---:|---:|---:|---|---|---|")?;
    }
    for r in rows {
        let mut cells =
            vec![code(&r.name), value_text(r.baseline, r), value_text(r.current, r), delta_text(r), limit_text(r)];
        if reference {
            cells.extend([reference_text(r), total_text(r), total_limit_text(r)]);
        }
        cells.extend([slo_text(r), format!("{} {}", icon(r.status), r.status.as_str())]);
        let cells: Vec<String> =
            cells.iter().enumerate().map(|(i, c)| if i == 0 { c.clone() } else { cell(c) }).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

impl Renderer for Markdown {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let c = report.comparison;
        let verdict_icon = match c.verdict {
            Verdict::Pass => "✅",
            Verdict::Fail => "❌",
            Verdict::Inconclusive => "❔",
        };
        writeln!(out, "{MARKER}")?;
        writeln!(out, "### {verdict_icon} perfcert {}", cell(&headline(c)))?;
        writeln!(out)?;
        writeln!(
            out,
            "Baseline {} · current {} · policy {}",
            code(&source_label(&report.baseline)),
            code(&source_label(&report.current)),
            code(report.thresholds_file)
        )?;
        if let Some(reference) = &report.reference {
            writeln!(out)?;
            writeln!(out, "Reference (cumulative limits) {}", code(&source_label(reference)))?;
        }
        if let Some(d) = report.decision {
            writeln!(out)?;
            writeln!(out, "Decision: {}", cell(&d.line()))?;
        }
        writeln!(out)?;
        let (gated, untracked): (Vec<_>, Vec<_>) = c.rows.iter().partition(|r| r.status != Status::Untracked);
        let with_reference = report.reference.is_some();
        write_rows(out, &gated, with_reference)?;
        if !untracked.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "<details><summary>{} untracked metrics (not in the policy, not gating)</summary>",
                untracked.len()
            )?;
            writeln!(out)?;
            write_rows(out, &untracked, with_reference)?;
            writeln!(out)?;
            writeln!(out, "</details>")?;
        }
        let notes: Vec<_> = c.rows.iter().filter(|r| noteworthy(r)).collect();
        if !notes.is_empty() {
            writeln!(out)?;
            for r in notes {
                writeln!(
                    out,
                    "- {} {} **{}**: {}",
                    icon(r.status),
                    code(&r.name),
                    r.status.as_str(),
                    cell(&r.reasons.join("; "))
                )?;
            }
        }
        if !c.warnings.is_empty() {
            writeln!(out)?;
            for w in &c.warnings {
                writeln!(out, "> **Warning:** {}", cell(w))?;
            }
        }
        Ok(())
    }
}
