//! Mutation fuzzing of every input reader and the policy parser, on stable Rust, and the replay
//! of every case that ever failed (`tests/fuzz-corpus/`).
//!
//! - `fuzz_readers_policy_and_compare` mutates the real fixtures (native, k6 summary and
//!   handleSummary, k6 raw NDJSON and CSV plain and gzip, Locust JSON and stats CSV, policies)
//!   for `PERFCERT_FUZZ_SECS` seconds (default 3; `.ci/run` gives it 60): half of the time from
//!   a fixed seed, half from a random one that it prints (a second fixed one under `CI`, so CI
//!   is deterministic), so any failure reproduces with `PERFCERT_FUZZ_SEED=N`. Every case runs through every reader, `load` and `parse`, the
//!   comparison and all four reports; one case in 25 also through the binary.
//! - `replay_the_corpus` runs every case in `tests/fuzz-corpus/` through the same checks.
//!   `known-failures.json` lists the cases that still fail, each with its class; they must still
//!   fail with that class (or pass: the test then says to take them off the list), every other
//!   case must pass. `PERFCERT_FUZZ_STRICT=1` makes every case pass, known or not.
//!
//! The invariants: no panic; a reader's error names the file it was given; a reader's values
//! are finite, >= 0, and an error rate is at most 100; readers refuse duplicate keys and rows
//! and non-canonical Locust bucket keys; format detection does not depend on the first line's
//! length; `load` and `parse` agree; no NaN or infinity reaches a comparison row or a report; a
//! PASS only when every gated check had finite inputs and held; a policy has no null or
//! non-finite limit and no waiver date other than YYYY-MM-DD; `perfcert compare` exits 0, 1 or 2.
//! A failure is minimised and written under the test's target tmp dir, named by its class.

#![allow(clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::sim::Rng;
use perfcert::compare::{CheckKind, Comparison, Outcome, Status, Verdict, compare};
use perfcert::error::LoadError;
use perfcert::input::{self, Classes, Format};
use perfcert::model::{RunResults, value_problem};
use perfcert::policy::{self, MetricPolicy, Policy, Tolerance};
use perfcert::report::{self, Report, Source};

// ---------------------------------------------------------------------------------------------
// The engine: a small deterministic generator, the seeds, the mutations.

/// One input: its file name (the extension says what it is: `.yml` a policy, `.gz` gzip raw
/// output, anything else a results file) and its bytes (inflated for `.gz`).
#[derive(Clone)]
struct Case {
    name: String,
    bytes: Vec<u8>,
}

impl Case {
    fn is_policy(&self) -> bool {
        self.name.ends_with(".yml") || self.name.ends_with(".yaml")
    }

    /// A baseline, a current run and a policy in one JSON file, for the comparison alone.
    fn is_pair(&self) -> bool {
        self.name.ends_with(".pair.json")
    }

    fn is_gzip(&self) -> bool {
        self.name.ends_with(".gz")
    }

    /// The bytes as they go on disk.
    fn file_bytes(&self) -> Vec<u8> {
        if self.is_gzip() { gzip(&self.bytes) } else { self.bytes.clone() }
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out).expect("a fixture inflates");
    out
}

/// The first `n` lines.
fn head(bytes: &[u8], n: usize) -> Vec<u8> {
    let end = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(n - 1).map_or(bytes.len(), |(i, _)| i + 1);
    bytes[..end].to_vec()
}

