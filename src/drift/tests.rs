//! The drift rules at their boundaries.

use super::*;
use crate::policy::{self, RollbackPolicy};

const S: i64 = 15_000;
const W: i64 = 300_000;
const T0: i64 = 1_790_000_000_000;

fn policy_with(on_no_data: OnNoData, rollback: bool) -> DriftPolicy {
    let yaml = format!(
        "metrics:\n  latency_p95: {{ max_increase: 10% }}\n  rps: {{ max_decrease: 5% }}\ndrift:\n  on_no_data: {}\n  metrics:\n    latency_p95: {{}}\n    rps: {{}}\n{}",
        on_no_data.as_str(),
        if rollback { "  rollback: { metric: latency_p95 }\n" } else { "" }
    );
    policy::parse("p.yml", &yaml).unwrap().drift.unwrap()
}

fn base(value: f64) -> Option<Baseline> {
    Some(Baseline { value, reference: "range".into(), sha256: None, query: None, period_ms: None })
}

/// `per_window[i]` samples per window (all of value `values[i]`), 20 steps per window.
fn series(metric: &str, b: f64, windows: &[(f64, usize)]) -> Series {
    let mut samples = vec![];
    for (i, &(v, n)) in windows.iter().enumerate() {
        for k in 0..n {
            samples.push((T0 + i as i64 * W + k as i64 * S, v));
        }
    }
    Series { metric: metric.into(), baseline: base(b), samples, doubts: vec![] }
}

fn run(p: &DriftPolicy, windows: usize, series: Vec<Series>) -> DriftResult {
    evaluate(p, &Inputs { from_ms: T0, to_ms: T0 + windows as i64 * W, series })
}

fn full(v: f64, n: usize) -> Vec<(f64, usize)> {
    vec![(v, 20); n]
}

fn statuses(m: &MetricResult) -> Vec<&'static str> {
    m.windows.iter().map(|w| w.status.as_str()).collect()
}

#[test]
fn policy_defaults_and_directions() {
    let p = policy_with(OnNoData::Inconclusive, true);
    assert_eq!((p.step_ms, p.window_ms, p.band, p.ticket_after), (S, W, 0.10, 3));
    assert_eq!(p.metrics[0].direction, Direction::Up);
    assert_eq!(p.metrics[1].direction, Direction::Down);
    assert_eq!(p.rollback, Some(RollbackPolicy { metric: "latency_p95".into(), factor: 1.5, for_ms: 600_000 }));
}

#[test]
fn exactly_ten_percent_is_ok_and_just_beyond_breaches() {
    let p = policy_with(OnNoData::Inconclusive, false);
    let r = run(
        &p,
        3,
        vec![
            series("latency_p95", 100.0, &[(110.0, 20), (110.001, 20), (90.0, 20)]),
            series("rps", 100.0, &[(90.0, 20), (89.999, 20), (200.0, 20)]),
        ],
    );
    assert_eq!(statuses(&r.metrics[0]), ["OK", "BREACH", "OK"]);
    assert_eq!(statuses(&r.metrics[1]), ["OK", "BREACH", "OK"]);
    assert_eq!(r.metrics[0].windows[0].lower, Some(90.0));
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.status.exit().code(), 1);
}

#[test]
fn the_third_consecutive_breach_raises_the_ticket() {
    let p = policy_with(OnNoData::Inconclusive, false);
    let two = run(
        &p,
        3,
        vec![
            series("latency_p95", 100.0, &[(120.0, 20), (120.0, 20), (100.0, 20)]),
            series("rps", 100.0, &full(100.0, 3)),
        ],
    );
    assert_eq!((two.metrics[0].ticket, two.metrics[0].max_consecutive_breaches), (false, 2));
    let three = run(&p, 4, vec![series("latency_p95", 100.0, &full(120.0, 4)), series("rps", 100.0, &full(100.0, 4))]);
    let m = &three.metrics[0];
    assert_eq!((m.ticket, m.max_consecutive_breaches, m.ticket_at_ms), (true, 4, Some(T0 + 3 * W)));
}

