//! Is this certificate authentic? Fetches a certificate and its bundle (files, `s3://` objects,
//! or the newest of a name in an archive) and runs the checks `verify` and `baseline promote`
//! share, in order: the bundle's signature (with the key, or keyless: chain, log, signer); that
//! the certificate file is exactly the signed predicate and, under its own file name, a signed
//! subject; that the predicate type and the certificate's schema agree.
//!
//! Each check that passes is handed to the caller (`pass(name, text)`), which prints it or not;
//! the first that fails is exit 4 with the check's name. A mistake in what the user gave (an
//! unreadable file, a private key as `--key`, a certificate of a later version than this perfcert
//! reads) is exit 2. It does not judge what the certificate says (its status, service or
//! subjects): that is the caller's.

use anyhow::anyhow;

use crate::certificate::Certificate;
use crate::exit::Failure;
use crate::fsutil;
use crate::options::{self, Target, Trust};
use crate::pipeline;
use crate::signing::keyless;
use crate::signing::{self, Statement, VerifyError};
use crate::store::s3::S3Archive;
use crate::store::{self, Archive, Contents, S3Location, StoreError, layout};

/// Exit 4: `not authentic: WHAT: WHY`.
pub fn not_authentic(what: &str, why: impl std::fmt::Display) -> Failure {
    Failure::not_authentic(anyhow!("not authentic: {what}: {why}"))
}

/// Where the certificate is, and how to find its bundle.
pub struct Wanted<'a> {
    pub certificate: &'a options::Certificate,
    /// `--bundle`; default: `SERVICE-VERSION.sigstore.json` beside the certificate.
    pub bundle: Option<&'a Target>,
    pub endpoint: Option<&'a str>,
    /// With [`options::Certificate::InArchive`]: the service and version to find.
    pub service: Option<&'a str>,
    pub version: Option<&'a str>,
}

impl<'a> From<&'a options::Named> for Wanted<'a> {
    fn from(n: &'a options::Named) -> Self {
        Wanted {
            certificate: &n.certificate,
            bundle: n.bundle.as_ref(),
            endpoint: n.endpoint.as_deref(),
            service: n.service.as_deref(),
            version: n.version.as_deref(),
        }
    }
}

/// The certificate and its bundle, wherever they are.
pub struct Fetched {
    pub cert: Vec<u8>,
    pub cert_shown: String,
    /// The certificate's own file name, which must be what was signed.
    pub file_name: String,
    pub bundle: Vec<u8>,
    pub bundle_shown: String,
    /// Where its approvals are: beside it.
    pub folder: Folder,
}

/// A certificate's folder: an archive, and the folder in it (`""` or `DAY/`), where its
/// approvals are stored beside it.
#[derive(Debug, Clone)]
pub struct Folder {
    pub location: store::Location,
    pub prefix: String,
}

impl Folder {
    fn of(target: &Target) -> Folder {
        match target {
            Target::File(p) => {
                let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
                Folder { location: store::Location::Dir(dir.to_path_buf()), prefix: String::new() }
            }
            Target::S3 { bucket, key } => {
                let prefix = key.rsplit_once('/').map(|(p, _)| p).unwrap_or_default().to_string();
                Folder {
                    location: store::Location::S3(S3Location { bucket: bucket.clone(), prefix }),
                    prefix: String::new(),
                }
            }
        }
    }
}

/// A certificate that passed every check of [`authenticate`].
pub struct Authentic {
    pub cert: Certificate,
    pub statement: Statement,
    /// The certificate file's bytes, exactly as signed.
    pub bytes: Vec<u8>,
    /// Where it was read from, as given (a path or `s3://BUCKET/KEY`).
    pub shown: String,
    /// Its file name, under which it was signed.
    pub file_name: String,
    /// Who signed it, as checked: `key FILE`, or `IDENTITY (issuer URL)`.
    pub signer: String,
    /// Its bundle's bytes.
    pub bundle: Vec<u8>,
    /// When Rekor logged its signature (keyless).
    pub logged_at: Option<jiff::Timestamp>,
    /// Where its approvals are.
    pub folder: Folder,
}