/// Every reader's real files and every policy in fixtures/; raw output cut to its first lines
/// so that a case takes milliseconds.
fn seeds() -> Vec<Case> {
    let read = |p: &str| std::fs::read(root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let mut out = vec![];
    let mut add = |name: &str, bytes: Vec<u8>| out.push(Case { name: name.to_string(), bytes });
    for p in [
        "fixtures/perf004/baseline.json",
        "fixtures/perf004/current.json",
        "fixtures/perf004/current-regressed.json",
        "fixtures/edge/baseline.json",
        "fixtures/edge/current.json",
        "fixtures/k6/extra-baseline.json",
        "fixtures/k6/k6-baseline-summary-export.json",
        "fixtures/k6/k6-current-summary-export.json",
        "fixtures/k6/k6-baseline-handlesummary.json",
        "fixtures/k6/k6-current-handlesummary.json",
        "fixtures/locust/locust-baseline.json",
        "fixtures/locust/locust-current.json",
        "fixtures/locust/locust-baseline_stats.csv",
        "fixtures/locust/locust-current_stats.csv",
        "fixtures/locust/locust-current_failures.csv",
        "fixtures/fingerprint/k6-run.fingerprint.json",
        "fixtures/bad/duplicate-key.json",
        "fixtures/bad/huge-number.json",
        "fixtures/bad/wrong-type.json",
        "perf_thresholds.yml",
        "fixtures/k6/perf_thresholds.yml",
        "fixtures/locust/perf_thresholds.yml",
        "fixtures/perf004/waivers.yml",
        "fixtures/edge/perf_thresholds.yml",
        "fixtures/bad/not-a-limit.yml",
        "fixtures/bad/waiver-no-expiry.yml",
        "fixtures/drift-rules/perf_thresholds.yml",
    ] {
        // Unique names: `perf004-baseline.json`, `k6-perf_thresholds.yml`.
        let name = p.trim_start_matches("fixtures/").replace('/', "-");
        add(&name, read(p));
    }
    add("k6-raw.ndjson", head(&read("fixtures/k6/k6-baseline-raw-head.ndjson"), 120));
    add("k6-raw.ndjson.gz", head(&gunzip(&read("fixtures/k6/full/k6-current-raw.ndjson.gz")), 120));
    let csv = gunzip(&read("fixtures/k6/full/k6-baseline-raw.csv.gz"));
    add("k6-raw.csv", head(&csv, 150));
    add("k6-raw.csv.gz", head(&gunzip(&read("fixtures/k6/full/k6-current-raw.csv.gz")), 150));
    out
}

/// Numbers that break arithmetic, parsers and keys.
const EXTREMES: &[&str] = &[
    "0",
    "-0",
    "0.0",
    "-0.0",
    "00",
    "007",
    "1e2",
    "1.5",
    "-1",
    "1e308",
    "1.7976931348623157e308",
    "5e-324",
    "2.2250738585072014e-308",
    "1e-300",
    "1e999",
    "-1e999",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    ".inf",
    ".nan",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "0x10",
];

/// What a YAML value can be when it is "nothing".
const NULLS: &[&str] = &["", "~", "null", "Null", "NULL", "!!null", "!!null ''", "!!str", "!!float", "[]", "{}"];

fn number_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = vec![];
    let mut i = 0;
    while i < bytes.len() {
        let starts =
            bytes[i].is_ascii_digit() || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || matches!(bytes[i], b'.' | b'e' | b'E' | b'+' | b'-'))
            {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Byte ranges of JSON object members `"key":value` (value ends at `,` `}` or `]` at depth 0).
fn json_members(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' && i > 0 && matches!(prev_non_space(bytes, i), Some(b'{' | b',')) {
            let Some(key_end) = string_end(bytes, i) else { break };
            let mut j = key_end;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if bytes.get(j) == Some(&b':')
                && let Some(end) = value_end(bytes, j + 1)
            {
                out.push((i, end));
            }
            i = key_end;
        } else {
            i += 1;
        }
    }
    out
}

fn prev_non_space(bytes: &[u8], i: usize) -> Option<u8> {
    bytes[..i].iter().rev().find(|b| !b.is_ascii_whitespace()).copied()
}

/// Index just past the string starting at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn value_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i)?,
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' if depth == 0 => return Some(i),
            b'}' | b']' => {
                depth -= 1;
                i += 1;
            }
            b',' if depth == 0 => return Some(i),
            b'\n' if depth == 0 => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = vec![];
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

/// One mutation, by name, so the statistics say which ones find things.
fn mutate_once(rng: &mut Rng, bytes: &mut Vec<u8>, others: &[Case]) -> &'static str {
    let len = bytes.len();
    match rng.below(12) {
        0 if len > 0 => {
            let i = rng.below(len);
            bytes[i] ^= 1 << rng.below(8);
            "flip"
        }
        1 => {
            let i = rng.below(len + 1);
            let b = *rng.pick(b"0123456789-.eE,:;\"'{}[]\n\r\t \\xA~#%!&*|>");
            bytes.insert(i, b);
            "insert"
        }
        2 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below(16.min(len - i));
            bytes.drain(i..i + n);
            "delete"
        }
        3 => {
            let other = &rng.pick(others).bytes;
            if other.is_empty() {
                return "splice";
            }
            let (a, b) = (rng.below(other.len()), rng.below(other.len()));
            let (a, b) = (a.min(b), a.max(b).min(a.min(b) + 256));
            let at = rng.below(len + 1);
            bytes.splice(at..at, other[a..b].iter().copied());
            "splice"
        }
        4 | 5 => {
            let spans = number_spans(bytes);
            if spans.is_empty() {
                return "number";
            }
            let (a, b) = *rng.pick(&spans);
            bytes.splice(a..b, rng.pick(EXTREMES).bytes());
            "number"
        }
        6 => {
            let lines = line_spans(bytes);
            if lines.is_empty() {
                return "dup-line";
            }
            let (a, b) = *rng.pick(&lines);
            let line = bytes[a..b].to_vec();
            let at = *rng.pick(&[a, b]);
            bytes.splice(at..at, line);
            "dup-line"
        }
        7 => {
            let members = json_members(bytes);
            if members.is_empty() {
                return "dup-key";
            }
            let (a, b) = *rng.pick(&members);
            let mut copy = vec![b','];
            copy.extend_from_slice(&bytes[a..b]);
            bytes.splice(b..b, copy);
            "dup-key"
        }
        8 => {
            // A very long line: a long string member right after the first `{` (valid JSON when
            // it was), or a long run of one byte anywhere.
            let n = 70_000 + rng.below(4_000);
            match bytes.iter().position(|b| *b == b'{') {
                Some(i) if rng.chance(2) => {
                    let mut pad = format!("\"_pad\":\"{}\"", "x".repeat(n)).into_bytes();
                    if bytes.get(i + 1) != Some(&b'}') {
                        pad.push(b',');
                    }
                    bytes.splice(i + 1..i + 1, pad);
                }
                _ => {
                    let at = rng.below(len + 1);
                    let b = *rng.pick(b"x9 ,\"");
                    bytes.splice(at..at, std::iter::repeat_n(b, n));
                }
            }
            "long-line"
        }
        9 => {
            // A value left empty, null or a bare tag (YAML), or null (JSON).
            let colons: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == b':').map(|(i, _)| i).collect();
            if colons.is_empty() {
                return "null";
            }
            let c = *rng.pick(&colons);
            let end =
                bytes[c + 1..].iter().position(|b| matches!(b, b',' | b'}' | b'\n' | b'#')).map_or(len, |p| c + 1 + p);
            let null = if bytes.first() == Some(&b'{') || bytes.first() == Some(&b'[') {
                "null".to_string()
            } else {
                format!(" {}", rng.pick(NULLS))
            };
            bytes.splice(c + 1..end, null.into_bytes());
            "null"
        }
        10 if len > 0 => {
            bytes.truncate(rng.below(len));
            "truncate"
        }
        _ => {
            // Swap two lines (order dependence).
            let lines = line_spans(bytes);
            if lines.len() < 2 {
                return "swap";
            }
            let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
            let (i, j) = (i.min(j), i.max(j));
            if i == j {
                return "swap";
            }
            let (a, b) = (lines[i], lines[j]);
            let mut out = bytes[..a.0].to_vec();
            out.extend_from_slice(&bytes[b.0..b.1]);
            out.extend_from_slice(&bytes[a.1..b.0]);
            out.extend_from_slice(&bytes[a.0..a.1]);
            out.extend_from_slice(&bytes[b.1..]);
            *bytes = out;
            "swap"
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The invariants.

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    class: &'static str,
    detail: String,
}

fn violation(class: &'static str, detail: impl Into<String>) -> Violation {
    Violation { class, detail: detail.into() }
}

thread_local! {
    static PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into a violation whose class says what kind of panic it was.
fn guard<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Violation> {
    GUARDED.with(|g| g.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.map_err(|payload| {
        let message = PANIC
            .with(|p| p.borrow_mut().take())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let class = if message.contains("overflow") { "counter-overflow" } else { "panic" };
        violation(class, format!("{what} panicked: {message}"))
    })
}

/// Panics inside [`guard`] are expected and caught: keep their messages out of the test output
/// (the test's own assertions still print).
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(quiet_panics_now);
}

fn quiet_panics_now() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !GUARDED.with(std::cell::Cell::get) {
            return default(info);
        }
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        PANIC.with(|p| *p.borrow_mut() = Some(format!("{message}{location}")));
    }));
}

