//! k6 raw output, `--out csv=FILE` (plain or gzip): one sample per line under the header
//! `metric_name,timestamp,metric_value,check,error,...,url,extra_tags,metadata`.
//!
//! The same samples as `--out json`, summarised the same way ([`super::k6_samples`]), with two
//! differences of the format that the results admit to:
//! - values are written with 6 decimals, so percentiles agree with k6's summary to 0.5 µs
//!   rather than to the last bit;
//! - timestamps are whole unix seconds by default (`K6_CSV_TIME_FORMAT=rfc3339_nano` gives
//!   nanoseconds), so the run's duration is known to ±1 s. Throughput is reported only when
//!   that is at most 1% of the duration (a run of 100 s or more), otherwise it is unavailable
//!   with the reason.
//!
//! Standard tags are columns; custom tags are in `extra_tags` as `key=value&key=value`. A
//! `classes` selector such as `kind:read` is looked up in either.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;

use super::Classes;
use super::k6_raw::Clock;
use super::k6_samples::{Acc, Class, Kind, Options, Profile, Sample, Shared, endpoint_path};
use super::lines::{self, LineSink};
use crate::error::LoadError;
use crate::model::RunResults;

const SOURCE: &str = "k6 CSV output";

/// The start of the header k6 writes; used to recognise the format.
pub const HEADER_START: &[u8] = b"metric_name,timestamp,metric_value,";

/// The largest share of the run's duration the timestamps' resolution may blur for throughput
/// to be reported.
const MAX_TIME_BLUR: f64 = 0.01;

/// Reads a k6 CSV file (gzip when it starts with the gzip magic bytes).
pub fn read(path: &Path, classes: &Classes, options: &Options, progress: &AtomicU64) -> Result<RunResults, LoadError> {
    read_shards(&[path], &path.display().to_string(), classes, options, progress)
}

/// Reads the shards of one distributed run as one run, as [`super::k6_raw::read_shards`] does:
/// one accumulator for every shard (each shard with its own header).
pub fn read_shards(
    paths: &[&Path],
    file: &str,
    classes: &Classes,
    options: &Options,
    progress: &AtomicU64,
) -> Result<RunResults, LoadError> {
    let mut columns = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        let header = first_line(path).map_err(|e| LoadError::new(&name, crate::fsutil::io_reason(&e)))?;
        columns.push(Columns::new(&header, classes).map_err(|m| LoadError::new(&name, m).at(1, 1))?);
    }
    let shared = Shared::new(classes, options);
    let mut all: Option<Csv> = None;
    for (path, columns) in paths.iter().zip(&columns) {
        let make = || Csv::new(&shared, columns);
        let sink = lines::read(path, &make, options.threads, progress)?;
        match &mut all {
            Some(all) => all.absorb(sink),
            None => all = Some(sink),
        }
    }
    match all {
        Some(all) => all.finish(file),
        None => Err(LoadError::new(file, "no files given")),
    }
}

/// Reads an in-memory CSV text (tests).
pub fn parse(file: &str, text: &str, classes: &Classes) -> Result<RunResults, LoadError> {
    let header = text.lines().next().unwrap_or("");
    let columns = Columns::new(header.as_bytes(), classes).map_err(|m| LoadError::new(file, m).at(1, 1))?;
    let shared = Shared::new(classes, &Options::default());
    lines::read_text(file, text.as_bytes(), Csv::new(&shared, &columns))?.finish(file)
}

/// The first line of a file, inflated if it is gzip.
fn first_line(path: &Path) -> io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let reader: Box<dyn Read> =
        if lines::is_gzip(&f)? { Box::new(flate2::read::MultiGzDecoder::new(f)) } else { Box::new(f) };
    let mut line = Vec::new();
    io::BufReader::new(reader.take(1 << 20)).read_until(b'\n', &mut line)?;
    Ok(line)
}

/// Where the fields perfcert uses are, from the header.
struct Columns {
    count: usize,
    metric: usize,
    time: usize,
    value: usize,
    method: Option<usize>,
    name: Option<usize>,
    scenario: Option<usize>,
    extra: Option<usize>,
    read: Option<Selector>,
    write: Option<Selector>,
}

/// A `classes` selector resolved against the header: a standard tag's column, or a custom tag
/// in `extra_tags`.
enum Selector {
    Column(usize, String),
    Extra(String),
}

impl Columns {
    fn new(header: &[u8], classes: &Classes) -> Result<Columns, String> {
        let header = std::str::from_utf8(header).map_err(|_| "the header is not UTF-8".to_string())?;
        let names: Vec<&str> = header.trim_end_matches(['\n', '\r']).split(',').collect();
        if let Some(dup) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)).map(|(_, n)| n) {
            return Err(format!("the header names the column `{dup}` twice; expected each column once"));
        }
        let find = |n: &str| names.iter().position(|&c| c == n);
        let need = |n: &str| {
            find(n).ok_or_else(|| format!("expected k6 CSV output (--out csv) with a `{n}` column in its header"))
        };
        let selector = |sel: Option<&str>| {
            sel.and_then(|s| s.split_once(':')).map(|(k, v)| match find(k) {
                Some(i) if k != "extra_tags" => Selector::Column(i, v.to_string()),
                _ => Selector::Extra(format!("{k}={v}")),
            })
        };
        Ok(Columns {
            count: names.len(),
            metric: need("metric_name")?,
            time: need("timestamp")?,
            value: need("metric_value")?,
            method: find("method"),
            name: find("name"),
            scenario: find("scenario"),
            extra: find("extra_tags"),
            read: selector(classes.read.as_deref()),
            write: selector(classes.write.as_deref()),
        })
    }
}

