//! The statistical decision (`decision: { method: statistical }`): per gating row, PASS, FAIL or
//! INCONCLUSIVE from run-level values, with the interval, its method and the runs that would
//! settle it. Pure: numbers in, numbers out; no policy parsing, no printing, no I/O.
//!
//! It does not load runs, pick rows or render anything: the caller hands it, per gating row, the
//! per-run values of both sides (or error counts) and the row's limit; [`decide`] judges all rows
//! of one comparison together because FAIL claims are adjusted over them (Holm).
//!
//! # The model
//! The run is the unit of evidence (research note noise.md §1a-1b): each run gives one value per
//! row, and the spread between runs is the noise. Per row the analysis scale is
//! - **log** for relative limits (`max_increase: 10%`) and for SLO rows declared [`Scale::Log`]:
//!   y = ln(value); the change is the difference of mean logs, i.e. the ratio of geometric means;
//!   the margin is ln(1 + t) for a rise, ln(1 − t) for a fall;
//! - **linear** for absolute limits and SLO rows declared [`Scale::Linear`]: the change is the
//!   difference of arithmetic means; the margin is t.
//!
//! # The interval (values)
//! With ȳ_b, ȳ_c the side means, s²_b, s²_c the sample variances (n − 1 divisor) and w the
//! within-run standard error of one run's value (on the analysis scale), every variance is
//! floored, s² ← max(s², w²), so identical runs (a throughput pinned by the load generator) never
//! give a zero-width interval. Then:
//! - **Welch** (both sides have ≥ 2 runs; noise.md §1b "small-n choice: a t-interval on Y"):
//!   SE² = s²_b/n_b + s²_c/n_c, df by Welch–Satterthwaite
//!   df = SE⁴ / ((s²_b/n_b)²/(n_b − 1) + (s²_c/n_c)²/(n_c − 1)) (Welch 1947).
//! - **one side replicated** (one side has 1 run): the replicated side's variance is taken for
//!   both (equal run-to-run noise), SE² = s²(1/n_b + 1/n_c), df = n − 1 of that side.
//! - **assumed** (one run per side and `noise: { cov }` declared): σ = max(cov, w) on the log
//!   scale (cov × |side mean| on the linear scale), SE² = σ²_b + σ²_c, normal quantiles. The
//!   assumption is used only when no spread can be measured.
//! - **one run per side without an assumption**: INCONCLUSIVE, saying why: a single pair cannot
//!   see the run-to-run shift (noise.md §1a).
//! - **history** (`--noise-from`, [`decide_with_history`]; rows of values with ≥ 2 current
//!   runs): the run-to-run variance pooled from earlier certificates ([`crate::history`]), v_h
//!   with df_h, is pooled with the runs of both sides, s² = (df_h v_h + Σ (n − 1) s²) / (df_h +
//!   n_b + n_c − 2), SE² = s²(1/n_b + 1/n_c), df = min(df_h + n_b + n_c − 2, max(10, n_b + n_c −
//!   2)). Two allowances for what history cannot promise: the df cap of 10
//!   ([`HISTORY_DF_CAP`]; with heavy-tailed run noise and 2 current runs the uncapped test
//!   gave 1.1-1.6% false FAIL at the boundary at alpha 1%, capped ≤ 0.85%, tests/history_sim.rs),
//!   and a homogeneity check: a side whose own spread exceeds history's by a one-sided F test at
//!   1% ([`HISTORY_HOMOGENEITY`]) means these runs are noisier than the history says, and the
//!   row is judged without history (saying so). One current run never uses history.
//! - **paired** (duet runs, [`Data::Paired`]; noise.md §1d): run i measured both sides side by
//!   side, so its difference d_i = y_c,i − y_b,i is the unit. d̄ is the mean difference (equal to
//!   the difference of the side means), s²_d = max(var(d_i), w²) where w is the within-run
//!   standard error of one run's difference (from its time slices), SE² = s²_d/n, df = n − 1: a
//!   one-sample t over the runs. One duet run is INCONCLUSIVE unless a cov is assumed (then as
//!   above, σ² for each side): the slices of one run share one placement, so they measure the
//!   within-run noise but not what the placement adds. `runs_needed` then counts runs (pairs).
//! - **SLO ceilings and floors** use the current runs alone: SE² = s²_c/n_c, df = n_c − 1 (or the
//!   assumed σ for one run), against ln(limit) (log scale) or the limit (linear).
//!
//! The bad end of the interval is the one-sided bound at `alpha` (q = t_{1−α, df}); the good end
//! is the one-sided bound at the row's Holm level α_j. PASS when the bad end is within the
//! tolerance (≤ for a rise, ≥ for a fall: exactly at the tolerance passes, as in the threshold
//! method); FAIL when the good end is strictly beyond it; INCONCLUSIVE otherwise. This is the
//! non-inferiority / TOST logic (noise.md §0.2): P(FAIL | change within tolerance) ≤ α_j and
//! P(PASS | change beyond it) ≤ α by construction. The two cannot both hold because the good end
//! lies on the good side of the bad end.
//!
//! # Error rates (counts; noise.md §5)
//! Per side: K = Σ errors, N = Σ requests, φ = the request-weighted mean of the runs' dispersion
//! factors (≥ 1; the variance inflation [1 + (n − 1)ρ] of the quasi-binomial, Williams 1982).
//! Effective counts k' = K/φ, n' = N/φ give each side a **Wilson** score interval at z
//! (l, u) = ((k' + z²/2) ∓ z √(k'(n' − k')/n' + z²/4)) / (n' + z²), which is never zero width,
//! even for 0, 0, 0 errors. The difference p_c − p_b gets **Newcombe's hybrid score** interval
//! (Newcombe 1998, method 10): L = d − √((p_c − l_c)² + (u_b − p_b)²), U = d + √((u_c − p_c)² +
//! (p_b − l_b)²). With ≥ 2 runs on a side, the between-run variance
//! τ² = max(0, var(p_r) − mean(φ_r p_r(1 − p_r)/N_r)) is added as q²τ²/runs inside both square
//! roots (per side; a side with one run borrows the other side's τ²; with one run per side and
//! an assumed cov, τ = cov × p). A replicated side's spread estimates a run's whole variance,
//! within + τ² = max(var(p_r), within), from a few runs, so the quantile of every part of the
//! interval, the Wilson distances and τ² alike, is Student's t at the same one-sided level as z
//! (the Wilson distances are scaled by t/z), with df by Welch–Satterthwaite over the sides'
//! (within + τ²)/runs (runs − 1 of the replicated side when one side borrows; ∞, i.e. q = z, for
//! an assumed cov or when no run has an error); that df is the row's `df`.
//!
//! Why the whole variance: with z on the within part and t on τ² alone, the boundary false FAIL
//! was 0.55-1.10% at alpha 1% (1.7% with z everywhere). The cause is the truncation
//! τ² = max(0, ·): when a few runs happen to vary less than the binomial noise (often, with the
//! heavy-tailed run-to-run shifts of the simulator and real machines), τ² is 0, the df was taken as
//! ∞ and the interval fell back to z on the within part alone, too narrow by the τ² it could not
//! see; and where τ² survives its noise comes from var(p_r), which carries the within part too, so
//! its real df is below runs − 1. Treating the runs' spread as the estimate of the whole per-run
//! variance (floored at the binomial within part, as values are floored at their within-run
//! error) is the t-interval's own logic and gives 0-0.75% (docs/statistics.md). The price is
//! width at 3 runs per side, where t is large.
//! SLO ceilings/floors on an error rate use the current side's Wilson interval widened the same
//! way. Counts rows take proportions (0.002, not 0.2 pp).
//!
//! # Multiplicity (noise.md §4)
//! FAIL claims are Holm-adjusted over every gating row of the comparison: with the one-sided
//! p-values for "beyond the tolerance" sorted ascending, step j (0-based, k rows) tests at
//! α_j = min(family_alpha/(k − j), alpha) (each step capped at alpha, which keeps the per-metric
//! goal; a step-down with smaller thresholds still controls the family-wise rate), rejecting until
//! the first p > α_j; rows from there on have their FAIL bound computed at that step's α. Rows
//! that cannot be tested count in k with p = 1 (conservative). PASS needs no adjustment: the run
//! PASSes only if every row PASSes, an intersection-union test (Berger 1982). For counts rows the
//! p-value is the level at which Newcombe's good end meets the tolerance (bisection on z).
//!
//! # Runs needed (noise.md appendix `nreq.py`)
//! For an INCONCLUSIVE row with a measured (or assumed) spread: the smallest k ≥ 1 more runs per
//! side such that (t_{1−α*, ν} + t_{0.8, ν}) · SE_k ≤ |m − d|, with SE²_k = s²_b/(n_b + k) +
//! s²_c/(n_c + k) (SLO rows: s²_c/(n_c + k)), ν = n_b + n_c + 2k − 2 (n_c + k − 1), α* = alpha when
//! the estimate is on the good side (aiming for PASS) and the row's Holm α otherwise (aiming for
//! FAIL): 80% power if the true change equals today's estimate. `None` when the estimate sits on
//! the tolerance, when more than `max_runs` per side would be needed (the advice is then "at the
//! tolerance boundary: waive or decide"), or when there is no spread to plan from. Error-rate rows
//! plan the same way on the per-run variance of a run's proportion, with the same ν when τ² was
//! estimated (normal quantiles when it is assumed or zero).
//!
//! # Guarantees
//! Never a panic and never a non-finite number out: inputs that are not finite, not positive on a
//! log scale or empty make the row INCONCLUSIVE with the reason; a result that would not be finite
//! is reported the same way. Distributions: [`dist`].

