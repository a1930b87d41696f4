//! Per-window statistics of a k6 raw run: 10-s windows by each sample's own timestamp, kept for
//! the policy's gated metrics only ([`Plan`]), giving each gated metric's within-run precision
//! ([`crate::model::Precision`]) and the within-run checks, as notes. It owns the window
//! arithmetic and the checks' statistics; the readers ([`super::k6_samples`]) feed it samples.
//!
//! - **Windows** are aligned to whole multiples of 10 s since the epoch, so that byte ranges read
//!   on different threads and the shards of one run merge exactly, window by window. A run longer
//!   than [`MAX_WINDOWS`] windows doubles the window length (20 s, 40 s, ...) as often as needed:
//!   memory stays flat, and the result does not depend on how the file was split.
//! - **Latency** (percentiles and the average): per window a log histogram with 1% wide buckets
//!   and linear interpolation of ranks within a bucket (only gated groups have one), from which
//!   the window's k6-style percentile is taken. The standard error of ln(value) is by **batch
//!   means**: y_w = ln(window value), weights n_w (the window's samples), ȳ = Σ n_w y_w / N,
//!   SE² = W/(W − 1) · Σ (n_w/N)² (y_w − ȳ)², which is s²/W for equal windows. Batch means over
//!   10-s windows keep the correlation between requests less than 10 s apart, need no random
//!   numbers (so `verify --recompute` reproduces them trivially) and cost O(W) at the end; a
//!   block bootstrap would give the same order of answer at many times the cost.
//! - **Throughput**: the larger of the Poisson error 1/√N and the batch-means error of the
//!   requests per full window (the first and last, partial, windows left out).
//! - **Error rate**: the run's errors and requests, and the dispersion φ = Pearson χ²/(W − 1)
//!   over the windows, floored at 1 (1 when it cannot be estimated).
//! - **Checks** (latency metrics), each a pooled two-sample t-test on the window values y_w at a
//!   1% false-alarm rate ([`CHECK_ALPHA`]), reported only when the shift is also at least
//!   [`MIN_SHIFT`]: *warm-up*, the windows starting in the first 30 s against the rest;
//!   *not stationary*, the first half of the rest against the second half (a trend or a step).
//!   Partial windows (fewer than half the median window's samples: the run's first and last)
//!   are left out of the checks. *Noise floor*: a standard error above a quarter of the
//!   metric's relative tolerance. Fewer than [`MIN_WINDOWS`] windows: a note says the run is too
//!   short, and no latency precision or check is given.

use std::collections::{BTreeMap, HashMap};

use super::Gate;
use super::k6_samples::{Class, Kind};
use crate::model::{Counts, Precision, RunResults};
use crate::stats::dist::t_sf;

/// Window length, seconds.
pub const WINDOW_SECONDS: u32 = 10;
const WINDOW_NS: i128 = WINDOW_SECONDS as i128 * 1_000_000_000;
/// Most windows kept per gated group before the window length doubles.
pub const MAX_WINDOWS: usize = 720;
/// Fewer windows than this: too short for latency precision and the checks.
pub const MIN_WINDOWS: usize = 6;
/// The warm-up check compares the windows starting in the first this many seconds.
pub const WARM_UP_SECONDS: u32 = 30;
/// False-alarm rate of each check on a stationary run.
pub const CHECK_ALPHA: f64 = 0.01;
/// Smallest shift a check reports (relative, 2%): smaller ones do not matter to a gate.
pub const MIN_SHIFT: f64 = 0.02;
/// The noise-floor note fires when the standard error exceeds this share of the tolerance.
pub const FLOOR_SHARE: f64 = 0.25;

/// Bucket growth of the window histograms (1% wide; ranks interpolate within a bucket).
const LN_GAMMA: f64 = 0.00995033085; // ln(1.01)
/// Values at or below this (ms) count as zero.
const TINY: f64 = 1e-9;

/// What a gated metric needs from the windows.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Stat {
    Quantile(f64),
    Mean,
    Throughput,
    ErrorRate,
}

#[derive(Debug)]
struct Want {
    metric: String,
    stat: Stat,
    tolerance: Option<f64>,
}

/// One gated group of samples (overall, a class, an endpoint) and its gated metrics.
#[derive(Debug, Default)]
struct Planned {
    hist: bool,
    wants: Vec<Want>,
}

