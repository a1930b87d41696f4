//! `perfcert drift`: each metric of the policy's `drift:` block fetched from its `sources:` entry
//! over `[--from, --to)` at the drift step, judged by [`crate::drift::evaluate`] against its value
//! in `--baseline`, rendered by [`crate::drift_report`], and published on a GitHub runner. The
//! exit code is the evaluation's ([`crate::drift::Status::exit`]).
//!
//! Nothing here decides: a metric the baseline lacks goes to the engine without one (so it is
//! never PASS), and a query without data gives it no samples (NODATA windows, never 0).

use std::path::Path;

use anyhow::anyhow;

use crate::cli::DriftArgs;
use crate::cost;
use crate::cost_explorer;
use crate::drift::{self, DriftResult, Inputs, Status};
use crate::drift_fetch;
use crate::drift_report::{self, Format};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::numfmt;
use crate::pipeline;
use crate::policy::{CostPolicy, ExplorerFilter, Policy, Usage};
use crate::prometheus::client::Client;
use crate::ui::Ui;

pub fn run(args: DriftArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let (from, to) = (args.from.as_millisecond(), args.to.as_millisecond());
    if to <= from {
        return Err(Failure::input(anyhow!("--to ({}) must be after --from ({})", args.to, args.from)));
    }
    check_output(&args)?;
    let policy = pipeline::load_policy(&args.thresholds)?;
    let wanted = drift_fetch::wanted(&policy, &args.thresholds, args.service.as_deref())?;
    let rules = wanted.rules;
    if (i128::from(to) - i128::from(from)) / i128::from(rules.window_ms) > i128::from(drift::MAX_WINDOWS) {
        return Err(Failure::input(anyhow!(
            "--from {} to --to {} holds more than {} windows of {}; judge a shorter range",
            args.from,
            args.to,
            drift::MAX_WINDOWS,
            drift_report::duration(rules.window_ms)
        )));
    }
    let explorer = match (&policy.cost, args.cost_explorer) {
        (_, false) => None,
        (Some(cost), true) if cost.explorer.is_some() => Some(cost),
        _ => {
            return Err(Failure::input(anyhow!(
                "{}: --cost-explorer needs a cost.explorer block (the service's filter and the requests' source)",
                args.thresholds.display()
            )));
        }
    };
    let mut client = Client::new().map_err(|e| Failure::external(anyhow!(e)))?;
    let mut server_warnings = vec![];
    let baseline = match (&args.baseline, args.baseline_from, args.baseline_to) {
        (Some(file), _, _) => drift_fetch::load_baseline(file, args.baseline_key.as_deref(), &policy.classes, ui)?,
        (None, Some(bf), Some(bt)) => {
            let (bf, bt) = (bf.as_millisecond(), bt.as_millisecond());
            if bt <= bf {
                return Err(Failure::input(anyhow!(
                    "--baseline-to ({}) must be after --baseline-from ({})",
                    args.baseline_to.expect("given"),
                    args.baseline_from.expect("given")
                )));
            }
            if bt > from {
                return Err(Failure::input(anyhow!(
                    "--baseline-to ({}) is after --from ({}); expected a baseline range that ended before the range \
                     judged (an overlapping or later baseline hides a regression)",
                    args.baseline_to.expect("given"),
                    args.from
                )));
            }
            let (loaded, warned) = drift_fetch::range_baseline(&mut client, &wanted, bf, bt, ui)?;
            server_warnings.extend(warned);
            loaded
        }
        _ => return Err(Failure::input(anyhow!("give --baseline FILE, or --baseline-from and --baseline-to"))),
    };
    drift_fetch::check_baseline(&wanted, &baseline, from, "--from", ui)?;
    let (series, warned) = drift_fetch::series(&mut client, &wanted, &baseline, from, to, ui)?;
    server_warnings.extend(warned);
    let mut result = drift::evaluate(rules, &Inputs { from_ms: from, to_ms: to, series });
    result.service = wanted.service.clone();
    // A partial response is said in the report (JSON `warnings`), never dropped.
    result.warnings.extend(server_warnings);

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
    if let Some(cost) = explorer {
        reconcile(&mut client, cost, &policy, &baseline, &args, ui)?;
    }
    publish(ui, &result, &args);
    notify(ui, &result, &args);
    Ok(result.status.exit())
}

