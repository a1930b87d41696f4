//! Subcommands: one file each, none importing another. Each takes its typed options
//! ([`crate::options`]) and the [`Ui`], wires the core to files, the clock and the network
//! (through [`crate::pipeline`] and [`crate::store`]), and returns an [`ExitStatus`].

mod approve;
mod badge;
mod bake;
mod baseline;
mod certify;
mod collect;
mod compare;
mod completions;
mod drift;
mod fingerprint;
mod grafana;
mod history;
mod index;
mod init;
mod keygen;
mod list;
mod man;
mod notify;
mod report;
mod upload;
mod verify;

use crate::cli::{Cli, Command};
use crate::exit::{ExitStatus, Failure};
use crate::options::Global;
use crate::ui::Ui;

/// Turns the flags into options (stage two) and runs the command.
pub fn run(cli: Cli) -> Result<ExitStatus, Failure> {
    let ui = Ui::new(&Global::from(&cli));
    match cli.command {
        Command::Compare(args) => compare::run((*args).into(), &ui),
        Command::Certify(args) => certify::run((*args).try_into()?, &ui),
        Command::Verify(args) => verify::run((*args).try_into()?, &ui),
        Command::Approve(args) => approve::run((*args).try_into()?, &ui),
        Command::Baseline(args) => baseline::run(args.try_into()?, &ui),
        Command::Keygen(args) => keygen::run(args, &ui),
        Command::Upload(args) => upload::run(args.try_into()?, &ui),
        Command::List(args) => list::run(args.into(), &ui),
        Command::Index(args) => index::run(args.into(), &ui),
        Command::Report(args) => report::run(args.into(), &ui),
        Command::History(args) => history::run(args.into(), &ui),
        Command::Grafana(args) => grafana::run(args, &ui),
        Command::Collect(args) => collect::run(args, &ui),
        Command::Drift(args) => drift::run(args, &ui),
        Command::Bake(args) => bake::run(*args, &ui),
        Command::Notify(args) => notify::run(args, &ui),
        Command::Init(args) => init::run(args, &ui),
        Command::Badge(args) => badge::run(args, &ui),
        Command::Fingerprint(args) => fingerprint::run(args, &ui),
        Command::Completions(args) => completions::run(args, &ui),
        Command::Man(args) => man::run(args, &ui),
    }
}
