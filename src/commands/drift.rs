//! `perfcert drift`: each metric of the policy's `drift:` block fetched from its `sources:` entry
//! over `[--from, --to)` at the drift step, judged by [`crate::drift::evaluate`] against its value
//! in `--baseline`, rendered by [`crate::drift_report`], and published on a GitHub runner. The
//! exit code is the evaluation's ([`crate::drift::Status::exit`]).
//!
//! Nothing here decides: a metric the baseline lacks goes to the engine without one (so it is
//! never PASS), and a query without data gives it no samples (NODATA windows, never 0).

use std::path::Path;

use anyhow::anyhow;
use serde_json::Value;

use crate::cli::DriftArgs;
use crate::drift::{self, Baseline, DriftResult, Inputs, Status};
use crate::drift_report::{self, Format};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::input;
use crate::model::{Run, Side};
use crate::pipeline;
use crate::policy::Source;
use crate::prometheus::client::{Auth, Client, RangeQuery};
use crate::ui::Ui;

/// Most samples one `query_range` asks for: Prometheus refuses more than 11,000 per series.
const CHUNK: i64 = 10_000;

pub fn run(args: DriftArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let (from, to) = (args.from.as_millisecond(), args.to.as_millisecond());
    if to <= from {
        return Err(Failure::input(anyhow!("--to ({}) must be after --from ({})", args.to, args.from)));
    }
    check_output(&args)?;
    let policy = pipeline::load_policy(&args.thresholds)?;
    let file = args.thresholds.display();
    let rules = policy.drift.as_ref().ok_or_else(|| {
        Failure::input(anyhow!(
            "{file}: no `drift:` block; drift needs one naming the metrics to watch (see docs/drift.md)"
        ))
    })?;
    if (i128::from(to) - i128::from(from)) / i128::from(rules.window_ms) > i128::from(drift::MAX_WINDOWS) {
        return Err(Failure::input(anyhow!(
            "--from {} to --to {} holds more than {} windows of {}; judge a shorter range",
            args.from,
            args.to,
            drift::MAX_WINDOWS,
            drift_report::duration(rules.window_ms)
        )));
    }
    // Every source and query first: a policy mistake is reported before any request.
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
    let mut wanted: Vec<(&Source, String)> = vec![];
    for m in &rules.metrics {
        let source = policy.sources.iter().find(|s| s.metric == m.name).expect("checked above");
        let query = source.query_for(args.service.as_deref()).ok_or_else(|| {
            Failure::input(anyhow!("{file}: sources.{}.query uses $service; pass --service NAME", source.metric))
        })?;
        wanted.push((source, query));
    }
    let baseline = load_baseline(&args.baseline, &policy.classes, ui)?;

    let mut client = Client::new().map_err(|e| Failure::external(anyhow!(e)))?;
    let mut series = vec![];
    for (source, query) in &wanted {
        let samples = fetch(&mut client, source, query, from, to, rules.step_ms)?;
        ui.detail(&format!("{}: {} samples from {}", source.metric, samples.len(), source.prometheus));
        let value = baseline.values.get(&source.metric);
        if value.is_none() {
            ui.warn(&format!(
                "{}: {} has no value for it, so it cannot be judged (INCONCLUSIVE)",
                source.metric,
                args.baseline.display()
            ));
        }
        let base = value.map(|&value| Baseline {
            value,
            reference: args.baseline.display().to_string(),
            sha256: Some(baseline.sha256.clone()),
            query: baseline.queries.get(&source.metric).cloned(),
            period_ms: baseline.period_ms,
        });
        series.push(drift::Series { metric: source.metric.clone(), baseline: base, samples });
    }
    let result = drift::evaluate(rules, &Inputs { from_ms: from, to_ms: to, series });

    let mut rendered = vec![];
    args.format.renderer().render(&result, &mut rendered).expect("writing to memory cannot fail");
    match &args.output {
        Some(path) => {
            fsutil::write_atomic(path, &rendered)
                .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write the report", path, &e))))?;
            ui.detail(&format!("wrote {} (report)", path.display()));
        }
        None if ui.quiet() && args.format == Format::Table => {}
        None => ui.output(|out| out.write_all(&rendered))?,
    }
    if args.output.is_some() || args.format != Format::Table {
        // The table shows these; other formats carry them inside, so repeat them for the log.
        for w in &result.warnings {
            ui.warn(w);
        }
        ui.note(&headline(&result));
    }
    publish(ui, &result, &args);
    Ok(result.status.exit())
}

/// The drift metrics' baseline values, the file's sha256, and, for a file `perfcert collect`
/// wrote, each metric's query and the period it covers.
struct Loaded {
    values: indexmap::IndexMap<String, f64>,
    sha256: String,
    queries: std::collections::HashMap<String, String>,
    period_ms: Option<(i64, i64)>,
}

