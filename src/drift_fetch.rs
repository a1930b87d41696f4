//! The drift inputs both `perfcert drift` and `perfcert bake` need: the policy's drift metrics
//! checked against their `sources:` entries, the baseline file read into values with its
//! provenance, and each metric's series fetched from Prometheus / AMP or CloudWatch at the drift
//! step. Side
//! effects (files, network) live here so that commands share them without importing each other;
//! nothing here decides or prints (progress goes to the [`Ui`] as details and warnings).

use std::collections::HashMap;
use std::path::Path;

use anyhow::anyhow;
use serde_json::Value;

use crate::cloudwatch;
use crate::cost;
use crate::drift::{self, Baseline};
use crate::exit::Failure;
use crate::fsutil;
use crate::input;
use crate::model::{Run, Side};
use crate::pipeline;
use crate::policy::{DriftPolicy, Policy, Source, SourceKind};
use crate::prometheus::client::{Auth, Client, RangeQuery};
use crate::prometheus::{Series as PromSeries, Window, window_mean};
use crate::ui::Ui;

/// Most samples one `query_range` asks for: Prometheus refuses more than 11,000 per series.
const CHUNK: i64 = 10_000;

/// Each drift metric's source and its query (with `$service` replaced), in the block's order.
pub struct Wanted<'p> {
    pub rules: &'p DriftPolicy,
    pub queries: Vec<(&'p Source, String)>,
    /// The service `$service` stands for.
    pub service: Option<String>,
}

/// The policy's `drift:` block with a source and a query for every metric, or an input error
/// naming `file` and what is missing: a policy mistake is reported before any request.
pub fn wanted<'p>(policy: &'p Policy, file: &Path, service: Option<&str>) -> Result<Wanted<'p>, Failure> {
    let file = file.display();
    let rules = policy.drift.as_ref().ok_or_else(|| {
        Failure::input(anyhow!(
            "{file}: no `drift:` block; drift needs one naming the metrics to watch (see docs/drift.md)"
        ))
    })?;
    let missing: Vec<&str> = rules
        .metrics
        .iter()
        .filter(|m| !policy.sources.iter().any(|s| s.metric == m.name))
        .map(|m| m.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Failure::input(anyhow!(
            "{file}: drift.metrics {} {} no entry under `sources:`; expected, for each, a Prometheus endpoint and a \
             query (see `perfcert init --output -`)",
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
            if missing.len() == 1 { "has" } else { "have" }
        )));
    }
    let mut queries = vec![];
    for m in &rules.metrics {
        let source = policy.sources.iter().find(|s| s.metric == m.name).expect("checked above");
        let query = source.query_for(service).ok_or_else(|| {
            Failure::input(anyhow!("{file}: sources.{}.query uses $service; pass --service NAME", source.metric))
        })?;
        // A CloudWatch datapoint is one period's statistic: the drift windows count one sample
        // per step, so the two must agree.
        if matches!(source.kind, SourceKind::CloudWatch(_)) && source.step_ms != rules.step_ms {
            return Err(Failure::input(anyhow!(
                "{file}: sources.{}.cloudwatch.period is {}s but drift.step is {}s; expected them equal (a CloudWatch \
                 datapoint is one period), e.g. drift.step: 1m with period: 1m",
                source.metric,
                source.step_ms / 1000,
                rules.step_ms / 1000
            )));
        }
        queries.push((source, query));
    }
    Ok(Wanted { rules, queries, service: service.map(str::to_string) })
}

/// The drift metrics' baseline values, the file's sha256, and, for a file `perfcert collect`
/// wrote, each metric's query and the period it covers.
pub struct Loaded {
    pub path: String,
    pub values: indexmap::IndexMap<String, f64>,
    pub sha256: String,
    pub queries: HashMap<String, String>,
    pub period_ms: Option<(i64, i64)>,
}

impl Loaded {
    /// `metric`'s baseline with its provenance, or `None` when the file has no value for it.
    pub fn baseline(&self, metric: &str) -> Option<Baseline> {
        self.values.get(metric).map(|&value| Baseline {
            value,
            reference: self.path.clone(),
            sha256: Some(self.sha256.clone()),
            query: self.queries.get(metric).cloned(),
            period_ms: self.period_ms,
        })
    }
}

