//! Subcommands: one file each. They wire the pure core to files, the clock and the terminal,
//! and map outcomes to an [`ExitStatus`].

mod badge;
mod certify;
mod compare;
mod completions;
mod init;
mod keygen;
mod list;
mod man;
mod password;
mod progress;
mod ui;
mod upload;
mod verify;

use std::io;

use crate::cli::{Cli, Command};
use crate::exit::{ExitStatus, Failure};
use ui::Ui;

pub fn run(cli: Cli) -> Result<ExitStatus, Failure> {
    let ui = Ui::new(&cli);
    match cli.command {
        Command::Compare(args) => compare::run(args, &ui),
        Command::Certify(args) => certify::run(*args, &ui),
        Command::Verify(args) => verify::run(args, &ui),
        Command::Keygen(args) => keygen::run(args, &ui),
        Command::Upload(args) => upload::run(args, &ui),
        Command::List(args) => list::run(args, &ui),
        Command::Init(args) => init::run(args, &ui),
        Command::Badge(args) => badge::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}

/// The sha256 of a file the user named; one that cannot be read is an input error naming it.
fn sha256_of(path: &std::path::Path) -> Result<String, Failure> {
    crate::signing::sha256_file(path)
        .map_err(|e| Failure::input(anyhow::anyhow!("{}: {}", path.display(), crate::fsutil::io_reason(&e))))
}

/// Runs `write`; a closed stdout (`perfcert compare | head -1`) is not an error.
fn ignore_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
