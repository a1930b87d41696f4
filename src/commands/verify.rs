//! `perfcert verify`: is this certificate authentic, and what did it certify?
//!
//! Checks, in order, each printed as it passes, the first that fails ending the run with exit 4
//! and the check's name: the bundle's signature (with the key, or keyless: chain, log, signer);
//! the statement's type and predicate type; that the certificate file is exactly the signed
//! predicate and, under its own file name, a signed subject; `--service` / `--version`; the
//! subjects asked for; with `--recompute`, the recorded inputs' sha256 and the verdict
//! recomputed from them on the recorded day (a version-2 certificate rebuilt byte for byte, at
//! its recorded look). A mistake in what the user gave is exit 2, and so is a certificate of a
//! later version than this perfcert reads: it may well be authentic, so it is not exit 4.

use std::path::Path;

use anyhow::anyhow;

use crate::authenticate::{self, not_authentic};
use crate::certificate::{Certificate, FileDigest};
use crate::exit::{ExitStatus, Failure};
use crate::options::{self, Verify};
use crate::pipeline;
use crate::ui::Ui;

/// The checks that passed, printed as they pass and kept for the job summary.
struct Checks<'a> {
    ui: &'a Ui,
    rows: Vec<(&'static str, String)>,
}

impl Checks<'_> {
    fn pass(&mut self, name: &'static str, text: String) -> Result<(), Failure> {
        self.ui.say(|out| writeln!(out, "{name:<12} {text}"))?;
        self.rows.push((name, text));
        Ok(())
    }
}

pub fn run(o: Verify, ui: &Ui) -> Result<ExitStatus, Failure> {
    let fetched = authenticate::fetch(&(&o.named).into())?;
    if authenticate::is_record(&fetched) {
        return verify_record(&o, fetched, ui);
    }
    // The CAB policy is read and checked (YAML and keys) before any signature is: a mistake in
    // it is exit 2 whatever the certificate is.
    let policy = match &o.approvals {
        Some(path) => Some((path.as_path(), pipeline::load_approvals(path)?)),
        None => None,
    };
    let mut checks = Checks { ui, rows: vec![] };
    let authentic = authenticate::authenticate(fetched, &o.trust, &mut |name, text| checks.pass(name, text))?;
    let (cert, statement) = (&authentic.cert, &authentic.statement);
    let cert_shown = authentic.shown.as_str();

    for (flag, wanted, found) in
        [("--service", &o.named.service, &cert.service), ("--version", &o.named.version, &cert.version)]
    {
        if let Some(wanted) = wanted
            && wanted != found
        {
            let what = flag.trim_start_matches('-');
            return Err(not_authentic(cert_shown, format!("it records {what} {found}; {flag} says {wanted}")));
        }
    }
    if o.named.service.is_some() || o.named.version.is_some() {
        checks.pass("identity", format!("OK: {} {}, as required", cert.service, cert.version))?;
    }

    for path in &o.subjects {
        let sha = pipeline::sha256_of(path)?;
        if !statement.signs_sha256(&sha) {
            return Err(not_authentic(
                &path.display().to_string(),
                format!("sha256 {sha} is not a subject of this certificate"),
            ));
        }
    }
    for (name, sha) in &o.subject_digests {
        if !statement.signs_sha256(sha) {
            return Err(not_authentic(name, format!("sha256 {sha} is not a subject of this certificate")));
        }
    }
    let subjects: Vec<String> = statement
        .subject
        .iter()
        .map(|s| {
            let digests: Vec<String> = s.digest.iter().map(|(alg, v)| format!("{alg}:{v}")).collect();
            format!("{} ({})", s.name, digests.join(", "))
        })
        .collect();
    checks.pass("subjects", subjects.join("; "))?;

    if let Some(inputs) = &o.recompute {
        let line = recompute(inputs, cert, &authentic.bytes, ui)?;
        checks.pass("recomputed", format!("OK: {line}"))?;
    }
    let approvers = if cert.approvers.is_empty() { "none".to_string() } else { cert.approvers.join(", ") };
    checks.pass(
        "verdict",
        format!("{} ({} {}, certified {}, approvers: {approvers})", cert.status, cert.service, cert.version, cert.date),
    )?;

    // A forged approval is exit 4 whatever the verdict: an approval that is not what it says is
    // tampering, and is said as loudly beside a FAIL as beside a PASS.
    let approved = match &policy {
        Some((path, trusted)) => Some(approvals(path, trusted, &authentic, o.named.endpoint.as_deref(), &mut checks)?),
        None => None,
    };
    let approved_now = cert.status == "PASS" && matches!(approved, Some(Ok(_)));
    let heading = match &approved {
        None => String::new(),
        Some(_) if approved_now => ", approved".into(),
        Some(_) => ", not approved".into(),
    };

    if let Some(gh) = &ui.github {
        let mut summary =
            format!("### perfcert verify: authentic, {}{heading} ({} {})\n\n", cert.status, cert.service, cert.version);
        summary.push_str("| Check | Result |\n|---|---|\n");
        for (name, text) in &checks.rows {
            summary.push_str(&format!("| {name} | {} |\n", text.replace('|', "\\|").replace('\n', "<br>")));
        }
        gh.summary(ui, &(summary + "\n"));
        let mut outputs = vec![
            ("status", cert.status.clone()),
            ("service", cert.service.clone()),
            ("version", cert.version.clone()),
            ("certificate", authentic.shown.clone()),
        ];
        if let Some(approved) = &approved {
            outputs.push(("approved", approved_now.to_string()));
            let needed = match approved {
                Ok(_) => String::new(),
                Err(needed) => needed.roles.join(","),
            };
            outputs.push(("roles-needed", needed));
        }
        gh.outputs(ui, &outputs);
    }
    let status = match cert.status.as_str() {
        "PASS" => ExitStatus::Pass,
        "INCONCLUSIVE" => ExitStatus::Inconclusive,
        _ => ExitStatus::Fail,
    };
    match approved {
        None => Ok(status),
        Some(_) if status != ExitStatus::Pass => Err(Failure {
            status,
            error: anyhow!(
                "not promotable: the certificate says {} ({} {}, {})",
                cert.status,
                cert.service,
                cert.version,
                authentic.shown
            ),
        }),
        Some(Ok(roles)) => {
            ui.say(|out| writeln!(out, "promotion: APPROVED ({})", roles.join(", ")))?;
            Ok(ExitStatus::Pass)
        }
        Some(Err(needed)) => Err(Failure::not_approved(anyhow!(needed.message))),
    }
}

