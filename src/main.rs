//! The `perfcert` binary: parse flags, run the command, map the outcome to an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use perfcert::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match perfcert::commands::run(cli) {
        Ok(status) => status.into(),
        Err(failure) => {
            let _ = writeln!(std::io::stderr(), "error: {:#}", failure.error);
            failure.status.into()
        }
    }
}