/// Which groups of samples get windows, from the policy's gated metrics.
#[derive(Debug, Default)]
pub struct Plan {
    groups: Vec<Planned>,
    overall: Option<usize>,
    read: Option<usize>,
    write: Option<usize>,
    /// Method (empty if none) then path, to the group.
    endpoints: HashMap<String, HashMap<String, usize>>,
}

impl Plan {
    pub fn new(gates: &[Gate]) -> Plan {
        let mut plan = Plan::default();
        for gate in gates {
            let (base, endpoint) = match gate.metric.split_once('{') {
                Some((base, rest)) => match rest.strip_prefix("endpoint=").and_then(|r| r.strip_suffix('}')) {
                    Some(e) => (base, Some(e)),
                    None => continue,
                },
                None => (gate.metric.as_str(), None),
            };
            let (base, class) = if let Some(b) = base.strip_suffix("_read") {
                (b, Some(Class::Read))
            } else if let Some(b) = base.strip_suffix("_write") {
                (b, Some(Class::Write))
            } else {
                (base, None)
            };
            let stat = match base {
                "latency_avg" => Stat::Mean,
                "throughput" => Stat::Throughput,
                "error_rate" => Stat::ErrorRate,
                _ => match base.strip_prefix("latency_p").and_then(|p| p.parse::<f64>().ok()) {
                    Some(p) if p > 0.0 && p < 100.0 => Stat::Quantile(p / 100.0),
                    _ => continue,
                },
            };
            if endpoint.is_some() && class.is_some() {
                continue;
            }
            let next = plan.groups.len();
            let slot = match (endpoint, class) {
                (Some(e), _) => {
                    // `GET /orders` or a name without a method: the readers name an endpoint
                    // `METHOD path`, or `path` alone when the sample has no method.
                    let mut at = None;
                    if let Some((m, p)) = e.split_once(' ')
                        && !m.is_empty()
                        && m.bytes().all(|b| b.is_ascii_uppercase())
                    {
                        at = Some(*plan.endpoints.entry(m.into()).or_default().entry(p.into()).or_insert(next));
                    }
                    let whole =
                        *plan.endpoints.entry(String::new()).or_default().entry(e.into()).or_insert(at.unwrap_or(next));
                    at.unwrap_or(whole)
                }
                (None, Some(Class::Read)) => *plan.read.get_or_insert(next),
                (None, Some(Class::Write)) => *plan.write.get_or_insert(next),
                (None, None) => *plan.overall.get_or_insert(next),
            };
            if slot == next {
                plan.groups.push(Planned::default());
            }
            let g = &mut plan.groups[slot];
            g.hist |= matches!(stat, Stat::Quantile(_));
            if !g.wants.iter().any(|w| w.metric == gate.metric) {
                g.wants.push(Want { metric: gate.metric.clone(), stat, tolerance: gate.tolerance });
            }
        }
        plan
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Empty series, one per planned group.
    pub fn series(&self) -> Vec<Series> {
        self.groups.iter().map(|g| Series { hist: g.hist, ..Series::default() }).collect()
    }

    /// Adds a sample at `t` (ns since the epoch) to every planned group it belongs to.
    pub fn record(
        &self,
        series: &mut [Series],
        class: Option<Class>,
        endpoint: Option<(&str, &str)>,
        kind: Kind,
        value: f64,
        t: i128,
    ) {
        let mut add = |ix: Option<usize>| {
            if let Some(i) = ix {
                series[i].add(kind, value, t);
            }
        };
        add(self.overall);
        match class {
            Some(Class::Read) => add(self.read),
            Some(Class::Write) => add(self.write),
            None => {}
        }
        if !self.endpoints.is_empty()
            && let Some((method, path)) = endpoint
        {
            add(self.endpoints.get(method).and_then(|p| p.get(path)).copied());
        }
    }
}

/// One group's windows.
#[derive(Debug, Default)]
pub struct Series {
    /// Window length is 10 s × 2^scale.
    scale: u32,
    hist: bool,
    windows: BTreeMap<i64, Window>,
    first_ns: Option<i128>,
}

#[derive(Debug, Default)]
struct Window {
    latencies: u64,
    sum: f64,
    hist: WindowHistogram,
    failed: u64,
    failed_samples: u64,
    requests: u64,
}

impl Window {
    fn absorb(&mut self, other: Window) {
        self.latencies += other.latencies;
        self.sum += other.sum;
        self.hist.merge(&other.hist);
        self.failed += other.failed;
        self.failed_samples += other.failed_samples;
        self.requests += other.requests;
    }
}

impl Series {
    fn add(&mut self, kind: Kind, value: f64, t: i128) {
        self.first_ns = Some(self.first_ns.map_or(t, |f| f.min(t)));
        let key = (t.div_euclid(WINDOW_NS) as i64) >> self.scale;
        let hist = self.hist;
        let w = self.windows.entry(key).or_default();
        match kind {
            Kind::Duration => {
                w.latencies += 1;
                w.sum += value;
                if hist {
                    w.hist.add(value);
                }
            }
            Kind::Failed => {
                w.failed_samples += 1;
                w.failed += (value != 0.0) as u64;
            }
            Kind::Reqs => w.requests += 1,
        }
        if self.windows.len() > MAX_WINDOWS {
            self.coarsen(self.scale + 1);
        }
    }

