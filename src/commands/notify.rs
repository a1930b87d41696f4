//! `perfcert notify`: a stored certificate or drift report posted to Slack and, on FAIL (drift:
//! a ticket or the rollback flag), filed once as a Jira issue ([`crate::notify`]). Its exit code
//! is its own: 0 every channel posted or had nothing to do, 3 one failed, 2 bad input; never the
//! verdict's, so a pipeline can run it after the gate without masking the gate.

use std::path::Path;

use anyhow::anyhow;

use crate::certificate::Certificate;
use crate::cli::NotifyCmdArgs;
use crate::exit::{ExitStatus, Failure};
use crate::notify::Outcome;
use crate::options::{self, NotifyTo};
use crate::pipeline;
use crate::ui::Ui;

pub fn run(args: NotifyCmdArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    if let Some(link) = &args.link
        && !(link.starts_with("https://") || link.starts_with("http://"))
    {
        return Err(Failure::input(anyhow!("--link {link}: expected an https:// URL")));
    }
    if let Some(key) = &args.jira_project {
        crate::notify::check_project_key(key).map_err(|e| Failure::input(anyhow!("--jira-project: {e}")))?;
    }
    let (document, mut outcome) = match (&args.certificate, &args.drift_report) {
        (Some(cert), _) => (cert.as_path(), certificate(cert)?),
        (None, Some(report)) => (report.as_path(), drift(report, args.service.as_deref())?),
        (None, None) => return Err(Failure::input(anyhow!("give a certificate or --drift-report FILE"))),
    };
    outcome.link = args.link.clone();
    let to = NotifyTo { channels: options::channels(&args.to), jira_project: args.jira_project.clone() };
    if pipeline::notify(ui, outcome, Some(document), &to, false) {
        Ok(ExitStatus::Pass)
    } else {
        Ok(ExitStatus::External)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::input(anyhow!(crate::fsutil::cannot("read", path, &e))))
}

fn certificate(path: &Path) -> Result<Outcome, Failure> {
    let bytes = read(path)?;
    let cert: Certificate = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::input(anyhow!("{}: not a perfcert certificate: {e}", path.display())))?;
    Ok(Outcome::of_certificate(&cert, &crate::signing::sha256_hex(&bytes)))
}

fn drift(path: &Path, service: Option<&str>) -> Result<Outcome, Failure> {
    let bytes = read(path)?;
    let report: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| Failure::input(anyhow!("{}: not JSON: {e}", path.display())))?;
    Outcome::of_drift(&report, &crate::signing::sha256_hex(&bytes), service)
        .map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))
}
