//! Readers that turn results files into [`RunResults`], and the choice between them.
//!
//! One module per format. [`detect`] picks the format from a file's content (never from its
//! name alone); [`load`] opens the file and runs the reader. The small formats' readers are pure
//! ([`parse`]: a file name for messages, and the text); the raw k6 readers stream the file
//! themselves (plain or gzip), in bounded memory, reporting progress through a counter. No
//! reader prints. [`merge`] combines several inputs for one run (e.g. k6 latency plus CPU and
//! cost from a native file); [`load_shards`] reads the raw k6 files of one distributed run as
//! one; [`spec`] is how a run's files are named on the command line.

pub mod duet;
pub mod fingerprint;
pub mod k6_csv;
pub mod k6_raw;
pub mod k6_samples;
pub mod k6_summary;
pub mod lines;
pub mod locust;
pub mod native;
pub mod sketch;
pub mod span;
pub mod spec;
pub mod strict_json;
pub mod windows;

use std::path::Path;
use std::sync::atomic::AtomicU64;

use crate::error::LoadError;
use crate::fsutil;
use crate::model::RunResults;

/// The input formats, as named by `--baseline-format` / `--current-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Native,
    K6Summary,
    K6HandleSummary,
    K6Json,
    K6Csv,
    LocustJson,
    LocustCsv,
    Fingerprint,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Native,
        Format::K6Summary,
        Format::K6HandleSummary,
        Format::K6Json,
        Format::K6Csv,
        Format::LocustJson,
        Format::LocustCsv,
        Format::Fingerprint,
    ];

    /// The name flags take: `k6-json`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::K6Summary => "k6-summary",
            Format::K6HandleSummary => "k6-handle-summary",
            Format::K6Json => "k6-json",
            Format::K6Csv => "k6-csv",
            Format::LocustJson => "locust-json",
            Format::LocustCsv => "locust-csv",
            Format::Fingerprint => "fingerprint",
        }
    }

    /// What the name means, for help.
    pub fn help(self) -> &'static str {
        match self {
            Format::Native => "perfcert's own JSON (docs/formats.md)",
            Format::K6Summary => "k6 `--summary-export` JSON",
            Format::K6HandleSummary => "k6 `handleSummary` data, `JSON.stringify(data)`",
            Format::K6Json => "k6 raw output, `--out json=FILE` (NDJSON), plain or gzip",
            Format::K6Csv => "k6 raw output, `--out csv=FILE`, plain or gzip",
            Format::LocustJson => "Locust `--json-file` output",
            Format::LocustCsv => "Locust `--csv=PREFIX` statistics, the file `PREFIX_stats.csv`",
            Format::Fingerprint => "how a run was produced (tool version, script sha256, testbed): a `+` part of a run",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Format::Native => "perfcert JSON",
            Format::K6Summary => "k6 --summary-export JSON",
            Format::K6HandleSummary => "k6 handleSummary JSON",
            Format::K6Json => "k6 raw NDJSON (--out json)",
            Format::K6Csv => "k6 raw CSV (--out csv)",
            Format::LocustJson => "Locust JSON (--json-file)",
            Format::LocustCsv => "Locust stats CSV (--csv, PREFIX_stats.csv)",
            Format::Fingerprint => "perfcert fingerprint JSON",
        }
    }

    /// The load-test tool whose output this is, for the run's fingerprint.
    pub fn tool(self) -> Option<&'static str> {
        match self {
            Format::K6Summary | Format::K6HandleSummary | Format::K6Json | Format::K6Csv => Some("k6"),
            Format::LocustJson | Format::LocustCsv => Some("locust"),
            Format::Native | Format::Fingerprint => None,
        }
    }
}

/// What the policy tells the readers: which k6 tag selects read and which write requests
/// (`classes:`, e.g. `read: "kind:read"`; by default, none set, reads and writes are told apart
/// by HTTP method where the input records it), and which metrics gate, for the raw k6 readers'
/// per-window statistics ([`windows`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classes {
    pub read: Option<String>,
    pub write: Option<String>,
    /// The policy's gated metrics. Raw k6 readers keep 10-s window statistics for these only
    /// and give their within-run precision and checks; empty: none.
    pub gates: Vec<Gate>,
}

