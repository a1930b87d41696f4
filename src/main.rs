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
            // Remote errors were redacted where they became text; this is the net for any
            // message that was not.
            let message = perfcert::redact::text(format_args!("{:#}", failure.error));
            let _ = writeln!(std::io::stderr(), "error: {message}");
            failure.status.into()
        }
    }
}
