//! `perfcert compare`: run the evaluation pipeline, print the report asked for, exit with the
//! verdict (0 PASS, 1 FAIL, 2 bad input).

use crate::exit::{ExitStatus, Failure};
use crate::options::Compare;
use crate::pipeline::{self, Labels};
use crate::report::{Format, headline};
use crate::ui::Ui;

pub fn run(o: Compare, ui: &Ui) -> Result<ExitStatus, Failure> {
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
    Ok(pipeline::exit_status(&loaded.comparison))
}