/// One gated metric, as the raw readers need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// The metric's name, as the policy writes it: `latency_p95_read`, `error_rate`.
    pub metric: String,
    /// The smallest relative tolerance on it (`max_increase: 10%` is 0.10), if any.
    pub tolerance: Option<f64>,
}

impl Classes {
    pub fn selector(&self, class: &str) -> Option<&str> {
        match class {
            "read" => self.read.as_deref(),
            "write" => self.write.as_deref(),
            _ => None,
        }
    }

    /// `kind:read` -> `Some("read")` when the policy says reads are `kind:read`.
    pub fn class_of_selector(&self, selector: &str) -> Option<&'static str> {
        if self.read.as_deref() == Some(selector) {
            Some("read")
        } else if self.write.as_deref() == Some(selector) {
            Some("write")
        } else {
            None
        }
    }
}

const KNOWN: &str = "perfcert JSON, k6 --summary-export or handleSummary JSON, k6 raw output (--out json or \
     --out csv, plain or .gz), Locust --json-file JSON, or Locust's PREFIX_stats.csv";

/// Reads one input file, detecting its format from its content unless `format` is given.
/// Large raw files are streamed; the small formats are read whole.
pub fn load(path: &Path, format: Option<Format>, classes: &Classes) -> Result<RunResults, LoadError> {
    load_with_progress(path, format, classes, &AtomicU64::new(0))
}

/// [`load`], adding the bytes of the file consumed so far to `progress` as it goes (big raw
/// files only), for a progress bar drawn by the caller.
pub fn load_with_progress(
    path: &Path,
    format: Option<Format>,
    classes: &Classes,
    progress: &AtomicU64,
) -> Result<RunResults, LoadError> {
    let file = path.display().to_string();
    let format = match format {
        Some(f) => f,
        None => detect_file(path, &file)?,
    };
    let results = match format {
        Format::K6Json => {
            fsutil::check_readable_file(path)?;
            k6_raw::read(path, classes, &k6_samples::Options::default(), progress)
        }
        Format::K6Csv => {
            fsutil::check_readable_file(path)?;
            k6_csv::read(path, classes, &k6_samples::Options::default(), progress)
        }
        _ => {
            let text = fsutil::read_text(path)?;
            parse(&file, &text, Some(format), classes)
        }
    }?;
    checked(&file, with_tool(format, results))
}

/// The one gate every reader's results pass: no metric value that is not finite (an overflowed
/// sum, an average of infinities) or otherwise unusable ([`crate::model::value_problem`])
/// leaves the input layer. Readers compute their values safely; this makes sure of it.
fn checked(file: &str, results: RunResults) -> Result<RunResults, LoadError> {
    for (name, &value) in &results.metrics {
        if let Some(problem) = crate::model::value_problem(name, value) {
            return Err(LoadError::new(
                file,
                format!("the results computed from this file are unusable: metric `{name}`: {problem}"),
            ));
        }
    }
    Ok(results)
}

/// Records the tool in the fingerprint of a run read from its output (never over a value the
/// reader found).
fn with_tool(format: Format, mut results: RunResults) -> RunResults {
    if let Some(tool) = format.tool()
        && !results.fingerprint.contains_key("tool")
    {
        results.fingerprint.insert("tool".into(), tool.into());
        results.fingerprint.move_index(results.fingerprint.len() - 1, 0);
    }
    results
}

/// Reads one input file that may hold several runs (a native file with `runs: [...]`, such as
/// a promoted baseline); every other format holds one.
pub fn load_runs(
    path: &Path,
    format: Format,
    classes: &Classes,
    progress: &AtomicU64,
) -> Result<Vec<RunResults>, LoadError> {
    if format == Format::Fingerprint {
        return Err(LoadError::new(
            path.display().to_string(),
            "a fingerprint file says how a run was produced and holds no results; join it to the run's \
             results with + (--current results.json+run.fingerprint.json)",
        ));
    }
    if format != Format::Native {
        return Ok(vec![load_with_progress(path, Some(format), classes, progress)?]);
    }
    let file = path.display().to_string();
    let text = fsutil::read_text(path)?;
    native::parse_runs(&file, &text)?.into_iter().map(|r| checked(&file, r)).collect()
}

