//! The accuracy of `--noise-from` (history as the noise model), on a seeded simulator of
//! run-level noise with heavy tails: the allowance the stats module makes for them (a df cap,
//! `stats::HISTORY_DF_CAP`, and the homogeneity test) must keep the boundary false FAIL at alpha.
//!
//! Per run, as in tests/stats_sim.rs: an environment draw 0.8 × CoV × t4 (unit variance), a noisy
//! neighbour in 5% of runs (+3 × CoV), a metric-specific 0.52 × CoV and a within-run 0.3 × CoV
//! normal. History: earlier certificates of 3 + 3 runs each, every certificate at its own level
//! (real changes between releases, which pooling must ignore). `ci_subset` runs in the suite;
//! `table` (ignored) prints the whole comparison with Welch: `scripts/stats-table.sh`.

mod common;

use common::sim::Rng;
use perfcert::stats::{self, Check, Data, Input, Pooled, Settings, Verdict, Worse};

/// One run's p95 at `level` (ln scale).
fn run(rng: &mut Rng, cov: f64, level: f64) -> f64 {
    let neighbour = if rng.uniform() < 0.05 { 3.0 * cov } else { 0.0 };
    let noise = 0.8 * cov * rng.t4() + neighbour + 0.52 * cov * rng.normal() + 0.3 * cov * rng.normal();
    100.0 * (level + noise).exp()
}

const TOLERANCE: f64 = 0.10;

/// History of `certificates` earlier certificates, 3 + 3 runs each, pooled as `perfcert::history`
/// pools them (the within-side variance of ln values).
fn history(rng: &mut Rng, cov: f64, certificates: usize) -> Pooled {
    let (mut ss, mut df) = (0.0, 0.0);
    for _ in 0..certificates * 2 {
        let level = 0.2 * rng.normal();
        let logs: Vec<f64> = (0..3).map(|_| run(rng, cov, level).ln()).collect();
        let mean = logs.iter().sum::<f64>() / 3.0;
        ss += logs.iter().map(|y| (y - mean).powi(2)).sum::<f64>();
        df += 2.0;
    }
    Pooled { variance: ss / df, df }
}

#[derive(Default, Debug)]
struct Cell {
    trials: u64,
    pass: u64,
    fail: u64,
}

/// One p95 row, `nb` baseline and `nc` current runs, the change a multiple of the tolerance.
fn cell(seed: u64, cov: f64, nb: usize, nc: usize, multiple: f64, trials: u64, with_history: bool) -> Cell {
    let mut rng = Rng(seed ^ cov.to_bits() ^ ((nb as u64) << 48) ^ ((nc as u64) << 40) ^ multiple.to_bits());
    let settings = Settings::default();
    let check = Check::Relative { worse: Worse::Higher, tolerance: TOLERANCE };
    let shift = (multiple * TOLERANCE).ln_1p();
    let mut c = Cell::default();
    for _ in 0..trials {
        let h = history(&mut rng, cov, 8);
        let b: Vec<f64> = (0..nb).map(|_| run(&mut rng, cov, 0.0)).collect();
        let cur: Vec<f64> = (0..nc).map(|_| run(&mut rng, cov, shift)).collect();
        let input = Input { check, data: Data::Values { baseline: &b, current: &cur, within_se: 0.3 * cov } };
        let history = if with_history { vec![Some(h)] } else { vec![] };
        let d = stats::decide_with_history(&[input], &history, &settings);
        c.trials += 1;
        match d.verdict {
            Verdict::Pass => c.pass += 1,
            Verdict::Fail => c.fail += 1,
            Verdict::Inconclusive => {}
        }
    }
    c
}

const SEED: u64 = 0x5eed_2026_0014 ^ 0x4157;

#[test]
fn ci_subset() {
    // Goals: false FAIL <= 1% at the tolerance, false PASS <= 1% at 1.5x, and history must buy
    // power: with 3 + 2 runs it settles far more cases than Welch on the runs alone.
    let trials = 2000;
    for (cov, nb, nc) in [(0.03, 3, 2), (0.05, 3, 3), (0.10, 2, 2)] {
        let c = cell(SEED, cov, nb, nc, 1.0, trials, true);
        assert!(c.fail * 100 <= c.trials, "false FAIL at the boundary, CoV {cov}, {nb}+{nc} runs: {c:?}");
        let c = cell(SEED, cov, nb, nc, 1.5, trials, true);
        assert!(c.pass * 100 <= c.trials, "false PASS at 1.5x, CoV {cov}, {nb}+{nc} runs: {c:?}");
    }
    let with = cell(SEED, 0.01, 3, 2, 1.5, trials, true);
    let without = cell(SEED, 0.01, 3, 2, 1.5, trials, false);
    assert!(with.fail > 2 * without.fail, "history should at least double recall: {with:?} vs {without:?}");
    let aa_with = cell(SEED, 0.03, 3, 2, 0.0, trials, true);
    let aa_without = cell(SEED, 0.03, 3, 2, 0.0, trials, false);
    assert!(aa_with.pass > 2 * aa_without.pass, "history should settle A/A runs: {aa_with:?} vs {aa_without:?}");
}

#[test]
#[ignore = "the full table: scripts/stats-table.sh"]
fn table() {
    let trials: u64 = std::env::var("PERFCERT_SIM_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(2000);
    let rate = |k: u64, n: u64| format!("{:.2}%", 100.0 * k as f64 / n as f64);
    let mut out = format!(
        "seed {SEED:#x}, {trials} trials per cell, p95 +10%, alpha 1%, history of 8 certificates (3 + 3 runs each)\n\n\
         | CoV | runs (baseline + current) | change | FAIL with history | PASS with history | FAIL Welch | PASS Welch |\n\
         |---|---|---|---|---|---|---|\n"
    );
    for cov in [0.01, 0.03, 0.05, 0.10] {
        for (nb, nc) in [(2, 2), (3, 2), (3, 3), (5, 5)] {
            for multiple in [0.0, 1.0, 1.5, 2.0] {
                let h = cell(SEED, cov, nb, nc, multiple, trials, true);
                let w = cell(SEED, cov, nb, nc, multiple, trials, false);
                out.push_str(&format!(
                    "| {:.0}% | {nb} + {nc} | {multiple}x | {} | {} | {} | {} |\n",
                    cov * 100.0,
                    rate(h.fail, h.trials),
                    rate(h.pass, h.trials),
                    rate(w.fail, w.trials),
                    rate(w.pass, w.trials)
                ));
            }
        }
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
}
