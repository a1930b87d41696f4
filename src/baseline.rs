//! A certified release as a baseline: the current side of a PASS certificate, written in the
//! native results format (`runs: [...]`, the run fingerprint, a `provenance` object) so that
//! `compare --baseline` reads it (PERF-004 §12's `perf_baseline.json`).
//!
//! Pure: it gets a certificate that was already checked to be authentic and where it came from,
//! and returns the file's text; it does not verify, read or write anything.
//!
//! What a certificate records, and so what a baseline can carry: each row of its `comparison`
//! has the current value, and with several runs a side (and in every version-2 row) every run's
//! value in `runs.current`. Every row with a current value is carried, untracked ones too. The
//! within-run precision the runs had is not recorded in a certificate, so it is not carried
//! (never invented): a statistical comparison against a promoted baseline treats it as unknown.

use indexmap::IndexMap;
use serde::Serialize;

use crate::certificate::Certificate;
use crate::model::Provenance;

/// Where an authentic certificate came from, as checked.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Its file name, under which it was signed.
    pub file_name: String,
    /// Where it was read from, as given.
    pub from: String,
    pub sha256: String,
    /// Who signed it, as checked.
    pub signer: String,
}

/// Why a certificate cannot be a baseline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    /// A FAIL or INCONCLUSIVE certificate: its release is not one to compare against.
    #[error("it certifies {status}, not PASS: only a PASS release can be a baseline")]
    NotPass { status: String },
    /// The certificate's `comparison` is not as perfcert writes it.
    #[error("its `comparison` {0}")]
    Malformed(String),
}

/// A promoted baseline: the file's text and what it holds.
#[derive(Debug, Clone)]
pub struct Promoted {
    pub text: String,
    pub runs: usize,
    /// The metrics carried (in any run).
    pub metrics: usize,
    /// Metrics that passed by a waiver.
    pub waived: Vec<String>,
}

#[derive(Serialize)]
struct File<'a> {
    service: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a IndexMap<String, String>>,
    provenance: Provenance,
    runs: Vec<Run>,
}

#[derive(Debug, Serialize)]
struct Run {
    metrics: IndexMap<String, f64>,
}

/// The baseline file of an authentic certificate's current side, or why it cannot be one.
pub fn promote(cert: &Certificate, origin: Origin) -> Result<Promoted, Refused> {
    if cert.status != "PASS" {
        return Err(Refused::NotPass { status: cert.status.clone() });
    }
    let runs = current_runs(&cert.comparison)?;
    let metrics = runs.iter().flat_map(|r| r.metrics.keys()).collect::<std::collections::HashSet<_>>().len();
    let waived: Vec<String> = cert.waivers.iter().map(|w| w.metric.clone()).collect();
    let fingerprint = cert.fingerprints.as_ref().map(|f| &f.current).filter(|f| !f.is_empty());
    let file = File {
        service: &cert.service,
        version: &cert.version,
        commit: cert.commit.as_deref(),
        fingerprint,
        provenance: Provenance {
            certificate: origin.file_name,
            from: origin.from,
            sha256: origin.sha256,
            service: cert.service.clone(),
            version: cert.version.clone(),
            commit: cert.commit.clone(),
            date: cert.date.clone(),
            status: cert.status.clone(),
            signer: origin.signer,
            waived: waived.clone(),
        },
        runs,
    };
    let mut text = serde_json::to_string_pretty(&file).expect("a baseline serialises");
    text.push('\n');
    Ok(Promoted { runs: file.runs.len(), metrics, waived, text })
}

/// Every run of the current side, from the rows: `runs.current[i]` where a row has runs, else its
/// `current` (one run). A run's missing value (null) leaves the metric out of that run.
fn current_runs(comparison: &serde_json::Value) -> Result<Vec<Run>, Refused> {
    let bad = |why: String| Refused::Malformed(why);
    let rows = comparison.as_array().ok_or_else(|| bad("is not a list of rows".into()))?;
    let mut count: Option<usize> = None;
    let mut columns: Vec<(String, Vec<Option<f64>>)> = vec![];
    for (i, row) in rows.iter().enumerate() {
        let name = row
            .get("name")
            .and_then(|n| n.as_str())
            .ok_or_else(|| bad(format!("row {i} has no `name`; expected the metric's name")))?;
        let number = |v: &serde_json::Value, key: &str| -> Result<Option<f64>, Refused> {
            match v {
                serde_json::Value::Null => Ok(None),
                v => match v.as_f64() {
                    Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                    _ => Err(bad(format!("row `{name}`: `{key}` is {v}; expected a number >= 0 or null"))),
                },
            }
        };
        let values = match row.get("runs").and_then(|r| r.get("current")) {
            Some(serde_json::Value::Array(values)) => {
                values.iter().map(|v| number(v, "runs.current[]")).collect::<Result<Vec<_>, _>>()?
            }
            Some(other) => return Err(bad(format!("row `{name}`: `runs.current` is {other}; expected a list"))),
            None => vec![number(row.get("current").unwrap_or(&serde_json::Value::Null), "current")?],
        };
        match count {
            None => count = Some(values.len()),
            Some(n) if n != values.len() => {
                return Err(bad(format!(
                    "row `{name}` has {} current run(s), the rows before it {n}; expected the same runs in every row",
                    values.len()
                )));
            }
            Some(_) => {}
        }
        columns.push((name.to_string(), values));
    }
    let count = count.ok_or_else(|| bad("is empty; expected a row per metric".into()))?;
    let mut runs = Vec::with_capacity(count);
    for i in 0..count {
        let metrics: IndexMap<String, f64> =
            columns.iter().filter_map(|(name, values)| values[i].map(|v| (name.clone(), v))).collect();
        if metrics.is_empty() {
            return Err(bad(format!("has no current value in run {}; expected at least one metric", i + 1)));
        }
        runs.push(Run { metrics });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_without_runs_are_one_run_and_nulls_are_left_out() {
        let runs = current_runs(&json!([
            {"name": "latency_p95", "current": 432.5},
            {"name": "gone", "current": null},
            {"name": "throughput", "current": 10600}
        ]))
        .unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(
            runs[0].metrics.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(),
            [("latency_p95", 432.5), ("throughput", 10600.0)]
        );
    }

    #[test]
    fn every_run_of_every_row_is_carried() {
        let runs = current_runs(&json!([
            {"name": "a", "current": 2.0, "runs": {"mean": "geometric", "baseline": [1, 1], "current": [1.5, 2.5]}},
            {"name": "b", "current": 3.0, "runs": {"mean": "geometric", "baseline": [1, 1], "current": [null, 3]}}
        ]))
        .unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].metrics.len(), 1);
        assert_eq!((runs[0].metrics["a"], runs[1].metrics["a"], runs[1].metrics["b"]), (1.5, 2.5, 3.0));
    }

    #[test]
    fn rows_that_disagree_on_the_runs_are_refused_by_name() {
        let err = current_runs(&json!([
            {"name": "a", "runs": {"current": [1, 2]}},
            {"name": "b", "runs": {"current": [1]}}
        ]))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "its `comparison` row `b` has 1 current run(s), the rows before it 2; expected the same runs in every row"
        );
        assert!(current_runs(&json!([{"name": "a", "current": -1}])).unwrap_err().to_string().contains(">= 0"));
        assert!(current_runs(&json!([])).unwrap_err().to_string().contains("is empty"));
        assert!(current_runs(&json!([{"name": "a", "current": null}])).unwrap_err().to_string().contains("run 1"));
    }
}
