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
//! - Throughput is Locust's own `Requests/s` x 60: requests over the time from the test's start
//!   (the `Aggregated` entry's `start_time`) to the last request, one denominator for every row.
//!   The stats CSV holds that figure. The JSON holds only each endpoint's first request time,
//!   not the test's start: it gives throughput from the first request when the requests span
//!   at least [`MIN_JSON_SPAN_S`], where the start-up left out is under 1%, and otherwise
//!   reports it unavailable with the reason.
//! - Within-run precision: each error rate carries its count (`num_failures` of `num_requests`),
//!   throughput the Poisson relative error 1/sqrt(requests), and, from the JSON's histograms
//!   only, each percentile an order-statistic standard error ([`percentile_log_se`]). The stats
//!   CSV's percentiles have none.
//! - Counts are summed with checked arithmetic, histogram keys must be written as Locust writes
//!   them, a key, bucket, endpoint or row given twice is an error, and at most
//!   [`MAX_ENDPOINTS`] endpoints get rows of their own (the k6 readers' cap and note).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::k6_samples::{Class, MAX_ENDPOINTS, SafeSum, too_many_endpoints};
use crate::error::LoadError;
use crate::model::{Counts, Precision, RunResults};

/// The percentiles reported, as metric suffix and fraction.
const PERCENTILES: [(&str, f64); 4] = [("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99)];

/// The start of the stats CSV header; used to recognise the format.
pub const CSV_HEADER_START: &str = "Type,Name,Request Count,Failure Count,";

/// The shortest span of requests (seconds) over which the JSON gives a throughput. Locust's
/// `Requests/s` divides by the time from the test's start (the `Aggregated` entry's
/// `start_time`, which the JSON does not hold) to the last request; the JSON only knows the
/// first request's time. The start-up between the two (21-76 ms on the runs in
/// fixtures/locust/throughput) is assumed under 1 s, so over 100 s it shifts the figure by
/// at most 1%; over a shorter span the figure cannot be known.
pub const MIN_JSON_SPAN_S: f64 = 100.0;

/// The hint of the note given when endpoint rows are dropped.
const GROUP_HINT: &str = "give Locust requests a `name=` to group URLs";

/// What a zero-request run is told, whichever Locust file it came as.
const NO_REQUESTS: &str = "did the test make any requests?";

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
    response_times: Buckets,
}

/// A `response_times` histogram: bucket (whole ms) to count, sorted by bucket. Locust writes
/// the keys as `str(int)` (older versions `str(float)` from 100 ms up: `"110.0"`), so anything
/// else (`"-0"`, `"007"`, `"1e2"`, `"4.5"`) is refused rather than read as a number that sorts
/// wrongly, and so is a bucket given twice (`"100"` and `"100.0"` included).
struct Buckets(Vec<(u64, u64)>);

impl<'de> Deserialize<'de> for Buckets {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Buckets;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of response times (whole ms) to counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Buckets, A::Error> {
                let mut out: Vec<(u64, u64)> = vec![];
                let mut seen = HashSet::new();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    // Locust before 2.40 or so writes buckets from 100 ms up as floats: "110.0".
                    let int = key.strip_suffix(".0").unwrap_or(&key);
                    let canonical = int == "0"
                        || (int.as_bytes().first().is_some_and(|b| (b'1'..=b'9').contains(b))
                            && int.bytes().all(|b| b.is_ascii_digit()));
                    let ms = canonical.then(|| int.parse::<u64>().ok()).flatten().ok_or_else(|| {
                        de::Error::custom(format!(
                            "expected a response time in whole ms written as Locust writes it \
                             (e.g. \"44\" or \"110.0\"), found {key:?}"
                        ))
                    })?;
                    if !seen.insert(ms) {
                        return Err(de::Error::custom(format!(
                            "duplicate bucket {key:?}; each bucket may appear once"
                        )));
                    }
                    out.push((ms, map.next_value()?));
                }
                out.sort_unstable();
                Ok(Buckets(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A merged group of endpoints. Counts are summed with checked arithmetic: a sum that does
/// not fit is an input error, never a wrapped number.
#[derive(Default)]
struct Group {
    /// Bucket (ms) to count.
    histogram: BTreeMap<u64, u64>,
    requests: u64,
    none: u64,
    failures: u64,
    total_ms: SafeSum,
    min: Option<f64>,
    max: Option<f64>,
}

impl Group {
    /// Adds an entry; on overflow, the key whose sum is too large.
    fn add(&mut self, e: &Entry) -> Result<(), &'static str> {
        fn sum(a: &mut u64, b: u64, key: &'static str) -> Result<(), &'static str> {
            *a = a.checked_add(b).ok_or(key)?;
            Ok(())
        }
        for &(ms, count) in &e.response_times.0 {
            sum(self.histogram.entry(ms).or_default(), count, "response_times")?;
        }
        sum(&mut self.requests, e.num_requests, "num_requests")?;
        sum(&mut self.none, e.num_none_requests, "num_none_requests")?;
        sum(&mut self.failures, e.num_failures, "num_failures")?;
        self.total_ms.add(e.total_response_time);
        if let Some(min) = e.min_response_time {
            self.min = Some(self.min.map_or(min, |m| m.min(min)));
            self.max = Some(self.max.map_or(e.max_response_time, |m| m.max(e.max_response_time)));
        }
        Ok(())
    }

    fn put(&self, out: &mut RunResults, suffix: &str, seconds: Option<f64>) {
        let name = |m: &str| format!("{m}{suffix}");
        let timed = self.requests.saturating_sub(self.none);
        if let (Some(min), Some(max)) = (self.min, self.max)
            && timed > 0
        {
            let descending: Vec<(f64, u64)> = self.histogram.iter().rev().map(|(&b, &c)| (b as f64, c)).collect();
            out.metrics.insert(name("latency_avg"), self.total_ms.mean(timed, min, max));
            out.metrics.insert(name("latency_min"), min);
            for (p, fraction) in PERCENTILES {
                let metric = name(&format!("latency_{p}"));
                let value = percentile(&descending, timed, fraction);
                if let Some(log_se) = percentile_log_se(&self.histogram, timed, fraction, value) {
                    out.precision.insert(metric.clone(), Precision { log_se: Some(log_se), counts: None });
                }
                out.metrics.insert(metric, value);
            }
            out.metrics.insert(name("latency_max"), max);
        }
        if self.requests > 0 {
            out.metrics.insert(name("error_rate"), self.failures as f64 / self.requests as f64 * 100.0);
            out.metrics.insert(name("requests"), self.requests as f64);
            put_counts(out, suffix, self.failures, self.requests);
            if let Some(s) = seconds {
                out.metrics.insert(name("throughput"), self.requests as f64 / s * 60.0);
                put_throughput_se(out, suffix, self.requests);
            }
        }
    }
}

/// The error count behind `error_rate{suffix}`.
fn put_counts(out: &mut RunResults, suffix: &str, failures: u64, requests: u64) {
    let counts = Counts { errors: failures, requests, dispersion: 1.0 };
    out.precision.insert(format!("error_rate{suffix}"), Precision { log_se: None, counts: Some(counts) });
}

/// Throughput counts requests: a Poisson count's relative error is 1/sqrt(N).
fn put_throughput_se(out: &mut RunResults, suffix: &str, requests: u64) {
    let log_se = 1.0 / (requests as f64).sqrt();
    out.precision.insert(format!("throughput{suffix}"), Precision { log_se: Some(log_se), counts: None });
}

/// The within-run standard error of ln(percentile) from the run's own histogram (noise.md §3):
/// the order statistics at ranks n·p ± sqrt(n·p·(1 − p)) (one standard error of the rank)
/// bracket the percentile; half the log distance between the buckets at those ranks is the
/// standard error, and never less than the bucket's own resolution, width / (sqrt(12) · value)
/// (Locust rounds every response time to its bucket). It treats requests as independent, so it
/// is a lower bound when latencies drift together. `None` when a bracketing bucket is 0 ms
/// (no log scale) or the histogram is empty.
pub fn percentile_log_se(histogram: &BTreeMap<u64, u64>, n: u64, fraction: f64, value: f64) -> Option<f64> {
    if n == 0 || value.is_nan() || value <= 0.0 {
        return None;
    }
    let n_f = n as f64;
    let centre = n_f * fraction;
    let sd = (n_f * fraction * (1.0 - fraction)).sqrt();
    let rank = |r: f64| r.clamp(1.0, n_f) as u64;
    let (low, high) = (rank((centre - sd).floor()), rank((centre + sd).ceil()));
    let at = |r: u64| -> Option<f64> {
        let mut seen = 0u64;
        for (&ms, &count) in histogram {
            seen = seen.saturating_add(count);
            if seen >= r {
                return Some(ms as f64);
            }
        }
        histogram.keys().next_back().map(|&ms| ms as f64)
    };
    let (x_low, x_high) = (at(low)?, at(high)?);
    if !(x_low > 0.0 && x_high >= x_low) {
        return None;
    }
    let width = match value {
        v if v < 100.0 => 1.0,
        v if v < 1_000.0 => 10.0,
        v if v < 10_000.0 => 100.0,
        _ => 1_000.0,
    };
    let se = ((x_high.ln() - x_low.ln()) / 2.0).max(width / (12f64.sqrt() * value));
    se.is_finite().then_some(se)
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

/// Everything kept from the JSON entries read so far: the groups, at most [`MAX_ENDPOINTS`]
/// endpoint rows, and the time span. Entries are added one by one as they are parsed, so memory
/// does not grow with the number of endpoints.
#[derive(Default)]
struct JsonAcc {
    overall: Group,
    read: Group,
    write: Group,
    endpoints: IndexMap<String, Group>,
    names: HashSet<String>,
    too_many_endpoints: bool,
    entries: usize,
    start: Option<f64>,
    end: Option<f64>,
}

impl JsonAcc {
    fn add(&mut self, file: &str, e: Entry) -> Result<(), LoadError> {
        let i = self.entries;
        self.entries += 1;
        let bad = |k: &str, msg: String| LoadError::new(file, msg).key(format!("[{i}].{k}"));
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
        if let Some(min) = e.min_response_time
            && min > e.max_response_time
        {
            return Err(bad(
                "min_response_time",
                format!("{min} is greater than max_response_time {}; expected min <= max", e.max_response_time),
            ));
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
        let method = e.method.as_deref().unwrap_or("");
        let name = endpoint(method, &e.name);
        if !self.names.insert(name.clone()) {
            return Err(bad("name", format!("the endpoint `{name}` is listed twice; expected one entry per endpoint")));
        }
        let overflow = |k: &str| {
            bad(
                k,
                format!("the sum of `{k}` over the entries does not fit in 64 bits; expected the counts of a real run"),
            )
        };
        self.start = Some(self.start.map_or(e.start_time, |s| s.min(e.start_time)));
        if let Some(last) = e.last_request_timestamp {
            self.end = Some(self.end.map_or(last, |x| x.max(last)));
        }
        self.overall.add(&e).map_err(overflow)?;
        match Class::of_method(method) {
            Some(Class::Read) => self.read.add(&e).map_err(overflow)?,
            Some(Class::Write) => self.write.add(&e).map_err(overflow)?,
            None => {}
        }
        if !self.too_many_endpoints {
            if self.endpoints.len() == MAX_ENDPOINTS {
                self.too_many_endpoints = true;
                self.endpoints = IndexMap::new();
            } else {
                let mut g = Group::default();
                g.add(&e).map_err(overflow)?;
                self.endpoints.insert(name, g);
            }
        }
        Ok(())
    }
}

/// Reads the top-level array one entry at a time into a [`JsonAcc`]. A reader error found
/// while adding an entry is kept aside (serde's error type cannot carry it) and stops the parse.
struct EntriesSeed<'a> {
    file: &'a str,
    acc: &'a RefCell<JsonAcc>,
    failed: &'a RefCell<Option<LoadError>>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of Locust stats entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            if let Err(e) = self.acc.borrow_mut().add(self.file, entry) {
                *self.failed.borrow_mut() = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// Parses Locust's `--json-file` output.
pub fn parse_json(file: &str, text: &str) -> Result<RunResults, LoadError> {
    // Fields perfcert does not read (num_reqs_per_sec, ...) are skipped below: check them too.
    super::strict_json::refuse_duplicate_keys(file, text)?;
    let acc = RefCell::new(JsonAcc::default());
    let failed = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let parsed = EntriesSeed { file, acc: &acc, failed: &failed }
        .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .map_err(|e| {
            let key = track.path().to_string();
            LoadError::new(file, format!("not Locust JSON output: {}", super::native::strip_position(&e.to_string())))
                .at(e.line() as u64, e.column() as u64)
                .key(key)
        })
        .and_then(|()| {
            de.end().map_err(|e| {
                LoadError::new(
                    file,
                    format!("not Locust JSON output: {}", super::native::strip_position(&e.to_string())),
                )
                .at(e.line() as u64, e.column() as u64)
            })
        });
    if let Some(e) = failed.into_inner() {
        return Err(e);
    }
    parsed?;
    let acc = acc.into_inner();
    if acc.overall.requests == 0 {
        return Err(LoadError::new(
            file,
            format!("Locust JSON output with no requests ({} endpoints); {NO_REQUESTS}", acc.entries),
        ));
    }
    let span = match (acc.start, acc.end) {
        (Some(a), Some(b)) if b > a => Some(b - a),
        _ => None,
    };
    let seconds = span.filter(|&s| s >= MIN_JSON_SPAN_S);
    let mut out = RunResults::default();
    acc.overall.put(&mut out, "", seconds);
    for (class, g) in [("read", &acc.read), ("write", &acc.write)] {
        if g.requests > 0 {
            g.put(&mut out, &format!("_{class}"), seconds);
        } else {
            out.unavailable.insert(
                format!("latency_p95_{class}"),
                format!("no {class} requests (by HTTP method) in the Locust output"),
            );
        }
    }
    let mut endpoints: Vec<(&String, &Group)> = acc.endpoints.iter().collect();
    endpoints.sort_by(|a, b| a.0.cmp(b.0));
    for (name, g) in endpoints {
        g.put(&mut out, &format!("{{endpoint={name}}}"), seconds);
    }
    if acc.too_many_endpoints {
        out.notes.push(too_many_endpoints("method + name", GROUP_HINT));
    }
    if seconds.is_none() {
        let why = match span {
            None => "the Locust JSON output records no time span of requests".to_string(),
            Some(s) => format!(
                "Locust's Requests/s counts from the test's start, which its JSON output does not record; \
                 the requests span {s:.3} s, too short to leave the start-up out (at least {MIN_JSON_SPAN_S:.0} s needed); \
                 use the Requests/s of PREFIX_stats.csv or a longer run"
            ),
        };
        out.unavailable.insert("throughput".into(), why);
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
    if let Some(dup) = header.iter().enumerate().find(|(i, h)| header[..*i].contains(h)).map(|(_, h)| h) {
        return Err(LoadError::new(
            file,
            format!("the header names the column `{dup}` twice; expected each column once"),
        )
        .at(1, 1));
    }
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
    let mut aggregated: Option<(CsvRow, usize)> = None;
    // Line of each endpoint's row: a row given twice is refused, not "the last one wins".
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
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
        let line_no = i + 1;
        if row.name == "Aggregated" && row.method.is_empty() {
            if let Some((_, first)) = &aggregated {
                return Err(at(format!("a second `Aggregated` row (the first is on line {first}); expected one")));
            }
            aggregated = Some((row, line_no));
        } else {
            let name = endpoint(&row.method, &row.name);
            if let Some(first) = seen.insert(name.clone(), line_no) {
                return Err(at(format!(
                    "a second row for `{name}` (the first is on line {first}); expected one row per endpoint"
                )));
            }
            rows.push(row);
        }
    }
    let (aggregated, _) = aggregated.ok_or_else(|| {
        LoadError::new(file, "no `Aggregated` row; expected the whole PREFIX_stats.csv that Locust writes")
    })?;
    if aggregated.requests == 0 {
        return Err(LoadError::new(
            file,
            format!("Locust stats CSV with no requests (the `Aggregated` row counts 0); {NO_REQUESTS}"),
        ));
    }
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
                let total = |what: &str, count: fn(&CsvRow) -> u64| {
                    many.iter().try_fold(0u64, |sum, r| sum.checked_add(count(r))).ok_or_else(|| {
                        LoadError::new(
                            file,
                            format!(
                                "the `{what}` of the {} rows does not fit in 64 bits; expected the counts of a real run",
                                &suffix[1..]
                            ),
                        )
                    })
                };
                let merged = CsvRow {
                    method: String::new(),
                    name: String::new(),
                    requests: total("Request Count", |r| r.requests)?,
                    failures: total("Failure Count", |r| r.failures)?,
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
    if rows.len() > MAX_ENDPOINTS {
        out.notes.push(too_many_endpoints("method + name", GROUP_HINT));
    } else {
        rows.sort_by_key(|r| endpoint(&r.method, &r.name));
        for row in &rows {
            put_row(&mut out, &format!("{{endpoint={}}}", endpoint(&row.method, &row.name)), row);
        }
    }
    if !out.metrics.contains_key("throughput") {
        // Locust writes 0 when it cannot tell (no request yet, or all at one instant).
        out.unavailable.insert(
            "throughput".into(),
            "the stats CSV's `Aggregated` row has no Requests/s (Locust writes 0 when the run has no time span)".into(),
        );
    }
    Ok(out)
}

/// A row's metrics. Throughput is the row's `Requests/s`, Locust's own figure: the row's
/// requests over the time from the test's start to its last request (one denominator for
/// every row, so rows add up).
fn put_row(out: &mut RunResults, suffix: &str, row: &CsvRow) {
    for (metric, v) in &row.latency {
        out.metrics.insert(format!("{metric}{suffix}"), *v);
    }
    if row.requests > 0 {
        out.metrics.insert(format!("error_rate{suffix}"), row.failures as f64 / row.requests as f64 * 100.0);
        out.metrics.insert(format!("requests{suffix}"), row.requests as f64);
        put_counts(out, suffix, row.failures, row.requests);
        if row.requests_per_s > 0.0 {
            out.metrics.insert(format!("throughput{suffix}"), row.requests_per_s * 60.0);
            put_throughput_se(out, suffix, row.requests);
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
