//! The `json` format of a drift result: stable and documented (docs/drift.md,
//! schemas/drift-report.schema.json). The shapes here
//! are the contract, kept apart from [`crate::drift`]'s types. Adding fields is compatible;
//! renaming or removing one bumps [`DRIFT_REPORT_VERSION`]. Times are RFC 3339 UTC, durations
//! in seconds; an absent value is `null`, never NaN.

use std::io::{self, Write};

use serde::Serialize;

use super::{DriftRenderer, time};
use crate::drift::{Baseline, DriftResult};

pub struct Json;

/// Bumped only on incompatible changes to this document.
pub const DRIFT_REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    drift_report_version: u32,
    perfcert_version: &'a str,
    /// The service judged, when known (`--service`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<&'a str>,
    status: &'a str,
    from: String,
    to: String,
    settings: Settings,
    metrics: Vec<Metric<'a>>,
    rollback: Option<Rollback<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Settings {
    step_seconds: f64,
    window_seconds: f64,
    band: f64,
    ticket_after: u32,
    on_no_data: &'static str,
}

#[derive(Serialize)]
struct Metric<'a> {
    name: &'a str,
    direction: &'static str,
    unit: Option<&'a str>,
    status: &'static str,
    reasons: &'a [String],
    baseline: Option<BaselineDoc<'a>>,
    valid_windows: usize,
    breaches: usize,
    max_consecutive_breaches: usize,
    max_consecutive_no_data: usize,
    ticket: bool,
    ticket_at: Option<String>,
    windows: Vec<Window>,
}

#[derive(Serialize)]
struct BaselineDoc<'a> {
    /// `null` when not a finite number (the metric is then INCONCLUSIVE).
    value: Option<f64>,
    #[serde(rename = "ref")]
    reference: &'a str,
    sha256: Option<&'a str>,
    query: Option<&'a str>,
    period: Option<Period>,
}

#[derive(Serialize)]
struct Period {
    from: String,
    to: String,
}

#[derive(Serialize)]
struct Window {
    start: String,
    end: String,
    samples: u64,
    expected: u64,
    mean: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
    status: &'static str,
}

#[derive(Serialize)]
struct Rollback<'a> {
    flag: bool,
    since: Option<String>,
    raised_at: Option<String>,
    metric: &'a str,
    factor: f64,
    for_seconds: f64,
    threshold: Option<f64>,
    reason: Option<&'a str>,
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}

fn baseline(b: &Baseline) -> BaselineDoc<'_> {
    BaselineDoc {
        value: finite(Some(b.value)),
        reference: &b.reference,
        sha256: b.sha256.as_deref(),
        query: b.query.as_deref(),
        period: b.period_ms.map(|(from, to)| Period { from: time(from), to: time(to) }),
    }
}

impl DriftRenderer for Json {
    fn render(&self, r: &DriftResult, out: &mut dyn Write) -> io::Result<()> {
        let doc = Doc {
            drift_report_version: DRIFT_REPORT_VERSION,
            perfcert_version: env!("CARGO_PKG_VERSION"),
            service: r.service.as_deref(),
            status: r.status.as_str(),
            from: time(r.from_ms),
            to: time(r.to_ms),
            settings: Settings {
                step_seconds: r.step_ms as f64 / 1000.0,
                window_seconds: r.window_ms as f64 / 1000.0,
                band: r.band,
                ticket_after: r.ticket_after,
                on_no_data: r.on_no_data.as_str(),
            },
            metrics: r
                .metrics
                .iter()
                .map(|m| Metric {
                    name: &m.name,
                    direction: m.direction.as_str(),
                    unit: m.unit.as_deref(),
                    status: m.status.as_str(),
                    reasons: &m.reasons,
                    baseline: m.baseline.as_ref().map(baseline),
                    valid_windows: m.valid_windows,
                    breaches: m.breaches,
                    max_consecutive_breaches: m.max_consecutive_breaches,
                    max_consecutive_no_data: m.max_consecutive_no_data,
                    ticket: m.ticket,
                    ticket_at: m.ticket_at_ms.map(time),
                    windows: m
                        .windows
                        .iter()
                        .map(|w| Window {
                            start: time(w.start_ms),
                            end: time(w.end_ms),
                            samples: w.samples,
                            expected: w.expected,
                            mean: finite(w.mean),
                            lower: finite(w.lower),
                            upper: finite(w.upper),
                            status: w.status.as_str(),
                        })
                        .collect(),
                })
                .collect(),
            rollback: r.rollback.as_ref().map(|rb| Rollback {
                flag: rb.flag,
                since: rb.since_ms.map(time),
                raised_at: rb.raised_at_ms.map(time),
                metric: &rb.metric,
                factor: rb.factor,
                for_seconds: rb.for_ms as f64 / 1000.0,
                threshold: finite(rb.threshold),
                reason: rb.reason.as_deref(),
            }),
            warnings: &r.warnings,
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)
    }
}