fn k6_classes() -> Classes {
    Classes { read: Some("kind:read".into()), write: Some("kind:write".into()), ..Default::default() }
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 6, 1)
}

/// Every `reason` and `reasons` text of a JSON report.
fn reason_texts(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| match (k.as_str(), v) {
                ("reason", serde_json::Value::String(s)) => vec![s.clone()],
                ("reasons", serde_json::Value::Array(items)) => {
                    items.iter().filter_map(|i| i.as_str().map(String::from)).collect()
                }
                _ => reason_texts(v),
            })
            .collect(),
        serde_json::Value::Array(items) => items.iter().flat_map(reason_texts).collect(),
        _ => vec![],
    }
}

/// A value is NaN or infinite as a word in text (`NaN`, `inf`, `-inf`, `Infinity`).
fn non_finite_word(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).find(|w| matches!(*w, "NaN" | "inf" | "Infinity"))
}

/// Every check of a results case: all readers on its text, `load` on its file, the detection,
/// the duplicate and bucket-key oracles, then the comparison and reports of what it gave.
fn check_results(dir: &Path, case: &Case) -> Vec<Violation> {
    let mut out = vec![];
    let path = dir.join(&case.name);
    std::fs::write(&path, case.file_bytes()).expect("writing a case");
    let file = path.display().to_string();
    let text = (!case.is_gzip()).then(|| std::str::from_utf8(&case.bytes).ok()).flatten();

    let load = |format: Option<Format>, classes: &Classes, out: &mut Vec<Violation>| {
        let what = format!("load({})", format.map_or("auto", Format::name));
        match guard(&what, || input::load(&path, format, classes)) {
            Err(v) => {
                out.push(v);
                None
            }
            Ok(result) => {
                out.extend(reader_result(&what, &file, &result));
                Some(result)
            }
        }
    };
    let auto = load(None, &Classes::default(), &mut out);
    let auto_k6 = load(None, &k6_classes(), &mut out);
    let as_ndjson = load(Some(Format::K6Json), &Classes::default(), &mut out);

    // Detection must not depend on how long the first line is: a file whose first line is a
    // k6 raw line is read as k6 raw output.
    let inflated = &case.bytes;
    if let (Some(Ok(ndjson)), Some(auto)) = (&as_ndjson, &auto)
        && first_line_is_k6(inflated)
        && auto.as_ref().ok() != Some(ndjson)
    {
        let first = inflated.split(|b| *b == b'\n').next().map_or(0, <[u8]>::len);
        let class = if first > 60_000 { "long-first-line" } else { "detect-mismatch" };
        out.push(violation(class, format!("a k6 raw file (first line {first} bytes) is not read as k6 raw output")));
    }

    // Every reader on the text, and the same reader through the file.
    if let Some(text) = text {
        let name = case.name.as_str();
        for format in Format::ALL {
            let what = format!("parse({})", format.name());
            let classes = k6_classes();
            let Ok(parsed) = guard(&what, || input::parse(name, text, Some(format), &classes)).map_err(|v| out.push(v))
            else {
                continue;
            };
            out.extend(reader_result(&what, name, &parsed));
            if matches!(format, Format::K6Json | Format::K6Csv)
                && let Ok(loaded) = guard("load", || input::load(&path, Some(format), &classes))
                && loaded.as_ref().ok() != parsed.as_ref().ok()
            {
                out.push(violation(
                    "parse-load-disagree",
                    format!("{}: parse gives {:?}, load gives {:?}", format.name(), brief(&parsed), brief(&loaded)),
                ));
            }
            if parsed.is_ok()
                && let Some(dup) = duplicate_in(format, text)
            {
                out.push(violation("duplicate-accepted", format!("{} reader accepts {dup}", format.name())));
            }
            if format == Format::LocustJson
                && let Ok(r) = &parsed
                && let Some(v) = bucket_key_oracle(name, text, r)
            {
                out.push(v);
            }
        }
    } else if case.is_gzip()
        && let Some(Ok(_)) = &auto
        && let Ok(text) = std::str::from_utf8(inflated)
        && first_line_is_k6(inflated)
        && let Some(dup) = duplicate_in(Format::K6Json, text)
    {
        out.push(violation("duplicate-accepted", format!("gzip raw output accepted with {dup}")));
    }

    match (auto, auto_k6) {
        (Some(Ok(a)), Some(Ok(k))) if a == k => out.extend(check_run_comparisons(&a)),
        (a, k) => {
            for r in [a, k].into_iter().flatten().flatten() {
                out.extend(check_run_comparisons(&r));
            }
        }
    }
    out
}

fn brief(r: &Result<RunResults, LoadError>) -> String {
    match r {
        Ok(r) => format!("{} metrics", r.metrics.len()),
        Err(e) => e.to_string().chars().take(200).collect(),
    }
}

/// A reader's answer: an error that names the file, or values that are usable.
fn reader_result(what: &str, file: &str, result: &Result<RunResults, LoadError>) -> Vec<Violation> {
    match result {
        Err(e) if e.file != file => {
            vec![violation("error-file", format!("{what}: error names {:?}, not {file:?}: {e}", e.file))]
        }
        Err(e) if e.message.trim().is_empty() => vec![violation("error-file", format!("{what}: empty message"))],
        Err(_) => vec![],
        Ok(r) => r
            .metrics
            .iter()
            .filter_map(|(name, v)| value_problem(name, *v).map(|p| (name, p)))
            .map(|(name, p)| violation("reader-value", format!("{what}: metric {name}: {p}")))
            .collect(),
    }
}

fn first_line_is_k6(bytes: &[u8]) -> bool {
    let Some(line) = bytes.split(|b| *b == b'\n').map(<[u8]>::trim_ascii).find(|l| !l.is_empty()) else {
        return false;
    };
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(line) else { return false };
    matches!(obj.get("type").and_then(|t| t.as_str()), Some("Metric" | "Point")) && obj.contains_key("data")
}

/// Where duplicate keys count: everywhere, nowhere, or (k6 summaries) only under the top-level
/// `metrics`, the part the reader reads.
#[derive(Clone, Copy, PartialEq)]
enum DupScope {
    Everywhere,
    Nowhere,
    MetricsOnly,
}

