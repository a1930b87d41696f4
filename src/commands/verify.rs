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

use crate::certificate::{Certificate, FileDigest};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::options::{self, Target, Trust, Verify};
use crate::pipeline;
use crate::signing::keyless;
use crate::signing::{self, VerifyError};
use crate::store::s3::S3Archive;
use crate::store::{self, Archive, Contents, S3Location, StoreError, layout};
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

fn not_authentic(what: &str, why: impl std::fmt::Display) -> Failure {
    Failure::not_authentic(anyhow!("not authentic: {what}: {why}"))
}

pub fn run(o: Verify, ui: &Ui) -> Result<ExitStatus, Failure> {
    let fetched = fetch(&o)?;
    let mut checks = Checks { ui, rows: vec![] };
    checks.pass("certificate", fetched.cert_shown.clone())?;
    checks.pass("bundle", fetched.bundle_shown.clone())?;
    let bundle = String::from_utf8(fetched.bundle)
        .map_err(|_| Failure::input(anyhow!("{}: not UTF-8; expected a Sigstore bundle", fetched.bundle_shown)))?;
    let bundle_name = fetched.bundle_shown.as_str();

    let statement = match &o.trust {
        Trust::Key(key_path) => {
            let key = pipeline::read_public_key(key_path)?;
            let statement = signing::verify_with_key(&key, &bundle).map_err(|e| match e {
                VerifyError::Key(why) => {
                    Failure::input(anyhow!("{}: not a usable public key: {why}", key_path.display()))
                }
                e @ VerifyError::UnknownVersion(_) => Failure::input(anyhow!("{bundle_name}: {e}")),
                e => not_authentic(bundle_name, e),
            })?;
            checks
                .pass("signature", format!("OK: the in-toto statement is signed by the key {}", key_path.display()))?;
            statement
        }
        Trust::Keyless { rule, issuer, trusted_root } => {
            let (root, root_name) = match trusted_root {
                Some(path) => {
                    let json =
                        std::fs::read_to_string(path).map_err(|e| Failure::input(anyhow!(fsutil::at(path, &e))))?;
                    let root = keyless::trusted_root(Some(&json))
                        .map_err(|e| Failure::input(anyhow!("{}: not a Sigstore trusted root: {e}", path.display())))?;
                    (root, path.display().to_string())
                }
                None => {
                    (keyless::trusted_root(None).expect("the built-in root parses"), "the public-good root".to_string())
                }
            };
            let (statement, who) =
                keyless::verify(&root, &bundle, &fetched.cert, rule, issuer).map_err(|e| match e {
                    VerifyError::TrustedRoot(why) => {
                        Failure::input(anyhow!("{root_name}: the trusted root is not usable: {why}"))
                    }
                    e @ VerifyError::UnknownVersion(_) => Failure::input(anyhow!("{bundle_name}: {e}")),
                    e => not_authentic(bundle_name, e),
                })?;
            let mut line = format!("OK: its Fulcio certificate chains to {root_name}");
            if let Some(t) = who.logged_at {
                line.push_str(&format!(", logged in Rekor at {}", t.strftime("%Y-%m-%dT%H:%M:%SZ")));
            }
            if let Some(t) = who.timestamps.iter().find(|t| Some(**t) != who.logged_at) {
                line.push_str(&format!(", timestamped {}", t.strftime("%Y-%m-%dT%H:%M:%SZ")));
            }
            checks.pass("signature", line)?;
            checks.pass("signer", format!("OK: {} (issuer {})", who.identity, who.issuer))?;
            statement
        }
    };

    let cert_shown = fetched.cert_shown.as_str();
    let cert_value: Option<serde_json::Value> = serde_json::from_slice(&fetched.cert).ok();
    if cert_value.as_ref() != Some(&statement.predicate) {
        return Err(not_authentic(cert_shown, "the file differs from the certificate that was signed"));
    }
    let cert_sha = signing::sha256_hex(&fetched.cert);
    let signed_as = statement
        .subject
        .iter()
        .filter(|s| s.digest.get("sha256").is_some_and(|d| d.eq_ignore_ascii_case(&cert_sha)))
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>();
    if signed_as.is_empty() {
        return Err(not_authentic(cert_shown, format!("its sha256 {cert_sha} is not among the signed subjects")));
    }
    if !signed_as.contains(&fetched.file_name.as_str()) {
        return Err(not_authentic(
            cert_shown,
            format!(
                "it was signed as {}, not as {}: a certificate is valid only under the name it was signed with",
                signed_as.join(", "),
                fetched.file_name
            ),
        ));
    }
    checks.pass(
        "content",
        format!(
            "OK: the certificate file is exactly the signed predicate ({}), signed as {}",
            statement.predicate_type, fetched.file_name
        ),
    )?;
    let cert: Certificate = serde_json::from_value(statement.predicate.clone())
        .map_err(|e| Failure::input(anyhow!("{cert_shown}: not a perfcert certificate: {e}")))?;
    // The predicate type and the schema must agree, and the schema must have its fields: a
    // reader of one version must never take the other for it.
    let version_ok = crate::certificate::schema_of(&statement.predicate_type) == Some(cert.schema)
        && (cert.schema == crate::certificate::SCHEMA_DECISION)
            == (cert.decision.is_some() && cert.runs_needed.is_some())
        && (cert.schema != crate::certificate::SCHEMA || (cert.decision.is_none() && cert.runs_needed.is_none()));
    if !version_ok {
        return Err(not_authentic(
            cert_shown,
            format!(
                "it says schema {} under the predicate type {}: schema 1 is {} without `decision`, schema 2 is {} \
                 with `decision` and `runs_needed`",
                cert.schema,
                statement.predicate_type,
                crate::certificate::PREDICATE_TYPE,
                crate::certificate::PREDICATE_TYPE_V2
            ),
        ));
    }

    for (flag, wanted, found) in [("--service", &o.service, &cert.service), ("--version", &o.version, &cert.version)] {
        if let Some(wanted) = wanted
            && wanted != found
        {
            return Err(not_authentic(cert_shown, format!("it certifies {flag} {found}, not {wanted}")));
        }
    }
    if o.service.is_some() || o.version.is_some() {
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
        let line = recompute(inputs, &cert, &fetched.cert, ui)?;
        checks.pass("recomputed", format!("OK: {line}"))?;
    }
    let approvers = if cert.approvers.is_empty() { "none".to_string() } else { cert.approvers.join(", ") };
    checks.pass(
        "verdict",
        format!("{} ({} {}, certified {}, approvers: {approvers})", cert.status, cert.service, cert.version, cert.date),
    )?;

    if let Some(gh) = &ui.github {
        let mut summary =
            format!("### perfcert verify: authentic, {} ({} {})\n\n", cert.status, cert.service, cert.version);
        summary.push_str("| Check | Result |\n|---|---|\n");
        for (name, text) in &checks.rows {
            summary.push_str(&format!("| {name} | {} |\n", text.replace('|', "\\|").replace('\n', "<br>")));
        }
        gh.summary(ui, &(summary + "\n"));
        let outputs = [
            ("status", cert.status.clone()),
            ("service", cert.service.clone()),
            ("version", cert.version.clone()),
            ("certificate", fetched.cert_shown.clone()),
        ];
        gh.outputs(ui, &outputs);
    }
    Ok(match cert.status.as_str() {
        "PASS" => ExitStatus::Pass,
        "INCONCLUSIVE" => ExitStatus::Inconclusive,
        _ => ExitStatus::Fail,
    })
}

