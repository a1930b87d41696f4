//! `perfcert notify`: a stored certificate, bake record or drift report posted to Slack and, on
//! FAIL (a bake: FAIL or ROLLBACK; drift: a ticket or the rollback flag), filed once as a Jira
//! issue ([`crate::notify`]). Its exit code is its own: 0 every channel posted or had nothing
//! to do, 3 one failed, 2 bad input (or a channel not configured: a variable missing); never the verdict's, so a
//! pipeline can run it after the gate without masking the gate.

use std::path::Path;

use anyhow::anyhow;
use serde_json::Value;

use crate::certificate::Certificate;
use crate::cli::NotifyCmdArgs;
use crate::exit::{ExitStatus, Failure};
use crate::notify::Outcome;
use crate::notify::send::{self, JIRA_EMAIL, JIRA_TOKEN, JIRA_URL, SLACK_WEBHOOK};
use crate::options::{self, NotifyTo};
use crate::pipeline;
use crate::ui::Ui;

/// What `notify` reads, for its errors.
const ACCEPTS: &str = "perfcert notify reads a certificate (STEM.cert.json), a bake record (STEM.verify.json, \
                       perfcert bake) or a drift report (perfcert drift --format json)";

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
        (Some(doc), _) => (doc.as_path(), any_document(doc, args.service.as_deref())?),
        (None, Some(report)) => (report.as_path(), drift(report, args.service.as_deref())?),
        (None, None) => return Err(Failure::input(anyhow!("give a document to post: {ACCEPTS}"))),
    };
    outcome.link = args.link.clone();
    let env = |name: &str| std::env::var(name).ok();
    let channels = if args.to.is_empty() { send::configured(&env) } else { options::channels(&args.to) };
    if channels.is_empty() {
        return Err(Failure::input(anyhow!(
            "no channel configured: set {SLACK_WEBHOOK} (Slack) or {JIRA_URL}, {JIRA_EMAIL} and {JIRA_TOKEN} \
             (Jira), or name the channels with --to"
        )));
    }
    // A channel asked for but not configured is the user's to fix (exit 2), found before
    // anything is sent; exit 3 is kept for a service that refused or could not be reached.
    let problems = send::misconfigured(&channels, args.jira_project.as_deref(), &env);
    if let Some((last, rest)) = problems.split_last() {
        for line in rest {
            ui.error(line);
        }
        return Err(Failure::input(anyhow!("{last}; nothing was sent (a configuration error)")));
    }
    let to = NotifyTo { channels, jira_project: args.jira_project.clone() };
    if pipeline::notify(ui, outcome, Some(document), &to, false) {
        Ok(ExitStatus::Pass)
    } else {
        Ok(ExitStatus::External)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::input(anyhow!(crate::fsutil::cannot("read", path, &e))))
}

/// A certificate, a bake record or a drift report, told apart by their keys.
fn any_document(path: &Path, service: Option<&str>) -> Result<Outcome, Failure> {
    let bytes = read(path)?;
    let shown = path.display();
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| Failure::input(anyhow!("{shown}: not JSON ({e}); {ACCEPTS}")))?;
    let sha256 = crate::signing::sha256_hex(&bytes);
    let has = |k: &str| value.get(k).is_some();
    if has("drift_report_version") {
        return Outcome::of_drift(&value, &sha256, service).map_err(|e| Failure::input(anyhow!("{shown}: {e}")));
    }
    if has("slo") && has("window") {
        return Outcome::of_verification(&value, &sha256).map_err(|e| Failure::input(anyhow!("{shown}: {e}")));
    }
    if has("comparison") {
        let cert: Certificate = serde_json::from_value(value)
            .map_err(|e| Failure::input(anyhow!("{shown}: not a perfcert certificate: {e}")))?;
        return Ok(Outcome::of_certificate(&cert, &sha256));
    }
    let bundle = value.get("mediaType").and_then(Value::as_str).is_some_and(|m| m.contains("sigstore.bundle"));
    let what = if bundle { "a Sigstore bundle: give the document it signs (beside it)" } else { "none of these" };
    Err(Failure::input(anyhow!("{shown}: {what}; {ACCEPTS}")))
}

fn drift(path: &Path, service: Option<&str>) -> Result<Outcome, Failure> {
    let bytes = read(path)?;
    let report: Value =
        serde_json::from_slice(&bytes).map_err(|e| Failure::input(anyhow!("{}: not JSON: {e}", path.display())))?;
    Outcome::of_drift(&report, &crate::signing::sha256_hex(&bytes), service)
        .map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))
}
