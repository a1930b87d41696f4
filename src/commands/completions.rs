//! `perfcert completions SHELL`: the completion script, generated from the clap definitions.

use std::io::{self, Write};

use anyhow::anyhow;
use clap::CommandFactory;

use super::ignore_broken_pipe;
use crate::cli::{Cli, CompletionsArgs};
use crate::exit::{ExitStatus, Failure};

pub fn run(args: CompletionsArgs) -> Result<ExitStatus, Failure> {
    let mut script = vec![];
    clap_complete::generate(args.shell, &mut Cli::command(), "perfcert", &mut script);
    let written = io::stdout().lock().write_all(&script);
    ignore_broken_pipe(written).map_err(|e| Failure::input(anyhow!("cannot write to stdout: {e}")))?;
    Ok(ExitStatus::Pass)
}