fn load_baseline(path: &Path, classes: &input::Classes, ui: &Ui) -> Result<Loaded, Failure> {
    let format = input::detect_path(path).map_err(Failure::input)?;
    let runs =
        input::load_runs(path, format, classes, &std::sync::atomic::AtomicU64::new(0)).map_err(Failure::input)?;
    if runs.len() > 1 {
        ui.detail(&format!("{}: {} runs; each metric's baseline is their mean", path.display(), runs.len()));
    }
    let side = Side { runs: runs.into_iter().map(|results| Run { files: vec![], results }).collect() };
    let values = side.summary().metrics;
    let sha256 = pipeline::sha256_of(path)?;
    let (mut queries, mut period_ms) = (std::collections::HashMap::new(), None);
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
    Ok(Loaded { values, sha256, queries, period_ms })
}

/// The samples of `query` at `from + k × step` for every such instant before `to`, in requests
/// of at most [`CHUNK`] samples. No series is no samples; several are an input error (the query
/// must aggregate them into one).
fn fetch(
    client: &mut Client,
    source: &Source,
    query: &str,
    from: i64,
    to: i64,
    step: i64,
) -> Result<Vec<(i64, f64)>, Failure> {
    let auth = match &source.sigv4_region {
        Some(region) => Auth::SigV4 { region: region.clone() },
        None => Auth::None,
    };
    let last = from + (to - 1 - from) / step * step;
    let mut samples = vec![];
    let mut start = from;
    while start <= last {
        let end = last.min(start + (CHUNK - 1) * step);
        let request = RangeQuery { endpoint: &source.prometheus, auth: &auth, query, start, end, step };
        let got = client.query_range(&request).map_err(|e| {
            let bad_query = e.is_bad_query();
            let error = anyhow!("sources.{}: {e}", source.metric);
            if bad_query { Failure::input(error) } else { Failure::external(error) }
        })?;
        match got.as_slice() {
            [] => {}
            [one] => samples.extend(one.samples.iter().copied().filter(|&(t, _)| t >= from && t < to)),
            many => {
                return Err(Failure::input(anyhow!(
                    "sources.{}: {}: query `{query}` returned {} series; aggregate them into one (e.g. avg(...) or \
                     sum(...))",
                    source.metric,
                    source.prometheus,
                    many.len()
                )));
            }
        }
        start = end + step;
    }
    Ok(samples)
}

/// Refuses an `--output` that would replace the baseline or the policy.
fn check_output(args: &DriftArgs) -> Result<(), Failure> {
    let Some(out) = &args.output else { return Ok(()) };
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    for input in [&args.baseline, &args.thresholds] {
        if same(out, input) {
            return Err(Failure::input(anyhow!(
                "{}: is an input of this evaluation; refusing to write the report over it",
                input.display()
            )));
        }
    }
    Ok(())
}

/// One line for the log: the status and what caused it.
fn headline(r: &DriftResult) -> String {
    let mut line = format!("drift: {}", r.status.as_str());
    if let Some(rb) = r.rollback.as_ref().filter(|rb| rb.flag) {
        line.push_str(&format!(
            " ({} above x{} baseline since {})",
            rb.metric,
            crate::numfmt::num(rb.factor),
            rb.since_ms.map(drift_report::time).unwrap_or_default()
        ));
    }
    let not_pass: Vec<String> = r
        .metrics
        .iter()
        .filter(|m| m.status != Status::Pass)
        .map(|m| format!("{} {}{}", m.name, m.status.as_str(), if m.ticket { " (ticket)" } else { "" }))
        .collect();
    if !not_pass.is_empty() {
        line.push_str(&format!(": {}", not_pass.join(", ")));
    }
    line
}

/// On a GitHub runner: annotations, the Markdown report in the step summary, and step outputs
/// (`status`, `tickets`, `rollback`, `report-json` / `report-markdown` when written).
fn publish(ui: &Ui, r: &DriftResult, args: &DriftArgs) {
    let Some(gh) = &ui.github else { return };
    gh.annotate(&drift_report::annotations(r));
    let mut markdown = vec![];
    Format::Markdown.renderer().render(r, &mut markdown).expect("writing to memory cannot fail");
    let mut markdown = String::from_utf8(markdown).expect("reports are UTF-8");
    markdown.push('\n');
    gh.summary(ui, &markdown);
    let tickets: Vec<&str> = r.metrics.iter().filter(|m| m.ticket).map(|m| m.name.as_str()).collect();
    let mut outputs = vec![
        ("status", r.status.as_str().to_string()),
        ("summary", headline(r)),
        ("tickets", tickets.join(",")),
        ("rollback", r.rollback.as_ref().is_some_and(|rb| rb.flag).to_string()),
    ];
    if let Some(path) = &args.output {
        match args.format {
            Format::Json => outputs.push(("report-json", path.display().to_string())),
            Format::Markdown => outputs.push(("report-markdown", path.display().to_string())),
            Format::Table => {}
        }
    }
    gh.outputs(ui, &outputs);
}
