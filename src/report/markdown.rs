//! The `markdown` format: a PR comment or `$GITHUB_STEP_SUMMARY` section (GitHub-flavoured).
//!
//! Starts with a hidden marker, `<!-- perfcert:report -->`, so a workflow can find and update its
//! earlier comment instead of adding a new one.

use std::io::{self, Write};

use super::{Renderer, Report, delta_text, headline, limit_text, noteworthy, slo_text, source_label, value_text};
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

fn write_rows(out: &mut dyn Write, rows: &[&crate::compare::Row]) -> io::Result<()> {
    writeln!(out, "| Metric | Baseline | Current | Delta | Limit | SLO | Status |")?;
    writeln!(out, "|---|---:|---:|---:|---|---|---|")?;
    for r in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} {} |",
            code(&r.name),
            cell(&value_text(r.baseline, r)),
            cell(&value_text(r.current, r)),
            cell(&delta_text(r)),
            cell(&limit_text(r)),
            cell(&slo_text(r)),
            icon(r.status),
            r.status.as_str()
        )?;
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
        if let Some(d) = report.decision {
            writeln!(out)?;
            writeln!(out, "Decision: {}", cell(&d.line()))?;
        }
        writeln!(out)?;
        let (gated, untracked): (Vec<_>, Vec<_>) = c.rows.iter().partition(|r| r.status != Status::Untracked);
        write_rows(out, &gated)?;
        if !untracked.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "<details><summary>{} untracked metrics (not in the policy, not gating)</summary>",
                untracked.len()
            )?;
            writeln!(out)?;
            write_rows(out, &untracked)?;
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
