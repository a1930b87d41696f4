//! Several runs per side: `+`-joined parts of one run, exact merging of k6 raw shards, runs of
//! one side, the native `runs` list, and the loud failure of the old "repeat to merge" usage.
//! Small helpers of its own (a temporary directory, the binary) so it merges apart from the
//! shared test helpers.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("perfcert-runs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> String {
    root().join(rel).display().to_string()
}

fn perfcert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfcert"))
        .args(args)
        .env("PERFCERT_NO_GITHUB", "1")
        .env("NO_COLOR", "1")
        .current_dir(root())
        .output()
        .unwrap()
}

fn json_report(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["compare", "--format", "json", "--as-of", "2026-06-01"];
    all.extend_from_slice(args);
    let out = perfcert(&all);
    let code = out.status.code().unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {:?} stderr {}", out.stdout, String::from_utf8_lossy(&out.stderr)));
    (code, doc)
}

fn inflate(rel: &str) -> Vec<u8> {
    let mut text = vec![];
    flate2::read::MultiGzDecoder::new(std::fs::File::open(root().join(rel)).unwrap()).read_to_end(&mut text).unwrap();
    text
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Splits a raw file into two shards by lines: the first half, and the rest (with `header`
/// repeated at its top for CSV).
fn split(text: &[u8], header: bool) -> (Vec<u8>, Vec<u8>) {
    let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
    let (head, body) = if header { (lines[..1].concat(), &lines[1..]) } else { (vec![], &lines[..]) };
    let mid = body.len() / 2;
    let mut a = head.clone();
    a.extend(body[..mid].concat());
    let mut b = head;
    b.extend(body[mid..].concat());
    (a, b)
}

const POLICY: &str = "fixtures/k6/perf_thresholds.yml";

/// The shards of one distributed run give exactly the rows of the unsplit file: every shard
/// feeds one accumulator, so percentiles are over the union of the samples (an average of the
/// shards' percentiles would differ).
#[test]
fn shards_of_one_run_merge_exactly_like_the_unsplit_file() {
    for (raw, header, ext) in [
        ("fixtures/k6/full/k6-baseline-raw.ndjson.gz", false, "ndjson"),
        ("fixtures/k6/full/k6-baseline-raw.csv.gz", true, "csv"),
    ] {
        let dir = TempDir::new(ext);
        let (a, b) = split(&inflate(raw), header);
        // One shard plain, one gzip: both are k6 raw output of one format.
        let shard_a = dir.file(&format!("gen-a.{ext}"), &a);
        let shard_b = dir.file(&format!("gen-b.{ext}.gz"), &gzip(&b));
        let current = fixture("fixtures/k6/full/k6-current-summary-export.json");
        let whole = fixture(raw);
        let (code_whole, unsplit) = json_report(&["--baseline", &whole, "--current", &current, "--thresholds", POLICY]);
        let joined = format!("{shard_a}+{shard_b}");
        let (code_shards, shards) =
            json_report(&["--baseline", &joined, "--current", &current, "--thresholds", POLICY]);
        assert_eq!(code_whole, code_shards, "{ext}");
        assert_same_rows(&unsplit["metrics"], &shards["metrics"], ext);
        assert_eq!(shards["inputs"]["baseline"]["file"], format!("{shard_a} + {shard_b}"));
        assert!(shards["inputs"]["baseline"].get("runs").is_none(), "one run: no `runs` count");
        // The p95 really is over the union: it differs from both shards' own p95.
        let p95 = |args: &[&str]| {
            let (_, doc) = json_report(args);
            doc["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "latency_p95").unwrap()["baseline"]
                .as_f64()
                .unwrap()
        };
        let union = p95(&["--baseline", &joined, "--current", &current, "--thresholds", POLICY]);
        let only_a = p95(&["--baseline", &shard_a, "--current", &current, "--thresholds", POLICY]);
        let only_b = p95(&["--baseline", &shard_b, "--current", &current, "--thresholds", POLICY]);
        assert!(union != only_a && union != only_b, "{ext}: {union} {only_a} {only_b}");
    }
}

/// Every row equal, bit for bit, except means (`latency_avg*`): a mean is a floating-point sum
/// whose last bits depend on the order samples are added in (as when one file is read on
/// several cores), so those agree to 1e-12.
fn assert_same_rows(unsplit: &Value, shards: &Value, ext: &str) {
    let (a, b) = (unsplit.as_array().unwrap(), shards.as_array().unwrap());
    assert_eq!(a.len(), b.len(), "{ext}: rows");
    for (x, y) in a.iter().zip(b) {
        let name = x["name"].as_str().unwrap();
        if !name.starts_with("latency_avg") {
            assert_eq!(x, y, "{ext}: {name} must merge exactly");
            continue;
        }
        for key in ["baseline", "current"] {
            match (x[key].as_f64(), y[key].as_f64()) {
                (Some(p), Some(q)) => assert!((p - q).abs() <= 1e-12 * p.abs(), "{ext}: {name} {key}: {p} vs {q}"),
                (p, q) => assert_eq!(p, q, "{ext}: {name} {key}"),
            }
        }
        assert_eq!(x["status"], y["status"], "{ext}: {name}");
    }
}

/// A run's parts may force their formats one by one: `k6-json:FILE`.
#[test]
fn a_format_prefix_forces_one_part() {
    let dir = TempDir::new("prefix");
    let (a, b) = split(&inflate("fixtures/k6/full/k6-current-raw.ndjson.gz"), false);
    let shard_a = dir.file("gen-a.out", &a);
    let shard_b = dir.file("gen-b.out", &b);
    let extra = fixture("fixtures/k6/extra-current.json");
    let run = format!("k6-json:{shard_a}+k6-json:{shard_b}+{extra}");
    let baseline = format!(
        "{}+{}",
        fixture("fixtures/k6/full/k6-baseline-raw.ndjson.gz"),
        fixture("fixtures/k6/extra-baseline.json")
    );
    let (_, doc) = json_report(&["--baseline", &baseline, "--current", &run, "--thresholds", POLICY]);
    let names: Vec<&str> = doc["metrics"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"latency_p95") && names.contains(&"cpu_utilization"), "{names:?}");
    assert_eq!(doc["inputs"]["current"]["file"], format!("{shard_a} + {shard_b} + {extra}"));
}

/// Two summaries of one metric in one run cannot be merged exactly: an error naming both.
#[test]
fn two_summaries_of_one_metric_are_an_error_naming_both() {
    let a = fixture("fixtures/k6/full/k6-current-summary-export.json");
    let b = fixture("fixtures/k6/full/k6-current-handlesummary.json");
    let run = format!("{a}+{b}");
    let out = perfcert(&["compare", "--baseline", &a, "--current", &run, "--thresholds", POLICY]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&a) && err.contains(&b) && err.contains("cannot be merged exactly"), "{err}");
}

/// The old usage (repeat --current to merge the files of one run) fails loudly.
#[test]
fn runs_with_disjoint_metrics_say_to_join_the_parts_with_plus() {
    let raw = fixture("fixtures/k6/full/k6-current-raw.ndjson.gz");
    let extra = fixture("fixtures/k6/extra-current.json");
    let out =
        perfcert(&["compare", "--baseline", &raw, "--current", &raw, "--current", &extra, "--thresholds", POLICY]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("join the parts of one run with +"), "{err}");
    assert!(err.contains(&format!("--current {raw}+{extra}")), "{err}");
}

fn native(dir: &TempDir, name: &str, metrics: &[(&str, f64)]) -> String {
    let m: serde_json::Map<String, Value> = metrics.iter().map(|(k, v)| (k.to_string(), (*v).into())).collect();
    dir.file(name, serde_json::json!({ "service": "api", "metrics": m }).to_string().as_bytes())
}

const SMALL_POLICY: &str = "metrics:
  latency_p95: { max_increase: 10%, max: 300, unit: ms }
  error_rate: { max_increase: 0.2, unit: \"%\" }
";

/// Three runs per side: relative limits compare geometric means, absolute limits and SLOs
/// arithmetic means; the reports say so and keep every run's value.
#[test]
fn three_runs_per_side_compare_means_and_say_so() {
    let dir = TempDir::new("three");
    let policy = dir.file("p.yml", SMALL_POLICY.as_bytes());
    let b: Vec<String> = [(100.0, 0.1), (200.0, 0.2), (400.0, 0.3)]
        .iter()
        .enumerate()
        .map(|(i, (l, e))| native(&dir, &format!("b{i}.json"), &[("latency_p95", *l), ("error_rate", *e)]))
        .collect();
    let c: Vec<String> = [(110.0, 0.2), (220.0, 0.3), (440.0, 0.4)]
        .iter()
        .enumerate()
        .map(|(i, (l, e))| native(&dir, &format!("c{i}.json"), &[("latency_p95", *l), ("error_rate", *e)]))
        .collect();
    let mut args = vec![];
    for f in &b {
        args.extend(["--baseline", f.as_str()]);
    }
    for f in &c {
        args.extend(["--current", f.as_str()]);
    }
    args.extend(["--thresholds", policy.as_str()]);
    let (code, doc) = json_report(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["inputs"]["baseline"]["runs"], 3);
    assert_eq!(doc["inputs"]["current"]["runs"], 3);
    let row = |name: &str| doc["metrics"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap().clone();
    let latency = row("latency_p95");
    // Geometric means: 200 and 220 (+10%: passes, exactly at the limit).
    assert!((latency["baseline"].as_f64().unwrap() - 200.0).abs() < 1e-9, "{latency:#}");
    assert!((latency["current"].as_f64().unwrap() - 220.0).abs() < 1e-9, "{latency:#}");
    assert_eq!(latency["runs"]["mean"], "geometric");
    assert_eq!(latency["runs"]["current"], serde_json::json!([110.0, 220.0, 440.0]));
    // The SLO judges the arithmetic mean of the current runs: 256.67 <= 300.
    let slo = latency["checks"].as_array().unwrap().iter().find(|c| c["limit"] == "max").unwrap();
    assert!(slo["reason"].as_str().unwrap().contains("256.667 ms <= SLO 300 ms (arithmetic mean of 3 runs)"), "{slo}");
    let tolerance = latency["checks"].as_array().unwrap().iter().find(|c| c["limit"] == "max_increase").unwrap();
    assert!(tolerance["reason"].as_str().unwrap().ends_with("(geometric means of 3 and 3 runs)"), "{tolerance}");
    // An absolute limit: arithmetic means 0.2 and 0.3.
    let errors = row("error_rate");
    assert_eq!(errors["runs"]["mean"], "arithmetic");
    assert!((errors["change"].as_f64().unwrap() - 0.1).abs() < 1e-9, "{errors:#}");

    // The table says how many runs and which means.
    let mut table = vec!["compare", "--as-of", "2026-06-01"];
    table.extend_from_slice(&args);
    let out = perfcert(&table);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "(service api; 3 runs: values are geometric means for relative limits, arithmetic means for absolute limits and SLOs)"
        ) || text.contains("3 runs: values are geometric means"),
        "{text}"
    );
}

/// A metric gated by the policy must be measured by every current run.
#[test]
fn a_gated_metric_missing_from_one_current_run_fails() {
    let dir = TempDir::new("missing");
    let policy = dir.file("p.yml", SMALL_POLICY.as_bytes());
    let b = native(&dir, "b.json", &[("latency_p95", 100.0), ("error_rate", 0.1)]);
    let c1 = native(&dir, "c1.json", &[("latency_p95", 100.0), ("error_rate", 0.1)]);
    let c2 = native(&dir, "c2.json", &[("latency_p95", 100.0)]);
    let (code, doc) = json_report(&["--baseline", &b, "--current", &c1, "--current", &c2, "--thresholds", &policy]);
    assert_eq!(code, 1, "{doc:#}");
    let row = doc["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "error_rate").unwrap();
    assert!(row["reasons"][0].as_str().unwrap().contains("missing from current run 2 of 2"), "{row:#}");
    assert_eq!(row["runs"]["current"], serde_json::json!([0.1, null]));
}

/// One native file can hold several runs (a promoted baseline); given alone it is that many.
#[test]
fn a_native_runs_file_is_several_runs() {
    let dir = TempDir::new("native-runs");
    let policy = dir.file("p.yml", SMALL_POLICY.as_bytes());
    let base = dir.file(
        "baseline.json",
        br#"{ "service": "api", "runs": [
              { "metrics": { "latency_p95": 100, "error_rate": 0.1 } },
              { "metrics": { "latency_p95": 400, "error_rate": 0.3 } } ] }"#,
    );
    let c = native(&dir, "c.json", &[("latency_p95", 200.0), ("error_rate", 0.2)]);
    let (code, doc) = json_report(&["--baseline", &base, "--current", &c, "--thresholds", &policy]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["inputs"]["baseline"]["runs"], 2);
    assert!(doc["inputs"]["current"].get("runs").is_none());
    let row = doc["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "latency_p95").unwrap();
    assert!((row["baseline"].as_f64().unwrap() - 200.0).abs() < 1e-9, "{row:#}");
    // Joined with + to another file, it is refused: it is a side of its own.
    let joined = format!("{base}+{c}");
    let out = perfcert(&["compare", "--baseline", &joined, "--current", &c, "--thresholds", &policy]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("holds 2 runs"), "{err}");
}

/// A path that exists as a file is taken whole, even with a `+` in its name.
#[test]
fn an_existing_file_with_plus_in_its_name_is_one_part() {
    let dir = TempDir::new("plus-name");
    let policy = dir.file("p.yml", SMALL_POLICY.as_bytes());
    let b = native(&dir, "main+fix.json", &[("latency_p95", 100.0), ("error_rate", 0.1)]);
    let (code, doc) = json_report(&["--baseline", &b, "--current", &b, "--thresholds", &policy]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["inputs"]["baseline"]["file"], b);
}

#[test]
fn one_run_given_twice_is_refused_but_equal_values_from_different_runs_are_not() {
    let dir = common::workdir();
    let d = dir.path();
    let run = |name: &str, date: &str| {
        let doc = format!(r#"{{"date": "{date}", "metrics": {{"latency_p95_read": 205.0}}}}"#);
        std::fs::write(d.join(name), doc).unwrap();
        name.to_string()
    };
    let (a, copy, other) = (run("a.json", "2026-11-01"), run("copy.json", "2026-11-01"), run("b.json", "2026-11-02"));
    let policy = common::policy();
    for twice in [[a.as_str(), a.as_str()], [a.as_str(), copy.as_str()]] {
        let args = ["compare", "--baseline", &a, "--current", twice[0], "--current", twice[1], "--thresholds", &policy];
        let out = common::perfcert(d, &args);
        assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
        assert!(
            common::text(&out).contains("are the same bytes: one run given twice is not two runs"),
            "{}",
            common::text(&out)
        );
    }
    // Two runs that happen to measure the same value are two runs.
    let args = ["compare", "--baseline", &a, "--current", &a, "--current", &other, "--thresholds", &policy];
    let out = common::perfcert(d, &args);
    assert_ne!(out.status.code(), Some(2), "{}", common::text(&out));
}