#[test]
fn nodata_breaks_a_streak() {
    let p = policy_with(OnNoData::Inconclusive, false);
    let r = run(
        &p,
        5,
        vec![
            series("latency_p95", 100.0, &[(120.0, 20), (120.0, 20), (0.0, 0), (120.0, 20), (120.0, 20)]),
            series("rps", 100.0, &full(100.0, 5)),
        ],
    );
    let m = &r.metrics[0];
    assert_eq!(statuses(m), ["BREACH", "BREACH", "NODATA", "BREACH", "BREACH"]);
    assert_eq!((m.ticket, m.max_consecutive_breaches, m.max_consecutive_no_data), (false, 2, 1));
}

#[test]
fn a_half_empty_window_is_nodata_and_half_full_is_not() {
    let p = policy_with(OnNoData::Inconclusive, false);
    let r = run(
        &p,
        2,
        vec![series("latency_p95", 100.0, &[(100.0, 9), (100.0, 10)]), series("rps", 100.0, &full(100.0, 2))],
    );
    assert_eq!(statuses(&r.metrics[0]), ["NODATA", "OK"]);
    assert_eq!((r.metrics[0].windows[0].mean, r.metrics[0].windows[0].samples), (None, 9));
    // NaN and ±Inf are missing, not values.
    let mut s = series("latency_p95", 100.0, &[(100.0, 20)]);
    for (i, v) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY].iter().enumerate() {
        for k in 0..4 {
            s.samples[i * 4 + k].1 = *v;
        }
    }
    let r = run(&p, 1, vec![s, series("rps", 100.0, &full(100.0, 1))]);
    assert_eq!((r.metrics[0].windows[0].samples, r.metrics[0].windows[0].status), (8, WindowStatus::NoData));
}

#[test]
fn consecutive_nodata_follows_on_no_data() {
    let data = |p: &DriftPolicy| {
        run(
            p,
            4,
            vec![
                series("latency_p95", 100.0, &[(100.0, 20), (0.0, 0), (0.0, 0), (100.0, 20)]),
                series("rps", 100.0, &full(100.0, 4)),
            ],
        )
    };
    assert_eq!(data(&policy_with(OnNoData::Inconclusive, false)).status, Status::Inconclusive);
    assert_eq!(data(&policy_with(OnNoData::Fail, false)).status, Status::Fail);
    assert_eq!(data(&policy_with(OnNoData::Pass, false)).status, Status::Pass);
    // One NODATA window alone is not inconclusive.
    let p = policy_with(OnNoData::Inconclusive, false);
    let one = run(
        &p,
        3,
        vec![
            series("latency_p95", 100.0, &[(100.0, 20), (0.0, 0), (100.0, 20)]),
            series("rps", 100.0, &full(100.0, 3)),
        ],
    );
    assert_eq!(one.status, Status::Pass);
}

#[test]
fn zero_valid_windows_is_never_pass() {
    for on_no_data in [OnNoData::Inconclusive, OnNoData::Pass, OnNoData::Fail] {
        let p = policy_with(on_no_data, true);
        let want = if on_no_data == OnNoData::Fail { Status::Fail } else { Status::Inconclusive };
        // No series at all, an empty range, and a range shorter than a window.
        assert_eq!(run(&p, 3, vec![]).status, want);
        assert_eq!(
            run(&p, 0, vec![series("latency_p95", 100.0, &full(100.0, 1)), series("rps", 1.0, &full(1.0, 1))]).status,
            want
        );
        let short = evaluate(
            &p,
            &Inputs {
                from_ms: T0,
                to_ms: T0 + W - 1,
                series: vec![series("latency_p95", 100.0, &full(100.0, 1)), series("rps", 1.0, &full(1.0, 1))],
            },
        );
        assert_eq!(short.status, want);
        assert!(short.metrics[0].reasons.iter().any(|r| r.contains("no whole window")));
    }
    // A metric without a usable baseline is inconclusive, whatever its data.
    let p = policy_with(OnNoData::Inconclusive, false);
    for b in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::MAX] {
        let r = run(&p, 2, vec![series("latency_p95", b, &full(100.0, 2)), series("rps", 100.0, &full(100.0, 2))]);
        assert_eq!(r.metrics[0].status, Status::Inconclusive, "baseline {b}");
        assert!(r.metrics[0].windows.iter().all(|w| w.lower.is_none() && w.status == WindowStatus::NoData));
    }
}

