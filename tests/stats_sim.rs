//! The accuracy benchmark of the statistical decision (issue 14, "Measured, in the repo"): a
//! seeded simulator of run-level noise, scored with Wilson intervals.
//!
//! The model, per run (noise.md §6 layer S, reduced to run level):
//! - one environment draw shared by every metric of the run: a heavy-tailed (Student t with 4
//!   degrees of freedom, scaled to unit variance) shift of 0.8 × CoV, plus, in 5% of runs, a
//!   noisy neighbour that slows the whole run by 3 × CoV more;
//! - a metric-specific shift (normal, 0.52 × CoV);
//! - the within-run sampling error of the p95 of a log-normal request body (normal, 0.3 × CoV,
//!   as the order-statistic SE of a p95 over tens of thousands of requests), which the decision
//!   is also given as its floor;
//! - latency p95 moves with the environment, throughput against it (half as much), CPU at 0.7;
//! - the error rate: 0.1% of 50,000 requests per run, in bursts of 5 (dispersion 5), the run's
//!   rate moved 30% by the environment.
//!
//! Without the noisy neighbours the total SD of a log metric is the CoV; with them it is larger.
//! Injected changes are multiples of each metric's tolerance (+10% p95 and CPU, −5% throughput,
//! +0.2 pp errors). `ci_subset` runs in the suite with a fixed seed; `full_table` (ignored) prints
//! the whole table: `scripts/stats-table.sh`.

mod common;

use common::sim::{Rng, rate};
use perfcert::stats::{self, Check, Count, Data, Input, Settings, Verdict, Worse};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Metric {
    P95,
    Throughput,
    Cpu,
    Errors,
}

const METRICS: [Metric; 5] = [Metric::P95, Metric::P95, Metric::Throughput, Metric::Cpu, Metric::Errors];

impl Metric {
    fn check(self) -> Check {
        match self {
            Metric::P95 | Metric::Cpu => Check::Relative { worse: Worse::Higher, tolerance: 0.10 },
            Metric::Throughput => Check::Relative { worse: Worse::Lower, tolerance: 0.05 },
            Metric::Errors => Check::Absolute { worse: Worse::Higher, tolerance: 0.002 },
        }
    }
    fn load(self) -> f64 {
        match self {
            Metric::P95 | Metric::Errors => 1.0,
            Metric::Throughput => -0.5,
            Metric::Cpu => 0.7,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Metric::P95 => "p95",
            Metric::Throughput => "throughput",
            Metric::Cpu => "cpu",
            Metric::Errors => "error_rate",
        }
    }
}

const REQUESTS: f64 = 50_000.0;
const BURST: f64 = 5.0;

/// One side's runs for the given metrics: values (log-normal level) or error counts.
struct SideRuns {
    values: Vec<Vec<f64>>,
    counts: Vec<Vec<Count>>,
}

fn runs(rng: &mut Rng, metrics: &[Metric], n: usize, cov: f64, change: f64) -> SideRuns {
    let mut values = vec![Vec::new(); metrics.len()];
    let mut counts = vec![Vec::new(); metrics.len()];
    for _ in 0..n {
        let neighbour = if rng.uniform() < 0.05 { 3.0 * cov } else { 0.0 };
        let env = 0.8 * cov * rng.t4() + neighbour;
        for (i, m) in metrics.iter().enumerate() {
            let noise = m.load() * env + 0.52 * cov * rng.normal() + 0.3 * cov * rng.normal();
            match m {
                Metric::Errors => {
                    let p = 0.001 * (0.3 * env / cov).exp() + change * 0.002;
                    let errors = BURST * rng.poisson(REQUESTS * p / BURST);
                    counts[i].push(Count { errors: errors.min(REQUESTS), requests: REQUESTS, dispersion: BURST });
                }
                _ => {
                    let shift = match m.check() {
                        Check::Relative { worse: Worse::Higher, tolerance } => (change * tolerance).ln_1p(),
                        Check::Relative { worse: Worse::Lower, tolerance } => (-change * tolerance).ln_1p(),
                        _ => 0.0,
                    };
                    values[i].push(100.0 * (shift + noise).exp());
                }
            }
        }
    }
    SideRuns { values, counts }
}

