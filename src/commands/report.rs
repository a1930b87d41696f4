//! `perfcert report ARCHIVE --service S --format html|pdf --output FILE`: a service's last
//! releases as one self-contained HTML page ([`crate::report::releases_html`]), or that page
//! printed to PDF by headless Chromium ([`crate::chromium`]). Reads the archive's index and the
//! latest certificate (for its limits and units); verifies nothing.
//!
//! The output is replaced atomically, as compare's `--output` is: a temporary file beside it,
//! then a rename. Chromium missing is exit 3 (an external tool, like S3 or Fulcio, not a bad
//! input), with what to install; a `--chromium` that is not there is exit 2.

use std::path::Path;
use std::time::Instant;

use anyhow::anyhow;

use crate::chromium::{self, ChromiumError};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::options::ReportPage;
use crate::pipeline;
use crate::report::releases_html::{self, HistoryPage};
use crate::ui::Ui;

pub fn run(o: ReportPage, ui: &Ui) -> Result<ExitStatus, Failure> {
    // Before any work: the output's directory, and for a PDF the browser that prints it.
    if let Some(dir) = o.output.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(Failure::input(anyhow!("{}: no such directory for --output", dir.display())));
    }
    let browser = if o.pdf {
        let env = std::env::var_os("PERFCERT_CHROMIUM");
        let found = chromium::find(o.chromium.as_deref(), env.as_deref(), std::env::var_os("PATH").as_deref());
        Some(found.map_err(|e| match e {
            ChromiumError::BadPath { .. } => Failure::input(anyhow!("{e}")),
            e => Failure::external(anyhow!("{e}")),
        })?)
    } else {
        None
    };

    let history = pipeline::load_releases(&o.archive, o.endpoint.as_deref(), &o.service, Some(o.last), ui)?;
    let latest = history.releases.last().and_then(|r| {
        pipeline::read_certificate(&o.archive, o.endpoint.as_deref(), &r.line.certificate)
            .inspect_err(|why| {
                ui.warn(&format!("the latest certificate could not be read ({why}); limits and units are left out"))
            })
            .ok()
    });
    let generated = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now());
    let archive = o.archive.to_string();
    let html = releases_html::render(&HistoryPage {
        history: &history,
        archive: &archive,
        latest: latest.as_ref(),
        generated: &generated.to_string(),
    });

    let bytes = match browser {
        None => html.into_bytes(),
        Some(browser) => print_pdf(&browser, &html, &o, ui)?,
    };
    fsutil::write_atomic(&o.output, &bytes)
        .map_err(|e| Failure::external(anyhow!(fsutil::cannot("write the report", &o.output, &e))))?;
    ui.note(&format!(
        "wrote {} ({}, {} release{} of {})",
        o.output.display(),
        if o.pdf { "PDF" } else { "HTML" },
        history.releases.len(),
        if history.releases.len() == 1 { "" } else { "s" },
        history.service
    ));
    Ok(ExitStatus::Pass)
}

/// The page printed by Chromium, from files in a temporary directory that is removed after.
fn print_pdf(browser: &Path, html: &str, o: &ReportPage, ui: &Ui) -> Result<Vec<u8>, Failure> {
    let dir = tempfile::Builder::new()
        .prefix("perfcert-report-")
        .tempdir()
        .map_err(|e| Failure::external(anyhow!("cannot make a temporary directory: {e}")))?;
    let page = dir.path().join("report.html");
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&page, html)
        .map_err(|e| Failure::external(anyhow!(fsutil::cannot("write the page to print", &page, &e))))?;
    let started = Instant::now();
    chromium::render(browser, &page, chromium::Output::Pdf(&pdf), o.timeout)
        .map_err(|e| Failure::external(anyhow!("printing the PDF: {e}")))?;
    let bytes = std::fs::read(&pdf).map_err(|e| Failure::external(anyhow!(fsutil::cannot("read", &pdf, &e))))?;
    if !bytes.starts_with(b"%PDF-") {
        return Err(Failure::external(anyhow!("{}: wrote something that is not a PDF", browser.display())));
    }
    ui.detail(&format!("printed the PDF with {} in {:.1} s", browser.display(), started.elapsed().as_secs_f64()));
    Ok(bytes)
}
