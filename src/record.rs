//! A comparison's rows as records: the one serialised shape of a metric's result, written by
//! the JSON report (`metrics`) and embedded in certificates (`comparison`), so the two cannot
//! drift apart and neither depends on the other. Documented in `schemas/report.schema.json`;
//! adding fields is compatible, renaming or removing is not.

use serde::Serialize;

use crate::compare::{CheckStats, Comparison, Outcome, Row};
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
    /// `decision.method: statistical` only: the interval of the check that decided the row
    /// (the first FAIL, else the first INCONCLUSIVE, else the first judged), its method and
    /// the runs per side that would settle it. Absent under the threshold method.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    stats: Option<Stats>,
}

/// A statistically judged check ([`crate::stats`]), in its natural units: a fraction for a
/// relative limit, a difference for an absolute one, a level for an SLO.
#[derive(Serialize)]
pub struct Stats {
    estimate: Option<f64>,
    interval: Option<Interval>,
    df: Option<f64>,
    method: &'static str,
    runs_needed: Option<u32>,
}

/// Both one-sided bounds and the level each was computed at (the FAIL bound's is Holm-adjusted).
#[derive(Serialize)]
pub struct Interval {
    lower: f64,
    upper: f64,
    lower_alpha: f64,
    upper_alpha: f64,
}

fn stats(s: &CheckStats) -> Stats {
    Stats {
        estimate: s.estimate,
        interval: s.interval.map(|i| Interval {
            lower: i.lower,
            upper: i.upper,
            lower_alpha: i.lower_alpha,
            upper_alpha: i.upper_alpha,
        }),
        df: s.df,
        method: s.method.as_str(),
        runs_needed: s.runs_needed,
    }
}

/// The check whose statistics a row shows: the first FAIL, else INCONCLUSIVE, else any.
fn deciding(r: &Row) -> Option<&CheckStats> {
    let judged = || r.checks.iter().filter(|c| c.stats.is_some());
    [Outcome::Fail, Outcome::Inconclusive]
        .iter()
        .find_map(|o| judged().find(|c| c.outcome == *o))
        .or_else(|| judged().next())
        .and_then(|c| c.stats.as_ref())
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
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    stats: Option<Stats>,
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
            .map(|c| Check {
                limit: c.kind.as_str(),
                status: c.outcome.as_str(),
                reason: &c.reason,
                stats: c.stats.as_ref().map(stats),
            })
            .collect(),
        waiver: r.waiver.as_ref().map(|w| Waiver {
            reason: &w.reason,
            approved_by: w.approved_by.as_deref(),
            expires: w.expires.to_string(),
        }),
        runs: r.runs.as_ref().map(|v| Runs { mean: v.mean.as_str(), baseline: &v.baseline, current: &v.current }),
        stats: deciding(r).map(stats),
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

/// `--noise-from`: the history a statistical decision learned its noise from, as the JSON
/// report (`history`) and the certificate record it: the archive, every certificate used (its
/// path in the archive and its sha256) and each metric's pooled variance with its degrees of freedom on both scales.
pub fn history_value(h: &crate::history::Noise) -> serde_json::Value {
    let pooled = |p: Option<crate::stats::Pooled>| match p {
        Some(p) => serde_json::json!({ "variance": p.variance, "df": p.df }),
        None => serde_json::Value::Null,
    };
    let metrics: serde_json::Map<String, serde_json::Value> = h
        .metrics
        .iter()
        .map(|(name, s)| (name.clone(), serde_json::json!({ "log": pooled(s.log), "linear": pooled(s.linear) })))
        .collect();
    serde_json::json!({
        "archive": h.source,
        "signatures_checked": h.signatures_checked,
        "certificates": h.used.iter().map(|(name, sha256)| serde_json::json!({ "name": name, "sha256": sha256 })).collect::<Vec<_>>(),
        "metrics": metrics,
    })
}
