//! `perfcert bake`: watch a deployment. Polls the drift rules and the SLO limits over
//! [--deployed-at, now) with [`crate::bake::run`] on the real clock, one status line per poll;
//! on a ROLLBACK asks CodeDeploy to stop the deployment (`--codedeploy-deployment-id`); then
//! writes the verification record, signs it (key or keyless, as certify does), and archives it
//! create-only as `daily/YYYYMMDD/STEM.verify.json` with its bundle beside it, locally and with
//! `--upload` in S3 under the same names.
//!
//! Order: the key (unlocked) or the identity token, the S3 bucket, the CodeDeploy credentials
//! and region, the policy, the sources and the baseline are checked before the first poll; the
//! archive name is chosen (the first `STEM`, `STEM.2`, … free in both archives) before signing,
//! since the record's file name is a signed subject; the bundle is written before the record.
//! After a ROLLBACK nothing that fails later changes the exit code 6.

use anyhow::anyhow;

use crate::bake::{self, Clock, Meta, Plan};
use crate::certificate::Method;
use crate::cli::BakeArgs;
use crate::codedeploy;
use crate::drift::{self, Inputs};
use crate::drift_fetch;
use crate::drift_report::{self, Format};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::options::{S3Write, Signer};
use crate::pipeline;
use crate::pipeline::signing::Signing;
use crate::prometheus::client::Client;
use crate::signing::{self, Subject};
use crate::store::local::Dir;
use crate::store::s3::S3Archive;
use crate::store::{self, Archive, layout};
use crate::ui::Ui;

/// The wall clock; sleeping is `std::thread::sleep`.
struct Wall;

impl Clock for Wall {
    fn now_ms(&mut self) -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }
    fn sleep_until(&mut self, at_ms: i64) {
        loop {
            let left = at_ms - self.now_ms();
            if left <= 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(left.unsigned_abs()));
        }
    }
}

