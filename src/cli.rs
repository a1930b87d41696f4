//! Command-line definitions (clap) and nothing else: flags, defaults, help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::civil::Date;

use crate::input::Format as InputFormat;
use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "perfcert",
    version,
    about = "Gate a release on performance: compare a baseline and a current load-test run against perf_thresholds.yml.",
    after_help = crate::exit::HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to use colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare current results with a baseline under a policy; exit 0 on PASS, 1 on FAIL.
    #[command(after_help = COMPARE_HELP)]
    Compare(CompareArgs),
    /// Write a commented perf_thresholds.yml with the PERF-004 / PERF-003 limits.
    #[command(after_help = INIT_HELP)]
    Init(InitArgs),
}

const COMPARE_HELP: &str = "\
Examples:
  perfcert compare                                   # baseline.json, current.json, perf_thresholds.yml here
  perfcert compare --baseline main.json --current pr.json --format markdown --output report.md
  perfcert compare --report json=perf.json --report junit=perf.xml

Exit codes:
  0  PASS   1  FAIL (regression or SLO breach)   2  usage or input error";

const INIT_HELP: &str = "\
Examples:
  perfcert init                      # writes ./perf_thresholds.yml (never overwrites)
  perfcert init --output - | less    # print it instead";

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline results: perfcert JSON, or k6 output (format detected from the content).
    /// Repeat to merge files: later ones add metrics (e.g. CPU and cost); a clash is an error.
    #[arg(long, value_name = "FILE", default_value = "baseline.json")]
    pub baseline: Vec<PathBuf>,

    /// Current results, as for --baseline.
    #[arg(long, value_name = "FILE", default_value = "current.json")]
    pub current: Vec<PathBuf>,

    /// Read every --baseline file in this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub baseline_format: Option<InputFormat>,

    /// Read every --current file in this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub current_format: Option<InputFormat>,

    /// Policy: per-metric tolerances, SLO limits and waivers.
    #[arg(long, value_name = "FILE", default_value = "perf_thresholds.yml")]
    pub thresholds: PathBuf,

    /// Report format for stdout (or --output).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub format: Format,

    /// Write the report to FILE instead of stdout (replaced atomically).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a report in FORMAT to PATH, from the same run (repeatable), e.g. json=perf.json.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report)]
    pub reports: Vec<(Format, PathBuf)>,

    /// Evaluate waiver expiry as of this date (YYYY-MM-DD) instead of today (UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the policy; `-` prints it. An existing file is never overwritten.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "perf_thresholds.yml")]
    pub output: PathBuf,
}

fn parse_report(value: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = value.split_once('=').ok_or_else(|| format!("expected FORMAT=PATH, found `{value}`"))?;
    let format = Format::from_str(format, true)
        .map_err(|_| format!("unknown report format `{format}`; expected one of table, json, markdown, junit"))?;
    if path.is_empty() {
        return Err(format!("no path after `{}=`", value.split('=').next().unwrap_or_default()));
    }
    Ok((format, PathBuf::from(path)))
}

fn parse_date(value: &str) -> Result<Date, String> {
    value.parse().map_err(|_| format!("expected a date YYYY-MM-DD, found `{value}`"))
}
