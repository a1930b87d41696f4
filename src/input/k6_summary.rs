//! k6 end-of-test summaries: `--summary-export` JSON and `handleSummary` data
//! (`JSON.stringify(data)`). Both hold per-metric statistics that k6 computed itself; this reader
//! only renames and converts them.
//!
//! - `http_req_duration` trend stats -> `latency_avg`, `latency_min`, `latency_p50` (k6 `med`),
//!   `latency_p90`, `latency_p95`, `latency_p99`, `latency_p99_9`, `latency_max` (ms).
//! - `http_req_failed` -> `error_rate` (percent). Trap: in summary-export the ratio is `value` and
//!   `passes` counts FAILED requests; in handleSummary the ratio is `values.rate`.
//! - `http_reqs` -> `throughput` (`rate` per second x 60 = requests per minute) and `requests`.
//! - A submetric such as `http_req_duration{kind:write}` becomes `latency_p95{kind=write}`; the
//!   policy's `classes` turns the read / write selectors into `latency_p95_read` / `..._write`.
//!   Summaries hold only the submetrics a k6 threshold referenced, so what is absent is reported
//!   as unavailable, never guessed.

use serde_json::{Map, Value};

use super::Classes;
use crate::error::LoadError;
use crate::model::RunResults;

/// Which of the two k6 summary shapes a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    SummaryExport,
    HandleSummary,
}

/// Converts a parsed k6 summary document.
pub fn convert(file: &str, doc: &Value, flavor: Flavor, classes: &Classes) -> Result<RunResults, LoadError> {
    let metrics = doc
        .get("metrics")
        .and_then(Value::as_object)
        .ok_or_else(|| LoadError::new(file, "k6 summary without a `metrics` object").key("metrics"))?;
    let mut out = RunResults::default();
    let mut selectors_seen: Vec<&str> = vec![];

    for (key, body) in metrics {
        let (base, selector) = split_key(key);
        let target = match base {
            "http_req_duration" | "http_req_failed" | "http_reqs" => base,
            _ => continue,
        };
        let stats = stats_of(body, flavor)
            .ok_or_else(|| LoadError::new(file, "expected an object of statistics").key(format!("metrics.{key}")))?;
        let suffix = match selector {
            None => String::new(),
            Some(sel) => {
                if !selectors_seen.contains(&sel) && !sel.starts_with("expected_response:") {
                    selectors_seen.push(sel);
                }
                match classes.class_of_selector(sel) {
                    Some(class) => format!("_{class}"),
                    None => format!("{{{}}}", sel.replace(':', "=")),
                }
            }
        };
        let name = |metric: &str| match suffix.strip_prefix('_') {
            Some(class) => format!("{metric}_{class}"),
            None => format!("{metric}{suffix}"),
        };
        let number = |stat: &str| -> Result<Option<f64>, LoadError> {
            match stats.get(stat) {
                None => Ok(None),
                Some(v) => v.as_f64().filter(|v| v.is_finite() && *v >= 0.0).map(Some).ok_or_else(|| {
                    LoadError::new(file, format!("expected a number >= 0, found {v}"))
                        .key(format!("metrics.{key}.{stat}"))
                }),
            }
        };
        match target {
            "http_req_duration" => {
                for stat in stats.keys() {
                    let Some(metric) = trend_metric(stat) else { continue };
                    if let Some(v) = number(stat)? {
                        out.metrics.insert(name(&metric), v);
                    }
                }
            }
            "http_req_failed" => {
                let ratio_key = match flavor {
                    Flavor::SummaryExport => "value",
                    Flavor::HandleSummary => "rate",
                };
                if let Some(ratio) = number(ratio_key)? {
                    out.metrics.insert(name("error_rate"), ratio * 100.0);
                }
            }
            _ => {
                if let Some(rate) = number("rate")? {
                    out.metrics.insert(name("throughput"), rate * 60.0);
                }
                if let Some(count) = number("count")? {
                    out.metrics.insert(name("requests"), count);
                }
            }
        }
    }
    if !metrics.contains_key("http_req_duration") {
        return Err(LoadError::new(
            file,
            "k6 summary has no `http_req_duration` metric; expected the summary of a test that made HTTP requests",
        )
        .key("metrics"));
    }
    for class in ["read", "write"] {
        if !out.metrics.contains_key(&format!("latency_p95_{class}")) {
            let why = match classes.selector(class) {
                Some(sel) => format!(
                    "the k6 summary has no `http_req_duration{{{sel}}}` submetric (k6 writes a submetric only when a threshold references it; add one, e.g. 'http_req_duration{{{sel}}}': ['max>=0'], or use the raw output)"
                ),
                None => format!(
                    "a k6 summary has no per-method data; set `classes: {{ {class}: \"TAG:VALUE\" }}` in the policy to name the submetric that holds {class}s{}, or use the raw output",
                    if selectors_seen.is_empty() {
                        String::new()
                    } else {
                        format!(" (this file has submetrics for {})", selectors_seen.join(", "))
                    }
                ),
            };
            out.unavailable.insert(format!("latency_p95_{class}"), why.clone());
            out.unavailable.insert(format!("error_rate_{class}"), why.clone());
            out.unavailable.insert(format!("throughput_{class}"), why);
        }
    }
    out.unavailable.insert(
        "cpu_utilization".into(),
        "k6 measures the client only; merge CPU, memory and cost from a native JSON file (--current k6.json --current extra.json)".into(),
    );
    out.unavailable.insert("cost_per_1000_req".into(), out.unavailable["cpu_utilization"].clone());
    Ok(out)
}

/// `http_req_duration{kind:write}` -> (`http_req_duration`, Some(`kind:write`)).
fn split_key(key: &str) -> (&str, Option<&str>) {
    match key.split_once('{') {
        Some((base, rest)) => (base, Some(rest.strip_suffix('}').unwrap_or(rest))),
        None => (key, None),
    }
}

fn stats_of(body: &Value, flavor: Flavor) -> Option<&Map<String, Value>> {
    let obj = body.as_object()?;
    match flavor {
        Flavor::SummaryExport => Some(obj),
        Flavor::HandleSummary => obj.get("values")?.as_object(),
    }
}

/// A k6 trend stat name to a perfcert metric name: `p(95)` -> `latency_p95`, `med` -> `latency_p50`.
fn trend_metric(stat: &str) -> Option<String> {
    let name = match stat {
        "avg" | "min" | "max" => stat.to_string(),
        "med" => "p50".to_string(),
        _ => {
            let n = stat.strip_prefix("p(")?.strip_suffix(')')?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            format!("p{}", n.replace('.', "_"))
        }
    };
    Some(format!("latency_{name}"))
}
