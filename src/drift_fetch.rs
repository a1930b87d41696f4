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

/// `(unix milliseconds, value)` samples of one series.
type Samples = Vec<(i64, f64)>;

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

/// The drift metrics' baseline values, the file's sha256 (none for a time range), and, for a
/// file `perfcert collect` or `perfcert bake` wrote or a range, each metric's query and the
/// period it covers.
pub struct Loaded {
    /// The file as given, or `range FROM to TO`.
    pub path: String,
    pub values: indexmap::IndexMap<String, f64>,
    pub sha256: Option<String>,
    pub queries: HashMap<String, String>,
    pub period_ms: Option<(i64, i64)>,
    /// What the baseline is: a bake record, a file `perfcert collect` wrote, another results
    /// file, or a past range.
    pub kind: Kind,
    /// The service the file says it measured (a bake record's, a collected file's), if it says.
    pub service: Option<String>,
    /// Metrics the file has a value for that is no baseline, with why (a collected `aggregate:`
    /// other than mean, a partial answer over the baseline range): they go without one.
    pub refused: HashMap<String, String>,
}

/// Where a baseline came from: what it is checked against before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BakeRecord,
    Collected,
    Results,
    Range,
}

impl Loaded {
    /// `metric`'s baseline with its provenance, or `None` when the file has no value for it.
    pub fn baseline(&self, metric: &str) -> Option<Baseline> {
        self.values.get(metric).map(|&value| Baseline {
            value,
            reference: self.path.clone(),
            sha256: self.sha256.clone(),
            query: self.queries.get(metric).cloned(),
            period_ms: self.period_ms,
        })
    }
}

/// `--baseline FILE`: a bake record (`perf_verification.json`, [`load_bake_record`]) or any
/// results file compare reads (a metric's value is the mean over the file's runs).
pub fn load_baseline(path: &Path, key: Option<&Path>, classes: &input::Classes, ui: &Ui) -> Result<Loaded, Failure> {
    if let Some(record) = bake_record(path) {
        return load_bake_record(path, &record, key, ui);
    }
    if key.is_some() {
        return Err(Failure::input(anyhow!(
            "{}: --baseline-key checks a bake record (perf_verification.json), and this is not one",
            path.display()
        )));
    }
    let format = input::detect_path(path).map_err(Failure::input)?;
    let runs =
        input::load_runs(path, format, classes, &std::sync::atomic::AtomicU64::new(0)).map_err(Failure::input)?;
    if runs.len() > 1 {
        ui.detail(&format!("{}: {} runs; each metric's baseline is their mean", path.display(), runs.len()));
    }
    let side = Side { runs: runs.into_iter().map(|results| Run { files: vec![], results }).collect() };
    let values = side.summary().metrics;
    let sha256 = Some(pipeline::sha256_of(path)?);
    let mut values = values;
    let (mut queries, mut period_ms, mut kind, mut service) = (HashMap::new(), None, Kind::Results, None);
    let mut refused = HashMap::new();
    if format == input::Format::Native
        && let Ok(text) = fsutil::read_text(path)
        && let Ok(doc) = serde_json::from_str::<Value>(&text)
    {
        let collected = &doc["collected"];
        // Any results file may say whose it is; a baseline of another service is refused.
        service = doc["service"].as_str().map(str::to_string);
        if collected.is_object() {
            kind = Kind::Collected;
        }
        if let Some(sources) = collected["sources"].as_object() {
            for (metric, record) in sources {
                if let Some(q) = record["query"].as_str() {
                    queries.insert(metric.clone(), q.to_string());
                }
                // Drift compares window means with the baseline: only a mean is one.
                if let Some(aggregate) = record["aggregate"].as_str().filter(|a| *a != "mean")
                    && values.shift_remove(metric).is_some()
                {
                    refused.insert(
                        metric.clone(),
                        format!(
                            "no baseline: {} holds the {aggregate} of the collected window (collected.sources.\
                             {metric}.aggregate), and drift compares window means with a mean; collect it with \
                             aggregate: mean",
                            path.display()
                        ),
                    );
                }
            }
        }
        let time = |v: &Value| v.as_str()?.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond());
        match (time(&collected["from"]), time(&collected["to"])) {
            (Some(a), Some(b)) => period_ms = Some((a, b)),
            // `perfcert collect` always writes its window: without it, no one can tell whether the
            // baseline overlaps what is judged.
            _ if kind == Kind::Collected => {
                return Err(Failure::input(anyhow!(
                    "{}: collected.from / collected.to: expected the RFC 3339 window `perfcert collect` writes \
                     (a baseline without its period could overlap the range judged)",
                    path.display()
                )));
            }
            _ => {}
        }
    }
    Ok(Loaded { path: path.display().to_string(), values, sha256, queries, period_ms, kind, service, refused })
}