/// Roles the gate still needs, and the sentence that says so.
struct Needed {
    roles: Vec<String>,
    message: String,
}

/// A bake's verification record (`STEM.verify.json`): its signature and content as for a
/// certificate, `--service` / `--version`; exit by its status (0, 1, 5, 6), as a certificate's.
fn verify_record(o: &Verify, fetched: authenticate::Fetched, ui: &Ui) -> Result<ExitStatus, Failure> {
    if o.recompute.is_some() || !o.subjects.is_empty() || !o.subject_digests.is_empty() || o.approvals.is_some() {
        return Err(Failure::input(anyhow!(
            "{}: a bake's verification record has no inputs, subjects or approvals to check: --recompute, \
             --subject, --subject-digest and --approvals are for certificates",
            fetched.cert_shown
        )));
    }
    let mut checks = Checks { ui, rows: vec![] };
    let authentic = authenticate::authenticate_record(fetched, &o.trust, &mut |name, text| checks.pass(name, text))?;
    let field = |key: &str| authentic.record.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let (service, version, status) = (field("service"), field("version"), field("status"));
    for (flag, wanted, found) in [("--service", &o.named.service, &service), ("--version", &o.named.version, &version)]
    {
        if let Some(wanted) = wanted
            && wanted != found
        {
            let what = flag.trim_start_matches('-');
            return Err(not_authentic(&authentic.shown, format!("it records {what} {found}; {flag} says {wanted}")));
        }
    }
    if o.named.service.is_some() || o.named.version.is_some() {
        checks.pass("identity", format!("OK: {service} {version}, as required"))?;
    }
    let window = &authentic.record["window"];
    let at = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_string();
    checks.pass(
        "verdict",
        format!(
            "{status} ({service} {version}, baked from {} to {}, {} poll(s), signed by {})",
            at(&window["from"]),
            at(&window["judged_to"]),
            authentic.record["polls"],
            authentic.signer
        ),
    )?;
    match status.as_str() {
        "PASS" => Ok(ExitStatus::Pass),
        "FAIL" => Ok(ExitStatus::Fail),
        "INCONCLUSIVE" => Ok(ExitStatus::Inconclusive),
        "ROLLBACK" => Ok(ExitStatus::RollBack),
        other => Err(Failure::input(anyhow!(
            "{}: status `{other}`: expected PASS, FAIL, INCONCLUSIVE or ROLLBACK (a later perfcert's record?)",
            authentic.shown
        ))),
    }
}

