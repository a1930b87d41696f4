//! `perfcert init`: write the starter policy, never over an existing file.

use std::io::{self, Write};

use anyhow::anyhow;

use super::ignore_broken_pipe;
use super::ui::Ui;
use crate::cli::InitArgs;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;

/// The starter policy: PERF-004 §6 tolerances and PERF-003 §4 SLO targets, commented.
/// It is the repository's own `perf_thresholds.yml`, so the two cannot drift apart.
pub const TEMPLATE: &str = include_str!("../../perf_thresholds.yml");

pub fn run(args: InitArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    if args.output.as_os_str() == "-" {
        let written = io::stdout().lock().write_all(TEMPLATE.as_bytes());
        ignore_broken_pipe(written).map_err(|e| Failure::input(anyhow!("cannot write to stdout: {e}")))?;
        return Ok(ExitStatus::Pass);
    }
    let path = args.output.display();
    fsutil::write_new(&args.output, TEMPLATE.as_bytes()).map_err(|e| {
        Failure::input(match e.kind() {
            io::ErrorKind::AlreadyExists => {
                anyhow!("{path}: already exists; perfcert init never overwrites (edit it, or pass --output FILE)")
            }
            _ => anyhow!("{path}: cannot write: {}", fsutil::io_reason(&e)),
        })
    })?;
    if !ui.quiet() {
        let _ = writeln!(io::stdout(), "Wrote {path}. Edit the limits, then run: perfcert compare --thresholds {path}");
    }
    Ok(ExitStatus::Pass)
}