pub fn load_baseline(path: &Path, classes: &input::Classes, ui: &Ui) -> Result<Loaded, Failure> {
    let format = input::detect_path(path).map_err(Failure::input)?;
    let runs =
        input::load_runs(path, format, classes, &std::sync::atomic::AtomicU64::new(0)).map_err(Failure::input)?;
    if runs.len() > 1 {
        ui.detail(&format!("{}: {} runs; each metric's baseline is their mean", path.display(), runs.len()));
    }
    let side = Side { runs: runs.into_iter().map(|results| Run { files: vec![], results }).collect() };
    let values = side.summary().metrics;
    let sha256 = pipeline::sha256_of(path)?;
    let (mut queries, mut period_ms) = (HashMap::new(), None);
    if format == input::Format::Native
        && let Ok(text) = fsutil::read_text(path)
        && let Ok(doc) = serde_json::from_str::<Value>(&text)
    {
        let collected = &doc["collected"];
        if let Some(sources) = collected["sources"].as_object() {
            for (metric, record) in sources {
                if let Some(q) = record["query"].as_str() {
                    queries.insert(metric.clone(), q.to_string());
                }
            }
        }
        let time = |v: &Value| v.as_str()?.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond());
        if let (Some(a), Some(b)) = (time(&collected["from"]), time(&collected["to"])) {
            period_ms = Some((a, b));
        }
    }
    Ok(Loaded { path: path.display().to_string(), values, sha256, queries, period_ms })
}

/// Warns, once per metric, of the drift metrics `baseline` has no value for (they go to the
/// engine without one, so they are never PASS), and of values not collected from production with
/// the same query.
pub fn warn_missing(wanted: &Wanted, baseline: &Loaded, ui: &Ui) {
    for (source, query) in &wanted.queries {
        if !baseline.values.contains_key(&source.metric) {
            ui.warn(&format!(
                "{}: {} has no value for it, so it cannot be judged (INCONCLUSIVE)",
                source.metric, baseline.path
            ));
            continue;
        }
        // A baseline is comparable only if it measured the same thing: production, through the
        // same query (a load-test number, or another unit, would make every window look fine or
        // every window breach).
        match baseline.queries.get(&source.metric) {
            None => ui.warn(&format!(
                "{}: the value in {} was not collected from production by `perfcert collect` (it records no \
                 query): a load-test number is not comparable with production traffic, and its unit may differ",
                source.metric, baseline.path
            )),
            Some(q) if q != query => ui.warn(&format!(
                "{}: the value in {} was collected with another query ({q}) than this one ({query}): check that \
                 both measure the same thing in the same unit",
                source.metric, baseline.path
            )),
            Some(_) => {}
        }
    }
}

/// Every drift metric's series over `[from, to)` with its baseline: the engine's input. A
/// metric the baseline lacks goes without one (see [`warn_missing`]).
pub fn series(
    client: &mut Client,
    wanted: &Wanted,
    baseline: &Loaded,
    from: i64,
    to: i64,
    ui: &Ui,
) -> Result<Vec<drift::Series>, Failure> {
    let mut series = vec![];
    for (source, query) in &wanted.queries {
        let samples = match &source.kind {
            SourceKind::Prometheus { endpoint, sigv4_region, .. } => {
                let auth = match sigv4_region {
                    Some(region) => Auth::SigV4 { region: region.clone() },
                    None => Auth::None,
                };
                fetch(client, &source.metric, endpoint, &auth, query, from, to, wanted.rules.step_ms)?
            }
            SourceKind::CloudWatch(_) => {
                let metric = source.cloudwatch_for(wanted.service.as_deref()).ok_or_else(|| {
                    Failure::input(anyhow!(
                        "sources.{}.cloudwatch.dimensions use $service; pass --service NAME",
                        source.metric
                    ))
                })?;
                // Datapoints sit on period boundaries: read from the boundary at or before `from`.
                let start = from.div_euclid(source.step_ms) * source.step_ms;
                let got = cloudwatch::client::fetch(client, &metric, source.step_ms, start, to).map_err(|e| {
                    let bad = e.is_bad_request();
                    let error = anyhow!("sources.{}: {e}", source.metric);
                    if bad { Failure::input(error) } else { Failure::external(error) }
                })?;
                if let Some(why) = &got.incomplete {
                    ui.warn(&format!("{}: {why}; its windows are judged on what came back", source.metric));
                }
                got.points.into_iter().filter(|&(t, _)| t >= from && t < to).collect()
            }
        };
        ui.detail(&format!("{}: {} samples from {}", source.metric, samples.len(), source.endpoint()));
        series.push(drift::Series {
            metric: source.metric.clone(),
            baseline: baseline.baseline(&source.metric),
            samples,
        });
    }
    Ok(series)
}