pub fn run(args: BakeArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let signer = Signer::from_args(args.signing);
    let upload = S3Write::upload(args.upload, &args.s3)?;
    let mut inputs: Vec<&std::path::Path> = vec![&args.thresholds];
    if let Some(file) = &args.baseline {
        inputs.push(file);
    }
    if let Signer::Key(key) = &signer {
        inputs.push(key);
    }
    fsutil::refuse_over_inputs(&args.output, &inputs, Some(&args.archive)).map_err(|e| Failure::input(anyhow!(e)))?;
    let signing = Signing::prepare(&signer)?;
    let policy = pipeline::load_policy(&args.thresholds)?;
    let wanted = drift_fetch::wanted(&policy, &args.thresholds, Some(&args.service))?;
    // A bake shorter than one drift window never judges a window: refused before anything is
    // polled, signed or archived.
    if args.duration < wanted.rules.window_ms {
        return Err(Failure::input(anyhow!(
            "--duration {} is shorter than drift.window {} in {}: the bake would judge no complete window; \
             use --duration {} or more",
            drift_report::duration(args.duration),
            drift_report::duration(wanted.rules.window_ms),
            args.thresholds.display(),
            drift_report::duration(wanted.rules.window_ms)
        )));
    }
    let deployed_ms = args.deployed_at.as_millisecond();
    let mut client = Client::new().map_err(|e| Failure::external(anyhow!(e)))?;
    // --baseline FILE, or drift's range baseline: the same queries over a past range that ends
    // by --deployed-at (checked before it is queried, and again by check_baseline).
    let (baseline, baseline_range, range_warnings) = match (&args.baseline, args.baseline_from, args.baseline_to) {
        (Some(file), _, _) => {
            (drift_fetch::load_baseline(file, args.baseline_key.as_deref(), &policy.classes, ui)?, None, vec![])
        }
        (None, Some(bf), Some(bt)) => {
            let (from, to) = (bf.as_millisecond(), bt.as_millisecond());
            if to <= from {
                return Err(Failure::input(anyhow!("--baseline-to ({bt}) must be after --baseline-from ({bf})")));
            }
            if to > deployed_ms {
                return Err(Failure::input(anyhow!(
                    "--baseline-to ({bt}) is after --deployed-at ({}); expected a baseline range that ended by the \
                     deploy (an overlapping or later baseline hides a regression)",
                    args.deployed_at
                )));
            }
            let (loaded, warned) = drift_fetch::range_baseline(&mut client, &wanted, from, to, ui)?;
            (loaded, Some((from, to)), warned)
        }
        _ => return Err(Failure::input(anyhow!("give --baseline FILE, or --baseline-from and --baseline-to"))),
    };
    drift_fetch::check_baseline(&wanted, &baseline, deployed_ms, "--deployed-at", ui)?;
    // SLOs are watched for the drift metrics only: say which ceilings this bake does not watch.
    let watched = |name: &str| wanted.queries.iter().any(|(s, _)| s.metric == name);
    for source in &policy.sources {
        let slo =
            policy.metrics.iter().find(|m| m.name == source.metric).is_some_and(|m| m.max.is_some() || m.min.is_some());
        if slo && !watched(&source.metric) {
            ui.warn(&format!(
                "{}: has an SLO (max/min) and a source, but is not under drift.metrics, so this bake does not watch it",
                source.metric
            ));
        }
    }
    // The key is unlocked and S3 reached before the bake: a wrong password or bucket must not
    // cost 30 minutes.
    let signing = signing.unlock()?;
    ui.detail(&format!("signing: {}", signing.describe()));
    let remote = match &upload {
        Some(write) => {
            let archive = S3Archive::connect(write.location.clone(), write.endpoint.as_deref(), write.put.clone())
                .map_err(|e| Failure::external(anyhow!("--upload {}: {e}", write.location)))?;
            archive.list().map_err(|e| Failure::external(anyhow!("--upload {}: {e}", write.location)))?;
            Some(archive)
        }
        None => None,
    };

    if let Some(id) = &args.codedeploy_deployment_id {
        // A roll-back that cannot be asked for is found out now, not after the bake.
        codedeploy::check().map_err(|e| Failure::external(anyhow!("--codedeploy-deployment-id {id}: {e}")))?;
    }

    let plan = Plan { deployed_ms: args.deployed_at.as_millisecond(), duration_ms: args.duration, poll_ms: args.poll };
    let mut said = std::collections::HashSet::new();
    let evaluate = |from: i64, to: i64| -> Result<drift::DriftResult, Failure> {
        let (series, warned) = drift_fetch::series(&mut client, &wanted, &baseline, from, to, ui)?;
        // A partial answer over the baseline range is kept in every poll's report, as drift does.
        let server_warnings: Vec<String> = range_warnings.iter().cloned().chain(warned).collect();
        let mut result = drift::evaluate(wanted.rules, &Inputs { from_ms: from, to_ms: to, series });
        result.service = wanted.service.clone();
        // A partial response is warned of once, and kept in the record's drift report.
        for w in &server_warnings {
            if said.insert(w.clone()) {
                ui.warn(w);
            }
        }
        result.warnings.extend(server_warnings);
        Ok(result)
    };
    let window_ms = wanted.rules.window_ms;
    let outcome = bake::run(plan, &policy.metrics, &mut Wall, evaluate, |poll| {
        ui.note(&line(poll, plan.deployed_ms, window_ms))
    })?;
    // The roll-back first: it is the urgent part, and its answer goes into the record.
    let codedeploy = args.codedeploy_deployment_id.as_ref().map(|id| {
        let stop = (outcome.last.status == drift::Status::Rollback).then(|| {
            ui.note(&format!("asking CodeDeploy to stop deployment {id} and roll it back"));
            let answer = codedeploy::stop(id);
            match &answer {
                Ok(s) => ui.note(&format!(
                    "CodeDeploy: deployment {id} {}{}",
                    s.status,
                    s.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                )),
                Err(e) => ui.error(&format!("CodeDeploy did not stop deployment {id}: {e}")),
            }
            answer.map(|s| (s.status, s.message))
        });
        bake::CodeDeploy { deployment_id: id.clone(), stop }
    });

    let mut drift_json = vec![];
    Format::Json.renderer().render(&outcome.last.drift, &mut drift_json).expect("writing to memory cannot fail");
    let drift_json: serde_json::Value = serde_json::from_slice(&drift_json).expect("the JSON renderer writes JSON");
    let meta = Meta {
        service: &args.service,
        version: &args.version,
        plan,
        sources: wanted.queries.iter().map(|(s, q)| (s.metric.clone(), s.endpoint(), q.clone())).collect(),
        baseline_file: &baseline.path,
        baseline_sha256: baseline.sha256.as_deref().unwrap_or_default(),
        baseline_values: wanted
            .queries
            .iter()
            .filter_map(|(s, _)| baseline.values.get(&s.metric).map(|&v| (s.metric.clone(), v)))
            .collect(),
        baseline_range,
        codedeploy,
        signature: match signing.method() {
            Method::Key => "cosign-key",
            Method::Keyless => "cosign-keyless",
        },
        perfcert_version: env!("CARGO_PKG_VERSION"),
    };
    let record = bake::record(&meta, &outcome, drift_json);
    let mut bytes = serde_json::to_vec_pretty(&record).expect("the record serialises");
    bytes.push(b'\n');
    fsutil::write_atomic(&args.output, &bytes)
        .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write the record", &args.output, &e))))?;
    ui.detail(&format!("wrote {} (verification record)", args.output.display()));

    let status = outcome.last.status.exit();
    // Signing and archiving, which can fail after the bake (an expired token, a full disk, S3):
    // after a ROLLBACK the failure is one line on stderr and the exit stays 6, since the
    // deployment must be stopped all the same; otherwise it is the exit.
    let archived = (|| -> Result<std::path::PathBuf, Failure> {
        let signing = signing.renew(&signer)?;
        // The first name of the day free locally and in S3: a record is never replaced.
        let archive = Dir::new(args.archive.clone());
        // The archive day is the day of the end of the range judged (README, --help), not the
        // wall clock of the last poll: a bake judged after the fact is filed under its own day.
        let day = jiff::Timestamp::from_millisecond(outcome.last.at_ms)
            .map(|t| t.strftime("%Y%m%d").to_string())
            .map_err(|e| Failure::input(anyhow!("--deployed-at: {e}")))?;
        let local_keys = archive.list().map_err(|e| Failure::external(anyhow!(e)))?;
        let remote_keys = match &remote {
            Some(r) => r.list().map_err(|e| Failure::external(anyhow!("--upload {}: {e}", r.root())))?,
            None => vec![],
        };
        let names =
            store::free_record_names(&[&local_keys, &remote_keys], &layout::stem(&args.service, &args.version), &day);
        let record_name = names.daily_record(&day);
        let file_name = record_name.rsplit('/').next().expect("a path").to_string();
        let statement = signing::statement_of(bake::PREDICATE_TYPE, &record, &[Subject::sha256(file_name, &bytes)]);
        let (bundle, signer_identity) = signing.sign(statement)?;
        if let Some(identity) = &signer_identity {
            ui.detail(&format!("signed keyless by {identity}"));
        }
        store::create_record(&archive, &names, &day, &bytes, bundle.as_bytes())
            .map_err(|e| Failure::external(anyhow!(e)))?;
        ui.note(&format!(
            "bake: {} after {} poll(s); archived {}",
            outcome.last.status.as_str(),
            outcome.polls,
            archive.show(&record_name)
        ));
        if let Some(remote) = &remote {
            let done = store::create_record(remote, &names, &day, &bytes, bundle.as_bytes()).map_err(|e| {
                Failure::external(anyhow!(
                    "--upload {}: {e}\nThe record is archived locally as {} (bundle beside it); copy both to {} \
                     by hand, create-only",
                    remote.root(),
                    archive.show(&record_name),
                    remote.show(&record_name)
                ))
            })?;
            for (url, put) in done {
                ui.note(&format!("{} {url}", crate::ui::uploaded(put)));
            }
        }
        Ok(args.archive.join(&record_name))
    })();
    // --notify: the record posted (and on FAIL or ROLLBACK filed, the marker beside the archived
    // record, the one that is never replaced); never the exit code.
    let to = crate::options::NotifyTo {
        channels: crate::options::channels(&args.notify.notify),
        jira_project: args.notify.jira_project.clone(),
    };
    if let Ok(outcome) = crate::notify::Outcome::of_verification(&record, &signing::sha256_hex(&bytes)) {
        pipeline::notify(ui, outcome, archived.as_ref().ok().map(|p| p.as_path()), &to, true);
    }
    match archived {
        Err(failure) if status == ExitStatus::RollBack => {
            ui.error(&format!("{:#} (the bake's ROLLBACK stands: exit 6)", failure.error));
            Ok(status)
        }
        Err(failure) => Err(failure),
        Ok(_) => Ok(status),
    }
}

