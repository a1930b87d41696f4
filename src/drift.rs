//! Drift (PERF-003 §4): production series judged against a baseline, window by window. Owns the
//! rules: windows, breaches, the ticket signal, the rollback flag and the overall status. Pure:
//! the caller hands it the policy's `drift:` block, each metric's baseline and its samples over
//! a time range; it does no I/O, reads no clock and prints nothing. Fetching the series
//! (Prometheus, AMP, CloudWatch) and rendering ([`crate::drift_report`]) live elsewhere.
//!
//! The rules, exactly (also in docs/drift.md):
//! - The range `[from, to)` is cut into consecutive windows of `window` starting at `from`; a
//!   trailing part shorter than a window is not judged.
//! - A window's value is the arithmetic mean of the finite samples whose timestamps fall in
//!   `[start, end)`, one per instant; NaN and ±Inf samples count as missing. A window with fewer than half of its
//!   `window / step` expected samples is NODATA (so is every window of a metric without a usable
//!   baseline: finite and above 0).
//! - A window breaches when its mean is outside `[b × (1 − band), b × (1 + band)]` on the
//!   metric's bad side (`direction`); the bounds are inclusive (+10.0% against 10% is OK), with
//!   differences within 1e-9 of the magnitudes ignored, as `compare` does.
//! - The ticket signal fires when `ticket_after` consecutive windows breach; an OK or NODATA
//!   window ends a run of breaches.
//! - A metric is FAIL when a window breaches; else INCONCLUSIVE when no window is valid, or (under
//!   `on_no_data: inconclusive`) the last window or two or more consecutive windows are NODATA; `on_no_data: fail`
//!   makes both of those FAIL, `on_no_data: pass` ignores the gaps but never makes a metric
//!   without a valid window PASS.
//! - The rollback flag is raised when the finite samples of the rollback metric stay strictly
//!   above `factor × b` from some sample `since` to a sample at least `for` later, with no two
//!   consecutive samples more than 2 steps apart (Prometheus `for:` semantics); `raised_at` is
//!   the first sample at which that holds. It reads every sample of `[from, to)`, a trailing
//!   part shorter than a window included, so it never waits for a window to end.
//! - A metric whose series comes with doubts (a partial answer, a baseline that is not a mean)
//!   is never PASS: what would be PASS is INCONCLUSIVE, with the doubts among its reasons.
//! - Overall: ROLLBACK when the flag is raised, else FAIL when a metric fails, else INCONCLUSIVE
//!   when a metric is inconclusive (or there is no metric), else PASS.
//!
//! ```
//! use perfcert::drift::{Baseline, Inputs, Series, Status, evaluate};
//! use perfcert::drift_report::{DriftRenderer, Format};
//!
//! let yaml = "metrics:\n  latency_p95: { max_increase: 10% }\ndrift:\n  metrics: { latency_p95: {} }\n";
//! let policy = perfcert::policy::parse("perf_thresholds.yml", yaml)?.drift.expect("a drift: block");
//! let from = 1_796_040_000_000; // unix ms; 15 s samples over 15 minutes, +25% from minute 5
//! let samples = (0..60).map(|k| (from + k * 15_000, if k < 20 { 200.0 } else { 250.0 })).collect();
//! let baseline = Baseline { value: 200.0, reference: "range".into(), sha256: None, query: None, period_ms: None };
//! let series = vec![Series { metric: "latency_p95".into(), baseline: Some(baseline), samples, doubts: vec![] }];
//! let result = evaluate(&policy, &Inputs { from_ms: from, to_ms: from + 900_000, series });
//!
//! let m = &result.metrics[0];
//! assert_eq!((m.breaches, m.ticket), (2, false));
//! assert_eq!((result.status, result.status.exit().code()), (Status::Fail, 1));
//! let mut json = vec![];
//! Format::Json.renderer().render(&result, &mut json)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::exit::ExitStatus;
use crate::policy::{Direction, DriftPolicy, OnNoData};

/// Most windows one evaluation judges; a longer range is cut at this many (with a warning).
pub const MAX_WINDOWS: i64 = 100_000;

/// Where a baseline value comes from, recorded verbatim in every report.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The mean of the same production query over the last stable release's period.
    pub value: f64,
    /// What it was taken from: a bake record or results file path, or `range` for a time range.
    pub reference: String,
    /// The sha256 of that file, when it is one.
    pub sha256: Option<String>,
    /// The query that produced it, verbatim.
    pub query: Option<String>,
    /// The period it covers, unix milliseconds `[from, to)`.
    pub period_ms: Option<(i64, i64)>,
}