#[test]
fn rollback_needs_every_sample_above_for_the_whole_span() {
    let p = policy_with(OnNoData::Inconclusive, true);
    // 10 minutes is 40 steps: samples at 0..=40 steps above 1.5x raise it at step 40.
    let above = |n: usize, gap_at: Option<usize>, v: f64| {
        let mut samples: Vec<(i64, f64)> = (0..n).map(|k| (T0 + k as i64 * S, v)).collect();
        if let Some(g) = gap_at {
            samples.retain(|&(t, _)| t != T0 + g as i64 * S && t != T0 + (g as i64 + 1) * S);
        }
        Series { metric: "latency_p95".into(), baseline: base(100.0), samples, doubts: vec![] }
    };
    let rps = || series("rps", 100.0, &full(100.0, 4));
    let r = run(&p, 4, vec![above(41, None, 151.0), rps()]);
    let rb = r.rollback.as_ref().unwrap();
    assert_eq!((rb.flag, rb.since_ms, rb.raised_at_ms), (true, Some(T0), Some(T0 + 600_000)));
    assert_eq!((r.status, r.status.exit().code()), (Status::Rollback, 6));
    // One step short of 10 minutes.
    assert!(!run(&p, 4, vec![above(40, None, 151.0), rps()]).rollback.unwrap().flag);
    // Exactly 1.5x is not above.
    assert!(!run(&p, 4, vec![above(41, None, 150.0), rps()]).rollback.unwrap().flag);
    // A gap of 3 steps (two missing samples) breaks the span; of 2 steps (one missing) does not.
    assert!(!run(&p, 4, vec![above(41, Some(20), 151.0), rps()]).rollback.unwrap().flag);
    let mut one_missing = above(41, None, 151.0);
    one_missing.samples.remove(20);
    assert!(run(&p, 4, vec![one_missing, rps()]).rollback.unwrap().flag);
    // A NaN sample is missing: two in a row are a 3-step gap.
    let mut nans = above(41, None, 151.0);
    nans.samples[20].1 = f64::NAN;
    nans.samples[21].1 = f64::NAN;
    assert!(!run(&p, 4, vec![nans, rps()]).rollback.unwrap().flag);
    // One sample at or below the threshold restarts the span.
    let mut dip = above(60, None, 151.0);
    dip.samples[30].1 = 149.0;
    let rb = run(&p, 4, vec![dip, rps()]).rollback.unwrap();
    assert_eq!((rb.flag, rb.since_ms), (false, None));
    // It does not wait for a window to end: 10 minutes of samples in a range of 10m15s (two
    // whole windows and a part) raise it at the last one.
    let r = evaluate(&p, &Inputs { from_ms: T0, to_ms: T0 + 615_000, series: vec![above(41, None, 151.0), rps()] });
    assert_eq!((r.metrics[0].windows.len(), r.rollback.unwrap().raised_at_ms), (2, Some(T0 + 600_000)));
    // No baseline: the rule cannot be judged and says why.
    let mut nb = above(41, None, 151.0);
    nb.baseline = None;
    let rb = run(&p, 4, vec![nb, rps()]).rollback.unwrap();
    assert_eq!((rb.flag, rb.reason.as_deref()), (false, Some("no baseline")));
}

#[test]
fn samples_outside_the_range_and_unknown_series_are_ignored() {
    let p = policy_with(OnNoData::Inconclusive, false);
    let mut s = series("latency_p95", 100.0, &full(100.0, 1));
    s.samples.push((T0 - 1, 1e9));
    s.samples.push((T0 + W, 1e9));
    let r = run(&p, 1, vec![s, series("rps", 100.0, &full(100.0, 1)), series("cpu", 1.0, &full(1.0, 1))]);
    assert_eq!(r.status, Status::Pass);
    assert_eq!(r.metrics[0].windows[0].samples, 20);
    assert_eq!(r.warnings.len(), 1);
}