pub mod dist;

use dist::{f_sf, normal_quantile, normal_sf, t_sf, t_upper};

/// The settings of the `decision:` block that the arithmetic needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Per row: P(FAIL | within tolerance) and P(PASS | beyond it).
    pub alpha: f64,
    /// Per comparison: P(any false FAIL), by Holm over every gating row.
    pub family_alpha: f64,
    /// Most runs per side `runs_needed` may ask for.
    pub max_runs: u32,
    /// Declared run-to-run CoV (SD of the log metric), used only when no spread can be measured.
    pub assumed_cov: Option<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { alpha: 0.01, family_alpha: 0.05, max_runs: 20, assumed_cov: None }
    }
}

/// Power that `runs_needed` plans for.
pub const POWER: f64 = 0.8;

/// Which direction is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    /// A rise is worse (`max_increase`, `max`).
    Higher,
    /// A fall is worse (`max_decrease`, `min`).
    Lower,
}

/// The analysis scale of an SLO row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Log,
    Linear,
}

/// One gating check of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// A fraction of the baseline (`10%` is 0.10), judged on the log scale.
    Relative { worse: Worse, tolerance: f64 },
    /// A difference in the row's unit (for counts: a proportion), judged on differences.
    Absolute { worse: Worse, tolerance: f64 },
    /// An SLO ceiling (inclusive) on the current runs alone.
    Ceiling { limit: f64, scale: Scale },
    /// An SLO floor (inclusive) on the current runs alone.
    Floor { limit: f64, scale: Scale },
}

/// One run's error count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Count {
    pub errors: f64,
    pub requests: f64,
    /// Variance inflation over the binomial, ≥ 1 (1 when unknown).
    pub dispersion: f64,
}

/// The evidence for one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Data<'a> {
    /// One value per run. `within_se` is the within-run standard error of one run's value on the
    /// row's analysis scale (log scale ≈ relative SE; the row's unit on a linear scale).
    Values { baseline: &'a [f64], current: &'a [f64], within_se: f64 },
    /// Error counts per run (an error rate as a proportion).
    Counts { baseline: &'a [Count], current: &'a [Count] },
    /// One value per side per duet run, paired by index (both sides measured side by side in
    /// one run). `within_se` is the within-run standard error of one run's difference on the
    /// analysis scale (from its time slices). SLO rows judge the current values alone, as for
    /// [`Data::Values`].
    Paired { baseline: &'a [f64], current: &'a [f64], within_se: f64 },
}

/// A row to judge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input<'a> {
    pub check: Check,
    pub data: Data<'a>,
}

/// Run-to-run variance learned from history (`--noise-from`): the pooled within-certificate
/// variance of one row's metric on the row's analysis scale, with its degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pooled {
    pub variance: f64,
    pub df: f64,
}

/// The most degrees of freedom a row takes from history: the allowance for heavy-tailed run
/// noise (a t quantile at 10 df at most; see the module doc and tests/history_sim.rs).
pub const HISTORY_DF_CAP: f64 = 10.0;

/// History is not pooled with a side whose own spread is larger than history's at this
/// one-sided level (an F test): the runs are noisier than the history says.
pub const HISTORY_HOMOGENEITY: f64 = 0.01;

