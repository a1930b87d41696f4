//! `perfcert list`: the certificates in an archive (a directory or `s3://BUCKET[/PREFIX]`), by
//! what each says. It does not verify signatures; it does say which certificates have no
//! bundle beside them and which names were claimed by a certify that never finished.

use std::io::{self, Write};

use serde::Serialize;

use crate::certificate::Certificate;
use crate::exit::{ExitStatus, Failure};
use crate::options::{List, Print};
use crate::pipeline;
use crate::ui::Ui;

#[derive(Serialize)]
struct Row {
    date: String,
    service: String,
    version: String,
    status: String,
    signer: &'static str,
    certificate: String,
    /// Whether its bundle (the signature) is beside it.
    bundle: bool,
}

pub fn run(o: List, ui: &Ui) -> Result<ExitStatus, Failure> {
    let (archive, contents) = pipeline::open_archive(&o.archive, o.endpoint.as_deref())?;
    let since = o.since.map(|d| d.strftime("%Y%m%d").to_string()).unwrap_or_default();
    let mut certs: Vec<_> = contents.certificates.iter().filter(|n| n.day >= since).collect();
    certs.sort_by(|a, b| (&a.day, &a.stem).cmp(&(&b.day, &b.stem)));
    let relative: Vec<String> = certs.iter().map(|n| n.certificate()).collect();
    let fetched = archive.read_many(&relative);

    let mut rows = vec![];
    for (names, bytes) in certs.into_iter().zip(fetched) {
        let at = archive.show(&names.certificate());
        let cert = bytes
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Certificate>(&b).map_err(|e| e.to_string()));
        match cert {
            Ok(c) if o.service.as_ref().is_none_or(|s| *s == c.service) => {
                let bundle = contents.has_bundle(names);
                if !bundle {
                    ui.warn(&format!(
                        "{at}: no bundle beside it ({}): its signature is missing",
                        archive.show(&names.bundle())
                    ));
                }
                rows.push(Row {
                    signer: c.signature_name(),
                    date: c.date,
                    service: c.service,
                    version: c.version,
                    status: c.status,
                    certificate: at,
                    bundle,
                });
            }
            Ok(_) => {}
            Err(why) => ui.warn(&format!("{at}: skipped, not a readable perfcert certificate: {why}")),
        }
    }
    for stem in contents.unfinished_claims() {
        ui.warn(&format!(
            "{stem}: claimed, but no certificate was written (a certify was interrupted, or is still running)"
        ));
    }
    match o.format {
        Print::Json => {
            ui.output(|out| writeln!(out, "{}", serde_json::to_string_pretty(&rows).expect("rows serialise")))?
        }
        Print::Text if rows.is_empty() => ui.note(&format!("no certificates in {}", archive.root())),
        Print::Text => {
            ui.output(|out| table(out, &rows))?;
            ui.note("(listed by what each certificate says; signatures are not verified: use perfcert verify)");
        }
    }
    Ok(ExitStatus::Pass)
}

fn table(out: &mut dyn Write, rows: &[Row]) -> io::Result<()> {
    let header = ["DATE", "SERVICE", "VERSION", "STATUS", "SIGNER", "CERTIFICATE"];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let signer = if r.bundle { r.signer } else { "NO BUNDLE" };
            [r.date.as_str(), &r.service, &r.version, &r.status, signer, &r.certificate].map(String::from).to_vec()
        })
        .collect();
    write!(out, "{}", crate::report::columns(&header, &cells))
}
