//! A load-test output's run window: when the run started and ended, for `perfcert collect
//! --window-from`. Only the formats that carry times have one:
//!
//! - k6 raw output (`--out json`): its first to its last `Point` time;
//! - k6 CSV (`--out csv`): its first to its last `timestamp` (whole seconds by default);
//! - Locust `--json-file`: the earliest `start_time` to the latest `last_request_timestamp`;
//! - Locust `PREFIX_stats_history.csv`: its first to its last `Timestamp` (one row a second),
//!   also found next to a `PREFIX_stats.csv` given instead (the stats file has no times).
//!
//! A k6 summary (`--summary-export`, `handleSummary`) and perfcert's own JSON hold no start or
//! end time: an error that says to give `--from`/`--to`.

use std::path::{Path, PathBuf};

use super::Format;
use super::lines::{self, LineSink};
use crate::error::LoadError;
use crate::fsutil;

/// The header start of Locust's `PREFIX_stats_history.csv`.
const HISTORY_HEADER: &str = "Timestamp,User Count,";

/// A run's window in unix milliseconds, and which times of which file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpan {
    pub from_ms: i64,
    pub to_ms: i64,
    /// The file the times were read from (a Locust stats CSV's history sibling, or the file).
    pub file: PathBuf,
    /// Which fields: `k6 raw output: first to last Point time`, ...
    pub how: &'static str,
}

/// The run window of `path`, or an error naming the file and what to do instead.
pub fn run_span(path: &Path) -> Result<RunSpan, LoadError> {
    let file = path.display().to_string();
    if first_line(path)?.starts_with(HISTORY_HEADER) {
        return history(path);
    }
    let format = super::detect_path(path)?;
    let ms = |ns: i128| ns.div_euclid(1_000_000) as i64;
    let span = |from_ms, to_ms, how| Ok(RunSpan { from_ms, to_ms, file: path.to_path_buf(), how });
    match format {
        Format::K6Json => match super::k6_raw::time_span(path)? {
            Some((a, b)) => span(ms(a), ms(b), "k6 raw output: its first to its last Point time"),
            None => Err(LoadError::new(&file, "no k6 samples (Point lines) to take the window from")),
        },
        Format::K6Csv => {
            let times = lines::read(path, &CsvTimes::default, None, &Default::default())?;
            match times.span {
                Some((a, b)) => span(a, b, "k6 CSV output: its first to its last timestamp"),
                None => Err(LoadError::new(&file, "no k6 samples (rows after the header) to take the window from")),
            }
        }
        Format::LocustJson => locust_json(path),
        Format::LocustCsv => {
            let sibling = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix("_stats.csv"))
                .map(|prefix| path.with_file_name(format!("{prefix}_stats_history.csv")));
            match sibling.filter(|s| s.is_file()) {
                Some(history_file) => history(&history_file),
                None => Err(LoadError::new(
                    &file,
                    "Locust's PREFIX_stats.csv holds no times, and no PREFIX_stats_history.csv is next to it; pass \
                     the --json-file output or the stats history, or give --from and --to",
                )),
            }
        }
        other => Err(LoadError::new(
            &file,
            format!(
                "a {} holds no start and end time of the run; give --from and --to (or pass a k6 raw or CSV \
                 output, or a Locust JSON or stats history)",
                other.describe()
            ),
        )),
    }
}

fn first_line(path: &Path) -> Result<String, LoadError> {
    use std::io::Read;
    let file = path.display().to_string();
    fsutil::check_readable_file(path)?;
    let mut head = [0u8; 64];
    let mut f = std::fs::File::open(path).map_err(|e| LoadError::new(&file, fsutil::io_reason(&e)))?;
    let n = f.read(&mut head).map_err(|e| LoadError::new(&file, fsutil::io_reason(&e)))?;
    Ok(String::from_utf8_lossy(&head[..n]).trim_start_matches('\u{feff}').to_string())
}

/// The earliest `start_time` to the latest `last_request_timestamp` of Locust's JSON.
fn locust_json(path: &Path) -> Result<RunSpan, LoadError> {
    let file = path.display().to_string();
    let text = fsutil::read_text(path)?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| LoadError::new(&file, format!("not JSON: {e}")))?;
    let entries = doc.as_array().ok_or_else(|| LoadError::new(&file, "expected Locust's JSON array"))?;
    let (mut from, mut to) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, e) in entries.iter().enumerate() {
        let time = |key: &str| -> Result<Option<f64>, LoadError> {
            match &e[key] {
                serde_json::Value::Null => Ok(None),
                v => v.as_f64().filter(|t| t.is_finite() && *t > 0.0).map(Some).ok_or_else(|| {
                    LoadError::new(&file, format!("expected unix seconds, found {v}")).key(format!("[{i}].{key}"))
                }),
            }
        };
        if let Some(t) = time("start_time")? {
            from = from.min(t);
        }
        if let Some(t) = time("last_request_timestamp")? {
            to = to.max(t);
        }
    }
    if !(from.is_finite() && to.is_finite()) {
        return Err(LoadError::new(
            &file,
            "no entry has a start_time and a last_request_timestamp (did the test make any requests?); give --from \
             and --to",
        ));
    }
    let ms = |s: f64| (s * 1000.0).floor() as i64;
    Ok(RunSpan {
        from_ms: ms(from),
        to_ms: ms(to),
        file: path.to_path_buf(),
        how: "Locust JSON: the earliest start_time to the latest last_request_timestamp",
    })
}

