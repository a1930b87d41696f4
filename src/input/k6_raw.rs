//! k6 raw output, `--out json=FILE` (NDJSON, plain or gzip): every sample k6 recorded, one JSON
//! object per line. perfcert computes the summary itself, the way k6 does.
//!
//! - Only `Point` lines of `http_req_duration`, `http_req_failed` and `http_reqs` matter (3 of
//!   about 12 lines per request). A byte-prefix check skips the rest without parsing them; the
//!   matching lines are parsed with borrowed serde structs.
//! - Percentiles are exact and use k6's own method (linear interpolation between the closest
//!   ranks), so `latency_p95` equals k6's summary value. Every sample of a group is kept
//!   (8 bytes each) until the end of the file.
//! - Reads and writes are told apart by the `method` tag (GET/HEAD/OPTIONS read,
//!   POST/PUT/PATCH/DELETE write), or by the policy's `classes` tag selectors when set.
//! - Per endpoint: `METHOD name` where `name` is k6's name tag (the URL by default, shown
//!   without scheme and host so that it matches Locust's names): `latency_p95{endpoint=POST /orders}`.
//! - Throughput: `http_reqs` samples over the time from the first to the last of them. k6's own
//!   summary divides by the whole test's duration, which the raw output does not record, so the
//!   two differ slightly (by the ramp-up and tail; about 1% on the bundled runs).
//!
//! Plain files are split into one byte range per core, each read with its own buffer; gzip files
//! are inflated on one thread while another parses.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::Classes;
use crate::error::LoadError;
use crate::model::RunResults;

/// Read size for plain files (per thread).
const BLOCK: usize = 4 << 20;
/// Block size and queue depth between the gzip inflater and the parser: enough to keep both
/// busy, small enough to keep memory flat.
const GZ_BLOCK: usize = 1 << 20;
const GZ_QUEUE: usize = 2;

/// Reads a k6 NDJSON file (gzip when it starts with the gzip magic bytes).
pub fn read(path: &Path, classes: &Classes) -> Result<RunResults, LoadError> {
    let file = path.display().to_string();
    let io_err = |e: io::Error| LoadError::new(&file, crate::fsutil::io_reason(&e));
    let f = File::open(path).map_err(io_err)?;
    let mut magic = [0u8; 2];
    let gz = f.read_at(&mut magic, 0).map_err(io_err)? == 2 && magic == [0x1f, 0x8b];
    let acc = if gz { read_gzip(f, classes, &file)? } else { read_plain(&f, classes, &file)? };
    acc.finish(&file)
}

/// Reads an in-memory NDJSON text (tests, and inputs already in memory).
pub fn parse(file: &str, text: &str, classes: &Classes) -> Result<RunResults, LoadError> {
    let mut acc = Acc::new(classes);
    for (i, line) in text.as_bytes().split(|&b| b == b'\n').enumerate() {
        acc.line(line).map_err(|m| LoadError::new(file, m).at(i as u64 + 1, 1))?;
    }
    acc.finish(file)
}

fn read_plain<'c>(f: &File, classes: &'c Classes, file: &str) -> Result<Acc<'c>, LoadError> {
    let len = f.metadata().map_err(|e| LoadError::new(file, crate::fsutil::io_reason(&e)))?.len();
    // Small files are not worth a thread.
    let threads = if len < 8 << 20 { 1 } else { std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) };
    read_plain_split(f, classes, file, threads)
}

/// Reads a plain file as `threads` byte ranges in parallel.
fn read_plain_split<'c>(f: &File, classes: &'c Classes, file: &str, threads: usize) -> Result<Acc<'c>, LoadError> {
    let len = f.metadata().map_err(|e| LoadError::new(file, crate::fsutil::io_reason(&e)))?.len();
    let threads = threads.max(1) as u64;
    let bounds: Vec<u64> = (0..=threads).map(|i| len * i / threads).collect();
    let results: Vec<Result<Acc, ChunkError>> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (start, end) = (w[0], w[1]);
                s.spawn(move || read_range(f, start, end, classes))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("reader thread panicked")).collect()
    });
    let mut total = Acc::new(classes);
    for r in results {
        match r {
            Ok(acc) => total.absorb(acc),
            Err(e) => return Err(e.into_load_error(f, file)),
        }
    }
    Ok(total)
}

/// A failure inside one byte range, located by the offset of its line.
struct ChunkError {
    offset: u64,
    message: String,
}

