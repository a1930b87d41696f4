//! The comparison: baseline and current results against a policy, metric by metric, to a verdict.
//!
//! This is PERF-004 §6 made precise. It is pure: no I/O, no printing, and "today" (for waiver
//! expiry) is an argument. It does not format reports; `report::*` renders a [`Comparison`].
//!
//! Rules:
//! - A relative tolerance compares `delta = (current - baseline) / baseline`; an absolute one
//!   compares `current - baseline`. A metric fails only when strictly beyond its limit: exactly
//!   +10.0% against `max_increase: 10%` passes. Differences within 1e-9 (relative to the values
//!   compared) count as equal, so floating-point rounding cannot flip a verdict at a boundary.
//! - `max` / `min` are absolute SLO limits, inclusive, checked whatever the baseline.
//! - Baseline 0 with a relative `max_increase`: 0 -> 0 passes, any increase fails.
//! - In the policy but missing from current: FAIL. Missing from baseline: relative checks are
//!   skipped (NO_BASELINE), SLO limits still apply. Not in the policy: UNTRACKED, never gating.
//! - An active waiver turns FAIL into WAIVED; an expired one is ignored with a warning.
//! - Nothing non-finite passes: a value, a baseline, a change or a limit that is NaN or
//!   infinite (an overflow, say) fails its check with a reason, and is never shown as a number.
//! - Several runs per side ([`compare_runs`]): a relative limit compares the geometric means of
//!   the runs' values (the mean on the log scale, where a relative change is a difference); an
//!   absolute limit and the SLO limits use arithmetic means. A gated metric must be in every
//!   current run. The row keeps every run's values. One run per side is the rules above exactly.

use jiff::civil::Date;

use crate::model::{RunResults, Slices, arithmetic_mean, default_unit, geometric_mean};
use crate::numfmt::{diff_with_unit, pct, with_unit};
use crate::policy::{DecisionMethod, MetricPolicy, Policy, Tolerance, Waiver};

/// The overall result: PASS only if no metric FAILS; INCONCLUSIVE (`decision.method:
/// statistical` only) when none FAILS but some row could not be settled. The same three values
/// as a statistical row's verdict, so it is one type.
pub use crate::stats::Verdict;

/// One metric's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Failed, but an active waiver accepts it.
    Waived,
    /// No baseline value, so relative checks were skipped; the SLO limits held.
    NoBaseline,
    /// Present in the results but not in the policy: shown, never gating.
    Untracked,
    /// `decision.method: statistical` only: the interval straddles a limit; more runs settle it.
    Inconclusive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Waived => "WAIVED",
            Status::NoBaseline => "NO_BASELINE",
            Status::Untracked => "UNTRACKED",
            Status::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// Which limit a check applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// The metric must be present in the current results.
    Present,
    MaxIncrease,
    MaxDecrease,
    /// The slow-drift guard: the change since the reference (`--reference`).
    MaxTotalIncrease,
    MaxTotalDecrease,
    Max,
    Min,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Present => "present",
            CheckKind::MaxIncrease => "max_increase",
            CheckKind::MaxDecrease => "max_decrease",
            CheckKind::MaxTotalIncrease => "max_total_increase",
            CheckKind::MaxTotalDecrease => "max_total_decrease",
            CheckKind::Max => "max",
            CheckKind::Min => "min",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    Skipped,
    /// `decision.method: statistical` only: neither PASS nor FAIL at the policy's alphas.
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Skipped => "SKIPPED",
            Outcome::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// One limit applied to one metric, with the sentence that explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: CheckKind,
    pub outcome: Outcome,
    pub reason: String,
    /// `decision.method: statistical` only: the interval and advice behind `outcome`.
    pub stats: Option<CheckStats>,
}

/// The statistical decision of one check ([`crate::stats`]), in the check's natural units: a
/// fraction for relative limits, a difference for absolute ones, a level for SLOs.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckStats {
    pub estimate: Option<f64>,
    pub interval: Option<crate::stats::Interval>,
    pub df: Option<f64>,
    pub method: crate::stats::Method,
    /// More runs per side that would settle an INCONCLUSIVE check.
    pub runs_needed: Option<u32>,
}

/// One metric's row: values, the limits that applied, each check, and the resulting status.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    pub unit: Option<String>,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// `(current - baseline) / baseline`; `None` when either is missing or the baseline is 0
    /// (except 0 -> 0, which is 0).
    pub delta: Option<f64>,
    /// `current - baseline`, in the metric's unit.
    pub change: Option<f64>,
    /// The policy entry, or `None` for untracked metrics.
    pub policy: Option<MetricPolicy>,
    pub checks: Vec<Check>,
    pub status: Status,
    /// Sentences that explain `status`.
    pub reasons: Vec<String>,
    /// The waiver that turned a FAIL into WAIVED.
    pub waiver: Option<Waiver>,
    /// With several runs on a side: every run's value and which mean `baseline` and `current`
    /// are. `None` with one run per side.
    pub runs: Option<RunValues>,
    /// The row against the reference, when a reference was given and the metric has a
    /// cumulative limit (`max_total_increase` / `max_total_decrease`).
    pub reference: Option<Versus>,
}

/// A row's values against the reference (the slow-drift guard): the reference's value (the
/// mean the row shows), the cumulative change to the current value, and every reference run's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Versus {
    pub value: Option<f64>,
    /// `(current - reference) / reference`, as [`Row::delta`].
    pub delta: Option<f64>,
    /// `current - reference`, in the metric's unit.
    pub change: Option<f64>,
    pub runs: Vec<Option<f64>>,
}

/// Which mean of the runs' values a row shows and its tolerance compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mean {
    /// For relative limits (and untracked metrics, shown as relative changes).
    Geometric,
    /// For absolute limits and SLOs.
    Arithmetic,
}

impl Mean {
    pub fn as_str(self) -> &'static str {
        match self {
            Mean::Geometric => "geometric",
            Mean::Arithmetic => "arithmetic",
        }
    }

    fn of(self, values: &[f64]) -> f64 {
        match self {
            Mean::Geometric => geometric_mean(values),
            Mean::Arithmetic => arithmetic_mean(values),
        }
    }
}

/// Every run's value of one metric (`None` where a run lacks it), and the mean shown.
#[derive(Debug, Clone, PartialEq)]
pub struct RunValues {
    pub baseline: Vec<Option<f64>>,
    pub current: Vec<Option<f64>>,
    pub mean: Mean,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub verdict: Verdict,
    /// Policy metrics in policy order, then untracked metrics.
    pub rows: Vec<Row>,
    /// Things the user should know that do not change the verdict (expired waivers).
    pub warnings: Vec<String>,
    /// The date waivers were evaluated against.
    pub as_of: Date,
    /// How the verdict was reached (`decision.method`).
    pub method: DecisionMethod,
    /// With an INCONCLUSIVE verdict: more runs per side that would settle every inconclusive
    /// row; `None` otherwise, or when some row cannot be planned.
    pub runs_needed: Option<u32>,
    /// `--noise-from`: the history the statistical decision learned the run-to-run noise from.
    pub history: Option<crate::history::Noise>,
    /// The runs are duet runs ([`compare_duet`]): `runs_needed` counts duet runs, not runs per side.
    pub duet: bool,
}