/// A row's (or a run's) statistical verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// How the interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Welch t on run-level values, both sides replicated.
    Welch,
    /// t with the spread of the one replicated side.
    OneSideSpread,
    /// One current-side t (SLO rows).
    OneSample,
    /// The declared `noise: { cov }`, normal quantiles.
    Assumed,
    /// The run-to-run variance pooled from history (`--noise-from`) and the runs of both sides.
    History,
    /// Newcombe's hybrid score interval on dispersion-adjusted counts.
    Newcombe,
    /// Wilson's score interval on dispersion-adjusted counts (SLO rows on counts).
    Wilson,
    /// One-sample t on paired per-run differences (duet runs).
    Paired,
    /// No interval could be computed.
    None,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Welch => "welch-t",
            Method::OneSideSpread => "t-one-side-spread",
            Method::OneSample => "one-sample-t",
            Method::Assumed => "assumed-cov",
            Method::History => "pooled-history-t",
            Method::Newcombe => "newcombe",
            Method::Wilson => "wilson",
            Method::Paired => "paired-t",
            Method::None => "none",
        }
    }
}

/// The interval of a row, in the row's natural units: a fraction for relative limits (+0.05 is
/// +5%), a difference for absolute ones, a level for SLO rows. Each end records the one-sided
/// level it was computed at: the bad end at `alpha`, the good end at the Holm-adjusted level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
    pub lower_alpha: f64,
    pub upper_alpha: f64,
}

/// The decision for one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// The change (or the level, for SLO rows) in natural units; `None` without usable data.
    pub estimate: Option<f64>,
    pub interval: Option<Interval>,
    /// Degrees of freedom of the t quantiles; `None` for normal quantiles or no interval.
    pub df: Option<f64>,
    pub method: Method,
    /// The one-sided p-value of "beyond the tolerance" that Holm ranked.
    pub fail_p: f64,
    /// More runs per side that would settle an INCONCLUSIVE row at 80% power.
    pub runs_needed: Option<u32>,
    /// Why, in a sentence (empty for a plain PASS or FAIL).
    pub reason: String,
}

impl Outcome {
    /// A row decided without an interval (nothing to test, or no value could breach the limit).
    fn without_interval(verdict: Verdict, estimate: Option<f64>, reason: &str) -> Outcome {
        Outcome {
            verdict,
            estimate,
            interval: None,
            df: None,
            method: Method::None,
            fail_p: 1.0,
            runs_needed: None,
            reason: reason.to_string(),
        }
    }
}

/// The whole comparison's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub rows: Vec<Outcome>,
    /// PASS only if every row PASSes; FAIL if any row FAILs; INCONCLUSIVE otherwise.
    pub verdict: Verdict,
    /// More runs per side that would settle every INCONCLUSIVE row (the largest of theirs);
    /// `None` when the verdict is settled or some inconclusive row cannot be planned.
    pub runs_needed: Option<u32>,
}

/// Judges every gating row of one comparison.
pub fn decide(inputs: &[Input], settings: &Settings) -> Decision {
    decide_with_history(inputs, &[], settings)
}

/// [`decide`], with a run-to-run variance from history for some rows (`history[i]` for
/// `inputs[i]`; missing entries have none). Only relative and absolute rows of values with at
/// least 2 current runs use it.
pub fn decide_with_history(inputs: &[Input], history: &[Option<Pooled>], settings: &Settings) -> Decision {
    let settings = sanitize(settings);
    let tests: Vec<Test> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| Test::new(input, history.get(i).copied().flatten(), &settings))
        .collect();
    let p: Vec<f64> = tests.iter().map(Test::fail_p).collect();
    let fail_alpha = holm(&p, settings.family_alpha, settings.alpha);
    let rows: Vec<Outcome> = tests
        .iter()
        .zip(p.iter().zip(&fail_alpha))
        .map(|(test, (&p, &(alpha_j, rejected)))| test.outcome(&settings, p, alpha_j, rejected))
        .collect();
    let verdict = if rows.iter().any(|r| r.verdict == Verdict::Fail) {
        Verdict::Fail
    } else if !rows.is_empty() && rows.iter().all(|r| r.verdict == Verdict::Pass) {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    };
    let runs_needed = match verdict {
        Verdict::Inconclusive => rows
            .iter()
            .filter(|r| r.verdict == Verdict::Inconclusive)
            .map(|r| r.runs_needed)
            .try_fold(0, |most, n| n.map(|n| most.max(n))),
        _ => None,
    };
    Decision { rows, verdict, runs_needed: runs_needed.filter(|&n| n > 0) }
}

/// Settings outside their ranges are brought into them (policy validation rejects them first).
fn sanitize(s: &Settings) -> Settings {
    let unit = |x: f64, default: f64| if x.is_finite() && x > 0.0 && x < 0.5 { x } else { default };
    Settings {
        alpha: unit(s.alpha, 0.01),
        family_alpha: unit(s.family_alpha, 0.05),
        max_runs: s.max_runs.max(1),
        assumed_cov: s.assumed_cov.filter(|c| c.is_finite() && *c > 0.0),
    }
}

/// Holm's step-down levels: for each p, (the level its FAIL bound uses, rejected?). Each step's
/// level is min(family/(k − j), cap); rows at and after the first non-rejection get that step's.
pub fn holm(p: &[f64], family: f64, cap: f64) -> Vec<(f64, bool)> {
    let k = p.len();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![(cap, false); k];
    let mut stopped: Option<f64> = None;
    for (j, &i) in order.iter().enumerate() {
        let level = (family / (k - j) as f64).min(cap);
        match stopped {
            Some(level) => out[i] = (level, false),
            None if p[i] < level => out[i] = (level, true),
            None => {
                stopped = Some(level);
                out[i] = (level, false);
            }
        }
    }
    out
}

/// A row reduced to what the decision needs.
enum Test {
    /// No interval: the reason.
    Untestable { reason: String, estimate: Option<f64> },
    /// A t (or normal, df None) interval on the analysis scale, natural orientation.
    T(TTest),
    /// Counts: Newcombe (two sides) or Wilson (current only).
    Counts(CountTest),
    /// The limit cannot be breached (a fall of 100% or more allowed): PASS.
    Unbreachable { estimate: Option<f64>, reason: String },
}