/// The first to the last `Timestamp` of Locust's stats history (whole unix seconds).
fn history(path: &Path) -> Result<RunSpan, LoadError> {
    let file = path.display().to_string();
    let text = fsutil::read_text(path)?;
    let (mut from, mut to) = (i64::MAX, i64::MIN);
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let t = line.split(',').next().unwrap_or("");
        let t: i64 = t.parse().ok().filter(|t| *t > 0).ok_or_else(|| {
            LoadError::new(&file, format!("Timestamp: expected unix seconds, found {t:?}")).at(i as u64 + 1, 1)
        })?;
        from = from.min(t);
        to = to.max(t);
    }
    if from > to {
        return Err(LoadError::new(&file, "no rows after the header to take the window from; give --from and --to"));
    }
    // Whole seconds: the last row's second is part of the run, so the window ends at its end.
    Ok(RunSpan {
        from_ms: from * 1000,
        to_ms: (to + 1) * 1000,
        file: path.to_path_buf(),
        how: "Locust stats history: its first to its last Timestamp",
    })
}

/// The earliest and latest `timestamp` (column 2) of k6's CSV, in unix milliseconds.
#[derive(Default)]
struct CsvTimes {
    span: Option<(i64, i64)>,
}

impl LineSink for CsvTimes {
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        let line = std::str::from_utf8(line).map_err(|_| "is not valid UTF-8".to_string())?.trim_end_matches('\r');
        if line.is_empty() || line.starts_with("metric_name,") {
            return Ok(());
        }
        let t = line.split(',').nth(1).unwrap_or("");
        // A whole-second time stands for the whole of that second: the run ends at its end.
        let (ms, end) = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<i64>().ok().and_then(|s| Some((s.checked_mul(1000)?, s.checked_add(1)?.checked_mul(1000)?)))
        } else {
            t.parse::<jiff::Timestamp>().ok().map(|ts| (ts.as_millisecond(), ts.as_millisecond()))
        }
        .ok_or_else(|| format!("timestamp: expected unix seconds or an RFC 3339 time, found {t:?}"))?;
        self.span = Some(match self.span {
            None => (ms, end),
            Some((a, b)) => (a.min(ms), b.max(end)),
        });
        Ok(())
    }

    fn absorb(&mut self, later: Self) {
        self.span = match (self.span, later.span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (one, other) => one.or(other),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
    }

    #[test]
    fn the_locust_outputs_give_their_run_window() {
        let json = run_span(&fixture("locust/locust-baseline.json")).unwrap();
        assert_eq!((json.from_ms, json.to_ms), (1_795_355_775_085, 1_795_355_799_711));
        let history = run_span(&fixture("locust/locust-baseline_stats_history.csv")).unwrap();
        // Whole seconds: the window ends at the end of the last row's second.
        assert_eq!((history.from_ms, history.to_ms), (1_795_355_775_000, 1_795_355_800_000));
        // The stats CSV has no times: its history sibling is read.
        let stats = run_span(&fixture("locust/locust-baseline_stats.csv")).unwrap();
        assert_eq!(stats, history);
    }

    #[test]
    fn the_k6_raw_and_csv_outputs_give_their_run_window() {
        let csv = run_span(&fixture("k6/full/k6-baseline-raw.csv.gz")).unwrap();
        let raw = run_span(&fixture("k6/full/k6-baseline-raw.ndjson.gz")).unwrap();
        assert_eq!(csv.from_ms % 1000, 0);
        assert!(csv.to_ms - csv.from_ms >= 20_000, "{csv:?}");
        // The same run's CSV, to the second.
        assert_eq!(csv.from_ms / 1000, raw.from_ms / 1000);
        // Whole seconds: to the end of the last second, never before the raw output's end.
        assert_eq!(csv.to_ms, (raw.to_ms / 1000 + 1) * 1000);
        assert!(csv.to_ms >= raw.to_ms);
    }

    #[test]
    fn a_summary_has_no_window_and_says_to_give_from_and_to() {
        for name in ["k6/k6-baseline-summary-export.json", "k6/k6-baseline-handlesummary.json", "drift/baseline.json"] {
            let e = run_span(&fixture(name)).unwrap_err().to_string();
            assert!(e.contains("holds no start and end time of the run; give --from and --to"), "{e}");
        }
    }
}
