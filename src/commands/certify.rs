//! `perfcert certify`: compare, build the certificate, sign it, archive both files.
//!
//! Writes `ARCHIVE/YYYYMMDD/SERVICE-VERSION.cert.json` and `.sigstore.json` atomically and
//! never over existing files (exit 3 on a clash; `--force` picks `SERVICE-VERSION.2...`).
//! FAIL results are certified too and exit 1.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::compare::{Labels, check_outputs, load_and_compare, publish, write_extras};
use super::ui::Ui;
use super::upload;
use crate::certificate::{self, Certificate, FileDigest, Identity, Inputs, Method};
use crate::cli::{CertifyArgs, PathsFormat, SigningArgs};
use crate::compare::Verdict;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::signing::keyless::{self, Instance, TokenSource};
use crate::signing::{self, Subject, cosign_key};
use sigstore_sign::oidc::IdentityToken;

/// How this run signs, prepared before any work so that a bad key or token fails first.
enum Signing {
    Key { path: PathBuf, pem: String },
    Keyless { token: Box<IdentityToken>, instance: Instance },
}

impl Signing {
    fn prepare(args: &SigningArgs) -> Result<Signing, Failure> {
        if let Some(path) = &args.mode.key {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| Failure::input(anyhow!("{}: {}", path.display(), fsutil::io_reason(&e))))?;
            return Ok(Signing::Key { path: path.clone(), pem });
        }
        let given = args.identity_token.clone().or_else(|| std::env::var("SIGSTORE_ID_TOKEN").ok());
        let source = match given {
            Some(jwt) if !jwt.trim().is_empty() => TokenSource::Given(jwt),
            _ => TokenSource::Ambient,
        };
        let token = keyless::identity_token(source).map_err(keyless_failure)?;
        let instance = match (&args.fulcio_url, &args.rekor_url) {
            (Some(fulcio), Some(rekor)) => {
                Instance::Custom { fulcio: fulcio.clone(), rekor: rekor.clone(), tsa: args.tsa_url.clone() }
            }
            _ => Instance::PublicGood,
        };
        Ok(Signing::Keyless { token: Box::new(token), instance })
    }

    fn describe(&self) -> String {
        match self {
            Signing::Key { path, .. } => format!("with the key {}", path.display()),
            Signing::Keyless { instance: Instance::PublicGood, .. } => "keyless, Sigstore public-good instance".into(),
            Signing::Keyless { instance: Instance::Custom { fulcio, rekor, .. }, .. } => {
                format!("keyless, Fulcio {fulcio}, Rekor {rekor}")
            }
        }
    }

    fn method(&self) -> Method {
        match self {
            Signing::Key { .. } => Method::Key,
            Signing::Keyless { .. } => Method::Keyless,
        }
    }

    /// The bundle's JSON, and the signer's identity when a certificate names one.
    fn sign(self, payload: Vec<u8>) -> Result<(String, Option<String>), Failure> {
        match self {
            Signing::Key { path, pem } => {
                let password = super::password::read(false)?;
                let pkcs8 = cosign_key::decrypt(&pem, &password)
                    .map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))?;
                drop(password);
                let bundle = signing::sign_with_key(&pkcs8, payload)
                    .map_err(|e| Failure::input(anyhow!("{}: {e}", path.display())))?;
                Ok((bundle, None))
            }
            Signing::Keyless { token, instance } => {
                let signed = keyless::sign(*token, &instance, &payload).map_err(keyless_failure)?;
                Ok((signed.bundle, signed.identity))
            }
        }
    }
}

fn keyless_failure(e: keyless::SignError) -> Failure {
    if e.is_input() { Failure::input(e) } else { Failure::external(e) }
}

