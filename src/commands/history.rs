//! `perfcert history`: a service's last releases from an archive's index (a directory or
//! `s3://BUCKET[/PREFIX]`), as a table, Markdown or JSON. It reads what the index lines say and
//! does not verify signatures. Exit 0 when shown; 2 for a missing archive, no certificates of
//! the service, or an unwritable --output; 3 when the archive cannot be reached.

use anyhow::anyhow;

use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::options::History;
use crate::report::history::{Format, UNVERIFIED};
use crate::ui::Ui;

pub fn run(o: History, ui: &Ui) -> Result<ExitStatus, Failure> {
    let history = crate::pipeline::load_releases(&o.archive, o.endpoint.as_deref(), &o.service, Some(o.last), ui)?;
    match &o.output {
        Some(path) => {
            let mut bytes = vec![];
            o.format.renderer(false).render(&history, &mut bytes).expect("writing to memory cannot fail");
            fsutil::write_atomic(path, &bytes)
                .map_err(|e| Failure::input(anyhow!(fsutil::cannot("write the history", path, &e))))?;
            ui.detail(&format!("wrote {}", path.display()));
        }
        None => ui.output(|out| o.format.renderer(ui.color).render(&history, out))?,
    }
    // The table says it itself; the other formats are for machines and comments.
    if o.format != Format::Table || o.output.is_some() {
        ui.note(&format!("({UNVERIFIED})"));
    }
    Ok(ExitStatus::Pass)
}