fn judge(metrics: &[Metric], base: &SideRuns, cur: &SideRuns, cov: f64, settings: &Settings) -> stats::Decision {
    let inputs: Vec<Input> = metrics
        .iter()
        .enumerate()
        .map(|(i, m)| Input {
            check: m.check(),
            data: match m {
                Metric::Errors => Data::Counts { baseline: &base.counts[i], current: &cur.counts[i] },
                _ => Data::Values { baseline: &base.values[i], current: &cur.values[i], within_se: 0.3 * cov },
            },
        })
        .collect();
    stats::decide(&inputs, settings)
}

fn append(side: &mut SideRuns, more: SideRuns) {
    for (a, b) in side.values.iter_mut().zip(more.values) {
        a.extend(b);
    }
    for (a, b) in side.counts.iter_mut().zip(more.counts) {
        a.extend(b);
    }
}

/// Counts for one single-metric cell.
#[derive(Default, Debug)]
struct Cell {
    trials: u64,
    pass: u64,
    fail: u64,
    inconclusive: u64,
    /// INCONCLUSIVE with advice; how many of those the advised runs settled (correctly).
    advised: u64,
    settled: u64,
    settled_wrong: u64,
}

fn single(seed: u64, metric: Metric, cov: f64, n: usize, multiple: f64, trials: u64, follow: bool) -> Cell {
    single_at(&Settings::default(), seed, metric, cov, n, multiple, trials, follow)
}

#[allow(clippy::too_many_arguments)]
fn single_at(
    settings: &Settings,
    seed: u64,
    metric: Metric,
    cov: f64,
    n: usize,
    multiple: f64,
    trials: u64,
    follow: bool,
) -> Cell {
    let settings = *settings;
    let mut rng = Rng(seed ^ (cov.to_bits().rotate_left(7)) ^ ((n as u64) << 40) ^ multiple.to_bits() ^ metric as u64);
    let mut cell = Cell::default();
    let metrics = [metric];
    for _ in 0..trials {
        let mut base = runs(&mut rng, &metrics, n, cov, 0.0);
        let mut cur = runs(&mut rng, &metrics, n, cov, multiple);
        let d = judge(&metrics, &base, &cur, cov, &settings);
        cell.trials += 1;
        match d.verdict {
            Verdict::Pass => cell.pass += 1,
            Verdict::Fail => cell.fail += 1,
            Verdict::Inconclusive => {
                cell.inconclusive += 1;
                if let (true, Some(k)) = (follow, d.runs_needed) {
                    cell.advised += 1;
                    append(&mut base, runs(&mut rng, &metrics, k as usize, cov, 0.0));
                    append(&mut cur, runs(&mut rng, &metrics, k as usize, cov, multiple));
                    let again = judge(&metrics, &base, &cur, cov, &settings).verdict;
                    if again != Verdict::Inconclusive {
                        cell.settled += 1;
                        let right = if multiple > 1.0 { Verdict::Fail } else { Verdict::Pass };
                        if again != right {
                            cell.settled_wrong += 1;
                        }
                    }
                }
            }
        }
    }
    cell
}

/// Runs with every metric at its boundary: how many have any FAIL.
fn boundary_runs(seed: u64, cov: f64, n: usize, trials: u64) -> (u64, u64) {
    boundary_runs_at(&Settings::default(), seed, cov, n, trials)
}

fn boundary_runs_at(settings: &Settings, seed: u64, cov: f64, n: usize, trials: u64) -> (u64, u64) {
    let settings = *settings;
    let mut rng = Rng(seed ^ cov.to_bits() ^ ((n as u64) << 32) ^ 0xB0B);
    let mut any_fail = 0;
    for _ in 0..trials {
        let base = runs(&mut rng, &METRICS, n, cov, 0.0);
        let cur = runs(&mut rng, &METRICS, n, cov, 1.0);
        if judge(&METRICS, &base, &cur, cov, &settings).verdict == Verdict::Fail {
            any_fail += 1;
        }
    }
    (any_fail, trials)
}

const SEED: u64 = 0x5eed_2026_0014;