pub fn run(args: CertifyArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let put_options = match &args.upload {
        Some(_) => Some(upload::options(&args.s3)?),
        None if upload::any_flag(&args.s3) => {
            return Err(Failure::input(anyhow!(
                "--sse, --sse-kms-key-id, --retain-days and --endpoint-url need --upload s3://BUCKET[/PREFIX]"
            )));
        }
        None => None,
    };
    let extra_paths = args.extra.paths();
    check_outputs(&args.inputs, extra_paths.iter().collect())?;
    let signing = Signing::prepare(&args.signing)?;
    ui.detail(&format!("signing: {}", signing.describe()));
    let loaded = load_and_compare(&args.inputs, ui)?;
    let (current, comparison) = (&loaded.current, &loaded.comparison);
    // The reports and badge are the comparison's, so they are written even if signing fails.
    let labels = Labels::of(&args.inputs);
    let report = labels.report(&loaded);
    let written = write_extras(&report, &args.extra, ui)?;

    let service = args.service.clone().or(current.service.clone()).ok_or_else(|| {
        Failure::input(anyhow!("no service name: pass --service NAME (or set `service` in the current results file)"))
    })?;
    let version = args.service_version.clone().or(current.version.clone()).ok_or_else(|| {
        Failure::input(anyhow!("no version: pass --version VERSION (or set `version` in the current results file)"))
    })?;
    let commit = args.commit.clone().or(current.commit.clone()).or_else(git_head);
    let now = jiff::Timestamp::now();
    let identity = Identity {
        service,
        version,
        commit,
        date: now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        approvers: args.approvers.clone(),
        signature: signing.method(),
    };
    let inputs = Inputs {
        baseline: digests(&args.inputs.baseline)?,
        current: digests(&args.inputs.current)?,
        thresholds: digests(std::slice::from_ref(&args.inputs.thresholds))?.remove(0),
    };
    let cert = certificate::build(identity, comparison, current, inputs);

    let mut subjects = vec![];
    for path in &args.subjects {
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        subjects.push(Subject::digest(name, "sha256", super::sha256_of(path)?));
    }
    for (name, hex) in &args.subject_digests {
        subjects.push(Subject::digest(name.clone(), "sha256", hex.clone()));
    }
    if subjects.is_empty()
        && let Some(commit) = &cert.commit
    {
        subjects.push(Subject::digest("commit", "gitCommit", commit.clone()));
    }

    // Decide the names first: the certificate file is itself a signed subject.
    let day_dir = args.archive_dir.join(now.strftime("%Y%m%d").to_string());
    let (cert_path, bundle_path) = free_names(&day_dir, &cert.stem(), args.force)?;
    let cert_json = cert.to_json();
    let cert_name = cert_path.file_name().expect("a file name").to_string_lossy().into_owned();
    subjects.push(Subject::sha256(cert_name, cert_json.as_bytes()));

    let (bundle, signer) = signing.sign(signing::statement(&cert, &subjects))?;

    // Only now touch the archive: a failed signing leaves nothing behind.
    std::fs::create_dir_all(&day_dir)
        .map_err(|e| Failure::external(anyhow!("{}: cannot create: {}", day_dir.display(), fsutil::io_reason(&e))))?;

    write(&cert_path, &cert_json)?;
    if let Err(e) = write(&bundle_path, &bundle) {
        let _ = std::fs::remove_file(&cert_path);
        return Err(e);
    }
    let mut upload_failure = None;
    let mut uploaded = vec![];
    if let (Some(location), Some(options)) = (&args.upload, &put_options) {
        let day = now.strftime("%Y%m%d").to_string();
        let (cert, bundle) = ((cert_path.as_path(), cert_json.as_bytes()), (bundle_path.as_path(), bundle.as_bytes()));
        match upload::push_pair(location, options, args.s3.endpoint_url.as_deref(), &day, cert, bundle) {
            Ok(done) => uploaded = done,
            Err(e) => {
                upload_failure = Some(Failure::external(anyhow!(
                    "{e}\nThe certificate is archived locally as {}; upload it once S3 is reachable:\n  \
                     perfcert upload {} --to {location}",
                    cert_path.display(),
                    cert_path.display()
                )))
            }
        }
    }
    if !(ui.quiet() && args.format == PathsFormat::Text) {
        print_paths(&cert, signer.as_deref(), &cert_path, &bundle_path, &uploaded, args.format);
    }
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
    // push_pair uploads the bundle first.
    if let [bundle_object, cert_object] = uploaded.as_slice() {
        outputs.push(("certificate-url", cert_object.url.clone()));
        outputs.push(("bundle-url", bundle_object.url.clone()));
        tail.push_str(&format!(", uploaded to `{}`", cert_object.url));
    }
    if upload_failure.is_some() {
        tail.push_str("; **the upload to S3 failed** (see the step's log)");
    }
    tail.push('\n');
    // Reported even when the upload failed: the certificate exists, and the runner should say where.
    publish(ui, &report, &written, outputs, &tail);
    if let Some(failure) = upload_failure {
        return Err(failure);
    }
    Ok(match comparison.verdict {
        Verdict::Pass => ExitStatus::Pass,
        Verdict::Fail => ExitStatus::Fail,
    })
}

