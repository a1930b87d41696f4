//! Within-run precision end to end: the readers give each run's error counts and standard errors
//! exactly as their files say, and the statistical decision uses them, so runs of 0, 0, 0 errors
//! or a throughput pinned by the load generator get a real interval, and identical runs without
//! any within-run error are INCONCLUSIVE with the reason, never a zero-width PASS or FAIL.

mod common;

use std::path::{Path, PathBuf};

use common::{perfcert, root, text, workdir};
use perfcert::input::{self, Classes};
use perfcert::model::{Counts, RunResults};
use serde_json::Value;

fn load(path: &Path) -> RunResults {
    input::load(
        path,
        None,
        &Classes { read: Some("kind:read".into()), write: Some("kind:write".into()), ..Default::default() },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn k6(name: &str) -> PathBuf {
    root().join("fixtures/k6").join(name)
}

fn locust(name: &str) -> PathBuf {
    root().join("fixtures/locust").join(name)
}

fn counts(run: &RunResults, metric: &str) -> Counts {
    run.precision.get(metric).and_then(|p| p.counts).unwrap_or_else(|| panic!("no counts for {metric}"))
}

fn log_se(run: &RunResults, metric: &str) -> Option<f64> {
    run.precision.get(metric).and_then(|p| p.log_se)
}

#[test]
fn k6_summaries_give_the_error_count_and_throughput_error_the_file_holds() {
    for (file, values) in [
        ("k6-baseline-summary-export.json", None),
        ("k6-current-summary-export.json", None),
        ("k6-baseline-handlesummary.json", Some("values")),
        ("k6-current-handlesummary.json", Some("values")),
        ("full/k6-baseline-summary-export.json", None),
    ] {
        let doc = json(&k6(file));
        let stat = |metric: &str, name: &str| -> f64 {
            let body = &doc["metrics"][metric];
            let body = values.map_or(body, |v| &body[v]);
            body[name].as_f64().unwrap_or_else(|| panic!("{file}: {metric}.{name}"))
        };
        let run = load(&k6(file));
        // `passes` of http_req_failed counts the failed requests (formats.md).
        let (failed, ok) = (stat("http_req_failed", "passes"), stat("http_req_failed", "fails"));
        let c = counts(&run, "error_rate");
        assert_eq!((c.errors as f64, c.requests as f64, c.dispersion), (failed, failed + ok, 1.0), "{file}");
        assert_eq!(c.requests as f64, stat("http_reqs", "count"), "{file}: every request is counted once");
        let implied = c.errors as f64 / c.requests as f64 * 100.0;
        assert!((implied - run.metrics["error_rate"]).abs() < 1e-9, "{file}");
        let se = log_se(&run, "throughput").unwrap();
        assert!((se - 1.0 / stat("http_reqs", "count").sqrt()).abs() < 1e-12, "{file}: {se}");
        // Percentiles have no samples in a summary: no within-run error is claimed.
        assert_eq!(log_se(&run, "latency_p95"), None, "{file}");
        assert_eq!(log_se(&run, "latency_p95_read"), None, "{file}");
    }
}

/// Σ num_failures and Σ num_requests of the Locust JSON entries whose method matches.
fn locust_json_totals(doc: &Value, methods: &[&str]) -> (u64, u64) {
    doc.as_array()
        .unwrap()
        .iter()
        .filter(|e| methods.is_empty() || methods.contains(&e["method"].as_str().unwrap()))
        .fold((0, 0), |(k, n), e| (k + e["num_failures"].as_u64().unwrap(), n + e["num_requests"].as_u64().unwrap()))
}

#[test]
fn locust_json_gives_each_rows_error_count_and_percentile_errors() {
    for file in ["locust-baseline.json", "locust-current.json"] {
        let doc = json(&locust(file));
        let run = load(&locust(file));
        for (suffix, methods) in [("", &[][..]), ("_read", &["GET"][..]), ("_write", &["POST"][..])] {
            let (k, n) = locust_json_totals(&doc, methods);
            let c = counts(&run, &format!("error_rate{suffix}"));
            assert_eq!((c.errors, c.requests), (k, n), "{file} {suffix}");
        }
        for e in doc.as_array().unwrap() {
            let name =
                format!("error_rate{{endpoint={} {}}}", e["method"].as_str().unwrap(), e["name"].as_str().unwrap());
            let c = counts(&run, &name);
            assert_eq!(
                (c.errors, c.requests),
                (e["num_failures"].as_u64().unwrap(), e["num_requests"].as_u64().unwrap())
            );
        }
        for metric in ["latency_p95", "latency_p95_read", "latency_p95_write", "latency_p50"] {
            let se = log_se(&run, metric).unwrap_or_else(|| panic!("{file}: no SE for {metric}"));
            assert!(se > 0.0 && se < 0.5, "{file} {metric}: {se}");
        }
        // These runs are 25 s: too short for a JSON throughput, so none and no error for it.
        assert!(!run.metrics.contains_key("throughput") && log_se(&run, "throughput").is_none());
    }
}

#[test]
fn the_p95_error_is_the_order_statistic_interval_on_the_merged_histogram() {
    let doc = json(&locust("locust-baseline.json"));
    let mut histogram: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut n = 0;
    for e in doc.as_array().unwrap() {
        n += e["num_requests"].as_u64().unwrap() - e["num_none_requests"].as_u64().unwrap_or(0);
        for (ms, count) in e["response_times"].as_object().unwrap() {
            *histogram.entry(ms.trim_end_matches(".0").parse().unwrap()).or_default() += count.as_u64().unwrap();
        }
    }
    // Ranks n·0.95 ± sqrt(n·0.95·0.05), the buckets there, half their log distance.
    let sd = (n as f64 * 0.95 * 0.05).sqrt();
    let at = |rank: f64| {
        let mut seen = 0;
        *histogram
            .iter()
            .find(|(_, c)| {
                seen += **c;
                seen as f64 >= rank
            })
            .unwrap()
            .0 as f64
    };
    let (low, high) = (at((n as f64 * 0.95 - sd).floor()), at((n as f64 * 0.95 + sd).ceil()));
    let p95 = load(&locust("locust-baseline.json")).metrics["latency_p95"];
    let expected = ((high.ln() - low.ln()) / 2.0).max(1.0 / (12f64.sqrt() * p95));
    let got = log_se(&load(&locust("locust-baseline.json")), "latency_p95").unwrap();
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected} (buckets {low}..{high}, n {n})");
}

#[test]
fn locust_stats_csv_gives_each_rows_counts_and_throughput_error_but_no_percentile_error() {
    for file in ["locust-baseline_stats.csv", "locust-current_stats.csv"] {
        let csv = std::fs::read_to_string(locust(file)).unwrap();
        let run = load(&locust(file));
        for line in csv.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let (requests, failures): (u64, u64) = (f[2].parse().unwrap(), f[3].parse().unwrap());
            let metric = if f[1] == "Aggregated" {
                "error_rate".to_string()
            } else {
                format!("error_rate{{endpoint={} {}}}", f[0], f[1])
            };
            let c = counts(&run, &metric);
            assert_eq!((c.errors, c.requests), (failures, requests), "{file} {metric}");
            if f[1] == "Aggregated" {
                let se = log_se(&run, "throughput").unwrap();
                assert!((se - 1.0 / (requests as f64).sqrt()).abs() < 1e-12);
            }
        }
        assert_eq!(log_se(&run, "latency_p95"), None, "{file}: a CSV percentile has no histogram behind it");
    }
}

