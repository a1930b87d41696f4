//! The evaluation pipeline: load the policy and both runs, compare, and render the reports.
//! compare, certify and `verify --recompute` all run it, so a verdict is reached one way only.
//!
//! It reads the input files and writes the report files it is asked for; it says what it does
//! through [`Ui`] (details, progress) and never decides an exit code beyond its own failures.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::badge::Badge;
use crate::compare::{Comparison, Verdict, compare_runs};
use crate::error::LoadError;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::github;
use crate::input;
use crate::input::spec::RunSpec;
use crate::model::{Run, RunResults, Side};
use crate::options::{Inputs, Outputs};
use crate::policy::{self, Policy};
use crate::report::{Format, Report, Source, headline};
use crate::ui::{Ui, progress};

/// The exit status of a comparison's verdict.
pub fn exit_status(c: &Comparison) -> ExitStatus {
    match c.verdict {
        Verdict::Pass => ExitStatus::Pass,
        Verdict::Fail => ExitStatus::Fail,
        Verdict::Inconclusive => ExitStatus::Inconclusive,
    }
}

/// How reports name the inputs.
pub struct Labels {
    baseline: String,
    current: String,
    thresholds: String,
}

impl Labels {
    pub fn of(inputs: &Inputs) -> Labels {
        if !inputs.duet.is_empty() {
            let duet = label(&inputs.duet);
            return Labels {
                baseline: format!("{duet} (duet, baseline side)"),
                current: format!("{duet} (duet, current side)"),
                thresholds: inputs.thresholds.display().to_string(),
            };
        }
        Labels {
            baseline: label(&inputs.baseline),
            current: label(&inputs.current),
            thresholds: inputs.thresholds.display().to_string(),
        }
    }

    pub fn report<'a>(&'a self, loaded: &'a Loaded) -> Report<'a> {
        Report {
            comparison: &loaded.comparison,
            baseline: Source { file: &self.baseline, results: &loaded.baseline, runs: loaded.baseline_runs.runs.len() },
            current: Source { file: &self.current, results: &loaded.current, runs: loaded.current_runs.runs.len() },
            thresholds_file: &self.thresholds,
        }
    }
}

/// Report files written besides stdout, named in the GitHub step outputs.
#[derive(Debug, Default)]
pub struct Written {
    report_json: Option<PathBuf>,
    report_markdown: Option<PathBuf>,
    badge: Option<(PathBuf, PathBuf)>,
}

impl Written {
    pub fn note(&mut self, format: Format, path: &Path) {
        match format {
            Format::Json => self.report_json = Some(path.to_path_buf()),
            Format::Markdown => self.report_markdown = Some(path.to_path_buf()),
            Format::Table | Format::Junit => {}
        }
    }
}

/// Writes the `--report` files and the `--badge` pair.
pub fn write_outputs(report: &Report, extra: &Outputs, ui: &Ui) -> Result<Written, Failure> {
    let mut written = Written::default();
    for (format, path) in &extra.reports {
        write_file(report, *format, path, ui)?;
        written.note(*format, path);
    }
    if let Some((svg_path, json_path)) = extra.badge_paths() {
        let s = report.comparison.summary();
        let badge = Badge::new(report.comparison.verdict, s.failed, s.gated);
        write_bytes(&svg_path, badge.svg().as_bytes(), "badge", ui)?;
        write_bytes(&json_path, badge.shields_json().as_bytes(), "badge", ui)?;
        written.badge = Some((svg_path, json_path));
    }
    Ok(written)
}

/// On a GitHub runner: annotations, the Markdown report (then `summary_tail`) in the step
/// summary, and step outputs (these, then `more`).
pub fn publish(ui: &Ui, report: &Report, written: &Written, more: Vec<(&str, String)>, summary_tail: &str) {
    let Some(gh) = &ui.github else { return };
    let c = report.comparison;
    gh.annotate(&github::annotations(c));
    let mut markdown = vec![];
    Format::Markdown.renderer(false).render(report, &mut markdown).expect("writing to memory cannot fail");
    let mut markdown = String::from_utf8(markdown).expect("reports are UTF-8");
    markdown.push_str(summary_tail);
    markdown.push('\n');
    gh.summary(ui, &markdown);

    let s = c.summary();
    let mut outputs = vec![
        ("status", c.verdict.as_str().to_string()),
        ("summary", headline(c)),
        ("gated", s.gated.to_string()),
        ("failed", s.failed.to_string()),
        ("waived", s.waived.to_string()),
    ];
    let path = |p: &Path| p.display().to_string();
    if let Some(p) = &written.report_json {
        outputs.push(("report-json", path(p)));
    }
    if let Some(p) = &written.report_markdown {
        outputs.push(("report-markdown", path(p)));
    }
    if let Some((svg, json)) = &written.badge {
        outputs.push(("badge", path(svg)));
        outputs.push(("badge-json", path(json)));
    }
    outputs.extend(more);
    gh.outputs(ui, &outputs);
}