    /// Re-keys the windows to length 10 s × 2^scale.
    fn coarsen(&mut self, scale: u32) {
        while self.scale < scale || self.windows.len() > MAX_WINDOWS {
            let old = std::mem::take(&mut self.windows);
            for (k, w) in old {
                self.windows.entry(k >> 1).or_default().absorb(w);
            }
            self.scale += 1;
        }
    }

    pub fn absorb(&mut self, mut other: Series) {
        let scale = self.scale.max(other.scale);
        self.coarsen(scale);
        other.coarsen(scale);
        for (k, w) in other.windows {
            self.windows.entry(k).or_default().absorb(w);
        }
        self.first_ns = [self.first_ns, other.first_ns].into_iter().flatten().min();
        if self.windows.len() > MAX_WINDOWS {
            self.coarsen(self.scale + 1);
        }
    }

    fn window_seconds(&self) -> u64 {
        (WINDOW_SECONDS as u64) << self.scale
    }
}

/// A window's latencies: 1% wide log buckets, u32 counts, ranks interpolated within a bucket.
#[derive(Debug, Default)]
struct WindowHistogram {
    zeros: u32,
    lo: i32,
    counts: Vec<u32>,
    n: u64,
}

impl WindowHistogram {
    fn add(&mut self, x: f64) {
        self.add_n(x, 1);
    }

    fn add_n(&mut self, x: f64, c: u32) {
        self.n += c as u64;
        if x <= TINY {
            self.zeros += c;
            return;
        }
        let i = (x.ln() / LN_GAMMA).ceil() as i32;
        *self.slot(i) += c;
    }

    fn slot(&mut self, i: i32) -> &mut u32 {
        if self.counts.is_empty() {
            self.lo = i;
            self.counts.push(0);
        } else if i < self.lo {
            self.counts.splice(0..0, std::iter::repeat_n(0, (self.lo - i) as usize));
            self.lo = i;
        } else if i >= self.lo + self.counts.len() as i32 {
            self.counts.resize((i - self.lo) as usize + 1, 0);
        }
        &mut self.counts[(i - self.lo) as usize]
    }

    fn merge(&mut self, other: &WindowHistogram) {
        self.n += other.n;
        self.zeros += other.zeros;
        for (k, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                *self.slot(other.lo + k as i32) += c;
            }
        }
    }

    /// The value at 0-based `rank`, the bucket's samples spread evenly (in log) over it.
    fn at_rank(&self, rank: u64) -> f64 {
        if rank < self.zeros as u64 {
            return 0.0;
        }
        let mut seen = self.zeros as u64;
        for (k, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            if rank < seen + c as u64 {
                let within = (rank - seen) as f64 + 0.5;
                let lower = (self.lo + k as i32 - 1) as f64;
                return ((lower + within / c as f64) * LN_GAMMA).exp();
            }
            seen += c as u64;
        }
        0.0
    }

    /// k6's percentile (linear interpolation between the closest ranks).
    fn quantile(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let i = p * (self.n - 1) as f64;
        let (j, k) = (self.at_rank(i.floor() as u64), self.at_rank(i.ceil() as u64));
        j + (k - j) * (i - i.floor())
    }
}

/// The batch-means standard error of a weighted mean of `y` (weights `n`), or `None` with
/// fewer than two windows.
pub fn batch_means_se(y: &[f64], n: &[f64]) -> Option<f64> {
    let w = y.len();
    let total: f64 = n.iter().sum();
    if w < 2 || total <= 0.0 {
        return None;
    }
    let mean = y.iter().zip(n).map(|(y, n)| y * n).sum::<f64>() / total;
    let ss: f64 = y.iter().zip(n).map(|(y, n)| (n / total).powi(2) * (y - mean).powi(2)).sum();
    let se = (w as f64 / (w as f64 - 1.0) * ss).sqrt();
    se.is_finite().then_some(se)
}

