//! `perfcert completions SHELL`: the completion script, generated from the clap definitions.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::{ExitStatus, Failure};
use crate::ui::Ui;

pub fn run(args: CompletionsArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    let mut script = vec![];
    clap_complete::generate(args.shell, &mut Cli::command(), "perfcert", &mut script);
    ui.output(|out| out.write_all(&script))?;
    Ok(ExitStatus::Pass)
}