impl<'de> serde::de::DeserializeSeed<'de> for DupScope {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

const DUPLICATE: &str = "DUPLICATE-KEY:";

impl<'de> serde::de::Visitor<'de> for DupScope {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = if self == DupScope::MetricsOnly { DupScope::Nowhere } else { self };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if self == DupScope::Everywhere && !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE}{key}")));
            }
            let inner = match self {
                DupScope::MetricsOnly if key == "metrics" => DupScope::Everywhere,
                DupScope::MetricsOnly => DupScope::Nowhere,
                other => other,
            };
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

fn json_duplicate(text: &str, scope: DupScope) -> Option<String> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let e = scope.deserialize(&mut de).err()?;
    let message = e.to_string();
    let key = message.split(DUPLICATE).nth(1)?;
    Some(format!("duplicate key `{}` (line {})", key.rsplit_once(" at line ").map_or(key, |(k, _)| k), e.line()))
}

/// Whether the k6 raw reader reads this line (as opposed to skipping it unparsed).
fn read_by_perfcert(line: &str) -> bool {
    let point = line.contains("\"type\":\"Point\"") || line.contains("\"type\": \"Point\"");
    point && ["http_req_duration", "http_req_failed", "http_reqs"].iter().any(|m| line.contains(&format!("\"{m}\"")))
}

/// A duplicate the reader of `format` should have refused, if `text` has one.
fn duplicate_in(format: Format, text: &str) -> Option<String> {
    match format {
        Format::Native | Format::LocustJson | Format::Fingerprint => json_duplicate(text, DupScope::Everywhere),
        Format::K6Summary | Format::K6HandleSummary => json_duplicate(text, DupScope::MetricsOnly),
        // Only the lines perfcert reads (Points of http_req_duration, http_req_failed and
        // http_reqs) count: other lines are skipped unparsed, for speed, and cannot change a verdict.
        Format::K6Json => text.lines().enumerate().filter(|(_, line)| read_by_perfcert(line)).find_map(|(i, line)| {
            json_duplicate(line, DupScope::Everywhere)
                .map(|d| format!("{} on line {}", d.split(" (line").next().unwrap_or(&d), i + 1))
        }),
        Format::LocustCsv => {
            let mut seen = HashSet::new();
            text.lines().enumerate().skip(1).find_map(|(i, line)| {
                let mut cells = line.splitn(3, ',');
                let key = (cells.next()?.to_string(), cells.next()?.to_string());
                (!seen.insert(key.clone())).then(|| format!("row {},{} twice (line {})", key.0, key.1, i + 1))
            })
        }
        Format::K6Csv => None,
    }
}

