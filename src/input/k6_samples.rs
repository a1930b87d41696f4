//! The summary perfcert computes from k6's raw samples, whichever way they were written
//! (`--out json` or `--out csv`): the readers turn lines into [`Sample`]s, this module keeps
//! the statistics.
//!
//! - Percentiles use k6's own method (linear interpolation between the closest ranks), so
//!   `latency_p95` equals k6's summary value. They are exact while the file holds at most
//!   [`EXACT_BUDGET`] latency samples (each request counts once for the overall group, once for
//!   its class and once for its endpoint; 8 bytes each, 16 MB in all). Past that every group
//!   switches to a log histogram ([`super::sketch`]) whose percentiles are within 0.1% of the
//!   exact value, and the results carry a note saying so. Memory stays flat whatever the file
//!   size.
//! - Reads and writes are told apart by the `method` tag (GET/HEAD/OPTIONS read,
//!   POST/PUT/PATCH/DELETE write), or by the policy's `classes` tag selectors when set.
//! - Per endpoint: `METHOD name` where `name` is k6's name tag (the URL by default, shown
//!   without scheme and host so that it matches Locust's names): `latency_p95{endpoint=POST /orders}`.
//!   More than [`MAX_ENDPOINTS`] distinct endpoints (URLs with ids in them, say) drop the
//!   per-endpoint rows, with a note: k6's `name` tag groups such URLs.
//! - Throughput: `http_reqs` samples over the time from the first to the last of them. k6's own
//!   summary divides by the whole test's duration, which the raw output does not record, so the
//!   two differ slightly (by the ramp-up and tail; about 1% on the bundled runs).
//! - The run's fingerprint: `scenarios` (the `scenario` tags of latency samples), `vus_max`
//!   (the `vus_max` gauge's largest sample) and `duration` (first request to the last
//!   `http_reqs`, `iterations` or `vus_max` sample); the readers pass those few extra lines
//!   ([`Profile`]) and skip the rest unparsed as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Classes;
use super::sketch::{self, LogHistogram};
use super::windows::{self, Plan, Series};
use crate::error::LoadError;
use crate::fingerprint::{self, Fingerprint, Given};
use crate::model::{Counts, Precision, RunResults};

/// Latency samples kept exactly, over all groups of one file (8 bytes each).
pub const EXACT_BUDGET: usize = 2_000_000;
/// Distinct endpoints (method + name) reported one by one.
pub const MAX_ENDPOINTS: usize = 256;
/// How many samples a reader thread adds before it tells the others.
const FLUSH_EVERY: usize = 1 << 16;

/// The note every reader gives when it drops per-endpoint rows past [`MAX_ENDPOINTS`]:
/// `key` says what makes an endpoint, `hint` how to group them.
pub fn too_many_endpoints(key: &str, hint: &str) -> String {
    format!("more than {MAX_ENDPOINTS} endpoints ({key}): per-endpoint metrics left out; {hint}")
}

/// Settings of a raw-file read; the defaults are what users get, tests lower them.
#[derive(Debug, Clone)]
pub struct Options {
    /// Byte ranges a plain file is split into (default: one per core for files over 8 MB).
    pub threads: Option<usize>,
    /// Latency samples kept exactly before switching to the histogram.
    pub exact_budget: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { threads: None, exact_budget: EXACT_BUDGET }
    }
}

/// State shared by the reader threads of one file.
pub struct Shared<'c> {
    pub classes: &'c Classes,
    budget: usize,
    used: AtomicUsize,
    /// Which groups keep per-window statistics (the policy's gated metrics).
    plan: Plan,
}

impl<'c> Shared<'c> {
    pub fn new(classes: &'c Classes, options: &Options) -> Self {
        Shared { classes, budget: options.exact_budget, used: AtomicUsize::new(0), plan: Plan::new(&classes.gates) }
    }

    /// Whether every sample's time is needed (for the windows), not only `http_reqs`'.
    pub fn windows(&self) -> bool {
        !self.plan.is_empty()
    }
}