/// The certificate and its bundle, wherever they are.
struct Fetched {
    cert: Vec<u8>,
    cert_shown: String,
    /// The certificate's own file name, which must be what was signed.
    file_name: String,
    bundle: Vec<u8>,
    bundle_shown: String,
}

fn fetch(o: &Verify) -> Result<Fetched, Failure> {
    let endpoint = o.endpoint.as_deref();
    let (cert, cert_shown, file_name, beside) = match &o.certificate {
        options::Certificate::At(target) => {
            let (bytes, shown) = read(target, endpoint)?;
            let file_name = match target {
                Target::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                Target::S3 { key, .. } => key.rsplit('/').next().unwrap_or_default().to_string(),
            };
            let beside = match (&o.bundle, layout::bundle_beside(&file_name)) {
                (Some(_), _) => None,
                (None, Some(name)) => Some(match target {
                    Target::File(p) => Target::File(p.with_file_name(name)),
                    Target::S3 { bucket, key } => Target::S3 {
                        bucket: bucket.clone(),
                        key: format!("{}{name}", &key[..key.len() - file_name.len()]),
                    },
                }),
                (None, None) => {
                    return Err(Failure::input(anyhow!(
                        "{target}: not named *.cert.json, so its bundle cannot be found beside it; pass --bundle"
                    )));
                }
            };
            (bytes, shown, file_name, beside)
        }
        options::Certificate::InArchive(location) => {
            let (service, version) =
                (o.service.as_deref().unwrap_or_default(), o.version.as_deref().unwrap_or_default());
            let archive = store::open(location, endpoint).map_err(store_failure)?;
            let keys = archive.list().map_err(store_failure)?;
            let contents = Contents::of(keys.iter().map(String::as_str));
            let stem = layout::stem(service, version);
            let names = contents
                .newest_of(&stem)
                .ok_or_else(|| Failure::input(anyhow!("{}: no certificate of {service} {version}", archive.root())))?;
            let cert = archive.read(&names.certificate()).map_err(store_failure)?;
            let shown = archive.show(&names.certificate());
            if o.bundle.is_none() {
                let bundle = archive.read(&names.bundle()).map_err(store_failure)?;
                let bundle_shown = archive.show(&names.bundle());
                let file_name = names.certificate_file_name();
                return Ok(Fetched { cert, cert_shown: shown, file_name, bundle, bundle_shown });
            }
            (cert, shown, names.certificate_file_name(), None)
        }
    };
    let bundle_target = o.bundle.clone().or(beside).expect("a bundle is given or found beside the certificate");
    let (bundle, bundle_shown) = read(&bundle_target, endpoint)?;
    Ok(Fetched { cert, cert_shown, file_name, bundle, bundle_shown })
}

