//! k6 end-of-test summaries: `--summary-export` JSON and `handleSummary` data
//! (`JSON.stringify(data)`). Both hold per-metric statistics that k6 computed itself; this reader
//! only renames and converts them.
//!
//! - `http_req_duration` trend stats -> `latency_avg`, `latency_min`, `latency_p50` (k6 `med`),
//!   `latency_p90`, `latency_p95`, `latency_p99`, `latency_p99_9`, `latency_max` (ms).
//! - `http_req_failed` -> `error_rate` (percent). Trap: in summary-export the ratio is `value` and
//!   `passes` counts FAILED requests; in handleSummary the ratio is `values.rate`.
//!   The error count behind it (`passes` failed of `passes + fails` requests) is the rate's
//!   within-run precision.
//! - `http_reqs` -> `throughput` (`rate` per second x 60 = requests per minute) and `requests`.
//!   Throughput's within-run relative error is 1/sqrt(count) (a Poisson count). Percentiles
//!   have no samples in a summary, so their within-run error is unknown (none is given).
//! - A submetric such as `http_req_duration{kind:write}` becomes `latency_p95{kind=write}`; the
//!   policy's `classes` turns the read / write selectors into `latency_p95_read` / `..._write`.
//!   Summaries hold only the submetrics a k6 threshold referenced, so what is absent is reported
//!   as unavailable, never guessed.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::Classes;
use crate::error::LoadError;
use crate::model::{Counts, Precision, RunResults};

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
    // Each metric's within-run precision, set once the metrics are in.
    let mut precision: Vec<(String, Precision)> = vec![];
    // Which summary key gave each metric: two keys must not give one metric (say the class
    // selector's submetric and a spelling of it that names the same thing).
    let mut origin: std::collections::HashMap<String, String> = std::collections::HashMap::new();

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
                    None => format!("{{{}}}", selector_name(sel)),
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
        let mut put = |metric: String, v: f64| -> Result<(), LoadError> {
            // (One key may give a metric twice: `med` and `p(50)` are both the median.)
            if let Some(first) = origin.insert(metric.clone(), key.clone())
                && first != *key
            {
                return Err(LoadError::new(
                    file,
                    format!("`metrics.{first}` and `metrics.{key}` both give the metric `{metric}`; expected one"),
                )
                .key(format!("metrics.{key}")));
            }
            out.metrics.insert(metric, v);
            Ok(())
        };
        match target {
            "http_req_duration" => {
                for stat in stats.keys() {
                    let Some(metric) = trend_metric(stat) else { continue };
                    if let Some(v) = number(stat)? {
                        put(name(&metric), v)?;
                    }
                }
            }
            "http_req_failed" => {
                let ratio_key = match flavor {
                    Flavor::SummaryExport => "value",
                    Flavor::HandleSummary => "rate",
                };
                if let Some(ratio) = number(ratio_key)? {
                    put(name("error_rate"), ratio * 100.0)?;
                    // `passes` counts the FAILED requests (a Rate counts non-zero samples).
                    let whole = |stat: &str| -> Result<Option<u64>, LoadError> {
                        match number(stat)? {
                            Some(v) if v.fract() == 0.0 && v < 2f64.powi(53) => Ok(Some(v as u64)),
                            Some(v) => Err(LoadError::new(file, format!("expected a whole count, found {v}"))
                                .key(format!("metrics.{key}.{stat}"))),
                            None => Ok(None),
                        }
                    };
                    if let (Some(errors), Some(ok)) = (whole("passes")?, whole("fails")?)
                        && errors + ok > 0
                    {
                        let counts = Counts { errors, requests: errors + ok, dispersion: 1.0 };
                        precision.push((name("error_rate"), Precision { log_se: None, counts: Some(counts) }));
                    }
                }
            }
            _ => {
                let count = number("count")?;
                if let Some(rate) = number("rate")? {
                    put(name("throughput"), rate * 60.0)?;
                    // Requests arriving as a Poisson stream: the count's relative error is 1/sqrt(N).
                    if let Some(n) = count.filter(|n| *n >= 1.0) {
                        precision.push((name("throughput"), Precision { log_se: Some(1.0 / n.sqrt()), counts: None }));
                    }
                }
                if let Some(count) = count {
                    put(name("requests"), count)?;
                }
            }
        }
    }
    out.precision.extend(precision);
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
        "k6 measures the client only; merge CPU, memory and cost from a native JSON file (--current k6.json+extra.json)".into(),
    );
    out.unavailable.insert("cost_per_1000_req".into(), out.unavailable["cpu_utilization"].clone());
    out.fingerprint = profile(doc, flavor);
    Ok(out)
}

/// What the summary records about how the run was made, for its fingerprint: the most VUs k6
/// allocated (the `vus_max` gauge's max) and, in handleSummary data only, the test's duration
/// (`state.testRunDurationMs`). Neither file names the k6 version, the script or the
/// scenarios; a value that is absent or not a plain number is left out, never guessed.
fn profile(doc: &Value, flavor: Flavor) -> crate::fingerprint::Fingerprint {
    let mut out = crate::fingerprint::Fingerprint::new();
    let vus_max = doc.get("metrics").and_then(|m| m.get("vus_max")).and_then(|body| stats_of(body, flavor));
    if let Some(max) = vus_max.and_then(|s| s.get("max")).and_then(Value::as_f64)
        && max.is_finite()
        && max >= 0.0
        && max.fract() == 0.0
    {
        out.insert("vus_max".into(), crate::numfmt::num(max));
    }
    let ms = doc.get("state").and_then(|s| s.get("testRunDurationMs")).and_then(Value::as_f64);
    if flavor == Flavor::HandleSummary
        && let Some(ms) = ms.filter(|ms| ms.is_finite() && *ms > 0.0)
    {
        out.insert("duration".into(), crate::fingerprint::duration_text(ms / 1000.0));
    }
    out
}

/// A k6 submetric selector as a perfcert metric suffix: each comma-separated `tag:value` pair
/// becomes `tag=value`. Only the first `:` of a pair separates (as in k6's own parser), so a
/// value keeps its colons: `group:::browse::search` -> `group=::browse::search`,
/// `url:http://h/a,method:GET` -> `url=http://h/a,method=GET`.
pub fn selector_name(selector: &str) -> String {
    selector
        .split(',')
        .map(|pair| match pair.split_once(':') {
            Some((tag, value)) => format!("{tag}={value}"),
            None => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a summary document like `serde_json::from_str`, except that a key given twice in one
/// object is an error naming it (serde_json's `Value` silently keeps the last one, so a metric
/// written twice would be read as whichever came last).
pub fn parse_strict(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict { path: String::new() }.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A JSON value at `path` (`metrics.http_reqs`), with duplicate keys refused.
struct Strict {
    path: String,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = vec![];
        while let Some(v) = seq.next_element_seed(Strict { path: format!("{}[{}]", self.path, out.len()) })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{path}`; each key may appear once")));
            }
            let value = map.next_value_seed(Strict { path })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
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