/// Which k6 metric a sample belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `http_req_duration`
    Duration,
    /// `http_req_failed`
    Failed,
    /// `http_reqs`
    Reqs,
}

/// The k6 metrics a run's fingerprint is read from, besides the samples: their lines are few
/// (one per second, one per iteration), so reading them costs nothing measurable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Profile {
    /// `vus_max`: the VUs k6 allocated, a gauge written once a second.
    VusMax,
    /// `iterations`: written when an iteration ends, the last samples of a test.
    Iterations,
}

impl Profile {
    pub fn of_metric(name: &[u8]) -> Option<Profile> {
        match name {
            b"vus_max" => Some(Profile::VusMax),
            b"iterations" => Some(Profile::Iterations),
            _ => None,
        }
    }
}

impl Kind {
    pub fn of_metric(name: &[u8]) -> Option<Kind> {
        match name {
            b"http_req_duration" => Some(Kind::Duration),
            b"http_req_failed" => Some(Kind::Failed),
            b"http_reqs" => Some(Kind::Reqs),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    Read,
    Write,
}

impl Class {
    /// The default classification, by HTTP method.
    pub fn of_method(method: &str) -> Option<Class> {
        match method {
            "GET" | "HEAD" | "OPTIONS" => Some(Class::Read),
            "POST" | "PUT" | "PATCH" | "DELETE" => Some(Class::Write),
            _ => None,
        }
    }
}

/// One sample, as the readers see it.
pub struct Sample<'a> {
    pub kind: Kind,
    pub value: f64,
    pub class: Option<Class>,
    /// HTTP method, empty if the sample has none.
    pub method: &'a str,
    /// The endpoint's path (the name tag without scheme and host).
    pub path: Option<&'a str>,
    /// Nanoseconds since the epoch; needed for `http_reqs` samples, and for all samples
    /// when [`Shared::windows`].
    pub time_ns: Option<i128>,
    /// k6's `scenario` tag, if the sample has one (bytes: UTF-8 is checked once per name).
    pub scenario: Option<&'a [u8]>,
}

/// The endpoint path of a k6 name tag: a URL name loses its scheme and host, so that
/// `http://host:8099/orders` and Locust's `/orders` read alike.
pub fn endpoint_path(name: &str) -> &str {
    match name.strip_prefix("http://").or_else(|| name.strip_prefix("https://")) {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => name,
    }
}

/// A sum of non-negative values whose mean never overflows: the plain sum (exact as before
/// while it is finite) and the sum scaled by 2^-128, which stays finite for any 2^64 values up
/// to `f64::MAX` and is used only when the plain sum has overflowed to infinity.
#[derive(Clone, Copy, Default, Debug)]
pub struct SafeSum {
    sum: f64,
    scaled: f64,
}

impl SafeSum {
    const SCALE: f64 = 1.0 / 340_282_366_920_938_463_463_374_607_431_768_211_456.0; // 2^-128

    pub fn add(&mut self, v: f64) {
        self.sum += v;
        self.scaled += v * Self::SCALE;
    }

    pub fn merge(&mut self, other: SafeSum) {
        self.sum += other.sum;
        self.scaled += other.scaled;
    }

    /// The mean of `n` values, clamped to their range (rounding in the scaled sum could
    /// otherwise step just past it).
    pub fn mean(&self, n: u64, min: f64, max: f64) -> f64 {
        let m = if self.sum.is_finite() { self.sum / n as f64 } else { self.scaled / n as f64 / Self::SCALE };
        // clamp panics on min > max; the readers refuse such inputs, and this never panics.
        if min <= max { m.clamp(min, max) } else { m }
    }
}

/// Samples of one group (overall, a class, an endpoint).
struct Group {
    exact: Vec<f64>,
    sketch: Option<LogHistogram>,
    count: u64,
    sum: SafeSum,
    min: f64,
    max: f64,
    failed: u64,
    failed_samples: u64,
    requests: u64,
}

impl Default for Group {
    fn default() -> Self {
        Group {
            exact: Vec::new(),
            sketch: None,
            count: 0,
            sum: SafeSum::default(),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            failed: 0,
            failed_samples: 0,
            requests: 0,
        }
    }
}

impl Group {
    /// Adds one sample; true if it was kept exactly.
    fn add(&mut self, kind: Kind, value: f64) -> bool {
        match kind {
            Kind::Duration => {
                self.count += 1;
                self.sum.add(value);
                self.min = self.min.min(value);
                self.max = self.max.max(value);
                match &mut self.sketch {
                    Some(h) => {
                        h.add(value);
                        false
                    }
                    None => {
                        self.exact.push(value);
                        true
                    }
                }
            }
            Kind::Failed => {
                self.failed_samples += 1;
                if value != 0.0 {
                    self.failed += 1;
                }
                false
            }
            Kind::Reqs => {
                self.requests += 1;
                false
            }
        }
    }