/// Reads the k6 raw files (shards) of one duet run ([`duet`]), through the same gate as every
/// other reader's results.
pub fn load_duet(
    paths: &[&Path],
    file: &str,
    classes: &Classes,
    settings: &duet::Settings,
    progress: &AtomicU64,
) -> Result<duet::DuetRun, LoadError> {
    let mut run = duet::read(paths, file, classes, settings, progress)?;
    run.baseline = checked(file, run.baseline)?;
    run.current = checked(file, run.current)?;
    for slice in run.slices.baseline.iter_mut().chain(run.slices.current.iter_mut()) {
        *slice = checked(file, std::mem::take(slice))?;
    }
    Ok(run)
}

/// Reads the shards of one distributed run, all k6 raw output in `format` (`K6Json` or
/// `K6Csv`), as one run: percentiles over the union of their samples, never an average of
/// per-shard percentiles. `file` names the run (`a.gz + b.gz`).
pub fn load_shards(
    paths: &[&Path],
    file: &str,
    format: Format,
    classes: &Classes,
    progress: &AtomicU64,
) -> Result<RunResults, LoadError> {
    for path in paths {
        fsutil::check_readable_file(path)?;
    }
    let options = k6_samples::Options::default();
    let results = match format {
        Format::K6Json => k6_raw::read_shards(paths, file, classes, &options, progress),
        Format::K6Csv => k6_csv::read_shards(paths, file, classes, &options, progress),
        other => Err(LoadError::new(
            file,
            format!("only k6 raw output (--out json or --out csv) merges as shards, not {}", other.describe()),
        )),
    }?;
    checked(file, with_tool(format, results))
}

/// The format of a file: detected from its content.
pub fn detect_path(path: &Path) -> Result<Format, LoadError> {
    detect_file(path, &path.display().to_string())
}

/// Looks at the first 64 KiB (inflated if the file is gzip) to decide the format.
fn detect_file(path: &Path, file: &str) -> Result<Format, LoadError> {
    use std::io::{BufRead, Read};
    fsutil::check_readable_file(path)?;
    let io_err = |e: std::io::Error| LoadError::new(file, fsutil::io_reason(&e));
    let mut head = Vec::with_capacity(64 << 10);
    std::fs::File::open(path).map_err(io_err)?.take(64 << 10).read_to_end(&mut head).map_err(io_err)?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    if gzip {
        let mut inflated = Vec::with_capacity(64 << 10);
        let gz = flate2::read::MultiGzDecoder::new(std::fs::File::open(path).map_err(io_err)?);
        gz.take(64 << 10)
            .read_to_end(&mut inflated)
            .map_err(|e| LoadError::new(file, format!("cannot decompress gzip: {e}")))?;
        head = inflated;
    }
    if is_k6_ndjson(&head) {
        return Ok(Format::K6Json);
    }
    // A first line longer than the head (a Metric line with many submetrics, say) hides its
    // own shape: decide by the first line that fits in a head, streaming past the longer ones
    // without keeping them (at most 64 of them: a file of nothing but such lines is not k6's).
    if head.len() == 64 << 10 && memchr::memchr(b'\n', &head).is_none() {
        let open = || -> std::io::Result<Box<dyn std::io::BufRead>> {
            let f = std::fs::File::open(path)?;
            Ok(if gzip {
                Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f)))
            } else {
                Box::new(std::io::BufReader::new(f))
            })
        };
        let mut reader = open().map_err(io_err)?;
        let mut next = Vec::with_capacity(64 << 10);
        reader.skip_until(b'\n').map_err(io_err)?;
        for _ in 0..64 {
            next.clear();
            let read = (&mut reader).take(64 << 10).read_until(b'\n', &mut next).map_err(io_err)?;
            if read == 0 {
                break;
            }
            if next.ends_with(b"\n") || read < 64 << 10 {
                if next.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if is_k6_ndjson(&next) {
                    return Ok(Format::K6Json);
                }
                break;
            }
            // Longer than a head too: skip the rest of it and look at the next.
            reader.skip_until(b'\n').map_err(io_err)?;
        }
    }
    if head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head).starts_with(k6_csv::HEADER_START) {
        return Ok(Format::K6Csv);
    }
    if gzip {
        return Err(LoadError::new(
            file,
            "gzip input is read for k6 raw output (--out json=FILE.gz or --out csv=FILE.gz) only; this is not it",
        ));
    }
    // Small formats: the whole file decides.
    let text = fsutil::read_text(path)?;
    detect(file, &text)
}