/// The promotion gate: checks every approval beside the certificate under the CAB policy,
/// printing one line per required role. A forged approval is exit 4 here; `Err(text)` names the
/// roles still needed (exit 7 for a PASS).
fn approvals(
    policy: &Path,
    trusted: &crate::approval::Trusted,
    authentic: &authenticate::Authentic,
    endpoint: Option<&str>,
    checks: &mut Checks,
) -> Result<Result<Vec<String>, Needed>, Failure> {
    use crate::approval::{self, RoleState};
    let stem = crate::store::layout::stem_of(&authentic.file_name).unwrap_or(&authentic.file_name);
    let (found, ignored) = pipeline::find_approvals(&authentic.folder, stem, endpoint)?;
    for note in &ignored {
        checks.ui.warn(note);
    }
    // Keyless: Rekor's time of the certificate; key-signed: the time it says it was made.
    let (time, time_source) = match authentic.logged_at {
        Some(t) => (t, "Rekor time"),
        None => (
            authentic.cert.date.parse().map_err(|_| {
                not_authentic(&authentic.shown, format!("its date `{}` is not an RFC 3339 time", authentic.cert.date))
            })?,
            "its date",
        ),
    };
    let target = approval::Target {
        cert: &authentic.bytes,
        bundle: &authentic.bundle,
        time,
        time_source,
        now: jiff::Timestamp::now(),
    };
    let judged = approval::judge(trusted, &target, &found).map_err(|f| not_authentic(&f.shown, f.why))?;
    for note in &judged.notes {
        checks.ui.warn(note);
    }
    let mut needed = vec![];
    let mut roles_needed = vec![];
    for (role, state) in &judged.roles {
        if !matches!(state, RoleState::Approved { .. }) {
            roles_needed.push(role.clone());
        }
        let line = match state {
            RoleState::Approved { signer, at } => format!("{role}: approved by {signer} at {at}"),
            RoleState::Rejected { signer, comment } => {
                let why = comment.as_ref().map(|c| format!(": \"{c}\"")).unwrap_or_default();
                needed.push(format!("{role} (rejected by {signer})"));
                format!("{role}: REJECTED by {signer}{why}")
            }
            RoleState::Missing { why } => {
                needed.push(format!("{role} ({why})"));
                format!("{role}: MISSING ({why})")
            }
        };
        checks.pass("approval", line)?;
    }
    Ok(if needed.is_empty() {
        Ok(judged.roles.iter().map(|(r, _)| r.clone()).collect())
    } else {
        Err(Needed {
            roles: roles_needed,
            message: format!(
                "not approved: authentic {} under {}: still needed: {}",
                authentic.cert.status,
                policy.display(),
                needed.join(", ")
            ),
        })
    })
}

