//! `perfcert verify`: is this certificate authentic, and what did it certify?
//!
//! Checks, in order, each failing with exit 4 and the check's name: the bundle's signature with
//! the given key; the statement's type and predicate type; that the certificate file is exactly
//! the signed predicate and is itself a signed subject; the subjects asked for; with
//! `--recompute`, the recorded inputs' sha256 and the verdict recomputed from them.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::compare::{Loaded, load_and_compare};
use super::ui::Ui;
use crate::certificate::Certificate;
use crate::cli::{InputArgs, VerifyArgs};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::s3;
use crate::signing::keyless::{self, IdentityRule};
use crate::signing::{self, Statement, VerifyError};

pub fn run(args: VerifyArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let (cert_bytes, bundle_bytes, bundle_name) = fetch(&args)?;
    let bundle = String::from_utf8(bundle_bytes)
        .map_err(|_| Failure::input(anyhow!("{bundle_name}: not UTF-8; expected a Sigstore bundle")))?;

    let not_authentic = |what: &str, why: String| Failure::not_authentic(anyhow!("not authentic: {what}: {why}"));
    let (statement, signed_by) = match &args.signer.identity.key {
        Some(key_path) => {
            let key = String::from_utf8(read(key_path)?)
                .map_err(|_| Failure::input(anyhow!("{}: not UTF-8; expected a PEM public key", key_path.display())))?;
            let statement =
                signing::verify_with_key(&key, &bundle).map_err(|e| not_authentic(&bundle_name, e.to_string()))?;
            (statement, format!("the in-toto statement is signed by the key {}", key_path.display()))
        }
        None => verify_keyless(&args, &bundle, &cert_bytes).map_err(|e| match e {
            KeylessFailure::Input(f) => f,
            KeylessFailure::Check(e) => not_authentic(&bundle_name, e.to_string()),
        })?,
    };
    let cert_name = args.certificate.display().to_string();
    let cert_value: Option<serde_json::Value> = serde_json::from_slice(&cert_bytes).ok();
    if cert_value.as_ref() != Some(&statement.predicate) {
        return Err(not_authentic(&cert_name, "the file differs from the certificate that was signed".into()));
    }
    let cert_value = statement.predicate.clone();
    let cert_sha = signing::sha256_hex(&cert_bytes);
    if !has_sha256(&statement, &cert_sha) {
        return Err(not_authentic(&cert_name, format!("its sha256 {cert_sha} is not among the signed subjects")));
    }
    let cert: Certificate = serde_json::from_value(cert_value)
        .map_err(|e| Failure::input(anyhow!("{cert_name}: not a perfcert certificate: {e}")))?;

    for path in &args.subjects {
        let sha = super::sha256_of(path)?;
        if !has_sha256(&statement, &sha) {
            return Err(not_authentic(
                &path.display().to_string(),
                format!("sha256 {sha} is not a subject of this certificate"),
            ));
        }
    }
    for (name, sha) in &args.subject_digests {
        if !has_sha256(&statement, sha) {
            return Err(not_authentic(name, format!("sha256 {sha} is not a subject of this certificate")));
        }
    }
    let recomputed = if args.recompute { Some(recompute(&args, &cert, ui)?) } else { None };

    let subjects: Vec<String> = statement
        .subject
        .iter()
        .map(|s| {
            let digests: Vec<String> = s.digest.iter().map(|(alg, v)| format!("{alg}:{v}")).collect();
            format!("{} ({})", s.name, digests.join(", "))
        })
        .collect();
    let approvers = if cert.approvers.is_empty() { "none".to_string() } else { cert.approvers.join(", ") };
    let mut checks = vec![
        ("certificate", cert_name.clone()),
        ("bundle", bundle_name.clone()),
        ("signature", format!("OK: {signed_by}")),
        ("content", format!("OK: the certificate file is exactly the signed predicate ({})", statement.predicate_type)),
        ("subjects", subjects.join("; ")),
    ];
    if let Some(line) = recomputed {
        checks.push(("recomputed", format!("OK: {line}")));
    }
    checks.push((
        "verdict",
        format!("{} ({} {}, certified {}, approvers: {approvers})", cert.status, cert.service, cert.version, cert.date),
    ));
    if !ui.quiet() {
        let mut out = io::stdout().lock();
        for (name, text) in &checks {
            let _ = writeln!(out, "{name:<12} {text}");
        }
    }
    if let Some(gh) = &ui.github {
        let mut summary =
            format!("### perfcert verify: authentic, {} ({} {})\n\n", cert.status, cert.service, cert.version);
        summary.push_str("| Check | Result |\n|---|---|\n");
        for (name, text) in &checks {
            summary.push_str(&format!("| {name} | {} |\n", text.replace('|', "\\|")));
        }
        gh.summary(ui, &(summary + "\n"));
        let outputs = [
            ("status", cert.status.clone()),
            ("service", cert.service.clone()),
            ("version", cert.version.clone()),
            ("certificate", cert_name),
        ];
        gh.outputs(ui, &outputs);
    }
    Ok(if cert.status == "PASS" { ExitStatus::Pass } else { ExitStatus::Fail })
}