struct TTest {
    /// Mean difference (or current mean for SLO rows) on the analysis scale.
    d: f64,
    /// Margin on the analysis scale.
    margin: f64,
    se: f64,
    df: Option<f64>,
    worse: Worse,
    log: bool,
    /// Per-run variances of the sides (baseline, current) and their run counts, for planning;
    /// baseline `None` for SLO rows.
    plan: Plan,
    method: Method,
    /// Subtract 1 after exp (a relative change) or not (an SLO level).
    change: bool,
    /// What the reader should know about how the interval was made (history left out).
    note: String,
    /// Paired duet runs: `plan` and `runs_needed` count runs (pairs), not runs per side.
    paired: bool,
}

struct Plan {
    baseline: Option<(f64, usize)>,
    current: (f64, usize),
    /// Degrees of freedom that do not grow with more runs (history's).
    fixed_df: f64,
}

struct CountTest {
    current: Side,
    baseline: Option<Side>,
    margin: f64,
    worse: Worse,
    method: Method,
    /// Degrees of freedom of the between-run part (Welch–Satterthwaite over the sides' τ²
    /// estimates; ∞ when τ² is assumed or zero).
    tau_df: f64,
}

#[derive(Clone, Copy)]
struct Side {
    k: f64,
    n: f64,
    phi: f64,
    tau2: f64,
    /// The mean within-run variance of a run's proportion, φ_r p_r (1 − p_r) / N_r (0 with one run).
    within: f64,
    runs: usize,
}

impl Side {
    fn p(&self) -> f64 {
        if self.n > 0.0 { self.k / self.n } else { 0.0 }
    }

    /// Wilson's interval on the effective counts at z, as distances (below, above) from p.
    fn wilson(&self, z: f64) -> (f64, f64) {
        let (k, n) = (self.k / self.phi, self.n / self.phi);
        let z2 = z * z;
        let center = (k + z2 / 2.0) / (n + z2);
        let half = z / (n + z2) * (k * (n - k) / n + z2 / 4.0).max(0.0).sqrt();
        let p = self.p();
        ((p - (center - half)).max(0.0), ((center + half) - p).max(0.0))
    }

    /// Per-run variance of a run's proportion, for planning.
    fn run_variance(&self) -> f64 {
        let p = self.p();
        let per_run = self.n / self.runs.max(1) as f64;
        (p * (1.0 - p) * self.phi / per_run.max(1.0)).max(1.0 / (per_run.max(1.0) * per_run.max(1.0))) + self.tau2
    }
}

impl CountTest {
    /// The between-run part's quantile at the one-sided level of the normal quantile z: Student's
    /// t with `tau_df` degrees of freedom, because τ² is estimated from a few runs.
    fn between_q(&self, z: f64) -> f64 {
        if !self.tau_df.is_finite() || z <= 0.0 {
            return z;
        }
        t_upper(normal_sf(z), self.tau_df).max(z)
    }

    /// (lower, upper) of the difference (or the current level) at one-sided levels z_low, z_up.
    fn bounds(&self, z_low: f64, z_up: f64) -> (f64, f64) {
        let c = &self.current;
        let (t_low, t_up) = (self.between_q(z_low), self.between_q(z_up));
        // The runs' spread estimates a run's whole variance (within + between), so the t quantile
        // applies to the Wilson parts too: each is scaled by t / z.
        let scale = |t: f64, z: f64| if z > 0.0 { t / z } else { 1.0 };
        let (s_low, s_up) = (scale(t_low, z_low), scale(t_up, z_up));
        match &self.baseline {
            None => {
                let d = c.p();
                let (below, _) = c.wilson(z_low);
                let (_, above) = c.wilson(z_up);
                let (below, above) = (below * s_low, above * s_up);
                let lo = d - (below * below + t_low * t_low * c.tau2 / c.runs as f64).sqrt();
                let hi = d + (above * above + t_up * t_up * c.tau2 / c.runs as f64).sqrt();
                (lo.max(0.0), hi.min(1.0))
            }
            Some(b) => {
                let d = c.p() - b.p();
                let between = c.tau2 / c.runs as f64 + b.tau2 / b.runs as f64;

                let (c_below, _) = c.wilson(z_low);
                let (_, b_above) = b.wilson(z_low);
                let (_, c_above) = c.wilson(z_up);
                let (b_below, _) = b.wilson(z_up);
                let (c_below, b_above) = (c_below * s_low, b_above * s_low);
                let (c_above, b_below) = (c_above * s_up, b_below * s_up);
                let lo = d - (c_below * c_below + b_above * b_above + t_low * t_low * between).sqrt();
                let hi = d + (c_above * c_above + b_below * b_below + t_up * t_up * between).sqrt();
                (lo, hi)
            }
        }
    }

    fn estimate(&self) -> f64 {
        self.current.p() - self.baseline.map_or(0.0, |b| b.p())
    }

    /// The good end at level z, oriented so that larger is worse.
    fn good_end(&self, z: f64) -> f64 {
        match self.worse {
            Worse::Higher => self.bounds(z, 0.0).0,
            Worse::Lower => -self.bounds(0.0, z).1,
        }
    }

    fn oriented_margin(&self) -> f64 {
        match self.worse {
            Worse::Higher => self.margin,
            Worse::Lower => -self.margin,
        }
    }

    /// The level at which the good end meets the margin.
    fn fail_p(&self) -> f64 {
        let m = self.oriented_margin();
        if self.good_end(0.0) <= m {
            return 1.0;
        }
        let (mut lo, mut hi) = (0.0, 40.0);
        if self.good_end(hi) > m {
            return normal_sf(hi);
        }
        for _ in 0..100 {
            let mid = (lo + hi) / 2.0;
            if self.good_end(mid) > m {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        normal_sf(lo)
    }
}

/// The first side (with at least 2 runs) whose spread is larger than history's at
/// [`HISTORY_HOMOGENEITY`] by a one-sided F test, by name.
fn noisier_than_history<'a>(h: &Pooled, sides: &[(&Vec<f64>, &'a str)]) -> Option<&'a str> {
    sides.iter().find_map(|(ys, name)| {
        if ys.len() < 2 {
            return None;
        }
        let s2 = variance(ys);
        let noisier = if h.variance > 0.0 {
            f_sf(s2 / h.variance, (ys.len() - 1) as f64, h.df) < HISTORY_HOMOGENEITY
        } else {
            s2 > 0.0
        };
        noisier.then_some(*name)
    })
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance (n − 1 divisor); 0 for one value.
pub fn variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64
}