/// Checks the given inputs against the recorded digests, recomputes on the recorded day, and
/// compares the outcomes.
fn recompute(inputs: &options::Inputs, cert: &Certificate, bytes: &[u8], ui: &Ui) -> Result<String, Failure> {
    let fail = |why: String| Failure::not_authentic(anyhow!("not authentic: recomputation: {why}"));
    let check = |role: &str, given: &[(Option<usize>, &Path)], recorded: &[FileDigest]| {
        if given.len() != recorded.len() {
            // What the user gave is short of (or more than) what certify was given: an input
            // error that names what to give, not evidence that the certificate is not authentic.
            let names: Vec<&str> = recorded.iter().map(|r| r.file.as_str()).collect();
            return Err(Failure::input(anyhow!(
                "--recompute: {} {role} file(s) given, {} recorded{}: give each recorded file as --{role}, as certify \
                 was given them",
                given.len(),
                recorded.len(),
                if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
            )));
        }
        for ((run, path), rec) in given.iter().zip(recorded) {
            if *run != rec.run {
                let show = |r: Option<usize>| r.map_or_else(|| "the only run".to_string(), |r| format!("run {r}"));
                // How the user grouped the files, not the certificate: an input error.
                return Err(Failure::input(anyhow!(
                    "--recompute: {role} {} is part of {} as given, of {} in the certificate: give the runs as \
                     certify was given them (one --{role} per run, parts joined with +)",
                    path.display(),
                    show(*run),
                    show(rec.run)
                )));
            }
            let sha = pipeline::sha256_of(path)?;
            if sha != rec.sha256 {
                return Err(fail(format!(
                    "{role} {}: sha256 {sha} differs from the recorded {} ({})",
                    path.display(),
                    rec.sha256,
                    rec.file
                )));
            }
        }
        Ok(())
    };
    check("baseline", &crate::input::spec::numbered_parts(&inputs.baseline), &cert.inputs.baseline)?;
    check("current", &crate::input::spec::numbered_parts(&inputs.current), &cert.inputs.current)?;
    check("duet", &crate::input::spec::numbered_parts(&inputs.duet), &cert.inputs.duet)?;
    check("thresholds", &[(None, inputs.thresholds.as_path())], std::slice::from_ref(&cert.inputs.thresholds))?;
    check("reference", &crate::input::spec::numbered_parts(&inputs.reference), &cert.inputs.reference)?;
    let as_of = cert.as_of.parse().map_err(|_| fail(format!("recorded as_of `{}` is not a date", cert.as_of)))?;
    // The testbeds certify was told (flags) are part of how the runs were made: give them again.
    let testbed = |side: &indexmap::IndexMap<String, String>| side.get("testbed").cloned();
    let (baseline_testbed, current_testbed) = match &cert.fingerprints {
        Some(f) => (testbed(&f.baseline), testbed(&f.current)),
        None => (None, None),
    };
    // At the recorded look's rates, not a recount of the archive (which has grown since); a
    // version-1 certificate predates looks and was decided at the full rates.
    let look = cert.decision.as_ref().map_or(options::LookAt::BeforeLooks, |d| options::LookAt::Nth(d.look));
    // A decision made with --noise-from is recomputed from exactly the history it recorded,
    // read again from that archive (or where --noise-from says it is now).
    let recorded = match cert.decision.as_ref().and_then(|d| d.history.as_ref()) {
        Some(h) => Some(
            crate::history::Recorded::from_value(h)
                .map_err(|e| fail(format!("its decision.history is not readable: {e}")))?,
        ),
        None => None,
    };
    let noise_from = match &recorded {
        Some(r) => Some(match &inputs.noise_from {
            Some(given) => given.clone(),
            None => {
                r.archive.parse().map_err(|e| fail(format!("its decision.history archive `{}`: {e}", r.archive)))?
            }
        }),
        None => None,
    };
    let inputs = options::Inputs {
        as_of: Some(as_of),
        look,
        noise_from,
        noise_recorded: recorded,
        service: Some(cert.service.clone()),
        baseline_testbed,
        current_testbed,
        ..inputs.clone()
    };
    let loaded = pipeline::load_and_compare(&inputs, ui)?;
    let mut again = crate::certificate::build(
        crate::certificate::Identity {
            service: cert.service.clone(),
            version: cert.version.clone(),
            commit: cert.commit.clone(),
            date: cert.date.clone(),
            approvers: cert.approvers.clone(),
            signature: cert.signature,
        },
        &loaded.comparison,
        &loaded.baseline,
        &loaded.current,
        cert.inputs.clone(),
        loaded.decision.clone(),
    );
    // A certificate of another perfcert version may have been decided by other rules: say so,
    // so that a difference is not read as tampering without that context.
    let versions = if cert.perfcert_version == env!("CARGO_PKG_VERSION") {
        String::new()
    } else {
        format!(
            " (it was made by perfcert {}, this is {}: if the decision rules changed in between, recompute with {})",
            cert.perfcert_version,
            env!("CARGO_PKG_VERSION"),
            cert.perfcert_version
        )
    };
    for ((name, recorded), (_, now)) in cert.outcome().iter().zip(again.outcome()) {
        if *recorded != now {
            return Err(fail(format!("`{name}` differs from the certificate's{versions}")));
        }
    }
    if cert.schema == crate::certificate::SCHEMA {
        return Ok(format!(
            "inputs match their recorded sha256; verdict {} reproduced exactly (as of {})",
            again.status, cert.as_of
        ));
    }
    // Version 2: the whole document, byte for byte (the perfcert version is the signer's).
    again.perfcert_version = cert.perfcert_version.clone();
    let rebuilt = again.to_json();
    if rebuilt.as_bytes() != bytes {
        let at = rebuilt.bytes().zip(bytes).position(|(a, b)| a != *b).unwrap_or(rebuilt.len().min(bytes.len()));
        return Err(fail(format!(
            "the certificate rebuilt from its inputs differs from the file from byte {at} on (line {})",
            rebuilt.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1
        )));
    }
    let look = cert.decision.as_ref().map(|d| format!(", look {} of {}", d.look, d.looks)).unwrap_or_default();
    Ok(format!(
        "inputs match their recorded sha256; certificate rebuilt byte for byte, verdict {} (as of {}{look})",
        again.status, cert.as_of
    ))
}
