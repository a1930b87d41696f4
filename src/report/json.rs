//! The `json` format: stable and documented (`schemas/report.schema.json`, `docs/formats.md`).
//!
//! The shapes here are the contract, kept apart from the core types so the core can change
//! without breaking pipelines. Adding fields is compatible; renaming or removing is not.

use std::io::{self, Write};

use serde::Serialize;

use super::{Renderer, Report, Source};
use crate::record::Metric;

pub struct Json;

/// Bumped only on incompatible changes to this document.
pub const REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    report_version: u32,
    perfcert_version: &'a str,
    status: &'a str,
    summary: Summary,
    as_of: String,
    inputs: Inputs<'a>,
    metrics: Vec<Metric<'a>>,
    warnings: &'a [String],
    /// `decision.method: statistical` only (absent under the threshold method): the method,
    /// the policy's rates, the look and the rates it tested at.
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'a crate::record::Decision>,
    /// `decision.method: statistical` only (absent under the threshold method): more runs per
    /// side that would settle every inconclusive row, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    runs_needed: Option<Option<u32>>,
}

#[derive(Serialize)]
struct Summary {
    gated: usize,
    passed: usize,
    failed: usize,
    waived: usize,
    no_baseline: usize,
    untracked: usize,
    /// `decision.method: statistical` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    inconclusive: Option<usize>,
}

#[derive(Serialize)]
struct Inputs<'a> {
    baseline: Input<'a>,
    current: Input<'a>,
    thresholds: File<'a>,
    /// `--reference`: what the cumulative limits judged against; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<Input<'a>>,
}

#[derive(Serialize)]
struct File<'a> {
    file: &'a str,
}

#[derive(Serialize)]
struct Input<'a> {
    file: &'a str,
    service: Option<&'a str>,
    version: Option<&'a str>,
    commit: Option<&'a str>,
    date: Option<&'a str>,
    /// How many runs the side has; absent for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    runs: Option<usize>,
    /// How the side's runs were produced: the fingerprint keys all its runs share
    /// (`crate::fingerprint`); absent when none is known.
    #[serde(skip_serializing_if = "indexmap::IndexMap::is_empty")]
    fingerprint: &'a indexmap::IndexMap<String, String>,
    /// A promoted baseline's certificate; absent for other inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<&'a crate::model::Provenance>,
}

impl<'a> From<&Source<'a>> for Input<'a> {
    fn from(s: &Source<'a>) -> Self {
        Input {
            file: s.file,
            service: s.results.service.as_deref(),
            version: s.results.version.as_deref(),
            commit: s.results.commit.as_deref(),
            date: s.results.date.as_deref(),
            runs: (s.runs > 1).then_some(s.runs),
            fingerprint: &s.results.fingerprint,
            provenance: s.results.provenance.as_ref(),
        }
    }
}

impl Renderer for Json {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let c = report.comparison;
        let s = c.summary();
        let statistical = c.method == crate::policy::DecisionMethod::Statistical;
        let doc = Doc {
            report_version: REPORT_VERSION,
            perfcert_version: env!("CARGO_PKG_VERSION"),
            status: c.verdict.as_str(),
            summary: Summary {
                gated: s.gated,
                passed: s.passed,
                failed: s.failed,
                waived: s.waived,
                no_baseline: s.no_baseline,
                untracked: s.untracked,
                inconclusive: statistical.then_some(s.inconclusive),
            },
            as_of: c.as_of.to_string(),
            inputs: Inputs {
                baseline: (&report.baseline).into(),
                current: (&report.current).into(),
                thresholds: File { file: report.thresholds_file },
                reference: report.reference.as_ref().map(Input::from),
            },
            metrics: crate::record::rows(c, report.decision.is_some()),
            warnings: &c.warnings,
            decision: report.decision,
            runs_needed: statistical.then_some(c.runs_needed),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}