const ONE_DUET: &str = "one duet run: its time slices share one placement, so they measure the within-run noise but not what running each side where it ran adds; add a duet run with the placement swapped (--duet once per run) or declare decision.noise.cov";
/// Why identical runs without a within-run error give no interval, and what would settle it.
pub const NO_SPREAD: &str = "the runs are identical and the inputs carry no within-run error for this metric, so no interval can be computed; add runs, or inputs that carry it (request counts for error rates and throughput, a Locust JSON histogram for percentiles, a native `precision` entry)";

const ONE_PAIR: &str = "one run per side: the run-to-run spread is unknown, and one pair cannot tell a change from a noisy run; add runs (--baseline/--current once per run) or declare decision.noise.cov";

impl Test {
    fn new(input: &Input, history: Option<Pooled>, settings: &Settings) -> Test {
        match input.data {
            Data::Values { baseline, current, within_se } => {
                Test::values(input.check, baseline, current, within_se, history, settings)
            }
            Data::Counts { baseline, current } => Test::counts(input.check, baseline, current, settings),
            Data::Paired { baseline, current, within_se } => {
                Test::paired(input.check, baseline, current, within_se, settings)
            }
        }
    }

    /// Duet runs: the unpaired test's estimate and margin (the mean difference is the
    /// difference of the means), with the spread of the per-run differences instead of the
    /// sides' spreads. SLO rows are unpaired (current runs alone).
    fn paired(check: Check, baseline: &[f64], current: &[f64], within_se: f64, settings: &Settings) -> Test {
        if matches!(check, Check::Ceiling { .. } | Check::Floor { .. }) {
            return Test::values(check, &[], current, within_se, None, settings);
        }
        if baseline.len() != current.len() {
            return Test::Untestable {
                reason: format!(
                    "paired runs need both sides in every run ({} baseline and {} current values)",
                    baseline.len(),
                    current.len()
                ),
                estimate: None,
            };
        }
        let n = current.len();
        let w = if within_se.is_finite() && within_se > 0.0 { within_se } else { 0.0 };
        let test = Test::values(check, baseline, current, w, None, settings);
        let Test::T(mut t) = test else {
            return match test {
                Test::Untestable { reason, estimate } if reason == ONE_PAIR => {
                    Test::Untestable { reason: ONE_DUET.into(), estimate }
                }
                other => other,
            };
        };
        t.paired = true;
        if n < 2 {
            // The assumed σ of both sides (Test::values); the slices cannot stand in for it.
            // More duet runs would measure the differences' spread: plan on that variance.
            t.plan = Plan { baseline: None, current: (t.se * t.se, 1), fixed_df: 0.0 };
            return Test::T(t);
        }
        let y = |v: f64| if t.log { v.ln() } else { v };
        let d: Vec<f64> = baseline.iter().zip(current).map(|(&b, &c)| y(c) - y(b)).collect();
        let s2 = variance(&d).max(w * w);
        let se = (s2 / n as f64).sqrt();
        if !(se > 0.0 && se.is_finite()) {
            return Test::Untestable {
                reason:
                    "the runs' differences do not vary and no within-run error was given: no interval can be computed"
                        .into(),
                estimate: Some(if t.log { t.d.exp_m1() } else { t.d }),
            };
        }
        t.se = se;
        t.df = Some((n - 1) as f64);
        t.method = Method::Paired;
        t.plan = Plan { baseline: None, current: (s2, n), fixed_df: 0.0 };
        Test::T(t)
    }