/// A file the user named; one that cannot be read is an input error naming it.
fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::input(anyhow!("{}: {}", path.display(), fsutil::io_reason(&e))))
}

/// The certificate's and the bundle's bytes, from files or from S3, and the bundle's name.
fn fetch(args: &VerifyArgs) -> Result<(Vec<u8>, Vec<u8>, String), Failure> {
    let cert = args.certificate.to_str().and_then(|s| s.strip_prefix("s3://"));
    let bundle = args.bundle.as_ref().and_then(|p| p.to_str()).and_then(|s| s.strip_prefix("s3://"));
    if cert.is_none() && bundle.is_none() {
        let bundle_path = match &args.bundle {
            Some(p) => p.clone(),
            None => sibling_bundle(&args.certificate)?,
        };
        return Ok((read(&args.certificate)?, read(&bundle_path)?, bundle_path.display().to_string()));
    }
    let store = s3::Store::connect(args.endpoint_url.as_deref()).map_err(|e| Failure::external(anyhow!("{e}")))?;
    let get = |rest: &str| -> Result<Vec<u8>, Failure> {
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| Failure::input(anyhow!("s3://{rest}: expected s3://BUCKET/KEY")))?;
        store.get(bucket, key).map_err(|e| match e {
            s3::S3Error::NotFound { .. } => Failure::input(anyhow!("{e}")),
            e => Failure::external(anyhow!("{e}")),
        })
    };
    let cert_bytes = match cert {
        Some(rest) => get(rest)?,
        None => read(&args.certificate)?,
    };
    let (bundle_bytes, bundle_name) = match (&args.bundle, bundle, cert) {
        (_, Some(rest), _) => (get(rest)?, format!("s3://{rest}")),
        (Some(path), None, _) => (read(path)?, path.display().to_string()),
        (None, None, Some(rest)) => {
            let stem = rest.strip_suffix(".cert.json").ok_or_else(|| {
                Failure::input(anyhow!(
                    "s3://{rest}: not named *.cert.json, so its bundle cannot be found beside it; pass --bundle"
                ))
            })?;
            let sibling = format!("{stem}.sigstore.json");
            (get(&sibling)?, format!("s3://{sibling}"))
        }
        (None, None, None) => unreachable!("handled above"),
    };
    Ok((cert_bytes, bundle_bytes, bundle_name))
}

enum KeylessFailure {
    /// A flag or file the user gave is unusable (exit 2).
    Input(Failure),
    /// A check failed (exit 4).
    Check(VerifyError),
}