/// The document of a bake record (what `perfcert bake` writes), or `None` for any other file.
fn bake_record(path: &Path) -> Option<Value> {
    // A record is a few KiB of JSON: a large file (a k6 raw output) is not read twice for this.
    if std::fs::metadata(path).ok()?.len() > 16 << 20 {
        return None;
    }
    let text = fsutil::read_text(path).ok()?;
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let doc: Value = serde_json::from_str(&text).ok()?;
    let o = doc.as_object()?;
    ["deployed_at", "drift", "slo", "sources", "status"].iter().all(|k| o.contains_key(*k)).then_some(doc)
}

/// A bake record as the baseline: each drift metric's mean over the bake's valid windows
/// (weighted by their samples: the mean of the samples), with the record's query for it and its
/// window as the period. Only a PASS record is a baseline. With `key`, the record's bundle
/// (`NAME.sigstore.json` beside `NAME.json`, as the archive keeps them) must verify with it and
/// sign the record's bytes; without, a warning says it is not checked.
pub fn load_bake_record(path: &Path, record: &Value, key: Option<&Path>, ui: &Ui) -> Result<Loaded, Failure> {
    let file = path.display();
    let sha256 = pipeline::sha256_of(path)?;
    match key {
        Some(key) => {
            let bundle_path = path.with_extension("sigstore.json");
            let pem = std::fs::read_to_string(key).map_err(|e| Failure::input(anyhow!(fsutil::at(key, &e))))?;
            let bundle = std::fs::read_to_string(&bundle_path).map_err(|e| {
                Failure::input(anyhow!(
                    "{}; --baseline-key needs the record's bundle beside it (as the archive keeps them)",
                    fsutil::at(&bundle_path, &e)
                ))
            })?;
            let statement = crate::signing::verify_other_with_key(&pem, &bundle, crate::bake::PREDICATE_TYPE)
                .map_err(|e| Failure::not_authentic(anyhow!("{}: {e}", bundle_path.display())))?;
            if !statement.signs_sha256(&sha256) {
                return Err(Failure::not_authentic(anyhow!(
                    "{}: does not sign {file} (sha256 {sha256}): the record was changed or is another one",
                    bundle_path.display()
                )));
            }
            ui.detail(&format!("{file}: signed by {} ({})", key.display(), bundle_path.display()));
        }
        None => ui.warn(&format!(
            "{file}: a bake record used as the baseline without checking its signature; pass --baseline-key PUB \
             (key-signed), or check it first with `perfcert verify {file} --certificate-identity ... \
             --certificate-oidc-issuer ...` (keyless)"
        )),
    }
    let status = record["status"].as_str().unwrap_or("");
    if status != "PASS" {
        return Err(Failure::input(anyhow!(
            "{file}: the bake record's status is {status}; only a healthy (PASS) release's record is a baseline"
        )));
    }
    let mut queries = HashMap::new();
    for s in record["sources"].as_array().into_iter().flatten() {
        if let (Some(m), Some(q)) = (s["metric"].as_str(), s["query"].as_str()) {
            queries.insert(m.to_string(), q.to_string());
        }
    }
    let mut values = indexmap::IndexMap::new();
    for m in record["drift"]["metrics"].as_array().into_iter().flatten() {
        let Some(name) = m["name"].as_str() else { continue };
        let (mut sum, mut n) = (0.0, 0u64);
        for w in m["windows"].as_array().into_iter().flatten() {
            if let (Some(mean), Some(samples)) = (w["mean"].as_f64(), w["samples"].as_u64())
                && mean.is_finite()
                && samples > 0
            {
                sum += mean * samples as f64;
                n += samples;
            }
        }
        let value = sum / n as f64;
        if n > 0 && value.is_finite() {
            values.insert(name.to_string(), value);
        }
    }
    let time = |v: &Value| v.as_str()?.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond());
    let window = &record["window"];
    let period_ms = time(&window["from"]).zip(time(&window["judged_to"]));
    Ok(Loaded {
        path: path.display().to_string(),
        values,
        sha256: Some(sha256),
        queries,
        period_ms,
        kind: Kind::BakeRecord,
        service: record["service"].as_str().map(str::to_string),
        refused: HashMap::new(),
    })
}