    fn values(
        check: Check,
        baseline: &[f64],
        current: &[f64],
        within_se: f64,
        history: Option<Pooled>,
        settings: &Settings,
    ) -> Test {
        let untestable = |reason: String| Test::Untestable { reason, estimate: None };
        let w = if within_se.is_finite() && within_se > 0.0 { within_se } else { 0.0 };
        let (worse, log, slo, change_margin) = match check {
            Check::Relative { worse, tolerance } => (worse, true, None, Some(tolerance)),
            Check::Absolute { worse, tolerance } => (worse, false, None, Some(tolerance)),
            Check::Ceiling { limit, scale } => (Worse::Higher, scale == Scale::Log, Some(limit), None),
            Check::Floor { limit, scale } => (Worse::Lower, scale == Scale::Log, Some(limit), None),
        };
        if current.is_empty() {
            return untestable("no current runs".into());
        }
        if slo.is_none() && baseline.is_empty() {
            return untestable("no baseline runs".into());
        }
        let all = current.iter().chain(if slo.is_none() { baseline } else { &[] });
        if let Some(bad) = all.clone().find(|v| !v.is_finite()) {
            return untestable(format!("a run's value is not a finite number ({bad})"));
        }
        if log && let Some(bad) = all.clone().find(|v| **v <= 0.0) {
            return untestable(format!("a run's value is {bad}: a ratio needs values above 0"));
        }
        let transform = |xs: &[f64]| -> Vec<f64> { xs.iter().map(|&v| if log { v.ln() } else { v }).collect() };
        let yc = transform(current);
        let yb = transform(baseline);
        let margin = match (slo, change_margin) {
            (Some(limit), _) if !limit.is_finite() => return untestable(format!("the limit {limit} is not finite")),
            (Some(limit), _) if log && limit <= 0.0 => {
                return untestable(format!(
                    "the limit {limit} cannot be judged on a log scale (it needs values above 0)"
                ));
            }
            (Some(limit), _) => {
                if log {
                    limit.ln()
                } else {
                    limit
                }
            }
            (None, Some(t)) if !(t.is_finite() && t >= 0.0) => {
                return untestable(format!("the tolerance {t} is not a finite number >= 0"));
            }
            (None, Some(t)) => match (log, worse) {
                (true, Worse::Higher) => t.ln_1p(),
                (true, Worse::Lower) if t >= 1.0 => {
                    return Test::Unbreachable {
                        estimate: Some((mean(&yc) - mean(&yb)).exp_m1()),
                        reason: format!(
                            "a fall of {}% or more is allowed: a positive value cannot breach it",
                            t * 100.0
                        ),
                    };
                }
                (true, Worse::Lower) => (-t).ln_1p(),
                (false, Worse::Higher) => t,
                (false, Worse::Lower) => -t,
            },
            (None, None) => unreachable_margin(),
        };
        // The within-run floor and the assumed σ per side, on the analysis scale.
        let assumed = |ys: &[f64]| -> Option<f64> {
            settings.assumed_cov.map(|cov| if log { cov } else { cov * mean(ys).abs() }).map(|s| s.max(w))
        };
        let floored = |ys: &[f64]| variance(ys).max(w * w);
        let (nb, nc) = (yb.len(), yc.len());
        let history = history.filter(|h| h.variance.is_finite() && h.variance >= 0.0 && h.df >= 1.0);
        let mut note = String::new();
        let pooled = match history {
            Some(_) if slo.is_some() => None,
            Some(_) if nc < 2 => {
                note = "history not used: it needs at least 2 current runs".into();
                None
            }
            Some(h) => match noisier_than_history(&h, &[(&yb, "baseline"), (&yc, "current")]) {
                Some(side) => {
                    note = format!(
                        "history not used: the {side} runs vary more than the history's runs (F test at {HISTORY_HOMOGENEITY})"
                    );
                    None
                }
                None => Some(h),
            },
            None => None,
        };
        let (d, se2, df, method, plan) = if let Some(h) = pooled {
            let own: f64 =
                [&yb, &yc].iter().filter(|ys| ys.len() >= 2).map(|ys| variance(ys) * (ys.len() - 1) as f64).sum();
            let own_df = (nb.saturating_sub(1) + nc - 1) as f64;
            let s2 = ((h.df * h.variance + own) / (h.df + own_df)).max(w * w);
            let df = (h.df + own_df).min(HISTORY_DF_CAP.max(own_df));
            let plan = Plan { baseline: Some((s2, nb)), current: (s2, nc), fixed_df: df - own_df.min(df) };
            (mean(&yc) - mean(&yb), s2 * (1.0 / nb as f64 + 1.0 / nc as f64), Some(df), Method::History, plan)
        } else if slo.is_some() {
            let d = mean(&yc);
            if nc >= 2 {
                let s2 = floored(&yc);
                (
                    d,
                    s2 / nc as f64,
                    Some((nc - 1) as f64),
                    Method::OneSample,
                    Plan { baseline: None, current: (s2, nc), fixed_df: 0.0 },
                )
            } else if let Some(sigma) = assumed(&yc) {
                (
                    d,
                    sigma * sigma,
                    None,
                    Method::Assumed,
                    Plan { baseline: None, current: (sigma * sigma, nc), fixed_df: 0.0 },
                )
            } else {
                return Test::Untestable {
                    reason: "one current run: the run-to-run spread is unknown; add runs or declare decision.noise.cov"
                        .into(),
                    estimate: Some(if log { d.exp() } else { d }),
                };
            }
        } else {
            let d = mean(&yc) - mean(&yb);
            if nb >= 2 && nc >= 2 {
                let (vb, vc) = (floored(&yb) / nb as f64, floored(&yc) / nc as f64);
                let se2 = vb + vc;
                let df = se2 * se2 / (vb * vb / (nb - 1) as f64 + vc * vc / (nc - 1) as f64);
                let plan = Plan { baseline: Some((floored(&yb), nb)), current: (floored(&yc), nc), fixed_df: 0.0 };
                (d, se2, Some(df), Method::Welch, plan)
            } else if nb >= 2 || nc >= 2 {
                let (ys, n) = if nb >= 2 { (&yb, nb) } else { (&yc, nc) };
                let s2 = floored(ys);
                let plan = Plan { baseline: Some((s2, nb)), current: (s2, nc), fixed_df: 0.0 };
                (d, s2 * (1.0 / nb as f64 + 1.0 / nc as f64), Some((n - 1) as f64), Method::OneSideSpread, plan)
            } else if let (Some(sb), Some(sc)) = (assumed(&yb), assumed(&yc)) {
                let plan = Plan { baseline: Some((sb * sb, 1)), current: (sc * sc, 1), fixed_df: 0.0 };
                (d, sb * sb + sc * sc, None, Method::Assumed, plan)
            } else {
                return Test::Untestable { reason: ONE_PAIR.into(), estimate: Some(if log { d.exp_m1() } else { d }) };
            }
        };
        let se = se2.sqrt();
        let constant = |ys: &[f64]| ys.iter().all(|y| *y == ys[0]);
        let no_spread = w == 0.0
            && !matches!(method, Method::Assumed | Method::History)
            && constant(&yc)
            && (slo.is_some() || constant(&yb));
        if no_spread || !(se > 0.0 && se.is_finite() && d.is_finite()) {
            return Test::Untestable {
                reason: NO_SPREAD.into(),
                estimate: d.is_finite().then(|| if log { if slo.is_some() { d.exp() } else { d.exp_m1() } } else { d }),
            };
        }
        Test::T(TTest { d, margin, se, df, worse, log, plan, method, change: slo.is_none(), note, paired: false })
    }

