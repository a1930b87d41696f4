//! `perfcert collect`: the policy's `sources:` queried over a run's window (`--from`/`--to`, or
//! the times of a k6 / Locust output, [`crate::input::span`]), each metric's mean (or its
//! source's `aggregate:`) written as a native results file with where it came from
//! (`collected`).
//!
//! A metric without enough data is unavailable: a warning with the reason, and left out of the
//! file, never written as 0. A server's `warnings` (a partial response) are said on stderr, one
//! line per metric, and recorded with the metric. The queries go through
//! [`crate::prometheus::client`] (Prometheus, AMP) and [`crate::cloudwatch::client`]
//! (CloudWatch `GetMetricData`, the whole periods inside the window); the values are
//! [`crate::prometheus::window_value`]'s.

use anyhow::anyhow;
use serde_json::{Map, Value, json};

use crate::cli::CollectArgs;
use std::collections::HashMap;
use std::path::Path;

use crate::cloudwatch;
use crate::cost::{self, ItemCost, SourceValues};
use crate::drift_fetch;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::input::span;
use crate::input::{self, Classes};
use crate::numfmt;
use crate::pipeline;
use crate::policy::SourceKind;
use crate::prometheus::client::{Auth, Client, RangeQuery};
use crate::prometheus::{Series, Window, window_mean, window_value};
use crate::ui::Ui;