/// Reads the certificate and its bundle.
pub fn fetch(w: &Wanted) -> Result<Fetched, Failure> {
    let endpoint = w.endpoint;
    let (cert, cert_shown, file_name, beside, folder) = match w.certificate {
        options::Certificate::At(target) => {
            let (bytes, shown) = read(target, endpoint)?;
            let file_name = match target {
                Target::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                Target::S3 { key, .. } => key.rsplit('/').next().unwrap_or_default().to_string(),
            };
            let named = layout::bundle_beside(&file_name).or_else(|| layout::record_bundle_beside(&file_name));
            let beside = match (w.bundle, named) {
                (Some(_), _) => None,
                (None, Some(name)) => Some(match target {
                    Target::File(p) => Target::File(p.with_file_name(name)),
                    Target::S3 { bucket, key } => Target::S3 {
                        bucket: bucket.clone(),
                        key: format!("{}{name}", &key[..key.len() - file_name.len()]),
                    },
                }),
                (None, None) => {
                    if let Some(archived) = copied_record(&bytes, None) {
                        return Err(Failure::input(anyhow!(
                            "{target}: a bake record written by `perfcert bake --output`: a working copy, not signed \
                             under this name; verify the archived copy {archived} in the bake's --archive (its bundle \
                             beside it)"
                        )));
                    }
                    return Err(Failure::input(anyhow!(
                        "{target}: not named *.cert.json (or *.verify.json), so its bundle cannot be found beside it; \
                         pass --bundle"
                    )));
                }
            };
            (bytes, shown, file_name, beside, Folder::of(target))
        }
        options::Certificate::InArchive(location) => {
            let (service, version) = (w.service.unwrap_or_default(), w.version.unwrap_or_default());
            let archive = store::open(location, endpoint).map_err(store_failure)?;
            let keys = archive.list().map_err(store_failure)?;
            let contents = Contents::of(keys.iter().map(String::as_str));
            let stem = layout::stem(service, version);
            let names = contents
                .newest_of(&stem)
                .ok_or_else(|| Failure::input(anyhow!("{}: no certificate of {service} {version}", archive.root())))?;
            let cert = archive.read(&names.certificate()).map_err(store_failure)?;
            let shown = archive.show(&names.certificate());
            let folder = Folder { location: location.clone(), prefix: format!("{}/", names.day) };
            if w.bundle.is_none() {
                let bundle = archive.read(&names.bundle()).map_err(store_failure)?;
                let bundle_shown = archive.show(&names.bundle());
                let file_name = names.certificate_file_name();
                return Ok(Fetched { cert, cert_shown: shown, file_name, bundle, bundle_shown, folder });
            }
            (cert, shown, names.certificate_file_name(), None, folder)
        }
    };
    let bundle_target = w.bundle.cloned().or(beside).expect("a bundle is given or found beside the certificate");
    let (bundle, bundle_shown) = read(&bundle_target, endpoint)?;
    Ok(Fetched { cert, cert_shown, file_name, bundle, bundle_shown, folder })
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
pub fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::NotFound { .. } => Failure::input(anyhow!("{e}")),
        e => Failure::external(anyhow!("{e}")),
    }
}

/// When `bytes` read as a bake record: the archive name it was filed under,
/// `daily/YYYYMMDD/STEM.verify.json` (the day of its `window.judged_to`; the file name
/// `signed_as`, or else the first of its service and version; `STEM.N` when that day already
/// had one, which the record cannot tell).
fn copied_record(bytes: &[u8], signed_as: Option<&str>) -> Option<String> {
    let record: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let reads_as_record = record.get("deployed_at").is_some() && record.get("polls").is_some();
    if !reads_as_record || record.get("decision").is_some() {
        return None;
    }
    let judged_to = record["window"]["judged_to"].as_str()?;
    let first = match signed_as {
        Some(name) => name.to_string(),
        None => {
            let field = |k: &str| record[k].as_str().map(str::to_string);
            layout::record_file_name(&layout::stem(&field("service")?, &field("version")?))
        }
    };
    let archived = layout::archived_record(&first, judged_to)?;
    Some(match signed_as {
        Some(_) => archived,
        None => format!("{archived} (or STEM.N.verify.json if that day already had a bake of this version)"),
    })
}