    fn switch_to_sketch(&mut self) {
        if self.sketch.is_none() {
            let mut h = LogHistogram::default();
            for &v in &self.exact {
                h.add(v);
            }
            self.exact = Vec::new();
            self.sketch = Some(h);
        }
    }

    fn absorb(&mut self, other: Group) {
        match (&mut self.sketch, other.sketch) {
            (None, None) => self.exact.extend(other.exact),
            (Some(h), None) => other.exact.iter().for_each(|&v| h.add(v)),
            (mine, Some(theirs)) => {
                let mut merged = theirs;
                if let Some(h) = mine {
                    merged.merge(h);
                }
                for &v in &self.exact {
                    merged.add(v);
                }
                self.exact = Vec::new();
                *mine = Some(merged);
            }
        }
        self.count += other.count;
        self.sum.merge(other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.failed += other.failed;
        self.failed_samples += other.failed_samples;
        self.requests += other.requests;
    }

    fn is_empty(&self) -> bool {
        self.count == 0 && self.requests == 0 && self.failed_samples == 0
    }

    /// k6's percentile of this group's latencies.
    fn percentile(&self, p: f64) -> f64 {
        match &self.sketch {
            None => percentile(&self.exact, p),
            Some(h) => {
                let n = h.len();
                if n <= 1 {
                    return self.min;
                }
                let at = |rank: u64| -> f64 {
                    if rank == 0 {
                        self.min
                    } else if rank == n - 1 {
                        self.max
                    } else {
                        h.at_rank(rank).clamp(self.min, self.max)
                    }
                };
                let i = p * (n as f64 - 1.0);
                let (j, k) = (at(i.floor() as u64), at(i.ceil() as u64));
                j + (k - j) * (i - i.floor())
            }
        }
    }
}

/// Everything kept from one file, or from one byte range of it.
pub struct Acc<'c> {
    shared: &'c Shared<'c>,
    overall: Group,
    read: Group,
    write: Group,
    /// Per endpoint, keyed by method (empty if none) then path: looked up with borrowed
    /// strings, so a known endpoint costs no allocation per sample.
    endpoints: HashMap<String, HashMap<String, Group>>,
    endpoint_count: usize,
    too_many_endpoints: bool,
    /// Earliest and latest `http_reqs` sample, ns since the epoch.
    first: Option<i128>,
    last: Option<i128>,
    /// Latency samples kept exactly here, and how many of them the other threads do not know of.
    exact: usize,
    unflushed: usize,
    sketched: bool,
    /// Per-window statistics of the gated groups ([`windows`]).
    series: Vec<Series>,
    /// The fingerprint's makings: the `scenario` tags of latency samples, the `vus_max` gauge's
    /// largest value, and the earliest and latest time of `http_reqs`, `iterations` and
    /// `vus_max` samples (a test starts with its first request and ends with its last
    /// iteration), ns since the epoch.
    scenarios: Vec<Vec<u8>>,
    vus_max: Option<f64>,
    run_first: Option<i128>,
    run_last: Option<i128>,
}

impl<'c> Acc<'c> {
    pub fn new(shared: &'c Shared<'c>) -> Self {
        Acc {
            shared,
            overall: Group::default(),
            read: Group::default(),
            write: Group::default(),
            endpoints: HashMap::new(),
            endpoint_count: 0,
            too_many_endpoints: false,
            first: None,
            last: None,
            exact: 0,
            unflushed: 0,
            sketched: false,
            series: shared.plan.series(),
            scenarios: Vec::new(),
            vus_max: None,
            run_first: None,
            run_last: None,
        }
    }