/// One metric's input: its baseline (or none) and its samples over the range.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub metric: String,
    pub baseline: Option<Baseline>,
    /// `(unix milliseconds, value)`, in any order; samples outside the range are ignored.
    pub samples: Vec<(i64, f64)>,
    /// Why these samples or this baseline cannot show the metric healthy (a partial answer from
    /// the server, a baseline that is not a mean): each is one of the metric's reasons, and a
    /// metric that would be PASS is INCONCLUSIVE instead. A breach on what came back stands.
    pub doubts: Vec<String>,
}

/// What [`evaluate`] judges: the range `[from_ms, to_ms)` and the series in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub from_ms: i64,
    pub to_ms: i64,
    pub series: Vec<Series>,
}

/// A window's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowStatus {
    Ok,
    Breach,
    NoData,
}

impl WindowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowStatus::Ok => "OK",
            WindowStatus::Breach => "BREACH",
            WindowStatus::NoData => "NODATA",
        }
    }
}

/// One window `[start_ms, end_ms)`. `mean`, `lower` and `upper` are finite whenever present;
/// `mean` is absent for a NODATA window, the bounds without a usable baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    /// Finite samples in the window.
    pub samples: u64,
    /// `window / step`.
    pub expected: u64,
    pub mean: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub status: WindowStatus,
}

/// A metric's or the whole evaluation's status, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Inconclusive,
    Fail,
    /// Overall only: the rollback flag is raised.
    Rollback,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Inconclusive => "INCONCLUSIVE",
            Status::Fail => "FAIL",
            Status::Rollback => "ROLLBACK",
        }
    }

    /// The process exit code: 0, 5, 1 and 6.
    pub fn exit(self) -> ExitStatus {
        match self {
            Status::Pass => ExitStatus::Pass,
            Status::Inconclusive => ExitStatus::Inconclusive,
            Status::Fail => ExitStatus::Fail,
            Status::Rollback => ExitStatus::RollBack,
        }
    }
}

/// One metric's windows and signals.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricResult {
    pub name: String,
    pub direction: Direction,
    pub unit: Option<String>,
    /// As given; `None` when the caller had none. A given but unusable one has a reason.
    pub baseline: Option<Baseline>,
    pub windows: Vec<Window>,
    /// Windows that are not NODATA.
    pub valid_windows: usize,
    pub breaches: usize,
    pub max_consecutive_breaches: usize,
    pub max_consecutive_no_data: usize,
    /// `ticket_after` consecutive windows breached.
    pub ticket: bool,
    /// The end of the window that raised the ticket.
    pub ticket_at_ms: Option<i64>,
    /// Pass, Inconclusive or Fail.
    pub status: Status,
    /// Why the status is not PASS, in words.
    pub reasons: Vec<String>,
}

/// The rollback rule's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollback {
    pub flag: bool,
    /// The first sample of the span that raised the flag.
    pub since_ms: Option<i64>,
    /// The sample at which the span reached `for` (the first such instant).
    pub raised_at_ms: Option<i64>,
    pub metric: String,
    pub factor: f64,
    pub for_ms: i64,
    /// `factor × baseline`, when the baseline is usable.
    pub threshold: Option<f64>,
    /// Why the rule could not be judged (no baseline, no samples), when it could not.
    pub reason: Option<String>,
}

/// Everything [`evaluate`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftResult {
    pub from_ms: i64,
    pub to_ms: i64,
    pub step_ms: i64,
    pub window_ms: i64,
    pub band: f64,
    pub ticket_after: u32,
    pub on_no_data: OnNoData,
    /// In the policy's order.
    pub metrics: Vec<MetricResult>,
    pub rollback: Option<Rollback>,
    pub status: Status,
    pub warnings: Vec<String>,
    /// The service judged, when the caller knows it ([`evaluate`] leaves it `None`).
    pub service: Option<String>,
}

/// `x` strictly beyond `bound` upwards, ignoring differences within 1e-9 of the magnitudes.
fn above(x: f64, bound: f64) -> bool {
    x - bound > 1e-9 * x.abs().max(bound.abs())
}

/// A baseline's value when it can be judged against: finite, above 0, with finite bounds.
fn usable(baseline: Option<&Baseline>, band: f64) -> Result<f64, String> {
    match baseline {
        None => Err("no baseline".into()),
        Some(b) if b.value.is_finite() && b.value > 0.0 && (b.value * (1.0 + band)).is_finite() => Ok(b.value),
        Some(b) if b.value.is_finite() => {
            Err(format!("the baseline ({}) is not above 0: a relative band needs one", crate::numfmt::num(b.value)))
        }
        Some(_) => Err("the baseline is not a finite number".into()),
    }
}

