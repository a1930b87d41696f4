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

#[cfg(test)]
mod tests {
    use super::TEMPLATE;

    /// The template with its commented `sources:` and `drift:` examples uncommented.
    fn uncommented() -> String {
        let mut out = String::new();
        let mut inside = false;
        for line in TEMPLATE.lines() {
            if line == "# sources:" || line == "# drift:" {
                inside = true;
                out.push_str(&line[2..]);
            } else if inside && line.starts_with("#   ") {
                out.push_str(&line[2..]);
            } else {
                inside = false;
                out.push_str(line);
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_templates_examples_parse_and_every_drift_metric_is_gated() {
        let text = uncommented();
        assert!(text.contains("\nsources:\n") && text.contains("\ndrift:\n"), "{text}");
        let policy = crate::policy::parse("perf_thresholds.yml", &text).unwrap();
        let drift = policy.drift.as_ref().expect("a drift block");
        let gated = |name: &str| policy.metrics.iter().any(|m| m.name == name);
        assert!(!drift.metrics.is_empty());
        for m in &drift.metrics {
            assert!(gated(&m.name), "drift metric {} is not under metrics:", m.name);
            assert!(policy.sources.iter().any(|s| s.metric == m.name), "drift metric {} has no source", m.name);
        }
        let rollback = drift.rollback.as_ref().expect("a rollback rule");
        // PERF-003: the rollback is on p95 latency, a drift metric with an SLO ceiling.
        assert_eq!(rollback.metric, "latency_p95_read");
        assert!(drift.metrics.iter().any(|m| m.name == rollback.metric));
        for s in &policy.sources {
            assert!(gated(&s.metric), "source {} is not under metrics:", s.metric);
        }
    }
}