/// Counts of rows by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub gated: usize,
    pub passed: usize,
    pub failed: usize,
    pub waived: usize,
    pub no_baseline: usize,
    pub untracked: usize,
    pub inconclusive: usize,
}

impl Comparison {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for row in &self.rows {
            match row.status {
                Status::Pass => s.passed += 1,
                Status::Fail => s.failed += 1,
                Status::Waived => s.waived += 1,
                Status::NoBaseline => s.no_baseline += 1,
                Status::Untracked => s.untracked += 1,
                Status::Inconclusive => s.inconclusive += 1,
            }
        }
        s.gated = self.rows.len() - s.untracked;
        s
    }
}

/// Compares `current` against `baseline` under `policy`, with waivers evaluated as of `today`.
pub fn compare(baseline: &RunResults, current: &RunResults, policy: &Policy, today: Date) -> Comparison {
    compare_runs(std::slice::from_ref(baseline), std::slice::from_ref(current), policy, today)
}

/// One side's runs, as the rows need them.
struct Runs<'a> {
    runs: &'a [RunResults],
}

impl Runs<'_> {
    fn values(&self, name: &str) -> Vec<Option<f64>> {
        self.runs.iter().map(|r| r.metrics.get(name).copied()).collect()
    }

    /// The mean over the runs, if every run has the metric.
    fn mean(&self, name: &str, mean: Mean) -> Option<f64> {
        let values: Option<Vec<f64>> = self.values(name).into_iter().collect();
        values.filter(|v| !v.is_empty()).map(|v| mean.of(&v))
    }

    fn has(&self, name: &str) -> bool {
        self.runs.iter().any(|r| r.metrics.contains_key(name))
    }

    /// `run 2 of 3` for the first run without the metric, when some run has it.
    fn first_missing(&self, name: &str) -> Option<String> {
        let i = self.runs.iter().position(|r| !r.metrics.contains_key(name))?;
        (self.has(name) && self.runs.len() > 1).then(|| format!("run {} of {}", i + 1, self.runs.len()))
    }

    fn unavailable(&self, name: &str) -> Option<&String> {
        self.runs.iter().find_map(|r| r.unavailable.get(name))
    }

    fn several(&self) -> bool {
        self.runs.len() > 1
    }
}

/// Compares sides of one or more runs each (see the module rules); with one run per side this
/// is [`compare`].
pub fn compare_runs(baseline: &[RunResults], current: &[RunResults], policy: &Policy, today: Date) -> Comparison {
    compare_with(baseline, current, None, policy, today, None, None)
}

/// [`compare_runs`], with the run-to-run noise of earlier certificates (`--noise-from`) for the
/// statistical decision. The threshold method ignores it.
///
/// `reference`: the runs of the reference (the last certified release) that the cumulative
/// limits (`max_total_increase` / `max_total_decrease`) judge the current runs against. Without
/// one, a cumulative limit FAILS its row: nothing unverified passes.
pub fn compare_with_history(
    baseline: &[RunResults],
    current: &[RunResults],
    reference: Option<&[RunResults]>,
    policy: &Policy,
    today: Date,
    history: Option<&crate::history::Noise>,
) -> Comparison {
    compare_with(baseline, current, None, policy, today, history, reference)
}

/// Compares duet runs: run i's baseline and current sides were measured side by side in one
/// load-test run, cut into the time slices `slices[i]`. The threshold method compares each
/// side's value over all its slices, as [`compare_runs`] does; the statistical method judges
/// the per-run differences, paired ([`crate::stats::Data::Paired`]), with the slices giving
/// the within-run precision; SLO limits judge the current side.
///
/// `placement` says what is wrong with where the sides ran (not known, or never swapped), if
/// anything: then a place's own speed cannot be told from the change, and the statistical
/// method leaves paired checks INCONCLUSIVE with that sentence instead of PASS or FAIL.
/// The cumulative limits judge the current side against `reference`, unpaired.
pub fn compare_duet(
    baseline: &[RunResults],
    current: &[RunResults],
    reference: Option<&[RunResults]>,
    slices: &[Slices],
    placement: Option<&str>,
    policy: &Policy,
    today: Date,
) -> Comparison {
    compare_with(baseline, current, Some(Duet { slices, placement }), policy, today, None, reference)
}

/// Duet runs as the comparison needs them: each run's slices, and what is wrong with the
/// placement, if anything ([`compare_duet`]).
#[derive(Clone, Copy)]
struct Duet<'a> {
    slices: &'a [Slices],
    placement: Option<&'a str>,
}

