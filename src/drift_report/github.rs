//! GitHub Actions annotations of a drift result: an error per failing metric (with its ticket),
//! a warning per inconclusive one, an error when the rollback flag is raised, and a warning per
//! warning of the evaluation.

use super::{band, duration, time, value};
use crate::drift::{DriftResult, Status, WindowStatus};
use crate::github::{Level, annotation};

pub fn annotations(r: &DriftResult) -> Vec<String> {
    let mut lines = vec![];
    if let Some(rb) = r.rollback.as_ref().filter(|rb| rb.flag) {
        let message = format!(
            "every sample above {} (x{} baseline) for {} since {}",
            value(rb.threshold),
            value(Some(rb.factor)),
            duration(rb.for_ms),
            rb.since_ms.map(time).unwrap_or_default()
        );
        lines.push(annotation(Level::Error, &format!("perfcert drift: roll back ({})", rb.metric), &message));
    }
    for m in &r.metrics {
        let level = match m.status {
            Status::Fail | Status::Rollback => Level::Error,
            Status::Inconclusive => Level::Warning,
            Status::Pass => continue,
        };
        let first = m.windows.iter().find(|w| w.status == WindowStatus::Breach);
        let mut message = format!("baseline {}, band ±{}", value(m.baseline.as_ref().map(|b| b.value)), band(r.band));
        if let Some(w) = first {
            message.push_str(&format!(
                "; first breach {} to {}: mean {}",
                time(w.start_ms),
                time(w.end_ms),
                value(w.mean)
            ));
        }
        if !m.reasons.is_empty() {
            message.push_str(&format!("; {}", m.reasons.join("; ")));
        }
        let title =
            format!("perfcert drift: {} {}{}", m.name, m.status.as_str(), if m.ticket { " (ticket)" } else { "" });
        lines.push(annotation(level, &title, &message));
    }
    lines.extend(r.warnings.iter().map(|w| annotation(Level::Warning, "perfcert drift", w)));
    lines
}
