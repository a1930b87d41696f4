//! The post-deploy bake (issue 16): the drift rules and the policy's SLO limits evaluated over
//! `[deployed_at, now)` at every poll, stopping at the first roll-back signal. Owns the loop, the
//! SLO checks of each complete window's mean, and each poll's status; pure: the clock and the
//! sleep come in through [`Clock`], the evaluation of a range through a closure (the command
//! fetches the series), and each poll goes to a callback. It prints nothing and reads no clock.
//!
//! The rules (also in README.md, "Post-deploy bake"):
//! - Polls are at `deployed_at + k × poll` for k = 1, 2, … and a last one at `deployed_at +
//!   duration`; each judges `[deployed_at, poll instant)` with [`crate::drift::evaluate`].
//! - An SLO check is a complete window's mean of a drift metric against that metric's `max`
//!   (ceiling) or `min` (floor) under `metrics:`, both inclusive; a NODATA window is not checked.
//! - A poll is ROLLBACK when drift's rollback flag is raised or an SLO check fails: the bake
//!   stops there. Otherwise the bake goes on, and its status is the last poll's drift status
//!   (PASS, FAIL or INCONCLUSIVE).

use crate::drift::{DriftResult, Status};
use crate::policy::MetricPolicy;

/// Time, injected: the real clock in the command, a fake one in tests.
pub trait Clock {
    /// Unix milliseconds.
    fn now_ms(&mut self) -> i64;
    /// Returns once `now_ms() >= at_ms` (at once when it already is).
    fn sleep_until(&mut self, at_ms: i64);
}

/// The bake's span and rhythm, in unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub deployed_ms: i64,
    pub duration_ms: i64,
    pub poll_ms: i64,
}

impl Plan {
    pub fn end_ms(&self) -> i64 {
        self.deployed_ms + self.duration_ms
    }

    /// Every poll instant, in order; the last is the end. Never empty (a duration of 0 or less
    /// polls once, at the end; a poll of 0 or less is one millisecond).
    pub fn instants(&self) -> Vec<i64> {
        let mut at = vec![];
        let mut t = self.deployed_ms;
        while t < self.end_ms() {
            t = (t + self.poll_ms.max(1)).min(self.end_ms());
            at.push(t);
        }
        if at.is_empty() {
            at.push(self.end_ms());
        }
        at
    }
}

/// Which limit an SLO check applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// `max`: the mean must be <= it.
    Max(f64),
    /// `min`: the mean must be >= it.
    Min(f64),
}

/// One complete window's mean against one SLO limit.
#[derive(Debug, Clone, PartialEq)]
pub struct SloCheck {
    pub metric: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub mean: f64,
    pub limit: Limit,
    pub ok: bool,
}

/// The SLO checks of every valid window of `result` against the `max` / `min` of the metric of
/// the same name in `metrics`, in window order per metric.
pub fn slo_checks(result: &DriftResult, metrics: &[MetricPolicy]) -> Vec<SloCheck> {
    let mut checks = vec![];
    for m in &result.metrics {
        let Some(policy) = metrics.iter().find(|p| p.name == m.name) else { continue };
        let limits: Vec<Limit> =
            [policy.max.map(Limit::Max), policy.min.map(Limit::Min)].into_iter().flatten().collect();
        for w in &m.windows {
            let Some(mean) = w.mean.filter(|v| v.is_finite()) else { continue };
            for &limit in &limits {
                let ok = match limit {
                    Limit::Max(max) => mean <= max,
                    Limit::Min(min) => mean >= min,
                };
                checks.push(SloCheck {
                    metric: m.name.clone(),
                    start_ms: w.start_ms,
                    end_ms: w.end_ms,
                    mean,
                    limit,
                    ok,
                });
            }
        }
    }
    checks
}

/// One poll: the range judged, the drift result, the SLO checks and the poll's status.
#[derive(Debug, Clone)]
pub struct Poll {
    /// 1 for the first poll.
    pub number: usize,
    /// The end of the range judged (`[deployed_at, at_ms)`).
    pub at_ms: i64,
    /// When the poll was made (the clock's time after waiting for `at_ms`).
    pub made_ms: i64,
    pub drift: DriftResult,
    pub slo: Vec<SloCheck>,
    pub status: Status,
}

impl Poll {
    /// The first failing SLO check.
    pub fn breach(&self) -> Option<&SloCheck> {
        self.slo.iter().find(|c| !c.ok)
    }
}

/// A poll's status: ROLLBACK on the rollback flag or an SLO breach, else drift's status.
pub fn status_of(drift: &DriftResult, slo: &[SloCheck]) -> Status {
    let flag = drift.rollback.as_ref().is_some_and(|rb| rb.flag);
    if flag || slo.iter().any(|c| !c.ok) { Status::Rollback } else { drift.status }
}

/// How the bake ended: its last poll (whose status is the bake's) and how many were made.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub last: Poll,
    pub polls: usize,
    /// Whether it stopped before its end (a roll-back signal).
    pub stopped_early: bool,
}