/// A k6 raw line: `{"type":"Metric",...}` or `{"metric":...,"type":"Point",...}`. Decided from
/// the top-level keys of the first line that the head holds, without needing the whole line: a
/// first line longer than the head (a `Metric` line with thousands of submetrics, say) is
/// recognised all the same, and then streamed like any raw file.
fn is_k6_ndjson(head: &[u8]) -> bool {
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let line = &head[start..];
    let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
    top_level_type(line).is_some_and(|t| t == b"Metric" || t == b"Point")
}

/// The value of the top-level `"type"` key of a JSON object that `text` starts (possibly cut
/// short), if it is a plain string and comes before the cut.
fn top_level_type(text: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    let ws = |i: &mut usize| {
        while text.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
    };
    // A string starting at `i` (a quote); its raw contents, and `i` after the closing quote.
    let string = |i: &mut usize| -> Option<&[u8]> {
        (text.get(*i) == Some(&b'"')).then_some(())?;
        let from = *i + 1;
        let mut j = from;
        loop {
            match text.get(j)? {
                b'\\' => j += 2,
                b'"' => break,
                _ => j += 1,
            }
        }
        *i = j + 1;
        Some(&text[from..j])
    };
    ws(&mut i);
    (text.get(i) == Some(&b'{')).then_some(())?;
    i += 1;
    loop {
        ws(&mut i);
        let key = string(&mut i)?;
        ws(&mut i);
        (text.get(i) == Some(&b':')).then_some(())?;
        i += 1;
        ws(&mut i);
        if key == b"type" {
            return string(&mut i);
        }
        // Skip the value: a string, or anything up to the `,` that ends it at this depth.
        let mut depth = 0usize;
        loop {
            match *text.get(i)? {
                b'"' => {
                    string(&mut i)?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth == 0 => return None,
                b'}' | b']' => depth -= 1,
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
}

/// Decides a file's format from its content.
pub fn detect(file: &str, text: &str) -> Result<Format, LoadError> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(LoadError::new(file, "file is empty; expected results (perfcert JSON, or k6 / Locust output)"));
    }
    if trimmed.starts_with('[') {
        return Ok(Format::LocustJson);
    }
    if !trimmed.starts_with('{') {
        return detect_csv(file, trimmed);
    }
    // Summaries are small; a generic parse is cheap and tells the shapes apart by their keys.
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        // Not one JSON document: let the native reader explain where the JSON breaks.
        return Ok(Format::Native);
    };
    let Some(obj) = doc.as_object() else { return Ok(Format::Native) };
    if fingerprint::is_sidecar(obj) {
        return Ok(Format::Fingerprint);
    }
    if obj.contains_key("state") || obj.contains_key("options") {
        return Ok(Format::K6HandleSummary);
    }
    let metric_bodies_are_objects = obj
        .get("metrics")
        .and_then(|m| m.as_object())
        .is_some_and(|m| !m.is_empty() && m.values().all(|v| v.is_object()));
    if obj.contains_key("root_group") || metric_bodies_are_objects {
        let has_values = obj
            .get("metrics")
            .and_then(|m| m.as_object())
            .is_some_and(|m| m.values().any(|v| v.get("values").is_some_and(|v| v.is_object())));
        return Ok(if has_values { Format::K6HandleSummary } else { Format::K6Summary });
    }
    Ok(Format::Native)
}

/// Tells the CSV files apart by their headers, and explains the ones that are not inputs.
fn detect_csv(file: &str, text: &str) -> Result<Format, LoadError> {
    let header = text.lines().next().unwrap_or("");
    if header.starts_with(locust::CSV_HEADER_START) {
        return Ok(Format::LocustCsv);
    }
    if header.starts_with(std::str::from_utf8(k6_csv::HEADER_START).unwrap_or_default()) {
        return Ok(Format::K6Csv);
    }
    let other = [
        ("Timestamp,User Count,", "PREFIX_stats_history.csv"),
        ("Method,Name,Error,Occurrences", "PREFIX_failures.csv"),
        ("Count,Message,Traceback", "PREFIX_exceptions.csv"),
    ];
    if let Some((_, which)) = other.iter().find(|(start, _)| header.starts_with(start)) {
        return Err(LoadError::new(
            file,
            format!("this is Locust's {which}; pass PREFIX_stats.csv (or, better, the --json-file output)"),
        ));
    }
    Err(LoadError::new(file, format!("not a results format perfcert reads; expected {KNOWN}")))
}

/// Reads one file's text in the given format (or the detected one).
pub fn parse(file: &str, text: &str, format: Option<Format>, classes: &Classes) -> Result<RunResults, LoadError> {
    let format = match format {
        Some(f) => f,
        None => detect(file, text)?,
    };
    checked(file, with_tool(format, parse_unchecked(file, text, format, classes)?))
}

fn parse_unchecked(file: &str, text: &str, format: Format, classes: &Classes) -> Result<RunResults, LoadError> {
    match format {
        Format::Fingerprint => fingerprint::parse(file, text),
        Format::Native => native::parse(file, text),
        Format::K6Json => k6_raw::parse(file, text, classes),
        Format::K6Csv => k6_csv::parse(file, text, classes),
        Format::LocustJson => locust::parse_json(file, text),
        Format::LocustCsv => locust::parse_csv(file, text),
        Format::K6Summary | Format::K6HandleSummary => {
            let doc = k6_summary::parse_strict(text).map_err(|e| {
                LoadError::new(
                    file,
                    format!("not valid {}: {}", format.describe(), native::strip_position(&e.to_string())),
                )
                .at(e.line() as u64, e.column() as u64)
            })?;
            let flavor = if format == Format::K6Summary {
                k6_summary::Flavor::SummaryExport
            } else {
                k6_summary::Flavor::HandleSummary
            };
            k6_summary::convert(file, &doc, flavor, classes)
        }
    }
}

/// Combines the inputs of one run, in order: identification comes from the first file that has
/// it; each metric must come from exactly one file (two summaries of one metric cannot be
/// merged exactly; raw k6 shards are merged before, by [`load_shards`]).
pub fn merge(parts: Vec<(String, RunResults)>) -> Result<RunResults, LoadError> {
    let mut out = RunResults::default();
    let mut origin: indexmap::IndexMap<String, String> = indexmap::IndexMap::new();
    let mut fingerprint_origin: indexmap::IndexMap<String, String> = indexmap::IndexMap::new();
    for (file, part) in parts {
        out.service = out.service.or(part.service);
        out.version = out.version.or(part.version);
        out.commit = out.commit.or(part.commit);
        out.date = out.date.or(part.date);
        out.notes.extend(part.notes.into_iter().map(|n| format!("{file}: {n}")));
        for (name, value) in part.metrics {
            if let Some(first) = origin.get(&name) {
                return Err(LoadError::new(
                    &file,
                    format!(
                        "metric `{name}` is also in {first}; each metric must come from one file of a run \
                         (summaries cannot be merged exactly: only k6 raw output, --out json or csv, \
                         merges as shards)"
                    ),
                ));
            }
            origin.insert(name.clone(), file.clone());
            if let Some(precision) = part.precision.get(&name) {
                out.precision.insert(name.clone(), *precision);
            }
            out.metrics.insert(name, value);
        }
        for (key, value) in part.fingerprint {
            match out.fingerprint.get(&key) {
                Some(first) if !crate::fingerprint::same(&key, first, &value) => {
                    let from = fingerprint_origin[&key].clone();
                    return Err(LoadError::new(
                        &file,
                        format!(
                            "fingerprint `{key}` is {value} here but {first} in {from}; the parts of one run \
                             must agree on how it was produced"
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    fingerprint_origin.insert(key.clone(), file.clone());
                    out.fingerprint.insert(key, value);
                }
            }
        }
        for (name, why) in part.unavailable {
            out.unavailable.entry(name).or_insert(why);
        }
    }
    out.unavailable.retain(|name, _| !out.metrics.contains_key(name));
    Ok(out)
}
