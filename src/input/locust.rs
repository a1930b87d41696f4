//! Locust results: the `--json-file` output (one object per endpoint, with the response-time
//! histogram) and the `--csv=PREFIX` statistics file `PREFIX_stats.csv`.
//!
//! - JSON is the better input. Its histograms can be merged, so reads, writes and the whole run
//!   get exact percentiles computed as Locust computes them: Locust rounds each response time
//!   to a bucket (1 ms below 100 ms, 10 ms below 1 s, ...) and takes the nearest rank counting
//!   from the slowest ([`percentile`]). Average, min and max are exact.
//! - The stats CSV has one row per endpoint plus `Aggregated`. Its percentiles cannot be merged,
//!   so a class (reads, writes) made of several rows gets counts, error rate, throughput, min
//!   and max but no percentiles or average: those are reported unavailable with the reason.
//!   Locust rewrites the CSV every second and not at shutdown, so its counts lag the final
//!   ones slightly (about 1 s of requests); the JSON is written at the end.
//! - Locust has no tags: reads and writes are told apart by HTTP method (GET/HEAD/OPTIONS
//!   read, POST/PUT/PATCH/DELETE write); the policy's `classes` selectors (k6 tags) do not apply.
//!   Endpoints are `METHOD Name`: `latency_p95{endpoint=POST /orders}`.
//! - Throughput is requests per minute over the run: for JSON from the earliest `start_time`
//!   to the latest `last_request_timestamp`, which is Locust's own denominator.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Deserialize;

use super::k6_samples::Class;
use crate::error::LoadError;
use crate::model::RunResults;

/// The percentiles reported, as metric suffix and fraction.
const PERCENTILES: [(&str, f64); 4] = [("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99)];

/// The start of the stats CSV header; used to recognise the format.
pub const CSV_HEADER_START: &str = "Type,Name,Request Count,Failure Count,";

/// One endpoint of Locust's JSON output (`StatsEntry.serialize()`).
#[derive(Deserialize)]
struct Entry {
    name: String,
    method: Option<String>,
    last_request_timestamp: Option<f64>,
    start_time: f64,
    num_requests: u64,
    #[serde(default)]
    num_none_requests: u64,
    num_failures: u64,
    total_response_time: f64,
    max_response_time: f64,
    min_response_time: Option<f64>,
    response_times: IndexMap<String, u64>,
}

/// A merged group of endpoints.
#[derive(Default)]
struct Group {
    /// Bucket (ms) to count.
    histogram: BTreeMap<u64, u64>,
    requests: u64,
    none: u64,
    failures: u64,
    total_ms: f64,
    min: Option<f64>,
    max: Option<f64>,
}

impl Group {
    fn add(&mut self, e: &Entry, buckets: &[(f64, u64)]) {
        for &(ms, count) in buckets {
            *self.histogram.entry(ms.to_bits()).or_default() += count;
        }
        self.requests += e.num_requests;
        self.none += e.num_none_requests;
        self.failures += e.num_failures;
        self.total_ms += e.total_response_time;
        if let Some(min) = e.min_response_time {
            self.min = Some(self.min.map_or(min, |m| m.min(min)));
            self.max = Some(self.max.map_or(e.max_response_time, |m| m.max(e.max_response_time)));
        }
    }

    fn put(&self, out: &mut RunResults, suffix: &str, seconds: Option<f64>) {
        let name = |m: &str| format!("{m}{suffix}");
        let timed = self.requests.saturating_sub(self.none);
        if let (Some(min), Some(max)) = (self.min, self.max)
            && timed > 0
        {
            // Bits of non-negative floats sort like the floats.
            let descending: Vec<(f64, u64)> =
                self.histogram.iter().rev().map(|(&b, &c)| (f64::from_bits(b), c)).collect();
            out.metrics.insert(name("latency_avg"), self.total_ms / timed as f64);
            out.metrics.insert(name("latency_min"), min);
            for (p, fraction) in PERCENTILES {
                out.metrics.insert(name(&format!("latency_{p}")), percentile(&descending, timed, fraction));
            }
            out.metrics.insert(name("latency_max"), max);
        }
        if self.requests > 0 {
            out.metrics.insert(name("error_rate"), self.failures as f64 / self.requests as f64 * 100.0);
            out.metrics.insert(name("requests"), self.requests as f64);
            if let Some(s) = seconds {
                out.metrics.insert(name("throughput"), self.requests as f64 / s * 60.0);
            }
        }
    }
}

/// Locust's percentile of a bucketed histogram (`calculate_response_time_percentile`): walk the
/// buckets from the slowest and stop at the first where at most `int(n * fraction)` requests
/// remain below. `descending` is (bucket ms, count), slowest first; `n` counts the timed requests.
pub fn percentile(descending: &[(f64, u64)], n: u64, fraction: f64) -> f64 {
    let below_allowed = (n as f64 * fraction) as i128;
    let mut processed: i128 = 0;
    for &(ms, count) in descending {
        processed += count as i128;
        if n as i128 - processed <= below_allowed {
            return ms;
        }
    }
    0.0
}

/// Parses Locust's `--json-file` output.
pub fn parse_json(file: &str, text: &str) -> Result<RunResults, LoadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let entries: Vec<Entry> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let key = e.path().to_string();
        let e = e.into_inner();
        LoadError::new(file, format!("not Locust JSON output: {}", super::native::strip_position(&e.to_string())))
            .at(e.line() as u64, e.column() as u64)
            .key(key)
    })?;
    if entries.is_empty() {
        return Err(LoadError::new(file, "Locust JSON output with no endpoints; did the test make any requests?"));
    }
    let (mut overall, mut read, mut write) = (Group::default(), Group::default(), Group::default());
    let mut endpoints: Vec<(String, Group)> = vec![];
    let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, e) in entries.iter().enumerate() {
        let key = |k: &str| format!("[{i}].{k}");
        let bad = |k: &str, msg: String| LoadError::new(file, msg).key(key(k));
        let mut buckets = Vec::with_capacity(e.response_times.len());
        for (ms, &count) in &e.response_times {
            let v: f64 =
                ms.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0).ok_or_else(|| {
                    bad("response_times", format!("expected response times in ms as keys, found {ms:?}"))
                })?;
            buckets.push((v, count));
        }
        for (k, v) in [
            ("start_time", Some(e.start_time)),
            ("last_request_timestamp", e.last_request_timestamp),
            ("total_response_time", Some(e.total_response_time)),
            ("max_response_time", Some(e.max_response_time)),
            ("min_response_time", e.min_response_time),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(bad(k, format!("expected a number >= 0, found {v}")));
            }
        }
        if e.num_failures > e.num_requests || e.num_none_requests > e.num_requests {
            return Err(bad(
                "num_failures",
                format!(
                    "more failures ({}) or untimed requests ({}) than requests ({})",
                    e.num_failures, e.num_none_requests, e.num_requests
                ),
            ));
        }
        start = start.min(e.start_time);
        if let Some(last) = e.last_request_timestamp {
            end = end.max(last);
        }
        overall.add(e, &buckets);
        let method = e.method.as_deref().unwrap_or("");
        match Class::of_method(method) {
            Some(Class::Read) => read.add(e, &buckets),
            Some(Class::Write) => write.add(e, &buckets),
            None => {}
        }
        let mut g = Group::default();
        g.add(e, &buckets);
        endpoints.push((endpoint(method, &e.name), g));
    }
    let seconds = (end > start).then_some(end - start);
    let mut out = RunResults::default();
    overall.put(&mut out, "", seconds);
    for (class, g) in [("read", &read), ("write", &write)] {
        if g.requests > 0 {
            g.put(&mut out, &format!("_{class}"), seconds);
        } else {
            out.unavailable.insert(
                format!("latency_p95_{class}"),
                format!("no {class} requests (by HTTP method) in the Locust output"),
            );
        }
    }
    endpoints.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, g) in &endpoints {
        g.put(&mut out, &format!("{{endpoint={name}}}"), seconds);
    }
    if seconds.is_none() {
        out.unavailable.insert("throughput".into(), "the Locust output records no time span of requests".into());
    }
    Ok(out)
}

