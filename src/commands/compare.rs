//! `perfcert compare`: load the three inputs, compare, render reports, exit 0 / 1 / 2.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::ignore_broken_pipe;
use crate::cli::{CompareArgs, InputArgs};
use crate::compare::{Verdict, compare};
use crate::error::LoadError;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::input;
use crate::model::RunResults;
use crate::policy::{self, Policy};
use crate::report::{Format, Report, Source, headline};

pub fn run(args: CompareArgs, color: bool) -> Result<ExitStatus, Failure> {
    check_outputs(&args)?;
    let Loaded { baseline, current, comparison, .. } = load_and_compare(&args.inputs)?;

    let (baseline_file, current_file) = (label(&args.inputs.baseline), label(&args.inputs.current));
    let thresholds_file = args.inputs.thresholds.display().to_string();
    let report = Report {
        comparison: &comparison,
        baseline: Source { file: &baseline_file, results: &baseline },
        current: Source { file: &current_file, results: &current },
        thresholds_file: &thresholds_file,
    };

    for (format, path) in &args.reports {
        write_file(&report, *format, path)?;
    }
    let table_on_stdout = args.output.is_none() && args.format == Format::Table;
    match &args.output {
        Some(path) => write_file(&report, args.format, path)?,
        None => {
            let mut stdout = io::stdout().lock();
            let written = args.format.renderer(color).render(&report, &mut stdout).and_then(|()| stdout.flush());
            ignore_broken_pipe(written)
                .map_err(|e| Failure::input(anyhow!("cannot write the report to stdout: {e}")))?;
        }
    }
    if !table_on_stdout {
        // The table already shows these; other formats carry them inside the report, so repeat
        // them where a person watching the log will see them.
        let mut stderr = io::stderr().lock();
        for w in &comparison.warnings {
            let _ = writeln!(stderr, "warning: {w}");
        }
        let _ = writeln!(stderr, "{}", headline(&comparison));
    }

    Ok(match comparison.verdict {
        Verdict::Pass => ExitStatus::Pass,
        Verdict::Fail => ExitStatus::Fail,
    })
}

/// The inputs of a comparison, loaded, and the comparison.
pub struct Loaded {
    pub baseline: RunResults,
    pub current: RunResults,
    pub comparison: crate::compare::Comparison,
}

/// Loads the policy and both runs and compares them (`--as-of`, else today in UTC).
pub fn load_and_compare(inputs: &InputArgs) -> Result<Loaded, Failure> {
    let today = inputs.as_of.unwrap_or_else(|| jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date());
    let policy = load_policy(&inputs.thresholds)?;
    let baseline = load_results(&inputs.baseline, inputs.baseline_format, &policy, "--baseline", "baseline.json")?;
    let current = load_results(&inputs.current, inputs.current_format, &policy, "--current", "current.json")?;
    let comparison = compare(&baseline, &current, &policy, today);
    Ok(Loaded { baseline, current, comparison })
}

fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let text = fsutil::read_text(path).map_err(|e| with_hint(e, path, "--thresholds", "perf_thresholds.yml"))?;
    policy::parse(&path.display().to_string(), &text).map_err(Failure::input)
}

fn load_results(
    paths: &[PathBuf],
    format: Option<input::Format>,
    policy: &Policy,
    flag: &str,
    default: &str,
) -> Result<RunResults, Failure> {
    let mut parts = vec![];
    let show_progress = super::progress::wanted();
    for path in paths {
        let total = std::fs::metadata(path).map_or(0, |m| m.len());
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let results = super::progress::with_bar(show_progress, &name, total, |counter| {
            input::load_with_progress(path, format, &policy.classes, counter)
        })
        .map_err(|e| with_hint(e, path, flag, default))?;
        parts.push((path.display().to_string(), results));
    }
    input::merge(parts).map_err(Failure::input)
}

/// How reports name an input made of one or more files.
fn label(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + ")
}

/// A missing default file gets a hint about the flag that names another one.
fn with_hint(mut e: LoadError, path: &Path, flag: &str, default: &str) -> Failure {
    if e.message == "not found" && path == Path::new(default) {
        e.message = format!("not found (the default for {flag}; pass {flag} FILE)");
    }
    Failure::input(e)
}

fn write_file(report: &Report, format: Format, path: &Path) -> Result<(), Failure> {
    let mut bytes = vec![];
    format.renderer(false).render(report, &mut bytes).expect("writing to memory cannot fail");
    fsutil::write_atomic(path, &bytes)
        .map_err(|e| Failure::input(anyhow!("{}: cannot write the report: {}", path.display(), fsutil::io_reason(&e))))
}

/// Refuses outputs that would replace an input or each other: nothing is lost to a typo.
fn check_outputs(args: &CompareArgs) -> Result<(), Failure> {
    let i = &args.inputs;
    let inputs: Vec<&PathBuf> = i.baseline.iter().chain(&i.current).chain([&i.thresholds]).collect();
    let outputs: Vec<&PathBuf> = args.output.iter().chain(args.reports.iter().map(|(_, p)| p)).collect();
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
