//! The `junit` format: JUnit XML with one test case per metric, so CI systems list metric
//! failures natively. FAIL is a `<failure>`; WAIVED, UNTRACKED and INCONCLUSIVE (with the advice
//! that settles it) are `<skipped>`;
//! NO_BASELINE passes with a note in `<system-out>`.

use std::io::{self, Write};

use super::{Renderer, Report, reference_text, total_text, value_text, xml_escape as xml};
use crate::compare::Status;

pub struct Junit;

impl Renderer for Junit {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let c = report.comparison;
        let s = c.summary();
        let tests = c.rows.len();
        let skipped = s.waived + s.untracked + s.inconclusive;
        let name = xml(&format!("perfcert: {} vs {}", report.current.file, report.baseline.file));
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="perfcert" tests="{tests}" failures="{}" errors="0" skipped="{skipped}">"#,
            s.failed
        )?;
        writeln!(
            out,
            r#"  <testsuite name="{name}" tests="{tests}" failures="{}" errors="0" skipped="{skipped}">"#,
            s.failed
        )?;
        writeln!(out, "    <properties>")?;
        writeln!(out, r#"      <property name="verdict" value="{}"/>"#, c.verdict.as_str())?;
        writeln!(out, r#"      <property name="baseline" value="{}"/>"#, xml(report.baseline.file))?;
        writeln!(out, r#"      <property name="current" value="{}"/>"#, xml(report.current.file))?;
        writeln!(out, r#"      <property name="thresholds" value="{}"/>"#, xml(report.thresholds_file))?;
        if let Some(reference) = &report.reference {
            writeln!(out, r#"      <property name="reference" value="{}"/>"#, xml(reference.file))?;
        }
        writeln!(out, "    </properties>")?;
        for r in &c.rows {
            let reasons = xml(&r.reasons.join("; "));
            let mut values = format!("baseline {}, current {}", value_text(r.baseline, r), value_text(r.current, r));
            if r.reference.is_some() {
                values.push_str(&format!(", reference {} (total {})", reference_text(r), total_text(r)));
            }
            let values = xml(&values);
            write!(out, r#"    <testcase classname="perfcert.metrics" name="{}""#, xml(&r.name))?;
            match r.status {
                // A row with a cumulative limit says how far it has come since the reference.
                Status::Pass if r.reference.is_some() => {
                    writeln!(out, ">")?;
                    writeln!(out, "      <system-out>{values}: {reasons}</system-out>")?;
                    writeln!(out, "    </testcase>")?;
                }
                Status::Pass => writeln!(out, "/>")?,
                Status::Fail => {
                    writeln!(out, ">")?;
                    writeln!(out, r#"      <failure type="FAIL" message="{reasons}">{values}: {reasons}</failure>"#)?;
                    writeln!(out, "    </testcase>")?;
                }
                Status::Waived | Status::Untracked => {
                    writeln!(out, ">")?;
                    writeln!(out, r#"      <skipped message="{}: {reasons}"/>"#, r.status.as_str())?;
                    writeln!(out, "    </testcase>")?;
                }
                Status::Inconclusive => {
                    writeln!(out, ">")?;
                    writeln!(out, r#"      <skipped message="INCONCLUSIVE: {values}: {reasons}"/>"#)?;
                    writeln!(out, "    </testcase>")?;
                }
                Status::NoBaseline => {
                    writeln!(out, ">")?;
                    writeln!(out, "      <system-out>NO_BASELINE: {reasons}</system-out>")?;
                    writeln!(out, "    </testcase>")?;
                }
            }
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}