#[test]
fn ci_subset() {
    // Goals (issue 14): false FAIL <= 1% per metric at or below the tolerance; <= 5% per run with
    // every metric at its boundary; false PASS <= 1% at >= 1.5x; recall >= 95% at 1.5x, CoV 1%,
    // 5 runs per side, one row. The seed is fixed, so the margins below are exact, not luck.
    let trials = 1500;
    for (metric, cov, n) in
        [(Metric::P95, 0.03, 3), (Metric::P95, 0.05, 5), (Metric::Throughput, 0.03, 5), (Metric::Errors, 0.03, 5)]
    {
        let c = single(SEED, metric, cov, n, 1.0, trials, false);
        assert!(c.fail * 100 <= c.trials * 2, "false FAIL at the boundary, {metric:?} CoV {cov} n {n}: {c:?}");
        let c = single(SEED, metric, cov, n, 0.0, trials, false);
        assert!(c.fail * 100 <= c.trials, "false FAIL with no change, {metric:?} CoV {cov} n {n}: {c:?}");
        let c = single(SEED, metric, cov, n, 1.5, trials, false);
        assert!(c.pass * 100 <= c.trials, "false PASS at 1.5x, {metric:?} CoV {cov} n {n}: {c:?}");
    }
    let recall = single(SEED, Metric::P95, 0.01, 5, 1.5, trials, false);
    assert!(recall.fail * 100 >= recall.trials * 95, "recall at 1.5x, CoV 1%, 5 runs: {recall:?}");
    let (fails, runs) = boundary_runs(SEED, 0.03, 5, 600);
    assert!(fails * 100 <= runs * 5, "per-run false FAIL with every metric at its boundary: {fails}/{runs}");
}

#[test]
fn error_rate_boundary_false_fail_is_at_alpha() {
    // Issue 14's goal, false FAIL <= 1% (about alpha) at exactly the tolerance, for the error-rate
    // row: the between-run variance estimated from 3 runs used with normal quantiles gave 1.7%;
    // a t quantile on τ² alone still gave 1.10% at 10 runs. At this fixed seed the worst cell
    // gives 0.64% now (CoV 1%, 10 runs; t on the whole per-run variance): deterministic, under 1%.
    let trials = 2500;
    let mut seen = Vec::new();
    let mut worst = 0;
    for (cov, n) in [(0.01, 3), (0.10, 3), (0.03, 5), (0.01, 10)] {
        let c = single(SEED, Metric::Errors, cov, n, 1.0, trials, false);
        seen.push(format!("CoV {cov}, {n} runs: {}", rate(c.fail, c.trials)));
        worst = worst.max(c.fail);
    }
    assert!(worst * 100 <= trials, "false FAIL at the error-rate boundary: {seen:?}");
}