/// A pooled two-sample t-test of `b` against `a`: the difference of means (b − a) and its
/// two-sided p-value; `None` when there is not enough to test.
pub fn shift_test(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let (k, m) = (a.len() as f64, b.len() as f64);
    let df = k + m - 2.0;
    if a.is_empty() || b.is_empty() || df < 2.0 {
        return None;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(a), mean(b));
    let ss = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>();
    let pooled = (ss(a, ma) + ss(b, mb)) / df;
    let d = mb - ma;
    if pooled <= 0.0 {
        return Some((d, if d == 0.0 { 1.0 } else { 0.0 }));
    }
    let t = d / (pooled * (1.0 / k + 1.0 / m)).sqrt();
    let p = (2.0 * t_sf(t.abs(), df)).min(1.0);
    (d.is_finite() && p.is_finite()).then_some((d, p))
}

/// The Pearson dispersion of error counts over windows: χ²/(W − 1), at least 1; 1 when it
/// cannot be estimated (fewer than two windows with requests, no errors or all errors).
pub fn dispersion(errors: &[u64], requests: &[u64]) -> f64 {
    let (k, n): (u64, u64) = (errors.iter().sum(), requests.iter().sum());
    let used = requests.iter().filter(|&&r| r > 0).count();
    if used < 2 || k == 0 || k == n {
        return 1.0;
    }
    let p = k as f64 / n as f64;
    let chi2: f64 = errors
        .iter()
        .zip(requests)
        .filter(|(_, r)| **r > 0)
        .map(|(&e, &r)| {
            let expect = r as f64 * p;
            (e as f64 - expect).powi(2) / (expect * (1.0 - p))
        })
        .sum();
    let phi = chi2 / (used as f64 - 1.0);
    if phi.is_finite() { phi.max(1.0) } else { 1.0 }
}

fn percent(x: f64) -> String {
    let v = x * 100.0;
    if v.abs() >= 10.0 { format!("{v:.0}%") } else { format!("{v:.1}%") }
}

fn p_value(p: f64) -> String {
    if p < 0.0001 { "p < 0.0001".into() } else { format!("p = {p:.4}") }
}

/// Adds each gated metric's precision and the checks' notes to `out` (whose metrics are
/// already computed). `file` names the run in the notes.
pub fn finish(plan: &Plan, series: Vec<Series>, file: &str, out: &mut RunResults) {
    let mut too_short: Option<(usize, u64)> = None;
    for (planned, s) in plan.groups.iter().zip(series) {
        let length = s.window_seconds();
        let keys: Vec<i64> = s.windows.keys().copied().collect();
        let span = match (keys.first(), keys.last()) {
            (Some(a), Some(b)) => (b - a + 1) as usize,
            _ => continue,
        };
        let short = span < MIN_WINDOWS;
        if short {
            too_short = Some(too_short.map_or((span, length), |(w, l)| (w.min(span), l)));
        }
        let windows: Vec<(i64, &Window)> = s.windows.iter().map(|(k, w)| (*k, w)).collect();
        for want in &planned.wants {
            if !out.metrics.contains_key(&want.metric) {
                continue;
            }
            match want.stat {
                Stat::ErrorRate => {
                    let errors: Vec<u64> = windows.iter().map(|(_, w)| w.failed).collect();
                    let requests: Vec<u64> = windows.iter().map(|(_, w)| w.failed_samples).collect();
                    let phi = if short { 1.0 } else { dispersion(&errors, &requests) };
                    out.precision.insert(
                        want.metric.clone(),
                        Precision {
                            log_se: None,
                            counts: Some(Counts {
                                errors: errors.iter().sum(),
                                requests: requests.iter().sum(),
                                dispersion: phi,
                            }),
                        },
                    );
                }
                Stat::Throughput => {
                    let total: u64 = windows.iter().map(|(_, w)| w.requests).sum();
                    if total == 0 {
                        continue;
                    }
                    let poisson = 1.0 / (total as f64).sqrt();
                    // Full windows only (not the first and the last), empty ones counted as 0.
                    let by_key: HashMap<i64, u64> = windows.iter().map(|(k, w)| (*k, w.requests)).collect();
                    let inner: Vec<f64> = if span > 2 {
                        (keys[0] + 1..keys[keys.len() - 1])
                            .map(|k| by_key.get(&k).copied().unwrap_or(0) as f64)
                            .collect()
                    } else {
                        vec![]
                    };
                    let batch = if inner.len() >= MIN_WINDOWS - 2 {
                        let mean = inner.iter().sum::<f64>() / inner.len() as f64;
                        let var = inner.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (inner.len() as f64 - 1.0);
                        (mean > 0.0).then(|| var.sqrt() / mean / (inner.len() as f64).sqrt())
                    } else {
                        None
                    };
                    let se = batch.map_or(poisson, |b| b.max(poisson));
                    out.precision.insert(want.metric.clone(), Precision { log_se: Some(se), counts: None });
                    let how = match batch {
                        Some(b) if b > poisson => format!("batch means over {} windows of {length} s", inner.len()),
                        _ => format!("Poisson, {total} requests"),
                    };
                    floor_note(out, file, want, se, &how);
                }
                Stat::Quantile(_) | Stat::Mean => {
                    if short {
                        continue;
                    }
                    latency(out, file, want, &windows, s.first_ns, length);
                }
            }
        }
    }
    if let Some((w, length)) = too_short {
        out.notes.push(format!(
            "{file}: the run spans {w} window(s) of {length} s, fewer than {MIN_WINDOWS}: too short for the within-run \
             precision of latency and the warm-up and stationarity checks; run at least {} s",
            MIN_WINDOWS as u64 * length
        ));
    }
}

