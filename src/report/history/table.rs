//! The `table` format of a history: one column per release (oldest on the left), one row per
//! metric with its change from the previous release beneath it, then the pass/fail counts of each
//! metric over the window in the last columns.
//!
//! Metrics run down and releases across because the window is bounded (`--last`, 5 by default)
//! while the metrics are not: six gated metrics with value and change side by side would not fit
//! a terminal as columns, and a release manager reads a metric's trend left to right, like a
//! chart, with the release that broke it in the same column as its FAIL status.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{
    HistoryRenderer, UNVERIFIED, change, change_text, cost_line, day, metric_status, not_passed, rows, status_text,
    title, value, value_text,
};
use crate::releases::{Counts, History};
use crate::report::columns::Grid;

pub struct Table {
    /// Emit ANSI colour. The caller decides (terminal, `--color`, `NO_COLOR`).
    pub color: bool,
}

fn style(status: &str) -> Option<Style> {
    match status {
        "PASS" => Some(AnsiColor::Green.on_default()),
        "FAIL" => Some(AnsiColor::Red.on_default().bold()),
        "INCONCLUSIVE" | "WAIVED" => Some(AnsiColor::Yellow.on_default()),
        _ => None,
    }
}

/// A count column: its heading and which count it shows.
type CountColumn = (&'static str, fn(&Counts) -> u32);

/// The count columns a history needs: PASS and FAIL always, the others when any metric has one.
fn count_columns(h: &History) -> Vec<CountColumn> {
    let all: [CountColumn; 5] = [
        ("PASS", |c| c.pass),
        ("FAIL", |c| c.fail),
        ("INCONCLUSIVE", |c| c.inconclusive),
        ("WAIVED", |c| c.waived),
        ("OTHER", |c| c.other),
    ];
    all.into_iter()
        .enumerate()
        .filter(|(i, (_, get))| *i < 2 || h.counts.values().any(|c| get(c) > 0))
        .map(|(_, c)| c)
        .collect()
}

impl HistoryRenderer for Table {
    fn render(&self, h: &History, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", title(h))?;
        writeln!(out)?;
        let counts = count_columns(h);
        let n = h.releases.len();
        let blank = |k: usize| vec![String::new(); k];
        let mut records: Vec<Vec<String>> = vec![];
        let mut cells: Vec<((usize, usize), Style)> = vec![];

        let mut head = vec!["RELEASE".to_string()];
        head.extend(h.releases.iter().map(|r| r.line.version.clone()));
        head.extend(counts.iter().map(|(name, _)| name.to_string()));
        records.push(head);
        let mut dates = vec!["date".to_string()];
        dates.extend(h.releases.iter().map(|r| day(r).to_string()));
        dates.extend(blank(counts.len()));
        records.push(dates);
        let mut status = vec!["status".to_string()];
        for (i, r) in h.releases.iter().enumerate() {
            status.push(status_text(r));
            if let Some(s) = style(&r.line.status) {
                cells.push(((2, i + 1), s));
            }
        }
        status.extend(blank(counts.len()));
        records.push(status);

        for row in rows(h) {
            let at = records.len();
            let mut values = vec![row.to_string()];
            let mut changes = vec!["  change".to_string()];
            for (i, r) in h.releases.iter().enumerate() {
                values.push(value_text(h, row, value(r, row)));
                changes.push(change_text(change(r, row)));
                if let Some(s) = metric_status(r, row).filter(|s| *s != "PASS").and_then(style) {
                    cells.push(((at, i + 1), s));
                }
            }
            let c = h.counts.get(row).cloned().unwrap_or_default();
            let gated = h.counts.contains_key(row);
            values.extend(counts.iter().map(|(_, get)| if gated { get(&c).to_string() } else { "-".into() }));
            changes.extend(blank(counts.len()));
            records.push(values);
            records.push(changes);
        }
        // The releases' columns hold numbers: right-aligned. The counts are left-aligned under
        // their names (and a right-aligned last column would defeat the grid's trimming).
        let mut right = vec![false];
        right.extend(std::iter::repeat_n(true, n));
        let grid = Grid {
            records: &records,
            right: &right,
            header: self.color.then(|| Style::new().bold()),
            cells: if self.color { &cells } else { &[] },
        };
        // Rows with nothing in the last columns (date, status, change) end without padding.
        for line in grid.render().lines() {
            writeln!(out, "{}", line.trim_end())?;
        }

        writeln!(out)?;
        writeln!(out, "{}", cost_line(h))?;
        let mut first = true;
        for r in &h.releases {
            for (status, names) in not_passed(r) {
                if first {
                    writeln!(out)?;
                    first = false;
                }
                writeln!(out, "{} {status}: {}", r.line.version, names.join(", "))?;
            }
        }
        if h.counts.is_empty() && !h.releases.is_empty() {
            writeln!(out, "(no metric was compared in these releases: they had no baseline)")?;
        }
        writeln!(out)?;
        writeln!(out, "({UNVERIFIED})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_down_releases_across_counts_last() {
        let h = super::super::tests::history();
        let mut out = vec![];
        Table { color: false }.render(&h, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let expected = "\
api: 3 releases

RELEASE                v1.0.0          v1.1.0      v1.2.0  PASS  FAIL
date               2026-11-01      2026-11-03  2026-11-04
status                   PASS  FAIL (2 certs)        PASS
latency_p95_read       200 ms          240 ms      204 ms  2     1
  change                    -            +20%        -15%
error_rate               0.2%            0.2%       0.25%  3     0
  change                    -             +0%        +25%
cost_per_1000_req   0.004 USD       0.005 USD  0.0045 USD  3     0
  change                    -            +25%        -10%

cost per 1000 requests: 0.004 USD -> 0.0045 USD over 3 releases (+12.5%)

v1.1.0 FAIL: latency_p95_read

(read from the archive's index; signatures are not verified: use perfcert verify on a certificate)
";
        assert_eq!(text, expected, "\n{text}");
    }
}
