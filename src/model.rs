//! The in-memory model of load-test runs: one run's identification plus named metric values
//! ([`RunResults`]), and a side of a comparison as several runs with the files each came from
//! ([`Side`]).
//!
//! Every reader (`input::*`) produces a [`RunResults`]; the comparison only ever sees these.
//! It owns metric naming conventions (default units) and value sanity rules, not parsing.

use indexmap::IndexMap;

/// One run's results: who was tested and what was measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunResults {
    pub service: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
    /// When the run happened, as written in the file (RFC 3339 is recommended, not enforced).
    pub date: Option<String>,
    /// Metric name to value, in the order the file lists them. Values are finite and >= 0.
    pub metrics: IndexMap<String, f64>,
    /// Metrics this input cannot provide, with the reason (e.g. a k6 summary has no per-method
    /// latency). Shown when a policy asks for one of them.
    pub unavailable: IndexMap<String, String>,
    /// What a reader wants the user to know about how it read the file (e.g. percentiles
    /// estimated past the exact-sample budget). Reports show them as warnings.
    pub notes: Vec<String>,
    /// How precisely this run measured a metric (by metric name), where the format tells:
    /// the statistical decision's noise floor and the error rate's counts. A metric without
    /// an entry has unknown within-run precision.
    pub precision: IndexMap<String, Precision>,
    /// How the run was produced (load-test tool and version, script digest, load profile,
    /// testbed), as `key -> value`, to tell whether two runs are comparable. Empty when
    /// unknown.
    pub fingerprint: IndexMap<String, String>,
    /// A promoted baseline's origin (`perfcert baseline promote`): the certificate whose
    /// current side these results are. `None` for results a load test wrote.
    pub provenance: Option<Provenance>,
}

/// Where a promoted baseline came from: the certificate it was promoted from, as checked when it
/// was promoted. Written and read as the native format's `provenance` object.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The certificate's file name, under which it was signed (`SERVICE-VERSION.cert.json`).
    pub certificate: String,
    /// Where it was read from, as given (a path or `s3://BUCKET/KEY`).
    pub from: String,
    /// The sha256 of the certificate file.
    pub sha256: String,
    pub service: String,
    pub version: String,
    #[serde(default)]
    pub commit: Option<String>,
    /// When it was certified (the certificate's `date`).
    pub date: String,
    /// The certificate's status: always `PASS` (promote refuses the others).
    pub status: String,
    /// Who signed it, as checked: `key FILE`, or `IDENTITY (issuer URL)`.
    pub signer: String,
    /// Metrics that passed only by a waiver: their values exceeded a limit.
    #[serde(default)]
    pub waived: Vec<String>,
}

impl Provenance {
    /// `says it was promoted from ingest-api-v1.4.2.cert.json, certified PASS 2026-11-22T16:13:57Z with error_rate waived (not checked here)`: the file says so; compare does not verify it.
    pub fn label(&self) -> String {
        let waived =
            if self.waived.is_empty() { String::new() } else { format!(" with {} waived", self.waived.join(", ")) };
        format!(
            "says it was promoted from {}, certified {} {}{waived} (not checked here)",
            self.certificate, self.status, self.date
        )
    }
}

/// How precisely one run measured one metric: what the run's own samples say about the
/// sampling error of its value. Within-run precision is a floor on the run-to-run noise, never
/// a substitute for it (the run, not the request, is the unit of evidence).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Precision {
    /// The within-run standard error of ln(value), i.e. about the relative standard error
    /// (0.01 is 1%). `None` when the format does not carry the samples to estimate it.
    pub log_se: Option<f64>,
    /// For an error rate: the run's failed and total requests.
    pub counts: Option<Counts>,
}

/// One run's error count behind an error rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    pub errors: u64,
    pub requests: u64,
    /// How much more the errors vary than independent requests would (the variance inflation
    /// of the quasi-binomial, >= 1), from the run's time windows; 1 when unknown.
    pub dispersion: f64,
}

impl Precision {
    /// The within-run standard error of ln(value): `log_se` when given, else from an error
    /// count, sqrt(dispersion (1 − p) / errors) (the delta method on the binomial; none for 0
    /// errors, where a log scale has no meaning).
    pub fn relative_se(&self) -> Option<f64> {
        if let Some(se) = self.log_se {
            return Some(se);
        }
        let c = self.counts?;
        (c.errors > 0 && c.requests >= c.errors).then(|| {
            let p = c.errors as f64 / c.requests as f64;
            (c.dispersion.max(1.0) * (1.0 - p) / c.errors as f64).sqrt()
        })
    }
}

