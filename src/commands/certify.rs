//! `perfcert certify`: compare, build the certificate, sign it, archive it (and upload it).
//!
//! The order is what makes it safe: everything that can fail for a reason the user can fix
//! (key, token, S3 credentials and bucket, inputs) fails before anything is written; the name
//! is claimed before signing (the certificate's file name is a signed subject); the bundle is
//! written before the certificate. FAIL results are certified too and exit 1.
//!
//! Looks (`decision.method: statistical`): each certificate of a service and version is one
//! look at it; this run is look 1 + the certificates already archived under that name (locally
//! and, with `--upload`, in S3). An INCONCLUSIVE newest certificate lets the next look take the
//! next free name without `--force`; past `decision.looks` certify refuses (exit 3, as for a
//! taken name: the archive holds all this name may have) before anything is signed.

use std::path::PathBuf;

use anyhow::anyhow;

use crate::certificate::{self, Certificate, FileDigest, Identity, Inputs};
use crate::exit::{ExitStatus, Failure};
use crate::index;
use crate::input::spec::RunSpec;
use crate::options::{Certify, Print, S3Write};
use crate::pipeline::signing::Signing;
use crate::pipeline::{self, Labels};
use crate::signing::{self, Subject};
use crate::store::local::Dir;
use crate::store::s3::S3Archive;
use crate::store::{self, Archive, ClaimError, Contents, Names, Put, Shown, layout};
use crate::ui::Ui;

/// The S3 archive an upload goes to, with what it already holds; connecting and listing it is
/// the check that credentials, region and bucket work, made before anything is signed.
struct Remote {
    archive: S3Archive,
    contents: Contents,
    write: S3Write,
}

impl Remote {
    fn connect(write: &S3Write) -> Result<Remote, Failure> {
        let archive = S3Archive::connect(write.location.clone(), write.endpoint.as_deref(), write.put.clone())
            .map_err(|e| Failure::external(anyhow!("--upload {}: {e}", write.location)))?;
        let keys = archive.list().map_err(|e| Failure::external(anyhow!("--upload {}: {e}", write.location)))?;
        let contents = Contents::of(keys.iter().map(String::as_str));
        Ok(Remote { archive, contents, write: write.clone() })
    }
}