    /// Records a sample of a [`Profile`] metric.
    pub fn profile(&mut self, metric: Profile, value: f64, time_ns: i128) {
        if metric == Profile::VusMax {
            self.vus_max = Some(self.vus_max.map_or(value, |m| m.max(value)));
        }
        self.run_time(time_ns);
    }

    fn run_time(&mut self, t: i128) {
        self.run_first = Some(self.run_first.map_or(t, |f| f.min(t)));
        self.run_last = Some(self.run_last.map_or(t, |l| l.max(t)));
    }

    /// Seconds from the first to the last `http_reqs` sample, if they differ.
    pub fn span_seconds(&self) -> Option<f64> {
        match (self.first, self.last) {
            (Some(a), Some(b)) if b > a => Some((b - a) as f64 / 1e9),
            _ => None,
        }
    }

    pub fn classes(&self) -> &'c Classes {
        self.shared.classes
    }

    pub fn record(&mut self, s: Sample) {
        if let Some(scenario) = s.scenario
            && s.kind == Kind::Duration
            && !self.scenarios.iter().any(|known| known == scenario)
        {
            self.scenarios.push(scenario.to_vec());
        }
        let mut kept = self.overall.add(s.kind, s.value) as usize;
        match s.class {
            Some(Class::Read) => kept += self.read.add(s.kind, s.value) as usize,
            Some(Class::Write) => kept += self.write.add(s.kind, s.value) as usize,
            None => {}
        }
        if let Some(path) = s.path
            && !self.too_many_endpoints
        {
            kept += self.add_to_endpoint(s.method, path, s.kind, s.value) as usize;
        }
        if let Some(t) = s.time_ns {
            if s.kind == Kind::Reqs {
                self.first = Some(self.first.map_or(t, |f| f.min(t)));
                self.last = Some(self.last.map_or(t, |l| l.max(t)));
                self.run_time(t);
            }
            if !self.series.is_empty() {
                let endpoint = s.path.map(|p| (s.method, p));
                self.shared.plan.record(&mut self.series, s.class, endpoint, s.kind, s.value, t);
            }
        }
        if kept > 0 {
            self.exact += kept;
            self.unflushed += kept;
            if self.unflushed >= FLUSH_EVERY {
                let all = self.shared.used.fetch_add(self.unflushed, Ordering::Relaxed) + self.unflushed;
                self.unflushed = 0;
                if all > self.shared.budget {
                    self.sketch_all();
                }
            }
            if self.exact > self.shared.budget {
                self.sketch_all();
            }
        }
    }

    /// Adds a sample to its endpoint's group, made on first sight unless there are too many;
    /// true if it was kept exactly.
    fn add_to_endpoint(&mut self, method: &str, path: &str, kind: Kind, value: f64) -> bool {
        let sketched = self.sketched;
        let full = self.endpoint_count >= MAX_ENDPOINTS;
        let paths = match self.endpoints.get_mut(method) {
            Some(paths) => paths,
            None => self.endpoints.entry(method.to_string()).or_default(),
        };
        match paths.get_mut(path) {
            Some(g) => g.add(kind, value),
            None if full => {
                self.drop_endpoints();
                false
            }
            None => {
                let mut g = Group::default();
                if sketched {
                    g.switch_to_sketch();
                }
                let kept = g.add(kind, value);
                paths.insert(path.to_string(), g);
                self.endpoint_count += 1;
                kept
            }
        }
    }

    fn drop_endpoints(&mut self) {
        self.too_many_endpoints = true;
        let dropped: usize = self.endpoints.values().flat_map(|p| p.values()).map(|g| g.exact.len()).sum();
        self.exact -= dropped;
        self.endpoints = HashMap::new();
        self.endpoint_count = 0;
    }