fn endpoint(method: &str, name: &str) -> String {
    if method.is_empty() { name.to_string() } else { format!("{method} {name}") }
}

/// One row of the stats CSV, as metrics.
struct CsvRow {
    method: String,
    name: String,
    requests: u64,
    failures: u64,
    requests_per_s: f64,
    /// latency_avg, latency_min, ..., as available in this row.
    latency: IndexMap<&'static str, f64>,
}

/// Parses Locust's `PREFIX_stats.csv`.
pub fn parse_csv(file: &str, text: &str) -> Result<RunResults, LoadError> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines.next().map(|(_, h)| h.split(',').collect()).unwrap_or_default();
    let col = |name: &str| header.iter().position(|&h| h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            LoadError::new(file, format!("expected Locust's PREFIX_stats.csv with a `{name}` column in its header"))
                .at(1, 1)
        })
    };
    let (c_type, c_name, c_reqs, c_fails) =
        (need("Type")?, need("Name")?, need("Request Count")?, need("Failure Count")?);
    let c_rps = need("Requests/s")?;
    let latency_cols: Vec<(&'static str, Option<usize>)> = vec![
        ("latency_avg", col("Average Response Time")),
        ("latency_min", col("Min Response Time")),
        ("latency_p50", col("50%")),
        ("latency_p90", col("90%")),
        ("latency_p95", col("95%")),
        ("latency_p99", col("99%")),
        ("latency_max", col("Max Response Time")),
    ];
    let mut rows = vec![];
    let mut aggregated = None;
    let mut fields = vec![];
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let at = |msg: String| LoadError::new(file, msg).at(i as u64 + 1, 1);
        super::lines::split_csv(line.as_bytes(), &mut fields).map_err(at)?;
        if fields.len() != header.len() {
            return Err(at(format!("expected {} fields as in the header, found {}", header.len(), fields.len())));
        }
        let field = |c: usize| {
            let (a, b, escaped) = fields[c];
            let s = &line[a..b];
            if escaped { s.replace("\"\"", "\"") } else { s.to_string() }
        };
        let number = |c: usize| -> Result<Option<f64>, LoadError> {
            let s = field(c);
            if s == "N/A" {
                return Ok(None);
            }
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(Some)
                .ok_or_else(|| at(format!("column `{}`: expected a number >= 0, found {s:?}", header[c])))
        };
        let count = |c: usize| -> Result<u64, LoadError> {
            let s = field(c);
            s.parse::<u64>().map_err(|_| at(format!("column `{}`: expected a count, found {s:?}", header[c])))
        };
        let requests = count(c_reqs)?;
        let failures = count(c_fails)?;
        if failures > requests {
            return Err(at(format!("{failures} failures out of {requests} requests")));
        }
        let mut latency = IndexMap::new();
        if requests > 0 {
            for &(metric, c) in &latency_cols {
                if let Some(c) = c
                    && let Some(v) = number(c)?
                {
                    latency.insert(metric, v);
                }
            }
        }
        let row = CsvRow {
            method: field(c_type),
            name: field(c_name),
            requests,
            failures,
            requests_per_s: number(c_rps)?.unwrap_or(0.0),
            latency,
        };
        if row.name == "Aggregated" && row.method.is_empty() {
            aggregated = Some(row);
        } else {
            rows.push(row);
        }
    }
    let aggregated = aggregated.ok_or_else(|| {
        LoadError::new(file, "no `Aggregated` row; expected the whole PREFIX_stats.csv that Locust writes")
    })?;
    let mut out = RunResults::default();
    put_row(&mut out, "", &aggregated);
    for class in [Class::Read, Class::Write] {
        let suffix = if class == Class::Read { "_read" } else { "_write" };
        let members: Vec<&CsvRow> = rows.iter().filter(|r| Class::of_method(&r.method) == Some(class)).collect();
        match members.as_slice() {
            [] => {
                out.unavailable.insert(
                    format!("latency_p95{suffix}"),
                    format!("no {} requests (by HTTP method) in the Locust stats", &suffix[1..]),
                );
            }
            [one] => put_row(&mut out, suffix, one),
            many => {
                let merged = CsvRow {
                    method: String::new(),
                    name: String::new(),
                    requests: many.iter().map(|r| r.requests).sum(),
                    failures: many.iter().map(|r| r.failures).sum(),
                    requests_per_s: many.iter().map(|r| r.requests_per_s).sum(),
                    latency: IndexMap::new(),
                };
                put_row(&mut out, suffix, &merged);
                let extreme = |m: &'static str, pick: fn(f64, f64) -> f64| {
                    let vals: Vec<f64> = many.iter().filter_map(|r| r.latency.get(m).copied()).collect();
                    vals.into_iter().reduce(pick)
                };
                if let Some(v) = extreme("latency_min", f64::min) {
                    out.metrics.insert(format!("latency_min{suffix}"), v);
                }
                if let Some(v) = extreme("latency_max", f64::max) {
                    out.metrics.insert(format!("latency_max{suffix}"), v);
                }
                let names: Vec<String> = many.iter().map(|r| endpoint(&r.method, &r.name)).collect();
                let why = format!(
                    "Locust's stats CSV has percentiles per row only, and {} rows ({}) cannot be merged; \
                     pass the --json-file output instead",
                    names.len(),
                    names.join(", ")
                );
                for m in ["latency_avg", "latency_p50", "latency_p90", "latency_p95", "latency_p99"] {
                    out.unavailable.insert(format!("{m}{suffix}"), why.clone());
                }
            }
        }
    }
    rows.sort_by_key(|r| endpoint(&r.method, &r.name));
    for row in &rows {
        put_row(&mut out, &format!("{{endpoint={}}}", endpoint(&row.method, &row.name)), row);
    }
    Ok(out)
}

fn put_row(out: &mut RunResults, suffix: &str, row: &CsvRow) {
    for (metric, v) in &row.latency {
        out.metrics.insert(format!("{metric}{suffix}"), *v);
    }
    if row.requests > 0 {
        out.metrics.insert(format!("error_rate{suffix}"), row.failures as f64 / row.requests as f64 * 100.0);
        out.metrics.insert(format!("requests{suffix}"), row.requests as f64);
        if row.requests_per_s > 0.0 {
            out.metrics.insert(format!("throughput{suffix}"), row.requests_per_s * 60.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_walks_from_the_top_like_locust() {
        // {10 ms: 2, 20 ms: 1, 30 ms: 1}; p50 allows int(4 * 0.5) = 2 requests below: walking
        // down, 30 leaves 3 below, 20 leaves 2 -> 20.
        let h = [(30.0, 1), (20.0, 1), (10.0, 2)];
        assert_eq!(percentile(&h, 4, 0.5), 20.0);
        assert_eq!(percentile(&h, 4, 0.95), 30.0);
        assert_eq!(percentile(&h, 4, 0.0), 10.0);
        assert_eq!(percentile(&[], 0, 0.95), 0.0);
    }
}
