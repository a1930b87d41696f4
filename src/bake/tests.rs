//! The bake loop with a fake clock: a 30-minute bake runs in microseconds, and the poll that
//! sees a breach is known exactly.

use super::*;
use crate::drift::{self, Baseline, Inputs, Series};
use crate::policy;

const T0: i64 = 1_796_040_000_000;
const MIN: i64 = 60_000;

/// A clock that jumps to whatever instant it is asked to wait for.
struct Fake {
    now: i64,
    slept: Vec<i64>,
}

impl Clock for Fake {
    fn now_ms(&mut self) -> i64 {
        self.now
    }
    fn sleep_until(&mut self, at_ms: i64) {
        self.slept.push(at_ms);
        self.now = self.now.max(at_ms);
    }
}

fn policy(extra: &str) -> policy::Policy {
    let yaml = format!(
        "metrics:\n  latency_p95: {{ max_increase: 10%, max: 300 }}\n\
         drift:\n  step: 15s\n  window: 5m\n  band: 10%\n{extra}  metrics: {{ latency_p95: {{}} }}\n"
    );
    policy::parse("perf_thresholds.yml", &yaml).unwrap()
}

/// 15 s samples from T0 of `value(minutes since T0)`, `None` for a gap.
fn bake(p: &policy::Policy, value: impl Fn(i64) -> Option<f64>) -> (Outcome, Vec<String>, Fake) {
    let rules = p.drift.clone().unwrap();
    let samples: Vec<(i64, f64)> =
        (0..120).filter_map(|k| value(k * 15_000 / MIN).map(|v| (T0 + k * 15_000, v))).collect();
    let plan = Plan { deployed_ms: T0, duration_ms: 30 * MIN, poll_ms: MIN };
    let mut clock = Fake { now: T0, slept: vec![] };
    let mut lines = vec![];
    let evaluate = |from: i64, to: i64| -> Result<DriftResult, ()> {
        let baseline =
            Baseline { value: 200.0, reference: "stable.json".into(), sha256: None, query: None, period_ms: None };
        let samples = samples.iter().copied().filter(|&(t, _)| t < to).collect();
        let series = vec![Series { metric: "latency_p95".into(), baseline: Some(baseline), samples, doubts: vec![] }];
        Ok(drift::evaluate(&rules, &Inputs { from_ms: from, to_ms: to, series }))
    };
    let outcome = run(plan, &p.metrics, &mut clock, evaluate, |poll| {
        lines.push(format!("{} {}", poll.number, poll.status.as_str()))
    })
    .unwrap();
    (outcome, lines, clock)
}

#[test]
fn a_healthy_bake_polls_every_minute_to_its_end_and_passes() {
    let (outcome, lines, clock) = bake(&policy(""), |_| Some(200.0));
    assert_eq!(outcome.polls, 30);
    assert_eq!(lines.len(), 30);
    assert_eq!(outcome.last.status, Status::Pass);
    assert!(!outcome.stopped_early);
    assert_eq!(clock.slept, (1..=30).map(|k| T0 + k * MIN).collect::<Vec<_>>());
    assert_eq!(outcome.last.slo.len(), 6, "six complete 5-minute windows, each checked against max");
    assert!(outcome.last.slo.iter().all(|c| c.ok && c.limit == Limit::Max(300.0)));
}

#[test]
fn an_slo_breach_stops_the_bake_within_five_minutes_of_its_start() {
    // Above the 300 ceiling from minute 10: the window [10, 15) breaches and is complete at 15.
    let (outcome, lines, clock) = bake(&policy(""), |m| Some(if m < 10 { 200.0 } else { 350.0 }));
    assert_eq!(outcome.last.status, Status::Rollback);
    assert!(outcome.stopped_early);
    assert_eq!(outcome.polls, 15);
    assert_eq!(lines.last().unwrap(), "15 ROLLBACK");
    let breach = outcome.last.breach().unwrap();
    assert_eq!((breach.start_ms, breach.end_ms, breach.mean), (T0 + 10 * MIN, T0 + 15 * MIN, 350.0));
    let detected = outcome.last.made_ms - (T0 + 10 * MIN);
    assert!(detected <= 5 * MIN, "detected {detected} ms after the breach began");
    assert_eq!(clock.now, T0 + 15 * MIN, "no poll after the breach");
}

#[test]
fn the_rollback_flag_stops_the_bake_without_waiting_for_a_window() {
    // 2x the baseline from minute 3 (below the SLO ceiling of 500 given here) for 2 minutes.
    let p = {
        let mut p = policy("  rollback: { metric: latency_p95, factor: 1.5, for: 2m }\n");
        p.metrics[0].max = Some(500.0);
        p
    };
    let (outcome, _, _) = bake(&p, |m| Some(if m < 3 { 200.0 } else { 400.0 }));
    assert_eq!(outcome.last.status, Status::Rollback);
    assert!(outcome.last.breach().is_none(), "no SLO breach: the flag alone");
    assert!(outcome.last.drift.rollback.as_ref().unwrap().flag);
    assert_eq!(outcome.polls, 6, "the flag holds at 3m + 2m: seen by the poll at 6m");
}

#[test]
fn gaps_make_the_bake_inconclusive_never_a_pass_and_a_drift_breach_fails_it() {
    let (outcome, _, _) = bake(&policy(""), |m| (m < 5).then_some(200.0));
    assert_eq!((outcome.polls, outcome.last.status), (30, Status::Inconclusive));
    // +20% is a drift breach but under the SLO ceiling: FAIL at the end, no roll-back.
    let (outcome, _, _) = bake(&policy(""), |m| Some(if m < 10 { 200.0 } else { 240.0 }));
    assert_eq!((outcome.polls, outcome.last.status), (30, Status::Fail));
}

#[test]
fn poll_instants_end_at_the_duration_and_a_floor_is_checked_too() {
    let plan = Plan { deployed_ms: 0, duration_ms: 150_000, poll_ms: MIN };
    assert_eq!(plan.instants(), [MIN, 2 * MIN, 150_000]);
    assert_eq!(Plan { deployed_ms: 5, duration_ms: 0, poll_ms: MIN }.instants(), [5]);
    let mut p = policy("");
    p.metrics[0].max = None;
    p.metrics[0].min = Some(250.0);
    let (outcome, _, _) = bake(&p, |_| Some(200.0));
    assert_eq!((outcome.polls, outcome.last.status), (5, Status::Rollback));
    assert_eq!(outcome.last.breach().unwrap().limit, Limit::Min(250.0));
}
