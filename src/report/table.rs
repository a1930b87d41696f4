//! The `table` format: aligned columns for a terminal or a CI log, the verdict last.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::columns::Grid;
use super::{
    Renderer, Report, delta_text, headline, limit_text, noteworthy, reference_text, slo_text, source_label,
    total_limit_text, total_text, value_text,
};
use crate::compare::{Status, Verdict};

pub struct Table {
    /// Emit ANSI colour. The caller decides (terminal, `--color`, `NO_COLOR`).
    pub color: bool,
}

fn status_style(status: Status) -> Style {
    match status {
        Status::Pass => AnsiColor::Green.on_default(),
        Status::Fail => AnsiColor::Red.on_default().bold(),
        Status::Waived => AnsiColor::Yellow.on_default(),
        Status::NoBaseline => AnsiColor::Yellow.on_default(),
        Status::Untracked => Style::new().dimmed(),
        Status::Inconclusive => AnsiColor::Yellow.on_default().bold(),
    }
}

impl Table {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{style}{text}{style:#}") } else { text.to_string() }
    }
}

impl Renderer for Table {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let c = report.comparison;
        writeln!(out, "baseline  {}", source_label(&report.baseline))?;
        writeln!(out, "current   {}", source_label(&report.current))?;
        writeln!(out, "policy    {}", report.thresholds_file)?;
        if let Some(reference) = &report.reference {
            writeln!(out, "reference {}", source_label(reference))?;
        }
        if let Some(d) = report.decision {
            writeln!(out, "decision  {}", d.line())?;
        }
        writeln!(out)?;

        // With a reference, three more columns: its value, the change since it, and the limit.
        let with_reference = report.reference.is_some();
        let mut header = vec!["METRIC", "BASELINE", "CURRENT", "DELTA", "LIMIT"];
        if with_reference {
            header.extend(["REFERENCE", "TOTAL", "TOTAL LIMIT"]);
        }
        header.extend(["SLO", "STATUS"]);
        // Untracked metrics can be many (a k6 summary has ~30); they get one line, not a row each.
        let (rows, untracked): (Vec<_>, Vec<_>) = c.rows.iter().partition(|r| r.status != Status::Untracked);
        let records: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
            .chain(rows.iter().map(|r| {
                let mut cells = vec![
                    r.name.clone(),
                    value_text(r.baseline, r),
                    value_text(r.current, r),
                    delta_text(r),
                    limit_text(r),
                ];
                if with_reference {
                    cells.extend([reference_text(r), total_text(r), total_limit_text(r)]);
                }
                cells.extend([slo_text(r), r.status.as_str().to_string()]);
                cells
            }))
            .collect();
        let status_styles: Vec<_> =
            rows.iter().enumerate().map(|(i, r)| ((i + 1, header.len() - 1), status_style(r.status))).collect();
        // Numbers right-aligned, words left-aligned.
        let grid = Grid {
            records: &records,
            right: if with_reference {
                &[false, true, true, true, false, true, true]
            } else {
                &[false, true, true, true]
            },
            header: self.color.then(|| Style::new().bold()),
            cells: if self.color { &status_styles } else { &[] },
        };
        write!(out, "{}", grid.render())?;
        if !untracked.is_empty() {
            let names: Vec<&str> = untracked.iter().map(|r| r.name.as_str()).collect();
            let text = format!("untracked (not in the policy, not gating): {}", names.join(", "));
            writeln!(out, "{}", self.paint(status_style(Status::Untracked), &text))?;
        }

        let notes: Vec<_> = c.rows.iter().filter(|r| noteworthy(r)).collect();
        if !notes.is_empty() {
            writeln!(out)?;
            let records: Vec<Vec<String>> = notes
                .iter()
                .map(|r| vec![r.name.clone(), r.status.as_str().to_string(), r.reasons.join("; ")])
                .collect();
            let status_styles: Vec<_> =
                notes.iter().enumerate().map(|(i, r)| ((i, 1), status_style(r.status))).collect();
            let grid = Grid {
                records: &records,
                right: &[],
                header: None,
                cells: if self.color { &status_styles } else { &[] },
            };
            write!(out, "{}", grid.render())?;
        }
        if !c.warnings.is_empty() {
            writeln!(out)?;
            for w in &c.warnings {
                writeln!(out, "{} {w}", self.paint(AnsiColor::Yellow.on_default().bold(), "warning:"))?;
            }
        }
        writeln!(out)?;
        let verdict_style = match c.verdict {
            Verdict::Pass => AnsiColor::Green.on_default().bold(),
            Verdict::Fail => AnsiColor::Red.on_default().bold(),
            Verdict::Inconclusive => AnsiColor::Yellow.on_default().bold(),
        };
        writeln!(out, "{}", self.paint(verdict_style, &headline(c)))
    }
}