/// Runs the checks in order, handing each that passes to `pass` (`certificate`, `bundle`,
/// `signature`, keyless `signer`, `content`); the first that fails is exit 4 naming it.
pub fn authenticate(
    fetched: Fetched,
    trust: &Trust,
    pass: &mut dyn FnMut(&'static str, String) -> Result<(), Failure>,
) -> Result<Authentic, Failure> {
    pass("certificate", fetched.cert_shown.clone())?;
    pass("bundle", fetched.bundle_shown.clone())?;
    let bundle = String::from_utf8(fetched.bundle.clone())
        .map_err(|_| Failure::input(anyhow!("{}: not UTF-8; expected a Sigstore bundle", fetched.bundle_shown)))?;
    let bundle_name = fetched.bundle_shown.as_str();

    let (statement, signer, logged_at) = signature(&bundle, bundle_name, &fetched.cert, trust, None, pass)?;
    let cert_shown = fetched.cert_shown.as_str();
    signed_content(&fetched, &statement, "certificate", pass)?;
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
    Ok(Authentic {
        cert,
        statement,
        bytes: fetched.cert,
        shown: fetched.cert_shown,
        file_name: fetched.file_name,
        signer,
        bundle: fetched.bundle,
        logged_at,
        folder: fetched.folder,
    })
}

/// Whether `fetched` is a bake's verification record rather than a certificate: named
/// `*.verify.json`, or its bundle claims the record's predicate type, or the file reads as a
/// record (`deployed_at` and `polls`). Decided from content, not only the name, since bake
/// writes the record to `--output` (perf_verification.json) under any name. The claim is not
/// trusted: the record's checks then verify the signature over that very predicate type.
pub fn is_record(fetched: &Fetched) -> bool {
    use base64::Engine;
    if layout::is_record(&fetched.file_name) {
        return true;
    }
    let claimed = serde_json::from_slice::<serde_json::Value>(&fetched.bundle)
        .ok()
        .and_then(|b| b["dsseEnvelope"]["payload"].as_str().map(str::to_string))
        .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|st| st["predicateType"].as_str().map(str::to_string));
    if let Some(predicate_type) = claimed {
        return predicate_type == crate::bake::PREDICATE_TYPE;
    }
    serde_json::from_slice::<serde_json::Value>(&fetched.cert)
        .is_ok_and(|v| v.get("deployed_at").is_some() && v.get("polls").is_some() && v.get("decision").is_none())
}

/// A bake's verification record that passed every check: the signature (with the key, or
/// keyless: chain, log, signer) over a statement of [`crate::bake::PREDICATE_TYPE`] whose
/// predicate is exactly the file, signed under its own file name.
pub struct AuthenticRecord {
    pub record: serde_json::Value,
    pub statement: Statement,
    pub shown: String,
    pub signer: String,
}