/// `--baseline-from/--baseline-to`: each drift metric's mean over a past range, from the same
/// query at the drift step (the finite samples; fewer than half the expected ones gives no value,
/// with a warning, so the metric is judged INCONCLUSIVE).
pub fn range_baseline(
    client: &mut Client,
    wanted: &Wanted,
    from: i64,
    to: i64,
    ui: &Ui,
) -> Result<(Loaded, Vec<String>), Failure> {
    let step = wanted.rules.step_ms;
    let expected = ((to - from) + step - 1) / step;
    let mut values = indexmap::IndexMap::new();
    let mut queries = HashMap::new();
    let mut warned = vec![];
    let mut refused = HashMap::new();
    let range = format!("range {} to {}", crate::drift_report::time(from), crate::drift_report::time(to));
    for (source, query) in &wanted.queries {
        let (samples, warning) = samples_of(client, wanted, source, query, from, to)?;
        queries.insert(source.metric.clone(), query.clone());
        // A partial answer over the baseline range is no baseline: its mean is of some samples.
        match warning {
            Some((line, true)) => {
                ui.warn(&format!("{line}; over the baseline {range}, so it has no baseline"));
                refused
                    .insert(source.metric.clone(), format!("no baseline: a partial answer over the baseline {range}"));
                warned.push(line);
                continue;
            }
            Some((line, false)) => warned.push(line),
            None => {}
        }
        let mut seen = std::collections::BTreeMap::new();
        for (t, v) in samples {
            if v.is_finite() {
                seen.insert(t, v);
            }
        }
        let n = seen.len() as i64;
        let mean = seen.values().sum::<f64>() / n as f64;
        if n == 0 || 2 * n < expected || !mean.is_finite() {
            ui.warn(&format!(
                "{}: the baseline {range} has {n} of {expected} expected samples (fewer than half); it has no value",
                source.metric
            ));
            continue;
        }
        ui.detail(&format!("{}: baseline {} (mean of {n} samples, {range})", source.metric, crate::numfmt::num(mean)));
        values.insert(source.metric.clone(), mean);
    }
    let period_ms = Some((from, to));
    Ok((
        Loaded { path: range, values, sha256: None, queries, period_ms, kind: Kind::Range, service: None, refused },
        warned,
    ))
}

