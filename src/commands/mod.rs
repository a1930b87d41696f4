//! Subcommands: one file each. They wire the pure core to files, the clock and the terminal,
//! and map outcomes to an [`ExitStatus`].

mod certify;
mod compare;
mod init;
mod keygen;
mod list;
mod password;
mod progress;
mod upload;
mod verify;

use std::io::{self, IsTerminal};

use crate::cli::{Cli, ColorChoice, Command};
use crate::exit::{ExitStatus, Failure};

pub fn run(cli: Cli) -> Result<ExitStatus, Failure> {
    let color = use_color(cli.color);
    match cli.command {
        Command::Compare(args) => compare::run(args, color),
        Command::Certify(args) => certify::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Upload(args) => upload::run(args),
        Command::List(args) => list::run(args),
        Command::Init(args) => init::run(args),
    }
}

/// Whether stdout gets ANSI colour: `always`/`never` as asked; `auto` only on a terminal and
/// only when `NO_COLOR` is unset or empty (<https://no-color.org>).
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            !no_color && io::stdout().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
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
