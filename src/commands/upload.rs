//! `perfcert upload` and `certify --upload`: copy an archived certificate and its bundle to S3
//! under `PREFIX/YYYYMMDD/`, the same names as the local archive, create-only.

use std::io::{self, Write};
use std::path::Path;

use anyhow::anyhow;

use super::ui::Ui;
use crate::cli::{RetentionMode, UploadArgs, UploadCmdArgs};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::s3::{Encryption, Location, Put, PutOptions, Retention, S3Error, Store};

/// One uploaded object: its URL and whether it was created now or already there.
pub struct Uploaded {
    pub url: String,
    pub put: Put,
}

/// The put options the flags ask for; flags that need another flag are usage errors.
pub fn options(args: &UploadArgs) -> Result<PutOptions, Failure> {
    let encryption = match (args.sse.as_deref(), &args.sse_kms_key_id) {
        (None, None) => None,
        (Some("AES256"), None) => Some(Encryption::Aes256),
        (Some("aws:kms"), key_id) => Some(Encryption::Kms { key_id: key_id.clone() }),
        (_, Some(_)) => return Err(Failure::input(anyhow!("--sse-kms-key-id needs --sse aws:kms"))),
        (Some(other), None) => return Err(Failure::input(anyhow!("--sse {other}: expected aws:kms or AES256"))),
    };
    let retention = args.retain_days.map(|days| Retention {
        compliance: args.retention_mode == RetentionMode::Compliance,
        until: jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * i64::from(days)),
    });
    Ok(PutOptions { encryption, retention })
}

/// Whether any S3 write flag was given (they need a destination).
pub fn any_flag(args: &UploadArgs) -> bool {
    args.sse.is_some() || args.sse_kms_key_id.is_some() || args.retain_days.is_some() || args.endpoint_url.is_some()
}

/// Uploads an archived certificate and its bundle to `LOCATION/DAY/` under their file names:
/// the bundle first, so a certificate seen in S3 always has its signature beside it.
pub fn push_pair(
    location: &Location,
    options: &PutOptions,
    endpoint: Option<&str>,
    day: &str,
    (cert_path, cert): (&Path, &[u8]),
    (bundle_path, bundle): (&Path, &[u8]),
) -> Result<Vec<Uploaded>, S3Error> {
    let store = Store::connect(endpoint)?;
    let mut done = vec![];
    for (path, bytes) in [(bundle_path, bundle), (cert_path, cert)] {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let key = location.key(&format!("{day}/{name}"));
        let put = store.put_new(&location.bucket, &key, bytes, "application/json", options)?;
        done.push(Uploaded { url: location.url(&key), put });
    }
    Ok(done)
}

/// `perfcert upload CERT.cert.json --to s3://...`: for a certificate archived before, or whose
/// upload failed during certify.
pub fn run(args: UploadCmdArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let options = options(&args.s3)?;
    let cert_path = &args.certificate;
    let bundle_path = super::verify::sibling_bundle(cert_path)?;
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| Failure::input(anyhow!("{}: {}", p.display(), fsutil::io_reason(&e))));
    let (cert, bundle) = (read(cert_path)?, read(&bundle_path)?);
    let doc: crate::certificate::Certificate = serde_json::from_slice(&cert)
        .map_err(|e| Failure::input(anyhow!("{}: not a perfcert certificate: {e}", cert_path.display())))?;
    let day = day_of(&doc.date).ok_or_else(|| {
        Failure::input(anyhow!("{}: `date` {} is not a UTC timestamp", cert_path.display(), doc.date))
    })?;
    let endpoint = args.s3.endpoint_url.as_deref();
    let done = push_pair(&args.to, &options, endpoint, &day, (cert_path, &cert), (&bundle_path, &bundle))
        .map_err(|e| Failure::external(anyhow!("{e}")))?;
    if !ui.quiet() {
        print_uploaded(&done);
    }
    Ok(ExitStatus::Pass)
}

/// `2026-11-22T10:00:00Z` -> `20261122`.
pub fn day_of(date: &str) -> Option<String> {
    let t: jiff::Timestamp = date.parse().ok()?;
    Some(t.strftime("%Y%m%d").to_string())
}

pub fn print_uploaded(done: &[Uploaded]) {
    let mut out = io::stdout().lock();
    for u in done {
        let how = match u.put {
            Put::Created => "uploaded    ",
            Put::AlreadyThere => "already in S3",
        };
        let _ = writeln!(out, "{how} {}", u.url);
    }
}