/// Checks `baseline` before anything is judged against it, and warns, once per metric, of
/// what it lacks. Refused (an input error): a baseline period that ends after `before_ms` (the
/// range judged would overlap it, or be judged against what came after it: a regression would
/// pass), a bake record of another service or with another query for a drift metric, a collected
/// file of another service. Warned of: a metric it has no value for (it goes to the engine
/// without one, so it is never PASS), and a value not collected from production with the same
/// query.
pub fn check_baseline(
    wanted: &Wanted,
    baseline: &Loaded,
    before_ms: i64,
    before: &str,
    ui: &Ui,
) -> Result<(), Failure> {
    let file = &baseline.path;
    if let Some((_, end)) = baseline.period_ms
        && end > before_ms
    {
        let what = match baseline.kind {
            Kind::BakeRecord => "the bake record's window",
            Kind::Collected => "the collected window (collected.to)",
            Kind::Results | Kind::Range => "the baseline period",
        };
        return Err(Failure::input(anyhow!(
            "{file}: {what} ends at {}, after {before} ({}); expected a baseline that ended before the range judged \
             (an overlapping or later baseline hides a regression)",
            crate::drift_report::time(end),
            crate::drift_report::time(before_ms)
        )));
    }
    if let Some(theirs) = &baseline.service
        && wanted.service.as_deref() != Some(theirs.as_str())
    {
        let what = match baseline.kind {
            Kind::BakeRecord => "a bake record",
            Kind::Collected => "collected",
            Kind::Results | Kind::Range => "results",
        };
        return Err(Failure::input(match &wanted.service {
            Some(ours) => anyhow!(
                "{file}: is {what} of service `{theirs}`, and --service is `{ours}`; expected a baseline of the \
                 same service"
            ),
            None => anyhow!("{file}: is {what} of service `{theirs}`; pass --service {theirs} to judge that service"),
        }));
    }
    for (source, query) in &wanted.queries {
        if let Some(why) = baseline.refused.get(&source.metric) {
            ui.warn(&format!("{}: {why} (INCONCLUSIVE)", source.metric));
            continue;
        }
        if !baseline.values.contains_key(&source.metric) {
            ui.warn(&format!("{}: {file} has no value for it, so it cannot be judged (INCONCLUSIVE)", source.metric));
            continue;
        }
        // A baseline is comparable only if it measured the same thing: production, through the
        // same query (a load-test number, or another unit, would make every window look fine or
        // every window breach).
        match baseline.queries.get(&source.metric) {
            None if baseline.kind == Kind::BakeRecord => {
                return Err(Failure::input(anyhow!(
                    "{file}: the bake record has no query for `{}` (its sources[]); expected this policy's \
                     sources.{}.query ({query})",
                    source.metric,
                    source.metric
                )));
            }
            None => ui.warn(&format!(
                "{}: the value in {file} was not collected from production by `perfcert collect` (it records no \
                 query): a load-test number is not comparable with production traffic, and its unit may differ",
                source.metric
            )),
            Some(q) if q != query => {
                // Another query measured something else (another service, unit or selector): a
                // baseline of it can make every window look fine.
                let what = if baseline.kind == Kind::BakeRecord { "the bake record" } else { "it" };
                return Err(Failure::input(anyhow!(
                    "{file}: {what} measured `{}` with the query {q}, and this policy's sources.{}.query is \
                     {query}; expected the same query (collect the baseline again with this policy, or use \
                     --baseline-from/--baseline-to)",
                    source.metric,
                    source.metric
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Every drift metric's series over `[from, to)` with its baseline: the engine's input. A
/// metric the baseline lacks goes without one (see [`check_baseline`]). Also, one line per metric
/// whose server answered with `warnings` / `infos` (a partial response): for the report's
/// warnings, never dropped.
pub fn series(
    client: &mut Client,
    wanted: &Wanted,
    baseline: &Loaded,
    from: i64,
    to: i64,
    ui: &Ui,
) -> Result<(Vec<drift::Series>, Vec<String>), Failure> {
    let mut series = vec![];
    let mut warned = vec![];
    for (source, query) in &wanted.queries {
        let (samples, warning) = samples_of(client, wanted, source, query, from, to)?;
        ui.detail(&format!("{}: {} samples from {}", source.metric, samples.len(), source.endpoint()));
        // A partial answer never judges a metric healthy (a breach in what came back stands).
        let mut doubts: Vec<String> = warning.iter().filter(|w| w.1).map(|w| w.0.clone()).collect();
        doubts.extend(baseline.refused.get(&source.metric).cloned());
        warned.extend(warning.map(|w| w.0));
        series.push(drift::Series {
            metric: source.metric.clone(),
            baseline: baseline.baseline(&source.metric),
            samples,
            doubts,
        });
    }
    Ok((series, warned))
}

/// One drift metric's samples over `[from, to)` at the drift step, from its source, with the line
/// saying what its server warned of, if it did, and whether that makes the answer partial.
fn samples_of(
    client: &mut Client,
    wanted: &Wanted,
    source: &Source,
    query: &str,
    from: i64,
    to: i64,
) -> Result<(Samples, Option<(String, bool)>), Failure> {
    let mut warned = None;
    let samples = match &source.kind {
        SourceKind::Prometheus { endpoint, sigv4_region, .. } => {
            let auth = match sigv4_region {
                Some(region) => Auth::SigV4 { region: region.clone() },
                None => Auth::None,
            };
            let (samples, warnings, partial) =
                fetch(client, &source.metric, endpoint, &auth, query, from, to, wanted.rules.step_ms)?;
            if !warnings.is_empty() {
                warned = Some((server_warned(&source.metric, endpoint, &warnings), partial));
            }
            samples
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
            let got = cloudwatch::client::fetch(client, &metric, source.step_ms, start, to)
                .map_err(|e| source_failure(&source.metric, e.is_bad_request(), e))?;
            if let Some(why) = &got.incomplete {
                warned = Some((format!("{}: {why} (the data may be partial)", source.metric), true));
            }
            got.points.into_iter().filter(|&(t, _)| t >= from && t < to).collect()
        }
    };
    Ok((samples, warned))
}

/// A source's failed request as the exit code wants it: a request the server refused as written
/// (`bad`: a query or parameter mistake in the policy) is an input error, anything else external.
pub fn source_failure(metric: &str, bad: bool, e: impl std::fmt::Display) -> Failure {
    let error = anyhow!("sources.{metric}: {e}");
    if bad { Failure::input(error) } else { Failure::external(error) }
}

/// The one line that says what a metric's server warned of (its warnings deduplicated, in order).
pub fn server_warned(metric: &str, endpoint: &str, warnings: &[String]) -> String {
    format!("{metric}: {}", warned_text(endpoint, warnings))
}

/// What `endpoint` warned of, without the metric: `ENDPOINT answered with warnings (the data may
/// be partial): W1; W2` (repeats removed, in order).
pub fn warned_text(endpoint: &str, warnings: &[String]) -> String {
    let mut unique: Vec<&str> = vec![];
    for w in warnings {
        if !unique.contains(&w.as_str()) {
            unique.push(w);
        }
    }
    format!("{endpoint} answered with warnings (the data may be partial): {}", unique.join("; "))
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
            let answer =
                client.query_range(&request).map_err(|e| source_failure(&source.metric, e.is_bad_query(), e))?;
            // A partial answer under-counts usage, which would make a cost look lower than it is.
            if answer.partial {
                return Ok(Err(server_warned(&source.metric, endpoint, &answer.warnings)));
            }
            (answer.series, window)
        }
        SourceKind::CloudWatch(_) => {
            let metric = source.cloudwatch_for(service).ok_or_else(need_service)?;
            let Some((start, end)) = cloudwatch::whole_periods(from, to, source.step_ms) else {
                return Ok(Err(format!("the range holds no whole {} s period", source.step_ms / 1000)));
            };
            let got = cloudwatch::client::fetch(client, &metric, source.step_ms, start, end)
                .map_err(|e| source_failure(&source.metric, e.is_bad_request(), e))?;
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
        .map(|m| cost::SourceValues::of_mean(m.value, m.samples, m.expected))
        .map_err(|why| why.0))
}

/// The samples of `query` at `from + k × step` for every such instant before `to`, in requests
/// of at most [`CHUNK`] samples, with the server's notes and whether it said the answer may be partial. No series is no samples; several are an input error (the query
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
) -> Result<(Samples, Vec<String>, bool), Failure> {
    let last = from + (to - 1 - from) / step * step;
    let mut samples = vec![];
    let mut warnings = vec![];
    let mut partial = false;
    let mut start = from;
    while start <= last {
        let end = last.min(start + (CHUNK - 1) * step);
        let request = RangeQuery { endpoint, auth, query, start, end, step };
        let got = client.query_range(&request).map_err(|e| source_failure(metric, e.is_bad_query(), e))?;
        warnings.extend(got.warnings);
        partial |= got.partial;
        match got.series.as_slice() {
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
    Ok((samples, warnings, partial))
}