/// Judges every metric of the policy's `drift:` block over the inputs' range.
pub fn evaluate(policy: &DriftPolicy, inputs: &Inputs) -> DriftResult {
    let mut warnings = vec![];
    for (i, s) in inputs.series.iter().enumerate() {
        if !policy.metrics.iter().any(|m| m.name == s.metric) {
            warnings.push(format!("a series for `{}`, which drift.metrics does not list, was ignored", s.metric));
        } else if inputs.series[..i].iter().any(|o| o.metric == s.metric) {
            warnings.push(format!("a second series for `{}` was ignored", s.metric));
        }
    }
    // A policy from `policy::parse` always passes; one built by hand may not, and gets no window
    // (so INCONCLUSIVE) rather than a division by zero or a ticket from nothing.
    let settled = policy.step_ms > 0
        && policy.window_ms >= policy.step_ms
        && policy.window_ms % policy.step_ms == 0
        && policy.band.is_finite()
        && policy.band > 0.0
        && policy.band <= 1.0
        && policy.ticket_after >= 1;
    if !settled {
        warnings.push(format!(
            "invalid drift settings (step {}ms, window {}ms, band {}, ticket_after {}): nothing was judged",
            policy.step_ms, policy.window_ms, policy.band, policy.ticket_after
        ));
    }
    let span = i128::from(inputs.to_ms) - i128::from(inputs.from_ms);
    let mut count = if settled { (span.max(0) / i128::from(policy.window_ms)) as i64 } else { 0 };
    if count > MAX_WINDOWS {
        warnings
            .push(format!("the range holds more than {MAX_WINDOWS} windows; only the first {MAX_WINDOWS} were judged"));
        count = MAX_WINDOWS;
    }
    let series = |name: &str| inputs.series.iter().find(|s| s.metric == name);
    let metrics: Vec<MetricResult> = policy
        .metrics
        .iter()
        .map(|m| {
            let s = series(&m.name);
            metric(policy, inputs.from_ms, count, &m.name, m.direction, m.unit.clone(), s)
        })
        .collect();
    let rollback = policy.rollback.as_ref().map(|r| {
        let s = series(&r.metric);
        let mut out = Rollback {
            flag: false,
            since_ms: None,
            raised_at_ms: None,
            metric: r.metric.clone(),
            factor: r.factor,
            for_ms: r.for_ms,
            threshold: None,
            reason: None,
        };
        let Some(s) = s else {
            out.reason = Some("no series".into());
            return out;
        };
        let b = match usable(s.baseline.as_ref(), policy.band) {
            Ok(b) => b,
            Err(reason) => {
                out.reason = Some(reason);
                return out;
            }
        };
        let threshold = r.factor * b;
        if !settled || !threshold.is_finite() || r.factor <= 1.0 || r.for_ms < policy.step_ms {
            out.reason = Some("invalid rule: factor must be finite and above 1, for at least one step".into());
            return out;
        }
        out.threshold = Some(threshold);
        let mut samples: Vec<(i64, f64)> = s
            .samples
            .iter()
            .copied()
            .filter(|&(t, v)| v.is_finite() && t >= inputs.from_ms && t < inputs.to_ms)
            .collect();
        samples.sort_by_key(|&(t, _)| t);
        if samples.is_empty() {
            out.reason = Some("no finite sample in the range".into());
            return out;
        }
        let max_gap = 2 * i128::from(policy.step_ms);
        let (mut since, mut last): (Option<i64>, i64) = (None, i64::MIN);
        for (t, v) in samples {
            if v > threshold {
                let start = match since {
                    Some(start) if i128::from(t) - i128::from(last) <= max_gap => start,
                    _ => t,
                };
                since = Some(start);
                last = t;
                if i128::from(t) - i128::from(start) >= i128::from(r.for_ms) {
                    out.flag = true;
                    out.since_ms = Some(start);
                    out.raised_at_ms = Some(t);
                    break;
                }
            } else {
                since = None;
            }
        }
        out
    });
    let worst = metrics.iter().map(|m| m.status).max().unwrap_or(Status::Inconclusive);
    let status = if rollback.as_ref().is_some_and(|r| r.flag) { Status::Rollback } else { worst };
    DriftResult {
        from_ms: inputs.from_ms,
        to_ms: inputs.to_ms,
        step_ms: policy.step_ms,
        window_ms: policy.window_ms,
        band: policy.band,
        ticket_after: policy.ticket_after,
        on_no_data: policy.on_no_data,
        metrics,
        rollback,
        status,
        warnings,
        service: None,
    }
}

