//! `perf_thresholds.yml`: per-metric tolerances and SLO limits, and waivers.
//!
//! Parsing happens in two stages: YAML into raw, span-carrying structs (`Raw*`), then validation
//! into a typed [`Policy`] that the comparison uses. Every error names the file, the line and
//! column, and the key path. This module does not read files or the clock.

use std::fmt;

use indexmap::IndexMap;
use jiff::civil::Date;
use serde::Deserialize;
use serde::de::{self, Visitor};
use serde_saphyr::Spanned;

use crate::error::LoadError;
use crate::input::{Classes, Gate};

/// A validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Gated metrics, in the order the file lists them.
    pub metrics: Vec<MetricPolicy>,
    pub waivers: Vec<Waiver>,
    /// Which k6 tag marks read and write requests in inputs that lack the HTTP method.
    pub classes: Classes,
    /// How the verdict is reached (`decision:`); the threshold method when the block is absent.
    pub decision: DecisionPolicy,
    /// What to do when the runs were not produced the same way (`comparability:`).
    pub comparability: Comparability,
    /// How `--duet` files are split into sides and time slices (`duet:`); defaults when absent.
    pub duet: crate::input::duet::Settings,
    /// Production drift rules (`drift:`, [`crate::drift`]); `None` when the block is absent.
    pub drift: Option<DriftPolicy>,
    /// Where `perfcert collect` reads metrics from (`sources:`), in the file's order; empty when
    /// the block is absent.
    pub sources: Vec<Source>,
    /// How `perfcert collect` estimates the cost per 1000 requests (`cost:`); `None` when absent.
    pub cost: Option<CostPolicy>,
}

/// The `cost:` block: unit prices times usage, per item ([`crate::cost::estimate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CostPolicy {
    /// The metric written (`metric:`, default `cost_per_1000_req`).
    pub metric: String,
    /// The prices' currency (`currency:`, default USD), recorded with the estimate.
    pub currency: String,
    pub items: Vec<CostItem>,
    /// How `perfcert drift --cost-explorer` reconciles the estimate with AWS Cost Explorer
    /// (`explorer:`); `None` when absent.
    pub explorer: Option<ExplorerPolicy>,
}

/// `cost.explorer`: the spend `GetCostAndUsage` reports for the judged days, filtered to the
/// service, over the same days' requests, against the estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplorerPolicy {
    pub filter: ExplorerFilter,
    /// `UnblendedCost` (default), `BlendedCost`, `AmortizedCost`, `NetUnblendedCost` or
    /// `NetAmortizedCost`.
    pub cost_metric: String,
    /// The days' requests: a `sources:` metric counted as a [`Usage::Source`].
    pub requests: Usage,
    /// The largest relative difference not flagged (`tolerance: 20%` is 0.20).
    pub tolerance: f64,
}

/// Which spend is the service's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExplorerFilter {
    /// A cost-allocation tag: key and value (`$service` replaced).
    Tag { key: String, value: String },
    /// A `SERVICE` dimension value, e.g. `Amazon Elastic Container Service`.
    Service(String),
}

/// One priced usage (`cost.items.NAME`).
#[derive(Debug, Clone, PartialEq)]
pub struct CostItem {
    pub name: String,
    /// Price per unit of usage, >= 0.
    pub price: f64,
    /// The unit, as written (`vCPU-second`, `GB-second`, `request`): recorded, not checked.
    pub unit: Option<String>,
    pub usage: Usage,
}

/// Where an item's usage comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Usage {
    /// `constant: N` units per run, or per second of the window (`per: second`).
    Constant { amount: f64, per: Per },
    /// A `sources:` metric over the run's window: its mean × the window's seconds (`per:
    /// second`), the sum of its samples (`per: sample`), or its mean (`per: run`); times `scale`.
    Source { metric: String, per: Per, scale: f64 },
}

/// How a usage is counted over the window (see [`Usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Run,
    Second,
    Sample,
}

/// One metric of the `sources:` block: where its series comes from, and the spacing of the
/// samples averaged over a run's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub metric: String,
    /// Milliseconds between the samples averaged: `step:` for Prometheus (default 15s), the
    /// CloudWatch `period` (default 1m).
    pub step_ms: i64,
    pub kind: SourceKind,
    /// How `perfcert collect` turns the window's samples into one value (`aggregate:`, default
    /// mean). Drift always judges window means.
    pub aggregate: Aggregate,
}

/// A source's `aggregate:`: which value of the window's samples `perfcert collect` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregate {
    /// The mean of the samples (the default).
    #[default]
    Mean,
    Max,
    Min,
    /// The 95th percentile, linear interpolation between the closest ranks.
    P95,
    /// The last sample in the window.
    Last,
}

impl Aggregate {
    pub const ALL: [Aggregate; 5] = [Aggregate::Mean, Aggregate::Max, Aggregate::Min, Aggregate::P95, Aggregate::Last];

    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Mean => "mean",
            Aggregate::Max => "max",
            Aggregate::Min => "min",
            Aggregate::P95 => "p95",
            Aggregate::Last => "last",
        }
    }
}

/// The kinds of source `perfcert collect`, `drift` and `bake` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// A Prometheus or Amazon Managed Prometheus `query_range`.
    Prometheus {
        /// The base URL, without `/api/v1/...` (`http://prometheus:9090`, or
        /// `https://aps-workspaces.REGION.amazonaws.com/workspaces/WS-ID`).
        endpoint: String,
        /// PromQL; `$service` is replaced with the service collected for.
        query: String,
        /// `sigv4: { region: R }`: sign the queries for Amazon Managed Prometheus in region R.
        sigv4_region: Option<String>,
    },
    /// A CloudWatch metric read with `GetMetricData`, one datapoint per period.
    CloudWatch(CloudWatchMetric),
}

/// A CloudWatch metric and the statistic read per period (`sources.M.cloudwatch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchMetric {
    pub region: String,
    pub namespace: String,
    pub metric_name: String,
    /// Name and value, in the file's order; `$service` in a value is replaced.
    pub dimensions: Vec<(String, String)>,
    /// `Average`, `Sum`, `Maximum`, `Minimum`, `SampleCount`, or a percentile such as `p95`.
    pub stat: String,
}

impl CloudWatchMetric {
    /// How the metric is written in messages and provenance:
    /// `AWS/ECS CPUUtilization Average {ClusterName=prod, ServiceName=api}`.
    pub fn describe(&self) -> String {
        let dims: Vec<String> = self.dimensions.iter().map(|(n, v)| format!("{n}={v}")).collect();
        format!("{} {} {} {{{}}}", self.namespace, self.metric_name, self.stat, dims.join(", "))
    }
}

impl Source {
    /// The query with `$service` replaced; `None` when it needs a service and none was given.
    /// For CloudWatch, the metric's [`CloudWatchMetric::describe`] with the dimensions resolved.
    pub fn query_for(&self, service: Option<&str>) -> Option<String> {
        match &self.kind {
            SourceKind::Prometheus { query, .. } => substitute(query, service),
            SourceKind::CloudWatch(_) => self.cloudwatch_for(service).map(|m| m.describe()),
        }
    }

    /// The CloudWatch metric with `$service` replaced in its dimension values; `None` for a
    /// Prometheus source, or when a value needs a service and none was given.
    pub fn cloudwatch_for(&self, service: Option<&str>) -> Option<CloudWatchMetric> {
        let SourceKind::CloudWatch(m) = &self.kind else { return None };
        let dimensions =
            m.dimensions.iter().map(|(n, v)| Some((n.clone(), substitute(v, service)?))).collect::<Option<Vec<_>>>()?;
        Some(CloudWatchMetric { dimensions, ..m.clone() })
    }

    /// Where the series comes from, for messages and provenance: the Prometheus base URL, or
    /// `cloudwatch:REGION`.
    pub fn endpoint(&self) -> String {
        match &self.kind {
            SourceKind::Prometheus { endpoint, .. } => endpoint.clone(),
            SourceKind::CloudWatch(m) => format!("cloudwatch:{}", m.region),
        }
    }
}

fn substitute(text: &str, service: Option<&str>) -> Option<String> {
    match service {
        Some(s) => Some(text.replace("$service", s)),
        None => (!text.contains("$service")).then(|| text.to_string()),
    }
}

/// The `drift:` block: how production series are cut into windows and judged against a
/// baseline ([`crate::drift::evaluate`]). Durations are in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftPolicy {
    /// The spacing of the samples (`step`, default 15s): a window expects `window / step` of them.
    pub step_ms: i64,
    /// The window length (`window`, default 5m), a whole multiple of `step`.
    pub window_ms: i64,
    /// The band around the baseline, as a fraction (`band: 10%` is 0.10): a window breaches when
    /// its mean is outside `[b × (1 − band), b × (1 + band)]` in the metric's bad direction.
    pub band: f64,
    /// Consecutive breaching windows that raise the ticket signal (`ticket_after`, default 3).
    pub ticket_after: u32,
    /// The rollback rule (`rollback:`), or `None` for no rollback signal.
    pub rollback: Option<RollbackPolicy>,
    /// What windows without data lead to (`on_no_data`, default inconclusive).
    pub on_no_data: OnNoData,
    /// The watched metrics, in the order the block lists them.
    pub metrics: Vec<DriftMetric>,
}

/// One metric under `drift.metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftMetric {
    pub name: String,
    pub direction: Direction,
    pub unit: Option<String>,
}

/// Which way a drifting metric is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher is worse (latency, CPU, cost): only `mean > b × (1 + band)` breaches.
    Up,
    /// Lower is worse (throughput): only `mean < b × (1 − band)` breaches.
    Down,
    /// Either way is a breach.
    Both,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Both => "both",
        }
    }
}

/// `drift.rollback`: raise the rollback flag when every sample of `metric` over a span of
/// `for_ms` is above `factor × baseline` (Prometheus `for:` semantics).
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackPolicy {
    pub metric: String,
    /// Default 1.5; above 1.
    pub factor: f64,
    /// Default 10m; at least one step.
    pub for_ms: i64,
}