    fn groups(&mut self) -> impl Iterator<Item = &mut Group> {
        [&mut self.overall, &mut self.read, &mut self.write]
            .into_iter()
            .chain(self.endpoints.values_mut().flat_map(|p| p.values_mut()))
    }

    fn sketch_all(&mut self) {
        if !self.sketched {
            self.groups().for_each(Group::switch_to_sketch);
            self.sketched = true;
        }
    }

    pub fn absorb(&mut self, other: Acc) {
        self.overall.absorb(other.overall);
        self.read.absorb(other.read);
        self.write.absorb(other.write);
        self.too_many_endpoints |= other.too_many_endpoints;
        for (method, paths) in other.endpoints {
            let mine = self.endpoints.entry(method).or_default();
            for (path, g) in paths {
                let slot = mine.entry(path).or_default();
                if slot.is_empty() {
                    self.endpoint_count += 1;
                }
                slot.absorb(g);
            }
        }
        if self.endpoint_count > MAX_ENDPOINTS || self.too_many_endpoints {
            self.too_many_endpoints = false;
            self.drop_endpoints();
        }
        for (mine, theirs) in self.series.iter_mut().zip(other.series) {
            mine.absorb(theirs);
        }
        self.first = [self.first, other.first].into_iter().flatten().min();
        self.last = [self.last, other.last].into_iter().flatten().max();
        self.run_first = [self.run_first, other.run_first].into_iter().flatten().min();
        self.run_last = [self.run_last, other.run_last].into_iter().flatten().max();
        self.vus_max = [self.vus_max, other.vus_max].into_iter().flatten().reduce(f64::max);
        for scenario in other.scenarios {
            if !self.scenarios.contains(&scenario) {
                self.scenarios.push(scenario);
            }
        }
        self.exact = [&self.overall, &self.read, &self.write]
            .into_iter()
            .chain(self.endpoints.values().flat_map(|p| p.values()))
            .map(|g| g.exact.len())
            .sum();
        if other.sketched || self.sketched || self.exact > self.shared.budget {
            self.sketched = false;
            self.sketch_all();
        }
    }

    /// The results; `source` names the input in reasons ("k6 raw output").
    pub fn finish(mut self, file: &str, source: &str) -> Result<RunResults, LoadError> {
        if self.overall.count == 0 {
            return Err(LoadError::new(
                file,
                format!("no http_req_duration samples; expected {source} of a test that made HTTP requests"),
            ));
        }
        if self.exact > self.shared.budget {
            self.sketch_all();
        }
        let seconds = self.span_seconds();
        let mut out = RunResults::default();
        if self.sketched {
            let samples: u64 = self.groups().map(|g| g.count).sum();
            out.notes.push(format!(
                "{} requests give {samples} latency samples (overall, per class, per endpoint), more than the {} \
                 kept exactly: percentiles come from a log histogram and are within {}% of the exact value",
                self.overall.count,
                self.shared.budget,
                sketch::ALPHA * 100.0
            ));
        }
        if self.too_many_endpoints {
            out.notes.push(too_many_endpoints("method + name tag", "give k6 requests a `name` tag to group URLs"));
        }
        put(&mut out, "", &mut self.overall, seconds);
        if !self.read.is_empty() {
            put(&mut out, "_read", &mut self.read, seconds);
        }
        if !self.write.is_empty() {
            put(&mut out, "_write", &mut self.write, seconds);
        }
        let mut endpoints: Vec<(String, &mut Group)> = self
            .endpoints
            .iter_mut()
            .flat_map(|(method, paths)| {
                paths.iter_mut().map(move |(path, g)| {
                    (if method.is_empty() { path.clone() } else { format!("{method} {path}") }, g)
                })
            })
            .collect();
        endpoints.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, g) in endpoints {
            put(&mut out, &format!("{{endpoint={name}}}"), g, seconds);
        }
        for class in ["read", "write"] {
            if !out.metrics.contains_key(&format!("latency_p95_{class}")) {
                let why = match self.shared.classes.selector(class) {
                    Some(sel) => format!("no request in the {source} has the tag {sel}"),
                    None => format!("no {class} requests (by HTTP method) in the {source}"),
                };
                out.unavailable.insert(format!("latency_p95_{class}"), why);
            }
        }
        windows::finish(&self.shared.plan, std::mem::take(&mut self.series), file, &mut out);
        if seconds.is_none() {
            out.unavailable.insert(
                "throughput".into(),
                format!("the {source} has fewer than two http_reqs samples at different times"),
            );
        }
        out.fingerprint = self.fingerprint();
        Ok(out)
    }

    /// What the samples say about how the run was made: `scenarios`, `vus_max` and `duration`,
    /// each only when the file records it and it is a valid value (a scenario name with a comma,
    /// or not UTF-8, say, leaves `scenarios` out rather than split or mangle it).
    fn fingerprint(&self) -> Fingerprint {
        let mut out = Fingerprint::new();
        let mut put = |name: &str, given: Given| {
            if let Some(key) = fingerprint::key(name)
                && let Ok(value) = fingerprint::normalize(key, given)
            {
                out.insert(name.into(), value);
            }
        };
        let names: Option<Vec<&str>> = self.scenarios.iter().map(|s| std::str::from_utf8(s).ok()).collect();
        if let Some(names) = names.filter(|n| !n.is_empty() && !n.iter().any(|s| s.contains(','))) {
            put("scenarios", Given::Text(&names.join(",")));
        }
        if let Some(max) = self.vus_max {
            put("vus_max", Given::Number(max));
        }
        if let (Some(a), Some(b)) = (self.run_first, self.run_last)
            && b > a
        {
            put("duration", Given::Number((b - a) as f64 / 1e9));
        }
        out
    }
}