/// The inputs of a comparison, loaded, and the comparison.
pub struct Loaded {
    /// Each side as one set of results ([`Side::summary`]): the run itself when there is one.
    pub baseline: RunResults,
    pub current: RunResults,
    pub baseline_runs: Side,
    pub current_runs: Side,
    pub comparison: Comparison,
}

/// Loads the policy and both runs and compares them (`--as-of`, else today in UTC).
pub fn load_and_compare(inputs: &Inputs, ui: &Ui) -> Result<Loaded, Failure> {
    let today = inputs.as_of.unwrap_or_else(|| jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date());
    let policy = load_policy(&inputs.thresholds)?;
    ui.detail(&format!(
        "policy {}: {} metrics, {} waivers (judged as of {today})",
        inputs.thresholds.display(),
        policy.metrics.len(),
        policy.waivers.len()
    ));
    if !inputs.duet.is_empty() {
        return load_duet(&inputs.duet, &policy, today, ui);
    }
    let baseline_runs =
        load_side(&inputs.baseline, inputs.baseline_format, &policy, ("--baseline", "baseline.json"), ui)?;
    let current_runs = load_side(&inputs.current, inputs.current_format, &policy, ("--current", "current.json"), ui)?;
    let comparison = compare_runs(&baseline_runs.results(), &current_runs.results(), &policy, today);
    Ok(Loaded {
        baseline: baseline_runs.summary(),
        current: current_runs.summary(),
        baseline_runs,
        current_runs,
        comparison,
    })
}

/// Loads the duet runs (each one k6 run that measured both sides side by side, its shards
/// joined with +) and compares them paired ([`crate::compare::compare_duet`]). Where each side
/// ran is told in a detail line, and warned about when unknown or never swapped.
fn load_duet(specs: &[RunSpec], policy: &Policy, today: jiff::civil::Date, ui: &Ui) -> Result<Loaded, Failure> {
    let mut read = vec![];
    for spec in specs {
        let mut paths = vec![];
        for (path, format) in spec.formats(None) {
            let format = match format {
                Some(f) => f,
                None => input::detect_path(path).map_err(|e| with_hint(e, path, "--duet", ""))?,
            };
            match format {
                input::Format::K6Json => paths.push(path),
                other => {
                    return Err(Failure::input(anyhow!(
                        "{}: --duet reads k6 raw output written with --out json=FILE (NDJSON, plain or gzip); \
                         this file is {}",
                        path.display(),
                        other.describe()
                    )));
                }
            }
        }
        let label = spec.label();
        let run = timed_all(&paths, &label, ui, |counter| {
            input::load_duet(&paths, &label, &policy.classes, &policy.duet, counter)
        })
        .map_err(Failure::input)?;
        ui.detail(&format!("{label}: duet run, {} slice pairs", run.slices.current.len()));
        read.push((spec, run));
    }
    let placements: Vec<_> = read.iter().map(|(_, r)| r.placement.clone()).collect();
    let notes = input::duet::placement_notes(&placements, &policy.duet);
    if let Some(record) = input::duet::placement_record(&placements) {
        ui.detail(&format!("placement: {record}"));
    }
    let (mut baseline_runs, mut current_runs, mut slices) = (Side::default(), Side::default(), vec![]);
    for (spec, run) in read {
        let files: Vec<String> = spec.parts.iter().map(|p| p.path.display().to_string()).collect();
        baseline_runs.runs.push(Run { files: files.clone(), results: run.baseline });
        current_runs.runs.push(Run { files, results: run.current });
        slices.push(run.slices);
    }
    if let Some(first) = current_runs.runs.first_mut() {
        first.results.notes.extend(notes);
    }
    let comparison =
        crate::compare::compare_duet(&baseline_runs.results(), &current_runs.results(), &slices, policy, today);
    Ok(Loaded {
        baseline: baseline_runs.summary(),
        current: current_runs.summary(),
        baseline_runs,
        current_runs,
        comparison,
    })
}