#[test]
#[ignore = "the full accuracy table: scripts/stats-table.sh"]
fn full_table() {
    let trials: u64 = std::env::var("PERFCERT_SIM_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(2000);
    let mut out = String::new();
    out.push_str(&format!(
        "seed {SEED:#x}, {trials} trials per cell, alpha 1%, family alpha 5%, Wilson 95% intervals\n\n"
    ));
    out.push_str(
        "| metric | CoV | runs/side | change | FAIL | PASS | INCONCLUSIVE | advice followed: settled (wrong) |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    // PERFCERT_SIM_ONLY=error_rate (a metric's name) and PERFCERT_SIM_CHANGES=1 (multiples of
    // the tolerance, comma-separated) run part of the table.
    let only = std::env::var("PERFCERT_SIM_ONLY").ok();
    let changes: Vec<f64> = std::env::var("PERFCERT_SIM_CHANGES")
        .ok()
        .map(|c| c.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![0.0, 0.5, 1.0, 1.5, 2.0]);
    let metrics = [Metric::P95, Metric::Throughput, Metric::Errors];
    for metric in metrics.into_iter().filter(|m| only.as_deref().is_none_or(|o| o == m.name())) {
        for cov in [0.01, 0.03, 0.05, 0.10] {
            for n in [3, 5, 10] {
                for &multiple in &changes {
                    let c = single(SEED, metric, cov, n, multiple, trials, true);
                    let settled = if c.advised > 0 {
                        format!("{} ({})", rate(c.settled, c.advised), rate(c.settled_wrong, c.advised.max(1)))
                    } else {
                        "-".into()
                    };
                    out.push_str(&format!(
                        "| {} | {:.0}% | {n} | {multiple}x | {} | {} | {} | {settled} |\n",
                        metric.name(),
                        cov * 100.0,
                        rate(c.fail, c.trials),
                        rate(c.pass, c.trials),
                        rate(c.inconclusive, c.trials),
                    ));
                }
            }
        }
    }
    if only.is_some() {
        let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
        return;
    }
    out.push_str("\nPer run, all five metrics (2 x p95, throughput, CPU, error rate) at their boundary: any FAIL\n\n");
    out.push_str("| CoV | runs/side | any FAIL |\n|---|---|---|\n");
    for cov in [0.01, 0.03, 0.05, 0.10] {
        for n in [3, 5, 10] {
            let (k, t) = boundary_runs(SEED, cov, n, trials);
            out.push_str(&format!("| {:.0}% | {n} | {} |\n", cov * 100.0, rate(k, t)));
        }
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
}

/// The README's summary: each goal of issue 14 as the worst cell over metrics (p95, throughput,
/// error rate), CoV 1-10% and 3-10 runs per side, at one look with `alpha: 0.01` (`looks: 1`) and
/// under the default policy (`alpha: 0.01` over 3 looks: 0.0033 per look).
#[test]
#[ignore = "the README's summary table: scripts/stats-table.sh"]
fn readme_table() {
    let trials: u64 = std::env::var("PERFCERT_SIM_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(2000);
    let one = Settings::default();
    let three = Settings { alpha: 0.01 / 3.0, family_alpha: 0.05 / 3.0, ..Settings::default() };
    let grid = || {
        [Metric::P95, Metric::Throughput, Metric::Errors]
            .into_iter()
            .flat_map(|m| [0.01, 0.03, 0.10].into_iter().flat_map(move |cov| [3, 5, 10].map(move |n| (m, cov, n))))
    };
    // The worst cell of a rate over the grid, with where it was.
    let worst = |settings: &Settings, multiple: f64, pick: &dyn Fn(&Cell) -> u64| -> String {
        let (k, n, at) = grid()
            .map(|(m, cov, n)| {
                let c = single_at(settings, SEED, m, cov, n, multiple, trials, false);
                (pick(&c), c.trials, format!("{}, CoV {:.0}%, {n} runs", m.name(), cov * 100.0))
            })
            .max_by_key(|(k, _, _)| *k)
            .expect("a grid");
        format!("{} ({at})", rate(k, n))
    };
    let mut out = format!(
        "seed {SEED:#x}, {trials} trials per cell; worst cell over p95, throughput and error rate at CoV 1, 3 and 10% with 3, 5 and 10 runs per side\n\n\
         | goal | one look at alpha 1% (`looks: 1`) | default: alpha 1% over 3 looks |\n|---|---|---|\n"
    );
    let row = |out: &mut String, goal: &str, f: &dyn Fn(&Settings) -> String| {
        out.push_str(&format!("| {goal} | {} | {} |\n", f(&one), f(&three)));
    };
    row(&mut out, "false FAIL, change at 0.5x the tolerance (<= 1%)", &|s| worst(s, 0.5, &|c| c.fail));
    row(&mut out, "false FAIL, change exactly at the tolerance (about alpha)", &|s| worst(s, 1.0, &|c| c.fail));
    row(&mut out, "false PASS, change at 1.5x the tolerance (<= 1%)", &|s| worst(s, 1.5, &|c| c.pass));
    row(&mut out, "false FAIL per run, all 5 metrics at their boundary, CoV 3%, 5 runs (<= 5%)", &|s| {
        let (k, n) = boundary_runs_at(s, SEED, 0.03, 5, trials);
        rate(k, n)
    });
    row(&mut out, "recall: FAIL at 1.5x, p95, CoV 1%, 5 runs per side (>= 95%)", &|s| {
        let c = single_at(s, SEED, Metric::P95, 0.01, 5, 1.5, trials, false);
        rate(c.fail, c.trials)
    });
    row(&mut out, "runs per side for 95% recall at 1.5x, p95, CoV 1%", &|s| {
        (3..=12)
            .find_map(|n| {
                let c = single_at(s, SEED, Metric::P95, 0.01, n, 1.5, trials, false);
                (c.fail * 100 >= c.trials * 95).then(|| format!("{n} ({})", rate(c.fail, c.trials)))
            })
            .unwrap_or_else(|| "more than 12".into())
    });
    row(&mut out, "A/A (no change) PASS, p95, CoV 3%, 5 runs per side", &|s| {
        let c = single_at(s, SEED, Metric::P95, 0.03, 5, 0.0, trials, false);
        rate(c.pass, c.trials)
    });
    row(&mut out, "INCONCLUSIVE at 1.5x settled by following runs_needed, p95, CoV 3%, 3 runs", &|s| {
        let c = single_at(s, SEED, Metric::P95, 0.03, 3, 1.5, trials, true);
        format!("{} of {} advised ({} wrong)", rate(c.settled, c.advised.max(1)), c.advised, c.settled_wrong)
    });
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
}