pub fn run(o: Certify, ui: &Ui) -> Result<ExitStatus, Failure> {
    pipeline::check_outputs(&o.inputs, o.outputs.paths().iter().collect())?;
    let signing = Signing::prepare(&o.signer)?;
    ui.detail(&format!("signing: {}", signing.describe()));
    let remote = o.upload.as_ref().map(Remote::connect).transpose()?;
    let mut loaded = pipeline::load_and_compare(&o.inputs, ui)?;
    let service = o.service.clone().or(loaded.current.service.clone());
    let version = o.version.clone().or(loaded.current.version.clone());
    let local = Dir::new(o.archive.clone());
    // The look, before any report shows it; a missing name is reported below, as before.
    let mut next_look_free = false;
    if let (Some(decision), Some(service), Some(version)) = (loaded.decision.as_mut(), &service, &version) {
        let earlier = Earlier::find(&local, remote.as_ref(), &layout::stem(service, version))?;
        decision.look = earlier.count + 1;
        ui.detail(&format!("look {} of {} at {service} {version}", decision.look, decision.looks));
        if decision.look > decision.looks {
            return Err(Failure::external(anyhow!(
                "{service} {version} has had its {} looks (decision.looks), the last {}: a look past them would \
                 test again at rates already spent. Settle it without more runs: waive what fails (waivers:), \
                 accept or reject the release by hand, or certify a new version",
                decision.looks,
                earlier.newest.as_deref().unwrap_or("in the archive")
            )));
        }
        next_look_free = earlier.inconclusive;
    }
    let (current, comparison) = (&loaded.current, &loaded.comparison);
    // The reports and badge are the comparison's, so they are written even if signing fails.
    let labels = Labels::of(&o.inputs);
    let report = labels.report(&loaded);
    let written = pipeline::write_outputs(&report, &o.outputs, ui)?;

    let service = service.ok_or_else(|| {
        Failure::input(anyhow!("no service name: pass --service NAME (or set `service` in the current results file)"))
    })?;
    let version = version.ok_or_else(|| {
        Failure::input(anyhow!("no version: pass --version VERSION (or set `version` in the current results file)"))
    })?;
    let commit = o.commit.clone().or(current.commit.clone()).or_else(git_head);
    let now = jiff::Timestamp::now();
    let identity = Identity {
        service,
        version,
        commit,
        date: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        approvers: o.approvers.clone(),
        signature: signing.method(),
    };
    let inputs = Inputs {
        baseline: run_digests(&o.inputs.baseline)?,
        current: run_digests(&o.inputs.current)?,
        duet: run_digests(&o.inputs.duet)?,
        thresholds: digests(std::slice::from_ref(&o.inputs.thresholds))?.remove(0),
        reference: match &loaded.reference_record {
            Some(record) => vec![record.clone()],
            None => run_digests(&o.inputs.reference)?,
        },
    };
    let cert = certificate::build(identity, comparison, &loaded.baseline, current, inputs, loaded.decision.clone());
    let cert_json = cert.to_json();

    let mut subjects = vec![];
    for path in &o.subjects {
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        subjects.push(Subject::digest(name, "sha256", pipeline::sha256_of(path)?));
    }
    for (name, hex) in &o.subject_digests {
        subjects.push(Subject::digest(name.clone(), "sha256", hex.clone()));
    }
    if subjects.is_empty()
        && let Some(commit) = &cert.commit
    {
        subjects.push(Subject::digest("commit", "gitCommit", commit.clone()));
    }

    // Claim the name first: the certificate's file name is itself a signed subject. After an
    // INCONCLUSIVE look the next look takes the next free name as --force would.
    let day = now.strftime("%Y%m%d").to_string();
    let names = claim(&local, remote.as_ref(), &cert, &cert_json, &day, o.force || next_look_free)?;
    ui.detail(&format!("claimed {}", local.show(&names.claim())));
    subjects.push(Subject::sha256(names.certificate_file_name(), cert_json.as_bytes()));

    let (bundle, signer) = match signing.sign(signing::statement(&cert, &subjects)) {
        Ok(signed) => signed,
        Err(e) => {
            // Nothing was signed: give the name back.
            let _ = local.release_claim(&names);
            return Err(e);
        }
    };
    // The bundle first: a certificate in the archive always has its signature beside it.
    for (relative, bytes) in [(names.bundle(), bundle.as_bytes()), (names.certificate(), cert_json.as_bytes())] {
        match local.create(&relative, bytes) {
            Ok(_) => ui.detail(&format!("wrote {}", local.show(&relative))),
            Err(e) => return Err(Failure::external(anyhow!("{e}"))),
        }
    }
    // Then its index line (history, reports, Athena): derived from the certificate alone.
    let (index_name, index_line) =
        index::entry(&names, cert_json.as_bytes()).map_err(|e| Failure::external(anyhow!(e)))?;
    match local.create(&index_name, &index_line) {
        Ok(_) => ui.detail(&format!("wrote {}", local.show(&index_name))),
        Err(e) => {
            return Err(Failure::external(anyhow!(
                "{e}\nThe certificate is archived; add its index line with `perfcert index rebuild {}`",
                local.root()
            )));
        }
    }
    let cert_path = PathBuf::from(local.show(&names.certificate()));
    let bundle_path = PathBuf::from(local.show(&names.bundle()));

    let mut upload_failure = None;
    let mut uploaded = vec![];
    if let Some(remote) = &remote {
        match store::copy_certificate(
            &remote.archive,
            &remote.contents,
            &names,
            cert_json.as_bytes(),
            bundle.as_bytes(),
        ) {
            Ok(done) => uploaded = done,
            Err(e) => {
                upload_failure = Some(Failure::external(anyhow!(
                    "{e}\nThe certificate is archived locally as {}; upload it once S3 is reachable:\n  {}",
                    cert_path.display(),
                    upload_command(&cert_path, &remote.write)
                )))
            }
        }
    }
    print_paths(ui, &cert, signer.as_deref(), (&cert_path, &bundle_path), &uploaded, o.format)?;

    let mut outputs = vec![
        ("certificate", cert_path.display().to_string()),
        ("bundle", bundle_path.display().to_string()),
        ("signature", cert.signature_name().to_string()),
    ];
    if let Some(signer) = &signer {
        outputs.push(("signer", signer.clone()));
    }
    let mut tail = format!(
        "\n**Certified** {} {} {}, signed {}{}: `{}`",
        cert.service,
        cert.version,
        cert.status,
        cert.signature_name(),
        signer.as_deref().map(|s| format!(" by {s}")).unwrap_or_default(),
        cert_path.display()
    );
    // copy_certificate reports the bundle, then the certificate.
    if let [(bundle_url, _), (cert_url, _)] = uploaded.as_slice() {
        outputs.push(("certificate-url", cert_url.clone()));
        outputs.push(("bundle-url", bundle_url.clone()));
        tail.push_str(&format!(", uploaded to `{cert_url}`"));
    }
    if upload_failure.is_some() {
        tail.push_str("; **the upload to S3 failed** (see the step's log)");
    }
    tail.push('\n');
    // Reported even when the upload failed: the certificate exists, and the runner should say where.
    pipeline::publish(ui, &report, &written, outputs, &tail);
    // The certificate exists even when the upload failed: say so. Never the exit code.
    let mut outcome = crate::notify::Outcome::of_certificate(&cert, &crate::signing::sha256_hex(cert_json.as_bytes()));
    // The message names where the certificate is: its S3 URL when uploaded, else its path.
    if let [_, (cert_url, _)] = uploaded.as_slice() {
        outcome.location = Some(cert_url.clone());
    }
    pipeline::notify(ui, outcome, Some(&cert_path), &o.notify, true);
    if let Some(failure) = upload_failure {
        return Err(failure);
    }
    Ok(pipeline::exit_status(comparison))
}