/// Loads every run of one side, and refuses runs that share no metric: that is the files of
/// one run given as separate runs (the usage before runs were joined with `+`).
fn load_side(
    specs: &[RunSpec],
    format: Option<input::Format>,
    policy: &Policy,
    (flag, default): (&str, &str),
    ui: &Ui,
) -> Result<Side, Failure> {
    let mut side = Side::default();
    for spec in specs {
        side.runs.extend(load_run(spec, format, policy, (flag, default), ui)?);
    }
    let runs = &side.runs;
    for (i, a) in runs.iter().enumerate() {
        for (j, b) in runs.iter().enumerate().skip(i + 1) {
            if !a.results.metrics.keys().any(|k| b.results.metrics.contains_key(k)) {
                return Err(Failure::input(anyhow!(
                    "{flag}: run {} ({}) and run {} ({}) share no metric, so they are not runs of the same test; \
                     each {flag} is one run now: join the parts of one run with + ({flag} {}+{})",
                    i + 1,
                    a.files.join(" + "),
                    j + 1,
                    b.files.join(" + "),
                    a.files.join("+"),
                    b.files.join("+"),
                )));
            }
        }
    }
    Ok(side)
}

/// Loads one run from its parts: raw k6 shards of one format merge exactly into one part,
/// then the parts merge (each metric from one part). A native file with several `runs`, given
/// alone, is that many runs.
fn load_run(
    spec: &RunSpec,
    side_format: Option<input::Format>,
    policy: &Policy,
    (flag, default): (&str, &str),
    ui: &Ui,
) -> Result<Vec<Run>, Failure> {
    use input::Format;
    let files: Vec<String> = spec.parts.iter().map(|p| p.path.display().to_string()).collect();
    let mut formats = vec![];
    for (path, format) in spec.formats(side_format) {
        let format = match format {
            Some(f) => f,
            None => input::detect_path(path).map_err(|e| with_hint(e, path, flag, default))?,
        };
        formats.push((path, format));
    }
    if let [(path, format)] = formats.as_slice() {
        let runs = timed(path, ui, |counter| input::load_runs(path, *format, &policy.classes, counter))
            .map_err(|e| with_hint(e, path, flag, default))?;
        let several = runs.len() > 1;
        if several {
            ui.detail(&format!("{}: {} runs", path.display(), runs.len()));
        }
        return Ok(runs.into_iter().map(|results| Run { files: files.clone(), results }).collect());
    }
    let mut parts = vec![];
    let mut done = vec![false; formats.len()];
    for i in 0..formats.len() {
        if done[i] {
            continue;
        }
        let (path, format) = formats[i];
        let shards: Vec<usize> = match format {
            Format::K6Json | Format::K6Csv => (i..formats.len()).filter(|&j| formats[j].1 == format).collect(),
            _ => vec![i],
        };
        shards.iter().for_each(|&j| done[j] = true);
        let results = if let [_] = shards.as_slice() {
            timed(path, ui, |counter| input::load_with_progress(path, Some(format), &policy.classes, counter))
                .map_err(|e| with_hint(e, path, flag, default))?
        } else {
            let paths: Vec<&Path> = shards.iter().map(|&j| formats[j].0).collect();
            let label = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + ");
            let loaded = timed_all(&paths, &label, ui, |counter| {
                input::load_shards(&paths, &label, format, &policy.classes, counter)
            })
            .map_err(Failure::input)?;
            ui.detail(&format!("{label}: {} shards of one run, merged", paths.len()));
            loaded
        };
        let label = shards.iter().map(|&j| formats[j].0.display().to_string()).collect::<Vec<_>>().join(" + ");
        parts.push((label, results));
    }
    let results = input::merge(parts).map_err(Failure::input)?;
    Ok(vec![Run { files, results }])
}

/// Runs a reader on one file with a progress bar, and says how long it took.
fn timed<T: Metrics + Send>(
    path: &Path,
    ui: &Ui,
    read: impl FnOnce(&std::sync::atomic::AtomicU64) -> Result<T, LoadError> + Send,
) -> Result<T, LoadError> {
    let label = path.display().to_string();
    timed_all(&[path], &label, ui, read)
}