#[test]
fn precision_travels_with_its_metric_when_parts_of_a_run_merge() {
    let summary = load(&k6("k6-current-summary-export.json"));
    let extra = load(&k6("extra-current.json"));
    let expected = counts(&summary, "error_rate");
    let merged = input::merge(vec![("extra.json".into(), extra), ("k6.json".into(), summary.clone())]).unwrap();
    assert_eq!(counts(&merged, "error_rate"), expected);
    assert_eq!(log_se(&merged, "throughput"), log_se(&summary, "throughput"));
    assert!(!merged.precision.contains_key("cpu_utilization"));
}

// --- the decision --------------------------------------------------------------------------

const POLICY: &str = "decision: { method: statistical }
metrics:
  error_rate: { max_increase: 0.2, max: 1 }
  throughput: { max_decrease: 5% }
";

/// A native run: error_rate and throughput, with a `precision` object when `requests` is given.
fn native_run(errors: u64, requests: Option<u64>, throughput: f64) -> String {
    match requests {
        Some(n) => format!(
            r#"{{ "metrics": {{ "error_rate": {}, "throughput": {throughput} }},
                 "precision": {{ "error_rate": {{ "errors": {errors}, "requests": {n} }},
                                "throughput": {{ "log_se": {} }} }} }}"#,
            errors as f64 / n as f64 * 100.0,
            1.0 / (n as f64).sqrt()
        ),
        None => format!(r#"{{ "metrics": {{ "error_rate": 0, "throughput": {throughput} }} }}"#),
    }
}