impl ChunkError {
    /// Turns the offset into a line number (counting newlines: only on this error path).
    fn into_load_error(self, f: &File, file: &str) -> LoadError {
        let mut line = 1u64;
        let mut pos = 0u64;
        let mut buf = vec![0u8; BLOCK];
        while pos < self.offset {
            let want = ((self.offset - pos) as usize).min(BLOCK);
            match f.read_at(&mut buf[..want], pos) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                    pos += n as u64;
                }
            }
        }
        LoadError::new(file, self.message).at(line, 1)
    }
}

/// Processes the lines that start in `[start, end)`.
fn read_range<'c>(f: &File, start: u64, end: u64, classes: &'c Classes) -> Result<Acc<'c>, ChunkError> {
    let mut acc = Acc::new(classes);
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0usize; // bytes of buf in use
    let mut buf_offset = start; // file offset of buf[0]
    let mut eof = false;
    // A range that does not begin right after a newline starts inside a line owned by the
    // previous range: skip to the next line.
    let mut skip_partial = start > 0 && {
        let mut b = [0u8; 1];
        f.read_at(&mut b, start - 1).map_err(|e| ChunkError { offset: start, message: e.to_string() })? == 1
            && b[0] != b'\n'
    };
    loop {
        if !eof && filled < buf.len() {
            let n = f
                .read_at(&mut buf[filled..], buf_offset + filled as u64)
                .map_err(|e| ChunkError { offset: buf_offset, message: e.to_string() })?;
            if n == 0 {
                eof = true;
            }
            filled += n;
        }
        let mut pos = 0usize;
        if skip_partial {
            match memchr::memchr(b'\n', &buf[..filled]) {
                Some(i) => {
                    pos = i + 1;
                    skip_partial = false;
                }
                None if eof => return Ok(acc),
                None => {
                    buf_offset += filled as u64;
                    filled = 0;
                    continue;
                }
            }
        }
        loop {
            let line_offset = buf_offset + pos as u64;
            if line_offset >= end {
                return Ok(acc);
            }
            let rest = &buf[pos..filled];
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], pos + i + 1),
                None if eof => (rest, filled),
                None => break,
            };
            acc.line(line).map_err(|message| ChunkError { offset: line_offset, message })?;
            pos = next;
            if pos >= filled && eof {
                return Ok(acc);
            }
        }
        // Keep the partial line; grow the buffer if one line is longer than it.
        buf.copy_within(pos..filled, 0);
        buf_offset += pos as u64;
        filled -= pos;
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        if eof && filled == 0 {
            return Ok(acc);
        }
    }
}

fn read_gzip<'c>(f: File, classes: &'c Classes, file: &str) -> Result<Acc<'c>, LoadError> {
    // One thread inflates into blocks that end at a newline; this one parses them.
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(GZ_QUEUE);
    let inflater = std::thread::spawn(move || {
        let mut gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, f));
        let mut carry: Vec<u8> = Vec::new();
        loop {
            let mut block = std::mem::take(&mut carry);
            let start = block.len();
            block.resize(start + GZ_BLOCK, 0);
            let mut filled = start;
            let mut eof = false;
            while filled < block.len() {
                match gz.read(&mut block[filled..]) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            block.truncate(filled);
            if !eof {
                match memchr::memrchr(b'\n', &block) {
                    Some(i) => carry.extend_from_slice(&block[i + 1..]),
                    None => {
                        // One line longer than a block: keep reading into it.
                        carry = block;
                        continue;
                    }
                }
                let keep = block.len() - carry.len();
                block.truncate(keep);
            }
            if tx.send(Ok(block)).is_err() || eof {
                return;
            }
        }
    });
    let mut acc = Acc::new(classes);
    let mut line_no = 0u64;
    let mut failure = None;
    for block in rx {
        let block = match block {
            Ok(b) => b,
            Err(e) => {
                failure = Some(LoadError::new(file, format!("cannot decompress gzip: {e}")));
                break;
            }
        };
        for line in block.split(|&b| b == b'\n') {
            line_no += 1;
            if let Err(m) = acc.line(line) {
                failure = Some(LoadError::new(file, m).at(line_no, 1));
                break;
            }
        }
        // `split` yields one empty piece after a final newline; it is not a line.
        if block.last() == Some(&b'\n') {
            line_no -= 1;
        }
        if failure.is_some() {
            break;
        }
    }
    drop(inflater); // the sender side ends when we stop receiving
    match failure {
        Some(e) => Err(e),
        None => Ok(acc),
    }
}

