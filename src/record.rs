//! A comparison's rows as records: the one serialised shape of a metric's result, written by
//! the JSON report (`metrics`) and embedded in certificates (`comparison`), so the two cannot
//! drift apart and neither depends on the other. Documented in `schemas/report.schema.json`;
//! adding fields is compatible, renaming or removing is not.

use serde::{Deserialize, Serialize};

use crate::compare::{CheckStats, Comparison, Mean, Outcome, Row};
use crate::policy::{DecisionMethod, DecisionPolicy, Tolerance};

/// How a statistical verdict was reached: the policy's rates, the look (issue 14 §3) and the
/// rates that look tested at, the assumed noise, the history used. The JSON report's
/// `decision` and a version-2 certificate's `decision`; absent under the threshold method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `statistical`.
    pub method: String,
    /// The policy's per-metric rate over all looks of a release.
    pub alpha: f64,
    /// The policy's per-run rate (Holm) over all looks of a release.
    pub family_alpha: f64,
    pub max_runs: u32,
    /// This look, 1-based: 1 + the certificates of this service and version made before it.
    pub look: u32,
    /// Most looks the policy allows (`decision.looks`).
    pub looks: u32,
    /// `alpha / looks`: the rate this look tested at.
    pub look_alpha: f64,
    /// `family_alpha / looks`.
    pub look_family_alpha: f64,
    /// The policy's `noise: { cov }`, always an assumption; null when none was declared.
    pub noise: Option<Noise>,
    /// The earlier certificates whose spread was used (`--noise-from`); null: none.
    pub history: Option<serde_json::Value>,
}

/// A declared run-to-run noise level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    pub cov: f64,
    /// `true`: declared in the policy, not measured.
    pub assumed: bool,
}

impl Decision {
    /// The record of a statistical decision at look `look`; `None` under the threshold method.
    pub fn of(policy: &DecisionPolicy, look: u32) -> Option<Decision> {
        if policy.method != DecisionMethod::Statistical {
            return None;
        }
        let (look_alpha, look_family_alpha) = policy.per_look();
        Some(Decision {
            method: "statistical".into(),
            alpha: policy.alpha,
            family_alpha: policy.family_alpha,
            max_runs: policy.max_runs,
            look,
            looks: policy.looks,
            look_alpha,
            look_family_alpha,
            noise: policy.noise_cov.map(|cov| Noise { cov, assumed: true }),
            history: None,
        })
    }

    /// One line for people: `statistical, look 1 of 3: alpha 0.0033 per metric, 0.017 per run
    /// (0.01 and 0.05 split over 3 looks)`.
    pub fn line(&self) -> String {
        // Two significant digits: 0.0033, 0.017.
        let num = |x: f64| crate::numfmt::num(format!("{x:.1e}").parse().unwrap_or(x));
        let mut line = format!(
            "{}, look {} of {}: alpha {} per metric, {} per run",
            self.method,
            self.look,
            self.looks,
            num(self.look_alpha),
            num(self.look_family_alpha)
        );
        if self.looks > 1 {
            line.push_str(&format!(
                " ({} and {} split over {} looks)",
                crate::numfmt::num(self.alpha),
                crate::numfmt::num(self.family_alpha),
                self.looks
            ));
        }
        if let Some(n) = &self.noise {
            line.push_str(&format!("; noise assumed: CoV {}", crate::numfmt::pct(n.cov).trim_start_matches('+')));
        }
        line
    }
}

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
    runs: Option<Runs>,
    /// `--reference` given and the metric has a cumulative limit: the reference's value, the
    /// cumulative change since it, and every reference run's value. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<Reference>,
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

/// A row against the reference ([`crate::compare::Versus`]).
#[derive(Serialize)]
pub struct Reference {
    value: Option<f64>,
    delta: Option<f64>,
    change: Option<f64>,
    runs: Vec<Option<f64>>,
}

#[derive(Serialize)]
pub struct Runs {
    mean: &'static str,
    baseline: Vec<Option<f64>>,
    current: Vec<Option<f64>>,
}

/// Every run's values of a row. With `every_run` (a statistical decision recorded) a row of
/// one run per side shows its one run too, so a certificate records every value its decision
/// used.
fn runs(r: &Row, every_run: bool) -> Option<Runs> {
    if let Some(v) = &r.runs {
        return Some(Runs { mean: v.mean.as_str(), baseline: v.baseline.clone(), current: v.current.clone() });
    }
    if !every_run {
        return None;
    }
    let relative = r.policy.as_ref().is_none_or(|p| {
        [p.max_increase, p.max_decrease, p.max_total_increase, p.max_total_decrease]
            .iter()
            .any(|t| matches!(t, Some(Tolerance::Relative(_))))
    });
    let mean = if relative { Mean::Geometric } else { Mean::Arithmetic };
    Some(Runs { mean: mean.as_str(), baseline: vec![r.baseline], current: vec![r.current] })
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
    max_total_increase: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_total_decrease: Option<serde_json::Value>,
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

fn metric(r: &Row, every_run: bool) -> Metric<'_> {
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
            max_total_increase: p.max_total_increase.map(tolerance),
            max_total_decrease: p.max_total_decrease.map(tolerance),
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
        runs: runs(r, every_run),
        reference: r.reference.as_ref().map(|v| Reference {
            value: v.value,
            delta: v.delta,
            change: v.change,
            runs: v.runs.clone(),
        }),
        stats: deciding(r).map(stats),
    }
}

/// The rows of a comparison as records; `every_run` when a statistical decision is recorded
/// beside them (the JSON report's and a version-2 certificate's `decision`): then even a row of
/// one run per side lists its `runs`. Version-1 certificates, recomputed, keep their shape.
pub fn rows(c: &Comparison, every_run: bool) -> Vec<Metric<'_>> {
    c.rows.iter().map(|r| metric(r, every_run)).collect()
}

/// The rows as a JSON value, as certificates embed them.
pub fn rows_value(c: &Comparison, every_run: bool) -> serde_json::Value {
    serde_json::to_value(rows(c, every_run)).expect("rows serialise")
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
        "notes": h.notes,
        "certificates": h.used.iter().map(|(name, sha256)| serde_json::json!({ "name": name, "sha256": sha256 })).collect::<Vec<_>>(),
        "metrics": metrics,
    })
}