/// `--notify`: the JSON report posted (and, on a ticket or rollback, filed); the Jira marker
/// goes beside `--output` when that is the JSON report. Never the exit code.
fn notify(ui: &Ui, r: &DriftResult, args: &DriftArgs) {
    let to: crate::options::NotifyTo = crate::options::NotifyTo {
        channels: crate::options::channels(&args.notify.notify),
        jira_project: args.notify.jira_project.clone(),
    };
    if to.channels.is_empty() {
        return;
    }
    let mut json = vec![];
    Format::Json.renderer().render(r, &mut json).expect("writing to memory cannot fail");
    let report: serde_json::Value = serde_json::from_slice(&json).expect("the JSON report parses");
    let document = args.output.as_deref().filter(|_| args.format == Format::Json);
    // Beside a written JSON report, its digest is the file's (the same bytes), so `notify
    // --drift-report` later finds the same ticket.
    let sha256 = crate::signing::sha256_hex(&json);
    match crate::notify::Outcome::of_drift(&report, &sha256, args.service.as_deref()) {
        Ok(outcome) => {
            pipeline::notify(ui, outcome, document, &to, true);
        }
        Err(e) => ui.warn(&format!("--notify: {e}")),
    }
}

/// `--cost-explorer`: the actual cost per 1000 requests of the days the range touches, said
/// beside the baseline's estimate (a warning when they differ by more than the tolerance, or
/// when either side is unavailable). It does not change the exit code: drift judges health.
fn reconcile(
    client: &mut Client,
    cost: &CostPolicy,
    policy: &Policy,
    baseline: &drift_fetch::Loaded,
    args: &DriftArgs,
    ui: &Ui,
) -> Result<(), Failure> {
    let Some(explorer) = &cost.explorer else { return Ok(()) };
    let (start, end) = cost_explorer::days(args.from.as_millisecond(), args.to.as_millisecond());
    let day =
        |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default();
    let span = format!("{} to {} (UTC, end excluded)", day(start), day(end));
    let filter = match &explorer.filter {
        ExplorerFilter::Tag { key, value } => {
            let value = match (&args.service, value.contains("$service")) {
                (Some(s), _) => value.replace("$service", s),
                (None, false) => value.clone(),
                (None, true) => {
                    return Err(Failure::input(anyhow!(
                        "{}: cost.explorer.tag.value uses $service; pass --service NAME",
                        args.thresholds.display()
                    )));
                }
            };
            ExplorerFilter::Tag { key: key.clone(), value }
        }
        other => other.clone(),
    };
    let spend = cost_explorer::client::fetch(client, &filter, &explorer.cost_metric, start, end).map_err(|e| {
        let error = anyhow!("cost.explorer: {}", e.message);
        if e.bad_request { Failure::input(error) } else { Failure::external(error) }
    })?;
    let unit = spend.unit.clone().unwrap_or_else(|| cost.currency.clone());
    if spend.days == 0 {
        ui.warn(&format!("cost: unavailable: Cost Explorer reported no {} for {span}", explorer.cost_metric));
        return Ok(());
    }
    if !spend.estimated.is_empty() {
        ui.warn(&format!("cost: Cost Explorer marks {} as estimated (not final yet)", spend.estimated.join(", ")));
    }
    let Usage::Source { metric, .. } = &explorer.requests else { return Ok(()) };
    let Some(source) = policy.sources.iter().find(|s| &s.metric == metric) else { return Ok(()) };
    let values = drift_fetch::source_values(client, source, args.service.as_deref(), start, end)?;
    let seconds = (end - start) as f64 / 1000.0;
    let requests = cost::usage_of(&explorer.requests, seconds, &|_: &str| values.clone());
    let requests = match requests {
        Ok((n, _)) => n,
        Err(why) => {
            ui.warn(&format!("cost: unavailable: the requests of {span}: {why}"));
            return Ok(());
        }
    };
    let actual = format!("{} {unit} over {} requests, {span}", numfmt::num(spend.amount), numfmt::num(requests));
    let Some(&estimate) = baseline.values.get(&cost.metric) else {
        ui.warn(&format!(
            "cost: Cost Explorer says {actual}; {} has no {} to set it beside",
            baseline.path, cost.metric
        ));
        return Ok(());
    };
    match cost_explorer::reconcile(spend.amount, requests, estimate, explorer.tolerance) {
        Err(why) => ui.warn(&format!("cost: unavailable: {why} ({actual})")),
        Ok(r) => {
            let line = format!(
                "cost: actual {} {unit} per 1000 requests ({actual}); estimate {} ({} in {}): {:+.1}%",
                numfmt::num(r.actual_per_1000),
                numfmt::num(r.estimate_per_1000),
                cost.metric,
                baseline.path,
                r.difference * 100.0
            );
            if r.flagged {
                ui.warn(&format!("{line}, beyond the {}% tolerance", numfmt::num(explorer.tolerance * 100.0)));
            } else {
                ui.note(&format!("{line}, within the {}% tolerance", numfmt::num(explorer.tolerance * 100.0)));
            }
        }
    }
    Ok(())
}

/// Refuses an `--output` that would replace the baseline or the policy.
fn check_output(args: &DriftArgs) -> Result<(), Failure> {
    let Some(out) = &args.output else { return Ok(()) };
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    for input in args.baseline.iter().chain([&args.thresholds]) {
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
