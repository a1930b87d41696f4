//! The `table` format of a drift result: a summary line per metric, then each metric's windows.

use std::io::{self, Write};

use super::{DriftRenderer, band, bounds, duration, of_service, time, value, with_unit};
use crate::drift::DriftResult;

pub struct Table;

impl DriftRenderer for Table {
    fn render(&self, r: &DriftResult, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "drift {}{}: {} to {}", r.status.as_str(), of_service(r), time(r.from_ms), time(r.to_ms))?;
        writeln!(
            out,
            "{} windows of {} samples, band ±{}, ticket after {}, on_no_data {}",
            duration(r.window_ms),
            duration(r.step_ms),
            band(r.band),
            r.ticket_after,
            r.on_no_data.as_str()
        )?;
        for m in &r.metrics {
            writeln!(out)?;
            writeln!(
                out,
                "{} ({}): {}  baseline {}  valid {}/{}  breaches {}  max streak {}  ticket {}",
                m.name,
                m.direction.as_str(),
                m.status.as_str(),
                with_unit(m.baseline.as_ref().map(|b| b.value), m.unit.as_deref()),
                m.valid_windows,
                m.windows.len(),
                m.breaches,
                m.max_consecutive_breaches,
                if m.ticket { "yes" } else { "no" }
            )?;
            for reason in &m.reasons {
                writeln!(out, "  {reason}")?;
            }
            if m.windows.is_empty() {
                continue;
            }
            let rows: Vec<[String; 7]> = m
                .windows
                .iter()
                .map(|w| {
                    let (lower, upper) = bounds(w, m.direction);
                    [
                        time(w.start_ms),
                        time(w.end_ms),
                        format!("{}/{}", w.samples, w.expected),
                        value(w.mean),
                        lower,
                        upper,
                        w.status.as_str().to_string(),
                    ]
                })
                .collect();
            let header = ["start", "end", "samples", "mean", "lower", "upper", "status"].map(String::from);
            let widths: Vec<usize> =
                (0..7).map(|i| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
            for row in [&header].into_iter().chain(&rows) {
                let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
                writeln!(out, "  {}", cells.join("  ").trim_end())?;
            }
        }
        if let Some(rb) = &r.rollback {
            writeln!(out)?;
            match (rb.flag, rb.since_ms, rb.raised_at_ms) {
                (true, Some(since), Some(at)) => writeln!(
                    out,
                    "rollback: RAISED: {} above {} (x{} baseline) since {}, for {} at {}",
                    rb.metric,
                    value(rb.threshold),
                    value(Some(rb.factor)),
                    time(since),
                    duration(rb.for_ms),
                    time(at)
                )?,
                _ => writeln!(
                    out,
                    "rollback: not raised ({} above x{} baseline for {}){}",
                    rb.metric,
                    value(Some(rb.factor)),
                    duration(rb.for_ms),
                    rb.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
                )?,
            }
        }
        for w in &r.warnings {
            writeln!(out, "warning: {w}")?;
        }
        Ok(())
    }
}