/// Samples of one group (overall, a class, an endpoint).
#[derive(Default)]
struct Group {
    durations: Vec<f64>,
    duration_sum: f64,
    failed: u64,
    failed_samples: u64,
    requests: u64,
}

impl Group {
    fn absorb(&mut self, other: Group) {
        self.durations.extend(other.durations);
        self.duration_sum += other.duration_sum;
        self.failed += other.failed;
        self.failed_samples += other.failed_samples;
        self.requests += other.requests;
    }
}

struct Acc<'c> {
    classes: &'c Classes,
    overall: Group,
    read: Group,
    write: Group,
    /// Per endpoint, keyed by method (empty if none) then path: looked up with borrowed
    /// strings, so a known endpoint costs no allocation per sample.
    endpoints: HashMap<String, HashMap<String, Group>>,
    /// Earliest and latest `http_reqs` sample, ns since the epoch.
    first: Option<i128>,
    last: Option<i128>,
    points: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Duration,
    Failed,
    Reqs,
}

impl<'c> Acc<'c> {
    fn new(classes: &'c Classes) -> Self {
        Acc {
            classes,
            overall: Group::default(),
            read: Group::default(),
            write: Group::default(),
            endpoints: HashMap::new(),
            first: None,
            last: None,
            points: 0,
        }
    }

    fn absorb(&mut self, other: Acc) {
        self.overall.absorb(other.overall);
        self.read.absorb(other.read);
        self.write.absorb(other.write);
        for (method, paths) in other.endpoints {
            let mine = self.endpoints.entry(method).or_default();
            for (path, g) in paths {
                mine.entry(path).or_default().absorb(g);
            }
        }
        self.first = min_opt(self.first, other.first);
        self.last = max_opt(self.last, other.last);
        self.points += other.points;
    }