/// One poll's status line: when, the range judged, the status and why. Before the first
/// complete window (from `deployed_ms`, `window_ms` long) there is nothing to judge: the line
/// says when that window ends rather than INCONCLUSIVE (unless the rollback flag is up).
fn line(poll: &bake::Poll, deployed_ms: i64, window_ms: i64) -> String {
    let first_end = deployed_ms.saturating_add(window_ms);
    if poll.at_ms < first_end && poll.status != drift::Status::Rollback {
        return format!(
            "poll {} at {}: waiting: the first {} window ends {}",
            poll.number,
            drift_report::time(poll.at_ms),
            drift_report::duration(window_ms),
            drift_report::time(first_end)
        );
    }
    let mut s = format!(
        "poll {} at {}: {} ({} judged)",
        poll.number,
        drift_report::time(poll.at_ms),
        poll.status.as_str(),
        drift_report::duration(poll.at_ms - poll.drift.from_ms)
    );
    if let Some(c) = poll.breach() {
        let limit = match c.limit {
            bake::Limit::Max(v) => format!("> max {}", crate::numfmt::num(v)),
            bake::Limit::Min(v) => format!("< min {}", crate::numfmt::num(v)),
        };
        s.push_str(&format!(
            ": SLO breach, {} mean {} {limit} in the window from {}",
            c.metric,
            crate::numfmt::num(c.mean),
            drift_report::time(c.start_ms)
        ));
    } else if let Some(rb) = poll.drift.rollback.as_ref().filter(|rb| rb.flag) {
        s.push_str(&format!(": rollback flag, {} above x{} baseline", rb.metric, crate::numfmt::num(rb.factor)));
    }
    s
}