fn compare_with(
    baseline: &[RunResults],
    current: &[RunResults],
    duet: Option<Duet>,
    policy: &Policy,
    today: Date,
    history: Option<&crate::history::Noise>,
    reference: Option<&[RunResults]>,
) -> Comparison {
    let (b_runs, c_runs) = (Runs { runs: baseline }, Runs { runs: current });
    let r_runs = reference.map(|runs| Runs { runs });
    let several = b_runs.several() || c_runs.several();
    let mut rows: Vec<Row> = policy
        .metrics
        .iter()
        .map(|m| gated_row(m, &b_runs, &c_runs, r_runs.as_ref(), &policy.waivers, today))
        .collect();

    let tracked = |name: &str| policy.metrics.iter().any(|m| m.name == name);
    let mut untracked: Vec<&String> = vec![];
    for r in current.iter().chain(baseline) {
        for name in r.metrics.keys() {
            if !tracked(name) && !untracked.contains(&name) {
                untracked.push(name);
            }
        }
    }
    for name in untracked {
        let b = b_runs.mean(name, Mean::Geometric);
        let c = c_runs.mean(name, Mean::Geometric);
        rows.push(Row {
            name: name.clone(),
            unit: default_unit(name).map(String::from),
            baseline: b,
            current: c,
            delta: relative_delta(b, c),
            change: finite(b.zip(c).map(|(b, c)| c - b)),
            policy: None,
            checks: vec![],
            status: Status::Untracked,
            reasons: vec!["not in the policy; not gating".into()],
            waiver: None,
            runs: several.then(|| RunValues {
                baseline: b_runs.values(name),
                current: c_runs.values(name),
                mean: Mean::Geometric,
            }),
            reference: None,
        });
    }

    // What the readers noted about the inputs (estimated percentiles, left-out rows) first.
    let mut warnings: Vec<String> = baseline
        .iter()
        .flat_map(|r| &r.notes)
        .chain(current.iter().flat_map(|r| &r.notes))
        .chain(reference.unwrap_or_default().iter().flat_map(|r| &r.notes))
        .cloned()
        .collect();
    if reference.is_some() && policy.cumulative().next().is_none() {
        warnings.push("the reference is not used: the policy sets no max_total_increase or max_total_decrease".into());
    }
    for w in policy.waivers.iter().filter(|w| !w.is_active(today)) {
        warnings.push(format!(
            "waiver for {} expired on {} and is ignored ({}); renew it or remove it",
            w.metric, w.expires, w.reason
        ));
    }

    let method = policy.decision.method;
    if history.is_some() && method != DecisionMethod::Statistical {
        warnings.push(
            "--noise-from is ignored: the threshold method does not use noise (decision: { method: statistical } does)"
                .into(),
        );
    }
    let history = history.filter(|_| method == DecisionMethod::Statistical);
    if method == DecisionMethod::Statistical {
        statistical(&mut rows, &b_runs, &c_runs, r_runs.as_ref(), duet, policy, today, history);
    } else if duet.is_some() {
        warnings.push(format!(
            "duet runs judged by the threshold method: each side's value is over all its slices of each of the {} \
             duet run(s); the pairing of the sides is used by decision.method: statistical",
            current.len()
        ));
    }
    if let Some(h) = history {
        warnings.extend(h.notes.iter().cloned());
        if h.used.is_empty() {
            warnings.push(format!(
                "history: no earlier certificate of this service in {} has runs to learn noise from (a side needs 2 or more runs)",
                h.source
            ));
        }
    }
    let verdict = if rows.iter().any(|r| r.status == Status::Fail) {
        Verdict::Fail
    } else if rows.iter().any(|r| r.status == Status::Inconclusive) {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    // The advice settles every inconclusive check, so it is the largest of theirs.
    let runs_needed = if verdict == Verdict::Inconclusive {
        rows.iter()
            .filter(|r| r.status == Status::Inconclusive)
            .flat_map(|r| &r.checks)
            .filter(|c| c.outcome == Outcome::Inconclusive)
            .map(|c| c.stats.as_ref().and_then(|s| s.runs_needed))
            .try_fold(0, |most, n| n.map(|n| most.max(n)))
            .filter(|&n| n > 0)
    } else {
        None
    };
    Comparison {
        verdict,
        rows,
        warnings,
        as_of: today,
        method,
        runs_needed,
        history: history.cloned(),
        duet: duet.is_some(),
    }
}

fn gated_row(
    m: &MetricPolicy,
    baseline: &Runs,
    current: &Runs,
    reference: Option<&Runs>,
    waivers: &[Waiver],
    today: Date,
) -> Row {
    let unit = m.unit.clone().or_else(|| default_unit(&m.name).map(String::from));
    let mean_for = |t: Option<Tolerance>| match t {
        Some(Tolerance::Absolute(_)) => Mean::Arithmetic,
        _ => Mean::Geometric,
    };
    let relative = [m.max_increase, m.max_decrease, m.max_total_increase, m.max_total_decrease]
        .iter()
        .any(|t| matches!(t, Some(Tolerance::Relative(_))));
    let shown = if relative { Mean::Geometric } else { Mean::Arithmetic };
    let several = baseline.several() || current.several();
    let cumulative = m.max_total_increase.is_some() || m.max_total_decrease.is_some();
    let b = baseline.mean(&m.name, shown);
    let c = current.mean(&m.name, shown);
    let mut row = Row {
        name: m.name.clone(),
        unit,
        baseline: b,
        current: c,
        delta: relative_delta(b, c),
        change: finite(b.zip(c).map(|(b, c)| c - b)),
        policy: Some(m.clone()),
        checks: vec![],
        status: Status::Pass,
        reasons: vec![],
        waiver: None,
        runs: several.then(|| RunValues {
            baseline: baseline.values(&m.name),
            current: current.values(&m.name),
            mean: shown,
        }),
        reference: reference.filter(|_| cumulative).map(|r| {
            let value = r.mean(&m.name, shown).filter(|v| v.is_finite());
            Versus {
                value,
                delta: relative_delta(value, c),
                change: finite(value.zip(c).map(|(r, c)| c - r)),
                runs: r.values(&m.name),
            }
        }),
    };
    let unit = row.unit.as_deref();

    let Some(c) = c else {
        let reason = match (current.first_missing(&m.name), current.unavailable(&m.name)) {
            (Some(run), _) => {
                format!("missing from current {run}: every run must measure it; nothing unverified passes")
            }
            (None, Some(why)) => format!("not available from the current results: {why}"),
            (None, None) => "missing from the current results: nothing unverified passes".into(),
        };
        row.checks.push(Check { kind: CheckKind::Present, outcome: Outcome::Fail, reason, stats: None });
        return finish(row, waivers, today);
    };
    if !c.is_finite() {
        let reason = "the current value is not a finite number: nothing unverified passes".to_string();
        row.checks.push(Check { kind: CheckKind::Present, outcome: Outcome::Fail, reason, stats: None });
        (row.current, row.delta, row.change) = (None, None, None);
        return finish(row, waivers, today);
    }
    if b.is_some_and(|b| !b.is_finite()) {
        (row.baseline, row.delta, row.change) = (None, None, None);
    }

    // With several runs, each check compares its own mean (see the module rules).
    let (b_runs, c_runs) = (baseline.runs.len(), current.runs.len());
    let means_note = |mean: Mean| {
        if several { format!(" ({} means of {b_runs} and {c_runs} runs)", mean.as_str()) } else { String::new() }
    };
    for (kind, tolerance) in [(CheckKind::MaxIncrease, m.max_increase), (CheckKind::MaxDecrease, m.max_decrease)] {
        let Some(tolerance) = tolerance else { continue };
        let mean = mean_for(Some(tolerance));
        // The mean itself, even when not finite: tolerance_check fails what it cannot judge.
        let (b, c) = if mean == shown {
            (b, c)
        } else {
            (baseline.mean(&m.name, mean), current.mean(&m.name, mean).unwrap_or(c))
        };
        let check = match b {
            None => {
                let why = match baseline.first_missing(&m.name) {
                    Some(run) => format!("missing from baseline {run}"),
                    None => "no baseline".into(),
                };
                Check {
                    kind,
                    outcome: Outcome::Skipped,
                    reason: format!("{why}: {} check skipped", kind.as_str()),
                    stats: None,
                }
            }
            Some(b) => {
                let mut check = tolerance_check(kind, tolerance, b, c, unit);
                check.reason.push_str(&means_note(mean));
                check
            }
        };
        row.checks.push(check);
    }
    // The slow-drift guard: the same checks against the reference instead of the baseline.
    for (kind, tolerance) in
        [(CheckKind::MaxTotalIncrease, m.max_total_increase), (CheckKind::MaxTotalDecrease, m.max_total_decrease)]
    {
        let Some(tolerance) = tolerance else { continue };
        let Some(reference) = reference else {
            let reason = format!(
                "no reference given: {} cannot be judged (give --reference); nothing unverified passes",
                kind.as_str()
            );
            row.checks.push(Check { kind, outcome: Outcome::Fail, reason, stats: None });
            continue;
        };
        let mean = mean_for(Some(tolerance));
        let c = if mean == shown { c } else { current.mean(&m.name, mean).unwrap_or(c) };
        let check = match reference.mean(&m.name, mean) {
            None => {
                let why = match reference.first_missing(&m.name) {
                    Some(run) => format!("missing from reference {run}"),
                    None => "not in the reference".into(),
                };
                Check {
                    kind,
                    outcome: Outcome::Skipped,
                    reason: format!("{why}: {} check skipped", kind.as_str()),
                    stats: None,
                }
            }
            Some(r) => {
                let mut check = tolerance_check(kind, tolerance, r, c, unit);
                let runs = if several || reference.several() {
                    format!("; {} means of {} and {} runs", mean.as_str(), reference.runs.len(), current.runs.len())
                } else {
                    String::new()
                };
                check.reason.push_str(&format!(" since the reference ({}{runs})", with_unit(r, unit)));
                check
            }
        };
        row.checks.push(check);
    }
    // SLOs judge the arithmetic mean of the current runs.
    let c = if several && shown != Mean::Arithmetic { current.mean(&m.name, Mean::Arithmetic).unwrap_or(c) } else { c };
    let slo_note = if several { format!(" (arithmetic mean of {c_runs} runs)") } else { String::new() };
    if let Some(max) = m.max {
        let (outcome, op) = if beyond(c, max) { (Outcome::Fail, ">") } else { (Outcome::Pass, "<=") };
        let reason = format!("{} {op} SLO {}{slo_note}", with_unit(c, unit), with_unit(max, unit));
        row.checks.push(Check { kind: CheckKind::Max, outcome, reason, stats: None });
    }
    if let Some(min) = m.min {
        let (outcome, op) = if beyond(min, c) { (Outcome::Fail, "<") } else { (Outcome::Pass, ">=") };
        let reason = format!("{} {op} SLO min {}{slo_note}", with_unit(c, unit), with_unit(min, unit));
        row.checks.push(Check { kind: CheckKind::Min, outcome, reason, stats: None });
    }
    finish(row, waivers, today)
}

/// `decision.method: statistical`: re-judges every tolerance and SLO check of the gated rows
/// from the runs' spread ([`crate::stats`]), Holm over all of them, then sets each row's status
/// again. A check the threshold method could not judge (a missing metric, a skipped tolerance,
/// a value that is not finite) keeps its outcome: nothing unverified passes.
///
/// Duet runs (`slices`): tolerance checks are paired per run, floored at the slices' precision.
#[allow(clippy::too_many_arguments)]
fn statistical(
    rows: &mut [Row],
    baseline: &Runs,
    current: &Runs,
    reference: Option<&Runs>,
    duet: Option<Duet>,
    policy: &Policy,
    today: Date,
    history: Option<&crate::history::Noise>,
) {
    use crate::stats::{self, Scale, Worse};
    let slices = duet.map(|d| d.slices);
    struct Planned {
        row: usize,
        check: usize,
        baseline: Vec<f64>,
        current: Vec<f64>,
        check_kind: stats::Check,
        /// Duet runs: the within-run standard error of one run's difference, from its slices.
        paired_se: Option<f64>,
        evidence: Evidence,
    }
    let mut planned: Vec<Planned> = vec![];
    for (i, row) in rows.iter().enumerate() {
        let Some(m) = &row.policy else { continue };
        let all = |runs: &Runs| -> Option<Vec<f64>> {
            let values: Option<Vec<f64>> = runs.values(&m.name).into_iter().collect();
            values.filter(|v| !v.is_empty() && v.iter().all(|x| x.is_finite()))
        };
        let Some(c) = all(current) else { continue };
        let b = all(baseline);
        let r = reference.and_then(all);
        let relative = [m.max_increase, m.max_decrease].iter().any(|t| matches!(t, Some(Tolerance::Relative(_))));
        let scale = |limit: f64| if relative && limit > 0.0 { Scale::Log } else { Scale::Linear };
        for (j, check) in row.checks.iter().enumerate() {
            if matches!(check.outcome, Outcome::Skipped) {
                continue;
            }
            let tolerance = |t: Option<Tolerance>, worse: Worse| match t? {
                Tolerance::Relative(tolerance) => Some(stats::Check::Relative { worse, tolerance }),
                Tolerance::Absolute(tolerance) => Some(stats::Check::Absolute { worse, tolerance }),
            };
            let kind = match check.kind {
                CheckKind::Present => None,
                CheckKind::MaxIncrease => tolerance(m.max_increase, Worse::Higher),
                CheckKind::MaxDecrease => tolerance(m.max_decrease, Worse::Lower),
                CheckKind::MaxTotalIncrease => tolerance(m.max_total_increase, Worse::Higher),
                CheckKind::MaxTotalDecrease => tolerance(m.max_total_decrease, Worse::Lower),
                CheckKind::Max => m.max.map(|limit| stats::Check::Ceiling { limit, scale: scale(limit) }),
                CheckKind::Min => m.min.map(|limit| stats::Check::Floor { limit, scale: scale(limit) }),
            };
            let Some(kind) = kind else { continue };
            let slo = matches!(kind, stats::Check::Ceiling { .. } | stats::Check::Floor { .. });
            // A cumulative check's other side is the reference's runs, never paired with the
            // current ones (a check without a reference keeps its FAIL).
            let total = matches!(check.kind, CheckKind::MaxTotalIncrease | CheckKind::MaxTotalDecrease);
            let (other, other_runs) = if total { (&r, reference) } else { (&b, Some(baseline)) };
            let Some(other_runs) = other_runs else { continue };
            let b = match (other, slo) {
                (_, true) => vec![],
                (Some(b), false) => b.clone(),
                (None, false) => continue,
            };
            let paired_se = match (slices.filter(|_| !total), kind) {
                (Some(slices), stats::Check::Relative { .. }) => Some(slice_se(slices, &m.name, true)),
                (Some(slices), stats::Check::Absolute { .. }) => Some(slice_se(slices, &m.name, false)),
                _ => None,
            };
            let evidence = Evidence::of(&m.name, kind, if slo { None } else { Some(other_runs) }, current);
            planned.push(Planned {
                row: i,
                check: j,
                baseline: b,
                current: c.clone(),
                check_kind: kind,
                evidence,
                paired_se,
            });
        }
    }
    let inputs: Vec<stats::Input> = planned
        .iter()
        .map(|p| stats::Input {
            check: p.evidence.check(p.check_kind),
            data: match (&p.evidence, p.paired_se) {
                (Evidence::Counts { baseline, current }, _) => stats::Data::Counts { baseline, current },
                // Duet runs: paired, floored at the slices' precision (or the runs' own, if larger).
                (Evidence::Values { within_se }, Some(paired_se)) => stats::Data::Paired {
                    baseline: &p.baseline,
                    current: &p.current,
                    within_se: paired_se.max(*within_se),
                },
                (Evidence::Values { within_se }, None) => {
                    stats::Data::Values { baseline: &p.baseline, current: &p.current, within_se: *within_se }
                }
            },
        })
        .collect();
    // History's variance on the row's analysis scale: log for relative limits, linear for absolute.
    let pooled: Vec<Option<stats::Pooled>> = planned
        .iter()
        .map(|p| {
            // Duet runs are paired: their noise is the differences', not history's.
            let spread = history.filter(|_| slices.is_none())?.metrics.get(&rows[p.row].name)?;
            match p.check_kind {
                stats::Check::Relative { .. } => spread.log,
                stats::Check::Absolute { .. } => spread.linear,
                _ => None,
            }
        })
        .collect();
    let decision = stats::decide_with_history(&inputs, &pooled, &policy.decision.settings());
    let runs_note = match slices {
        Some(slices) => format!(
            "{} duet run(s), {} slice pairs",
            current.runs.len(),
            slices.iter().map(|s| s.current.len()).sum::<usize>()
        ),
        None => format!("{} and {} runs", baseline.runs.len(), current.runs.len()),
    };
    for (p, outcome) in planned.iter().zip(decision.rows) {
        let mut outcome = p.evidence.natural(outcome);
        // Paired duet checks settle nothing while a place's speed could be the change.
        if let (Some(problem), Some(_)) = (duet.and_then(|d| d.placement), p.paired_se)
            && matches!(outcome.verdict, stats::Verdict::Pass | stats::Verdict::Fail)
        {
            outcome.verdict = stats::Verdict::Inconclusive;
            outcome.runs_needed = None;
            outcome.reason = problem.to_string();
        }
        let row = &mut rows[p.row];
        let unit = row.unit.clone();
        let check = &mut row.checks[p.check];
        check.outcome = match outcome.verdict {
            stats::Verdict::Pass => Outcome::Pass,
            stats::Verdict::Fail => Outcome::Fail,
            stats::Verdict::Inconclusive => Outcome::Inconclusive,
        };
        check.reason = stats_reason(&p.check_kind, &outcome, unit.as_deref(), &runs_note);
        if matches!(check.kind, CheckKind::MaxTotalIncrease | CheckKind::MaxTotalDecrease) {
            check.reason = format!("{} (since the reference)", check.reason);
        }
        check.stats = Some(CheckStats {
            estimate: outcome.estimate,
            interval: outcome.interval,
            df: outcome.df,
            method: outcome.method,
            runs_needed: outcome.runs_needed,
        });
    }
    for row in rows.iter_mut().filter(|r| r.policy.is_some()) {
        settle(row, &policy.waivers, today);
    }
}

/// The within-run standard error of one duet run's difference in `metric`, on the log scale
/// (`log`) or in the metric's unit: per run, the standard error of the mean of its slices'
/// differences; over runs, the root of their mean variance. 0 when no run has 2 usable slices.
fn slice_se(slices: &[Slices], metric: &str, log: bool) -> f64 {
    let variances: Vec<f64> = slices
        .iter()
        .filter_map(|run| {
            let d: Vec<f64> = run
                .baseline
                .iter()
                .zip(&run.current)
                .filter_map(|(b, c)| {
                    let (b, c) = (*b.metrics.get(metric)?, *c.metrics.get(metric)?);
                    let d = if log { (b > 0.0 && c > 0.0).then(|| c.ln() - b.ln())? } else { c - b };
                    d.is_finite().then_some(d)
                })
                .collect();
            (d.len() >= 2).then(|| {
                let n = d.len() as f64;
                let mean = d.iter().sum::<f64>() / n;
                d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0) / n
            })
        })
        .collect();
    let se = (variances.iter().sum::<f64>() / variances.len().max(1) as f64).sqrt();
    if se.is_finite() { se } else { 0.0 }
}