/// A source's values over `[from, to)` (the mean and sum of its samples, as `collect` takes
/// them: Prometheus at its step, CloudWatch's whole periods), or why it has none. A transport
/// or refused request is a failure, as in [`series`].
pub fn source_values(
    client: &mut Client,
    source: &Source,
    service: Option<&str>,
    from: i64,
    to: i64,
) -> Result<Result<cost::SourceValues, String>, Failure> {
    let need_service = || Failure::input(anyhow!("sources.{} uses $service; pass --service NAME", source.metric));
    let (series, window) = match &source.kind {
        SourceKind::Prometheus { endpoint, sigv4_region, .. } => {
            let query = source.query_for(service).ok_or_else(need_service)?;
            let auth = match sigv4_region {
                Some(region) => Auth::SigV4 { region: region.clone() },
                None => Auth::None,
            };
            let window = Window { start: from, end: to - source.step_ms, step: source.step_ms };
            if window.end < window.start {
                return Ok(Err(format!("the range is shorter than the step ({} s)", source.step_ms / 1000)));
            }
            let request = RangeQuery {
                endpoint,
                auth: &auth,
                query: &query,
                start: window.start,
                end: window.end,
                step: window.step,
            };
            let series = client.query_range(&request).map_err(|e| {
                let bad = e.is_bad_query();
                let error = anyhow!("sources.{}: {e}", source.metric);
                if bad { Failure::input(error) } else { Failure::external(error) }
            })?;
            (series, window)
        }
        SourceKind::CloudWatch(_) => {
            let metric = source.cloudwatch_for(service).ok_or_else(need_service)?;
            let Some((start, end)) = cloudwatch::whole_periods(from, to, source.step_ms) else {
                return Ok(Err(format!("the range holds no whole {} s period", source.step_ms / 1000)));
            };
            let got = cloudwatch::client::fetch(client, &metric, source.step_ms, start, end).map_err(|e| {
                let bad = e.is_bad_request();
                let error = anyhow!("sources.{}: {e}", source.metric);
                if bad { Failure::input(error) } else { Failure::external(error) }
            })?;
            if let Some(why) = got.incomplete {
                return Ok(Err(why));
            }
            if got.points.is_empty() {
                return Ok(Err(format!("no datapoints for {} in {}", metric.describe(), metric.region)));
            }
            let window = Window { start, end: end - source.step_ms, step: source.step_ms };
            (vec![PromSeries { samples: got.points, ..PromSeries::default() }], window)
        }
    };
    Ok(window_mean(&series, window)
        .map(|m| cost::SourceValues { mean: m.value, sum: m.value * m.samples as f64, samples: m.samples })
        .map_err(|why| why.0))
}

/// The samples of `query` at `from + k × step` for every such instant before `to`, in requests
/// of at most [`CHUNK`] samples. No series is no samples; several are an input error (the query
/// must aggregate them into one).
#[allow(clippy::too_many_arguments)]
fn fetch(
    client: &mut Client,
    metric: &str,
    endpoint: &str,
    auth: &Auth,
    query: &str,
    from: i64,
    to: i64,
    step: i64,
) -> Result<Vec<(i64, f64)>, Failure> {
    let last = from + (to - 1 - from) / step * step;
    let mut samples = vec![];
    let mut start = from;
    while start <= last {
        let end = last.min(start + (CHUNK - 1) * step);
        let request = RangeQuery { endpoint, auth, query, start, end, step };
        let got = client.query_range(&request).map_err(|e| {
            let bad_query = e.is_bad_query();
            let error = anyhow!("sources.{metric}: {e}");
            if bad_query { Failure::input(error) } else { Failure::external(error) }
        })?;
        match got.as_slice() {
            [] => {}
            [one] => samples.extend(one.samples.iter().copied().filter(|&(t, _)| t >= from && t < to)),
            many => {
                return Err(Failure::input(anyhow!(
                    "sources.{metric}: {endpoint}: query `{query}` returned {} series; aggregate them into one (e.g. \
                     avg(...) or sum(...))",
                    many.len()
                )));
            }
        }
        start = end + step;
    }
    Ok(samples)
}