fn metric(
    policy: &DriftPolicy,
    from_ms: i64,
    count: i64,
    name: &str,
    direction: Direction,
    unit: Option<String>,
    series: Option<&Series>,
) -> MetricResult {
    let expected = (policy.window_ms / policy.step_ms.max(1)) as u64;
    let n = count as usize;
    let (mut counts, mut sums) = (vec![0u64; n], vec![0f64; n]);
    if let Some(s) = series.filter(|_| count > 0) {
        // One sample per instant: a server that repeats an instant (a partial or merged
        // response) does not make a window look fuller than it is.
        let mut samples = s.samples.clone();
        samples.sort_by_key(|&(t, _)| t);
        samples.dedup_by_key(|&mut (t, _)| t);
        for &(t, v) in &samples {
            if !v.is_finite() || t < from_ms {
                continue;
            }
            let index = (i128::from(t) - i128::from(from_ms)) / i128::from(policy.window_ms);
            if index < count as i128 {
                counts[index as usize] += 1;
                sums[index as usize] += v;
            }
        }
    }
    let baseline = series.and_then(|s| s.baseline.clone());
    let b = usable(baseline.as_ref(), policy.band);
    let mut reasons = vec![];
    if series.is_none() {
        reasons.push("no series".to_string());
    } else if let Err(reason) = &b {
        reasons.push(reason.clone());
    }
    let windows: Vec<Window> = (0..n)
        .map(|i| {
            let start_ms = from_ms + i as i64 * policy.window_ms;
            let mean = Some(sums[i] / counts[i] as f64)
                .filter(|m| 2 * counts[i] >= expected && counts[i] > 0 && m.is_finite());
            let bounds = b.as_ref().ok().map(|&b| (b - b * policy.band, b + b * policy.band));
            let status = match (mean, bounds) {
                (Some(m), Some((lower, upper))) => {
                    let high = above(m, upper) && direction != Direction::Down;
                    let low = above(lower, m) && direction != Direction::Up;
                    if high || low { WindowStatus::Breach } else { WindowStatus::Ok }
                }
                _ => WindowStatus::NoData,
            };
            Window {
                start_ms,
                end_ms: start_ms + policy.window_ms,
                samples: counts[i],
                expected,
                mean,
                lower: bounds.map(|b| b.0),
                upper: bounds.map(|b| b.1),
                status,
            }
        })
        .collect();
    let (mut streak, mut max_streak, mut gap, mut max_gap) = (0, 0, 0, 0);
    let mut ticket_at_ms = None;
    for w in &windows {
        match w.status {
            WindowStatus::Breach => {
                streak += 1;
                gap = 0;
            }
            WindowStatus::Ok => {
                streak = 0;
                gap = 0;
            }
            WindowStatus::NoData => {
                streak = 0;
                gap += 1;
            }
        }
        max_streak = max_streak.max(streak);
        max_gap = max_gap.max(gap);
        if ticket_at_ms.is_none() && streak >= policy.ticket_after as usize {
            ticket_at_ms = Some(w.end_ms);
        }
    }
    let valid_windows = windows.iter().filter(|w| w.status != WindowStatus::NoData).count();
    let breaches = windows.iter().filter(|w| w.status == WindowStatus::Breach).count();
    let on_no_data = |default: Status| match policy.on_no_data {
        OnNoData::Fail => Status::Fail,
        _ => default,
    };
    let status = if valid_windows == 0 {
        if windows.is_empty() {
            reasons.push("the range holds no whole window".into());
        } else if b.is_ok() {
            reasons.push(format!("no window has data (0 of {})", windows.len()));
        }
        on_no_data(Status::Inconclusive)
    } else if breaches > 0 {
        reasons.push(format!(
            "{breaches} of {} windows breach the ±{}% band",
            windows.len(),
            crate::numfmt::num(policy.band * 100.0)
        ));
        Status::Fail
    } else if windows.last().is_some_and(|w| w.status == WindowStatus::NoData) && policy.on_no_data != OnNoData::Pass {
        // The newest window is what a bake and a scheduled drift run are for: a series that
        // stopped is not healthy.
        reasons.push("the last window has no data (has the series stopped?)".into());
        on_no_data(Status::Inconclusive)
    } else if max_gap >= 2 && policy.on_no_data != OnNoData::Pass {
        reasons.push(format!("{max_gap} consecutive windows without data"));
        on_no_data(Status::Inconclusive)
    } else {
        Status::Pass
    };
    if ticket_at_ms.is_some() {
        reasons.push(format!("{max_streak} consecutive windows breach (ticket after {})", policy.ticket_after));
    }
    let doubts = series.map(|s| s.doubts.as_slice()).unwrap_or_default();
    reasons.extend(doubts.iter().cloned());
    let status = if status == Status::Pass && !doubts.is_empty() { Status::Inconclusive } else { status };
    MetricResult {
        name: name.to_string(),
        direction,
        unit,
        baseline,
        windows,
        valid_windows,
        breaches,
        max_consecutive_breaches: max_streak,
        max_consecutive_no_data: max_gap,
        ticket: ticket_at_ms.is_some(),
        ticket_at_ms,
        status,
        reasons,
    }
}

#[cfg(test)]
mod tests;