pub fn run(args: CollectArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let (from_time, to_time, run_span) = window(&args)?;
    let (from, to) = (from_time.as_millisecond(), to_time.as_millisecond());
    if to <= from {
        return Err(Failure::input(match &run_span {
            Some(span) => {
                anyhow!("{}: its times span no time ({}); expected a whole run", span.file.display(), span.how)
            }
            None => anyhow!("--to ({to_time}) must be after --from ({from_time})"),
        }));
    }
    let mut inputs = vec![args.thresholds.as_path()];
    inputs.extend(args.window_from.as_deref());
    inputs.extend(run_span.as_ref().map(|s| s.file.as_path()));
    fsutil::refuse_over_inputs(&args.output, &inputs, None).map_err(|e| Failure::input(anyhow!(e)))?;
    let policy = pipeline::load_policy(&args.thresholds)?;
    let policy_classes = policy.classes.clone();
    let file = args.thresholds.display();
    if policy.sources.is_empty() {
        return Err(Failure::input(anyhow!(
            "{file}: no `sources:` block; collect needs one naming, per metric, a Prometheus endpoint and a query \
             or a CloudWatch metric (see `perfcert init --output -`)"
        )));
    }
    let mut queries = Vec::new();
    for source in &policy.sources {
        let query = source.query_for(args.service.as_deref()).ok_or_else(|| {
            Failure::input(anyhow!("{file}: sources.{}.query uses $service; pass --service NAME", source.metric))
        })?;
        queries.push(query);
    }
    let mut client = Client::new().map_err(|e| Failure::external(anyhow!(e)))?;
    let mut metrics = Map::new();
    let mut provenance = Map::new();
    let mut unavailable = Map::new();
    // Each source's values over the window, or why it has none: the cost's usages.
    let mut values: HashMap<String, Result<SourceValues, String>> = HashMap::new();
    for (source, query) in policy.sources.iter().zip(&queries) {
        let mut record = Map::new();
        record.insert("endpoint".into(), json!(source.endpoint()));
        record.insert("query".into(), json!(query));
        record.insert("aggregate".into(), json!(source.aggregate.as_str()));
        // Said after a warning's reason, not recorded with it.
        let mut context = String::new();
        let measured = match &source.kind {
            SourceKind::Prometheus { endpoint, sigv4_region, .. } => {
                let auth = match sigv4_region {
                    Some(region) => Auth::SigV4 { region: region.clone() },
                    None => Auth::None,
                };
                // Start on a step boundary of the window itself: the samples are `from + k * step`.
                let window = Window { start: from, end: to, step: source.step_ms };
                let request = RangeQuery {
                    endpoint,
                    auth: &auth,
                    query,
                    start: window.start,
                    end: window.end,
                    step: window.step,
                };
                let answer = client
                    .query_range(&request)
                    .map_err(|e| drift_fetch::source_failure(&source.metric, e.is_bad_query(), e))?;
                record.insert("step_seconds".into(), json!(source.step_ms as f64 / 1000.0));
                if let Some(region) = sigv4_region {
                    record.insert("sigv4_region".into(), json!(region));
                }
                context = format!(" ({endpoint} `{query}`)");
                if !answer.warnings.is_empty() {
                    record.insert("warnings".into(), json!(answer.warnings));
                }
                if answer.partial {
                    // A partial response (a store or shard that did not answer) is no value: a
                    // mean of some of the samples could make a baseline look healthier than it was.
                    Err(drift_fetch::warned_text(endpoint, &answer.warnings))
                } else {
                    if !answer.warnings.is_empty() {
                        // Infos only (hints about the query): said, and kept.
                        ui.warn(&drift_fetch::server_warned(&source.metric, endpoint, &answer.warnings));
                    }
                    measure(&answer.series, window, source.aggregate)
                }
            }
            SourceKind::CloudWatch(_) => {
                let metric = source.cloudwatch_for(args.service.as_deref()).ok_or_else(|| {
                    Failure::input(anyhow!(
                        "{file}: sources.{}.cloudwatch.dimensions use $service; pass --service NAME",
                        source.metric
                    ))
                })?;
                record.insert("region".into(), json!(metric.region));
                record.insert("period_seconds".into(), json!(source.step_ms / 1000));
                match cloudwatch::whole_periods(from, to, source.step_ms) {
                    None => Err(format!(
                        "the window holds no whole {}s period of CloudWatch data (periods start on multiples of the \
                         period)",
                        source.step_ms / 1000
                    )),
                    Some((start, end)) => {
                        record.insert("periods_from".into(), json!(timestamp(start)));
                        record.insert("periods_to".into(), json!(timestamp(end)));
                        let got = cloudwatch::client::fetch(&mut client, &metric, source.step_ms, start, end)
                            .map_err(|e| drift_fetch::source_failure(&source.metric, e.is_bad_request(), e))?;
                        let window = Window { start, end: end - source.step_ms, step: source.step_ms };
                        match got.incomplete {
                            Some(why) => Err(why),
                            None if got.points.is_empty() => Err(format!(
                                "no datapoints: CloudWatch has no {query} in {} over the window (check the region, \
                                 namespace, metric name, dimensions and statistic)",
                                metric.region
                            )),
                            None => {
                                let series = Series { samples: got.points, ..Series::default() };
                                // Whole periods cover less than the run's window, while the
                                // requests count the whole run: a `per: sample` sum is scaled to
                                // the window (said in the cost's `from` and here).
                                let sum_scale = (to - from) as f64 / (end - start) as f64;
                                record.insert("usage_sum_scale".into(), json!(sum_scale));
                                measure(&[series], window, source.aggregate)
                                    .map(|(mean, usage)| (mean, usage.map(|v| SourceValues { sum_scale, ..v })))
                                    .map_err(|why| format!("{why} ({query})"))
                            }
                        }
                    }
                }
            }
        };
        match measured {
            Ok((mean, usage)) => {
                record.insert("samples".into(), json!(mean.samples));
                record.insert("expected".into(), json!(mean.expected));
                if mean.value < 0.0 {
                    let why = format!(
                        "the {} is negative ({}); a metric value is >= 0",
                        source.aggregate.as_str(),
                        mean.value
                    );
                    values.insert(source.metric.clone(), Err(why.clone()));
                    ui.warn(&format!("{}: unavailable: {why}", source.metric));
                    record.insert("unavailable".into(), json!(why));
                    unavailable.insert(source.metric.clone(), Value::Object(record));
                    continue;
                }
                ui.say(|out| {
                    writeln!(
                        out,
                        "{}: {} ({} of {} of {} samples)",
                        source.metric,
                        numfmt::num(mean.value),
                        source.aggregate.as_str(),
                        mean.samples,
                        mean.expected
                    )
                })?;
                metrics.insert(source.metric.clone(), json!(mean.value));
                provenance.insert(source.metric.clone(), Value::Object(record));
                values.insert(source.metric.clone(), usage);
            }
            Err(why) => {
                values.insert(source.metric.clone(), Err(why.clone()));
                ui.warn(&format!("{}: unavailable: {why}{context}", source.metric));
                record.insert("unavailable".into(), json!(why));
                unavailable.insert(source.metric.clone(), Value::Object(record));
            }
        }
    }
    let mut cost_record = None;
    if let Some(policy) = &policy.cost {
        let (requests, requests_from) = match (args.requests, &args.window_from) {
            (Some(n), _) => (Some(n), json!("--requests")),
            (None, Some(file)) => (requests_in(file, &policy_classes)?, json!(file.display().to_string())),
            (None, None) => (None, Value::Null),
        };
        if policy.items.iter().all(|i| i.price == 0.0) {
            ui.warn(&format!(
                "{}: every cost item's price is 0 in {file}, so the cost is 0 whatever is used; set the unit prices",
                policy.metric
            ));
        }
        let seconds = (to - from) as f64 / 1000.0;
        let lookup = |metric: &str| values.get(metric).cloned().unwrap_or_else(|| Err("not collected".into()));
        let mut record = Map::new();
        record.insert("currency".into(), json!(policy.currency));
        record.insert("window_seconds".into(), json!(seconds));
        record.insert("requests".into(), json!(requests));
        record.insert("requests_from".into(), requests_from);
        let item_json = |items: &[ItemCost]| -> Value {
            let mut all = Map::new();
            for i in items {
                all.insert(
                    i.name.clone(),
                    json!({"usage": i.usage, "unit": i.unit, "price": i.price, "cost": i.cost, "from": i.how}),
                );
            }
            Value::Object(all)
        };
        match cost::estimate(policy, seconds, requests, &lookup) {
            Ok(e) => {
                record.insert("items".into(), item_json(&e.items));
                record.insert("total".into(), json!(e.total));
                ui.say(|out| {
                    writeln!(
                        out,
                        "{}: {} {} ({} {} over {} requests)",
                        policy.metric,
                        numfmt::num(e.per_1000),
                        policy.currency,
                        numfmt::num(e.total),
                        policy.currency,
                        e.requests
                    )
                })?;
                metrics.insert(policy.metric.clone(), json!(e.per_1000));
                cost_record = Some(Value::Object(record));
            }
            Err(u) => {
                ui.warn(&format!("{}: unavailable: {}", policy.metric, u.why));
                record.insert("items".into(), item_json(&u.items));
                record.insert("unavailable".into(), json!(u.why));
                unavailable.insert(policy.metric.clone(), Value::Object(record));
            }
        }
    }
    if metrics.is_empty() {
        ui.warn(&format!("no metric could be collected from {from_time} to {to_time}; nothing written"));
        return Ok(ExitStatus::Inconclusive);
    }
    let mut doc = Map::new();
    if let Some(service) = &args.service {
        doc.insert("service".into(), json!(service));
    }
    if let Some(version) = &args.service_version {
        doc.insert("version".into(), json!(version));
    }
    doc.insert("date".into(), json!(from_time.to_string()));
    doc.insert("metrics".into(), Value::Object(metrics));
    let mut collected = Map::new();
    collected.insert("from".into(), json!(from_time.to_string()));
    collected.insert("to".into(), json!(to_time.to_string()));
    if let Some(span) = &run_span {
        collected.insert("window_from".into(), json!(span.file.display().to_string()));
        collected.insert("window_of".into(), json!(span.how));
    }
    collected.insert("at".into(), json!(jiff::Timestamp::now().to_string()));
    collected.insert("sources".into(), Value::Object(provenance));
    if let Some(cost) = cost_record {
        collected.insert("cost".into(), cost);
    }
    if !unavailable.is_empty() {
        collected.insert("unavailable".into(), Value::Object(unavailable));
    }
    doc.insert("collected".into(), Value::Object(collected));
    let mut text = serde_json::to_string_pretty(&Value::Object(doc)).map_err(|e| Failure::input(anyhow!(e)))?;
    text.push('\n');
    fsutil::write_atomic(&args.output, text.as_bytes())
        .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write", &args.output, &e))))?;
    ui.say(|out| writeln!(out, "Wrote {}", args.output.display()))?;
    Ok(ExitStatus::Pass)
}

