//! `perfcert upload`: copy a certificate from the local archive to S3 under the same names
//! (`PREFIX/YYYYMMDD/STEM.*` and its claim), create-only. For a certificate archived before,
//! or whose upload failed during certify; repeating a finished upload changes nothing.

use anyhow::anyhow;

use crate::certificate::Certificate;
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::options::Upload;
use crate::store::s3::S3Archive;
use crate::store::{self, Archive, Contents, Names, layout};
use crate::ui::{self, Ui};

pub fn run(o: Upload, ui: &Ui) -> Result<ExitStatus, Failure> {
    let cert_path = &o.certificate;
    let file_name = cert_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (Some(stem), Some(bundle_name)) = (file_name.strip_suffix(".cert.json"), layout::bundle_beside(&file_name))
    else {
        return Err(Failure::input(anyhow!(
            "{}: not named *.cert.json, so it is not an archived certificate",
            cert_path.display()
        )));
    };
    let bundle_path = cert_path.with_file_name(bundle_name);
    let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| Failure::input(anyhow!(fsutil::at(p, &e))));
    let (cert, bundle) = (read(cert_path)?, read(&bundle_path)?);
    let doc: Certificate = serde_json::from_slice(&cert)
        .map_err(|e| Failure::input(anyhow!("{}: not a perfcert certificate: {e}", cert_path.display())))?;
    let day = day_of(&doc.date).ok_or_else(|| {
        Failure::input(anyhow!("{}: `date` {} is not a UTC timestamp", cert_path.display(), doc.date))
    })?;
    let names = Names::new(day, stem);

    let to = &o.to;
    let archive = S3Archive::connect(to.location.clone(), to.endpoint.as_deref(), to.put.clone())
        .map_err(|e| Failure::external(anyhow!("{}: {e}", to.location)))?;
    let keys = archive.list().map_err(|e| Failure::external(anyhow!("{}: {e}", to.location)))?;
    let contents = Contents::of(keys.iter().map(String::as_str));
    let done = store::copy_certificate(&archive, &contents, &names, &cert, &bundle).map_err(|e| {
        Failure::external(match e {
            store::StoreError::Taken { .. } => {
                anyhow!("{e}: {stem} is taken in {} by another certificate", archive.root())
            }
            e => anyhow!("{e}"),
        })
    })?;
    ui.say(|out| done.iter().try_for_each(|(url, put)| writeln!(out, "{} {url}", ui::uploaded(*put))))?;
    Ok(ExitStatus::Pass)
}

/// `2026-11-22T10:00:00Z` -> `20261122`.
fn day_of(date: &str) -> Option<String> {
    let t: jiff::Timestamp = date.parse().ok()?;
    Some(t.strftime("%Y%m%d").to_string())
}