/// `drift.on_no_data`: what two or more consecutive NODATA windows, or no valid window at all,
/// lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnNoData {
    /// INCONCLUSIVE (exit 5), the default.
    #[default]
    Inconclusive,
    /// FAIL (exit 1): missing data is treated as a breach.
    Fail,
    /// Gaps are ignored; but a metric without any valid window is still INCONCLUSIVE, never PASS.
    Pass,
}

impl OnNoData {
    pub fn as_str(self) -> &'static str {
        match self {
            OnNoData::Inconclusive => "inconclusive",
            OnNoData::Fail => "fail",
            OnNoData::Pass => "pass",
        }
    }
}

impl Policy {
    /// The metrics with a cumulative limit (`max_total_increase` / `max_total_decrease`): they
    /// need a reference to be judged.
    pub fn cumulative(&self) -> impl Iterator<Item = &MetricPolicy> {
        self.metrics.iter().filter(|m| m.max_total_increase.is_some() || m.max_total_decrease.is_some())
    }
}

/// `comparability`: what runs whose fingerprints differ ([`crate::fingerprint`]) lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Comparability {
    /// A warning naming the key, the values and the runs; the comparison goes on (the default).
    #[default]
    Warn,
    /// An input error (exit 2): no verdict on runs that were not produced the same way.
    Refuse,
}

/// The `decision:` block: which method decides, and the statistical method's error rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecisionPolicy {
    pub method: DecisionMethod,
    /// Per row: P(FAIL | change within tolerance) and P(PASS | change beyond it). Default 0.01.
    pub alpha: f64,
    /// Per comparison: P(any false FAIL), Holm over every gating row. Default 0.05.
    pub family_alpha: f64,
    /// Most runs per side the advice may ask for. Default 20.
    pub max_runs: u32,
    /// `noise: { cov }`: an assumed run-to-run CoV (SD of the log metric), recorded as assumed.
    pub noise_cov: Option<f64>,
    /// Most looks at one release (issue 14 §3): re-running with more runs is a new look, and
    /// each look tests at `alpha / looks` and `family_alpha / looks` (Bonferroni over looks).
    /// Default 3.
    pub looks: u32,
}

impl Default for DecisionPolicy {
    fn default() -> Self {
        DecisionPolicy {
            method: DecisionMethod::Threshold,
            alpha: 0.01,
            family_alpha: 0.05,
            max_runs: 20,
            noise_cov: None,
            looks: 3,
        }
    }
}

impl DecisionPolicy {
    /// The settings the statistical decision ([`crate::stats`]) takes: one look's share of the
    /// error rates.
    pub fn settings(&self) -> crate::stats::Settings {
        let (alpha, family_alpha) = self.per_look();
        crate::stats::Settings { alpha, family_alpha, max_runs: self.max_runs, assumed_cov: self.noise_cov }
    }
}

impl DecisionPolicy {
    /// `alpha` and `family_alpha` of one look: each split evenly over `looks` (Bonferroni), so
    /// over every look of a release the chance of any false PASS or false FAIL stays within
    /// them whatever the looks' dependence; `looks: 1` keeps the full rates.
    pub fn per_look(&self) -> (f64, f64) {
        let looks = f64::from(self.looks.max(1));
        (self.alpha / looks, self.family_alpha / looks)
    }
}

/// `decision.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionMethod {
    /// PERF-004 §6 as written: one delta against the tolerance.
    Threshold,
    /// PASS, FAIL or INCONCLUSIVE from the runs' spread ([`crate::stats`]).
    Statistical,
}

/// The limits for one metric. At least one of the six limits is set.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPolicy {
    pub name: String,
    /// Largest allowed rise over the baseline (higher is worse).
    pub max_increase: Option<Tolerance>,
    /// Largest allowed fall below the baseline (lower is worse).
    pub max_decrease: Option<Tolerance>,
    /// Largest allowed rise over the reference (`--reference`, the last certified release): the
    /// slow-drift guard, cumulative over every release since the reference.
    pub max_total_increase: Option<Tolerance>,
    /// Largest allowed fall below the reference.
    pub max_total_decrease: Option<Tolerance>,
    /// Absolute SLO ceiling, inclusive: the current value must be <= `max`.
    pub max: Option<f64>,
    /// Absolute SLO floor, inclusive: the current value must be >= `min`.
    pub min: Option<f64>,
    pub unit: Option<String>,
    pub description: Option<String>,
}

/// A gated metric as the raw readers see it: its name and smallest relative tolerance.
fn gate(m: &MetricPolicy) -> Gate {
    let relative = |t: &Option<Tolerance>| match t {
        Some(Tolerance::Relative(r)) => Some(*r),
        _ => None,
    };
    let tolerance = [relative(&m.max_increase), relative(&m.max_decrease)].into_iter().flatten().reduce(f64::min);
    Gate { metric: m.name.clone(), tolerance }
}

/// How far a metric may move from its baseline. Always a non-negative magnitude: the direction
/// comes from the key (`max_increase` or `max_decrease`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// A fraction of the baseline: `10%` is `Relative(0.10)`.
    Relative(f64),
    /// A difference in the metric's own unit: error rate `0.2` is 0.2 percentage points.
    Absolute(f64),
}

/// A recorded decision to accept a failing metric until a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiver {
    pub metric: String,
    pub reason: String,
    pub approved_by: Option<String>,
    /// Last day (inclusive, UTC) on which the waiver applies.
    pub expires: Date,
}

