//! `perfcert compare`: run the evaluation pipeline, print the report asked for, exit with the
//! verdict (0 PASS, 1 FAIL, 2 bad input).

use crate::exit::{ExitStatus, Failure};
use crate::options::Compare;
use crate::pipeline::{self, Labels};
use crate::report::{Format, headline};
use crate::ui::Ui;

pub fn run(o: Compare, ui: &Ui) -> Result<ExitStatus, Failure> {
    if o.notify.channels.contains(&crate::notify::send::Channel::Jira) {
        return Err(Failure::input(anyhow::anyhow!(
            "compare --notify jira: a ticket is filed once per certificate, and compare makes none; use certify \
             --notify jira, or perfcert notify CERT"
        )));
    }
    let extra_paths = o.outputs.paths();
    pipeline::check_outputs(&o.inputs, o.output.iter().chain(&extra_paths).collect())?;
    let loaded = pipeline::load_and_compare(&o.inputs, ui)?;
    let labels = Labels::of(&o.inputs);
    let report = labels.report(&loaded);

    let mut written = pipeline::write_outputs(&report, &o.outputs, ui)?;
    let table_on_stdout = o.output.is_none() && o.format == Format::Table;
    match &o.output {
        Some(path) => {
            pipeline::write_file(&report, o.format, path, ui)?;
            written.note(o.format, path);
        }
        None if ui.quiet() && o.format == Format::Table => {}
        None => ui.output(|out| o.format.renderer(ui.color).render(&report, out))?,
    }
    if !table_on_stdout {
        // The table already shows these; other formats carry them inside the report, so repeat
        // them where a person watching the log will see them.
        for w in &loaded.comparison.warnings {
            ui.warn(w);
        }
        ui.note(&headline(&loaded.comparison));
    }
    pipeline::publish(ui, &report, &written, vec![], "");
    if !o.notify.channels.is_empty() {
        let c = &loaded.comparison;
        let cur = &loaded.current;
        let subject: Vec<&str> = [cur.service.as_deref(), cur.version.as_deref()].into_iter().flatten().collect();
        let rows = crate::record::rows_value(c, false);
        let mut outcome = crate::notify::Outcome::of_comparison(&subject.join(" "), c.verdict.as_str(), &rows);
        outcome.service = cur.service.clone();
        // Never the exit code: the verdict is.
        pipeline::notify(ui, outcome, None, &o.notify, true);
    }
    Ok(pipeline::exit_status(&loaded.comparison))
}