/// A file or an S3 object's bytes, and how to name it.
fn read(target: &Target, endpoint: Option<&str>) -> Result<(Vec<u8>, String), Failure> {
    match target {
        Target::File(path) => {
            let bytes = std::fs::read(path).map_err(|e| Failure::input(anyhow!(fsutil::at(path, &e))))?;
            Ok((bytes, path.display().to_string()))
        }
        Target::S3 { bucket, key } => {
            let location = S3Location { bucket: bucket.clone(), prefix: String::new() };
            let archive = S3Archive::connect(location, endpoint, Default::default())
                .map_err(|e| Failure::external(anyhow!("{target}: {e}")))?;
            Ok((archive.read(key).map_err(store_failure)?, target.to_string()))
        }
    }
}

/// A missing certificate or bundle is the user's to fix (exit 2); a store that fails is exit 3.
fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::NotFound { .. } => Failure::input(anyhow!("{e}")),
        e => Failure::external(anyhow!("{e}")),
    }
}

/// Checks the given inputs against the recorded digests, recomputes on the recorded day, and
/// compares the outcomes.
fn recompute(inputs: &options::Inputs, cert: &Certificate, bytes: &[u8], ui: &Ui) -> Result<String, Failure> {
    let fail = |why: String| Failure::not_authentic(anyhow!("not authentic: recomputation: {why}"));
    let check = |role: &str, given: &[(Option<usize>, &Path)], recorded: &[FileDigest]| {
        if given.len() != recorded.len() {
            return Err(fail(format!("{} {role} file(s) given, {} recorded", given.len(), recorded.len())));
        }
        for ((run, path), rec) in given.iter().zip(recorded) {
            if *run != rec.run {
                let show = |r: Option<usize>| r.map_or_else(|| "the only run".to_string(), |r| format!("run {r}"));
                return Err(fail(format!(
                    "{role} {} is part of {} as given, of {} in the certificate: give the runs as certify was \
                     given them (one --{role} per run, parts joined with +)",
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