/// A latency metric's precision and checks.
fn latency(
    out: &mut RunResults,
    file: &str,
    want: &Want,
    windows: &[(i64, &Window)],
    first: Option<i128>,
    length: u64,
) {
    // (window start in ns, samples, ln value)
    let points: Vec<(i128, f64, f64)> = windows
        .iter()
        .filter(|(_, w)| w.latencies > 0)
        .filter_map(|(k, w)| {
            let v = match want.stat {
                Stat::Quantile(p) => w.hist.quantile(p),
                _ => w.sum / w.latencies as f64,
            };
            (v > 0.0 && v.is_finite())
                .then(|| (*k as i128 * length as i128 * 1_000_000_000, w.latencies as f64, v.ln()))
        })
        .collect();
    let y: Vec<f64> = points.iter().map(|p| p.2).collect();
    let n: Vec<f64> = points.iter().map(|p| p.1).collect();
    let Some(se) = batch_means_se(&y, &n) else { return };
    out.precision.insert(want.metric.clone(), Precision { log_se: Some(se), counts: None });
    floor_note(out, file, want, se, &format!("batch means over {} windows of {length} s", points.len()));
    // The checks: full windows only.
    let mut sizes = n.clone();
    sizes.sort_by(f64::total_cmp);
    let median = sizes[sizes.len() / 2];
    let full: Vec<&(i128, f64, f64)> = points.iter().filter(|p| p.1 >= median / 2.0).collect();
    let Some(first) = first else { return };
    let warm_end = first + WARM_UP_SECONDS as i128 * 1_000_000_000;
    let early: Vec<f64> = full.iter().filter(|p| p.0 < warm_end).map(|p| p.2).collect();
    let rest: Vec<f64> = full.iter().filter(|p| p.0 >= warm_end).map(|p| p.2).collect();
    let metric = &want.metric;
    if let Some((d, p)) = shift_test(&rest, &early)
        && p < CHECK_ALPHA
        && d.abs() >= MIN_SHIFT.ln_1p()
    {
        let how = if d > 0.0 { "higher" } else { "lower" };
        out.notes.push(format!(
            "{file}: {metric}: warm-up: the windows starting in the first {WARM_UP_SECONDS} s ({} of {length} s) are {} \
             {how} than the rest ({}, a check with a {} false-alarm rate); leave the warm-up out of the measured run",
            early.len(),
            percent(d.exp_m1().abs()),
            p_value(p),
            percent(CHECK_ALPHA)
        ));
    }
    if rest.len() >= 4 {
        let (a, b) = rest.split_at(rest.len() / 2);
        if let Some((d, p)) = shift_test(a, b)
            && p < CHECK_ALPHA
            && d.abs() >= MIN_SHIFT.ln_1p()
        {
            let how = if d > 0.0 { "higher" } else { "lower" };
            out.notes.push(format!(
                "{file}: {metric}: not stationary: after the first {WARM_UP_SECONDS} s, the second half of the run \
                 ({} windows of {length} s) is {} {how} than the first half ({} windows; {}, a check with a {} \
                 false-alarm rate): a trend or a step change during the run",
                b.len(),
                percent(d.exp_m1().abs()),
                a.len(),
                p_value(p),
                percent(CHECK_ALPHA)
            ));
        }
    }
}