/// What a statistically judged check rests on besides the runs' values: the error counts of an
/// error-rate row, or the within-run standard error that floors the runs' spread.
enum Evidence {
    /// Every run of both sides (the current side alone for an SLO) carries its error count:
    /// Newcombe / Wilson on proportions. Error-rate metrics are percentages, so the check's
    /// limits are divided by 100 going in and the outcome multiplied by 100 coming out.
    Counts { baseline: Vec<crate::stats::Count>, current: Vec<crate::stats::Count> },
    /// The runs' values, with the largest within-run standard error of the runs on the check's
    /// analysis scale (0 when no run gives one).
    Values { within_se: f64 },
}

/// An error rate's unit (percent) per unit of proportion.
const PERCENT: f64 = 100.0;

impl Evidence {
    /// `baseline` is `None` for an SLO check (judged on the current runs alone).
    fn of(name: &str, check: crate::stats::Check, baseline: Option<&Runs>, current: &Runs) -> Evidence {
        use crate::stats::{Check as C, Count, Scale};
        let sides: Vec<&Runs> = baseline.into_iter().chain([current]).collect();
        let counts_of = |runs: &Runs| -> Option<Vec<Count>> {
            runs.runs
                .iter()
                .map(|r| {
                    let c = r.precision.get(name)?.counts?;
                    Some(Count { errors: c.errors as f64, requests: c.requests as f64, dispersion: c.dispersion })
                })
                .collect()
        };
        // Counts judge differences and levels of proportions; a relative limit on an error rate
        // stays on the runs' values.
        if !matches!(check, C::Relative { .. })
            && let (Some(b), Some(c)) = (baseline.map_or(Some(vec![]), counts_of), counts_of(current))
        {
            return Evidence::Counts { baseline: b, current: c };
        }
        let log = match check {
            C::Relative { .. } => true,
            C::Absolute { .. } => false,
            C::Ceiling { scale, .. } | C::Floor { scale, .. } => scale == Scale::Log,
        };
        let within_se = sides
            .iter()
            .flat_map(|s| s.runs.iter())
            .filter_map(|r| {
                let se = r.precision.get(name).and_then(crate::model::Precision::relative_se)?;
                let value = *r.metrics.get(name)?;
                Some(if log { se } else { se * value })
            })
            .filter(|se| se.is_finite() && *se >= 0.0)
            .fold(0.0, f64::max);
        Evidence::Values { within_se }
    }

