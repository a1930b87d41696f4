//! `perfcert index rebuild ARCHIVE`: writes the index line ([`crate::index`]) of every
//! certificate that lacks one, in a local or `s3://` archive: for archives certified before
//! the index existed, or a line lost to an interrupted certify. Create-only, like every write
//! to an archive; running it again changes nothing.

use anyhow::anyhow;

use crate::exit::{ExitStatus, Failure};
use crate::options::IndexRebuild;
use crate::pipeline;
use crate::store::{self, Rebuilt};
use crate::ui::Ui;

pub fn run(o: IndexRebuild, ui: &Ui) -> Result<ExitStatus, Failure> {
    let (archive, contents) = pipeline::open_archive(&o.archive, o.endpoint.as_deref())?;
    let (mut created, mut there, mut failed) = (0, 0, 0);
    for done in store::rebuild_index(archive.as_ref(), &contents) {
        match done {
            Rebuilt::Created(at) => {
                created += 1;
                ui.say(|out| writeln!(out, "created {at}"))?;
            }
            Rebuilt::AlreadyThere(at) => {
                there += 1;
                ui.detail(&format!("already there {at}"));
            }
            Rebuilt::Failed { at, reason } => {
                failed += 1;
                ui.warn(&format!("{at}: {reason}"));
            }
        }
    }
    ui.note(&format!(
        "{}: {created} index line{} created, {there} already there{}",
        archive.root(),
        if created == 1 { "" } else { "s" },
        if failed > 0 { format!(", {failed} certificate(s) could not be indexed") } else { String::new() }
    ));
    if failed > 0 {
        return Err(Failure::external(anyhow!(
            "{failed} certificate(s) in {} could not be indexed (see above)",
            archive.root()
        )));
    }
    Ok(ExitStatus::Pass)
}