/// Runs the bake: waits for each poll instant on `clock`, evaluates `[deployed_at, instant)`
/// with `evaluate`, hands the poll to `on_poll`, and stops at the first ROLLBACK. An error of
/// `evaluate` ends it at once.
pub fn run<E>(
    plan: Plan,
    metrics: &[MetricPolicy],
    clock: &mut dyn Clock,
    mut evaluate: impl FnMut(i64, i64) -> Result<DriftResult, E>,
    mut on_poll: impl FnMut(&Poll),
) -> Result<Outcome, E> {
    let instants = plan.instants();
    let mut last = None;
    for (i, &at) in instants.iter().enumerate() {
        clock.sleep_until(at);
        let made_ms = clock.now_ms();
        let drift = evaluate(plan.deployed_ms, at)?;
        let slo = slo_checks(&drift, metrics);
        let status = status_of(&drift, &slo);
        let poll = Poll { number: i + 1, at_ms: at, made_ms, drift, slo, status };
        on_poll(&poll);
        if status == Status::Rollback {
            return Ok(Outcome { last: poll, polls: i + 1, stopped_early: i + 1 < instants.len() });
        }
        last = Some(poll);
    }
    let last = last.expect("Plan::instants is never empty");
    Ok(Outcome { polls: instants.len(), last, stopped_early: false })
}

#[cfg(test)]
mod tests;

/// The predicate type of a signed verification record.
pub const PREDICATE_TYPE: &str = "https://perfcert.dev/verification/v1";

/// What CodeDeploy was asked (`--codedeploy-deployment-id`).
pub struct CodeDeploy {
    pub deployment_id: String,
    /// `None` when no stop was asked for (the bake did not end in ROLLBACK); else CodeDeploy's
    /// status and message, or the one-line error.
    pub stop: Option<Result<(String, Option<String>), String>>,
}

/// What a verification record says besides the outcome: who, what, where the data came from.
pub struct Meta<'a> {
    pub service: &'a str,
    pub version: &'a str,
    pub plan: Plan,
    /// Each drift metric's (metric, endpoint, query), verbatim.
    pub sources: Vec<(String, String, String)>,
    /// The baseline file, its sha256, and each metric's value in it.
    pub baseline_file: &'a str,
    pub baseline_sha256: &'a str,
    pub baseline_values: Vec<(String, f64)>,
    /// `--baseline-from/--baseline-to`: the past range the baseline is the mean over (then
    /// there is no file and no sha256).
    pub baseline_range: Option<(i64, i64)>,
    pub codedeploy: Option<CodeDeploy>,
    /// How the record is signed: `cosign-key` or `cosign-keyless`.
    pub signature: &'a str,
    pub perfcert_version: &'a str,
}

/// The record's `baseline`: the file and its sha256, or (`kind: range`) the past range the
/// same queries were averaged over; each metric's value.
fn baseline(meta: &Meta) -> serde_json::Value {
    use serde_json::json;
    let values = meta.baseline_values.iter().map(|(m, v)| (m.clone(), json!(v))).collect::<serde_json::Map<_, _>>();
    match meta.baseline_range {
        None => json!({ "kind": "file", "ref": meta.baseline_file, "sha256": meta.baseline_sha256, "values": values }),
        Some((from, to)) => json!({
            "kind": "range",
            "ref": meta.baseline_file,
            "sha256": null,
            "range": { "from": crate::drift_report::time(from), "to": crate::drift_report::time(to) },
            "values": values,
        }),
    }
}

/// The verification record (`perf_verification.json`): `drift` is the last poll's drift report
/// (the JSON renderer's document), times are RFC 3339 UTC.
pub fn record(meta: &Meta, outcome: &Outcome, drift: serde_json::Value) -> serde_json::Value {
    use serde_json::json;
    let time = |ms: i64| crate::drift_report::time(ms);
    let last = &outcome.last;
    let slo: Vec<serde_json::Value> = last
        .slo
        .iter()
        .map(|c| {
            let (kind, limit) = match c.limit {
                Limit::Max(v) => ("max", v),
                Limit::Min(v) => ("min", v),
            };
            json!({ "metric": c.metric, "window": { "start": time(c.start_ms), "end": time(c.end_ms) },
                    "mean": c.mean, kind: limit, "ok": c.ok })
        })
        .collect();
    let breach = last.breach().map(|c| json!({ "metric": c.metric, "window_start": time(c.start_ms), "mean": c.mean }));
    json!({
        "schema": 1,
        "service": meta.service,
        "version": meta.version,
        "deployed_at": time(meta.plan.deployed_ms),
        "window": {
            "from": time(meta.plan.deployed_ms),
            "to": time(meta.plan.end_ms()),
            "judged_to": time(last.at_ms),
            "poll": crate::drift_report::duration(meta.plan.poll_ms),
        },
        "polls": outcome.polls,
        "stopped_early": outcome.stopped_early,
        "sources": meta.sources.iter().map(|(m, e, q)| json!({ "metric": m, "endpoint": e, "query": q })).collect::<Vec<_>>(),
        "baseline": baseline(meta),
        "drift": drift,
        "slo": slo,
        "slo_breach": breach,
        "status": last.status.as_str(),
        "codedeploy": meta.codedeploy.as_ref().map(|c| {
            let (status, message, error) = match &c.stop {
                None => (None, None, None),
                Some(Ok((status, message))) => (Some(status), message.as_ref(), None),
                Some(Err(e)) => (None, None, Some(e)),
            };
            json!({ "deployment_id": c.deployment_id, "stop_requested": c.stop.is_some(),
                    "status": status, "status_message": message, "error": error })
        }),
        "signature": meta.signature,
        "perfcert_version": meta.perfcert_version,
        "made_at": time(last.made_ms),
    })
}
