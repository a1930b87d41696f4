//! `perfcert init`: write the starter policy, never over an existing file.

use std::io;

use anyhow::anyhow;

use crate::cli::InitArgs;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::ui::Ui;

/// The starter policy: PERF-004 §6 tolerances and PERF-003 §4 SLO targets, commented.
/// It is the repository's own `perf_thresholds.yml`, so the two cannot drift apart.
pub const TEMPLATE: &str = include_str!("../../perf_thresholds.yml");

pub fn run(args: InitArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    if args.output.as_os_str() == "-" {
        ui.output(|out| out.write_all(TEMPLATE.as_bytes()))?;
        return Ok(ExitStatus::Pass);
    }
    let path = args.output.display();
    fsutil::write_new(&args.output, TEMPLATE.as_bytes()).map_err(|e| {
        Failure::input(match e.kind() {
            io::ErrorKind::AlreadyExists => {
                anyhow!("{path}: already exists; perfcert init never overwrites (edit it, or pass --output FILE)")
            }
            _ => anyhow!(fsutil::cannot("write", &args.output, &e)),
        })
    })?;
    ui.say(|out| writeln!(out, "Wrote {path}. Edit the limits, then run: perfcert compare --thresholds {path}"))?;
    Ok(ExitStatus::Pass)
}