/// Locust writes response-time buckets as canonical integers. A reader that accepts another
/// spelling (`-0`, `007`, `1e2`, `1.5`) must read it as the canonical key would be read.
fn bucket_key_oracle(name: &str, text: &str, accepted: &RunResults) -> Option<Violation> {
    let canonical =
        |k: &str| k == "0" || (!k.starts_with('0') && !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
    let mut doc: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut odd = None;
    for entry in doc.as_array_mut()? {
        let Some(times) = entry.get_mut("response_times").and_then(|t| t.as_object_mut()) else { continue };
        if times.keys().all(|k| canonical(k)) {
            continue;
        }
        let mut normal = serde_json::Map::new();
        for (k, v) in std::mem::take(times) {
            if !canonical(&k) {
                odd.get_or_insert_with(|| k.clone());
            }
            let n: f64 = k.parse().ok()?;
            if n.fract() != 0.0 || !n.is_finite() || n < 0.0 {
                return Some(violation("bucket-key", format!("Locust JSON bucket key {k:?} accepted")));
            }
            let key = format!("{}", n.abs() as u64);
            if normal.contains_key(&key) {
                return Some(violation(
                    "bucket-key",
                    format!("Locust JSON bucket keys {k:?} and {key:?} both accepted"),
                ));
            }
            normal.insert(key, v);
        }
        *times = normal;
    }
    let odd = odd?;
    let normalised = input::locust::parse_json(name, &doc.to_string());
    (normalised.as_ref().ok() != Some(accepted)).then(|| {
        violation(
            "bucket-key",
            format!("Locust JSON bucket key {odd:?} is read differently from its canonical spelling"),
        )
    })
}

/// Gates every metric of `r` with relative and with absolute limits, and compares it with
/// itself and with a moved copy (both ways).
fn check_run_comparisons(r: &RunResults) -> Vec<Violation> {
    let mut out = vec![];
    let names: Vec<&String> = r.metrics.keys().take(300).collect();
    let policy = |f: &dyn Fn(&str) -> MetricPolicy| Policy {
        metrics: names.iter().map(|n| f(n)).collect(),
        waivers: vec![],
        classes: Classes::default(),
        decision: perfcert::policy::DecisionPolicy::default(),
        comparability: perfcert::policy::Comparability::default(),
        duet: Default::default(),
        drift: None,
        sources: vec![],
        cost: None,
    };
    let limits = |name: &str| MetricPolicy {
        name: name.into(),
        max_increase: None,
        max_decrease: None,
        max_total_increase: None,
        max_total_decrease: None,
        max: None,
        min: None,
        unit: None,
        description: None,
    };
    let relative = policy(&|n| MetricPolicy {
        max_increase: Some(Tolerance::Relative(0.10)),
        max_decrease: Some(Tolerance::Relative(0.10)),
        ..limits(n)
    });
    let absolute = policy(&|n| MetricPolicy {
        max_increase: Some(Tolerance::Absolute(1.0)),
        max: Some(1e6),
        min: Some(0.0),
        ..limits(n)
    });
    let moved = RunResults {
        metrics: r
            .metrics
            .iter()
            .map(|(k, v)| (k.clone(), if (v * 1.05).is_finite() { v * 1.05 } else { v / 1.05 }))
            .collect(),
        ..r.clone()
    };
    for (b, c, p) in [(r, r, &relative), (r, &moved, &relative), (&moved, r, &absolute)] {
        out.extend(check_comparison(b, c, p));
    }
    out
}

/// The comparison and its reports: no NaN or infinity anywhere, a PASS only when proven.
fn check_comparison(b: &RunResults, c: &RunResults, policy: &Policy) -> Vec<Violation> {
    let mut out = vec![];
    let comparison = match guard("compare", || compare(b, c, policy, today())) {
        Ok(comparison) => comparison,
        Err(v) => return vec![v],
    };
    for row in &comparison.rows {
        let inputs_finite = [row.baseline, row.current].into_iter().flatten().all(f64::is_finite);
        for (field, v) in
            [("baseline", row.baseline), ("current", row.current), ("delta", row.delta), ("change", row.change)]
        {
            if let Some(v) = v
                && !v.is_finite()
            {
                let class = if inputs_finite { "compare-non-finite" } else { "reader-value" };
                out.push(violation(class, format!("row {}: {field} is {v}", row.name)));
            }
        }
        let texts =
            [report::value_text(row.baseline, row), report::value_text(row.current, row), report::delta_text(row)];
        let reasons = row.reasons.iter().chain(row.checks.iter().map(|c| &c.reason));
        if let Some(word) = texts.iter().chain(reasons).find_map(|t| non_finite_word(t).map(|w| (t, w))) {
            let class = if inputs_finite { "compare-non-finite" } else { "reader-value" };
            out.push(violation(class, format!("row {}: {:?} in {:?}", row.name, word.1, word.0)));
        }
    }
    out.extend(pass_is_proven(&comparison));
    out.extend(check_reports(&comparison, b, c));
    out
}

/// A PASS only when every gated row passed (or was waived, or had no baseline), and every check
/// that passed had finite inputs and holds when worked out again here.
fn pass_is_proven(c: &Comparison) -> Vec<Violation> {
    let mut out = vec![];
    let failed = c.rows.iter().any(|r| r.status == Status::Fail);
    if failed != (c.verdict == Verdict::Fail) {
        out.push(violation("pass-not-held", format!("verdict {:?} but a row failed: {failed}", c.verdict)));
    }
    if c.verdict != Verdict::Pass {
        return out;
    }
    let tol = |x: f64, bound: f64| 1e-9 * x.abs().max(bound.abs());
    for row in c.rows.iter().filter(|r| r.policy.is_some()) {
        let p = row.policy.as_ref().expect("gated");
        for check in row.checks.iter().filter(|c| c.outcome == Outcome::Pass) {
            let (Some(cur), base) = (row.current, row.baseline) else {
                out.push(violation("pass-not-held", format!("row {}: a check passed without a value", row.name)));
                continue;
            };
            let finite = cur.is_finite() && base.is_none_or(f64::is_finite);
            let holds = match (check.kind, base) {
                (CheckKind::Max, _) => p.max.is_some_and(|m| cur - m <= tol(cur, m)),
                (CheckKind::Min, _) => p.min.is_some_and(|m| m - cur <= tol(cur, m)),
                (CheckKind::MaxIncrease | CheckKind::MaxDecrease, Some(base)) => {
                    let up = check.kind == CheckKind::MaxIncrease;
                    let t = if up { p.max_increase } else { p.max_decrease };
                    let sign = if up { 1.0 } else { -1.0 };
                    match t {
                        Some(Tolerance::Relative(_)) if base == 0.0 => !up || cur == 0.0,
                        Some(Tolerance::Relative(l)) => {
                            let d = sign * (cur - base) / base;
                            d.is_finite() && d - l <= tol(d, l)
                        }
                        Some(Tolerance::Absolute(l)) => {
                            let d = sign * (cur - base);
                            d.is_finite() && d - l <= tol(d, l)
                        }
                        None => false,
                    }
                }
                // These policies set no cumulative limits: such a check passing would be a bug.
                (CheckKind::MaxIncrease | CheckKind::MaxDecrease, None)
                | (CheckKind::Present | CheckKind::MaxTotalIncrease | CheckKind::MaxTotalDecrease, _) => false,
            };
            if !finite || !holds {
                let class = if finite { "compare-non-finite" } else { "reader-value" };
                out.push(violation(
                    class,
                    format!(
                        "PASS but row {} check {} ({}) does not hold for baseline {base:?}, current {cur}",
                        row.name,
                        check.kind.as_str(),
                        check.reason
                    ),
                ));
            }
        }
        if row.status == Status::Waived && row.waiver.as_ref().is_none_or(|w| !w.is_active(c.as_of)) {
            out.push(violation("pass-not-held", format!("row {} waived without an active waiver", row.name)));
        }
    }
    out
}

/// All four reports render, the JSON one parses, and no number in it became null.
fn check_reports(comparison: &Comparison, b: &RunResults, c: &RunResults) -> Vec<Violation> {
    let mut out = vec![];
    let report = Report {
        comparison,
        baseline: Source { file: "baseline.json", results: b, runs: 1 },
        current: Source { file: "current.json", results: c, runs: 1 },
        thresholds_file: "perf_thresholds.yml",
        decision: None,
        reference: None,
    };
    for format in report::Format::ALL {
        let mut bytes = vec![];
        match guard("render", || format.renderer(format == report::Format::Table).render(&report, &mut bytes)) {
            Err(v) => out.push(violation("report", v.detail)),
            Ok(Err(e)) => out.push(violation("report", format!("{} report: {e}", format.name()))),
            Ok(Ok(())) => {}
        }
        if format == report::Format::Json {
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Err(e) => out.push(violation("report", format!("the JSON report does not parse: {e}"))),
                Ok(doc) => {
                    let metrics = doc.get("metrics").and_then(|m| m.as_array()).cloned().unwrap_or_default();
                    for (row, m) in comparison.rows.iter().zip(&metrics) {
                        for (field, v) in [
                            ("baseline", row.baseline),
                            ("current", row.current),
                            ("delta", row.delta),
                            ("change", row.change),
                        ] {
                            if v.is_some() && m.get(field).is_none_or(|x| !x.is_number()) {
                                let inputs_finite =
                                    [row.baseline, row.current].into_iter().flatten().all(f64::is_finite);
                                out.push(violation(
                                    if inputs_finite { "compare-non-finite" } else { "reader-value" },
                                    format!("JSON report: {}.{field} is {:?} for {v:?}", row.name, m.get(field)),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// A policy case: parsed, or refused with the file named; nothing null or non-finite accepted;
/// then the PERF-004 runs compared under it.
fn check_policy(case: &Case) -> Vec<Violation> {
    let mut out = vec![];
    let Ok(text) = std::str::from_utf8(&case.bytes) else { return out };
    let parsed = match guard("policy::parse", || policy::parse(&case.name, text)) {
        Ok(p) => p,
        Err(v) => return vec![v],
    };
    let p = match parsed {
        Err(e) => {
            if e.file != case.name || e.message.trim().is_empty() {
                out.push(violation("error-file", format!("policy error names {:?}: {e}", e.file)));
            }
            return out;
        }
        Ok(p) => p,
    };
    for m in &p.metrics {
        let tolerances = [m.max_increase, m.max_decrease].into_iter().flatten().map(|t| match t {
            Tolerance::Relative(x) | Tolerance::Absolute(x) => x,
        });
        if tolerances.clone().any(|x| !x.is_finite() || x < 0.0)
            || [m.max, m.min].into_iter().flatten().any(|x| !x.is_finite())
        {
            out.push(violation("policy-value", format!("metric {}: a non-finite or negative limit accepted", m.name)));
        }
    }
    // A drift: block accepted only with settings the engine can use.
    if let Some(d) = &p.drift {
        let settled = d.step_ms > 0
            && d.window_ms >= 2 * d.step_ms
            && d.window_ms % d.step_ms == 0
            && d.band.is_finite()
            && d.band > 0.0
            && d.band <= 1.0
            && d.ticket_after >= 1
            && !d.metrics.is_empty()
            && d.rollback.as_ref().is_none_or(|r| r.factor.is_finite() && r.factor > 1.0 && r.for_ms >= d.step_ms);
        if !settled {
            out.push(violation("policy-value", format!("drift: unusable settings accepted: {d:?}")));
        }
    }
    // The same YAML read generically: a limit key that is there but null must not be read as
    // "no limit"; a waiver's expiry is a YYYY-MM-DD date.
    if let Ok(doc) = serde_saphyr::from_str::<serde_json::Value>(text) {
        if let Some(metrics) = doc.get("metrics").and_then(|m| m.as_object()) {
            for (name, limits) in metrics {
                for key in ["max_increase", "max_decrease", "max", "min"] {
                    if limits.get(key).is_some_and(|v| v.is_null()) {
                        out.push(violation("null-limit", format!("metrics.{name}.{key}: null read as no limit")));
                    }
                }
            }
        }
        for w in doc.get("waivers").and_then(|w| w.as_array()).into_iter().flatten() {
            let expires = w.get("expires").map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string));
            let date_shaped = |s: &str| {
                s.len() == 10
                    && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() })
            };
            if let Some(e) = expires
                && !date_shaped(&e)
            {
                out.push(violation("waiver-date", format!("waiver expires {e:?} accepted")));
            }
        }
    }
    let load = |f: &str| input::load(&root().join(f), None, &Classes::default()).expect("fixture loads");
    let (b, c) = (load("fixtures/perf004/baseline.json"), load("fixtures/perf004/current.json"));
    out.extend(check_comparison(&b, &c, &p));
    out
}

/// A pair case: both runs read as perfcert JSON, the policy parsed, then compared.
fn check_pair(case: &Case) -> Vec<Violation> {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&case.bytes) else { return vec![] };
    let (Some(b), Some(c), Some(p)) =
        (doc.get("baseline"), doc.get("current"), doc.get("policy").and_then(|p| p.as_str()))
    else {
        return vec![];
    };
    let name = case.name.as_str();
    let parsed = guard("parse pair", || {
        Ok::<_, LoadError>((
            input::native::parse(name, &b.to_string())?,
            input::native::parse(name, &c.to_string())?,
            policy::parse(name, p)?,
        ))
    });
    match parsed {
        Err(v) => vec![v],
        Ok(Err(e)) if e.file != name => vec![violation("error-file", format!("error names {:?}: {e}", e.file))],
        Ok(Err(_)) => vec![],
        Ok(Ok((b, c, p))) => check_comparison(&b, &c, &p),
    }
}

/// Values at the edges of f64: zeros, subnormals, the largest finite values.
const EXTREME_VALUES: &[f64] =
    &[0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-9, 0.5, 1.0, 100.0, 1e15, 1e300, 1e308, f64::MAX];

/// A random pair of runs over a few metrics, with values and limits at the edges of f64.
fn random_pair(rng: &mut Rng) -> Case {
    let names = ["latency_p95", "throughput", "m", "cost"];
    let run = |rng: &mut Rng| -> serde_json::Map<String, serde_json::Value> {
        let mut metrics = serde_json::Map::new();
        for n in names {
            if !rng.chance(4) {
                metrics.insert(n.to_string(), serde_json::json!(*rng.pick(EXTREME_VALUES)));
            }
        }
        metrics
    };
    let (b, c) = (run(rng), run(rng));
    let mut yaml = String::from("metrics:\n");
    for name in names {
        let mut limits = vec![];
        let number = |rng: &mut Rng| serde_json::json!(*rng.pick(EXTREME_VALUES)).to_string();
        for key in ["max_increase", "max_decrease"] {
            if rng.chance(2) {
                let value = if rng.chance(2) {
                    rng.pick(&["0%", "10%", "100%", "0.001%", "1000000%"]).to_string()
                } else {
                    number(rng)
                };
                limits.push(format!("{key}: {value}"));
            }
        }
        for key in ["max", "min"] {
            if rng.chance(3) {
                limits.push(format!("{key}: {}", number(rng)));
            }
        }
        if limits.is_empty() {
            limits.push("max_increase: 10%".into());
        }
        yaml.push_str(&format!("  {name}: {{ {} }}\n", limits.join(", ")));
    }
    let doc = serde_json::json!({"baseline": {"metrics": b}, "current": {"metrics": c}, "policy": yaml});
    Case { name: "compare.pair.json".into(), bytes: serde_json::to_vec_pretty(&doc).expect("serialises") }
}

fn check(dir: &Path, case: &Case) -> Vec<Violation> {
    let mut v = if case.is_pair() {
        check_pair(case)
    } else if case.is_policy() {
        check_policy(case)
    } else {
        check_results(dir, case)
    };
    v.sort();
    v.dedup_by(|a, b| a.class == b.class);
    v
}

/// The binary on a case: `perfcert compare` exits 0, 1 or 2 and prints no NaN or infinity.
fn check_binary(dir: &Path, case: &Case) -> Vec<Violation> {
    let path = dir.join(&case.name);
    std::fs::write(&path, case.file_bytes()).expect("writing a case");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfcert"));
    cmd.args(["--no-github", "--color", "never", "compare", "--format", "json", "--as-of", "2026-06-01"]);
    if case.is_pair() {
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&case.bytes) else { return vec![] };
        for (key, flag, file) in [
            ("baseline", "--baseline", "pair-baseline.json"),
            ("current", "--current", "pair-current.json"),
            ("policy", "--thresholds", "pair-policy.yml"),
        ] {
            let text = match doc.get(key) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => return vec![],
            };
            std::fs::write(dir.join(file), text).expect("writing a case");
            cmd.arg(flag).arg(dir.join(file));
        }
    } else if case.is_policy() {
        cmd.arg("--baseline").arg(root().join("fixtures/perf004/baseline.json"));
        cmd.arg("--current").arg(root().join("fixtures/perf004/current.json"));
        cmd.arg("--thresholds").arg(&path);
    } else {
        cmd.arg("--baseline").arg(&path).arg("--current").arg(&path);
        let policy = if case.bytes.starts_with(b"Type,Name") || case.bytes.starts_with(b"[") {
            "fixtures/locust/perf_thresholds.yml"
        } else if case.bytes.windows(8).any(|w| w == b"http_req") {
            "fixtures/k6/perf_thresholds.yml"
        } else {
            "perf_thresholds.yml"
        };
        cmd.arg("--thresholds").arg(root().join(policy));
    }
    cmd.current_dir(dir).env_remove("GITHUB_ACTIONS").env("NO_COLOR", "1");
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    // Drain both pipes while waiting: a long error message must not block the child.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            return vec![violation("hang", "perfcert compare ran over 60 s")];
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let mut out = vec![];
    match status.code() {
        Some(0 | 1 | 5) => {
            // The JSON report echoes the files' own text (a date, a service or metric name),
            // which may say `inf` as any text may, and cannot hold a non-finite number (it would
            // be null): what perfcert wrote from numbers is the reasons' text, checked here.
            let computed = match serde_json::from_str::<serde_json::Value>(&stdout) {
                Ok(doc) => reason_texts(&doc).join("\n"),
                Err(_) => stdout.clone(),
            };
            if let Some(w) = non_finite_word(&computed) {
                out.push(violation("compare-non-finite", format!("stdout of compare contains {w}")));
            }
        }
        Some(2) => {}
        code => {
            let why = stderr.lines().take(3).collect::<Vec<_>>().join(" | ");
            let class = if why.contains("overflow") { "counter-overflow" } else { "exit-code" };
            out.push(violation(class, format!("perfcert compare exited {code:?}: {why}")));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Minimising and recording a failure.

/// Shortens long runs of one byte, then removes chunks of lines, then of bytes (small cases
/// only), while the case still fails with `class`; bounded in time so that one failure cannot
/// eat the budget.
fn minimise(dir: &Path, case: &Case, class: &str, budget: Duration) -> Case {
    let started = Instant::now();
    let fails = |bytes: &[u8]| {
        let c = Case { name: case.name.clone(), bytes: bytes.to_vec() };
        check(dir, &c).iter().any(|v| v.class == class)
    };
    let mut best = case.bytes.clone();
    // Long runs (a padded line): halve them while it still fails.
    loop {
        let mut longest = (0, 0);
        let mut i = 0;
        while i < best.len() {
            let j = best[i..].iter().position(|b| *b != best[i]).map_or(best.len(), |p| i + p);
            if j - i > longest.1 - longest.0 {
                longest = (i, j);
            }
            i = j;
        }
        let (a, b) = longest;
        if b - a < 64 || started.elapsed() > budget {
            break;
        }
        let mut candidate = best[..a + (b - a) / 2].to_vec();
        candidate.extend_from_slice(&best[b..]);
        if !fails(&candidate) {
            break;
        }
        best = candidate;
    }
    for by_lines in [true, false] {
        if !by_lines && best.len() > 4096 {
            break;
        }
        let units = |b: &[u8]| if by_lines { line_spans(b) } else { (0..b.len()).map(|i| (i, i + 1)).collect() };
        let mut chunk = units(&best).len() / 2;
        while chunk >= 1 && started.elapsed() < budget {
            let spans = units(&best);
            let mut i = 0;
            let mut removed = false;
            while i < spans.len() && started.elapsed() < budget {
                let end = (i + chunk).min(spans.len());
                let mut candidate = best[..spans[i].0].to_vec();
                candidate.extend_from_slice(&best[spans[end - 1].1..]);
                if fails(&candidate) {
                    best = candidate;
                    removed = true;
                    break;
                }
                i += chunk;
            }
            if !removed {
                chunk /= 2;
            }
        }
    }
    Case { name: case.name.clone(), bytes: best }
}

fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// The file name a case is kept under: `CLASS-HASH.EXT`, the extension of the seed it came from.
fn corpus_name(class: &str, case: &Case) -> String {
    let name = case.name.as_str();
    let ext = if case.is_pair() {
        "pair.json".to_string()
    } else if name.ends_with(".gz") {
        let inner = name.trim_end_matches(".gz");
        format!("{}.gz", inner.rsplit('.').next().unwrap_or("txt"))
    } else {
        name.rsplit('.').next().unwrap_or("txt").to_string()
    };
    format!("{class}-{:08x}.{ext}", hash(&case.bytes) as u32)
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[derive(serde::Deserialize)]
struct KnownFailure {
    file: String,
    class: String,
}

#[derive(serde::Deserialize)]
struct Known {
    /// Classes of failure that are known and being fixed: the fuzzer reports them, and fails
    /// only on other classes (unless `PERFCERT_FUZZ_STRICT` is set).
    classes: BTreeMap<String, String>,
    cases: Vec<KnownFailure>,
}

fn corpus_dir() -> PathBuf {
    root().join("tests/fuzz-corpus")
}

fn known() -> Known {
    let path = corpus_dir().join("known-failures.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strict() -> bool {
    std::env::var_os("PERFCERT_FUZZ_STRICT").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A case stored in the corpus: `.gz` files are stored compressed, as a user has them.
fn corpus_case(path: &Path) -> Case {
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let raw = std::fs::read(path).unwrap();
    let bytes = if name.ends_with(".gz") { gunzip(&raw) } else { raw };
    Case { name, bytes }
}

#[test]
fn replay_the_corpus() {
    quiet_panics();
    let known = known();
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "known-failures.json" && n != "README.md"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus is empty");
    for k in &known.cases {
        assert!(
            corpus_dir().join(&k.file).exists(),
            "known-failures.json lists {}, which is not in the corpus",
            k.file
        );
        assert!(known.classes.contains_key(&k.class), "{}: class {} is not in `classes`", k.file, k.class);
    }
    let mut wrong = vec![];
    let mut still = vec![];
    let mut fixed = vec![];
    for path in &files {
        let case = corpus_case(path);
        let mut violations = check(dir.path(), &case);
        violations.extend(check_binary(dir.path(), &case));
        let expected = known.cases.iter().find(|k| k.file == case.name).map(|k| k.class.as_str());
        match expected {
            _ if strict() && !violations.is_empty() => wrong.push(format!("{}: {violations:?}", case.name)),
            None if !violations.is_empty() => wrong.push(format!("{}: {violations:?}", case.name)),
            None => {}
            Some(class) if violations.is_empty() => fixed.push(format!("{} ({class})", case.name)),
            Some(class) => {
                let other: Vec<&Violation> = violations.iter().filter(|v| v.class != class).collect();
                if !other.is_empty() {
                    wrong.push(format!("{} (known: {class}) also fails otherwise: {other:?}", case.name));
                }
                still.push(format!("{} ({class})", case.name));
            }
        }
    }
    eprintln!("fuzz corpus: {} cases replayed, {} known failures still fail", files.len(), still.len());
    if !fixed.is_empty() {
        eprintln!("now passing, take them off tests/fuzz-corpus/known-failures.json: {}", fixed.join(", "));
    }
    assert!(wrong.is_empty(), "corpus cases fail:\n{}", wrong.join("\n"));
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[test]
fn fuzz_readers_policy_and_compare() {
    quiet_panics();
    let budget =
        Duration::from_secs_f64(std::env::var("PERFCERT_FUZZ_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(3.0));
    // In CI (`CI` set) the second half is seeded too, so that a run's result depends on the
    // commit alone and a landing is never decided by chance; exploring new seeds is for local
    // runs (`PERFCERT_FUZZ_SECS=600 cargo test --test fuzz -- --nocapture`).
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let random = env_number("PERFCERT_FUZZ_SEED").or(in_ci.then_some(0x0C1_5EED_u64)).unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        u64::from(nanos.subsec_nanos()) ^ nanos.as_secs().rotate_left(32) ^ u64::from(std::process::id())
    });
    let out_dir = std::env::var_os("PERFCERT_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let known = known();
    let seeds = seeds();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();

    let mut cases = 0u64;
    let mut binary_runs = 0u64;
    let mut by_seed: BTreeMap<String, u64> = BTreeMap::new();
    let mut found: BTreeMap<(&'static str, String), (String, String, u64, u64)> = BTreeMap::new();
    let fixed_seed = 0x5EED_F022_u64;
    for (phase, seed) in [("fixed", fixed_seed), ("random", random)] {
        eprintln!("fuzz: {phase} seed {seed} (reproduce with PERFCERT_FUZZ_SEED={seed})");
        let mut rng = Rng(seed);
        let phase_end = if phase == "fixed" { budget / 2 } else { budget };
        let mut iteration = 0u64;
        while started.elapsed() < phase_end {
            iteration += 1;
            let (seed_case, case, ops) = if rng.chance(5) {
                let pair = random_pair(&mut rng);
                (pair.clone(), pair, vec!["pair"])
            } else {
                let seed_case = rng.pick(&seeds).clone();
                let mut case = seed_case.clone();
                let mut ops = vec![];
                for _ in 0..1 + rng.below(3) {
                    ops.push(mutate_once(&mut rng, &mut case.bytes, &seeds));
                }
                (seed_case, case, ops)
            };
            cases += 1;
            *by_seed.entry(seed_case.name.clone()).or_default() += 1;
            let case_started = Instant::now();
            let mut violations = check(dir.path(), &case);
            if iteration.is_multiple_of(25) {
                binary_runs += 1;
                violations.extend(check_binary(dir.path(), &case));
            }
            if case_started.elapsed() > Duration::from_secs(10) {
                violations.push(violation("slow", format!("one case took {:?}", case_started.elapsed())));
            }
            for v in violations {
                let signature = (v.class, seed_case.name.clone());
                if let Some(entry) = found.get_mut(&signature) {
                    entry.3 += 1;
                    continue;
                }
                // Known classes are kept as found; new ones are minimised for the corpus.
                let small = if known.classes.contains_key(v.class) && !strict() {
                    case.clone()
                } else {
                    minimise(dir.path(), &case, v.class, Duration::from_secs(5))
                };
                let name = corpus_name(v.class, &small);
                std::fs::write(out_dir.join(&name), small.file_bytes()).unwrap();
                eprintln!(
                    "fuzz: {} from {} by {ops:?} (seed {seed}, case {iteration}): {}",
                    v.class, seed_case.name, v.detail
                );
                found.insert(signature, (name, v.detail, iteration, 1));
            }
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "fuzz: {cases} cases in {:.1} s ({:.0}/s), {binary_runs} through the binary, over {} seeds",
        elapsed.as_secs_f64(),
        cases as f64 / elapsed.as_secs_f64(),
        seeds.len()
    );
    let mut unknown = vec![];
    for ((class, seed), (name, detail, _, count)) in &found {
        let status = if known.classes.contains_key(*class) { "known" } else { "NEW" };
        eprintln!("fuzz: {status} {class} x{count} from {seed}: {} ({detail})", out_dir.join(name).display());
        if strict() || status == "NEW" {
            unknown.push(format!("{class} from {seed}: {detail}; minimised case {}", out_dir.join(name).display()));
        }
    }
    assert!(
        unknown.is_empty(),
        "the fuzzer found failures; add each minimised case to tests/fuzz-corpus/ (and known-failures.json \
         until it is fixed):\n{}",
        unknown.join("\n")
    );
}

/// How long the checks take on each seed, unmutated: `cargo test --test fuzz -- --ignored`.
#[test]
#[ignore]
fn time_each_seed() {
    let dir = tempfile::tempdir().unwrap();
    for s in seeds() {
        let t = Instant::now();
        let v = check(dir.path(), &s);
        eprintln!("{:40} {:>8.1} ms {} bytes {:?}", s.name, t.elapsed().as_secs_f64() * 1000.0, s.bytes.len(), v);
    }
}