    /// Handles one line; an error is a message for the caller to locate.
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        if line.first() != Some(&b'{') || line.last() != Some(&b'}') {
            return Err("expected one JSON object per line (k6 --out json); this line is cut short or not JSON".into());
        }
        const PREFIX: &[u8] = b"{\"metric\":\"";
        let kind = if let Some(rest) = line.strip_prefix(PREFIX) {
            // k6 writes `{"metric":"NAME","type":"Point",...}`: decide from the name alone.
            match rest {
                r if r.starts_with(b"http_req_duration\"") => Kind::Duration,
                r if r.starts_with(b"http_req_failed\"") => Kind::Failed,
                r if r.starts_with(b"http_reqs\"") => Kind::Reqs,
                _ => return Ok(()),
            }
        } else if line.starts_with(b"{\"type\":\"Metric\"") {
            return Ok(());
        } else {
            // Another layout (a re-serialised file): find the metric name the slow way.
            let probe: Probe = serde_json::from_slice(line).map_err(|e| format!("not valid JSON: {e}"))?;
            match (probe.kind.as_deref(), probe.metric.as_deref()) {
                (Some("Point"), Some("http_req_duration")) => Kind::Duration,
                (Some("Point"), Some("http_req_failed")) => Kind::Failed,
                (Some("Point"), Some("http_reqs")) => Kind::Reqs,
                (Some("Point" | "Metric"), _) => return Ok(()),
                _ => return Err("expected a k6 `Metric` or `Point` line".into()),
            }
        };
        let mut de = serde_json::Deserializer::from_slice(line);
        let point = PointSeed { classes: self.classes }
            .deserialize(&mut de)
            .map_err(|e| format!("not a k6 Point line: {e}"))?;
        if !point.value.is_finite() || point.value < 0.0 {
            return Err(format!("expected a sample value >= 0, found {}", point.value));
        }
        self.points += 1;
        let class = point.class(self.classes);
        let class_group = match class {
            Some(Class::Read) => Some(&mut self.read),
            Some(Class::Write) => Some(&mut self.write),
            None => None,
        };
        let apply = |g: &mut Group| match kind {
            Kind::Duration => {
                g.durations.push(point.value);
                g.duration_sum += point.value;
            }
            Kind::Failed => {
                g.failed_samples += 1;
                if point.value != 0.0 {
                    g.failed += 1;
                }
            }
            Kind::Reqs => g.requests += 1,
        };
        apply(&mut self.overall);
        if let Some(g) = class_group {
            apply(g);
        }
        if let Some(path) = point.path() {
            let method = point.method.as_deref().unwrap_or("");
            let paths = match self.endpoints.get_mut(method) {
                Some(paths) => paths,
                None => self.endpoints.entry(method.to_string()).or_default(),
            };
            match paths.get_mut(path) {
                Some(g) => apply(g),
                None => apply(paths.entry(path.to_string()).or_default()),
            }
        }
        if kind == Kind::Reqs {
            let t =
                parse_time(&point.time).ok_or_else(|| format!("expected an RFC 3339 time, found {:?}", point.time))?;
            self.first = min_opt(self.first, Some(t));
            self.last = max_opt(self.last, Some(t));
        }
        Ok(())
    }

    fn finish(self, file: &str) -> Result<RunResults, LoadError> {
        if self.overall.durations.is_empty() {
            return Err(LoadError::new(
                file,
                "no http_req_duration samples; expected k6 raw output (--out json) of a test that made HTTP requests",
            ));
        }
        let seconds = match (self.first, self.last) {
            (Some(a), Some(b)) if b > a => Some((b - a) as f64 / 1e9),
            _ => None,
        };
        let mut out = RunResults::default();
        put(&mut out, "", self.overall, seconds);
        let (read, write) = (self.read, self.write);
        if read.requests + read.durations.len() as u64 > 0 {
            put(&mut out, "_read", read, seconds);
        }
        if write.requests + write.durations.len() as u64 > 0 {
            put(&mut out, "_write", write, seconds);
        }
        let mut endpoints: Vec<(String, Group)> = self
            .endpoints
            .into_iter()
            .flat_map(|(method, paths)| {
                paths.into_iter().map(move |(path, g)| {
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
                let why = match self.classes.selector(class) {
                    Some(sel) => format!("no request in the k6 raw output has the tag {sel}"),
                    None => format!("no {class} requests (by HTTP method) in the k6 raw output"),
                };
                out.unavailable.insert(format!("latency_p95_{class}"), why);
            }
        }
        Ok(out)
    }
}

/// Adds one group's metrics with a name suffix (`""`, `"_read"`, `"{endpoint=...}"`).
fn put(out: &mut RunResults, suffix: &str, mut g: Group, seconds: Option<f64>) {
    let name = |m: &str| format!("{m}{suffix}");
    if !g.durations.is_empty() {
        g.durations.sort_unstable_by(f64::total_cmp);
        let v = &g.durations;
        out.metrics.insert(name("latency_avg"), g.duration_sum / v.len() as f64);
        out.metrics.insert(name("latency_min"), v[0]);
        out.metrics.insert(name("latency_p50"), percentile(v, 0.50));
        out.metrics.insert(name("latency_p90"), percentile(v, 0.90));
        out.metrics.insert(name("latency_p95"), percentile(v, 0.95));
        out.metrics.insert(name("latency_p99"), percentile(v, 0.99));
        out.metrics.insert(name("latency_max"), v[v.len() - 1]);
    }
    if g.failed_samples > 0 {
        out.metrics.insert(name("error_rate"), g.failed as f64 / g.failed_samples as f64 * 100.0);
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

fn min_opt(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// `2026-11-22T13:53:57.498150815Z` (Go RFC3339Nano: 0-9 fraction digits, `Z` or an offset)
/// to nanoseconds since the epoch.
fn parse_time(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64))
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(start..i)? * 10i64.pow(9 - digits as u32);
    }
    let offset_min = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let v = |x: &u8, y: &u8| -> Option<i64> {
                (x.is_ascii_digit() && y.is_ascii_digit()).then(|| ((x - b'0') * 10 + (y - b'0')) as i64)
            };
            let m = v(h1, h2)? * 60 + v(m1, m2)?;
            if *sign == b'+' { m } else { -m }
        }
        _ => return None,
    };
    let days =
        jiff::civil::Date::new(y as i16, mo as i8, d as i8).ok()?.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days()
            as i64;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs as i128 * 1_000_000_000 + nanos as i128)
}

#[derive(PartialEq, Clone, Copy)]
enum Class {
    Read,
    Write,
}

/// The parts of a Point line that matter.
struct Point<'a> {
    time: Cow<'a, str>,
    value: f64,
    method: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    read_tag: bool,
    write_tag: bool,
}