/// `compare --format json` of three runs a side written by `run(side, i)`.
fn decide(run: impl Fn(&str, usize) -> String) -> (i32, Value, String) {
    let dir = workdir();
    std::fs::write(dir.path().join("p.yml"), POLICY).unwrap();
    let mut args: Vec<String> =
        ["compare", "--format", "json", "--as-of", "2026-06-01", "--thresholds", "p.yml"].map(String::from).to_vec();
    for side in ["baseline", "current"] {
        for i in 1..=3 {
            let name = format!("{side}-{i}.json");
            // Each run its own file, as real runs are (the same bytes twice would be one run
            // given twice, which is refused): the runs differ in their date.
            let text = run(side, i).replacen('{', &format!("{{ \"date\": \"2026-05-0{i}T00:00:00Z\", "), 1);
            std::fs::write(dir.path().join(&name), text).unwrap();
            args.extend([format!("--{side}"), name]);
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = perfcert(dir.path(), &args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), doc, text(&out))
}

fn row<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["metrics"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{doc}"))
}

#[test]
fn zero_errors_with_counts_pass_only_when_the_counts_are_large_enough() {
    // 3 x 100,000 requests a side, no errors: the Wilson bound on 0 of 300,000 is about 0.002%,
    // well within +0.2 pp.
    let (code, doc, out) = decide(|_, _| native_run(0, Some(100_000), 6000.0));
    assert_eq!(code, 0, "{out}");
    let e = row(&doc, "error_rate");
    assert_eq!((e["status"].as_str(), e["method"].as_str()), (Some("PASS"), Some("newcombe")), "{e}");
    let i = &e["interval"];
    assert!(i["upper"].as_f64().unwrap() > 0.0 && i["lower"].as_f64().unwrap() < 0.0, "not zero width: {e}");
    // In percent, as the metric: well under the tolerance, well over zero.
    assert!(i["upper"].as_f64().unwrap() < 0.01, "{e}");
    // 3 x 100 requests: 0 errors of 300 cannot exclude +0.2 pp.
    let (code, doc, out) = decide(|_, _| native_run(0, Some(100), 6000.0));
    assert_eq!(code, 5, "{out}");
    let e = row(&doc, "error_rate");
    assert_eq!(e["status"], "INCONCLUSIVE", "{e}");
    assert!(e["interval"]["upper"].as_f64().unwrap() > 0.2, "{e}");
}

#[test]
fn identical_throughputs_with_a_within_run_error_get_a_real_interval() {
    let (_, doc, out) = decide(|_, _| native_run(0, Some(100_000), 6000.0));
    let t = row(&doc, "throughput");
    assert_eq!(t["status"], "PASS", "{out}");
    let (lo, hi) = (t["interval"]["lower"].as_f64().unwrap(), t["interval"]["upper"].as_f64().unwrap());
    assert!(hi - lo > 0.001, "a pinned throughput still has its counting error: {t}");
}

#[test]
fn identical_runs_without_a_within_run_error_are_inconclusive_and_say_what_settles_them() {
    let (code, doc, out) = decide(|_, _| native_run(0, None, 6000.0));
    assert_eq!(code, 5, "{out}");
    assert_eq!(doc["status"], "INCONCLUSIVE");
    for name in ["error_rate", "throughput"] {
        let r = row(&doc, name);
        assert_eq!(r["status"], "INCONCLUSIVE", "{r}");
        assert_eq!(r["interval"], Value::Null, "{r}");
        let why = r["reasons"].to_string();
        assert!(
            why.contains("no within-run error") && why.contains("request counts") && why.contains("add runs"),
            "{why}"
        );
    }
    // The table says it too.
    let dir = workdir();
    std::fs::write(dir.path().join("p.yml"), POLICY).unwrap();
    std::fs::write(dir.path().join("r.json"), native_run(0, None, 6000.0)).unwrap();
    let other = native_run(0, None, 6000.0).replacen('{', "{ \"date\": \"2026-05-02T00:00:00Z\", ", 1);
    std::fs::write(dir.path().join("r2.json"), other).unwrap();
    let mut args = vec!["compare", "--as-of", "2026-06-01", "--thresholds", "p.yml"];
    for run in ["r.json", "r2.json"] {
        args.extend(["--baseline", run, "--current", run]);
    }
    let out = perfcert(dir.path(), &args);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("the runs are identical and the inputs carry no within-run error"), "{}", text(&out));
}

#[test]
fn counts_and_errors_that_differ_between_runs_still_decide_by_the_counts() {
    // A clear regression: 0 errors before, about 2% after, on 3 x 20,000 requests a side.
    let (code, doc, out) = decide(|side, i| {
        let errors = if side == "baseline" { 0 } else { 380 + 20 * i as u64 };
        native_run(errors, Some(20_000), 6000.0 + i as f64)
    });
    assert_eq!(code, 1, "{out}");
    let e = row(&doc, "error_rate");
    assert_eq!((e["status"].as_str(), e["method"].as_str()), (Some("FAIL"), Some("newcombe")), "{e}");
    assert!(e["interval"]["lower"].as_f64().unwrap() > 0.2, "{e}");
}