#[test]
fn drift_policy_errors_name_the_key() {
    let base = "metrics:\n  p95: { max_increase: 10% }\ndrift:\n";
    let err = |block: &str| policy::parse("p.yml", &format!("{base}{block}")).unwrap_err().to_string();
    let cases = [
        ("  metrics: { p95: {} }\n  stepp: 15s\n", "drift.stepp: unknown field `stepp`"),
        (
            "  metrics: { p95: { direction: sideways } }\n",
            "p.yml:4:32: drift.metrics.p95.direction: expected up, down or both, found \"sideways\"",
        ),
        ("  metrics: { cpu: {} }\n", "drift.metrics.cpu: no direction; expected `direction: up`"),
        ("  metrics: { p95: {} }\n  step: 10 parsecs\n", "drift.step: expected a duration"),
        ("  metrics: { p95: {} }\n  window: 20s\n", "drift.window: expected a whole multiple of step (15000ms)"),
        (
            "  metrics: { p95: {} }\n  band: 0.1\n",
            "drift.band: expected a percentage above 0% and at most 100% such as 10%, found 0.1",
        ),
        ("  metrics: { p95: {} }\n  band: 0%\n", "drift.band: expected a percentage"),
        ("  metrics: { p95: {} }\n  ticket_after: 2.5\n", "drift.ticket_after: expected a whole number of windows"),
        ("  metrics: { p95: {} }\n  ticket_after: .nan\n", "drift.ticket_after"),
        ("  metrics: { p95: {} }\n  on_no_data: ignore\n", "drift.on_no_data: expected inconclusive, fail or pass"),
        (
            "  metrics: { p95: {} }\n  rollback: { metric: cpu }\n",
            "drift.rollback.metric: `cpu` is not under drift.metrics; expected one of p95",
        ),
        (
            "  metrics: { p95: {} }\n  rollback: { metric: p95, factor: 1 }\n",
            "drift.rollback.factor: expected a finite number above 1",
        ),
        ("  metrics: { p95: {} }\n  rollback: { metric: p95, factor: .inf }\n", "drift.rollback.factor"),
        (
            "  metrics: { p95: {} }\n  rollback: { metric: p95, for: 1s }\n",
            "drift.rollback.for: expected a duration of at least 15000ms",
        ),
        ("  metrics: { p95: {} }\n  rollback: { metric: p95, fro: 1m }\n", "drift.rollback.fro: unknown field `fro`"),
        ("  metrics: {}\n", "drift.metrics: no metrics"),
        ("  step: 15s\n", "drift: missing field `metrics`"),
        ("  metrics: { p95: {} }\n  band: ~\n", "drift.band: no value"),
        (
            "  metrics: { p95: {}, rps: { direction: down } }\n  rollback: { metric: rps }\n",
            "drift.rollback.metric: `rps` has direction down; the rollback rule watches a rise",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .map(|(block, want)| (block, want, err(block)))
        .filter(|(_, want, got)| !got.contains(*want))
        .map(|(block, want, got)| format!("{block:?}\n  got:  {got}\n  want: {want}"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let p = policy::parse("p.yml", &format!("{base}  step: 30s\n  window: 1h\n  band: 5%\n  ticket_after: 1\n  on_no_data: pass\n  rollback: {{ metric: p95, factor: 2, for: 90 }}\n  metrics: {{ p95: {{ direction: both, unit: ms }} }}\n"))
        .unwrap()
        .drift
        .unwrap();
    assert_eq!(
        (p.step_ms, p.window_ms, p.band, p.ticket_after, p.on_no_data),
        (30_000, 3_600_000, 0.05, 1, OnNoData::Pass)
    );
    assert_eq!(p.rollback, Some(RollbackPolicy { metric: "p95".into(), factor: 2.0, for_ms: 90_000 }));
    assert_eq!((p.metrics[0].direction, p.metrics[0].unit.as_deref()), (Direction::Both, Some("ms")));
}

#[test]
fn a_hand_built_policy_with_invalid_settings_judges_nothing_and_does_not_panic() {
    let valid = policy_with(OnNoData::Pass, true);
    let data = || vec![series("latency_p95", 100.0, &full(200.0, 4)), series("rps", 100.0, &full(100.0, 4))];
    let broken: [fn(&mut DriftPolicy); 6] = [
        |p| p.step_ms = 0,
        |p| p.window_ms = 0,
        |p| p.window_ms = p.step_ms * 3 / 2,
        |p| p.band = f64::NAN,
        |p| p.ticket_after = 0,
        |p| p.step_ms = -15_000,
    ];
    for (i, breaking) in broken.iter().enumerate() {
        let mut p = valid.clone();
        breaking(&mut p);
        let r = run(&p, 4, data());
        assert_eq!(r.status, Status::Inconclusive, "case {i}");
        assert!(r.metrics.iter().all(|m| m.windows.is_empty() && !m.ticket), "case {i}");
        assert!(r.warnings.iter().any(|w| w.starts_with("invalid drift settings")), "case {i}");
    }
    for (factor, for_ms) in [(1.0, 600_000), (f64::NAN, 600_000), (f64::INFINITY, 600_000), (1.5, -1)] {
        let mut p = valid.clone();
        p.rollback = Some(RollbackPolicy { metric: "latency_p95".into(), factor, for_ms });
        let rb = run(&p, 4, data()).rollback.unwrap();
        assert!(!rb.flag && rb.reason.as_deref().is_some_and(|r| r.starts_with("invalid rule")), "{factor} {for_ms}");
    }
}

#[test]
fn the_fixture_policy_with_every_drift_key_parses() {
    let text = include_str!("../../fixtures/drift-rules/perf_thresholds.yml");
    let p = policy::parse("perf_thresholds.yml", text).unwrap().drift.unwrap();
    let directions: Vec<(&str, Direction, Option<&str>)> =
        p.metrics.iter().map(|m| (m.name.as_str(), m.direction, m.unit.as_deref())).collect();
    assert_eq!(
        directions,
        [
            ("latency_p95", Direction::Up, Some("ms")),
            ("throughput", Direction::Down, Some("req/s")),
            ("cpu_utilization", Direction::Both, Some("%"))
        ]
    );
    assert_eq!(p.rollback.map(|r| r.metric), Some("latency_p95".to_string()));
}

#[test]
fn a_series_that_stopped_is_not_healthy() {
    // Three good windows, then nothing: the newest window is what a bake is for.
    let p = policy_with(OnNoData::Inconclusive, false);
    let mut w = full(100.0, 3);
    w.push((100.0, 0));
    let r = run(&p, 4, vec![series("latency_p95", 100.0, &w), series("rps", 100.0, &full(100.0, 4))]);
    assert_eq!(statuses(&r.metrics[0]), ["OK", "OK", "OK", "NODATA"]);
    assert_eq!(r.metrics[0].status, Status::Inconclusive, "{:?}", r.metrics[0].reasons);
    assert!(r.metrics[0].reasons.iter().any(|x| x.contains("last window has no data")));
    // One gap in the middle is still tolerated; on_no_data: pass ignores the trailing gap too.
    let mut w = full(100.0, 1);
    w.push((100.0, 0));
    w.extend(full(100.0, 2));
    let r = run(&p, 4, vec![series("latency_p95", 100.0, &w), series("rps", 100.0, &full(100.0, 4))]);
    assert_eq!(r.metrics[0].status, Status::Pass);
    let p = policy_with(OnNoData::Pass, false);
    let mut w = full(100.0, 3);
    w.push((100.0, 0));
    let r = run(&p, 4, vec![series("latency_p95", 100.0, &w), series("rps", 100.0, &full(100.0, 4))]);
    assert_eq!(r.metrics[0].status, Status::Pass);
}

#[test]
fn a_repeated_instant_counts_once() {
    // One real sample repeated 40 times is one sample: the window is NODATA, not full.
    let p = policy_with(OnNoData::Inconclusive, false);
    let mut s = series("latency_p95", 100.0, &[(100.0, 1)]);
    s.samples = vec![(T0, 100.0); 40];
    let r = run(&p, 1, vec![s, series("rps", 100.0, &full(100.0, 1))]);
    assert_eq!(r.metrics[0].windows[0].samples, 1);
    assert_eq!(statuses(&r.metrics[0]), ["NODATA"]);
    assert_ne!(r.metrics[0].status, Status::Pass);
}

#[test]
fn doubts_make_a_pass_inconclusive_but_leave_a_breach_failing() {
    let p = policy_with(OnNoData::Inconclusive, false);
    let partial = "latency_p95: the server answered with warnings (the data may be partial)".to_string();
    let mut healthy = series("latency_p95", 100.0, &full(100.0, 3));
    let mut breach = series("rps", 100.0, &full(50.0, 3));
    healthy.doubts.push(partial.clone());
    breach.doubts.push("rps: partial".into());
    let r = run(&p, 3, vec![healthy, breach]);
    assert_eq!(r.metrics[0].status, Status::Inconclusive, "a partial answer never judges healthy");
    assert!(r.metrics[0].reasons.contains(&partial), "{:?}", r.metrics[0].reasons);
    assert_eq!(r.metrics[1].status, Status::Fail, "a breach on what came back stands");
    assert_eq!(r.status, Status::Fail);
    let r = run(&p, 3, vec![series("latency_p95", 100.0, &full(100.0, 3)), series("rps", 100.0, &full(100.0, 3))]);
    assert_eq!(r.status, Status::Pass, "without doubts the same data passes");
}