fn floor_note(out: &mut RunResults, file: &str, want: &Want, se: f64, how: &str) {
    if let Some(tol) = want.tolerance
        && tol > 0.0
        && se > FLOOR_SHARE * tol
    {
        out.notes.push(format!(
            "{file}: {}: within-run noise: the standard error of ln(value) is {} ({how}), more than a quarter of the {} tolerance: this run alone cannot resolve a {} change; run \
             longer or at a higher request rate",
            want.metric,
            percent(se),
            percent(tol),
            percent(tol)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(m: &str) -> Gate {
        Gate { metric: m.into(), tolerance: Some(0.1) }
    }

    #[test]
    fn plans_only_the_gated_groups() {
        let plan = Plan::new(&[
            gate("latency_p95"),
            gate("latency_p99"),
            gate("error_rate_write"),
            gate("latency_p95{endpoint=GET /items}"),
            gate("cpu_utilization"),
            gate("latency_max"),
        ]);
        assert_eq!(plan.groups.len(), 3);
        assert_eq!(plan.overall, Some(0));
        assert!(plan.groups[0].hist && !plan.groups[1].hist);
        assert_eq!(plan.write, Some(1));
        assert_eq!(plan.read, None);
        assert_eq!(plan.endpoints["GET"]["/items"], 2);
        assert_eq!(plan.endpoints[""]["GET /items"], 2);
        assert!(Plan::new(&[gate("cost_per_1000_req")]).is_empty());
    }

    #[test]
    fn window_quantiles_are_within_a_bucket() {
        let mut h = WindowHistogram::default();
        let v: Vec<f64> = (1..=1000).map(|i| 10.0 + i as f64 * 0.05).collect();
        v.iter().for_each(|&x| h.add(x));
        let exact = super::super::k6_samples::percentile(&v, 0.95);
        let got = h.quantile(0.95);
        assert!(((got - exact) / exact).abs() < 0.005, "{got} vs {exact}");
    }

    #[test]
    fn batch_means_is_the_spread_over_root_w_for_equal_windows() {
        let y = [1.0, 2.0, 3.0, 4.0];
        let se = batch_means_se(&y, &[5.0; 4]).unwrap();
        let s2 = y.iter().map(|v| (v - 2.5f64).powi(2)).sum::<f64>() / 3.0;
        assert!((se - (s2 / 4.0).sqrt()).abs() < 1e-12);
        assert_eq!(batch_means_se(&[1.0], &[1.0]), None);
    }

    #[test]
    fn dispersion_is_one_for_even_errors_and_more_for_bursts() {
        assert_eq!(dispersion(&[10, 10, 10, 10], &[1000; 4]), 1.0);
        assert!(dispersion(&[0, 0, 40, 0], &[1000; 4]) > 10.0);
        assert_eq!(dispersion(&[0, 0], &[10, 10]), 1.0);
        assert_eq!(dispersion(&[3], &[10]), 1.0);
    }

    #[test]
    fn coarsening_merges_pairs_whatever_the_split() {
        let plan = Plan::new(&[gate("throughput")]);
        let mut whole = plan.series();
        let (mut a, mut b) = (plan.series(), plan.series());
        let n = (MAX_WINDOWS * 3) as i128;
        for i in 0..n {
            let t = i * WINDOW_NS + 1;
            plan.record(&mut whole, None, None, Kind::Reqs, 1.0, t);
            plan.record(if i < n / 3 { &mut a } else { &mut b }, None, None, Kind::Reqs, 1.0, t);
        }
        let mut merged = a.pop().unwrap();
        merged.absorb(b.pop().unwrap());
        let whole = whole.pop().unwrap();
        assert_eq!(whole.scale, 2);
        assert_eq!(merged.scale, whole.scale);
        let counts = |s: &Series| s.windows.iter().map(|(k, w)| (*k, w.requests)).collect::<Vec<_>>();
        assert_eq!(counts(&merged), counts(&whole));
    }

    #[test]
    fn shift_test_finds_a_shift() {
        let a = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95];
        let (d, p) = shift_test(&a, &[2.0, 2.1, 1.9]).unwrap();
        assert!((d - 1.0).abs() < 1e-9 && p < 0.001);
        let (_, p) = shift_test(&a, &[1.0, 1.1, 0.9]).unwrap();
        assert!(p > 0.5);
        assert_eq!(shift_test(&[1.0], &[2.0]), None);
    }
}