/// The requests of a load test's output (any format perfcert reads: k6 summary or raw output,
/// Locust CSV, ...): the total behind its error rate, summed over its runs. `None` when the
/// file does not tell.
fn requests_in(file: &Path, classes: &Classes) -> Result<Option<u64>, Failure> {
    let format = input::detect_path(file).map_err(Failure::input)?;
    let runs =
        input::load_runs(file, format, classes, &std::sync::atomic::AtomicU64::new(0)).map_err(Failure::input)?;
    let counts: Vec<u64> =
        runs.iter().filter_map(|run| run.precision.values().find_map(|p| p.counts).map(|c| c.requests)).collect();
    Ok((!counts.is_empty() && counts.len() == runs.len()).then(|| counts.iter().sum()))
}

/// The window's value under `aggregate` (what the results file gets) and, for the cost's usages,
/// its mean and sum, whatever the aggregate (a max says nothing of how much was used). A partial
/// answer never gets here: it is unavailable before.
#[allow(clippy::type_complexity)]
fn measure(
    series: &[Series],
    window: Window,
    aggregate: crate::policy::Aggregate,
) -> Result<(crate::prometheus::Mean, Result<SourceValues, String>), String> {
    let value = window_value(series, window, aggregate).map_err(|why| why.0)?;
    let usage =
        window_mean(series, window).map(|m| SourceValues::of_mean(m.value, m.samples, m.expected)).map_err(|why| why.0);
    Ok((value, usage))
}

/// Unix milliseconds as RFC 3339 (for provenance).
fn timestamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_else(|_| ms.to_string())
}

/// `--from`/`--to`, or the run window of `--window-from` (to the millisecond, or the second
/// for outputs with whole-second times) with where it came from.
fn window(args: &CollectArgs) -> Result<(jiff::Timestamp, jiff::Timestamp, Option<span::RunSpan>), Failure> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        return Ok((from, to, None));
    }
    let Some(file) = &args.window_from else {
        return Err(Failure::input(anyhow!("give --from and --to, or --window-from FILE")));
    };
    let run = span::run_span(file).map_err(Failure::input)?;
    let at = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map_err(|e| Failure::input(anyhow!("{}: a time out of range: {e}", run.file.display())))
    };
    Ok((at(run.from_ms)?, at(run.to_ms)?, Some(run)))
}
