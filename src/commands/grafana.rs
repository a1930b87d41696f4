//! `perfcert grafana`: print the Release Perf Certification dashboard ([`crate::grafana`]) as
//! Grafana dashboard JSON. Reads nothing, touches no network; exit 0.

use crate::cli::GrafanaArgs;
use crate::exit::{ExitStatus, Failure};
use crate::grafana::Athena;
use crate::ui::Ui;

pub fn run(a: GrafanaArgs, ui: &Ui) -> Result<ExitStatus, Failure> {
    // clap admits only `athena` today; a second data source becomes a match here.
    debug_assert_eq!(a.datasource, "athena");
    let dashboard = Athena { database: a.database, table: a.table }.dashboard();
    ui.output(|out| writeln!(out, "{}", serde_json::to_string_pretty(&dashboard).expect("a dashboard serializes")))?;
    Ok(ExitStatus::Pass)
}