/// Keyless verification: the statement, and the signer said in words.
fn verify_keyless(args: &VerifyArgs, bundle: &str, cert_bytes: &[u8]) -> Result<(Statement, String), KeylessFailure> {
    let signer = &args.signer;
    let rule = match (&signer.identity.certificate_identity, &signer.identity.certificate_identity_regexp) {
        (Some(id), _) => IdentityRule::Exact(id.clone()),
        (None, Some(re)) => IdentityRule::Regex(regex::Regex::new(re).map_err(|e| {
            KeylessFailure::Input(Failure::input(anyhow!(
                "--certificate-identity-regexp: not a regular expression: {e}"
            )))
        })?),
        (None, None) => unreachable!("clap requires a key or an identity"),
    };
    let issuer = signer.certificate_oidc_issuer.as_deref().expect("clap requires the issuer with an identity");
    let (root, root_name) = match &signer.trusted_root {
        Some(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| {
                KeylessFailure::Input(Failure::input(anyhow!("{}: {}", path.display(), fsutil::io_reason(&e))))
            })?;
            let root = keyless::trusted_root(Some(&json)).map_err(|e| {
                KeylessFailure::Input(Failure::input(anyhow!("{}: not a Sigstore trusted root: {e}", path.display())))
            })?;
            (root, path.display().to_string())
        }
        None => (keyless::trusted_root(None).expect("the built-in root parses"), "the public-good root".to_string()),
    };
    let (statement, who) = keyless::verify(&root, bundle, cert_bytes, &rule, issuer).map_err(|e| match e {
        VerifyError::TrustedRoot(why) => {
            KeylessFailure::Input(Failure::input(anyhow!("{root_name}: the trusted root is not usable: {why}")))
        }
        e => KeylessFailure::Check(e),
    })?;
    let mut line = format!("its Fulcio certificate chains to {root_name}");
    if let Some(t) = who.logged_at {
        line.push_str(&format!(", logged in Rekor at {}", t.strftime("%Y-%m-%dT%H:%M:%SZ")));
    }
    if let Some(t) = who.timestamps.iter().find(|t| Some(**t) != who.logged_at) {
        line.push_str(&format!(", timestamped {}", t.strftime("%Y-%m-%dT%H:%M:%SZ")));
    }
    line.push_str(&format!("\nsigner       OK: {} (issuer {})", who.identity, who.issuer));
    Ok((statement, line))
}

/// `X.cert.json` -> `X.sigstore.json`.
pub(super) fn sibling_bundle(cert: &Path) -> Result<PathBuf, Failure> {
    let name = cert.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match name.strip_suffix(".cert.json") {
        Some(stem) => Ok(cert.with_file_name(format!("{stem}.sigstore.json"))),
        None => Err(Failure::input(anyhow!(
            "{}: not named *.cert.json, so its bundle cannot be found beside it; pass --bundle FILE",
            cert.display()
        ))),
    }
}

fn has_sha256(statement: &Statement, sha: &str) -> bool {
    statement.subject.iter().any(|s| s.digest.get("sha256").is_some_and(|d| d.eq_ignore_ascii_case(sha)))
}

/// Checks the given inputs against the recorded digests, recomputes, and compares outcomes.
fn recompute(args: &VerifyArgs, cert: &Certificate, ui: &Ui) -> Result<String, Failure> {
    let fail = |why: String| Failure::not_authentic(anyhow!("not authentic: recomputation: {why}"));
    let check = |role: &str, given: &[PathBuf], recorded: &[crate::certificate::FileDigest]| {
        if given.len() != recorded.len() {
            return Err(fail(format!("{} {role} file(s) given, {} recorded", given.len(), recorded.len())));
        }
        for (path, rec) in given.iter().zip(recorded) {
            let sha = super::sha256_of(path)?;
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
    check("baseline", &args.baseline, &cert.inputs.baseline)?;
    check("current", &args.current, &cert.inputs.current)?;
    check("thresholds", std::slice::from_ref(&args.thresholds), std::slice::from_ref(&cert.inputs.thresholds))?;
    let as_of = cert.as_of.parse().map_err(|_| fail(format!("recorded as_of `{}` is not a date", cert.as_of)))?;
    let inputs = InputArgs {
        baseline: args.baseline.clone(),
        current: args.current.clone(),
        baseline_format: args.baseline_format,
        current_format: args.current_format,
        thresholds: args.thresholds.clone(),
        as_of: Some(as_of),
    };
    let Loaded { current, comparison, .. } = load_and_compare(&inputs, ui)?;
    let again = crate::certificate::build(
        crate::certificate::Identity {
            service: cert.service.clone(),
            version: cert.version.clone(),
            commit: cert.commit.clone(),
            date: cert.date.clone(),
            approvers: cert.approvers.clone(),
            signature: cert.signature,
        },
        &comparison,
        &current,
        cert.inputs.clone(),
    );
    for ((name, recorded), (_, now)) in cert.outcome().iter().zip(again.outcome()) {
        if *recorded != now {
            return Err(fail(format!("`{name}` differs from the certificate's")));
        }
    }
    Ok(format!(
        "inputs match their recorded sha256; verdict {} reproduced exactly (as of {})",
        again.status, cert.as_of
    ))
}