/// The certificates of one service and version already archived: the earlier looks at it.
struct Earlier {
    count: u32,
    /// The newest, as shown (path or URL).
    newest: Option<String>,
    /// Whether the newest says INCONCLUSIVE.
    inconclusive: bool,
}

impl Earlier {
    fn find(local: &Dir, remote: Option<&Remote>, stem: &str) -> Result<Earlier, Failure> {
        let keys = local.list().map_err(|e| Failure::external(anyhow!("{e}")))?;
        let contents = Contents::of(keys.iter().map(String::as_str));
        // By N, from either archive (the local copy first): a certificate uploaded from
        // another machine is a look too.
        let mut found: std::collections::BTreeMap<u32, (&dyn Archive, Names)> = Default::default();
        for (n, names) in contents.certificates_of(stem) {
            found.entry(n).or_insert((local, names.clone()));
        }
        if let Some(r) = remote {
            for (n, names) in r.contents.certificates_of(stem) {
                found.entry(n).or_insert((&r.archive, names.clone()));
            }
        }
        let Some((archive, names)) = found.values().next_back() else {
            return Ok(Earlier { count: 0, newest: None, inconclusive: false });
        };
        let status = archive
            .read(&names.certificate())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(String::from));
        Ok(Earlier {
            count: u32::try_from(found.len()).unwrap_or(u32::MAX),
            newest: Some(format!(
                "{} ({})",
                archive.show(&names.certificate()),
                status.as_deref().unwrap_or("unreadable")
            )),
            inconclusive: status.as_deref() == Some("INCONCLUSIVE"),
        })
    }
}

/// Claims `SERVICE-VERSION` (or with `force` the next free `SERVICE-VERSION.N`) in the local
/// archive, free in the S3 one too.
fn claim(
    local: &Dir,
    remote: Option<&Remote>,
    cert: &Certificate,
    cert_json: &str,
    day: &str,
    force: bool,
) -> Result<Names, Failure> {
    let keys = local.list().map_err(|e| Failure::external(anyhow!("{e}")))?;
    let contents = Contents::of(keys.iter().map(String::as_str));
    let others: Vec<&Contents> = remote.iter().map(|r| &r.contents).collect();
    let stem = layout::stem(&cert.service, &cert.version);
    let sha = signing::sha256_hex(cert_json.as_bytes());
    store::claim(local, &contents, &others, &stem, day, force, |n| n.claim_content(&sha)).map_err(|e| match e {
        ClaimError::Taken { .. } => {
            let (archive, held) = match contents.certificate_of(&stem) {
                Some(n) => (local.root(), local.show(&n.certificate())),
                None if contents.taken(&stem) => (local.root(), local.show(&Names::new(day, &stem).claim())),
                None => {
                    let r = remote.expect("taken in one of the archives");
                    let at = r.contents.certificate_of(&stem).map_or_else(
                        || r.archive.show(&Names::new(day, &stem).claim()),
                        |n| r.archive.show(&n.certificate()),
                    );
                    (r.archive.root(), at)
                }
            };
            Failure::external(anyhow!(
                "{} {} is already certified in {archive} ({held}); a certificate is never overwritten: \
                 pass --force to certify this run under the next free name ({stem}.2, ...)",
                cert.service,
                cert.version
            ))
        }
        e => Failure::external(anyhow!("{e}")),
    })
}