/// As [`authenticate`], for a verification record (`STEM.verify.json`).
pub fn authenticate_record(
    mut fetched: Fetched,
    trust: &Trust,
    pass: &mut dyn FnMut(&'static str, String) -> Result<(), Failure>,
) -> Result<AuthenticRecord, Failure> {
    pass("record", fetched.cert_shown.clone())?;
    pass("bundle", fetched.bundle_shown.clone())?;
    let bundle = String::from_utf8(std::mem::take(&mut fetched.bundle))
        .map_err(|_| Failure::input(anyhow!("{}: not UTF-8; expected a Sigstore bundle", fetched.bundle_shown)))?;
    let (statement, signer, _) =
        signature(&bundle, &fetched.bundle_shown, &fetched.cert, trust, Some(crate::bake::PREDICATE_TYPE), pass)?;
    signed_content(&fetched, &statement, "record", pass)?;
    Ok(AuthenticRecord { record: statement.predicate.clone(), statement, shown: fetched.cert_shown, signer })
}

/// The bundle's signature by `trust`, over a certificate's statement (`other`: `None`) or one
/// of another predicate type; each check that passes goes to `pass`. With the statement: the
/// signer, and when keyless, the time Rekor logged it.
fn signature(
    bundle: &str,
    bundle_name: &str,
    artifact: &[u8],
    trust: &Trust,
    other: Option<&str>,
    pass: &mut dyn FnMut(&'static str, String) -> Result<(), Failure>,
) -> Result<(Statement, String, Option<jiff::Timestamp>), Failure> {
    Ok(match trust {
        Trust::Key(key_path) => {
            let key = pipeline::read_public_key(key_path)?;
            let verified = match other {
                None => signing::verify_with_key(&key, bundle),
                Some(predicate_type) => signing::verify_other_with_key(&key, bundle, predicate_type),
            };
            let statement = verified.map_err(|e| match e {
                VerifyError::Key(why) => {
                    Failure::input(anyhow!("{}: not a usable public key: {why}", key_path.display()))
                }
                e @ VerifyError::UnknownVersion(_) => Failure::input(anyhow!("{bundle_name}: {e}")),
                e => not_authentic(bundle_name, e),
            })?;
            pass("signature", format!("OK: the in-toto statement is signed by the key {}", key_path.display()))?;
            (statement, format!("key {}", key_path.display()), None)
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
            let verified = match other {
                None => keyless::verify(&root, bundle, artifact, rule, issuer),
                Some(predicate_type) => keyless::verify_other(&root, bundle, artifact, rule, issuer, predicate_type),
            };
            let (statement, who) = verified.map_err(|e| match e {
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
            pass("signature", line)?;
            let signer = format!("{} (issuer {})", who.identity, who.issuer);
            pass("signer", format!("OK: {signer}"))?;
            (statement, signer, who.logged_at)
        }
    })
}

/// The file is exactly the signed predicate, and its sha256 is a subject under its own name.
fn signed_content(
    fetched: &Fetched,
    statement: &Statement,
    what: &str,
    pass: &mut dyn FnMut(&'static str, String) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let cert_shown = fetched.cert_shown.as_str();
    let cert_value: Option<serde_json::Value> = serde_json::from_slice(&fetched.cert).ok();
    if cert_value.as_ref() != Some(&statement.predicate) {
        return Err(not_authentic(cert_shown, format!("the file differs from the {what} that was signed")));
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
        // A record signed, byte for byte, under its archived name and copied (bake's --output,
        // any name that is not a record's): genuine, only given under another name, so the
        // user's to fix (exit 2). Under another record's name it poses as that one: exit 4.
        if what == "record"
            && !layout::is_record(&fetched.file_name)
            && let Some(archived) = copied_record(&fetched.cert, Some(signed_as[0]))
        {
            return Err(Failure::input(anyhow!(
                "{cert_shown}: a copy of a genuine bake record (bake's --output): it was signed as {}, not as {}, \
                 and a record is valid only under the name it was signed with; verify the archived copy {archived} \
                 in the bake's --archive (its bundle beside it)",
                signed_as[0],
                fetched.file_name
            )));
        }
        return Err(not_authentic(
            cert_shown,
            format!(
                "it was signed as {}, not as {}: a {what} is valid only under the name it was signed with{}",
                signed_as.join(", "),
                fetched.file_name,
                if what == "record" {
                    format!(
                        "; verify the archived copy (daily/YYYYMMDD/{} in the bake's --archive, its bundle beside it)",
                        signed_as[0]
                    )
                } else {
                    String::new()
                }
            ),
        ));
    }
    pass(
        "content",
        format!(
            "OK: the {what} file is exactly the signed predicate ({}), signed as {}",
            statement.predicate_type, fetched.file_name
        ),
    )?;
    Ok(())
}
