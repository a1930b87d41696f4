//! The `json` format: stable and documented (`schemas/report.schema.json`, `docs/formats.md`).
//!
//! The shapes here are the contract, kept apart from the core types so the core can change
//! without breaking pipelines. Adding fields is compatible; renaming or removing is not.

use std::io::{self, Write};

use serde::Serialize;

use super::{Renderer, Report, Source};
use crate::compare::{Comparison, Row};
use crate::policy::Tolerance;

pub struct Json;

/// Bumped only on incompatible changes to this document.
pub const REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    report_version: u32,
    perfcert_version: &'a str,
    status: &'a str,
    summary: Summary,
    as_of: String,
    inputs: Inputs<'a>,
    metrics: Vec<Metric<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Summary {
    gated: usize,
    passed: usize,
    failed: usize,
    waived: usize,
    no_baseline: usize,
    untracked: usize,
}

#[derive(Serialize)]
struct Inputs<'a> {
    baseline: Input<'a>,
    current: Input<'a>,
    thresholds: File<'a>,
}

#[derive(Serialize)]
struct File<'a> {
    file: &'a str,
}

#[derive(Serialize)]
struct Input<'a> {
    file: &'a str,
    service: Option<&'a str>,
    version: Option<&'a str>,
    commit: Option<&'a str>,
    date: Option<&'a str>,
}

impl<'a> From<&Source<'a>> for Input<'a> {
    fn from(s: &Source<'a>) -> Self {
        Input {
            file: s.file,
            service: s.results.service.as_deref(),
            version: s.results.version.as_deref(),
            commit: s.results.commit.as_deref(),
            date: s.results.date.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Metric<'a> {
    name: &'a str,
    unit: Option<&'a str>,
    baseline: Option<f64>,
    current: Option<f64>,
    delta: Option<f64>,
    change: Option<f64>,
    limits: Option<Limits>,
    status: &'a str,
    reasons: &'a [String],
    checks: Vec<Check<'a>>,
    waiver: Option<Waiver<'a>>,
}

/// Limits as the policy writes them: a relative tolerance as a string such as `"10%"`,
/// an absolute one as a number.
#[derive(Serialize)]
struct Limits {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_increase: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_decrease: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
}

#[derive(Serialize)]
struct Check<'a> {
    limit: &'a str,
    status: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Waiver<'a> {
    reason: &'a str,
    approved_by: Option<&'a str>,
    expires: String,
}

fn tolerance(t: Tolerance) -> serde_json::Value {
    match t {
        Tolerance::Relative(f) => serde_json::Value::String(format!("{}%", crate::numfmt::num(f * 100.0))),
        Tolerance::Absolute(a) => serde_json::json!(a),
    }
}

fn metric(r: &Row) -> Metric<'_> {
    Metric {
        name: &r.name,
        unit: r.unit.as_deref(),
        baseline: r.baseline,
        current: r.current,
        delta: r.delta,
        change: r.change,
        limits: r.policy.as_ref().map(|p| Limits {
            max_increase: p.max_increase.map(tolerance),
            max_decrease: p.max_decrease.map(tolerance),
            max: p.max,
            min: p.min,
        }),
        status: r.status.as_str(),
        reasons: &r.reasons,
        checks: r
            .checks
            .iter()
            .map(|c| Check { limit: c.kind.as_str(), status: c.outcome.as_str(), reason: &c.reason })
            .collect(),
        waiver: r.waiver.as_ref().map(|w| Waiver {
            reason: &w.reason,
            approved_by: w.approved_by.as_deref(),
            expires: w.expires.to_string(),
        }),
    }
}

/// The per-metric rows of a comparison exactly as the JSON report writes them (certificates
/// embed the same shape).
pub fn metrics_value(c: &Comparison) -> serde_json::Value {
    serde_json::to_value(c.rows.iter().map(metric).collect::<Vec<_>>()).expect("rows serialise")
}

impl Renderer for Json {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let c = report.comparison;
        let s = c.summary();
        let doc = Doc {
            report_version: REPORT_VERSION,
            perfcert_version: env!("CARGO_PKG_VERSION"),
            status: c.verdict.as_str(),
            summary: Summary {
                gated: s.gated,
                passed: s.passed,
                failed: s.failed,
                waived: s.waived,
                no_baseline: s.no_baseline,
                untracked: s.untracked,
            },
            as_of: c.as_of.to_string(),
            inputs: Inputs {
                baseline: (&report.baseline).into(),
                current: (&report.current).into(),
                thresholds: File { file: report.thresholds_file },
            },
            metrics: c.rows.iter().map(metric).collect(),
            warnings: &c.warnings,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
