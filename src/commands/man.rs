//! `perfcert man`: roff man pages generated from the clap definitions.

use anyhow::anyhow;
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::exit::{ExitStatus, Failure};
use crate::fsutil;
use crate::ui::Ui;

pub fn run(args: ManArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let command = Cli::command();
    let Some(dir) = &args.output_dir else {
        let page = render(&command);
        ui.output(|out| out.write_all(&page))?;
        return Ok(ExitStatus::Pass);
    };
    std::fs::create_dir_all(dir).map_err(|e| Failure::input(anyhow!(fsutil::cannot("create", dir, &e))))?;
    let mut pages = vec![("perfcert.1".to_string(), render(&command))];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("perfcert-{}", sub.get_name());
        // Each page is titled with its full name, as `man perfcert-compare` finds it.
        let sub = sub.clone().name(name.clone()).bin_name(format!("perfcert {}", sub.get_name()));
        pages.push((format!("{name}.1"), render(&sub)));
    }
    for (file, page) in pages {
        let path = dir.join(file);
        fsutil::write_atomic(&path, &page).map_err(|e| Failure::input(anyhow!(fsutil::cannot("write", &path, &e))))?;
    }
    Ok(ExitStatus::Pass)
}

fn render(command: &clap::Command) -> Vec<u8> {
    let mut page = vec![];
    clap_mangen::Man::new(command.clone()).render(&mut page).expect("writing to memory cannot fail");
    page
}
