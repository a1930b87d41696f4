//! `perfcert baseline promote`: a certified release becomes the baseline.
//!
//! Verifies the certificate with [`crate::authenticate`], exactly as `verify` does (each check
//! printed as it passes; the first that fails is exit 4 and nothing is written), refuses a FAIL
//! or INCONCLUSIVE one (exit 2: it is not a release to compare against), and writes its current
//! side as native results ([`crate::baseline`]): atomically, and over an existing file only with
//! `--force` (else exit 2 naming the file).

use std::io;

use anyhow::anyhow;

use crate::authenticate;
use crate::baseline::{self, Origin, Refused};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::options::Promote;
use crate::signing;
use crate::ui::Ui;

pub fn run(o: Promote, ui: &Ui) -> Result<ExitStatus, Failure> {
    let to_stdout = o.output.as_os_str() == "-";
    let output = o.output.display().to_string();
    let exists = || Failure::input(anyhow!("{output}: already exists; pass --force to replace it (or --output FILE)"));
    // Said before any work; the write itself is create-only too, so a file that appears
    // meanwhile is not replaced either.
    if !to_stdout && !o.force && std::fs::symlink_metadata(&o.output).is_ok() {
        return Err(exists());
    }
    let fetched = authenticate::fetch(&(&o.named).into())?;
    // The checks go to stderr when the baseline itself is printed.
    let mut pass = |name: &'static str, text: String| -> Result<(), Failure> {
        if to_stdout {
            ui.note(&format!("{name:<12} {text}"));
            Ok(())
        } else {
            ui.say(|out| writeln!(out, "{name:<12} {text}"))
        }
    };
    let authentic = authenticate::authenticate(fetched, &o.trust, &mut pass)?;
    let cert = &authentic.cert;
    // Found by name: the certificate must certify that name (a file named for another is refused).
    for (flag, wanted, found) in
        [("--service", &o.named.service, &cert.service), ("--version", &o.named.version, &cert.version)]
    {
        if let Some(wanted) = wanted
            && wanted != found
        {
            return Err(authenticate::not_authentic(
                &authentic.shown,
                format!("it certifies {flag} {found}, not {wanted}"),
            ));
        }
    }
    let origin = Origin {
        file_name: authentic.file_name.clone(),
        from: authentic.shown.clone(),
        sha256: signing::sha256_hex(&authentic.bytes),
        signer: authentic.signer.clone(),
    };
    let promoted = baseline::promote(cert, origin).map_err(|e| {
        let what = format!("{}: {e}; nothing written", authentic.shown);
        Failure::input(match e {
            Refused::NotPass { status } if status == "INCONCLUSIVE" => anyhow!(
                "{what}. Certify {} {} again with more runs until it settles, or promote the last PASS certificate \
                 of {} (perfcert list --service {})",
                cert.service,
                cert.version,
                cert.service,
                cert.service
            ),
            Refused::NotPass { .. } => anyhow!(
                "{what}. Promote the last PASS certificate of {} instead (perfcert list --service {})",
                cert.service,
                cert.service
            ),
            Refused::Malformed(_) => anyhow!("{what}"),
        })
    })?;
    if !promoted.waived.is_empty() {
        ui.warn(&format!(
            "{} {} passed with waived metrics ({}): their values exceeded a limit and are now the baseline's; \
             recorded in its provenance.waived",
            cert.service,
            cert.version,
            promoted.waived.join(", ")
        ));
    }
    if to_stdout {
        ui.output(|out| out.write_all(promoted.text.as_bytes()))?;
        return Ok(ExitStatus::Pass);
    }
    let written = if o.force {
        fsutil::write_atomic(&o.output, promoted.text.as_bytes())
    } else {
        fsutil::write_new_atomic(&o.output, promoted.text.as_bytes(), None)
    };
    written.map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => exists(),
        _ => Failure::external(anyhow!(fsutil::cannot("write", &o.output, &e))),
    })?;
    let runs = if promoted.runs == 1 { "1 run".to_string() } else { format!("{} runs", promoted.runs) };
    ui.say(|out| {
        writeln!(
            out,
            "{:<12} {} {} ({}, {runs}, {} metrics) as {output}",
            "promoted", cert.service, cert.version, cert.status, promoted.metrics
        )
    })?;
    ui.say(|out| writeln!(out, "next         perfcert compare --baseline {output} --current CURRENT"))?;
    Ok(ExitStatus::Pass)
}
