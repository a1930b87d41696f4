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
    let (template, default) =
        if args.approvals { (crate::approval::TEMPLATE, "approvals.yml") } else { (TEMPLATE, "perf_thresholds.yml") };
    let output = args.output.unwrap_or_else(|| default.into());
    if output.as_os_str() == "-" {
        ui.output(|out| out.write_all(template.as_bytes()))?;
        return Ok(ExitStatus::Pass);
    }
    let path = output.display();
    fsutil::write_new(&output, template.as_bytes()).map_err(|e| {
        Failure::input(match e.kind() {
            io::ErrorKind::AlreadyExists => {
                anyhow!("{path}: already exists; perfcert init never overwrites (edit it, or pass --output FILE)")
            }
            _ => anyhow!(fsutil::cannot("write", &output, &e)),
        })
    })?;
    if args.approvals {
        ui.say(|out| {
            writeln!(
                out,
                "Wrote {path}. Put the roles' public keys or identities in it, then gate promotion with: perfcert \
                 verify CERT --key cosign.pub --approvals {path}"
            )
        })?;
    } else {
        ui.say(|out| writeln!(out, "Wrote {path}. Edit the limits, then run: perfcert compare --thresholds {path}"))?;
    }
    Ok(ExitStatus::Pass)
}