/// Adds one group's metrics with a name suffix (`""`, `"_read"`, `"{endpoint=...}"`).
fn put(out: &mut RunResults, suffix: &str, g: &mut Group, seconds: Option<f64>) {
    let name = |m: &str| format!("{m}{suffix}");
    if g.count > 0 {
        g.exact.sort_unstable_by(f64::total_cmp);
        out.metrics.insert(name("latency_avg"), g.sum.mean(g.count, g.min, g.max));
        out.metrics.insert(name("latency_min"), g.min);
        out.metrics.insert(name("latency_p50"), g.percentile(0.50));
        out.metrics.insert(name("latency_p90"), g.percentile(0.90));
        out.metrics.insert(name("latency_p95"), g.percentile(0.95));
        out.metrics.insert(name("latency_p99"), g.percentile(0.99));
        out.metrics.insert(name("latency_max"), g.max);
    }
    if g.failed_samples > 0 {
        out.metrics.insert(name("error_rate"), g.failed as f64 / g.failed_samples as f64 * 100.0);
        // The counts behind it; the dispersion comes from the windows when the metric gates.
        let counts = Counts { errors: g.failed, requests: g.failed_samples, dispersion: 1.0 };
        out.precision.insert(name("error_rate"), Precision { log_se: None, counts: Some(counts) });
    }
    if g.requests > 0 {
        out.metrics.insert(name("requests"), g.requests as f64);
        if let Some(s) = seconds {
            out.metrics.insert(name("throughput"), g.requests as f64 / s * 60.0);
        }
    }
}

/// k6's percentile of sorted values: linear interpolation between the closest ranks,
/// computed with the same operations as k6's TrendSink so results agree to the last bit.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let i = p * (n as f64 - 1.0);
            let j = sorted[i.floor() as usize];
            let k = sorted[i.ceil() as usize];
            let f = i - i.floor();
            j + (k - j) * f
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_k6() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.95), 4.8);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(percentile(&[], 0.95), 0.0);
    }

    #[test]
    fn endpoint_paths() {
        assert_eq!(endpoint_path("http://127.0.0.1:8099/items?x=1"), "/items?x=1");
        assert_eq!(endpoint_path("https://example.com"), "/");
        assert_eq!(endpoint_path("/orders"), "/orders");
    }
}
