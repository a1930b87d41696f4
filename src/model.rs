//! The in-memory model of one load-test run: identification plus named metric values.
//!
//! Every reader (`input::*`) produces a [`RunResults`]; the comparison only ever sees this.
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