impl RunResults {
    /// A short human label such as `ingest-api v1.4.2, commit abc1234`, if the file identifies
    /// the run.
    pub fn label(&self) -> Option<String> {
        let name: Vec<&str> = [self.service.as_deref(), self.version.as_deref()].into_iter().flatten().collect();
        let commit = self.commit.as_ref().map(|c| format!("commit {c}"));
        let parts: Vec<String> = [(!name.is_empty()).then(|| name.join(" ")), commit].into_iter().flatten().collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// One run of a side, with the files (parts) it was read from, as given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Run {
    pub files: Vec<String>,
    pub results: RunResults,
}

/// One side of a comparison (baseline or current): one or more runs of the same code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Side {
    pub runs: Vec<Run>,
}

impl Side {
    /// Each run's results, in order.
    pub fn results(&self) -> Vec<RunResults> {
        self.runs.iter().map(|r| r.results.clone()).collect()
    }

    /// The side as one set of results: identification from the first run that has it, each
    /// metric's arithmetic mean over the runs (metrics that some run lacks are left out when
    /// there are several runs), every run's notes, the fingerprint keys every run has with the
    /// same value (the first run's; [`crate::fingerprint::check`] reports the others). One run:
    /// that run.
    pub fn summary(&self) -> RunResults {
        if let [only] = self.runs.as_slice() {
            return only.results.clone();
        }
        let mut out = RunResults::default();
        for run in &self.runs {
            let r = &run.results;
            out.service = out.service.or(r.service.clone());
            out.version = out.version.or(r.version.clone());
            out.commit = out.commit.or(r.commit.clone());
            out.date = out.date.or(r.date.clone());
            out.provenance = out.provenance.or(r.provenance.clone());
            out.notes.extend(r.notes.iter().cloned());
        }
        if let Some(first) = self.runs.first() {
            for (key, value) in &first.results.fingerprint {
                let shared = self
                    .runs
                    .iter()
                    .all(|r| r.results.fingerprint.get(key).is_some_and(|v| crate::fingerprint::same(key, value, v)));
                if shared {
                    out.fingerprint.insert(key.clone(), value.clone());
                }
            }
            for name in first.results.metrics.keys() {
                let values: Option<Vec<f64>> = self.runs.iter().map(|r| r.results.metrics.get(name).copied()).collect();
                if let Some(values) = values {
                    out.metrics.insert(name.clone(), arithmetic_mean(&values));
                }
            }
        }
        out
    }
}

/// The time slices of one duet run (both sides measured side by side): per slice, each side's
/// results over that slice; `baseline[i]` and `current[i]` cover the same time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Slices {
    pub baseline: Vec<RunResults>,
    pub current: Vec<RunResults>,
}

/// The arithmetic mean of the runs' values.
pub fn arithmetic_mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The geometric mean of the runs' values: the mean on the log scale, where relative changes
/// are differences. 0 if any value is 0.
pub fn geometric_mean(values: &[f64]) -> f64 {
    if let [only] = values {
        return *only;
    }
    if values.contains(&0.0) {
        return 0.0;
    }
    let mean = (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp();
    // exp(ln) rounds: keep the mean within the values (equal runs give exactly their value).
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if lo <= hi { mean.clamp(lo, hi) } else { mean }
}

/// The unit a metric is reported in when the policy does not say, from perfcert's naming
/// conventions: `latency_*` in ms, `error_rate` and `*_utilization` in percent, `throughput` in
/// requests per minute, `cost*` in USD.
pub fn default_unit(metric: &str) -> Option<&'static str> {
    let base = metric.split('{').next().unwrap_or(metric);
    if base.starts_with("latency") {
        Some("ms")
    } else if base.starts_with("error_rate") || base.contains("_utilization") {
        Some("%")
    } else if base.starts_with("throughput") {
        Some("req/min")
    } else if base.starts_with("cost") {
        Some("USD")
    } else {
        None
    }
}

/// Why a metric value cannot be used, or `None` if it is fine.
///
/// All perfcert metrics are non-negative quantities (durations, rates, counts, money), and a
/// percentage of requests cannot exceed 100.
pub fn value_problem(metric: &str, value: f64) -> Option<String> {
    if !value.is_finite() {
        return Some(format!("expected a finite number, found {value}"));
    }
    if value < 0.0 {
        return Some(format!("expected a value >= 0, found {value}"));
    }
    let base = metric.split('{').next().unwrap_or(metric);
    if base.starts_with("error_rate") && value > 100.0 {
        return Some(format!("error_rate is a percentage of requests (0-100), found {value}"));
    }
    None
}

#[cfg(test)]
mod mean_tests {
    use super::*;

    #[test]
    fn equal_runs_have_exactly_their_value_as_means() {
        assert_eq!(geometric_mean(&[205.0, 205.0, 205.0]), 205.0);
        assert_eq!(arithmetic_mean(&[205.0, 205.0]), 205.0);
        assert_eq!(geometric_mean(&[1.0, 4.0]), 2.0);
        assert_eq!(geometric_mean(&[0.0, 4.0]), 0.0);
    }
}