    fn counts(check: Check, baseline: &[Count], current: &[Count], settings: &Settings) -> Test {
        let untestable = |reason: String| Test::Untestable { reason, estimate: None };
        let (worse, margin, two_sided) = match check {
            Check::Absolute { worse, tolerance } => (worse, tolerance, true),
            Check::Ceiling { limit, .. } => (Worse::Higher, limit, false),
            Check::Floor { limit, .. } => (Worse::Lower, limit, false),
            Check::Relative { .. } => {
                return untestable("a relative limit on an error count is judged on per-run values, not counts".into());
            }
        };
        if !margin.is_finite() {
            return untestable(format!("the limit {margin} is not a finite number"));
        }
        let side = |runs: &[Count], name: &str| -> Result<Side, String> {
            if runs.is_empty() {
                return Err(format!("no {name} runs"));
            }
            for r in runs {
                let ok = r.errors.is_finite()
                    && r.requests.is_finite()
                    && r.errors >= 0.0
                    && r.requests > 0.0
                    && r.errors <= r.requests
                    && r.dispersion.is_finite();
                if !ok {
                    return Err(format!(
                        "a {name} run's error count is not usable ({} errors of {} requests, dispersion {})",
                        r.errors, r.requests, r.dispersion
                    ));
                }
            }
            let k: f64 = runs.iter().map(|r| r.errors).sum();
            let n: f64 = runs.iter().map(|r| r.requests).sum();
            let phi = runs.iter().map(|r| r.requests * r.dispersion.max(1.0)).sum::<f64>() / n;
            let (tau2, within) = if runs.len() >= 2 {
                let p: Vec<f64> = runs.iter().map(|r| r.errors / r.requests).collect();
                let within =
                    runs.iter().zip(&p).map(|(r, p)| r.dispersion.max(1.0) * p * (1.0 - p) / r.requests).sum::<f64>()
                        / runs.len() as f64;
                ((variance(&p) - within).max(0.0), within)
            } else {
                (0.0, 0.0)
            };
            Ok(Side { k, n, phi, tau2, within, runs: runs.len() })
        };
        let mut current = match side(current, "current") {
            Ok(s) => s,
            Err(reason) => return untestable(reason),
        };
        let mut baseline = if two_sided {
            match side(baseline, "baseline") {
                Ok(s) => Some(s),
                Err(reason) => return untestable(reason),
            }
        } else {
            None
        };
        let replicated = current.runs >= 2 || baseline.is_some_and(|b| b.runs >= 2);
        let method = if two_sided { Method::Newcombe } else { Method::Wilson };
        if !replicated {
            let Some(cov) = settings.assumed_cov else {
                let estimate = current.p() - baseline.map_or(0.0, |b| b.p());
                return Test::Untestable {
                    reason: if two_sided {
                        ONE_PAIR.into()
                    } else {
                        "one current run: the run-to-run spread is unknown; add runs or declare decision.noise.cov"
                            .into()
                    },
                    estimate: Some(estimate),
                };
            };
            current.tau2 = (cov * current.p()).powi(2);
            if let Some(b) = baseline.as_mut() {
                b.tau2 = (cov * b.p()).powi(2);
            }
        }
        let tau_df = if !replicated {
            // An assumed cov is a known variance.
            f64::INFINITY
        } else {
            match baseline.as_mut() {
                // A side with one run borrows the replicated side's between-run variance: one
                // estimate with that side's runs − 1 degrees of freedom.
                Some(b) if b.runs < 2 => {
                    b.tau2 = current.tau2;
                    (current.runs - 1) as f64
                }
                Some(b) if current.runs < 2 => {
                    current.tau2 = b.tau2;
                    (b.runs - 1) as f64
                }
                // Two independent estimates of a run's total variance, within + τ² = max(s², within):
                // Welch–Satterthwaite.
                Some(b) => {
                    let total = |s: &Side| (s.within + s.tau2) / s.runs as f64;
                    let (vc, vb) = (total(&current), total(b));
                    let denominator = vc * vc / (current.runs - 1) as f64 + vb * vb / (b.runs - 1) as f64;
                    if denominator > 0.0 { (vc + vb).powi(2) / denominator } else { f64::INFINITY }
                }
                None => (current.runs - 1) as f64,
            }
        };
        // No errors in any run: nothing varies, and Wilson's interval on the counts is the
        // whole story.
        let spread = |s: &Side| s.within + s.tau2;
        let estimated = spread(&current) + baseline.map_or(0.0, |b| spread(&b)) > 0.0;
        let tau_df = if estimated { tau_df } else { f64::INFINITY };
        Test::Counts(CountTest { current, baseline, margin, worse, method, tau_df })
    }

    fn fail_p(&self) -> f64 {
        match self {
            Test::Untestable { .. } | Test::Unbreachable { .. } => 1.0,
            Test::T(t) => {
                let (e, m) = match t.worse {
                    Worse::Higher => (t.d, t.margin),
                    Worse::Lower => (-t.d, -t.margin),
                };
                upper_tail((e - m) / t.se, t.df)
            }
            Test::Counts(c) => c.fail_p(),
        }
    }

    fn outcome(&self, settings: &Settings, p: f64, fail_alpha: f64, rejected: bool) -> Outcome {
        let alpha = settings.alpha;
        let out = match self {
            Test::Untestable { reason, estimate } => {
                Outcome::without_interval(Verdict::Inconclusive, *estimate, reason)
            }
            Test::Unbreachable { estimate, reason } => Outcome::without_interval(Verdict::Pass, *estimate, reason),
            Test::T(t) => t.outcome(settings, p, fail_alpha, rejected),
            Test::Counts(c) => {
                let (z_low, z_up, lower_alpha, upper_alpha) = match c.worse {
                    Worse::Higher => {
                        (normal_quantile(1.0 - fail_alpha), normal_quantile(1.0 - alpha), fail_alpha, alpha)
                    }
                    Worse::Lower => {
                        (normal_quantile(1.0 - alpha), normal_quantile(1.0 - fail_alpha), alpha, fail_alpha)
                    }
                };
                let (lower, upper) = c.bounds(z_low, z_up);
                let (pass, fail) = match c.worse {
                    Worse::Higher => (upper <= c.margin, rejected && lower > c.margin),
                    Worse::Lower => (lower >= c.margin, rejected && upper < c.margin),
                };
                let verdict = verdict_of(pass, fail);
                let runs_needed =
                    if verdict == Verdict::Inconclusive { c.runs_needed(settings, fail_alpha) } else { Ok(0) };
                Outcome {
                    verdict,
                    estimate: Some(c.estimate()),
                    interval: Some(Interval { lower, upper, lower_alpha, upper_alpha }),
                    df: c.tau_df.is_finite().then_some(c.tau_df),
                    method: c.method,
                    fail_p: p,
                    runs_needed: if verdict == Verdict::Inconclusive { runs_needed.ok() } else { None },
                    reason: reason_of(verdict, runs_needed, settings.max_runs, PER_SIDE),
                }
            }
        };
        finite_or_inconclusive(out)
    }
}

fn unreachable_margin() -> f64 {
    // Every Check has either an SLO limit or a tolerance; kept total rather than panicking.
    0.0
}

fn upper_tail(x: f64, df: Option<f64>) -> f64 {
    match df {
        Some(df) => t_sf(x, df),
        None => normal_sf(x),
    }
}

fn quantile(alpha: f64, df: Option<f64>) -> f64 {
    t_upper(alpha, df.unwrap_or(f64::INFINITY))
}

fn verdict_of(pass: bool, fail: bool) -> Verdict {
    if fail {
        Verdict::Fail
    } else if pass {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    }
}

/// Why a row could not be planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoPlan {
    /// The estimate sits on the tolerance, or more than max_runs per side would be needed.
    Boundary,
}

/// What `runs_needed` counts: runs per side, or duet runs.
const PER_SIDE: (&str, &str) = ("run(s) per side", "runs per side");
const DUET_RUNS: (&str, &str) = ("duet run(s)", "duet runs");

