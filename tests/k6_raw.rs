//! The k6 raw reader against complete k6 1.1.0 runs (fixtures/k6/full, see its README):
//! percentiles equal k6's own summary to 1e-9, plain and gzip and any split across threads read
//! the same, and a comparison from raw output reaches the same verdict as from summaries.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use common::{root, workdir};
use perfcert::compare::compare;
use perfcert::input::k6_samples::Options;
use perfcert::input::{self, Classes, k6_raw};
use perfcert::model::RunResults;
use serde_json::Value;

fn full(name: &str) -> PathBuf {
    root().join("fixtures/k6/full").join(name)
}

fn by_kind() -> Classes {
    Classes { read: Some("kind:read".into()), write: Some("kind:write".into()), ..Default::default() }
}

fn summary(run: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(full(&format!("k6-{run}-summary-export.json"))).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Inflates a fixture into a temporary plain file.
fn plain(run: &str, dir: &Path) -> PathBuf {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(full(&format!("k6-{run}-raw.ndjson.gz"))).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let path = dir.join(format!("{run}.ndjson"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn raw_percentiles_equal_k6_summary_values() {
    for run in ["baseline", "current"] {
        let r = input::load(&full(&format!("k6-{run}-raw.ndjson.gz")), None, &by_kind()).unwrap();
        let s = summary(run);
        let m = &s["metrics"];
        for (ours, theirs) in [
            ("", "http_req_duration"),
            ("_read", "http_req_duration{kind:read}"),
            ("_write", "http_req_duration{kind:write}"),
        ] {
            for (stat, k6) in [
                ("p95", "p(95)"),
                ("p90", "p(90)"),
                ("p99", "p(99)"),
                ("p50", "med"),
                ("min", "min"),
                ("max", "max"),
                ("avg", "avg"),
            ] {
                let got = r.metrics[&format!("latency_{stat}{ours}")];
                let want = m[theirs][k6].as_f64().unwrap();
                assert!(close(got, want), "{run} latency_{stat}{ours}: {got} != k6 {want}");
            }
        }
        assert_eq!(r.metrics["requests"], m["http_reqs"]["count"].as_f64().unwrap());
        assert!(close(r.metrics["error_rate"], m["http_req_failed"]["value"].as_f64().unwrap() * 100.0));
        // Raw output has no test duration: first-to-last sample time is a little shorter.
        let k6_rpm = m["http_reqs"]["rate"].as_f64().unwrap() * 60.0;
        let ratio = r.metrics["throughput"] / k6_rpm;
        assert!((1.0..1.03).contains(&ratio), "{run}: throughput {} vs k6 {k6_rpm}", r.metrics["throughput"]);
    }
}

#[test]
fn by_method_classes_reads_and_writes_without_tags() {
    // The k6 script sends GETs as kind:read and POSTs as kind:write, so both ways must agree.
    let r = input::load(&full("k6-current-raw.ndjson.gz"), None, &Classes::default()).unwrap();
    let m = summary("current");
    assert!(close(
        r.metrics["latency_p95_read"],
        m["metrics"]["http_req_duration{kind:read}"]["p(95)"].as_f64().unwrap()
    ));
    assert!(close(
        r.metrics["latency_p95_write"],
        m["metrics"]["http_req_duration{kind:write}"]["p(95)"].as_f64().unwrap()
    ));
    assert!(r.metrics.contains_key("latency_p95{endpoint=POST /orders}"));
    assert_eq!(r.metrics["latency_p95{endpoint=POST /orders}"], r.metrics["latency_p95_write"]);
}

#[test]
fn plain_gzip_and_every_split_read_the_same() {
    let dir = workdir();
    let path = plain("baseline", dir.path());
    let gz = input::load(&full("k6-baseline-raw.ndjson.gz"), None, &by_kind()).unwrap();
    let detected = input::load(&path, None, &by_kind()).unwrap();
    let sorted = |r: &RunResults| {
        let mut v: Vec<(String, f64)> = r.metrics.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let close_all = |a: &RunResults, b: &RunResults, what: &str| {
        let (a, b) = (sorted(a), sorted(b));
        assert_eq!(a.iter().map(|x| &x.0).collect::<Vec<_>>(), b.iter().map(|x| &x.0).collect::<Vec<_>>(), "{what}");
        for (x, y) in a.iter().zip(&b) {
            // Sums (latency_avg) may differ in the last bits with the order of addition.
            assert!(close(x.1, y.1), "{what}: {} {} != {}", x.0, x.1, y.1);
        }
    };
    close_all(&gz, &detected, "plain vs gzip");
    for threads in [1, 2, 3, 7, 64] {
        let split = read_split(&path, threads).unwrap();
        close_all(&gz, &split, &format!("{threads} threads"));
    }
}

fn read_split(path: &Path, threads: usize) -> Result<RunResults, perfcert::error::LoadError> {
    let options = Options { threads: Some(threads), ..Options::default() };
    k6_raw::read(path, &by_kind(), &options, &AtomicU64::new(0))
}

#[test]
fn past_the_exact_budget_percentiles_are_within_the_sketch_bound() {
    let dir = workdir();
    let path = plain("current", dir.path());
    let exact = read_split(&path, 2).unwrap();
    assert!(exact.notes.is_empty(), "{:?}", exact.notes);
    let mut first: Option<RunResults> = None;
    for threads in [1, 2, 3] {
        let options = Options { threads: Some(threads), exact_budget: 1000 };
        let progress = AtomicU64::new(0);
        let sketched = k6_raw::read(&path, &by_kind(), &options, &progress).unwrap();
        assert_eq!(progress.into_inner(), std::fs::metadata(&path).unwrap().len(), "progress counts every byte");
        assert_eq!(sketched.notes.len(), 1, "{:?}", sketched.notes);
        assert!(sketched.notes[0].contains("within 0.1% of the exact value"), "{}", sketched.notes[0]);
        for (name, &want) in &exact.metrics {
            let got = sketched.metrics[name];
            let bound = if name.contains("_p") { 1e-3 } else { 1e-9 };
            assert!((got - want).abs() <= bound * want, "{threads} threads: {name} {got} vs exact {want}");
        }
        // Where the split falls does not change a histogram's percentiles.
        if let Some(first) = &first {
            for (name, v) in &first.metrics {
                if name.contains("_p") {
                    assert_eq!(*v, sketched.metrics[name], "{name}");
                }
            }
        }
        first = Some(sketched);
    }
}

#[test]
fn too_many_endpoints_drop_the_endpoint_rows_with_a_note() {
    let line = |i: usize| {
        format!(
            "{{\"metric\":\"http_req_duration\",\"type\":\"Point\",\"data\":{{\"time\":\"2026-01-01T00:00:00Z\",\
             \"value\":{i},\"tags\":{{\"method\":\"GET\",\"name\":\"http://h/items/{i}\"}}}}}}\n"
        )
    };
    let max = perfcert::input::k6_samples::MAX_ENDPOINTS;
    let text = |n: usize| (1..=n).map(line).collect::<String>();
    let at_max = k6_raw::parse("r", &text(max), &Classes::default()).unwrap();
    assert!(at_max.notes.is_empty());
    assert!(at_max.metrics.contains_key(&format!("latency_p95{{endpoint=GET /items/{max}}}")));
    let over = k6_raw::parse("r", &text(max + 1), &Classes::default()).unwrap();
    assert!(!over.metrics.keys().any(|k| k.contains("endpoint")), "{:?}", over.metrics.keys());
    assert!(over.notes[0].contains("per-endpoint metrics left out"), "{:?}", over.notes);
    assert_eq!(over.metrics["latency_max"], (max + 1) as f64, "the overall group keeps every sample");
    // The same when the endpoints are split between threads that each stay under the limit.
    let dir = workdir();
    let path = dir.path().join("many.ndjson");
    std::fs::write(&path, text(max + 1)).unwrap();
    for threads in [2, 4] {
        let split = read_split(&path, threads).unwrap();
        assert!(!split.metrics.keys().any(|k| k.contains("endpoint")), "{threads} threads");
        assert_eq!(split.notes, over.notes);
    }
}

#[test]
fn a_broken_line_is_located() {
    let dir = workdir();
    let path = plain("current", dir.path());
    let mut text = std::fs::read_to_string(&path).unwrap();
    let at = text.match_indices('\n').nth(40_000).unwrap().0;
    text.insert_str(at + 1, "{\"metric\":\"http_reqs\",\"type\":\"Po\n");
    std::fs::write(&path, text).unwrap();
    for threads in [1, 2, 5] {
        let err = read_split(&path, threads).unwrap_err().to_string();
        assert!(err.contains(":40002:1: expected one JSON object per line"), "{threads}: {err}");
    }
}

#[test]
fn raw_output_reaches_the_same_verdict_as_summaries() {
    let policy_text = std::fs::read_to_string(root().join("fixtures/k6/perf_thresholds.yml")).unwrap();
    let mut policy = perfcert::policy::parse("p.yml", &policy_text).unwrap();
    policy.metrics.retain(|m| !matches!(m.name.as_str(), "cpu_utilization" | "cost_per_1000_req"));
    let load = |name: &str| input::load(&full(name), None, &policy.classes).unwrap();
    let today = jiff::civil::date(2026, 6, 1);
    let from_summaries =
        compare(&load("k6-baseline-summary-export.json"), &load("k6-current-summary-export.json"), &policy, today);
    let from_raw = compare(&load("k6-baseline-summary-export.json"), &load("k6-current-raw.ndjson.gz"), &policy, today);
    let from_both_raw = compare(&load("k6-baseline-raw.ndjson.gz"), &load("k6-current-raw.ndjson.gz"), &policy, today);
    let from_csv_and_handle_summary =
        compare(&load("k6-baseline-handlesummary.json"), &load("k6-current-raw.csv.gz"), &policy, today);
    // The same runs in perfcert's native form: the summaries' metrics written as native JSON.
    let dir = workdir();
    let native = |name: &str| {
        let metrics: serde_json::Map<String, Value> =
            load(name).metrics.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
        let path = dir.path().join(format!("{name}.native.json"));
        std::fs::write(&path, serde_json::json!({ "metrics": metrics }).to_string()).unwrap();
        input::load(&path, Some(input::Format::Native), &policy.classes).unwrap()
    };
    let from_native =
        compare(&native("k6-baseline-summary-export.json"), &native("k6-current-summary-export.json"), &policy, today);
    let statuses = |c: &perfcert::compare::Comparison| {
        c.rows.iter().filter(|r| r.policy.is_some()).map(|r| (r.name.clone(), r.status)).collect::<Vec<_>>()
    };
    assert_eq!(from_summaries.verdict, perfcert::compare::Verdict::Fail, "the write regression is real");
    assert_eq!(statuses(&from_summaries), statuses(&from_raw));
    assert_eq!(statuses(&from_summaries), statuses(&from_both_raw));
    assert_eq!(statuses(&from_summaries), statuses(&from_native));
    // CSV has no throughput for a 25 s run (whole-second timestamps); every other status agrees.
    let without_throughput = |c: &perfcert::compare::Comparison| {
        statuses(c).into_iter().filter(|(n, _)| n != "throughput").collect::<Vec<_>>()
    };
    assert_eq!(without_throughput(&from_summaries), without_throughput(&from_csv_and_handle_summary));
}

#[test]
fn csv_output_agrees_with_json_output_to_its_six_decimals() {
    let dir = workdir();
    for run in ["baseline", "current"] {
        let json = input::load(&full(&format!("k6-{run}-raw.ndjson.gz")), None, &by_kind()).unwrap();
        let csv = input::load(&full(&format!("k6-{run}-raw.csv.gz")), None, &by_kind()).unwrap();
        let names = |r: &RunResults| {
            let mut v: Vec<String> = r.metrics.keys().filter(|k| !k.starts_with("throughput")).cloned().collect();
            v.sort();
            v
        };
        assert_eq!(names(&json), names(&csv), "{run}: the same groups and endpoints");
        for (name, &want) in &json.metrics {
            let Some(&got) = csv.metrics.get(name) else { continue };
            // k6 writes CSV values with 6 decimals (ms): rounding moves them by at most 5e-7.
            assert!((got - want).abs() <= 5e-7 + 1e-12 * want, "{run} {name}: csv {got} vs json {want}");
        }
        // Whole-second timestamps are too coarse for a 25 s run's throughput: said, not guessed.
        assert!(!csv.metrics.contains_key("throughput"));
        assert!(csv.unavailable["throughput"].contains("whole seconds"), "{:?}", csv.unavailable);

        // Plain text split across threads reads the same as the gzip stream.
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(full(&format!("k6-{run}-raw.csv.gz"))).unwrap())
            .read_to_end(&mut text)
            .unwrap();
        let path = dir.path().join(format!("{run}.csv"));
        std::fs::write(&path, text).unwrap();
        for threads in [1, 3] {
            let options = Options { threads: Some(threads), ..Options::default() };
            let split = perfcert::input::k6_csv::read(&path, &by_kind(), &options, &AtomicU64::new(0)).unwrap();
            for (name, v) in &csv.metrics {
                assert!(close(*v, split.metrics[name]), "{run} {threads} threads: {name}");
            }
        }
    }
}