struct Csv<'c> {
    acc: Acc<'c>,
    columns: &'c Columns,
    /// Field boundaries of the current line: start, end, and whether it has `""` escapes.
    fields: Vec<(usize, usize, bool)>,
    /// Some timestamps were whole seconds.
    coarse_time: bool,
    clock: Clock,
    /// Every sample's time is needed (per-window statistics), not only `http_reqs`'.
    all_times: bool,
}

impl<'c> Csv<'c> {
    fn new(shared: &'c Shared<'c>, columns: &'c Columns) -> Self {
        Csv {
            acc: Acc::new(shared),
            columns,
            fields: Vec::with_capacity(columns.count),
            coarse_time: false,
            clock: Clock::default(),
            all_times: shared.windows(),
        }
    }

    fn finish(self, file: &str) -> Result<RunResults, LoadError> {
        let span = self.acc.span_seconds();
        let coarse = self.coarse_time;
        let mut out = self.acc.finish(file, SOURCE)?;
        if let Some(seconds) = span
            && coarse
            && 1.0 / seconds > MAX_TIME_BLUR
        {
            let blurred: Vec<String> = out.metrics.keys().filter(|k| k.starts_with("throughput")).cloned().collect();
            for name in blurred {
                out.metrics.shift_remove(&name);
                out.precision.shift_remove(&name);
            }
            out.unavailable.insert(
                "throughput".into(),
                format!(
                    "k6 CSV timestamps are whole seconds, too coarse for a {seconds:.0} s run (±{:.1}%); \
                     use --out json, or K6_CSV_TIME_FORMAT=rfc3339_nano",
                    100.0 / seconds
                ),
            );
        }
        Ok(out)
    }
}

