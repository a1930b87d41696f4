//! `perfcert collect`: the policy's `sources:` queried over a run's window (`--from`/`--to`, or
//! the times of a k6 / Locust output, [`crate::input::span`]), each metric's mean (or its
//! source's `aggregate:`) written as a native results file with where it came from
//! (`collected`).
//!
//! A metric without enough data is unavailable: a warning with the reason, and left out of the
//! file, never written as 0. A server's `warnings` (a partial response) are said on stderr, one
//! line per metric, and recorded with the metric. The queries go through
//! [`crate::prometheus::client`]; the values are [`crate::prometheus::window_value`]'s.

use anyhow::anyhow;
use serde_json::{Map, Value, json};

use crate::cli::CollectArgs;
use crate::drift_fetch;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::input::span;
use crate::numfmt;
use crate::pipeline;
use crate::prometheus::client::{Auth, Client, RangeQuery};
use crate::prometheus::{Window, window_value};
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
    let file = args.thresholds.display();
    if policy.sources.is_empty() {
        return Err(Failure::input(anyhow!(
            "{file}: no `sources:` block; collect needs one naming, per metric, a Prometheus endpoint and a query \
             (see `perfcert init --output -`)"
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
    for (source, query) in policy.sources.iter().zip(&queries) {
        let auth = match &source.sigv4_region {
            Some(region) => Auth::SigV4 { region: region.clone() },
            None => Auth::None,
        };
        // Start on a step boundary of the window itself: the samples are `from + k * step`.
        let window = Window { start: from, end: to, step: source.step_ms };
        let request = RangeQuery {
            endpoint: &source.prometheus,
            auth: &auth,
            query,
            start: window.start,
            end: window.end,
            step: window.step,
        };
        let answer = client.query_range(&request).map_err(|e| {
            let bad_query = e.is_bad_query();
            let error = anyhow!("sources.{}: {e}", source.metric);
            if bad_query { Failure::input(error) } else { Failure::external(error) }
        })?;
        let mut record = Map::new();
        record.insert("endpoint".into(), json!(source.prometheus));
        record.insert("query".into(), json!(query));
        record.insert("step_seconds".into(), json!(source.step_ms as f64 / 1000.0));
        if let Some(region) = &source.sigv4_region {
            record.insert("sigv4_region".into(), json!(region));
        }
        record.insert("aggregate".into(), json!(source.aggregate.as_str()));
        if !answer.warnings.is_empty() {
            // A partial response (a store or shard that did not answer): said, and kept.
            ui.warn(&drift_fetch::server_warned(&source.metric, &source.prometheus, &answer.warnings));
            record.insert("warnings".into(), json!(answer.warnings));
        }
        match window_value(&answer.series, window, source.aggregate) {
            Ok(mean) => {
                record.insert("samples".into(), json!(mean.samples));
                record.insert("expected".into(), json!(mean.expected));
                if mean.value < 0.0 {
                    let why = format!(
                        "the {} is negative ({}); a metric value is >= 0",
                        source.aggregate.as_str(),
                        mean.value
                    );
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
            }
            Err(why) => {
                ui.warn(&format!("{}: unavailable: {why} ({} `{query}`)", source.metric, source.prometheus));
                record.insert("unavailable".into(), json!(why.0));
                unavailable.insert(source.metric.clone(), Value::Object(record));
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
