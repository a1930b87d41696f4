//! The `table` format: aligned columns for a terminal or a CI log, the verdict last.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{Renderer, Report, delta_text, headline, limit_text, noteworthy, slo_text, source_label, value_text};
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
        writeln!(out)?;

        let header = ["METRIC", "BASELINE", "CURRENT", "DELTA", "LIMIT", "SLO", "STATUS"];
        // Untracked metrics can be many (a k6 summary has ~30); they get one line, not a row each.
        let (rows, untracked): (Vec<_>, Vec<_>) = c.rows.iter().partition(|r| r.status != Status::Untracked);
        let cells: Vec<[String; 7]> = rows
            .iter()
            .map(|r| {
                [
                    r.name.clone(),
                    value_text(r.baseline, r),
                    value_text(r.current, r),
                    delta_text(r),
                    limit_text(r),
                    slo_text(r),
                    r.status.as_str().to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(|h| h.chars().count());
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        // Numbers right-aligned, words left-aligned; the last column is not padded.
        let right = [false, true, true, true, false, false, false];
        let line = |cells: &[String], status: Option<Status>| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                let pad = widths[i] - cell.chars().count();
                if i == cells.len() - 1 {
                    let styled = match status {
                        Some(s) => self.paint(status_style(s), cell),
                        None => cell.clone(),
                    };
                    text.push_str(&styled);
                } else if right[i] {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    text.push_str(&" ".repeat(pad));
                }
            }
            text
        };
        let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        writeln!(out, "{}", self.paint(Style::new().bold(), &line(&header, None)))?;
        for (row, cells) in rows.iter().zip(&cells) {
            writeln!(out, "{}", line(cells, Some(row.status)))?;
        }
        if !untracked.is_empty() {
            let names: Vec<&str> = untracked.iter().map(|r| r.name.as_str()).collect();
            let text = format!("untracked (not in the policy, not gating): {}", names.join(", "));
            writeln!(out, "{}", self.paint(status_style(Status::Untracked), &text))?;
        }

        let notes: Vec<_> = c.rows.iter().filter(|r| noteworthy(r)).collect();
        if !notes.is_empty() {
            writeln!(out)?;
            let name_width = notes.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
            let status_width = notes.iter().map(|r| r.status.as_str().len()).max().unwrap_or(0);
            for row in notes {
                let status = self.paint(status_style(row.status), row.status.as_str());
                let pad = " ".repeat(name_width - row.name.chars().count());
                let status_pad = " ".repeat(status_width - row.status.as_str().len());
                writeln!(out, "{}{pad}  {status}{status_pad}  {}", row.name, row.reasons.join("; "))?;
            }
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
        };
        writeln!(out, "{}", self.paint(verdict_style, &headline(c)))
    }
}