/// `STEM.cert.json` / `STEM.sigstore.json`, or with `force` the first `STEM.N.*` both free.
fn free_names(dir: &Path, stem: &str, force: bool) -> Result<(PathBuf, PathBuf), Failure> {
    let names = |s: &str| (dir.join(format!("{s}.cert.json")), dir.join(format!("{s}.sigstore.json")));
    let (cert, bundle) = names(stem);
    if !cert.exists() && !bundle.exists() {
        return Ok((cert, bundle));
    }
    if !force {
        return Err(Failure::external(anyhow!(
            "{}: a certificate for this service and version already exists and is never overwritten; \
             pass --force to write this one under a new name",
            cert.display()
        )));
    }
    (2..10_000)
        .map(|n| names(&format!("{stem}.{n}")))
        .find(|(c, b)| !c.exists() && !b.exists())
        .ok_or_else(|| Failure::external(anyhow!("{}: no free name left for {stem}", dir.display())))
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    fsutil::write_new_atomic(path, text.as_bytes(), None).map_err(|e| {
        Failure::external(match e.kind() {
            io::ErrorKind::AlreadyExists => anyhow!("{}: appeared while certifying; not overwritten", path.display()),
            _ => anyhow!("{}: cannot write: {}", path.display(), fsutil::io_reason(&e)),
        })
    })
}

fn digests(paths: &[PathBuf]) -> Result<Vec<FileDigest>, Failure> {
    paths.iter().map(|p| Ok(FileDigest { file: p.display().to_string(), sha256: super::sha256_of(p)? })).collect()
}

/// The checked-out commit, if this is a git work tree and git is installed.
fn git_head() -> Option<String> {
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    let sha = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !sha.is_empty()).then_some(sha)
}

fn print_paths(
    cert: &Certificate,
    signer: Option<&str>,
    cert_path: &Path,
    bundle_path: &Path,
    uploaded: &[upload::Uploaded],
    format: PathsFormat,
) {
    let mut out = io::stdout().lock();
    let _ = match format {
        PathsFormat::Text => {
            let by = signer.map(|s| format!(" by {s}")).unwrap_or_default();
            writeln!(
                out,
                "{} {} {}: certified {}{by}\ncertificate {}\nbundle      {}",
                cert.service,
                cert.version,
                cert.status,
                cert.signature_name(),
                cert_path.display(),
                bundle_path.display()
            )
            .and_then(|()| uploaded.iter().try_for_each(|u| writeln!(out, "uploaded    {}", u.url)))
        }
        PathsFormat::Json => {
            let mut value = serde_json::json!({
                "status": cert.status,
                "certificate": cert_path.display().to_string(),
                "bundle": bundle_path.display().to_string(),
            });
            if let Some(signer) = signer {
                value["signer"] = signer.into();
            }
            if !uploaded.is_empty() {
                value["uploaded"] = uploaded.iter().map(|u| u.url.clone()).collect::<Vec<_>>().into();
            }
            writeln!(out, "{value}")
        }
    };
}