impl LineSink for Csv<'_> {
    fn absorb(&mut self, later: Self) {
        self.acc.absorb(later.acc);
        self.coarse_time |= later.coarse_time;
    }

    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b"metric_name,") {
            return Ok(());
        }
        let cols = self.columns;
        // k6 writes the metric name first: most lines are skipped on it alone.
        if cols.metric == 0 {
            let end = memchr::memchr(b',', line).unwrap_or(line.len());
            if Kind::of_metric(&line[..end]).is_none() && Profile::of_metric(&line[..end]).is_none() {
                return Ok(());
            }
        }
        lines::split_csv(line, &mut self.fields)?;
        if self.fields.len() != cols.count {
            return Err(format!("expected {} fields as in the header, found {}", cols.count, self.fields.len()));
        }
        let field = |i: usize| -> Result<Cow<'_, str>, String> {
            let (a, b, escaped) = self.fields[i];
            let s = std::str::from_utf8(&line[a..b]).map_err(|_| "a field is not UTF-8".to_string())?;
            Ok(if escaped { Cow::Owned(s.replace("\"\"", "\"")) } else { Cow::Borrowed(s) })
        };
        let metric = field(cols.metric)?;
        let kind = match Kind::of_metric(metric.as_bytes()) {
            Some(kind) => Ok(kind),
            None => match Profile::of_metric(metric.as_bytes()) {
                Some(profile) => Err(profile),
                None => return Ok(()),
            },
        };
        let raw_value = field(cols.value)?;
        let value: f64 = raw_value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("expected a sample value >= 0 in metric_value, found {raw_value:?}"))?;
        let mut time = |t: &str| -> Result<i128, String> {
            Ok(if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                self.coarse_time = true;
                t.parse::<i128>().map_err(|e| format!("timestamp {t:?}: {e}"))? * 1_000_000_000
            } else {
                self.clock.parse(t).ok_or_else(|| format!("expected unix seconds or an RFC 3339 time, found {t:?}"))?
            })
        };
        let kind = match kind {
            Ok(kind) => kind,
            Err(profile) => {
                let t = time(&field(cols.time)?)?;
                self.acc.profile(profile, value, t);
                return Ok(());
            }
        };
        let time_ns = if kind == Kind::Reqs || self.all_times { Some(time(&field(cols.time)?)?) } else { None };
        let scenario = match cols.scenario {
            Some(i) if kind == Kind::Duration => Some(field(i)?).filter(|s| !s.is_empty()),
            _ => None,
        };
        let method = match cols.method {
            Some(i) => field(i)?,
            None => Cow::Borrowed(""),
        };
        let name = match cols.name {
            Some(i) => Some(field(i)?).filter(|n| !n.is_empty()),
            None => None,
        };
        let matches = |sel: &Option<Selector>| -> Result<bool, String> {
            Ok(match sel {
                None => false,
                Some(Selector::Column(i, want)) => field(*i)? == want.as_str(),
                Some(Selector::Extra(pair)) => match cols.extra {
                    Some(i) => field(i)?.split('&').any(|kv| kv == pair),
                    None => false,
                },
            })
        };
        let class = if cols.read.is_some() || cols.write.is_some() {
            if matches(&cols.read)? {
                Some(Class::Read)
            } else if matches(&cols.write)? {
                Some(Class::Write)
            } else {
                None
            }
        } else {
            Class::of_method(&method)
        };
        self.acc.record(Sample {
            kind,
            value,
            class,
            method: &method,
            path: name.as_deref().map(endpoint_path),
            time_ns,
            scenario: scenario.as_deref().map(str::as_bytes),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Result<Vec<String>, String> {
        let mut out = vec![];
        lines::split_csv(line.as_bytes(), &mut out)?;
        Ok(out
            .iter()
            .map(|&(a, b, esc)| {
                let s = &line[a..b];
                if esc { s.replace("\"\"", "\"") } else { s.to_string() }
            })
            .collect())
    }

    #[test]
    fn splits_quoted_fields() {
        assert_eq!(fields("a,,c").unwrap(), ["a", "", "c"]);
        assert_eq!(fields("a,\"b,c\",d").unwrap(), ["a", "b,c", "d"]);
        assert_eq!(fields("\"say \"\"hi\"\"\",x").unwrap(), ["say \"hi\"", "x"]);
        assert_eq!(fields("a,").unwrap(), ["a", ""]);
        assert!(fields("a,\"open").unwrap_err().contains("not closed"));
        assert!(fields("\"a\"b").unwrap_err().contains("after a quoted field"));
    }

    const HEADER: &str = "metric_name,timestamp,metric_value,method,name,extra_tags\n";

    #[test]
    fn classes_from_columns_or_extra_tags() {
        let text = format!(
            "{HEADER}http_req_duration,100,5.000000,GET,http://h/a,kind=read&x=1\n\
             http_req_duration,100,7.000000,POST,http://h/b,kind=write\n\
             http_reqs,100,1,GET,http://h/a,kind=read\nhttp_reqs,300,1,POST,http://h/b,kind=write\n"
        );
        let by_tag = Classes { read: Some("kind:read".into()), write: Some("kind:write".into()), ..Default::default() };
        let r = parse("k.csv", &text, &by_tag).unwrap();
        assert_eq!(r.metrics["latency_p95_read"], 5.0);
        assert_eq!(r.metrics["latency_p95_write"], 7.0);
        assert_eq!(r.metrics["latency_p95{endpoint=POST /b}"], 7.0);
        assert!((r.metrics["throughput"] - 0.6).abs() < 1e-12, "2 requests in 200 s: 0.6 per minute");
        let by_column = Classes { read: Some("method:POST".into()), write: None, ..Default::default() };
        assert_eq!(parse("k.csv", &text, &by_column).unwrap().metrics["latency_p95_read"], 7.0);
    }

    #[test]
    fn coarse_timestamps_on_a_short_run_give_no_throughput() {
        let text =
            format!("{HEADER}http_req_duration,100,5,GET,/a,\nhttp_reqs,100,1,GET,/a,\nhttp_reqs,130,1,GET,/a,\n");
        let gated = Classes {
            gates: vec![super::super::Gate { metric: "throughput".into(), tolerance: Some(0.1) }],
            ..Classes::default()
        };
        let r = parse("k.csv", &text, &gated).unwrap();
        assert!(!r.metrics.contains_key("throughput"));
        assert!(!r.precision.contains_key("throughput"), "no precision for a metric left out");
        assert!(r.unavailable["throughput"].contains("too coarse for a 30 s run (±3.3%)"), "{:?}", r.unavailable);
        let nano = text.replace(",100,1,", ",1970-01-01T00:01:40Z,1,").replace(",130,1,", ",1970-01-01T00:02:10.5Z,1,");
        let r = parse("k.csv", &nano, &Classes::default()).unwrap();
        assert!((r.metrics["throughput"] - 2.0 / 30.5 * 60.0).abs() < 1e-9, "{:?}", r.metrics);
    }

    #[test]
    fn bad_lines_are_explained() {
        let c = Classes::default();
        let err = |body: &str| parse("k.csv", &format!("{HEADER}{body}"), &c).unwrap_err().to_string();
        assert_eq!(
            err("http_req_duration,1,x,GET,/a,\n"),
            "k.csv:2:1: expected a sample value >= 0 in metric_value, found \"x\""
        );
        assert_eq!(err("http_req_duration,1,2\n"), "k.csv:2:1: expected 6 fields as in the header, found 3");
        assert!(err("http_reqs,yesterday,1,GET,/a,\n").contains("expected unix seconds or an RFC 3339 time"));
        let no_col = parse("k.csv", "metric_name,value\n", &c).unwrap_err().to_string();
        assert_eq!(no_col, "k.csv:1:1: expected k6 CSV output (--out csv) with a `timestamp` column in its header");
    }
}