fn timed_all<T: Metrics + Send>(
    paths: &[&Path],
    label: &str,
    ui: &Ui,
    read: impl FnOnce(&std::sync::atomic::AtomicU64) -> Result<T, LoadError> + Send,
) -> Result<T, LoadError> {
    let started = std::time::Instant::now();
    let total: u64 = paths.iter().map(|p| std::fs::metadata(p).map_or(0, |m| m.len())).sum();
    let name = match paths {
        [one] => one.file_name().map_or_else(|| label.to_string(), |n| n.to_string_lossy().into_owned()),
        _ => label.to_string(),
    };
    let show_progress = !ui.quiet() && progress::wanted();
    let results = progress::with_bar(show_progress, &name, total, read)?;
    ui.detail(&format!(
        "read {label} ({}): {} metrics in {:.2} s",
        human_bytes(total),
        results.metric_count(),
        started.elapsed().as_secs_f64()
    ));
    Ok(results)
}

/// How many metrics a read produced, for the detail line.
trait Metrics {
    fn metric_count(&self) -> usize;
}

impl Metrics for RunResults {
    fn metric_count(&self) -> usize {
        self.metrics.len()
    }
}

impl Metrics for input::duet::DuetRun {
    fn metric_count(&self) -> usize {
        self.current.metrics.len()
    }
}

impl Metrics for Vec<RunResults> {
    fn metric_count(&self) -> usize {
        self.iter().map(|r| r.metrics.len()).max().unwrap_or(0)
    }
}

fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let text = fsutil::read_text(path).map_err(|e| with_hint(e, path, "--thresholds", "perf_thresholds.yml"))?;
    policy::parse(&path.display().to_string(), &text).map_err(Failure::input)
}

/// How reports name a side: its runs, each as `a.json + b.json`, joined with `, `.
fn label(runs: &[RunSpec]) -> String {
    runs.iter().map(RunSpec::label).collect::<Vec<_>>().join(", ")
}

/// A missing default file gets a hint about the flag that names another one.
fn with_hint(mut e: LoadError, path: &Path, flag: &str, default: &str) -> Failure {
    if e.message == "not found" && path == Path::new(default) {
        e.message = format!("not found (the default for {flag}; pass {flag} FILE)");
    }
    Failure::input(e)
}

pub fn write_file(report: &Report, format: Format, path: &Path, ui: &Ui) -> Result<(), Failure> {
    let mut bytes = vec![];
    format.renderer(false).render(report, &mut bytes).expect("writing to memory cannot fail");
    write_bytes(path, &bytes, "report", ui)
}

/// Writes a report or badge, replacing it atomically. Its directory must exist: a typo in it
/// is an error, not a new directory.
fn write_bytes(path: &Path, bytes: &[u8], what: &str, ui: &Ui) -> Result<(), Failure> {
    fsutil::write_atomic(path, bytes)
        .map_err(|e| Failure::input(anyhow!(fsutil::cannot(&format!("write the {what}"), path, &e))))?;
    ui.detail(&format!("wrote {} ({what})", path.display()));
    Ok(())
}

/// `812 B`, `3.4 MB`.
fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// Refuses outputs that would replace an input or each other: nothing is lost to a typo.
pub fn check_outputs(inputs: &Inputs, outputs: Vec<&PathBuf>) -> Result<(), Failure> {
    let i = inputs;
    let inputs: Vec<&PathBuf> = i
        .baseline
        .iter()
        .chain(&i.current)
        .chain(&i.duet)
        .flat_map(|run| run.parts.iter().map(|p| &p.path))
        .chain([&i.thresholds])
        .collect();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    for (i, out) in outputs.iter().enumerate() {
        if let Some(input) = inputs.iter().find(|input| same(out, input)) {
            return Err(Failure::input(anyhow!(
                "{}: is an input of this comparison; refusing to write a report over it",
                input.display()
            )));
        }
        let is_file_or_new = std::fs::metadata(out).map_or(true, |m| m.is_file());
        if is_file_or_new && outputs[..i].iter().any(|earlier| same(out, earlier)) {
            return Err(Failure::input(anyhow!("{}: named as the output of two reports", out.display())));
        }
    }
    Ok(())
}