impl Point<'_> {
    fn class(&self, classes: &Classes) -> Option<Class> {
        if classes.read.is_some() || classes.write.is_some() {
            return if self.read_tag {
                Some(Class::Read)
            } else if self.write_tag {
                Some(Class::Write)
            } else {
                None
            };
        }
        match self.method.as_deref()? {
            "GET" | "HEAD" | "OPTIONS" => Some(Class::Read),
            "POST" | "PUT" | "PATCH" | "DELETE" => Some(Class::Write),
            _ => None,
        }
    }

    /// The endpoint's path from the name tag (a URL name loses its scheme and host); with the
    /// method it names the endpoint, `POST /orders`.
    fn path(&self) -> Option<&str> {
        let name = self.name.as_deref()?;
        Some(match name.strip_prefix("http://").or_else(|| name.strip_prefix("https://")) {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => name,
        })
    }
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    metric: Option<Cow<'a, str>>,
}

/// Deserialises a Point line, keeping only the fields and tags perfcert uses.
struct PointSeed<'c> {
    classes: &'c Classes,
}

impl<'de> DeserializeSeed<'de> for PointSeed<'_> {
    type Value = Point<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Point<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PointSeed<'_> {
    type Value = Point<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a k6 Point object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Point<'de>, A::Error> {
        let mut data = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "data" {
                data = Some(map.next_value_seed(DataSeed { classes: self.classes })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        data.ok_or_else(|| de::Error::missing_field("data"))
    }
}

struct DataSeed<'c> {
    classes: &'c Classes,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = Point<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Point<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = Point<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a k6 Point `data` object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Point<'de>, A::Error> {
        let mut time = None;
        let mut value = None;
        let mut tags = Tags::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "time" => time = Some(map.next_value::<Cow<'de, str>>()?),
                "value" => value = Some(map.next_value::<f64>()?),
                "tags" => tags = map.next_value_seed(TagsSeed { classes: self.classes })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Point {
            time: time.ok_or_else(|| de::Error::missing_field("time"))?,
            value: value.ok_or_else(|| de::Error::missing_field("value"))?,
            method: tags.method,
            name: tags.name,
            read_tag: tags.read,
            write_tag: tags.write,
        })
    }
}

#[derive(Default)]
struct Tags<'a> {
    method: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    read: bool,
    write: bool,
}

struct TagsSeed<'c> {
    classes: &'c Classes,
}

impl<'de> DeserializeSeed<'de> for TagsSeed<'_> {
    type Value = Tags<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Tags<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TagsSeed<'_> {
    type Value = Tags<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a k6 tags object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags<'de>, A::Error> {
        let mut tags = Tags::default();
        let read_sel = self.classes.read.as_deref().and_then(|s| s.split_once(':'));
        let write_sel = self.classes.write.as_deref().and_then(|s| s.split_once(':'));
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value: Cow<'de, str> = map.next_value()?;
            match key.as_ref() {
                "method" => tags.method = Some(value.clone()),
                "name" => tags.name = Some(value.clone()),
                _ => {}
            }
            if read_sel.is_some_and(|(k, v)| k == key && v == value) {
                tags.read = true;
            }
            if write_sel.is_some_and(|(k, v)| k == key && v == value) {
                tags.write = true;
            }
        }
        Ok(tags)
    }
}

/// Reads a plain file split in `threads` ranges; for tests of the range logic.
#[doc(hidden)]
pub fn read_with_threads(path: &Path, classes: &Classes, threads: usize) -> Result<RunResults, LoadError> {
    let file = path.display().to_string();
    let f = File::open(path).map_err(|e| LoadError::new(&file, crate::fsutil::io_reason(&e)))?;
    read_plain_split(&f, classes, &file, threads)?.finish(&file)
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
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(parse_time("1970-01-01T00:00:00.5Z"), Some(500_000_000));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_time("2026-11-22T13:53:57.498150815Z").unwrap()
                - parse_time("2026-11-22T13:53:57.08278228Z").unwrap(),
            415_368_535
        );
        assert_eq!(parse_time("2026-11-22 13:53:57Z"), None);
        assert_eq!(parse_time("2026-11-22T13:53:57.Z"), None);
    }

    #[test]
    fn lines_are_checked() {
        let c = Classes::default();
        let err = parse("r.ndjson", "{\"metric\":\"http_reqs\",\"type\":\"Point\",\"data\":{\"time\":\"x\",", &c)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.ndjson:1:1: expected one JSON object per line (k6 --out json); this line is cut short or not JSON"
        );
        let neg = "{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{\"time\":\"2026-01-01T00:00:00Z\",\"value\":-1,\"tags\":{}}}";
        assert!(parse("r", neg, &c).unwrap_err().to_string().contains("expected a sample value >= 0"));
        assert!(
            parse("r", "{\"type\":\"Metric\"}\n", &c).unwrap_err().to_string().contains("no http_req_duration samples")
        );
    }
}
