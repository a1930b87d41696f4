//! A comparison's rows as records: the one serialised shape of a metric's result, written by
//! the JSON report (`metrics`) and embedded in certificates (`comparison`), so the two cannot
//! drift apart and neither depends on the other. Documented in `schemas/report.schema.json`;
//! adding fields is compatible, renaming or removing is not.

use serde::Serialize;

use crate::compare::{Comparison, Row};
use crate::policy::Tolerance;

#[derive(Serialize)]
pub struct Metric<'a> {
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
    /// With several runs on a side: every run's value, and which mean `baseline` and
    /// `current` are. Absent with one run per side.
    #[serde(skip_serializing_if = "Option::is_none")]
    runs: Option<Runs<'a>>,
}

#[derive(Serialize)]
pub struct Runs<'a> {
    mean: &'a str,
    baseline: &'a [Option<f64>],
    current: &'a [Option<f64>],
}

/// Limits as the policy writes them: a relative tolerance as a string such as `"10%"`,
/// an absolute one as a number.
#[derive(Serialize)]
pub struct Limits {
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
pub struct Check<'a> {
    limit: &'a str,
    status: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
pub struct Waiver<'a> {
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
        runs: r.runs.as_ref().map(|v| Runs { mean: v.mean.as_str(), baseline: &v.baseline, current: &v.current }),
    }
}

/// The rows of a comparison as records.
pub fn rows(c: &Comparison) -> Vec<Metric<'_>> {
    c.rows.iter().map(metric).collect()
}

/// The rows as a JSON value, as certificates embed them.
pub fn rows_value(c: &Comparison) -> serde_json::Value {
    serde_json::to_value(rows(c)).expect("rows serialise")
}