    /// The check as the statistics take it: on counts, limits in proportions.
    fn check(&self, check: crate::stats::Check) -> crate::stats::Check {
        use crate::stats::Check as C;
        match (self, check) {
            (Evidence::Values { .. }, c) => c,
            (Evidence::Counts { .. }, C::Absolute { worse, tolerance }) => {
                C::Absolute { worse, tolerance: tolerance / PERCENT }
            }
            (Evidence::Counts { .. }, C::Ceiling { limit, scale }) => C::Ceiling { limit: limit / PERCENT, scale },
            (Evidence::Counts { .. }, C::Floor { limit, scale }) => C::Floor { limit: limit / PERCENT, scale },
            (Evidence::Counts { .. }, c) => c,
        }
    }

    /// The outcome in the metric's unit: proportions back to percent.
    fn natural(&self, mut o: crate::stats::Outcome) -> crate::stats::Outcome {
        if let Evidence::Counts { .. } = self {
            o.estimate = o.estimate.map(|e| e * PERCENT);
            if let Some(i) = o.interval.as_mut() {
                (i.lower, i.upper) = (i.lower * PERCENT, i.upper * PERCENT);
            }
        }
        o
    }
}

/// The sentence of a statistically judged check: the estimate, the interval with the levels
/// of its ends, the method, and what settles an INCONCLUSIVE one.
fn stats_reason(check: &crate::stats::Check, o: &crate::stats::Outcome, unit: Option<&str>, runs: &str) -> String {
    use crate::stats::{Check as C, Verdict as V, Worse};
    let (show, limit): (Box<dyn Fn(f64) -> String>, String) = match *check {
        C::Relative { worse, tolerance } => {
            (Box::new(pct), pct(if worse == Worse::Higher { tolerance } else { -tolerance }))
        }
        C::Absolute { worse, tolerance } => (
            Box::new(move |x| diff_with_unit(x, unit)),
            diff_with_unit(if worse == Worse::Higher { tolerance } else { -tolerance }, unit),
        ),
        C::Ceiling { limit, .. } => (Box::new(move |x| with_unit(x, unit)), format!("SLO {}", with_unit(limit, unit))),
        C::Floor { limit, .. } => {
            (Box::new(move |x| with_unit(x, unit)), format!("SLO min {}", with_unit(limit, unit)))
        }
    };
    let mut text = o.estimate.map(&show).unwrap_or_else(|| "no estimate".into());
    if let Some(i) = o.interval {
        let df = o.df.map(|df| format!(", df {}", crate::numfmt::num((df * 10.0).round() / 10.0))).unwrap_or_default();
        text.push_str(&format!(
            ", interval {} to {} (one-sided levels {} and {}; {}{df}; {runs})",
            show(i.lower),
            show(i.upper),
            crate::numfmt::num(i.lower_alpha),
            crate::numfmt::num(i.upper_alpha),
            o.method.as_str()
        ));
    }
    let verdict = match o.verdict {
        V::Pass => format!("within {limit}"),
        V::Fail => format!("beyond {limit}"),
        V::Inconclusive => {
            // The statistics' reason carries its own advice; a bare one gets the advice here.
            let advice = match o.runs_needed {
                _ if !o.reason.is_empty() => String::new(),
                Some(n) => format!("{n} more runs per side would settle it"),
                None if o.interval.is_some() => "at the tolerance boundary: waive or decide".to_string(),
                None => String::new(),
            };
            let why = [o.reason.as_str(), advice.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
            format!("cannot tell against {limit}: {}", why.join("; "))
        }
    };
    let plain = matches!(o.verdict, V::Pass | V::Fail) && !o.reason.is_empty();
    if plain { format!("{text}: {verdict} ({})", o.reason) } else { format!("{text}: {verdict}") }
}

/// Sets status and reasons from the checks, applying an active waiver to a failure.
fn finish(mut row: Row, waivers: &[Waiver], today: Date) -> Row {
    settle(&mut row, waivers, today);
    row
}

/// [`finish`] in place.
fn settle(row: &mut Row, waivers: &[Waiver], today: Date) {
    row.waiver = None;
    let failed: Vec<String> =
        row.checks.iter().filter(|c| c.outcome == Outcome::Fail).map(|c| c.reason.clone()).collect();
    let inconclusive: Vec<String> =
        row.checks.iter().filter(|c| c.outcome == Outcome::Inconclusive).map(|c| c.reason.clone()).collect();
    let skipped = row.checks.iter().any(|c| c.outcome == Outcome::Skipped);
    if !failed.is_empty() || !inconclusive.is_empty() {
        // A FAIL, else an INCONCLUSIVE (`decision.method: statistical`): an active waiver covers
        // either, since waiving is how a person decides a row the runs could not settle.
        let (reasons, status) =
            if failed.is_empty() { (inconclusive, Status::Inconclusive) } else { (failed, Status::Fail) };
        row.reasons = reasons;
        // Of several active waivers for one metric, the one that lasts longest applies.
        let waiver = waivers.iter().filter(|w| w.metric == row.name && w.is_active(today)).max_by_key(|w| w.expires);
        match waiver {
            Some(w) => {
                let by = w.approved_by.as_ref().map(|a| format!(", approved by {a}")).unwrap_or_default();
                row.reasons.push(format!("waived until {}: {}{by}", w.expires, w.reason));
                row.status = Status::Waived;
                row.waiver = Some(w.clone());
            }
            None => row.status = status,
        }
    } else {
        row.reasons = row.checks.iter().map(|c| c.reason.clone()).collect();
        row.status = if skipped { Status::NoBaseline } else { Status::Pass };
    }
}

fn tolerance_check(kind: CheckKind, tolerance: Tolerance, b: f64, c: f64, unit: Option<&str>) -> Check {
    let increase = matches!(kind, CheckKind::MaxIncrease | CheckKind::MaxTotalIncrease);
    // How the sentences name the other side; the baseline's are as they have always been.
    let (side, short) = if matches!(kind, CheckKind::MaxTotalIncrease | CheckKind::MaxTotalDecrease) {
        ("the reference", "the reference")
    } else {
        ("the baseline", "baseline")
    };
    let change = match tolerance {
        Tolerance::Relative(_) if b != 0.0 => (c - b) / b,
        _ => c - b,
    };
    if !b.is_finite() || !change.is_finite() {
        // An overflow (a subnormal baseline, a huge current) or a non-finite baseline: the change
        // cannot be judged, so it cannot pass.
        let reason = if b.is_finite() {
            format!("the change from {} to {} is too large to compute", with_unit(b, unit), with_unit(c, unit))
        } else {
            format!("{side} is not a finite number: the change cannot be judged")
        };
        return Check { kind, outcome: Outcome::Fail, reason, stats: None };
    }
    let (outcome, reason) = match tolerance {
        Tolerance::Relative(limit) if b == 0.0 => {
            if c == 0.0 {
                (Outcome::Pass, "0 -> 0: no change".to_string())
            } else if increase {
                (
                    Outcome::Fail,
                    format!(
                        "{} is 0, so any increase (to {}) exceeds a relative limit of {}; give this metric an absolute {}",
                        short,
                        with_unit(c, unit),
                        pct(limit),
                        kind.as_str()
                    ),
                )
            } else {
                (Outcome::Pass, format!("{short} is 0: it cannot decrease"))
            }
        }
        Tolerance::Relative(limit) => {
            let delta = (c - b) / b;
            if increase {
                verdict_sentence(beyond(delta, limit), pct(delta), ">", "<=", pct(limit))
            } else {
                verdict_sentence(beyond(-delta, limit), pct(delta), "<", ">=", pct(-limit))
            }
        }
        Tolerance::Absolute(limit) => {
            let change = c - b;
            let shown = diff_with_unit(change, unit);
            if increase {
                verdict_sentence(beyond(change, limit), shown, ">", "<=", diff_with_unit(limit, unit))
            } else {
                verdict_sentence(beyond(-change, limit), shown, "<", ">=", diff_with_unit(-limit, unit))
            }
        }
    };
    Check { kind, outcome, reason, stats: None }
}

fn verdict_sentence(failed: bool, value: String, fail_op: &str, pass_op: &str, limit: String) -> (Outcome, String) {
    if failed {
        (Outcome::Fail, format!("{value} {fail_op} {limit}"))
    } else {
        (Outcome::Pass, format!("{value} {pass_op} {limit}"))
    }
}

/// `x` is strictly beyond `bound`, ignoring differences within 1e-9 of the magnitudes compared.
/// Anything non-finite is beyond every bound: a NaN never passes a check.
pub fn beyond(x: f64, bound: f64) -> bool {
    !x.is_finite() || !bound.is_finite() || x - bound > 1e-9 * x.abs().max(bound.abs())
}

fn relative_delta(b: Option<f64>, c: Option<f64>) -> Option<f64> {
    let (b, c) = (b?, c?);
    if b == 0.0 { (c == 0.0).then_some(0.0) } else { finite(Some((c - b) / b)) }
}

/// Only finite numbers are shown: an overflow is no number at all.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy;

    fn run(metrics: &[(&str, f64)]) -> RunResults {
        RunResults { metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(), ..Default::default() }
    }

    fn today() -> Date {
        jiff::civil::date(2026, 6, 1)
    }

    fn cmp(yaml: &str, b: &[(&str, f64)], c: &[(&str, f64)]) -> Comparison {
        compare(&run(b), &run(c), &policy::parse("p.yml", yaml).unwrap(), today())
    }

    #[test]
    fn the_perf004_thresholds() {
        let yaml = "metrics:
  latency_p95_write: { max_increase: 10%, max: 600 }
  error_rate: { max_increase: 0.2, max: 0.5 }
  throughput: { max_decrease: 5%, min: 10000 }
";
        let c = cmp(
            yaml,
            &[("latency_p95_write", 384.0), ("error_rate", 0.15), ("throughput", 11000.0)],
            &[("latency_p95_write", 432.0), ("error_rate", 0.22), ("throughput", 10600.0)],
        );
        assert_eq!(c.verdict, Verdict::Fail);
        let w = &c.rows[0];
        assert_eq!(w.status, Status::Fail);
        assert_eq!(w.reasons, ["+12.5% > +10%"]);
        assert_eq!(w.delta, Some(0.125));
        assert_eq!(c.rows[1].status, Status::Pass);
        assert_eq!(c.rows[1].reasons, ["+0.07 pp <= +0.2 pp", "0.22% <= SLO 0.5%"]);
        assert_eq!(c.rows[2].status, Status::Pass);
        assert_eq!(c.rows[2].reasons, ["-3.64% >= -5%", "10600 req/min >= SLO min 10000 req/min"]);
    }

    #[test]
    fn exactly_at_the_limit_passes_and_just_beyond_fails() {
        let yaml = "metrics:\n  latency_p95_read: { max_increase: 10%, max: 300 }\n";
        assert_eq!(cmp(yaml, &[("latency_p95_read", 212.4)], &[("latency_p95_read", 233.64)]).verdict, Verdict::Pass);
        assert_eq!(cmp(yaml, &[("latency_p95_read", 200.0)], &[("latency_p95_read", 220.0)]).verdict, Verdict::Pass);
        assert_eq!(cmp(yaml, &[("latency_p95_read", 200.0)], &[("latency_p95_read", 220.001)]).verdict, Verdict::Fail);
        assert_eq!(cmp(yaml, &[("latency_p95_read", 280.0)], &[("latency_p95_read", 300.0)]).verdict, Verdict::Pass);
        let over = cmp(yaml, &[("latency_p95_read", 290.0)], &[("latency_p95_read", 300.5)]);
        assert_eq!(over.rows[0].reasons, ["300.5 ms > SLO 300 ms"]);
    }

    #[test]
    fn slo_breaks_fail_whatever_the_baseline() {
        let yaml = "metrics:\n  latency_p95_write: { max_increase: 10%, max: 600 }\n";
        let c = cmp(yaml, &[("latency_p95_write", 650.0)], &[("latency_p95_write", 640.0)]);
        assert_eq!(c.rows[0].status, Status::Fail);
        assert_eq!(c.rows[0].reasons, ["640 ms > SLO 600 ms"]);
    }

    #[test]
    fn zero_baseline() {
        let yaml = "metrics:\n  error_rate: { max_increase: 10% }\n";
        let up = cmp(yaml, &[("error_rate", 0.0)], &[("error_rate", 0.01)]);
        assert_eq!(up.rows[0].status, Status::Fail);
        assert_eq!(up.rows[0].delta, None);
        assert!(up.rows[0].reasons[0].contains("absolute max_increase"), "{:?}", up.rows[0].reasons);
        let same = cmp(yaml, &[("error_rate", 0.0)], &[("error_rate", 0.0)]);
        assert_eq!((same.verdict, same.rows[0].delta), (Verdict::Pass, Some(0.0)));
        let down =
            cmp("metrics:\n  throughput: { max_decrease: 5% }\n", &[("throughput", 0.0)], &[("throughput", 5.0)]);
        assert_eq!(down.verdict, Verdict::Pass);
    }

    #[test]
    fn missing_and_untracked_metrics() {
        let yaml = "metrics:\n  a: { max_increase: 10%, max: 5 }\n  b: { max_increase: 10% }\n";
        let c = cmp(yaml, &[("b", 1.0), ("old", 1.0)], &[("a", 4.0), ("extra", 2.0)]);
        assert_eq!(c.verdict, Verdict::Fail);
        assert_eq!(c.rows[0].status, Status::NoBaseline);
        assert_eq!(c.rows[0].reasons, ["no baseline: max_increase check skipped", "4 <= SLO 5"]);
        assert_eq!(c.rows[1].status, Status::Fail);
        assert!(c.rows[1].reasons[0].starts_with("missing from the current results"));
        let untracked: Vec<(&str, Status)> = c.rows[2..].iter().map(|r| (r.name.as_str(), r.status)).collect();
        assert_eq!(untracked, [("extra", Status::Untracked), ("old", Status::Untracked)]);
        let s = c.summary();
        assert_eq!((s.gated, s.failed, s.no_baseline, s.untracked), (2, 1, 1, 2));

        let no_baseline_slo_break = cmp(yaml, &[], &[("a", 6.0), ("b", 1.0)]);
        assert_eq!(no_baseline_slo_break.rows[0].status, Status::Fail);
    }

    #[test]
    fn waivers_apply_until_their_expiry_day() {
        let yaml = |expires: &str| {
            format!(
                "metrics:\n  cpu_utilization: {{ max_increase: 10% }}\nwaivers:\n  - {{ metric: cpu_utilization, reason: warm-up, approved_by: cab, expires: {expires} }}\n"
            )
        };
        let active = cmp(&yaml("2026-06-01"), &[("cpu_utilization", 50.0)], &[("cpu_utilization", 60.0)]);
        assert_eq!((active.verdict, active.rows[0].status), (Verdict::Pass, Status::Waived));
        assert_eq!(active.rows[0].reasons, ["+20% > +10%", "waived until 2026-06-01: warm-up, approved by cab"]);
        assert!(active.warnings.is_empty());
        let expired = cmp(&yaml("2026-05-31"), &[("cpu_utilization", 50.0)], &[("cpu_utilization", 60.0)]);
        assert_eq!((expired.verdict, expired.rows[0].status), (Verdict::Fail, Status::Fail));
        assert_eq!(expired.warnings.len(), 1);
        assert!(expired.warnings[0].contains("expired on 2026-05-31"));
    }

    #[test]
    fn statistical_rows_use_error_counts_and_within_run_errors_when_the_runs_carry_them() {
        use crate::model::{Counts, Precision};
        let yaml = "decision: { method: statistical }\nmetrics:\n  error_rate: { max_increase: 0.2, max: 1 }\n  throughput: { max_decrease: 5% }\n";
        let policy = policy::parse("p.yml", yaml).unwrap();
        let with = |errors: u64, requests: u64| {
            let mut r = run(&[("error_rate", errors as f64 / requests as f64 * 100.0), ("throughput", 6000.0)]);
            let counts = Counts { errors, requests, dispersion: 1.0 };
            r.precision.insert("error_rate".into(), Precision { log_se: None, counts: Some(counts) });
            let se = 1.0 / (requests as f64).sqrt();
            r.precision.insert("throughput".into(), Precision { log_se: Some(se), counts: None });
            r
        };
        let judge = |runs: Vec<RunResults>| compare_runs(&runs, &runs, &policy, today());
        let c = judge(vec![with(0, 100_000); 3]);
        assert_eq!(c.verdict, Verdict::Pass, "{:?}", c.rows);
        let e = c.rows[0].checks[0].stats.clone().unwrap();
        assert_eq!(e.method, crate::stats::Method::Newcombe);
        // Back in percentage points: 0 of 300,000 is within a few thousandths of a pp.
        let i = e.interval.unwrap();
        assert!(i.upper > 0.0 && i.upper < 0.01 && i.lower < 0.0, "{i:?}");
        let t = c.rows[1].checks[0].stats.clone().unwrap();
        assert_eq!(t.method, crate::stats::Method::Welch);
        // 0 errors of 300 requests cannot exclude +0.2 pp.
        let c = judge(vec![with(0, 100); 3]);
        assert_eq!(c.rows[0].status, Status::Inconclusive, "{:?}", c.rows[0]);
        // The same runs without precision: identical values, no interval, the reason says why.
        let c = judge(vec![run(&[("error_rate", 0.0), ("throughput", 6000.0)]); 3]);
        assert_eq!(c.verdict, Verdict::Inconclusive);
        for row in &c.rows {
            assert_eq!(row.status, Status::Inconclusive);
            assert!(row.reasons[0].contains(crate::stats::NO_SPREAD), "{:?}", row.reasons);
            assert!(row.checks.iter().all(|c| c.stats.as_ref().is_some_and(|s| s.interval.is_none())));
        }
    }

    #[test]
    fn cumulative_limits_judge_against_the_reference_and_fail_without_one() {
        let policy = policy::parse(
            "p.yml",
            "metrics:\n  a: { max_increase: 5%, max_total_increase: 20% }\n  b: { max_total_decrease: 10 }\n",
        )
        .unwrap();
        let (b, c) = (run(&[("a", 115.0), ("b", 95.0)]), run(&[("a", 119.0), ("b", 89.0)]));
        // The library without a reference: a FAIL, never a skipped check.
        let none = compare(&b, &c, &policy, today());
        assert_eq!(none.verdict, Verdict::Fail);
        assert_eq!(
            none.rows[0].reasons,
            ["no reference given: max_total_increase cannot be judged (give --reference); nothing unverified passes"]
        );
        let reference = [run(&[("a", 100.0), ("b", 100.0)])];
        let with = compare_with_history(
            std::slice::from_ref(&b),
            std::slice::from_ref(&c),
            Some(&reference),
            &policy,
            today(),
            None,
        );
        assert_eq!(with.rows[0].reasons, ["+3.48% <= +5%", "+19% <= +20% since the reference (100)"]);
        assert_eq!(with.rows[1].reasons, ["-11 < -10 since the reference (100)"]);
        assert_eq!(with.verdict, Verdict::Fail);
        let v = with.rows[0].reference.clone().unwrap();
        assert_eq!((v.value, v.change, v.runs), (Some(100.0), Some(19.0), vec![Some(100.0)]));
        assert!((v.delta.unwrap() - 0.19).abs() < 1e-12);
        // A reference of 0: as a baseline of 0.
        let zero = [run(&[("a", 0.0), ("b", 0.0)])];
        let z = compare_with_history(&[b], &[c], Some(&zero), &policy, today(), None);
        assert!(z.rows[0].reasons[0].starts_with("the reference is 0, so any increase"), "{:?}", z.rows[0].reasons);
        assert!(
            z.rows[0].reasons[0].ends_with("give this metric an absolute max_total_increase since the reference (0)")
        );
    }

    #[test]
    fn two_sided_and_absolute_decrease() {
        let yaml = "metrics:\n  cost_per_1000_req: { max_increase: 5%, max_decrease: 5% }\n  throughput: { max_decrease: 500 }\n";
        let c = cmp(
            yaml,
            &[("cost_per_1000_req", 0.0050), ("throughput", 10000.0)],
            &[("cost_per_1000_req", 0.0047), ("throughput", 9400.0)],
        );
        assert_eq!(c.rows[0].reasons, ["-6% < -5%"]);
        assert_eq!(c.rows[1].reasons, ["-600 req/min < -500 req/min"]);
    }
}