#[test]
fn native_precision_errors_name_the_key_and_what_was_expected() {
    let dir = workdir();
    let cases = [
        (
            r#"{"metrics": {"error_rate": 0.5}, "precision": {"error_rate": {"errors": 3, "requests": 100}}}"#,
            "precision.error_rate: 3 errors of 100 requests is 3%, but `metrics.error_rate` is 0.5",
        ),
        (
            r#"{"metrics": {"error_rate": 3}, "precision": {"error_rate": {"errors": 3}}}"#,
            "precision.error_rate.requests: missing",
        ),
        (
            r#"{"metrics": {"error_rate": 3}, "precision": {"error_rate": {"errors": 4, "requests": 3}}}"#,
            "precision.error_rate.errors: 4 errors is more than the 3 requests",
        ),
        (r#"{"metrics": {"a": 3}, "precision": {"b": {"log_se": 0.1}}}"#, "precision.b: no metric `b`"),
        (
            r#"{"metrics": {"a": 3}, "precision": {"a": {"log_se": 0}}}"#,
            "precision.a.log_se: expected a number above 0 and below 1",
        ),
        (
            r#"{"metrics": {"a": 3}, "precision": {"a": {"log_se": 1e308}}}"#,
            "precision.a.log_se: expected a number above 0 and below 1",
        ),
        (r#"{"metrics": {"a": 3}, "precision": {"a": {"log_sd": 0.1}}}"#, "precision.a.log_sd: unknown field `log_sd`"),
        (
            r#"{"metrics": {"a": 3}, "precision": {"a": {"errors": 1, "requests": 2}}}"#,
            "precision.a.errors: error counts are for error-rate metrics",
        ),
        (
            r#"{"runs": [{"metrics": {"a": 1}}, {"metrics": {"error_rate": 1}, "precision": {"error_rate": {"errors": 1, "requests": 10, "dispersion": 0.5}}}]}"#,
            "runs[1].precision.error_rate.dispersion: expected a number >= 1",
        ),
    ];
    for (body, expected) in cases {
        std::fs::write(dir.path().join("r.json"), body).unwrap();
        std::fs::write(dir.path().join("p.yml"), POLICY).unwrap();
        let out =
            perfcert(dir.path(), &["compare", "--thresholds", "p.yml", "--baseline", "r.json", "--current", "r.json"]);
        assert_eq!(out.status.code(), Some(2), "{body}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("r.json: {expected}")) || text(&out).contains(expected),
            "{body}\n{}",
            text(&out)
        );
        assert!(text(&out).contains("r.json"), "{}", text(&out));
    }
}

#[test]
fn the_results_schema_describes_precision_as_the_reader_takes_it() {
    let schema = jsonschema::validator_for(&json(&root().join("schemas/results.schema.json"))).unwrap();
    let good = [
        r#"{"metrics": {"error_rate": 0.025, "throughput": 6000},
            "precision": {"error_rate": {"errors": 3, "requests": 12000, "dispersion": 1.5},
                          "throughput": {"log_se": 0.009}}}"#,
        r#"{"runs": [{"metrics": {"error_rate": 0.5}, "precision": {"error_rate": {"errors": 1, "requests": 200}}},
                     {"metrics": {"error_rate": 0}}]}"#,
    ];
    let bad = [
        r#"{"metrics": {"error_rate": 3}, "precision": {"error_rate": {"errors": 3}}}"#,
        r#"{"metrics": {"a": 3}, "precision": {"a": {"log_se": 0}}}"#,
        r#"{"metrics": {"a": 3}, "precision": {"a": {}}}"#,
        r#"{"runs": [{"metrics": {"a": 1}}], "precision": {"a": {"log_se": 0.1}}}"#,
        r#"{"runs": [{"metrics": {"a": 1}}], "metrics": {"a": 1}}"#,
    ];
    for text in good {
        let doc: Value = serde_json::from_str(text).unwrap();
        let errors: Vec<String> = schema.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{text}: {errors:?}");
        let runs = input::native::parse_runs("r.json", text);
        assert!(runs.is_ok(), "{text}: the reader refuses what the schema accepts: {:?}", runs.err());
    }
    for text in bad {
        assert!(!schema.is_valid(&serde_json::from_str(text).unwrap()), "{text} must not validate");
        assert!(input::native::parse_runs("r.json", text).is_err(), "{text}: the reader must refuse it too");
    }
}
