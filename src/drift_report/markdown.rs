//! The `markdown` format of a drift result: a job summary (`$GITHUB_STEP_SUMMARY`) or PR
//! comment. A summary table per metric, the rollback rule, then every window in a collapsed
//! section per metric.

use std::io::{self, Write};

use super::{DriftRenderer, band, bounds, duration, of_service, time, value, with_unit};
use crate::drift::DriftResult;

pub struct Markdown;

/// Table cells cannot hold `|` or line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

impl DriftRenderer for Markdown {
    fn render(&self, r: &DriftResult, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "## perfcert drift{}: {}", cell(&of_service(r)), r.status.as_str())?;
        writeln!(out)?;
        writeln!(
            out,
            "{} to {}: {} windows of {} samples, band ±{}, ticket after {} breaching windows, on_no_data {}.",
            time(r.from_ms),
            time(r.to_ms),
            duration(r.window_ms),
            duration(r.step_ms),
            band(r.band),
            r.ticket_after,
            r.on_no_data.as_str()
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "| metric | direction | baseline | valid windows | breaches | max streak | ticket | status | why |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|---|---|")?;
        for m in &r.metrics {
            writeln!(
                out,
                "| {} | {} | {} | {}/{} | {} | {} | {} | **{}** | {} |",
                cell(&m.name),
                m.direction.as_str(),
                cell(&with_unit(m.baseline.as_ref().map(|b| b.value), m.unit.as_deref())),
                m.valid_windows,
                m.windows.len(),
                m.breaches,
                m.max_consecutive_breaches,
                match m.ticket_at_ms {
                    Some(at) => format!("yes, at {}", time(at)),
                    None => "no".into(),
                },
                m.status.as_str(),
                cell(&m.reasons.join("; "))
            )?;
        }
        if let Some(rb) = &r.rollback {
            writeln!(out)?;
            match (rb.flag, rb.since_ms, rb.raised_at_ms) {
                (true, Some(since), Some(at)) => writeln!(
                    out,
                    "**Roll back**: every `{}` sample was above {} (x{} baseline) from {since} to {at}.",
                    cell(&rb.metric),
                    value(rb.threshold),
                    value(Some(rb.factor)),
                    since = time(since),
                    at = time(at)
                )?,
                _ => writeln!(
                    out,
                    "Rollback rule (`{}` above x{} baseline for {}): not raised{}.",
                    cell(&rb.metric),
                    value(Some(rb.factor)),
                    duration(rb.for_ms),
                    rb.reason.as_deref().map(|r| format!(" ({})", cell(r))).unwrap_or_default()
                )?,
            }
        }
        for m in r.metrics.iter().filter(|m| !m.windows.is_empty()) {
            writeln!(out)?;
            writeln!(out, "<details><summary>{}: {} windows</summary>", cell(&m.name), m.windows.len())?;
            writeln!(out)?;
            writeln!(out, "| start | end | samples | mean | lower | upper | status |")?;
            writeln!(out, "|---|---|---|---|---|---|---|")?;
            for w in &m.windows {
                let (lower, upper) = bounds(w, m.direction);
                writeln!(
                    out,
                    "| {} | {} | {}/{} | {} | {} | {} | {} |",
                    time(w.start_ms),
                    time(w.end_ms),
                    w.samples,
                    w.expected,
                    value(w.mean),
                    lower,
                    upper,
                    w.status.as_str()
                )?;
            }
            writeln!(out)?;
            writeln!(out, "</details>")?;
        }
        if !r.warnings.is_empty() {
            writeln!(out)?;
            for w in &r.warnings {
                writeln!(out, "- warning: {}", cell(w))?;
            }
        }
        Ok(())
    }
}