impl Waiver {
    /// A waiver is active up to and including its expiry date.
    pub fn is_active(&self, today: Date) -> bool {
        today <= self.expires
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    metrics: Spanned<IndexMap<String, Spanned<RawMetric>>>,
    #[serde(default)]
    waivers: Vec<Spanned<RawWaiver>>,
    classes: Option<RawClasses>,
    decision: Option<Spanned<RawDecision>>,
    comparability: Option<Spanned<String>>,
    duet: Option<Spanned<RawDuet>>,
    drift: Option<Spanned<RawDrift>>,
    sources: Option<Spanned<IndexMap<String, Spanned<RawSource>>>>,
    cost: Option<Spanned<RawCost>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCost {
    metric: Option<Spanned<String>>,
    currency: Option<Spanned<String>>,
    items: Spanned<IndexMap<String, Spanned<RawCostItem>>>,
    explorer: Option<Spanned<RawExplorer>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExplorer {
    tag: Option<Spanned<RawTag>>,
    service: Option<Spanned<String>>,
    metric: Option<Spanned<String>>,
    requests: Spanned<RawUsage>,
    tolerance: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTag {
    key: Spanned<String>,
    value: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCostItem {
    price: Spanned<f64>,
    unit: Option<String>,
    usage: Spanned<RawUsage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUsage {
    constant: Option<Spanned<f64>>,
    source: Option<Spanned<String>>,
    per: Option<Spanned<String>>,
    scale: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    prometheus: Option<Spanned<String>>,
    query: Option<Spanned<String>>,
    #[serde(default, deserialize_with = "present")]
    step: Option<Spanned<Limit>>,
    sigv4: Option<Spanned<RawSigV4>>,
    cloudwatch: Option<Spanned<RawCloudWatch>>,
    aggregate: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCloudWatch {
    region: Spanned<String>,
    namespace: Spanned<String>,
    metric: Spanned<String>,
    #[serde(default)]
    dimensions: IndexMap<String, Spanned<String>>,
    stat: Option<Spanned<String>>,
    #[serde(default, deserialize_with = "present")]
    period: Option<Spanned<Limit>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigV4 {
    region: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrift {
    #[serde(default, deserialize_with = "present")]
    step: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    window: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    band: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    ticket_after: Option<Spanned<Limit>>,
    rollback: Option<Spanned<RawRollback>>,
    on_no_data: Option<Spanned<String>>,
    metrics: Spanned<IndexMap<String, Spanned<RawDriftMetric>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollback {
    metric: Spanned<String>,
    #[serde(default, deserialize_with = "present")]
    factor: Option<Spanned<Limit>>,
    #[serde(default, rename = "for", deserialize_with = "present")]
    for_: Option<Spanned<Limit>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDriftMetric {
    direction: Option<Spanned<String>>,
    unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuet {
    tag: Option<Spanned<String>>,
    baseline: Option<Spanned<String>>,
    current: Option<Spanned<String>>,
    #[serde(default, deserialize_with = "present")]
    slice: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    warmup: Option<Spanned<Limit>>,
    placement: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecision {
    method: Option<Spanned<String>>,
    #[serde(default, deserialize_with = "present")]
    alpha: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    family_alpha: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    max_runs: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    looks: Option<Spanned<Limit>>,
    noise: Option<Spanned<RawNoise>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoise {
    cov: Spanned<Limit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClasses {
    read: Option<Spanned<String>>,
    write: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    // A limit key that is present must hold a limit: `max_increase:` left empty, `~` or `null`
    // is an error, never "no limit" (serde would read null as a missing Option).
    #[serde(default, deserialize_with = "present")]
    max_increase: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    max_decrease: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    max_total_increase: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    max_total_decrease: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    max: Option<Spanned<Limit>>,
    #[serde(default, deserialize_with = "present")]
    min: Option<Spanned<Limit>>,
    unit: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    metric: Spanned<String>,
    reason: Spanned<String>,
    approved_by: Option<String>,
    /// Optional only so that `expires: ~` gets our message; a missing key is still an error.
    expires: Spanned<Option<String>>,
}

/// Called only for keys that are present: their value must be a limit, not null.
fn present<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<Option<Spanned<Limit>>, D::Error> {
    Spanned::<Limit>::deserialize(deserializer).map(Some)
}

/// A limit as written: a number, or a string that should be a percentage.
#[derive(Debug, Clone)]
enum Limit {
    Number(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LimitVisitor;
        impl Visitor<'_> for LimitVisitor {
            type Value = Limit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a percentage such as 10%")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Limit, E> {
                Ok(Limit::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Limit, E> {
                Ok(Limit::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Limit, E> {
                Ok(Limit::Number(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Limit, E> {
                Ok(Limit::Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Limit, E> {
                Err(E::custom("no value: expected a number or a percentage such as 10% (remove the key for no limit)"))
            }
            fn visit_none<E: de::Error>(self) -> Result<Limit, E> {
                self.visit_unit()
            }
        }
        deserializer.deserialize_any(LimitVisitor)
    }
}

/// Parses and validates a policy. `file` names the source in error messages.
pub fn parse(file: &str, text: &str) -> Result<Policy, LoadError> {
    if text.trim().is_empty() {
        return Err(LoadError::new(file, "file is empty; expected a YAML mapping with a `metrics` key"));
    }
    let mut key = String::new();
    let raw: RawPolicy = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            key = key_path(e.path());
            e.into_inner()
        })
    })
    .map_err(|e| {
        let mut err = LoadError::new(file, yaml_message(&e));
        if let Some(loc) = e.location() {
            err = err.at(loc.line(), loc.column());
        }
        err.key(key)
    })?;
    Validator { file }.policy(raw)
}

/// A dotted key path without the `value` segments that [`Spanned`] wrappers add. Every
/// non-leaf node in the raw policy except the `waivers` list is `Spanned`, so a `value` segment
/// right after a kept segment is a wrapper's, and the one after that is a real key.
pub(crate) fn key_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    let mut previous_kept = false;
    for segment in path.iter() {
        match segment {
            Segment::Map { key } if key == "value" && previous_kept => previous_kept = false,
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
                previous_kept = true;
            }
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                previous_kept = true;
            }
            Segment::Enum { .. } | Segment::Unknown => previous_kept = true,
        }
    }
    out
}

/// The parser's message in perfcert's words: without its position (reported separately) and
/// without advice about the parser's own API.
pub(crate) fn yaml_message(e: &serde_saphyr::Error) -> String {
    let mut message = e.without_snippet().to_string();
    // Drop a trailing " at line L, column C"; keep positions inside the text ("defined at ...").
    if let Some(i) = message.rfind(" at line ")
        && message[i + 9..].split(", column ").all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        message.truncate(i);
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let name = rest.split(", set DuplicateKeyPolicy").next().unwrap_or(rest);
        return format!("duplicate key `{name}`");
    }
    if let Some(rest) = message.strip_prefix("non-finite float ") {
        let value = rest.split(' ').next().unwrap_or(rest);
        return format!("expected a finite number, found {value}");
    }
    if message.starts_with("multiple YAML documents detected") {
        return "expected one YAML document, found a second one (`---`)".into();
    }
    message
        .replace("expected mapping start", "expected a mapping")
        .replace("expected sequence start", "expected a list")
}

struct Validator<'a> {
    file: &'a str,
}

impl Validator<'_> {
    fn error<T>(&self, span: &Spanned<T>, key: String, message: impl Into<String>) -> LoadError {
        LoadError::new(self.file, message).at(span.referenced.line(), span.referenced.column()).key(key)
    }

    fn policy(&self, raw: RawPolicy) -> Result<Policy, LoadError> {
        if raw.metrics.value.is_empty() {
            return Err(self.error(
                &raw.metrics,
                "metrics".into(),
                "no metrics; expected at least one metric with limits",
            ));
        }
        let metrics = raw
            .metrics
            .value
            .into_iter()
            .map(|(name, metric)| self.metric(name, metric))
            .collect::<Result<Vec<_>, _>>()?;
        let waivers = raw
            .waivers
            .into_iter()
            .enumerate()
            .map(|(i, w)| self.waiver(i, w, &metrics))
            .collect::<Result<Vec<_>, _>>()?;
        let mut classes = match raw.classes {
            None => Classes::default(),
            Some(c) => Classes {
                read: self.selector("read", c.read)?,
                write: self.selector("write", c.write)?,
                ..Classes::default()
            },
        };
        let decision = match raw.decision {
            None => DecisionPolicy::default(),
            Some(d) => self.decision(d.value)?,
        };
        // Within-run precision and checks serve the statistical decision; the threshold
        // method reads k6 raw output exactly as before.
        if decision.method == DecisionMethod::Statistical {
            classes.gates = metrics.iter().map(gate).collect();
        }
        let comparability = match raw.comparability {
            None => Comparability::default(),
            Some(c) => match c.value.as_str() {
                "warn" => Comparability::Warn,
                "refuse" => Comparability::Refuse,
                other => {
                    return Err(self.error(
                        &c,
                        "comparability".into(),
                        format!("expected warn or refuse, found \"{other}\""),
                    ));
                }
            },
        };
        let duet = match raw.duet {
            None => crate::input::duet::Settings::default(),
            Some(d) => self.duet(d.value)?,
        };
        let drift = match raw.drift {
            None => None,
            Some(d) => Some(self.drift(d, &metrics)?),
        };
        let sources = match raw.sources {
            None => Vec::new(),
            Some(all) => {
                all.value.into_iter().map(|(name, raw)| self.source(name, raw, &metrics)).collect::<Result<_, _>>()?
            }
        };
        let cost = match raw.cost {
            None => None,
            Some(c) => Some(self.cost(c, &sources)?),
        };
        Ok(Policy { metrics, waivers, classes, decision, comparability, duet, drift, sources, cost })
    }

    fn source(
        &self,
        metric: String,
        mut raw: Spanned<RawSource>,
        metrics: &[MetricPolicy],
    ) -> Result<Source, LoadError> {
        let aggregate = match raw.value.aggregate.take() {
            None => Aggregate::Mean,
            Some(a) => {
                let aggregate = Aggregate::ALL.into_iter().find(|x| x.as_str() == a.value.trim()).ok_or_else(|| {
                    self.error(
                        &a,
                        format!("sources.{metric}.aggregate"),
                        format!("expected mean, max, min, p95 or last, found \"{}\"", a.value),
                    )
                })?;
                // The value collected is gated: an aggregate that leaves out the bad side's
                // samples (the minimum of a latency, the maximum of a throughput) hides a breach.
                let direction = metrics.iter().find(|m| m.name == metric).and_then(implied_direction);
                let up = matches!(direction, Some(Direction::Up | Direction::Both));
                let down = matches!(direction, Some(Direction::Down | Direction::Both));
                let hides = match aggregate {
                    Aggregate::Min | Aggregate::Last if up => Some("rise"),
                    Aggregate::Max if down => Some("fall"),
                    _ => None,
                };
                if let Some(side) = hides {
                    return Err(self.error(
                        &a,
                        format!("sources.{metric}.aggregate"),
                        format!(
                            "{} hides a {side} that metrics.{metric} gates; expected mean, p95{}",
                            aggregate.as_str(),
                            if up && !down { " or max" } else { "" }
                        ),
                    ));
                }
                aggregate
            }
        };
        let mut source = self.source_of_kind(metric, raw)?;
        source.aggregate = aggregate;
        Ok(source)
    }

    fn source_of_kind(&self, metric: String, raw: Spanned<RawSource>) -> Result<Source, LoadError> {
        let whole = raw.referenced;
        let raw = raw.value;
        let at = |key: &str| format!("sources.{metric}.{key}");
        if let Some(cw) = raw.cloudwatch {
            let extra = [
                ("prometheus", raw.prometheus.is_some()),
                ("query", raw.query.is_some()),
                ("step", raw.step.is_some()),
                ("sigv4", raw.sigv4.is_some()),
            ];
            if let Some((key, _)) = extra.iter().find(|(_, given)| *given) {
                return Err(self.error(
                    &cw,
                    at("cloudwatch"),
                    format!(
                        "expected either `prometheus:` with `query:` or `cloudwatch:`, not both (found `{key}:`; a \
                         CloudWatch source sets its spacing with cloudwatch.period)"
                    ),
                ));
            }
            return self.cloudwatch_source(metric, cw);
        }
        let (Some(prometheus), Some(query)) = (raw.prometheus, raw.query) else {
            return Err(LoadError::new(
                self.file,
                "expected `prometheus:` with `query:` (Prometheus / AMP) or `cloudwatch:` (CloudWatch GetMetricData)",
            )
            .at(whole.line(), whole.column())
            .key(format!("sources.{metric}")));
        };
        let url = prometheus.value.trim().trim_end_matches('/').to_string();
        let authority = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        match authority {
            None => {
                return Err(self.error(
                    &prometheus,
                    at("prometheus"),
                    format!("expected an http:// or https:// URL, found \"{}\"", prometheus.value),
                ));
            }
            Some(rest) if rest.split('/').next().is_some_and(|host| host.contains('@')) => {
                return Err(self.error(
                    &prometheus,
                    at("prometheus"),
                    "credentials do not belong in the URL (they would be recorded in the results file); \
                     use sigv4 for Amazon Managed Prometheus",
                ));
            }
            Some(rest) if rest.is_empty() || rest.contains(['?', '#']) => {
                return Err(self.error(
                    &prometheus,
                    at("prometheus"),
                    format!("expected a base URL such as http://prometheus:9090, found \"{}\"", prometheus.value),
                ));
            }
            Some(_) => {}
        }
        if query.value.trim().is_empty() {
            return Err(self.error(&query, at("query"), "expected a PromQL expression, found nothing"));
        }
        let step_ms = match raw.step {
            None => 15_000,
            Some(step) => self.source_duration(&step, at("step"), "from 1s to 24h such as 15s or 1m", |ms| {
                (1_000..=86_400_000).contains(&ms)
            })?,
        };
        let sigv4_region = match raw.sigv4 {
            None => None,
            Some(s) => Some(self.region(s.value.region, at("sigv4.region"))?),
        };
        Ok(Source {
            metric,
            step_ms,
            kind: SourceKind::Prometheus { endpoint: url, query: query.value, sigv4_region },
            aggregate: Aggregate::Mean,
        })
    }

    fn cost(&self, raw: Spanned<RawCost>, sources: &[Source]) -> Result<CostPolicy, LoadError> {
        let raw = raw.value;
        let metric = match raw.metric {
            None => "cost_per_1000_req".to_string(),
            Some(m) if m.value.trim().is_empty() => {
                return Err(self.error(&m, "cost.metric".into(), "expected a metric name such as cost_per_1000_req"));
            }
            Some(m) => m.value.trim().to_string(),
        };
        let currency = raw.currency.map(|c| c.value.trim().to_string()).unwrap_or_else(|| "USD".into());
        if raw.items.value.is_empty() {
            return Err(self.error(&raw.items, "cost.items".into(), "expected at least one priced usage"));
        }
        let mut items = vec![];
        for (name, item) in raw.items.value {
            let item = item.value;
            let at = |key: &str| format!("cost.items.{name}.{key}");
            if !item.price.value.is_finite() || item.price.value < 0.0 {
                return Err(self.error(
                    &item.price,
                    at("price"),
                    format!("expected a price per unit >= 0, found {}", item.price.value),
                ));
            }
            let usage_at = item.usage.referenced;
            let usage_error = |key: String, message: &str| {
                LoadError::new(self.file, message).at(usage_at.line(), usage_at.column()).key(key)
            };
            let u = item.usage.value;
            let per = match &u.per {
                None => None,
                Some(p) => Some(match p.value.as_str() {
                    "run" => Per::Run,
                    "second" => Per::Second,
                    "sample" => Per::Sample,
                    other => {
                        return Err(self.error(
                            p,
                            at("usage.per"),
                            format!("expected run, second or sample, found \"{other}\""),
                        ));
                    }
                }),
            };
            let usage = match (u.constant, u.source) {
                (Some(c), None) => {
                    if !c.value.is_finite() || c.value < 0.0 {
                        return Err(self.error(
                            &c,
                            at("usage.constant"),
                            format!("expected a number >= 0, found {}", c.value),
                        ));
                    }
                    if let Some(scale) = &u.scale {
                        return Err(self.error(
                            scale,
                            at("usage.scale"),
                            "scale applies to a source; write the constant scaled",
                        ));
                    }
                    match per {
                        Some(Per::Sample) => {
                            return Err(self.error(
                                u.per.as_ref().expect("per was given"),
                                at("usage.per"),
                                "a constant has no samples; expected run or second",
                            ));
                        }
                        per => Usage::Constant { amount: c.value, per: per.unwrap_or(Per::Run) },
                    }
                }
                (None, Some(source)) => {
                    if !sources.iter().any(|s| s.metric == source.value) {
                        return Err(self.error(
                            &source,
                            at("usage.source"),
                            format!("expected a metric of the `sources:` block, found \"{}\"", source.value),
                        ));
                    }
                    let Some(per) = per else {
                        return Err(usage_error(
                            at("usage.per"),
                            "expected per: second (the mean × the window's seconds), sample (the sum of the samples) \
                             or run (the mean)",
                        ));
                    };
                    let scale = match u.scale {
                        None => 1.0,
                        Some(s) if s.value.is_finite() && s.value > 0.0 => s.value,
                        Some(s) => {
                            return Err(self.error(
                                &s,
                                at("usage.scale"),
                                format!("expected a number > 0, found {}", s.value),
                            ));
                        }
                    };
                    Usage::Source { metric: source.value, per, scale }
                }
                _ => {
                    return Err(usage_error(
                        at("usage"),
                        "expected either constant: N or source: METRIC (a metric of the `sources:` block)",
                    ));
                }
            };
            items.push(CostItem { name, price: item.price.value, unit: item.unit, usage });
        }
        let explorer = match raw.explorer {
            None => None,
            Some(e) => Some(self.explorer(e, sources)?),
        };
        Ok(CostPolicy { metric, currency, items, explorer })
    }

    fn explorer(&self, raw: Spanned<RawExplorer>, sources: &[Source]) -> Result<ExplorerPolicy, LoadError> {
        let whole = raw.referenced;
        let raw = raw.value;
        let whole_error = |key: &str, message: &str| {
            LoadError::new(self.file, message).at(whole.line(), whole.column()).key(format!("cost.explorer{key}"))
        };
        let filter = match (raw.tag, raw.service) {
            (Some(tag), None) => {
                let tag = tag.value;
                if tag.key.value.trim().is_empty() {
                    return Err(self.error(
                        &tag.key,
                        "cost.explorer.tag.key".into(),
                        "expected a cost-allocation tag key",
                    ));
                }
                ExplorerFilter::Tag { key: tag.key.value.trim().into(), value: tag.value.value.trim().into() }
            }
            (None, Some(service)) if !service.value.trim().is_empty() => {
                ExplorerFilter::Service(service.value.trim().into())
            }
            _ => {
                return Err(whole_error(
                    "",
                    "expected either tag: { key: K, value: V } or service: NAME (a Cost Explorer SERVICE, such as \
                     Amazon Elastic Container Service)",
                ));
            }
        };
        let names = ["UnblendedCost", "BlendedCost", "AmortizedCost", "NetUnblendedCost", "NetAmortizedCost"];
        let cost_metric = match raw.metric {
            None => "UnblendedCost".to_string(),
            Some(m) if names.contains(&m.value.as_str()) => m.value,
            Some(m) => {
                return Err(self.error(
                    &m,
                    "cost.explorer.metric".into(),
                    format!("expected one of {}, found \"{}\"", names.join(", "), m.value),
                ));
            }
        };
        let r = raw.requests.value;
        let (Some(source), None) = (r.source, r.constant) else {
            return Err(whole_error(
                ".requests",
                "expected source: METRIC (a metric of the `sources:` block) and per:",
            ));
        };
        if !sources.iter().any(|s| s.metric == source.value) {
            return Err(self.error(
                &source,
                "cost.explorer.requests.source".into(),
                format!("expected a metric of the `sources:` block, found \"{}\"", source.value),
            ));
        }
        let per = match r.per.as_ref().map(|p| p.value.as_str()) {
            Some("sample") => Per::Sample,
            Some("second") => Per::Second,
            Some("run") => Per::Run,
            _ => {
                return Err(whole_error(
                    ".requests.per",
                    "expected per: sample (the sum of the samples, e.g. a CloudWatch Sum of RequestCount), second \
                     (the mean rate × the seconds) or run (the mean)",
                ));
            }
        };
        let scale = match r.scale {
            None => 1.0,
            Some(s) if s.value.is_finite() && s.value > 0.0 => s.value,
            Some(s) => {
                return Err(self.error(&s, "cost.explorer.requests.scale".into(), "expected a number > 0"));
            }
        };
        let tolerance = match raw.tolerance {
            None => 0.2,
            Some(t) => match parse_percent(&t.value) {
                Some(p) if p > 0.0 && p.is_finite() => p / 100.0,
                _ => {
                    return Err(self.error(
                        &t,
                        "cost.explorer.tolerance".into(),
                        format!("expected a percentage above 0% such as 20%, found \"{}\"", t.value),
                    ));
                }
            },
        };
        Ok(ExplorerPolicy {
            filter,
            cost_metric,
            requests: Usage::Source { metric: source.value, per, scale },
            tolerance,
        })
    }

    fn region(&self, region: Spanned<String>, key: String) -> Result<String, LoadError> {
        let ok = !region.value.is_empty()
            && region.value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(self.error(
                &region,
                key,
                format!("expected an AWS region such as us-east-1, found \"{}\"", region.value),
            ));
        }
        Ok(region.value)
    }

    /// A duration in whole milliseconds that `fits`, or an error saying `expected`.
    fn source_duration(
        &self,
        span: &Spanned<Limit>,
        key: String,
        expected: &str,
        fits: impl Fn(i64) -> bool,
    ) -> Result<i64, LoadError> {
        let ns = match &span.value {
            Limit::Number(n) => Some(n * 1e9),
            Limit::Text(t) => parse_duration(t),
        };
        let shown = match &span.value {
            Limit::Number(n) => n.to_string(),
            Limit::Text(t) => format!("\"{t}\""),
        };
        match ns {
            Some(ns) if ns.is_finite() && (ns / 1e6).fract() == 0.0 && ns.abs() < 1e18 && fits((ns / 1e6) as i64) => {
                Ok((ns / 1e6) as i64)
            }
            _ => Err(self.error(span, key, format!("expected a duration {expected}, found {shown}"))),
        }
    }

    fn cloudwatch_source(&self, metric: String, raw: Spanned<RawCloudWatch>) -> Result<Source, LoadError> {
        let raw = raw.value;
        let at = |key: &str| format!("sources.{metric}.cloudwatch.{key}");
        let region = self.region(raw.region, at("region"))?;
        let text = |span: &Spanned<String>, key: &str, what: &str| -> Result<String, LoadError> {
            let value = span.value.trim();
            if value.is_empty() || value.len() > 255 {
                return Err(self.error(span, at(key), format!("expected {what}, found \"{}\"", span.value)));
            }
            Ok(value.to_string())
        };
        let namespace = text(&raw.namespace, "namespace", "a CloudWatch namespace such as AWS/ECS")?;
        let metric_name = text(&raw.metric, "metric", "a CloudWatch metric name such as CPUUtilization")?;
        if raw.dimensions.len() > 30 {
            return Err(
                LoadError::new(self.file, "expected at most 30 dimensions (CloudWatch's limit)").key(at("dimensions"))
            );
        }
        let mut dimensions = vec![];
        for (name, value) in &raw.dimensions {
            let value = text(value, &format!("dimensions.{name}"), "a dimension value such as prod or $service")?;
            dimensions.push((name.clone(), value));
        }
        let stat = match &raw.stat {
            None => "Average".to_string(),
            Some(stat) => {
                let v = stat.value.trim();
                let named = ["Average", "Sum", "Minimum", "Maximum", "SampleCount", "IQM"].contains(&v);
                let percentile = ["p", "tm", "wm", "tc", "ts", "pr"].iter().any(|prefix| {
                    v.strip_prefix(prefix).is_some_and(|rest| {
                        rest.starts_with(|c: char| c.is_ascii_digit() || c == '(')
                            && rest.parse::<f64>().map_or(rest.starts_with('('), |p| (0.0..=100.0).contains(&p))
                    })
                });
                if !named && !percentile {
                    return Err(self.error(
                        stat,
                        at("stat"),
                        format!(
                            "expected a CloudWatch statistic: Average, Sum, Minimum, Maximum, SampleCount, or a \
                             percentile such as p95, found \"{}\"",
                            stat.value
                        ),
                    ));
                }
                v.to_string()
            }
        };
        // GetMetricData periods: 1, 5, 10, 20 or 30 s (high-resolution metrics), else a multiple of 60 s.
        let step_ms = match &raw.period {
            None => 60_000,
            Some(p) => self.source_duration(
                p,
                at("period"),
                "of 1s, 5s, 10s, 20s, 30s or a whole number of minutes up to 24h such as 1m or 5m",
                |ms| {
                    [1_000, 5_000, 10_000, 20_000, 30_000].contains(&ms)
                        || (ms % 60_000 == 0 && (60_000..=86_400_000).contains(&ms))
                },
            )?,
        };
        Ok(Source {
            metric,
            step_ms,
            kind: SourceKind::CloudWatch(CloudWatchMetric { region, namespace, metric_name, dimensions, stat }),
            aggregate: Aggregate::Mean,
        })
    }

    fn drift(&self, raw: Spanned<RawDrift>, gated: &[MetricPolicy]) -> Result<DriftPolicy, LoadError> {
        let raw = raw.value;
        let shown = |limit: &Limit| match limit {
            Limit::Number(n) => n.to_string(),
            Limit::Text(t) => format!("\"{t}\""),
        };
        // A duration in whole milliseconds from `min_ms` to 7 days; a bare number is seconds.
        let duration = |key: &str, raw: Option<Spanned<Limit>>, default: i64, min_ms: i64| -> Result<i64, LoadError> {
            let Some(raw) = raw else { return Ok(default) };
            let ns = match &raw.value {
                Limit::Number(n) => Some(n * 1e9),
                Limit::Text(t) => parse_duration(t),
            };
            match ns.map(|ns| ns / 1e6) {
                Some(ms) if ms.is_finite() && ms.fract() == 0.0 && ms >= min_ms as f64 && ms <= 604_800_000.0 => {
                    Ok(ms as i64)
                }
                _ => Err(self.error(
                    &raw,
                    format!("drift.{key}"),
                    format!(
                        "expected a duration of at least {min_ms}ms and at most 7 days, in whole milliseconds, such as 15s, 5m or 1h; found {}",
                        shown(&raw.value)
                    ),
                )),
            }
        };
        let step_ms = duration("step", raw.step, 15_000, 1_000)?;
        let window_span = raw.window.as_ref().map(|w| w.referenced);
        let window_ms = duration("window", raw.window, 300_000, 1_000)?;
        if window_ms % step_ms != 0 || window_ms < 2 * step_ms {
            let err = LoadError::new(
                self.file,
                format!("expected a whole multiple of step ({step_ms}ms) of at least two steps, found {window_ms}ms"),
            )
            .key("drift.window");
            return Err(match window_span {
                Some(span) => err.at(span.line(), span.column()),
                None => err,
            });
        }
        let band = match raw.band {
            None => 0.10,
            Some(raw) => match &raw.value {
                Limit::Text(t) if parse_percent(t).is_some_and(|p| p > 0.0 && p <= 100.0) => {
                    parse_percent(t).unwrap_or_default() / 100.0
                }
                other => {
                    return Err(self.error(
                        &raw,
                        "drift.band".into(),
                        format!("expected a percentage above 0% and at most 100% such as 10%, found {}", shown(other)),
                    ));
                }
            },
        };
        let ticket_after = match raw.ticket_after {
            None => 3,
            Some(raw) => match raw.value {
                Limit::Number(n) if n.fract() == 0.0 && (1.0..=1000.0).contains(&n) => n as u32,
                ref other => {
                    return Err(self.error(
                        &raw,
                        "drift.ticket_after".into(),
                        format!("expected a whole number of windows from 1 to 1000, found {}", shown(other)),
                    ));
                }
            },
        };
        let on_no_data = match raw.on_no_data {
            None => OnNoData::default(),
            Some(v) => match v.value.as_str() {
                "inconclusive" => OnNoData::Inconclusive,
                "fail" => OnNoData::Fail,
                "pass" => OnNoData::Pass,
                other => {
                    return Err(self.error(
                        &v,
                        "drift.on_no_data".into(),
                        format!("expected inconclusive, fail or pass, found \"{other}\""),
                    ));
                }
            },
        };
        if raw.metrics.value.is_empty() {
            return Err(self.error(
                &raw.metrics,
                "drift.metrics".into(),
                "no metrics; expected at least one metric to watch",
            ));
        }
        let mut metrics = vec![];
        for (name, m) in raw.metrics.value {
            if name.trim().is_empty() {
                return Err(self.error(&m, "drift.metrics".into(), "metric names must not be empty"));
            }
            let key = format!("drift.metrics.{name}");
            let gate = gated.iter().find(|g| g.name == name);
            let direction = match &m.value.direction {
                Some(d) => match d.value.as_str() {
                    "up" => Direction::Up,
                    "down" => Direction::Down,
                    "both" => Direction::Both,
                    other => {
                        return Err(self.error(
                            d,
                            format!("{key}.direction"),
                            format!("expected up, down or both, found \"{other}\""),
                        ));
                    }
                },
                None => match gate.map(implied_direction) {
                    Some(Some(d)) => d,
                    _ => {
                        return Err(self.error(
                            &m,
                            key,
                            "no direction; expected `direction: up`, `down` or `both`, or the same name under `metrics:` with max_increase or max_decrease",
                        ));
                    }
                },
            };
            let unit = m.value.unit.clone().or_else(|| gate.and_then(|g| g.unit.clone()));
            metrics.push(DriftMetric { name, direction, unit });
        }
        let rollback = match raw.rollback {
            None => None,
            Some(r) => {
                let r = r.value;
                if !metrics.iter().any(|m| m.name == r.metric.value) {
                    let known: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
                    return Err(self.error(
                        &r.metric,
                        "drift.rollback.metric".into(),
                        format!(
                            "`{}` is not under drift.metrics; expected one of {}",
                            r.metric.value,
                            known.join(", ")
                        ),
                    ));
                }
                if metrics.iter().any(|m| m.name == r.metric.value && m.direction == Direction::Down) {
                    return Err(self.error(
                        &r.metric,
                        "drift.rollback.metric".into(),
                        format!(
                            "`{}` has direction down; the rollback rule watches a rise (above factor × baseline): expected a metric whose direction is up or both",
                            r.metric.value
                        ),
                    ));
                }
                let factor = match r.factor {
                    None => 1.5,
                    Some(raw) => match raw.value {
                        Limit::Number(n) if n.is_finite() && n > 1.0 && n <= 1000.0 => n,
                        ref other => {
                            return Err(self.error(
                                &raw,
                                "drift.rollback.factor".into(),
                                format!("expected a finite number above 1 (such as 1.5), found {}", shown(other)),
                            ));
                        }
                    },
                };
                let for_ms = duration("rollback.for", r.for_, 600_000, step_ms)?;
                Some(RollbackPolicy { metric: r.metric.value, factor, for_ms })
            }
        };
        Ok(DriftPolicy { step_ms, window_ms, band, ticket_after, rollback, on_no_data, metrics })
    }

    fn duet(&self, raw: RawDuet) -> Result<crate::input::duet::Settings, LoadError> {
        let mut out = crate::input::duet::Settings::default();
        let name = |key: &str, raw: Option<Spanned<String>>, default: String| -> Result<String, LoadError> {
            let Some(raw) = raw else { return Ok(default) };
            let ok = !raw.value.trim().is_empty() && !raw.value.contains(':');
            if !ok {
                return Err(self.error(
                    &raw,
                    format!("duet.{key}"),
                    format!(
                        "expected a k6 tag {} without `:` (such as \"{default}\"), found \"{}\"",
                        if key == "tag" || key == "placement" { "name" } else { "value" },
                        raw.value
                    ),
                ));
            }
            Ok(raw.value)
        };
        out.tag = name("tag", raw.tag, out.tag)?;
        out.placement = name("placement", raw.placement, out.placement)?;
        let baseline_span = raw.baseline.as_ref().map(|b| b.referenced);
        out.baseline = name("baseline", raw.baseline, out.baseline)?;
        out.current = name("current", raw.current, out.current)?;
        if out.baseline == out.current {
            let message = format!("the baseline and current values must differ, both are \"{}\"", out.current);
            let err = LoadError::new(self.file, message).key("duet.current");
            return Err(match baseline_span {
                Some(span) => err.at(span.line(), span.column()),
                None => err,
            });
        }
        let duration = |key: &str, raw: Option<Spanned<Limit>>, zero_ok: bool| -> Result<Option<i128>, LoadError> {
            let Some(raw) = raw else { return Ok(None) };
            let expected = if zero_ok {
                "a duration >= 0 such as 30s, 2m or 500ms"
            } else {
                "a duration of at least 100ms such as 10s, 2m or 500ms"
            };
            let ns = match &raw.value {
                Limit::Number(n) => Some(n * 1e9),
                Limit::Text(t) => parse_duration(t),
            };
            let shown = match &raw.value {
                Limit::Number(n) => n.to_string(),
                Limit::Text(t) => format!("\"{t}\""),
            };
            match ns {
                Some(ns) if ns.is_finite() && ns <= 1e15 && (if zero_ok { ns >= 0.0 } else { ns >= 1e8 }) => {
                    Ok(Some(ns.round() as i128))
                }
                _ => Err(self.error(&raw, format!("duet.{key}"), format!("expected {expected}, found {shown}"))),
            }
        };
        if let Some(ns) = duration("slice", raw.slice, false)? {
            out.slice_ns = ns;
        }
        if let Some(ns) = duration("warmup", raw.warmup, true)? {
            out.warmup_ns = ns;
        }
        Ok(out)
    }

    fn decision(&self, raw: RawDecision) -> Result<DecisionPolicy, LoadError> {
        let mut out = DecisionPolicy::default();
        if let Some(m) = raw.method {
            out.method = match m.value.as_str() {
                "threshold" => DecisionMethod::Threshold,
                "statistical" => DecisionMethod::Statistical,
                other => {
                    return Err(self.error(
                        &m,
                        "decision.method".into(),
                        format!("expected threshold or statistical, found \"{other}\""),
                    ));
                }
            };
        }
        // A number as written, or an error naming the key and what was found.
        let number = |key: &str, raw: &Spanned<Limit>, expected: &str| -> Result<f64, LoadError> {
            match &raw.value {
                Limit::Number(n) => Ok(*n),
                Limit::Text(text) => {
                    Err(self.error(raw, format!("decision.{key}"), format!("expected {expected}, found \"{text}\"")))
                }
            }
        };
        let probability = |key: &str, raw: Option<Spanned<Limit>>, default: f64| -> Result<f64, LoadError> {
            let Some(raw) = raw else { return Ok(default) };
            let expected = format!("a probability above 0 and below 0.5 (such as {default})");
            let value = number(key, &raw, &expected)?;
            if !(value > 0.0 && value < 0.5) {
                return Err(self.error(&raw, format!("decision.{key}"), format!("expected {expected}, found {value}")));
            }
            Ok(value)
        };
        out.alpha = probability("alpha", raw.alpha, out.alpha)?;
        out.family_alpha = probability("family_alpha", raw.family_alpha, out.family_alpha)?;
        if let Some(raw) = raw.max_runs {
            let expected = "a whole number of runs from 2 to 1000";
            let value = number("max_runs", &raw, expected)?;
            if !(value.fract() == 0.0 && (2.0..=1000.0).contains(&value)) {
                return Err(self.error(
                    &raw,
                    "decision.max_runs".into(),
                    format!("expected {expected}, found {value}"),
                ));
            }
            out.max_runs = value as u32;
        }
        if let Some(raw) = raw.looks {
            let expected = "a whole number of looks from 1 to 10";
            let value = number("looks", &raw, expected)?;
            if !(value.fract() == 0.0 && (1.0..=10.0).contains(&value)) {
                return Err(self.error(&raw, "decision.looks".into(), format!("expected {expected}, found {value}")));
            }
            out.looks = value as u32;
        }
        if let Some(noise) = raw.noise {
            let cov = noise.value.cov;
            let expected = "the run-to-run CoV as a fraction above 0 and below 1 (such as 0.01 for 1%)";
            let value = number("noise.cov", &cov, expected)?;
            if !(value > 0.0 && value < 1.0) {
                return Err(self.error(
                    &cov,
                    "decision.noise.cov".into(),
                    format!("expected {expected}, found {value}"),
                ));
            }
            out.noise_cov = Some(value);
        }
        Ok(out)
    }

    fn selector(&self, class: &str, raw: Option<Spanned<String>>) -> Result<Option<String>, LoadError> {
        let Some(raw) = raw else { return Ok(None) };
        let valid =
            raw.value.split_once(':').is_some_and(|(tag, value)| !tag.trim().is_empty() && !value.trim().is_empty());
        if !valid {
            return Err(self.error(
                &raw,
                format!("classes.{class}"),
                format!("expected a k6 tag selector TAG:VALUE such as \"kind:{class}\", found \"{}\"", raw.value),
            ));
        }
        Ok(Some(raw.value))
    }

    fn metric(&self, name: String, raw: Spanned<RawMetric>) -> Result<MetricPolicy, LoadError> {
        let path = |field: &str| format!("metrics.{name}.{field}");
        if name.trim().is_empty() {
            return Err(self.error(&raw, "metrics".into(), "metric names must not be empty"));
        }
        let m = &raw.value;
        let tolerance = |field: &str, limit: &Option<Spanned<Limit>>| -> Result<Option<Tolerance>, LoadError> {
            let Some(limit) = limit else { return Ok(None) };
            let (tolerance, magnitude) = match &limit.value {
                Limit::Number(n) => (Tolerance::Absolute(*n), *n),
                Limit::Text(text) => match parse_percent(text) {
                    Some(p) => (Tolerance::Relative(p / 100.0), p),
                    None => {
                        return Err(self.error(
                            limit,
                            path(field),
                            format!("expected a number or a percentage such as 10%, found \"{text}\""),
                        ));
                    }
                },
            };
            if !magnitude.is_finite() {
                return Err(self.error(limit, path(field), "expected a finite tolerance"));
            }
            if magnitude < 0.0 {
                let other = match field {
                    "max_increase" => "max_decrease",
                    "max_decrease" => "max_increase",
                    "max_total_increase" => "max_total_decrease",
                    _ => "max_total_increase",
                };
                return Err(self.error(
                    limit,
                    path(field),
                    format!("a tolerance must be >= 0; the direction comes from the key (use {other} for the other direction)"),
                ));
            }
            Ok(Some(tolerance))
        };
        let slo = |field: &str, limit: &Option<Spanned<Limit>>| -> Result<Option<f64>, LoadError> {
            match limit {
                None => Ok(None),
                Some(Spanned { value: Limit::Number(n), .. }) if n.is_finite() => Ok(Some(*n)),
                Some(l @ Spanned { value: Limit::Number(_), .. }) => {
                    Err(self.error(l, path(field), "expected a finite number"))
                }
                Some(l @ Spanned { value: Limit::Text(text), .. }) => Err(self.error(
                    l,
                    path(field),
                    format!("expected an absolute number in the metric's unit, found \"{text}\" (percentages belong in max_increase / max_decrease / max_total_increase / max_total_decrease)"),
                )),
            }
        };
        let policy = MetricPolicy {
            max_increase: tolerance("max_increase", &m.max_increase)?,
            max_decrease: tolerance("max_decrease", &m.max_decrease)?,
            max_total_increase: tolerance("max_total_increase", &m.max_total_increase)?,
            max_total_decrease: tolerance("max_total_decrease", &m.max_total_decrease)?,
            max: slo("max", &m.max)?,
            min: slo("min", &m.min)?,
            unit: m.unit.clone(),
            description: m.description.clone(),
            name: name.clone(),
        };
        if policy.max_increase.is_none()
            && policy.max_decrease.is_none()
            && policy.max_total_increase.is_none()
            && policy.max_total_decrease.is_none()
            && policy.max.is_none()
            && policy.min.is_none()
        {
            return Err(self.error(
                &raw,
                format!("metrics.{name}"),
                "no limit; expected at least one of max_increase, max_decrease, max_total_increase, max_total_decrease, max, min",
            ));
        }
        if let (Some(min), Some(max)) = (policy.min, policy.max)
            && min > max
        {
            return Err(self.error(
                &raw,
                format!("metrics.{name}"),
                format!("min ({min}) is greater than max ({max})"),
            ));
        }
        Ok(policy)
    }

    fn waiver(&self, index: usize, raw: Spanned<RawWaiver>, metrics: &[MetricPolicy]) -> Result<Waiver, LoadError> {
        let w = raw.value;
        let path = |field: &str| format!("waivers[{index}].{field}");
        if !metrics.iter().any(|m| m.name == w.metric.value) {
            let known: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
            return Err(self.error(
                &w.metric,
                path("metric"),
                format!("`{}` is not a metric in this policy; expected one of {}", w.metric.value, known.join(", ")),
            ));
        }
        if w.reason.value.trim().is_empty() {
            return Err(self.error(&w.reason, path("reason"), "a waiver needs a reason"));
        }
        let text = w.expires.value.as_deref().unwrap_or_default().trim();
        let shaped = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        let expires: Date = text.parse().ok().filter(|_| shaped).ok_or_else(|| {
            self.error(
                &w.expires,
                path("expires"),
                match &w.expires.value {
                    Some(v) => format!("expected a date YYYY-MM-DD, found \"{v}\""),
                    None => "expected a date YYYY-MM-DD, found no value".to_string(),
                },
            )
        })?;
        Ok(Waiver { metric: w.metric.value, reason: w.reason.value, approved_by: w.approved_by, expires })
    }
}

/// The direction a `metrics:` entry implies for drift: a rise limit (`max_increase`,
/// `max_total_increase`, `max`) is up, a fall limit (`max_decrease`, `max_total_decrease`, `min`)
/// down, both kinds both; `None` cannot happen for a validated metric.
fn implied_direction(m: &MetricPolicy) -> Option<Direction> {
    let up = m.max_increase.is_some() || m.max_total_increase.is_some() || m.max.is_some();
    let down = m.max_decrease.is_some() || m.max_total_decrease.is_some() || m.min.is_some();
    match (up, down) {
        (true, true) => Some(Direction::Both),
        (true, false) => Some(Direction::Up),
        (false, true) => Some(Direction::Down),
        (false, false) => None,
    }
}

/// `10s`, `2m`, `500ms`, `1.5s`, `1h` to nanoseconds; a bare number is seconds.
fn parse_duration(text: &str) -> Option<f64> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let scale = match unit {
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    let n: f64 = number.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some(n * scale)
}

/// `"10%"`, `"+10 %"` or `"2.5%"` to a number of percent; anything else is `None`.
fn parse_percent(text: &str) -> Option<f64> {
    let number = text.trim().strip_suffix('%')?.trim_end();
    let number = number.strip_prefix('+').unwrap_or(number);
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        return None;
    }
    number.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "\
metrics:
  latency_p95_read:  { max_increase: 10%, max: 300, unit: ms }
  error_rate:        { max_increase: 0.2, max: 0.5, unit: \"%\" }
  throughput:        { max_decrease: 5%,  min: 10000, unit: req/min }
  cost_per_1000_req: { max_increase: 5%, max_decrease: 5% }
waivers:
  - metric: error_rate
    reason: \"new cache warm-up, CAB-2291\"
    approved_by: cab
    expires: 2026-12-31
";

    #[test]
    fn parses_the_issue_example() {
        let p = parse("p.yml", EXAMPLE).unwrap();
        let names: Vec<&str> = p.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["latency_p95_read", "error_rate", "throughput", "cost_per_1000_req"]);
        assert_eq!(p.metrics[0].max_increase, Some(Tolerance::Relative(0.10)));
        assert_eq!(p.metrics[0].max, Some(300.0));
        assert_eq!(p.metrics[1].max_increase, Some(Tolerance::Absolute(0.2)));
        assert_eq!(p.metrics[2].max_decrease, Some(Tolerance::Relative(0.05)));
        assert_eq!(p.metrics[2].min, Some(10000.0));
        assert_eq!(p.metrics[3].max_decrease, Some(Tolerance::Relative(0.05)));
        let w = &p.waivers[0];
        assert_eq!((w.metric.as_str(), w.approved_by.as_deref()), ("error_rate", Some("cab")));
        assert_eq!(w.expires, jiff::civil::date(2026, 12, 31));
        assert!(w.is_active(jiff::civil::date(2026, 12, 31)));
        assert!(!w.is_active(jiff::civil::date(2027, 1, 1)));
    }

    fn err(text: &str) -> String {
        parse("p.yml", text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_line_and_key_path() {
        let cases = [
            (
                "metrics:\n  a: { max_increase: 10%, maxx: 3 }\n",
                "p.yml:2:27: metrics.a.maxx: unknown field `maxx`, expected one of",
            ),
            (
                "metrics:\n  a: { max_increase: ten }\n",
                "p.yml:2:22: metrics.a.max_increase: expected a number or a percentage such as 10%, found \"ten\"",
            ),
            ("metrics:\n  a: { max_increase: -5% }\n", "p.yml:2:22: metrics.a.max_increase: a tolerance must be >= 0"),
            (
                "metrics:\n  a: { max_decrease: -1 }\n",
                "p.yml:2:22: metrics.a.max_decrease: a tolerance must be >= 0; the direction comes from the key (use max_increase",
            ),
            ("metrics:\n  a: { max: 5% }\n", "p.yml:2:13: metrics.a.max: expected an absolute number"),
            (
                "metrics:\n  a: { max: [1] }\n",
                "p.yml:2:8: metrics.a.max: invalid type: sequence, expected a number or a percentage",
            ),
            ("metrics:\n  a: { max: 1 }\n  a: { min: 1 }\n", "p.yml:3:3: metrics: duplicate key `a`"),
            ("metrics:\n  a: { unit: ms }\n", "p.yml:2:6: metrics.a: no limit; expected at least one of"),
            ("metrics:\n  a: { min: 5, max: 1 }\n", "p.yml:2:6: metrics.a: min (5) is greater than max (1)"),
            ("metrics: {}\n", "p.yml:1:10: metrics: no metrics"),
            (
                "metric:\n  a: { max: 1 }\n",
                "p.yml:1:1: metric: unknown field `metric`, expected one of metrics, waivers",
            ),
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - metric: a\n    expires: 2026-01-01\n",
                "p.yml:5:5: waivers[0]: missing field `reason`",
            ),
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - { metric: a, reason: x }\n",
                "p.yml:4:18: waivers[0]: missing field `expires`",
            ),
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - { metric: a, reason: \" \", expires: 2026-01-01 }\n",
                "p.yml:4:26: waivers[0].reason: a waiver needs a reason",
            ),
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - { metric: a, reason: x, expires: soon }\n",
                "p.yml:4:38: waivers[0].expires: expected a date YYYY-MM-DD, found \"soon\"",
            ),
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - { metric: b, reason: x, expires: 2026-01-01 }\n",
                "p.yml:4:15: waivers[0].metric: `b` is not a metric in this policy; expected one of a",
            ),
            ("\n\n", "p.yml: file is empty"),
            ("metrics:\n  a: { max: 1e999 }\n", "p.yml:2:13: metrics.a.max: expected a finite number, found `1e999`"),
            ("metrics:\n  a: { max: 1 }\n---\nmetrics: {}\n", "p.yml:4:1: expected one YAML document"),
            ("metrics:\n  a: null\n", "p.yml:2:6: metrics.a: expected a mapping"),
            // A limit key with no value is an error, never "no limit".
            (
                "metrics:\n  a: { max: 1, max_increase: }\n",
                "p.yml:2:28: metrics.a.max_increase: no value: expected a number or a percentage such as 10% (remove the key for no limit)",
            ),
            ("metrics:\n  a: { max: 1, max_increase: ~ }\n", "p.yml:2:30: metrics.a.max_increase: no value: expected"),
            ("metrics:\n  a:\n    max: 1\n    max_decrease: null\n", "p.yml:4:19: metrics.a.max_decrease: no value"),
            ("metrics:\n  a:\n    max:\n    min: 1\n", "p.yml:3:8: metrics.a.max: no value"),
            ("metrics:\n  a: { max: !!null '' }\n", "p.yml:2:20: metrics.a.max: no value"),
            // Waivers expire on a day written YYYY-MM-DD, nothing looser.
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - { metric: a, reason: x, expires: 20261231 }\n",
                "p.yml:4:38: waivers[0].expires: expected a date YYYY-MM-DD, found \"20261231\"",
            ),
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - { metric: a, reason: x, expires: 2026-12-31T23:00:00Z }\n",
                "p.yml:4:38: waivers[0].expires: expected a date YYYY-MM-DD, found \"2026-12-31T23:00:00Z\"",
            ),
            (
                "metrics:\n  a: { max: 1 }\nwaivers:\n  - { metric: a, reason: x, expires: ~ }\n",
                "p.yml:4:38: waivers[0].expires: expected a date YYYY-MM-DD, found no value",
            ),
            (
                "metrics: &x\n  a: { max: 1 }\nwaivers: *x\n",
                "p.yml:3:10: waivers: expected a list (defined at line 2, column 3)",
            ),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .map(|(text, expected)| (text, expected, err(text)))
            .filter(|(_, expected, got)| !got.starts_with(*expected))
            .map(|(text, expected, got)| format!("for {text:?}\n  got:      {got}\n  expected: {expected}"))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn cumulative_limits() {
        let p = parse(
            "p.yml",
            "metrics:\n  a: { max_increase: 4%, max_total_increase: 20% }\n  b: { max_total_decrease: 3 }\n  c: { max: 1 }\n",
        )
        .unwrap();
        assert_eq!(p.metrics[0].max_total_increase, Some(Tolerance::Relative(0.20)));
        assert_eq!(p.metrics[1].max_total_decrease, Some(Tolerance::Absolute(3.0)));
        let names: Vec<&str> = p.cumulative().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let cases = [
            (
                "metrics:\n  a: { max_total_increase: lots }\n",
                "p.yml:2:28: metrics.a.max_total_increase: expected a number or a percentage such as 10%, found \"lots\"",
            ),
            (
                "metrics:\n  a: { max_total_decrease: -10% }\n",
                "p.yml:2:28: metrics.a.max_total_decrease: a tolerance must be >= 0; the direction comes from the key (use max_total_increase",
            ),
            ("metrics:\n  a: { max_total_increase: 1e999 }\n", "metrics.a.max_total_increase: expected a finite"),
            ("metrics:\n  a: { max_total_increase: ~ }\n", "p.yml:2:28: metrics.a.max_total_increase: no value"),
            ("metrics:\n  a: { max_total_increase: [1] }\n", "metrics.a.max_total_increase: invalid type: sequence"),
            ("metrics:\n  a: { max_total_increase: \"nan%\" }\n", "metrics.a.max_total_increase: expected a number"),
            ("metrics:\n  a: { max_total: 20% }\n", "metrics.a.max_total: unknown field `max_total`, expected one of"),
        ];
        for (text, want) in cases {
            let got = err(text);
            assert!(got.contains(want), "{text:?}\n  got:  {got}\n  want: {want}");
        }
    }

    #[test]
    fn the_duet_block() {
        let base = "metrics:\n  a: { max: 1 }\n";
        let p = parse("p.yml", base).unwrap();
        assert_eq!(p.duet, crate::input::duet::Settings::default());
        let p = parse(
            "p.yml",
            &format!("{base}duet: {{ tag: variant, baseline: old, current: new, slice: 2m, warmup: 500ms, placement: node }}\n"),
        )
        .unwrap();
        assert_eq!((p.duet.tag.as_str(), p.duet.baseline.as_str(), p.duet.current.as_str()), ("variant", "old", "new"));
        assert_eq!(
            (p.duet.slice_ns, p.duet.warmup_ns, p.duet.placement.as_str()),
            (120_000_000_000, 500_000_000, "node")
        );
        assert_eq!(parse("p.yml", &format!("{base}duet: {{ slice: 1.5 }}\n")).unwrap().duet.slice_ns, 1_500_000_000);
        let cases = [
            (
                "duet: { slice: 10 parsecs }",
                "p.yml:3:16: duet.slice: expected a duration of at least 100ms such as 10s, 2m or 500ms, found \"10 parsecs\"",
            ),
            ("duet: { slice: 50ms }", "duet.slice: expected a duration of at least 100ms"),
            ("duet: { warmup: -1s }", "duet.warmup: expected a duration >= 0"),
            ("duet: { tag: \"a:b\" }", "duet.tag: expected a k6 tag name without `:`"),
            ("duet: { baseline: x, current: x }", "duet.current: the baseline and current values must differ"),
            ("duet: { slices: 1s }", "duet.slices: unknown field `slices`"),
        ];
        for (block, want) in cases {
            let got = err(&format!("{base}{block}\n"));
            assert!(got.contains(want), "{block}: {got}");
        }
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("10%"), Some(10.0));
        assert_eq!(parse_percent(" +2.5 % "), Some(2.5));
        assert_eq!(parse_percent("-5%"), Some(-5.0));
        assert_eq!(parse_percent("10"), None);
        assert_eq!(parse_percent("%"), None);
        assert_eq!(parse_percent("1e3%"), None);
        assert_eq!(parse_percent("NaN%"), None);
    }

    #[test]
    fn the_sources_block() {
        let base = "metrics:\n  cpu_utilization: { max: 90 }\nsources:\n";
        let p = parse(
            "p.yml",
            &format!(
                "{base}  cpu_utilization:\n    prometheus: http://prom:9090/\n    query: avg(cpu{{service=\"$service\"}})\n  \
                 memory_utilization:\n    prometheus: https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1\n    \
                 query: avg(mem)\n    step: 1m\n    sigv4: {{ region: eu-west-1 }}\n"
            ),
        )
        .unwrap();
        assert_eq!(p.sources.len(), 2);
        let cpu = &p.sources[0];
        assert_eq!(
            (cpu.metric.as_str(), cpu.endpoint().as_str(), cpu.step_ms),
            ("cpu_utilization", "http://prom:9090", 15_000)
        );
        assert!(matches!(&cpu.kind, SourceKind::Prometheus { sigv4_region: None, .. }));
        assert_eq!(cpu.query_for(Some("api")).as_deref(), Some("avg(cpu{service=\"api\"})"));
        assert_eq!(cpu.query_for(None), None);
        assert_eq!(p.sources[1].step_ms, 60_000);
        assert!(matches!(&p.sources[1].kind, SourceKind::Prometheus { sigv4_region: Some(r), .. } if r == "eu-west-1"));
        assert_eq!(p.sources[1].query_for(None).as_deref(), Some("avg(mem)"));
        assert!(parse("p.yml", "metrics:\n  m: { max: 1 }\n").unwrap().sources.is_empty());

        let one = |extra: &str| err(&format!("{base}  cpu:\n    prometheus: http://prom:9090\n    query: up\n{extra}"));
        assert_eq!(p.sources[0].aggregate, Aggregate::Mean, "the default");
        for a in Aggregate::ALL {
            let text = format!(
                "{base}  cpu:\n    prometheus: http://prom:9090\n    query: up\n    aggregate: {}\n",
                a.as_str()
            );
            assert_eq!(parse("p.yml", &text).unwrap().sources[0].aggregate, a);
        }
        // An aggregate that leaves out the gated side's samples is refused, naming the key.
        let gated = |limit: &str, a: &str| {
            parse(
                "p.yml",
                &format!("metrics:\n  cpu: {{ {limit} }}\nsources:\n  cpu:\n    prometheus: http://prom\n    query: up\n    aggregate: {a}\n"),
            )
            .map(|p| p.sources[0].aggregate.as_str())
            .map_err(|e| e.to_string())
        };
        for (limit, a) in
            [("max_increase: 10%", "min"), ("max: 90", "last"), ("max_decrease: 5%", "max"), ("max: 1, min: 0", "max")]
        {
            let e = gated(limit, a).unwrap_err();
            assert!(
                e.starts_with("p.yml:7:16: sources.cpu.aggregate: ") && e.contains(&format!("{a} hides a")),
                "{limit} {a}: {e}"
            );
        }
        for (limit, a) in [
            ("max_increase: 10%", "max"),
            ("max_increase: 10%", "p95"),
            ("max_decrease: 5%", "min"),
            ("max_decrease: 5%", "last"),
        ] {
            assert_eq!(gated(limit, a), Ok(a), "{limit}");
        }
        assert_eq!(
            one("    aggregate: p99\n"),
            "p.yml:7:16: sources.cpu.aggregate: expected mean, max, min, p95 or last, found \"p99\""
        );
        assert_eq!(
            one("    step: 0.5s\n"),
            "p.yml:7:11: sources.cpu.step: expected a duration from 1s to 24h such as 15s or 1m, found \"0.5s\""
        );
        assert!(one("    sigv4: { region: EU }\n").contains("sources.cpu.sigv4.region: expected an AWS region"));
        assert!(one("    sigv4: {}\n").contains("missing field `region`"), "{}", one("    sigv4: {}\n"));
        let url = |u: &str| err(&format!("{base}  cpu:\n    prometheus: {u}\n    query: up\n"));
        assert_eq!(
            url("prom:9090"),
            "p.yml:5:17: sources.cpu.prometheus: expected an http:// or https:// URL, found \"prom:9090\""
        );
        assert!(
            url("https://user:pw@prom").contains("credentials do not belong in the URL"),
            "{}",
            url("https://user:pw@prom")
        );
        assert!(url("http://prom/?x=1").contains("expected a base URL"));
        let q = err(&format!("{base}  cpu:\n    prometheus: http://prom\n    query: ' '\n"));
        assert!(q.contains("sources.cpu.query: expected a PromQL expression"), "{q}");
        let q = err(&format!("{base}  cpu:\n    query: up\n"));
        assert!(q.contains("sources.cpu: expected `prometheus:` with `query:`"), "{q}");
    }

    #[test]
    fn the_cost_block() {
        let base = "metrics:\n  m: { max: 1 }\nsources:\n  tasks:\n    prometheus: http://p\n    query: up\ncost:\n";
        let p = parse(
            "p.yml",
            &format!(
                "{base}  items:\n    vcpu: {{ price: 0.000011244, unit: vCPU-second, usage: {{ constant: 0.5, per: second }} }}\n    \
                 fixed: {{ price: 2, usage: {{ constant: 1 }} }}\n    \
                 task_hours: {{ price: 0.04, usage: {{ source: tasks, per: second, scale: 0.0002777777777777778 }} }}\n"
            ),
        )
        .unwrap();
        let c = p.cost.unwrap();
        assert_eq!((c.metric.as_str(), c.currency.as_str(), c.items.len()), ("cost_per_1000_req", "USD", 3));
        assert_eq!(c.items[0].usage, Usage::Constant { amount: 0.5, per: Per::Second });
        assert_eq!(c.items[0].unit.as_deref(), Some("vCPU-second"));
        assert_eq!(c.items[1].usage, Usage::Constant { amount: 1.0, per: Per::Run });
        assert!(matches!(&c.items[2].usage, Usage::Source { metric, per: Per::Second, .. } if metric == "tasks"));

        let one = |item: &str| err(&format!("{base}  items:\n    x: {item}\n"));
        assert!(
            one("{ price: -1, usage: { constant: 1 } }").contains("cost.items.x.price: expected a price per unit >= 0")
        );
        assert!(
            one("{ price: 1, usage: { source: nope, per: second } }")
                .contains("cost.items.x.usage.source: expected a metric of the `sources:` block, found \"nope\"")
        );
        assert!(one("{ price: 1, usage: { source: tasks } }").contains("cost.items.x.usage.per: expected per: second"));
        assert!(one("{ price: 1, usage: { constant: 1, per: sample } }").contains("a constant has no samples"));
        assert!(one("{ price: 1, usage: { constant: 1, per: hour } }").contains("expected run, second or sample"));
        assert!(
            one("{ price: 1, usage: { constant: 1, source: tasks } }")
                .contains("expected either constant: N or source")
        );
        assert!(
            one("{ price: 1, usage: { source: tasks, per: sample, scale: 0 } }")
                .contains("usage.scale: expected a number > 0")
        );
        assert!(err(&format!("{base}  items: {{}}\n")).contains("cost.items: expected at least one priced usage"));

        let items = "  items:\n    x: { price: 1, usage: { constant: 1 } }\n";
        let p = parse(
            "p.yml",
            &format!(
                "{base}{items}  explorer:\n    tag: {{ key: service, value: $service }}\n    \
                 requests: {{ source: tasks, per: sample }}\n    tolerance: 15%\n"
            ),
        )
        .unwrap();
        let e = p.cost.unwrap().explorer.unwrap();
        assert_eq!(e.filter, ExplorerFilter::Tag { key: "service".into(), value: "$service".into() });
        assert_eq!((e.cost_metric.as_str(), e.tolerance), ("UnblendedCost", 0.15));
        let ex = |body: &str| err(&format!("{base}{items}  explorer:\n{body}"));
        assert!(ex("    requests: { source: tasks, per: sample }\n").contains("cost.explorer: expected either tag:"));
        assert!(
            ex("    service: ECS\n    requests: { source: nope, per: sample }\n")
                .contains("cost.explorer.requests.source: expected a metric of the `sources:` block")
        );
        assert!(
            ex("    service: ECS\n    requests: { source: tasks }\n")
                .contains("cost.explorer.requests.per: expected per: sample")
        );
        assert!(
            ex("    service: ECS\n    metric: Cost\n    requests: { source: tasks, per: sample }\n")
                .contains("cost.explorer.metric: expected one of UnblendedCost")
        );
        assert!(
            ex("    service: ECS\n    tolerance: 0\n    requests: { source: tasks, per: sample }\n")
                .contains("cost.explorer.tolerance: expected a percentage")
        );
    }

    #[test]
    fn a_cloudwatch_source() {
        let base = "metrics:\n  cpu: { max: 90 }\nsources:\n  cpu:\n    cloudwatch:\n";
        let p = parse(
            "p.yml",
            &format!(
                "{base}      region: eu-west-1\n      namespace: AWS/ECS\n      metric: CPUUtilization\n      \
                 dimensions: {{ ClusterName: prod, ServiceName: $service }}\n"
            ),
        )
        .unwrap();
        let cpu = &p.sources[0];
        assert_eq!((cpu.step_ms, cpu.endpoint().as_str()), (60_000, "cloudwatch:eu-west-1"));
        let m = cpu.cloudwatch_for(Some("api")).unwrap();
        assert_eq!(m.stat, "Average");
        assert_eq!(m.dimensions, vec![("ClusterName".into(), "prod".into()), ("ServiceName".into(), "api".into())]);
        assert_eq!(
            cpu.query_for(Some("api")).as_deref(),
            Some("AWS/ECS CPUUtilization Average {ClusterName=prod, ServiceName=api}")
        );
        assert_eq!(cpu.query_for(None), None);

        let one = |extra: &str| {
            err(&format!("{base}      region: eu-west-1\n      namespace: AWS/Lambda\n      metric: Duration\n{extra}"))
        };
        let p = parse(
            "p.yml",
            &format!(
                "{base}      region: us-east-1\n      namespace: AWS/Lambda\n      metric: Duration\n      stat: p95\n      \
                 period: 5m\n"
            ),
        )
        .unwrap();
        assert_eq!(p.sources[0].step_ms, 300_000);
        assert_eq!(p.sources[0].query_for(None).as_deref(), Some("AWS/Lambda Duration p95 {}"));
        assert!(one("      stat: mean\n").contains("sources.cpu.cloudwatch.stat: expected a CloudWatch statistic"));
        assert!(one("      stat: p101\n").contains("expected a CloudWatch statistic"));
        assert!(one("      period: 90s\n").contains("sources.cpu.cloudwatch.period: expected a duration of 1s, 5s"));
        assert!(one("      period: 2s\n").contains("found \"2s\""));
        assert!(one("      namespace2: x\n").contains("unknown field `namespace2`"));
        let both = err(&format!(
            "{base}      region: eu-west-1\n      namespace: AWS/ECS\n      metric: CPUUtilization\n    query: up\n"
        ));
        assert!(
            both.contains("sources.cpu.cloudwatch: expected either `prometheus:` with `query:` or `cloudwatch:`"),
            "{both}"
        );
        let region =
            err(&format!("{base}      region: Europe\n      namespace: AWS/ECS\n      metric: CPUUtilization\n"));
        assert!(region.contains("sources.cpu.cloudwatch.region: expected an AWS region"), "{region}");
    }
}