fn reason_of(verdict: Verdict, plan: Result<u32, NoPlan>, max_runs: u32, (some, many): (&str, &str)) -> String {
    match (verdict, plan) {
        (Verdict::Inconclusive, Ok(n)) => {
            format!("the interval straddles the tolerance; about {n} more {some} would settle it (80% power)")
        }
        (Verdict::Inconclusive, Err(NoPlan::Boundary)) => format!(
            "the interval straddles the tolerance and the change sits at the tolerance boundary: more than {max_runs} {many} would be needed; waive or decide"
        ),
        _ => String::new(),
    }
}

/// Smallest k ≥ 1 with (q(α*, ν_k) + q(0.2, ν_k)) · SE_k ≤ gap, k + the larger side ≤ max_runs.
fn plan_runs(
    gap: f64,
    se_after: impl Fn(u32) -> f64,
    df_after: impl Fn(u32) -> Option<f64>,
    alpha: f64,
    largest: usize,
    max_runs: u32,
) -> Result<u32, NoPlan> {
    if !(gap.is_finite() && gap > 0.0) {
        return Err(NoPlan::Boundary);
    }
    let room = max_runs.saturating_sub(largest as u32);
    for k in 1..=room {
        let df = df_after(k);
        if (quantile(alpha, df) + quantile(1.0 - POWER, df)) * se_after(k) <= gap {
            return Ok(k);
        }
    }
    Err(NoPlan::Boundary)
}

impl TTest {
    fn outcome(&self, settings: &Settings, p: f64, fail_alpha: f64, rejected: bool) -> Outcome {
        let alpha = settings.alpha;
        let (q_low, q_up, lower_alpha, upper_alpha) = match self.worse {
            Worse::Higher => (quantile(fail_alpha, self.df), quantile(alpha, self.df), fail_alpha, alpha),
            Worse::Lower => (quantile(alpha, self.df), quantile(fail_alpha, self.df), alpha, fail_alpha),
        };
        let (lower, upper) = (self.d - q_low * self.se, self.d + q_up * self.se);
        let (pass, fail) = match self.worse {
            Worse::Higher => (upper <= self.margin, rejected && lower > self.margin),
            Worse::Lower => (lower >= self.margin, rejected && upper < self.margin),
        };
        let verdict = verdict_of(pass, fail);
        let plan = if verdict == Verdict::Inconclusive { self.runs_needed(settings, fail_alpha) } else { Ok(0) };
        let natural = |x: f64| match (self.log, self.change) {
            (true, true) => x.exp_m1(),
            (true, false) => x.exp(),
            (false, _) => x,
        };
        Outcome {
            verdict,
            estimate: Some(natural(self.d)),
            interval: Some(Interval { lower: natural(lower), upper: natural(upper), lower_alpha, upper_alpha }),
            df: self.df,
            method: self.method,
            fail_p: p,
            runs_needed: if verdict == Verdict::Inconclusive { plan.ok() } else { None },
            reason: [
                reason_of(verdict, plan, settings.max_runs, if self.paired { DUET_RUNS } else { PER_SIDE }),
                self.note.clone(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        }
    }

    fn runs_needed(&self, settings: &Settings, fail_alpha: f64) -> Result<u32, NoPlan> {
        let oriented = match self.worse {
            Worse::Higher => self.margin - self.d,
            Worse::Lower => self.d - self.margin,
        };
        // On the good side: aim for PASS at alpha; beyond the tolerance: aim for FAIL at Holm's level.
        let alpha = if oriented > 0.0 { settings.alpha } else { fail_alpha };
        let plan = &self.plan;
        let (sc, nc) = plan.current;
        let largest = plan.baseline.map_or(nc, |(_, nb)| nb.max(nc));
        let se_after = |k: u32| {
            let k = k as f64;
            let base = plan.baseline.map_or(0.0, |(sb, nb)| sb / (nb as f64 + k));
            (base + sc / (nc as f64 + k)).sqrt()
        };
        // After k more runs per side both sides are replicated: ν = n_b + n_c + 2k − 2 (n_c + k − 1).
        let df_after = |k: u32| {
            let k = k as usize;
            let own = match plan.baseline {
                Some((_, nb)) => (nb + nc + 2 * k).saturating_sub(2).max(1) as f64,
                None => (nc + k).saturating_sub(1).max(1) as f64,
            };
            Some(if plan.fixed_df > 0.0 { (own + plan.fixed_df).min(HISTORY_DF_CAP.max(own)) } else { own })
        };
        plan_runs(oriented.abs(), se_after, df_after, alpha, largest, settings.max_runs)
    }
}

impl CountTest {
    fn runs_needed(&self, settings: &Settings, fail_alpha: f64) -> Result<u32, NoPlan> {
        let oriented = match self.worse {
            Worse::Higher => self.margin - self.estimate(),
            Worse::Lower => self.estimate() - self.margin,
        };
        let alpha = if oriented > 0.0 { settings.alpha } else { fail_alpha };
        let c = self.current;
        let b = self.baseline;
        let largest = b.map_or(c.runs, |b| b.runs.max(c.runs));
        let se_after = |k: u32| {
            let k = k as f64;
            let base = b.map_or(0.0, |b| b.run_variance() / (b.runs as f64 + k));
            (base + c.run_variance() / (c.runs as f64 + k)).sqrt()
        };
        // With an estimated τ², after k more runs per side both sides are replicated (as for values).
        let df_after = |k: u32| {
            let k = k as usize;
            self.tau_df.is_finite().then(|| {
                let runs = b.map_or(c.runs + k, |b| b.runs + c.runs + 2 * k);
                runs.saturating_sub(if b.is_some() { 2 } else { 1 }).max(1) as f64
            })
        };
        plan_runs(oriented.abs(), se_after, df_after, alpha, largest, settings.max_runs)
    }
}

/// A row with any non-finite number becomes INCONCLUSIVE without those numbers.
fn finite_or_inconclusive(out: Outcome) -> Outcome {
    let interval_ok =
        out.interval.is_none_or(|i| [i.lower, i.upper, i.lower_alpha, i.upper_alpha].iter().all(|x| x.is_finite()));
    let ok = interval_ok
        && out.estimate.is_none_or(f64::is_finite)
        && out.df.is_none_or(f64::is_finite)
        && out.fail_p.is_finite();
    if ok {
        return out;
    }
    Outcome {
        verdict: Verdict::Inconclusive,
        estimate: out.estimate.filter(|e| e.is_finite()),
        interval: None,
        df: None,
        method: Method::None,
        fail_p: 1.0,
        runs_needed: None,
        reason: "the numbers are out of range (an interval end would not be finite)".into(),
    }
}

#[cfg(test)]
mod tests;
