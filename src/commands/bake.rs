//! `perfcert bake`: watch a deployment. Polls the drift rules and the SLO limits over
//! [--deployed-at, now) with [`crate::bake::run`] on the real clock, one status line per poll,
//! then writes the verification record, signs it with the key, and archives it create-only as
//! `daily/YYYYMMDD/STEM.verify.json` with its bundle beside it.
//!
//! Order: the key's format, the policy, the sources and the baseline are checked before the
//! first poll; the archive name is chosen (the first free `STEM`, `STEM.2`, …) before signing,
//! since the record's file name is a signed subject; the bundle is written before the record.

use anyhow::anyhow;

use crate::bake::{self, Clock, Meta, Plan};
use crate::cli::BakeArgs;
use crate::drift::{self, Inputs};
use crate::drift_fetch;
use crate::drift_report::{self, Format};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::pipeline;
use crate::prometheus::client::Client;
use crate::signing::{self, Subject, cosign_key};
use crate::store::local::Dir;
use crate::store::{Archive, Names, layout};
use crate::ui::{Ui, password};

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
    fsutil::refuse_over_inputs(&args.output, &[&args.baseline, &args.thresholds, &args.key], Some(&args.archive))
        .map_err(|e| Failure::input(anyhow!(e)))?;
    let pem = std::fs::read_to_string(&args.key).map_err(|e| Failure::input(anyhow!(fsutil::at(&args.key, &e))))?;
    cosign_key::check(&pem).map_err(|e| Failure::input(anyhow!("{}: {e}", args.key.display())))?;
    let policy = pipeline::load_policy(&args.thresholds)?;
    let wanted = drift_fetch::wanted(&policy, &args.thresholds, Some(&args.service))?;
    let baseline = drift_fetch::load_baseline(&args.baseline, args.baseline_key.as_deref(), &policy.classes, ui)?;
    drift_fetch::warn_missing(&wanted, &baseline, ui);
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
    // The key is unlocked before the bake: a wrong password must not cost 30 minutes.
    let password = password::read(false)?;
    let pkcs8 =
        cosign_key::decrypt(&pem, &password).map_err(|e| Failure::input(anyhow!("{}: {e}", args.key.display())))?;
    drop(password);

    let plan = Plan { deployed_ms: args.deployed_at.as_millisecond(), duration_ms: args.duration, poll_ms: args.poll };
    let mut client = Client::new().map_err(|e| Failure::external(anyhow!(e)))?;
    let mut said = std::collections::HashSet::new();
    let evaluate = |from: i64, to: i64| -> Result<drift::DriftResult, Failure> {
        let (series, server_warnings) = drift_fetch::series(&mut client, &wanted, &baseline, from, to, ui)?;
        let mut result = drift::evaluate(wanted.rules, &Inputs { from_ms: from, to_ms: to, series });
        // A partial response is warned of once, and kept in the record's drift report.
        for w in &server_warnings {
            if said.insert(w.clone()) {
                ui.warn(w);
            }
        }
        result.warnings.extend(server_warnings);
        Ok(result)
    };
    let outcome = bake::run(plan, &policy.metrics, &mut Wall, evaluate, |poll| ui.note(&line(poll)))?;

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
        perfcert_version: env!("CARGO_PKG_VERSION"),
    };
    let record = bake::record(&meta, &outcome, drift_json);
    let mut bytes = serde_json::to_vec_pretty(&record).expect("the record serialises");
    bytes.push(b'\n');
    fsutil::write_atomic(&args.output, &bytes)
        .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write the record", &args.output, &e))))?;
    ui.detail(&format!("wrote {} (verification record)", args.output.display()));

    // The first free name of the day: a record is never replaced.
    let archive = Dir::new(args.archive.clone());
    let day = jiff::Timestamp::from_millisecond(outcome.last.made_ms)
        .map(|t| t.strftime("%Y%m%d").to_string())
        .map_err(|e| Failure::input(anyhow!("--deployed-at: {e}")))?;
    let taken = archive.list().map_err(|e| Failure::external(anyhow!(e)))?;
    let stem = layout::stem(&args.service, &args.version);
    let names = (1..)
        .map(|n| Names::new(day.clone(), layout::nth(&stem, n)))
        .find(|n| !taken.contains(&n.daily_record(&day)) && !taken.contains(&n.daily_record_bundle(&day)))
        .expect("some name is free");
    let record_name = names.daily_record(&day);
    let file_name = record_name.rsplit('/').next().expect("a path").to_string();
    let statement = signing::statement_of(bake::PREDICATE_TYPE, &record, &[Subject::sha256(file_name, &bytes)]);
    let bundle = signing::sign_with_key(&pkcs8, statement)
        .map_err(|e| Failure::input(anyhow!("{}: {e}", args.key.display())))?;
    for (name, content) in [(names.daily_record_bundle(&day), bundle.as_bytes()), (record_name.clone(), &bytes[..])] {
        archive.create(&name, content).map_err(|e| Failure::external(anyhow!(e)))?;
    }
    ui.note(&format!(
        "bake: {} after {} poll(s); archived {}",
        outcome.last.status.as_str(),
        outcome.polls,
        archive.show(&record_name)
    ));
    Ok(outcome.last.status.exit())
}

/// One poll's status line: when, the range judged, the status and why.
fn line(poll: &bake::Poll) -> String {
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