/// The command that finishes a failed upload, with every S3 option that was given.
fn upload_command(cert: &std::path::Path, write: &S3Write) -> String {
    let mut words = vec!["perfcert".to_string(), "upload".into(), cert.display().to_string(), "--to".into()];
    words.push(write.location.to_string());
    words.extend(write.flags.iter().cloned());
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
}

/// A word as a POSIX shell reads it back unchanged.
fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn digests(paths: &[PathBuf]) -> Result<Vec<FileDigest>, Failure> {
    paths
        .iter()
        .map(|p| Ok(FileDigest { file: p.display().to_string(), sha256: pipeline::sha256_of(p)?, run: None }))
        .collect()
}

/// Every part file of every run of a side, numbered as certificates record them.
fn run_digests(runs: &[RunSpec]) -> Result<Vec<FileDigest>, Failure> {
    crate::input::spec::numbered_parts(runs)
        .into_iter()
        .map(|(run, path)| Ok(FileDigest { file: path.display().to_string(), sha256: pipeline::sha256_of(path)?, run }))
        .collect()
}

/// The checked-out commit, if this is a git work tree and git is installed.
fn git_head() -> Option<String> {
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !sha.is_empty()).then_some(sha)
}

fn print_paths(
    ui: &Ui,
    cert: &Certificate,
    signer: Option<&str>,
    (cert_path, bundle_path): (&std::path::Path, &std::path::Path),
    uploaded: &[(Shown, Put)],
    format: Print,
) -> Result<(), Failure> {
    match format {
        Print::Text => ui.say(|out| {
            let by = signer.map(|s| format!(" by {s}")).unwrap_or_default();
            let look = cert.decision.as_ref().map(|d| format!(", look {} of {}", d.look, d.looks)).unwrap_or_default();
            writeln!(
                out,
                "{} {} {}: certified {}{by}{look}\ncertificate {}\nbundle      {}",
                cert.service,
                cert.version,
                cert.status,
                cert.signature_name(),
                cert_path.display(),
                bundle_path.display()
            )?;
            // What did not pass, so a FAIL says why without opening the certificate.
            let rows = cert.comparison.as_array().map(Vec::as_slice).unwrap_or_default();
            for (status, label) in [("FAIL", "failed     "), ("INCONCLUSIVE", "inconclusive")] {
                let names: Vec<&str> = rows
                    .iter()
                    .filter(|r| r.get("status").and_then(|s| s.as_str()) == Some(status))
                    .filter_map(|r| r.get("name").and_then(|n| n.as_str()))
                    .collect();
                if !names.is_empty() {
                    writeln!(out, "{label} {}", names.join(", "))?;
                }
            }
            for (url, put) in uploaded {
                writeln!(out, "{} {url}", crate::ui::uploaded(*put))?;
            }
            Ok(())
        }),
        Print::Json => {
            let mut value = serde_json::json!({
                "status": cert.status,
                "certificate": cert_path.display().to_string(),
                "bundle": bundle_path.display().to_string(),
            });
            if let Some(signer) = signer {
                value["signer"] = signer.into();
            }
            if !uploaded.is_empty() {
                value["uploaded"] = uploaded.iter().map(|(url, _)| url.clone()).collect::<Vec<_>>().into();
            }
            ui.output(|out| writeln!(out, "{value}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_commands_survive_the_shell() {
        assert_eq!(shell_quote("s3://b/p"), "s3://b/p");
        assert_eq!(shell_quote("alias/my key"), "'alias/my key'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
